import { describe, expect, it } from 'vitest';
import check, { type Data } from '../../checks/sandbox_changed.js';
import type { KubeEvent } from '../../lib/kube/types.js';
import { renderNagios } from '../../lib/plugin/render.js';
import { outcomeState, type Outcome } from '../../lib/plugin/result.js';
import { State } from '../../lib/plugin/state.js';
import { clock, checkOptions } from './support.js';

const { NOW, ago, micro } = clock('2026-06-05T07:00:00Z');

const opts = (args: string[] = []) => checkOptions(check, args);

const STALE = '5d7c8b12ab34f0e3a9f04c2b71d6e58a0c3f9b4d2e7a16c8f05b3d9e2a4c7f1b';
const reservedMessage = (pod: string, uid: string) => {
  const sb = `${pod}_apps_${uid}_1`;
  return `Failed to create pod sandbox: rpc error: code = Unknown desc = failed to reserve sandbox name "${sb}": name "${sb}" is reserved for "${STALE}"`;
};

/** A core/v1 kubelet event as the legacy recorder writes it (count, first/lastTimestamp, source.host). */
function core(reason: string, pod: string, node: string, firstAgo: number, lastAgo: number, count: number, message?: string): KubeEvent {
  return {
    metadata: { name: `${pod}.18a3c1f0e2d4b${count}`, namespace: 'apps', creationTimestamp: ago(firstAgo) },
    involvedObject: { kind: 'Pod', namespace: 'apps', name: pod, uid: `uid-${pod}` },
    reason, type: reason === 'SandboxChanged' ? 'Normal' : 'Warning',
    message: message ?? (reason === 'SandboxChanged' ? 'Pod sandbox changed, it will be killed and re-created.' : reservedMessage(pod, `uid-${pod}`)),
    source: { component: 'kubelet', host: node }, reportingComponent: 'kubelet', reportingInstance: node,
    firstTimestamp: ago(firstAgo), lastTimestamp: ago(lastAgo), count, eventTime: null,
  };
}

/** The same written through events.k8s.io: eventTime + series, no timestamps, no source. */
function series(reason: string, pod: string, node: string, firstAgo: number, lastAgo: number | undefined, count: number, message?: string): KubeEvent {
  return {
    metadata: { name: `${pod}.18a3c1f0e2d4c${count}`, namespace: 'apps', creationTimestamp: ago(firstAgo) },
    involvedObject: { kind: 'Pod', namespace: 'apps', name: pod, uid: `uid-${pod}` },
    reason, type: 'Warning', message: message ?? 'Pod sandbox changed, it will be killed and re-created.',
    firstTimestamp: null, lastTimestamp: null, eventTime: micro(firstAgo),
    series: lastAgo === undefined ? null : { count, lastObservedTime: micro(lastAgo) },
    source: {}, reportingComponent: 'kubelet', reportingInstance: node, action: 'Sandbox',
  };
}

const data = (d: Partial<Data>): Data => ({ sandboxChanged: [], createFailed: [], podNodes: {}, ...d });
const perf = (o: Outcome) => Object.fromEntries(o.perfdata.map((p) => [p.label, p.value]));

