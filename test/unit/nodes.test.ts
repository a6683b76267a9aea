import { describe, expect, it } from 'vitest';
import check, { parseNodeThreshold, type NodesData } from '../../checks/nodes.js';
import { versionSkew } from '../../lib/kube/nodes.js';
import { leaseFreshness } from '../../lib/kube/node-lease.js';
import { readyChanges, returnMoments, togetherGroups } from '../../lib/kube/reboots.js';
import type { Condition, KubeEvent, Lease, Node } from '../../lib/kube/types.js';
import { parseArgs } from '../../lib/plugin/args.js';
import { outcomeState, type Finding } from '../../lib/plugin/result.js';
import { State } from '../../lib/plugin/state.js';
import { clock, checkOptions, flatFindings } from './support.js';

const { NOW, ago, micro } = clock('2026-06-05T06:30:00Z');
const opts = (args: string[] = []) => checkOptions(check, args);

// Conditions as the kubelet (pkg/kubelet/nodestatus/setters.go) and the node lifecycle controller write them.
const ok = (type: string, reason: string, message: string, since = 20 * 86400): Condition =>
  ({ type, status: type === 'Ready' ? 'True' : 'False', reason, message, lastTransitionTime: ago(since) });
const healthyConditions = (readySince: number): Condition[] => [
  ok('MemoryPressure', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
  ok('DiskPressure', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
  ok('PIDPressure', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
  ok('Ready', 'KubeletReady', 'kubelet is posting ready status', readySince),
];
const unknownConditions = (since: number): Condition[] =>
  ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready'].map((type) =>
    ({ type, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: ago(since) }));

const node = (name: string, o: { readySince?: number; conditions?: Condition[]; cordoned?: boolean; version?: string } = {}): Node => ({
  metadata: { name },
  spec: o.cordoned ? { unschedulable: true } : {},
  status: { conditions: o.conditions ?? healthyConditions(o.readySince ?? 20 * 86400), nodeInfo: { kubeletVersion: o.version ?? 'v1.32.3', bootID: `boot-${name}` } },
});
// kube-node-lease/<node> as the kubelet's lease controller writes it: holder = node name, 40s, renewed every 10s.
const lease = (name: string, renewedAgo = 4, duration: number | undefined = 40): Lease => ({
  metadata: { name, namespace: 'kube-node-lease' },
  spec: { holderIdentity: name, ...(duration !== undefined && { leaseDurationSeconds: duration }), renewTime: micro(renewedAgo) },
});
const event = (nodeName: string, reason: string, lastAgo: number, o: { count?: number; firstAgo?: number; component?: string } = {}): KubeEvent => ({
  metadata: { creationTimestamp: ago(o.firstAgo ?? lastAgo) },
  involvedObject: { kind: 'Node', name: nodeName, uid: nodeName },
  reason,
  message: reason === 'Rebooted' ? `Node ${nodeName} has been rebooted, boot id: 0b8a3f2e-1111-4c2d-9e5f-${nodeName}` : `Node ${nodeName} status is now: ${reason}`,
  type: reason === 'Rebooted' ? 'Warning' : 'Normal',
  count: o.count ?? 1,
  firstTimestamp: ago(o.firstAgo ?? lastAgo),
  lastTimestamp: ago(lastAgo),
  source: { component: o.component ?? 'kubelet', host: nodeName },
});

const three = (): NodesData => ({
  nodes: [node('k8s01', { readySince: 20 * 86400 }), node('k8s02', { readySince: 13 * 86400 }), node('k8s03', { readySince: 6 * 86400 })],
  leases: [lease('k8s01'), lease('k8s02', 9), lease('k8s03', 1)],
  events: [],
});

// A section's findings (Readiness, Heartbeats, ...) in its place, its heading line left out.
const flat = flatFindings;

const run = async (d: NodesData, args: string[] = []) => {
  const o = check.evaluate(d, await opts(args), NOW);
  return { o, state: outcomeState(o), perf: Object.fromEntries(o.perfdata.map((p) => [p.label, p.value])), texts: flat(o.findings).map((f) => f.text) };
};

describe('nodes options', () => {
  it('defaults: -c 0, reboots within 2m inside 1h, more than 1 warns, more than half is critical', async () => {
    const o = await opts();
    expect(o.critical?.text).toBe('0');
    expect(o.warning).toBeUndefined();
    expect(o).toMatchObject({ window: 3600, rebootWindow: 120, flapWindow: 900, cordonedState: 'warning', percent: false });
    expect(o.rebootWarning).toMatchObject({ percent: false, text: '1' });
    expect(o.rebootCritical).toMatchObject({ percent: true, text: '50%' });
  });

  it('takes a count or a percentage for the reboot thresholds, and refuses nonsense', async () => {
    expect(parseNodeThreshold('2:', '--reboot-warning')).toMatchObject({ percent: false });
    expect(parseNodeThreshold('34%', '--reboot-critical').range.text).toBe('34');
    await expect(parseArgs(check, ['--reboot-critical', 'half'])).rejects.toThrow(/--reboot-critical/);
    await expect(parseArgs(check, ['--window', '0'])).rejects.toThrow(/--window/);
    await expect(parseArgs(check, ['--cordoned-state', 'maybe'])).rejects.toThrow(/--cordoned-state/);
    await expect(parseArgs(check, ['--selector', 'a b'])).rejects.toThrow(/--selector/);
  });
});

describe('nodes evaluate', () => {
  it('is OK for three Ready nodes rebooted a week apart with fresh Leases', async () => {
    const { o, state, perf } = await run(three());
    expect(state).toBe(State.OK);
    expect(o.summary).toBe('3 nodes Ready, heartbeats fresh, kubelet v1.32.3');
    expect(perf).toMatchObject({ notready_nodes: 0, notready_percent: 0, nodes: 3, rebooted_together: 0, stale_leases: 0, cordoned_nodes: 0, pressure_nodes: 0, ready_changes_max: 0, lease_age_max: 9 });
    expect(o.perfdata.find((p) => p.label === 'notready_nodes')?.crit?.text).toBe('0');
  });

  it('the incident, an hour on: all three Ready again within 1m40s of each other, 57m ago, all back: WARNING naming what to verify', async () => {
    const d = three();
    d.nodes = [node('k8s01', { readySince: 58 * 60 }), node('k8s02', { readySince: 57 * 60 }), node('k8s03', { readySince: 58 * 60 + 40 })];
    const { o, state, perf, texts } = await run(d);
    // Behaviour change: CRITICAL is for what is broken now; every node is Ready with a fresh heartbeat.
    expect(state).toBe(State.WARNING);
    expect(o.summary).toBe('3 nodes rebooted together (Ready again within 1m40s of each other, 57m ago: k8s03, k8s01, k8s02), all Ready again: verify with k8s-nrpe triage');
    expect(texts[0]).toMatch(/^3 nodes rebooted together .*: verify with k8s-nrpe triage on each of them: the incident's failures hide behind Ready nodes/);
    expect(perf.rebooted_together).toBe(3);
    expect(texts).toContain('k8s03: Ready again since 58m ago (no Rebooted event left: events expire)');
    // ...and with --window 30m it is history.
    expect((await run(d, ['--window', '30m'])).state).toBe(State.OK);
  });

  it('two of three back together is CRITICAL while one of them is still down, WARNING once both are back; two of five only WARNING', async () => {
    const d = three();
    // Rebooted: the kubelet is up again, but k8s02's network is not ready yet.
    d.events = [event('k8s01', 'Rebooted', 60), event('k8s02', 'Rebooted', 50)];
    d.nodes[0] = node('k8s01', { readySince: 40 });
    d.nodes[1] = node('k8s02', { conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'container runtime network not ready', lastTransitionTime: ago(50) }] });
    const down = await run(d);
    expect(down.state).toBe(State.CRITICAL);
    expect(down.o.summary).toMatch(/; 2 nodes rebooted together \(Rebooted events within 10s of each other, 50s ago: k8s01, k8s02\)$/);
    expect(down.texts).toContain('2 nodes rebooted together (Rebooted events within 10s of each other, 50s ago: k8s01, k8s02): not all of them are back (Ready with a fresh heartbeat); a rolling reboot brings nodes back one at a time (docs/rolling-reboot.md)');
    // A Ready node whose kubelet stopped renewing its Lease is not back either.
    d.nodes[1] = node('k8s02', { readySince: 30 });
    d.leases[1] = lease('k8s02', 45);
    expect((await run(d)).o.summary).toMatch(/2 nodes rebooted together \([^)]*\)(;|$)/);
    d.leases[1] = lease('k8s02');
    const back = await run(d);
    expect(back.state).toBe(State.WARNING);
    expect(back.o.summary).toBe('2 nodes rebooted together (Rebooted events within 10s of each other, 50s ago: k8s01, k8s02), all Ready again: verify with k8s-nrpe triage');
    d.events = [];
    d.nodes[0] = node('k8s01', { readySince: 300 });
    d.nodes[1] = node('k8s02', { readySince: 240 });
    d.nodes.push(node('k8s04'), node('k8s05'));
    d.leases.push(lease('k8s04'), lease('k8s05'));
    const { state, o } = await run(d);
    expect(state).toBe(State.WARNING);
    expect(o.summary).toMatch(/^2 nodes rebooted together \(Ready again within 1m of each other, 4m ago: k8s01, k8s02\), all Ready again: verify with k8s-nrpe triage$/);
    expect((await run(d, ['--reboot-window', '30s'])).state).toBe(State.OK);
  });

  it('nodes Ready for the first time together joined the cluster, they did not reboot (found on a real apiserver)', async () => {
    // Three fresh nodes: created 10m ago, Ready within 1s of each other right after. Was: CRITICAL - 3 nodes rebooted together.
    const fresh = (name: string, readyAgo: number): Node => ({ ...node(name, { readySince: readyAgo }), metadata: { name, creationTimestamp: ago(10 * 60 + 30) } });
    const d: NodesData = { nodes: [fresh('k8s01', 600), fresh('k8s02', 600), fresh('k8s03', 599)], leases: [lease('k8s01'), lease('k8s02'), lease('k8s03')], events: [] };
    const { o, state, perf, texts } = await run(d);
    expect(state).toBe(State.OK);
    expect(o.summary).toBe('3 nodes Ready, heartbeats fresh, kubelet v1.32.3');
    expect(perf.rebooted_together).toBe(0);
    expect(texts).toContain('3 nodes joined the cluster in 1h, Ready for the first time (not a reboot), the last 9m59s ago: k8s01, k8s02, k8s03');
    // The same nodes, created long before: a return from NotReady, a reboot.
    const old = (name: string, readyAgo: number): Node => ({ ...node(name, { readySince: readyAgo }), metadata: { name, creationTimestamp: ago(400 * 86400) } });
    const back = await run({ ...d, nodes: [old('k8s01', 600), old('k8s02', 600), old('k8s03', 599)] });
    expect(back.state).toBe(State.WARNING);
    expect(back.o.summary).toMatch(/^3 nodes rebooted together \(Ready again within 1s of each other, 9m59s ago: /);
  });

  it('prefers Rebooted events when they are still there and says so', async () => {
    const d = three();
    d.nodes = d.nodes.map((n) => node(n.metadata!.name!, { readySince: 200 }));
    d.events = [event('k8s01', 'Rebooted', 230), event('k8s02', 'Rebooted', 250), event('k8s03', 'Rebooted', 1000)];
    const { o, state, texts } = await run(d);
    expect(state).toBe(State.WARNING);
    expect(o.summary).toBe('2 nodes rebooted together (Rebooted events within 20s of each other, 3m50s ago: k8s02, k8s01), all Ready again: verify with k8s-nrpe triage');
    expect(texts).toContain('k8s01: Rebooted event 3m50s ago');
  });

  it('a NotReady (Unknown) node is CRITICAL with how long and the controller\'s message', async () => {
    const d = three();
    d.nodes[1] = node('k8s02', { conditions: unknownConditions(300) });
    d.leases[1] = lease('k8s02', 340);
    const { o, state, perf, texts } = await run(d);
    expect(state).toBe(State.CRITICAL);
    expect(o.summary).toBe('k8s02 NotReady (Unknown) for 5m');
    expect(texts).toContain('k8s02 NotReady (Unknown) for 5m: NodeStatusUnknown: Kubelet stopped posting node status. (outside -c 0)');
    expect(texts).toContain('k8s02: heartbeat Lease renewed 5m40s ago, leaseDurationSeconds 40');
    expect(perf).toMatchObject({ notready_nodes: 1, notready_percent: 33.3, stale_leases: 1, lease_age_max: 340 });
    // pressure conditions of an Unknown node are not judged a second time
    expect(perf.pressure_nodes).toBe(0);
  });

  it('-w/-c with --percent judge the NotReady share', async () => {
    const d = three();
    d.nodes[1] = node('k8s02', { conditions: unknownConditions(300) });
    expect((await run(d, ['--percent', '-w', '20', '-c', '50'])).state).toBe(State.WARNING);
    expect((await run(d, ['-c', '1'])).state).toBe(State.OK);
    const { o } = await run(d, ['--percent', '-c', '20']);
    expect(o.perfdata.find((p) => p.label === 'notready_percent')?.crit?.text).toBe('20');
    expect(o.perfdata.find((p) => p.label === 'notready_nodes')?.crit).toBeUndefined();
  });

  it('a Lease not renewed while the Node still says Ready is CRITICAL: the kubelet stopped', async () => {
    const d = three();
    d.leases[2] = lease('k8s03', 95);
    const { o, state } = await run(d);
    expect(state).toBe(State.CRITICAL);
    expect(o.summary).toBe('k8s03: kubelet stopped renewing its Lease (renewed 1m35s ago, leaseDurationSeconds 40) but the Node says Ready');
    // leaseDurationSeconds absent: the kubelet's default (40s)
    expect(leaseFreshness(lease('x', 39, undefined), NOW)).toMatchObject({ duration: 40, expired: false });
    expect(leaseFreshness(lease('x', 41, undefined), NOW).expired).toBe(true);
  });

  it('a Lease never renewed (no renewTime) while the Node says Ready is CRITICAL, and counts as stale', async () => {
    const d = three();
    // created by the kubelet and never renewed after: renewTime and acquireTime both absent
    d.leases[0] = { metadata: { name: 'k8s01', namespace: 'kube-node-lease' }, spec: { holderIdentity: 'k8s01', leaseDurationSeconds: 40 } };
    const { o, state, perf } = await run(d);
    expect(state).toBe(State.CRITICAL);
    expect(o.summary).toBe('k8s01: kubelet stopped renewing its Lease (renewed at an unknown time, leaseDurationSeconds 40) but the Node says Ready');
    expect(perf).toMatchObject({ stale_leases: 1, lease_age_max: 9 });
    expect(leaseFreshness(d.leases[0], NOW)).toEqual({ renewAge: undefined, duration: 40, expired: true });
  });

  it('a Lease renewed exactly leaseDurationSeconds ago is still fresh; a second later it is not', async () => {
    const d = three();
    d.leases[2] = lease('k8s03', 40);
    expect((await run(d)).state).toBe(State.OK);
    d.leases[2] = lease('k8s03', 41);
    const { state, perf } = await run(d);
    expect(state).toBe(State.CRITICAL);
    expect(perf).toMatchObject({ stale_leases: 1, lease_age_max: 41 });
    // a Lease that says 120s is judged by its own duration, not the default
    d.leases[2] = lease('k8s03', 100, 120);
    expect((await run(d)).state).toBe(State.OK);
  });

  it('a Ready node without a Lease is WARNING', async () => {
    const d = three();
    d.leases.pop();
    const { o, state } = await run(d);
    expect(state).toBe(State.WARNING);
    expect(o.summary).toBe('k8s03: no heartbeat Lease');
    // a NotReady node without a Lease is judged as NotReady, not warned about twice
    d.nodes[2] = node('k8s03', { conditions: unknownConditions(300) });
    const down = await run(d);
    expect(down.state).toBe(State.CRITICAL);
    expect(down.o.summary).toBe('k8s03 NotReady (Unknown) for 5m');
  });

  it('pressure is WARNING, NetworkUnavailable CRITICAL, with the kubelet\'s reason', async () => {
    const d = three();
    const c = healthyConditions(86400);
    c[1] = { type: 'DiskPressure', status: 'True', reason: 'KubeletHasDiskPressure', message: 'kubelet has disk pressure', lastTransitionTime: ago(600) };
    d.nodes[0] = node('k8s01', { conditions: c });
    let r = await run(d);
    expect(r.state).toBe(State.WARNING);
    expect(r.texts).toContain('k8s01 DiskPressure for 10m: KubeletHasDiskPressure: kubelet has disk pressure');
    expect(r.perf.pressure_nodes).toBe(1);
    d.nodes[2] = node('k8s03', { conditions: [...healthyConditions(86400), { type: 'NetworkUnavailable', status: 'True', reason: 'NoRouteCreated', message: 'Node created without a route', lastTransitionTime: ago(60) }] });
    r = await run(d);
    expect(r.state).toBe(State.CRITICAL);
    expect(r.o.summary).toBe('k8s03 NetworkUnavailable; k8s01 DiskPressure');
  });

  it('a cordoned node is --cordoned-state (WARNING by default)', async () => {
    const d = three();
    d.nodes[1] = node('k8s02', { cordoned: true });
    expect((await run(d)).o.summary).toBe('1 node cordoned (k8s02)');
    expect((await run(d)).state).toBe(State.WARNING);
    const quiet = await run(d, ['--cordoned-state', 'ok']);
    expect(quiet.state).toBe(State.OK);
    expect(quiet.texts).toContain('cordoned: k8s02');
    expect(quiet.perf.cordoned_nodes).toBe(1);
  });

  it('flapping: more than 2 Ready changes in 15m warns, from the kubelet\'s and the node controller\'s events', async () => {
    const d = three();
    d.nodes[0] = node('k8s01', { readySince: 20 * 86400 });
    // two NotReady->Ready cycles in 10m; the kubelet and the node controller both report NotReady: counted once
    d.events = [
      event('k8s01', 'NodeNotReady', 120, { count: 2, firstAgo: 600 }),
      event('k8s01', 'NodeNotReady', 125, { count: 2, firstAgo: 605, component: 'node-controller' }),
      event('k8s01', 'NodeReady', 60, { count: 2, firstAgo: 540 }),
    ];
    const { o, state, perf } = await run(d);
    expect(perf.ready_changes_max).toBe(4);
    expect(state).toBe(State.WARNING);
    expect(o.summary).toBe('k8s01 readiness flapping (4 changes in 15m)');
    expect(readyChanges('k8s01', d.events, undefined, NOW - 60_000 - 1)).toBe(1); // only the last NodeReady is inside 1m
    expect(readyChanges('k8s02', [], NOW - 1000, NOW - 60_000)).toBe(1); // no events: the condition's last change
  });

  it('two NotReady nodes under -c: named together when it alerts, each an information line when it does not', async () => {
    const d = three();
    d.nodes[1] = node('k8s02', { conditions: unknownConditions(300) });
    d.nodes[2] = node('k8s03', { conditions: unknownConditions(600) });
    const bad = await run(d);
    expect(bad.state).toBe(State.CRITICAL);
    expect(bad.o.summary).toBe('2 of 3 nodes NotReady (k8s02, k8s03)');
    const quiet = await run(d, ['-c', '2']);
    expect(quiet.state).toBe(State.OK);
    expect(flat(quiet.o.findings).filter((f) => f.text.includes('NotReady (Unknown) for')).map((f) => [f.state, f.text.split(':')[0]]))
      .toEqual([[undefined, 'k8s02 NotReady (Unknown) for 5m'], [undefined, 'k8s03 NotReady (Unknown) for 10m']]);
  });

  it('two cordoned nodes are named together; the latest of several Rebooted events of a node counts', async () => {
    const d = three();
    d.nodes[0] = node('k8s01', { cordoned: true });
    d.nodes[2] = node('k8s03', { cordoned: true });
    expect((await run(d)).o.summary).toBe('2 nodes cordoned (k8s01, k8s03)');
    const e = three();
    e.nodes = e.nodes.map((n) => node(n.metadata!.name!, { readySince: 200 }));
    // k8s01 rebooted twice: 50m ago and 4m ago; the later one groups it with k8s02
    e.events = [event('k8s01', 'Rebooted', 240), event('k8s01', 'Rebooted', 3000), event('k8s02', 'Rebooted', 250), event('k8s03', 'Rebooted', 1000)];
    const { state, o } = await run(e);
    // every node is back (Ready, heartbeat fresh): the reboot is history to verify, WARNING
    expect(state).toBe(State.WARNING);
    expect(o.summary).toBe('2 nodes rebooted together (Rebooted events within 10s of each other, 4m ago: k8s02, k8s01), all Ready again: verify with k8s-nrpe triage');
    expect(returnMoments(e.nodes, e.events, NOW - 3600_000).find((m) => m.node === 'k8s01')).toEqual({ node: 'k8s01', at: NOW - 240_000, how: 'Rebooted event' });
    // outside the window: the Rebooted event is ignored and Ready since is used
    expect(returnMoments(e.nodes, [event('k8s01', 'Rebooted', 4000)], NOW - 3600_000).find((m) => m.node === 'k8s01')?.how).toBe('Ready since');
  });

  it('kubelet version skew is information, not a problem', async () => {
    const d = three();
    d.nodes[2] = node('k8s03', { version: 'v1.31.9', readySince: 6 * 86400 });
    const { o, state, texts } = await run(d);
    expect(state).toBe(State.OK);
    expect(o.summary).toBe('3 nodes Ready, heartbeats fresh');
    expect(texts).toContain('kubelet versions differ: v1.32.3 (k8s01, k8s02), v1.31.9 (k8s03)');
    expect(versionSkew(three().nodes)).toBeUndefined();
  });

  it('cluster text cannot break the output', async () => {
    const d = three();
    d.nodes[0] = node('k8s01', { conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'PLEG is not healthy | x=1\nnext', lastTransitionTime: ago(30) }] });
    const { o, state } = await run(d);
    expect(state).toBe(State.CRITICAL);
    for (const f of flat(o.findings)) expect(f.text).not.toMatch(/[|\n]/);
    expect(o.summary).toBe('k8s01 NotReady for 30s');
  });

  it('a Ready=False without reason or message ends the line there, not with an empty ": "', async () => {
    const d = three();
    d.nodes[0] = node('k8s01', { conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: ago(30) }] });
    const { o, state } = await run(d);
    expect(state).toBe(State.CRITICAL);
    const line = (f: { text: string }[]) => f.map((x) => x.text).find((t) => t.startsWith('k8s01 NotReady'));
    expect(line(flat(o.findings))).toBe('k8s01 NotReady for 30s (outside -c 0)');
    d.nodes[0] = node('k8s01', { conditions: [{ type: 'Ready', status: 'False', message: 'PLEG is not healthy', lastTransitionTime: ago(30) }] });
    expect(line(flat((await run(d)).o.findings))).toBe('k8s01 NotReady for 30s: PLEG is not healthy (outside -c 0)');
  });

  it('no nodes: OK, says so', async () => {
    const { o, state } = await run({ nodes: [], leases: [], events: [] });
    expect(state).toBe(State.OK);
    expect(o.summary).toBe('no nodes match');
  });
});

