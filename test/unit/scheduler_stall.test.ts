import { describe, expect, it } from 'vitest';
import check, { attemptsOf, type Data } from '../../checks/scheduler_stall.js';
import { formatPerfdata } from '../../lib/plugin/perfdata.js';
import { outcomeState } from '../../lib/plugin/result.js';
import { State } from '../../lib/plugin/state.js';
import type { KubeEvent, Pod } from '../../lib/kube/types.js';
import { clock, checkOptions } from './support.js';

const { NOW, ago, micro } = clock('2026-06-05T06:30:00Z');

const opts = (args: string[] = []) => checkOptions(check, args);

const pod = (name: string, ageS: number, extra: Partial<Pod> = {}): Pod => ({
  metadata: { name, namespace: 'apps', uid: `uid-${name}`, creationTimestamp: ago(ageS) },
  spec: { schedulerName: 'default-scheduler', ...extra.spec },
  status: { phase: 'Pending', ...extra.status },
});

const failedEvent = (p: Pod, agoS: number, style: 'core' | 'events.k8s.io' = 'core'): KubeEvent =>
  style === 'core'
    ? {
        involvedObject: { kind: 'Pod', namespace: p.metadata!.namespace, name: p.metadata!.name, uid: p.metadata!.uid },
        reason: 'FailedScheduling', type: 'Warning', count: 3,
        message: '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
        firstTimestamp: ago(agoS + 600), lastTimestamp: ago(agoS), source: { component: 'default-scheduler' },
      }
    : {
        involvedObject: { kind: 'Pod', namespace: p.metadata!.namespace, name: p.metadata!.name, uid: p.metadata!.uid },
        reason: 'FailedScheduling', type: 'Warning', firstTimestamp: null, lastTimestamp: null,
        eventTime: micro(agoS + 1200), series: { count: 9, lastObservedTime: micro(agoS) },
        reportingComponent: 'default-scheduler', reportingInstance: 'default-scheduler-k8s01', action: 'Scheduling', source: {},
        message: '0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }.',
      };

const lease = (holder: string, renewAgo: number, duration = 60) => ({
  metadata: { name: 'kube-scheduler', namespace: 'kube-system' },
  spec: { holderIdentity: holder, leaseDurationSeconds: duration, renewTime: micro(renewAgo), acquireTime: micro(3600) },
});
const readyNode = (name: string, ready = 'True') => ({ metadata: { name }, status: { conditions: [{ type: 'Ready', status: ready }] } });

/** Data as gather makes it: the events given are folded as they would stream (default scheduler, 10m window). */
const data = (d: Partial<Data>): Data => {
  const { init, step } = attemptsOf(d.pods ?? [], 'default-scheduler', NOW - 600_000);
  const s = init();
  for (const e of d.failedScheduling ?? []) step(s, e);
  return { pods: [], ...d, failedScheduling: [...s.newest.values()], failedInWindow: s.occurrences };
};

