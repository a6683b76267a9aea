/**
 * fn over items with at most `limit` calls in flight, results in input order.
 * For the few per-object requests a check makes (GET the pods an event names,
 * the events of a handful of pods): parallel enough to fit in -t, bounded so a
 * big answer never turns into a burst of hundreds of requests. The first
 * failure rejects (the check's deadline aborts the rest).
 */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return out;
}
