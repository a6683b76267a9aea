import { describe, expect, it } from 'vitest';
import check, { type Data } from '../../checks/stuck_terminating.js';
import { graceSeconds, overdueSeconds } from '../../lib/kube/terminating.js';
import { outcomeState, type Outcome } from '../../lib/plugin/result.js';
import { State } from '../../lib/plugin/state.js';
import type { Node, Pod, PodDisruptionBudget } from '../../lib/kube/types.js';
import { clock, checkOptions } from './support.js';

const { NOW, at } = clock('2026-06-05T07:30:00Z');

const opts = (args: string[] = []) => checkOptions(check, args);

/**
 * A pod as the apiserver leaves it after a graceful DELETE `deletedAgoS`
 * seconds ago with grace `grace`: deletionTimestamp = delete time + grace.
 */
function deleted(name: string, deletedAgoS: number, grace = 30, extra: { ns?: string; node?: string; labels?: Record<string, string>; owner?: string; finalizers?: string[] } = {}): Pod {
  const [kind, ownerName] = (extra.owner ?? 'ReplicaSet/web-5d8c7b9f4').split('/');
  return {
    metadata: {
      name, namespace: extra.ns ?? 'apps', uid: `uid-${name}`, creationTimestamp: at(-86400),
      deletionTimestamp: at(-deletedAgoS + grace), deletionGracePeriodSeconds: grace,
      labels: extra.labels ?? { app: 'web' },
      ...(extra.owner !== '' && { ownerReferences: [{ kind, name: ownerName, uid: 'owner-uid', controller: true }] }),
      ...(extra.finalizers && { finalizers: extra.finalizers }),
    },
    spec: { nodeName: extra.node ?? 'k8s01', terminationGracePeriodSeconds: grace },
    status: { phase: 'Running' },
  };
}

const node = (name: string, ready: 'True' | 'False' | 'Unknown' = 'True'): Node => ({ metadata: { name }, status: { conditions: [{ type: 'Ready', status: ready }] } });
const pdb = (name: string, ns: string, matchLabels: Record<string, string>, status: PodDisruptionBudget['status']): PodDisruptionBudget =>
  ({ metadata: { name, namespace: ns }, spec: { minAvailable: 1, selector: { matchLabels } }, status });

const data = (terminating: Pod[], d: Partial<Data> = {}): Data => ({
  terminating,
  nodes: { k8s01: node('k8s01'), k8s02: node('k8s02') },
  pdbs: { apps: [], openebs: [], 'kube-system': [] },
  notes: [],
  ...d,
});
const perf = (o: Outcome) => Object.fromEntries(o.perfdata.map((p) => [p.label, p.value]));
const text = (o: Outcome) => o.findings.map((f) => f.text).join('\n');

