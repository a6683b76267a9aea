import { parseArgs } from './args.js';
import type { AnyCheck, CheckContext, CommonOptions } from './check.js';
import { PluginError } from './errors.js';
import type { Outcome } from './result.js';

/**
 * One check's verdict used inside another (check_k8s_reboot_ready asks
 * check_k8s_scheduler_stall rather than judging stalls a second way).
 * gatherSub does the I/O with the outer check's client and deadline;
 * evaluateSub is pure, so the outer evaluate() stays pure too.
 */
export interface SubResult {
  check: AnyCheck;
  opts: CommonOptions & Record<string, unknown>;
  data: unknown;
}

/** Parse `args` as the sub-check's own command line (its defaults apply), then gather. */
export async function gatherSub(check: AnyCheck, ctx: CheckContext, args: string[] = []): Promise<SubResult> {
  const parsed = await parseArgs(check, args);
  if (parsed.kind !== 'run') throw new PluginError(`internal: sub-check ${check.name} did not parse`);
  return { check, opts: parsed.opts, data: await check.gather(ctx, parsed.opts) };
}

export function evaluateSub(sub: SubResult, now: number): Outcome {
  return sub.check.evaluate(sub.data, sub.opts, now);
}
