import { describe, expect, it } from 'vitest';
import type { Deployment, Node, Pod } from '../../lib/kube/types.js';
import { judgeCronJob, longRunningJob, newestCompletions, type CronJob, type Job } from '../../lib/kube/jobs.js';
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

  it('is quiet about pods short only on cordoned nodes (a rolling reboot), saying so as a note', () => {
    const cordoned = (name: string): Node => ({ metadata: { name, labels: { 'kubernetes.io/os': 'linux' } }, spec: { unschedulable: true, taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }] } });
    const d = ds({ desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, numberAvailable: 2, numberUnavailable: 1, updatedNumberScheduled: 3 });
    // k8s02 rebooting: cordoned, its pod not ready.
    const placement = daemonPlacement(d, [pod('k8s01', true), pod('k8s02', false, 'ContainerCreating'), pod('k8s03', true)], [node('k8s01'), cordoned('k8s02'), node('k8s03')]);
    expect(placement.cordoned).toEqual(['k8s02']);
    const v = judgeDaemonSet(d, { ...base, placement });
    expect(v.health).toBe('ok');
    expect(v.notes).toContain('1 pod short on cordoned k8s02 (spec.unschedulable: maintenance or a rolling reboot), not counted; uncordon when done');
    // The same pod short on a node that is not cordoned counts.
    expect(judgeDaemonSet(d, { ...base, placement: { ...placement, cordoned: ['k8s03'] } }).health).toBe('degraded');
    // Missing (not just unready) on the cordoned node: quiet too.
    const gone = ds({ desiredNumberScheduled: 3, currentNumberScheduled: 2, numberReady: 2, numberAvailable: 2, updatedNumberScheduled: 2 });
    expect(judgeDaemonSet(gone, { ...base, revisionCreated: NOW - 86400_000, placement: { missingOn: ['k8s02'], notReadyOn: [], cordoned: ['k8s02'] } }).health).toBe('ok');
    // Two short, one of them on an uncordoned node: counted.
    const two = ds({ desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 1, numberAvailable: 1, updatedNumberScheduled: 3 });
    const both = { missingOn: [], notReadyOn: [{ node: 'k8s02', why: 'x' }, { node: 'k8s03', why: 'y' }], cordoned: ['k8s02'] };
    expect(judgeDaemonSet(two, { ...base, placement: both }).health).toBe('degraded');
    // Nothing available anywhere is never excused.
    const none = ds({ desiredNumberScheduled: 1, currentNumberScheduled: 1, updatedNumberScheduled: 1 });
    expect(judgeDaemonSet(none, { ...base, placement: { missingOn: [], notReadyOn: [{ node: 'k8s02', why: 'x' }], cordoned: ['k8s02'] } }).health).toBe('down');
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
    const data = { deployments: [fine, degraded, down, ignored], statefulsets: [], daemonsets: [], revisionCreated: {}, placement: {}, notes: [], cronjobs: [], jobs: [] };

    const o = check.evaluate(data, await checkOptions(check), NOW);
    expect(o.summary).toBe('1 workload with no ready replica: openebs/ctrl; 1 workload degraded: apps/web');
    expect(o.actions?.[0]).toEqual({ state: 2, text: expect.stringMatching(/^see why Deployment openebs\/ctrl has 0\/1 ready: kubectl describe -n openebs deployment\/ctrl /) });
    expect(o.perfdata.map((p) => [p.label, p.value])).toEqual([['unhealthy_workloads', 2], ['down_workloads', 1], ['workloads', 3], ['excluded_workloads', 1], ['stale_cronjobs', 0], ['long_running_jobs', 0]]);
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
    const o = check.evaluate({ deployments: [fine], statefulsets: [], daemonsets: [], revisionCreated: {}, placement: {}, notes: [], cronjobs: [], jobs: [] }, await checkOptions(check, ['--namespace', 'apps']), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    expect(o.summary).toBe('1/1 workloads healthy in apps (1 Deployment, 0 StatefulSets, 0 DaemonSets)');
    const none = check.evaluate({ deployments: [], statefulsets: [], daemonsets: [], revisionCreated: {}, placement: {}, notes: [], cronjobs: [], jobs: [] }, await checkOptions(check, ['--selector', 'app=x']), NOW);
    expect(outcomeState(none)).toBe(State.OK);
    expect(none.summary).toBe('no workloads matching app=x');
  });
});

