import { describe, expect, it } from 'vitest';
import check, { capacityNode, capacityPod, MOVE_PERCENT_CAP, type CapacityData, type CapacityNode, type CapacityPod } from '../../checks/capacity.js';
import { outcomeState } from '../../lib/plugin/result.js';
import { State } from '../../lib/plugin/state.js';
import { checkOptions } from './support.js';

const GiB = 2 ** 30;
const opts = (args: string[] = []) => checkOptions(check, args);
/** A node: CPU in cores, memory in GiB, as allocatable says. */
const node = (name: string, cpu: number, mem: number, o: { pods?: number; schedulable?: boolean } = {}): CapacityNode =>
  ({ name, schedulable: o.schedulable ?? true, allocatable: { cpu: cpu * 1000, memory: mem * GiB, pods: o.pods ?? 110 } });
/** Pods on a node: CPU in millicores, memory in GiB. */
const pods = (n: number, on: string, cpu: number, mem: number, moves = true): CapacityPod[] =>
  Array.from({ length: n }, () => ({ node: on, moves, cpu, memory: mem * GiB }));
const run = async (d: CapacityData, args: string[] = []) => {
  const o = check.evaluate(d, await opts(args), 0);
  return { o, state: outcomeState(o), perf: Object.fromEntries(o.perfdata.map((p) => [p.label, p.value])), texts: o.findings.map((f) => f.text), todo: (o.actions ?? []).map((a) => `What to do: ${a.text}`) };
};

describe('capacity: can the cluster lose a node', () => {
  it('OK when the worst node\'s pods fit in what the others have free, with the share as perfdata', async () => {
    // k8s01 (largest) holds 3 CPU / 6 GiB that move; k8s02 and k8s03 have 4-1 = 3 CPU and 8-2 = 6 GiB free each.
    const d = { nodes: [node('k8s01', 8, 16), node('k8s02', 4, 8), node('k8s03', 4, 8)], pods: [...pods(3, 'k8s01', 1000, 2), ...pods(1, 'k8s02', 1000, 2), ...pods(1, 'k8s03', 1000, 2)] };
    const { state, perf, o } = await run(d);
    expect(state).toBe(State.OK);
    expect(perf).toMatchObject({ cpu_move: 50, memory_move: 50, cpu_headroom: 3, memory_headroom: 6 * GiB, nodes: 3, schedulable_nodes: 3 });
    expect(o.summary).toBe('3 nodes: losing k8s01 needs 50% of the CPU and 50% of the memory free elsewhere, fullest k8s01 at 3/110 pods');
    expect(o.actions ?? []).toEqual([]);
  });

  it('judges the worst node, not the largest: a small node full of movable pods', async () => {
    const d = { nodes: [node('big', 16, 64), node('small', 2, 4), node('mid', 4, 8)],
      pods: [...pods(1, 'small', 1800, 3.5), ...pods(1, 'big', 14000, 50), ...pods(1, 'mid', 3000, 6)] };
    // losing small: 1.8 CPU needs (16-14)+(4-3) = 3 free -> 60%; losing big: 14 CPU needs 0.2+1 -> capped
    const { perf, state } = await run(d);
    expect(perf.cpu_move).toBe(MOVE_PERCENT_CAP);
    expect(state).toBe(State.CRITICAL);
  });

  it('WARNING over -w, CRITICAL over -c, naming the node, with a first long-output line saying what to do', async () => {
    const d = { nodes: [node('k8s01', 4, 8), node('k8s02', 4, 8)], pods: [...pods(1, 'k8s01', 2700, 1), ...pods(1, 'k8s02', 1000, 1)] };
    // losing k8s01: 2.7 CPU against 3 free on k8s02 = 90%
    const w = await run(d);
    expect(w.state).toBe(State.WARNING);
    expect(w.o.summary).toBe('losing k8s01 needs 90% of the CPU free elsewhere');
    expect(w.todo).toEqual(['What to do: add a node or capacity, or lower requests on k8s01 (kubectl describe node k8s01) before it reboots']);
    expect(w.o.actions![0]!.state).toBe(State.WARNING);
    expect(w.texts).toContain('losing k8s01: its pods request 2.7 CPU, the other schedulable nodes have 3 CPU free: the move needs 90% of it (outside -w 80)');
    // losing k8s01: 4 CPU against 3.9 free; losing k8s02: 0.1 against 0 free on k8s01 is worse still
    const c = await run({ ...d, pods: [...pods(1, 'k8s01', 4000, 1), ...pods(1, 'k8s02', 100, 1)] });
    expect(c.state).toBe(State.CRITICAL);
    expect(c.perf.cpu_move).toBe(MOVE_PERCENT_CAP);
    expect(c.o.summary).toMatch(/^losing k8s02 needs more than all of the CPU free elsewhere/);
    const over = await run({ ...d, pods: [...pods(1, 'k8s01', 4000, 1), ...pods(1, 'k8s02', 100, 1, false)] });
    expect(over.perf.cpu_move).toBe(102.6);
    expect(over.perf.cpu_headroom).toBe(-0.1);
    expect(over.state).toBe(State.CRITICAL);
    const relaxed = await run(d, ['-w', '95', '-c', '120']);
    expect(relaxed.state).toBe(State.OK);
  });

  it('DaemonSet and static pods do not move but hold their room; cordoned and NotReady nodes take nothing', async () => {
    const d = { nodes: [node('a', 4, 8), node('b', 4, 8), node('c', 4, 8, { schedulable: false })],
      pods: [...pods(1, 'a', 2000, 2), ...pods(1, 'a', 1500, 1, false), ...pods(1, 'b', 1500, 1, false)] };
    // losing a: 2 CPU move; only b receives (c is not schedulable): 4 - 1.5 = 2.5 free -> 80%: not over 80
    const { perf, state } = await run(d);
    expect(perf.cpu_move).toBe(80);
    expect(state).toBe(State.OK);
  });

  it('an overcommitted receiver offers nothing, not a negative amount', async () => {
    const d = { nodes: [node('a', 4, 8), node('b', 4, 8), node('c', 4, 8)], pods: [...pods(1, 'a', 1000, 1), ...pods(1, 'b', 6000, 1, false)] };
    // losing a: 1 CPU against b (0, not -2) + c (4): 25%; b's pods stay with b
    expect((await run(d)).perf.cpu_move).toBe(25);
  });

  it('a one-node cluster is not judged N-1: OK with a note, U perfdata', async () => {
    const { state, o, perf, texts } = await run({ nodes: [node('solo', 4, 8)], pods: pods(5, 'solo', 1000, 2) });
    expect(state).toBe(State.OK);
    expect(o.summary).toBe('1 node: one node, N-1 not judged, fullest solo at 5/110 pods');
    expect(texts.some((t) => t.startsWith('one node: losing it loses every pod, so N-1 is not judged'))).toBe(true);
    expect(perf.cpu_move).toBeUndefined();
    expect(perf.memory_headroom).toBeUndefined();
  });

  it('no nodes: OK, says so', async () => {
    expect((await run({ nodes: [], pods: [] })).o.summary).toBe('no nodes');
  });
});

