// Rollout and availability of Deployments, StatefulSets and DaemonSets, read
// from the status their controllers write (pkg/controller/deployment,
// statefulset, daemon in kubernetes/kubernetes). Pure: no I/O, `now` given.
import { formatDuration } from '../plugin/duration.js';
import { condition, objectRef, refOf } from './objects.js';
import { parseTime } from './time.js';
import type { Deployment, Node, Pod } from './types.js';
import { podNotReadyReason } from './pods.js';

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

/** How bad one workload is: 'down' (nothing ready), 'degraded', or fine. */
export type Health = 'down' | 'degraded' | 'ok';

export interface WorkloadVerdict {
  kind: WorkloadKind;
  /** namespace/name */
  id: string;
  desired: number;
  ready: number;
  available: number;
  updated: number;
  health: Health;
  /** Why it is not fine, most important first. */
  why: string[];
  /** Context that is not a problem (a young rollout, a paused Deployment, scaled to zero). */
  notes: string[];
}

export interface JudgeOptions {
  /** Seconds a rollout (or a new workload) may take before unavailable replicas count. */
  rolloutWindow: number;
  now: number;
}

/** What a DaemonSet's pods and the nodes say about where it is missing or not ready. */
export interface DaemonPlacement {
  /** Nodes that should run a pod (by nodeSelector and taints) but have none. */
  missingOn: string[];
  /** node -> why its pod is not available. */
  notReadyOn: { node: string; why: string }[];
  /** Nodes cordoned (spec.unschedulable): drained for maintenance, a rolling reboot. */
  cordoned?: string[];
}

