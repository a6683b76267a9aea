import { describe, expect, it } from 'vitest';
import type { Deployment, Node, Pod } from '../../lib/kube/types.js';
import { daemonPlacement, excludedByName, ignoredByAnnotation, judgeDaemonSet, judgeDeployment, judgeStatefulSet } from '../../lib/kube/workloads.js';
import { outcomeState } from '../../lib/plugin/result.js';
import { State } from '../../lib/plugin/state.js';
import { checkOptions, clock } from './support.js';
// Imported once at the top: the check's declaration then loads with the file (static for Stryker), not inside a test.
import check from '../../checks/workloads.js';

const { NOW, ago } = clock('2026-06-05T06:30:00Z');
const base = { now: NOW, rolloutWindow: 900 };

const cond = (type: string, status: string, reason: string, message: string, updated: number, transitioned = updated) =>
  ({ type, status, reason, message, lastUpdateTime: ago(updated), lastTransitionTime: ago(transitioned) });

function deployment(spec: Partial<NonNullable<Deployment['spec']>>, status: NonNullable<Deployment['status']>, meta: Partial<NonNullable<Deployment['metadata']>> = {}): Deployment {
  return { metadata: { name: 'web', namespace: 'apps', generation: 1, creationTimestamp: ago(86400 * 30), ...meta }, spec: { replicas: 3, ...spec }, status: { observedGeneration: 1, ...status } };
}

describe('judgeDeployment', () => {
  it('is fine with every replica available after a finished rollout', () => {
    const v = judgeDeployment(deployment({}, {
      replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3,
      conditions: [cond('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.', 3600), cond('Progressing', 'True', 'NewReplicaSetAvailable', 'ReplicaSet "web-6d8f7b9c4d" has successfully progressed.', 3600)],
    }), base);
    expect(v).toMatchObject({ kind: 'Deployment', id: 'apps/web', health: 'ok', why: [], desired: 3, ready: 3 });
  });

  it('is down with replicas wanted and none ready (the real API omits zero counts)', () => {
    const v = judgeDeployment(deployment({ replicas: 1 }, {
      replicas: 1, updatedReplicas: 1, unavailableReplicas: 1,
      conditions: [cond('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.', 3600)],
    }), base);
    expect(v.health).toBe('down');
    expect(v.why).toEqual(['no ready replica (0/1 replicas ready, 0 available)', 'Available=False MinimumReplicasUnavailable: Deployment does not have minimum availability.']);
  });

  it('is degraded with fewer available than desired and no rollout under way', () => {
    const v = judgeDeployment(deployment({}, { replicas: 3, updatedReplicas: 3, readyReplicas: 2, availableReplicas: 2, unavailableReplicas: 1 }), base);
    expect(v.health).toBe('degraded');
    expect(v.why).toEqual(['2/3 replicas ready, 2 available']);
  });

  it('gives a rollout that progressed within the window time, and judges it once it stops progressing', () => {
    const rolling = (lastProgress: number) => deployment({}, {
      replicas: 4, updatedReplicas: 1, readyReplicas: 2, availableReplicas: 2,
      conditions: [cond('Progressing', 'True', 'ReplicaSetUpdated', 'ReplicaSet "web-7f9c5d6b8" is progressing.', lastProgress, 86400)],
    });
    const young = judgeDeployment(rolling(40), base);
    expect(young.health).toBe('ok');
    expect(young.notes).toEqual(['rolling out: 1/3 updated, last progress 40s ago', '2/3 replicas ready, 2 available: rolling out']);
    const stalled = judgeDeployment(rolling(1200), base);
    expect(stalled.health).toBe('degraded');
    expect(stalled.why).toEqual(['2/3 replicas ready, 2 available', 'rollout made no progress for 20m: 1/3 updated, 4 replicas']);
  });

  it('names ProgressDeadlineExceeded with the controller message, whatever the window', () => {
    const v = judgeDeployment(deployment({}, {
      replicas: 4, updatedReplicas: 1, readyReplicas: 3, availableReplicas: 3,
      conditions: [cond('Progressing', 'False', 'ProgressDeadlineExceeded', 'ReplicaSet "web-7f9c5d6b8" has timed out progressing.', 60)],
    }), base);
    expect(v.health).toBe('degraded');
    expect(v.why).toContain('rollout stuck: ProgressDeadlineExceeded (ReplicaSet "web-7f9c5d6b8" has timed out progressing.), 1/3 updated');
  });

  it('says when the controller has not seen the latest generation', () => {
    const v = judgeDeployment(deployment({}, { replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 }, { generation: 5 }), base);
    expect(v.health).toBe('degraded');
    expect(v.why).toEqual(['controller has not observed generation 5 (status is for 1): kube-controller-manager behind or down']);
  });

  it('does not judge a Deployment scaled to zero, nor a new one within the window', () => {
    expect(judgeDeployment(deployment({ replicas: 0 }, {}), base)).toMatchObject({ health: 'ok', notes: ['scaled to 0'] });
    const fresh = judgeDeployment(deployment({ replicas: 2 }, { replicas: 2, updatedReplicas: 2 }, { creationTimestamp: ago(30) }), base);
    expect(fresh).toMatchObject({ health: 'ok', notes: ['0/2 replicas ready, 0 available: created 30s ago'] });
  });
});

