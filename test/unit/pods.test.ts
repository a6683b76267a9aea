import { describe, expect, it } from 'vitest';
import { failedJobs, type Job } from '../../lib/kube/jobs.js';
import { judgePod, pointedElsewhere } from '../../lib/kube/pod-status.js';
import type { ContainerStatus, Pod } from '../../lib/kube/types.js';
import { outcomeState } from '../../lib/plugin/result.js';
import { State } from '../../lib/plugin/state.js';
import { checkOptions, clock } from './support.js';
// Imported once at the top: the check's declaration then loads with the file (static for Stryker), not inside a test.
import check from '../../checks/pods.js';

const { NOW, ago } = clock('2026-06-05T06:30:00Z');
const opts = { now: NOW, window: 900, restarts: 5, notReadyWindow: 900 };

function pod(containers: ContainerStatus[], o: { ready?: boolean; readySince?: number; phase?: string; owner?: string; node?: string; init?: ContainerStatus[] } = {}): Pod {
  return {
    metadata: { name: 'survive-minecraft-7d4b9c8f6-p2xkq', namespace: 'games', creationTimestamp: ago(86400), ownerReferences: o.owner ? [{ kind: o.owner, name: 'x', controller: true }] : undefined },
    spec: { nodeName: o.node ?? 'k8s03' },
    status: {
      phase: o.phase ?? 'Running', startTime: ago(86400),
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: ago(o.readySince ?? 86400) }],
      containerStatuses: containers, initContainerStatuses: o.init,
    },
  };
}

const crash: ContainerStatus = {
  name: 'minecraft', ready: false, restartCount: 23,
  state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s restarting failed container=minecraft pod=survive-minecraft-7d4b9c8f6-p2xkq_games(7e3a9c1d-5b2f-4e8a-9c6d-1f4b7e2a8c5d)' } },
  lastState: { terminated: { reason: 'Error', exitCode: 1, finishedAt: ago(151) } },
};

