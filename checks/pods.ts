import type { KubeClient } from '../lib/kube/client.js';
import { KubeApiError } from '../lib/kube/errors.js';
import { compactEvent, eventLastSeen, eventsInNamespaces } from '../lib/kube/events.js';
import { compactEvicted, EVICTED, evictionOf, evictionTime, groupEvictions, THRESHOLD_MET, thresholdEventNode, type Eviction } from '../lib/kube/evictions.js';
import { RESOURCES } from '../lib/kube/resources.js';
import { failedJobs, type Job } from '../lib/kube/jobs.js';
import { judgePod, pointedElsewhere, type PodProblemKind, type PodVerdict } from '../lib/kube/pod-status.js';
import { NOT_FINISHED } from '../lib/kube/pods.js';
import { oneLine } from '../lib/kube/objects.js';
import type { ContainerStatus, KubeEvent, Pod } from '../lib/kube/types.js';
import { defineCheck, opt } from '../lib/plugin/check.js';
import { declareMetrics, range } from '../lib/plugin/context.js';
import { formatDuration } from '../lib/plugin/duration.js';
import type { Range } from '../lib/plugin/range.js';
import { Report } from '../lib/plugin/report.js';
import { firstFew, plural } from '../lib/plugin/result.js';
import { State } from '../lib/plugin/state.js';

export interface Data {
  /** Pods that may have something wrong (compacted); the clearly fine ones are only counted. */
  pods: Pod[];
  /** Running, Ready pods with few restarts and no OOM kill on record: nothing to judge. */
  fine: number;
  jobs: Job[];
  /** Pods the kubelet evicted (phase Failed, reason Evicted), compacted. */
  evicted: Pod[];
  /** EvictionThresholdMet (nodes) and Evicted (pods) events, asked only when an eviction is within --window: evidence. */
  evictionEvents: KubeEvent[];
  /** Why the events could not be read (forbidden), when so. */
  evictionNote?: string;
}

/**
 * The kubelet's events about recent evictions: EvictionThresholdMet on the
 * node (node events live in namespace default) and Evicted on each pod, in
 * the pods' namespaces. Events expire (5 minutes on microk8s' kube-apiserver,
 * --event-ttl): evidence when present, never the signal.
 */
async function evictionEvidence(kube: KubeClient, recent: Pod[]): Promise<KubeEvent[] | string> {
  if (!recent.length) return [];
  try {
    const [nodes, pods] = await Promise.all([
      kube.list<KubeEvent, KubeEvent>(RESOURCES.events, { namespace: 'default', fieldSelector: `reason=${THRESHOLD_MET}`, project: compactEvent }),
      eventsInNamespaces(kube, recent.map((p) => p.metadata?.namespace), `involvedObject.kind=Pod,reason=${EVICTED}`, (): KubeEvent[] => [], (kept, e) => {
        const c = compactEvent(e);
        if (c) kept.push(c);
      }),
    ]);
    return [...nodes, ...pods.states.flat()];
  } catch (e) {
    // Evidence only: a refused events list leaves the verdict, from the pods, as it is.
    if (e instanceof KubeApiError && e.status !== undefined && e.status !== 401) return `the kubelet's eviction events not read: ${e.message}`;
    throw e;
  }
}


const KINDS: { kind: PodProblemKind; label: string; words: string }[] = [
  { kind: 'crashloop', label: 'crashloop_pods', words: 'CrashLoopBackOff' },
  { kind: 'image', label: 'image_pull_pods', words: 'image pull failing' },
  { kind: 'config', label: 'config_error_pods', words: 'container config error' },
  { kind: 'oomkilled', label: 'oomkilled_pods', words: 'OOMKilled' },
  { kind: 'restarts', label: 'restarting_pods', words: 'restarting' },
  { kind: 'notready', label: 'not_ready_pods', words: 'not Ready' },
];

function compactStatus(c: ContainerStatus): ContainerStatus {
  return { name: c.name, ready: c.ready, restartCount: c.restartCount, state: c.state, lastState: c.lastState };
}

/**
 * Keep what judgePod reads; drop (return undefined) a pod that is Running and
 * Ready whose containers restarted at most `restarts` times and were not
 * OOM-killed last: nothing about it depends on the clock.
 */