describe('capacity: pods per node', () => {
  it('WARNING for a node over --pods-warning percent of its allocatable pods, naming it', async () => {
    const d = { nodes: [node('a', 64, 256, { pods: 110 }), node('b', 64, 256, { pods: 110 })], pods: [...pods(100, 'a', 10, 0.01), ...pods(20, 'b', 10, 0.01)] };
    const { state, o, perf, texts, todo } = await run(d);
    expect(state).toBe(State.WARNING);
    expect(o.summary).toBe('a 100/110 pods');
    expect(perf.pods_max).toBe(90.9);
    expect(todo).toEqual(["What to do: move pods off a or raise its kubelet's maxPods"]);
    expect(texts).toContain('a: 100 of 110 allocatable pods (90.9%, outside --pods-warning 90): new pods for it fail with "Too many pods"');
    expect((await run(d, ['--pods-warning', '95'])).state).toBe(State.OK);
    expect((await run(d, ['--pods-warning', '10'])).o.summary).toBe('a 100/110 pods; b 20/110 pods');
    expect((await run(d, ['--pods-critical', '90'])).state).toBe(State.CRITICAL);
  });
  it('many full nodes: the status line names the fullest three and counts the rest; every node has its line', async () => {
    const nodes = Array.from({ length: 6 }, (_, i) => node(`n${i}`, 8, 16, { pods: 10 }));
    const d = { nodes, pods: nodes.flatMap((n) => pods(10, n.name, 10, 0.01)) };
    const { o, texts, perf, todo } = await run(d);
    expect(o.summary).toBe('6 nodes near their pod limit (n0 10/10 pods, n1 10/10 pods, n2 10/10 pods and 3 more)');
    expect(texts.filter((t) => t.includes('allocatable pods'))).toHaveLength(6);
    expect(todo).toEqual(["What to do: move pods off n0, n1, n2 and 3 more or raise their kubelet's maxPods"]);
    expect(perf.pods_max).toBe(100);
  });
});

describe('capacity: what is read from the API', () => {
  it('a node: allocatable parsed, schedulable only when Ready and not cordoned', () => {
    const ready = { type: 'Ready', status: 'True' };
    const n = capacityNode({ metadata: { name: 'k8s01' }, spec: {}, status: { conditions: [ready], allocatable: { cpu: '3800m', memory: '16318908Ki', pods: '110' } } });
    expect(n).toEqual({ name: 'k8s01', schedulable: true, allocatable: { cpu: 3800, memory: 16318908 * 1024, pods: 110 } });
    expect(capacityNode({ metadata: { name: 'x' }, spec: { unschedulable: true }, status: { conditions: [ready] } }).schedulable).toBe(false);
    expect(capacityNode({ metadata: { name: 'x' }, status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } }).schedulable).toBe(false);
  });

  it('a pod: unbound ones are dropped; DaemonSet and static (Node-owned) pods do not move', () => {
    const spec = { nodeName: 'k8s01', containers: [{ resources: { requests: { cpu: '100m', memory: '70Mi' } } }] };
    expect(capacityPod({ spec: { containers: [] } })).toBeUndefined();
    expect(capacityPod({ metadata: { ownerReferences: [{ kind: 'ReplicaSet', controller: true }] }, spec })).toEqual({ node: 'k8s01', moves: true, cpu: 100, memory: 70 * 2 ** 20 });
    expect(capacityPod({ metadata: { ownerReferences: [{ kind: 'DaemonSet', controller: true }] }, spec })?.moves).toBe(false);
    expect(capacityPod({ metadata: { ownerReferences: [{ kind: 'Node', controller: true }] }, spec })?.moves).toBe(false);
  });
});