describe('node conditions of other types (node-problem-detector)', () => {
  // As node-problem-detector writes them (config/kernel-monitor.json, config/systemd-monitor-counter.json).
  const npd = (type: string, status: 'True' | 'False', reason: string, message: string): Condition =>
    ({ type, status, reason, message, lastTransitionTime: ago(600) });
  const withProblems = (extra: Condition[]) => node('k8s02', { conditions: [...healthyConditions(86400), ...extra] });
  const data = (nodes: Node[]): NodesData => ({ nodes, leases: nodes.map((n) => lease(n.metadata!.name!)), events: [] });
  const problems = [
    npd('KernelDeadlock', 'True', 'DockerHung', 'kernel: INFO: task docker:20744 blocked for more than 120 seconds.'),
    npd('ReadonlyFilesystem', 'False', 'FilesystemIsNotReadOnly', 'Filesystem is not read-only'),
    npd('FrequentContainerdRestart', 'True', 'FrequentContainerdRestart', 'Found 5 matching logs, which meets the threshold of 5'),
  ];

  it('a True one is WARNING by default, naming type, node and message; False ones and the standard five are not judged here', async () => {
    const o = check.evaluate(data([node('k8s01'), withProblems(problems)]), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.WARNING);
    expect(o.summary).toBe('k8s02 KernelDeadlock; k8s02 FrequentContainerdRestart');
    const texts = flat(o.findings).map((f) => f.text);
    expect(texts).toContain('k8s02 KernelDeadlock for 10m: DockerHung: kernel: INFO: task docker:20744 blocked for more than 120 seconds. (--problem-condition-state warning; --ignore-condition KernelDeadlock to silence)');
    expect(texts.some((t) => t.includes('ReadonlyFilesystem'))).toBe(false);
    expect(o.perfdata.find((p) => p.label === 'problem_conditions')?.value).toBe(2);
  });

  it('--problem-condition-state chooses the state; ok keeps them as context lines', async () => {
    const crit = check.evaluate(data([withProblems(problems)]), await opts(['--problem-condition-state', 'critical']), NOW);
    expect(outcomeState(crit)).toBe(State.CRITICAL);
    const ok = check.evaluate(data([withProblems(problems)]), await opts(['--problem-condition-state', 'ok']), NOW);
    expect(outcomeState(ok)).toBe(State.OK);
    expect(flat(ok.findings).filter((f) => f.state === undefined).map((f) => f.text)).toContain('k8s02 FrequentContainerdRestart for 10m: FrequentContainerdRestart: Found 5 matching logs, which meets the threshold of 5');
  });

  it('--ignore-condition (repeatable) leaves those types out, of the state and of the count', async () => {
    const o = check.evaluate(data([withProblems(problems)]), await opts(['--ignore-condition', 'KernelDeadlock', '--ignore-condition', 'FrequentContainerdRestart']), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    expect(o.perfdata.find((p) => p.label === 'problem_conditions')?.value).toBe(0);
    const one = check.evaluate(data([withProblems(problems)]), await opts(['--ignore-condition', 'KernelDeadlock']), NOW);
    expect(one.summary).toBe('k8s02 FrequentContainerdRestart');
  });

  it('a node whose kubelet stopped reporting is judged by its Ready condition, not by stale agent conditions', async () => {
    const o = check.evaluate(data([node('k8s03', { conditions: [...unknownConditions(600), problems[0]!] })]), await opts(), NOW);
    expect(o.summary).not.toContain('KernelDeadlock');
  });
});

describe('nodes that came back together', () => {
  const m = (node: string, s: number) => ({ node, at: NOW - s * 1000 });
  it('groups moments whose first and last are within the spread, largest first, each once', () => {
    expect(togetherGroups([m('a', 100), m('b', 150), m('c', 400), m('d', 410), m('e', 420)], 60_000).map((g) => g.map((x) => x.node)))
      .toEqual([['e', 'd', 'c'], ['b', 'a']]);
    expect(togetherGroups([m('a', 0), m('b', 1000)], 60_000)).toEqual([]);
    // a chain 0-90-180 with a 2m spread is one group of two plus one left: not everything chained together
    expect(togetherGroups([m('a', 0), m('b', 90), m('c', 180)], 120_000).map((g) => g.length)).toEqual([2]);
  });

  it('takes a Ready transition only for a Ready node and only inside the window', () => {
    const nodes = [node('a', { readySince: 100 }), node('b', { conditions: unknownConditions(100) }), node('c', { readySince: 7200 })];
    expect(returnMoments(nodes, [], NOW - 3600_000).map((x) => x.node)).toEqual(['a']);
  });
});

describe('nodes: what to do', () => {
  it('nodes that rebooted together: triage on each of them', async () => {
    const d = three();
    d.nodes = [node('k8s01', { readySince: 58 * 60 }), node('k8s02', { readySince: 57 * 60 }), node('k8s03', { readySince: 58 * 60 + 40 })];
    const { o } = await run(d);
    expect(o.actions?.[0]?.text).toMatch(/^nodes that rebooted together .*sudo k8s-nrpe triage on each of k8s03, k8s01, k8s02 .*docs\/rolling-reboot\.md/);
  });
});

describe('nodes: the texts and states an operator acts on (mutation testing, hmut2)', () => {
  const notReadyFalse = (name: string, since: number) => node(name, { conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'container runtime network not ready', lastTransitionTime: ago(since) }] });
  const lines = (o: Awaited<ReturnType<typeof run>>['o']) => flat(o.findings).map((f) => [f.state, f.text] as const);
  const actions = (o: Awaited<ReturnType<typeof run>>['o']) => (o.actions ?? []).map((a) => [a.state, a.text]);

  it('a reboot threshold in nrpe.cfg with blanks around it: read as the same count or share', () => {
    expect(parseNodeThreshold(' 50% ', '--reboot-critical')).toMatchObject({ percent: true, text: '50%' });
    expect(parseNodeThreshold(' 50% ', '--reboot-critical').range.text).toBe('50');
    expect(parseNodeThreshold(' 2 ', '--reboot-warning')).toMatchObject({ percent: false, text: '2' });
    expect(() => parseNodeThreshold('half%', '--reboot-critical')).toThrow(/^--reboot-critical: .*\(a count range like 1 or 2:, or a percentage like 50%\)$/);
  });

  it('NotReady: what to do names every NotReady node and the first one to describe', async () => {
    const d = three();
    d.nodes[1] = notReadyFalse('k8s02', 120);
    d.nodes[2] = node('k8s03', { conditions: unknownConditions(600) });
    const { o, state } = await run(d);
    expect(state).toBe(State.CRITICAL);
    expect(actions(o)[0]).toEqual([State.CRITICAL, 'on k8s02, k8s03: sudo snap services microk8s and journalctl -u snap.microk8s.daemon-kubelite --since -15m (is the kubelet running, can it reach the API?); ' +
      'kubectl describe node k8s02 shows the condition\'s message; check again once it is Ready']);
    // two alerting: one line naming both with the threshold, then each node's own line at the same state
    expect(lines(o).filter(([, t]) => t.includes('NotReady'))).toEqual([
      [State.CRITICAL, '2 of 3 nodes NotReady (k8s02, k8s03) (outside -c 0)'],
      [State.CRITICAL, 'k8s02 NotReady for 2m: KubeletNotReady: container runtime network not ready'],
      [State.CRITICAL, 'k8s03 NotReady (Unknown) for 10m: NodeStatusUnknown: Kubelet stopped posting node status.'],
    ]);
  });

  it('a Node whose kubelet never posted status: NotReady (Unknown) for ?, said so', async () => {
    const d = three();
    d.nodes[0] = { metadata: { name: 'k8s01' }, spec: {} };
    const { o, state, perf } = await run(d);
    expect(state).toBe(State.CRITICAL);
    expect(o.summary).toBe('k8s01 NotReady (Unknown) for ?');
    expect(lines(o)).toContainEqual([State.CRITICAL, 'k8s01 NotReady (Unknown) for ?: no Ready condition (kubelet never posted status) (outside -c 0)']);
    expect(perf).toMatchObject({ notready_nodes: 1, pressure_nodes: 0, problem_conditions: 0, ready_changes_max: 0 });
  });

  it('the perfdata: every count from 0, the node counts up to the number of nodes, the share to 100', async () => {
    const { o } = await run(three());
    const bounds = Object.fromEntries(o.perfdata.map((p) => [p.label, [p.min, p.max]]));
    expect(bounds).toEqual({
      notready_nodes: [0, 3], notready_percent: [0, 100], ready_changes_max: [0, undefined], rebooted_together: [0, 3],
      nodes: [0, undefined], cordoned_nodes: [0, 3], pressure_nodes: [0, 3], problem_conditions: [0, undefined], stale_leases: [0, 3], lease_age_max: [0, undefined],
    });
  });

  it('no Lease at all (kubelets without node leases): the oldest renewal is U, not a number', async () => {
    const d = three();
    d.leases = [];
    const { o, state, perf } = await run(d);
    expect(state).toBe(State.WARNING);
    expect(perf.lease_age_max).toBeUndefined();
    expect(o.summary).toBe('k8s01: no heartbeat Lease; k8s02: no heartbeat Lease; k8s03: no heartbeat Lease');
    expect(lines(o)).toContainEqual([State.WARNING, 'k8s01: no Lease kube-node-lease/k8s01: the kubelet\'s heartbeat cannot be judged (deleted, or a kubelet without node leases)']);
    expect(actions(o)[0]).toEqual([State.WARNING, 'see whether k8s01\'s kubelet runs with node leases (kubectl get lease -n kube-node-lease k8s01); restarting it recreates the Lease (on k8s01: sudo snap restart microk8s.daemon-kubelite)']);
  });

  it('a NotReady node without a Lease: no Lease step, only the NotReady one', async () => {
    const d = three();
    d.leases.pop();
    d.nodes[2] = notReadyFalse('k8s03', 300);
    const { o } = await run(d);
    expect(actions(o).map(([, t]) => t)).toEqual([expect.stringMatching(/^on k8s03: sudo snap services microk8s/)]);
    expect(o.summary).toBe('k8s03 NotReady for 5m');
  });

  it('a stale Lease on a Ready node: the restart step and the line pointing at the controller-manager', async () => {
    const d = three();
    d.leases[1] = lease('k8s02', 95);
    const { o } = await run(d);
    expect(actions(o)).toEqual([[State.CRITICAL, 'the kubelet on k8s02 stopped: on k8s02 run sudo snap restart microk8s.daemon-kubelite (journalctl -u snap.microk8s.daemon-kubelite says why); ' +
      'the Node still says Ready, so also run check_k8s_leases (the controller-manager should have marked it Unknown); check again']]);
    expect(lines(o)).toContainEqual([State.CRITICAL, 'k8s02: kubelet stopped renewing its Lease (renewed 1m35s ago, leaseDurationSeconds 40) while the Node still says Ready: ' +
      'the node lifecycle controller has not marked it Unknown (is kube-controller-manager working? see check_k8s_leases)']);
  });

  it('each pressure condition has its own step: disk, memory, process IDs; NetworkUnavailable names calico-node', async () => {
    const pressured = (type: string, reason: string) => {
      const c = healthyConditions(86400).map((x) => (x.type === type ? { ...x, status: 'True', reason, message: `kubelet has ${type}`, lastTransitionTime: ago(300) } : x));
      return c;
    };
    const d = three();
    d.nodes[0] = node('k8s01', { conditions: pressured('MemoryPressure', 'KubeletHasInsufficientMemory') });
    d.nodes[1] = node('k8s02', { conditions: pressured('PIDPressure', 'KubeletHasInsufficientPID') });
    d.nodes[2] = node('k8s03', { conditions: pressured('DiskPressure', 'KubeletHasDiskPressure') });
    const { o, state, perf } = await run(d);
    expect(state).toBe(State.WARNING);
    expect(actions(o)).toEqual([
      [State.WARNING, 'free memory on k8s01 (kubectl describe node k8s01: the kubelet evicts pods until it is relieved); check again'],
      [State.WARNING, 'free process IDs on k8s02 (kubectl describe node k8s02: the kubelet evicts pods until it is relieved); check again'],
      [State.WARNING, 'free disk on k8s03 (kubectl describe node k8s03: the kubelet evicts pods until it is relieved); check again'],
    ]);
    expect(lines(o)).toContainEqual([State.WARNING, 'k8s02 PIDPressure for 5m: KubeletHasInsufficientPID: kubelet has PIDPressure']);
    expect(perf.pressure_nodes).toBe(3);
    const net = three();
    net.nodes[1] = node('k8s02', { conditions: [...healthyConditions(86400), { type: 'NetworkUnavailable', status: 'True', reason: 'CalicoIsDown', lastTransitionTime: ago(60) }] });
    const n = await run(net);
    expect(n.state).toBe(State.CRITICAL);
    expect(actions(n.o)).toEqual([[State.CRITICAL, 'k8s02 has no pod network: on k8s02 kubectl -n kube-system get pods -o wide --field-selector spec.nodeName=k8s02 (is calico-node Ready?) and check_k8s_calico_nat there']]);
    expect(lines(n.o)).toContainEqual([State.CRITICAL, 'k8s02 NetworkUnavailable for 1m: CalicoIsDown']);
  });

  it('a node the controller marked Unknown keeps a NetworkUnavailable it cannot update: judged as NotReady only', async () => {
    const d = three();
    d.nodes[1] = node('k8s02', { conditions: [...unknownConditions(300), { type: 'NetworkUnavailable', status: 'True', reason: 'CalicoIsDown', lastTransitionTime: ago(300) }] });
    const { o, perf } = await run(d);
    expect(o.summary).toBe('k8s02 NotReady (Unknown) for 5m');
    expect(perf.pressure_nodes).toBe(0);
  });

  it('a node-problem-detector condition: its step names the type and node; the line names the state it was given', async () => {
    const d = three();
    d.nodes[1] = node('k8s02', { conditions: [...healthyConditions(86400), { type: 'KernelDeadlock', status: 'True', reason: 'DockerHung', lastTransitionTime: ago(600) }] });
    const { o } = await run(d, ['--problem-condition-state', 'critical']);
    expect(actions(o)).toEqual([[State.CRITICAL, 'read what KernelDeadlock means on k8s02 (kubectl describe node k8s02; node-problem-detector\'s journal there) and fix the host; ' +
      'the condition clears when its detector sees it healthy; --ignore-condition KernelDeadlock if it is not yours to act on']]);
    expect(lines(o)).toContainEqual([State.CRITICAL, 'k8s02 KernelDeadlock for 10m: DockerHung (--problem-condition-state critical; --ignore-condition KernelDeadlock to silence)']);
  });

  it('cordoned: the uncordon command names each node; the line names the state; ok is a context line only', async () => {
    const d = three();
    d.nodes[0] = node('k8s01', { cordoned: true });
    d.nodes[2] = node('k8s03', { cordoned: true });
    const crit = await run(d, ['--cordoned-state', 'critical']);
    expect(crit.state).toBe(State.CRITICAL);
    expect(actions(crit.o)).toEqual([[State.CRITICAL, 'if the maintenance on k8s01, k8s03 is over: kubectl uncordon k8s01 k8s03; check again']]);
    expect(lines(crit.o)).toContainEqual([State.CRITICAL, 'cordoned (spec.unschedulable): k8s01, k8s03; nothing new is scheduled there (--cordoned-state critical)']);
    expect(lines(crit.o).some(([, t]) => t.startsWith('cordoned: '))).toBe(false);
    const quiet = await run(d, ['--cordoned-state', 'ok']);
    expect(quiet.o.actions).toBeUndefined();
    expect(lines(quiet.o).filter(([, t]) => t.startsWith('cordoned'))).toEqual([[undefined, 'cordoned: k8s01, k8s03']]);
  });

  it('flapping: the line says how often and against which range; the step names the node; at -w it is only counted', async () => {
    const d = three();
    d.events = [
      event('k8s01', 'NodeNotReady', 120, { count: 2, firstAgo: 600 }),
      event('k8s01', 'NodeReady', 60, { count: 2, firstAgo: 540 }),
    ];
    const { o } = await run(d);
    expect(lines(o)).toContainEqual([State.WARNING, 'k8s01: Ready changed 4 times in 15m (outside --flap-warning 2)']);
    expect(actions(o)).toEqual([[State.WARNING, 'find why k8s01 goes NotReady and back: journalctl -u snap.microk8s.daemon-kubelite on k8s01 around the changes (kubectl get events --field-selector involvedObject.name=k8s01), its network to the API and its load']]);
    // two changes: within --flap-warning 2, counted in the perfdata and nothing else
    d.events = [event('k8s01', 'NodeNotReady', 120), event('k8s01', 'NodeReady', 60)];
    const calm = await run(d);
    expect(calm.state).toBe(State.OK);
    expect(calm.perf.ready_changes_max).toBe(2);
    expect(calm.texts.some((t) => t.includes('Ready changed'))).toBe(false);
  });
});

