import { describe, expect, it } from 'vitest';
import check, { type Data } from '../../checks/canary.js';
import {
  canaryManifest, canaryName, CANARY_LABELS, isCanary, leftBehind, OWNER_ANNOTATION, progressOf, TIMEOUT_ANNOTATION, waitingIn,
} from '../../lib/kube/canary.js';
import type { KubeEvent, Lease, Pod } from '../../lib/kube/types.js';
import { runAlive, thisRunOwner } from '../../lib/host/run-owner.js';
import { outcomeState } from '../../lib/plugin/result.js';
import { renderNagios } from '../../lib/plugin/render.js';
import { State } from '../../lib/plugin/state.js';
import { checkOptions, clock } from './support.js';

const { NOW, ago, micro } = clock('2026-06-05T06:30:00Z');
const UUID = '4f7c2a1e-9b3d-4c6e-8f2a-1d5e7b9c3a60';

const base = (over: Partial<Data> = {}): Data => ({
  namespace: 'k8s-nrpe-canary', name: 'k8s-nrpe-canary-k8s02', node: 'k8s02', foreign: [], leftovers: [], created: true,
  seconds: {}, events: [], evidenceErrors: [], timeout: 60, cleanup: 'gone', ...over,
});
const pod = (over: Pod = {}): Pod => ({
  metadata: { name: 'k8s-nrpe-canary-k8s02', namespace: 'k8s-nrpe-canary', uid: 'u1', labels: { ...CANARY_LABELS }, creationTimestamp: ago(30), ...over.metadata },
  spec: { ...over.spec },
  status: { phase: 'Pending', ...over.status },
});
const schedulerLease: Lease = { metadata: { name: 'kube-scheduler' }, spec: { holderIdentity: `k8s02_${UUID}`, leaseDurationSeconds: 60, renewTime: micro(3) } };
const nodeLease: Lease = { metadata: { name: 'k8s02' }, spec: { leaseDurationSeconds: 40, renewTime: micro(4) } };

const run = async (d: Data, args: string[] = []) => {
  const o = check.evaluate(d, await checkOptions(check, args), NOW);
  const text = renderNagios(o, { title: 'CANARY', verbose: 1 });
  const lines = text.split('\n');
  return { o, state: outcomeState(o), first: lines[0]!, second: lines[1] ?? '', text, perf: Object.fromEntries(o.perfdata.map((p) => [p.label, p.value])) };
};

