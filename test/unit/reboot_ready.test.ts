// check_k8s_reboot_ready's judgement of the other nodes: Ready and settled
// means Ready, with a kubelet that still renews its Lease, for longer than --settle.
import { describe, expect, it } from 'vitest';
import check, { type Data } from '../../checks/reboot_ready.js';
import schedulerStall from '../../checks/scheduler_stall.js';
import stuckTerminating from '../../checks/stuck_terminating.js';
import type { Lease, Node } from '../../lib/kube/types.js';
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
