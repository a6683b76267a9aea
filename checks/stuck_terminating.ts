import { RESOURCES } from '../lib/kube/resources.js';
import { pdbAllowsNone, pdbDeadlocked, pdbStatus } from '../lib/kube/disruption.js';
import { KubeApiError } from '../lib/kube/errors.js';
import { matchesSelector } from '../lib/kube/labels.js';
import { nodeNamed, nodeReadiness, unknownNode } from '../lib/kube/nodes.js';
import { requiresAntiAffinity } from '../lib/kube/spreading.js';
import { graceSeconds, stuckPods } from '../lib/kube/terminating.js';
import type { Node, ObjectMeta, Pod, PodDisruptionBudget } from '../lib/kube/types.js';
import { defineCheck, opt } from '../lib/plugin/check.js';
import { declareMetrics, range } from '../lib/plugin/context.js';
import { formatDuration } from '../lib/plugin/duration.js';
import { Report } from '../lib/plugin/report.js';
import { firstFew, plural, type Finding } from '../lib/plugin/result.js';
import { State } from '../lib/plugin/state.js';
import { controllerOf, objectRef, refOf } from '../lib/kube/objects.js';

export interface Data {
  /**
   * Every pod with a deletionTimestamp. From the metadata-only list they
   * carry only metadata; the stuck ones are replaced by the full pod (GET)
   * for spec.nodeName and affinity. A stuck pod whose GET answered 404 and
   * that a second list no longer shows has finished going and is left out.
   */
  terminating: Pod[];
  /** Nodes of stuck pods by name; null: the Node object does not exist. Absent: not looked up. */
  nodes: Record<string, Node | null>;
  /** PDBs by namespace, for the namespaces of stuck pods. Absent: not looked up. */
  pdbs: Record<string, PodDisruptionBudget[]>;
  /** Lookups of detail that failed (forbidden, server errors, a 404 a second list contradicts): the stuck pods are reported without it. */
  notes: string[];
  /** Stuck pods that went away between the list and their GET, confirmed (a second list, or a new pod under the name). */
  gone?: string[];
}

/** Pods whose detail (node, affinity) is fetched one GET each; beyond this the long output is cut anyway. */
export const DETAIL_LIMIT = 50;


/** A 403 or a server error on a detail lookup loses that detail, not the check; timeouts and network failures still end it. */
function detailLost(e: unknown): e is KubeApiError {
  return e instanceof KubeApiError && e.status !== undefined && e.status !== 401;
}

const perf = declareMetrics({
  stuck_pods: { describe: 'Pods past their deadline (deletionTimestamp) by more than --min-age', judge: range('warning', 'critical') },
  oldest_stuck_age: { describe: 'Seconds the most overdue pod is past its deadline', uom: 's' },
  orphaned_stuck_pods: { describe: 'Stuck pods with no owner' },
  pdb_blocked_pods: { describe: 'Stuck pods selected by a PDB allowing no disruption (U when PDBs could not be read)' },
  terminating_pods: { describe: 'Pods with a deletionTimestamp' },
});

