import { describe, expect, it } from 'vitest';
import check, { fromKubelet, type Data } from '../../checks/kubelet_stall.js';
import type { KubeEvent, Node, Pod } from '../../lib/kube/types.js';
import { outcomeState, type Outcome } from '../../lib/plugin/result.js';
import { State } from '../../lib/plugin/state.js';
import { clock, checkOptions } from './support.js';

const { NOW, ago, micro } = clock('2026-06-05T08:30:00Z');

const opts = (args: string[] = []) => checkOptions(check, args);

/** Bound by the scheduler `boundAgo` seconds ago; the kubelet never wrote status. */
function bound(name: string, node: string, boundAgo: number, extra: { createdAgo?: number; status?: Pod['status']; ns?: string } = {}): Pod {
  return {
    metadata: { name, namespace: extra.ns ?? 'apps', uid: `uid-${name}`, creationTimestamp: ago(extra.createdAgo ?? boundAgo) },
    spec: { nodeName: node, schedulerName: 'default-scheduler' },
    status: extra.status ?? { phase: 'Pending', qosClass: 'BestEffort', conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: ago(boundAgo) }] } as Pod['status'],
  };
}

const node = (name: string, ready = 'True'): Node => ({
  metadata: { name },
  status: { conditions: [{ type: 'Ready', status: ready, lastTransitionTime: ago(900), reason: ready === 'True' ? 'KubeletReady' : 'NodeStatusUnknown' }] },
});

/** core/v1 kubelet event (legacy recorder); uid null: an event that names no pod uid. */
function kubeletCore(p: Pod, reason: string, firstAgo: number, lastAgo: number, count = 1, uid: string | null = p.metadata!.uid!): KubeEvent {
  return {
    involvedObject: { kind: 'Pod', namespace: p.metadata!.namespace, name: p.metadata!.name, uid: uid ?? undefined },
    reason, type: 'Normal', message: `${reason} message`, count,
    firstTimestamp: ago(firstAgo), lastTimestamp: ago(lastAgo), eventTime: null,
    source: { component: 'kubelet', host: p.spec!.nodeName }, reportingComponent: 'kubelet', reportingInstance: p.spec!.nodeName,
  };
}

/** events.k8s.io-written event: eventTime/series, reportingComponent, no source. */
function kubeletSeries(p: Pod, reason: string, firstAgo: number, lastAgo: number, count: number): KubeEvent {
  return {
    involvedObject: { kind: 'Pod', namespace: p.metadata!.namespace, name: p.metadata!.name, uid: p.metadata!.uid },
    reason, type: 'Warning', message: 'MountVolume.SetUp failed for volume "data" : iscsi: failed to attach disk',
    firstTimestamp: null, lastTimestamp: null, eventTime: micro(firstAgo), series: { count, lastObservedTime: micro(lastAgo) },
    source: {}, reportingComponent: 'kubelet', reportingInstance: p.spec!.nodeName, action: 'Mount',
  };
}

const data = (d: Partial<Data>): Data => ({ pods: [], nodes: [node('k8s02')], node: 'k8s02', events: [], eventQuery: 'per-pod', ...d });
const perf = (o: Outcome) => Object.fromEntries(o.perfdata.map((p) => [p.label, p.value]));