describe('judgeStatefulSet', () => {
  const sts = (status: NonNullable<Deployment['status']>, partition?: number, type?: string) =>
    deployment({ replicas: 3, updateStrategy: { type: type ?? 'RollingUpdate', ...(partition !== undefined && { rollingUpdate: { partition } }) } }, status, { name: 'pvc-05e03b60-jiva-rep', namespace: 'openebs' });

  it('is degraded with 2 of 3 replicas ready (the incident\'s Jiva replicas)', () => {
    const v = judgeStatefulSet(sts({ replicas: 3, readyReplicas: 2, availableReplicas: 2, updatedReplicas: 3, currentRevision: 'r1', updateRevision: 'r1' }), base);
    expect(v).toMatchObject({ kind: 'StatefulSet', id: 'openebs/pvc-05e03b60-jiva-rep', health: 'degraded', why: ['2/3 replicas ready, 2 available'] });
  });

  it('takes ready as available before availableReplicas existed', () => {
    expect(judgeStatefulSet(sts({ replicas: 3, readyReplicas: 3, currentRevision: 'r1', updateRevision: 'r1' }), base).health).toBe('ok');
  });

  it('times a rollout from its update revision', () => {
    const status = { replicas: 3, readyReplicas: 2, availableReplicas: 2, updatedReplicas: 1, currentRevision: 'r1', updateRevision: 'r2' };
    expect(judgeStatefulSet(sts(status), { ...base, revisionCreated: NOW - 120_000 })).toMatchObject({ health: 'ok', notes: ['rolling out for 2m: 1/3 updated', '2/3 replicas ready, 2 available: rolling out'] });
    const late = judgeStatefulSet(sts(status), { ...base, revisionCreated: NOW - 3_600_000 });
    expect(late.health).toBe('degraded');
    expect(late.why).toEqual(['2/3 replicas ready, 2 available', 'rollout not done after 1h: 1/3 updated']);
    const unknown = judgeStatefulSet(sts(status), base);
    expect(unknown.notes).toContain('rolling out (1/3 updated); when it began is not known');
  });

  it('counts a partitioned rollout done at replicas - partition, and leaves OnDelete to the operator', () => {
    const status = { replicas: 3, readyReplicas: 3, availableReplicas: 3, updatedReplicas: 1, currentRevision: 'r1', updateRevision: 'r2' };
    expect(judgeStatefulSet(sts(status, 2), { ...base, revisionCreated: NOW - 3_600_000 }).health).toBe('ok');
    const onDelete = judgeStatefulSet(sts(status, undefined, 'OnDelete'), { ...base, revisionCreated: NOW - 3_600_000 });
    expect(onDelete).toMatchObject({ health: 'ok', notes: ['1/3 pods on the new revision (updateStrategy OnDelete: pods change when deleted)'] });
  });
});

