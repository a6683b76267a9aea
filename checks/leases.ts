import { RESOURCES } from '../lib/kube/resources.js';
import { isNodeName } from '../lib/kube/names.js';
import { holderIsNode, nodeReadiness, strictHolderNode } from '../lib/kube/nodes.js';
import { ageSeconds } from '../lib/kube/time.js';
import type { Lease, Node } from '../lib/kube/types.js';
import { defineCheck, opt, type OptionsOf } from '../lib/plugin/check.js';
import { declareMetrics, each, range } from '../lib/plugin/context.js';
import { formatDuration } from '../lib/plugin/duration.js';
import { eachName } from '../lib/plugin/options.js';
import { parseRange } from '../lib/plugin/range.js';
import { judge, Report, type Problem } from '../lib/plugin/report.js';
import { plural } from '../lib/plugin/result.js';
import { bySeverityDesc, State, worst } from '../lib/plugin/state.js';
import { refOf } from '../lib/kube/objects.js';

const DEFAULT_LEASES = ['kube-scheduler', 'kube-controller-manager'];

const options = {
  namespace: opt.namespace({ default: 'kube-system', describe: 'Namespace of the Leases' }),
  lease: opt.list({
    placeholder: 'NAME', commas: true, each: eachName('name'),
    describe: 'Leases to judge instead of kube-scheduler and kube-controller-manager (--lease a,b or repeated; a missing one is then CRITICAL)',
  }),
  'max-lease-duration': opt.duration({
    describe: 'WARNING when leaseDurationSeconds is longer than this, for every lease (0: do not judge). Default: 20s for ' +
      'kube-scheduler (the incident\'s action item), 60s (microk8s\'s default) for the others',
  }),
  'holder-not-a-node': opt.choice(['ok', 'warning', 'critical'] as const, {
    default: 'ok',
    describe: 'State when a fresh lease\'s holder is no node of the cluster: an external or managed control plane ' +
      '(a deleted node\'s lease expires and is CRITICAL anyway)',
  }),
};
type Options = OptionsOf<typeof options>;

/** The leases to judge: --lease, or the control plane's two. */
const leaseNames = (o: Options) => (o.lease.length ? o.lease : DEFAULT_LEASES);

/**
 * How long a lease may be before a dead leader blocks failover too long. The
 * scheduler's 20s is the incident's action item; microk8s starts both with
 * --leader-elect-lease-duration=60s, and 60s stays quiet for the rest.
 */
const DEFAULT_MAX_DURATION: Record<string, number> = { 'kube-scheduler': 20 };
const maxDuration = (o: Options, lease: string) => o.maxLeaseDuration ?? DEFAULT_MAX_DURATION[lease] ?? 60;

/** The one change to make on a microk8s node, named in the warning. */
const FIX: Record<string, string> = {
  'kube-scheduler': 'fix: --leader-elect-lease-duration=20s --leader-elect-renew-deadline=15s in /var/snap/microk8s/current/args/kube-scheduler',
};

export interface LeaseData {
  name: string;
  /** undefined: 404, no such Lease. */
  lease?: Lease;
  /** Host named by a "<hostname>_<uuid>" holder identity (lowercased); undefined for other shapes. */
  nodeName?: string;
  /** The holder's Node (by name, kubernetes.io/hostname label or Hostname address); undefined: none is. */
  node?: Node;
}

export interface Data {
  leases: LeaseData[];
}

/**
 * One lease's problems, worst first, each a short phrase for the status line
 * and a line of why, and its facts as one context line.
 */
