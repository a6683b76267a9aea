import { describe, expect, it } from 'vitest';
import { eventLastSeen, eventsInNamespaces, occurrencesSince, PER_NAMESPACE_EVENT_LISTS } from '../../lib/kube/events.js';
import type { KubeClient } from '../../lib/kube/client.js';
import type { KubeEvent } from '../../lib/kube/types.js';
import { holderNode } from '../../lib/kube/nodes.js';
import { parseDuration, formatDuration } from '../../lib/plugin/duration.js';
import { clock } from './support.js';

// Here with milliseconds ('...:00.000Z') and other microseconds ('.000123Z') than the checks' tests use.
const { NOW, ago, micro } = clock('2026-06-05T06:30:00Z', { millis: true, micros: '123' });

describe('event time', () => {
  it('uses series.lastObservedTime for events.k8s.io events without lastTimestamp', () => {
    const e = { firstTimestamp: null, lastTimestamp: null, eventTime: micro(1800), series: { count: 7, lastObservedTime: micro(60) }, metadata: { creationTimestamp: ago(1800) } };
    expect(eventLastSeen(e)).toBe(Date.parse(micro(60)));
  });

  it('uses lastTimestamp for core/v1 events', () => {
    expect(eventLastSeen({ firstTimestamp: ago(900), lastTimestamp: ago(30), count: 4 })).toBe(NOW - 30000);
  });

  it('counts an aggregated event by its share inside the window', () => {
    const since = NOW - 600_000;
    expect(occurrencesSince({ firstTimestamp: ago(300), lastTimestamp: ago(10), count: 12 }, since)).toBe(12);
    expect(occurrencesSince({ firstTimestamp: ago(1200), lastTimestamp: ago(0), count: 12 }, since)).toBe(6);
    expect(occurrencesSince({ firstTimestamp: ago(1200), lastTimestamp: ago(700), count: 12 }, since)).toBe(0);
    expect(occurrencesSince({ eventTime: micro(3000), series: { count: 50, lastObservedTime: micro(1) } }, since)).toBeGreaterThanOrEqual(1);
  });
});

describe('holderNode', () => {
  it('maps leader election identities to node names', () => {
    expect(holderNode('k8s02_3f2c1a9e-7b4d-4c1e-9a2b-0d5e6f7a8b9c')).toBe('k8s02');
    expect(holderNode('node_with_underscores_3f2c1a9e-7b4d-4c1e-9a2b-0d5e6f7a8b9c')).toBe('node_with_underscores');
    expect(holderNode('k8s01')).toBe('k8s01');
    expect(holderNode(undefined)).toBeUndefined();
  });
});

describe('durations', () => {
  it('parses and formats', () => {
    expect(parseDuration('90')).toBe(90);
    expect(parseDuration('5m')).toBe(300);
    expect(parseDuration('1h30m')).toBe(5400);
    expect(() => parseDuration('5 minutes')).toThrow();
    expect(() => parseDuration('')).toThrow();
    expect(formatDuration(3)).toBe('3s');
    expect(formatDuration(4 * 3600 + 20 * 60)).toBe('4h20m');
  });
});

describe('eventsInNamespaces', () => {
  /** A KubeClient that records what it is asked and answers one event per list. */
  const recorder = () => {
    const asked: { namespace?: string; fieldSelector: unknown }[] = [];
    const kube = {
      fold: async <S>(_res: unknown, o: { namespace?: string; fieldSelector: unknown }, init: () => S, step: (s: S, e: KubeEvent) => void) => {
        asked.push({ namespace: o.namespace, fieldSelector: o.fieldSelector });
        const s = init();
        step(s, { reason: 'FailedScheduling', involvedObject: { namespace: o.namespace ?? 'any', name: 'p' } });
        return s;
      },
    } as unknown as KubeClient;
    return { kube, asked };
  };
  const selector = 'involvedObject.kind=Pod,reason=FailedScheduling';
  const collect = (): KubeEvent[] => [];
  const keep = (s: KubeEvent[], e: KubeEvent) => { s.push(e); };

  it('asks nothing when no object is asked about', async () => {
    const { kube, asked } = recorder();
    expect(await eventsInNamespaces(kube, [undefined], selector, collect, keep)).toEqual({ states: [], query: 'none' });
    expect(asked).toEqual([]);
  });

  it('asks each namespace once, with the same selector, when they are few', async () => {
    const { kube, asked } = recorder();
    const r = await eventsInNamespaces(kube, ['b', 'a', 'b', undefined, 'c'], selector, collect, keep);
    expect(r.query).toBe('per-namespace');
    expect(r.states.flat().map((e) => e.involvedObject?.namespace).sort()).toEqual(['a', 'b', 'c']);
    expect(asked.map((a) => a.namespace).sort()).toEqual(['a', 'b', 'c']);
    for (const a of asked) expect(a.fieldSelector).toBe(selector);
  });

  it('asks the cluster once when the namespaces are more than the limit', async () => {
    const { kube, asked } = recorder();
    const many = Array.from({ length: PER_NAMESPACE_EVENT_LISTS + 1 }, (_, i) => `ns-${i}`);
    const r = await eventsInNamespaces(kube, many, selector, collect, keep);
    expect(r.query).toBe('cluster-wide');
    expect(asked).toEqual([{ namespace: undefined, fieldSelector: selector }]);
    // At the limit itself, still per namespace.
    const at = recorder();
    expect((await eventsInNamespaces(at.kube, many.slice(1), selector, collect, keep)).query).toBe('per-namespace');
    expect(at.asked).toHaveLength(PER_NAMESPACE_EVENT_LISTS);
  });
});
