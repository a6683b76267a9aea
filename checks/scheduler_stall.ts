import { RESOURCES } from '../lib/kube/resources.js';
import { compactEvent, eventLastSeen, eventsInNamespaces, occurrencesSince } from '../lib/kube/events.js';
import { findHolderNode, holderNode, nodeReadiness } from '../lib/kube/nodes.js';
import { condition, objectRef, refOf } from '../lib/kube/objects.js';
import { ageSeconds, parseTime } from '../lib/kube/time.js';
import type { KubeEvent, Lease, Node, Pod } from '../lib/kube/types.js';
import { defineCheck, opt } from '../lib/plugin/check.js';
import { declareMetrics, range } from '../lib/plugin/context.js';
import { formatDuration } from '../lib/plugin/duration.js';
import { Report } from '../lib/plugin/report.js';
import { plural } from '../lib/plugin/result.js';
import type { State } from '../lib/plugin/state.js';

export interface Data {
  /** Pending pods without a node (the scheduler's queue as the API shows it). */
  pods: Pod[];
  /**
   * The newest FailedScheduling event of this scheduler about each waiting
   * pod (attemptsOf); fetched only when a pod of this scheduler waits.
   */
  failedScheduling: KubeEvent[];
  /** FailedScheduling occurrences in --window about the waiting pods, counted as the events streamed. */
  failedInWindow: number;
  lease?: Lease;
  /** The Node of the Lease holder (lib/kube/nodes.ts findHolderNode); undefined: none matches. */
  holderNode?: Node;
}


function isGated(p: Pod): boolean {
  return Boolean(p.spec?.schedulingGates?.length) || condition(p.status?.conditions, 'PodScheduled')?.reason === 'SchedulingGated';
}

/** Pods this check judges: Pending, unbound, not going away, for this scheduler. */
function waiting(p: Pod, scheduler: string): boolean {
  return !p.spec?.nodeName && (!p.status?.phase || p.status.phase === 'Pending') && !p.metadata?.deletionTimestamp &&
    (p.spec?.schedulerName || 'default-scheduler') === scheduler;
}

/** Events of one scheduler: reportingComponent (events.k8s.io) or source.component (core/v1). */
function fromScheduler(e: KubeEvent, scheduler: string): boolean {
  const who = e.reportingComponent || e.source?.component;
  return !who || who === scheduler;
}

/** The pods the events are asked about: waiting for this scheduler, not gated. */
const asked = (pods: Pod[], scheduler: string) => pods.filter((p) => waiting(p, scheduler) && !isGated(p));

/** What the events say so far: the newest event about each asked pod (by namespace/name) and the occurrences in the window. */
export interface Attempts {
  newest: Map<string, KubeEvent>;
  occurrences: number;
}

/**
 * FailedScheduling events reduced as they stream (KubeClient.fold): a mass-
 * unschedulable incident is 100,000 events about 2,000 pods, and the verdict
 * needs one per pod (the newest: is it recent, what does it say) and a count.
 * Only events of this scheduler about an asked pod count; a recreated pod
 * with the same name (another uid) must not inherit old attempts. The state
 * is one entry per asked pod, so it is bounded by the pod list.
 */
export function attemptsOf(pods: Pod[], scheduler: string, since: number) {
  const uids = new Map(asked(pods, scheduler).map((p) => [refOf(p.metadata?.namespace, p.metadata?.name), p.metadata?.uid]));
  return {
    init: (): Attempts => ({ newest: new Map(), occurrences: 0 }),
    step: (s: Attempts, e: KubeEvent): void => {
      const io = e.involvedObject;
      const k = refOf(io?.namespace, io?.name);
      if (!uids.has(k) || !fromScheduler(e, scheduler)) return;
      const uid = uids.get(k);
      if (io?.uid && uid && io.uid !== uid) return;
      s.occurrences += occurrencesSince(e, since);
      const held = s.newest.get(k);
      if (!held || (eventLastSeen(e) ?? 0) > (eventLastSeen(held) ?? 0)) s.newest.set(k, compactEvent(e));
    },
  };
}

/**
 * The scheduler's own mark of a failed attempt: PodScheduled=False with a
 * reason (Unschedulable, SchedulerError). It outlives the event (microk8s
 * keeps events 5 minutes), but it is written only when its reason or message
 * changes: a retry with the same result leaves lastTransitionTime and
 * lastProbeTime as they were (docs/checks/scheduler_stall.md).
 */
