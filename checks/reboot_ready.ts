import { RESOURCES } from '../lib/kube/client.js';
import { matchesSelector } from '../lib/kube/labels.js';
import { condition, holderNode, nodeReadiness } from '../lib/kube/nodes.js';
import { ageSeconds } from '../lib/kube/time.js';
import type { Node, Pod, PodDisruptionBudget } from '../lib/kube/types.js';
import { defineCheck, opt } from '../lib/plugin/check.js';
import { eachName } from '../lib/plugin/options.js';
import { evaluateSub, gatherSub, type SubResult } from '../lib/plugin/compose.js';
import { formatDuration, parseDuration } from '../lib/plugin/duration.js';
import { PluginError } from '../lib/plugin/errors.js';
import { outcomeState, OutcomeBuilder, plural } from '../lib/plugin/result.js';
import { State, stateName } from '../lib/plugin/state.js';
import schedulerStall, { type Data as SchedulerData } from './scheduler_stall.js';
import stuckTerminating from './stuck_terminating.js';

export interface Data {
  nodes: Node[];
  /** Pods bound to the node to reboot that are still there (not Succeeded/Failed). */
  podsHere: Pod[];
  /** Running pods of the critical namespaces, cluster-wide: where the replicas are. */
  criticalPods: Pod[];
  pdbs: PodDisruptionBudget[];
  /** check_k8s_scheduler_stall's data (its Lease among it). */
  scheduler: SubResult;
  terminating: SubResult;
}

const CRITICAL_PRIORITY = new Set(['system-cluster-critical', 'system-node-critical']);
const name = (p: Pod) => `${p.metadata?.namespace}/${p.metadata?.name}`;
const isReady = (p: Pod) => condition(p.status?.conditions, 'Ready')?.status === 'True';
const controllerOf = (p: Pod) => p.metadata?.ownerReferences?.find((o) => o.controller) ?? p.metadata?.ownerReferences?.[0];

