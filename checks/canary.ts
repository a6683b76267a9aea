import {
  canaryManifest, canaryName, DEFAULT_CANARY_IMAGE, DEFAULT_CANARY_NAMESPACE, deletePod, isCanary, leftBehind, OWNER_ANNOTATION,
  podIfPresent, progressOf, STAGES, waitingIn, type Stage,
} from '../lib/kube/canary.js';
import type { KubeClient } from '../lib/kube/client.js';
import { RESOURCES } from '../lib/kube/resources.js';
import { KubeApiError } from '../lib/kube/errors.js';
import { compactEvent, eventCount, eventLastSeen } from '../lib/kube/events.js';
import { leaseFreshness, NODE_LEASE_NAMESPACE } from '../lib/kube/node-lease.js';
import { findHolderNode, holderNode, nodeNamed, nodeReadiness, unknownNode } from '../lib/kube/nodes.js';
import { condition } from '../lib/kube/objects.js';
import { ageSeconds } from '../lib/kube/time.js';
import type { KubeEvent, Lease, Node, Pod } from '../lib/kube/types.js';
import { runAlive, thisRunOwner } from '../lib/host/run-owner.js';
import { defineCheck, opt, type CheckContext, type OptionsOf } from '../lib/plugin/check.js';
import { declareMetrics, range } from '../lib/plugin/context.js';
import { deadlineFromProcessStart, sleep } from '../lib/plugin/deadline.js';
import { formatDuration } from '../lib/plugin/duration.js';
import { PluginError } from '../lib/plugin/errors.js';
import { judge, Report } from '../lib/plugin/report.js';
import { plural } from '../lib/plugin/result.js';
import { sanitize } from '../lib/plugin/sanitize.js';
import { State } from '../lib/plugin/state.js';

/** Default seconds per stage: [warning, critical]. A pause-image pod takes 1-5 s end to end on a healthy node. */
const STAGE_DEFAULTS: Record<Stage, [string, string]> = {
  schedule: ['5s', '20s'], start: ['10s', '30s'], ready: ['5s', '20s'], delete: ['10s', '30s'],
};
const STAGE_WORDS: Record<Stage, string> = {
  schedule: 'created -> PodScheduled (the scheduler bound it)',
  start: 'bound -> a container running (the kubelet made the sandbox and started it)',
  ready: 'running -> Ready written (the kubelet reported it)',
  delete: 'delete -> gone from the API (the kubelet confirmed)',
};
const stageOption = (stage: Stage, level: 'warning' | 'critical') =>
  opt.duration({ default: STAGE_DEFAULTS[stage][level === 'warning' ? 0 : 1], min: 1, describe: `${level === 'warning' ? 'Warning' : 'Critical'} after this long in stage ${stage} (${STAGE_WORDS[stage]})${level === 'critical' ? '; the run stops waiting there' : ''}` });

const options = {
  namespace: opt.namespace({ default: DEFAULT_CANARY_NAMESPACE, describe: 'The canary\'s own namespace (deploy/rbac-canary.yaml); the check refuses to run when it holds any pod not made by k8s-nrpe' }),
  node: opt.node({ describe: 'Pin the canary to this node (by its kubernetes.io/hostname label, so the scheduler still places it); default: wherever the scheduler puts it' }),
  image: opt.string({
    placeholder: 'IMAGE', default: DEFAULT_CANARY_IMAGE,
    describe: 'Image of the canary\'s one container, pulled only if absent: use the sandbox (pause) image your nodes already have ' +
      '(microk8s: sandbox_image in /var/snap/microk8s/current/args/containerd-template.toml) or a mirror of it',
    check: (s) => (/^[\w][\w.\-/:@]{0,254}$/.test(s) ? undefined : 'not an image reference'),
  }),
  'schedule-warning': stageOption('schedule', 'warning'), 'schedule-critical': stageOption('schedule', 'critical'),
  'start-warning': stageOption('start', 'warning'), 'start-critical': stageOption('start', 'critical'),
  'ready-warning': stageOption('ready', 'warning'), 'ready-critical': stageOption('ready', 'critical'),
  'delete-warning': stageOption('delete', 'warning'), 'delete-critical': stageOption('delete', 'critical'),
  'unschedulable-state': opt.choice(['warning', 'critical'] as const, {
    default: 'warning',
    describe: 'State when the scheduler tried and found no node (Unschedulable: capacity, taints, a cordoned --node): pressure, not a stall',
  }),
};
type Options = OptionsOf<typeof options>;