describe('judgeDaemonSet and daemonPlacement', () => {
  const ds = (status: NonNullable<Deployment['status']>, tolerations?: { key?: string; operator?: string; effect?: string }[]): Deployment => ({
    metadata: { name: 'openebs-jiva-csi-node', namespace: 'openebs', uid: 'ds-uid', generation: 1, creationTimestamp: ago(86400 * 30) },
    spec: { selector: { matchLabels: { app: 'csi' } }, updateStrategy: { type: 'RollingUpdate' }, template: { spec: { nodeSelector: { 'kubernetes.io/os': 'linux' }, tolerations } } },
    status: { observedGeneration: 1, ...status },
  });
  const node = (name: string, labels: Record<string, string> = { 'kubernetes.io/os': 'linux' }, taints?: { key: string; effect: string }[]): Node =>
    ({ metadata: { name, labels }, spec: { taints } });
  const pod = (nodeName: string, ready: boolean, waiting?: string): Pod => ({
    metadata: { name: `csi-${nodeName}`, namespace: 'openebs' },
    spec: { nodeName },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }], containerStatuses: [{ name: 'jiva-csi-plugin', ready, state: waiting ? { waiting: { reason: waiting } } : { running: {} } }] },
  });
  const nodes = [node('k8s01'), node('k8s02'), node('k8s03')];

  it('names the node whose pod is not available', () => {
    const d = ds({ desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, numberAvailable: 2, numberUnavailable: 1, updatedNumberScheduled: 3 });
    const placement = daemonPlacement(d, [pod('k8s01', true), pod('k8s02', false, 'CrashLoopBackOff'), pod('k8s03', true)], nodes);
    expect(placement).toEqual({ missingOn: [], notReadyOn: [{ node: 'k8s02', why: 'CrashLoopBackOff' }] });
    const v = judgeDaemonSet(d, { ...base, placement });
    expect(v).toMatchObject({ health: 'degraded', why: ['2/3 pods ready, 2 available', 'not available on k8s02 (CrashLoopBackOff)'] });
  });

  it('names nodes that should run a pod and have none, by nodeSelector and tolerated taints', () => {
    const d = ds({ desiredNumberScheduled: 2, currentNumberScheduled: 1, numberReady: 1, numberAvailable: 1, updatedNumberScheduled: 1 });
    const all = [...nodes, node('win01', { 'kubernetes.io/os': 'windows' }), node('gpu01', { 'kubernetes.io/os': 'linux' }, [{ key: 'nvidia.com/gpu', effect: 'NoSchedule' }]),
      node('k8s04', { 'kubernetes.io/os': 'linux' }, [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }])];
    const placement = daemonPlacement(d, [pod('k8s01', true), pod('k8s03', true)], all);
    // win01: nodeSelector; gpu01: a taint it does not tolerate; k8s04: cordoned, which DaemonSets tolerate.
    expect(placement.missingOn).toEqual(['k8s02', 'k8s04']);
    const withGpu = daemonPlacement(ds({}, [{ key: 'nvidia.com/gpu', operator: 'Exists' }]), [], all);
    expect(withGpu.missingOn).toContain('gpu01');
    const v = judgeDaemonSet(d, { ...base, revisionCreated: NOW - 86400_000, placement: { missingOn: ['k8s02'], notReadyOn: [] } });
    expect(v.why).toContain('no pod on 1 of 2 nodes that should run one: k8s02');
    // Counts that do not add up to the names found: no names, never wrong ones.
    const unsure = judgeDaemonSet(d, { ...base, revisionCreated: NOW - 86400_000, placement: { missingOn: ['k8s02', 'k8s04'], notReadyOn: [] } });
    expect(unsure.why).toContain('no pod on 1 of 2 nodes that should run one');
  });

  it('is down with no pod ready anywhere, and says so for misscheduled pods', () => {
    expect(judgeDaemonSet(ds({ desiredNumberScheduled: 3, currentNumberScheduled: 3, updatedNumberScheduled: 3, numberUnavailable: 3 }), base).health).toBe('down');
    const v = judgeDaemonSet(ds({ desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 3, numberAvailable: 3, updatedNumberScheduled: 3, numberMisscheduled: 1 }), base);
    expect(v).toMatchObject({ health: 'degraded', why: ['1 pod on nodes that should not run it (numberMisscheduled)'] });
  });

  it('does not judge a DaemonSet no node should run', () => {
    expect(judgeDaemonSet(ds({ desiredNumberScheduled: 0 }), base)).toMatchObject({ health: 'ok', notes: ['no node selected to run it (desiredNumberScheduled 0)'] });
  });
});