describe('stuck_terminating: how long a pod is stuck', () => {
  it('takes deletionTimestamp as the deadline (delete time + grace), never adding the grace again', async () => {
    // Deleted 25m ago with a 10m grace: deadline 15m ago, so 15m stuck (> --min-age 10m).
    // Adding the grace a second time would say 5m and miss it.
    const p = deleted('a', 25 * 60, 600);
    expect(overdueSeconds(p.metadata, NOW)).toBe(15 * 60);
    const o = check.evaluate(data([p]), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.WARNING);
    expect(o.findings[0]!.text).toMatch(/^apps\/a stuck Terminating 15m past its 600s grace; on k8s01 \(Ready\)/);
    expect(perf(o)).toMatchObject({ stuck_pods: 1, oldest_stuck_age: 900, terminating_pods: 1 });
  });

  it('does not count a pod with a long grace period as stuck while its deadline is recent', async () => {
    // Deleted 65m ago with terminationGracePeriodSeconds 3600: its deadline passed 5m ago.
    const p = deleted('db-0', 65 * 60, 3600, { owner: 'StatefulSet/db' });
    const o = check.evaluate(data([p]), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    expect(o.summary).toBe('no pods stuck Terminating (1 pod terminating within grace + 10m)');
    expect(perf(o)).toMatchObject({ stuck_pods: 0, terminating_pods: 1, oldest_stuck_age: 0 });
    // ... and is stuck once --min-age is shorter than that.
    expect(outcomeState(check.evaluate(data([p]), await opts(['--min-age', '4m']), NOW))).toBe(State.WARNING);
  });

  it('treats a deletionTimestamp in the future (within grace, or the apiserver clock ahead) as not stuck', async () => {
    const p = deleted('fresh', 5, 30); // deadline 25s from now
    expect(overdueSeconds(p.metadata, NOW)).toBe(-25);
    const skewed = deleted('skewed', 0, 0);
    skewed.metadata!.deletionTimestamp = at(+3 * 3600); // apiserver clock 3h ahead
    const o = check.evaluate(data([p, skewed]), await opts(['--min-age', '0']), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    expect(perf(o)).toMatchObject({ stuck_pods: 0, terminating_pods: 2 });
  });

  it('is judged at --min-age exactly: past it, not at it', async () => {
    const edge = deleted('edge', 600 + 30, 30); // 10m past its deadline
    expect(outcomeState(check.evaluate(data([edge]), await opts(), NOW))).toBe(State.OK);
    expect(outcomeState(check.evaluate(data([deleted('past', 600 + 31, 30)]), await opts(), NOW))).toBe(State.WARNING);
  });

  it('names the grace from deletionGracePeriodSeconds, else terminationGracePeriodSeconds, else 30 (text only)', () => {
    const p = deleted('g', 3600, 45);
    expect(graceSeconds(p)).toBe(45);
    delete p.metadata!.deletionGracePeriodSeconds;
    expect(graceSeconds(p)).toBe(45);
    delete p.spec!.terminationGracePeriodSeconds;
    expect(graceSeconds(p)).toBe(30);
    // A force delete records grace 0; the deadline is still deletionTimestamp.
    const forced = deleted('forced', 3600, 0, { finalizers: ['example.com/cleanup'] });
    expect(graceSeconds(forced)).toBe(0);
    expect(overdueSeconds(forced.metadata, NOW)).toBe(3600);
  });

  it('survives missing and broken fields', async () => {
    const bare: Pod = { metadata: { deletionTimestamp: at(-1800) } }; // metadata only, no name/namespace/labels/spec
    const broken: Pod = { metadata: { name: 'x', namespace: 'apps', deletionTimestamp: 'not-a-time' } };
    const alive: Pod = { metadata: { name: 'y', namespace: 'apps' } };
    expect(overdueSeconds(broken.metadata, NOW)).toBeUndefined();
    expect(overdueSeconds(undefined, NOW)).toBeUndefined();
    const o = check.evaluate({ terminating: [bare, broken, alive], nodes: {}, pdbs: {}, notes: [] }, await opts(), NOW);
    expect(outcomeState(o)).toBe(State.WARNING);
    expect(perf(o).stuck_pods).toBe(1);
    expect(perf(o).pdb_blocked_pods).toBeUndefined(); // PDBs of '' not known: U, not 0
    expect(o.findings[0]!.text).toMatch(/^\/ stuck Terminating 30m past its 30s grace; node not looked up; no owner/);
  });
});

describe('stuck_terminating: thresholds', () => {
  const many = (n: number, agoS = 20 * 60) => Array.from({ length: n }, (_, i) => deleted(`p${i}`, agoS));

  it('defaults: WARNING on one stuck pod, CRITICAL on more than 5 or on one stuck an hour', async () => {
    expect(outcomeState(check.evaluate(data(many(1)), await opts(), NOW))).toBe(State.WARNING);
    expect(outcomeState(check.evaluate(data(many(5)), await opts(), NOW))).toBe(State.WARNING);
    expect(outcomeState(check.evaluate(data(many(6)), await opts(), NOW))).toBe(State.CRITICAL);
    const old = check.evaluate(data([deleted('old', 2 * 3600), deleted('young', 20 * 60)]), await opts(), NOW);
    expect(outcomeState(old)).toBe(State.CRITICAL);
    expect(old.actions?.[0]).toEqual({ state: State.CRITICAL, text: expect.stringMatching(/kubectl delete pod -n \S+ --force --grace-period=0 (old|young)/) });
    expect(old.findings.map((f) => f.state)).toEqual([State.CRITICAL, State.WARNING, ...old.findings.slice(2).map(() => undefined)]);
  });

  it('honours -w/-c ranges and --critical-age 0', async () => {
    expect(outcomeState(check.evaluate(data(many(3)), await opts(['-w', '5', '-c', '10']), NOW))).toBe(State.OK);
    expect(outcomeState(check.evaluate(data(many(1, 3 * 3600)), await opts(['--critical-age', '0']), NOW))).toBe(State.WARNING);
    expect(outcomeState(check.evaluate(data(many(1, 3 * 3600)), await opts(['--critical-age', '4h']), NOW))).toBe(State.WARNING);
    const o = check.evaluate(data(many(2)), await opts(['-w', '1', '-c', '3']), NOW);
    expect(o.perfdata[0]).toMatchObject({ label: 'stuck_pods', value: 2 });
    expect(o.perfdata[0]!.warn!.text).toBe('1');
    expect(o.perfdata[0]!.crit!.text).toBe('3');
  });

  it('rejects bad durations', async () => {
    await expect(opts(['--min-age', 'soon'])).rejects.toThrow(/--min-age/);
    await expect(opts(['--critical-age', '1y'])).rejects.toThrow(/--critical-age/);
  });
});

describe('stuck_terminating: why, per pod', () => {
  it('names a PDB deadlock (disruptionsAllowed 0, currentHealthy < desiredHealthy) and counts PDB-blocked pods', async () => {
    const ctrl = deleted('pvc-1-jiva-ctrl-6d8f-x7k2p', 3630, 30, { ns: 'openebs', node: 'k8s02', owner: 'ReplicaSet/pvc-1-jiva-ctrl-6d8f', labels: { 'openebs.io/controller': 'jiva-controller', 'openebs.io/persistent-volume': 'pvc-1' } });
    const other = deleted('pvc-2-jiva-ctrl-7f9c-m4q8z', 3630, 30, { ns: 'openebs', node: 'k8s02', labels: { 'openebs.io/controller': 'jiva-controller', 'openebs.io/persistent-volume': 'pvc-2' } });
    const pdbs = {
      openebs: [
        pdb('pvc-1-pdb', 'openebs', { 'openebs.io/persistent-volume': 'pvc-1' }, { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 1, expectedPods: 1 }),
        // Blocked (0 allowed) but not a deadlock: as healthy as it asks.
        pdb('pvc-2-pdb', 'openebs', { 'openebs.io/persistent-volume': 'pvc-2' }, { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 }),
        pdb('unrelated', 'openebs', { app: 'other' }, { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 1 }),
      ],
    };
    const o = check.evaluate(data([ctrl, other], { pdbs }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL); // stuck 1h: --critical-age
    expect(o.findings[0]!.text).toContain('PDB deadlock (pvc-1-pdb: 0 disruptions allowed, 0/1 healthy)');
    expect(o.findings[1]!.text).toContain('PDB pvc-2-pdb (0 disruptions allowed, 1/1 healthy)');
    expect(text(o)).not.toContain('unrelated');
    expect(text(o)).toMatch(/\nPDB openebs\/pvc-1-pdb: disruptionsAllowed 0, currentHealthy 0 < desiredHealthy 1(\n|$)/);
    expect(o.findings.map((f) => f.text)).toContain('PDB deadlock: the PDB refuses evictions and drains of the pods it selects until enough of them are healthy; ' +
      'it does not hold a pod already Terminating (the kubelet or a finalizer does), so the stuck pod is the thing to clear');
    expect(perf(o)).toMatchObject({ pdb_blocked_pods: 2, stuck_pods: 2 });
    // A PDB does not hold a pod already Terminating: the summary must not say it does (issue 13.9).
    expect(o.summary).toBe('2 pods stuck Terminating for up to 1h on k8s02: 1 selected by a deadlocked PDB (it blocks drains, not this)');
    expect(o.summary).not.toMatch(/behind a PDB/);
  });

  it('matches a PDB with an empty selector to every pod of its namespace, one without a selector to none', async () => {
    const p = deleted('a', 3600);
    const everyone: PodDisruptionBudget = { metadata: { name: 'all' }, spec: { selector: {} }, status: { disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 3 } };
    const nobody: PodDisruptionBudget = { metadata: { name: 'none' }, spec: {}, status: { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 1 } };
    const o = check.evaluate(data([p], { pdbs: { apps: [everyone, nobody] } }), await opts(), NOW);
    expect(o.findings[0]!.text).toContain('PDB deadlock (all: 0 disruptions allowed, 2/3 healthy)');
    expect(text(o)).not.toContain('none');
  });

  it('says orphaned for a pod with no ownerReferences and counts it', async () => {
    const orphan = deleted('hostpath-provisioner-k8s02-4gk7m', 40 * 60, 30, { ns: 'kube-system', node: 'k8s02', owner: '' });
    const o = check.evaluate(data([orphan, deleted('owned', 40 * 60)]), await opts(), NOW);
    expect(o.findings[0]!.text).toMatch(/^kube-system\/hostpath-provisioner-k8s02-4gk7m stuck Terminating .*; no owner \(orphaned: nothing recreates it\)$/);
    expect(o.findings[1]!.text).toMatch(/; owner ReplicaSet\/web-5d8c7b9f4$/);
    expect(perf(o).orphaned_stuck_pods).toBe(1);
    expect(o.summary).toMatch(/: 1 orphaned \(no owner\)$/);
  });

  it('explains a NotReady node, a node that is gone, and a Ready node whose kubelet does not finish', async () => {
    const pods = [
      deleted('on-down', 3000, 30, { node: 'k8s03' }),
      deleted('on-gone', 3000, 30, { node: 'k8s04' }),
      deleted('on-ready', 3000, 30, { node: 'k8s01' }),
    ];
    const nodes = { k8s01: node('k8s01'), k8s03: node('k8s03', 'Unknown'), k8s04: null };
    const o = check.evaluate(data(pods, { nodes }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.WARNING);
    const t = text(o);
    expect(t).toContain('apps/on-down stuck Terminating 49m past its 30s grace; on k8s03 (node Unknown)');
    expect(t).toContain('apps/on-gone stuck Terminating 49m past its 30s grace; on k8s04 (node gone)');
    expect(t).toMatch(/\nnode k8s03 is Unknown: its 1 stuck pod stays Terminating until the kubelet there comes back or it is force-deleted/);
    expect(t).toMatch(/\nnode k8s04 no longer exists: the pod garbage collector/);
    expect(t).toMatch(/\nnode k8s01 is Ready but its kubelet has not finished 1 stuck pod/);
    expect(o.summary).toMatch(/on k8s03, k8s04, k8s01: 2 on unready nodes$/);
  });

  it('names finalizers, tells that --force does not remove them, and leaves those pods out of the force-delete line', async () => {
    const held = deleted('held', 3000, 30, { finalizers: ['example.com/backup-hook'] });
    const plain = deleted('plain', 3000, 30);
    const o = check.evaluate(data([held, plain]), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.WARNING);
    const t = text(o);
    expect(o.findings[0]!.text).toContain('; finalizers: example.com/backup-hook');
    expect(t).toMatch(/\nfinalizer example\.com\/backup-hook holds apps\/held: the controller that set it must remove it; --force does not/);
    expect(t).toMatch(/\nremedy once the cause is understood \(this check never acts\): kubectl delete pod -n apps --force --grace-period=0 plain$/m);
    expect(o.summary).toMatch(/1 held by finalizers/);
  });

  it('warns about StatefulSet pods and required anti-affinity', async () => {
    const rep = deleted('pvc-1-jiva-rep-1', 1500, 30, { ns: 'openebs', node: 'k8s03', owner: 'StatefulSet/pvc-1-jiva-rep' });
    rep.spec!.affinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { 'openebs.io/replica': 'jiva-replica' } }, topologyKey: 'kubernetes.io/hostname' }] } };
    const o = check.evaluate(data([rep], { nodes: { k8s03: node('k8s03', 'False') } }), await opts(), NOW);
    const t = text(o);
    expect(o.findings[0]!.text).toBe('openebs/pvc-1-jiva-rep-1 stuck Terminating 24m past its 30s grace; on k8s03 (node NotReady); ' +
      'its StatefulSet recreates it only once it is gone; its required anti-affinity still keeps matching pods off k8s03; owner StatefulSet/pvc-1-jiva-rep');
    expect(t).toMatch(/StatefulSet pods on a node that is not Ready \(openebs\/pvc-1-jiva-rep-1\): force-delete only once the node is really down/);
  });

  it('says "not on any node" for a fetched pod without spec.nodeName', async () => {
    const p = deleted('unbound', 3000, 0, { finalizers: ['x/y'] });
    delete p.spec!.nodeName;
    expect(check.evaluate(data([p]), await opts(), NOW).findings[0]!.text).toContain('; not on any node; finalizers: x/y');
  });
});

