import type { KubeClient } from '../lib/kube/client.js';
import { RESOURCES } from '../lib/kube/resources.js';
import { KubeApiError } from '../lib/kube/errors.js';
import { selectorToString } from '../lib/kube/labels.js';
import { mapBounded } from '../lib/kube/parallel.js';
import { parseTime } from '../lib/kube/time.js';
import type { Deployment, Node, ObjectMeta, Pod } from '../lib/kube/types.js';
import {
  daemonPlacement, excludedByName, ignoredByAnnotation, IGNORE_ANNOTATION, judgeDaemonSet, judgeDeployment, judgeStatefulSet,
  type DaemonPlacement, type WorkloadKind, type WorkloadVerdict,
} from '../lib/kube/workloads.js';
import { defineCheck, opt } from '../lib/plugin/check.js';
import { declareMetrics, fixed, range } from '../lib/plugin/context.js';
import { Report } from '../lib/plugin/report.js';
import { firstFew, plural } from '../lib/plugin/result.js';
import { State, worst } from '../lib/plugin/state.js';
import { objectRef } from '../lib/kube/objects.js';
import { cronJobOf, judgeCronJob, longRunningJob, newestCompletions, type CronJob, type Job } from '../lib/kube/jobs.js';

/** A ControllerRevision: only when it was made and which revision it is. */
interface ControllerRevision {
  metadata?: ObjectMeta;
  revision?: number;
}

export interface Data {
  deployments: Deployment[];
  statefulsets: Deployment[];
  daemonsets: Deployment[];
  /** 'Kind/ns/name' -> when its rollout began (creation of the update revision, epoch ms). */
  revisionCreated: Record<string, number>;
  /** 'ns/name' of a DaemonSet -> where it is missing or not ready. */
  placement: Record<string, DaemonPlacement>;
  /** Detail that could not be looked up (forbidden, gone): judged without it. */
  notes: string[];
  cronjobs: CronJob[];
  jobs: Job[];
}

const PARALLEL = 4;
const key = (kind: WorkloadKind, w: Deployment) => `${kind}/${objectRef(w.metadata)}`;

/** Of the annotations, only the ignore one is read. */
const ignoreAnnotation = (m: ObjectMeta | undefined) =>
  (m?.annotations?.[IGNORE_ANNOTATION] !== undefined ? { [IGNORE_ANNOTATION]: m.annotations[IGNORE_ANNOTATION] } : undefined);

/** The fields judgement reads, so a cluster's worth of workloads costs little memory. */
function compact(w: Deployment): Deployment {
  const m = w.metadata ?? {};
  const t = w.spec?.template?.spec;
  return {
    metadata: {
      name: m.name, namespace: m.namespace, uid: m.uid, generation: m.generation, creationTimestamp: m.creationTimestamp,
      annotations: ignoreAnnotation(m),
    },
    spec: {
      replicas: w.spec?.replicas, paused: w.spec?.paused, selector: w.spec?.selector, updateStrategy: w.spec?.updateStrategy,
      template: t && { spec: { nodeSelector: t.nodeSelector, tolerations: t.tolerations } },
    },
    status: w.status,
  };
}

/** The fields CronJob and Job judgement reads. */
const compactCron = (c: CronJob): CronJob => ({
  metadata: { name: c.metadata?.name, namespace: c.metadata?.namespace, uid: c.metadata?.uid, creationTimestamp: c.metadata?.creationTimestamp, annotations: ignoreAnnotation(c.metadata) },
  spec: { schedule: c.spec?.schedule, timeZone: c.spec?.timeZone, suspend: c.spec?.suspend },
  status: c.status,
});
const compactJob = (j: Job): Job => ({
  metadata: { name: j.metadata?.name, namespace: j.metadata?.namespace, annotations: ignoreAnnotation(j.metadata), ownerReferences: j.metadata?.ownerReferences },
  spec: { suspend: j.spec?.suspend, activeDeadlineSeconds: j.spec?.activeDeadlineSeconds },
  status: { conditions: j.status?.conditions, startTime: j.status?.startTime, completionTime: j.status?.completionTime, active: j.status?.active },
});

