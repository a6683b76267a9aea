/**
 * What one check run is waiting for, so a timeout can say what hung. Keyed by
 * the run's AbortSignal, which every request and command already carries.
 * The kind says whose problem it is: a host command or credential plugin is
 * this node's, an API request the API server's.
 */
export type PendingKind = 'api' | 'host' | 'credential';

export interface PendingWork {
  kind: PendingKind;
  label: string;
}

const registry = new WeakMap<AbortSignal, Set<PendingWork>>();

function set(signal: AbortSignal): Set<PendingWork> {
  let s = registry.get(signal);
  if (!s) registry.set(signal, (s = new Set()));
  return s;
}

/** What is still pending on this run, oldest first. */
export function pending(signal: AbortSignal): PendingWork[] {
  return [...set(signal)];
}

/** Hold `label` in the run's pending set while `work` runs. */
export async function whilePending<T>(signal: AbortSignal, label: string, work: () => Promise<T>, kind: PendingKind = 'host'): Promise<T> {
  const entry: PendingWork = { kind, label };
  const s = set(signal);
  s.add(entry);
  try {
    return await work();
  } finally {
    s.delete(entry);
  }
}