const n = (v: number | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const id = (w: Deployment) => objectRef(w.metadata);

/**
 * The ignore annotation: `k8s-nrpe/ignore: "true"` on the workload.
 */
export const IGNORE_ANNOTATION = 'k8s-nrpe/ignore';
export function ignoredByAnnotation(w: Deployment): boolean {
  return w.metadata?.annotations?.[IGNORE_ANNOTATION]?.toLowerCase() === 'true';
}

/** A shell-style glob ('*', '?') as an anchored RegExp; everything else is literal. */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** --exclude NS/NAME globs; a pattern without '/' means NAME in any namespace. */
export function excludedByName(namespace: string, name: string, patterns: readonly string[]): string | undefined {
  for (const p of patterns) {
    const full = p.includes('/') ? p : `*/${p}`;
    if (globToRegExp(full).test(refOf(namespace, name))) return p;
  }
  return undefined;
}

/** Seconds since the workload was created (undefined: no timestamp). */
function createdAgo(w: Deployment, now: number): number | undefined {
  const t = parseTime(w.metadata?.creationTimestamp);
  return t === undefined ? undefined : Math.max(0, (now - t) / 1000);
}

/** The controller has not yet written status for the latest spec: counts may be stale. */
function generationBehind(w: Deployment): string | undefined {
  const gen = w.metadata?.generation;
  const seen = w.status?.observedGeneration;
  if (gen === undefined || seen === undefined || seen >= gen) return undefined;
  return `controller has not observed generation ${gen} (status is for ${seen}): kube-controller-manager behind or down`;
}

function verdict(kind: WorkloadKind, w: Deployment, c: { desired: number; ready: number; available: number; updated: number }): WorkloadVerdict {
  return { kind, id: id(w), ...c, health: 'ok', why: [], notes: [] };
}

/**
 * Availability shared by the three kinds: nothing ready is 'down'; fewer
 * available than desired is 'degraded' unless the workload is young or its
 * rollout is still within the window (a rolling update takes replicas away
 * on purpose), which is a note.
 */
function judgeAvailability(v: WorkloadVerdict, young: string | undefined, what = 'replicas'): void {
  if (v.desired <= 0) return;
  const counts = `${v.ready}/${v.desired} ${what} ready, ${v.available} available`;
  if (v.ready === 0 && v.available === 0) {
    if (young) v.notes.push(`${counts}: ${young}`);
    else { v.health = 'down'; v.why.unshift(`no ready ${what.replace(/s$/, '')} (${counts})`); }
  } else if (v.available < v.desired) {
    if (young) v.notes.push(`${counts}: ${young}`);
    else { v.health = worse(v.health, 'degraded'); v.why.unshift(counts); }
  }
}

function worse(a: Health, b: Health): Health {
  const rank: Record<Health, number> = { ok: 0, degraded: 1, down: 2 };
  return rank[b] > rank[a] ? b : a;
}

function degrade(v: WorkloadVerdict, why: string): void {
  v.health = worse(v.health, 'degraded');
  v.why.push(why);
}

/**
 * Deployment. The deployment controller (progress.go) keeps a Progressing
 * condition: True/NewReplicaSetAvailable when a rollout completed,
 * True/ReplicaSetUpdated with lastUpdateTime moved on every bit of progress,
 * False/ProgressDeadlineExceeded once spec.progressDeadlineSeconds (600 s by
 * default) passed without progress; paused: Unknown/DeploymentPaused.
 */
export function judgeDeployment(d: Deployment, o: JudgeOptions): WorkloadVerdict {
  const st = d.status ?? {};
  const desired = d.spec?.replicas ?? 1;
  const v = verdict('Deployment', d, { desired, ready: n(st.readyReplicas), available: n(st.availableReplicas), updated: n(st.updatedReplicas) });
  if (desired === 0) { v.notes.push('scaled to 0'); return v; }
  const behind = generationBehind(d);
  if (behind) degrade(v, behind);

  const progressing = condition(st.conditions, 'Progressing');
  const rolling = v.updated < desired || n(st.replicas) > v.updated;
  let young: string | undefined;
  const age = createdAgo(d, o.now);
  if (age !== undefined && age < o.rolloutWindow) young = `created ${formatDuration(age)} ago`;
  if (d.spec?.paused) v.notes.push('rollout paused (spec.paused)');
  if (progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') {
    degrade(v, `rollout stuck: ProgressDeadlineExceeded (${progressing.message ?? 'no message'}), ${v.updated}/${desired} updated`);
    young = undefined;
  } else if (rolling && !d.spec?.paused) {
    const last = parseTime(progressing?.lastUpdateTime);
    const since = last === undefined ? undefined : Math.max(0, (o.now - last) / 1000);
    if (since !== undefined && since >= o.rolloutWindow) {
      degrade(v, `rollout made no progress for ${formatDuration(since)}: ${v.updated}/${desired} updated, ${n(st.replicas)} replicas`);
    } else if (since !== undefined) {
      v.notes.push(`rolling out: ${v.updated}/${desired} updated, last progress ${formatDuration(since)} ago`);
      young ??= 'rolling out';
    }
  }
  judgeAvailability(v, young);
  const available = condition(st.conditions, 'Available');
  if (v.health !== 'ok' && available?.status === 'False') v.why.push(`Available=False ${available.reason ?? ''}: ${available.message ?? ''}`.trim());
  return v;
}

/**
 * StatefulSet. status.currentRevision and status.updateRevision name
 * ControllerRevisions; while they differ a RollingUpdate is under way (with
 * a partition only ordinals >= partition are updated). `revisionCreated` is
 * the creationTimestamp of the update revision (when the rollout began).
 */
export function judgeStatefulSet(s: Deployment, o: JudgeOptions & { revisionCreated?: number }): WorkloadVerdict {
  const st = s.status ?? {};
  const desired = s.spec?.replicas ?? 1;
  const ready = n(st.readyReplicas);
  // availableReplicas is there since 1.22 (minReadySeconds); before that ready is what counts.
  const available = st.availableReplicas === undefined ? ready : n(st.availableReplicas);
  const v = verdict('StatefulSet', s, { desired, ready, available, updated: n(st.updatedReplicas) });
  if (desired === 0) { v.notes.push('scaled to 0'); return v; }
  const behind = generationBehind(s);
  if (behind) degrade(v, behind);
  let young: string | undefined;
  const age = createdAgo(s, o.now);
  if (age !== undefined && age < o.rolloutWindow) young = `created ${formatDuration(age)} ago`;

  const strategy = s.spec?.updateStrategy?.type ?? 'RollingUpdate';
  const partition = s.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
  const target = Math.max(0, desired - partition);
  if (st.updateRevision && st.currentRevision && st.updateRevision !== st.currentRevision && v.updated < target) {
    if (strategy === 'OnDelete') v.notes.push(`${v.updated}/${desired} pods on the new revision (updateStrategy OnDelete: pods change when deleted)`);
    else young ??= rolloutAge(v, o, `${v.updated}/${target} updated${partition ? ` (partition ${partition})` : ''}`);
  }
  judgeAvailability(v, young);
  return v;
}

/** A rollout started at revisionCreated: young (a note) within the window, else a problem. */
function rolloutAge(v: WorkloadVerdict, o: JudgeOptions & { revisionCreated?: number }, counts: string): string | undefined {
  if (o.revisionCreated === undefined) {
    v.notes.push(`rolling out (${counts}); when it began is not known`);
    return undefined;
  }
  const since = Math.max(0, (o.now - o.revisionCreated) / 1000);
  if (since < o.rolloutWindow) {
    v.notes.push(`rolling out for ${formatDuration(since)}: ${counts}`);
    return 'rolling out';
  }
  degrade(v, `rollout not done after ${formatDuration(since)}: ${counts}`);
  return undefined;
}

/**
 * DaemonSet. The daemon controller counts nodes that should run a pod
 * (desiredNumberScheduled), nodes that do (currentNumberScheduled), pods
 * ready / available, nodes running a pod they should not
 * (numberMisscheduled) and pods of the current template
 * (updatedNumberScheduled).
 */
export function judgeDaemonSet(ds: Deployment, o: JudgeOptions & { revisionCreated?: number; placement?: DaemonPlacement }): WorkloadVerdict {
  const st = ds.status ?? {};
  const desired = n(st.desiredNumberScheduled);
  const v = verdict('DaemonSet', ds, { desired, ready: n(st.numberReady), available: n(st.numberAvailable), updated: n(st.updatedNumberScheduled) });
  if (desired === 0) { v.notes.push('no node selected to run it (desiredNumberScheduled 0)'); return v; }
  const behind = generationBehind(ds);
  if (behind) degrade(v, behind);
  let young: string | undefined;
  const age = createdAgo(ds, o.now);
  if (age !== undefined && age < o.rolloutWindow) young = `created ${formatDuration(age)} ago`;

  const current = n(st.currentNumberScheduled);
  const missing = desired - current;
  const maintenance = shortOnCordoned(o.placement, desired - v.available, missing, v.available);
  if (maintenance) { v.notes.push(maintenance); young ??= 'the nodes short of a pod are cordoned'; }
  const strategy = ds.spec?.updateStrategy?.type ?? 'RollingUpdate';
  if (v.updated < desired && strategy !== 'OnDelete') young ??= rolloutAge(v, o, `${v.updated}/${desired} updated`);
  else if (v.updated < desired) v.notes.push(`${v.updated}/${desired} pods of the current template (updateStrategy OnDelete)`);

  judgeAvailability(v, young, 'pods');
  const where = o.placement;
  if (missing > 0 && !young) {
    const names = where && where.missingOn.length === missing ? `: ${where.missingOn.join(', ')}` : '';
    degrade(v, `no pod on ${missing} of ${desired} nodes that should run one${names}`);
  }
  if (v.health !== 'ok' && where?.notReadyOn.length) v.why.push(`not available on ${where.notReadyOn.map((x) => `${x.node} (${x.why})`).join(', ')}`);
  const mis = n(st.numberMisscheduled);
  if (mis > 0) degrade(v, `${mis} ${mis === 1 ? 'pod' : 'pods'} on nodes that should not run it (numberMisscheduled)`);
  return v;
}

/**
 * A DaemonSet short of pods only on cordoned nodes is a node under
 * maintenance (a rolling reboot drains and cordons one node at a time), not a
 * broken DaemonSet: kubernetes-mixin#625. Only when every node short of a pod
 * is named and cordoned, and some pod still serves elsewhere. The note says
 * where; undefined when the rule does not apply.
 */
function shortOnCordoned(where: DaemonPlacement | undefined, short: number, missing: number, available: number): string | undefined {
  if (!where?.cordoned?.length || short <= 0 || available <= 0) return undefined;
  if (missing > 0 && where.missingOn.length !== missing) return undefined;
  const nodes = new Set([...where.missingOn, ...where.notReadyOn.map((x) => x.node)]);
  if (nodes.size < short || [...nodes].some((x) => !where.cordoned!.includes(x))) return undefined;
  return `${short} ${short === 1 ? 'pod' : 'pods'} short on cordoned ${[...nodes].sort().join(', ')} (spec.unschedulable: maintenance or a rolling reboot), not counted; uncordon when done`;
}

// ---- DaemonSet placement: which nodes, from its pods and the nodes ----------

/** Taints the daemon controller tolerates on every DaemonSet pod (pkg/controller/daemon/util AddOrUpdateDaemonPodTolerations). */
const DAEMON_TOLERATED = new Set([
  'node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable', 'node.kubernetes.io/disk-pressure',
  'node.kubernetes.io/memory-pressure', 'node.kubernetes.io/pid-pressure', 'node.kubernetes.io/unschedulable',
  'node.kubernetes.io/network-unavailable',
]);

function tolerates(ds: Deployment, taint: { key?: string; value?: string; effect?: string }): boolean {
  if (taint.effect === 'PreferNoSchedule') return true;
  if (taint.key && DAEMON_TOLERATED.has(taint.key)) return true;
  return (ds.spec?.template?.spec?.tolerations ?? []).some((t) =>
    (!t.effect || t.effect === taint.effect) &&
    ((t.operator === 'Exists' && (!t.key || t.key === taint.key)) || (t.key === taint.key && (t.value ?? '') === (taint.value ?? ''))));
}

/**
 * Nodes that should run this DaemonSet by its nodeSelector and the taints it
 * tolerates. Node affinity is not evaluated: a DaemonSet that uses it gets
 * counts without names when they do not add up.
 */
export function daemonPlacement(ds: Deployment, pods: Pod[], nodes: Node[]): DaemonPlacement {
  const sel = ds.spec?.template?.spec?.nodeSelector ?? {};
  const eligible = nodes.filter((node) =>
    Object.entries(sel).every(([k, val]) => node.metadata?.labels?.[k] === val) &&
    (node.spec?.taints ?? []).every((t) => t.effect !== 'NoSchedule' && t.effect !== 'NoExecute' ? true : tolerates(ds, t)));
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
  const withPod = new Set(live.map((p) => p.spec?.nodeName).filter((x): x is string => !!x));
  const missingOn = eligible.map((x) => x.metadata?.name ?? '').filter((name) => name && !withPod.has(name)).sort();
  const notReadyOn = live
    .filter((p) => condition(p.status?.conditions, 'Ready')?.status !== 'True')
    .map((p) => ({ node: p.spec?.nodeName || 'no node', why: podNotReadyReason(p) }))
    .sort((a, b) => a.node.localeCompare(b.node));
  const cordoned = nodes.filter((x) => x.spec?.unschedulable).map((x) => x.metadata?.name ?? '').filter(Boolean).sort();
  return { missingOn, notReadyOn, ...(cordoned.length ? { cordoned } : {}) };
}

/**
 * A pod of this Deployment: controlled by one of its ReplicaSets, which are
 * named <deployment>-<pod-template-hash> (a prefix test would also take
 * coredns-autoscaler-...), or by nothing (a ReplicaSet would adopt it).
 */
export function ownedByDeployment(p: Pod, deployment: string): boolean {
  const ctrl = p.metadata?.ownerReferences?.find((r) => r.controller);
  if (!ctrl) return true;
  const hash = p.metadata?.labels?.['pod-template-hash'];
  return ctrl.kind === 'ReplicaSet' && hash !== undefined && ctrl.name === `${deployment}-${hash}`;
}
