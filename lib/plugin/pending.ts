/**
 * What one check run is waiting for (API requests, host commands), so a
 * timeout can say what hung. Keyed by the run's AbortSignal, which every
 * request and command already carries.
 */
const registry = new WeakMap<AbortSignal, Set<string>>();

export function pending(signal: AbortSignal): Set<string> {
  let set = registry.get(signal);
  if (!set) registry.set(signal, (set = new Set()));
  return set;
}

/** Hold `label` in the run's pending set while `work` runs. */
export async function whilePending<T>(signal: AbortSignal, label: string, work: () => Promise<T>): Promise<T> {
  const set = pending(signal);
  set.add(label);
  try {
    return await work();
  } finally {
    set.delete(label);
  }
}