/**
 * The Jobs to judge, and to read CronJobs' last successes from. With --name the
 * named Job is asked by field selector like every workload, but a CronJob's
 * Jobs carry its name only in their ownerReference, which no selector reaches:
 * they are listed where the named object lives and kept by owner. Without
 * them `--name NS/CRONJOB` would never see its running Jobs, and would read
 * its last success from status.lastSuccessfulTime alone.
 */
async function jobsOf(kube: KubeClient, q: { namespace?: string; labelSelector?: string }): Promise<Job[]> {
  const target = kube.selection?.target;
  const [named, owned] = await Promise.all([
    kube.list<Job, Job>(RESOURCES.jobs, { ...q, project: compactJob, selected: true }),
    target ? kube.list<Job, Job>(RESOURCES.jobs, {
      ...q, namespace: q.namespace ?? target.namespace,
      project: (j) => (cronJobOf(j) === target.name && (!target.namespace || j.metadata?.namespace === target.namespace) ? compactJob(j) : undefined),
    }) : [],
  ]);
  const seen = new Set(named.map((j) => objectRef(j.metadata)));
  return [...named, ...owned.filter((j) => !seen.has(objectRef(j.metadata)))];
}

/** Excluded by --exclude or the annotation: the pattern or annotation that did it. */
function exclusion(w: Pick<Deployment, 'metadata'>, patterns: readonly string[]): string | undefined {
  if (ignoredByAnnotation(w)) return `annotation ${IGNORE_ANNOTATION}`;
  const p = excludedByName(w.metadata?.namespace ?? '', w.metadata?.name ?? '', patterns);
  return p === undefined ? undefined : `--exclude ${p}`;
}

function tolerable(e: unknown): e is KubeApiError {
  return e instanceof KubeApiError && e.status !== undefined && e.status !== 401;
}

async function rolloutStarts(kube: KubeClient, d: Pick<Data, 'statefulsets' | 'daemonsets'>, exclude: string[], notes: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const lost: string[] = [];
  // StatefulSet: status.updateRevision names the ControllerRevision of the rollout.
  const sts = d.statefulsets.filter((s) => !exclusion(s, exclude) && s.status?.updateRevision && s.status.updateRevision !== s.status.currentRevision &&
    (s.status.updatedReplicas ?? 0) < (s.spec?.replicas ?? 1));
  // DaemonSet: no revision name in status; its newest ControllerRevision (by .revision) is the one rolling out.
  const dss = d.daemonsets.filter((x) => !exclusion(x, exclude) && (x.status?.updatedNumberScheduled ?? 0) < (x.status?.desiredNumberScheduled ?? 0) &&
    (x.spec?.updateStrategy?.type ?? 'RollingUpdate') !== 'OnDelete');
  await Promise.all([
    mapBounded(sts, PARALLEL, async (s) => {
      try {
        const rev = await kube.getOptional<ControllerRevision>(RESOURCES.controllerrevisions, s.status!.updateRevision!, s.metadata?.namespace);
        const t = parseTime(rev?.metadata?.creationTimestamp);
        if (t !== undefined) out[key('StatefulSet', s)] = t;
      } catch (e) { if (!tolerable(e)) throw e; lost.push(e.message); }
    }),
    mapBounded(dss, PARALLEL, async (x) => {
      try {
        const revs = await kube.list<ControllerRevision>(RESOURCES.controllerrevisions, { namespace: x.metadata?.namespace, labelSelector: selectorToString(x.spec?.selector) });
        const own = revs.filter((r) => r.metadata?.ownerReferences?.some((o) => o.controller && o.uid === x.metadata?.uid));
        const newest = own.sort((a, b) => (b.revision ?? 0) - (a.revision ?? 0))[0];
        const t = parseTime(newest?.metadata?.creationTimestamp);
        if (t !== undefined) out[key('DaemonSet', x)] = t;
      } catch (e) { if (!tolerable(e)) throw e; lost.push(e.message); }
    }),
  ]);
  if (lost.length) notes.push(`when ${plural(lost.length, 'rollout')} began is not known: ${lost[0]}`);
  return out;
}

