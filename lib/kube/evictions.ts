// Pods the kubelet evicted for node pressure: phase Failed, reason Evicted,
// the message built from kubernetes pkg/kubelet/eviction/helpers.go
// ("The node was low on resource: %v. ", "The node had condition: %v. ",
// "Container %s exceeded its local ephemeral storage limit %q. ",
// "Pod ephemeral local storage usage exceeds the total limit of containers %s. ",
// "Usage of EmptyDir volume %q exceeds the limit %q. ") followed by which
// container used how much. The pods stay until deleted or garbage-collected
// (kube-controller-manager --terminated-pod-gc-threshold, 12500 by default):
// only an eviction's time says whether it is news. Pure.
import { condition, objectRef, oneLine } from './objects.js';
import { parseTime } from './time.js';
import type { KubeEvent, Pod } from './types.js';

export const EVICTED = 'Evicted';
/** The kubelet's Event on the node when a threshold is crossed ("Attempting to reclaim ephemeral-storage"). */
export const THRESHOLD_MET = 'EvictionThresholdMet';

export interface Eviction {
  /** namespace/name */
  id: string;
  node: string;
  /** What ran short: memory, ephemeral-storage, inodes, pids, a node condition, a pod's own limit. */
  resource: string;
  /** When (epoch ms); undefined when the pod says nothing about it. */
  at?: number;
  message: string;
}

/** What the eviction message names as short. */
export function evictedResource(message: string | undefined): string {
  const m = message ?? '';
  const low = /The node was low on resource: \[?([A-Za-z0-9_/-]+)/.exec(m);
  if (low) return low[1]!;
  const cond = /The node had condition: \[?([A-Za-z]+)/.exec(m);
  if (cond) return cond[1]!;
  if (/exceeded its local ephemeral storage limit|ephemeral local storage usage exceeds|Usage of EmptyDir volume/.test(m)) return 'ephemeral-storage (its own limit)';
  return 'unknown';
}

/**
 * When the kubelet evicted it: the DisruptionTarget condition it adds
 * (TerminationByKubelet, Kubernetes 1.26+), else the Ready condition's last
 * change, else the last container's end.
 */
export function evictionTime(p: Pod): number | undefined {
  const conds = p.status?.conditions;
  const disruption = condition(conds, 'DisruptionTarget');
  if (disruption?.status === 'True') return parseTime(disruption.lastTransitionTime);
  const ready = condition(conds, 'Ready');
  if (ready?.status === 'False' && ready.lastTransitionTime) return parseTime(ready.lastTransitionTime);
  const ends = (p.status?.containerStatuses ?? []).map((c) => parseTime(c.state?.terminated?.finishedAt)).filter((t): t is number => t !== undefined);
  return ends.length ? Math.max(...ends) : undefined;
}

/** For KubeClient.list's `project`: an evicted pod's few fields, every other Failed pod dropped. */
export function compactEvicted(p: Pod): Pod | undefined {
  if (p.status?.reason !== EVICTED) return undefined;
  const m = p.metadata ?? {};
  return {
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, creationTimestamp: m.creationTimestamp },
    spec: { nodeName: p.spec?.nodeName },
    status: {
      phase: p.status.phase, reason: p.status.reason, message: p.status.message && p.status.message.slice(0, 1000),
      conditions: p.status.conditions?.filter((c) => c.type === 'DisruptionTarget' || c.type === 'Ready'),
      containerStatuses: p.status.containerStatuses?.map((c) => ({ name: c.name, state: { terminated: c.state?.terminated && { finishedAt: c.state.terminated.finishedAt } } })),
    },
  };
}

export function evictionOf(p: Pod): Eviction {
  return { id: objectRef(p.metadata), node: p.spec?.nodeName || 'no node', resource: evictedResource(p.status?.message), at: evictionTime(p), message: oneLine(p.status?.message) };
}

export interface EvictionGroup {
  node: string;
  resource: string;
  pods: Eviction[];
}

/** By node, then by resource; the largest group first, the newest eviction first in each. */
export function groupEvictions(list: Eviction[]): EvictionGroup[] {
  const groups = new Map<string, EvictionGroup>();
  for (const e of list) {
    const k = `${e.node}\u0000${e.resource}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { node: e.node, resource: e.resource, pods: [] }));
    g.pods.push(e);
  }
  for (const g of groups.values()) g.pods.sort((a, b) => (b.at ?? 0) - (a.at ?? 0));
  return [...groups.values()].sort((a, b) => b.pods.length - a.pods.length || a.node.localeCompare(b.node) || a.resource.localeCompare(b.resource));
}

/** The node an EvictionThresholdMet event is about (events on nodes name the node; the kubelet is its source). */
export function thresholdEventNode(e: KubeEvent): string | undefined {
  return e.involvedObject?.kind === 'Node' ? e.involvedObject.name : undefined;
}
