// A check's -t counts from when the process started, not from when the
// runtime finished loading: with 30 checks started at once on a busy node,
// start-up alone can take seconds, and NRPE's own timeout counts from the fork.
import { PluginError } from './errors.js';

/** Epoch ms at which a run with -t timeoutSeconds must have ended. */
export function deadlineFromProcessStart(timeoutSeconds: number): number {
  // performance.timeOrigin: when this process began (before the bundle was loaded).
  return performance.timeOrigin + timeoutSeconds * 1000;
}

/** Wait `ms`, or less: an aborted `signal` ends the wait at once (the caller checks signal.aborted). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Milliseconds left until `deadline` (never negative). */
export function msLeft(deadline: number): number {
  return Math.max(0, deadline - Date.now());
}

/**
 * `work`'s answer, or the PluginError it failed with, or `late` when it has not
 * answered `shareSeconds` after the process started: a part that may hang (the
 * API server, in the incident) gets a share of -t, so the local verdict is
 * still reported. Other errors are thrown.
 */
export async function withinShare<T>(work: Promise<T>, shareSeconds: number, late: string): Promise<T | PluginError> {
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PluginError(late)), msLeft(deadlineFromProcessStart(shareSeconds)));
  });
  try {
    return await Promise.race([work, expiry]);
  } catch (e) {
    if (e instanceof PluginError) return e;
    throw e;
  } finally {
    clearTimeout(timer);
    work.catch(() => {}); // answered after its share: not news
  }
}