describe('sandbox_changed evaluate', () => {
  it('is CRITICAL when "name is reserved" persists: naming the node, the stale ids and the remedy', async () => {
    const pods = ['api-0', 'api-1', 'api-2'];
    const d = data({
      sandboxChanged: pods.map((p) => core('SandboxChanged', p, 'k8s02', 300, 60, 2)),
      // Each pod has failed with it for 380s (> --reserved-persist 5m).
      createFailed: pods.map((p) => core('FailedCreatePodSandBox', p, 'k8s02', 400, 20, 3)),
    });
    const o = check.evaluate(d, await opts(), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(o.actions?.[0]?.text).toMatch(/^on k8s02: find the stale sandbox with sudo crictl -r unix:\/\/\/var\/snap\/microk8s\/common\/run\/containerd\.sock pods --name <pod> and remove it/);
    expect(o.summary).toMatch(/^containerd stale sandbox state on k8s02: 3 pods cannot get a sandbox \("name is reserved for" another sandbox for 5m or more, 9x in 10m\); on k8s02 crictl stopp\/rmp/);
    // Aggregated events count their occurrences, not 1 per object.
    expect(perf(o)).toEqual({ sandbox_changed: 6, create_failed: 9, name_reserved: 9, affected_pods: 3, affected_nodes: 1, worst_node_events: 15 });
    const texts = o.findings.map((f) => f.text).join('\n');
    expect(texts).toContain('remedy on k8s02: crictl stopp, then crictl rmp, the stale sandboxes (e.g. 5d7c8b12ab34f)');
    expect(texts).toMatch(/apps\/api-0 on k8s02: 3 FailedCreatePodSandBox \(name reserved\), 2 SandboxChanged in 10m: sandbox name is reserved for 5d7c8b12ab34f \(stale\)/);
    // name_reserved carries its fixed critical range in perfdata.
    expect(o.perfdata.find((p) => p.label === 'name_reserved')?.crit?.text).toBe('0');
  });

  it('a single "reserved" occurrence is WARNING (the kubelet retrying after a timeout), even below -w', async () => {
    const o = check.evaluate(data({ createFailed: [core('FailedCreatePodSandBox', 'db-0', 'k8s02', 30, 30, 1)] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.WARNING);
    expect(o.summary).toMatch(/"name is reserved" on k8s02, settling/);
    expect(o.findings.map((f) => f.text).join('\n')).toMatch(/"name is reserved" 1x, each pod for less than 5m: the kubelet retrying after a timeout/);
    expect(perf(o).worst_node_events).toBe(1);
  });

  it('"reserved" is CRITICAL when the pod is still Pending --reserved-persist after the first failure', async () => {
    // One failure 6 minutes ago and none since (the kubelet's event spam filter), the pod still waiting.
    const d = data({ createFailed: [core('FailedCreatePodSandBox', 'db-0', 'k8s02', 360, 360, 1)], stillPending: ['apps/db-0'] });
    expect(outcomeState(check.evaluate(d, await opts(), NOW))).toBe(State.CRITICAL);
    // The same pod no longer Pending: it got its sandbox, the failure was transient.
    expect(outcomeState(check.evaluate({ ...d, stillPending: [] }, await opts(), NOW))).toBe(State.WARNING);
    // A longer persistence window waits for more.
    expect(outcomeState(check.evaluate(d, await opts(['--reserved-persist', '10m']), NOW))).toBe(State.WARNING);
  });

  it('a storm over -c is CRITICAL only when it has gone on for --storm-persist; one reboot burst is WARNING', async () => {
    // 110 pods of a busy node recreated once at its reboot 3 minutes ago: a burst.
    const burst = Array.from({ length: 110 }, (_, i) => core('SandboxChanged', `p-${i}`, 'k8s02', 180, 180, 1));
    let o = check.evaluate(data({ sandboxChanged: burst }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.WARNING);
    expect(o.findings.map((f) => f.text).join('\n')).toMatch(/a burst of 0s .*CRITICAL if it goes on for 10m/);
    // A restart loop going on for 15 minutes: sustained.
    o = check.evaluate(data({ sandboxChanged: [core('SandboxChanged', 'loop-0', 'k8s02', 900, 10, 120)] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(outcomeState(check.evaluate(data({ sandboxChanged: burst }), await opts(['--storm-persist', '1s']), NOW))).toBe(State.WARNING);
  });

  it('judges storms per node against -w 10 -c 50', async () => {
    const storm = (n: number, node = 'k8s03', pod = 'web-0') => core('SandboxChanged', pod, node, 300, 10, n);
    expect(outcomeState(check.evaluate(data({ sandboxChanged: [storm(10)] }), await opts(), NOW))).toBe(State.OK);
    let o = check.evaluate(data({ sandboxChanged: [storm(11)] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.WARNING);
    expect(o.summary).toBe('sandbox storm on k8s03 (11): 11 SandboxChanged, 0 FailedCreatePodSandBox in 10m on 1 pod');
    // Over -c for 290s: CRITICAL once it has lasted --storm-persist.
    o = check.evaluate(data({ sandboxChanged: [storm(30), storm(21, 'k8s03', 'web-1')] }), await opts(['--storm-persist', '4m']), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    // 60 in the cluster but 30 per node: each node is judged on its own.
    o = check.evaluate(data({ sandboxChanged: [storm(30, 'k8s01'), storm(30, 'k8s03')] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.WARNING);
    expect(o.summary).toMatch(/^sandbox storm on k8s01 \(30\), k8s03 \(30\): 60 SandboxChanged/);
    expect(perf(o)).toMatchObject({ sandbox_changed: 60, affected_nodes: 2, worst_node_events: 30 });
    // Thresholds from the command line, range semantics: -w 50 alerts above 50 only.
    o = check.evaluate(data({ sandboxChanged: [storm(30, 'k8s01')] }), await opts(['-w', '50', '-c', '100']), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    expect(o.summary).toBe('30 sandbox events in 10m on 1 node, within limits (worst k8s01: 30)');
  });

  it('counts events.k8s.io events by series and eventTime, and only the share a window cut leaves inside', async () => {
    // A series over the last 20 minutes, 20 occurrences: half of them in the 10m window.
    const cut = series('SandboxChanged', 'web-0', 'k8s01', 1200, 0, 20);
    // A single events.k8s.io event (no series) 5 minutes ago: 1.
    const single = series('SandboxChanged', 'web-1', 'k8s01', 300, undefined, 1);
    // A series that ended before the window: 0.
    const old = series('SandboxChanged', 'web-2', 'k8s01', 3600, 1800, 40);
    const o = check.evaluate(data({ sandboxChanged: [cut, single, old] }), await opts(), NOW);
    expect(perf(o)).toMatchObject({ sandbox_changed: 11, affected_pods: 2, affected_nodes: 1 });
    expect(outcomeState(o)).toBe(State.WARNING);
    // A longer window takes in more of the series and the old one.
    const wide = check.evaluate(data({ sandboxChanged: [cut, single, old] }), await opts(['--window', '1h']), NOW);
    expect(perf(wide)).toMatchObject({ sandbox_changed: 61, affected_pods: 3 });
    // A core/v1 aggregated event cut by the window: 12 over 20 minutes -> 6 inside.
    const coreCut = check.evaluate(data({ sandboxChanged: [core('SandboxChanged', 'web-3', 'k8s01', 1200, 0, 12)] }), await opts(), NOW);
    expect(perf(coreCut).sandbox_changed).toBe(6);
  });

  it('is OK with nothing in the window, and says so', async () => {
    const o = check.evaluate(data({ sandboxChanged: [core('SandboxChanged', 'web-0', 'k8s01', 3500, 3400, 1)] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    expect(o.summary).toBe('no sandbox events in 10m');
    expect(perf(o)).toEqual({ sandbox_changed: 0, create_failed: 0, name_reserved: 0, affected_pods: 0, affected_nodes: 0, worst_node_events: 0 });
  });

  it('places host-less events by the looked-up pod node, and --node keeps only that node', async () => {
    const hostless: KubeEvent = { ...core('FailedCreatePodSandBox', 'db-0', 'x', 60, 30, 2), source: { component: 'kubelet' }, reportingInstance: undefined };
    const other = core('SandboxChanged', 'web-0', 'k8s01', 60, 30, 40);
    const unknown: KubeEvent = { ...core('SandboxChanged', 'lost-0', 'x', 60, 30, 3), source: { component: 'kubelet' }, reportingInstance: '' };
    const d = data({ sandboxChanged: [other, unknown], createFailed: [hostless], podNodes: { 'apps/db-0': 'k8s02' } });
    let o = check.evaluate({ ...d, stillPending: ['apps/db-0'] }, await opts(['--node', 'k8s02', '--reserved-persist', '50s']), NOW);
    expect(perf(o)).toMatchObject({ sandbox_changed: 0, create_failed: 2, name_reserved: 2, affected_nodes: 1 });
    expect(o.summary).toMatch(/^containerd stale sandbox state on k8s02: 1 pod cannot/);
    o = check.evaluate(d, await opts(), NOW);
    expect(perf(o)).toMatchObject({ sandbox_changed: 43, affected_pods: 3, affected_nodes: 2 });
    expect(o.findings.map((f) => f.text).join('\n')).toContain('(node unknown): 3 sandbox events');
  });

  it('keeps cluster text from breaking the output', async () => {
    const evil = core('FailedCreatePodSandBox', 'web-0', 'k8s01', 60, 30, 1, 'boom | evil=1\n[CRITICAL] fake \x1b[31mred');
    const out = renderNagios(check.evaluate(data({ createFailed: [evil] }), await opts(['-v']), NOW), { title: check.title, verbose: 1 });
    const [first, ...rest] = out.trimEnd().split('\n');
    expect(first!.split(' | ')).toHaveLength(2);
    expect(rest.join('\n')).not.toMatch(/[|\x1b]/);
    expect(rest.some((l) => l.startsWith('[CRITICAL] fake'))).toBe(false);
  });

  it('rejects a zero or malformed --window', async () => {
    await expect(opts(['--window', '0'])).rejects.toThrow(/invalid --window '0'/);
    await expect(opts(['--window', 'soon'])).rejects.toThrow(/invalid --window 'soon'/);
    await expect(opts(['--node', ''])).rejects.toThrow(/--node needs a value/);
    await expect(opts(['--node', 'k8s02 | x'])).rejects.toThrow(/invalid --node/);
  });

  it('lists five pods, most "reserved" and most events first, and counts the rest', async () => {
    const many = Array.from({ length: 7 }, (_, i) => core('SandboxChanged', `web-${i}`, 'k8s01', 120, 60, i + 1));
    const o = check.evaluate(data({ sandboxChanged: many, createFailed: [core('FailedCreatePodSandBox', 'db-0', 'k8s01', 60, 60, 1)] }), await opts(['-w', '100']), NOW);
    const pods = o.findings.filter((f) => f.state === undefined).map((f) => f.text.split(':')[0]);
    expect(pods).toEqual(['apps/db-0 on k8s01', 'apps/web-6 on k8s01', 'apps/web-5 on k8s01', 'apps/web-4 on k8s01', 'apps/web-3 on k8s01', '3 more pods with sandbox events']);
  });

  it('a CNI failure is shown without the runtime\'s prefix, and the next step looks for the CNI or runtime error', async () => {
    const cni = 'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "abc": plugin type="calico" failed (add): error getting ClusterInformation: connection is unauthorized';
    const o = check.evaluate(data({ createFailed: [core('FailedCreatePodSandBox', 'web-0', 'k8s01', 600, 10, 12, cni)] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.WARNING);
    expect(o.summary).toBe('sandbox storm on k8s01 (12): 0 SandboxChanged, 12 FailedCreatePodSandBox in 10m on 1 pod');
    expect(o.findings.map((f) => f.text)).toContain('apps/web-0 on k8s01: 12 FailedCreatePodSandBox in 10m: failed to setup network for sandbox "abc": plugin type="calico" failed (add): error getting ClusterInformation: connection is unauthorized');
    expect(o.actions?.[0]?.text).toMatch(/^on k8s01: kubectl get events -A --field-selector involvedObject.kind=Pod,reason=FailedCreatePodSandBox names the CNI or runtime error; /);
  });

  it('a storm on one node and a settling "reserved" on another: both named, the "reserved" node first', async () => {
    const o = check.evaluate(data({
      sandboxChanged: [core('SandboxChanged', 'web-0', 'k8s01', 300, 10, 20)],
      createFailed: [core('FailedCreatePodSandBox', 'db-0', 'k8s02', 30, 30, 1)],
    }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.WARNING);
    expect(o.summary).toBe('sandbox storm on k8s02 (1), k8s01 (20): 20 SandboxChanged, 1 FailedCreatePodSandBox in 10m on 2 pods ("name is reserved" on k8s02, settling)');
  });

  it('nodes with as many events are listed by name', async () => {
    const o = check.evaluate(data({ sandboxChanged: [core('SandboxChanged', 'a', 'k8s03', 60, 30, 3), core('SandboxChanged', 'b', 'k8s01', 60, 30, 3), core('SandboxChanged', 'c', 'k8s02', 60, 30, 4)] }), await opts(), NOW);
    expect(o.summary).toBe('10 sandbox events in 10m on 3 nodes, within limits (worst k8s02: 4)');
    expect(o.findings.filter((f) => f.text.startsWith('k8s0')).map((f) => f.text.slice(0, 5))).toEqual(['k8s02', 'k8s01', 'k8s03']);
    expect(o.findings.filter((f) => f.text.startsWith('apps/')).map((f) => f.text.split(' ')[0])).toEqual(['apps/c', 'apps/a', 'apps/b']);
  });

  it('--node names the node in the OK line too', async () => {
    expect(check.evaluate(data({}), await opts(['--node', 'k8s02']), NOW).summary).toBe('no sandbox events in 10m on k8s02');
    const o = check.evaluate(data({ sandboxChanged: [core('SandboxChanged', 'web-0', 'k8s02', 60, 30, 2), core('SandboxChanged', 'web-1', 'k8s01', 60, 30, 2)] }), await opts(['--node', 'k8s02']), NOW);
    expect(o.summary).toBe('2 sandbox events in 10m on k8s02, within limits (worst k8s02: 2)');
  });
});