export function judgeLease(d: LeaseData, o: Options, now: number): { problems: (Problem & { text: string; action: string })[]; line: string } {
  const id = refOf(o.namespace, d.name);
  const problems: (Problem & { text: string; action: string })[] = [];
  const restart = (node?: string) => `${node ? `on ${node} ` : 'on each control-plane node '}run sudo snap restart microk8s.daemon-kubelite (elsewhere: restart ${d.name}); ` +
    `the Lease ${id} should then be renewed within seconds (kubectl get lease -n ${o.namespace} ${d.name}); check again`;
  if (!d.lease) {
    const state = o.lease.length ? State.CRITICAL : State.WARNING;
    const text = `no Lease ${id}: leader election off (--leader-elect=false) or ${d.name} never started`;
    const action = `see whether ${d.name} runs with --leader-elect (microk8s: /var/snap/microk8s/current/args/${d.name}); if this cluster has no ${d.name} Lease by design, list the ones it has with --lease`;
    return { problems: [{ state, short: 'no Lease (leader election off?)', text, action }], line: `${id}: no such Lease` };
  }
  const spec = d.lease.spec ?? {};
  const holder = spec.holderIdentity || undefined;
  const renewAge = ageSeconds(spec.renewTime, now);
  const duration = spec.leaseDurationSeconds;
  const holderHost = d.node?.metadata?.name ?? strictHolderNode(holder)?.toLowerCase();
  const add = (state: State, short: string, why: string, action = restart(holderHost)) => problems.push({ state, short, text: `${d.name}: ${short}: ${why}`, action });

  if (!holder) add(State.CRITICAL, 'no holder', 'no leader elected', `no ${d.name} leads: ${restart()}`);
  if (renewAge === undefined) add(State.WARNING, 'no renewTime', 'freshness unknown', `read the Lease (kubectl get lease -n ${o.namespace} ${d.name} -o yaml): whatever wrote it did not set renewTime`);
  if (duration === undefined) add(State.WARNING, 'no leaseDurationSeconds', 'expiry unknown', `read the Lease (kubectl get lease -n ${o.namespace} ${d.name} -o yaml): whatever wrote it did not set leaseDurationSeconds`);
  const expired = holder !== undefined && renewAge !== undefined && duration !== undefined && renewAge > duration;
  if (expired) add(State.CRITICAL, `expired (renewed ${formatDuration(renewAge)} ago, leaseDurationSeconds ${duration})`, 'no working leader', `the leader ${holder} stopped renewing: ${restart(holderHost)}`);
  else if (holder && renewAge !== undefined) {
    const { warn, crit } = perf.options('renew_age_<lease>', o);
    const j = judge(renewAge, warn, crit);
    if (j.state !== State.OK) add(j.state, `renewed ${formatDuration(renewAge)} ago`, j.hint);
  }

  let where = '';
  if (holder && d.nodeName && !d.node) {
    // A fresh lease held from no node: an external or managed control plane. A node
    // deleted under its leader stops renewing and is CRITICAL above as expired.
    const state = o.holderNotANode === 'critical' ? State.CRITICAL : o.holderNotANode === 'warning' ? State.WARNING : State.OK;
    where = ` (${d.nodeName} is no node of this cluster: an external control plane?)`;
    if (state !== State.OK) add(state, `holder ${d.nodeName} is no node`, 'not a node of this cluster by name, kubernetes.io/hostname or Hostname address (--holder-not-a-node)',
      `find where ${d.nodeName} runs ${d.name} (an external control plane?); if that is by design, pass --holder-not-a-node ok`);
  } else if (holder && d.node) {
    const readiness = nodeReadiness(d.node);
    const nodeName = d.node.metadata?.name ?? d.nodeName;
    where = ` on node ${nodeName}`;
    if (readiness !== 'Ready') {
      add(State.CRITICAL, `holder node ${nodeName} ${readiness}`, 'the leader may be gone while its lease keeps the others waiting',
        `bring ${nodeName} back (check_k8s_nodes says why it is ${readiness}) or stop its control plane (on ${nodeName}: sudo snap stop microk8s.daemon-kubelite) so another node takes Lease ${id}; check again`);
    } else where += ' (Ready)';
    if (d.node.spec?.unschedulable) add(State.WARNING, `holder node ${nodeName} cordoned`, 'move leadership off it before the drain or reboot', `move leadership off ${nodeName} before its drain: ${restart(nodeName)}`);
  } else if (holder) {
    where = ' (identity is not <node>_<uuid>: node not checked)';
  }

  const max = maxDuration(o, d.name);
  if (duration !== undefined && max > 0 && duration > max) {
    const fix = o.maxLeaseDuration === undefined && FIX[d.name] ? `; ${FIX[d.name]}` : '';
    add(State.WARNING, `leaseDurationSeconds ${duration} > ${max}`, `failover waits up to ${formatDuration(duration)}${fix}`,
      FIX[d.name] ? `${FIX[d.name]!.replace(/^fix: /, 'set ')}, then on each control-plane node sudo snap restart microk8s.daemon-kubelite` : `lower ${d.name}'s --leader-elect-lease-duration to ${max}s or less`);
  }

  const facts = [
    holder ? `held by ${holder}${where}` : 'not held',
    renewAge === undefined ? 'never renewed' : `renewed ${formatDuration(renewAge)} ago`,
    `leaseDurationSeconds ${duration ?? '?'}`,
    plural(spec.leaseTransitions ?? 0, 'transition'),
  ].join(', ');
  problems.sort((a, b) => bySeverityDesc(a.state, b.state));
  return { problems, line: `${id}: ${facts}` };
}

