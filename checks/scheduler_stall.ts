import { RESOURCES } from '../lib/kube/client.js';
import { compactEvent, eventLastSeen, occurrencesSince } from '../lib/kube/events.js';
import { holderNode, nodeReadiness } from '../lib/kube/nodes.js';
import { ageSeconds } from '../lib/kube/time.js';
import type { KubeEvent, Lease, Node, Pod } from '../lib/kube/types.js';
import { defineCheck, opt } from '../lib/plugin/check.js';
import { formatDuration } from '../lib/plugin/duration.js';
import { Report } from '../lib/plugin/report.js';
import { plural } from '../lib/plugin/result.js';
import type { State } from '../lib/plugin/state.js';

export interface Data {
  pods: Pod[];
  failedScheduling: KubeEvent[];
  scheduled: KubeEvent[];
  lease?: Lease;
  holderNode?: Node;
}

const key = (ns?: string, name?: string) => `${ns ?? ''}/${name ?? ''}`;

function isGated(p: Pod): boolean {
  if (p.spec?.schedulingGates?.length) return true;
  return p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated') ?? false;
}

/** Events of one scheduler: reportingComponent (events.k8s.io) or source.component (core/v1). */
function fromScheduler(e: KubeEvent, scheduler: string): boolean {
  const who = e.reportingComponent || e.source?.component;
  return !who || who === scheduler;
}

