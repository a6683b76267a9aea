import { beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../../lib/kube/client.js';
import { RESOURCES } from '../../lib/kube/resources.js';
import { connect } from '../../lib/kube/kubeconfig.js';
import { apiServers, expectContract, near, ownSeconds, runBuilt, type ApiServer, type RecordedRequest } from '../harness.js';

const TITLE = 'STUCK TERMINATING';
const CHECK = 'stuck_terminating';

const JIVA_CTRL = /^openebs\/pvc-[0-9a-f-]+-jiva-ctrl-[0-9a-z]+-[0-9a-z]{5}$/;
const sum = (reqs: RecordedRequest[]) => reqs.reduce((n, r) => n + r.bytes, 0);

/** Bytes the API server sends for a full (not metadata-only) list of every pod, asked for with the project's own client. */
async function fullPodListBytes(s: ApiServer): Promise<number> {
  const before = s.requests().length;
  const client = new KubeClient(await connect(s.kubeconfig, undefined, {}), new AbortController().signal);
  try {
    await client.list(RESOURCES.pods);
  } finally {
    client.close();
  }
  return sum(s.requests().slice(before));
}

const node = (name: string, ready: string) => ({
  apiVersion: 'v1', kind: 'Node',
  metadata: { name, labels: { 'kubernetes.io/hostname': name } },
  status: { conditions: [{ type: 'Ready', status: ready, reason: ready === 'Unknown' ? 'NodeStatusUnknown' : 'KubeletNotReady', lastHeartbeatTime: '$now-25m', lastTransitionTime: '$now-24m' }] },
});
/** A pod deleted `deletedAgo` (e.g. '20m30s') with a 30 s grace, as the apiserver records it: deletionTimestamp = delete time + 30 s. */
const stuckPod = (ns: string, name: string, nodeName: string, deadline: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: {
    name, namespace: ns, creationTimestamp: '$now-3d', deletionTimestamp: deadline, deletionGracePeriodSeconds: 30,
    labels: { app: 'db' },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: '00000000-0000-4000-8000-0000000d0001', controller: true, blockOwnerDeletion: true }],
    ...extra,
  },
  spec: { nodeName, terminationGracePeriodSeconds: 30, containers: [{ name: 'db', image: 'postgres:16' }] },
  status: { phase: 'Running', startTime: '$now-3d' },
});