export default defineCheck({
  name: 'stuck_terminating',
  title: 'STUCK TERMINATING',
  scope: 'cluster',
  nrpe: {
    args: '-t 20 -w 0 -c 5 --min-age 10m --critical-age 1h',
    about:
      'Pods stuck Terminating (past grace + --min-age): why (node, finalizers, no owner, PDB deadlock) and the remedy.',
  },
  summary: 'Pods stuck Terminating past their grace period, with the cause and the remedy',
  description:
    'Pods stuck Terminating: deleted, past their grace period by more than --min-age, and still there. Long output says ' +
    'why for each (node NotReady or gone, kubelet not finishing on a Ready node, finalizers, no owner, a ' +
    'PodDisruptionBudget allowing no disruptions, a StatefulSet waiting for the pod) and the remedy, as text only: ' +
    'the check never deletes anything. Stuck for = now - deletionTimestamp, which the apiserver already sets to ' +
    'deletion time + grace period. Lists pods metadata-only, then GETs only the stuck ones, their nodes and the ' +
    'PDBs of their namespaces.',
  thresholds: {
    describe: 'number of stuck pods (past their grace period by more than --min-age)',
    warning: '0',
    critical: '5',
  },
  selection: { what: 'pods', name: true },
  options: {
    node: opt.node({
      describe: 'Only pods bound to this node (server-side spec.nodeName): the cost follows the node, not the cluster. ' +
        'Without it every pod is listed, so a dead node\'s stuck pods are seen from elsewhere: run it cluster-wide from one host',
    }),
    'min-age': opt.duration({ default: '10m', describe: 'How long past its grace period a terminating pod must be to count as stuck' }),
    'critical-age': opt.duration({ default: '1h', describe: 'A pod stuck this long is CRITICAL whatever the count (0 turns this off)' }),
  },
  perfdata: perf.docs,
  examples: [
    ['$0 --kubeconfig /etc/nagios/k8s-nrpe.kubeconfig', 'the NRPE default: WARNING on one stuck pod, CRITICAL on 6 or more or on one stuck 1h'],
    ['$0 -w 2 -c 10 --critical-age 0', 'tolerate a couple, judge by count only'],
  ],


  async gather(ctx, o): Promise<Data> {
    const kube = await ctx.kube();
    // No field selector exists for metadata.deletionTimestamp: every pod has
    // to be listed. Metadata only (PartialObjectMetadataList) carries all this
    // needs to find the stuck ones (deletionTimestamp, labels, owners,
    // finalizers) at a fraction of the bytes of full pods.
    // Only the terminating ones are kept as each page arrives: memory follows
    // what is going away, not the cluster (bench/: flat from 1k to 50k pods).
    const [terminating, named] = await Promise.all([
      kube.list<Pod, Pod>(RESOURCES.pods, {
        metadataOnly: true, selected: true,
        ...(o.node !== undefined && { fieldSelector: `spec.nodeName=${o.node}` }),
        project: (p) => (p.metadata?.deletionTimestamp ? { metadata: p.metadata } : undefined),
      }),
      // --node: the node itself, so a name that matches nothing is not a quiet OK.
      nodeNamed(kube, o.node),
    ]);
    if (named === null && !terminating.length) throw unknownNode(o.node!);
    // The same clock evaluate() judges by: the API server's.
    const stuck = stuckPods(terminating, o.minAge, kube.serverNow());
    const nodes: Record<string, Node | null> = named !== undefined ? { [o.node!]: named } : {};
    const pdbs: Record<string, PodDisruptionBudget[]> = {};
    if (!stuck.length) return { terminating, nodes, pdbs, notes: [] };

    // What could not be looked up, by kind, for one note each.
    const lost = { pods: [] as KubeApiError[], nodes: [] as KubeApiError[], pdbs: [] as KubeApiError[] };
    const tolerate = (kind: keyof typeof lost) => (e: unknown) => {
      if (!detailLost(e)) throw e;
      lost[kind].push(e);
    };

    const namespaces = [...new Set(stuck.map((s) => s.pod.metadata?.namespace ?? ''))].filter(Boolean);
    const pdbLists = Promise.all(namespaces.map((ns) =>
      kube.list<PodDisruptionBudget>(RESOURCES.poddisruptionbudgets, { namespace: ns }).then((l) => { pdbs[ns] = l; }, tolerate('pdbs'))));

    const full = new Map<string, Pod | null>();
    // A 404 on the GET is not proof the pod is gone (a proxy, a lagging
    // replica): a second list by name must agree, else the pod stays judged.
    const answered404: ObjectMeta[] = [];
    const stillListed: string[] = [];
    const relistFailed: KubeApiError[] = [];
    const gone: string[] = [];
    const podsThenNodes = (async () => {
      await Promise.all(stuck.slice(0, DETAIL_LIMIT).map(({ pod }) => {
        const m = pod.metadata!;
        return kube.getOptional<Pod>(RESOURCES.pods, m.name ?? '', m.namespace).then((got) => {
          if (!got) { answered404.push(m); return; }
          // A new pod of the same name (a StatefulSet recreates its pods under the old name): the stuck one is gone.
          const same = !m.uid || !got.metadata?.uid || got.metadata.uid === m.uid;
          full.set(objectRef(m), same ? got : null);
          if (!same) gone.push(objectRef(m));
        }, tolerate('pods'));
      }));
      await Promise.all(answered404.map((m) =>
        kube.list<Pod, Pod>(RESOURCES.pods, { namespace: m.namespace, fieldSelector: `metadata.name=${m.name}`, metadataOnly: true }).then((l) => {
          if (l.some((p) => !m.uid || p.metadata?.uid === m.uid)) stillListed.push(objectRef(m));
          else { full.set(objectRef(m), null); gone.push(objectRef(m)); }
        }, (e: unknown) => {
          if (!detailLost(e)) throw e;
          relistFailed.push(e);
        })));
      const nodeNames = [...new Set([...full.values()].map((p) => p?.spec?.nodeName).filter((n): n is string => !!n && !(n in nodes)))];
      await Promise.all(nodeNames.map((name) =>
        kube.getOptional<Node>(RESOURCES.nodes, name).then((n) => { nodes[name] = n ?? null; }, tolerate('nodes'))));
    })();
    await Promise.all([pdbLists, podsThenNodes]);

    const notes: string[] = [];
    const note = (errors: KubeApiError[], what: string) => { if (errors.length) notes.push(`${what}: ${errors[0]!.message}`); };
    note(lost.pods, `node of ${plural(lost.pods.length, 'stuck pod')} not known`);
    if (stillListed.length) notes.push(`${plural(stillListed.length, 'stuck pod')} answered 404 to a GET yet still listed, judged without node detail: ${stillListed.join(', ')}`);
    note(relistFailed, `${plural(relistFailed.length, 'stuck pod')} answered 404 to a GET and could not be listed again, judged as listed`);
    note(lost.nodes, `readiness of ${plural(lost.nodes.length, 'node')} not known`);
    note(lost.pdbs, `PodDisruptionBudgets not checked in ${plural(lost.pdbs.length, 'namespace')}`);

    const merged: Pod[] = [];
    for (const p of terminating) {
      const k = objectRef(p.metadata);
      if (!full.has(k)) merged.push(p);
      else if (full.get(k)) merged.push(full.get(k)!);
      // null: the pod finished going after the list (a second list agreed, or its name has a new pod).
    }
    return { terminating: merged, nodes, pdbs, notes, gone };
  },

  evaluate(d, o, now) {
    const stuck = stuckPods(d.terminating, o.minAge, now);
    const r = new Report();
    const count = perf.judge(r, 'stuck_pods', stuck.length, o, { min: 0 });
    const lines: Finding[] = [];

    let orphaned = 0;
    let pdbBlockedPods = 0;
    let deadlockedPods = 0;
    let withFinalizers = 0;
    let onUnready = 0;
    let pdbUnknown = false;
    const byNode = new Map<string, Pod[]>();
    const deadlocks = new Map<string, PodDisruptionBudget>();
    const finalizerPods = new Map<string, string[]>();
    const forceDelete = new Map<string, string[]>(); // namespace -> pod names without finalizers
    const statefulOnUnready: string[] = [];

    for (const { pod, overdue } of stuck) {
      const m = pod.metadata ?? {};
      const ns = m.namespace ?? '';
      const name = m.name ?? '';
      const parts = [`${refOf(ns, name)} stuck Terminating ${formatDuration(overdue)} past its ${graceSeconds(pod)}s grace`];

      const nodeName = pod.spec?.nodeName;
      const detailed = pod.spec !== undefined;
      let readiness: ReturnType<typeof nodeReadiness> | undefined;
      if (nodeName) {
        if (nodeName in d.nodes) readiness = nodeReadiness(d.nodes[nodeName] ?? undefined);
        parts.push(`on ${nodeName} (${readiness === undefined ? 'readiness unknown' : readiness === 'Missing' ? 'node gone' : readiness === 'Ready' ? 'Ready' : `node ${readiness}`})`);
        byNode.set(nodeName, [...(byNode.get(nodeName) ?? []), pod]);
        if (readiness && readiness !== 'Ready') onUnready++;
      } else if (detailed) {
        parts.push('not on any node');
      } else {
        parts.push('node not looked up');
      }

      const fins = m.finalizers ?? [];
      if (fins.length) {
        withFinalizers++;
        parts.push(`finalizers: ${fins.join(', ')}`);
        for (const f of fins) finalizerPods.set(f, [...(finalizerPods.get(f) ?? []), refOf(ns, name)]);
      } else {
        forceDelete.set(ns, [...(forceDelete.get(ns) ?? []), name]);
      }

      const ref = controllerOf(m);
      if (!ref) { orphaned++; parts.push('no owner (orphaned: nothing recreates it)'); }

      const nsPdbs = d.pdbs[ns];
      if (nsPdbs === undefined) pdbUnknown = true;
      const selecting = (nsPdbs ?? []).filter((p) => matchesSelector(p.spec?.selector, m.labels));
      if (selecting.some(pdbAllowsNone)) pdbBlockedPods++;
      if (selecting.some(pdbDeadlocked)) deadlockedPods++;
      for (const p of selecting) {
        const pdbName = p.metadata?.name ?? '';
        if (pdbDeadlocked(p)) { deadlocks.set(refOf(ns, pdbName), p); parts.push(`PDB deadlock (${pdbName}: ${pdbStatus(p)})`); }
        else parts.push(`PDB ${pdbName} (${pdbStatus(p)})`);
      }

      if (ref?.kind === 'StatefulSet') {
        parts.push('its StatefulSet recreates it only once it is gone');
        if (readiness && readiness !== 'Ready') statefulOnUnready.push(refOf(ns, name));
      }
      if (requiresAntiAffinity(pod)) parts.push(`its required anti-affinity still keeps matching pods off ${nodeName ?? 'its node'}`);
      if (ref) parts.push(`owner ${ref.kind ?? '?'}/${ref.name ?? '?'}`);

      lines.push({ state: o.criticalAge > 0 && overdue >= o.criticalAge ? State.CRITICAL : count.state, text: parts.join('; ') });
    }

    const within = d.terminating.length - stuck.length;
    const oldest = stuck[0]?.overdue ?? 0;
    // What holds each pod. A PDB does not: it refuses evictions, not a deletion already under way.
    const why = [
      orphaned && `${orphaned} orphaned (no owner)`,
      onUnready && `${onUnready} on unready nodes`,
      withFinalizers && `${withFinalizers} held by finalizers`,
      deadlockedPods && `${deadlockedPods} selected by a deadlocked PDB (it blocks drains, not this)`,
    ].filter(Boolean);
    const where = [...byNode.keys()];
    const stuckText = `${plural(stuck.length, 'pod')} stuck Terminating for up to ${formatDuration(oldest)}` +
      (where.length ? ` on ${firstFew(where, 3, 'node')}` : '') +
      (why.length ? `: ${why.join(', ')}` : '') +
      // Lost detail goes in the summary too: in long output it sorts below the stuck pods and may be cut.
      (d.notes.length ? `; ${d.notes[0]}${d.notes.length > 1 ? ` (and ${d.notes.length - 1} more)` : ''}` : '');
    // The most overdue pod is the worst: its line is the problem's long output.
    lines.forEach((l, i) => (i === 0 ? r.problem(l.state!, stuckText, l.text) : r.add(l.state, l.text)));

    // Why, once per node / PDB / finalizer, then the remedy.
    for (const [nodeName, pods] of byNode) {
      if (!(nodeName in d.nodes)) continue; // lookup failed: a note says so
      const n = plural(pods.length, 'stuck pod');
      const ready = nodeReadiness(d.nodes[nodeName] ?? undefined);
      const one = pods.length === 1;
      if (ready === 'Missing') r.info(`node ${nodeName} no longer exists: the pod garbage collector (kube-controller-manager) should have removed its ${n}; force-delete ${one ? 'it' : 'them'}`);
      else if (ready !== 'Ready') r.info(`node ${nodeName} is ${ready}: its ${n} ${one ? 'stays' : 'stay'} Terminating until the kubelet there comes back or ${one ? 'it is' : 'they are'} force-deleted`);
      else r.info(`node ${nodeName} is Ready but its kubelet has not finished ${n}: look at the kubelet and container runtime there (stuck containers, volume unmounts, a kubelet stall)`);
    }
    if (deadlocks.size) {
      r.info('PDB deadlock: the PDB refuses evictions and drains of the pods it selects until enough of them are healthy; ' +
        'it does not hold a pod already Terminating (the kubelet or a finalizer does), so the stuck pod is the thing to clear');
    }
    for (const [id, p] of deadlocks) {
      const s = p.status ?? {};
      r.info(`PDB ${id}: disruptionsAllowed 0, currentHealthy ${s.currentHealthy ?? 0} < desiredHealthy ${s.desiredHealthy ?? 0}`);
    }
    for (const [f, pods] of finalizerPods) {
      r.info(`finalizer ${f} holds ${pods.join(', ')}: the controller that set it must remove it; --force does not (kubectl patch pod -n NS NAME --type merge -p '{"metadata":{"finalizers":null}}' once that controller is known)`);
    }
    if (statefulOnUnready.length) {
      r.info(`StatefulSet pods on a node that is not Ready (${statefulOnUnready.join(', ')}): force-delete only once the node is really down, or two copies may run`);
    }
    for (const [ns, names] of forceDelete) {
      r.info(`remedy once the cause is understood (this check never acts): kubectl delete pod -n ${ns} --force --grace-period=0 ${names.join(' ')}`);
    }
    if (stuck.length) r.action(lines[0]?.state ?? count.state, stuckAction(byNode, d.nodes, finalizerPods, forceDelete));
    if (d.gone?.length) r.info(`${plural(d.gone.length, 'stuck pod')} went away between the list and its GET (confirmed): ${d.gone.join(', ')}`);
    if (stuck.length > DETAIL_LIMIT) r.info(`node and affinity looked up for the ${DETAIL_LIMIT} oldest stuck pods only`);
    for (const note of d.notes) r.add(State.UNKNOWN, note);

    perf.metric(r, 'oldest_stuck_age', Math.round(oldest), o, { min: 0 });
    perf.metric(r, 'orphaned_stuck_pods', orphaned, o, { min: 0 });
    perf.metric(r, 'pdb_blocked_pods', pdbUnknown ? undefined : pdbBlockedPods, o, { min: 0 });
    perf.metric(r, 'terminating_pods', d.terminating.length, o, { min: 0 });
    return r.done(stuck.length ? stuckText
      : within ? `no pods stuck Terminating (${plural(within, 'pod')} terminating within grace + ${formatDuration(o.minAge)})` : 'no pods stuck Terminating');
  },
});