function keep(restarts: number, onFine: () => void) {
  return (p: Pod): Pod | undefined => {
    const statuses = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])];
    const ready = p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    const quiet = statuses.every((c) => !c.state?.waiting && (c.restartCount ?? 0) <= restarts && c.lastState?.terminated?.reason !== 'OOMKilled');
    if (p.status?.phase === 'Running' && ready && quiet && !p.metadata?.deletionTimestamp) { onFine(); return undefined; }
    const m = p.metadata ?? {};
    return {
      metadata: { name: m.name, namespace: m.namespace, creationTimestamp: m.creationTimestamp, deletionTimestamp: m.deletionTimestamp, ownerReferences: m.ownerReferences?.map((r) => ({ kind: r.kind, name: r.name, controller: r.controller })) },
      spec: { nodeName: p.spec?.nodeName },
      status: {
        phase: p.status?.phase, startTime: p.status?.startTime, reason: p.status?.reason,
        conditions: p.status?.conditions?.filter((c) => c.type === 'Ready'),
        initContainerStatuses: p.status?.initContainerStatuses?.map(compactStatus),
        containerStatuses: p.status?.containerStatuses?.map(compactStatus),
      },
    };
  };
}

const perf = declareMetrics({
  pods: { describe: 'Pods listed (not Succeeded or Failed)' },
  problem_pods: { describe: 'Pods with any problem below', judge: range('warning', 'critical') },
  crashloop_pods: { describe: 'Pods with a container waiting in CrashLoopBackOff' },
  image_pull_pods: { describe: 'Pods with a container waiting on its image (ImagePullBackOff, ErrImagePull, ...)' },
  config_error_pods: { describe: 'Pods with a container that cannot be created (CreateContainerConfigError, ...)' },
  oomkilled_pods: { describe: 'Pods with a container OOM-killed within --window' },
  restarting_pods: { describe: 'Pods with a container restarted more than --restarts times, the last within --window' },
  not_ready_pods: { describe: 'Pods not Ready for longer than --not-ready-window (nothing above explaining it)' },
  failed_jobs: { describe: 'Jobs with Failed=True not superseded by a later run', judge: range('jobsWarning', 'jobsCritical') },
  unscheduled_pods: { describe: 'Pending pods without a node (judged by check_k8s_scheduler_stall)' },
  terminating_pods: { describe: 'Pods being deleted (judged by check_k8s_stuck_terminating)' },
  evicted_pods: { describe: 'Pods the kubelet evicted within --window', judge: range('evictedWarning', 'evictedCritical') },
});

