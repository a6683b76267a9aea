// check_k8s_reboot_ready's judgement of the other nodes: Ready and settled
// means Ready, with a kubelet that still renews its Lease, for longer than --settle.
import { describe, expect, it } from 'vitest';
import check, { type Data } from '../../checks/reboot_ready.js';
import schedulerStall from '../../checks/scheduler_stall.js';
import stuckTerminating from '../../checks/stuck_terminating.js';
import type { Lease, Node, Pod } from '../../lib/kube/types.js';
import type { AnyCheck } from '../../lib/plugin/check.js';
import type { SubResult } from '../../lib/plugin/compose.js';
import { outcomeState } from '../../lib/plugin/result.js';
import { State } from '../../lib/plugin/state.js';
import { checkOptions, clock } from './support.js';

const { NOW, ago, micro } = clock('2026-06-05T06:30:00Z');

const node = (name: string, o: { readyAgo?: number; createdAgo?: number } = {}): Node => ({
  metadata: { name, creationTimestamp: ago(o.createdAgo ?? 400 * 86400), labels: { 'kubernetes.io/hostname': name } },
  spec: {},
  status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastTransitionTime: ago(o.readyAgo ?? 20 * 86400) }] },
});
const nodeLease = (name: string, renewedAgo = 4): Lease => ({
  metadata: { name, namespace: 'kube-node-lease' },
  spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: micro(renewedAgo) },
});

/** A sub-check's options as gatherSub parses them. */
const subOptions = async (c: AnyCheck, args: string[] = []) => (await checkOptions(c, args)) as SubResult['opts'];

async function data(nodes: Node[], leases: Lease[]): Promise<Data> {
  return {
    node: 'k8s01', nodes, leases, podsHere: [], criticalPods: [], pdbs: [],
    scheduler: { check: schedulerStall, opts: await subOptions(schedulerStall), data: { pods: [], failedScheduling: [], failedInWindow: 0 } },
    terminating: { check: stuckTerminating, opts: await subOptions(stuckTerminating, ['--node', 'k8s01']), data: { terminating: [], nodes: {}, pdbs: {}, notes: [] } },
  };
}

