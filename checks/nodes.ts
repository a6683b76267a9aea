import { RESOURCES } from '../lib/kube/resources.js';
import { compactEvent } from '../lib/kube/events.js';
import { DEFAULT_NODE_LEASE_SECONDS, leaseFreshness, NODE_LEASE_NAMESPACE } from '../lib/kube/node-lease.js';
import { compactNode, nodeReadiness, versionSkew } from '../lib/kube/nodes.js';
import { condition, refOf } from '../lib/kube/objects.js';
import { joinedMoments, readyChanges, returnMoments, togetherGroups } from '../lib/kube/reboots.js';
import { ageSeconds, parseTime } from '../lib/kube/time.js';
import type { KubeEvent, Lease, Node } from '../lib/kube/types.js';
import { defineCheck, opt } from '../lib/plugin/check.js';
import { declareMetrics, percent, range, stateOf } from '../lib/plugin/context.js';
import { formatDuration } from '../lib/plugin/duration.js';
import { UsageError } from '../lib/plugin/errors.js';
import { parseRange, type Range } from '../lib/plugin/range.js';
import { judge, Report } from '../lib/plugin/report.js';
import { plural } from '../lib/plugin/result.js';
import { sanitize } from '../lib/plugin/sanitize.js';
import { State } from '../lib/plugin/state.js';

/**
 * The Node events this check reads (kubelet: pkg/kubelet/events; node
 * lifecycle controller: NodeNotReady). One server-side filtered list each.
 */
export const NODE_EVENT_REASONS = ['Rebooted', 'NodeNotReady', 'NodeReady'] as const;

/** Conditions other than Ready that say something is wrong when True. */
const PRESSURE = ['MemoryPressure', 'DiskPressure', 'PIDPressure'] as const;

/** The conditions the kubelet and the node controllers own; any other type comes from an agent such as node-problem-detector. */
export const STANDARD_CONDITIONS: ReadonlySet<string> = new Set(['Ready', ...PRESSURE, 'NetworkUnavailable']);

/** A threshold on a number of nodes, or on their share with a '%' suffix ('1', '50%', '2:'). */
export interface NodeThreshold {
  range: Range;
  percent: boolean;
  text: string;
}

export function parseNodeThreshold(s: string, flag: string): NodeThreshold {
  const percent = s.trim().endsWith('%');
  try {
    return { range: parseRange(percent ? s.trim().slice(0, -1) : s, flag), percent, text: s.trim() };
  } catch (e) {
    throw new UsageError(`${flag}: ${(e as Error).message} (a count range like 1 or 2:, or a percentage like 50%)`);
  }
}

/** Does `count` of `total` nodes alert on this threshold? */
function alertsOn(t: NodeThreshold | undefined, count: number, total: number): boolean {
  if (!t) return false;
  return t.range.alerts(t.percent ? (total ? (100 * count) / total : 0) : count);
}

export interface NodesData {
  nodes: Node[];
  /** kube-node-lease Leases, by name (= node name). */
  leases: Lease[];
  /** Node events with a reason in NODE_EVENT_REASONS (compacted). */
  events: KubeEvent[];
}

export interface NodesOptions {
  warning?: Range;
  critical?: Range;
  /** -w/-c judge the NotReady share (percent) instead of the count. */
  percent: boolean;
  window: number;
  rebootWindow: number;
  rebootWarning?: NodeThreshold;
  rebootCritical?: NodeThreshold;
  flapWindow: number;
  flapWarning?: Range;
  flapCritical?: Range;
  cordonedState?: 'ok' | 'warning' | 'critical';
  /** State for a True condition of a non-standard type (node-problem-detector's KernelDeadlock...). */
  problemConditionState?: 'ok' | 'warning' | 'critical';
  /** Condition types never judged (exact, case-sensitive, as the API spells them). */
  ignoreCondition?: readonly string[];
}

const STATE_OF = { ok: State.OK, warning: State.WARNING, critical: State.CRITICAL } as const;
const name = (n: Node) => sanitize(n.metadata?.name ?? '?', 80);
const ago = (s: number | undefined) => (s === undefined ? 'at an unknown time' : `${formatDuration(s)} ago`);