export default defineCheck({
  name: 'pods',
  title: 'PODS',
  scope: 'cluster',
  nrpe: {
    args: '-t 20 -w 0 --window 15m --restarts 5',
    about:
      'Pods in CrashLoopBackOff, failing image pulls or config, OOM-killed, restarting, not Ready > 15m; failed Jobs;\n' +
      'pods the kubelet evicted within 15m (node pressure), by node and resource.',
  },
  summary: 'Pods in CrashLoopBackOff, failing image pulls or config, OOM-killed, restarting, not Ready; failed Jobs; evictions',
  description:
    'Pods whose containers the kubelet reports failing, and Jobs that failed. The pods that have not finished are ' +
    'listed (field selector status.phase!=Succeeded,status.phase!=Failed, --namespace or all namespaces, --selector on ' +
    'the server) and each container status the kubelet wrote is judged: waiting in ' +
    'CrashLoopBackOff; ImagePullBackOff, ErrImagePull, InvalidImageName; CreateContainerConfigError, CreateContainerError, ' +
    'RunContainerError; last terminated OOMKilled within --window; more than --restarts restarts with the last one ' +
    'within --window; and pods whose Ready condition has been False for longer than --not-ready-window (Job pods ' +
    'excepted). -w/-c count the pods with any of these. Jobs (batch/v1) whose Failed condition is True ' +
    '(BackoffLimitExceeded, DeadlineExceeded...) are judged by --jobs-warning/--jobs-critical; a failed Job of a CronJob ' +
    'whose later run completed is history, not counted.\n\n' +
    'Without metrics only the restart count and the last termination are known: "restarted 12 times, the last 3m ago" ' +
    'means at least one restart in --window, not 12. Pods Pending without a node and pods stuck Terminating are ' +
    'counted and pointed to check_k8s_scheduler_stall and check_k8s_stuck_terminating, not judged twice.\n\n' +
    'Evictions: a second list of Failed pods (field selector status.phase=Failed) keeps those the kubelet evicted for ' +
    'node pressure (reason Evicted); each evicted within --window counts for --evicted-warning/--evicted-critical ' +
    '(WARNING on any), grouped by node and by the resource the message names (memory, ephemeral-storage, ...). ' +
    'The node\'s EvictionThresholdMet and the pods\' Evicted events are shown as evidence when they have not expired.',
  thresholds: { describe: 'number of pods with a problem', warning: '0' },
  selection: { what: 'pods and Jobs', name: true },
  options: {
    namespace: opt.namespace({ describe: 'Only this namespace (default: all namespaces)' }),
    selector: opt.labelSelector({ describe: 'Only pods and Jobs with these labels (server-side)' }),
    window: opt.duration({ default: '15m', min: 1, describe: 'A restart or OOM kill older than this is history' }),
    restarts: opt.int({ default: 5, min: 0, describe: 'More restarts than this, the last within --window, is a problem' }),
    'not-ready-window': opt.duration({ default: '15m', min: 1, describe: 'How long a pod may be not Ready before it counts' }),
    'jobs-warning': opt.range({ default: '0', describe: 'WARNING when the number of failed Jobs is outside this range' }),
    'jobs-critical': opt.range({ describe: 'CRITICAL when the number of failed Jobs is outside this range' }),
    'evicted-warning': opt.range({ default: '0', describe: 'WARNING when the number of pods evicted within --window is outside this range' }),
    'evicted-critical': opt.range({ describe: 'CRITICAL when the number of pods evicted within --window is outside this range' }),
    'max-items': opt.int({ default: 20, min: 1, max: 1000, describe: 'List at most this many pods in the long output' }),
  },
  perfdata: perf.docs,
  examples: [
    ['$0 --kubeconfig /etc/nagios/k8s-nrpe.kubeconfig', 'every namespace'],
    ['$0 --namespace media --restarts 3 --window 1h', 'one namespace, stricter on restarts'],
    ['$0 -w 2 -c 10 --jobs-warning 0 --jobs-critical 2', 'tolerate a couple of failing pods'],
  ],

  async gather(ctx, o) {
    const kube = await ctx.kube();
    let fine = 0;
    const [pods, evicted, jobs] = await Promise.all([
      kube.list<Pod, Pod>(RESOURCES.pods, { namespace: o.namespace, labelSelector: o.selector, fieldSelector: NOT_FINISHED, selected: true, project: keep(o.restarts, () => { fine++; }) }),
      // Evicted pods are Failed: the server filters, so the cost follows the failed pods, not the cluster.
      kube.list<Pod, Pod>(RESOURCES.pods, { namespace: o.namespace, labelSelector: o.selector, fieldSelector: 'status.phase=Failed', selected: true, project: compactEvicted }),
      kube.list<Job, Job>(RESOURCES.jobs, {
        namespace: o.namespace, labelSelector: o.selector, selected: true,
        project: (j) => ({ metadata: { name: j.metadata?.name, namespace: j.metadata?.namespace, ownerReferences: j.metadata?.ownerReferences }, status: { conditions: j.status?.conditions, completionTime: j.status?.completionTime } }),
      }),
    ]);
    const now = kube.serverNow();
    const events = await evictionEvidence(kube, evicted.filter((p) => now - (evictionTime(p) ?? -Infinity) <= o.window * 1000));
    return { pods, fine, jobs, evicted, ...(typeof events === 'string' ? { evictionEvents: [], evictionNote: events } : { evictionEvents: events }) };
  },

  evaluate(d, o, now) {
    const r = new Report();
    let unscheduled = 0;
    let terminating = 0;
    const bad: PodVerdict[] = [];
    for (const p of d.pods) {
      const pointer = pointedElsewhere(p);
      if (pointer === 'unscheduled') { unscheduled++; continue; }
      if (pointer === 'terminating') { terminating++; continue; }
      const v = judgePod(p, { now, window: o.window, restarts: o.restarts, notReadyWindow: o.notReadyWindow });
      if (v.problems.length) bad.push(v);
    }
    const total = d.pods.length + d.fine;
    const jp = perf.judge(r, 'problem_pods', bad.length, o, { min: 0, max: total });
    const byKind = (k: PodProblemKind) => bad.filter((v) => v.problems[0]!.kind === k);
    const counts = KINDS.map((k) => ({ ...k, pods: byKind(k.kind) }));
    if (jp.state !== State.OK) {
      const what = counts.filter((c) => c.pods.length).map((c) => `${c.pods.length} ${c.words}`).join(', ');
      const first = bad.length === 1 ? ` (${bad[0]!.id})` : '';
      r.problem(jp.state, `${plural(bad.length, 'pod')} failing: ${what}${first}`, `${plural(bad.length, 'pod')} with problems (${jp.hint}): ${what}`);
      const worstPod = counts.find((c) => c.pods.length)!;
      r.action(jp.state, podAction(worstPod.kind, worstPod.pods[0]!.id));
    }
    // Evidence, worst kind first (the order of KINDS), each pod once, under its first problem.
    const ordered = counts.flatMap((c) => c.pods);
    for (const v of ordered.slice(0, o.maxItems)) {
      r.add(jp.state === State.OK ? undefined : jp.state, `${v.id}${v.node ? ` on ${v.node}` : ''}: ${v.problems.map((x) => x.text).join('; ')}`);
    }
    if (ordered.length > o.maxItems) r.info(`... and ${ordered.length - o.maxItems} more (--max-items ${o.maxItems})`);

    const failures = failedJobs(d.jobs);
    const current = failures.filter((f) => !f.supersededBy);
    const jj = perf.judge(r, 'failed_jobs', current.length, o, { min: 0, max: d.jobs.length });
    if (jj.state !== State.OK) {
      const [jns, jname] = current[0]!.id.split('/');
      r.action(jj.state, `read why Job ${current[0]!.id} failed: kubectl logs -n ${jns} job/${jname} and kubectl describe job -n ${jns} ${jname}; fix and rerun it, or delete the failed Job once understood`);
      r.problem(jj.state, `${plural(current.length, 'failed Job')}${current.length <= 2 ? ` (${current.map((f) => f.id).join(', ')})` : ''}`, `${plural(current.length, 'Job')} failed (${jj.hint})`);
    }
    for (const f of current.slice(0, o.maxItems)) {
      r.add(jj.state === State.OK ? undefined : jj.state, `Job ${f.id} failed${f.at !== undefined ? ` ${formatDuration((now - f.at) / 1000)} ago` : ''}: ${f.why}`);
    }
    for (const f of failures.filter((x) => x.supersededBy)) r.info(`Job ${f.id} failed (${f.why}); a later run of its CronJob, ${f.supersededBy}, completed`);

    for (const c of counts) r.metric(c.label, c.pods.length, { min: 0 });
    perf.metric(r, 'pods', total, o, { min: 0 });
    perf.metric(r, 'unscheduled_pods', unscheduled, o, { min: 0 });
    perf.metric(r, 'terminating_pods', terminating, o, { min: 0 });
    if (unscheduled) r.info(`${plural(unscheduled, 'pod')} Pending without a node: not judged here, see check_k8s_scheduler_stall`);
    if (terminating) r.info(`${plural(terminating, 'pod')} Terminating: not judged here, see check_k8s_stuck_terminating`);
    const evicted = judgeEvictions(r, d, o, now);

    const scope = o.namespace ? ` in ${o.namespace}` : '';
    const pointed = [unscheduled && `${unscheduled} unscheduled`, terminating && `${terminating} terminating`].filter(Boolean).join(', ');
    return r.done(`${total - bad.length - unscheduled - terminating}/${total} pods fine${scope}${bad.length ? `, ${bad.length} within thresholds` : ''}${evicted}` +
      `${pointed ? ` (${pointed}: judged by other checks)` : ''}, ${plural(d.jobs.length, 'Job')}, ${current.length ? `${current.length} failed` : 'none failed'}` +
      `${failures.length > current.length ? ` (${failures.length - current.length} older failure${failures.length - current.length === 1 ? '' : 's'} superseded by a later run)` : ''}`);
  },
});