const perf = declareMetrics({
  'renew_age_<lease>': { describe: 'Seconds since the lease was renewed', judge: range('warning', 'critical', { note: 'expiry past leaseDurationSeconds is CRITICAL whatever they say' }), uom: 's' },
  'duration_<lease>': { describe: 'leaseDurationSeconds of the lease', judge: each('WARNING above, per lease (default 20s for kube-scheduler, 60s for the others; 0: not judged)', ['maxLeaseDuration']), uom: 's' },
  'transitions_<lease>': { describe: 'leaseTransitions: how often leadership changed hands (counter)', uom: 'c' },
});

export default defineCheck({
  name: 'leases',
  title: 'LEASES',
  scope: 'cluster',
  nrpe: {
    args: '-t 20',
    about:
      'Scheduler/controller-manager Leases: expired, held from a NotReady/missing/cordoned node, leaseDurationSeconds > 20s.',
  },
  summary: 'Leader-election Leases of the scheduler and controller-manager: holder, node, freshness',
  description:
    'Leader-election Leases of the control plane (kube-scheduler, kube-controller-manager in kube-system): who holds ' +
    'each, on which node, how long ago it was renewed.\n\n' +
    'CRITICAL when a lease has expired (renewed longer ago than leaseDurationSeconds: no working leader), has no ' +
    'holder, or its holder\'s node is NotReady or Unknown. The holder "<hostname>_<uuid>" is matched to a Node by ' +
    'name, kubernetes.io/hostname label or Hostname address, case-insensitively; a fresh lease held from no node is ' +
    'an external control plane (--holder-not-a-node). WARNING when the holder\'s node is cordoned, or ' +
    'leaseDurationSeconds exceeds --max-lease-duration (a long lease keeps a dead leader in charge that long; by ' +
    'default 20s for the scheduler, naming the microk8s setting to change, 60s for the others). A missing Lease is WARNING (leader election may be off) for the default leases and CRITICAL for a ' +
    'lease named with --lease. Holder identities that are not "<node>_<uuid>" are reported as they are and their ' +
    'node is not checked.\n\n' +
    'A fresh lease on a Ready node says the leader is alive, not that it works: run check_k8s_scheduler_stall too.',
  thresholds: { describe: 'seconds since each lease was renewed (expiry past leaseDurationSeconds is CRITICAL anyway)' },
  options,
  perfdata: perf.docs,
  examples: [
    ['$0 --kubeconfig /etc/nagios/k8s-nrpe.kubeconfig', 'the scheduler and controller-manager leases'],
    ['$0 --lease kube-scheduler --max-lease-duration 30s -c 30', 'only the scheduler; CRITICAL when not renewed for 30s'],
  ],

  async gather(ctx, o): Promise<Data> {
    const kube = await ctx.kube();
    // Every lease at once; each holder node once, however many leases it hold.
    // The hostname is usually the node name (one GET); when it is not
    // (--hostname-override, an FQDN), one list of the nodes finds it by label or address.
    let all: Promise<Node[]> | undefined;
    const nodes = new Map<string, Promise<Node | undefined>>();
    const nodeOf = (identity: string, host: string) => {
      let p = nodes.get(host);
      if (!p) {
        nodes.set(host, (p = (isNodeName(host) ? kube.getOptional<Node>(RESOURCES.nodes, host) : Promise.resolve(undefined))
          .then(async (n) => n ?? (await (all ??= kube.list<Node>(RESOURCES.nodes))).find((x) => holderIsNode(identity, x)))));
      }
      return p;
    };
    const leases = await Promise.all(leaseNames(o).map(async (name): Promise<LeaseData> => {
      const lease = await kube.getOptional<Lease>(RESOURCES.leases, name, o.namespace);
      const identity = lease?.spec?.holderIdentity;
      // Node names are lower case; a hostname need not be.
      const nodeName = strictHolderNode(identity)?.toLowerCase();
      return { name, lease, nodeName, node: nodeName ? await nodeOf(identity!, nodeName) : undefined };
    }));
    return { leases };
  },

  evaluate(d, o, now) {
    const r = new Report();
    const verdicts = d.leases.map((l) => ({ l, v: judgeLease(l, o, now) }));
    // The status line names each troubled lease once, with all its problems.
    const holderOf = (l: LeaseData) => (l.lease?.spec?.holderIdentity ? ` (${l.node?.metadata?.name ?? l.nodeName ?? l.lease.spec.holderIdentity})` : '');
    for (const { l, v } of verdicts) {
      const worstState = worst(...v.problems.map((p) => p.state));
      const short = `${l.name}${holderOf(l)}: ${v.problems.map((p) => p.short).join(', ')}`;
      v.problems.forEach((p, i) => (i === 0 ? r.problem(worstState, short, p.text) : r.add(p.state, p.text)));
      if (v.problems[0]) r.action(v.problems[0].state, `${l.name}: ${v.problems[0].action}`);
    }
    for (const { v } of verdicts) r.info(v.line);

    for (const { l } of verdicts) {
      const max = maxDuration(o, l.name);
      const durationRange = max > 0 ? parseRange(String(max), '--max-lease-duration') : undefined;
      const spec = l.lease?.spec;
      const renewAge = l.lease ? ageSeconds(spec?.renewTime, now) : undefined;
      // Judged per lease in judgeLease (expiry outranks the ranges); the ranges are shown here.
      perf.metric(r, 'renew_age_<lease>', renewAge === undefined ? undefined : Math.round(renewAge * 10) / 10, o, { min: 0 }, `renew_age_${l.name}`);
      // Per lease: its own default unless --max-lease-duration (the 'each' context).
      r.metric(`duration_${l.name}`, spec?.leaseDurationSeconds, { ...perf.options('duration_<lease>', o, { min: 0 }), warn: durationRange });
      perf.metric(r, 'transitions_<lease>', spec?.leaseTransitions ?? (l.lease ? 0 : undefined), o, { min: 0 }, `transitions_${l.name}`);
    }

    const ok = verdicts.map(({ l }) => {
      const s = l.lease?.spec;
      const age = ageSeconds(s?.renewTime, now);
      return `${l.name} held by ${l.node?.metadata?.name ?? l.nodeName ?? s?.holderIdentity}, renewed ${age === undefined ? '?' : formatDuration(age)} ago`;
    }).join('; ') || 'no leases to judge';
    return r.done(ok);
  },
});
