// One canary run against the API: look, clean up leftovers, create, time
// each stage (schedule, start, ready, delete), gather evidence for a stage that
// failed, delete. check_k8s_canary (checks/canary.ts) declares the options and
// judges the CanaryRun this returns; the pod's shape and lifecycle helpers are
// lib/kube/canary.ts.
import { runAlive, thisRunOwner } from '../host/run-owner.js';
import type { Logger } from '../plugin/log.js';
import { deadlineFromProcessStart, sleep } from '../plugin/deadline.js';
import { PluginError } from '../plugin/errors.js';
import { sanitize } from '../plugin/sanitize.js';
import {
  canaryManifest, canaryName, deletePod, isCanary, leftBehind, OWNER_ANNOTATION, podIfPresent, progressOf, STAGES, waitingIn, type Stage,
} from './canary.js';
import type { KubeClient } from './client.js';
import { KubeApiError } from './errors.js';
import { compactEvent } from './events.js';
import { NODE_LEASE_NAMESPACE } from './node-lease.js';
import { findHolderNode, nodeNamed, unknownNode } from './nodes.js';
import { RESOURCES } from './resources.js';
import { ageSeconds } from './time.js';
import type { KubeEvent, Lease, Node, Pod } from './types.js';

const SCHEDULER_LEASE = { namespace: 'kube-system', name: 'kube-scheduler' };

export interface CanaryRunOptions {
  namespace: string;
  /** Pin to this node (by its kubernetes.io/hostname label). */
  node?: string;
  image: string;
  /** The run's -t, seconds: its own end comes ahead of it. */
  timeout: number;
  /** Seconds each stage may take before the run stops waiting in it (the --STAGE-critical options). */
  limits: Record<Stage, number>;
  log: Logger;
}

/** Why the run stopped waiting in a stage. */
export type StopCause = 'limit' | 'time' | 'sigterm' | 'api';

export interface Leftover {
  name: string;
  why: string;
  /** 'deleted', 'gone' (already), or the error that kept it. */
  result: 'deleted' | 'gone' | { error: string };
}

/** What one run saw: judged by check_k8s_canary's evaluate(). */
export interface CanaryRun {
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
export async function runCanary(kube: KubeClient, o: CanaryRunOptions): Promise<CanaryRun> {
  const ns = o.namespace;
  const name = canaryName(o.node);
  const d: CanaryRun = { namespace: ns, name, node: o.node, foreign: [], leftovers: [], created: false, seconds: {}, events: [], evidenceErrors: [], timeout: o.timeout };
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
        o.log(2, `canary: deleting the leftover ${ns}/${pname}: ${why}`);
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
      const until = Math.min(waitEnd, Date.now() + o.limits.delete * 1000);
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
        const limit = stageStart + o.limits[stage] * 1000;
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
          o.log(2, `canary ${ns}/${name}: stage ${stage} took ${d.seconds[stage]}s`);
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
        const until = Math.min(deadline, deleteStart + o.limits.delete * 1000);
        while (r !== 'gone' && Date.now() < until && !stop.signal.aborted) {
          await sleep(Math.min(pollMs(Date.now() - deleteStart), Math.max(0, until - Date.now())), stop.signal);
          const p = await podIfPresent(kube, ns, name, uid);
          if (p) d.pod = p; else r = 'gone';
        }
        const seconds = (Date.now() - deleteStart) / 1000;
        if (r === 'gone') d.seconds.delete = seconds;
        else d.stuck = { stage: 'delete', seconds, cause: stop.signal.aborted ? 'sigterm' : Date.now() >= deadline ? 'time' : 'limit' };
      } else if (r === 'deleting' && (d.stuck.cause === 'time' || d.stuck.cause === 'limit') && Date.now() < deadline) {
        // One look, not a wait: a pod never bound goes at once (the pod strategy's CheckGracefulDelete),
        // a bound one waits for its kubelet. A failed look leaves it 'deleting'.
        if (!(await podIfPresent(kube, ns, name, uid).catch(() => true))) r = 'gone';
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
async function gatherEvidence(kube: KubeClient, d: CanaryRun, ns: string, name: string, uid: string | undefined): Promise<void> {
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

