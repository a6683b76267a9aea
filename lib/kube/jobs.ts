// Jobs: which failed, which failure a later run of the same CronJob superseded,
// which objects a Job owns. Pure.
import { condition, objectRef, oneLine, refOf } from './objects.js';
import { parseTime } from './time.js';
import type { Condition, ObjectMeta } from './types.js';

/** The object's controller is a Job (its pods are not meant to stay Ready). */
export function ownedByJob(m: ObjectMeta | undefined): boolean {
  return (m?.ownerReferences ?? []).some((r) => r.controller && r.kind === 'Job');
}

export interface Job {
  metadata?: ObjectMeta;
  spec?: { backoffLimit?: number; suspend?: boolean };
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
  const cron = (j: Job) => j.metadata?.ownerReferences?.find((r) => r.controller && r.kind === 'CronJob')?.name;
  const latestSuccess = new Map<string, { name: string; at: number }>();
  for (const j of jobs) {
    const c = cron(j);
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
    const c = cron(j);
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