describe('nodes that came back together: how each group is judged (mutation testing, hmut2)', () => {
  const five = (): NodesData => ({
    nodes: ['k8s01', 'k8s02', 'k8s03', 'k8s04', 'k8s05'].map((n) => node(n)),
    leases: ['k8s01', 'k8s02', 'k8s03', 'k8s04', 'k8s05'].map((n) => lease(n)),
    events: [],
  });
  const rebootFinding = (o: Awaited<ReturnType<typeof run>>['o']) => flat(o.findings).find((f) => f.text.includes('rebooted together'));
  const down = (name: string) => node(name, { conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'PLEG is not healthy', lastTransitionTime: ago(50) }] });

  it('a share threshold: 2 of 5 (40%) is not more than half, 3 of 5 (60%) is; one still down keeps it at that state', async () => {
    const d = five();
    d.events = [event('k8s01', 'Rebooted', 60), event('k8s02', 'Rebooted', 55)];
    d.nodes[1] = down('k8s02');
    // -c 1: one NotReady node alone is not the alert here, the reboot verdict is
    const two = await run(d, ['-c', '1']);
    expect(two.state).toBe(State.WARNING);
    expect(rebootFinding(two.o)?.state).toBe(State.WARNING);
    expect(two.o.summary).toBe('2 nodes rebooted together (Rebooted events within 5s of each other, 55s ago: k8s01, k8s02)');
    d.events.push(event('k8s03', 'Rebooted', 50));
    const three3 = await run(d, ['-c', '1']);
    expect(three3.state).toBe(State.CRITICAL);
    expect(rebootFinding(three3.o)?.text).toBe('3 nodes rebooted together (Rebooted events within 10s of each other, 50s ago: k8s01, k8s02, k8s03): not all of them are back (Ready with a fresh heartbeat); a rolling reboot brings nodes back one at a time (docs/rolling-reboot.md)');
    expect(three3.o.actions?.[0]).toEqual({ state: State.CRITICAL, text: 'bring the nodes that are not back up first (kubectl get nodes; on each: sudo snap restart microk8s), then run sudo k8s-nrpe triage on each of k8s01, k8s02, k8s03' });
    // the evidence lines below it carry its state
    expect(flat(three3.o.findings).filter((f) => /: Rebooted event /.test(f.text)).map((f) => [f.state, f.text]))
      .toEqual([[State.CRITICAL, 'k8s01: Rebooted event 1m ago'], [State.CRITICAL, 'k8s02: Rebooted event 55s ago'], [State.CRITICAL, 'k8s03: Rebooted event 50s ago']]);
  });

  it('a share threshold at its edge: 2 of 4 is exactly half, not more', async () => {
    const d = five();
    d.nodes.pop(); d.leases.pop();
    d.events = [event('k8s01', 'Rebooted', 60), event('k8s02', 'Rebooted', 55)];
    d.nodes[1] = down('k8s02');
    expect(rebootFinding((await run(d, ['-c', '1'])).o)?.state).toBe(State.WARNING);
    expect(rebootFinding((await run(d, ['-c', '1', '--reboot-critical', '49%'])).o)?.state).toBe(State.CRITICAL);
  });

  it('within the reboot thresholds: a context line with its evidence, no state, no step', async () => {
    const d = five();
    d.events = [event('k8s01', 'Rebooted', 60), event('k8s02', 'Rebooted', 55)];
    const { o, state } = await run(d, ['--reboot-warning', '2', '--reboot-critical', '3']);
    expect(state).toBe(State.OK);
    expect(o.actions).toBeUndefined();
    expect(flat(o.findings).filter((f) => /k8s0[12]/.test(f.text)).map((f) => [f.state, f.text])).toEqual([
      [undefined, '2 nodes rebooted together (Rebooted events within 5s of each other, 55s ago: k8s01, k8s02), all Ready again: verify with k8s-nrpe triage'],
      [undefined, 'k8s01: Rebooted event 1m ago'],
      [undefined, 'k8s02: Rebooted event 55s ago'],
    ]);
  });

  it('all back, more than half: WARNING, not CRITICAL, with the triage text; another node down elsewhere does not make it "not back"', async () => {
    const d = three();
    d.nodes[0] = down('k8s01');
    d.events = [event('k8s02', 'Rebooted', 300), event('k8s03', 'Rebooted', 280)];
    d.nodes[1] = node('k8s02', { readySince: 270 });
    d.nodes[2] = node('k8s03', { readySince: 260 });
    const { o } = await run(d, ['-c', '1']);
    const f = rebootFinding(o);
    expect(f?.state).toBe(State.WARNING);
    expect(f?.text).toBe('2 nodes rebooted together (Rebooted events within 20s of each other, 4m40s ago: k8s02, k8s03), all Ready again: verify with k8s-nrpe triage on each of them: ' +
      'the incident\'s failures hide behind Ready nodes (scheduler not scheduling, Service NAT rules or calico-node missing, k8s-dqlite errors); a rolling reboot brings nodes back one at a time (docs/rolling-reboot.md)');
  });

  it('one Rebooted event and one Ready transition: both kinds named; a node back alone is not listed under the group', async () => {
    const d = five();
    d.events = [event('k8s01', 'Rebooted', 100)];
    d.nodes[1] = node('k8s02', { readySince: 90 });
    d.nodes[4] = node('k8s05', { readySince: 1200 }); // back alone, 20m ago
    const { o } = await run(d);
    expect(o.summary).toBe('2 nodes rebooted together (Rebooted events and Ready transitions within 10s of each other, 1m30s ago: k8s01, k8s02), all Ready again: verify with k8s-nrpe triage');
    const texts = flat(o.findings).map((f) => f.text);
    expect(texts).toContain('k8s01: Rebooted event 1m40s ago');
    expect(texts).toContain('k8s02: Ready again since 1m30s ago (no Rebooted event left: events expire)');
    expect(texts.some((t) => t.startsWith('k8s05'))).toBe(false);
    // k8s02's Ready turned True 1m30s ago with no NodeReady event left: one change in --flap-window, counted, not judged
    expect(Object.fromEntries(o.perfdata.map((p) => [p.label, p.value])).ready_changes_max).toBe(1);
  });

  it('the long output\'s sections, each under its heading', async () => {
    const d = three();
    d.nodes[0] = node('k8s01', { cordoned: true, conditions: [...healthyConditions(86400).filter((c) => c.type !== 'DiskPressure'), { type: 'DiskPressure', status: 'True', reason: 'KubeletHasDiskPressure', lastTransitionTime: ago(60) }] });
    d.nodes[1] = node('k8s02', { conditions: unknownConditions(300) });
    d.leases[1] = lease('k8s02', 300);
    d.events = [event('k8s03', 'NodeNotReady', 120, { count: 2, firstAgo: 600 }), event('k8s03', 'NodeReady', 60, { count: 2, firstAgo: 540 }),
      event('k8s01', 'Rebooted', 100), event('k8s03', 'Rebooted', 90)];
    const { o } = await run(d);
    expect(o.findings.filter((f) => f.section !== undefined).map((f) => [f.section, f.state])).toEqual([
      ['Readiness', State.CRITICAL], ['Heartbeats', State.OK], ['Conditions', State.WARNING], ['Cordoned', State.WARNING], ['Flapping', State.WARNING], ['Reboots', State.WARNING],
    ]);
  });

  it('no joined node and no version skew: neither line is written', async () => {
    const { texts } = await run(three());
    expect(texts.some((t) => /joined the cluster|kubelet versions differ/.test(t))).toBe(false);
  });
});