describe('stuck_terminating: lost detail', () => {
  const note = 'PodDisruptionBudgets not checked: forbidden to list poddisruptionbudgets.policy in namespace openebs: grant it with the ClusterRole in deploy/rbac.yaml';

  it('still reports the stuck pods, with the note as UNKNOWN (a known problem outranks it)', async () => {
    const p = deleted('a', 3 * 3600, 30, { ns: 'openebs' });
    const o = check.evaluate(data([p], { pdbs: {}, notes: [note] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(o.findings.find((f) => f.state === State.UNKNOWN)!.text).toBe(note);
    expect(perf(o)).toMatchObject({ stuck_pods: 1, pdb_blocked_pods: undefined });
  });

  it('is UNKNOWN when the stuck pods are within the thresholds but detail could not be looked up', async () => {
    const p = deleted('a', 20 * 60, 30, { ns: 'openebs' });
    const o = check.evaluate(data([p], { pdbs: {}, notes: [note] }), await opts(['-w', '5', '-c', '10']), NOW);
    expect(outcomeState(o)).toBe(State.UNKNOWN);
  });

  it('reports a node whose readiness could not be looked up as such', async () => {
    const p = deleted('a', 20 * 60, 30, { node: 'k8s09' });
    const o = check.evaluate(data([p], { nodes: {} }), await opts(), NOW);
    expect(o.findings[0]!.text).toContain('; on k8s09 (readiness unknown)');
    expect(text(o)).not.toMatch(/node k8s09 is/);
  });
});

describe('stuck_terminating: a 404 on a stuck pod\'s GET (fail direction, issue 14.10)', () => {
  type ListOpts = { namespace?: string; fieldSelector?: string; metadataOnly?: boolean; project?: (p: Pod) => Pod | undefined };
  /** A client whose pod GETs answer 404; `relist` answers the second list by name. */
  function client(pods: Pod[], relist: (name: string) => Pod[] | Error) {
    const calls: string[] = [];
    const kube = {
      serverNow: () => NOW,
      async list(res: { plural: string }, o: ListOpts = {}) {
        calls.push(`list ${res.plural} ${o.namespace ?? ''} ${o.fieldSelector ?? ''}`.trim());
        if (res.plural !== 'pods') return [];
        const byName = /^metadata\.name=(.+)$/.exec(o.fieldSelector ?? '');
        if (byName) { const r = relist(byName[1]!); if (r instanceof Error) throw r; return r; }
        return pods.map((p) => (o.project ? o.project(p) : p)).filter(Boolean);
      },
      async getOptional(res: { plural: string }, name: string) {
        calls.push(`get ${res.plural} ${name}`);
        return res.plural === 'nodes' ? node(name) : undefined;
      },
    };
    const ctx = { signal: new AbortController().signal, hostClockStart: NOW, verbose: 0, log: () => {}, kube: async () => kube };
    return { ctx, calls };
  }
  const gather = async (pods: Pod[], relist: (name: string) => Pod[] | Error) => {
    const { ctx, calls } = client(pods, relist);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const d = await check.gather(ctx as any, await opts());
    return { d, calls };
  };

  it('leaves the pod out only when a second list by name agrees it is gone, and says so', async () => {
    const p = deleted('gone-0', 3600);
    const { d, calls } = await gather([p], () => []);
    expect(calls).toContain('list pods apps metadata.name=gone-0');
    expect(d.terminating).toEqual([]);
    expect(d.gone).toEqual(['apps/gone-0']);
    const o = check.evaluate(d, await opts(), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    expect(text(o)).toContain('1 stuck pod went away between the list and its GET (confirmed): apps/gone-0');
  });

  it('keeps judging a pod the second list still shows, with an UNKNOWN note: never OK silently', async () => {
    const p = deleted('ghost-0', 3600);
    const { d } = await gather([p], () => [{ metadata: { ...p.metadata } }]);
    expect(d.terminating.map((x) => x.metadata?.name)).toEqual(['ghost-0']);
    const o = check.evaluate(d, await opts(), NOW);
    expect(outcomeState(o)).toBe(State.WARNING); // one stuck pod: -w 0; the known problem outranks the note
    expect(o.summary).toMatch(/^1 pod stuck Terminating for up to 59m; 1 stuck pod answered 404 to a GET yet still listed, judged without node detail: apps\/ghost-0$/);
    expect(o.findings.some((f) => f.state === State.UNKNOWN && /answered 404/.test(f.text))).toBe(true);
    // Within the thresholds, the note alone makes it UNKNOWN, not OK.
    const within = check.evaluate(d, await opts(['-w', '5', '-c', '10', '--critical-age', '0']), NOW);
    expect(outcomeState(within)).toBe(State.UNKNOWN);
  });

  it('keeps judging the pod when the second list fails, with an UNKNOWN note', async () => {
    const p = deleted('ghost-1', 3600);
    const { KubeApiError } = await import('../../lib/kube/errors.js');
    const { d } = await gather([p], () => new KubeApiError('internal error listing pods', 500, 'InternalError', { verb: 'list', resource: 'pods' } as never));
    expect(d.terminating).toHaveLength(1);
    expect(d.notes).toEqual(['1 stuck pod answered 404 to a GET and could not be listed again, judged as listed: internal error listing pods']);
  });
});

describe('stuck_terminating: what the operator reads and does (mutation testing, hmut2)', () => {
  const lines = (o: Outcome) => o.findings.map((f) => [f.state, f.text] as const);
  const action = (o: Outcome) => o.actions?.map((a) => [a.state, a.text]);

  it('the next step follows the worst pod\'s node: gone, not Ready, or Ready with a kubelet that does not finish', async () => {
    const gone = check.evaluate(data([deleted('on-gone', 3000, 30, { node: 'k8s04' })], { nodes: { k8s04: null } }), await opts(), NOW);
    expect(action(gone)).toEqual([[State.WARNING, 'node k8s04 is gone, so nothing will finish its pods; then, once the cause is understood: kubectl delete pod -n apps --force --grace-period=0 on-gone; check again']]);
    const down = check.evaluate(data([deleted('on-down', 3000, 30, { node: 'k8s03' })], { nodes: { k8s03: node('k8s03', 'False') } }), await opts(), NOW);
    expect(action(down)).toEqual([[State.WARNING, 'bring node k8s03 back (check_k8s_nodes) or make sure it is really down; then, once the cause is understood: kubectl delete pod -n apps --force --grace-period=0 on-down; check again']]);
    const ready = check.evaluate(data([deleted('on-ready', 3000, 30)]), await opts(), NOW);
    expect(action(ready)).toEqual([[State.WARNING, 'on k8s01 look at the kubelet and containerd (journalctl -u snap.microk8s.daemon-kubelite --since -30m; check_k8s_kubelet_stall there); ' +
      'then, once the cause is understood: kubectl delete pod -n apps --force --grace-period=0 on-ready; check again']]);
  });

  it('a node whose lookup failed is not called gone: the step goes to the first node that was looked up', async () => {
    const pods = [deleted('older', 3300, 30, { node: 'k8s09' }), deleted('newer', 3000, 30, { node: 'k8s01' })];
    const o = check.evaluate(data(pods, { nodes: { k8s01: node('k8s01') }, notes: ['readiness of 1 node not known: nodes "k8s09" is forbidden'] }), await opts(), NOW);
    expect(action(o)?.[0]?.[1]).toMatch(/^on k8s01 look at the kubelet and containerd /);
    expect(o.findings.map((f) => f.text).join('\n')).not.toMatch(/node k8s09 (is|no longer)/);
    // nothing looked up at all: no node step, the force-delete alone
    const none = check.evaluate(data([deleted('older', 3300, 30, { node: 'k8s09' })], { nodes: {} }), await opts(), NOW);
    expect(action(none)).toEqual([[State.WARNING, 'then, once the cause is understood: kubectl delete pod -n apps --force --grace-period=0 older; check again']]);
  });

  it('a finalizer: the step names the controller\'s finalizer and the first pod it holds, and no force-delete of held pods', async () => {
    const pods = [deleted('held-a', 3000, 30, { finalizers: ['example.com/backup-hook', 'example.com/audit'] }), deleted('held-b', 2900, 30, { finalizers: ['example.com/backup-hook'] })];
    const o = check.evaluate(data(pods), await opts(), NOW);
    expect(action(o)).toEqual([[State.WARNING, 'on k8s01 look at the kubelet and containerd (journalctl -u snap.microk8s.daemon-kubelite --since -30m; check_k8s_kubelet_stall there); ' +
      'the controller behind finalizer example.com/backup-hook must release apps/held-a; check again']]);
    expect(o.summary).toBe('2 pods stuck Terminating for up to 49m on k8s01: 2 held by finalizers');
    expect(o.findings[0]!.text).toContain('; finalizers: example.com/backup-hook, example.com/audit;');
    expect(o.findings.map((f) => f.text)).toContain('finalizer example.com/backup-hook holds apps/held-a, apps/held-b: the controller that set it must remove it; --force does not ' +
      '(kubectl patch pod -n NS NAME --type merge -p \'{"metadata":{"finalizers":null}}\' once that controller is known)');
    expect(o.findings.some((f) => f.text.startsWith('remedy once'))).toBe(false);
  });

  it('seven pods to force-delete: the remedy line names all, the step the first five', async () => {
    const pods = Array.from({ length: 7 }, (_, i) => deleted(`web-${i}`, 3000 - i, 30));
    const o = check.evaluate(data(pods), await opts(), NOW);
    expect(o.findings.map((f) => f.text)).toContain('remedy once the cause is understood (this check never acts): kubectl delete pod -n apps --force --grace-period=0 web-0 web-1 web-2 web-3 web-4 web-5 web-6');
    expect(action(o)?.[0]?.[1]).toMatch(/; then, once the cause is understood: kubectl delete pod -n apps --force --grace-period=0 web-0 web-1 web-2 web-3 web-4; check again$/);
  });

  it('two pods on one node: the node line says "them", "stay", "they are"; one pod "it"', async () => {
    const two = check.evaluate(data([deleted('a', 3000, 30, { node: 'k8s03' }), deleted('b', 3000, 30, { node: 'k8s03' }), deleted('c', 3000, 30, { node: 'k8s04' }), deleted('d', 3000, 30, { node: 'k8s04' })],
      { nodes: { k8s03: node('k8s03', 'Unknown'), k8s04: null } }), await opts(), NOW);
    const t = two.findings.map((f) => f.text);
    expect(t).toContain('node k8s03 is Unknown: its 2 stuck pods stay Terminating until the kubelet there comes back or they are force-deleted');
    expect(t).toContain('node k8s04 no longer exists: the pod garbage collector (kube-controller-manager) should have removed its 2 stuck pods; force-delete them');
    expect(two.summary).toBe('4 pods stuck Terminating for up to 49m on k8s03, k8s04: 4 on unready nodes');
    const one = check.evaluate(data([deleted('c', 3000, 30, { node: 'k8s04' })], { nodes: { k8s04: null } }), await opts(), NOW);
    expect(one.findings.map((f) => f.text)).toContain('node k8s04 no longer exists: the pod garbage collector (kube-controller-manager) should have removed its 1 stuck pod; force-delete it');
  });

  it('the summary: the first three nodes and how many more, every reason, two notes as one and "1 more"', async () => {
    const pods = [
      deleted('a', 3000, 30, { node: 'k8s01', owner: '' }), deleted('b', 3000, 30, { node: 'k8s02', finalizers: ['x/y'] }),
      deleted('c', 3000, 30, { node: 'k8s03' }), deleted('d', 3000, 30, { node: 'k8s04' }),
    ];
    const notes = ['node of 1 stuck pod not known: forbidden', 'PodDisruptionBudgets not checked in 1 namespace: forbidden'];
    const o = check.evaluate(data(pods, { nodes: { k8s01: node('k8s01'), k8s02: node('k8s02'), k8s03: node('k8s03', 'False'), k8s04: null }, notes }), await opts(), NOW);
    expect(o.summary).toBe('4 pods stuck Terminating for up to 49m on k8s01, k8s02, k8s03 and 1 more node: 1 orphaned (no owner), 2 on unready nodes, 1 held by finalizers; ' +
      'node of 1 stuck pod not known: forbidden (and 1 more)');
    expect(lines(o).filter(([s]) => s === State.UNKNOWN).map(([, t]) => t)).toEqual(notes);
  });

  it('StatefulSet pods: the two-copies warning only for those on a node that is not Ready, named together', async () => {
    const sts = (name: string, n: string) => deleted(name, 3000, 30, { node: n, owner: 'StatefulSet/db' });
    const o = check.evaluate(data([sts('db-0', 'k8s03'), sts('db-1', 'k8s03'), sts('db-2', 'k8s01'), sts('db-3', 'k8s09')], { nodes: { k8s01: node('k8s01'), k8s03: node('k8s03', 'Unknown') } }), await opts(), NOW);
    expect(o.findings.map((f) => f.text).filter((t) => t.startsWith('StatefulSet pods'))).toEqual([
      'StatefulSet pods on a node that is not Ready (apps/db-0, apps/db-1): force-delete only once the node is really down, or two copies may run',
    ]);
    const ready = check.evaluate(data([sts('db-2', 'k8s01')]), await opts(), NOW);
    expect(ready.findings.some((f) => f.text.startsWith('StatefulSet pods'))).toBe(false);
  });

  it('PDBs: a pod counts as blocked when one selecting PDB allows none; the deadlock lines only for a deadlock', async () => {
    const p = deleted('a', 3000, 30, { labels: { app: 'web', tier: 'front' } });
    const allows = pdb('web-pdb', 'apps', { app: 'web' }, { disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2 });
    const none = pdb('front-pdb', 'apps', { tier: 'front' }, { disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 2 });
    const o = check.evaluate(data([p, deleted('b', 3000, 30, { labels: { app: 'web' } })], { pdbs: { apps: [allows, none] } }), await opts(), NOW);
    expect(perf(o).pdb_blocked_pods).toBe(1);
    expect(o.findings[0]!.text).toMatch(/; PDB web-pdb \(1 disruption allowed, 3\/2 healthy\); PDB front-pdb \(0 disruptions allowed, 2\/2 healthy\);/);
    expect(text(o)).not.toMatch(/PDB deadlock/);
    // a deadlock: its numbers as the PDB's status says them
    const dead = pdb('db-pdb', 'apps', { app: 'web' }, { disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 3 });
    const d = check.evaluate(data([p], { pdbs: { apps: [dead] } }), await opts(), NOW);
    expect(d.findings.map((f) => f.text)).toContain('PDB apps/db-pdb: disruptionsAllowed 0, currentHealthy 2 < desiredHealthy 3');
  });

  it('--critical-age exactly: a pod stuck 1h is CRITICAL, a second less is WARNING; the step at the worst pod\'s state', async () => {
    const at1h = check.evaluate(data([deleted('a', 3600 + 30, 30), deleted('b', 1200, 30)]), await opts(), NOW);
    expect(outcomeState(at1h)).toBe(State.CRITICAL);
    expect(lines(at1h).slice(0, 2).map(([s]) => s)).toEqual([State.CRITICAL, State.WARNING]);
    expect(action(at1h)?.[0]?.[0]).toBe(State.CRITICAL);
    const under = check.evaluate(data([deleted('a', 3600 + 29, 30)]), await opts(), NOW);
    expect(outcomeState(under)).toBe(State.WARNING);
    expect(under.summary).toBe('1 pod stuck Terminating for up to 59m on k8s01');
  });

  it('50 stuck pods have all their detail; the 51st is said to be without it', async () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => deleted(`p${i}`, 3000, 30));
    const say = 'node and affinity looked up for the 50 oldest stuck pods only';
    expect(text(check.evaluate(data(many(50)), await opts(['-c', '100']), NOW))).not.toContain(say);
    expect(check.evaluate(data(many(51)), await opts(['-c', '100']), NOW).findings.map((f) => f.text)).toContain(say);
  });

  it('pods gone between the list and the GET are named together; nothing terminating at all is its own OK line', async () => {
    const o = check.evaluate(data([], { gone: ['apps/a', 'apps/b'] }), await opts(), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    expect(o.summary).toBe('no pods stuck Terminating');
    expect(o.findings.map((f) => f.text)).toEqual(['2 stuck pods went away between the list and its GET (confirmed): apps/a, apps/b']);
    expect(o.actions).toBeUndefined();
  });

  it('the perfdata: every metric from 0', async () => {
    const o = check.evaluate(data([deleted('a', 3000)]), await opts(), NOW);
    expect(o.perfdata.map((p) => [p.label, p.min])).toEqual([['stuck_pods', 0], ['oldest_stuck_age', 0], ['orphaned_stuck_pods', 0], ['pdb_blocked_pods', 0], ['terminating_pods', 0]]);
  });
});

describe('stuck_terminating gather: what is looked up and what a failed lookup costs (mutation testing, hmut2)', () => {
  type ListOpts = { namespace?: string; fieldSelector?: string; metadataOnly?: boolean; project?: (p: Pod) => Pod | undefined };
  /** An API double: `pods` listed (all namespaces), `get` answers a pod GET, `nodes` the Node GETs, `pdbs` per namespace (an Error throws). */
  function gatherWith(o: { pods: Pod[]; get?: (name: string) => Pod | undefined | Error; relist?: (name: string) => Pod[]; nodes?: Record<string, Node | undefined | Error>; pdbs?: Record<string, PodDisruptionBudget[] | Error> }, args: string[] = []) {
    const calls: string[] = [];
    const kube = {
      serverNow: () => NOW,
      async list(res: { plural: string }, lo: ListOpts = {}) {
        calls.push(`list ${res.plural} ${lo.namespace ?? ''} ${lo.fieldSelector ?? ''}`.trim());
        if (res.plural === 'poddisruptionbudgets') { const r = o.pdbs?.[lo.namespace!] ?? []; if (r instanceof Error) throw r; return r; }
        const byName = /^metadata\.name=(.+)$/.exec(lo.fieldSelector ?? '');
        if (byName) return o.relist ? o.relist(byName[1]!) : [];
        return o.pods.map((p) => (lo.project ? lo.project(p) : p)).filter(Boolean);
      },
      async getOptional(res: { plural: string }, name: string) {
        calls.push(`get ${res.plural} ${name}`);
        const r = res.plural === 'nodes' ? (o.nodes ?? {})[name] : (o.get ?? ((n: string) => o.pods.find((p) => p.metadata?.name === n)))(name);
        if (r instanceof Error) throw r;
        return r;
      },
    };
    const ctx = { signal: new AbortController().signal, hostClockStart: NOW, verbose: 0, log: () => {}, kube: async () => kube };
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return opts(args).then((op) => check.gather(ctx as any, op)).then((d) => ({ d, calls }));
  }
  const apiError = async (status: number | undefined, message: string) => {
    const { KubeApiError } = await import('../../lib/kube/errors.js');
    return new KubeApiError(message, status, undefined, { verb: 'get', resource: 'x' } as never);
  };

  it('looks up each stuck pod, its node once, and the PDBs of its namespace; pods within grace are not looked up', async () => {
    const pods = [deleted('a', 3000, 30, { node: 'k8s02' }), deleted('b', 3000, 30, { node: 'k8s02', ns: 'db' }), deleted('young', 60, 30)];
    const { d, calls } = await gatherWith({ pods, nodes: { k8s02: node('k8s02', 'Unknown') }, pdbs: { apps: [pdb('web', 'apps', { app: 'web' }, { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1 })] } });
    expect(calls.filter((c) => c.startsWith('get'))).toEqual(['get pods a', 'get pods b', 'get nodes k8s02']);
    expect(calls).toContain('list poddisruptionbudgets apps');
    expect(calls).toContain('list poddisruptionbudgets db');
    expect(d.nodes).toEqual({ k8s02: node('k8s02', 'Unknown') });
    expect(Object.keys(d.pdbs).sort()).toEqual(['apps', 'db']);
    expect(d.pdbs.apps!.map((p) => p.metadata?.name)).toEqual(['web']);
    expect(d.notes).toEqual([]);
    expect(d.terminating.map((p) => p.metadata?.name)).toEqual(['a', 'b', 'young']);
    expect(d.gone).toEqual([]);
  });

  it('nothing stuck: no GET, no PDB list', async () => {
    const { d, calls } = await gatherWith({ pods: [deleted('young', 60, 30)] });
    expect(calls).toEqual(['list pods']);
    expect(Object.keys(d.nodes)).toEqual([]);
    expect(d).toEqual({ terminating: [deleted('young', 60, 30)].map((p) => ({ metadata: p.metadata })), nodes: {}, pdbs: {}, notes: [] });
  });

  it('--node: listed with its field selector and the node itself looked up; a node that does not exist and nothing listed is a usage problem, not OK', async () => {
    const pods = [deleted('a', 3000, 30, { node: 'k8s02' })];
    const { d, calls } = await gatherWith({ pods, nodes: { k8s02: node('k8s02', 'False') } }, ['--node', 'k8s02']);
    expect(calls[0]).toBe('list pods  spec.nodeName=k8s02');
    expect(calls.filter((c) => c === 'get nodes k8s02')).toHaveLength(1); // not a second time for the pod
    expect(d.nodes).toEqual({ k8s02: node('k8s02', 'False') });
    await expect(gatherWith({ pods: [] }, ['--node', 'k8s9'])).rejects.toThrow(/no node named k8s9 in the cluster/);
    // a node that exists with nothing terminating on it: a quiet OK
    await expect(gatherWith({ pods: [], nodes: { k8s02: node('k8s02') } }, ['--node', 'k8s02']).then((r) => r.d.terminating)).resolves.toEqual([]);
    // a node object gone while its pods are still listed: judged, the node as gone
    const orphaned = await gatherWith({ pods }, ['--node', 'k8s02']);
    expect(orphaned.d.nodes).toEqual({ k8s02: null });
  });

  it('a pod recreated under the same name (a StatefulSet): the stuck one is gone, not judged as the new one', async () => {
    const old = deleted('db-0', 3000, 30, { owner: 'StatefulSet/db' });
    const fresh: Pod = { metadata: { ...old.metadata, uid: 'uid-new', deletionTimestamp: undefined }, spec: { nodeName: 'k8s01' } };
    const { d } = await gatherWith({ pods: [old], get: () => fresh });
    expect(d.terminating).toEqual([]);
    expect(d.gone).toEqual(['apps/db-0']);
    // the GET answered 404 and the second list shows a new pod of that name: gone too
    const relisted = await gatherWith({ pods: [old], get: () => undefined, relist: () => [{ metadata: { name: 'db-0', namespace: 'apps', uid: 'uid-new' } }] });
    expect(relisted.d.gone).toEqual(['apps/db-0']);
    // ...and the same uid is still the stuck pod
    const same = await gatherWith({ pods: [old], get: () => undefined, relist: () => [{ metadata: { ...old.metadata } }] });
    expect(same.d.terminating).toHaveLength(1);
  });

  it('a 403 or a 500 on a lookup costs that detail, with a note naming it; a 401 or a network failure ends the check', async () => {
    const pods = [deleted('a', 3000, 30, { node: 'k8s02' })];
    const e403 = await apiError(403, 'pods "a" is forbidden');
    const lostPod = await gatherWith({ pods, get: () => e403 });
    expect(lostPod.d.notes).toEqual(['node of 1 stuck pod not known: pods "a" is forbidden']);
    expect(lostPod.d.terminating).toEqual([{ metadata: pods[0]!.metadata }]);
    const e500 = await apiError(500, 'etcdserver: request timed out');
    const lostNode = await gatherWith({ pods, nodes: { k8s02: e500 } });
    expect(lostNode.d.notes).toEqual(['readiness of 1 node not known: etcdserver: request timed out']);
    const lostPdbs = await gatherWith({ pods, pdbs: { apps: e403 } });
    expect(lostPdbs.d.notes).toEqual(['PodDisruptionBudgets not checked in 1 namespace: pods "a" is forbidden']);
    await expect(gatherWith({ pods, get: () => e500 }).then((r) => r.d.notes)).resolves.toEqual(['node of 1 stuck pod not known: etcdserver: request timed out']);
    const e401 = await apiError(401, 'Unauthorized');
    await expect(gatherWith({ pods, get: () => e401 })).rejects.toThrow(/Unauthorized/);
    // the second list after a 404 fails the same way: a 401 ends the check there too
    await expect(gatherWith({ pods, get: () => undefined, relist: () => { throw e401; } })).rejects.toThrow(/Unauthorized/);
    const down = await apiError(undefined, 'connect ECONNREFUSED');
    await expect(gatherWith({ pods, nodes: { k8s02: down } })).rejects.toThrow(/ECONNREFUSED/);
  });

  it('two pods the second list still shows: both named in one note', async () => {
    const pods = [deleted('a', 3000), deleted('b', 3000)];
    const { d } = await gatherWith({ pods, get: () => undefined, relist: (n) => pods.filter((p) => p.metadata?.name === n).map((p) => ({ metadata: p.metadata })) });
    expect(d.notes).toEqual(['2 stuck pods answered 404 to a GET yet still listed, judged without node detail: apps/a, apps/b']);
  });

  it('looks up the 50 oldest stuck pods only', async () => {
    const pods = Array.from({ length: 51 }, (_, i) => deleted(`p${i}`, 3000 + i));
    const { calls } = await gatherWith({ pods });
    expect(calls.filter((c) => c.startsWith('get pods'))).toHaveLength(50);
    expect(calls).not.toContain('get pods p0');
  });
});