/** The next step for stuck pods: what holds the worst of them, then the force-delete once it is understood. */
function stuckAction(byNode: Map<string, unknown[]>, nodes: Data['nodes'], finalizerPods: Map<string, string[]>, forceDelete: Map<string, string[]>): string {
  const steps: string[] = [];
  const [nodeName] = [...byNode.keys()].filter((n) => n in nodes);
  const ready = nodeName ? nodeReadiness(nodes[nodeName] ?? undefined) : undefined;
  if (nodeName && ready === 'Missing') steps.push(`node ${nodeName} is gone, so nothing will finish its pods`);
  else if (nodeName && ready !== 'Ready') steps.push(`bring node ${nodeName} back (check_k8s_nodes) or make sure it is really down`);
  else if (nodeName) steps.push(`on ${nodeName} look at the kubelet and containerd (journalctl -u snap.microk8s.daemon-kubelite --since -30m; check_k8s_kubelet_stall there)`);
  const [finalizer, held] = [...finalizerPods][0] ?? [];
  if (finalizer) steps.push(`the controller behind finalizer ${finalizer} must release ${held![0]}`);
  const [ns, names] = [...forceDelete][0] ?? [];
  if (ns) steps.push(`then, once the cause is understood: kubectl delete pod -n ${ns} --force --grace-period=0 ${names!.slice(0, 5).join(' ')}`);
  return `${steps.join('; ')}; check again`;
}
