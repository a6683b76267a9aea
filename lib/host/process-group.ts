// Every child a check starts (host commands, exec credential plugins) runs in
// its own process group, so a timeout ends the child AND whatever it started:
// under NRPE a survivor would be re-parented to PID 1 and pile up one per run.

/** Groups whose leader has not been waited for yet. */
const live = new Set<number>();

function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    // ESRCH: the group is gone already.
  }
}

/**
 * The check is leaving (main.ts exits as soon as stdout drains, so a timer
 * would never fire): SIGKILL what is left, synchronously.
 */
process.once('exit', () => {
  for (const pgid of live) signalGroup(pgid, 'SIGKILL');
});

/** Track a child started with `detached: true` (its pid is its group id); returns the function that forgets it. */
export function trackGroup(pgid: number): () => void {
  live.add(pgid);
  return () => live.delete(pgid);
}

/** SIGTERM the whole group, SIGKILL it after graceMs (or at exit, whichever comes first). */
export function killGroup(pgid: number, graceMs = 500): void {
  if (!live.has(pgid)) return;
  signalGroup(pgid, 'SIGTERM');
  setTimeout(() => { if (live.has(pgid)) signalGroup(pgid, 'SIGKILL'); }, graceMs).unref();
}

/** SIGKILL the group now (its leader is known to be finished or killed). */
export function killGroupNow(pgid: number): void {
  signalGroup(pgid, 'SIGKILL');
}