describe('reboot_ready: the other nodes', () => {
  it('is safe with every other node Ready, settled, heartbeats fresh', async () => {
    const o = check.evaluate(await data([node('k8s01'), node('k8s02'), node('k8s03')], [nodeLease('k8s01'), nodeLease('k8s02'), nodeLease('k8s03')]), await checkOptions(check, ['--node', 'k8s01']), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    expect(o.summary).toMatch(/^safe to reboot k8s01: 2\/2 other nodes Ready and settled, /);
  });

  it('a node whose kubelet stopped renewing its Lease 49s ago blocks, though it still says Ready', async () => {
    const o = check.evaluate(await data([node('k8s01'), node('k8s02'), node('k8s03')], [nodeLease('k8s01'), nodeLease('k8s02'), nodeLease('k8s03', 49)]), await checkOptions(check, ['--node', 'k8s01']), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(o.summary).toBe('NOT safe to reboot k8s01: node k8s03 kubelet not renewing its Lease');
    expect(o.findings.map((f) => f.text)).toContain('node k8s03 says Ready but its kubelet has not renewed its Lease kube-node-lease/k8s03 for 49s (leaseDurationSeconds 40): ' +
      'it is down in fact, reboot one node at a time (check_k8s_nodes)');
    expect(o.perfdata.find((p) => p.label === 'other_nodes_ready')?.value).toBe(1);
    // This node's own heartbeat is not a reason: it is the one going down.
    const own = check.evaluate(await data([node('k8s01'), node('k8s02'), node('k8s03')], [nodeLease('k8s01', 300), nodeLease('k8s02'), nodeLease('k8s03')]), await checkOptions(check, ['--node', 'k8s01']), NOW);
    expect(outcomeState(own)).toBe(State.OK);
  });

  it('a node Ready again within --settle is settling after a reboot; one that just joined is settling as a new node', async () => {
    const o = check.evaluate(await data([node('k8s01'), node('k8s02', { readyAgo: 120 }), node('k8s03', { readyAgo: 100, createdAgo: 130 })], []), await checkOptions(check, ['--node', 'k8s01']), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    const texts = o.findings.map((f) => f.text);
    expect(texts).toContain('node k8s02 became Ready again 2m ago: still settling after its own reboot or outage (wait 10m)');
    expect(texts).toContain('node k8s03 joined the cluster and became Ready 1m40s ago: still settling (wait 10m)');
    expect(o.summary).toBe('NOT safe to reboot k8s01: node k8s02 settling; node k8s03 settling');
  });
});

// What a drain of k8s01 would do to the pods on it, the budgets and the leader leases.
describe('reboot_ready: the pods, budgets and leases on the node to reboot', () => {
  const three = () => [node('k8s01'), node('k8s02'), node('k8s03')];
  const leases3 = () => [nodeLease('k8s01'), nodeLease('k8s02'), nodeLease('k8s03')];
  const owner = (kind: string, name: string) => ({ kind, name, uid: `uid-${kind}-${name}`, controller: true, apiVersion: 'apps/v1' });
  const podOf = (name: string, o: { ns?: string; on?: string; kind?: string; owner?: string; ready?: boolean; labels?: Record<string, string>; priority?: string; claim?: string; nodeSelector?: Record<string, string>; leaving?: boolean } = {}): Pod => ({
    metadata: {
      name, namespace: o.ns ?? 'kube-system', labels: o.labels,
      ...(o.kind !== undefined || o.owner !== undefined ? { ownerReferences: [owner(o.kind ?? 'ReplicaSet', o.owner ?? 'coredns-5d78c9869d')] } : {}),
      ...(o.leaving ? { deletionTimestamp: ago(10) } : {}),
    },
    spec: { nodeName: o.on ?? 'k8s01', priorityClassName: o.priority, nodeSelector: o.nodeSelector, ...(o.claim ? { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: o.claim } }] } : {}) },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
  });
  const opts = (args: string[] = []) => checkOptions(check, ['--node', 'k8s01', ...args]);
  const evaluate = async (patch: Partial<Data>, args: string[] = [], nodes = three(), leases = leases3()) =>
    check.evaluate({ ...(await data(nodes, leases)), ...patch }, await opts(args), NOW);
  const perf = (o: { perfdata: { label: string; value: number | undefined }[] }) => Object.fromEntries(o.perfdata.map((p) => [p.label, p.value]));

  it('a critical pod with a ready replica on another node is safe; a replica that is not Ready is no replica', async () => {
    const here = podOf('coredns-a', { kind: 'ReplicaSet' });
    let o = await evaluate({ podsHere: [here], criticalPods: [here, podOf('coredns-b', { kind: 'ReplicaSet', on: 'k8s02' })] });
    expect(outcomeState(o)).toBe(State.OK);
    expect(o.summary).toBe('safe to reboot k8s01: 2/2 other nodes Ready and settled, 1 critical pod here with replicas elsewhere, no PodDisruptionBudget blocks the drain, scheduler scheduling, nothing stuck Terminating');
    expect(perf(o)).toMatchObject({ pods_on_node: 1, disrupted_pods: 0, critical_pods_without_replica: 0, blockers: 0, other_nodes_ready: 2 });

    o = await evaluate({ podsHere: [here], criticalPods: [here, podOf('coredns-b', { kind: 'ReplicaSet', on: 'k8s02', ready: false })] });
    expect(outcomeState(o)).toBe(State.OK);
    expect(o.summary).toMatch(/^safe to reboot k8s01: 2\/2 other nodes Ready and settled, 1 single-replica critical pod will restart elsewhere, /);
    expect(o.findings.map((f) => f.text)).toContain('disruption: kube-system/coredns-a has no ready replica of ReplicaSet coredns-5d78c9869d elsewhere: it restarts on another node during the drain (scale it to 2+ with anti-affinity to avoid the gap)');
    expect(perf(o).disrupted_pods).toBe(1);
  });

  it('DaemonSet and static pods are not moved; a pod with no owner is said not to come back; system-node-critical counts in any namespace', async () => {
    const o = await evaluate({
      podsHere: [podOf('calico-node-x', { kind: 'DaemonSet', owner: 'calico-node' }), podOf('kube-apiserver-k8s01', { kind: 'Node', owner: 'k8s01' }), podOf('debug'),
        podOf('csi-controller-0', { ns: 'storage', kind: 'StatefulSet', owner: 'csi-controller', priority: 'system-node-critical' }), podOf('web-0', { ns: 'apps', kind: 'StatefulSet', owner: 'web' })],
    });
    expect(outcomeState(o)).toBe(State.OK);
    const texts = o.findings.map((f) => f.text);
    expect(texts).toContain('kube-system/debug has no owner: it will not come back after the reboot');
    expect(texts.filter((t) => t.startsWith('disruption: '))).toEqual(['disruption: storage/csi-controller-0 has no ready replica of StatefulSet csi-controller elsewhere: it restarts on another node during the drain (scale it to 2+ with anti-affinity to avoid the gap)']);
    expect(perf(o)).toMatchObject({ pods_on_node: 5, disrupted_pods: 1 });
  });

  it('a critical pod whose data stays on this node, or that no other node could run, blocks; twice is said once with a count', async () => {
    const pv = (name: string, claim: string, spec: Record<string, unknown>) => ({ metadata: { name }, spec: { claimRef: { namespace: 'kube-system', name: claim }, ...spec } });
    const volumes = [pv('pv-local', 'data-a', { local: { path: '/mnt/disk' } }), pv('pv-host', 'data-b', { hostPath: { path: '/srv' } }), pv('pv-nfs', 'data-c', { nfs: { server: 'x', path: '/' } })];
    const pods = [podOf('a', { kind: 'StatefulSet', owner: 'a', claim: 'data-a' }), podOf('b', { kind: 'StatefulSet', owner: 'b', claim: 'data-b' }), podOf('c', { kind: 'StatefulSet', owner: 'c', claim: 'data-c' })];
    const o = await evaluate({ podsHere: pods, volumes } as Partial<Data>);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(o.summary).toBe('NOT safe to reboot k8s01: 2x critical pod on local storage');
    const texts = o.findings.map((f) => f.text);
    expect(texts).toContain('kube-system/a: no ready replica of StatefulSet a elsewhere, and its claim data-a is bound to pv-local, a local volume on this node: it cannot move');
    expect(texts).toContain('kube-system/b: no ready replica of StatefulSet b elsewhere, and its claim data-b is bound to pv-host, a hostPath volume on this node: it cannot move');
    expect(perf(o)).toMatchObject({ critical_pods_without_replica: 2, disrupted_pods: 1, blockers: 2 });
    expect(o.actions?.at(-1)).toEqual({ state: State.CRITICAL, text: 'do not reboot k8s01 yet: first clear 2x critical pod on local storage (the lines below name each), then run check_k8s_reboot_ready --node k8s01 again (docs/rolling-reboot.md)' });

    // The claim of the same name in another namespace, or a claim-less volume, is not this pod's storage.
    const elsewhere = [pv('pv-local', 'data-a', { local: { path: '/mnt/disk' } })].map((v) => ({ ...v, spec: { ...v.spec, claimRef: { namespace: 'other', name: 'data-a' } } }));
    const moved = await evaluate({ podsHere: [pods[0]!], volumes: [...elsewhere, { metadata: { name: 'pv-free' }, spec: { local: { path: '/x' } } }] } as Partial<Data>);
    expect(outcomeState(moved)).toBe(State.OK);
    expect(perf(moved).disrupted_pods).toBe(1);
    // A volume whose node affinity only this node meets stays here too; one another node meets can follow the pod.
    const affinity = (host: string) => ({ nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [host] }] }] } } });
    const pinnedPv = await evaluate({ podsHere: [pods[0]!], volumes: [pv('pv-a', 'data-a', affinity('k8s01'))] } as Partial<Data>);
    expect(pinnedPv.findings).toContainEqual({ state: State.CRITICAL, text: 'kube-system/a: no ready replica of StatefulSet a elsewhere, and its claim data-a is bound to pv-a, a volume on this node: it cannot move' });
    const movable = await evaluate({ podsHere: [pods[0]!], volumes: [pv('pv-a', 'data-a', affinity('k8s02'))] } as Partial<Data>);
    expect(outcomeState(movable)).toBe(State.OK);

    const pinned = await evaluate({ podsHere: [podOf('p', { kind: 'StatefulSet', owner: 'p', nodeSelector: { 'kubernetes.io/hostname': 'k8s01' } })] });
    expect(pinned.summary).toBe('NOT safe to reboot k8s01: critical pod that can run nowhere else');
    expect(pinned.findings.map((f) => f.text)).toContain('kube-system/p: no ready replica of StatefulSet p on another node, and no other node could run it (k8s02 lacks nodeSelector kubernetes.io/hostname=k8s01; k8s03 lacks nodeSelector kubernetes.io/hostname=k8s01)');
  });

  it('a drain that breaks a PodDisruptionBudget blocks; as many pods here as disruptions allowed does not', async () => {
    const web = (n: string, ready = true) => podOf(n, { ns: 'apps', labels: { app: 'web' }, kind: 'ReplicaSet', owner: 'web', ready });
    const pdb = (allowed: number | undefined) => ({ metadata: { name: 'web', namespace: 'apps' }, spec: { selector: { matchLabels: { app: 'web' } } }, status: allowed === undefined ? {} : { disruptionsAllowed: allowed } });
    let o = await evaluate({ podsHere: [web('w1'), web('w2'), web('w3', false)], pdbs: [pdb(1)] });
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(o.summary).toBe('NOT safe to reboot k8s01: PodDisruptionBudget would block the drain');
    expect(o.findings).toContainEqual({ state: State.CRITICAL, text: 'draining would break PodDisruptionBudget apps/web: 2 pods here, 1 disruption allowed' });
    expect(perf(o).pdb_violations).toBe(1);
    o = await evaluate({ podsHere: [web('w1'), web('w2')], pdbs: [pdb(2)] });
    expect(outcomeState(o)).toBe(State.OK);
    expect(perf(o).pdb_violations).toBe(0);
    // A budget in another namespace, or with no status yet (none allowed), for pods it does not select.
    o = await evaluate({ podsHere: [web('w1')], pdbs: [{ ...pdb(undefined), metadata: { name: 'web', namespace: 'other' } }] });
    expect(outcomeState(o)).toBe(State.OK);
    o = await evaluate({ podsHere: [web('w1')], pdbs: [pdb(undefined)] });
    expect(o.findings).toContainEqual({ state: State.CRITICAL, text: 'draining would break PodDisruptionBudget apps/web: 1 pod here, 0 disruptions allowed' });
  });

  it('another node down or cordoned, or no other node at all, blocks; --allow-single-node accepts the last', async () => {
    const down = node('k8s02');
    down.status!.conditions![0]!.status = 'False';
    const cordoned = node('k8s03');
    cordoned.spec = { unschedulable: true };
    let o = await evaluate({}, [], [node('k8s01'), down, cordoned]);
    expect(o.summary).toBe('NOT safe to reboot k8s01: node k8s02 NotReady; node k8s03 cordoned');
    expect(o.findings.map((f) => f.text)).toContain('node k8s02 is NotReady: another node is down, reboot one node at a time');
    expect(perf(o).other_nodes_ready).toBe(1);
    expect(o.perfdata.find((p) => p.label === 'other_nodes_ready')?.max).toBe(2);

    o = await evaluate({}, [], [node('k8s01')], [nodeLease('k8s01')]);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(o.summary).toBe('NOT safe to reboot k8s01: no other node');
    o = await evaluate({}, ['--allow-single-node'], [node('k8s01')], [nodeLease('k8s01')]);
    expect(outcomeState(o)).toBe(State.OK);
    expect(o.summary).toMatch(/^safe to reboot k8s01: 0\/0 other nodes Ready and settled, 0 critical pods here/);
  });

  it('the leader leases held here move to a Ready node; with none Ready they have nowhere to go', async () => {
    const lease = (holder: string): Lease => ({ metadata: { name: 'kube-controller-manager', namespace: 'kube-system' }, spec: { holderIdentity: `${holder}_4f7c2a1e-9b3d-4c6e-8f2a-1d5e7b9c3a60`, leaseDurationSeconds: 15, renewTime: micro(1) } });
    let o = await evaluate({ controllerManager: lease('k8s01') });
    expect(outcomeState(o)).toBe(State.OK);
    expect(o.findings.map((f) => f.text)).toContain('controller-manager Lease is held by k8s01: it moves to another node within leaseDurationSeconds (15s)');
    o = await evaluate({ controllerManager: lease('k8s02') });
    expect(o.findings.some((f) => f.text.includes('Lease is held by'))).toBe(false);
    const down = node('k8s02');
    down.status!.conditions![0]!.status = 'Unknown';
    o = await evaluate({ controllerManager: lease('k8s01') }, [], [node('k8s01'), down]);
    expect(o.summary).toBe('NOT safe to reboot k8s01: node k8s02 Unknown; controller-manager Lease has nowhere to go');
    expect(o.findings).toContainEqual({ state: State.CRITICAL, text: 'controller-manager Lease is held by k8s01 and no other node is Ready to take it' });
  });

  it("the scheduler's ordinary pressure (its WARNING) is no reason to refuse; a scheduler stall (its CRITICAL) is", async () => {
    const waiting = (name: string, ageS: number): Pod => ({ metadata: { name, namespace: 'apps', uid: `uid-${name}`, creationTimestamp: ago(ageS) }, spec: { schedulerName: 'default-scheduler' }, status: { phase: 'Pending' } });
    const failed = (p: Pod) => ({
      involvedObject: { kind: 'Pod', namespace: 'apps', name: p.metadata!.name, uid: p.metadata!.uid }, reason: 'FailedScheduling', type: 'Warning', count: 3,
      message: '0/3 nodes are available: 3 Insufficient cpu.', firstTimestamp: ago(630), lastTimestamp: ago(30), source: { component: 'default-scheduler' },
    });
    const base = await data(three(), leases3());
    const sub = (d: unknown) => ({ ...base.scheduler, data: d });
    const busy = waiting('big', 900);
    let o = check.evaluate({ ...base, scheduler: sub({ pods: [busy], failedScheduling: [failed(busy)] }) } as Data, await opts(), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    expect(o.findings).toContainEqual(expect.objectContaining({ state: State.OK, text: expect.stringMatching(/^check_k8s_scheduler_stall: 1 pod cannot be scheduled/) }));
    o = check.evaluate({ ...base, scheduler: sub({ pods: Array.from({ length: 3 }, (_, i) => waiting(`p${i}`, 1800)), failedScheduling: [] }) } as Data, await opts(), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(o.summary).toBe('NOT safe to reboot k8s01: scheduler stall check CRITICAL');
    expect(o.actions?.at(-1)?.text).toMatch(/^do not reboot k8s01 yet: first clear scheduler stall check CRITICAL \(the lines below name each\)/);
  });

  it('pods already Terminating are not counted as moved by the drain', async () => {
    const o = await evaluate({ podsHere: [podOf('old', { kind: 'ReplicaSet', leaving: true }), podOf('x', { ns: 'apps', kind: 'ReplicaSet', owner: 'x' })] });
    expect(perf(o).pods_on_node).toBe(1);
    expect(o.summary).toMatch(/, 0 critical pods here with replicas elsewhere, /);
  });
});
