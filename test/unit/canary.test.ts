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
