import type { KubeClient } from './client.js';
import { RESOURCES } from './resources.js';
import { mapBounded } from './parallel.js';
import type { KubeEvent } from './types.js';
import { parseTime } from './time.js';

/**
 * When an event last happened. Events written through events.k8s.io/v1 (as
 * kube-scheduler and the kubelet's newer recorders do) have no lastTimestamp:
 * they carry eventTime and, when repeated, series.lastObservedTime. Take the
 * latest of every field that may hold it.
 */
export function eventLastSeen(e: KubeEvent): number | undefined {
  let best: number | undefined;
  for (const t of [e.lastTimestamp, e.eventTime, e.series?.lastObservedTime, e.firstTimestamp, e.metadata?.creationTimestamp]) {
    const ms = parseTime(t);
    if (ms !== undefined && (best === undefined || ms > best)) best = ms;
  }
  return best;
}

/** When the first occurrence happened. */
export function eventFirstSeen(e: KubeEvent): number | undefined {
  return parseTime(e.firstTimestamp) ?? parseTime(e.eventTime) ?? parseTime(e.metadata?.creationTimestamp);
}

/** Total occurrences the event object stands for (series.count or count, at least 1). */
export function eventCount(e: KubeEvent): number {
  const c = e.series?.count ?? e.count ?? 1;
  return Number.isFinite(c) && c > 0 ? c : 1;
}

/**
 * Occurrences inside [since, now]. An aggregated event only tells first time,
 * last time and count, so when the window cuts the series we assume the
 * occurrences were spread evenly and count the share inside (at least one,
 * since the last one is inside).
 */
export function occurrencesSince(e: KubeEvent, since: number): number {
  const last = eventLastSeen(e);
  if (last === undefined || last < since) return 0;
  const count = eventCount(e);
  const first = eventFirstSeen(e);
  if (count === 1 || first === undefined || first >= since || last <= first) return count;
  return Math.max(1, Math.round((count * (last - since)) / (last - first)));
}

/** The kubelet/scheduler instance that reported it (node name for kubelet events). */
export function eventReporter(e: KubeEvent): string | undefined {
  return e.source?.host || e.reportingInstance || undefined;
}

/**
 * The fields of an event that the time rules and the checks read, nothing
 * else: pass as `project` to KubeClient.list so 100,000 events cost 100,000
 * small records, not 100,000 full objects with managedFields.
 */
export function compactEvent(e: KubeEvent): KubeEvent {
  const io = e.involvedObject;
  return {
    metadata: { creationTimestamp: e.metadata?.creationTimestamp },
    involvedObject: io && { kind: io.kind, namespace: io.namespace, name: io.name, uid: io.uid },
    reason: e.reason,
    message: e.message && e.message.length > 1000 ? e.message.slice(0, 1000) : e.message,
    type: e.type,
    count: e.count,
    firstTimestamp: e.firstTimestamp,
    lastTimestamp: e.lastTimestamp,
    eventTime: e.eventTime,
    series: e.series && { count: e.series.count, lastObservedTime: e.series.lastObservedTime },
    source: e.source && { component: e.source.component, host: e.source.host },
    reportingComponent: e.reportingComponent,
    reportingInstance: e.reportingInstance,
  };
}

/**
 * Up to this many namespaces, events about pods are asked namespace by
 * namespace: kube-apiserver keeps no watch cache for events (events are 0 in
 * its DefaultWatchCacheSizes, kubernetes/kubernetes
 * pkg/kubeapiserver/default_storage_factory_builder.go), so every events list is a storage
 * read, and a namespaced one reads only that namespace's keys (etcd/kine
 * range /registry/events/<ns>/). The answer then follows the namespaces of
 * the pods asked about, not the events of the whole cluster: after a
 * whole-cluster reboot the cluster-wide FailedScheduling list alone is 4 MB at
 * 50k pods (docs/performance.md). Above it, one cluster-wide list is fewer
 * requests for the same bytes.
 */
export const PER_NAMESPACE_EVENT_LISTS = 20;
const NAMESPACE_PARALLEL = 8;

/**
 * Events matching `fieldSelector` in the namespaces of the given objects: one
 * list per namespace (in parallel, bounded) when they are few, else one
 * cluster-wide list. Each list is reduced as it streams (KubeClient.fold):
 * one state per list, so the caller merges `states` (per namespace, they
 * never share an object). Callers still match each event to its object.
 */
export async function eventsInNamespaces<S>(
  kube: KubeClient,
  namespaces: Iterable<string | undefined>,
  fieldSelector: string,
  init: () => S,
  step: (state: S, e: KubeEvent) => void,
): Promise<{ states: S[]; query: 'none' | 'per-namespace' | 'cluster-wide' }> {
  const set = [...new Set([...namespaces].filter((n): n is string => Boolean(n)))].sort();
  if (!set.length) return { states: [], query: 'none' };
  if (set.length > PER_NAMESPACE_EVENT_LISTS) {
    return { states: [await kube.fold(RESOURCES.events, { fieldSelector }, init, step)], query: 'cluster-wide' };
  }
  const states = await mapBounded(set, NAMESPACE_PARALLEL, (namespace) => kube.fold(RESOURCES.events, { namespace, fieldSelector }, init, step));
  return { states, query: 'per-namespace' };
}