const SCHEDULER_LEASE = { namespace: 'kube-system', name: 'kube-scheduler' };

/** Why the run stopped waiting in a stage. */
export type StopCause = 'limit' | 'time' | 'sigterm' | 'api';

export interface Leftover {
  name: string;
  why: string;
  /** 'deleted', 'gone' (already), or the error that kept it. */
  result: 'deleted' | 'gone' | { error: string };
}

export interface Data {
  namespace: string;
  name: string;
  node?: string;
  /** Pods in the namespace not made by k8s-nrpe: the check refused to run. */
  foreign: string[];
  /** Another run's canary of this name, still in progress. */
  busy?: { owner?: string; age?: number };
  leftovers: Leftover[];
  /** The canary of this name left by an ended run, deleted and still present (a previous delete stage that failed). */
  blocked?: Pod;
  created: boolean;
  /** Seconds each stage took, for the stages that ended. */
  seconds: Partial<Record<Stage, number>>;
  /** The stage the run stopped waiting in. */
  stuck?: { stage: Stage; seconds: number; cause: StopCause; error?: string };
  /** The pod as last seen. */
  pod?: Pod;
  /** Events about the canary (fetched only when a stage failed). */
  events: KubeEvent[];
  schedulerLease?: Lease;
  schedulerHolderNode?: Node;
  /** The node the canary was bound to, and its kubelet's heartbeat Lease (fetched only when a stage after binding failed). */
  boundNode?: Node;
  nodeLease?: Lease;
  /** Evidence that could not be read (a forbidden Lease): said, not judged. */
  evidenceErrors: string[];
  /** After the run: gone, deleting (accepted, still there when the run ended), or the error that kept it. */
  cleanup?: 'gone' | 'deleting' | { error: string };
  timeout: number;
}

/** Poll quickly while a healthy stage usually ends (the first 2 s), then every 500 ms: a few dozen GETs of one pod per run. */
const pollMs = (inStageMs: number) => (inStageMs < 2000 ? 200 : 500);

const errText = (e: unknown) => sanitize(e instanceof Error ? e.message : String(e), 300);

