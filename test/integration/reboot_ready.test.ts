import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiServers, expectContract, ROOT, runBuilt, type Scenario } from '../harness.js';

const TITLE = 'REBOOT READY';
const start = apiServers();
async function run(scenario: string | Scenario, args: string[]) {
  const s = await start(scenario);
  const r = await runBuilt('reboot_ready', ['--kubeconfig', s.kubeconfig, ...args]);
  if (!args.includes('json')) expectContract(r, TITLE);
  return r;
}

// The healthy cluster's nodes, to bend one at a time.
const healthyNodes = JSON.parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/healthy/nodes.json'), 'utf8')).objects as Record<string, any>[];
const healthyLeases = JSON.parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/healthy/node-leases.json'), 'utf8')).objects as Record<string, any>[];
const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'kube-scheduler', namespace: 'kube-system' }, spec: { holderIdentity: 'k8s02_4f7c2a1e-9b3d-4c6e-8f2a-1d5e7b9c3a60', leaseDurationSeconds: 15, renewTime: '$now-1s.micro' } };
const withNode = (name: string, change: (n: Record<string, any>) => void): Record<string, any>[] =>
  healthyNodes.map((n) => {
    const copy = structuredClone(n);
    if (copy.metadata.name === name) change(copy);
    return copy;
  });
const pod = (name: string, ns: string, node: string, extra: Record<string, any> = {}) => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name, namespace: ns, labels: { app: name.split('-')[0] }, ownerReferences: [{ kind: 'ReplicaSet', name: `${name.split('-')[0]}-rs`, uid: `uid-${name.split('-')[0]}`, controller: true }], ...extra },
  spec: { nodeName: node },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
});

