// The canary pod: what it is (a manifest that marks it as ours), how its
// stages are read from the pod the API returns, which pods in the canary
// namespace are ours and which of ours were left by runs that ended, and the
// few writes the canary needs (create, delete with a uid precondition).
// check_k8s_canary (checks/canary.ts) drives a run with these and judges it.
import { createHash } from 'node:crypto';
import { KubeApiError } from './errors.js';
import type { KubeClient } from './client.js';
import { RESOURCES } from './resources.js';
import { condition } from './objects.js';
import { parseTime } from './time.js';
import type { Pod } from './types.js';

/** Labels that mark a pod as a k8s-nrpe canary; the namespace must hold nothing else. */
export const CANARY_LABELS = { 'app.kubernetes.io/managed-by': 'k8s-nrpe', 'app.kubernetes.io/name': 'k8s-nrpe-canary' } as const;
/** Who made it (lib/host/run-owner.ts): a later run on that host tells at once whether its maker still runs. */
export const OWNER_ANNOTATION = 'k8s-nrpe.io/owner';
/** The maker's -t: a canary older than this (plus STALE_GRACE_S) has outlived its run, wherever that ran. */
export const TIMEOUT_ANNOTATION = 'k8s-nrpe.io/timeout-seconds';
/** Slack on top of the maker's -t before its canary counts as left behind (clock steps, a slow exit). */
export const STALE_GRACE_S = 60;
/** The grace period of our deletes: the kubelet stops the container and confirms (a 0 would remove the object without it). */
export const DELETE_GRACE_S = 1;

export const DEFAULT_CANARY_NAMESPACE = 'k8s-nrpe-canary';
/** The sandbox image of containerd 2.x and kubeadm 1.31+: every node already has its own sandbox image (--image). */
export const DEFAULT_CANARY_IMAGE = 'registry.k8s.io/pause:3.10';

const BASE_NAME = 'k8s-nrpe-canary';

/**
 * One fixed name per node (or one for an unpinned canary): the API's own
 * AlreadyExists is the lock that keeps two runs from piling up canaries on a
 * node. A node name too long to fit is replaced by a hash of it.
 */
export function canaryName(node?: string): string {
  if (!node) return BASE_NAME;
  const name = `${BASE_NAME}-${node}`;
  // Pod names are subdomains (253); the hostname the kubelet derives is cut at 63, so keep within it.
  if (name.length <= 63) return name;
  return `${BASE_NAME}-${createHash('sha256').update(node).digest('hex').slice(0, 16)}`;
}

export interface CanarySpec {
  name: string;
  namespace: string;
  /** The value of the node's kubernetes.io/hostname label: the scheduler still places it. */
  hostnameLabel?: string;
  node?: string;
  image: string;
  /** The run's -t, seconds: activeDeadlineSeconds and the staleness bound. */
  timeoutSeconds: number;
  owner: string;
}

/**
 * The smallest pod that exercises scheduling, the sandbox, a container start
 * and readiness: the node's own sandbox image (already present), no token, no
 * privileges, no restart, a tiny request, and a deadline so even a canary
 * nobody deletes stops running.
 */
export function canaryManifest(s: CanarySpec) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: s.name,
      namespace: s.namespace,
      labels: { ...CANARY_LABELS },
      annotations: { [OWNER_ANNOTATION]: s.owner, [TIMEOUT_ANNOTATION]: String(Math.ceil(s.timeoutSeconds)) },
    },
    spec: {
      ...(s.hostnameLabel && { nodeSelector: { 'kubernetes.io/hostname': s.hostnameLabel } }),
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      activeDeadlineSeconds: Math.ceil(s.timeoutSeconds) + STALE_GRACE_S,
      securityContext: { runAsNonRoot: true, runAsUser: 65535, runAsGroup: 65535, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{
        name: 'canary',
        image: s.image,
        imagePullPolicy: 'IfNotPresent',
        resources: { requests: { cpu: '1m', memory: '8Mi' }, limits: { cpu: '10m', memory: '16Mi' } },
        securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, privileged: false, capabilities: { drop: ['ALL'] } },
      }],
    },
  };
}

/** The stages a canary goes through, in order; each is timed from the end of the one before. */
export const STAGES = ['schedule', 'start', 'ready', 'delete'] as const;
export type Stage = (typeof STAGES)[number];

/** How far a pod got: 'created' (not bound), 'scheduled', 'started' (a container runs), 'ready'. */
export type Progress = 'created' | 'scheduled' | 'started' | 'ready';

export function progressOf(p: Pod): Progress {
  if (condition(p.status?.conditions, 'Ready')?.status === 'True') return 'ready';
  if (p.status?.phase === 'Running' || (p.status?.containerStatuses ?? []).some((c) => c.state?.running)) return 'started';
  if (p.spec?.nodeName || condition(p.status?.conditions, 'PodScheduled')?.status === 'True') return 'scheduled';
  return 'created';
}

/** The stage a pod at `progress` waits in. */
export function waitingIn(progress: Progress): Exclude<Stage, 'delete'> | undefined {
  return progress === 'created' ? 'schedule' : progress === 'scheduled' ? 'start' : progress === 'started' ? 'ready' : undefined;
}

export function isCanary(p: Pod): boolean {
  const l = p.metadata?.labels ?? {};
  return Object.entries(CANARY_LABELS).every(([k, v]) => l[k] === v);
}

/**
 * Whether a canary of ours was left by a run that ended: its maker's process
 * is gone (`alive` false, known on the maker's host), or it is older than its
 * maker's -t plus STALE_GRACE_S (anywhere). `now` is the API server's clock.
 */
export function leftBehind(p: Pod, now: number, alive: boolean | undefined): string | undefined {
  const a = p.metadata?.annotations ?? {};
  const owner = a[OWNER_ANNOTATION];
  if (alive === false) return `its run (${owner}) has ended`;
  const created = parseTime(p.metadata?.creationTimestamp);
  const timeout = Number(a[TIMEOUT_ANNOTATION]);
  const bound = (Number.isFinite(timeout) && timeout > 0 ? timeout : 3600) + STALE_GRACE_S;
  if (created !== undefined && (now - created) / 1000 > bound) return `older than its run's -t plus ${STALE_GRACE_S}s`;
  return undefined;
}

export type DeleteResult = 'deleting' | 'gone';

/**
 * Delete one pod by name, only if it is still the object with `uid` (a newer
 * run's canary by the same name is never touched): 'gone' when there is none
 * (404) or the name now holds another object (409 on the precondition).
 */
export async function deletePod(kube: KubeClient, namespace: string, name: string, uid: string | undefined): Promise<DeleteResult> {
  try {
    await kube.delete(RESOURCES.pods, name, namespace, { gracePeriodSeconds: DELETE_GRACE_S, ...(uid && { preconditions: { uid } }) });
    return 'deleting';
  } catch (e) {
    if (e instanceof KubeApiError && (e.status === 404 || (e.status === 409 && uid))) return 'gone';
    throw e;
  }
}

/** The pod if it is still there as the object with `uid`; undefined once it is gone. */
export async function podIfPresent(kube: KubeClient, namespace: string, name: string, uid: string | undefined): Promise<Pod | undefined> {
  const p = await kube.getOptional<Pod>(RESOURCES.pods, name, namespace);
  return p && (!uid || p.metadata?.uid === uid) ? p : undefined;
}