/** Pods evicted within --window, by node and resource, with the kubelet's events as evidence; the OK summary's words. */
function judgeEvictions(r: Report, d: Data, o: { window: number; evictedWarning?: Range; evictedCritical?: Range; maxItems: number }, now: number): string {
  const all = d.evicted.map(evictionOf);
  const recent = all.filter((e) => e.at !== undefined && now - e.at <= o.window * 1000);
  const j = perf.judge(r, 'evicted_pods', recent.length, o, { min: 0 });
  const win = formatDuration(o.window);
  const ago = (t: number | undefined) => (t === undefined ? 'at an unknown time' : `${formatDuration((now - t) / 1000)} ago`);
  const groups = groupEvictions(recent);
  const newest = (es: Eviction[]) => Math.max(...es.map((e) => e.at ?? 0));
  if (j.state !== State.OK) {
    const where = firstFew(groups.map((g) => `${g.pods.length} on ${g.node} for ${g.resource}`), 2);
    r.problem(j.state, `${plural(recent.length, 'pod')} evicted in ${win}: ${where}`,
      `${plural(recent.length, 'pod')} evicted by the kubelet in ${win} (${j.hint})`);
    r.action(j.state, evictionAction(groups[0]!.node, groups[0]!.resource));
  }
  for (const g of groups.slice(0, o.maxItems)) {
    const shown = g.pods.slice(0, 5).map((e) => e.id).join(', ');
    r.add(j.state === State.OK ? undefined : j.state, `${g.node}: ${plural(g.pods.length, 'pod')} evicted for ${g.resource}, the last ${ago(newest(g.pods))}: ` +
      `${shown}${g.pods.length > 5 ? ` and ${g.pods.length - 5} more` : ''} (${g.pods[0]!.message})`);
  }
  // Evidence: the kubelet's events, when they have not expired yet.
  const nodes = new Set(groups.map((g) => g.node));
  const fresh = (x: KubeEvent) => now - (eventLastSeen(x) ?? -Infinity) <= o.window * 1000;
  for (const e of d.evictionEvents.filter((x) => x.reason === THRESHOLD_MET && fresh(x) && nodes.has(thresholdEventNode(x) ?? ''))) {
    r.info(`event on node ${thresholdEventNode(e)}, ${ago(eventLastSeen(e))}: ${THRESHOLD_MET}: ${oneLine(e.message)}`);
  }
  const podEvents = d.evictionEvents.filter((x) => x.reason === EVICTED && fresh(x)).length;
  if (podEvents) r.info(`${plural(podEvents, 'Evicted event')} on the pods (kubectl get events -A --field-selector reason=Evicted)`);
  if (d.evictionNote) r.info(d.evictionNote);
  const older = all.length - recent.length;
  if (older) r.info(`${plural(older, 'evicted pod')} from before --window ${win} not counted (kubectl delete pods -A --field-selector status.phase=Failed removes them)`);
  return all.length ? `, ${recent.length} evicted in ${win}` : '';
}

