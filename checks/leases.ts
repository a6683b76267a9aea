import { RESOURCES } from '../lib/kube/client.js';
import { nodeReadiness, strictHolderNode } from '../lib/kube/nodes.js';
import { ageSeconds } from '../lib/kube/time.js';
import type { Lease, Node } from '../lib/kube/types.js';
import { optionalString } from '../lib/plugin/args.js';
import { defineCheck } from '../lib/plugin/check.js';
import { formatDuration, parseDuration } from '../lib/plugin/duration.js';
import { UsageError } from '../lib/plugin/errors.js';
import { parseRange, type Range } from '../lib/plugin/range.js';
import { OutcomeBuilder, plural, thresholdState } from '../lib/plugin/result.js';
import { bySeverityDesc, State, worst } from '../lib/plugin/state.js';

const DEFAULT_LEASES = ['kube-scheduler', 'kube-controller-manager'];

interface Options {
  namespace: string;
  leases: string[];
  /** --lease was given: a missing lease is then CRITICAL, not WARNING. */
  explicit: boolean;
  /** Seconds; 0 turns the rule off. */
  maxLeaseDuration: number;
}

export interface LeaseData {
  name: string;
  /** undefined: 404, no such Lease. */
  lease?: Lease;
  /** Node named by a "<node>_<uuid>" holder identity; undefined for other shapes. */
  nodeName?: string;
  /** The holder's Node; undefined with nodeName set: 404, no such node. */
  node?: Node;
}

export interface Data {
  leases: LeaseData[];
}

/** What one lease is judged to be: its own state, its problems, one line. */
export interface Verdict {
  state: State;
  /** Worst first; `short` is for the status line, `text` for long output. */
  problems: { state: State; short: string; text: string }[];
  /** The facts, a context line of long output. */
  line: string;
}

const DNS_LABELS = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function parseLeases(v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  if (Array.isArray(v)) throw new UsageError('--lease given more than once: name several leases as --lease a,b');
  const names = String(v).split(',').map((s) => s.trim());
  if (!names.length || names.some((n) => n === '')) throw new UsageError('--lease needs a name (several: --lease kube-scheduler,kube-controller-manager)');
  for (const n of names) if (n.length > 253 || !DNS_LABELS.test(n)) throw new UsageError(`invalid --lease '${n}': not a Kubernetes object name`);
  return [...new Set(names)];
}

export function judgeLease(d: LeaseData, o: Options & { warning?: Range; critical?: Range }, now: number): Verdict {
  const id = `${o.namespace}/${d.name}`;
  const problems: Verdict['problems'] = [];
  if (!d.lease) {
    const state = o.explicit ? State.CRITICAL : State.WARNING;
    const text = `no Lease ${id}: leader election off (--leader-elect=false) or ${d.name} never started`;
    return { state, problems: [{ state, short: 'no Lease (leader election off?)', text }], line: `${id}: no such Lease` };
  }
  const spec = d.lease.spec ?? {};
  const holder = spec.holderIdentity || undefined;
  const renewAge = ageSeconds(spec.renewTime, now);
  const duration = spec.leaseDurationSeconds;
  const add = (state: State, short: string, why: string) => problems.push({ state, short, text: `${d.name}: ${short}: ${why}` });

  if (!holder) add(State.CRITICAL, 'no holder', 'no leader elected');
  if (renewAge === undefined) add(State.WARNING, 'no renewTime', 'freshness unknown');
  if (duration === undefined) add(State.WARNING, 'no leaseDurationSeconds', 'expiry unknown');
  const expired = holder !== undefined && renewAge !== undefined && duration !== undefined && renewAge > duration;
  if (expired) add(State.CRITICAL, `expired (renewed ${formatDuration(renewAge)} ago, leaseDurationSeconds ${duration})`, 'no working leader');
  else if (holder && renewAge !== undefined) {
    const s = thresholdState(renewAge, o.warning, o.critical);
    const range = s === State.CRITICAL ? `-c ${o.critical?.text}` : `-w ${o.warning?.text}`;
    if (s !== State.OK) add(s, `renewed ${formatDuration(renewAge)} ago`, `outside ${range}`);
  }

  let where = '';
  if (holder && d.nodeName) {
    const readiness = nodeReadiness(d.node);
    where = ` on node ${d.nodeName}`;
    if (readiness === 'Missing') add(State.CRITICAL, `holder node ${d.nodeName} missing`, 'not a node of this cluster (deleted, or its hostname differs from its node name)');
    else if (readiness !== 'Ready') add(State.CRITICAL, `holder node ${d.nodeName} ${readiness}`, 'the leader may be gone while its lease keeps the others waiting');
    else where += ' (Ready)';
    if (d.node?.spec?.unschedulable) add(State.WARNING, `holder node ${d.nodeName} cordoned`, 'move leadership off it before the drain or reboot');
  } else if (holder) {
    where = ' (identity is not <node>_<uuid>: node not checked)';
  }

  if (duration !== undefined && o.maxLeaseDuration > 0 && duration > o.maxLeaseDuration) {
    add(State.WARNING, `leaseDurationSeconds ${duration} > ${o.maxLeaseDuration}`, `a dead leader blocks failover for up to ${formatDuration(duration)}`);
  }

  const facts = [
    holder ? `held by ${holder}${where}` : 'not held',
    renewAge === undefined ? 'never renewed' : `renewed ${formatDuration(renewAge)} ago`,
    `leaseDurationSeconds ${duration ?? '?'}`,
    plural(spec.leaseTransitions ?? 0, 'transition'),
  ].join(', ');
  problems.sort((a, b) => bySeverityDesc(a.state, b.state));
  const state = worst(...problems.map((p) => p.state));
  return { state, problems, line: `${id}: ${facts}` };
}