/** DaemonSets short of pods: their pods and (once) the nodes, to name where. */
async function placements(kube: KubeClient, daemonsets: Deployment[], exclude: string[], notes: string[]): Promise<Record<string, DaemonPlacement>> {
  const short = daemonsets.filter((x) => !exclusion(x, exclude) && (x.status?.numberAvailable ?? 0) < (x.status?.desiredNumberScheduled ?? 0));
  if (!short.length) return {};
  const out: Record<string, DaemonPlacement> = {};
  try {
    // The nodes: where pods are missing, and which are cordoned (a short DaemonSet there is maintenance).
    const [nodes, pods] = await Promise.all([
      kube.list<Node, Node>(RESOURCES.nodes, { project: (x) => ({ metadata: { name: x.metadata?.name, labels: x.metadata?.labels }, spec: x.spec }) }),
      mapBounded(short, PARALLEL, (x) => kube.list<Pod>(RESOURCES.pods, { namespace: x.metadata?.namespace, labelSelector: selectorToString(x.spec?.selector) })),
    ]);
    short.forEach((x, i) => {
      const own = pods[i]!.filter((p) => p.metadata?.ownerReferences?.some((o) => o.controller && o.uid === x.metadata?.uid));
      out[objectRef(x.metadata)] = daemonPlacement(x, own, nodes);
    });
  } catch (e) {
    if (!tolerable(e)) throw e;
    notes.push(`nodes without a DaemonSet pod are not named: ${e.message}`);
  }
  return out;
}

const perf = declareMetrics({
  workloads: { describe: 'Workloads judged (Deployments, StatefulSets, DaemonSets; excluded ones not counted)' },
  unhealthy_workloads: { describe: 'Workloads down or degraded (unavailable replicas, stuck rollout, missing DaemonSet pods)', judge: range('warning', 'critical') },
  down_workloads: { describe: 'Workloads with replicas wanted and none ready', judge: range(undefined, 'criticalDown') },
  excluded_workloads: { describe: 'Workloads skipped by --exclude or the k8s-nrpe/ignore annotation' },
  stale_cronjobs: { describe: 'CronJobs (not suspended) whose last success is older than twice their interval or --cronjob-stale', judge: fixed('each such CronJob is WARNING') },
  long_running_jobs: { describe: 'Jobs running longer than --job-max-duration', judge: fixed('each such Job is WARNING') },
});