describe('CronJobs and Jobs', () => {
  const owner = { kind: 'CronJob', name: 'backup', uid: 'cj-uid', controller: true };
  const cron = (spec: Partial<NonNullable<CronJob['spec']>>, status: CronJob['status'] = {}, createdAgo = 86400 * 30): CronJob =>
    ({ metadata: { name: 'backup', namespace: 'ops', uid: 'cj-uid', creationTimestamp: ago(createdAgo) }, spec: { schedule: '0 2 * * *', ...spec }, status });
  const job = (name: string, st: NonNullable<Job['status']>, spec: Job['spec'] = {}, owned = true): Job =>
    ({ metadata: { name, namespace: 'ops', ownerReferences: owned ? [owner] : undefined }, spec, status: st });
  const complete = (secondsAgo: number) => ({ completionTime: ago(secondsAgo), conditions: [{ type: 'Complete', status: 'True' }] });
  const none = new Map<string, number>();

  it('is stale when the last success is older than twice the interval, at the boundary on both sides', () => {
    expect(judgeCronJob(cron({}, { lastSuccessfulTime: ago(2 * 86400) }), none, { now: NOW })).toEqual({ id: 'ops/backup' });
    const v = judgeCronJob(cron({}, { lastSuccessfulTime: ago(2 * 86400 + 1) }), none, { now: NOW });
    expect(v.problem).toBe("last succeeded 2d ago, runs every 1d ('0 2 * * *'), more than 2d");
    // The zone of the schedule is named.
    expect(judgeCronJob(cron({ timeZone: 'Europe/Berlin' }, { lastSuccessfulTime: ago(3 * 86400), active: [{}] }), none, { now: NOW }).problem)
      .toBe("last succeeded 3d ago, runs every 1d ('0 2 * * *' Europe/Berlin), more than 2d; 1 Job running now");
  });

  it('falls back to the newest completed Job it owns, then to its creation for one that never succeeded', () => {
    const jobs = [job('backup-1', complete(3600)), job('other', complete(60), {}, false)];
    expect(judgeCronJob(cron({}, {}), newestCompletions(jobs), { now: NOW }).problem).toBeUndefined();
    expect(judgeCronJob(cron({}, {}), newestCompletions([job('backup-1', complete(5 * 86400))]), { now: NOW }).problem).toMatch(/^last succeeded 5d ago/);
    // The newer of status.lastSuccessfulTime and the Jobs wins.
    expect(judgeCronJob(cron({}, { lastSuccessfulTime: ago(5 * 86400) }), newestCompletions(jobs), { now: NOW }).problem).toBeUndefined();
    expect(judgeCronJob(cron({}, { lastSuccessfulTime: ago(3600) }), newestCompletions([job('backup-1', complete(5 * 86400))]), { now: NOW }).problem).toBeUndefined();
    // Never succeeded (status {} as the real API shows a CronJob that has not run): counts from creation.
    expect(judgeCronJob(cron({}, {}, 86400), none, { now: NOW }).problem).toBeUndefined();
    expect(judgeCronJob(cron({}, { lastScheduleTime: ago(600) }, 3 * 86400), none, { now: NOW }).problem)
      .toBe("never succeeded in 3d since it was created, runs every 1d ('0 2 * * *'); last scheduled 10m ago");
  });

  it('--cronjob-stale overrides the schedule; suspended and unreadable schedules are notes, not problems', () => {
    expect(judgeCronJob(cron({}, { lastSuccessfulTime: ago(7200) }), none, { now: NOW, staleAfter: 3600 }).problem).toBe('last succeeded 2h ago, more than 1h');
    expect(judgeCronJob(cron({ suspend: true }, { lastSuccessfulTime: ago(90 * 86400) }), none, { now: NOW })).toEqual({ id: 'ops/backup', note: 'suspended (spec.suspend), not judged' });
    expect(judgeCronJob(cron({ schedule: '0 2 * *' }, {}), none, { now: NOW }).note).toBe("schedule '0 2 * *' not understood (4 fields, not 5): not judged; --cronjob-stale judges it");
    expect(judgeCronJob(cron({ schedule: '0 0 30 2 *' }, {}), none, { now: NOW }).note).toBe("schedule '0 0 30 2 *' never fires: not judged");
    expect(judgeCronJob(cron({ schedule: '0 2 * *' }, { lastSuccessfulTime: ago(7200) }), none, { now: NOW, staleAfter: 3600 }).problem).toBe('last succeeded 2h ago, more than 1h');
  });

  it('a Job running past the limit is named; finished, suspended and deadline-bound Jobs are not', () => {
    const running = job('backup-29163420', { startTime: ago(13 * 3600), active: 1 });
    expect(longRunningJob(running, NOW, 12 * 3600)).toBe('running for 13h, more than 12h (1 active pod), a run of CronJob backup');
    expect(longRunningJob(running, NOW, 13 * 3600)).toBeUndefined();
    expect(longRunningJob(job('x', { startTime: ago(13 * 3600), ...complete(60) }), NOW, 3600)).toBeUndefined();
    expect(longRunningJob(job('x', { startTime: ago(13 * 3600) }, { suspend: true }), NOW, 3600)).toBeUndefined();
    expect(longRunningJob(job('x', { startTime: ago(13 * 3600) }, { activeDeadlineSeconds: 86400 }), NOW, 3600)).toBeUndefined();
  });

  it('check_k8s_workloads warns naming the stale CronJob and the long Job', async () => {
    const { default: check } = await import('../../checks/workloads.js');
    const { checkOptions } = await import('./support.js');
    const data = {
      deployments: [], statefulsets: [], daemonsets: [], revisionCreated: {}, placement: {}, notes: [],
      cronjobs: [cron({}, { lastSuccessfulTime: ago(4 * 86400) }), { ...cron({ schedule: '@hourly' }, { lastSuccessfulTime: ago(600) }), metadata: { name: 'report', namespace: 'ops', uid: 'r' } }],
      jobs: [job('backup-1', { startTime: ago(20 * 3600), active: 1 })],
    };
    const o = check.evaluate(data, await checkOptions(check), NOW);
    expect(outcomeState(o)).toBe(State.WARNING);
    expect(o.summary).toBe('1 CronJob not succeeding: ops/backup; 1 Job running too long: ops/backup-1');
    expect(o.actions?.map((a) => a.text)).toEqual([
      expect.stringMatching(/^see why CronJob ops\/backup stopped succeeding: kubectl describe cronjob -n ops backup/),
      expect.stringMatching(/^see what Job ops\/backup-1 is doing: kubectl logs -n ops job\/backup-1/),
    ]);
    expect(Object.fromEntries(o.perfdata.map((p) => [p.label, p.value]))).toMatchObject({ stale_cronjobs: 1, long_running_jobs: 1 });
    const quiet = check.evaluate(data, await checkOptions(check, ['--cronjob-stale', '5d', '--job-max-duration', '1d']), NOW);
    expect(outcomeState(quiet)).toBe(State.OK);
    // Excluded by name: not judged, said.
    const excluded = check.evaluate(data, await checkOptions(check, ['--exclude', 'ops/backup*']), NOW);
    expect(outcomeState(excluded)).toBe(State.OK);
    expect(excluded.findings.map((f) => f.text)).toContain('CronJob ops/backup not judged (--exclude ops/backup*)');
  });
});

