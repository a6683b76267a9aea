// Jobs: which failed, which failure a later run of the same CronJob superseded,
// which objects a Job owns. Pure.
import { formatDuration } from '../plugin/duration.js';
import { plural } from '../plugin/result.js';
import { CronError, parseSchedule, scheduleInterval } from './cron.js';
import { condition, objectRef, oneLine, refOf } from './objects.js';
import { parseTime } from './time.js';
import type { Condition, ObjectMeta } from './types.js';

/** The CronJob that made a Job (its controller ownerReference), by name. */
export function cronJobOf(j: Job): string | undefined {
  return j.metadata?.ownerReferences?.find((r) => r.controller && r.kind === 'CronJob')?.name;
}

/** The object's controller is a Job (its pods are not meant to stay Ready). */
export function ownedByJob(m: ObjectMeta | undefined): boolean {
  return (m?.ownerReferences ?? []).some((r) => r.controller && r.kind === 'Job');
}

export interface Job {
  metadata?: ObjectMeta;
  spec?: { backoffLimit?: number; suspend?: boolean; activeDeadlineSeconds?: number };
  status?: { conditions?: Condition[]; failed?: number; succeeded?: number; active?: number; startTime?: string; completionTime?: string };
}

export interface JobFailure {
  /** namespace/name */
  id: string;
  /** 'BackoffLimitExceeded: Job has reached the specified backoff limit' */
  why: string;
  /** When the Failed condition became True (epoch ms). */
  at?: number;
  /** A newer Job of the same CronJob completed: this failure is history. */
  supersededBy?: string;
}

/**
 * Jobs whose Failed condition is True (the job controller sets it with reason
 * BackoffLimitExceeded, DeadlineExceeded, PodFailurePolicy or
 * MaxFailedIndexesExceeded). A CronJob keeps failedJobsHistoryLimit failed
 * Jobs around after later runs succeeded: such a failure is marked as
 * superseded, not current.
 */
export function failedJobs(jobs: Job[]): JobFailure[] {
  const latestSuccess = new Map<string, { name: string; at: number }>();
  for (const j of jobs) {
    const c = cronJobOf(j);
    const done = condition(j.status?.conditions, 'Complete');
    if (!c || done?.status !== 'True') continue;
    const at = parseTime(done.lastTransitionTime) ?? parseTime(j.status?.completionTime) ?? 0;
    const key = refOf(j.metadata?.namespace, c);
    if ((latestSuccess.get(key)?.at ?? -1) < at) latestSuccess.set(key, { name: j.metadata?.name ?? '?', at });
  }
  const out: JobFailure[] = [];
  for (const j of jobs) {
    const f = condition(j.status?.conditions, 'Failed');
    if (f?.status !== 'True') continue;
    const at = parseTime(f.lastTransitionTime);
    const c = cronJobOf(j);
    const later = c ? latestSuccess.get(refOf(j.metadata?.namespace, c)) : undefined;
    out.push({
      id: objectRef(j.metadata),
      why: `${f.reason ?? 'Failed'}: ${oneLine(f.message) || 'no message'}`,
      at,
      supersededBy: later && at !== undefined && later.at > at ? later.name : undefined,
    });
  }
  return out;
}

// ---- CronJobs that stopped succeeding, Jobs that never end -----------------

export interface CronJob {
  metadata?: ObjectMeta;
  spec?: { schedule?: string; timeZone?: string; suspend?: boolean };
  status?: { lastScheduleTime?: string; lastSuccessfulTime?: string; active?: unknown[] };
}

export interface CronVerdict {
  /** namespace/name */
  id: string;
  /** Why it is stale; undefined when it is not. */
  problem?: string;
  /** Context: suspended, a schedule not understood. */
  note?: string;
}

const ago = (ms: number) => formatDuration(ms / 1000);