/** What to do about evictions on a node for a resource. */
function evictionAction(node: string, resource: string): string {
  const then = `; then delete the evicted pods (kubectl delete pods -A --field-selector status.phase=Failed) and check again`;
  if (resource === 'memory') return `node ${node} ran out of memory: kubectl describe node ${node} (MemoryPressure, allocated requests) and kubectl top pods -A --sort-by=memory; set memory requests that match use, or move load off it${then}`;
  if (resource === 'pids' || resource === 'PIDPressure') return `node ${node} ran out of process IDs: find the pod forking without end (on the node, ps -eo pid,nlwp,comm --sort=-nlwp lists the processes with the most threads first) and give it a pids limit${then}`;
  if (resource.startsWith('ephemeral-storage (its own')) return `a pod on ${node} outgrew its own ephemeral-storage limit or emptyDir sizeLimit: raise the limit or make it write less (logs, scratch files)${then}`;
  return `node ${node} ran short of ${resource}: on it, df -h and df -i /var/snap/microk8s/common (container images, logs, emptyDirs); free space (sudo microk8s ctr images prune --all, old logs), ` +
    `kubectl describe node ${node} shows DiskPressure${then}`;
}

/** The next step for the worst kind of pod problem, for its first pod (namespace/name). */
function podAction(kind: PodProblemKind, id: string): string {
  const [ns, name] = id.split('/');
  const describe = `kubectl describe pod -n ${ns} ${name}`;
  switch (kind) {
    case 'crashloop': return `read why ${id} crashes: kubectl logs -n ${ns} ${name} --previous (and ${describe}); fix its config or image, then check again`;
    case 'image': return `${describe} names the image and the pull error: fix the image name or tag, the registry's reachability from the node, or the imagePullSecret`;
    case 'config': return `${describe} names what the container lacks (a ConfigMap, Secret or key): create it or fix the reference`;
    case 'oomkilled': return `${id} ran out of memory: raise its memory limit (or fix the leak), kubectl top pod -n ${ns} ${name} shows its use`;
    case 'restarts': return `read why ${id} restarts: kubectl logs -n ${ns} ${name} --previous and the last state in ${describe}`;
    default: return `${describe}: its conditions and events say which probe or container is not ready`;
  }
}