describe('check_k8s_workloads evaluate: more situations', () => {
  type D = Parameters<typeof check.evaluate>[0];
  const empty = (): D => ({ deployments: [], statefulsets: [], daemonsets: [], revisionCreated: {}, placement: {}, notes: [], cronjobs: [], jobs: [] });
  const run = async (d: Partial<D>, args: string[] = []) => check.evaluate({ ...empty(), ...d }, await checkOptions(check, args), NOW);
  const deg = (name: string, replicas: number, available: number, ns = 'apps') =>
    deployment({ replicas }, { replicas, updatedReplicas: replicas, readyReplicas: available, availableReplicas: available }, { name, namespace: ns });
  const fine = (name: string) => deg(name, 2, 2);
  const downDeployment = (name: string) => deployment({ replicas: 2 }, { replicas: 2, updatedReplicas: 2, unavailableReplicas: 2 }, { name });
  const stated = (o: { findings: { state?: State; text: string }[] }) => o.findings.filter((f) => f.state !== undefined).map((f) => [f.state, f.text]);

  it('worst first: down, then the largest share missing, then by name; more than two named as "and N more"', async () => {
    // Listed best first, so only the sort can put them in order.
    const o = await run({ deployments: [deg('zeta', 3, 2), deg('beta', 3, 2), deg('web', 4, 1), downDeployment('ctrl')] }, ['--critical-down', '5']);
    expect(outcomeState(o)).toBe(State.WARNING);
    expect(o.summary).toBe('4 workloads unhealthy: apps/ctrl, apps/web and 2 more');
    expect(o.findings.filter((f) => f.text.startsWith('Deployment ')).map((f) => f.text)).toEqual([
      'Deployment apps/ctrl: no ready replica (0/2 replicas ready, 0 available)',
      'Deployment apps/web: 1/4 replicas ready, 1 available',
      'Deployment apps/beta: 2/3 replicas ready, 2 available',
      'Deployment apps/zeta: 2/3 replicas ready, 2 available',
    ]);
    expect(o.actions).toEqual([{ state: State.WARNING, text: expect.stringMatching(/^see why Deployment apps\/ctrl has 0\/2 ready: /) }]);
    // Exactly two: both named, nothing more.
    const two = await run({ deployments: [deg('beta', 3, 2), deg('web', 4, 1)] });
    expect(two.summary).toBe('2 workloads unhealthy: apps/web, apps/beta');
    // A degraded one listed before a down one: down still leads.
    const mixed = await run({ deployments: [deg('web', 4, 1), downDeployment('ctrl')] });
    expect(mixed.findings.filter((f) => f.text.startsWith('Deployment ')).map((f) => f.text.split(':')[0])).toEqual(['Deployment apps/ctrl', 'Deployment apps/web']);
  });

  it('only down ones: named once as down, -w counts them without naming them again', async () => {
    const o = await run({ deployments: [downDeployment('ctrl'), fine('api')] });
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(o.summary).toBe('1 workload with no ready replica: apps/ctrl');
    expect(stated(o)).toEqual([
      [State.CRITICAL, '1 workload with replicas wanted and none ready (outside --critical-down 0)'],
      [State.WARNING, '1 of 2 workloads unhealthy (outside -w 0)'],
      [State.CRITICAL, 'Deployment apps/ctrl: no ready replica (0/2 replicas ready, 0 available)'],
    ]);
    expect(o.actions).toEqual([{ state: State.CRITICAL, text: expect.stringMatching(/^see why Deployment apps\/ctrl has 0\/2 ready: kubectl describe -n apps deployment\/ctrl /) }]);
  });

  it('a down workload under -c: CRITICAL by -c even with --critical-down out of the way', async () => {
    const o = await run({ deployments: [downDeployment('ctrl'), fine('api')] }, ['--critical-down', '5', '-c', '0']);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(o.summary).toBe('1 workload unhealthy: apps/ctrl');
    expect(stated(o)).toEqual([
      [State.CRITICAL, '1 of 2 workloads unhealthy (outside -c 0)'],
      [State.CRITICAL, 'Deployment apps/ctrl: no ready replica (0/2 replicas ready, 0 available)'],
    ]);
  });

  it('unhealthy within -w and --critical-down: OK, the workloads listed without a state, healthy counted', async () => {
    const o = await run({ deployments: [downDeployment('ctrl'), deg('web', 3, 2), fine('api')] }, ['-w', '5', '--critical-down', '5']);
    expect(outcomeState(o)).toBe(State.OK);
    expect(o.summary).toBe('1/3 workloads healthy (3 Deployments, 0 StatefulSets, 0 DaemonSets)');
    expect(stated(o)).toEqual([]);
    expect(o.findings.map((f) => f.text)).toContain('Deployment apps/ctrl: no ready replica (0/2 replicas ready, 0 available)');
  });

  it('--max-items caps the unhealthy list and the exclusions, saying how many more', async () => {
    const three = [deg('a', 3, 2), deg('b', 3, 2), deg('c', 3, 2)];
    const o = await run({ deployments: three }, ['--max-items', '2']);
    const texts = o.findings.map((f) => f.text);
    expect(texts.filter((t) => t.startsWith('Deployment '))).toEqual(['Deployment apps/a: 2/3 replicas ready, 2 available', 'Deployment apps/b: 2/3 replicas ready, 2 available']);
    expect(texts).toContain('... and 1 more unhealthy (--max-items 2)');
    // Exactly --max-items: no "more" line.
    const exact = await run({ deployments: three.slice(0, 2) }, ['--max-items', '2']);
    expect(exact.findings.map((f) => f.text).filter((t) => t.startsWith('...'))).toEqual([]);

    const ignored = (name: string) => deployment({}, {}, { name, annotations: { 'k8s-nrpe/ignore': 'true' } });
    const ex = await run({ deployments: [fine('api'), ignored('x1'), ignored('x2'), ignored('x3')] }, ['--max-items', '2']);
    expect(outcomeState(ex)).toBe(State.OK);
    expect(ex.summary).toBe('1/1 workloads healthy (1 Deployment, 0 StatefulSets, 0 DaemonSets), 3 excluded');
    expect(ex.findings.map((f) => f.text)).toEqual([
      'Deployment apps/x1 not judged (annotation k8s-nrpe/ignore)',
      'Deployment apps/x2 not judged (annotation k8s-nrpe/ignore)',
      '... and 1 more not judged',
    ]);
    const exEqual = await run({ deployments: [fine('api'), ignored('x1'), ignored('x2')] }, ['--max-items', '2']);
    expect(exEqual.findings.map((f) => f.text)).toEqual(['Deployment apps/x1 not judged (annotation k8s-nrpe/ignore)', 'Deployment apps/x2 not judged (annotation k8s-nrpe/ignore)']);
  });

  it('nothing judged: says what was looked for and how many were excluded', async () => {
    const o = await run({ deployments: [deployment({}, {}, { name: 'scratch' })] }, ['--namespace', 'apps', '--exclude', 'scratch']);
    expect(outcomeState(o)).toBe(State.OK);
    expect(o.summary).toBe('no workloads in apps (1 excluded)');
    expect(o.findings.map((f) => f.text)).toEqual(['Deployment apps/scratch not judged (--exclude scratch)']);
    expect((await run({})).summary).toBe('no workloads');
  });

  it('a StatefulSet rollout is timed from its update revision, found under its kind and name', async () => {
    const sts = deployment({ replicas: 3, updateStrategy: { type: 'RollingUpdate' } },
      { replicas: 3, readyReplicas: 2, availableReplicas: 2, updatedReplicas: 1, currentRevision: 'r1', updateRevision: 'r2' }, { name: 'jiva', namespace: 'openebs' });
    const late = await run({ statefulsets: [sts], revisionCreated: { 'StatefulSet/openebs/jiva': NOW - 3_600_000 } });
    expect(outcomeState(late)).toBe(State.WARNING);
    expect(late.summary).toBe('1 workload unhealthy: openebs/jiva');
    expect(late.findings.map((f) => f.text)).toContain('StatefulSet openebs/jiva: 2/3 replicas ready, 2 available; rollout not done after 1h: 1/3 updated');
    expect(late.actions?.[0]?.text).toMatch(/^see why StatefulSet openebs\/jiva has 2\/3 ready: kubectl describe -n openebs statefulset\/jiva and kubectl get pods -n openebs -o wide .*kubectl rollout status -n openebs statefulset\/jiva/);
    // Begun two minutes ago: rolling out, counted in the OK line.
    const rolling = await run({ statefulsets: [sts], deployments: [fine('api')], revisionCreated: { 'StatefulSet/openebs/jiva': NOW - 120_000 } });
    expect(outcomeState(rolling)).toBe(State.OK);
    expect(rolling.summary).toBe('2/2 workloads healthy (1 Deployment, 1 StatefulSet, 0 DaemonSets), 1 rolling out');
    expect(rolling.findings.map((f) => f.text)).toContain('StatefulSet openebs/jiva: rolling out for 2m: 1/3 updated');
  });

  it('a DaemonSet short of a pod only on a cordoned node (a rolling reboot) is healthy, said as info; its placement found by namespace/name', async () => {
    const ds: Deployment = {
      metadata: { name: 'csi-node', namespace: 'openebs', uid: 'ds-uid', generation: 1, creationTimestamp: ago(86400 * 30) },
      spec: { updateStrategy: { type: 'RollingUpdate' } },
      status: { observedGeneration: 1, desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, numberAvailable: 2, updatedNumberScheduled: 3 },
    };
    const placement = { missingOn: [], notReadyOn: [{ node: 'k8s02', why: 'ContainerCreating' }], cordoned: ['k8s02'] };
    const o = await run({ daemonsets: [ds], placement: { 'openebs/csi-node': placement } });
    expect(outcomeState(o)).toBe(State.OK);
    expect(o.summary).toBe('1/1 workloads healthy (0 Deployments, 0 StatefulSets, 1 DaemonSet)');
    expect(o.findings.map((f) => f.text)).toContain('DaemonSet openebs/csi-node: 1 pod short on cordoned k8s02 (spec.unschedulable: maintenance or a rolling reboot), not counted; uncordon when done');
    // The same pod short on a node that is not cordoned: degraded, named where.
    const o2 = await run({ daemonsets: [ds], placement: { 'openebs/csi-node': { ...placement, cordoned: [] } } });
    expect(outcomeState(o2)).toBe(State.WARNING);
    expect(o2.findings.map((f) => f.text)).toContain('DaemonSet openebs/csi-node: 2/3 pods ready, 2 available; not available on k8s02 (ContainerCreating)');
    expect(o2.actions?.[0]?.text).toMatch(/^see why DaemonSet openebs\/csi-node has 2\/3 ready: kubectl describe -n openebs daemonset\/csi-node /);
  });

  it('what could not be looked up is said, after the verdicts', async () => {
    const o = await run({ deployments: [fine('api')], notes: ['when 1 rollout began is not known: forbidden'] });
    expect(outcomeState(o)).toBe(State.OK);
    expect(o.findings.map((f) => f.text)).toEqual(['when 1 rollout began is not known: forbidden']);
  });
});

