import { RESOURCES } from '../lib/kube/resources.js';
import { matchesSelector } from '../lib/kube/labels.js';
import { holderIsNode, nodeReadiness } from '../lib/kube/nodes.js';
import { leaseFreshness, NODE_LEASE_NAMESPACE } from '../lib/kube/node-lease.js';
import { readySince } from '../lib/kube/reboots.js';
import { thisNodeAmong } from '../lib/kube/this-node.js';
import { condition, controllerOf, objectRef, refOf } from '../lib/kube/objects.js';
import { matchesNodeSelectorTerms, whyNotOn } from '../lib/kube/scheduling.js';
import type { Lease, Node, PersistentVolume, Pod, PodDisruptionBudget } from '../lib/kube/types.js';
import { defineCheck, opt } from '../lib/plugin/check.js';
import { declareMetrics } from '../lib/plugin/context.js';
import { eachName } from '../lib/plugin/options.js';
import { evaluateSub, gatherSub, type SubResult } from '../lib/plugin/compose.js';
import { formatDuration, parseDuration } from '../lib/plugin/duration.js';
import { Report } from '../lib/plugin/report.js';
import { outcomeState, plural } from '../lib/plugin/result.js';
import { State, stateName } from '../lib/plugin/state.js';
import schedulerStall, { type Data as SchedulerData } from './scheduler_stall.js';
import stuckTerminating from './stuck_terminating.js';
import { isPodReady } from '../lib/kube/pods.js';

export interface Data {
  /** The node to reboot: --node, or the node this host is (lib/kube/this-node.ts). */
  node: string;
  nodes: Node[];
  /** The kubelets' heartbeat Leases (kube-node-lease), name and spec only. */
  leases: Lease[];
  /** Pods bound to the node to reboot that are still there (not Succeeded/Failed). */
  podsHere: Pod[];
  /** Running pods of the critical namespaces, cluster-wide: where the replicas are. */
  criticalPods: Pod[];
  pdbs: PodDisruptionBudget[];
  /** check_k8s_scheduler_stall's data (its Lease among it). */
  scheduler: SubResult;
  terminating: SubResult;
  /** PersistentVolumes, listed only when a critical pod here has a claim. */
  volumes?: PersistentVolume[];
  controllerManager?: Lease;
}

const CRITICAL_PRIORITY = new Set(['system-cluster-critical', 'system-node-critical']);
const isCritical = (p: Pod, namespaces: string[]) =>
  namespaces.includes(p.metadata?.namespace ?? '') || CRITICAL_PRIORITY.has(p.spec?.priorityClassName ?? '');

/** A claim of the pod bound to a volume that lives on this node only (local, hostPath, or node affinity no other node meets). */
function localVolume(p: Pod, volumes: PersistentVolume[], others: Node[]): string | undefined {
  for (const v of p.spec?.volumes ?? []) {
    const claim = v.persistentVolumeClaim?.claimName;
    if (!claim) continue;
    const pv = volumes.find((x) => x.spec?.claimRef?.namespace === p.metadata?.namespace && x.spec?.claimRef?.name === claim);
    if (!pv) continue;
    const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms;
    if (pv.spec?.local || pv.spec?.hostPath || (terms && !others.some((n) => matchesNodeSelectorTerms(terms, n)))) {
      return `claim ${claim} is bound to ${pv.metadata?.name}, ${pv.spec?.local ? 'a local volume' : pv.spec?.hostPath ? 'a hostPath volume' : 'a volume'} on this node`;
    }
  }
  return undefined;
}

const perf = declareMetrics({
  blockers: { describe: 'Reasons the reboot is not safe (CRITICAL findings)' },
  other_nodes_ready: { describe: 'Other nodes Ready (max: other nodes)' },
  pods_on_node: { describe: 'Pods on the node that a drain would move' },
  critical_pods_without_replica: { describe: 'Critical pods with no replica elsewhere that cannot move' },
  disrupted_pods: { describe: 'Critical single-replica pods that will restart on another node' },
  pdb_violations: { describe: 'PodDisruptionBudgets the drain would break' },
});