export function evaluateNodes(d: NodesData, o: NodesOptions, now: number) {
  const r = new Report();
  const total = d.nodes.length;
  const leases = new Map(d.leases.map((l) => [l.metadata?.name ?? '', l]));

  // Readiness: the quantity -w/-c judge.
  const readiness = r.section('Readiness');
  const notReady: { n: Node; line: string }[] = [];
  for (const n of d.nodes) {
    const readiness = nodeReadiness(n);
    if (readiness === 'Ready') continue;
    const c = condition(n.status?.conditions, 'Ready');
    const since = ageSeconds(c?.lastTransitionTime, now);
    const why = c ? [c.reason && sanitize(c.reason, 60), c.message && sanitize(c.message, 160)].filter(Boolean).join(': ') : 'no Ready condition (kubelet never posted status)';
    const label = readiness === 'Unknown' ? 'NotReady (Unknown)' : 'NotReady';
    notReady.push({ n, line: `${name(n)} ${label} for ${since === undefined ? '?' : formatDuration(since)}${why ? `: ${why}` : ''}` });
  }
  const pct = total ? Math.round((1000 * notReady.length) / total) / 10 : 0;
  // -w/-c judge one of the two, by --percent (their contexts).
  const byCount = perf.judge(readiness, 'notready_nodes', notReady.length, o, { min: 0, max: total });
  const byPct = perf.judge(readiness, 'notready_percent', pct, o, { min: 0, max: 100 });
  const ready = o.percent ? byPct : byCount;
  if (notReady.length) {
    const first = notReady[0]!.line;
    const short = notReady.length === 1 ? first.split(': ')[0]! : `${notReady.length} of ${total} nodes NotReady (${notReady.map((x) => name(x.n)).join(', ')})`;
    readiness.action(ready.state, `on ${notReady.map((x) => name(x.n)).join(', ')}: sudo snap services microk8s and journalctl -u snap.microk8s.daemon-kubelite --since -15m (is the kubelet running, can it reach the API?); ` +
      `kubectl describe node ${name(notReady[0]!.n)} shows the condition's message; check again once it is Ready`);
    if (ready.state === State.OK) for (const x of notReady) readiness.info(x.line);
    else if (notReady.length === 1) readiness.problem(ready.state, short, `${first} (${ready.hint})`);
    else {
      readiness.problem(ready.state, short, `${short} (${ready.hint})`);
      for (const x of notReady) readiness.add(ready.state, x.line);
    }
  }

  // Heartbeat Leases: a kubelet that stopped renewing while the Node still says Ready.
  const heartbeats = r.section('Heartbeats');
  let stale = 0;
  let oldest: number | undefined;
  for (const n of d.nodes) {
    const lease = leases.get(n.metadata?.name ?? '');
    const isReady = nodeReadiness(n) === 'Ready';
    if (!lease) {
      if (isReady) heartbeats.action(State.WARNING, `see whether ${name(n)}'s kubelet runs with node leases (kubectl get lease -n ${NODE_LEASE_NAMESPACE} ${name(n)}); restarting it recreates the Lease (on ${name(n)}: sudo snap restart microk8s.daemon-kubelite)`);
      if (isReady) heartbeats.problem(State.WARNING, `${name(n)}: no heartbeat Lease`, `${name(n)}: no Lease ${refOf(NODE_LEASE_NAMESPACE, name(n))}: the kubelet's heartbeat cannot be judged (deleted, or a kubelet without node leases)`);
      continue;
    }
    const f = leaseFreshness(lease, now);
    if (f.renewAge !== undefined) oldest = Math.max(oldest ?? 0, f.renewAge);
    if (!f.expired) continue;
    stale++;
    const facts = `renewed ${ago(f.renewAge)}, leaseDurationSeconds ${f.duration}`;
    if (isReady) {
      heartbeats.action(State.CRITICAL, `the kubelet on ${name(n)} stopped: on ${name(n)} run sudo snap restart microk8s.daemon-kubelite (journalctl -u snap.microk8s.daemon-kubelite says why); ` +
        `the Node still says Ready, so also run check_k8s_leases (the controller-manager should have marked it Unknown); check again`);
      heartbeats.problem(State.CRITICAL, `${name(n)}: kubelet stopped renewing its Lease (${facts}) but the Node says Ready`,
        `${name(n)}: kubelet stopped renewing its Lease (${facts}) while the Node still says Ready: the node lifecycle controller has not marked it Unknown (is kube-controller-manager working? see check_k8s_leases)`);
    } else heartbeats.info(`${name(n)}: heartbeat Lease ${facts}`);
  }

  // Conditions that are True when something is wrong (only from a kubelet that still reports).
  const conditions = r.section('Conditions');
  let pressured = 0;
  for (const n of d.nodes) {
    if (nodeReadiness(n) === 'Unknown') continue;
    let any = false;
    for (const type of [...PRESSURE, 'NetworkUnavailable']) {
      const c = condition(n.status?.conditions, type);
      if (c?.status !== 'True') continue;
      any = true;
      const state = type === 'NetworkUnavailable' ? State.CRITICAL : State.WARNING;
      const since = ageSeconds(c.lastTransitionTime, now);
      conditions.action(state, type === 'NetworkUnavailable'
        ? `${name(n)} has no pod network: on ${name(n)} kubectl -n kube-system get pods -o wide --field-selector spec.nodeName=${name(n)} (is calico-node Ready?) and check_k8s_calico_nat there`
        : `free ${type === 'DiskPressure' ? 'disk' : type === 'MemoryPressure' ? 'memory' : 'process IDs'} on ${name(n)} (kubectl describe node ${name(n)}: the kubelet evicts pods until it is relieved); check again`);
      conditions.problem(state, `${name(n)} ${type}`, `${name(n)} ${type} for ${since === undefined ? '?' : formatDuration(since)}: ${sanitize(c.reason ?? '', 60)}${c.message ? `: ${sanitize(c.message, 160)}` : ''}`);
    }
    if (any) pressured++;
  }

  // Conditions of other types (node-problem-detector and the like): True means a problem.
  let problemConditions = 0;
  const problemState = STATE_OF[o.problemConditionState ?? 'warning'];
  const ignored = new Set(o.ignoreCondition ?? []);
  for (const n of d.nodes) {
    if (nodeReadiness(n) === 'Unknown') continue;
    for (const c of n.status?.conditions ?? []) {
      if (!c.type || STANDARD_CONDITIONS.has(c.type) || ignored.has(c.type) || c.status !== 'True') continue;
      problemConditions++;
      const type = sanitize(c.type, 60);
      const since = ageSeconds(c.lastTransitionTime, now);
      const text = `${name(n)} ${type} for ${since === undefined ? '?' : formatDuration(since)}: ${sanitize(c.reason ?? '', 60)}${c.message ? `: ${sanitize(c.message, 160)}` : ''}`;
      if (problemState === State.OK) conditions.info(text);
      else {
        conditions.action(problemState, `read what ${type} means on ${name(n)} (kubectl describe node ${name(n)}; node-problem-detector's journal there) and fix the host; ` +
          `the condition clears when its detector sees it healthy; --ignore-condition ${type} if it is not yours to act on`);
        conditions.problem(problemState, `${name(n)} ${type}`, `${text} (--problem-condition-state ${o.problemConditionState ?? 'warning'}; --ignore-condition ${type} to silence)`);
      }
    }
  }

  const cordon = r.section('Cordoned');
  const cordoned = d.nodes.filter((n) => n.spec?.unschedulable);
  if (cordoned.length) {
    const state = STATE_OF[o.cordonedState ?? 'warning'];
    const names = cordoned.map(name).join(', ');
    if (state === State.OK) cordon.info(`cordoned: ${names}`);
    else cordon.action(state, `if the maintenance on ${names} is over: kubectl uncordon ${cordoned.map(name).join(' ')}; check again`);
    if (state !== State.OK) cordon.problem(state, `${plural(cordoned.length, 'node')} cordoned (${names})`, `cordoned (spec.unschedulable): ${names}; nothing new is scheduled there (--cordoned-state ${o.cordonedState ?? 'warning'})`);
  }

  const flaps = r.section('Flapping');
  const flapSince = now - o.flapWindow * 1000;
  let maxChanges = 0;
  const flapping: { n: Node; changes: number }[] = [];
  for (const n of d.nodes) {
    const t = parseTime(condition(n.status?.conditions, 'Ready')?.lastTransitionTime);
    const changes = readyChanges(n.metadata?.name ?? '', d.events, t, flapSince);
    maxChanges = Math.max(maxChanges, changes);
    if (changes) flapping.push({ n, changes });
  }
  const flap = perf.options('ready_changes_max', o);
  for (const f of flapping) {
    const j = judge(f.changes, flap.warn, flap.crit);
    const text = `${name(f.n)}: Ready changed ${plural(f.changes, 'time')} in ${formatDuration(o.flapWindow)}`;
    flaps.action(j.state, `find why ${name(f.n)} goes NotReady and back: journalctl -u snap.microk8s.daemon-kubelite on ${name(f.n)} around the changes (kubectl get events --field-selector involvedObject.name=${name(f.n)}), its network to the API and its load`);
    if (j.state !== State.OK) flaps.problem(j.state, `${name(f.n)} readiness flapping (${f.changes} changes in ${formatDuration(o.flapWindow)})`, `${text} (${j.hint})`);
  }
  // The largest count alerts exactly when some node does: perfdata with the ranges that judged each node.
  perf.judge(flaps, 'ready_changes_max', maxChanges, o, { min: 0 });

  // Nodes that came back together inside --window. While one of them is
  // still down that is an outage (the thresholds' state); once all are Ready
  // with fresh heartbeats it is history worth a look, not a page: WARNING.
  const reboots = r.section('Reboots');
  const since = now - o.window * 1000;
  const moments = returnMoments(d.nodes, d.events, since);
  const groups = togetherGroups(moments, o.rebootWindow * 1000);
  const largest = groups[0]?.length ?? 0;
  // Recorded with the count ranges (a percentage cannot be written as perfdata thresholds); judged below.
  perf.judge(reboots, 'rebooted_together', largest, o, { min: 0, max: total });
  const up = (node: string) => {
    const n = d.nodes.find((x) => x.metadata?.name === node);
    const lease = leases.get(node);
    return nodeReadiness(n) === 'Ready' && !(lease && leaseFreshness(lease, now).expired);
  };
  for (const g of groups) {
    const how = moments.filter((m) => g.some((x) => x.node === m.node));
    const events = how.filter((m) => m.how === 'Rebooted event').length;
    const evidence = events === how.length ? 'Rebooted events' : events ? 'Rebooted events and Ready transitions' : 'Ready again';
    const spread = (g[g.length - 1]!.at - g[0]!.at) / 1000;
    const names = g.map((m) => sanitize(m.node, 80)).join(', ');
    const allUp = g.every((m) => up(m.node));
    const short = `${g.length} nodes rebooted together (${evidence} within ${formatDuration(Math.max(spread, 1))} of each other, ${ago((now - g[g.length - 1]!.at) / 1000)}: ${names})` +
      (allUp ? ', all Ready again: verify with k8s-nrpe triage' : '');
    const judged = alertsOn(o.rebootCritical, g.length, total) ? State.CRITICAL : alertsOn(o.rebootWarning, g.length, total) ? State.WARNING : State.OK;
    const state = allUp && judged === State.CRITICAL ? State.WARNING : judged;
    const text = allUp
      ? `${short} on each of them: the incident's failures hide behind Ready nodes (scheduler not scheduling, Service NAT rules or calico-node missing, ` +
        'k8s-dqlite errors); a rolling reboot brings nodes back one at a time (docs/rolling-reboot.md)'
      : `${short}: not all of them are back (Ready with a fresh heartbeat); a rolling reboot brings nodes back one at a time (docs/rolling-reboot.md)`;
    reboots.action(state, allUp
      ? `nodes that rebooted together leave what the incident left: run sudo k8s-nrpe triage on each of ${names} (Service NAT, sandboxes, scheduler, stuck pods); reboot one node at a time next time (docs/rolling-reboot.md)`
      : `bring the nodes that are not back up first (kubectl get nodes; on each: sudo snap restart microk8s), then run sudo k8s-nrpe triage on each of ${names}`);
    if (state !== State.OK) reboots.problem(state, short, text);
    else reboots.info(short);
    for (const m of how) {
      const line = m.how === 'Rebooted event' ? `${sanitize(m.node, 80)}: Rebooted event ${ago((now - m.at) / 1000)}` : `${sanitize(m.node, 80)}: Ready again since ${ago((now - m.at) / 1000)} (no Rebooted event left: events expire)`;
      reboots.add(state === State.OK ? undefined : state, line);
    }
  }
  const joined = joinedMoments(d.nodes, d.events, since);
  if (joined.length) {
    const newest = Math.max(...joined.map((m) => m.at));
    reboots.info(`${plural(joined.length, 'node')} joined the cluster in ${formatDuration(o.window)}, Ready for the first time (not a reboot), the last ${ago((now - newest) / 1000)}: ` +
      joined.map((m) => sanitize(m.node, 80)).join(', '));
  }

  // Context.
  const skew = versionSkew(d.nodes);
  if (skew) r.info(`kubelet versions differ: ${skew}`);
  perf.metric(r, 'nodes', total, o, { min: 0 });
  perf.metric(r, 'cordoned_nodes', cordoned.length, o, { min: 0, max: total });
  perf.metric(r, 'pressure_nodes', pressured, o, { min: 0, max: total });
  perf.metric(r, 'problem_conditions', problemConditions, o, { min: 0 });
  perf.metric(r, 'stale_leases', stale, o, { min: 0, max: total });
  perf.metric(r, 'lease_age_max', oldest === undefined ? undefined : Math.round(oldest * 10) / 10, o, { min: 0 });

  if (!total) return r.done('no nodes match');
  const version = d.nodes[0]?.status?.nodeInfo?.kubeletVersion;
  const ok = `${plural(total, 'node')} Ready, heartbeats fresh${version && !skew ? `, kubelet ${sanitize(version, 40)}` : ''}`;
  return r.done(ok);
}

