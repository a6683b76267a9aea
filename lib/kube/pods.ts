// One definition each of what several checks say about pods and their owners.
import { condition } from './nodes.js';
import type { ObjectMeta, Pod } from './types.js';

/** 'namespace/name': how a namespaced object is named in output, and its key in maps. */
export function objectRef(m: ObjectMeta | undefined): string {
  return `${m?.namespace ?? ''}/${m?.name ?? ''}`;
}

/** 'namespace/name' from the two parts (event involvedObject, references). */
export function refOf(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? ''}/${name ?? ''}`;
}

/** The controller that owns an object (ownerReferences with controller: true), else its first owner. */
export function controllerOf(m: ObjectMeta | undefined): NonNullable<ObjectMeta['ownerReferences']>[number] | undefined {
  return m?.ownerReferences?.find((o) => o.controller) ?? m?.ownerReferences?.[0];
}

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