export default defineCheck({
  name: 'scheduler_stall',
  title: 'SCHEDULER STALL',
  scope: 'cluster',
  summary: 'Pods left unscheduled while the scheduler holding the Lease says nothing',
  description:
    'Pods left unscheduled while the scheduler says nothing: Pending pods with no node and no FailedScheduling event ' +
    'mean the scheduler holding the Lease is not working its queue (the informer-stall signature). Pods that do get ' +
    'FailedScheduling events are ordinary scheduling pressure.',
  thresholds: {
    describe: 'number of stalled pods (unscheduled, older than --min-age, no FailedScheduling event in --window)',
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
    'pressure-warning': opt.range({ default: '0', describe: 'Warning range for pods failing to schedule (with FailedScheduling events)' }),
    'pressure-critical': opt.range({ describe: 'Critical range for pods failing to schedule' }),
    'lease-namespace': opt.namespace({ default: 'kube-system', describe: 'Namespace of the scheduler Lease' }),
    'lease-name': opt.name({ default: 'kube-scheduler', describe: 'Name of the scheduler Lease' }),
  },
  examples: [
    ['$0 --kubeconfig /etc/nagios/k8s-nrpe.kubeconfig', 'the NRPE default: CRITICAL on any stalled pod'],
    ['$0 -c 5 --min-age 10m --pressure-warning 10', 'tolerate a few, warn only on more than 10 unschedulable pods'],
  ],

  async gather(ctx, o): Promise<Data> {
    const kube = await ctx.kube();
    // Cost follows what is Pending, not the cluster: the apiserver filters, we page.
    const leaseAndNode = kube.getOptional<Lease>(RESOURCES.leases, o.leaseName, o.leaseNamespace).then(async (lease) => {
      const node = holderNode(lease?.spec?.holderIdentity);
      return { lease, holderNode: node ? await kube.getOptional<Node>(RESOURCES.nodes, node) : undefined };
    });
    const [pods, failedScheduling, scheduled, ln] = await Promise.all([
      kube.list<Pod>(RESOURCES.pods, { fieldSelector: 'status.phase=Pending,spec.nodeName=' }),
      kube.list<KubeEvent>(RESOURCES.events, { fieldSelector: 'involvedObject.kind=Pod,reason=FailedScheduling', project: compactEvent }),
      kube.list<KubeEvent>(RESOURCES.events, { fieldSelector: 'involvedObject.kind=Pod,reason=Scheduled', project: compactEvent }),
      leaseAndNode,
    ]);
    return { pods, failedScheduling, scheduled, ...ln };
  },

  evaluate(d, o, now) {
    const since = now - o.window * 1000;
    const seriesSince = since - o.seriesHeartbeat * 1000;
    const failed = d.failedScheduling.filter((e) => fromScheduler(e, o.schedulerName));

    // Latest FailedScheduling per pod, by uid when the event has one (a
    // recreated pod with the same name must not inherit old attempts).
    const latest = new Map<string, KubeEvent>();
    for (const e of failed) {
      const io = e.involvedObject ?? {};
      for (const k of [io.uid, key(io.namespace, io.name)]) {
        if (!k) continue;
        const prev = latest.get(k);
        if (!prev || (eventLastSeen(e) ?? 0) > (eventLastSeen(prev) ?? 0)) latest.set(k, e);
      }
    }
    const attemptOf = (p: Pod): KubeEvent | undefined => {
      const m = p.metadata ?? {};
      const e = (m.uid && latest.get(m.uid)) || latest.get(key(m.namespace, m.name));
      if (!e) return undefined;
      if (e.involvedObject?.uid && m.uid && e.involvedObject.uid !== m.uid) return undefined;
      const seen = eventLastSeen(e) ?? 0;
      return seen >= since || (e.series && seen >= seriesSince) ? e : undefined;
    };

    type Row = { pod: Pod; age: number; event?: KubeEvent };
    const stalled: Row[] = [];
    const failing: Row[] = [];
    let unscheduled = 0;
    let gated = 0;
    let otherScheduler = 0;
    let oldest = 0;
    for (const pod of d.pods) {
      if (pod.spec?.nodeName || (pod.status?.phase && pod.status.phase !== 'Pending') || pod.metadata?.deletionTimestamp) continue;
      if ((pod.spec?.schedulerName || 'default-scheduler') !== o.schedulerName) { otherScheduler++; continue; }
      if (isGated(pod)) { gated++; continue; }
      unscheduled++;
      const age = ageSeconds(pod.metadata?.creationTimestamp, now) ?? 0;
      oldest = Math.max(oldest, age);
      if (age < o.minAge) continue;
      const event = attemptOf(pod);
      (event ? failing : stalled).push({ pod, age, event });
    }
    stalled.sort((a, b) => b.age - a.age);
    failing.sort((a, b) => b.age - a.age);

    const failedInWindow = failed.reduce((n, e) => n + occurrencesSince(e, since), 0);
    const scheduledInWindow = d.scheduled.filter((e) => fromScheduler(e, o.schedulerName)).reduce((n, e) => n + occurrencesSince(e, since), 0);

    const r = new Report();
    const name = (p: Pod) => `${p.metadata?.namespace}/${p.metadata?.name}`;
    r.metric('unscheduled_pods', unscheduled, { min: 0 });
    const stall = r.judge('stalled_pods', stalled.length, { warn: o.warning, crit: o.critical, min: 0 });
    const pressure = r.judge('failing_pods', failing.length, { warn: o.pressureWarning, crit: o.pressureCritical, min: 0 });
    r.metric('gated_pods', gated, { min: 0 })
      .metric('oldest_pending_age', Math.round(oldest), { uom: 's', min: 0 })
      .metric('failed_scheduling_events', failedInWindow, { min: 0 })
      .metric('scheduled_events', scheduledInWindow, { min: 0 });

    // The Lease says who should be scheduling; report it whatever the verdict.
    const spec = d.lease?.spec;
    const renewAge = ageSeconds(spec?.renewTime, now);
    const duration = spec?.leaseDurationSeconds;
    const holder = holderNode(spec?.holderIdentity);
    let leaseText: string;
    if (!d.lease) leaseText = `no Lease ${o.leaseNamespace}/${o.leaseName} (leader election off?)`;
    else if (!holder) leaseText = `Lease ${o.leaseNamespace}/${o.leaseName} has no holder`;
    else {
      const readiness = nodeReadiness(d.holderNode);
      const expired = renewAge !== undefined && duration !== undefined && renewAge > duration;
      leaseText = `lease held by ${holder}${readiness === 'Ready' ? '' : ` (node ${readiness})`}, renewed ${renewAge === undefined ? '?' : formatDuration(renewAge)} ago${expired ? `, EXPIRED (duration ${duration}s)` : ''}`;
    }
    if (renewAge !== undefined) r.metric('lease_renew_age', Math.round(renewAge * 10) / 10, { uom: 's', min: 0 });

    // Each verdict names itself once in the status line; its first pod is its long-output line.
    const lines = (rows: Row[], state: State, short: string, line: (x: Row) => string) =>
      rows.forEach((x, i) => (i === 0 ? r.problem(state, short, line(x)) : r.add(state, line(x))));
    if (stalled.length) {
      lines(stalled, stall.state, `scheduler stall: ${plural(stalled.length, 'pod')} unscheduled for up to ${formatDuration(stalled[0]!.age)} ` +
        `with no FailedScheduling event in ${formatDuration(o.window)}; ${leaseText}`,
      (x) => `${name(x.pod)} unscheduled for ${formatDuration(x.age)}, no FailedScheduling event in ${formatDuration(o.window)}`);
    }
    if (failing.length) {
      lines(failing, pressure.state, `${plural(failing.length, 'pod')} cannot be scheduled (scheduler is working): ${mostCommon(failing.map((x) => x.event?.message))}`,
        (x) => `${name(x.pod)} unschedulable for ${formatDuration(x.age)}: ${x.event?.message ?? 'FailedScheduling'}`);
    }
    r.info(`${leaseText}; holder identity ${spec?.holderIdentity ?? 'none'}, leaseDurationSeconds ${duration ?? '?'}`);
    if (gated || otherScheduler) {
      r.info(`not judged: ${plural(gated, 'pod')} held by scheduling gates, ${plural(otherScheduler, 'pod')} for other schedulers`);
    }

    return r.done(unscheduled
      ? `${plural(unscheduled, 'unscheduled pod')} within limits (${stalled.length} stalled, ${failing.length} failing, oldest ${formatDuration(oldest)}); ${leaseText}`
      : `no unscheduled pods; ${scheduledInWindow} scheduled in ${formatDuration(o.window)}; ${leaseText}`);
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