describe('kubelet_stall evaluate', () => {
  it('is CRITICAL on the incident signature: bound pods Pending with no kubelet event on a Ready node', async () => {
    const pods = [bound('kubelet-test', 'k8s02', 360, { ns: 'default' }), bound('worker-0', 'k8s02', 240), bound('worker-1', 'k8s02', 600)];
    const o = check.evaluate(data({ pods }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(o.summary).toBe('kubelet watch stall on k8s02: 3 pods bound up to 10m ago still Pending with no kubelet event; restart kubelite on k8s02');
    expect(o.actions?.[0]?.text).toMatch(/^restart the kubelet on k8s02: on k8s02 run sudo snap restart microk8s\.daemon-kubelite; then verify \S+ leaves Pending/);
    expect(perf(o)).toEqual({ stalled_pods: 3, pending_bound_pods: 3, oldest_stalled_age: 600, kubelet_events: 0 });
    expect(o.findings.map((f) => f.text)).toContain('default/kubelet-test on k8s02: bound 6m ago, Pending, no kubelet event or status');
    expect(o.findings.some((f) => /^remedy on k8s02: restart the kubelet \(microk8s: snap restart microk8s\.daemon-kubelite\)/.test(f.text))).toBe(true);
  });

  it('is not a stall when the kubelet wrote events, of either API, and counts them series-aware in --window', async () => {
    const pulling = bound('img-0', 'k8s02', 900);
    const mounting = bound('vol-0', 'k8s02', 1800);
    const events = [
      kubeletCore(pulling, 'Pulling', 880, 120, 3),
      // FailedMount every ~2 min for 30 minutes, written through events.k8s.io: 30 occurrences, a third inside 10m.
      kubeletSeries(mounting, 'FailedMount', 1780, 10, 30),
    ];
    const o = check.evaluate(data({ pods: [pulling, mounting], events }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    // Pulling: 3 over 760 s, 480 s of them inside -> 2; FailedMount: 30 * 590/1770 -> 10.
    expect(perf(o)).toEqual({ stalled_pods: 0, pending_bound_pods: 2, oldest_stalled_age: 0, kubelet_events: 12 });
    expect(o.summary).toBe('kubelet acting on its pods on k8s02: 2 Pending pods bound, the 2 bound longer than 1m all with kubelet events or status (oldest bound 30m ago)');
    const texts = o.findings.map((f) => f.text);
    expect(texts).toContain('apps/vol-0 on k8s02: Pending 30m since bound, kubelet working (FailedMount 30x, last 10s ago: MountVolume.SetUp failed for volume "data" : iscsi: failed to attach disk)');
    expect(o.findings.every((f) => f.state === undefined)).toBe(true);
  });

  it('takes kubelet-written status as activity even without events (events are best effort)', async () => {
    const p = bound('api-0', 'k8s02', 2700, {
      status: {
        phase: 'Pending', startTime: ago(2700),
        conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: ago(2700) }, { type: 'Initialized', status: 'True' }],
        containerStatuses: [{ name: 'api', ready: false, state: { waiting: { reason: 'ContainerCreating' } } }],
      },
    });
    const o = check.evaluate(data({ pods: [p] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    expect(o.findings[0]!.text).toBe('apps/api-0 on k8s02: Pending 45m since bound, kubelet working (status ContainerCreating)');
  });

  it('ignores events that are not the kubelet\'s or not about this pod', async () => {
    const p = bound('web-0', 'k8s02', 600);
    const scheduler: KubeEvent = { involvedObject: { kind: 'Pod', namespace: 'apps', name: 'web-0', uid: 'uid-web-0' }, reason: 'Scheduled', eventTime: micro(600), reportingComponent: 'default-scheduler', source: {} };
    const previousIncarnation = kubeletCore(p, 'Started', 4000, 3000, 1, 'uid-of-the-old-web-0');
    // No uid at all and from before the binding: a previous pod of that name.
    const oldNoUid = kubeletCore(p, 'Killing', 4000, 3000, 1, null);
    expect(fromKubelet(scheduler)).toBe(false);
    let o = check.evaluate(data({ pods: [p], events: [scheduler, previousIncarnation, oldNoUid] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(perf(o).kubelet_events).toBe(0);
    // Without a uid but after the binding, it is this pod's.
    o = check.evaluate(data({ pods: [p], events: [kubeletCore(p, 'Pulling', 500, 500, 1, null)] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.OK);
  });

  it('allows for clock skew between the scheduler\'s and the kubelet\'s hosts on events without a uid', async () => {
    const p = bound('web-0', 'k8s02', 600);
    // The kubelet's clock 10 s behind: its event reads 10 s before the binding, and is still this pod's.
    let o = check.evaluate(data({ pods: [p], events: [kubeletCore(p, 'Pulling', 610, 610, 1, null)] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    expect(perf(o)).toMatchObject({ stalled_pods: 0 });
    // A minute before the binding is more than skew: a previous pod of that name.
    o = check.evaluate(data({ pods: [p], events: [kubeletCore(p, 'Pulling', 660, 660, 1, null)] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(perf(o)).toMatchObject({ stalled_pods: 1 });
  });

  it('measures --min-age from the binding: PodScheduled, else the Scheduled event, else creation', async () => {
    // Bound 30 s ago: too young, whatever its creation time.
    const young = bound('young', 'k8s02', 30, { createdAgo: 3600 });
    let o = check.evaluate(data({ pods: [young] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    expect(o.summary).toBe('1 Pending pod bound to k8s02, none bound longer than 1m');
    expect(perf(o)).toMatchObject({ stalled_pods: 0, pending_bound_pods: 1 });
    expect(outcomeState(check.evaluate(data({ pods: [young] }), await opts(['--min-age', '20s']), NOW))).toBe(State.CRITICAL);

    // No PodScheduled condition (nodeName set directly, or an old server): the Scheduled event, else creation.
    const bare = { ...bound('bare', 'k8s02', 0, { createdAgo: 600 }), status: { phase: 'Pending' } };
    const sched: KubeEvent = { involvedObject: { kind: 'Pod', namespace: 'apps', name: 'bare', uid: 'uid-bare' }, reason: 'Scheduled', eventTime: micro(40), series: null, reportingComponent: 'default-scheduler', source: {} };
    expect(outcomeState(check.evaluate(data({ pods: [bare], events: [sched] }), await opts(), NOW))).toBe(State.OK);
    o = check.evaluate(data({ pods: [bare] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(perf(o).oldest_stalled_age).toBe(600);
  });

  it('is WARNING, not a stall, when the node is NotReady or its kubelet stopped posting', async () => {
    const pods = [bound('a', 'k8s03', 600), bound('b', 'k8s03', 300)];
    const o = check.evaluate(data({ pods, nodes: [node('k8s03', 'Unknown')], node: 'k8s03' }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.WARNING);
    expect(o.summary).toBe('k8s03 Unknown: 2 pods bound there Pending (node down, not a kubelet watch stall)');
    expect(o.findings[0]!.text).toMatch(/^k8s03 is Unknown for 15m: 2 pods bound to it Pending with no kubelet event; not a watch stall/);
    expect(perf(o)).toMatchObject({ stalled_pods: 0, pending_bound_pods: 2 });
  });

  it('applies -w/-c as ranges on the stalled count (-c 0 alerts above 0)', async () => {
    const pods = [bound('a', 'k8s02', 600), bound('b', 'k8s02', 300)];
    expect(outcomeState(check.evaluate(data({ pods }), await opts(['-c', '5']), NOW))).toBe(State.OK);
    const o = check.evaluate(data({ pods }), await opts(['-w', '0', '-c', '3']), NOW);
    expect(outcomeState(o)).toBe(State.WARNING);
    expect(o.perfdata[0]).toMatchObject({ label: 'stalled_pods', value: 2 });
    expect(o.perfdata[0]!.warn?.text).toBe('0');
    expect(o.perfdata[0]!.crit?.text).toBe('3');
    expect(outcomeState(check.evaluate(data({ pods: [] }), await opts(), NOW))).toBe(State.OK);
  });

  it('reports per node with --all-nodes', async () => {
    const pods = [bound('a', 'k8s02', 600), bound('b', 'k8s03', 300), bound('c', 'k8s01', 300)];
    // Pulling, not Pulled: a Pulled pod with no container status is a status-write stall (below).
    const events = [kubeletCore(pods[2]!, 'Pulling', 200, 200)];
    const o = check.evaluate(
      data({ pods, events, node: undefined, nodes: [node('k8s01'), node('k8s02'), node('k8s03')], eventQuery: 'lists' }),
      await opts(['--all-nodes']), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(o.summary).toMatch(/^kubelet watch stall on k8s02, k8s03: 2 pods bound up to 10m ago/);
    const texts = o.findings.map((f) => f.text);
    expect(texts.filter((t) => t.startsWith('kubelet watch stall on '))).toHaveLength(2);
    expect(perf(o)).toMatchObject({ stalled_pods: 2, pending_bound_pods: 3, kubelet_events: 1 });
  });

  it('skips terminating, mirror and no-longer-Pending pods', async () => {
    const terminating = bound('t', 'k8s02', 600);
    terminating.metadata!.deletionTimestamp = ago(60);
    const mirror = bound('kube-proxy-k8s02', 'k8s02', 600);
    mirror.metadata!.annotations = { 'kubernetes.io/config.mirror': 'abc' };
    const running = bound('r', 'k8s02', 600);
    running.status!.phase = 'Running';
    const o = check.evaluate(data({ pods: [terminating, mirror, running] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    expect(perf(o).pending_bound_pods).toBe(0);
  });

  it('rejects conflicting or malformed options', async () => {
    await expect(opts(['--node', 'k8s02', '--all-nodes'])).rejects.toThrow(/--node and --all-nodes exclude each other/);
    await expect(opts(['--min-age', 'soon'])).rejects.toThrow(/invalid --min-age 'soon'/);
    await expect(opts(['--window', '0'])).rejects.toThrow(/invalid --window/);
    // The name goes into a field selector: no way to smuggle in another term.
    await expect(opts(['--node', 'k8s02,status.phase=Running'])).rejects.toThrow(/invalid --node 'k8s02,status\.phase=Running'/);
    await expect(opts(['--node', 'K8S02'])).rejects.toThrow(/invalid --node/);
    expect((await opts(['--node', 'k8s02.lan'])).node).toBe('k8s02.lan');
  });

  it('is CRITICAL when the kubelet writes events but not pod status: Pulled/Started long ago, still Pending with no containerStatuses', async () => {
    const a = bound('web-0', 'k8s02', 1200);
    const b = bound('web-1', 'k8s02', 900);
    const events = [
      kubeletCore(a, 'Pulled', 1180, 1180), kubeletCore(a, 'Created', 1179, 1179), kubeletCore(a, 'Started', 1178, 1178),
      kubeletCore(b, 'Started', 880, 880),
    ];
    const o = check.evaluate(data({ pods: [a, b], events }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(o.summary).toBe('kubelet on k8s02 cannot write pod status: 2 pods with Pulled/Started events still Pending with no container status');
    expect(perf(o)).toMatchObject({ stalled_pods: 2, oldest_stalled_age: 1200 });
    expect(o.findings.map((f) => f.text)).toContain('apps/web-0 on k8s02: bound 20m ago, kubelet said Pulled 19m ago, status still Pending with no containerStatuses');
  });

  it('gives the kubelet --min-age after its event to report the status, and takes containerStatuses as reported', async () => {
    const fresh = bound('fresh', 'k8s02', 600);
    const reported = bound('rep', 'k8s02', 600, {
      status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: ago(600) }],
        containerStatuses: [{ name: 'c', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] } as Pod['status'],
    });
    const events = [kubeletCore(fresh, 'Started', 30, 30), kubeletCore(reported, 'Started', 500, 500)];
    const o = check.evaluate(data({ pods: [fresh, reported], events }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    // On a node that is not Ready it is not judged a status stall (the node's own heartbeat fails too).
    const down = bound('d', 'k8s02', 1200);
    const o2 = check.evaluate(data({ pods: [down], events: [kubeletCore(down, 'Started', 1100, 1100)], nodes: [node('k8s02', 'Unknown')] }), await opts(), NOW);
    expect(outcomeState(o2)).toBe(State.OK);
  });

  it('says what it saw when nothing stalls: the kubelet working, pods too young, or none', async () => {
    const working = Array.from({ length: 7 }, (_, i) => bound(`w-${i}`, 'k8s02', 300 + i * 60));
    const events = working.map((p) => kubeletCore(p, 'Pulling', 100, 90, 3));
    let o = check.evaluate(data({ pods: working, events }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    expect(o.summary).toBe('kubelet acting on its pods on k8s02: 7 Pending pods bound, the 7 bound longer than 1m all with kubelet events or status (oldest bound 11m ago)');
    const lines = o.findings.map((f) => f.text);
    expect(lines[0]).toBe('apps/w-6 on k8s02: Pending 11m since bound, kubelet working (Pulling 3x, last 1m30s ago: Pulling message)');
    expect(lines).toContain('2 more Pending pods the kubelet is working on');
    o = check.evaluate(data({ pods: [bound('new', 'k8s02', 30)] }), await opts(), NOW);
    expect(o.summary).toBe('1 Pending pod bound to k8s02, none bound longer than 1m');
    o = check.evaluate(data({ pods: [], node: undefined, nodes: [] }), await opts(['--all-nodes']), NOW);
    expect(o.summary).toBe('no Pending pods bound to any node (the cluster lists no nodes)');
    o = check.evaluate(data({ pods: [bound('a', 'k8s02', 600)] }), await opts(['-w', '0', '-c', '1']), NOW);
    expect(outcomeState(o)).toBe(State.WARNING);
    o = check.evaluate(data({ pods: [bound('a', 'k8s02', 600)] }), await opts(['-w', '1', '-c', '1']), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    expect(o.summary).toBe('1 stalled pod on k8s02, within limits; 1 Pending pod bound to k8s02');
  });

  it('two nodes down: both named in the status line, the first one\'s next step', async () => {
    const pods = [bound('a', 'k8s01', 600), bound('b', 'k8s03', 300), bound('c', 'k8s03', 200)];
    const o = check.evaluate(data({ pods, node: undefined, nodes: [node('k8s01', 'False'), node('k8s02'), node('k8s03', 'Unknown')], eventQuery: 'lists' }), await opts(['--all-nodes']), NOW);
    expect(outcomeState(o)).toBe(State.WARNING);
    expect(o.summary).toBe('k8s01 NotReady, k8s03 Unknown: 3 pods bound there Pending (node down, not a kubelet watch stall)');
    expect(o.findings.filter((f) => f.state === State.WARNING).map((f) => f.text.split(':')[0])).toEqual(['k8s01 is NotReady for 15m', 'k8s03 is Unknown for 15m']);
    expect(o.actions).toEqual([{ state: State.WARNING, text: 'k8s01 is NotReady: bring it back (check_k8s_nodes says why); its pods start once its kubelet reports again' }]);
  });

  it('names what the kubelet wrote about a pod it is working on: a waiting reason, container statuses, a start, its own condition', async () => {
    const pending = (name: string, extra: Record<string, unknown>) =>
      bound(name, 'k8s02', 600, { status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: ago(600) }], ...extra } as Pod['status'] });
    const pods = [
      pending('a', { containerStatuses: [{ name: 'app', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] }),
      pending('b', { containerStatuses: [{ name: 'app', ready: false, restartCount: 0, state: { running: {} } }] }),
      pending('c', { startTime: ago(500) }),
      pending('d', { conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: ago(600) }, { type: 'Initialized', status: 'False' }] }),
      { ...pending('e', {}), metadata: { ...pending('e', {}).metadata, annotations: { 'kubernetes.io/config.mirror': 'abc' } } },
    ];
    const o = check.evaluate(data({ pods }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    expect(o.findings.map((f) => f.text)).toEqual([
      'apps/a on k8s02: Pending 10m since bound, kubelet working (status ContainerCreating)',
      'apps/b on k8s02: Pending 10m since bound, kubelet working (status containers reported)',
      'apps/c on k8s02: Pending 10m since bound, kubelet working (status started)',
      'apps/d on k8s02: Pending 10m since bound, kubelet working (status Initialized=False)',
    ]);
    // The static pod's mirror (e) is the kubelet's own: not counted.
    expect(perf(o).pending_bound_pods).toBe(4);
  });
});

describe('kubelet_stall evaluate: more situations', () => {
  const texts = (o: Outcome) => o.findings.map((f) => f.text);
  /** The lines that alert (an OK state is a line within the thresholds). */
  const stated = (o: Outcome) => o.findings.filter((f) => f.state !== undefined && f.state !== State.OK).map((f) => [f.state, f.text]);

  it('--min-age at its edge: bound exactly 60 s ago counts, 59 s ago does not', async () => {
    let o = check.evaluate(data({ pods: [bound('a', 'k8s02', 60)] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(o.summary).toBe('kubelet watch stall on k8s02: 1 pod bound up to 1m ago still Pending with no kubelet event; restart kubelite on k8s02');
    o = check.evaluate(data({ pods: [bound('a', 'k8s02', 59)] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    expect(o.summary).toBe('1 Pending pod bound to k8s02, none bound longer than 1m');
  });

  it('a kubelet event without a uid exactly 30 s before the binding is still this pod\'s; 31 s before is not', async () => {
    const p = bound('web-0', 'k8s02', 600);
    let o = check.evaluate(data({ pods: [p], events: [kubeletCore(p, 'Pulling', 630, 630, 1, null)] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    o = check.evaluate(data({ pods: [p], events: [kubeletCore(p, 'Pulling', 631, 631, 1, null)] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
  });

  it('a pod without a uid takes the kubelet events of its name written after the binding', async () => {
    const p = bound('web-0', 'k8s02', 600);
    delete p.metadata!.uid;
    let o = check.evaluate(data({ pods: [p], events: [kubeletCore(p, 'Pulling', 500, 500, 1, 'some-uid')] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    // The same event from before the binding: a previous pod's.
    o = check.evaluate(data({ pods: [p], events: [kubeletCore(p, 'Pulling', 900, 900, 1, 'some-uid')] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
  });

  it('a Scheduled event of another pod of that name does not set the binding', async () => {
    const bare = { ...bound('bare', 'k8s02', 0, { createdAgo: 600 }), status: { phase: 'Pending' } };
    const other: KubeEvent = { involvedObject: { kind: 'Pod', namespace: 'apps', name: 'bare', uid: 'uid-other' }, reason: 'Scheduled', eventTime: micro(40), reportingComponent: 'default-scheduler', source: {} };
    // The binding falls back to creation (10m ago).
    const o = check.evaluate(data({ pods: [bare], events: [other] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(perf(o).oldest_stalled_age).toBe(600);
  });

  it('judges only the node asked about, Pending pods bound to it; a pod without a phase is Pending', async () => {
    const elsewhere = bound('x', 'k8s03', 600);
    const unbound = { ...bound('u', 'k8s02', 600), spec: { schedulerName: 'default-scheduler' } };
    const nophase = bound('n', 'k8s02', 600, { status: { conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: ago(600) }] } as Pod['status'] });
    const o = check.evaluate(data({ pods: [elsewhere, unbound, nophase] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(perf(o)).toMatchObject({ stalled_pods: 1, pending_bound_pods: 1 });
    expect(o.summary).toMatch(/^kubelet watch stall on k8s02: 1 pod bound/);
    expect(texts(o)).toContain('apps/n on k8s02: bound 10m ago, Pending, no kubelet event or status');
  });

  it('counts the kubelet events of pods too young to judge, and only those inside --window', async () => {
    const young = bound('young', 'k8s02', 30);
    const o = check.evaluate(data({ pods: [young], events: [kubeletCore(young, 'Pulling', 25, 25)] }), await opts(), NOW);
    expect(perf(o)).toMatchObject({ kubelet_events: 1, stalled_pods: 0, pending_bound_pods: 1 });
    const old = bound('old', 'k8s02', 1800);
    const o2 = check.evaluate(data({ pods: [old], events: [kubeletCore(old, 'Pulling', 1700, 1200, 1)] }), await opts(['--window', '10m']), NOW);
    expect(outcomeState(o2)).toBe(State.OK);
    expect(perf(o2).kubelet_events).toBe(0);
    expect(perf(check.evaluate(data({ pods: [old], events: [kubeletCore(old, 'Pulling', 1700, 1200, 1)] }), await opts(['--window', '30m']), NOW)).kubelet_events).toBe(1);
  });

  it('names the newest kubelet event of a pod it works on, plainly when it has no reason, count or message', async () => {
    const p = bound('w', 'k8s02', 900);
    const newer = { ...kubeletCore(p, 'x', 200, 200), reason: undefined, message: undefined };
    const older = kubeletCore(p, 'Pulling', 800, 700, 4);
    const o = check.evaluate(data({ pods: [p], events: [newer, older] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    expect(texts(o)).toEqual(['apps/w on k8s02: Pending 15m since bound, kubelet working (event, last 3m20s ago)']);
    const o2 = check.evaluate(data({ pods: [p], events: [older, kubeletCore(p, 'BackOff', 300, 100, 2)] }), await opts(), NOW);
    expect(texts(o2)).toEqual(['apps/w on k8s02: Pending 15m since bound, kubelet working (BackOff 2x, last 1m40s ago: BackOff message)']);
  });

  it('a progress event exactly --min-age old without status is a status stall; younger is the kubelet working', async () => {
    const p = bound('w', 'k8s02', 600);
    let o = check.evaluate(data({ pods: [p], events: [kubeletCore(p, 'Started', 60, 60)] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(o.summary).toBe('kubelet on k8s02 cannot write pod status: 1 pod with Started events still Pending with no container status');
    o = check.evaluate(data({ pods: [p], events: [kubeletCore(p, 'Started', 59, 59)] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    // Other kubelet events, however old, are not progress.
    o = check.evaluate(data({ pods: [p], events: [kubeletCore(p, 'Pulling', 500, 500)] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.OK);
  });

  it('names the oldest progress event whatever the order the events came in', async () => {
    const p = bound('w', 'k8s02', 1200);
    const events = [kubeletCore(p, 'Started', 600, 600), kubeletCore(p, 'Pulled', 1140, 1140), kubeletCore(p, 'Created', 900, 900)];
    const o = check.evaluate(data({ pods: [p], events }), await opts(), NOW);
    expect(texts(o)).toContain('apps/w on k8s02: bound 20m ago, kubelet said Pulled 19m ago, status still Pending with no containerStatuses');
  });

  it('status stalls on two nodes: both named, the oldest\'s node first and in the step, each node\'s line at the stall\'s state', async () => {
    const a = bound('a', 'k8s01', 600);
    const b = bound('b', 'k8s02', 1200);
    const c = bound('c', 'k8s02', 900);
    const events = [kubeletCore(a, 'Pulled', 500, 500), kubeletCore(b, 'Started', 1100, 1100), kubeletCore(c, 'Started', 800, 800)];
    const o = check.evaluate(data({ pods: [a, b, c], events, node: undefined, nodes: [node('k8s01'), node('k8s02')], eventQuery: 'lists' }), await opts(['--all-nodes']), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(o.summary).toBe('kubelet on k8s02, k8s01 cannot write pod status: 3 pods with Started/Pulled events still Pending with no container status');
    expect(stated(o).map(([, t]) => (t as string).split(':')[0])).toEqual([
      'kubelet on k8s02 writes events but not pod status',
      'kubelet on k8s01 writes events but not pod status',
      'apps/b on k8s02', 'apps/c on k8s02', 'apps/a on k8s01',
    ]);
    expect(texts(o)).toContain('kubelet on k8s01 writes events but not pod status: 1 pod bound up to 10m ago that it reported progress on still Pending with no container status; its status updates fail (API server or datastore: check k8s-dqlite), then restart kubelite');
    expect(o.actions).toEqual([{ state: State.CRITICAL, text: 'the kubelet on k8s02, k8s01 cannot write pod status: run check_k8s_apiserver and check_k8s_dqlite_cluster (a struggling datastore refuses writes); once they are OK, on k8s02 run sudo snap restart microk8s.daemon-kubelite and check again' }]);
    expect(perf(o)).toMatchObject({ stalled_pods: 3, oldest_stalled_age: 1200 });
  });

  it('a watch stall and a status stall together: both counted, the oldest of either is the age, both steps', async () => {
    const silent = bound('silent', 'k8s02', 300);
    const quiet = bound('quiet', 'k8s02', 200);
    const said = bound('said', 'k8s02', 900);
    const o = check.evaluate(data({ pods: [quiet, silent, said], events: [kubeletCore(said, 'Pulled', 800, 800)] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(o.summary).toBe('kubelet watch stall on k8s02: 2 pods bound up to 15m ago still Pending with no kubelet event; restart kubelite on k8s02; ' +
      'kubelet on k8s02 cannot write pod status: 1 pod with Pulled events still Pending with no container status');
    expect(perf(o)).toMatchObject({ stalled_pods: 3, oldest_stalled_age: 900 });
    // The watch stall's own line: its oldest pod, 5m.
    expect(texts(o)).toContain('kubelet watch stall on k8s02 (node Ready): 2 pods bound up to 5m ago, Pending with no kubelet event and no kubelet status');
    // Oldest first: the step verifies the oldest silent pod.
    expect(o.actions?.map((x) => x.text.slice(0, 60))).toEqual([
      'restart the kubelet on k8s02: on k8s02 run sudo snap restart',
      'the kubelet on k8s02 cannot write pod status: run check_k8s_',
    ]);
    expect(o.actions?.[0]?.text).toContain('then verify apps/silent leaves Pending (kubectl get pod -n apps silent -o wide)');
    expect(texts(o).filter((t) => / on k8s02: bound /.test(t))).toEqual([
      'apps/silent on k8s02: bound 5m ago, Pending, no kubelet event or status',
      'apps/quiet on k8s02: bound 3m20s ago, Pending, no kubelet event or status',
      'apps/said on k8s02: bound 15m ago, kubelet said Pulled 13m ago, status still Pending with no containerStatuses',
    ]);
  });

  it('a watch stall within -c: listed without a state and without the remedy; a status stall within -c the same', async () => {
    const p = bound('a', 'k8s02', 600);
    let o = check.evaluate(data({ pods: [p] }), await opts(['-c', '5']), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    expect(stated(o)).toEqual([]);
    expect(texts(o).some((t) => t.startsWith('remedy on'))).toBe(false);
    expect(o.summary).toBe('1 stalled pod on k8s02, within limits; 1 Pending pod bound to k8s02');
    o = check.evaluate(data({ pods: [p], events: [kubeletCore(p, 'Started', 500, 500)] }), await opts(['-c', '5']), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    expect(o.summary).toBe('1 stalled pod on k8s02, within limits; 1 Pending pod bound to k8s02');
  });

  it('two nodes stalled: each node\'s own line and remedy at the stall\'s state, pods oldest first', async () => {
    const pods = [bound('a', 'k8s01', 300), bound('b', 'k8s03', 900), bound('c', 'k8s03', 120)];
    const o = check.evaluate(data({ pods, node: undefined, nodes: [node('k8s01'), node('k8s03')], eventQuery: 'lists' }), await opts(['--all-nodes']), NOW);
    expect(o.summary).toBe('kubelet watch stall on k8s03, k8s01: 3 pods bound up to 15m ago still Pending with no kubelet event; restart kubelite on k8s03, k8s01');
    expect(stated(o)).toEqual([
      [State.CRITICAL, 'kubelet watch stall on k8s03 (node Ready): 2 pods bound up to 15m ago, Pending with no kubelet event and no kubelet status'],
      [State.CRITICAL, 'remedy on k8s03: restart the kubelet (microk8s: snap restart microk8s.daemon-kubelite); if pods then stay Pending, its API writes fail (check k8s-dqlite)'],
      [State.CRITICAL, 'kubelet watch stall on k8s01 (node Ready): 1 pod bound up to 5m ago, Pending with no kubelet event and no kubelet status'],
      [State.CRITICAL, 'remedy on k8s01: restart the kubelet (microk8s: snap restart microk8s.daemon-kubelite); if pods then stay Pending, its API writes fail (check k8s-dqlite)'],
      [State.CRITICAL, 'apps/b on k8s03: bound 15m ago, Pending, no kubelet event or status'],
      [State.CRITICAL, 'apps/a on k8s01: bound 5m ago, Pending, no kubelet event or status'],
      [State.CRITICAL, 'apps/c on k8s03: bound 2m ago, Pending, no kubelet event or status'],
    ]);
    expect(o.actions?.[0]?.text).toMatch(/^restart the kubelet on k8s03, k8s01: on k8s03 run sudo snap restart microk8s\.daemon-kubelite; then verify apps\/b leaves Pending/);
  });

  it('a pod bound to a node the cluster does not list: the node is Missing, not a stall', async () => {
    const o = check.evaluate(data({ pods: [bound('a', 'k8s09', 600)], node: undefined, nodes: [node('k8s01')], eventQuery: 'lists' }), await opts(['--all-nodes']), NOW);
    expect(outcomeState(o)).toBe(State.WARNING);
    expect(o.summary).toBe('k8s09 Missing: 1 pod bound there Pending (node down, not a kubelet watch stall)');
    expect(stated(o)).toEqual([[State.WARNING, 'k8s09 is Missing: 1 pod bound to it Pending with no kubelet event; not a watch stall, the node or its kubelet is down (judge the node, not this check)']]);
    expect(o.actions).toEqual([{ state: State.WARNING, text: 'k8s09 is Missing: bring it back (check_k8s_nodes says why); its pods start once its kubelet reports again' }]);
    expect(o.summary.includes('any node')).toBe(false);
  });

  it('with --all-nodes the OK lines count the nodes', async () => {
    const o = check.evaluate(data({ pods: [bound('new', 'k8s01', 30)], node: undefined, nodes: [node('k8s01'), node('k8s02')] }), await opts(['--all-nodes']), NOW);
    expect(o.summary).toBe('1 Pending pod bound to 2 nodes, none bound longer than 1m');
    const none = check.evaluate(data({ pods: [], node: undefined, nodes: [node('k8s01')] }), await opts(['--all-nodes']), NOW);
    expect(none.summary).toBe('no Pending pods bound to 1 node');
  });
});

describe('kubelet_stall evaluate: what counts as the kubelet acting', () => {
  const texts = (o: Outcome) => o.findings.map((f) => f.text);

  it('a core/v1 event from an older kubelet (source.component only, no reportingComponent) is the kubelet\'s', async () => {
    const p = bound('web-0', 'k8s02', 600);
    const old = { ...kubeletCore(p, 'Pulling', 500, 500), reportingComponent: '', reportingInstance: '' };
    expect(fromKubelet(old)).toBe(true);
    expect(outcomeState(check.evaluate(data({ pods: [p], events: [old] }), await opts(), NOW))).toBe(State.OK);
  });

  it('each condition only the kubelet writes is its status', async () => {
    for (const type of ['PodReadyToStartContainers', 'ContainersReady', 'Ready']) {
      const p = bound('a', 'k8s02', 600, { status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: ago(600) }, { type, status: 'False' }] } as Pod['status'] });
      const o = check.evaluate(data({ pods: [p] }), await opts(), NOW);
      expect(outcomeState(o)).toBe(State.OK);
      expect(texts(o)).toEqual([`apps/a on k8s02: Pending 10m since bound, kubelet working (status ${type}=False)`]);
    }
  });

  it('a recreated pod of the same name does not inherit the old one\'s kubelet events, even recent ones', async () => {
    const p = bound('db-0', 'k8s02', 600);
    const o = check.evaluate(data({ pods: [p], events: [kubeletCore(p, 'Killing', 550, 500, 1, 'uid-of-the-old-db-0')] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(perf(o).kubelet_events).toBe(0);
  });

  it('an event naming this pod\'s uid is its own even when the kubelet\'s clock reads it before the binding', async () => {
    const p = bound('db-0', 'k8s02', 600);
    const o = check.evaluate(data({ pods: [p], events: [kubeletCore(p, 'Pulling', 720, 720)] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.OK);
  });

  it('another controller\'s event is not the binding (SuccessfulAttachVolume after creation)', async () => {
    const bare = { ...bound('bare', 'k8s02', 0, { createdAgo: 600 }), status: { phase: 'Pending' } };
    const attach: KubeEvent = { involvedObject: { kind: 'Pod', namespace: 'apps', name: 'bare', uid: 'uid-bare' }, reason: 'SuccessfulAttachVolume', eventTime: micro(40), reportingComponent: 'attachdetach-controller', source: {} };
    const o = check.evaluate(data({ pods: [bare], events: [attach] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(perf(o).oldest_stalled_age).toBe(600);
  });

  it('nodes down are named in the order of their oldest pod', async () => {
    const pods = [bound('c', 'k8s03', 200), bound('a', 'k8s01', 600)];
    const o = check.evaluate(data({ pods, node: undefined, nodes: [node('k8s01', 'False'), node('k8s03', 'Unknown')], eventQuery: 'lists' }), await opts(['--all-nodes']), NOW);
    expect(o.summary).toBe('k8s01 NotReady, k8s03 Unknown: 2 pods bound there Pending (node down, not a kubelet watch stall)');
  });

  it('lists five pods the kubelet works on, oldest first, and counts the rest; exactly five: no count', async () => {
    const five = Array.from({ length: 5 }, (_, i) => bound(`w-${i}`, 'k8s02', 300 + i * 60));
    const events = five.map((p) => kubeletCore(p, 'Pulling', 100, 90, 3));
    const o = check.evaluate(data({ pods: five, events }), await opts(), NOW);
    expect(texts(o).map((t) => t.split(' ')[0])).toEqual(['apps/w-4', 'apps/w-3', 'apps/w-2', 'apps/w-1', 'apps/w-0']);
    const seven = [...five, bound('w-5', 'k8s02', 100), bound('w-6', 'k8s02', 90)];
    const o7 = check.evaluate(data({ pods: seven, events: seven.map((p) => kubeletCore(p, 'Pulling', 80, 70, 3)) }), await opts(), NOW);
    expect(texts(o7).filter((t) => t.includes('kubelet working'))).toHaveLength(5);
    expect(texts(o7)).toContain('2 more Pending pods the kubelet is working on');
  });

  it('both kinds of stall within -c: counted together in the OK line, each node named once', async () => {
    const silent = bound('silent', 'k8s01', 300);
    const said = bound('said', 'k8s02', 900);
    const said2 = bound('said2', 'k8s02', 800);
    const events = [kubeletCore(said, 'Pulled', 800, 800), kubeletCore(said2, 'Pulled', 700, 700)];
    const o = check.evaluate(data({ pods: [silent, said, said2], events, node: undefined, nodes: [node('k8s01'), node('k8s02')], eventQuery: 'lists' }), await opts(['--all-nodes', '-c', '5']), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    expect(o.summary).toBe('3 stalled pods on k8s01, k8s02, within limits; 3 Pending pods bound to 2 nodes');
    expect(o.perfdata.map((p) => [p.label, p.value, p.min])).toEqual([['stalled_pods', 3, 0], ['pending_bound_pods', 3, 0], ['oldest_stalled_age', 900, 0], ['kubelet_events', 0, 0]]);
    // One of each: still two stalled pods.
    const one = check.evaluate(data({ pods: [silent, said], events: events.slice(0, 1), node: undefined, nodes: [node('k8s01'), node('k8s02')], eventQuery: 'lists' }), await opts(['--all-nodes', '-c', '5']), NOW);
    expect(one.summary).toBe('2 stalled pods on k8s01, k8s02, within limits; 2 Pending pods bound to 2 nodes');
  });
});