export default defineCheck<Options, Data>({
  name: 'leases',
  title: 'LEASES',
  description:
    'Leader-election Leases of the control plane (kube-scheduler, kube-controller-manager in kube-system): who holds ' +
    'each, on which node, how long ago it was renewed. CRITICAL when a lease has expired (renewed longer ago than ' +
    'leaseDurationSeconds: no working leader), has no holder, or its holder\'s node is NotReady, Unknown or not a node ' +
    'of the cluster; WARNING when the holder\'s node is cordoned, or leaseDurationSeconds exceeds --max-lease-duration ' +
    '(a long lease keeps a dead leader in charge that long). A missing Lease is WARNING (leader election may be off) ' +
    'for the default leases and CRITICAL for a lease named with --lease. Holder identities that are not ' +
    '"<node>_<uuid>" are reported as they are and their node is not checked. ' +
    'How this relates to check_k8s_scheduler_stall: a fresh lease on a Ready node says the leader is alive, not that ' +
    'it works. In the incident the scheduler on k8s02 kept renewing its lease while its informers were stalled, so ' +
    'this check only warns (leaseDurationSeconds 60 > 20); check_k8s_scheduler_stall sees the pods it leaves Pending. ' +
    'Run both.',
  thresholds: { describe: 'seconds since each lease was renewed (expiry past leaseDurationSeconds is CRITICAL anyway)' },
  options: {
    namespace: { type: 'string', default: 'kube-system', describe: 'Namespace of the Leases' },
    lease: {
      type: 'string',
      describe: 'Leases to judge instead of kube-scheduler and kube-controller-manager, comma-separated: --lease a,b (a missing one is then CRITICAL)',
    },
    'max-lease-duration': {
      type: 'string', default: '20s',
      describe: 'WARNING when leaseDurationSeconds is longer than this (0: do not judge)',
    },
  },
  examples: [
    ['$0 --kubeconfig /etc/nagios/k8s-nrpe.kubeconfig', 'the scheduler and controller-manager leases'],
    ['$0 --lease kube-scheduler --max-lease-duration 30s -c 30', 'only the scheduler; CRITICAL when not renewed for 30s'],
  ],

  parse(a) {
    const leases = parseLeases(a.lease);
    const maxLeaseDuration = parseDuration(String(a['max-lease-duration']), '--max-lease-duration');
    return {
      namespace: optionalString(a.namespace, '--namespace')!,
      leases: leases ?? DEFAULT_LEASES,
      explicit: leases !== undefined,
      maxLeaseDuration,
    };
  },

  async gather(ctx, o) {
    const kube = await ctx.kube();
    // Every lease at once; each holder node once, however many leases it holds.
    const nodes = new Map<string, Promise<Node | undefined>>();
    const nodeOf = (name: string) => {
      let p = nodes.get(name);
      if (!p) nodes.set(name, (p = kube.getOptional<Node>(RESOURCES.nodes, name)));
      return p;
    };
    const leases = await Promise.all(o.leases.map(async (name): Promise<LeaseData> => {
      const lease = await kube.getOptional<Lease>(RESOURCES.leases, name, o.namespace);
      // Node names are lower case; a hostname need not be.
      const nodeName = strictHolderNode(lease?.spec?.holderIdentity)?.toLowerCase();
      return { name, lease, nodeName, node: nodeName ? await nodeOf(nodeName) : undefined };
    }));
    return { leases };
  },

  evaluate(d, o, now) {
    const out = new OutcomeBuilder();
    const verdicts = d.leases.map((l) => ({ l, v: judgeLease(l, o, now) }));
    // One line per problem (judged), then one line of facts per lease (context).
    for (const { v } of verdicts) for (const p of v.problems) out.add(p.state, p.text);
    for (const { v } of verdicts) out.info(v.line);

    const durationRange = o.maxLeaseDuration > 0 ? parseRange(String(o.maxLeaseDuration)) : undefined;
    for (const { l } of verdicts) {
      const spec = l.lease?.spec;
      const renewAge = l.lease ? ageSeconds(spec?.renewTime, now) : undefined;
      out.metric({ label: `${l.name}_renew_age`, value: renewAge === undefined ? undefined : Math.round(renewAge * 10) / 10, uom: 's', warn: o.warning, crit: o.critical, min: 0 })
        .metric({ label: `${l.name}_duration`, value: spec?.leaseDurationSeconds, uom: 's', warn: durationRange, min: 0 })
        .metric({ label: `${l.name}_transitions`, value: spec?.leaseTransitions ?? (l.lease ? 0 : undefined), uom: 'c', min: 0 });
    }

    const bad = verdicts.filter(({ v }) => v.state !== State.OK).sort((a, b) => bySeverityDesc(a.v.state, b.v.state));
    let summary: string;
    if (bad.length) {
      const holderOf = (l: LeaseData) => (l.lease?.spec?.holderIdentity ? ` (${l.nodeName ?? l.lease.spec.holderIdentity})` : '');
      summary = bad.map(({ l, v }) => `${l.name}${holderOf(l)}: ${v.problems.map((p) => p.short).join(', ')}`).join('; ');
    } else {
      summary = verdicts.map(({ l }) => {
        const s = l.lease?.spec;
        const age = ageSeconds(s?.renewTime, now);
        return `${l.name} held by ${l.nodeName ?? s?.holderIdentity}, renewed ${age === undefined ? '?' : formatDuration(age)} ago`;
      }).join('; ') || 'no leases to judge';
    }
    return out.build(summary);
  },
});