describe('check_k8s_workloads CronJobs and Jobs in evaluate', () => {
  type D = Parameters<typeof check.evaluate>[0];
  const run = async (d: Partial<D>, args: string[] = []) => check.evaluate({ deployments: [], statefulsets: [], daemonsets: [], revisionCreated: {}, placement: {}, notes: [], ...{ cronjobs: [], jobs: [] }, ...d }, await checkOptions(check, args), NOW);
  const cron = (name: string, lastSuccessAgo: number, spec: Partial<NonNullable<CronJob['spec']>> = {}, ns = 'ops'): CronJob =>
    ({ metadata: { name, namespace: ns, uid: `uid-${name}`, creationTimestamp: ago(86400 * 30) }, spec: { schedule: '0 2 * * *', ...spec }, status: { lastSuccessfulTime: ago(lastSuccessAgo) } });
  const running = (name: string, startedAgo: number, ns = 'ops'): Job => ({ metadata: { name, namespace: ns }, spec: {}, status: { startTime: ago(startedAgo), active: 1 } });

  it('a daily CronJob: stale one second past two days, not at two days', async () => {
    const at = await run({ cronjobs: [cron('backup', 2 * 86400)] });
    expect(outcomeState(at)).toBe(State.OK);
    expect(at.findings).toEqual([]);
    expect(at.perfdata.find((p) => p.label === 'stale_cronjobs')).toMatchObject({ value: 0, min: 0, max: 1 });
    const past = await run({ cronjobs: [cron('backup', 2 * 86400 + 1)] });
    expect(outcomeState(past)).toBe(State.WARNING);
    expect(past.summary).toBe('1 CronJob not succeeding: ops/backup');
    expect(past.findings.filter((f) => f.state === State.WARNING).map((f) => f.text)).toEqual(["CronJob ops/backup: last succeeded 2d ago, runs every 1d ('0 2 * * *'), more than 2d"]);
  });

  it('three stale CronJobs: the first named in the step, two in the status line, --max-items caps the list', async () => {
    const o = await run({ cronjobs: [cron('backup', 5 * 86400, {}, 'db'), cron('report', 4 * 86400), cron('cleanup', 3 * 86400), cron('fresh', 3600)] }, ['--max-items', '2']);
    expect(outcomeState(o)).toBe(State.WARNING);
    expect(o.summary).toBe('3 CronJobs not succeeding: db/backup, ops/report and 1 more');
    expect(o.actions).toEqual([{ state: State.WARNING, text: 'see why CronJob db/backup stopped succeeding: kubectl describe cronjob -n db backup (events: missed starts, FailedCreate) and kubectl get jobs -n db; the logs of its last Job say why it failed' }]);
    expect(o.findings.filter((f) => f.state === State.WARNING).map((f) => f.text.split(':')[0])).toEqual(['CronJob db/backup', 'CronJob ops/report']);
    expect(o.perfdata.find((p) => p.label === 'stale_cronjobs')).toMatchObject({ value: 3, max: 4 });
  });

  it('a suspended CronJob is a note, not a problem; an excluded one is said as not judged', async () => {
    const o = await run({ cronjobs: [cron('old', 90 * 86400, { suspend: true }), { ...cron('skip', 90 * 86400), metadata: { name: 'skip', namespace: 'ops', annotations: { 'k8s-nrpe/ignore': 'true' } } }] });
    expect(outcomeState(o)).toBe(State.OK);
    expect(o.findings.map((f) => f.text)).toEqual(['CronJob ops/old: suspended (spec.suspend), not judged', 'CronJob ops/skip not judged (annotation k8s-nrpe/ignore)']);
    expect(o.perfdata.find((p) => p.label === 'stale_cronjobs')).toMatchObject({ value: 0, max: 1 });
  });

  it('Jobs running too long: at the limit quiet, past it WARNING naming the first, the step naming its namespace', async () => {
    const at = await run({ jobs: [running('migrate', 12 * 3600, 'db')] });
    expect(outcomeState(at)).toBe(State.OK);
    const o = await run({ jobs: [running('migrate', 13 * 3600, 'db'), running('sync', 20 * 3600), running('reindex', 14 * 3600)] }, ['--max-items', '1']);
    expect(outcomeState(o)).toBe(State.WARNING);
    expect(o.summary).toBe('3 Jobs running too long: db/migrate, ops/sync and 1 more');
    expect(o.actions).toEqual([{ state: State.WARNING, text: 'see what Job db/migrate is doing: kubectl logs -n db job/migrate; delete it if it hangs, or give it spec.activeDeadlineSeconds (or --job-max-duration) if it is meant to run this long' }]);
    expect(o.findings.filter((f) => f.state === State.WARNING).map((f) => f.text)).toEqual(['Job db/migrate: running for 13h, more than 12h (1 active pod)']);
    expect(o.perfdata.find((p) => p.label === 'long_running_jobs')).toMatchObject({ value: 3, min: 0 });
    // An excluded Job is not judged.
    const ex = await run({ jobs: [running('migrate', 13 * 3600, 'db')] }, ['--exclude', 'db/*']);
    expect(outcomeState(ex)).toBe(State.OK);
    expect(ex.findings.map((f) => f.text)).toEqual(['Job db/migrate not judged (--exclude db/*)']);
  });
});