/** Everything a run does against the API, in order: look, clean up, create, time each stage, delete. */
async function runCanary(ctx: CheckContext, o: Options, kube: KubeClient): Promise<Data> {
  const ns = o.namespace;
  const name = canaryName(o.node);
  const d: Data = { namespace: ns, name, node: o.node, foreign: [], leftovers: [], created: false, seconds: {}, events: [], evidenceErrors: [], timeout: o.timeout };
  // The run's own end, ahead of -t: time to gather evidence and delete before the core's deadline aborts every request.
  const deadline = deadlineFromProcessStart(o.timeout) - 500;
  const reserve = Math.min(8000, Math.max(2000, o.timeout * 250));
  const waitEnd = deadline - reserve;
  // NRPE's command_timeout, a person's ^C: stop waiting, delete first, then say so.
  const stop = new AbortController();
  let cause: StopCause | undefined;
  const onSignal = () => { cause = 'sigterm'; stop.abort(); };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const node = await nodeNamed(kube, o.node);
    if (node === null) throw unknownNode(o.node!);
    // Every pod in the namespace (it should hold only canaries: a handful).
    const pods = await kube.list<Pod>(RESOURCES.pods, { namespace: ns });
    d.foreign = pods.filter((p) => !isCanary(p)).map((p) => p.metadata?.name ?? '?');
    if (d.foreign.length) return d;
    const now = kube.serverNow();
    for (const p of pods) {
      const alive = runAlive(p.metadata?.annotations?.[OWNER_ANNOTATION]);
      const why = leftBehind(p, now, alive);
      const pname = p.metadata?.name ?? '';
      if (!why) {
        if (pname === name) d.busy = { owner: p.metadata?.annotations?.[OWNER_ANNOTATION], age: ageSeconds(p.metadata?.creationTimestamp, now) };
        continue;
      }
      try {
        ctx.log(2, `canary: deleting the leftover ${ns}/${pname}: ${why}`);
        const r = await deletePod(kube, ns, pname, p.metadata?.uid);
        d.leftovers.push({ name: pname, why, result: r === 'gone' ? 'gone' : 'deleted' });
      } catch (e) {
        d.leftovers.push({ name: pname, why, result: { error: errText(e) } });
      }
    }
    if (d.busy || d.leftovers.some((l) => typeof l.result === 'object')) return d;
    // A leftover by our name must be gone before ours can exist: wait for it as long as a delete stage may take.
    const ours = pods.find((p) => p.metadata?.name === name);
    if (ours) {
      const until = Math.min(waitEnd, Date.now() + o.deleteCritical * 1000);
      let left: Pod | undefined = ours;
      while (left && Date.now() < until && !stop.signal.aborted) {
        await sleep(200, stop.signal);
        left = await podIfPresent(kube, ns, name, ours.metadata?.uid);
      }
      if (left) {
        if (stop.signal.aborted) d.stuck = { stage: 'delete', seconds: 0, cause: 'sigterm' };
        else d.blocked = left;
        return d;
      }
    }
    // Signalled before anything was created: create nothing.
    if (stop.signal.aborted) { d.stuck = { stage: 'schedule', seconds: 0, cause: 'sigterm' }; return d; }

    const manifest = canaryManifest({
      name, namespace: ns, node: o.node, hostnameLabel: node?.metadata?.labels?.['kubernetes.io/hostname'] ?? o.node,
      image: o.image, timeoutSeconds: o.timeout, owner: thisRunOwner(),
    });
    let pod: Pod;
    try {
      pod = await kube.create<Pod>(RESOURCES.pods, ns, manifest);
    } catch (e) {
      // Another run created it between our list and our create: the lock did its job.
      if (e instanceof KubeApiError && e.status === 409) { d.busy = {}; return d; }
      throw e;
    }
    d.created = true;
    d.pod = pod;
    const uid = pod.metadata?.uid;
    let stageStart = Date.now();
    let stage: Stage | undefined = 'schedule';

    // Wait through schedule -> start -> ready; a pod may skip a stage between two polls (it took less than one poll).
    try {
      while (stage && stage !== 'delete') {
        const limit = stageStart + stageLimits(o, stage)[1] * 1000;
        if (stop.signal.aborted) break;
        if (Date.now() >= limit) { cause = 'limit'; break; }
        if (Date.now() >= waitEnd) { cause = 'time'; break; }
        await sleep(Math.min(pollMs(Date.now() - stageStart), Math.max(0, Math.min(limit, waitEnd) - Date.now())), stop.signal);
        if (stop.signal.aborted) break;
        const seen = await podIfPresent(kube, ns, name, uid);
        if (!seen) throw new PluginError(`the canary ${ns}/${name} disappeared before it was deleted: someone else deleted it, or the pod was evicted`);
        d.pod = seen;
        const next = waitingIn(progressOf(seen));
        const at = Date.now();
        // Every stage passed since the last poll ends now; a skipped one took no measurable time.
        while (stage !== (next ?? 'delete')) {
          d.seconds[stage] = (at - stageStart) / 1000;
          ctx.log(2, `canary ${ns}/${name}: stage ${stage} took ${d.seconds[stage]}s`);
          stageStart = at;
          stage = STAGES[STAGES.indexOf(stage) + 1]!;
        }
      }
    } catch (e) {
      if (e instanceof PluginError && !(e instanceof KubeApiError)) throw e;
      cause = 'api';
      d.stuck = { stage: stage!, seconds: (Date.now() - stageStart) / 1000, cause, error: errText(e) };
    }
    if (stage !== 'delete' && !d.stuck) d.stuck = { stage: stage!, seconds: (Date.now() - stageStart) / 1000, cause: cause ?? 'time' };

    // Evidence for a failed stage, read while the delete goes out; skipped when signalled (NRPE may SIGKILL next).
    const evidence = d.stuck && d.stuck.cause !== 'sigterm' && d.stuck.cause !== 'api' ? gatherEvidence(kube, d, ns, name, uid) : Promise.resolve();
    const deleteStart = Date.now();
    try {
      let r = await deletePod(kube, ns, name, uid);
      if (!d.stuck) {
        // The delete stage: until the kubelet confirms and the object is gone.
        const until = Math.min(deadline, deleteStart + o.deleteCritical * 1000);
        while (r !== 'gone' && Date.now() < until && !stop.signal.aborted) {
          await sleep(Math.min(pollMs(Date.now() - deleteStart), Math.max(0, until - Date.now())), stop.signal);
          const p = await podIfPresent(kube, ns, name, uid);
          if (p) d.pod = p; else r = 'gone';
        }
        const seconds = (Date.now() - deleteStart) / 1000;
        if (r === 'gone') d.seconds.delete = seconds;
        else d.stuck = { stage: 'delete', seconds, cause: stop.signal.aborted ? 'sigterm' : Date.now() >= deadline ? 'time' : 'limit' };
      }
      d.cleanup = r;
    } catch (e) {
      d.cleanup = { error: errText(e) };
    }
    await evidence;
    return d;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    if (cause === 'sigterm' && d.stuck) d.stuck.cause = 'sigterm';
    else if (cause === 'sigterm' && !d.stuck && d.created) d.stuck = { stage: 'delete', seconds: 0, cause: 'sigterm' };
  }
}

