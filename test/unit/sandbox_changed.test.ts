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

describe('sandbox_changed: the situations an operator meets', () => {
  const texts = (o: Outcome) => o.findings.map((f) => f.text);
  const reservedFor = (pod: string, id: string) => `Failed to create pod sandbox: rpc error: code = Unknown desc = failed to reserve sandbox name "${pod}_apps_uid-${pod}_1": name "${pod}_apps_uid-${pod}_1" is reserved for "${id}"`;
  const ID2 = '9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d';
  const ID3 = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';

  it('stale state on two nodes: both named once in the status line, each with its pods, ids and remedy', async () => {
    const o = check.evaluate(data({
      createFailed: [
        core('FailedCreatePodSandBox', 'api-0', 'k8s02', 400, 20, 3),
        core('FailedCreatePodSandBox', 'api-1', 'k8s02', 400, 20, 3, reservedFor('api-1', ID2)),
        core('FailedCreatePodSandBox', 'api-2', 'k8s02', 400, 20, 3, reservedFor('api-2', ID3)),
        core('FailedCreatePodSandBox', 'db-0', 'k8s03', 500, 30, 2),
      ],
    }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(o.summary).toBe('containerd stale sandbox state on k8s02, k8s03: 4 pods cannot get a sandbox ("name is reserved for" another sandbox for 5m or more, 11x in 10m); ' +
      'on k8s02, k8s03 crictl stopp/rmp the stale sandboxes or restart containerd/kubelite');
    expect(texts(o)).toContain('containerd stale sandbox state on k8s02: 3 pods kept failing with sandbox names "reserved for" other sandboxes for 5m or more (9x in 10m); ' +
      '9 sandbox events in 10m (0 SandboxChanged, 9 FailedCreatePodSandBox) on 3 pods');
    // Two of the stale ids, shortened as crictl shows them.
    expect(texts(o)).toContain('remedy on k8s02: crictl stopp, then crictl rmp, the stale sandboxes (e.g. 5d7c8b12ab34f 9e8d7c6b5a4f3), or restart containerd/kubelite (snap restart microk8s.daemon-containerd)');
    expect(texts(o)).toContain('containerd stale sandbox state on k8s03: 1 pod kept failing with sandbox names "reserved for" other sandboxes for 5m or more (2x in 10m); 2 sandbox events in 10m (0 SandboxChanged, 2 FailedCreatePodSandBox) on 1 pod');
    expect(o.actions?.map((a) => a.text)).toEqual(['on k8s02, k8s03: find the stale sandbox with sudo crictl -r unix:///var/snap/microk8s/common/run/containerd.sock pods --name <pod> and remove it (crictl stopp <id>, crictl rmp <id>); ' +
      'if many: sudo snap restart microk8s.daemon-containerd; then the pods get a sandbox (kubectl get pods -A -o wide --field-selector spec.nodeName=k8s02) and check again']);
  });

  it('a "reserved" message cut inside the stale id: still stale, the remedy without ids', async () => {
    const cut = 'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to reserve sandbox name "db-0_apps_uid-db-0_1": name "db-0_apps_uid-db-0_1" is reserved for "5d7c';
    const o = check.evaluate(data({ createFailed: [core('FailedCreatePodSandBox', 'db-0', 'k8s02', 400, 20, 4, cut)] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(texts(o)).toContain('remedy on k8s02: crictl stopp, then crictl rmp, the stale sandboxes, or restart containerd/kubelite (snap restart microk8s.daemon-containerd)');
    expect(texts(o)).toContain('apps/db-0 on k8s02: 4 FailedCreatePodSandBox (name reserved) in 10m: sandbox name is reserved for another sandbox (stale)');
  });

  it('"reserved" failures spanning exactly --reserved-persist are stale; a second less is the kubelet retrying', async () => {
    const span = (firstAgo: number) => data({ createFailed: [core('FailedCreatePodSandBox', 'db-0', 'k8s02', firstAgo, 20, 3)] });
    expect(outcomeState(check.evaluate(span(320), await opts(), NOW))).toBe(State.CRITICAL);
    const short = check.evaluate(span(319), await opts(), NOW);
    expect(outcomeState(short)).toBe(State.WARNING);
    expect(short.summary).toBe('sandbox storm on k8s02 (3): 0 SandboxChanged, 3 FailedCreatePodSandBox in 10m on 1 pod ("name is reserved" on k8s02, settling)');
  });

  it('still Pending exactly --reserved-persist after the first "reserved" failure is stale; a second less is not yet', async () => {
    const once = (ago: number) => data({ createFailed: [core('FailedCreatePodSandBox', 'db-0', 'k8s02', ago, ago, 1)], stillPending: ['apps/db-0'] });
    expect(outcomeState(check.evaluate(once(300), await opts(), NOW))).toBe(State.CRITICAL);
    expect(outcomeState(check.evaluate(once(299), await opts(), NOW))).toBe(State.WARNING);
    // Pending for another reason (no "reserved" failure of its own): not stale state.
    const other = data({
      sandboxChanged: [core('SandboxChanged', 'web-0', 'k8s02', 500, 400, 2)],
      createFailed: [core('FailedCreatePodSandBox', 'db-0', 'k8s02', 30, 30, 1)],
      stillPending: ['apps/web-0', 'apps/db-0'],
    });
    expect(outcomeState(check.evaluate(other, await opts(), NOW))).toBe(State.WARNING);
  });

  it('one pod\'s "reserved" failures in two events: judged from the earliest to the latest, both stale ids named', async () => {
    const o = check.evaluate(data({
      createFailed: [
        core('FailedCreatePodSandBox', 'db-0', 'k8s02', 400, 350, 2),
        { ...core('FailedCreatePodSandBox', 'db-0', 'k8s02', 200, 20, 3, reservedFor('db-0', ID2)), metadata: { name: 'db-0.18a3c1f0e2d4bff', namespace: 'apps' } },
      ],
    }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(texts(o)).toContain('remedy on k8s02: crictl stopp, then crictl rmp, the stale sandboxes (e.g. 5d7c8b12ab34f 9e8d7c6b5a4f3), or restart containerd/kubelite (snap restart microk8s.daemon-containerd)');
    expect(perf(o)).toMatchObject({ name_reserved: 5, affected_pods: 1 });
  });

  it('a storm carried by several pods lasts from the first pod\'s first event to the last pod\'s last', async () => {
    const o = check.evaluate(data({
      sandboxChanged: [core('SandboxChanged', 'web-0', 'k8s01', 590, 500, 60), core('SandboxChanged', 'web-1', 'k8s01', 60, 10, 1)],
    }), await opts(['--storm-persist', '9m']), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(texts(o)).toContain('k8s01: 61 sandbox events in 10m (61 SandboxChanged, 0 FailedCreatePodSandBox) on 2 pods');
    // Over -c for exactly --storm-persist: sustained.
    expect(outcomeState(check.evaluate(data({ sandboxChanged: [core('SandboxChanged', 'loop-0', 'k8s01', 590, 0, 60)] }), await opts(['--storm-persist', '590s']), NOW))).toBe(State.CRITICAL);
    expect(outcomeState(check.evaluate(data({ sandboxChanged: [core('SandboxChanged', 'loop-0', 'k8s01', 590, 0, 60)] }), await opts(['--storm-persist', '591s']), NOW))).toBe(State.WARNING);
  });

  it('a burst says how long it has lasted and when it turns CRITICAL', async () => {
    const o = check.evaluate(data({ sandboxChanged: [core('SandboxChanged', 'web-0', 'k8s01', 250, 10, 60)] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.WARNING);
    expect(texts(o)).toContain('k8s01: 60 sandbox events in 10m (60 SandboxChanged, 0 FailedCreatePodSandBox) on 1 pod; a burst of 4m (a reboot or containerd restart recreates every sandbox once): CRITICAL if it goes on for 10m');
  });

  it('a sustained storm on one node and a smaller one on another: the status line names the worst, the next step its node', async () => {
    const o = check.evaluate(data({
      sandboxChanged: [core('SandboxChanged', 'web-0', 'k8s01', 20, 10, 30), core('SandboxChanged', 'loop-0', 'k8s03', 900, 10, 120)],
    }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(o.summary).toBe('sandbox storm on k8s03 (80): 110 SandboxChanged, 0 FailedCreatePodSandBox in 10m on 2 pods');
    expect(o.actions?.map((a) => a.text)).toEqual(['on k8s03: kubectl get events -A --field-selector involvedObject.kind=Pod,reason=FailedCreatePodSandBox names the CNI or runtime error; ' +
      'a calico-node not Ready there (check_k8s_calico_nat) or containerd trouble (journalctl -u snap.microk8s.daemon-containerd) are the usual causes; a storm right after a reboot settles by itself']);
    expect(o.findings).toContainEqual({ state: State.WARNING, text: 'k8s01: 30 sandbox events in 10m (30 SandboxChanged, 0 FailedCreatePodSandBox) on 1 pod' });
  });

  it('"reserved" settling on two nodes: both named', async () => {
    const o = check.evaluate(data({
      createFailed: [core('FailedCreatePodSandBox', 'db-0', 'k8s02', 30, 30, 1), core('FailedCreatePodSandBox', 'db-1', 'k8s03', 40, 40, 1)],
    }), await opts(), NOW);
    expect(o.summary).toBe('sandbox storm on k8s02 (1), k8s03 (1): 0 SandboxChanged, 2 FailedCreatePodSandBox in 10m on 2 pods ("name is reserved" on k8s02, k8s03, settling)');
  });

  it('a pod\'s line keeps the "reserved" failure over a later timeout; SandboxChanged alone shows no message', async () => {
    const timeout = 'Failed to create pod sandbox: rpc error: code = DeadlineExceeded desc = context deadline exceeded';
    const cni = 'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "abc": plugin type="calico" failed (add): stat /var/lib/calico/nodename: no such file or directory';
    const o = check.evaluate(data({
      sandboxChanged: [core('SandboxChanged', 'web-0', 'k8s01', 60, 30, 2)],
      createFailed: [
        core('FailedCreatePodSandBox', 'db-0', 'k8s01', 60, 50, 1),
        { ...core('FailedCreatePodSandBox', 'db-0', 'k8s01', 40, 40, 1, timeout), metadata: { name: 'db-0.t', namespace: 'apps' } },
        core('FailedCreatePodSandBox', 'db-1', 'k8s01', 60, 50, 2, cni),
        { ...core('FailedCreatePodSandBox', 'db-1', 'k8s01', 40, 40, 1, timeout), metadata: { name: 'db-1.t', namespace: 'apps' } },
      ],
    }), await opts(), NOW);
    expect(texts(o)).toContain('apps/db-0 on k8s01: 2 FailedCreatePodSandBox (name reserved) in 10m: sandbox name is reserved for 5d7c8b12ab34f (stale)');
    expect(texts(o)).toContain('apps/db-1 on k8s01: 3 FailedCreatePodSandBox in 10m: failed to setup network for sandbox "abc": plugin type="calico" failed (add): stat /var/lib/calico/nodename: no such file or directory');
    expect(texts(o)).toContain('apps/web-0 on k8s01: 2 SandboxChanged in 10m');
  });

  it('pods without a uid (events.k8s.io regarding) are told apart by name', async () => {
    const noUid = (pod: string) => { const e = core('SandboxChanged', pod, 'k8s01', 60, 30, 2); e.involvedObject = { kind: 'Pod', namespace: 'apps', name: pod }; return e; };
    const o = check.evaluate(data({ sandboxChanged: [noUid('web-0'), noUid('web-1')] }), await opts(), NOW);
    expect(texts(o)).toContain('k8s01: 4 sandbox events in 10m (4 SandboxChanged, 0 FailedCreatePodSandBox) on 2 pods');
    expect(perf(o).affected_pods).toBe(2);
  });

  it('five pods are listed without a "more" line; within limits counts both kinds; perfdata starts at 0', async () => {
    const five = Array.from({ length: 4 }, (_, i) => core('SandboxChanged', `web-${i}`, 'k8s01', 120, 60, 1));
    const cni = 'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "abc": plugin type="calico" failed (add): connection is unauthorized';
    const o = check.evaluate(data({ sandboxChanged: five, createFailed: [core('FailedCreatePodSandBox', 'db-0', 'k8s01', 60, 60, 2, cni)] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    expect(o.summary).toBe('6 sandbox events in 10m on 1 node, within limits (worst k8s01: 6)');
    expect(texts(o).filter((t) => t.startsWith('apps/'))).toHaveLength(5);
    expect(texts(o).join('\n')).not.toContain('more pods');
    expect(o.perfdata.map((p) => p.min)).toEqual([0, 0, 0, 0, 0, 0]);
  });
});