export default defineCheck({
  name: 'workloads',
  title: 'WORKLOADS',
  scope: 'cluster',
  nrpe: {
    args: '-t 20 -w 0 --rollout-window 15m',
    about:
      'Deployments, StatefulSets, DaemonSets: none ready (CRITICAL), fewer available than desired, stuck rollouts, DaemonSets missing nodes;\n' +
      'CronJobs not succeeding for twice their interval, Jobs running over 12h (WARNING).',
  },
  summary: 'Deployments, StatefulSets and DaemonSets: ready vs desired, stuck rollouts, DaemonSets missing nodes; stale CronJobs, endless Jobs',
  description:
    'Deployments, StatefulSets and DaemonSets judged from the status their controllers write. Three paged lists in ' +
    'parallel (--namespace or all namespaces, --selector applied by the server). A workload with ' +
    'replicas wanted and none ready is down: CRITICAL (--critical-down). One with fewer available than desired, a ' +
    'rollout that stopped (Deployment Progressing=False/ProgressDeadlineExceeded, or no progress for --rollout-window; ' +
    'a StatefulSet or DaemonSet whose update revision began longer than --rollout-window ago and is not everywhere), a ' +
    'status the controller has not updated for the latest generation, a DaemonSet without a pod on nodes that should ' +
    'run one or with pods where they should not run, is unhealthy: -w/-c count those.\n\n' +
    'Unavailable replicas of a workload created, or a rollout that progressed, within --rollout-window are not judged ' +
    '(a rolling update takes pods away on purpose). For DaemonSets short of pods the check lists their pods and the ' +
    'nodes to name where (nodeSelector and taints; node affinity is not evaluated). Exclude workloads with --exclude ' +
    'NS/NAME globs or the annotation k8s-nrpe/ignore: "true". The worst offenders are listed with why. A DaemonSet short ' +
    'of pods only on cordoned nodes (spec.unschedulable: a rolling reboot) is not counted, said as info.\n\n' +
    'CronJobs and Jobs (two more lists): a CronJob, not suspended, whose last success (status.lastSuccessfulTime, or the ' +
    'newest completed Job it owns) is older than twice the interval between its fire times around now (its schedule ' +
    'in spec.timeZone or a CRON_TZ= prefix) or --cronjob-stale is WARNING, and so is one that never succeeded since ' +
    'it was created that long ago; a Job running longer than --job-max-duration (12h, as kubernetes-mixin\'s ' +
    'KubeJobNotCompleted) without spec.activeDeadlineSeconds is WARNING. Failed Jobs are check_k8s_pods\'s.',
  thresholds: { describe: 'number of unhealthy workloads (down ones included)', warning: '0' },
  selection: { what: 'workloads', name: true },
  options: {
    namespace: opt.namespace({ describe: 'Only this namespace (default: all namespaces)' }),
    selector: opt.labelSelector({ describe: 'Only workloads with these labels (server-side)' }),
    exclude: opt.list({ placeholder: 'NS/NAME', describe: 'Do not judge workloads matching this glob (* and ?; NAME alone: any namespace); repeatable' }),
    'rollout-window': opt.duration({ default: '15m', min: 1, describe: 'How long a rollout or a new workload may take before unavailable replicas and unfinished updates count' }),
    'cronjob-stale': opt.duration({ min: 1, describe: 'A CronJob whose last success is older than this is stale (default: twice its schedule\'s interval)' }),
    'job-max-duration': opt.duration({ default: '12h', min: 1, describe: 'A Job running longer than this (and without activeDeadlineSeconds) is a problem' }),
    'critical-down': opt.range({ default: '0', describe: 'CRITICAL when the number of workloads with no ready replica is outside this range' }),
    'max-items': opt.int({ default: 20, min: 1, max: 1000, describe: 'List at most this many workloads in the long output' }),
  },
  perfdata: perf.docs,
  examples: [
    ['$0 --kubeconfig /etc/nagios/k8s-nrpe.kubeconfig', 'every workload in every namespace'],
    ['$0 --namespace openebs --rollout-window 30m', 'one namespace, slower rollouts'],
    ["$0 --exclude 'dev-*/*' --exclude kube-system/hostpath-provisioner", 'skip by pattern'],
  ],

  async gather(ctx, o) {
    const kube = await ctx.kube();
    const q = { namespace: o.namespace, labelSelector: o.selector, project: compact, selected: true };
    const [deployments, statefulsets, daemonsets, cronjobs, jobs] = await Promise.all([
      kube.list<Deployment, Deployment>(RESOURCES.deployments, q),
      kube.list<Deployment, Deployment>(RESOURCES.statefulsets, q),
      kube.list<Deployment, Deployment>(RESOURCES.daemonsets, q),
      kube.list<CronJob, CronJob>(RESOURCES.cronjobs, { ...q, project: compactCron }),
      jobsOf(kube, { namespace: o.namespace, labelSelector: o.selector }),
    ]);
    const notes: string[] = [];
    const [revisionCreated, placement] = await Promise.all([
      rolloutStarts(kube, { statefulsets, daemonsets }, o.exclude, notes),
      placements(kube, daemonsets, o.exclude, notes),
    ]);
    return { deployments, statefulsets, daemonsets, revisionCreated, placement, notes, cronjobs, jobs };
  },

  evaluate(d, o, now) {
    const r = new Report();
    const judged: WorkloadVerdict[] = [];
    const skipped: string[] = [];
    const base = { now, rolloutWindow: o.rolloutWindow };
    const each = (kind: WorkloadKind, list: Deployment[], fn: (w: Deployment) => WorkloadVerdict) => {
      for (const w of list) {
        const why = exclusion(w, o.exclude);
        if (why) { skipped.push(`${kind} ${objectRef(w.metadata)} not judged (${why})`); continue; }
        judged.push(fn(w));
      }
    };
    each('Deployment', d.deployments, (w) => judgeDeployment(w, base));
    each('StatefulSet', d.statefulsets, (w) => judgeStatefulSet(w, { ...base, revisionCreated: d.revisionCreated[key('StatefulSet', w)] }));
    each('DaemonSet', d.daemonsets, (w) => judgeDaemonSet(w, {
      ...base, revisionCreated: d.revisionCreated[key('DaemonSet', w)], placement: d.placement[objectRef(w.metadata)],
    }));

    // Worst offenders first: down, then the furthest from desired; the status line names them in this order too.
    const excluded = skipped.length;
    const shortfall = (v: WorkloadVerdict) => (v.desired > 0 ? (v.desired - v.available) / v.desired : 0);
    const unhealthy = judged.filter((v) => v.health !== 'ok')
      .sort((a, b) => (a.health === b.health ? 0 : a.health === 'down' ? -1 : 1) || shortfall(b) - shortfall(a) || a.id.localeCompare(b.id));
    const down = unhealthy.filter((v) => v.health === 'down');
    const ju = perf.judge(r, 'unhealthy_workloads', unhealthy.length, o, { min: 0, max: judged.length });
    const jd = perf.judge(r, 'down_workloads', down.length, o, { min: 0, max: judged.length });
    perf.metric(r, 'workloads', judged.length, o, { min: 0 });
    perf.metric(r, 'excluded_workloads', excluded, o, { min: 0 });

    if (jd.state !== State.OK) {
      r.action(jd.state, workloadAction(down[0]!));
      r.problem(jd.state, `${plural(down.length, 'workload')} with no ready replica: ${names(down)}`,
        `${plural(down.length, 'workload')} with replicas wanted and none ready (${jd.hint})`);
    }
    // Down ones are named above when --critical-down fired; -w/-c name the rest.
    const rest = jd.state !== State.OK ? unhealthy.filter((v) => v.health !== 'down') : unhealthy;
    const counted = `${unhealthy.length} of ${plural(judged.length, 'workload')} unhealthy (${ju.hint})`;
    if (rest.length) r.action(ju.state, workloadAction(rest[0]!));
    if (ju.state !== State.OK && rest.length) r.problem(ju.state, `${plural(rest.length, 'workload')} ${rest === unhealthy ? 'unhealthy' : 'degraded'}: ${names(rest)}`, counted);
    else if (ju.state !== State.OK) r.add(ju.state, counted);

    for (const v of unhealthy.slice(0, o.maxItems)) {
      const state = v.health === 'down' ? worst(jd.state, ju.state) : ju.state;
      r.add(state === State.OK ? undefined : state, `${v.kind} ${v.id}: ${v.why.join('; ')}`);
    }
    if (unhealthy.length > o.maxItems) r.info(`... and ${unhealthy.length - o.maxItems} more unhealthy (--max-items ${o.maxItems})`);
    for (const v of judged) for (const note of v.notes) r.info(`${v.kind} ${v.id}: ${note}`);
    for (const note of d.notes) r.info(note);
    judgeBatch(r, d, o, now, skipped);
    // After the evidence: a long exclusion list must not push it out of the output.
    for (const line of skipped.slice(0, o.maxItems)) r.info(line);
    if (excluded > o.maxItems) r.info(`... and ${excluded - o.maxItems} more not judged`);

    const of = (k: WorkloadKind) => judged.filter((v) => v.kind === k).length;
    const kinds = `${plural(of('Deployment'), 'Deployment')}, ${plural(of('StatefulSet'), 'StatefulSet')}, ${plural(of('DaemonSet'), 'DaemonSet')}`;
    const scope = o.namespace ? ` in ${o.namespace}` : '';
    if (!judged.length) return r.done(`no workloads${scope}${o.selector ? ` matching ${o.selector}` : ''}${excluded ? ` (${excluded} excluded)` : ''}`);
    const rolling = judged.filter((v) => v.health === 'ok' && v.notes.some((n) => n.startsWith('rolling out'))).length;
    return r.done(`${judged.length - unhealthy.length}/${judged.length} workloads healthy${scope} (${kinds})${rolling ? `, ${rolling} rolling out` : ''}${excluded ? `, ${excluded} excluded` : ''}`);
  },
});