/** What explains a failed stage: the canary's events, the scheduler Lease, the bound node and its kubelet's heartbeat. */
async function gatherEvidence(kube: KubeClient, d: Data, ns: string, name: string, uid: string | undefined): Promise<void> {
  const note = (what: string) => (e: unknown) => { d.evidenceErrors.push(`${what}: ${errText(e)}`); return undefined; };
  const nodeName = d.pod?.spec?.nodeName;
  await Promise.all([
    kube.list<KubeEvent, KubeEvent>(RESOURCES.events, { namespace: ns, fieldSelector: [['involvedObject.name', '=', name]], project: compactEvent })
      .then((ev) => { d.events = ev.filter((e) => !uid || !e.involvedObject?.uid || e.involvedObject.uid === uid); }, note('events')),
    d.stuck?.stage === 'schedule'
      ? kube.getOptional<Lease>(RESOURCES.leases, SCHEDULER_LEASE.name, SCHEDULER_LEASE.namespace).then(async (l) => {
        d.schedulerLease = l;
        d.schedulerHolderNode = await findHolderNode(kube, l?.spec?.holderIdentity);
      }, note('scheduler Lease'))
      : undefined,
    nodeName ? kube.getOptional<Node>(RESOURCES.nodes, nodeName).then((n) => { d.boundNode = n; }, note(`node ${nodeName}`)) : undefined,
    nodeName ? kube.getOptional<Lease>(RESOURCES.leases, nodeName, NODE_LEASE_NAMESPACE).then((l) => { d.nodeLease = l; }, note(`node Lease ${nodeName}`)) : undefined,
  ]);
}

/** A stage's warning and critical seconds; a warning past the critical limit is the critical limit (-w above -c never fires). */
function stageLimits(o: Options, stage: Stage): [number, number] {
  const [w, c] = stage === 'schedule' ? [o.scheduleWarning, o.scheduleCritical] : stage === 'start' ? [o.startWarning, o.startCritical]
    : stage === 'ready' ? [o.readyWarning, o.readyCritical] : [o.deleteWarning, o.deleteCritical];
  return [Math.min(w, c), c];
}


const secs = (s: number) => formatDuration(Math.round(s));
const latest = (events: KubeEvent[], pred: (e: KubeEvent) => boolean) =>
  events.filter(pred).reduce<KubeEvent | undefined>((a, e) => (!a || (eventLastSeen(e) ?? 0) > (eventLastSeen(a) ?? 0) ? e : a), undefined);

/** The scheduler Lease in a few words: who holds it and how fresh. */
function leaseWords(d: Data, now: number): string {
  const l = d.schedulerLease;
  if (!l) return d.evidenceErrors.find((e) => e.startsWith('scheduler Lease')) ? 'scheduler Lease not readable' : 'no scheduler Lease (leader election off?)';
  const holder = d.schedulerHolderNode?.metadata?.name ?? holderNode(l.spec?.holderIdentity);
  if (!holder) return 'scheduler Lease has no holder';
  const age = ageSeconds(l.spec?.renewTime, now);
  const expired = age !== undefined && l.spec?.leaseDurationSeconds !== undefined && age > l.spec.leaseDurationSeconds;
  const readiness = d.schedulerHolderNode ? nodeReadiness(d.schedulerHolderNode) : undefined;
  return `scheduler Lease held by ${holder}${readiness && readiness !== 'Ready' ? ` (node ${readiness})` : ''}, renewed ${age === undefined ? '?' : secs(age)} ago${expired ? ' (EXPIRED)' : ''}`;
}

