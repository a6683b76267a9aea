import { describe, expect, it } from 'vitest';
import check, { capacityNode, capacityPod, MOVE_PERCENT_CAP, type CapacityData, type CapacityNode, type CapacityPod } from '../../checks/capacity.js';
import { formatPerfdata } from '../../lib/plugin/perfdata.js';
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
    expect(o.perfdata.map(formatPerfdata).slice(0, 2)).toEqual(['cpu_move=U;80;100;0', 'memory_move=U;80;100;0']);
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

describe('capacity: edges of the N-1 verdict', () => {
  it('CPU worst on one node, memory on another: each named with its share in the OK line', async () => {
    // losing cpu-heavy: 2 CPU against 4-0.5 = 3.5 free (57.1%); losing mem-heavy: 6 GiB against 16-2 = 14 free (42.9%)
    const d = { nodes: [node('cpu-heavy', 4, 16), node('mem-heavy', 4, 16)], pods: [...pods(1, 'cpu-heavy', 2000, 2), ...pods(1, 'mem-heavy', 500, 6)] };
    const { state, o, perf, texts } = await run(d);
    expect(state).toBe(State.OK);
    expect(o.summary).toBe('2 nodes: losing cpu-heavy needs 57.1% of the CPU free elsewhere, losing mem-heavy needs 42.9% of the memory free elsewhere, fullest cpu-heavy at 1/110 pods');
    expect(perf).toMatchObject({ cpu_move: 57.1, memory_move: 42.9, cpu_headroom: 1.5, memory_headroom: 8 * GiB });
    expect(texts).toContain('CPU: the worst node to lose is cpu-heavy: its pods request 2 CPU, the other schedulable nodes have 3.5 CPU free (57.1%)');
    expect(texts).toContain('memory: the worst node to lose is mem-heavy: its pods request 6GiB, the other schedulable nodes have 14GiB free (42.9%)');
  });

  it('of two nodes at the same share, the one with more to move is the worst', async () => {
    // nothing free anywhere: both losses are capped; b moves more CPU
    const d = { nodes: [node('a', 1, 8), node('b', 2, 8)], pods: [...pods(1, 'a', 1000, 1), ...pods(1, 'b', 2000, 1)] };
    const { texts, o } = await run(d);
    expect(texts).toContain('CPU: the worst node to lose is b: its pods request 2 CPU, the other schedulable nodes have 0 CPU free (nothing free)');
    expect(o.summary).toMatch(/^losing b needs more than all of the CPU free elsewhere/);
  });

  it('of two identical nodes, the first is named; at the same share the one listed first with more to move stays the worst', async () => {
    const twins = { nodes: [node('k8s01', 4, 8), node('k8s02', 4, 8)], pods: [...pods(1, 'k8s01', 1000, 1), ...pods(1, 'k8s02', 1000, 1)] };
    const t = await run(twins);
    expect(t.o.summary).toBe('2 nodes: losing k8s01 needs 33.3% of the CPU and 14.3% of the memory free elsewhere, fullest k8s01 at 1/110 pods');
    expect(t.texts.some((x) => x.startsWith('one node'))).toBe(false);
    // nothing free anywhere: both capped; big, listed first, moves more
    const d = { nodes: [node('big', 2, 8), node('small', 1, 8)], pods: [...pods(1, 'big', 2000, 1), ...pods(1, 'small', 1000, 1)] };
    expect((await run(d)).o.summary).toMatch(/^losing big needs more than all of the CPU free elsewhere/);
  });

  it('the worst share wins over the larger move: a node with room to give is the hard one to lose', async () => {
    // losing a: 2 CPU against 1+3 free (50%); losing b: 3 CPU against 14+3 (17.6%); losing c: 1 against 15 (6.7%)
    const d = { nodes: [node('a', 16, 16), node('b', 4, 8), node('c', 4, 8)], pods: [...pods(1, 'a', 2000, 1), ...pods(1, 'b', 3000, 1), ...pods(1, 'c', 1000, 1)] };
    const { texts, perf } = await run(d);
    expect(perf.cpu_move).toBe(50);
    expect(texts).toContain('CPU: the worst node to lose is a: its pods request 2 CPU, the other schedulable nodes have 4 CPU free (50%)');
  });

  it('the fullest node is the one with the larger share of its pods, whatever the names', async () => {
    const d = { nodes: [node('a', 8, 16), node('z', 8, 16)], pods: [...pods(10, 'a', 1, 0.001, false), ...pods(50, 'z', 1, 0.001, false)] };
    const { o, perf } = await run(d);
    expect(o.summary).toMatch(/, fullest z at 50\/110 pods$/);
    expect(perf.pods_max).toBe(45.5);
  });

  it('a node whose pods request nothing needs nothing, even with nothing free', async () => {
    const d = { nodes: [node('a', 4, 8), node('b', 4, 8)], pods: [...pods(1, 'a', 0, 0), ...pods(1, 'b', 4000, 8, false)] };
    const { state, perf, o } = await run(d);
    expect(state).toBe(State.OK);
    expect(perf).toMatchObject({ cpu_move: 0, memory_move: 0 });
    expect(o.summary).toMatch(/^2 nodes: losing a needs 0% of the CPU and 0% of the memory free elsewhere/);
  });

  it('losing a cordoned node: its pods move to all the free room, none of which was its own', async () => {
    // c is cordoned: it offers nothing, so losing it takes nothing away from the 3+3 CPU free on a and b
    const d = { nodes: [node('a', 4, 8), node('b', 4, 8), node('c', 4, 8, { schedulable: false })], pods: [...pods(1, 'a', 1000, 1), ...pods(1, 'b', 1000, 1), ...pods(1, 'c', 4000, 1)] };
    const { perf, texts, state } = await run(d);
    expect(perf.cpu_move).toBe(66.7);
    expect(state).toBe(State.OK);
    expect(texts).toContain('CPU: the worst node to lose is c: its pods request 4 CPU, the other schedulable nodes have 6 CPU free (66.7%)');
  });

  it('CPU and memory both short on one node: the node is named once in what to do, at the worst state', async () => {
    // losing a: 3.5 CPU against 3 free (116.7%: CRITICAL), 7 GiB against 7.5 free (93.3%: WARNING); b's DaemonSet pod stays
    const d = { nodes: [node('a', 4, 8), node('b', 4, 8)], pods: [...pods(1, 'a', 3500, 7), ...pods(1, 'b', 1000, 0.5, false)] };
    const { state, o, todo, perf } = await run(d);
    expect(state).toBe(State.CRITICAL);
    expect(perf).toMatchObject({ cpu_move: 116.7, memory_move: 93.3 });
    expect(o.summary).toBe('losing a needs 116.7% of the CPU free elsewhere; losing a needs 93.3% of the memory free elsewhere');
    expect(todo).toEqual(['What to do: add a node or capacity, or lower requests on a (kubectl describe node a) before it reboots']);
    expect(o.actions![0]!.state).toBe(State.CRITICAL);
  });

  it('two nodes each short of one resource: both named, "before they reboot"', async () => {
    // CPU: losing a moves 3.5 against 3.9 free (89.7%). Memory: losing a or b each needs all that is free on the other
    // (1 of 1 GiB, 7 of 7 GiB: 100%, within -c 100): b, with more to move, is the worse.
    const d = { nodes: [node('a', 4, 8), node('b', 4, 8)], pods: [...pods(1, 'a', 3500, 1), ...pods(1, 'b', 100, 7)] };
    const { state, todo, o } = await run(d);
    expect(state).toBe(State.WARNING);
    expect(o.summary).toBe('losing a needs 89.7% of the CPU free elsewhere; losing b needs 100% of the memory free elsewhere');
    expect(todo).toEqual(['What to do: add a node or capacity, or lower requests on a, b (kubectl describe node a) before they reboot']);
  });

  it('-w at the share itself is not over it; a tenth more is', async () => {
    // losing a: 2.4 CPU against 3 free = 80%
    const d = { nodes: [node('a', 4, 8), node('b', 4, 8)], pods: [...pods(1, 'a', 2400, 1), ...pods(1, 'b', 1000, 1)] };
    expect((await run(d)).state).toBe(State.OK);
    const over = await run({ ...d, pods: [...pods(1, 'a', 2403, 1), ...pods(1, 'b', 1000, 1)] });
    expect(over.perf.cpu_move).toBe(80.1);
    expect(over.state).toBe(State.WARNING);
  });
});

