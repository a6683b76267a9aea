// What several checks say about pods.
import { condition } from './objects.js';
import { parseTime } from './time.js';
import type { Pod } from './types.js';

/** Pods that have not finished (Succeeded/Failed): the apiserver registers status.phase as a pod field selector. */
export const NOT_FINISHED = 'status.phase!=Succeeded,status.phase!=Failed';

/** The pod's Ready condition is True (its containers run and pass their readiness probes). */
export function isPodReady(p: Pod): boolean {
  return condition(p.status?.conditions, 'Ready')?.status === 'True';
}

/** The most telling reason a pod is not Ready: a container's waiting reason, its phase, or the condition's reason. */
export function podNotReadyReason(p: Pod): string {
  if (p.metadata?.deletionTimestamp) return 'Terminating';
  const statuses = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])];
  const waiting = statuses.find((c) => c.state?.waiting?.reason)?.state?.waiting?.reason;
  if (waiting) return waiting;
  if (p.status?.phase && p.status.phase !== 'Running') return p.status.phase;
  const notReady = statuses.find((c) => c.ready === false && c.state?.running);
  if (notReady) return `container ${notReady.name} running but not ready`;
  return condition(p.status?.conditions, 'Ready')?.reason || 'not ready';
}

/** The newest pod that is not being deleted (a DaemonSet's replacement may overlap the old one); the newest of all when every one is. */
export function newestLivePod(pods: Pod[]): Pod | undefined {
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
  const pool = live.length ? live : pods;
  return [...pool].sort((a, b) => (parseTime(b.metadata?.creationTimestamp) ?? 0) - (parseTime(a.metadata?.creationTimestamp) ?? 0))[0];
}