describe('canary judgement', () => {
  it('OK with every stage timed and the total judged by -w/-c', async () => {
    const r = await run(base({ seconds: { schedule: 0.4, start: 1.2, ready: 0.6, delete: 1.1 }, pod: pod({ spec: { nodeName: 'k8s02' } }) }));
    expect(r.state).toBe(State.OK);
    expect(r.first).toMatch(/^K8S CANARY OK - canary k8s-nrpe-canary\/k8s-nrpe-canary-k8s02 started and went on k8s02 in 3\.3s/);
    expect(r.perf).toMatchObject({ schedule_seconds: 0.4, start_seconds: 1.2, ready_seconds: 0.6, delete_seconds: 1.1, total_seconds: 3.3, leftovers_deleted: 0 });
    const slow = await run(base({ seconds: { schedule: 0.4, start: 12, ready: 0.6, delete: 1.1 } }), ['-w', '10']);
    expect(slow.state).toBe(State.WARNING);
    expect(slow.first).toMatch(/start took 12s \(outside --start-warning 10\); create to gone took 14\.1s/);
  });

  it('stalled scheduler: no scheduling attempt, names the Lease holder, says restart it there', async () => {
    const r = await run(base({
      seconds: {}, stuck: { stage: 'schedule', seconds: 20, cause: 'limit' }, pod: pod(), schedulerLease, cleanup: 'deleting',
    }));
    expect(r.state).toBe(State.CRITICAL);
    expect(r.first).toMatch(/^K8S CANARY CRITICAL - not scheduled after 20s: no scheduling attempt \(PodScheduled absent\); scheduler Lease held by k8s02, renewed 3s ago \|/);
    expect(r.second).toMatch(/^What to do: the scheduler on k8s02 holds its Lease but does not work its queue: restart it there/);
    expect(r.perf.schedule_seconds).toBeUndefined();
    expect(r.perf.total_seconds).toBeUndefined();
  });

  it('Unschedulable is pressure (WARNING by default), with the scheduler\'s message', async () => {
    const msg = '0/3 nodes are available: 3 Insufficient cpu.';
    const d = base({
      stuck: { stage: 'schedule', seconds: 20, cause: 'limit' }, schedulerLease,
      pod: pod({ status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: msg }] } }),
    });
    const r = await run(d);
    expect(r.state).toBe(State.WARNING);
    expect(r.first).toContain(`not scheduled after 20s: Unschedulable: ${msg}`);
    expect(r.second).toMatch(/What to do: the scheduler works but found no node \(is k8s02 cordoned, tainted or full\?\)/);
    expect((await run(d, ['--unschedulable-state', 'critical'])).state).toBe(State.CRITICAL);
  });

  it('bound, no sandbox: the FailedCreatePodSandBox "name is reserved" event and restart containerd', async () => {
    const ev: KubeEvent = {
      reason: 'FailedCreatePodSandBox', type: 'Warning', count: 4, lastTimestamp: ago(1),
      message: 'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to reserve sandbox name "x_y_u1_0": name "x_y_u1_0" is reserved for "abc"',
      involvedObject: { kind: 'Pod', name: 'k8s-nrpe-canary-k8s02', uid: 'u1' },
    };
    const r = await run(base({
      stuck: { stage: 'start', seconds: 30, cause: 'limit' }, seconds: { schedule: 0.3 }, events: [ev], nodeLease,
      pod: pod({ spec: { nodeName: 'k8s02' }, status: { phase: 'Pending', containerStatuses: [{ name: 'canary', state: { waiting: { reason: 'ContainerCreating' } } }] } }),
    }));
    expect(r.state).toBe(State.CRITICAL);
    expect(r.first).toMatch(/^K8S CANARY CRITICAL - bound to k8s02 30s ago, no sandbox: FailedCreatePodSandBox x4: name is reserved \|/);
    expect(r.text).toContain('FailedCreatePodSandBox x4: Failed to create pod sandbox: rpc error: code = Unknown desc = failed to reserve sandbox name "x_y_u1_0": name "x_y_u1_0" is reserved for "abc"');
    expect(r.second).toMatch(/What to do: containerd on k8s02 holds a stale sandbox name \("name is reserved"\): restart containerd there/);
    expect(r.perf.schedule_seconds).toBe(0.3);
  });

  it('bound, nothing written by the kubelet, and Running but Ready not written: different verdicts', async () => {
    const silent = await run(base({ stuck: { stage: 'start', seconds: 30, cause: 'limit' }, nodeLease, pod: pod({ spec: { nodeName: 'k8s02' } }) }));
    expect(silent.first).toMatch(/bound to k8s02 30s ago, its kubelet wrote no status and no events; kubelet heartbeat \(Lease kube-node-lease\/k8s02\) renewed 4s ago/);
    const notReady = await run(base({
      stuck: { stage: 'ready', seconds: 20, cause: 'limit' }, nodeLease,
      pod: pod({ spec: { nodeName: 'k8s02' }, status: { phase: 'Running', containerStatuses: [{ name: 'canary', state: { running: {} } }] } }),
    }));
    expect(notReady.state).toBe(State.CRITICAL);
    expect(notReady.first).toMatch(/CRITICAL - Running on k8s02 but Ready not written for 20s/);
    expect(notReady.second).toMatch(/What to do: .*check the datastore \(check_k8s_dqlite/);
  });

  it('delete never confirmed: CRITICAL with the node and finalizers', async () => {
    const r = await run(base({
      seconds: { schedule: 0.2, start: 1, ready: 0.5 }, stuck: { stage: 'delete', seconds: 30, cause: 'limit' }, cleanup: 'deleting',
      pod: pod({ metadata: { deletionTimestamp: ago(30), finalizers: ['example.com/hold'] }, spec: { nodeName: 'k8s02' } }),
    }));
    expect(r.first).toMatch(/CRITICAL - deleted, still present after 30s on k8s02 \(kubelet or datastore\); finalizers example\.com\/hold/);
  });

  it('out of time before a stage limit: the timeout state, saying -t ended first', async () => {
    const r = await run(base({ stuck: { stage: 'schedule', seconds: 3, cause: 'time' }, schedulerLease, pod: pod() }));
    expect(r.state).toBe(State.UNKNOWN);
    expect(r.first).toMatch(/the run's -t 10s ended first/);
    // Past the stage's warning it is at least WARNING, whatever -t did.
    expect((await run(base({ stuck: { stage: 'schedule', seconds: 8, cause: 'time' }, pod: pod() }))).state).toBe(State.WARNING);
  });

  it('refuses a namespace holding foreign pods, and says when another run is in progress', async () => {
    const r = await run(base({ foreign: ['web-1'], created: false, cleanup: undefined }));
    expect(r.state).toBe(State.UNKNOWN);
    expect(r.first).toMatch(/UNKNOWN - refusing to run: namespace k8s-nrpe-canary holds 1 pod not made by k8s-nrpe \(web-1\)/);
    const busy = await run(base({ busy: { owner: 'mon1/b/42/7', age: 5 }, created: false, cleanup: undefined }));
    expect(busy.first).toMatch(/another run's canary k8s-nrpe-canary\/k8s-nrpe-canary-k8s02 is in progress \(created 5s ago by mon1\/b\/42\/7\)/);
  });

  it('a run that cannot delete its canary says so as UNKNOWN, and a failed stage still outranks it', async () => {
    const r = await run(base({ seconds: { schedule: 0.2, start: 1, ready: 0.5 }, cleanup: { error: 'connection refused' } }));
    expect(r.state).toBe(State.UNKNOWN);
    expect(r.first).toContain('cannot delete the canary k8s-nrpe-canary/k8s-nrpe-canary-k8s02: connection refused');
    const both = await run(base({ stuck: { stage: 'schedule', seconds: 20, cause: 'limit' }, pod: pod(), cleanup: { error: 'connection refused' } }));
    expect(both.state).toBe(State.CRITICAL);
    expect(both.first).toMatch(/no scheduling attempt.*; cannot delete the canary/);
  });

  it('a signal ends the run as UNKNOWN naming the stage', async () => {
    const r = await run(base({ stuck: { stage: 'start', seconds: 4, cause: 'sigterm' }, pod: pod({ spec: { nodeName: 'k8s02' } }), cleanup: 'deleting' }));
    expect(r.state).toBe(State.UNKNOWN);
    expect(r.first).toMatch(/ended by a signal in stage start after 4s/);
  });

  it('a stage critical limit below its default warning lowers the warning with it', async () => {
    const r = await run(base({ seconds: { schedule: 1.5, start: 1, ready: 1, delete: 1 } }), ['--schedule-critical', '1s']);
    expect(r.state).toBe(State.CRITICAL);
    expect(r.o.perfdata.find((p) => p.label === 'schedule_seconds')).toMatchObject({ warn: { text: '1' }, crit: { text: '1' } });
  });
});

describe('canary pod', () => {
  it('one fixed name per node, within 63 characters', () => {
    expect(canaryName()).toBe('k8s-nrpe-canary');
    expect(canaryName('k8s02')).toBe('k8s-nrpe-canary-k8s02');
    const long = canaryName(`${'n'.repeat(60)}.example.com`);
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toBe(canaryName(`${'n'.repeat(60)}.example.com`));
  });

  it('the manifest: no token, no privileges, pinned by hostname label, marked as ours', () => {
    const m = canaryManifest({ name: 'c', namespace: 'ns', hostnameLabel: 'K8s02.example', node: 'k8s02', image: 'registry.k8s.io/pause:3.10', timeoutSeconds: 60, owner: 'h/b/1/2' });
    expect(m.spec.automountServiceAccountToken).toBe(false);
    expect(m.spec.nodeSelector).toEqual({ 'kubernetes.io/hostname': 'K8s02.example' });
    expect(m.spec.containers[0]!.imagePullPolicy).toBe('IfNotPresent');
    expect(m.spec.containers[0]!.securityContext.allowPrivilegeEscalation).toBe(false);
    expect(m.spec.terminationGracePeriodSeconds).toBe(0);
    expect(m.spec.activeDeadlineSeconds).toBeGreaterThan(60);
    expect(isCanary(m as Pod)).toBe(true);
    expect(m.metadata.annotations[OWNER_ANNOTATION]).toBe('h/b/1/2');
    expect(isCanary({ metadata: { labels: { 'app.kubernetes.io/managed-by': 'k8s-nrpe' } } })).toBe(false);
  });

  it('reads the stage a pod waits in', () => {
    expect(waitingIn(progressOf(pod()))).toBe('schedule');
    expect(waitingIn(progressOf(pod({ spec: { nodeName: 'n' } })))).toBe('start');
    expect(waitingIn(progressOf(pod({ spec: { nodeName: 'n' }, status: { phase: 'Running' } })))).toBe('ready');
    expect(waitingIn(progressOf(pod({ status: { conditions: [{ type: 'Ready', status: 'True' }] } })))).toBeUndefined();
  });

  it('a leftover: its run ended (known on its host) or it outlived its -t', () => {
    const p = pod({ metadata: { annotations: { [TIMEOUT_ANNOTATION]: '60' }, creationTimestamp: ago(30) } });
    expect(leftBehind(p, NOW, undefined)).toBeUndefined();
    expect(leftBehind(p, NOW, true)).toBeUndefined();
    expect(leftBehind(p, NOW, false)).toMatch(/has ended/);
    expect(leftBehind({ ...p, metadata: { ...p.metadata, creationTimestamp: ago(121) } }, NOW, undefined)).toMatch(/older than its run's -t/);
  });

  it('this process is alive by its owner string; a gone pid or another boot is not; another host cannot tell', () => {
    const me = thisRunOwner();
    expect(runAlive(me)).toBe(true);
    const [host, boot, , ticks] = me.split('/');
    expect(runAlive(`${host}/${boot}/999999999/${ticks}`)).toBe(false);
    expect(runAlive(`${host}/${boot}/${process.pid}/1`)).toBe(false);
    expect(runAlive(`${host}/other-boot/${process.pid}/${ticks}`)).toBe(false);
    expect(runAlive(`not-this-host.invalid/${boot}/${process.pid}/${ticks}`)).toBeUndefined();
    expect(runAlive('garbage')).toBeUndefined();
  });
});

// Situations the judgement must tell apart (each written for a mistake Stryker made and the tests
// above missed: a boundary, a swapped state, a dropped condition, a text the operator acts on).
describe('canary judgement: stage limits at their edges', () => {
  const evt = (over: KubeEvent): KubeEvent => ({ type: 'Warning', count: 1, involvedObject: { kind: 'Pod', name: 'k8s-nrpe-canary-k8s02', uid: 'u1' }, ...over });
  const perfOf = (o: Awaited<ReturnType<typeof run>>['o'], label: string) => o.perfdata.find((p) => p.label === label)!;

  it('every stage at its warning and the total at -w is OK; a hundredth over each is named with its stage and its flag', async () => {
    const edge = await run(base({ seconds: { schedule: 5, start: 10, ready: 5, delete: 10 } }));
    expect(edge.state).toBe(State.OK);
    expect(edge.first).toMatch(/^K8S CANARY OK - canary k8s-nrpe-canary\/k8s-nrpe-canary-k8s02 started and went in 30s \(schedule 5s, start 10s, ready 5s, delete 10s\) \|/);
    expect(edge.text).not.toMatch(/took|is slow/);
    for (const [stage, value, flag] of [['schedule', 5.01, '--schedule-warning 5'], ['start', 10.01, '--start-warning 10'], ['ready', 5.01, '--ready-warning 5'], ['delete', 10.01, '--delete-warning 10']] as const) {
      const r = await run(base({ seconds: { schedule: 1, start: 1, ready: 1, delete: 1, [stage]: value } }));
      expect(r.state).toBe(State.WARNING);
      expect(r.first).toMatch(new RegExp(`^K8S CANARY WARNING - ${stage} took ${value}s \\(outside ${flag}\\) \\|`));
      expect(r.text).toContain(`next: ${stage} is slow but works: `);
    }
    const over = await run(base({ seconds: { schedule: 5, start: 10, ready: 5, delete: 10.01 } }), ['--delete-warning', '11s']);
    expect(over.state).toBe(State.WARNING);
    expect(over.first).toMatch(/^K8S CANARY WARNING - create to gone took 30\.01s \(outside -w 30\) \|/);
  });

  it('a stage past its critical is CRITICAL, the next step naming the stage\'s words', async () => {
    const r = await run(base({ seconds: { schedule: 0.5, start: 30.5, ready: 0.5, delete: 1 } }));
    expect(r.state).toBe(State.CRITICAL);
    expect(r.first).toMatch(/^K8S CANARY CRITICAL - start took 30\.5s \(outside --start-critical 30\); create to gone took 32\.5s \(outside -w 30\) \|/);
    expect(r.text).toContain('next: start is slow but works: bound -> a container running (the kubelet made the sandbox and started it); compare with other nodes\' canaries');
  });

  it('perfdata: two decimals each, the total from the unrounded times, every metric with min 0, the OK line to a tenth', async () => {
    const r = await run(base({ seconds: { schedule: 1.234, start: 1.234, ready: 1.234, delete: 1.234 }, pod: pod({ spec: { nodeName: 'k8s02' } }) }));
    expect(r.state).toBe(State.OK);
    expect(r.perf).toEqual({ schedule_seconds: 1.23, start_seconds: 1.23, ready_seconds: 1.23, delete_seconds: 1.23, total_seconds: 4.94, leftovers_deleted: 0 });
    expect(r.o.perfdata.map((p) => [p.label, p.min])).toEqual([
      ['schedule_seconds', 0], ['start_seconds', 0], ['ready_seconds', 0], ['delete_seconds', 0], ['total_seconds', 0], ['leftovers_deleted', 0],
    ]);
    expect(r.first).toMatch(/ started and went on k8s02 in 4\.9s \(schedule 1\.2s, start 1\.2s, ready 1\.2s, delete 1\.2s\) \|/);
    expect(r.text).toContain('\ncanary k8s-nrpe-canary/k8s-nrpe-canary-k8s02 on k8s02: schedule 1.2s, start 1.2s, ready 1.2s, delete 1.2s');
    // A stage that did not end: U for it and for the total, min 0 all the same, '-' in the stage list.
    const stuck = await run(base({ seconds: { schedule: 0.3 }, stuck: { stage: 'start', seconds: 30, cause: 'limit' }, pod: pod({ spec: { nodeName: 'k8s02' } }) }));
    expect(stuck.perf).toMatchObject({ schedule_seconds: 0.3, start_seconds: undefined, total_seconds: undefined });
    expect(stuck.o.perfdata.every((p) => p.min === 0)).toBe(true);
    expect(stuck.text).toContain('canary k8s-nrpe-canary/k8s-nrpe-canary-k8s02 on k8s02: schedule 0.3s, start -, ready -, delete -');
    expect(perfOf(stuck.o, 'start_seconds').value).toBeUndefined();
  });

  it('a run out of time is judged by the stage\'s own ranges: at the warning the timeout state, past it WARNING, past the critical CRITICAL', async () => {
    const at = await run(base({ stuck: { stage: 'start', seconds: 10, cause: 'time' }, pod: pod({ spec: { nodeName: 'k8s02' } }), nodeLease }));
    expect(at.state).toBe(State.UNKNOWN);
    expect(at.first).toMatch(/^K8S CANARY UNKNOWN - bound to k8s02 10s ago, its kubelet wrote no status and no events; kubelet heartbeat \(Lease kube-node-lease\/k8s02\) renewed 4s ago \(the run's -t 10s ended first: give -t more than the stage limits\) \|/);
    expect((await run(base({ stuck: { stage: 'start', seconds: 10, cause: 'time' }, pod: pod({ spec: { nodeName: 'k8s02' } }) }), ['--timeout-state', 'warning'])).state).toBe(State.WARNING);
    expect((await run(base({ stuck: { stage: 'start', seconds: 11, cause: 'time' }, pod: pod({ spec: { nodeName: 'k8s02' } }) }))).state).toBe(State.WARNING);
    const past = await run(base({ stuck: { stage: 'start', seconds: 31, cause: 'time' }, pod: pod({ spec: { nodeName: 'k8s02' } }) }), ['-t', '60']);
    expect(past.state).toBe(State.CRITICAL);
    expect(past.first).toContain('(the run\'s -t 60s ended first: give -t more than the stage limits)');
    // At the limit the run stopped by itself: no word about -t.
    expect((await run(base({ stuck: { stage: 'start', seconds: 30, cause: 'limit' }, pod: pod({ spec: { nodeName: 'k8s02' } }) }))).first).not.toContain('-t');
  });

  it('an API error mid-run and a signal are UNKNOWN with their own next step and no evidence lines', async () => {
    const api = await run(base({ stuck: { stage: 'start', seconds: 3, cause: 'api', error: 'etcdserver: request timed out' }, pod: pod({ spec: { nodeName: 'k8s02' } }), nodeLease }));
    expect(api.state).toBe(State.UNKNOWN);
    expect(api.first).toMatch(/^K8S CANARY UNKNOWN - API error in stage start after 3s: etcdserver: request timed out \|/);
    expect(api.second).toBe('What to do: the API server failed mid-run: check it (check_k8s_apiserver); the next run deletes a canary this one left');
    expect(api.text.trimEnd().split('\n').slice(2)).toEqual(['canary k8s-nrpe-canary/k8s-nrpe-canary-k8s02 on k8s02: schedule -, start -, ready -, delete -']);
    const sig = await run(base({ stuck: { stage: 'delete', seconds: 0, cause: 'sigterm' }, seconds: { schedule: 1, start: 1, ready: 1 }, nodeLease, pod: pod({ spec: { nodeName: 'k8s02' } }) }));
    expect(sig.state).toBe(State.UNKNOWN);
    expect(sig.first).toMatch(/^K8S CANARY UNKNOWN - ended by a signal in stage delete after 0s \|/);
    expect(sig.second).toBe('What to do: NRPE\'s command_timeout is shorter than -t: raise command_timeout (or lower -t) so the run ends on its own');
    expect(sig.text.trimEnd().split('\n').slice(2)).toEqual(['canary k8s-nrpe-canary/k8s-nrpe-canary-k8s02 on k8s02: schedule 1s, start 1s, ready 1s, delete -']);
  });

  describe('schedule', () => {
    const unschedulable = (over: Pod['status'] = {}) => pod({ status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 node(s) were unschedulable.', lastTransitionTime: ago(19) }], ...over } });

    it('Unschedulable out of time is the timeout state (not --unschedulable-state), with the evidence and the Lease', async () => {
      const r = await run(base({ stuck: { stage: 'schedule', seconds: 3, cause: 'time' }, schedulerLease, pod: unschedulable() }), ['--unschedulable-state', 'critical']);
      expect(r.state).toBe(State.UNKNOWN);
      expect(r.first).toMatch(/^K8S CANARY UNKNOWN - not scheduled after 3s: Unschedulable: 0\/3 nodes are available: 3 node\(s\) were unschedulable\. \(the run's -t 10s ended first/);
      expect(r.text.split('\n').slice(2, 4)).toEqual([
        `k8s-nrpe-canary/k8s-nrpe-canary-k8s02: PodScheduled=False Unschedulable since ${ago(19)}`,
        'scheduler Lease held by k8s02, renewed 3s ago',
      ]);
    });

    it('Unschedulable without a pinned node, without a transition time: no node named, "since ?"', async () => {
      const p = unschedulable();
      delete p.status!.conditions![0]!.lastTransitionTime;
      const r = await run(base({ node: undefined, stuck: { stage: 'schedule', seconds: 20, cause: 'limit' }, pod: p }));
      expect(r.state).toBe(State.WARNING);
      expect(r.second).toBe('What to do: the scheduler works but found no node: free capacity or fix the node (kubectl describe node); check_k8s_scheduler_stall shows who else waits');
      expect(r.text).toContain('k8s-nrpe-canary/k8s-nrpe-canary-k8s02: PodScheduled=False Unschedulable since ?');
      expect(r.text).toContain('no scheduler Lease (leader election off?)');
      delete p.status!.conditions![0]!.message;
      const bare = await run(base({ stuck: { stage: 'schedule', seconds: 20, cause: 'limit' }, pod: p }));
      expect(bare.first).toMatch(/^K8S CANARY WARNING - not scheduled after 20s: Unschedulable: \|/);
    });

    it('no attempt: the newest FailedScheduling event as evidence (whatever the order), none said as none', async () => {
      const older = evt({ reason: 'FailedScheduling', count: 3, lastTimestamp: ago(15), message: 'old: 0/3 nodes are available' });
      const newer = evt({ reason: 'FailedScheduling', lastTimestamp: ago(2), message: 'new: binding rejected' });
      const normal = evt({ reason: 'Scheduled', type: 'Normal', lastTimestamp: ago(1), message: 'Successfully assigned' });
      for (const events of [[older, newer, normal], [newer, normal, older]]) {
        const r = await run(base({ stuck: { stage: 'schedule', seconds: 20, cause: 'limit' }, schedulerLease, pod: pod(), events }));
        expect(r.state).toBe(State.CRITICAL);
        expect(r.text).toContain('\nk8s-nrpe-canary/k8s-nrpe-canary-k8s02: no PodScheduled condition; FailedScheduling: new: binding rejected\n');
      }
      const x3 = await run(base({ stuck: { stage: 'schedule', seconds: 20, cause: 'limit' }, schedulerLease, pod: pod(), events: [older] }));
      expect(x3.text).toContain('\nk8s-nrpe-canary/k8s-nrpe-canary-k8s02: no PodScheduled condition; FailedScheduling x3: old: 0/3 nodes are available\n');
      const none = await run(base({ stuck: { stage: 'schedule', seconds: 20, cause: 'limit' }, schedulerLease, pod: pod(), events: [normal] }));
      expect(none.text).toContain('\nk8s-nrpe-canary/k8s-nrpe-canary-k8s02: no PodScheduled condition, no FailedScheduling event\n');
      const bare = await run(base({ stuck: { stage: 'schedule', seconds: 20, cause: 'limit' }, schedulerLease, pod: pod(), events: [evt({ reason: 'FailedScheduling', lastTimestamp: ago(2) })] }));
      expect(bare.text).toContain('\nk8s-nrpe-canary/k8s-nrpe-canary-k8s02: no PodScheduled condition; FailedScheduling:\n');
    });

    it('no attempt: what the scheduler Lease says (unreadable, absent, no holder, never renewed, expired, holder node NotReady)', async () => {
      const stuck = { stage: 'schedule' as const, seconds: 20, cause: 'limit' as const };
      const words = async (over: Partial<Data>) => {
        const r = await run(base({ stuck, pod: pod(), ...over }));
        expect(r.state).toBe(State.CRITICAL);
        return { first: r.first.replace(/^K8S CANARY CRITICAL - not scheduled after 20s: no scheduling attempt \(PodScheduled absent\); /, '').replace(/ \|.*$/, ''), second: r.second };
      };
      const unreadable = await words({ evidenceErrors: ['scheduler Lease: leases.coordination.k8s.io "kube-scheduler" is forbidden'] });
      expect(unreadable.first).toBe('scheduler Lease not readable');
      // Who to restart is not known: the next step says where to look, not "the scheduler holds its Lease".
      const everyNode = 'on each control-plane node see whether the scheduler runs (sudo snap services microk8s) and restart it (microk8s: sudo snap restart microk8s.daemon-kubelite)';
      expect(unreadable.second).toBe(`What to do: the scheduler Lease could not be read (see the not-read line): ${everyNode}; check_k8s_scheduler_stall and check_k8s_leases confirm`);
      const absent = await words({ evidenceErrors: ['events: forbidden'] });
      expect(absent.first).toBe('no scheduler Lease (leader election off?)');
      expect(absent.second).toBe(`What to do: no scheduler Lease says which scheduler leads: ${everyNode}; check_k8s_scheduler_stall and check_k8s_leases confirm`);
      const noHolder = await words({ schedulerLease: { metadata: { name: 'kube-scheduler' }, spec: { leaseDurationSeconds: 15, renewTime: micro(3) } } });
      expect(noHolder.first).toBe('scheduler Lease has no holder');
      expect(noHolder.second).toBe(`What to do: no scheduler holds its Lease: ${everyNode}; check_k8s_scheduler_stall and check_k8s_leases confirm`);
      expect((await words({ schedulerLease: { metadata: { name: 'kube-scheduler' }, spec: { holderIdentity: `k8s03_${UUID}`, leaseDurationSeconds: 15 } } })).first).toBe('scheduler Lease held by k8s03, renewed ? ago');
      const lease = (renewed: number, duration?: number): Lease => ({ metadata: { name: 'kube-scheduler' }, spec: { holderIdentity: `k8s03_${UUID}`, leaseDurationSeconds: duration, renewTime: micro(renewed) } });
      const fresh = await words({ schedulerLease: lease(15, 15) });
      expect(fresh.first).toBe('scheduler Lease held by k8s03, renewed 15s ago');
      expect(fresh.second).toBe('What to do: the scheduler on k8s03 holds its Lease but does not work its queue: restart it there (microk8s: sudo snap restart microk8s.daemon-kubelite); check_k8s_scheduler_stall and check_k8s_leases confirm');
      const expired = await words({ schedulerLease: lease(16, 15) });
      expect(expired.first).toBe('scheduler Lease held by k8s03, renewed 16s ago (EXPIRED)');
      expect(expired.second).toBe(`What to do: the scheduler on k8s03 stopped renewing its Lease and no other took it over: ${everyNode}, k8s03 first; check_k8s_scheduler_stall and check_k8s_leases confirm`);
      expect((await words({ schedulerLease: lease(600) })).first).toBe('scheduler Lease held by k8s03, renewed 10m ago');
      const node = (status: string) => ({ metadata: { name: 'k8s03.example' }, status: { conditions: [{ type: 'Ready', status }] } });
      const notReady = await words({ schedulerLease: lease(3, 15), schedulerHolderNode: node('False') });
      expect(notReady.first).toBe('scheduler Lease held by k8s03.example (node NotReady), renewed 3s ago');
      expect(notReady.second).toMatch(/^What to do: the scheduler on k8s03\.example holds its Lease/);
      expect((await words({ schedulerLease: lease(3, 15), schedulerHolderNode: node('True') })).first).toBe('scheduler Lease held by k8s03.example, renewed 3s ago');
    });
  });

  describe('start', () => {
    const bound = (status: Pod['status'] = {}) => pod({ spec: { nodeName: 'k8s02' }, status: { phase: 'Pending', ...status } });
    const stuck = { stage: 'start' as const, seconds: 30, cause: 'limit' as const };
    const sandboxMsg = 'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "3f2a": plugin type="calico" failed (add): stat /var/lib/calico/nodename: no such file or directory';

    it('a sandbox failure that is not "name is reserved": its message, and containerd or the CNI to read', async () => {
      const sandbox = evt({ reason: 'FailedCreatePodSandBox', lastTimestamp: ago(5), message: sandboxMsg });
      const later = evt({ reason: 'FailedMount', lastTimestamp: ago(1), message: 'MountVolume.SetUp failed' });
      const r = await run(base({ stuck, nodeLease, events: [sandbox, later], pod: bound({ containerStatuses: [{ name: 'canary', state: { waiting: { reason: 'ContainerCreating' } } }] }) }));
      expect(r.state).toBe(State.CRITICAL);
      expect(r.first).toMatch(/^K8S CANARY CRITICAL - bound to k8s02 30s ago, no sandbox: FailedCreatePodSandBox: Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "3f2a": plugin type="calico" failed \(add\): stat \.\.\. \|/);
      expect(r.second).toBe('What to do: containerd or the CNI on k8s02 cannot make sandboxes: read its journal (microk8s: journalctl -u snap.microk8s.daemon-containerd) and check_k8s_sandbox_changed --node k8s02');
      expect(r.text.split('\n').slice(2, 4)).toEqual([`FailedCreatePodSandBox: ${sandboxMsg}`, 'kubelet heartbeat (Lease kube-node-lease/k8s02) renewed 4s ago']);
    });

    it('a Normal event named FailedCreatePodSandBox is no failure; the newest of two sandbox failures is the one said', async () => {
      const normal = evt({ reason: 'FailedCreatePodSandBox', type: 'Normal', lastTimestamp: ago(1), message: 'name "x" is reserved' });
      const r = await run(base({ stuck, nodeLease, events: [normal], pod: bound() }));
      expect(r.first).toMatch(/its kubelet wrote no status and no events/);
      const old = evt({ reason: 'FailedCreatePodSandBox', lastTimestamp: ago(20), message: 'name "x" is reserved for "abc"' });
      const recent = evt({ reason: 'FailedCreatePodSandBox', lastTimestamp: ago(2), message: sandboxMsg });
      for (const events of [[old, recent], [recent, old]]) {
        const two = await run(base({ stuck, nodeLease, events, pod: bound() }));
        expect(two.first).toMatch(/no sandbox: FailedCreatePodSandBox: Failed to create pod sandbox: .*failed to setup network/);
        expect(two.second).toMatch(/^What to do: containerd or the CNI on k8s02 cannot make sandboxes/);
      }
    });

    it('an image that cannot be pulled: the waiting reason and message, and --image to fix', async () => {
      const r = await run(base({ stuck, nodeLease, pod: bound({ containerStatuses: [{ name: 'canary', state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "registry.k8s.io/pause:3.10"' } } }] }) }), ['--image', 'registry.local/pause:3.10']);
      expect(r.state).toBe(State.CRITICAL);
      expect(r.first).toMatch(/^K8S CANARY CRITICAL - bound to k8s02 30s ago, container not started: ImagePullBackOff: Back-off pulling image "registry\.k8s\.io\/pause:3\.10" \|/);
      expect(r.second).toBe('What to do: the image registry.local/pause:3.10 is not on k8s02 and cannot be pulled: give --image the sandbox image the nodes already have (or a mirror reachable from them)');
      expect(r.text.split('\n')[2]).toBe('kubelet heartbeat (Lease kube-node-lease/k8s02) renewed 4s ago');
      const first = await run(base({ stuck, pod: bound({ containerStatuses: [{ name: 'canary', state: { running: {} } }, { name: 'canary', state: { waiting: { reason: 'ErrImagePull' } } }] }) }));
      expect(first.first).toMatch(/container not started: ErrImagePull: \|/);
    });

    it('a kubelet that wrote something (a container status, Initialized, a start time, or a Warning event) is not "wrote nothing"', async () => {
      const next = 'What to do: on k8s02 look at the kubelet and containerd (kubectl -n k8s-nrpe-canary describe pod k8s-nrpe-canary-k8s02 while a run waits; check_k8s_kubelet_stall --node k8s02)';
      const waiting = await run(base({ stuck, nodeLease, pod: bound({ containerStatuses: [{ name: 'canary', state: { waiting: { reason: 'ContainerCreating' } } }] }) }));
      expect(waiting.state).toBe(State.CRITICAL);
      expect(waiting.first).toMatch(/^K8S CANARY CRITICAL - bound to k8s02 30s ago, container not started \(ContainerCreating\) \|/);
      expect(waiting.second).toBe(next);
      expect(waiting.text.split('\n')[2]).toBe('kubelet heartbeat (Lease kube-node-lease/k8s02) renewed 4s ago');
      const initialized = await run(base({ stuck, pod: bound({ conditions: [{ type: 'Initialized', status: 'True' }] }) }));
      expect(initialized.first).toMatch(/^K8S CANARY CRITICAL - bound to k8s02 30s ago, container not started \|/);
      const started = await run(base({ stuck, pod: bound({ startTime: ago(29) }) }));
      expect(started.first).toMatch(/^K8S CANARY CRITICAL - bound to k8s02 30s ago, container not started \|/);
      expect(started.second).toBe(next);
      const warned = await run(base({ stuck, pod: bound(), events: [evt({ reason: 'FailedMount', count: 2, lastTimestamp: ago(3), message: 'MountVolume.SetUp failed for volume "kube-api-access"' })] }));
      expect(warned.first).toMatch(/^K8S CANARY CRITICAL - bound to k8s02 30s ago, container not started: FailedMount x2: MountVolume\.SetUp failed for volume "kube-api-access" \|/);
      const silent = await run(base({ stuck, pod: bound({ phase: undefined }) }));
      expect(silent.first).toMatch(/^K8S CANARY CRITICAL - bound to k8s02 30s ago, its kubelet wrote no status and no events; node k8s02: no heartbeat Lease read \|/);
      expect(silent.second).toBe('What to do: the kubelet on k8s02 is not working its pods or cannot write to the API: check_k8s_kubelet_stall --node k8s02, then the datastore (check_k8s_dqlite)');
      expect(silent.text.split('\n')[2]).toBe('k8s-nrpe-canary/k8s-nrpe-canary-k8s02: phase none, no container status, no Warning event');
    });

    it('the kubelet heartbeat: expired a second past its duration, never renewed', async () => {
      const lease = (spec: Lease['spec']): Lease => ({ metadata: { name: 'k8s02' }, spec });
      const words = async (l: Lease) => (await run(base({ stuck, nodeLease: l, pod: bound() }))).first.replace(/^.*; kubelet heartbeat/, 'kubelet heartbeat').replace(/ \|.*$/, '');
      expect(await words(lease({ leaseDurationSeconds: 40, renewTime: micro(40) }))).toBe('kubelet heartbeat (Lease kube-node-lease/k8s02) renewed 40s ago');
      expect(await words(lease({ leaseDurationSeconds: 40, renewTime: micro(41) }))).toBe('kubelet heartbeat (Lease kube-node-lease/k8s02) renewed 41s ago, EXPIRED');
      expect(await words(lease({ leaseDurationSeconds: 40 }))).toBe('kubelet heartbeat (Lease kube-node-lease/k8s02) renewed never, EXPIRED');
    });

    it('"name is reserved" said once: x1 is not written', async () => {
      const r = await run(base({ stuck, events: [evt({ reason: 'FailedCreatePodSandBox', lastTimestamp: ago(1), message: 'failed to reserve sandbox name "a": name "a" is reserved for "b"' })], pod: bound() }));
      expect(r.first).toMatch(/^K8S CANARY CRITICAL - bound to k8s02 30s ago, no sandbox: FailedCreatePodSandBox: name is reserved \|/);
      expect(r.second).toBe('What to do: containerd on k8s02 holds a stale sandbox name ("name is reserved"): restart containerd there (microk8s: sudo snap restart microk8s.daemon-containerd); check_k8s_sandbox_changed --node k8s02 shows the pods it blocks');
      // An event without a message: not "reserved", nothing made up.
      const bare = await run(base({ stuck, events: [evt({ reason: 'FailedCreatePodSandBox', lastTimestamp: ago(1) })], pod: bound() }));
      expect(bare.first).toMatch(/^K8S CANARY CRITICAL - bound to k8s02 30s ago, no sandbox: FailedCreatePodSandBox: \|/);
      expect(bare.second).toMatch(/^What to do: containerd or the CNI on k8s02 cannot make sandboxes/);
    });
  });

  it('ready: the newest Warning event as evidence, none without one', async () => {
    const running = pod({ spec: { nodeName: 'k8s02' }, status: { phase: 'Running', containerStatuses: [{ name: 'canary', state: { running: {} } }] } });
    const stuck = { stage: 'ready' as const, seconds: 20, cause: 'limit' as const };
    const r = await run(base({ stuck, nodeLease, pod: running, events: [
      evt({ reason: 'Unhealthy', lastTimestamp: ago(2), message: 'newest' }), evt({ reason: 'Pulled', type: 'Normal', lastTimestamp: ago(1), message: 'normal' }), evt({ reason: 'BackOff', lastTimestamp: ago(9), message: 'older' }),
    ] }));
    expect(r.state).toBe(State.CRITICAL);
    expect(r.first).toMatch(/^K8S CANARY CRITICAL - Running on k8s02 but Ready not written for 20s; kubelet heartbeat \(Lease kube-node-lease\/k8s02\) renewed 4s ago \|/);
    expect(r.second).toBe('What to do: the kubelet on k8s02 runs the container but its status does not reach the API: check the datastore (check_k8s_dqlite: "context canceled") and check_k8s_kubelet_stall --node k8s02');
    expect(r.text.split('\n')[2]).toBe('Unhealthy: newest');
    const none = await run(base({ stuck, nodeLease, pod: running }));
    // No evidence line: the cleanup (looked at once, gone), then the stages.
    expect(none.text.split('\n')[2]).toBe('canary k8s-nrpe-canary/k8s-nrpe-canary-k8s02 deleted and gone');
    expect(none.text.split('\n')[3]).toMatch(/^canary k8s-nrpe-canary\/k8s-nrpe-canary-k8s02 on k8s02: /);
  });

  it('delete: without finalizers or a node, said plainly; the next step and the heartbeat line', async () => {
    const r = await run(base({ seconds: { schedule: 0.2, start: 1, ready: 0.5 }, stuck: { stage: 'delete', seconds: 30, cause: 'limit' }, cleanup: 'deleting', pod: pod() }));
    expect(r.state).toBe(State.CRITICAL);
    expect(r.first).toMatch(/^K8S CANARY CRITICAL - deleted, still present after 30s on no node \(kubelet or datastore\) \|/);
    expect(r.second).toBe('What to do: the kubelet on ? has not confirmed the delete: check_k8s_kubelet_stall --node ? and check_k8s_stuck_terminating; the next run reports this canary until it goes');
    expect(r.text.trimEnd().split('\n').slice(2)).toEqual([
      'node ?: no heartbeat Lease read',
      'canary k8s-nrpe-canary/k8s-nrpe-canary-k8s02 deleted; the API still had it when this run ended (the next run waits for it)',
      'canary k8s-nrpe-canary/k8s-nrpe-canary-k8s02: schedule 0.2s, start 1s, ready 0.5s, delete -',
    ]);
    const onNode = await run(base({ seconds: { schedule: 0.2, start: 1, ready: 0.5 }, stuck: { stage: 'delete', seconds: 30, cause: 'limit' }, cleanup: 'deleting', nodeLease, pod: pod({ spec: { nodeName: 'k8s02' } }) }));
    const held = await run(base({ stuck: { stage: 'delete', seconds: 30, cause: 'limit' }, pod: pod({ metadata: { finalizers: ['example.com/hold', 'example.com/backup'] }, spec: { nodeName: 'k8s02' } }) }));
    expect(held.first).toMatch(/ on k8s02 \(kubelet or datastore\); finalizers example\.com\/hold,example\.com\/backup \|/);
    expect(onNode.second).toBe('What to do: the kubelet on k8s02 has not confirmed the delete: check_k8s_kubelet_stall --node k8s02 and check_k8s_stuck_terminating; the next run reports this canary until it goes');
  });
});

describe('canary judgement: before and after the run', () => {
  it('four foreign pods: three named, the next step naming the namespace; no canary, U perfdata', async () => {
    const r = await run(base({ foreign: ['web-1', 'web-2', 'db-0', 'cache-0'], created: false, cleanup: undefined }));
    expect(r.state).toBe(State.UNKNOWN);
    expect(r.first).toMatch(/^K8S CANARY UNKNOWN - refusing to run: namespace k8s-nrpe-canary holds 4 pods not made by k8s-nrpe \(web-1, web-2, db-0\) \|/);
    expect(r.text).toContain('\n[UNKNOWN] next: give the canary a namespace of its own (deploy/rbac-canary.yaml makes k8s-nrpe-canary; --namespace) or move those pods out');
    expect(r.text).not.toMatch(/no canary was created|^canary /m);
    expect(r.perf).toMatchObject({ schedule_seconds: undefined, total_seconds: undefined, leftovers_deleted: 0 });
  });

  it('another run in progress: with its age only, or known only from the API refusing a second (409)', async () => {
    const aged = await run(base({ busy: { age: 5 }, created: false, cleanup: undefined }));
    expect(aged.state).toBe(State.UNKNOWN);
    expect(aged.first).toMatch(/^K8S CANARY UNKNOWN - another run's canary k8s-nrpe-canary\/k8s-nrpe-canary-k8s02 is in progress \(created 5s ago\) \|/);
    expect(aged.text).toContain('\n[UNKNOWN] next: runs overlap: make the check interval longer than -t, and run one canary per node');
    expect(aged.text).not.toMatch(/no canary was created/);
    // Its owner without an age (a pod always has a creation time, but the text must still close).
    const owned = await run(base({ busy: { owner: 'mon1/b/42/7' }, created: false, cleanup: undefined }));
    expect(owned.first).toMatch(/^K8S CANARY UNKNOWN - another run's canary k8s-nrpe-canary\/k8s-nrpe-canary-k8s02 is in progress \(by mon1\/b\/42\/7\) \|/);
    const refused = await run(base({ busy: {}, created: false, cleanup: undefined }));
    expect(refused.first).toMatch(/^K8S CANARY UNKNOWN - another run's canary k8s-nrpe-canary\/k8s-nrpe-canary-k8s02 is in progress \|/);
  });

  it('a previous canary still present after its delete: CRITICAL, the kubelet to check, no "no canary was created"', async () => {
    const blocked = pod({ metadata: { deletionTimestamp: ago(150) }, spec: { nodeName: 'k8s03' } });
    const r = await run(base({ blocked, created: false, cleanup: undefined }));
    expect(r.state).toBe(State.CRITICAL);
    expect(r.first).toMatch(/^K8S CANARY CRITICAL - a previous canary k8s-nrpe-canary\/k8s-nrpe-canary-k8s02 is still present 2m30s after its delete on k8s03 \(kubelet or datastore\) \|/);
    expect(r.second).toBe('What to do: the kubelet on k8s03 has not confirmed the delete: check_k8s_kubelet_stall and check_k8s_stuck_terminating; this check waits for it');
    expect(r.text).not.toMatch(/no canary was created/);
    const bare = await run(base({ blocked: pod(), created: false, cleanup: undefined }));
    expect(bare.first).toMatch(/^K8S CANARY CRITICAL - a previous canary k8s-nrpe-canary\/k8s-nrpe-canary-k8s02 is still present on no node \(kubelet or datastore\) \|/);
    expect(bare.second).toMatch(/^What to do: the kubelet on \? has not confirmed the delete/);
  });

  it('leftovers: deleted ones counted and said, gone ones not counted, one that cannot be deleted is UNKNOWN (and stands for "no canary")', async () => {
    const r = await run(base({
      seconds: { schedule: 1, start: 1, ready: 1, delete: 1 },
      leftovers: [{ name: 'k8s-nrpe-canary-k8s03', why: 'its run on mon1 has ended', result: 'deleted' }, { name: 'k8s-nrpe-canary-k8s04', why: 'older than its run\'s -t', result: 'gone' }, { name: 'k8s-nrpe-canary-k8s05', why: 'ended', result: 'deleted' }],
    }));
    expect(r.state).toBe(State.OK);
    expect(r.perf.leftovers_deleted).toBe(2);
    expect(r.text).toContain('\ndeleted the leftover canary k8s-nrpe-canary/k8s-nrpe-canary-k8s03: its run on mon1 has ended\n');
    expect(r.text).toContain('\ndeleted the leftover canary k8s-nrpe-canary/k8s-nrpe-canary-k8s04: older than its run\'s -t\n');
    const kept = await run(base({ created: false, cleanup: undefined, leftovers: [{ name: 'k8s-nrpe-canary-k8s03', why: 'ended', result: { error: 'forbidden' } }] }));
    expect(kept.state).toBe(State.UNKNOWN);
    expect(kept.first).toMatch(/^K8S CANARY UNKNOWN - cannot delete the leftover canary k8s-nrpe-canary\/k8s-nrpe-canary-k8s03: forbidden \|/);
    expect(kept.perf.leftovers_deleted).toBe(0);
    const nothing = await run(base({ created: false, cleanup: undefined }));
    expect(nothing.state).toBe(State.UNKNOWN);
    expect(nothing.first).toMatch(/^K8S CANARY UNKNOWN - no canary was created \|/);
    expect(nothing.text).not.toMatch(/^canary /m);
    // Leftovers deleted do not explain a run that created nothing.
    const cleaned = await run(base({ created: false, cleanup: undefined, leftovers: [{ name: 'k8s-nrpe-canary-k8s03', why: 'ended', result: 'deleted' }] }));
    expect(cleaned.state).toBe(State.UNKNOWN);
    expect(cleaned.first).toMatch(/^K8S CANARY UNKNOWN - no canary was created \|/);
  });

  it('a stuck stage without a created canary is not "no canary was created"', async () => {
    const r = await run(base({ created: false, cleanup: undefined, stuck: { stage: 'schedule', seconds: 0, cause: 'api', error: 'forbidden' } }));
    expect(r.first).toMatch(/^K8S CANARY UNKNOWN - API error in stage schedule after 0s: forbidden \|/);
  });

  it('the cleanup: an error says how to delete by hand; "deleting" is said only after a failed stage', async () => {
    const r = await run(base({ seconds: { schedule: 0.2, start: 1, ready: 0.5 }, cleanup: { error: 'connection refused' } }));
    expect(r.text).toContain('\n[UNKNOWN] the next run deletes it; now: kubectl -n k8s-nrpe-canary delete pod k8s-nrpe-canary-k8s02\n');
    const deleting = await run(base({ seconds: { schedule: 0.2, start: 1, ready: 0.5, delete: 1 }, cleanup: 'deleting' }));
    expect(deleting.state).toBe(State.OK);
    expect(deleting.text).not.toMatch(/still had it/);
  });

  it('evidence that could not be read is said, not judged', async () => {
    const r = await run(base({ seconds: { schedule: 1, start: 1, ready: 1, delete: 1 }, evidenceErrors: ['node Lease k8s02: forbidden'] }));
    expect(r.state).toBe(State.OK);
    expect(r.text).toContain('\nnot read: node Lease k8s02: forbidden\n');
  });

  it('--image takes a reference and nothing around it', async () => {
    await expect(checkOptions(check, ['--image', 'registry.local:5000/pause@sha256:abc'])).resolves.toMatchObject({ image: 'registry.local:5000/pause@sha256:abc' });
    await expect(checkOptions(check, ['--image', '/pause:3.10'])).rejects.toThrow(/not an image reference/);
    await expect(checkOptions(check, ['--image', 'pause:3.10 --privileged'])).rejects.toThrow(/not an image reference/);
  });
});
