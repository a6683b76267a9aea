// Pods being deleted: how far past their deadline, and which are stuck
// (check_k8s_stuck_terminating; the grace period in the text).
import { parseTime } from './time.js';
import type { ObjectMeta, Pod } from './types.js';

/** Kubernetes' default terminationGracePeriodSeconds. */
const DEFAULT_GRACE = 30;

/**
 * Seconds a terminating pod is past the moment it should have been gone;
 * negative while still within its grace period; undefined when it is not
 * terminating (or the timestamp is unreadable).
 *
 * When a pod is deleted gracefully the apiserver (rest.BeforeDelete) sets
 *   deletionTimestamp          = time of the DELETE + grace period
 *   deletionGracePeriodSeconds = grace period
 * and a later DELETE with a shorter grace moves deletionTimestamp earlier by
 * the difference. So deletionTimestamp already is the deadline: how long a
 * pod is stuck is now - deletionTimestamp, and adding the grace period again
 * would hide a stuck pod for one more grace period (a StatefulSet with
 * terminationGracePeriodSeconds: 3600 for a whole hour). A deletionTimestamp
 * in the future (the pod is within its grace, or the apiserver's clock runs
 * ahead of ours) gives a negative value: not stuck. A clock behind ours makes
 * pods look stuck earlier by the skew; --min-age absorbs that.
 */
export function overdueSeconds(meta: ObjectMeta | undefined, now: number): number | undefined {
  const deadline = parseTime(meta?.deletionTimestamp);
  return deadline === undefined ? undefined : (now - deadline) / 1000;
}

/**
 * The grace period the pod was given, for the text only: the one recorded at
 * deletion (deletionGracePeriodSeconds), else the pod's
 * terminationGracePeriodSeconds (what the apiserver would have used), else
 * the Kubernetes default of 30 s. It never moves the deadline (see above).
 */
export function graceSeconds(pod: Pod): number {
  return pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE;
}

/** The stuck pods, most overdue first: past their deadline by more than --min-age. */
export function stuckPods(pods: Pod[], minAge: number, now: number): { pod: Pod; overdue: number }[] {
  const out: { pod: Pod; overdue: number }[] = [];
  for (const pod of pods) {
    const overdue = overdueSeconds(pod.metadata, now);
    if (overdue !== undefined && overdue > minAge) out.push({ pod, overdue });
  }
  return out.sort((a, b) => b.overdue - a.overdue);
}