describe('check_k8s_workloads evaluate: every kind, perfdata', () => {
  type D = Parameters<typeof check.evaluate>[0];
  const run = async (d: Partial<D>, args: string[] = []) => check.evaluate({ deployments: [], statefulsets: [], daemonsets: [], revisionCreated: {}, placement: {}, notes: [], cronjobs: [], jobs: [], ...d }, await checkOptions(check, args), NOW);

  it('an excluded StatefulSet or DaemonSet is said as not judged, by its kind', async () => {
    const ignored = { 'k8s-nrpe/ignore': 'true' };
    const o = await run({ statefulsets: [deployment({}, {}, { name: 'db', annotations: ignored })], daemonsets: [deployment({}, {}, { name: 'agent', annotations: ignored })] });
    expect(o.summary).toBe('no workloads (2 excluded)');
    expect(o.findings.map((f) => f.text)).toEqual(['StatefulSet apps/db not judged (annotation k8s-nrpe/ignore)', 'DaemonSet apps/agent not judged (annotation k8s-nrpe/ignore)']);
  });

  it('perfdata: counts from 0, the unhealthy and down ones out of those judged', async () => {
    const down = deployment({ replicas: 1 }, { replicas: 1, updatedReplicas: 1 }, { name: 'ctrl' });
    const ok = deployment({}, { replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 }, { name: 'api' });
    const o = await run({ deployments: [down, ok, deployment({}, {}, { name: 'x', annotations: { 'k8s-nrpe/ignore': 'true' } })] });
    expect(o.perfdata.map((p) => [p.label, p.value, p.min, p.max])).toEqual([
      ['unhealthy_workloads', 1, 0, 2], ['down_workloads', 1, 0, 2], ['workloads', 2, 0, undefined], ['excluded_workloads', 1, 0, undefined],
      ['stale_cronjobs', 0, 0, 0], ['long_running_jobs', 0, 0, undefined],
    ]);
  });

  it('a Deployment scaled to zero is healthy and not rolling out', async () => {
    const o = await run({ deployments: [deployment({ replicas: 0 }, {}, { name: 'idle' })] });
    expect(o.summary).toBe('1/1 workloads healthy (1 Deployment, 0 StatefulSets, 0 DaemonSets)');
    expect(o.findings.map((f) => f.text)).toEqual(['Deployment apps/idle: scaled to 0']);
  });
});

