// What a PodDisruptionBudget's status says about voluntary evictions (drains).
import { plural } from '../plugin/result.js';
import type { PodDisruptionBudget } from './types.js';

/** No eviction may pass because too few of its pods are healthy: a drain waits until they are. */
export function pdbDeadlocked(p: PodDisruptionBudget): boolean {
  const s = p.status ?? {};
  return s.disruptionsAllowed === 0 && (s.currentHealthy ?? 0) < (s.desiredHealthy ?? 0);
}

/** No eviction may pass although every pod it expects is healthy: it blocks every drain, for ever. */
export function pdbTooStrict(p: PodDisruptionBudget): boolean {
  const s = p.status ?? {};
  return s.disruptionsAllowed === 0 && (s.expectedPods ?? 0) > 0 && (s.currentHealthy ?? 0) >= (s.desiredHealthy ?? 0);
}

/** '0 disruptions allowed, 1/1 healthy'. */
export function pdbStatus(p: PodDisruptionBudget): string {
  const s = p.status ?? {};
  const allowed = s.disruptionsAllowed;
  return `${allowed === undefined ? '? disruptions' : plural(allowed, 'disruption')} allowed, ${s.currentHealthy ?? '?'}/${s.desiredHealthy ?? '?'} healthy`;
}

/** No eviction may pass now, for whatever reason (a drain of its pods waits). */
export function pdbAllowsNone(p: PodDisruptionBudget): boolean {
  return p.status?.disruptionsAllowed === 0;
}
