// What a pod's status says is wrong with it: the container waiting reasons the
// kubelet writes (pkg/kubelet/kuberuntime, pkg/kubelet/images), the last
// termination, the Ready condition. Pure.
import { formatDuration } from '../plugin/duration.js';
import { ownedByJob } from './jobs.js';
import { condition, objectRef, oneLine } from './objects.js';
import { parseTime } from './time.js';
import type { ContainerStatus, Pod } from './types.js';
import { podNotReadyReason } from './pods.js';

export type PodProblemKind = 'crashloop' | 'image' | 'config' | 'oomkilled' | 'restarts' | 'notready';

/** Waiting reasons by what they mean (kubelet: images.ErrImagePull, ImagePullBackOff...; kuberuntime: CreateContainerConfigError...). */
const WAITING: Record<string, PodProblemKind> = {
  CrashLoopBackOff: 'crashloop',
  ImagePullBackOff: 'image',
  ErrImagePull: 'image',
  ErrImageNeverPull: 'image',
  InvalidImageName: 'image',
  RegistryUnavailable: 'image',
  CreateContainerConfigError: 'config',
  CreateContainerError: 'config',
  RunContainerError: 'config',
  PreCreateHookError: 'config',
  PostStartHookError: 'config',
};

/** Worst first: a pod is counted under the first of its problems in this order. */
export const PROBLEM_ORDER: readonly PodProblemKind[] = ['crashloop', 'image', 'config', 'oomkilled', 'restarts', 'notready'];

export interface PodProblem {
  kind: PodProblemKind;
  /** One line: the container and what its status says. */
  text: string;
}

export interface PodVerdict {
  /** namespace/name */
  id: string;
  node?: string;
  problems: PodProblem[];
}

export interface PodJudgeOptions {
  now: number;
  /** Seconds: a last termination (OOMKilled, restarts) older than this is history. */
  window: number;
  /** Restarts above this, with the last one inside the window, are a problem. */
  restarts: number;
  /** Seconds a pod may be not Ready before it counts. */
  notReadyWindow: number;
}

/** Why a pod is not judged here, and which check judges it. */
export type Pointer = 'unscheduled' | 'terminating';

export function pointedElsewhere(p: Pod): Pointer | undefined {
  if (p.metadata?.deletionTimestamp) return 'terminating';
  if (p.status?.phase === 'Pending' && !p.spec?.nodeName) return 'unscheduled';
  return undefined;
}

/**
 * Everything wrong with one pod (an empty list: nothing). A container in
 * CrashLoopBackOff also restarted many times; only the waiting reason is
 * named, since it says more.
 */
export function judgePod(p: Pod, o: PodJudgeOptions): PodVerdict {
  const v: PodVerdict = { id: objectRef(p.metadata), node: p.spec?.nodeName || undefined, problems: [] };
  const containers: [ContainerStatus, boolean][] = [
    ...(p.status?.initContainerStatuses ?? []).map((c): [ContainerStatus, boolean] => [c, true]),
    ...(p.status?.containerStatuses ?? []).map((c): [ContainerStatus, boolean] => [c, false]),
  ];
  const since = o.now - o.window * 1000;
  for (const [c, init] of containers) {
    const name = `${init ? 'init container' : 'container'} ${c.name ?? '?'}`;
    const waiting = c.state?.waiting;
    const kind = waiting?.reason ? WAITING[waiting.reason] : undefined;
    const last = c.lastState?.terminated ?? c.state?.terminated;
    const lastAt = parseTime(last?.finishedAt);
    const recent = lastAt !== undefined && lastAt >= since;
    const restarts = c.restartCount ?? 0;
    if (kind) {
      const lastText = last?.reason ? `, last exit ${last.reason}${last.exitCode !== undefined ? ` (${last.exitCode})` : ''}` : '';
      v.problems.push({ kind, text: `${name} ${waiting!.reason}: ${oneLine(waiting!.message) || 'no message'} (${restarts} restarts${lastText})` });
      continue;
    }
    if (last?.reason === 'OOMKilled' && recent) {
      v.problems.push({ kind: 'oomkilled', text: `${name} OOMKilled ${formatDuration((o.now - lastAt!) / 1000)} ago (${restarts} restarts)` });
      continue;
    }
    if (restarts > o.restarts && recent) {
      v.problems.push({
        kind: 'restarts',
        text: `${name} restarted ${restarts} times, the last ${formatDuration((o.now - lastAt!) / 1000)} ago (${last?.reason ?? 'no reason'}${last?.exitCode !== undefined ? `, exit ${last.exitCode}` : ''})`,
      });
    }
  }
  // Not Ready for longer than the window, when nothing above explains it. Job pods are
  // not meant to be Ready for long (kubernetes-mixin's KubePodNotReady skips them too).
  if (!v.problems.some((x) => x.kind !== 'restarts' && x.kind !== 'oomkilled') && !ownedByJob(p.metadata)) {
    const ready = condition(p.status?.conditions, 'Ready');
    if (ready?.status !== 'True') {
      const from = parseTime(ready?.lastTransitionTime) ?? parseTime(p.status?.startTime) ?? parseTime(p.metadata?.creationTimestamp);
      const age = from === undefined ? undefined : (o.now - from) / 1000;
      if (age !== undefined && age >= o.notReadyWindow) {
        const why = podNotReadyReason(p);
        const hint = !containers.length && p.status?.phase === 'Pending' ? ` (no container status from the kubelet on ${p.spec?.nodeName}: see check_k8s_kubelet_stall)` : '';
        v.problems.push({ kind: 'notready', text: `not Ready for ${formatDuration(age)}: ${why}${hint}` });
      }
    }
  }
  v.problems.sort((a, b) => PROBLEM_ORDER.indexOf(a.kind) - PROBLEM_ORDER.indexOf(b.kind));
  return v;
}