describe('scheduler_stall evaluate', () => {
  it('is CRITICAL on the incident: 46 unscheduled pods, zero events, lease on k8s02', async () => {
    const pods = Array.from({ length: 46 }, (_, i) => pod(`p${i}`, 1800 + i * 60));
    const o = check.evaluate(data({ pods, lease: lease('k8s02_3f2c1a9e-7b4d-4c1e-9a2b-0d5e6f7a8b9c', 3), holderNode: readyNode('k8s02') }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(o.summary).toMatch(/^scheduler stall: 46 pods unscheduled for up to 1h15m with no FailedScheduling event in 10m; lease held by k8s02, renewed 3s ago/);
    const perf = Object.fromEntries(o.perfdata.map((p) => [p.label, p.value]));
    expect(perf).toMatchObject({ unscheduled_pods: 46, stalled_pods: 46, failing_pods: 0, failed_scheduling_events: 0, oldest_pending_age: 1800 + 45 * 60, lease_renew_age: 3 });
  });

  it('is WARNING on ordinary pressure and quotes the scheduler', async () => {
    const a = pod('a', 900), b = pod('b', 4000);
    const o = check.evaluate(data({ pods: [a, b], failedScheduling: [failedEvent(a, 30), failedEvent(b, 120, 'events.k8s.io')] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.WARNING);
    expect(o.summary).toMatch(/^2 pods cannot be scheduled \(scheduler is working\): 0\/3 nodes are available/);
  });

  it('counts an events.k8s.io series heartbeat up to --series-heartbeat old as an attempt', async () => {
    const p = pod('long', 7200);
    const stale = failedEvent(p, 25 * 60, 'events.k8s.io'); // last written 25m ago: the reporter writes series every 30m
    expect(outcomeState(check.evaluate(data({ pods: [p], failedScheduling: [stale] }), await opts(), NOW))).toBe(State.WARNING);
    const o = check.evaluate(data({ pods: [p], failedScheduling: [stale] }), await opts(['--series-heartbeat', '0']), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    // A core/v1 event 25m old is stale: the legacy recorder bumps count at most every 5m.
    const old = failedEvent(p, 25 * 60, 'core');
    expect(outcomeState(check.evaluate(data({ pods: [p], failedScheduling: [old] }), await opts(), NOW))).toBe(State.CRITICAL);
  });

  it('does not judge gated pods, other schedulers, young or terminating pods', async () => {
    const pods = [
      pod('gated', 3600, { spec: { schedulingGates: [{ name: 'example.com/quota' }] } }),
      pod('gated2', 3600, { status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] } }),
      pod('other', 3600, { spec: { schedulerName: 'volcano' } }),
      pod('young', 60),
      { ...pod('dying', 3600), metadata: { ...pod('dying', 3600).metadata, deletionTimestamp: ago(10) } },
    ];
    const o = check.evaluate(data({ pods }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    expect(o.findings.map((f) => f.text).join('\n')).toMatch(/2 pods held by scheduling gates, 1 pod for other schedulers/);
    expect(o.perfdata.find((p) => p.label === 'gated_pods')!.value).toBe(2);
    expect(o.perfdata.find((p) => p.label === 'unscheduled_pods')!.value).toBe(1);
  });

  it('does not let an old event of a recreated pod (same name, new uid) count', async () => {
    const p = pod('web-0', 900);
    const e = failedEvent(p, 30);
    e.involvedObject!.uid = 'uid-of-the-previous-pod';
    expect(outcomeState(check.evaluate(data({ pods: [p], failedScheduling: [e] }), await opts(), NOW))).toBe(State.CRITICAL);
  });

  it('honours -c and -w ranges', async () => {
    const pods = [pod('a', 900), pod('b', 900)];
    expect(outcomeState(check.evaluate(data({ pods }), await opts(['-c', '5']), NOW))).toBe(State.OK);
    expect(outcomeState(check.evaluate(data({ pods }), await opts(['-c', '5', '-w', '1']), NOW))).toBe(State.WARNING);
  });

  it('reports the lease and its node when all is well, and an expired lease', async () => {
    let o = check.evaluate(data({ lease: lease('k8s01_3f2c1a9e-7b4d-4c1e-9a2b-0d5e6f7a8b9c', 2), holderNode: readyNode('k8s01') }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    expect(o.summary).toBe('no unscheduled pods; lease held by k8s01, renewed 2s ago');
    o = check.evaluate(data({ pods: [pod('a', 900)], lease: lease('k8s02_3f2c1a9e-7b4d-4c1e-9a2b-0d5e6f7a8b9c', 300), holderNode: readyNode('k8s02', 'Unknown') }), await opts(), NOW);
    expect(o.summary).toMatch(/lease held by k8s02 \(node Unknown\), renewed 5m ago, EXPIRED \(duration 60s\)/);
    o = check.evaluate(data({}), await opts(), NOW);
    expect(o.summary).toMatch(/no Lease kube-system\/kube-scheduler/);
  });

  it('with the scheduler stopped and its Lease released, does not say the scheduler is working, and names the Lease (found on a real control plane)', async () => {
    // leader-lease-released.json: a scheduler that stopped gracefully leaves holderIdentity "" and leaseDurationSeconds 1.
    const released = { metadata: { name: 'kube-scheduler', namespace: 'kube-system' }, spec: { holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 0, acquireTime: micro(400), renewTime: micro(400) } };
    const msg = '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.';
    const big = pod('big', 600, { status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: msg, lastTransitionTime: ago(590) }] } });
    const o = check.evaluate(data({ pods: [big], lease: released }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.WARNING);
    expect(o.summary).toBe(`1 pod cannot be scheduled (tried, but no scheduler leads now: Lease kube-system/kube-scheduler has no holder): ${msg}`);
    // An expired Lease says the same; a fresh one that the scheduler is working.
    const stale = check.evaluate(data({ pods: [big], lease: lease('k8s02_3f2c1a9e-7b4d-4c1e-9a2b-0d5e6f7a8b9c', 300), holderNode: readyNode('k8s02') }), await opts(), NOW);
    expect(stale.summary).toMatch(/^1 pod cannot be scheduled \(tried, but no scheduler leads now: lease held by k8s02, renewed 5m ago, EXPIRED \(duration 60s\)\): /);
    const held = check.evaluate(data({ pods: [big], lease: lease('k8s02_3f2c1a9e-7b4d-4c1e-9a2b-0d5e6f7a8b9c', 2), holderNode: readyNode('k8s02') }), await opts(), NOW);
    expect(held.summary).toBe(`1 pod cannot be scheduled (scheduler is working): ${msg}`);
  });

  it('holds a pod the scheduler marked Unschedulable as pressure after its event expired, quoting the condition', async () => {
    // microk8s: --event-ttl=5m, and the scheduler rewrites a repeating FailedScheduling only every 30m.
    const msg = '0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.';
    const p = pod('big', 5 * 3600, { status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: msg, lastTransitionTime: ago(5 * 3600 - 2) }] } });
    const o = check.evaluate(data({ pods: [p] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.WARNING);
    expect(o.summary).toBe(`1 pod cannot be scheduled (scheduler is working): ${msg}`);
    expect(o.perfdata.find((x) => x.label === 'stalled_pods')!.value).toBe(0);
    // A SchedulerError (an attempt that errored) is an attempt too.
    const e = pod('err', 3600, { status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulerError', message: 'binding rejected' }] } });
    expect(outcomeState(check.evaluate(data({ pods: [e] }), await opts(), NOW))).toBe(State.WARNING);
  });

  it('is CRITICAL when the scheduler tried old pods but never a newer one, and says no failure was recorded since', async () => {
    const old = pod('old', 7200, { status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available', lastTransitionTime: ago(7100) }] } });
    const fresh = pod('fresh', 900);
    const o = check.evaluate(data({ pods: [old, fresh] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(o.summary).toMatch(/^scheduler stall: 1 pod unscheduled for up to 15m .*; its newest recorded failure is 1h58m old; 1 pod cannot be scheduled/);
    expect(o.findings[0]!.text).toBe('apps/fresh unscheduled for 15m, never tried (no PodScheduled condition, no FailedScheduling event in 10m)');
  });

  it('counts failed_scheduling_events only about the pods still waiting', async () => {
    const p = pod('a', 900);
    const gone = { ...failedEvent(pod('scheduled-since', 900), 30) };
    const o = check.evaluate(data({ pods: [p], failedScheduling: [failedEvent(p, 30), gone] }), await opts(), NOW);
    expect(o.perfdata.find((x) => x.label === 'failed_scheduling_events')!.value).toBe(3);
    expect(o.perfdata.map((x) => x.label)).not.toContain('scheduled_events');
  });

  it('names the holder by its Node found through the hostname label, not the identity', async () => {
    const node = { metadata: { name: 'node-a', labels: { 'kubernetes.io/hostname': 'k8s01' } }, status: { conditions: [{ type: 'Ready', status: 'True' }] } };
    const o = check.evaluate(data({ lease: lease('K8S01_3f2c1a9e-7b4d-4c1e-9a2b-0d5e6f7a8b9c', 2), holderNode: node }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    expect(o.summary).toBe('no unscheduled pods; lease held by node-a, renewed 2s ago');
  });
});

describe('scheduler_stall: what to do', () => {
  it('names the Lease holder, the restart command there and what to verify after', async () => {
    const p = pod('web-1', 1800);
    const o = check.evaluate(data({ pods: [p], lease: lease('k8s02_3f2c1a9e', 3), holderNode: readyNode('k8s02') }), await opts(), NOW);
    expect(o.actions?.[0]?.state).toBe(State.CRITICAL);
    expect(o.actions?.[0]?.text).toMatch(/^restart the scheduler on k8s02, which holds Lease kube-system\/kube-scheduler: on k8s02 run sudo snap restart microk8s\.daemon-kubelite .*another node's scheduler takes the Lease.*verify apps\/web-1 gets PodScheduled .*check_k8s_scheduler_stall again/);
  });

  it('with no holder, says to find and restart the scheduler', async () => {
    const o = check.evaluate(data({ pods: [pod('web-1', 1800)] }), await opts(), NOW);
    expect(o.actions?.[0]?.text).toMatch(/^no scheduler holds Lease kube-system\/kube-scheduler: .*sudo snap restart microk8s\.daemon-kubelite/);
  });

  it('on pressure, points at the pod whose message says why', async () => {
    const a = pod('a', 900);
    const o = check.evaluate(data({ pods: [a], failedScheduling: [failedEvent(a, 30)] }), await opts(), NOW);
    expect(o.actions).toEqual([{ state: State.WARNING, text: expect.stringMatching(/^the scheduler works but cannot place 1 pod: read why in kubectl describe pod -n apps a /) }]);
  });
});

describe('scheduler_stall: edges of the verdict', () => {
  const HOLDER = 'k8s02_3f2c1a9e-7b4d-4c1e-9a2b-0d5e6f7a8b9c';
  const unschedulable = (message?: string, since = 590) =>
    ({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', ...(message && { message }), lastTransitionTime: ago(since) }] });

  it('a pod exactly --min-age old is judged, a second younger is not', async () => {
    const held = { lease: lease(HOLDER, 2), holderNode: readyNode('k8s02') };
    const at = check.evaluate(data({ pods: [pod('edge', 300)], ...held }), await opts(), NOW);
    expect(outcomeState(at)).toBe(State.CRITICAL);
    expect(at.summary).toMatch(/^scheduler stall: 1 pod unscheduled for up to 5m with no FailedScheduling event in 10m; lease held by k8s02, renewed 2s ago$/);
    const young = check.evaluate(data({ pods: [pod('edge', 299)], ...held }), await opts(), NOW);
    expect(outcomeState(young)).toBe(State.OK);
    expect(young.summary).toBe('1 unscheduled pod within limits (0 stalled, 0 failing, oldest 4m59s); lease held by k8s02, renewed 2s ago');
  });

  it('a core/v1 event exactly --window old is an attempt, one second older is not', async () => {
    const p = pod('a', 3600);
    const inside = check.evaluate(data({ pods: [p], failedScheduling: [failedEvent(p, 600)] }), await opts(), NOW);
    expect(outcomeState(inside)).toBe(State.WARNING);
    expect(inside.summary).toMatch(/^1 pod cannot be scheduled \(scheduler is working\): 0\/3 nodes are available: 3 Insufficient cpu/);
    const outside = check.evaluate(data({ pods: [p], failedScheduling: [failedEvent(p, 601)] }), await opts(), NOW);
    expect(outcomeState(outside)).toBe(State.CRITICAL);
    expect(outside.findings.some((f) => f.text.startsWith('apps/a unscheduled for 1h, never tried'))).toBe(true);
  });

  it('a series event past --window plus --series-heartbeat is stale; exactly that old it still counts', async () => {
    const p = pod('long', 7200);
    expect(outcomeState(check.evaluate(data({ pods: [p], failedScheduling: [failedEvent(p, 40 * 60, 'events.k8s.io')] }), await opts(), NOW))).toBe(State.WARNING);
    const o = check.evaluate(data({ pods: [p], failedScheduling: [failedEvent(p, 40 * 60 + 1, 'events.k8s.io')] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(o.summary).toMatch(/^scheduler stall: 1 pod unscheduled for up to 2h /);
  });

  it('prefers the PodScheduled message to the event, and the event to the bare reason', async () => {
    const a = pod('a', 900, { status: unschedulable('0/3 nodes are available: 3 node(s) didn\'t match Pod\'s node affinity/selector.') });
    const o = check.evaluate(data({ pods: [a], failedScheduling: [failedEvent(a, 30)] }), await opts(), NOW);
    expect(o.summary).toBe('1 pod cannot be scheduled (scheduler is working): 0/3 nodes are available: 3 node(s) didn\'t match Pod\'s node affinity/selector.');
    const b = pod('b', 900, { status: unschedulable() });
    const e = check.evaluate(data({ pods: [b], failedScheduling: [failedEvent(b, 30)] }), await opts(), NOW);
    expect(e.findings.map((f) => f.text)).toContain(`apps/b unschedulable for 15m: ${failedEvent(b, 30).message}`);
    const bare = check.evaluate(data({ pods: [b] }), await opts(), NOW);
    expect(outcomeState(bare)).toBe(State.WARNING);
    expect(bare.summary).toBe('1 pod cannot be scheduled (scheduler is working): Unschedulable');
  });

  it('an event without a message and no condition: the reason FailedScheduling is quoted', async () => {
    const p = pod('a', 900);
    const e = failedEvent(p, 30);
    delete e.message;
    const o = check.evaluate(data({ pods: [p], failedScheduling: [e] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.WARNING);
    expect(o.summary).toBe('1 pod cannot be scheduled (scheduler is working): FailedScheduling');
    expect(o.findings.map((f) => f.text)).toContain('apps/a unschedulable for 15m: FailedScheduling');
  });

  it('the newest recorded failure may be an event: a series heartbeat 25m old, before a pod never tried for 15m', async () => {
    const old = pod('old', 7200);
    const o = check.evaluate(data({ pods: [old, pod('fresh', 900)], failedScheduling: [failedEvent(old, 25 * 60, 'events.k8s.io')] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(o.summary).toMatch(/; its newest recorded failure is 25m old; 1 pod cannot be scheduled/);
  });

  it('a failure recorded the moment the stalled pod arrived is not "before" it', async () => {
    const tried = pod('tried', 7200, { status: unschedulable('0/3 nodes are available', 900) });
    const o = check.evaluate(data({ pods: [tried, pod('fresh', 900)] }), await opts(), NOW);
    expect(o.summary).not.toMatch(/newest recorded failure/);
    const before = check.evaluate(data({ pods: [pod('tried', 7200, { status: unschedulable('0/3 nodes are available', 901) }), pod('fresh', 900)] }), await opts(), NOW);
    expect(before.summary).toMatch(/; its newest recorded failure is 15m old;/);
  });

  it('a PodScheduled=True or a condition without a reason is no attempt', async () => {
    const cond = (status: string, reason?: string) => ({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status, ...(reason && { reason }) }] });
    for (const status of [cond('True', 'Unschedulable'), cond('False')]) {
      const o = check.evaluate(data({ pods: [pod('x', 900, { status })] }), await opts(), NOW);
      expect(outcomeState(o)).toBe(State.CRITICAL);
      expect(o.summary).toMatch(/^scheduler stall: 1 pod unscheduled for up to 15m/);
    }
  });

  it('names the stalled and the failing pods oldest first, each on its line, and the status line once per verdict', async () => {
    const pods = [pod('young', 600), pod('oldest', 5400), pod('mid', 1800)];
    const o = check.evaluate(data({ pods, lease: lease(HOLDER, 2), holderNode: readyNode('k8s02') }), await opts(), NOW);
    expect(o.summary).toBe('scheduler stall: 3 pods unscheduled for up to 1h30m with no FailedScheduling event in 10m; lease held by k8s02, renewed 2s ago');
    expect(o.findings.filter((f) => f.state === State.CRITICAL).map((f) => f.text.split(' ')[0])).toEqual(['apps/oldest', 'apps/mid', 'apps/young']);
    expect(o.actions?.[0]?.text).toMatch(/verify apps\/oldest gets PodScheduled \(kubectl get pod -n apps oldest -o wide/);
    const f = [pod('f1', 600, { status: unschedulable('m') }), pod('f2', 4000, { status: unschedulable('m') })];
    const w = check.evaluate(data({ pods: f }), await opts(), NOW);
    expect(w.findings.filter((x) => x.state === State.WARNING).map((x) => x.text)).toEqual(['apps/f2 unschedulable for 1h6m: m', 'apps/f1 unschedulable for 10m: m']);
    expect(w.actions?.[0]?.text).toMatch(/describe pod -n apps f2 /);
  });

  it('quotes the message most pods share, not the first one', async () => {
    const taint = '0/3 nodes are available: 3 node(s) had untolerated taint {node.kubernetes.io/unreachable: }.';
    const cpu = '0/3 nodes are available: 3 Insufficient cpu.';
    const pods = [pod('a', 9000, { status: unschedulable(taint) }), pod('b', 900, { status: unschedulable(cpu) }), pod('c', 800, { status: unschedulable(taint) })];
    const o = check.evaluate(data({ pods }), await opts(), NOW);
    expect(o.summary).toBe(`3 pods cannot be scheduled (scheduler is working): ${taint}`);
    // One each: the oldest pod's.
    const tie = check.evaluate(data({ pods: [pod('new', 900, { status: unschedulable(cpu) }), pod('old', 9000, { status: unschedulable(taint) })] }), await opts(), NOW);
    expect(tie.summary).toBe(`2 pods cannot be scheduled (scheduler is working): ${taint}`);
  });

  it('on pressure, what to do names the oldest pod and where its reason is', async () => {
    const o = check.evaluate(data({ pods: [pod('f1', 600, { status: unschedulable('m') }), pod('f2', 4000, { status: unschedulable('m') })] }), await opts(), NOW);
    expect(o.actions).toEqual([{ state: State.WARNING, text: 'the scheduler works but cannot place 2 pods: read why in kubectl describe pod -n apps f2 ' +
      '(its PodScheduled message: resources, taints, node selectors, volumes) and free or add capacity or fix the pod spec; then check again' }]);
  });

  it('events about a gated or terminating pod are not counted as attempts', async () => {
    const gated = pod('gated', 900, { spec: { schedulingGates: [{ name: 'example.com/quota' }] } });
    const dying = { ...pod('dying', 900), metadata: { ...pod('dying', 900).metadata, deletionTimestamp: ago(10) } };
    const o = check.evaluate(data({ pods: [gated, dying], failedScheduling: [failedEvent(gated, 30), failedEvent(dying, 30)] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    expect(o.perfdata.find((x) => x.label === 'failed_scheduling_events')!.value).toBe(0);
  });

  it('a Lease with no holder: "none" in its long-output line', async () => {
    const released = { metadata: { name: 'kube-scheduler', namespace: 'kube-system' }, spec: { leaseDurationSeconds: 15, renewTime: micro(400) } };
    const o = check.evaluate(data({ lease: released }), await opts(), NOW);
    expect(o.summary).toBe('no unscheduled pods; Lease kube-system/kube-scheduler has no holder');
    expect(o.findings.map((f) => f.text)).toEqual(['Lease kube-system/kube-scheduler has no holder; holder identity none, leaseDurationSeconds 15']);
  });

  it('says nothing of a newest failure when the scheduler failed after the stalled pod arrived', async () => {
    const tried = pod('tried', 7200, { status: unschedulable('0/3 nodes are available', 60) });
    const o = check.evaluate(data({ pods: [tried, pod('fresh', 900)] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(o.summary).not.toMatch(/newest recorded failure/);
    expect(o.summary).toMatch(/^scheduler stall: 1 pod unscheduled for up to 15m .*; no Lease kube-system\/kube-scheduler \(leader election off\?\); 1 pod cannot be scheduled \(scheduler is working\)/);
  });

  it('a Lease renewed exactly leaseDurationSeconds ago is not expired, a second later it is', async () => {
    const big = pod('big', 900, { status: unschedulable('m') });
    const at = check.evaluate(data({ pods: [big], lease: lease(HOLDER, 60), holderNode: readyNode('k8s02') }), await opts(), NOW);
    expect(at.summary).toBe('1 pod cannot be scheduled (scheduler is working): m');
    const past = check.evaluate(data({ pods: [big], lease: lease(HOLDER, 61), holderNode: readyNode('k8s02') }), await opts(), NOW);
    expect(past.summary).toBe('1 pod cannot be scheduled (tried, but no scheduler leads now: lease held by k8s02, renewed 1m1s ago, EXPIRED (duration 60s)): m');
  });

  it('a Lease without renewTime or duration: "?" in the line, no renew-age perfdata, and the restart waits 60s', async () => {
    const l = { metadata: { name: 'kube-scheduler', namespace: 'kube-system' }, spec: { holderIdentity: HOLDER } };
    const o = check.evaluate(data({ pods: [pod('p', 900)], lease: l, holderNode: readyNode('k8s02') }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(o.summary).toMatch(/; lease held by k8s02, renewed \? ago$/);
    expect(o.perfdata.map((p) => p.label)).not.toContain('lease_renew_age');
    expect(o.actions?.[0]?.text).toMatch(/another node's scheduler takes the Lease within 60s;/);
    expect(o.findings.map((f) => f.text)).toContain('lease held by k8s02, renewed ? ago; holder identity k8s02_3f2c1a9e-7b4d-4c1e-9a2b-0d5e6f7a8b9c, leaseDurationSeconds ?');
  });

  it('the Lease with its own duration, the holder named from its identity when no Node matches, and the renew age to a tenth of a second', async () => {
    const l = { metadata: { name: 'kube-scheduler', namespace: 'kube-system' }, spec: { holderIdentity: HOLDER, leaseDurationSeconds: 15, renewTime: new Date(NOW - 2340).toISOString() } };
    const o = check.evaluate(data({ pods: [pod('p', 900)], lease: l }), await opts(), NOW);
    expect(o.summary).toMatch(/; lease held by k8s02 \(node Missing\), renewed 2s ago$/);
    expect(o.actions?.[0]?.text).toMatch(/^restart the scheduler on k8s02, .*takes the Lease within 15s;/);
    expect(o.perfdata.find((p) => p.label === 'lease_renew_age')!.value).toBe(2.3);
  });

  it('a pod bound or finished since the list is neither judged nor counted as another scheduler\'s', async () => {
    const bound = pod('bound', 900, { spec: { nodeName: 'k8s01' } });
    const done = pod('done', 900, { status: { phase: 'Succeeded' } });
    const o = check.evaluate(data({ pods: [bound, done] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    expect(o.summary).toMatch(/^no unscheduled pods; /);
    expect(o.findings.map((f) => f.text).join('\n')).not.toMatch(/not judged/);
    // No phase yet is Pending.
    const fresh = { ...pod('fresh', 900), status: {} };
    expect(outcomeState(check.evaluate(data({ pods: [fresh] }), await opts(), NOW))).toBe(State.CRITICAL);
  });

  it('--scheduler-name judges that scheduler\'s pods and counts the default\'s as another\'s', async () => {
    const o = check.evaluate(data({ pods: [pod('v', 900, { spec: { schedulerName: 'volcano' } }), pod('d', 900)] }), await opts(['--scheduler-name', 'volcano']), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(o.summary).toMatch(/^scheduler stall: 1 pod unscheduled/);
    expect(o.findings.map((f) => f.text)).toContain('not judged: 0 pods held by scheduling gates, 1 pod for other schedulers');
  });
});

describe('scheduler_stall: the events as they stream', () => {
  const p = pod('a', 900);
  const fold = (events: KubeEvent[], scheduler = 'default-scheduler') => {
    const { init, step } = attemptsOf([p], scheduler, NOW - 600_000);
    const s = init();
    for (const e of events) step(s, e);
    return s;
  };

  it('keeps the newest event per pod and counts the occurrences of each', () => {
    const older = failedEvent(p, 300), newer = { ...failedEvent(p, 30), message: 'newer' };
    for (const order of [[older, newer], [newer, older]]) {
      const s = fold(order);
      expect(s.newest.get('apps/a')?.message).toBe('newer');
      expect(s.newest.size).toBe(1);
    }
  });

  it('counts events of no named component, not those of another scheduler nor about other pods', () => {
    const anon = { ...failedEvent(p, 30), source: {} };
    expect(fold([anon]).newest.size).toBe(1);
    const other = { ...failedEvent(p, 30), source: { component: 'volcano' } };
    expect(fold([other])).toEqual({ newest: new Map(), occurrences: 0 });
    const otherPod = failedEvent(pod('b', 900), 30);
    expect(fold([otherPod])).toEqual({ newest: new Map(), occurrences: 0 });
    const reported = { ...failedEvent(p, 30, 'events.k8s.io'), reportingComponent: 'volcano' };
    expect(fold([reported]).newest.size).toBe(0);
    expect(fold([reported], 'volcano').newest.size).toBe(0); // the pod is the default scheduler's: not asked
  });

  it('an event without the pod uid still counts', () => {
    const e = failedEvent(p, 30);
    delete e.involvedObject!.uid;
    expect(fold([e]).newest.size).toBe(1);
  });
});

describe('scheduler_stall: perfdata as a grapher reads it', () => {
  it('with its thresholds and floors', async () => {
    const p = pod('a', 900);
    const o = check.evaluate(data({ pods: [p, pod('b', 60)], failedScheduling: [failedEvent(p, 30)], lease: lease('k8s01_x', 2), holderNode: readyNode('k8s01') }), await opts(), NOW);
    expect(o.perfdata.map(formatPerfdata).join(' ')).toBe('unscheduled_pods=2;;;0 stalled_pods=0;;0;0 failing_pods=1;0;;0 gated_pods=0;;;0 oldest_pending_age=900s;;;0 failed_scheduling_events=3;;;0 lease_renew_age=2s;;;0');
  });
});