export default defineCheck({
  name: 'reboot_ready',
  title: 'REBOOT READY',
  scope: 'node',
  summary: 'Is it safe to reboot this node now? Every reason it is not',
  description:
    'Is it safe to reboot --node now? OK only when every other node is Ready, schedulable and settled, every critical ' +
    'pod here (kube-system, system-*-critical) has a ready replica on another node, draining it breaks no ' +
    'PodDisruptionBudget, no pod is stuck Terminating, and the scheduler is scheduling. CRITICAL names every reason ' +
    'it is not. For a rolling-reboot playbook (docs/rolling-reboot.md) and for NRPE.',
  options: {
    node: opt.localNode({ describe: 'Node to reboot (default: this host, as the kubelet names it)' }),
    settle: opt.duration({ default: '10m', describe: 'A node Ready for less than this is still coming back from its own reboot' }),
    'critical-namespace': opt.list({
      placeholder: 'NAMESPACE', default: ['kube-system'], each: eachName('namespace'),
      describe: 'Namespace whose pods must have a ready replica elsewhere (default kube-system)',
    }),
    'allow-single-node': opt.flag({ describe: 'Allow a reboot when no other node exists (the whole cluster goes down)' }),
  },
  examples: [
    ['$0 --node k8s02', 'before rebooting k8s02 in a rolling reboot'],
    ['$0 --critical-namespace kube-system --critical-namespace openebs', 'storage controllers must survive the reboot too'],
  ],


  async gather(ctx, o): Promise<Data> {
    const kube = await ctx.kube();
    const [nodes, podsHere, criticalPods, pdbs, scheduler, terminating] = await Promise.all([
      kube.list<Node>(RESOURCES.nodes),
      kube.list<Pod>(RESOURCES.pods, { fieldSelector: `spec.nodeName=${o.node},status.phase!=Succeeded,status.phase!=Failed` }),
      Promise.all(o.criticalNamespace.map((namespace) => kube.list<Pod>(RESOURCES.pods, { namespace, fieldSelector: 'status.phase=Running' }))).then((l) => l.flat()),
      kube.list<PodDisruptionBudget>(RESOURCES.poddisruptionbudgets),
      gatherSub(schedulerStall, ctx),
      gatherSub(stuckTerminating, ctx),
    ]);
    if (!nodes.some((n) => n.metadata?.name === o.node)) {
      throw new PluginError(`node ${o.node} not found in the cluster (pass --node with the name 'kubectl get nodes' shows)`);
    }
    return { nodes, podsHere, criticalPods, pdbs, scheduler, terminating };
  },

  evaluate(d, o, now) {
    const out = new OutcomeBuilder();
    // Each blocker: a short reason for the status line, the full one for long output.
    const reasons = new Map<string, number>();
    const block = (short: string, text: string) => {
      reasons.set(short, (reasons.get(short) ?? 0) + 1);
      out.add(State.CRITICAL, text);
    };
    const others = d.nodes.filter((n) => n.metadata?.name !== o.node);
    // Pods already Terminating are leaving anyway: the stuck-pods verdict covers them.
    const staying = d.podsHere.filter((p) => !p.metadata?.deletionTimestamp);

    // 1. The rest of the cluster must be whole: one node down at a time.
    let othersReady = 0;
    for (const n of others) {
      const nn = n.metadata?.name ?? '?';
      const ready = nodeReadiness(n);
      if (ready !== 'Ready') { block(`node ${nn} ${ready}`, `node ${nn} is ${ready}: another node is down, reboot one node at a time`); continue; }
      othersReady++;
      if (n.spec?.unschedulable) block(`node ${nn} cordoned`, `node ${nn} is cordoned: another node is being drained or rebooted`);
      const since = ageSeconds(condition(n.status?.conditions, 'Ready')?.lastTransitionTime, now);
      if (since !== undefined && since < o.settle) {
        block(`node ${nn} settling`, `node ${nn} became Ready ${formatDuration(since)} ago: still settling after its own reboot (wait ${formatDuration(o.settle)})`);
      }
    }
    if (!others.length && !o.allowSingleNode) block('no other node', 'no other node: rebooting takes the whole cluster down (--allow-single-node to accept)');

    // 2. Critical pods here need a ready replica elsewhere (the incident's single CoreDNS).
    const critical = staying.filter((p) =>
      o.criticalNamespace.includes(p.metadata?.namespace ?? '') || CRITICAL_PRIORITY.has(p.spec?.priorityClassName ?? ''));
    let unprotected = 0;
    for (const p of critical) {
      const owner = controllerOf(p);
      if (owner?.kind === 'DaemonSet' || owner?.kind === 'Node') continue; // one per node by design / static pod
      if (!owner) {
        out.info(`${name(p)} has no owner: it will not come back after the reboot`);
        continue;
      }
      const elsewhere = d.criticalPods.filter((q) =>
        q.spec?.nodeName !== o.node && controllerOf(q)?.uid === owner.uid && isReady(q));
      if (!elsewhere.length) {
        unprotected++;
        block('critical pod without a replica elsewhere', `${name(p)}: no ready replica of ${owner.kind} ${owner.name} on another node (scale it to 2+ with anti-affinity)`);
      }
    }

    // 3. Draining must not break a PodDisruptionBudget.
    let pdbViolations = 0;
    for (const pdb of d.pdbs) {
      const ns = pdb.metadata?.namespace;
      const here = staying.filter((p) => p.metadata?.namespace === ns && isReady(p) && matchesSelector(pdb.spec?.selector, p.metadata?.labels));
      const allowed = pdb.status?.disruptionsAllowed ?? 0;
      if (here.length > allowed) {
        pdbViolations++;
        block('PodDisruptionBudget would block the drain', `draining would break PodDisruptionBudget ${ns}/${pdb.metadata?.name}: ${plural(here.length, 'pod')} here, ${allowed} disruptions allowed`);
      }
    }

    // 4. The scheduler must be scheduling and nothing may be stuck going away.
    for (const [what, sub] of [['scheduler stall check', d.scheduler], ['stuck Terminating check', d.terminating]] as const) {
      const r = evaluateSub(sub, now);
      const s = outcomeState(r);
      if (s !== State.OK) block(`${what} ${stateName(s)}`, `${what}: check_k8s_${sub.check.name} is ${stateName(s)}: ${r.summary}`);
      // What a sub-check could not read (a forbidden detail) is not lost on the way up.
      for (const f of r.findings) if (f.state === State.UNKNOWN) out.add(State.UNKNOWN, `check_k8s_${sub.check.name}: ${f.text}`);
    }

    // 5. The scheduler Lease moves on reboot; that needs somewhere to move to.
    // scheduler_stall already fetched it: no second GET.
    const lease = (d.scheduler.data as SchedulerData).lease;
    const holder = holderNode(lease?.spec?.holderIdentity);
    if (holder === o.node) {
      if (othersReady) out.info(`scheduler Lease is held by ${o.node}: it moves to another node within leaseDurationSeconds (${lease?.spec?.leaseDurationSeconds ?? '?'}s)`);
      else block('scheduler Lease has nowhere to go', `scheduler Lease is held by ${o.node} and no other node is Ready to take it`);
    }

    const blockers = out.findings.filter((f) => f.state === State.CRITICAL).length;
    out.metric({ label: 'blockers', value: blockers, min: 0 })
      .metric({ label: 'other_nodes_ready', value: othersReady, min: 0, max: others.length })
      .metric({ label: 'pods_on_node', value: staying.length, min: 0 })
      .metric({ label: 'critical_pods_without_replica', value: unprotected, min: 0 })
      .metric({ label: 'pdb_violations', value: pdbViolations, min: 0 });

    if (blockers) {
      const short = [...reasons].map(([r, n]) => (n > 1 ? `${n}x ${r}` : r)).join('; ');
      return out.build(`NOT safe to reboot ${o.node}: ${short}`);
    }
    return out.build(
      `safe to reboot ${o.node}: ${othersReady}/${others.length} other nodes Ready and settled, ` +
      `${plural(critical.length, 'critical pod')} here with replicas elsewhere, no PodDisruptionBudget blocks the drain, ` +
      'scheduler scheduling, nothing stuck Terminating',
    );
  },
});