/** The first two ids, then how many more. */
const names = (vs: { id: string }[]) => firstFew(vs.map((v) => v.id), 2);

/** CronJobs that stopped succeeding and Jobs that never end: WARNING each, named (lib/kube/jobs.ts). */
function judgeBatch(r: Report, d: Data, o: { exclude: string[]; cronjobStale?: number; jobMaxDuration: number; maxItems: number }, now: number, skipped: string[]): void {
  const kept = <T extends { metadata?: ObjectMeta }>(kind: string, list: T[]) => list.filter((x) => {
    const why = exclusion(x, o.exclude);
    if (why) skipped.push(`${kind} ${objectRef(x.metadata)} not judged (${why})`);
    return !why;
  });
  const completions = newestCompletions(d.jobs);
  const crons = kept('CronJob', d.cronjobs).map((c) => judgeCronJob(c, completions, { now, staleAfter: o.cronjobStale }));
  const stale = crons.filter((c) => c.problem);
  const long = kept('Job', d.jobs).map((j) => ({ id: objectRef(j.metadata), why: longRunningJob(j, now, o.jobMaxDuration) })).filter((x) => x.why);
  perf.metric(r, 'stale_cronjobs', stale.length, o, { min: 0, max: crons.length });
  perf.metric(r, 'long_running_jobs', long.length, o, { min: 0 });
  if (stale.length) {
    const [ns, name] = stale[0]!.id.split('/');
    r.problem(State.WARNING, `${plural(stale.length, 'CronJob')} not succeeding: ${names(stale)}`);
    r.action(State.WARNING, `see why CronJob ${stale[0]!.id} stopped succeeding: kubectl describe cronjob -n ${ns} ${name} (events: missed starts, FailedCreate) and kubectl get jobs -n ${ns}; the logs of its last Job say why it failed`);
  }
  if (long.length) {
    const [ns, name] = long[0]!.id.split('/');
    r.problem(State.WARNING, `${plural(long.length, 'Job')} running too long: ${names(long)}`);
    r.action(State.WARNING, `see what Job ${long[0]!.id} is doing: kubectl logs -n ${ns} job/${name}; delete it if it hangs, or give it spec.activeDeadlineSeconds (or --job-max-duration) if it is meant to run this long`);
  }
  for (const c of stale.slice(0, o.maxItems)) r.add(State.WARNING, `CronJob ${c.id}: ${c.problem}`);
  for (const j of long.slice(0, o.maxItems)) r.add(State.WARNING, `Job ${j.id}: ${j.why}`);
  for (const c of crons) if (c.note) r.info(`CronJob ${c.id}: ${c.note}`);
}

/** The next step for a workload that is down or degraded: its pods say why. */
function workloadAction(v: WorkloadVerdict): string {
  const [ns, name] = v.id.split('/');
  const ref = `${v.kind.toLowerCase()}/${name}`;
  return `see why ${v.kind} ${v.id} has ${v.ready}/${v.desired} ready: kubectl describe -n ${ns} ${ref} and kubectl get pods -n ${ns} -o wide ` +
    `(check_k8s_pods names failing pods); a stuck rollout: kubectl rollout status -n ${ns} ${ref}, kubectl rollout undo if the new version is broken`;
}
