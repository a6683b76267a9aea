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