describe('exclusions', () => {
  it('matches NS/NAME globs, a bare NAME in any namespace, and nothing else', () => {
    expect(excludedByName('dev-1', 'web', ['dev-*/*'])).toBe('dev-*/*');
    expect(excludedByName('kube-system', 'hostpath-provisioner', ['hostpath-*'])).toBe('hostpath-*');
    expect(excludedByName('apps', 'web', ['app/*', 'we'])).toBeUndefined();
    expect(excludedByName('a.b', 'x', ['a?b/x'])).toBe('a?b/x');
    expect(excludedByName('axb', 'x', ['a.b/x'])).toBeUndefined();
  });

  it('honours k8s-nrpe/ignore: "true" only', () => {
    expect(ignoredByAnnotation({ metadata: { annotations: { 'k8s-nrpe/ignore': 'true' } } })).toBe(true);
    expect(ignoredByAnnotation({ metadata: { annotations: { 'k8s-nrpe/ignore': 'false' } } })).toBe(false);
    expect(ignoredByAnnotation({ metadata: {} })).toBe(false);
  });
});

describe('check_k8s_workloads evaluate', () => {
  it('counts down ones under --critical-down, the rest under -w/-c, and lists the worst first', async () => {
    const down = deployment({ replicas: 1 }, { replicas: 1, updatedReplicas: 1, unavailableReplicas: 1 }, { name: 'ctrl', namespace: 'openebs' });
    const degraded = deployment({}, { replicas: 3, updatedReplicas: 3, readyReplicas: 1, availableReplicas: 1 }, { name: 'web' });
    const fine = deployment({}, { replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 }, { name: 'api' });
    const ignored = deployment({ replicas: 1 }, { replicas: 1 }, { name: 'scratch', annotations: { 'k8s-nrpe/ignore': 'true' } });
    const data = { deployments: [fine, degraded, down, ignored], statefulsets: [], daemonsets: [], revisionCreated: {}, placement: {}, notes: [] };

    const o = check.evaluate(data, await checkOptions(check), NOW);
    expect(o.summary).toBe('1 workload with no ready replica: openebs/ctrl; 1 workload degraded: apps/web');
    expect(o.actions?.[0]).toEqual({ state: 2, text: expect.stringMatching(/^see why Deployment openebs\/ctrl has 0\/1 ready: kubectl describe -n openebs deployment\/ctrl /) });
    expect(o.perfdata.map((p) => [p.label, p.value])).toEqual([['unhealthy_workloads', 2], ['down_workloads', 1], ['workloads', 3], ['excluded_workloads', 1]]);
    expect(o.findings.filter((f) => f.state !== undefined).map((f) => f.text)).toEqual([
      '1 workload with replicas wanted and none ready (outside --critical-down 0)',
      '2 of 3 workloads unhealthy (outside -w 0)',
      'Deployment openebs/ctrl: no ready replica (0/1 replicas ready, 0 available)',
      'Deployment apps/web: 1/3 replicas ready, 1 available',
    ]);

    // Down is CRITICAL by itself; a looser -w leaves the degraded one as a plain line.
    const loose = check.evaluate(data, await checkOptions(check, ['-w', '5']), NOW);
    expect(loose.summary).toBe('1 workload with no ready replica: openebs/ctrl');
    expect(loose.findings.find((f) => f.text.startsWith('Deployment apps/web'))!.state).toBeUndefined();
    // With --critical-down out of the way, -w names both.
    const relaxed = check.evaluate(data, await checkOptions(check, ['--critical-down', '5']), NOW);
    expect(relaxed.summary).toBe('2 workloads unhealthy: openebs/ctrl, apps/web');
  });

  it('says what it judged when all is well', async () => {
    const fine = deployment({}, { replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 });
    const o = check.evaluate({ deployments: [fine], statefulsets: [], daemonsets: [], revisionCreated: {}, placement: {}, notes: [] }, await checkOptions(check, ['--namespace', 'apps']), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    expect(o.summary).toBe('1/1 workloads healthy in apps (1 Deployment, 0 StatefulSets, 0 DaemonSets)');
    const none = check.evaluate({ deployments: [], statefulsets: [], daemonsets: [], revisionCreated: {}, placement: {}, notes: [] }, await checkOptions(check, ['--selector', 'app=x']), NOW);
    expect(outcomeState(none)).toBe(State.OK);
    expect(none.summary).toBe('no workloads matching app=x');
  });
});