/** The bound node's kubelet heartbeat in a few words. */
function kubeletWords(d: Data, now: number): string {
  const node = d.pod?.spec?.nodeName ?? '?';
  if (!d.nodeLease) return `node ${node}: no heartbeat Lease read`;
  const f = leaseFreshness(d.nodeLease, now);
  return `kubelet heartbeat (Lease ${NODE_LEASE_NAMESPACE}/${node}) renewed ${f.renewAge === undefined ? 'never' : `${secs(f.renewAge)} ago`}${f.expired ? ', EXPIRED' : ''}`;
}

interface Verdict { state: State; short: string; next: string; evidence: string[] }

/** Why a stage failed and what to do, from the pod as last seen and the evidence. Pure. */
export function stageVerdict(d: Data, o: Options, now: number): Verdict | undefined {
  const s = d.stuck;
  if (!s) return undefined;
  const p = d.pod ?? {};
  const node = p.spec?.nodeName;
  const ref = `${d.namespace}/${d.name}`;
  const { warn, crit } = perf.options(`${s.stage}_seconds`, o);
  const judged = judge(s.seconds, warn, crit).state;
  const byTime = s.cause === 'limit' ? State.CRITICAL : judged !== State.OK ? judged : o.timeoutState;
  const outOfTime = s.cause === 'time' ? ` (the run's -t ${o.timeout}s ended first: give -t more than the stage limits)` : '';
  const warnings = d.events.filter((e) => e.type === 'Warning');
  // Sandbox messages end with what matters (the reserving sandbox id): keep them whole up to 600.
  const ev = (e: KubeEvent) => `${e.reason}${eventCount(e) > 1 ? ` x${eventCount(e)}` : ''}: ${sanitize(e.message ?? '', 600)}`;
  if (s.cause === 'sigterm') {
    return { state: State.UNKNOWN, short: `ended by a signal in stage ${s.stage} after ${secs(s.seconds)}`, next: 'NRPE\'s command_timeout is shorter than -t: raise command_timeout (or lower -t) so the run ends on its own', evidence: [] };
  }
  if (s.cause === 'api') {
    return { state: State.UNKNOWN, short: `API error in stage ${s.stage} after ${secs(s.seconds)}: ${s.error}`, next: 'the API server failed mid-run: check it (check_k8s_apiserver); the next run deletes a canary this one left', evidence: [] };
  }
  switch (s.stage) {
    case 'schedule': {
      const c = condition(p.status?.conditions, 'PodScheduled');
      if (c && c.status === 'False' && c.reason) {
        const state = s.cause === 'limit' ? (o.unschedulableState === 'critical' ? State.CRITICAL : State.WARNING) : byTime;
        return {
          state, short: `not scheduled after ${secs(s.seconds)}: ${c.reason}: ${sanitize(c.message ?? '', 200)}${outOfTime}`,
          next: `the scheduler works but found no node${d.node ? ` (is ${d.node} cordoned, tainted or full?)` : ''}: free capacity or fix the node (kubectl describe node); check_k8s_scheduler_stall shows who else waits`,
          evidence: [`${ref}: PodScheduled=False ${c.reason} since ${c.lastTransitionTime ?? '?'}`, leaseWords(d, now)],
        };
      }
      const failed = latest(d.events, (e) => e.reason === 'FailedScheduling');
      const holder = d.schedulerHolderNode?.metadata?.name ?? holderNode(d.schedulerLease?.spec?.holderIdentity);
      return {
        state: byTime,
        short: `not scheduled after ${secs(s.seconds)}: no scheduling attempt (PodScheduled absent); ${leaseWords(d, now)}${outOfTime}`,
        next: `the scheduler${holder ? ` on ${holder}` : ''} holds its Lease but does not work its queue: restart it there (microk8s: sudo snap restart microk8s.daemon-kubelite); check_k8s_scheduler_stall and check_k8s_leases confirm`,
        evidence: [`${ref}: no PodScheduled condition${failed ? `; ${ev(failed)}` : ', no FailedScheduling event'}`],
      };
    }
    case 'start': {
      const sandbox = latest(warnings, (e) => e.reason === 'FailedCreatePodSandBox');
      const waiting = (p.status?.containerStatuses ?? []).find((c) => c.state?.waiting?.reason)?.state?.waiting;
      const bound = `bound to ${node ?? '?'} ${secs(s.seconds)} ago`;
      if (sandbox) {
        const reserved = /is reserved/.test(sandbox.message ?? '');
        // The telling words end a long message: the status line says them, the evidence line has it whole.
        const what = reserved ? 'name is reserved' : sanitize(sandbox.message ?? '', 160);
        return {
          state: byTime, short: `${bound}, no sandbox: FailedCreatePodSandBox${eventCount(sandbox) > 1 ? ` x${eventCount(sandbox)}` : ''}: ${what}${outOfTime}`,
          next: reserved
            ? `containerd on ${node} holds a stale sandbox name ("name is reserved"): restart containerd there (microk8s: sudo snap restart microk8s.daemon-containerd); check_k8s_sandbox_changed --node ${node} shows the pods it blocks`
            : `containerd or the CNI on ${node} cannot make sandboxes: read its journal (microk8s: journalctl -u snap.microk8s.daemon-containerd) and check_k8s_sandbox_changed --node ${node}`,
          evidence: [ev(sandbox), kubeletWords(d, now)],
        };
      }
      if (waiting && /ErrImagePull|ImagePullBackOff|InvalidImageName/.test(waiting.reason ?? '')) {
        return {
          state: byTime, short: `${bound}, container not started: ${waiting.reason}: ${sanitize(waiting.message ?? '', 200)}${outOfTime}`,
          next: `the image ${o.image} is not on ${node} and cannot be pulled: give --image the sandbox image the nodes already have (or a mirror reachable from them)`,
          evidence: [kubeletWords(d, now)],
        };
      }
      const wroteStatus = Boolean(p.status?.containerStatuses?.length || condition(p.status?.conditions, 'Initialized') || p.status?.startTime);
      const other = latest(warnings, () => true);
      if (!wroteStatus && !other) {
        return {
          state: byTime, short: `${bound}, its kubelet wrote no status and no events; ${kubeletWords(d, now)}${outOfTime}`,
          next: `the kubelet on ${node} is not working its pods or cannot write to the API: check_k8s_kubelet_stall --node ${node}, then the datastore (check_k8s_dqlite)`,
          evidence: [`${ref}: phase ${p.status?.phase ?? 'none'}, no container status, no Warning event`],
        };
      }
      return {
        state: byTime, short: `${bound}, container not started${waiting?.reason ? ` (${waiting.reason})` : ''}${other ? `: ${ev(other)}` : ''}${outOfTime}`,
        next: `on ${node} look at the kubelet and containerd (kubectl -n ${d.namespace} describe pod ${d.name} while a run waits; check_k8s_kubelet_stall --node ${node})`,
        evidence: [kubeletWords(d, now)],
      };
    }
    case 'ready': {
      const other = latest(warnings, () => true);
      return {
        state: byTime, short: `Running on ${node ?? '?'} but Ready not written for ${secs(s.seconds)}; ${kubeletWords(d, now)}${outOfTime}`,
        next: `the kubelet on ${node} runs the container but its status does not reach the API: check the datastore (check_k8s_dqlite: "context canceled") and check_k8s_kubelet_stall --node ${node}`,
        evidence: other ? [ev(other)] : [],
      };
    }
    case 'delete': {
      const fin = p.metadata?.finalizers?.length ? `; finalizers ${sanitize(p.metadata.finalizers.join(','), 200)}` : '';
      return {
        state: byTime, short: `deleted, still present after ${secs(s.seconds)} on ${node ?? 'no node'} (kubelet or datastore)${fin}${outOfTime}`,
        next: `the kubelet on ${node ?? '?'} has not confirmed the delete: check_k8s_kubelet_stall --node ${node ?? '?'} and check_k8s_stuck_terminating; the next run reports this canary until it goes`,
        evidence: [kubeletWords(d, now)],
      };
    }
  }
}