describe('check_k8s_workloads evaluate: order and rollouts', () => {
  type D = Parameters<typeof check.evaluate>[0];
  const run = async (d: Partial<D>, args: string[] = []) => check.evaluate({ deployments: [], statefulsets: [], daemonsets: [], revisionCreated: {}, placement: {}, notes: [], cronjobs: [], jobs: [], ...d }, await checkOptions(check, args), NOW);
  const order = (o: { findings: { text: string }[] }) => o.findings.filter((f) => /^(Deployment|StatefulSet|DaemonSet) /.test(f.text)).map((f) => f.text.split(':')[0]);
  const deg = (name: string, replicas: number, available: number, ready = available) =>
    deployment({ replicas }, { replicas, updatedReplicas: replicas, readyReplicas: ready, availableReplicas: available }, { name });

  it('orders by the share missing, not the count: 1 of 2 missing before 3 of 10', async () => {
    const o = await run({ deployments: [deg('big', 10, 7), deg('small', 2, 1)] });
    expect(order(o)).toEqual(['Deployment apps/small', 'Deployment apps/big']);
    expect(o.summary).toBe('2 workloads unhealthy: apps/small, apps/big');
  });

  it('down before degraded even when the degraded one has nothing available (ready, not yet available: minReadySeconds)', async () => {
    const notYet = deg('alpha', 2, 0, 2);
    const down = deployment({ replicas: 2 }, { replicas: 2, updatedReplicas: 2 }, { name: 'zeta' });
    for (const deployments of [[notYet, down], [down, notYet]]) {
      const o = await run({ deployments }, ['--critical-down', '5']);
      expect(order(o)).toEqual(['Deployment apps/zeta', 'Deployment apps/alpha']);
      expect(o.summary).toBe('2 workloads unhealthy: apps/zeta, apps/alpha');
    }
  });

  it('a DaemonSet rollout is timed from its newest revision, found under its kind and name', async () => {
    const ds: Deployment = {
      metadata: { name: 'calico-node', namespace: 'kube-system', uid: 'ds-uid', generation: 2, creationTimestamp: ago(86400 * 30) },
      spec: { updateStrategy: { type: 'RollingUpdate' } },
      status: { observedGeneration: 2, desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 3, numberAvailable: 3, updatedNumberScheduled: 1 },
    };
    const late = await run({ daemonsets: [ds], revisionCreated: { 'DaemonSet/kube-system/calico-node': NOW - 7_200_000 } });
    expect(outcomeState(late)).toBe(State.WARNING);
    expect(late.findings.map((f) => f.text)).toContain('DaemonSet kube-system/calico-node: rollout not done after 2h: 1/3 updated');
    const rolling = await run({ daemonsets: [ds], revisionCreated: { 'DaemonSet/kube-system/calico-node': NOW - 300_000 } });
    expect(outcomeState(rolling)).toBe(State.OK);
    expect(rolling.summary).toBe('1/1 workloads healthy (0 Deployments, 0 StatefulSets, 1 DaemonSet), 1 rolling out');
  });

  it('counts as rolling out only healthy workloads with a rollout note, all replicas available or not', async () => {
    // A surge rollout: every replica available, one updated, progress 40 s ago.
    const surge = deployment({}, { replicas: 4, updatedReplicas: 1, readyReplicas: 3, availableReplicas: 3,
      conditions: [cond('Progressing', 'True', 'ReplicaSetUpdated', 'ReplicaSet "web-7f9c5d6b8" is progressing.', 40, 86400)] });
    const o = await run({ deployments: [surge] });
    expect(o.summary).toBe('1/1 workloads healthy (1 Deployment, 0 StatefulSets, 0 DaemonSets), 1 rolling out');
    // The same rollout on a spec the controller has not seen yet: unhealthy (within -w 5), not counted as rolling out.
    const behind = { ...surge, metadata: { ...surge.metadata, generation: 2 } };
    const b = await run({ deployments: [behind] }, ['-w', '5']);
    expect(outcomeState(b)).toBe(State.OK);
    expect(b.summary).toBe('0/1 workloads healthy (1 Deployment, 0 StatefulSets, 0 DaemonSets)');
  });
});