export default defineCheck({
  name: 'reboot_ready',
  title: 'REBOOT READY',
  scope: 'node',
  nrpe: {
    args: '-t 30',
    about:
      'Is rebooting this node safe now? Every other node Ready and settled, critical pods replicated\n' +
      'elsewhere, no PDB blocking the drain, nothing stuck Terminating on this node, scheduler scheduling.\n' +
      'Mostly for the rolling-reboot playbook (docs/rolling-reboot.md); as a service it shows when a node may be patched.',
  },
  summary: 'Is it safe to reboot this node now? Every reason it is not',
  description:
    'Is it safe to reboot --node now? OK only when every other node is Ready (its kubelet still renewing its Lease), schedulable and settled, draining it ' +
    'breaks no PodDisruptionBudget, the scheduler is scheduling (check_k8s_scheduler_stall not CRITICAL) and no pod ' +
    'on it is stuck Terminating (check_k8s_stuck_terminating --node not CRITICAL). CRITICAL names every reason it is not.\n\n' +
    'A critical pod here (--critical-namespace, system-*-critical) with no ready replica elsewhere blocks only when ' +
    'no other node could run it (nodeSelector, required node affinity, taints) or its volume stays on this node ' +
    '(local, hostPath, or node-affine PersistentVolume); otherwise it is a disruption, reported: it restarts on ' +
    'another node during the drain. Scheduling pressure elsewhere is not a reason to refuse. The scheduler and ' +
    'controller-manager Leases held by this node are named. For docs/rolling-reboot.md and for NRPE.',
  options: {
    node: opt.localNode({ describe: 'Node to reboot (default: this host, as the kubelet names it)' }),
    settle: opt.duration({ default: '10m', describe: 'A node Ready for less than this is still coming back from its own reboot' }),
    'critical-namespace': opt.list({
      placeholder: 'NAMESPACE', default: ['kube-system'], each: eachName('namespace'),
      describe: 'Namespace whose pods must have a ready replica elsewhere (default kube-system)',
    }),
    'allow-single-node': opt.flag({ describe: 'Allow a reboot when no other node exists (the whole cluster goes down)' }),
  },
  perfdata: perf.docs,
  examples: [
    ['$0 --node k8s02', 'before rebooting k8s02 in a rolling reboot'],
    ['$0 --critical-namespace kube-system --critical-namespace openebs', 'storage controllers must survive the reboot too'],
  ],


  async gather(ctx, o): Promise<Data> {
    const kube = await ctx.kube();
    // Every node is judged anyway: which one this host is comes from the same list.
    const nodes = await kube.list<Node>(RESOURCES.nodes);
    const me = thisNodeAmong(nodes, o.node);
    ctx.log(2, `reboot_ready: judging node ${me.name}, found ${me.how}`);
    const [podsHere, criticalPods, pdbs, leases, scheduler, terminating] = await Promise.all([
      kube.list<Pod>(RESOURCES.pods, { fieldSelector: `spec.nodeName=${me.name},status.phase!=Succeeded,status.phase!=Failed` }),
      Promise.all(o.criticalNamespace.map((namespace) => kube.list<Pod>(RESOURCES.pods, { namespace, fieldSelector: 'status.phase=Running' }))).then((l) => l.flat()),
      kube.list<PodDisruptionBudget>(RESOURCES.poddisruptionbudgets),
      // The kubelets' heartbeats: a Node can say Ready for a while after its kubelet stopped.
      kube.list<Lease>(RESOURCES.leases, { namespace: NODE_LEASE_NAMESPACE, project: (l) => ({ metadata: { name: l.metadata?.name }, spec: l.spec }) }),
      gatherSub(schedulerStall, ctx),
      // Stuck pods on this node: a stuck pod elsewhere blocks this drain only through a
      // PodDisruptionBudget or a node that is not Ready, both judged here, and listing every
      // pod of the cluster would make this node-local check grow with the cluster.
      gatherSub(stuckTerminating, ctx, ['--node', me.name]),
    ]);
    // Storage that stays on this node: only asked when a critical pod here has a claim.
    const claims = podsHere.some((p) => isCritical(p, o.criticalNamespace) && p.spec?.volumes?.some((v) => v.persistentVolumeClaim));
    const [volumes, controllerManager] = await Promise.all([
      claims ? kube.list<PersistentVolume>(RESOURCES.persistentvolumes) : Promise.resolve([]),
      kube.getOptional<Lease>(RESOURCES.leases, 'kube-controller-manager', 'kube-system'),
    ]);
    return { node: me.name, nodes, leases, podsHere, criticalPods, pdbs, scheduler, terminating, volumes, controllerManager };
  },

  evaluate(d, o, now) {
    const r = new Report();
    // Each blocker: a short reason for the status line (counted when repeated), the full one for long output.
    const reasons = new Map<string, number>();
    const block = (short: string, text: string) => {
      reasons.set(short, (reasons.get(short) ?? 0) + 1);
      r.add(State.CRITICAL, text);
    };
    const others = d.nodes.filter((n) => n.metadata?.name !== d.node);
    // Pods already Terminating are leaving anyway: the stuck-pods verdict covers them.
    const staying = d.podsHere.filter((p) => !p.metadata?.deletionTimestamp);

    // 1. The rest of the cluster must be whole: one node down at a time.
    let othersReady = 0;
    const leases = new Map(d.leases.map((l) => [l.metadata?.name ?? '', l]));
    for (const n of others) {
      const nn = n.metadata?.name ?? '?';
      const ready = nodeReadiness(n);
      if (ready !== 'Ready') { block(`node ${nn} ${ready}`, `node ${nn} is ${ready}: another node is down, reboot one node at a time`); continue; }
      // Ready in name only: the node lifecycle controller marks it Unknown only after its grace period.
      const lease = leases.get(nn);
      const heartbeat = lease && leaseFreshness(lease, now);
      if (heartbeat?.expired) {
        block(`node ${nn} kubelet not renewing its Lease`,
          `node ${nn} says Ready but its kubelet has not renewed its Lease ${NODE_LEASE_NAMESPACE}/${nn} for ` +
          `${heartbeat.renewAge === undefined ? 'ever' : formatDuration(heartbeat.renewAge)} (leaseDurationSeconds ${heartbeat.duration}): ` +
          'it is down in fact, reboot one node at a time (check_k8s_nodes)');
        continue;
      }
      othersReady++;
      if (n.spec?.unschedulable) block(`node ${nn} cordoned`, `node ${nn} is cordoned: another node is being drained or rebooted`);
      const back = readySince(n);
      const since = back && Math.max(0, (now - back.at) / 1000);
      if (since !== undefined && since < o.settle) {
        block(`node ${nn} settling`, back!.first
          ? `node ${nn} joined the cluster and became Ready ${formatDuration(since)} ago: still settling (wait ${formatDuration(o.settle)})`
          : `node ${nn} became Ready again ${formatDuration(since)} ago: still settling after its own reboot or outage (wait ${formatDuration(o.settle)})`);
      }
    }
    if (!others.length && !o.allowSingleNode) block('no other node', 'no other node: rebooting takes the whole cluster down (--allow-single-node to accept)');

    // 2. Critical pods here without a ready replica elsewhere. One that can run on
    // another node is a disruption (it restarts there during the drain); it blocks
    // only when nowhere else could run it or its data stays on this node.
    const critical = staying.filter((p) => isCritical(p, o.criticalNamespace));
    let unprotected = 0;
    let disrupted = 0;
    for (const p of critical) {
      const owner = controllerOf(p.metadata);
      if (owner?.kind === 'DaemonSet' || owner?.kind === 'Node') continue; // one per node by design / static pod
      if (!owner) {
        r.info(`${objectRef(p.metadata)} has no owner: it will not come back after the reboot`);
        continue;
      }
      const elsewhere = d.criticalPods.filter((q) =>
        q.spec?.nodeName !== d.node && controllerOf(q.metadata)?.uid === owner.uid && isPodReady(q));
      if (elsewhere.length) continue;
      const local = localVolume(p, d.volumes ?? [], others);
      const reasonsNot = others.map((n) => whyNotOn(p, n));
      if (local) {
        unprotected++;
        block('critical pod on local storage', `${objectRef(p.metadata)}: no ready replica of ${owner.kind} ${owner.name} elsewhere, and its ${local}: it cannot move`);
      } else if (reasonsNot.every((why) => why !== undefined)) {
        unprotected++;
        block('critical pod that can run nowhere else',
          `${objectRef(p.metadata)}: no ready replica of ${owner.kind} ${owner.name} on another node, and no other node could run it (${reasonsNot.slice(0, 3).join('; ') || 'no other node'})`);
      } else {
        disrupted++;
        r.info(`disruption: ${objectRef(p.metadata)} has no ready replica of ${owner.kind} ${owner.name} elsewhere: it restarts on another node during the drain (scale it to 2+ with anti-affinity to avoid the gap)`);
      }
    }

    // 3. Draining must not break a PodDisruptionBudget.
    let pdbViolations = 0;
    for (const pdb of d.pdbs) {
      const ns = pdb.metadata?.namespace;
      const here = staying.filter((p) => p.metadata?.namespace === ns && isPodReady(p) && matchesSelector(pdb.spec?.selector, p.metadata?.labels));
      const allowed = pdb.status?.disruptionsAllowed ?? 0;
      if (here.length > allowed) {
        pdbViolations++;
        block('PodDisruptionBudget would block the drain', `draining would break PodDisruptionBudget ${refOf(ns, pdb.metadata?.name)}: ${plural(here.length, 'pod')} here, ${plural(allowed, 'disruption')} allowed`);
      }
    }

    // 5. Leader leases move on reboot; that needs somewhere to move to.
    // scheduler_stall already fetched the scheduler's: no second GET.
    const thisNode = d.nodes.find((n) => n.metadata?.name === d.node);
    for (const [component, lease] of [['scheduler', (d.scheduler.data as SchedulerData).lease], ['controller-manager', d.controllerManager]] as const) {
      if (!thisNode || !holderIsNode(lease?.spec?.holderIdentity, thisNode)) continue;
      if (othersReady) r.info(`${component} Lease is held by ${d.node}: it moves to another node within leaseDurationSeconds (${lease?.spec?.leaseDurationSeconds ?? '?'}s)`);
      else block(`${component} Lease has nowhere to go`, `${component} Lease is held by ${d.node} and no other node is Ready to take it`);
    }

    for (const [short, n] of reasons) r.problem(State.CRITICAL, n > 1 ? `${n}x ${short}` : short);

    // 4. The scheduler must be scheduling and nothing may be stuck going away: their
    // CRITICAL blocks; scheduling pressure elsewhere (WARNING) is no reason to refuse.
    for (const [what, sub] of [['scheduler stall check', d.scheduler], ['stuck Terminating check', d.terminating]] as const) {
      const outcome = evaluateSub(sub, now);
      r.nest(`check_k8s_${sub.check.name}`, outcome, {
        as: (st) => (st === State.WARNING ? State.OK : st),
        short: `${what} ${stateName(outcomeState(outcome))}`,
      });
    }
    // After the sub-checks' own next steps (nest carries them over): what blocks, and when to ask again.
    // Every CRITICAL problem as the status line says it ('2x critical pod on local storage'), each once.
    const blockers = [...new Set(r.problems().filter((p) => p.state === State.CRITICAL).map((p) => p.short))];
    if (blockers.length) r.action(State.CRITICAL, `do not reboot ${o.node} yet: first clear ${blockers.join('; ')} (the lines below name each), then run check_k8s_reboot_ready --node ${o.node} again (docs/rolling-reboot.md)`);


    perf.metric(r, 'blockers', r.findings.filter((f) => f.state === State.CRITICAL).length, o, { min: 0 });
    perf.metric(r, 'other_nodes_ready', othersReady, o, { min: 0, max: others.length });
    perf.metric(r, 'pods_on_node', staying.length, o, { min: 0 });
    perf.metric(r, 'critical_pods_without_replica', unprotected, o, { min: 0 });
    perf.metric(r, 'disrupted_pods', disrupted, o, { min: 0 });
    perf.metric(r, 'pdb_violations', pdbViolations, o, { min: 0 });
    return r.done(
      `safe to reboot ${d.node}: ${othersReady}/${others.length} other nodes Ready and settled, ` +
      (disrupted ? `${plural(disrupted, 'single-replica critical pod')} will restart elsewhere, ` : `${plural(critical.length, 'critical pod')} here with replicas elsewhere, `) +
      'no PodDisruptionBudget blocks the drain, scheduler scheduling, nothing stuck Terminating',
      { prefix: `NOT safe to reboot ${d.node}: ` },
    );
  },
});
