import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiServers, expectContract, ROOT, runBuilt, type ApiServer } from '../harness.js';

const TITLE = 'WORKLOADS';
type Obj = Record<string, any>;

const fixture = (scenario: string, file: string): Obj[] =>
  JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', scenario, file), 'utf8')).objects;
const nodes = () => fixture('incident', 'nodes.json');

/** A DaemonSet of `desired` nodes with pods on `podsOn` (all Ready). */
function daemonSet(desired: number, podsOn: string[], extra: Obj = {}): Obj[] {
  const labels = { app: 'node-exporter' };
  const ds = {
    apiVersion: 'apps/v1', kind: 'DaemonSet',
    metadata: { name: 'node-exporter', namespace: 'monitoring', uid: 'd5000000-0000-4000-8000-000000000001', generation: 1, creationTimestamp: '$now-30d' },
    spec: { selector: { matchLabels: labels }, updateStrategy: { type: 'RollingUpdate' }, template: { metadata: { labels }, spec: { nodeSelector: { 'kubernetes.io/os': 'linux' } } } },
    status: {
      desiredNumberScheduled: desired, currentNumberScheduled: podsOn.length, numberReady: podsOn.length, numberAvailable: podsOn.length,
      numberUnavailable: desired - podsOn.length, updatedNumberScheduled: podsOn.length, numberMisscheduled: 0, observedGeneration: 1, ...extra,
    },
  };
  const pods = podsOn.map((node) => ({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: `node-exporter-${node}`, namespace: 'monitoring', labels, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'node-exporter', uid: ds.metadata.uid, controller: true }] },
    spec: { nodeName: node },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '$now-1h' }] },
  }));
  return [ds, ...pods];
}

/** A StatefulSet rolling from r1 to r2, whose update revision was made `revisionAge` ago. */
function rollingStatefulSet(revisionAge: string): Obj[] {
  const labels = { app: 'db' };
  return [
    {
      apiVersion: 'apps/v1', kind: 'StatefulSet',
      metadata: { name: 'db', namespace: 'apps', uid: 'd5000000-0000-4000-8000-000000000002', generation: 2, creationTimestamp: '$now-30d' },
      spec: { replicas: 3, selector: { matchLabels: labels }, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } } },
      status: { observedGeneration: 2, replicas: 3, readyReplicas: 2, availableReplicas: 2, currentReplicas: 2, updatedReplicas: 1, currentRevision: 'db-5d6c7b8f9', updateRevision: 'db-7f8e9d0c1' },
    },
    {
      apiVersion: 'apps/v1', kind: 'ControllerRevision', revision: 2,
      metadata: { name: 'db-7f8e9d0c1', namespace: 'apps', creationTimestamp: revisionAge, labels: { ...labels, 'controller.kubernetes.io/hash': '7f8e9d0c1' },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'd5000000-0000-4000-8000-000000000002', controller: true }] },
    },
  ];
}

