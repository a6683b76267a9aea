import { pdbDeadlocked, pdbStatus, pdbTooStrict } from '../lib/kube/disruption.js';
import { objectRef } from '../lib/kube/objects.js';
import { RESOURCES } from '../lib/kube/resources.js';
import type { PodDisruptionBudget } from '../lib/kube/types.js';
import { defineCheck, opt } from '../lib/plugin/check.js';
import { declareMetrics, range } from '../lib/plugin/context.js';
import { Report } from '../lib/plugin/report.js';
import { firstFew, plural } from '../lib/plugin/result.js';
import { State } from '../lib/plugin/state.js';

/** What is kept of a PodDisruptionBudget: its name, its rule and its status. */
export interface Budget {
  id: string;
  namespace: string;
  name: string;
  rule: string;
  tooStrict: boolean;
  deadlocked: boolean;
  status: string;
}

export interface Data {
  budgets: Budget[];
}

const ruleOf = (p: PodDisruptionBudget) =>
  p.spec?.minAvailable !== undefined ? `minAvailable ${p.spec.minAvailable}` : p.spec?.maxUnavailable !== undefined ? `maxUnavailable ${p.spec.maxUnavailable}` : 'no rule';

const perf = declareMetrics({
  blocking_pdbs: { describe: 'PodDisruptionBudgets allowing no disruption while every expected pod is healthy', judge: range('warning', 'critical') },
  short_pdbs: { describe: 'PodDisruptionBudgets allowing no disruption because too few pods are healthy (judged by other checks)' },
  pdbs: { describe: 'PodDisruptionBudgets' },
});

export default defineCheck({
  name: 'pdb',
  title: 'PDB',
  scope: 'cluster',
  nrpe: {
    args: '-t 20 -w 0',
    about: 'PodDisruptionBudgets that block every drain even with all their pods healthy (rolling reboots wait for ever).',
  },
  summary: 'PodDisruptionBudgets that block every drain even when all their pods are healthy',
  description:
    'A PodDisruptionBudget that allows no disruption while every pod it expects is healthy (minAvailable equal to the ' +
    'replicas, maxUnavailable 0, a single replica with minAvailable 1) blocks every voluntary eviction for ever: ' +
    '`kubectl drain` and a rolling reboot of its node wait until someone edits it. Such budgets are counted by -w/-c, ' +
    'found before the drain rather than during it. Budgets that allow none because too few of their pods are healthy ' +
    'are only listed: check_k8s_workloads judges the missing pods, and check_k8s_stuck_terminating and ' +
    'check_k8s_reboot_ready judge the drains they block. Lists PodDisruptionBudgets (--namespace or all namespaces).',
  thresholds: { describe: 'PodDisruptionBudgets that block every drain while all their pods are healthy', warning: '0' },
  selection: { what: 'PodDisruptionBudgets', name: true },
  options: {
    namespace: opt.namespace({ describe: 'Only this namespace (default: all namespaces)' }),
  },
  perfdata: perf.docs,
  examples: [['$0 -c 0', 'CRITICAL for any budget that blocks every drain']],

  async gather(ctx, o) {
    const kube = await ctx.kube();
    const budgets = await kube.list<PodDisruptionBudget, Budget>(RESOURCES.poddisruptionbudgets, {
      namespace: o.namespace, selected: true,
      project: (p) => ({ id: objectRef(p.metadata), namespace: p.metadata?.namespace ?? '', name: p.metadata?.name ?? '', rule: ruleOf(p), tooStrict: pdbTooStrict(p), deadlocked: pdbDeadlocked(p), status: pdbStatus(p) }),
    });
    return { budgets };
  },

  evaluate(d, o) {
    const r = new Report();
    const blocking = d.budgets.filter((b) => b.tooStrict);
    const short = d.budgets.filter((b) => b.deadlocked);
    const j = perf.judge(r, 'blocking_pdbs', blocking.length, o, { min: 0 });
    perf.metric(r, 'short_pdbs', short.length, o, { min: 0 });
    perf.metric(r, 'pdbs', d.budgets.length, o, { min: 0 });
    if (j.state !== State.OK) {
      const names = firstFew(blocking.map((b) => b.id), 3);
      r.problem(j.state, `${plural(blocking.length, 'PodDisruptionBudget')} blocking every drain: ${names}`);
      const first = blocking[0]!;
      r.action(j.state, `before the next drain, let ${first.id} allow one disruption: scale its workload to 2+ replicas, or set maxUnavailable: 1 ` +
        `(kubectl -n ${first.namespace} edit pdb ${first.name}); check again: disruptionsAllowed must be 1 or more`);
    }
    for (const b of blocking) r.add(j.state, `${b.id}: ${b.rule}, ${b.status}: no eviction can pass even with every pod healthy; a drain of its nodes waits for ever`);
    for (const b of short) r.info(`${b.id}: ${b.rule}, ${b.status}: its pods are short (check_k8s_workloads), drains wait until they are back`);
    return r.done(`${plural(d.budgets.length, 'PodDisruptionBudget')}, none blocks every drain`);
  },
});
