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
    expect(text(o)).toMatch(/does not hold a pod already Terminating/);
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