describe('judgePod', () => {
  it('names CrashLoopBackOff with the kubelet message, the restarts and the last exit, once', () => {
    const v = judgePod(pod([crash], { ready: false, readySince: 3120 }), opts);
    expect(v).toEqual({
      id: 'games/survive-minecraft-7d4b9c8f6-p2xkq', node: 'k8s03',
      problems: [{ kind: 'crashloop', text: 'container minecraft CrashLoopBackOff: back-off 5m0s restarting failed container=minecraft pod=survive-minecraft-7d4b9c8f6-p2xkq_games(7e3a9c1d-5b2f-4e8a-9c6d-1f4b7e2a8c5d) (23 restarts, last exit Error (1))' }],
    });
  });

  it('sorts waiting reasons: image pulls, config errors, init containers', () => {
    const image = judgePod(pod([{ name: 'app', restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "registry.local/app:v2"' } } }], { ready: false, readySince: 60 }), opts);
    expect(image.problems).toEqual([{ kind: 'image', text: 'container app ImagePullBackOff: Back-off pulling image "registry.local/app:v2" (0 restarts)' }]);
    const config = judgePod(pod([{ name: 'app', state: { waiting: { reason: 'CreateContainerConfigError', message: 'secret "db-password" not found' } } }], { ready: false }), opts);
    expect(config.problems[0]).toMatchObject({ kind: 'config', text: expect.stringContaining('secret "db-password" not found') });
    const init = judgePod(pod([], { ready: false, init: [{ name: 'migrate', state: { waiting: { reason: 'ErrImagePull', message: 'rpc error: code = NotFound' } } }] }), opts);
    expect(init.problems[0]!.text).toMatch(/^init container migrate ErrImagePull/);
  });

  it('puts the worst problem of a pod first, whatever the container order', () => {
    const restarted: ContainerStatus = { name: 'sidecar', ready: true, restartCount: 9, state: { running: {} }, lastState: { terminated: { reason: 'Error', exitCode: 1, finishedAt: ago(60) } } };
    expect(judgePod(pod([restarted, crash], { ready: false, readySince: 3120 }), opts).problems.map((x) => x.kind)).toEqual(['crashloop', 'restarts']);
  });

  it('reports an OOM kill within the window, not an older one', () => {
    const oom = (s: number): ContainerStatus => ({ name: 'java', ready: true, restartCount: 2, state: { running: { startedAt: ago(s - 1) } }, lastState: { terminated: { reason: 'OOMKilled', exitCode: 137, finishedAt: ago(s) } } });
    expect(judgePod(pod([oom(300)]), opts).problems).toEqual([{ kind: 'oomkilled', text: 'container java OOMKilled 5m ago (2 restarts)' }]);
    expect(judgePod(pod([oom(3600)]), opts).problems).toEqual([]);
  });

  it('reports more restarts than --restarts only when the last one is within the window', () => {
    const restarted = (n: number, s: number): ContainerStatus => ({ name: 'worker', ready: true, restartCount: n, state: { running: {} }, lastState: { terminated: { reason: 'Error', exitCode: 2, finishedAt: ago(s) } } });
    expect(judgePod(pod([restarted(12, 200)]), opts).problems).toEqual([{ kind: 'restarts', text: 'container worker restarted 12 times, the last 3m20s ago (Error, exit 2)' }]);
    expect(judgePod(pod([restarted(12, 3600)]), opts).problems).toEqual([]);
    expect(judgePod(pod([restarted(5, 200)]), opts).problems).toEqual([]);
  });

  it('reports not Ready past the window with why, but not within it, nor for Job pods', () => {
    const running: ContainerStatus = { name: 'app', ready: false, restartCount: 0, state: { running: { startedAt: ago(2000) } } };
    expect(judgePod(pod([running], { ready: false, readySince: 1200 }), opts).problems).toEqual([{ kind: 'notready', text: 'not Ready for 20m: container app running but not ready' }]);
    expect(judgePod(pod([running], { ready: false, readySince: 600 }), opts).problems).toEqual([]);
    expect(judgePod(pod([running], { ready: false, readySince: 1200, owner: 'Job' }), opts).problems).toEqual([]);
  });

  it('points a bound pod with no container status at the kubelet check', () => {
    const p = pod([], { ready: false, readySince: 1200, phase: 'Pending', node: 'k8s02' });
    p.status!.containerStatuses = undefined;
    expect(judgePod(p, opts).problems[0]!.text).toBe('not Ready for 20m: Pending (no container status from the kubelet on k8s02: see check_k8s_kubelet_stall)');
  });
});

describe('pointedElsewhere', () => {
  it('leaves unscheduled and terminating pods to their checks', () => {
    expect(pointedElsewhere({ spec: {}, status: { phase: 'Pending' } })).toBe('unscheduled');
    expect(pointedElsewhere({ metadata: { deletionTimestamp: ago(60) }, spec: { nodeName: 'k8s02' }, status: { phase: 'Running' } })).toBe('terminating');
    expect(pointedElsewhere({ spec: { nodeName: 'k8s02' }, status: { phase: 'Pending' } })).toBeUndefined();
  });
});

describe('failedJobs', () => {
  const job = (name: string, cond: 'Failed' | 'Complete', at: number, cron?: string): Job => ({
    metadata: { name, namespace: 'apps', ownerReferences: cron ? [{ kind: 'CronJob', name: cron, controller: true }] : undefined },
    status: {
      conditions: cond === 'Failed'
        ? [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', lastTransitionTime: ago(at) }]
        : [{ type: 'Complete', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods', lastTransitionTime: ago(at) }],
    },
  });

  it('reports Failed=True with reason and message', () => {
    expect(failedJobs([job('backup-29163480', 'Failed', 720, 'backup')])).toEqual([
      { id: 'apps/backup-29163480', why: 'BackoffLimitExceeded: Job has reached the specified backoff limit', at: NOW - 720_000, supersededBy: undefined },
    ]);
  });

  it('marks a CronJob failure superseded by a later completed run of the same CronJob only', () => {
    const f = failedJobs([job('backup-1', 'Failed', 6000, 'backup'), job('backup-2', 'Complete', 2400, 'backup'), job('report-1', 'Failed', 6000, 'report'), job('adhoc', 'Failed', 10)]);
    expect(f.map((x) => [x.id, x.supersededBy])).toEqual([['apps/backup-1', 'backup-2'], ['apps/report-1', undefined], ['apps/adhoc', undefined]]);
    const older = failedJobs([job('backup-1', 'Failed', 600, 'backup'), job('backup-0', 'Complete', 6000, 'backup')]);
    expect(older[0]!.supersededBy).toBeUndefined();
  });
});

describe('check_k8s_pods evaluate', () => {
  it('counts problem pods by kind, points unscheduled and terminating pods elsewhere, judges failed Jobs', async () => {
    const unscheduled: Pod = { metadata: { name: 'web-0', namespace: 'apps' }, spec: {}, status: { phase: 'Pending' } };
    const leaving: Pod = { metadata: { name: 'old', namespace: 'apps', deletionTimestamp: ago(60) }, spec: { nodeName: 'k8s02' }, status: { phase: 'Running' } };
    const failedJob: Job = { metadata: { name: 'backup-1', namespace: 'apps' }, status: { conditions: [{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline', lastTransitionTime: ago(300) }] } };
    const data = { pods: [pod([crash], { ready: false, readySince: 3120 }), unscheduled, leaving], fine: 10, jobs: [failedJob], evicted: [], evictionEvents: [] };

    const o = check.evaluate(data, await checkOptions(check), NOW);
    expect(outcomeState(o)).toBe(State.WARNING);
    expect(o.summary).toBe('1 pod failing: 1 CrashLoopBackOff (games/survive-minecraft-7d4b9c8f6-p2xkq); 1 failed Job (apps/backup-1)');
    // What to do, worst kind first, the pod and the Job named.
    expect(o.actions?.map((a) => a.text)).toEqual([
      expect.stringMatching(/^read why games\/survive-minecraft-7d4b9c8f6-p2xkq crashes: kubectl logs -n games survive-minecraft-7d4b9c8f6-p2xkq --previous/),
      expect.stringMatching(/^read why Job apps\/backup-1 failed: kubectl logs -n apps job\/backup-1/),
    ]);
    const perf = Object.fromEntries(o.perfdata.map((p) => [p.label, p.value]));
    expect(perf).toMatchObject({ problem_pods: 1, crashloop_pods: 1, failed_jobs: 1, pods: 13, unscheduled_pods: 1, terminating_pods: 1 });
    expect(o.findings.map((f) => f.text)).toContain('Job apps/backup-1 failed 5m ago: DeadlineExceeded: Job was active longer than specified deadline');
    expect(o.findings.map((f) => f.text)).toContain('1 pod Pending without a node: not judged here, see check_k8s_scheduler_stall');

    const quiet = check.evaluate({ ...data, jobs: [] }, await checkOptions(check, ['-w', '1']), NOW);
    expect(quiet.summary).toBe('10/13 pods fine, 1 within thresholds (1 unscheduled, 1 terminating: judged by other checks), 0 Jobs, none failed');
    // Within -w the failing pod is evidence, not a verdict: no state on its line, no next step.
    expect(outcomeState(quiet)).toBe(State.OK);
    expect(quiet.actions).toBeUndefined();
    expect(quiet.findings).toContainEqual({ state: undefined, text: expect.stringMatching(/^games\/survive-minecraft-7d4b9c8f6-p2xkq on k8s03: container minecraft CrashLoopBackOff/) });
    expect(quiet.findings).toContainEqual({ state: undefined, text: '1 pod Terminating: not judged here, see check_k8s_stuck_terminating' });
    expect(quiet.perfdata.every((p) => p.min === 0)).toBe(true);
    expect(quiet.perfdata.find((p) => p.label === 'problem_pods')).toMatchObject({ value: 1, max: 13 });
  });
});

describe('check_k8s_pods evaluate: what the operator reads', () => {
  const job = (name: string, s: number, cron?: string, cond: 'Failed' | 'Complete' = 'Failed'): Job => ({
    metadata: { name, namespace: 'apps', ownerReferences: cron ? [{ kind: 'CronJob', name: cron, controller: true }] : undefined },
    status: { conditions: [{ type: cond, status: 'True', reason: cond === 'Failed' ? 'BackoffLimitExceeded' : 'CompletionsReached', message: 'm', lastTransitionTime: ago(s) }] },
  });
  const named = (name: string, p: Pod): Pod => ({ ...p, metadata: { ...p.metadata, name } });
  const image: ContainerStatus = { name: 'app', restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image' } } };
  const config: ContainerStatus = { name: 'app', state: { waiting: { reason: 'CreateContainerConfigError', message: 'secret "x" not found' } } };
  const oom: ContainerStatus = { name: 'java', ready: true, restartCount: 2, state: { running: {} }, lastState: { terminated: { reason: 'OOMKilled', exitCode: 137, finishedAt: ago(300) } } };
  const restarts: ContainerStatus = { name: 'worker', ready: true, restartCount: 12, state: { running: {} }, lastState: { terminated: { reason: 'Error', exitCode: 2, finishedAt: ago(200) } } };
  const notReady: ContainerStatus = { name: 'app', ready: false, restartCount: 0, state: { running: {} } };

  it('several pods: counts each kind worst first, names no single pod, and the next step is for the worst kind', async () => {
    const pods = [named('b-oom', pod([oom])), named('a-image', pod([image], { ready: false })), named('c-image', pod([image], { ready: false }))];
    const o = check.evaluate({ pods, fine: 0, jobs: [], evicted: [], evictionEvents: [] }, await checkOptions(check), NOW);
    expect(outcomeState(o)).toBe(State.WARNING);
    expect(o.summary).toBe('3 pods failing: 2 image pull failing, 1 OOMKilled');
    expect(o.findings.map((f) => [f.state, f.text.split(':')[0]])).toEqual([
      [State.WARNING, '3 pods with problems (outside -w 0)'], [State.WARNING, 'games/a-image on k8s03'], [State.WARNING, 'games/c-image on k8s03'], [State.WARNING, 'games/b-oom on k8s03'],
    ]);
    expect(o.actions).toEqual([{ state: State.WARNING, text: 'kubectl describe pod -n games a-image names the image and the pull error: fix the image name or tag, the registry\'s reachability from the node, or the imagePullSecret' }]);
    const perf = Object.fromEntries(o.perfdata.map((p) => [p.label, [p.value, p.max]]));
    expect(perf).toMatchObject({ problem_pods: [3, 3], image_pull_pods: [2, undefined], oomkilled_pods: [1, undefined], crashloop_pods: [0, undefined] });
    // -c 2: three pods is CRITICAL, and the long output line names the range that fired.
    const c = check.evaluate({ pods, fine: 0, jobs: [], evicted: [], evictionEvents: [] }, await checkOptions(check, ['-c', '2']), NOW);
    expect(outcomeState(c)).toBe(State.CRITICAL);
    expect(c.findings.some((f) => f.text === '3 pods with problems (outside -c 2): 2 image pull failing, 1 OOMKilled')).toBe(true);
  });

  it('the next step fits each kind of problem', async () => {
    const step = async (p: Pod) => check.evaluate({ pods: [named('p', p)], fine: 0, jobs: [], evicted: [], evictionEvents: [] }, await checkOptions(check), NOW).actions![0]!.text;
    expect(await step(pod([config], { ready: false }))).toBe('kubectl describe pod -n games p names what the container lacks (a ConfigMap, Secret or key): create it or fix the reference');
    expect(await step(pod([oom]))).toBe('games/p ran out of memory: raise its memory limit (or fix the leak), kubectl top pod -n games p shows its use');
    expect(await step(pod([restarts]))).toBe('read why games/p restarts: kubectl logs -n games p --previous and the last state in kubectl describe pod -n games p');
    expect(await step(pod([notReady], { ready: false, readySince: 1200 }))).toBe('kubectl describe pod -n games p: its conditions and events say which probe or container is not ready');
  });

  it('lists --max-items pods and counts the rest', async () => {
    const pods = ['a', 'b', 'c'].map((n) => named(n, pod([crash], { ready: false, readySince: 3120 })));
    const o = check.evaluate({ pods, fine: 0, jobs: [], evicted: [], evictionEvents: [] }, await checkOptions(check, ['--max-items', '2']), NOW);
    expect(o.findings.filter((f) => f.state === State.WARNING && f.text.startsWith('games/'))).toHaveLength(2);
    expect(o.findings.at(-1)).toEqual({ state: undefined, text: '... and 1 more (--max-items 2)' });
    const two = check.evaluate({ pods: pods.slice(0, 2), fine: 0, jobs: [], evicted: [], evictionEvents: [] }, await checkOptions(check, ['--max-items', '2']), NOW);
    expect(two.findings.some((f) => f.text.startsWith('...'))).toBe(false);
  });

  it('failed Jobs: up to two named, more counted; superseded CronJob runs are history; --jobs-critical', async () => {
    const jobs = [job('backup-1', 6000, 'backup'), job('backup-2', 2400, 'backup', 'Complete'), job('report-1', 600), job('sync-1', 300)];
    let o = check.evaluate({ pods: [], fine: 4, jobs, evicted: [], evictionEvents: [] }, await checkOptions(check), NOW);
    expect(outcomeState(o)).toBe(State.WARNING);
    expect(o.summary).toBe('2 failed Jobs (apps/report-1, apps/sync-1)');
    expect(o.findings.map((f) => f.text)).toContain('Job apps/backup-1 failed (BackoffLimitExceeded: m); a later run of its CronJob, backup-2, completed');
    o = check.evaluate({ pods: [], fine: 4, jobs: [...jobs, job('three-1', 60)], evicted: [], evictionEvents: [] }, await checkOptions(check, ['--jobs-critical', '2']), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(o.summary).toBe('3 failed Jobs');
    expect(o.findings).toContainEqual({ state: State.CRITICAL, text: '3 Jobs failed (outside --jobs-critical 2)' });
    // Within the ranges: the counts only, and the superseded one said as history.
    o = check.evaluate({ pods: [], fine: 4, jobs, evicted: [], evictionEvents: [] }, await checkOptions(check, ['--jobs-warning', '2', '--namespace', 'apps']), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    expect(o.summary).toBe('4/4 pods fine in apps, 4 Jobs, 2 failed (1 older failure superseded by a later run)');
    expect(o.findings).toContainEqual({ state: undefined, text: 'Job apps/sync-1 failed 5m ago: BackoffLimitExceeded: m' });
    o = check.evaluate({ pods: [], fine: 1, jobs: [job('backup-1', 6000, 'backup'), job('backup-0', 7000, 'backup'), job('backup-2', 60, 'backup', 'Complete')], evicted: [], evictionEvents: [] }, await checkOptions(check), NOW);
    expect(o.summary).toBe('1/1 pods fine, 3 Jobs, none failed (2 older failures superseded by a later run)');
    expect(o.actions).toBeUndefined();
  });
});

describe('evictions', () => {
  // As the kubelet leaves an evicted pod (pkg/kubelet/eviction: phase Failed, reason Evicted, DisruptionTarget since 1.26).
  const evicted = (name: string, node: string, message: string, secondsAgo: number | undefined, ns = 'apps'): Pod => ({
    metadata: { name, namespace: ns, creationTimestamp: ago(86400) },
    spec: { nodeName: node },
    status: {
      phase: 'Failed', reason: 'Evicted', message,
      conditions: secondsAgo === undefined ? [] : [{ type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message: 'The node was low on resource', lastTransitionTime: ago(secondsAgo) }],
    },
  });
  const DISK = 'The node was low on resource: ephemeral-storage. Threshold quantity: 2Gi, available: 1523564Ki. Container web was using 2Gi, request is 0, has larger consumption of ephemeral-storage. ';
  const MEM = 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 91244Ki. ';

  it('reads the resource from the kubelet\'s message formats, and the time from its conditions', async () => {
    const { evictedResource, evictionTime } = await import('../../lib/kube/evictions.js');
    expect(evictedResource(DISK)).toBe('ephemeral-storage');
    expect(evictedResource(MEM)).toBe('memory');
    expect(evictedResource('The node had condition: [DiskPressure]. ')).toBe('DiskPressure');
    expect(evictedResource('Pod ephemeral local storage usage exceeds the total limit of containers 1Gi. ')).toBe('ephemeral-storage (its own limit)');
    expect(evictedResource('Usage of EmptyDir volume "scratch" exceeds the limit "1Gi". ')).toBe('ephemeral-storage (its own limit)');
    expect(evictedResource(undefined)).toBe('unknown');
    expect(evictionTime(evicted('a', 'k8s01', DISK, 120))).toBe(NOW - 120_000);
    const readyOnly: Pod = { status: { conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: ago(30) }] } };
    expect(evictionTime(readyOnly)).toBe(NOW - 30_000);
    const containerEnd: Pod = { status: { containerStatuses: [{ state: { terminated: { finishedAt: ago(50) } } }, { state: { terminated: { finishedAt: ago(40) } } }] } };
    expect(evictionTime(containerEnd)).toBe(NOW - 40_000);
    expect(evictionTime({ status: {} })).toBeUndefined();
  });

  it('is WARNING for evictions within --window, grouped by node and resource, naming the node; older ones are info', async () => {
    const { default: check } = await import('../../checks/pods.js');
    const { checkOptions } = await import('./support.js');
    const data = {
      pods: [], fine: 5, jobs: [],
      evicted: [
        evicted('web-1', 'k8s02', DISK, 120), evicted('web-2', 'k8s02', DISK, 100), evicted('cache-1', 'k8s01', MEM, 300),
        evicted('old', 'k8s03', DISK, 3 * 3600), evicted('unknown-time', 'k8s03', DISK, undefined),
      ],
      evictionEvents: [
        { reason: 'EvictionThresholdMet', message: 'Attempting to reclaim ephemeral-storage', type: 'Warning', involvedObject: { kind: 'Node', name: 'k8s02' }, lastTimestamp: ago(130) },
        { reason: 'Evicted', message: DISK, involvedObject: { kind: 'Pod', namespace: 'apps', name: 'web-1' }, lastTimestamp: ago(120) },
      ],
    };
    const o = check.evaluate(data, await checkOptions(check), NOW);
    expect(outcomeState(o)).toBe(State.WARNING);
    expect(o.summary).toBe('3 pods evicted in 15m: 2 on k8s02 for ephemeral-storage, 1 on k8s01 for memory');
    expect(o.actions?.[0]?.text).toMatch(/^node k8s02 ran short of ephemeral-storage: on it, df -h/);
    const texts = o.findings.map((f) => f.text);
    expect(texts.find((t) => t.startsWith('k8s02:'))).toMatch(/^k8s02: 2 pods evicted for ephemeral-storage, the last 1m40s ago: apps\/web-2, apps\/web-1 \(The node was low on resource: ephemeral-storage\. Threshold quantity: 2Gi, /);
    expect(o.findings.find((f) => f.text.startsWith('k8s01:'))?.state).toBe(State.WARNING);
    expect(texts).toContain('event on node k8s02, 2m10s ago: EvictionThresholdMet: Attempting to reclaim ephemeral-storage');
    expect(texts).toContain('2 evicted pods from before --window 15m not counted (kubectl delete pods -A --field-selector status.phase=Failed removes them)');
    expect(Object.fromEntries(o.perfdata.map((p) => [p.label, p.value]))).toMatchObject({ evicted_pods: 3 });

    // The boundary: at -w 3 three evictions are OK, CRITICAL above --evicted-critical.
    const tolerated = check.evaluate(data, await checkOptions(check, ['--evicted-warning', '3']), NOW);
    expect(outcomeState(tolerated)).toBe(State.OK);
    expect(tolerated.summary).toBe('5/5 pods fine, 3 evicted in 15m, 0 Jobs, none failed');
    const critical = check.evaluate(data, await checkOptions(check, ['--evicted-critical', '2']), NOW);
    expect(outcomeState(critical)).toBe(State.CRITICAL);
    // A longer --window takes the 3-hour-old one in.
    const longer = check.evaluate(data, await checkOptions(check, ['--window', '4h']), NOW);
    expect(longer.summary).toMatch(/^4 pods evicted in 4h: 2 on k8s02 for ephemeral-storage, 1 on k8s01 for memory and 1 more$/);
  });
});