describe('check_k8s_stuck_terminating against the API double', () => {
  const start = apiServers();

  let incident: ApiServer;
  beforeAll(async () => { incident = await start('incident'); });

  it('is CRITICAL on the incident: Jiva ctrl pods behind PDB deadlocks, orphaned hostpath pods, replica pods', async () => {
    const run = await runBuilt(CHECK, ['--kubeconfig', incident.kubeconfig]);
    expectContract(run, TITLE);
    expect(run.code).toBe(2);
    // A PDB does not hold a pod already Terminating: the summary says the PDB is deadlocked, not that it holds these (issue 13.9).
    expect(run.firstLine).toMatch(new RegExp(`^K8S STUCK TERMINATING CRITICAL - 12 pods stuck Terminating for up to ${near('1h')} on k8s02: 3 orphaned \\(no owner\\), 6 selected by a deadlocked PDB \\(it blocks drains, not this\\) \\| `));
    expect(run.perf).toMatchObject({ stuck_pods: '12', orphaned_stuck_pods: '3', pdb_blocked_pods: '6', terminating_pods: '12' });
    const oldest = Number(run.perf.oldest_stuck_age!.replace(/s$/, ''));
    expect(oldest).toBeGreaterThanOrEqual(3600 - 10); // '$now-1h' seen from the check's start (see near())
    expect(oldest).toBeLessThan(3600 + 60);
    expect(Buffer.byteLength(run.stdout)).toBeLessThanOrEqual(8191);
    expect(run.stdout).toMatch(new RegExp(`\\n\\[CRITICAL\\] openebs/pvc-05e03b60-\\S+-jiva-ctrl-\\S+ stuck Terminating ${near('1h')} past its 30s grace; on k8s02 \\(Ready\\); PDB deadlock`));
    expect(run.stdout.split('\n')[1]).toMatch(/^What to do: .*kubectl delete pod -n \S+ --force --grace-period=0 /);
  });

  it('with -v names every stuck pod, why, and the remedy as text', async () => {
    const run = await runBuilt(CHECK, ['--kubeconfig', incident.kubeconfig, '-v']);
    expect(run.code).toBe(2);
    const lines = run.stdout.trimEnd().split('\n');
    const pods = lines.filter((l) => l.startsWith('[CRITICAL] '));
    expect(pods).toHaveLength(12);
    expect(pods.filter((l) => JIVA_CTRL.test(l.split(' ')[1]!) && /PDB deadlock \(pvc-[0-9a-f-]+-jiva-ctrl-pdb: 0 disruptions allowed, 0\/1 healthy\); owner ReplicaSet\//.test(l))).toHaveLength(6);
    expect(pods.filter((l) => new RegExp(`^\\[CRITICAL\\] kube-system/hostpath-provisioner-k8s02-[a-z0-9]{5} stuck Terminating ${near('40m')} past its 30s grace; on k8s02 \\(Ready\\); no owner \\(orphaned: nothing recreates it\\)$`).test(l))).toHaveLength(3);
    expect(pods.filter((l) => new RegExp(`jiva-rep-\\d stuck Terminating ${near('25m')} `).test(l) && /its StatefulSet recreates it only once it is gone; its required anti-affinity still keeps matching pods off k8s02; owner StatefulSet\//.test(l))).toHaveLength(3);
    expect(lines).toContain('node k8s02 is Ready but its kubelet has not finished 12 stuck pods: look at the kubelet and container runtime there (stuck containers, volume unmounts, a kubelet stall)');
    expect(lines.filter((l) => /^PDB openebs\/pvc-\S+-jiva-ctrl-pdb: disruptionsAllowed 0, currentHealthy 0 < desiredHealthy 1$/.test(l))).toHaveLength(6);
    expect(lines.find((l) => l.includes('-n kube-system'))).toMatch(/^remedy once the cause is understood \(this check never acts\): kubectl delete pod -n kube-system --force --grace-period=0 hostpath-provisioner-k8s02-\w{5} hostpath-provisioner-k8s02-\w{5} hostpath-provisioner-k8s02-\w{5}$/);
  });

  it('lists pods once, metadata-only, and GETs only the stuck pods, their node and the PDBs of their namespaces', async () => {
    const before = incident.requests().length;
    await runBuilt(CHECK, ['--kubeconfig', incident.kubeconfig]);
    const reqs = incident.requests().slice(before);
    for (const r of reqs) { expect(r.method).toBe('GET'); expect(r.status).toBe(200); }

    const lists = reqs.filter((r) => r.path === '/api/v1/pods');
    expect(lists.length).toBeGreaterThanOrEqual(1);
    // No selector can find deletionTimestamp: every pod, page by page.
    for (const r of lists) expect(r.query).toEqual(r.query.continue ? { limit: '500', continue: r.query.continue } : { limit: '500' });
    // Metadata-only: the same list in full costs far more bytes.
    expect(sum(lists)).toBeLessThan((await fullPodListBytes(incident)) * 0.7);

    const gets = reqs.filter((r) => /^\/api\/v1\/namespaces\/[^/]+\/pods\/[^/]+$/.test(r.path)).map((r) => r.path.replace(/^\/api\/v1\/namespaces\/([^/]+)\/pods\//, '$1/'));
    expect(gets).toHaveLength(12);
    expect(gets.filter((g) => JIVA_CTRL.test(g))).toHaveLength(6);
    expect(gets.filter((g) => g.startsWith('kube-system/hostpath-provisioner-k8s02-'))).toHaveLength(3);
    expect(gets.filter((g) => /^openebs\/pvc-\S+-jiva-rep-\d$/.test(g))).toHaveLength(3);

    expect(reqs.filter((r) => r.path.includes('poddisruptionbudgets')).map((r) => r.path).sort()).toEqual([
      '/apis/policy/v1/namespaces/kube-system/poddisruptionbudgets',
      '/apis/policy/v1/namespaces/openebs/poddisruptionbudgets',
    ]);
    expect(reqs.filter((r) => r.path.startsWith('/api/v1/nodes')).map((r) => r.path)).toEqual(['/api/v1/nodes/k8s02']);
    expect(reqs).toHaveLength(lists.length + 12 + 2 + 1);
  });

  it('keeps the list cheap on ~2000 running pods: metadata-only pages, 3 pod GETs', async () => {
    const s = await start('stuck_terminating-scale');
    const run = await runBuilt(CHECK, ['--kubeconfig', s.kubeconfig]);
    expectContract(run, TITLE);
    expect(run.code).toBe(1);
    expect(run.firstLine).toMatch(new RegExp(`^K8S STUCK TERMINATING WARNING - 3 pods stuck Terminating for up to ${near('40m')} on k8s02: 3 orphaned \\(no owner\\) \\| `));
    const reqs = s.requests();
    const pages = reqs.filter((r) => r.path === '/api/v1/pods');
    expect(pages).toHaveLength(5); // 2006 pods, 500 a page
    expect(pages.slice(1).every((r) => r.query.continue)).toBe(true);
    expect(reqs.filter((r) => /\/pods\/[^/]+$/.test(r.path))).toHaveLength(3);
    const checkBytes = sum(reqs);
    const full = await fullPodListBytes(s);
    // Measured on this fixture (pods shaped like real API output, managedFields included):
    // about 4.3 MB for the whole check against 8.7 MB for the full pod list alone.
    expect(checkBytes).toBeLessThan(full * 0.6);
  });

  it('is OK on the healthy cluster: a pod deleted seconds ago is within its grace, not stuck', async () => {
    const s = await start('healthy');
    const run = await runBuilt(CHECK, ['--kubeconfig', s.kubeconfig]);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(0);
    expect(run.firstLine).toMatch(/^K8S STUCK TERMINATING OK - no pods stuck Terminating \(1 pod terminating within grace \+ 10m\) \| stuck_pods=0;0;5;0 /);
    expect(run.perf).toMatchObject({ stuck_pods: '0', terminating_pods: '1', pdb_blocked_pods: '0' });
    // Nothing stuck: nothing fetched beyond the one list.
    expect(s.requests().map((r) => r.path)).toEqual(['/api/v1/pods']);
  });

  it('--node: asks only for that node\'s pods, and judges them the same', async () => {
    const before = incident.requests().length;
    const here = await runBuilt('stuck_terminating', ['--kubeconfig', incident.kubeconfig, '--node', 'k8s02']);
    expectContract(here, TITLE);
    expect(here.code).toBe(2);
    expect(here.perf.stuck_pods).toBe('12'); // every stuck pod of the incident is on k8s02
    const lists = incident.requests().slice(before).filter((r) => r.path === '/api/v1/pods');
    expect(lists.map((r) => r.query.fieldSelector)).toEqual(['spec.nodeName=k8s02']);
    const elsewhere = await runBuilt('stuck_terminating', ['--kubeconfig', incident.kubeconfig, '--node', 'k8s01']);
    expect(elsewhere.code, elsewhere.stdout).toBe(0);
    const bad = await runBuilt('stuck_terminating', ['--kubeconfig', incident.kubeconfig, '--node', 'k8s01,status.phase=Running']);
    expect(bad.code).toBe(3);
    expect(bad.firstLine).toMatch(/invalid --node 'k8s01,status\.phase=Running': a node name is lowercase letters, digits, '-' and '\.'/);
  });

  it('is OK on an empty cluster', async () => {
    const s = await start('empty');
    const run = await runBuilt(CHECK, ['--kubeconfig', s.kubeconfig]);
    expectContract(run, TITLE);
    expect(run.code).toBe(0);
    expect(run.firstLine).toMatch(/^K8S STUCK TERMINATING OK - no pods stuck Terminating \| stuck_pods=0;0;5;0 oldest_stuck_age=0s;;;0 /);
  });

  describe('one StatefulSet pod stuck 20m on a node that stopped reporting', () => {
    let s: ApiServer;
    beforeAll(async () => {
      s = await start({
        objects: [
          node('k8s01', 'True'), node('k8s03', 'Unknown'),
          stuckPod('apps', 'db-1', 'k8s03', '$now-20m', { finalizers: ['example.com/backup-hook'] }),
          { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'db', namespace: 'apps' },
            spec: { maxUnavailable: 1, selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['db'] }] } },
            status: { disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 2, expectedPods: 3, observedGeneration: 1 } },
        ],
      });
    });

    it('is WARNING and says why: node Unknown, finalizer, StatefulSet', async () => {
      const run = await runBuilt(CHECK, ['--kubeconfig', s.kubeconfig, '-v']);
      expectContract(run, TITLE);
      expect(run.code).toBe(1);
      expect(run.firstLine).toMatch(new RegExp(`^K8S STUCK TERMINATING WARNING - 1 pod stuck Terminating for up to ${near('20m')} on k8s03: 1 on unready nodes, 1 held by finalizers \\| `));
      expect(run.perf).toMatchObject({ stuck_pods: '1', pdb_blocked_pods: '1', orphaned_stuck_pods: '0' });
      expect(run.stdout.replace(new RegExp(`Terminating ${near('20m')} past`), 'Terminating 20m past')).toContain('\n[WARNING] apps/db-1 stuck Terminating 20m past its 30s grace; on k8s03 (node Unknown); finalizers: example.com/backup-hook; PDB db (0 disruptions allowed, 2/2 healthy); its StatefulSet recreates it only once it is gone; owner StatefulSet/db\n');
      expect(run.stdout).toContain('\nnode k8s03 is Unknown: its 1 stuck pod stays Terminating until the kubelet there comes back or it is force-deleted\n');
      expect(run.stdout).toMatch(/\nfinalizer example\.com\/backup-hook holds apps\/db-1: .*--force does not/);
      expect(run.stdout).toMatch(/\nStatefulSet pods on a node that is not Ready \(apps\/db-1\): force-delete only once the node is really down/);
      expect(run.stdout).not.toMatch(/kubectl delete pod/); // a finalizer is not removed by --force
    });

    it('is CRITICAL past -c or --critical-age, OK under wider ranges', async () => {
      let run = await runBuilt(CHECK, ['--kubeconfig', s.kubeconfig, '--critical-age', '15m']);
      expect(run.code).toBe(2);
      run = await runBuilt(CHECK, ['--kubeconfig', s.kubeconfig, '-c', '0']);
      expect(run.code).toBe(2);
      run = await runBuilt(CHECK, ['--kubeconfig', s.kubeconfig, '-w', '1', '-c', '2']);
      expectContract(run, TITLE);
      expect(run.code).toBe(0);
      expect(run.firstLine).toMatch(/^K8S STUCK TERMINATING OK - 1 pod stuck Terminating/);
      run = await runBuilt(CHECK, ['--kubeconfig', s.kubeconfig, '--min-age', '30m']);
      expect(run.code).toBe(0);
    });

    it('prints the same result with --format json', async () => {
      const run = await runBuilt(CHECK, ['--kubeconfig', s.kubeconfig, '--format', 'json']);
      expect(run.code).toBe(1);
      const o = JSON.parse(run.stdout);
      expect(o).toMatchObject({ check: CHECK, state: 'WARNING', exitCode: 1 });
      expect(o.summary).toMatch(new RegExp(`^1 pod stuck Terminating for up to ${near('20m')} on k8s03: 1 on unready nodes, 1 held by finalizers$`));
      expect(o.perfdata.map((p: { label: string }) => p.label)).toEqual(['stuck_pods', 'oldest_stuck_age', 'orphaned_stuck_pods', 'pdb_blocked_pods', 'terminating_pods']);
      expect(o.perfdata[0]).toMatchObject({ value: 1, warn: '0', crit: '5', min: 0 });
      expect(o.findings[0]).toMatchObject({ state: 'WARNING' });
      expect(o.findings[0].text).toMatch(new RegExp(`^apps/db-1 stuck Terminating ${near('20m')} `));
      expect(o.findings.slice(1).every((f: { state: unknown }) => f.state === null)).toBe(true);
    });
  });

  it('does not drop a stuck pod on a 404 to its GET when a second list still shows it: judged, with an UNKNOWN note (issue 14.10)', async () => {
    const s = await start('incident', { rules: [{ path: '^/api/v1/namespaces/kube-system/pods/hostpath-provisioner-k8s02-', status: 404 }] });
    const run = await runBuilt(CHECK, ['--kubeconfig', s.kubeconfig, '-v']);
    expectContract(run, TITLE);
    expect(run.code).toBe(2);
    expect(run.perf).toMatchObject({ stuck_pods: '12', orphaned_stuck_pods: '3', terminating_pods: '12' });
    expect(run.stdout).toMatch(/\n\[UNKNOWN\] 3 stuck pods answered 404 to a GET yet still listed, judged without node detail: kube-system\/hostpath-provisioner-k8s02-/);
    const relists = s.requests().filter((r) => r.path === '/api/v1/namespaces/kube-system/pods');
    expect(relists.map((r) => r.query.fieldSelector).every((f) => /^metadata\.name=hostpath-provisioner-k8s02-/.test(f ?? ''))).toBe(true);
    expect(relists).toHaveLength(3);
  });

  it('a lone stuck pod whose GET answers 404 is never OK: WARNING with the note, UNKNOWN when the second list fails too', async () => {
    const pod = {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: 'lone-0', namespace: 'apps', uid: '0b0e0000-0000-4000-8000-000000000001', creationTimestamp: '$now-2d',
        deletionTimestamp: '$now-20m', deletionGracePeriodSeconds: 30, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'lone', uid: '0b0e0000-0000-4000-8000-000000000002', controller: true }] },
      spec: { nodeName: 'k8s01', containers: [{ name: 'c', image: 'registry.example/c:1' }] },
      status: { phase: 'Running' },
    };
    const get404 = { path: '^/api/v1/namespaces/apps/pods/lone-0$', status: 404 };
    let s = await start({ objects: [pod] }, { rules: [get404] });
    let run = await runBuilt(CHECK, ['--kubeconfig', s.kubeconfig]);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(1);
    expect(run.firstLine).toMatch(/1 pod stuck Terminating for up to 20m(\d+s)?; 1 stuck pod answered 404 to a GET yet still listed/);
    s = await start({ objects: [pod] }, { rules: [get404, { path: '^/api/v1/namespaces/apps/pods$', status: 503 }] });
    run = await runBuilt(CHECK, ['--kubeconfig', s.kubeconfig, '-w', '5', '-c', '10']);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(3);
    expect(run.firstLine).toMatch(/1 stuck pod answered 404 to a GET and could not be listed again, judged as listed: /);
  });

  it('still reports the stuck pods when PDBs are forbidden, with the lost detail as a note', async () => {
    const s = await start('incident', { rules: [{ path: '/poddisruptionbudgets$', forbid: true }] });
    const run = await runBuilt(CHECK, ['--kubeconfig', s.kubeconfig, '-v']);
    expectContract(run, TITLE);
    expect(run.code).toBe(2); // the known problem outranks not knowing
    expect(run.firstLine).toMatch(new RegExp(`^K8S STUCK TERMINATING CRITICAL - 12 pods stuck Terminating for up to ${near('1h')} on k8s02: 3 orphaned \\(no owner\\); PodDisruptionBudgets not checked in 2 namespaces: forbidden to list poddisruptionbudgets\\.policy in namespace (openebs|kube-system) .*deploy/rbac\\.yaml \\| `));
    expect(run.perf.pdb_blocked_pods).toBe('U');
    expect(run.stdout).toMatch(/\n\[UNKNOWN\] PodDisruptionBudgets not checked in 2 namespaces: forbidden to list poddisruptionbudgets\.policy in namespace (openebs|kube-system) .*deploy\/rbac\.yaml/);
    expect(run.stdout).not.toMatch(/PDB deadlock/);
  });

  it('is UNKNOWN when the stuck pods are within the thresholds but the PDBs could not be looked up', async () => {
    const s = await start('incident', { rules: [{ path: '/poddisruptionbudgets$', forbid: true }] });
    const run = await runBuilt(CHECK, ['--kubeconfig', s.kubeconfig, '-w', '20', '-c', '30', '--critical-age', '0']);
    expectContract(run, TITLE);
    expect(run.code).toBe(3);
  });

  it('reports readiness unknown when the node GET is forbidden', async () => {
    const s = await start('incident', { rules: [{ path: '^/api/v1/nodes/', forbid: true }] });
    const run = await runBuilt(CHECK, ['--kubeconfig', s.kubeconfig, '-v']);
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/; on k8s02 \(readiness unknown\);/);
    expect(run.stdout).toMatch(/\n\[UNKNOWN\] readiness of 1 node not known: forbidden to get nodes k8s02/);
    expect(run.firstLine).toMatch(/; readiness of 1 node not known: forbidden to get nodes k8s02/);
  });

  it('is UNKNOWN with one line, naming the RBAC fix, when pods are forbidden', async () => {
    const s = await start('incident', { rules: [{ path: '^/api/v1/pods$', forbid: true }] });
    const run = await runBuilt(CHECK, ['--kubeconfig', s.kubeconfig]);
    expectContract(run, TITLE);
    expect(run.code).toBe(3);
    expect(run.firstLine).toMatch(/^K8S STUCK TERMINATING UNKNOWN - forbidden to list pods at cluster scope .*deploy\/rbac\.yaml/);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('reports the stuck pods without node detail when pod GETs are forbidden', async () => {
    const s = await start('incident', { rules: [{ path: '^/api/v1/namespaces/[^/]+/pods/', forbid: true }] });
    const run = await runBuilt(CHECK, ['--kubeconfig', s.kubeconfig, '-v']);
    expectContract(run, TITLE);
    expect(run.code).toBe(2);
    expect(run.perf.stuck_pods).toBe('12');
    expect(run.firstLine).toMatch(/; node of 12 stuck pods not known: forbidden to get pods \S+ in namespace/);
    expect(run.stdout).toMatch(new RegExp(`\\n\\[CRITICAL\\] kube-system/hostpath-provisioner-k8s02-\\w{5} stuck Terminating ${near('40m')} past its 30s grace; node not looked up; no owner`));
    expect(s.requests().filter((r) => r.path.startsWith('/api/v1/nodes'))).toHaveLength(0);
  });

  it('ends within -t when a pod GET hangs, naming the request', async () => {
    const s = await start('incident', { rules: [{ path: '^/api/v1/namespaces/openebs/pods/', hang: true }] });
    const run = await runBuilt(CHECK, ['--kubeconfig', s.kubeconfig, '-t', '2', '-vv']);
    expectContract(run, TITLE);
    expect(run.code).toBe(3);
    expect(run.firstLine).toMatch(/check timed out after 2s waiting for the API server \(GET \/api\/v1\/namespaces\/openebs\/pods\//);
    expect(ownSeconds(run)).toBeLessThan(2 + 1); // its own clock: starting the binary is not counted
  });

  it('is UNKNOWN with one line on bad arguments', async () => {
    for (const args of [['--min-age', 'soon'], ['--critical-age', ''], ['-w', '5:1'], ['--nope']]) {
      const run = await runBuilt(CHECK, ['--kubeconfig', incident.kubeconfig, ...args]);
      expectContract(run, TITLE);
      expect(run.code, args.join(' ')).toBe(3);
      expect(run.stdout.trim().split('\n')).toHaveLength(1);
    }
  });
});