describe('capacity: edges of pods per node', () => {
  it('WARNING and CRITICAL nodes each on their own part of the status line, what to do at the worst', async () => {
    const d = { nodes: [node('w', 64, 256, { pods: 100 }), node('c', 64, 256, { pods: 100 }), node('ok', 64, 256, { pods: 100 })],
      pods: [...pods(92, 'w', 1, 0.001), ...pods(99, 'c', 1, 0.001), ...pods(10, 'ok', 1, 0.001)] };
    const { state, o, todo, perf } = await run(d, ['--pods-critical', '95']);
    expect(state).toBe(State.CRITICAL);
    expect(o.summary).toBe('c 99/100 pods; w 92/100 pods');
    expect(todo).toEqual(["What to do: move pods off c, w or raise their kubelet's maxPods"]);
    expect(o.actions![0]!.state).toBe(State.CRITICAL);
    expect(perf.pods_max).toBe(99);
  });

  it('exactly three full nodes are each named; four are counted', async () => {
    const mk = (n: number) => {
      const nodes = Array.from({ length: n }, (_, i) => node(`n${i}`, 8, 16, { pods: 10 }));
      return { nodes, pods: nodes.flatMap((x) => pods(10, x.name, 10, 0.01)) };
    };
    const three = await run(mk(3));
    expect(three.o.summary).toBe('n0 10/10 pods; n1 10/10 pods; n2 10/10 pods');
    expect(three.todo).toEqual(["What to do: move pods off n0, n1, n2 or raise their kubelet's maxPods"]);
    const four = await run(mk(4));
    expect(four.o.summary).toBe('4 nodes near their pod limit (n0 10/10 pods, n1 10/10 pods, n2 10/10 pods and 1 more)');
    expect(four.todo).toEqual(["What to do: move pods off n0, n1, n2 and 1 more or raise their kubelet's maxPods"]);
  });

  it('the fullest node first, by share not by count; equal shares by name', async () => {
    const d = { nodes: [node('z-small', 8, 16, { pods: 20 }), node('big', 8, 16, { pods: 250 }), node('a-small', 8, 16, { pods: 20 })],
      pods: [...pods(19, 'z-small', 1, 0.001), ...pods(19, 'a-small', 1, 0.001), ...pods(200, 'big', 1, 0.001)] };
    const { o, perf } = await run(d);
    expect(o.summary).toBe('a-small 19/20 pods; z-small 19/20 pods');
    expect(perf.pods_max).toBe(95);
  });

  it('a node with no allocatable pods (no status yet) is not judged nor counted as fullest', async () => {
    const d = { nodes: [node('new', 0, 0, { pods: 0, schedulable: false }), node('a', 4, 8, { pods: 110 })], pods: pods(3, 'a', 100, 0.1, false) };
    const { state, o, perf } = await run(d);
    expect(state).toBe(State.OK);
    expect(o.summary).toBe('2 nodes: losing new needs 0% of the CPU and 0% of the memory free elsewhere, fullest a at 3/110 pods');
    expect(perf).toMatchObject({ nodes: 2, schedulable_nodes: 1 });
    const none = await run({ nodes: [node('new', 0, 0, { pods: 0 }), node('new2', 0, 0, { pods: 0 })], pods: [] });
    expect(none.o.summary).toBe('2 nodes: losing new needs 0% of the CPU and 0% of the memory free elsewhere');
    expect(none.perf.pods_max).toBe(0);
  });

  it('a node without status: no name, nothing allocatable, not schedulable; a pod without spec or owner', () => {
    expect(capacityNode({})).toEqual({ name: '', schedulable: false, allocatable: { cpu: 0, memory: 0, pods: 0 } });
    expect(capacityPod({})).toBeUndefined();
    // A bare pod (no controller) counts as moving: only DaemonSet and static pods stay with their node.
    expect(capacityPod({ metadata: { name: 'bare' }, spec: { nodeName: 'k8s01', containers: [] } })).toEqual({ node: 'k8s01', moves: true, cpu: 0, memory: 0 });
  });
});

describe('capacity: perfdata as a grapher reads it', () => {
  it('with its thresholds and floors; the headroom may go below 0, the pod share above 100', async () => {
    const d = { nodes: [node('k8s01', 4, 8), node('k8s02', 4, 8)], pods: [...pods(1, 'k8s01', 1000, 1), ...pods(1, 'k8s02', 1000, 1)] };
    const { o } = await run(d);
    expect(o.perfdata.map(formatPerfdata).join(' ')).toBe(`cpu_move=33.3%;80;100;0 memory_move=14.3%;80;100;0 cpu_headroom=2 memory_headroom=${6 * GiB}B pods_max=0.9%;90;;0 nodes=2;;;0 schedulable_nodes=2;;;0;2`);
  });
});