const perf = declareMetrics({
  schedule_seconds: { describe: 'Created until bound to a node (PodScheduled)', judge: range('scheduleWarning', 'scheduleCritical', { as: 'max' }), uom: 's' },
  start_seconds: { describe: 'Bound until its container runs (sandbox made, container started)', judge: range('startWarning', 'startCritical', { as: 'max' }), uom: 's' },
  ready_seconds: { describe: 'Running until Ready is written', judge: range('readyWarning', 'readyCritical', { as: 'max' }), uom: 's' },
  delete_seconds: { describe: 'Delete until gone from the API (the kubelet confirmed)', judge: range('deleteWarning', 'deleteCritical', { as: 'max' }), uom: 's' },
  total_seconds: { describe: 'Create until gone (U when a stage failed)', judge: range('warning', 'critical'), uom: 's' },
  leftovers_deleted: { describe: 'Canaries of ended runs this run deleted' },
});

export default defineCheck({
  name: 'canary',
  title: 'CANARY',
  scope: 'cluster',
  nrpe: {
    args: '-t 55',
    about: 'Opt-in (it writes): one small pod started and deleted per run, each stage timed (schedule, start,\n' +
      'Ready, delete), the failed stage named with its evidence and the next step. Needs\n' +
      'deploy/rbac-canary.yaml applied. Add --node NAME (this node as `kubectl get nodes` shows it) to\n' +
      'pin the pod here; without it the scheduler picks the node. Run it every 5 minutes or more: one pod\n' +
      'start per run. NRPE\'s command_timeout must exceed -t (so the check deletes its pod itself).',
  },

  summary: 'Starts a small pod and times each stage: scheduled, started, Ready, deleted (opt-in: it writes)',
  description:
    'An end-to-end probe: creates one small pod in its own namespace (--namespace, optionally pinned to --node), from an image every ' +
    'node already has, and times it through four stages, each with its own thresholds and perfdata: schedule (created until bound), ' +
    'start (bound until a container runs), ready (running until Ready is written) and delete (delete until gone from the API). ' +
    'A stage that passes its critical limit ends the wait; the verdict names the stage and its evidence: no scheduling attempt and ' +
    'who holds the scheduler Lease, or the Unschedulable message; the sandbox events ("name is reserved"); a kubelet that writes no status; ' +
    'a delete the kubelet never confirms. The first long-output line says what to do next.\n\n' +
    'It never leaves litter: it deletes its pod on every way out (the end of -t, SIGTERM), deletes on start the canaries of runs that ' +
    'ended (a killed run on this host is known at once, others after their -t plus 60s), keeps one canary per node (a fixed name per ' +
    'node: the API refuses a second), and refuses to run in a namespace that holds any pod not made by k8s-nrpe. A run that cannot delete ' +
    'its pod says so (UNKNOWN unless a stage failed). It needs its own RBAC (deploy/rbac-canary.yaml) and is not in the default NRPE set.\n\n' +
    '-w/-c judge the total seconds from create to gone. -t must exceed the stage limits you want judged (the NRPE entry uses 60s).',
  thresholds: { describe: 'total seconds from create to gone', warning: '30', critical: '60' },
  options,
  perfdata: perf.docs,
  examples: [
    ['$0 --kubeconfig /etc/nagios/k8s-nrpe-canary.kubeconfig --node k8s01 -t 60', 'one pod start on k8s01, judged stage by stage'],
    ['$0 --image registry.local/pause:3.10 --start-critical 60s -t 90', 'an air-gapped registry, a slower start allowed'],
  ],
  optIn: 'it creates and deletes a pod each run (deploy/rbac-canary.yaml grants that in its namespace only)',
  triage: { skip: () => 'creates a pod: run it with k8s-nrpe triage --only canary' },

  async gather(ctx, o): Promise<Data> {
    return runCanary(ctx, o, await ctx.kube());
  },

  evaluate(d, o, now) {
    const r = new Report();
    const ref = `${d.namespace}/${d.name}`;
    if (d.foreign.length) {
      r.problem(State.UNKNOWN, `refusing to run: namespace ${d.namespace} holds ${plural(d.foreign.length, 'pod')} not made by k8s-nrpe (${sanitize(d.foreign.slice(0, 3).join(', '), 200)})`,
        `next: give the canary a namespace of its own (deploy/rbac-canary.yaml makes ${d.namespace}; --namespace) or move those pods out`);
    }
    if (d.busy) {
      r.problem(State.UNKNOWN, `another run's canary ${ref} is in progress${d.busy.age !== undefined ? ` (created ${secs(d.busy.age)} ago` : ''}${d.busy.owner ? ` by ${sanitize(d.busy.owner, 120)})` : d.busy.age !== undefined ? ')' : ''}`,
        'next: runs overlap: make the check interval longer than -t, and run one canary per node');
    }
    if (d.blocked) {
      const del = ageSeconds(d.blocked.metadata?.deletionTimestamp, now);
      r.action(State.CRITICAL, `the kubelet on ${d.blocked.spec?.nodeName ?? '?'} has not confirmed the delete: check_k8s_kubelet_stall and check_k8s_stuck_terminating; this check waits for it`);
      r.problem(State.CRITICAL, `a previous canary ${ref} is still present${del !== undefined ? ` ${secs(del)} after its delete` : ''} on ${d.blocked.spec?.nodeName ?? 'no node'} (kubelet or datastore)`);
    }
    if (!d.created && !d.foreign.length && !d.busy && !d.blocked && !d.stuck && !d.leftovers.some((l) => typeof l.result === 'object')) {
      r.problem(State.UNKNOWN, 'no canary was created');
    }
    const v = stageVerdict(d, o, now);
    if (v) {
      r.action(v.state, v.next);
      r.problem(v.state, v.short);
      for (const e of v.evidence) r.info(e);
    }
    for (const l of d.leftovers) {
      if (typeof l.result === 'object') r.problem(State.UNKNOWN, `cannot delete the leftover canary ${d.namespace}/${l.name}: ${l.result.error}`);
      else r.info(`deleted the leftover canary ${d.namespace}/${l.name}: ${l.why}`);
    }
    if (d.cleanup && typeof d.cleanup === 'object') {
      r.problem(State.UNKNOWN, `cannot delete the canary ${ref}: ${d.cleanup.error}`,
        `the next run deletes it; now: kubectl -n ${d.namespace} delete pod ${d.name}`);
    } else if (d.cleanup === 'deleting' && d.stuck) {
      r.info(`canary ${ref} deleted; the API still had it when this run ended (the next run waits for it)`);
    }
    for (const e of d.evidenceErrors) r.info(`not read: ${e}`);

    // Perfdata: every stage, U when it did not end.
    let total = 0;
    let complete = d.created;
    for (const s of STAGES) {
      const value = d.seconds[s];
      if (value === undefined) { complete = false; perf.metric(r, `${s}_seconds`, undefined, o, { min: 0 }); continue; }
      const rounded = Math.round(value * 100) / 100;
      total += value;
      const j = perf.judge(r, `${s}_seconds`, rounded, o, { min: 0 });
      if (j.state !== State.OK) r.problem(j.state, `${s} took ${rounded}s (${j.hint})`, `next: ${s} is slow but works: ${STAGE_WORDS[s]}; compare with other nodes' canaries`);
    }
    if (complete) {
      const t = Math.round(total * 100) / 100;
      const j = perf.judge(r, 'total_seconds', t, o, { min: 0 });
      if (j.state !== State.OK) r.problem(j.state, `create to gone took ${t}s (${j.hint})`);
    } else perf.metric(r, 'total_seconds', undefined, o, { min: 0 });
    r.metric('leftovers_deleted', d.leftovers.filter((l) => l.result === 'deleted').length, { min: 0 });

    const where = d.pod?.spec?.nodeName ? ` on ${d.pod.spec.nodeName}` : '';
    const steps = STAGES.map((s) => `${s} ${d.seconds[s] === undefined ? '-' : `${Math.round(d.seconds[s]! * 10) / 10}s`}`).join(', ');
    if (d.created) r.info(`canary ${ref}${where}: ${steps}`);
    return r.done(`canary ${ref} started and went${where} in ${Math.round(total * 10) / 10}s (${steps})`);
  },
});