function attemptCondition(p: Pod) {
  const c = condition(p.status?.conditions, 'PodScheduled');
  return c && c.status === 'False' && c.reason && c.reason !== 'SchedulingGated' ? c : undefined;
}

const perf = declareMetrics({
  unscheduled_pods: { describe: 'Pending pods without a node for this scheduler, not gated (any age)' },
  stalled_pods: { describe: 'Of those, older than --min-age and never tried', judge: range('warning', 'critical') },
  failing_pods: { describe: 'Of those, older than --min-age, tried and not placed (PodScheduled=False or a recent FailedScheduling event)', judge: range('pressureWarning', 'pressureCritical') },
  gated_pods: { describe: 'Pending pods held by scheduling gates (not judged)' },
  oldest_pending_age: { describe: 'Age of the oldest unscheduled pod', uom: 's' },
  failed_scheduling_events: { describe: 'FailedScheduling occurrences in --window about the pods still waiting (0 when none waits: not asked)' },
  lease_renew_age: { describe: 'Seconds since the scheduler Lease was renewed', uom: 's' },
});

export default defineCheck({
  name: 'scheduler_stall',
  title: 'SCHEDULER STALL',
  scope: 'cluster',
  nrpe: {
    args: '-t 20',
    about:
      'Pods Pending with no node and no FailedScheduling event: the scheduler is not scheduling.',
  },
  summary: 'Pods the scheduler holding the Lease never tried to schedule',
  description:
    'Pending pods with no node that the scheduler has never tried: no PodScheduled condition (the scheduler sets it ' +
    'to False, reason Unschedulable, on every failed attempt) and no recent FailedScheduling event, older than ' +
    '--min-age. That is the signature of a scheduler that holds its Lease but stopped working its queue. Pods the ' +
    'scheduler marked Unschedulable are ordinary scheduling pressure (WARNING by default), however long ago their ' +
    'event expired: microk8s keeps events 5 minutes and the scheduler rewrites a repeating one every 30 minutes.\n\n' +
    'The cost follows what is Pending: events are asked for only when a pod waits, and only in the namespaces of the pods that wait.',
  thresholds: {
    describe: 'number of stalled pods (unscheduled, older than --min-age, never tried: no PodScheduled condition, no FailedScheduling event in --window)',
    critical: '0',
  },
  options: {
    'scheduler-name': opt.string({ placeholder: 'NAME', default: 'default-scheduler', describe: 'Only judge pods for this scheduler (spec.schedulerName)' }),
    window: opt.duration({ default: '10m', min: 1, describe: 'How far back a FailedScheduling event counts as a scheduling attempt' }),
    'min-age': opt.duration({ default: '5m', describe: 'Ignore pods younger than this (the scheduler gets time to try)' }),
    'series-heartbeat': opt.duration({
      default: '30m',
      describe: 'events.k8s.io reporters write repeats of an event series to the API only this often; a series event seen within --window plus this still counts',
    }),
    'pressure-warning': opt.range({ default: '0', describe: 'Warning range for pods the scheduler tried and could not place' }),
    'pressure-critical': opt.range({ describe: 'Critical range for pods the scheduler tried and could not place' }),
    'lease-namespace': opt.namespace({ default: 'kube-system', describe: 'Namespace of the scheduler Lease' }),
    'lease-name': opt.name({ default: 'kube-scheduler', describe: 'Name of the scheduler Lease' }),
  },
  perfdata: perf.docs,
  examples: [
    ['$0 --kubeconfig /etc/nagios/k8s-nrpe.kubeconfig', 'the NRPE default: CRITICAL on any stalled pod'],
    ['$0 -c 5 --min-age 10m --pressure-warning 10', 'tolerate a few, warn only on more than 10 unschedulable pods'],
  ],

  async gather(ctx, o): Promise<Data> {
    const kube = await ctx.kube();
    const leaseAndNode = kube.getOptional<Lease>(RESOURCES.leases, o.leaseName, o.leaseNamespace).then(async (lease) =>
      ({ lease, holderNode: await findHolderNode(kube, lease?.spec?.holderIdentity) }));
    // The Pending list carries each pod's PodScheduled condition: the verdict
    // needs nothing else. Events only as evidence, and only when a pod waits.
    // Events in the namespaces of the waiting pods only: a reboot's
    // FailedScheduling burst elsewhere is not read (lib/kube/events.ts).
    const podsAndEvents = kube.list<Pod>(RESOURCES.pods, { fieldSelector: 'status.phase=Pending,spec.nodeName=' }).then(async (pods) => {
      // Counted against the server's clock as the events arrive: evaluate's now is moments later.
      const { init, step } = attemptsOf(pods, o.schedulerName, kube.serverNow() - o.window * 1000);
      const namespaces = asked(pods, o.schedulerName).map((p) => p.metadata?.namespace);
      const { states, query } = await eventsInNamespaces(kube, namespaces, 'involvedObject.kind=Pod,reason=FailedScheduling', init, step);
      ctx.log(2, `scheduler_stall: FailedScheduling events asked ${query}`);
      return {
        pods,
        failedScheduling: states.flatMap((s) => [...s.newest.values()]),
        failedInWindow: states.reduce((n, s) => n + s.occurrences, 0),
      };
    });
    // Awaited together: a failure of either ends the check now, none is left unhandled.
    const [pe, ln] = await Promise.all([podsAndEvents, leaseAndNode]);
    return { ...pe, ...ln };
  },

  evaluate(d, o, now) {
    const since = now - o.window * 1000;
    const seriesSince = since - o.seriesHeartbeat * 1000;
    // The newest event about each waiting pod (attemptsOf matched scheduler and uid).
    const newest = new Map(d.failedScheduling.map((e) => [refOf(e.involvedObject?.namespace, e.involvedObject?.name), e]));
    const recent = (e: KubeEvent | undefined) => {
      const seen = e ? eventLastSeen(e) ?? 0 : 0;
      return e && (seen >= since || (e.series && seen >= seriesSince)) ? e : undefined;
    };

    type Row = { pod: Pod; age: number; why?: string; failedAt?: number };
    const stalled: Row[] = [];
    const failing: Row[] = [];
    let unscheduled = 0, gated = 0, otherScheduler = 0, oldest = 0;
    for (const pod of d.pods) {
      if (pod.spec?.nodeName || (pod.status?.phase && pod.status.phase !== 'Pending') || pod.metadata?.deletionTimestamp) continue;
      if (!waiting(pod, o.schedulerName)) { otherScheduler++; continue; }
      if (isGated(pod)) { gated++; continue; }
      unscheduled++;
      const age = ageSeconds(pod.metadata?.creationTimestamp, now) ?? 0;
      oldest = Math.max(oldest, age);
      if (age < o.minAge) continue;
      const cond = attemptCondition(pod);
      const event = recent(newest.get(refOf(pod.metadata?.namespace, pod.metadata?.name)));
      if (!cond && !event) { stalled.push({ pod, age }); continue; }
      // The condition first: it is the scheduler's current verdict on the pod, whatever the event's fate.
      const why = cond?.message || event?.message || cond?.reason || 'FailedScheduling';
      failing.push({ pod, age, why, failedAt: Math.max(parseTime(cond?.lastTransitionTime) ?? 0, (event && eventLastSeen(event)) ?? 0) || undefined });
    }
    stalled.sort((a, b) => b.age - a.age);
    failing.sort((a, b) => b.age - a.age);

    const r = new Report();
    perf.metric(r, 'unscheduled_pods', unscheduled, o, { min: 0 });
    const stall = perf.judge(r, 'stalled_pods', stalled.length, o, { min: 0 });
    const pressure = perf.judge(r, 'failing_pods', failing.length, o, { min: 0 });
    perf.metric(r, 'gated_pods', gated, o, { min: 0 });
    perf.metric(r, 'oldest_pending_age', Math.round(oldest), o, { min: 0 });
    perf.metric(r, 'failed_scheduling_events', d.failedInWindow, o, { min: 0 });

    // The Lease says who should be scheduling; report it whatever the verdict.
    const spec = d.lease?.spec;
    const renewAge = ageSeconds(spec?.renewTime, now);
    const duration = spec?.leaseDurationSeconds;
    const holder = d.holderNode?.metadata?.name ?? holderNode(spec?.holderIdentity);
    const expired = renewAge !== undefined && duration !== undefined && renewAge > duration;
    // A Lease with no holder (a scheduler that stopped releases it) or an expired one: no scheduler leads now.
    const leaderless = Boolean(d.lease) && (!holder || expired);
    let leaseText: string;
    if (!d.lease) leaseText = `no Lease ${refOf(o.leaseNamespace, o.leaseName)} (leader election off?)`;
    else if (!holder) leaseText = `Lease ${refOf(o.leaseNamespace, o.leaseName)} has no holder`;
    else {
      const readiness = nodeReadiness(d.holderNode);
      leaseText = `lease held by ${holder}${readiness === 'Ready' ? '' : ` (node ${readiness})`}, renewed ${renewAge === undefined ? '?' : formatDuration(renewAge)} ago${expired ? `, EXPIRED (duration ${duration}s)` : ''}`;
    }
    if (renewAge !== undefined) perf.metric(r, 'lease_renew_age', Math.round(renewAge * 10) / 10, o, { min: 0 });

    // Each verdict names itself once in the status line; its first pod is its long-output line.
    const lines = (rows: Row[], state: State, short: string, line: (x: Row) => string) =>
      rows.forEach((x, i) => (i === 0 ? r.problem(state, short, line(x)) : r.add(state, line(x))));
    // What is knowable of a scheduler that stopped after trying: no failure recorded since the oldest pod it never tried arrived.
    const newestFailure = Math.max(0, ...failing.map((x) => x.failedAt ?? 0));
    const stoppedHint = newestFailure && stalled.length && newestFailure < now - stalled[0]!.age * 1000
      ? `; its newest recorded failure is ${formatDuration((now - newestFailure) / 1000)} old` : '';
    if (stalled.length) {
      const pod = objectRef(stalled[0]!.pod.metadata);
      const verify = `then verify ${pod} gets PodScheduled (kubectl get pod -n ${stalled[0]!.pod.metadata?.namespace} ${stalled[0]!.pod.metadata?.name} -o wide shows a node) and run check_k8s_scheduler_stall again`;
      r.action(stall.state, holder
        ? `restart the scheduler on ${holder}, which holds Lease ${o.leaseNamespace}/${o.leaseName}: on ${holder} run sudo snap restart microk8s.daemon-kubelite ` +
          `(elsewhere: restart kube-scheduler there); another node's scheduler takes the Lease within ${duration ?? 60}s; ${verify}`
        : `no scheduler holds Lease ${o.leaseNamespace}/${o.leaseName}: on each control-plane node see whether the scheduler runs ` +
          `(sudo snap services microk8s; journalctl -u snap.microk8s.daemon-kubelite -g leader) and restart it (sudo snap restart microk8s.daemon-kubelite); ${verify}`);
      lines(stalled, stall.state, `scheduler stall: ${plural(stalled.length, 'pod')} unscheduled for up to ${formatDuration(stalled[0]!.age)} ` +
        `with no FailedScheduling event in ${formatDuration(o.window)}; ${leaseText}${stoppedHint}`,
      (x) => `${objectRef(x.pod.metadata)} unscheduled for ${formatDuration(x.age)}, never tried (no PodScheduled condition, no FailedScheduling event in ${formatDuration(o.window)})`);
    }
    if (failing.length) {
      const m = failing[0]!.pod.metadata;
      r.action(pressure.state, `the scheduler works but cannot place ${plural(failing.length, 'pod')}: read why in kubectl describe pod -n ${m?.namespace} ${m?.name} ` +
        '(its PodScheduled message: resources, taints, node selectors, volumes) and free or add capacity or fix the pod spec; then check again');
      // Tried and not placed says the scheduler worked once; whether it works now is the Lease's to say.
      const who = leaderless ? `tried, but no scheduler leads now: ${leaseText}` : 'scheduler is working';
      lines(failing, pressure.state, `${plural(failing.length, 'pod')} cannot be scheduled (${who}): ${mostCommon(failing.map((x) => x.why))}`,
        (x) => `${objectRef(x.pod.metadata)} unschedulable for ${formatDuration(x.age)}: ${x.why}`);
    }
    r.info(`${leaseText}; holder identity ${spec?.holderIdentity ?? 'none'}, leaseDurationSeconds ${duration ?? '?'}`);
    if (gated || otherScheduler) {
      r.info(`not judged: ${plural(gated, 'pod')} held by scheduling gates, ${plural(otherScheduler, 'pod')} for other schedulers`);
    }

    return r.done(unscheduled
      ? `${plural(unscheduled, 'unscheduled pod')} within limits (${stalled.length} stalled, ${failing.length} failing, oldest ${formatDuration(oldest)}); ${leaseText}`
      : `no unscheduled pods; ${leaseText}`);
  },
});

function mostCommon(messages: (string | undefined)[]): string {
  const counts = new Map<string, number>();
  for (const m of messages) if (m) counts.set(m, (counts.get(m) ?? 0) + 1);
  let best = 'FailedScheduling';
  let n = 0;
  for (const [m, c] of counts) if (c > n) { best = m; n = c; }
  return best;
}