/**
 * When each CronJob's newest completed Job finished, by 'namespace/cronjob
 * name' (its controller ownerReference): one pass over the Jobs, whatever
 * the number of CronJobs.
 */
export function newestCompletions(jobs: Job[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const j of jobs) {
    const owner = cronJobOf(j);
    if (!owner || condition(j.status?.conditions, 'Complete')?.status !== 'True') continue;
    const t = parseTime(j.status?.completionTime);
    const k = refOf(j.metadata?.namespace, owner);
    if (t !== undefined && t > (out.get(k) ?? -Infinity)) out.set(k, t);
  }
  return out;
}

/**
 * A CronJob (not suspended) whose last success is older than `staleAfter`
 * seconds, or twice the interval of its schedule in its zone around `now`;
 * one that never succeeded counts from its creation. `completions` is
 * newestCompletions() of the Jobs.
 */
export function judgeCronJob(c: CronJob, completions: Map<string, number>, o: { now: number; staleAfter?: number }): CronVerdict {
  const id = objectRef(c.metadata);
  const schedule = c.spec?.schedule ?? '';
  if (c.spec?.suspend) return { id, note: `suspended (spec.suspend), not judged` };
  let limit = o.staleAfter === undefined ? undefined : o.staleAfter * 1000;
  let every = '';
  if (limit === undefined) {
    let interval: number | undefined;
    try { interval = scheduleInterval(parseSchedule(schedule, c.spec?.timeZone), o.now); } catch (e) {
      if (!(e instanceof CronError)) throw e;
      return { id, note: `schedule '${oneLine(schedule, 80)}' not understood (${e.message}): not judged; --cronjob-stale judges it` };
    }
    if (interval === undefined) return { id, note: `schedule '${oneLine(schedule, 80)}' never fires: not judged` };
    limit = 2 * interval;
    every = `, runs every ${ago(interval)} ('${oneLine(schedule, 80)}'${c.spec?.timeZone ? ` ${c.spec.timeZone}` : ''})`;
  }
  const running = c.status?.active?.length ? `; ${plural(c.status.active.length, 'Job')} running now` : '';
  // status.lastSuccessfulTime, else (an older controller, or status lost) the newest completed Job it owns.
  const owned = completions.get(id);
  const status = parseTime(c.status?.lastSuccessfulTime);
  const last = status === undefined || (owned !== undefined && owned > status) ? owned : status;
  if (last !== undefined) {
    return o.now - last > limit ? { id, problem: `last succeeded ${ago(o.now - last)} ago${every}, more than ${ago(limit)}${running}` } : { id };
  }
  const created = parseTime(c.metadata?.creationTimestamp);
  if (created === undefined || o.now - created <= limit) return { id };
  const scheduled = parseTime(c.status?.lastScheduleTime);
  return { id, problem: `never succeeded in ${ago(o.now - created)} since it was created${every}; last scheduled ${scheduled === undefined ? 'never' : `${ago(o.now - scheduled)} ago`}${running}` };
}

/**
 * A Job still running after `maxS` seconds: not finished, not suspended, and
 * without spec.activeDeadlineSeconds (the job controller fails such a Job
 * itself, DeadlineExceeded, which check_k8s_pods reports).
 */
export function longRunningJob(j: Job, now: number, maxS: number): string | undefined {
  const st = j.status ?? {};
  const finished = ['Complete', 'Failed'].some((t) => condition(st.conditions, t)?.status === 'True') || st.completionTime;
  if (finished || j.spec?.suspend || j.spec?.activeDeadlineSeconds !== undefined) return undefined;
  const start = parseTime(st.startTime);
  if (start === undefined || now - start <= maxS * 1000) return undefined;
  const cron = cronJobOf(j);
  return `running for ${ago(now - start)}, more than ${ago(maxS * 1000)}${st.active ? ` (${plural(st.active, 'active pod')})` : ''}${cron ? `, a run of CronJob ${cron}` : ''}`;
}
