import { DEFAULT_CANARY_IMAGE, DEFAULT_CANARY_NAMESPACE, STAGES, type Stage } from '../lib/kube/canary.js';
import { runCanary, type CanaryRun } from '../lib/kube/canary-run.js';
import { eventCount, eventLastSeen } from '../lib/kube/events.js';
import { leaseFreshness, NODE_LEASE_NAMESPACE } from '../lib/kube/node-lease.js';
import { holderNode, nodeReadiness } from '../lib/kube/nodes.js';
import { condition } from '../lib/kube/objects.js';
import { ageSeconds } from '../lib/kube/time.js';
import type { KubeEvent, Lease } from '../lib/kube/types.js';
import { defineCheck, opt, type OptionsOf } from '../lib/plugin/check.js';
import { declareMetrics, range } from '../lib/plugin/context.js';
import { formatDuration } from '../lib/plugin/duration.js';
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
/** What a run saw (lib/kube/canary-run.ts). */
export type Data = CanaryRun;

const secs = (s: number) => formatDuration(Math.round(s));
const latest = (events: KubeEvent[], pred: (e: KubeEvent) => boolean) =>
  events.filter(pred).reduce<KubeEvent | undefined>((a, e) => (!a || (eventLastSeen(e) ?? 0) > (eventLastSeen(a) ?? 0) ? e : a), undefined);

/** The scheduler Lease in a few words: who holds it and how fresh. */
/** What the scheduler Lease says of who leads: read, held, fresh. */
function schedulerLead(d: Data, now: number): { kind: 'unreadable' | 'none' | 'no-holder' } | { kind: 'held'; holder: string; age?: number; expired: boolean } {
  const l = d.schedulerLease;
  if (!l) return { kind: d.evidenceErrors.some((e) => e.startsWith('scheduler Lease')) ? 'unreadable' : 'none' };
  const holder = d.schedulerHolderNode?.metadata?.name ?? holderNode(l.spec?.holderIdentity);
  if (!holder) return { kind: 'no-holder' };
  const age = ageSeconds(l.spec?.renewTime, now);
  return { kind: 'held', holder, age, expired: age !== undefined && l.spec?.leaseDurationSeconds !== undefined && age > l.spec.leaseDurationSeconds };
}

function leaseWords(d: Data, now: number): string {
  const lead = schedulerLead(d, now);
  if (lead.kind !== 'held') {
    return { unreadable: 'scheduler Lease not readable', none: 'no scheduler Lease (leader election off?)', 'no-holder': 'scheduler Lease has no holder' }[lead.kind];
  }
  const readiness = d.schedulerHolderNode ? nodeReadiness(d.schedulerHolderNode) : undefined;
  return `scheduler Lease held by ${lead.holder}${readiness && readiness !== 'Ready' ? ` (node ${readiness})` : ''}, renewed ${lead.age === undefined ? '?' : secs(lead.age)} ago${lead.expired ? ' (EXPIRED)' : ''}`;
}

/** The next step when the scheduler never tried the canary: it depends on what the Lease says of who leads. */
function unscheduledNext(d: Data, now: number): string {
  const restart = 'sudo snap restart microk8s.daemon-kubelite';
  const lead = schedulerLead(d, now);
  if (lead.kind === 'held' && !lead.expired) {
    return `the scheduler on ${lead.holder} holds its Lease but does not work its queue: restart it there (microk8s: ${restart}); check_k8s_scheduler_stall and check_k8s_leases confirm`;
  }
  const which = lead.kind === 'held' ? `the scheduler on ${lead.holder} stopped renewing its Lease and no other took it over`
    : lead.kind === 'no-holder' ? 'no scheduler holds its Lease'
      : lead.kind === 'none' ? 'no scheduler Lease says which scheduler leads'
        : 'the scheduler Lease could not be read (see the not-read line)';
  return `${which}: on each control-plane node see whether the scheduler runs (sudo snap services microk8s) and restart it (microk8s: ${restart})${lead.kind === 'held' ? `, ${lead.holder} first` : ''}; ` +
    'check_k8s_scheduler_stall and check_k8s_leases confirm';
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
      return {
        state: byTime,
        short: `not scheduled after ${secs(s.seconds)}: no scheduling attempt (PodScheduled absent); ${leaseWords(d, now)}${outOfTime}`,
        next: unscheduledNext(d, now),
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
  schedule_seconds: { describe: 'Created until bound to a node (PodScheduled)', judge: range('scheduleWarning', 'scheduleCritical', { as: 'max', cap: true }), uom: 's' },
  start_seconds: { describe: 'Bound until its container runs (sandbox made, container started)', judge: range('startWarning', 'startCritical', { as: 'max', cap: true }), uom: 's' },
  ready_seconds: { describe: 'Running until Ready is written', judge: range('readyWarning', 'readyCritical', { as: 'max', cap: true }), uom: 's' },
  delete_seconds: { describe: 'Delete until gone from the API (the kubelet confirmed)', judge: range('deleteWarning', 'deleteCritical', { as: 'max', cap: true }), uom: 's' },
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
    const limits = { schedule: o.scheduleCritical, start: o.startCritical, ready: o.readyCritical, delete: o.deleteCritical };
    return runCanary(await ctx.kube(), { namespace: o.namespace, node: o.node, image: o.image, timeout: o.timeout, limits, log: ctx.log });
  },

  evaluate(d, o, now) {
    const r = new Report();
    const ref = `${d.namespace}/${d.name}`;
    if (d.foreign.length) {
      r.problem(State.UNKNOWN, `refusing to run: namespace ${d.namespace} holds ${plural(d.foreign.length, 'pod')} not made by k8s-nrpe (${sanitize(d.foreign.slice(0, 3).join(', '), 200)})`,
        `next: give the canary a namespace of its own (deploy/rbac-canary.yaml makes ${d.namespace}; --namespace) or move those pods out`);
    }
    if (d.busy) {
      const made = [d.busy.age !== undefined ? `created ${secs(d.busy.age)} ago` : '', d.busy.owner ? `by ${sanitize(d.busy.owner, 120)}` : ''].filter(Boolean).join(' ');
      r.problem(State.UNKNOWN, `another run's canary ${ref} is in progress${made ? ` (${made})` : ''}`,
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
    } else if (d.cleanup === 'gone' && (d.stuck?.cause === 'time' || d.stuck?.cause === 'limit') && d.stuck.stage !== 'delete') {
      // After a failed stage the run looked once: no litter left behind.
      r.info(`canary ${ref} deleted and gone`);
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
    perf.metric(r, 'leftovers_deleted', d.leftovers.filter((l) => l.result === 'deleted').length, o, { min: 0 });

    const where = d.pod?.spec?.nodeName ? ` on ${d.pod.spec.nodeName}` : '';
    const steps = STAGES.map((s) => `${s} ${d.seconds[s] === undefined ? '-' : `${Math.round(d.seconds[s]! * 10) / 10}s`}`).join(', ');
    if (d.created) r.info(`canary ${ref}${where}: ${steps}`);
    return r.done(`canary ${ref} started and went${where} in ${Math.round(total * 10) / 10}s (${steps})`);
  },
});

