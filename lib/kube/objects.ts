// What every Kubernetes object has, whatever its kind: a name in a namespace,
// conditions, owners. One way to say each, for every check.
import type { Condition, ObjectMeta } from './types.js';

/** The condition of this type (Ready, PodScheduled, Available...), if the object reports one. */
export function condition(conds: Condition[] | undefined, type: string): Condition | undefined {
  return conds?.find((c) => c.type === type);
}

/** 'namespace/name': how a namespaced object is named in output, and its key in maps. */
export function objectRef(m: ObjectMeta | undefined): string {
  return refOf(m?.namespace, m?.name);
}

/** 'namespace/name' from the two parts (event involvedObject, references). */
export function refOf(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? ''}/${name ?? ''}`;
}

/** The controller that owns an object (ownerReferences with controller: true), else its first owner. */
export function controllerOf(m: ObjectMeta | undefined): NonNullable<ObjectMeta['ownerReferences']>[number] | undefined {
  return m?.ownerReferences?.find((o) => o.controller) ?? m?.ownerReferences?.[0];
}

/** A message an object's status carries (a condition's, a waiting container's), on one line and bounded. */
export function oneLine(s: string | undefined, max = 160): string {
  return (s ?? '').replace(/\s+/g, ' ').trim().slice(0, max);
}