describe('check_k8s_workloads against the API double', () => {
  const start = apiServers();
  let incident: ApiServer;
  let healthy: ApiServer;
  beforeAll(async () => { [incident, healthy] = await Promise.all([start('incident'), start('healthy')]); });

  it('is CRITICAL on the incident: the Jiva controllers and survive-minecraft down, the replicas and the CSI node DaemonSet degraded', async () => {
    const run = await runBuilt('workloads', ['--kubeconfig', incident.kubeconfig, '-v']);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(2);
    expect(run.firstLine).toMatch(/^K8S WORKLOADS CRITICAL - 7 workloads with no ready replica: games\/survive-minecraft, openebs\/pvc-05e03b60-[0-9a-f-]+-jiva-ctrl and 5 more; 7 workloads degraded: openebs\/openebs-jiva-csi-node, openebs\/pvc-05e03b60-[0-9a-f-]+-jiva-rep and 5 more \| /);
    expect(run.perf).toMatchObject({ unhealthy_workloads: '14', down_workloads: '7', workloads: '16', excluded_workloads: '0' });
    expect(run.firstLine).toContain(' unhealthy_workloads=14;0;;0;16 down_workloads=7;;0;0;16 ');
    expect(run.stdout).toContain('\n[CRITICAL] Deployment openebs/pvc-05e03b60-1c2d-4e8f-9a7b-3c4d5e6f7a81-jiva-ctrl: no ready replica (0/1 replicas ready, 0 available); Available=False MinimumReplicasUnavailable: Deployment does not have minimum availability.\n');
    expect(run.stdout).toContain('\n[WARNING] DaemonSet openebs/openebs-jiva-csi-node: 2/3 pods ready, 2 available; not available on k8s02 (CrashLoopBackOff)\n');
    expect(run.stdout).toContain('\n[WARNING] StatefulSet openebs/pvc-a634b9a3-9e8d-4c7b-a6f5-0e1d2c3b4a53-jiva-rep: 2/3 replicas ready, 2 available\n');
    // calico-node counts every pod Ready: check_k8s_calico_nat is what sees k8s02's NAT table.
    expect(run.stdout).not.toMatch(/DaemonSet kube-system\/calico-node/);
  });

  it('asks five paged lists, then only the nodes and the pods of the DaemonSet short of pods', async () => {
    const before = incident.requests().length;
    await runBuilt('workloads', ['--kubeconfig', incident.kubeconfig]);
    const reqs = incident.requests().slice(before);
    expect(reqs.map((r) => r.path).sort()).toEqual([
      '/api/v1/namespaces/openebs/pods', '/api/v1/nodes', '/apis/apps/v1/daemonsets', '/apis/apps/v1/deployments', '/apis/apps/v1/statefulsets',
      '/apis/batch/v1/cronjobs', '/apis/batch/v1/jobs',
    ]);
    expect(reqs.find((r) => r.path.endsWith('/pods'))!.query).toMatchObject({ labelSelector: 'app=openebs-jiva-csi-node' });
    for (const r of reqs) expect(r.query.limit).toBe('500');
  });

  it('pages through long lists with continue tokens and judges the same', async () => {
    const before = incident.requests().length;
    const run = await runBuilt('workloads', ['--kubeconfig', incident.kubeconfig, '--page-size', '3']);
    expect(run.code, run.stdout).toBe(2);
    expect(run.perf).toMatchObject({ unhealthy_workloads: '14', down_workloads: '7', workloads: '16' });
    const deployments = incident.requests().slice(before).filter((r) => r.path === '/apis/apps/v1/deployments');
    expect(deployments.length).toBe(3); // 8 Deployments, 3 a page
    expect(deployments.slice(1).every((r) => r.query.continue)).toBe(true);
  });

  it('is OK on the healthy cluster, a rollout within the window included', async () => {
    const run = await runBuilt('workloads', ['--kubeconfig', healthy.kubeconfig, '-v']);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(0);
    expect(run.firstLine).toBe('K8S WORKLOADS OK - 17/17 workloads healthy (9 Deployments, 6 StatefulSets, 2 DaemonSets), 1 rolling out' +
      ' | unhealthy_workloads=0;0;;0;17 down_workloads=0;;0;0;17 workloads=17;;;0 excluded_workloads=0;;;0 stale_cronjobs=0;;;0;2 long_running_jobs=0;;;0');
    expect(run.stdout).toMatch(/\nDeployment apps\/web-frontend: rolling out: 1\/2 updated, last progress \d+s ago\n/);
  });

  it('passes --namespace and --selector to the server, and pages', async () => {
    const before = incident.requests().length;
    const run = await runBuilt('workloads', ['--kubeconfig', incident.kubeconfig, '--namespace', 'games', '--selector', 'app=survive-minecraft', '--page-size', '1']);
    expect(run.code, run.stdout).toBe(2);
    expect(run.firstLine).toMatch(/^K8S WORKLOADS CRITICAL - 1 workload with no ready replica: games\/survive-minecraft \| .* workloads=1;;;0/);
    const reqs = incident.requests().slice(before);
    expect(reqs.map((r) => r.path).sort()).toEqual(['/apis/apps/v1/namespaces/games/daemonsets', '/apis/apps/v1/namespaces/games/deployments', '/apis/apps/v1/namespaces/games/statefulsets',
      '/apis/batch/v1/namespaces/games/cronjobs', '/apis/batch/v1/namespaces/games/jobs']);
    for (const r of reqs) expect(r.query).toMatchObject({ labelSelector: 'app=survive-minecraft', limit: '1' });
  });

  it('excludes by NS/NAME glob and by the k8s-nrpe/ignore annotation', async () => {
    const run = await runBuilt('workloads', ['--kubeconfig', incident.kubeconfig, '--exclude', 'openebs/*', '--exclude', 'survive-*', '-v']);
    expect(run.code, run.stdout).toBe(0);
    expect(run.firstLine).toMatch(/^K8S WORKLOADS OK - 2\/2 workloads healthy \(1 Deployment, 0 StatefulSets, 1 DaemonSet\), 14 excluded \| .* excluded_workloads=14;;;0 stale_cronjobs=0;;;0;0 long_running_jobs=0;;;0$/);
    expect(run.stdout).toContain('\nDeployment games/survive-minecraft not judged (--exclude survive-*)\n');

    const objects = [...fixture('incident', 'workloads.json'), ...nodes()];
    objects.find((o) => o.metadata.name === 'survive-minecraft' && o.kind === 'Deployment')!.metadata.annotations['k8s-nrpe/ignore'] = 'true';
    const s = await start({ objects });
    const annotated = await runBuilt('workloads', ['--kubeconfig', s.kubeconfig, '--namespace', 'games', '-v']);
    expect(annotated.code, annotated.stdout).toBe(0);
    expect(annotated.stdout).toContain('\nDeployment games/survive-minecraft not judged (annotation k8s-nrpe/ignore)\n');
  });

  it('names the node a DaemonSet has no pod on, reading the nodes only then', async () => {
    const s = await start({ objects: [...nodes(), ...daemonSet(3, ['k8s01', 'k8s03'])] });
    const run = await runBuilt('workloads', ['--kubeconfig', s.kubeconfig, '-v']);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(1);
    expect(run.firstLine).toMatch(/^K8S WORKLOADS WARNING - 1 workload unhealthy: monitoring\/node-exporter \| /);
    expect(run.stdout).toContain('\n[WARNING] DaemonSet monitoring/node-exporter: 2/3 pods ready, 2 available; no pod on 1 of 3 nodes that should run one: k8s02\n');
    expect(s.requests().map((r) => r.path)).toContain('/api/v1/nodes');
  });

  it('stays quiet about a DaemonSet one pod short on a cordoned node (a rolling reboot), saying so', async () => {
    const s = await start('rolling-reboot');
    const run = await runBuilt('workloads', ['--kubeconfig', s.kubeconfig, '-v']);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(0);
    expect(run.firstLine).toMatch(/^K8S WORKLOADS OK - 1\/1 workloads healthy \(0 Deployments, 0 StatefulSets, 1 DaemonSet\) \| /);
    expect(run.stdout).toContain('\nDaemonSet kube-system/calico-node: 1 pod short on cordoned k8s02 (spec.unschedulable: maintenance or a rolling reboot), not counted; uncordon when done\n');
    // Uncordoned with the pod still not ready: counted.
    const objects = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'rolling-reboot.json'), 'utf8')).objects as Obj[];
    for (const o of objects) if (o.kind === 'Node') o.spec = {};
    const after = await start({ objects });
    const late = await runBuilt('workloads', ['--kubeconfig', after.kubeconfig]);
    expect(late.code, late.stdout).toBe(1);
    expect(late.firstLine).toMatch(/^K8S WORKLOADS WARNING - 1 workload unhealthy: kube-system\/calico-node \| /);
  });

  it('warns naming a CronJob not succeeding for twice its interval (in its zone), one never succeeding, and a Job running too long', async () => {
    const s = await start('cronjobs');
    const run = await runBuilt('workloads', ['--kubeconfig', s.kubeconfig, '-v']);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(1);
    expect(run.firstLine).toMatch(/^K8S WORKLOADS WARNING - 2 CronJobs not succeeding: ops\/backup, ops\/never; 1 Job running too long: ops\/migrate-schema \| .*stale_cronjobs=2;;;0;4 long_running_jobs=1;;;0$/);
    expect(run.stdout).toMatch(/\nWhat to do: see why CronJob ops\/backup stopped succeeding: kubectl describe cronjob -n ops backup /);
    expect(run.stdout).toContain("\n[WARNING] CronJob ops/backup: last succeeded 4d ago, runs every 1d ('0 2 * * *' Europe/Berlin), more than 2d\n");
    expect(run.stdout).toMatch(/\n\[WARNING\] CronJob ops\/never: never succeeded in 3d since it was created, runs every 1d \('0 2 \* \* \*'\); last scheduled never\n/);
    expect(run.stdout).toContain('\n[WARNING] Job ops/migrate-schema: running for 13h, more than 12h (1 active pod)\n');
    expect(run.stdout).toContain('\nCronJob ops/paused: suspended (spec.suspend), not judged\n');
    expect(run.stdout).not.toMatch(/reindex|ops\/sync:/);
    // --cronjob-stale and --job-max-duration move the lines.
    const loose = await runBuilt('workloads', ['--kubeconfig', s.kubeconfig, '--cronjob-stale', '5d', '--job-max-duration', '14h']);
    expect(loose.code, loose.stdout).toBe(0);
    expect(loose.perf).toMatchObject({ stale_cronjobs: '0', long_running_jobs: '0' });
  });

  it('--name NS/CRONJOB sees the Jobs that CronJob owns: its last success and a run that never ends', async () => {
    // Jobs carry their CronJob's name only in ownerReferences: 'never' succeeded an hour ago through a Job
    // (its status.lastSuccessfulTime not yet written), and a run of 'sync' has been going for 13h.
    const job = (name: string, cron: string, status: Obj): Obj => ({
      apiVersion: 'batch/v1', kind: 'Job',
      metadata: { name, namespace: 'ops', creationTimestamp: status.startTime, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: cron, uid: `uid-${cron}`, controller: true }] },
      spec: { backoffLimit: 6, completions: 1, parallelism: 1, template: { spec: { restartPolicy: 'Never', containers: [{ name: cron, image: 'registry.example/tools:1' }] } } },
      status,
    });
    const objects = [
      ...JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'cronjobs.json'), 'utf8')).objects as Obj[],
      job('never-29163480', 'never', { startTime: '$now-70m', completionTime: '$now-1h', succeeded: 1, conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: '$now-1h' }] }),
      job('sync-29163420', 'sync', { startTime: '$now-13h', active: 1, ready: 1 }),
    ];
    const s = await start({ objects });
    const never = await runBuilt('workloads', ['--kubeconfig', s.kubeconfig, '--name', 'ops/never', '-v']);
    expectContract(never, TITLE);
    expect(never.code, never.stdout).toBe(0);
    expect(never.perf).toMatchObject({ stale_cronjobs: '0', long_running_jobs: '0' });
    const sync = await runBuilt('workloads', ['--kubeconfig', s.kubeconfig, '--name', 'ops/sync', '-v']);
    expectContract(sync, TITLE);
    expect(sync.code, sync.stdout).toBe(1);
    expect(sync.firstLine).toMatch(/^K8S WORKLOADS WARNING - 1 Job running too long: ops\/sync-29163420 \| /);
    expect(sync.stdout).toContain('\n[WARNING] Job ops/sync-29163420: running for 13h, more than 12h (1 active pod), a run of CronJob sync\n');
    expect(sync.stdout).not.toMatch(/migrate-schema|backup/);
    // The named Job by field selector, as every workload; the CronJob's own Jobs listed in its namespace.
    const jobs = s.requests().filter((q) => q.path === '/apis/batch/v1/namespaces/ops/jobs');
    expect(jobs.map((q) => q.query.fieldSelector ?? 'none').sort()).toEqual(['metadata.name=never', 'metadata.name=sync', 'none', 'none']);
    // Without --name the same verdicts, for the whole cluster.
    const all = await runBuilt('workloads', ['--kubeconfig', s.kubeconfig, '-v']);
    expect(all.stdout).toContain('\n[WARNING] Job ops/sync-29163420: running for 13h, more than 12h (1 active pod), a run of CronJob sync\n');
    expect(all.stdout).not.toMatch(/CronJob ops\/never: never succeeded/);
  });

  it('judges misscheduled DaemonSet pods, and -w/-c on the count', async () => {
    const s = await start({ objects: [...nodes(), ...daemonSet(3, ['k8s01', 'k8s02', 'k8s03'], { numberMisscheduled: 1 })] });
    const run = await runBuilt('workloads', ['--kubeconfig', s.kubeconfig, '-w', '1', '-c', '2']);
    expect(run.code, run.stdout).toBe(0);
    expect(run.firstLine).toMatch(/^K8S WORKLOADS OK - 0\/1 workloads healthy .*\| unhealthy_workloads=1;1;2;0;1 /);
    const strict = await runBuilt('workloads', ['--kubeconfig', s.kubeconfig, '-c', '0']);
    expect(strict.code, strict.stdout).toBe(2);
    expect(strict.stdout).toContain('\n[CRITICAL] DaemonSet monitoring/node-exporter: 1 pod on nodes that should not run it (numberMisscheduled)\n');
  });

  it('times a StatefulSet rollout from its update revision: young is a note, old a problem', async () => {
    const young = await start({ objects: rollingStatefulSet('$now-2m') });
    const ok = await runBuilt('workloads', ['--kubeconfig', young.kubeconfig, '-v']);
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.stdout).toMatch(/\nStatefulSet apps\/db: rolling out for 2m\d*s?: 1\/3 updated\n/);
    expect(young.requests().map((r) => r.path)).toContain('/apis/apps/v1/namespaces/apps/controllerrevisions/db-7f8e9d0c1');

    const old = await start({ objects: rollingStatefulSet('$now-2h') });
    const stuck = await runBuilt('workloads', ['--kubeconfig', old.kubeconfig]);
    expect(stuck.code, stuck.stdout).toBe(1);
    expect(stuck.stdout).toContain('\n[WARNING] StatefulSet apps/db: 2/3 replicas ready, 2 available; rollout not done after 2h: 1/3 updated\n');
  });

  it('judges without the rollout start when ControllerRevisions are forbidden, and says so', async () => {
    const s = await start({ objects: rollingStatefulSet('$now-2h') }, { rules: [{ path: 'controllerrevisions', forbid: true }] });
    const run = await runBuilt('workloads', ['--kubeconfig', s.kubeconfig, '-v']);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(1);
    expect(run.stdout).toContain('rolling out (1/3 updated); when it began is not known');
    expect(run.stdout).toMatch(/\nwhen 1 rollout began is not known: .*forbidden to get controllerrevisions/);
  });

  it('names a Deployment rollout past its progress deadline', async () => {
    const dep = fixture('healthy', 'workloads.json').find((o) => o.metadata.name === 'web-frontend')!;
    dep.status.conditions[1] = { type: 'Progressing', status: 'False', lastUpdateTime: '$now-3m', lastTransitionTime: '$now-3m', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "web-frontend-5f6a7b8c9" has timed out progressing.' };
    const s = await start({ objects: [dep] });
    const run = await runBuilt('workloads', ['--kubeconfig', s.kubeconfig]);
    expect(run.code, run.stdout).toBe(1);
    expect(run.stdout).toContain('\n[WARNING] Deployment apps/web-frontend: rollout stuck: ProgressDeadlineExceeded (ReplicaSet "web-frontend-5f6a7b8c9" has timed out progressing.), 1/2 updated\n');
  });

  it('rejects --rollout-window 0 as UNKNOWN with one line', async () => {
    const run = await runBuilt('workloads', ['--kubeconfig', healthy.kubeconfig, '--rollout-window', '0']);
    expect(run.code).toBe(3);
    expect(run.firstLine).toMatch(/^K8S WORKLOADS UNKNOWN - invalid --rollout-window '0'/);
  });
});
