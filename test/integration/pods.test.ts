import { beforeAll, describe, expect, it } from 'vitest';
import { apiServers, expectContract, runBuilt, type ApiServer } from '../harness.js';

const TITLE = 'PODS';
type Obj = Record<string, any>;

/** A Running pod with one container in the given state. */
function pod(name: string, container: Obj, o: { ready?: boolean; readySince?: string; owner?: Obj; phase?: string } = {}): Obj {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'apps', uid: `0000000${name.length}-0000-4000-8000-000000000001`, creationTimestamp: '$now-2d', labels: { app: name.split('-')[0] },
      ...(o.owner && { ownerReferences: [o.owner] }) },
    spec: { nodeName: 'k8s01', containers: [{ name: container.name, image: 'registry.local/app:v2' }] },
    status: {
      phase: o.phase ?? 'Running', startTime: '$now-2d',
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastProbeTime: null, lastTransitionTime: o.readySince ?? '$now-2d' }],
      containerStatuses: [container],
    },
  };
}

const scenario: Obj[] = [
  pod('pull-6b8f7d9c4-k2x7p', { name: 'app', ready: false, restartCount: 0, image: 'registry.local/app:v2', state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "registry.local/app:v2"' } } }, { ready: false, readySince: '$now-3m' }),
  pod('config-7f9c5d6b8-m4q8z', { name: 'app', ready: false, restartCount: 0, state: { waiting: { reason: 'CreateContainerConfigError', message: 'secret "db-password" not found' } } }, { ready: false, readySince: '$now-20m' }),
  pod('java-5b7d9f8c6-r2t6w', { name: 'java', ready: true, restartCount: 2, state: { running: { startedAt: '$now-4m' } },
    lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: '$now-1h', finishedAt: '$now-4m' } } }),
  pod('flappy-8c6d4b7f9-h9n3v', { name: 'worker', ready: true, restartCount: 12, state: { running: { startedAt: '$now-3m' } },
    lastState: { terminated: { exitCode: 2, reason: 'Error', startedAt: '$now-10m', finishedAt: '$now-3m' } } }),
  pod('slow-9d5f7c8b6-k5p7s', { name: 'app', ready: false, restartCount: 0, started: true, state: { running: { startedAt: '$now-40m' } } }, { ready: false, readySince: '$now-40m' }),
  pod('fine-6c8b5d9f7-w8j4d', { name: 'app', ready: true, restartCount: 1, state: { running: { startedAt: '$now-1d' } },
    lastState: { terminated: { exitCode: 0, reason: 'Completed', startedAt: '$now-2d', finishedAt: '$now-1d' } } }),
  // A Job's pod that is not Ready is not a problem (KubePodNotReady leaves them out too).
  pod('migrate-29163540-q8x2m', { name: 'migrate', ready: false, restartCount: 0, state: { running: { startedAt: '$now-30m' } } },
    { ready: false, readySince: '$now-30m', owner: { apiVersion: 'batch/v1', kind: 'Job', name: 'migrate-29163540', uid: '00000000-0000-4000-8000-000000049990', controller: true } }),
  // Finished pods never reach the check: the field selector leaves them on the server.
  pod('done-29163000-abcde', { name: 'x', ready: false, restartCount: 0, state: { terminated: { exitCode: 1, reason: 'Error', finishedAt: '$now-1m' } } }, { phase: 'Failed', ready: false }),
];