const perf = declareMetrics({
  notready_nodes: { describe: 'Nodes whose Ready condition is False or Unknown', judge: range('warning', 'critical', { unless: 'percent' }) },
  notready_percent: { describe: 'The same as a share of the nodes', uom: '%', judge: percent('warning', 'critical', 'the nodes', { when: 'percent' }) },
  ready_changes_max: { describe: 'Most Ready changes of one node in --flap-window', judge: range('flapWarning', 'flapCritical') },
  rebooted_together: { describe: 'Nodes in the largest group that came back within --reboot-window, inside --window', judge: range('rebootWarning', 'rebootCritical', { note: 'a value with % judges the share of the nodes, and is not written here' }) },
  nodes: { describe: 'Nodes judged' },
  cordoned_nodes: { describe: 'Nodes with spec.unschedulable' },
  pressure_nodes: { describe: 'Nodes with a pressure condition or NetworkUnavailable True' },
  problem_conditions: { describe: 'True node conditions of non-standard types (node-problem-detector), not ignored', judge: stateOf('problemConditionState') },
  stale_leases: { describe: 'kube-node-lease Leases renewed longer ago than their leaseDurationSeconds' },
  lease_age_max: { describe: 'Seconds since the least recently renewed node Lease', uom: 's' },
});

export default defineCheck({
  name: 'nodes',
  title: 'NODES',
  scope: 'cluster',
  nrpe: {
    args: '-t 20',
    about:
      'Nodes: NotReady (any is CRITICAL), pressure, cordoned, kubelet heartbeat Leases in kube-node-lease,\n' +
      'readiness flapping, and nodes that rebooted together.',
  },
  summary: 'Node readiness, pressure, cordons, heartbeat Leases, flapping and nodes that rebooted together',
  description:
    'Every node (or those matching --selector): the Ready condition (False or Unknown, and since when), the ' +
    'MemoryPressure, DiskPressure and PIDPressure conditions (WARNING) and NetworkUnavailable (CRITICAL), cordoned ' +
    'nodes (--cordoned-state), any other condition type that is True (node-problem-detector\'s KernelDeadlock, ' +
    'ReadonlyFilesystem, FrequentContainerdRestart...: --problem-condition-state, WARNING by default; --ignore-condition), ' +
    'and the heartbeat Lease each kubelet renews in kube-node-lease: a Lease renewed longer ' +
    `ago than its leaseDurationSeconds (${DEFAULT_NODE_LEASE_SECONDS}s by default) while the Node still says Ready is ` +
    'CRITICAL (the kubelet stopped, and the node lifecycle controller has not noticed).\n\n' +
    'Readiness flapping counts Ready changes in --flap-window from NodeReady/NodeNotReady events and the Ready ' +
    'condition\'s lastTransitionTime. Nodes that came back together: two or more nodes whose Rebooted event (or, once ' +
    'the events have expired, whose Ready condition turned True) lie within --reboot-window of each other, inside ' +
    '--window; judged by --reboot-warning/--reboot-critical (a count, or a share of the nodes with a % suffix). ' +
    'Events expire (microk8s: --event-ttl=5m), so flapping older than the TTL is seen only as the last transition.\n\n' +
    '-w/-c judge the number of NotReady nodes, or their percentage with --percent. Kubelet version skew between nodes ' +
    'is shown as information.',
  thresholds: { critical: '0', describe: 'NotReady nodes (a count; a percentage of the nodes with --percent)' },
  selection: { what: 'nodes', name: true, namespaced: false },
  options: {
    selector: opt.labelSelector({ describe: 'Judge only the nodes with these labels (e.g. node.kubernetes.io/microk8s-controlplane)' }),
    percent: opt.flag({ describe: '-w/-c judge the share of NotReady nodes in percent, not their number' }),
    window: opt.duration({ default: '1h', min: 1, describe: 'How recent a reboot must be to be judged' }),
    'reboot-window': opt.duration({ default: '2m', min: 1, describe: 'Nodes that came back within this of each other rebooted together' }),
    'reboot-warning': opt.custom({ default: '1', placeholder: 'RANGE[%]', describe: 'Nodes that rebooted together: a count range, or a percentage of the nodes with %', parse: parseNodeThreshold }),
    'reboot-critical': opt.custom({ default: '50%', placeholder: 'RANGE[%]', describe: 'As --reboot-warning; the default: more than half the nodes (a quorum of the control plane)', parse: parseNodeThreshold }),
    'flap-window': opt.duration({ default: '15m', min: 1, describe: 'Window for counting Ready changes (kubernetes-mixin KubeNodeReadinessFlapping: 15m)' }),
    'flap-warning': opt.range({ default: '2', describe: 'Ready changes of one node in --flap-window (default: more than 2)' }),
    'flap-critical': opt.range({ describe: 'Ready changes of one node in --flap-window' }),
    'cordoned-state': opt.choice(['ok', 'warning', 'critical'] as const, { default: 'warning', describe: 'State for a cordoned node' }),
    'problem-condition-state': opt.choice(['ok', 'warning', 'critical'] as const, { default: 'warning', describe: 'State for a True node condition of a type other than the five standard ones (node-problem-detector: KernelDeadlock, ReadonlyFilesystem, FrequentContainerdRestart...)' }),
    'ignore-condition': opt.list({ placeholder: 'TYPE', describe: 'A node condition type never judged (repeatable; e.g. a custom condition whose True means healthy)' }),
  },
  perfdata: perf.docs,
  examples: [
    ['$0 --kubeconfig /etc/nagios/k8s-nrpe.kubeconfig', 'every node; CRITICAL when one is NotReady or more than half rebooted together'],
    ['$0 --percent -w 10 -c 30 --cordoned-state ok', 'a large cluster: judge the NotReady share, cordons are routine'],
  ],

  async gather(ctx, o) {
    const kube = await ctx.kube();
    // Three small lists in parallel; the events are filtered by the server (kind and reason).
    const [nodes, leases, ...events] = await Promise.all([
      kube.list<Node>(RESOURCES.nodes, { labelSelector: o.selector, selected: true, project: compactNode }),
      kube.list<Lease>(RESOURCES.leases, { namespace: NODE_LEASE_NAMESPACE, project: (l) => ({ metadata: { name: l.metadata?.name }, spec: l.spec }) }),
      ...NODE_EVENT_REASONS.map((reason) =>
        kube.list<KubeEvent>(RESOURCES.events, { fieldSelector: `involvedObject.kind=Node,reason=${reason}`, project: compactEvent })),
    ]);
    return { nodes, leases, events: events.flat() } satisfies NodesData;
  },

  evaluate: evaluateNodes,
});