describe('check_k8s_reboot_ready', () => {
  it('is CRITICAL on the incident for k8s02, naming every reason', async () => {
    const r = await run('incident', ['--node', 'k8s02']);
    expect(r.code).toBe(2);
    expect(r.firstLine).toMatch(/^K8S REBOOT READY CRITICAL - NOT safe to reboot k8s02: scheduler stall check CRITICAL; stuck Terminating check CRITICAL \| /);
    // The incident's single CoreDNS replica ran on k8s02: it can restart elsewhere, a disruption, not a blocker.
    expect(r.perf.disrupted_pods).toBe('1');
    // The sub-checks' verdicts are nested under one line each.
    expect(r.stdout).toMatch(/\[CRITICAL\] check_k8s_scheduler_stall: scheduler stall: 46 pods/);
    expect(r.stdout).toMatch(/\[CRITICAL\] check_k8s_stuck_terminating: /);
    // What to do first: the stalled scheduler's fix, then not to reboot until the blockers are cleared.
    const lines = r.stdout.split('\n');
    expect(lines[1]).toMatch(/^What to do: check_k8s_scheduler_stall: restart the scheduler on k8s02, /);
    expect(lines.find((l) => l.startsWith('What to do: do not reboot'))).toMatch(/^What to do: do not reboot k8s02 yet: first clear scheduler stall check CRITICAL; stuck Terminating check CRITICAL .*check_k8s_reboot_ready --node k8s02 again/);
    expect(Number(r.perf.blockers)).toBeGreaterThanOrEqual(2);
    expect(Buffer.byteLength(r.stdout)).toBeLessThanOrEqual(8191);
  });

  it('is OK on the healthy cluster, and says what it verified', async () => {
    const r = await run('healthy', ['--node', 'k8s01']);
    expect(r.code, r.stdout).toBe(0);
    expect(r.firstLine).toMatch(/^K8S REBOOT READY OK - safe to reboot k8s01: 2\/2 other nodes Ready and settled/);
    expect(r.perf).toEqual(expect.objectContaining({ blockers: '0', other_nodes_ready: '2', pdb_violations: '0' }));
  });

  it('asks once for what it shares with its sub-checks (the scheduler Lease)', async () => {
    const s = await start('healthy');
    await runBuilt('reboot_ready', ['--kubeconfig', s.kubeconfig, '--node', 'k8s01']);
    expect(s.requests().filter((r) => r.path.endsWith('/leases/kube-scheduler'))).toHaveLength(1);
    // Cost follows the node: every pod list is server-selected by node (this node's pods, or the
    // scheduler's unbound ones), never the whole cluster's pods.
    const podLists = s.requests().filter((r) => r.path === '/api/v1/pods');
    expect(podLists.map((r) => r.query.fieldSelector).sort()).toEqual([
      'spec.nodeName=k8s01',
      'spec.nodeName=k8s01,status.phase!=Succeeded,status.phase!=Failed',
      'status.phase=Pending,spec.nodeName=',
    ]);
  });

  it('one node at a time: another node NotReady, cordoned, or just back', async () => {
    const notReady = await run({ objects: [lease, ...withNode('k8s03', (n) => { n.status.conditions.find((c: any) => c.type === 'Ready').status = 'Unknown'; })] }, ['--node', 'k8s01']);
    expect(notReady.code).toBe(2);
    expect(notReady.stdout).toMatch(/\[CRITICAL\] node k8s03 is Unknown: another node is down, reboot one node at a time/);

    const cordoned = await run({ objects: [lease, ...withNode('k8s03', (n) => { n.spec.unschedulable = true; })] }, ['--node', 'k8s01']);
    expect(cordoned.code).toBe(2);
    expect(cordoned.firstLine).toMatch(/NOT safe to reboot k8s01: node k8s03 cordoned/);

    const settling = await run({ objects: [lease, ...withNode('k8s02', (n) => { n.status.conditions.find((c: any) => c.type === 'Ready').lastTransitionTime = '$now-2m'; })] }, ['--node', 'k8s01']);
    expect(settling.code).toBe(2);
    // '$now-2m' is 2 min before the double answered; the check's clock started a little earlier.
    expect(settling.stdout).toMatch(/node k8s02 became Ready again (1m5\ds|2m\d*s?) ago: still settling after its own reboot or outage \(wait 10m\)/);
    const patient = await run({ objects: [lease, ...withNode('k8s02', (n) => { n.status.conditions.find((c: any) => c.type === 'Ready').lastTransitionTime = '$now-2m'; })] }, ['--node', 'k8s01', '--settle', '1m']);
    expect(patient.code).toBe(0);
  });

  it('a node that says Ready while its kubelet stopped renewing its Lease is not Ready and settled (found on a real control plane)', async () => {
    // k8s03's kubelet stopped 49s ago; the node lifecycle controller has not marked it Unknown yet.
    const leases = healthyLeases.map((l) => (l.metadata.name === 'k8s03' ? { ...l, spec: { ...l.spec, renewTime: '$now-49s.micro' } } : l));
    const r = await run({ objects: [lease, ...healthyNodes, ...leases] }, ['--node', 'k8s01']);
    expect(r.code, r.stdout).toBe(2);
    expect(r.firstLine).toMatch(/^K8S REBOOT READY CRITICAL - NOT safe to reboot k8s01: node k8s03 kubelet not renewing its Lease \| /);
    expect(r.stdout).toMatch(/\[CRITICAL\] node k8s03 says Ready but its kubelet has not renewed its Lease kube-node-lease\/k8s03 for (4[89]|5\d)s \(leaseDurationSeconds 40\): it is down in fact/);
    expect(r.perf.other_nodes_ready).toBe('1');
    // The same cluster with every heartbeat fresh is safe.
    const fresh = await run({ objects: [lease, ...healthyNodes, ...healthyLeases] }, ['--node', 'k8s01']);
    expect(fresh.code, fresh.stdout).toBe(0);
  });

  it('a node that just joined is settling, said as joining, not as a reboot', async () => {
    const joined = withNode('k8s03', (n) => {
      n.metadata.creationTimestamp = '$now-3m';
      n.status.conditions.find((c: any) => c.type === 'Ready').lastTransitionTime = '$now-2m';
    });
    const r = await run({ objects: [lease, ...joined] }, ['--node', 'k8s01']);
    expect(r.code, r.stdout).toBe(2);
    expect(r.stdout).toMatch(/\[CRITICAL\] node k8s03 joined the cluster and became Ready (1m5\ds|2m\d*s?) ago: still settling \(wait 10m\)/);
  });

  it('a single-replica critical pod that can run elsewhere is a disruption, not a blocker; a DaemonSet pod neither', async () => {
    // A DaemonSet pod runs one per node by design: no copy of it elsewhere (this DaemonSet selects
    // only k8s01) is no reason to hold the reboot.
    const daemon = { ownerReferences: [{ kind: 'DaemonSet', name: 'nodelocal', uid: 'uid-nodelocal-ds', controller: true }] };
    const objects = [lease, ...healthyNodes,
      pod('coredns-a', 'kube-system', 'k8s01'),
      pod('metrics-a', 'kube-system', 'k8s01'), pod('metrics-b', 'kube-system', 'k8s02'),
      pod('nodelocal-a', 'kube-system', 'k8s01', daemon)];
    const r = await run({ objects }, ['--node', 'k8s01']);
    expect(r.code, r.stdout).toBe(0);
    expect(r.firstLine).toMatch(/^K8S REBOOT READY OK - safe to reboot k8s01: 2\/2 other nodes Ready and settled, 1 single-replica critical pod will restart elsewhere/);
    expect(r.stdout).toMatch(/disruption: kube-system\/coredns-a has no ready replica of ReplicaSet coredns-rs elsewhere/);
    expect(r.stdout).not.toMatch(/metrics-a/);
    expect(r.stdout).not.toMatch(/nodelocal/);
    expect(r.perf).toMatchObject({ critical_pods_without_replica: '0', disrupted_pods: '1' });
    // Alone, the DaemonSet pod blocks nothing and disrupts nothing.
    const alone = await run({ objects: [lease, ...healthyNodes, pod('nodelocal-a', 'kube-system', 'k8s01', daemon)] }, ['--node', 'k8s01']);
    expect(alone.code, alone.stdout).toBe(0);
    expect(alone.perf).toMatchObject({ critical_pods_without_replica: '0', disrupted_pods: '0' });
  });

  it('a critical pod blocks when no other node could run it, or its volume stays on this node', async () => {
    // Pinned by nodeSelector to k8s01's hostname label.
    const pinned = { ...pod('pinned-a', 'kube-system', 'k8s01'), spec: { nodeName: 'k8s01', nodeSelector: { 'kubernetes.io/hostname': 'k8s01' } } };
    let r = await run({ objects: [lease, ...healthyNodes, pinned] }, ['--node', 'k8s01']);
    expect(r.code).toBe(2);
    expect(r.firstLine).toMatch(/NOT safe to reboot k8s01: critical pod that can run nowhere else/);
    expect(r.stdout).toMatch(/\[CRITICAL\] kube-system\/pinned-a: no ready replica of ReplicaSet pinned-rs on another node, and no other node could run it \(k8s0[23] lacks nodeSelector kubernetes\.io\/hostname=k8s01/);
    // Its data on a local PersistentVolume of this node.
    const withClaim = { ...pod('db-0', 'kube-system', 'k8s01'), spec: { nodeName: 'k8s01', volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data-db-0' } }] } };
    const pv = { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pvc-1' }, spec: { claimRef: { namespace: 'kube-system', name: 'data-db-0' }, local: { path: '/mnt/disk1' } }, status: { phase: 'Bound' } };
    r = await run({ objects: [lease, ...healthyNodes, withClaim, pv] }, ['--node', 'k8s01']);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/\[CRITICAL\] kube-system\/db-0: no ready replica of ReplicaSet db-rs elsewhere, and its claim data-db-0 is bound to pvc-1, a local volume on this node/);
    expect(r.perf.critical_pods_without_replica).toBe('1');
  });

  it('names the controller-manager Lease held by the node (hostname != node name, upper case)', async () => {
    const cm = { ...lease, metadata: { name: 'kube-controller-manager', namespace: 'kube-system' }, spec: { ...lease.spec, holderIdentity: 'K8S01.example.com_1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d' } };
    const nodes = withNode('k8s01', (n) => { n.status.addresses = [...(n.status.addresses ?? []), { type: 'Hostname', address: 'k8s01.example.com' }]; });
    const r = await run({ objects: [lease, cm, ...nodes] }, ['--node', 'k8s01', '-v']);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/controller-manager Lease is held by k8s01: it moves to another node/);
  });

  it('draining must not break a PodDisruptionBudget', async () => {
    const pdb = {
      apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'db-pdb', namespace: 'apps' },
      spec: { minAvailable: 2, selector: { matchLabels: { app: 'db' } } },
      status: { currentHealthy: 2, desiredHealthy: 2, expectedPods: 2, disruptionsAllowed: 0 },
    };
    const objects = [lease, ...healthyNodes, pdb, pod('db-0', 'apps', 'k8s01'), pod('db-1', 'apps', 'k8s02')];
    const r = await run({ objects }, ['--node', 'k8s01']);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/draining would break PodDisruptionBudget apps\/db-pdb: 1 pod here, 0 disruptions allowed/);
    const elsewhere = await run({ objects }, ['--node', 'k8s03']);
    expect(elsewhere.code, elsewhere.stdout).toBe(0);
  });

  it('a single-node cluster is not safe unless asked', async () => {
    const one = { objects: [lease, healthyNodes[0]!] };
    const r = await run(one, ['--node', 'k8s01']);
    expect(r.code).toBe(2);
    expect(r.firstLine).toMatch(/no other node/);
    expect((await run(one, ['--node', 'k8s01', '--allow-single-node'])).code).toBe(0);
  });

  it('UNKNOWN for a node that does not exist, and for a forbidden read', async () => {
    const r = await run('healthy', ['--node', 'k8s99']);
    expect(r.code).toBe(3);
    expect(r.firstLine).toMatch(/UNKNOWN - no node named k8s99 in the cluster: pass --node with a name 'kubectl get nodes' shows/);
    const s = await start('healthy', { rules: [{ path: '^/apis/policy/v1/poddisruptionbudgets$', forbid: true }] });
    const f = await runBuilt('reboot_ready', ['--kubeconfig', s.kubeconfig, '--node', 'k8s01']);
    expect(f.code).toBe(3);
    expect(f.firstLine).toMatch(/forbidden to list poddisruptionbudgets\.policy at cluster scope/);
  });

  it('--format json carries every reason', async () => {
    const r = await run('incident', ['--node', 'k8s02', '--format', 'json']);
    const o = JSON.parse(r.stdout);
    expect(o).toMatchObject({ check: 'reboot_ready', state: 'CRITICAL', exitCode: 2 });
    expect(o.findings.filter((f: { state: string }) => f.state === 'CRITICAL').length).toBe(Number(o.perfdata.find((p: { label: string }) => p.label === 'blockers').value));
  });
});