describe('check_k8s_pods against the API double', () => {
  const start = apiServers();
  let incident: ApiServer;
  let healthy: ApiServer;
  beforeAll(async () => { [incident, healthy] = await Promise.all([start('incident'), start('healthy')]); });

  it('warns on the incident: survive-minecraft and the Jiva CSI node crashlooping, sandbox-less pods not Ready, a failed backup Job', async () => {
    const run = await runBuilt('pods', ['--kubeconfig', incident.kubeconfig, '-v']);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(1);
    expect(run.firstLine).toMatch(/^K8S PODS WARNING - 14 pods failing: 2 CrashLoopBackOff, 12 not Ready; 1 failed Job \(apps\/backup-29163480\) \| /);
    expect(run.perf).toMatchObject({ problem_pods: '14', crashloop_pods: '2', not_ready_pods: '12', failed_jobs: '1', unscheduled_pods: '46', terminating_pods: '12' });
    expect(run.stdout).toContain('\n[WARNING] games/survive-minecraft-7d4b9c8f6-p2xkq on k8s03: container minecraft CrashLoopBackOff: back-off 5m0s restarting failed container=minecraft pod=survive-minecraft-7d4b9c8f6-p2xkq_games(7e3a9c1d-5b2f-4e8a-9c6d-1f4b7e2a8c5d) (23 restarts, last exit Error (1))\n');
    const verbose = await runBuilt('pods', ['--kubeconfig', incident.kubeconfig, '-vv']);
    expect(verbose.stdout).toMatch(/\n\[WARNING\] apps\/api-0-6b8f7d9c4-\w+ on k8s02: not Ready for \d+m\d*s?: ContainerCreating\n/);
    expect(verbose.stdout).toMatch(/\n\[WARNING\] Job apps\/backup-29163480 failed 12m\d*s? ago: BackoffLimitExceeded: Job has reached the specified backoff limit\n/);
    expect(verbose.stdout).toContain('\n46 pods Pending without a node: not judged here, see check_k8s_scheduler_stall\n');
    expect(verbose.stdout).toContain('\n12 pods Terminating: not judged here, see check_k8s_stuck_terminating\n');
  });

  it('leaves finished pods on the server, lists pods and Jobs in parallel', async () => {
    const before = incident.requests().length;
    await runBuilt('pods', ['--kubeconfig', incident.kubeconfig, '--namespace', 'games', '--selector', 'app=survive-minecraft']);
    const reqs = incident.requests().slice(before);
    expect(reqs.map((r) => r.path).sort()).toEqual(['/api/v1/namespaces/games/pods', '/api/v1/namespaces/games/pods', '/apis/batch/v1/namespaces/games/jobs']);
    const pods = reqs.filter((r) => r.path.endsWith('/pods')).map((r) => r.query).sort((a, b) => String(a.fieldSelector).localeCompare(String(b.fieldSelector)));
    expect(pods).toEqual([
      expect.objectContaining({ fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed', labelSelector: 'app=survive-minecraft' }),
      // Evicted pods: only the Failed ones, filtered by the server.
      expect.objectContaining({ fieldSelector: 'status.phase=Failed', labelSelector: 'app=survive-minecraft' }),
    ]);
  });

  it('is OK on the healthy cluster; a failed Job a later run superseded is history', async () => {
    const run = await runBuilt('pods', ['--kubeconfig', healthy.kubeconfig, '-v']);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(0);
    expect(run.firstLine).toMatch(/^K8S PODS OK - 66\/67 pods fine \(1 terminating: judged by other checks\), 3 Jobs, none failed \(1 older failure superseded by a later run\) \| problem_pods=0;0;;0;67 failed_jobs=0;0;;0;3 /);
    expect(run.stdout).toContain('\nJob apps/backup-29163420 failed (BackoffLimitExceeded: Job has reached the specified backoff limit); a later run of its CronJob, backup-29163480, completed\n');
  });

  it('names each kind of container failure once, worst kind first', async () => {
    const s = await start({ objects: scenario });
    const run = await runBuilt('pods', ['--kubeconfig', s.kubeconfig, '-vv']);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(1);
    expect(run.firstLine).toMatch(/^K8S PODS WARNING - 5 pods failing: 1 image pull failing, 1 container config error, 1 OOMKilled, 1 restarting, 1 not Ready \| /);
    expect(run.perf).toMatchObject({ pods: '7', problem_pods: '5', image_pull_pods: '1', config_error_pods: '1', oomkilled_pods: '1', restarting_pods: '1', not_ready_pods: '1' });
    const lines = run.stdout.split('\n').filter((l) => l.startsWith('[WARNING] apps/'));
    expect(lines).toEqual([
      '[WARNING] apps/pull-6b8f7d9c4-k2x7p on k8s01: container app ImagePullBackOff: Back-off pulling image "registry.local/app:v2" (0 restarts)',
      '[WARNING] apps/config-7f9c5d6b8-m4q8z on k8s01: container app CreateContainerConfigError: secret "db-password" not found (0 restarts)',
      expect.stringMatching(/^\[WARNING\] apps\/java-5b7d9f8c6-r2t6w on k8s01: container java OOMKilled 4m\d*s? ago \(2 restarts\)$/),
      expect.stringMatching(/^\[WARNING\] apps\/flappy-8c6d4b7f9-h9n3v on k8s01: container worker restarted 12 times, the last 3m\d*s? ago \(Error, exit 2\)$/),
      expect.stringMatching(/^\[WARNING\] apps\/slow-9d5f7c8b6-k5p7s on k8s01: not Ready for 40m\d*s?: container app running but not ready$/),
    ]);
  });

  it('takes -w/-c, --restarts and --window', async () => {
    const s = await start({ objects: scenario });
    const tolerant = await runBuilt('pods', ['--kubeconfig', s.kubeconfig, '-w', '5', '-c', '10']);
    expect(tolerant.code, tolerant.stdout).toBe(0);
    expect(tolerant.firstLine).toMatch(/^K8S PODS OK - 2\/7 pods fine, 5 within thresholds, 0 Jobs, none failed \| problem_pods=5;5;10;0;7 /);
    const strict = await runBuilt('pods', ['--kubeconfig', s.kubeconfig, '-c', '4']);
    expect(strict.code).toBe(2);
    // 12 restarts no longer count above 20; a 4-minute-old OOM kill is history in a 2-minute window.
    const narrow = await runBuilt('pods', ['--kubeconfig', s.kubeconfig, '--restarts', '20', '--window', '2m']);
    expect(narrow.perf).toMatchObject({ restarting_pods: '0', oomkilled_pods: '0', problem_pods: '3' });
  });

  it('warns on pods evicted within --window, by node and resource, with the kubelet\'s events; asks for events only then', async () => {
    const s = await start('evictions');
    const before = s.requests().length;
    const run = await runBuilt('pods', ['--kubeconfig', s.kubeconfig, '-v']);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(1);
    expect(run.firstLine).toMatch(/^K8S PODS WARNING - 3 pods evicted in 15m: 2 on k8s02 for ephemeral-storage, 1 on k8s01 for memory \| .*evicted_pods=3;0;;0$/);
    expect(run.stdout).toMatch(/\nWhat to do: node k8s02 ran short of ephemeral-storage: on it, df -h and df -i /);
    expect(run.stdout).toMatch(/\n\[WARNING\] k8s02: 2 pods evicted for ephemeral-storage, the last 2m\d*s? ago: media\/transcode-7c9d8f6b5-x2k4p, media\/transcode-7c9d8f6b5-q8w3n \(The node was low on resource: ephemeral-storage\. /);
    expect(run.stdout).toMatch(/\nevent on node k8s02, 2m\d*s? ago: EvictionThresholdMet: Attempting to reclaim ephemeral-storage\n/);
    expect(run.stdout).toContain('\n1 evicted pod from before --window 15m not counted');
    const reqs = s.requests().slice(before);
    expect(reqs.map((r) => `${r.path}?${r.query.fieldSelector ?? ''}`).sort()).toEqual([
      '/api/v1/namespaces/default/events?reason=EvictionThresholdMet',
      '/api/v1/namespaces/media/events?involvedObject.kind=Pod,reason=Evicted',
      '/api/v1/namespaces/monitoring/events?involvedObject.kind=Pod,reason=Evicted',
      '/api/v1/pods?status.phase!=Succeeded,status.phase!=Failed',
      '/api/v1/pods?status.phase=Failed',
      '/apis/batch/v1/jobs?',
    ]);
    // Older evictions only: OK, and no events asked for.
    const mark = s.requests().length;
    const narrow = await runBuilt('pods', ['--kubeconfig', s.kubeconfig, '--window', '1m']);
    expect(narrow.code, narrow.stdout).toBe(0);
    expect(narrow.firstLine).toMatch(/^K8S PODS OK - 2\/2 pods fine, 0 evicted in 1m, 0 Jobs, none failed \| /);
    expect(s.requests().slice(mark).some((r) => r.path.endsWith('/events'))).toBe(false);
    const critical = await runBuilt('pods', ['--kubeconfig', s.kubeconfig, '--evicted-critical', '2']);
    expect(critical.code, critical.stdout).toBe(2);
  });

  it('judges evictions the same when the events are forbidden, and says they were not read', async () => {
    const s = await start('evictions', { rules: [{ path: '/events$', forbid: true }] });
    const run = await runBuilt('pods', ['--kubeconfig', s.kubeconfig, '-v']);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(1);
    expect(run.firstLine).toMatch(/^K8S PODS WARNING - 3 pods evicted in 15m: 2 on k8s02 for ephemeral-storage, 1 on k8s01 for memory \| /);
    expect(run.stdout).toMatch(/\nthe kubelet's eviction events not read: .*forbidden/);
    expect(run.stdout).not.toContain('EvictionThresholdMet');
  });

  it('judges failed Jobs by --jobs-warning/--jobs-critical', async () => {
    const run = await runBuilt('pods', ['--kubeconfig', incident.kubeconfig, '--namespace', 'apps', '--jobs-critical', '0', '-w', '100']);
    expect(run.code, run.stdout).toBe(2);
    expect(run.firstLine).toMatch(/^K8S PODS CRITICAL - 1 failed Job \(apps\/backup-29163480\) \| .*failed_jobs=1;0;0;0;2 /);
  });
});
