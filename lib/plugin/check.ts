import type { Options as YargsOption } from 'yargs';
import type { KubeClient, Logger } from '../kube/client.js';
import type { Range } from './range.js';
import type { Outcome } from './result.js';
import type { State } from './state.js';

/** Options every check has (docs/plugin-contract.md). */
export interface CommonOptions {
  warning?: Range;
  critical?: Range;
  timeout: number;
  timeoutState: State;
  /** limit= for list requests. */
  pageSize: number;
  verbose: number;
  format: 'nagios' | 'json';
  kubeconfig?: string;
  context?: string;
}

/** What gather() may use: I/O lives here, nowhere else. */
export interface CheckContext {
  signal: AbortSignal;
  /** Start time of the check, epoch ms: the one "now" for gather and evaluate. */
  now: number;
  verbose: number;
  log: Logger;
  /** The API client, connected on first use (node-local checks may never need it). */
  kube(): Promise<KubeClient>;
}

/**
 * One check: its options, its queries (gather) and its judgement (evaluate,
 * pure, tested without network). The core does parsing, deadlines, errors
 * and output.
 */
export interface CheckSpec<O extends object = object, D = unknown> {
  /** 'scheduler_stall': installed as check_k8s_scheduler_stall. */
  name: string;
  /** 'SCHEDULER STALL': the status line reads 'K8S SCHEDULER STALL OK - ...'. */
  title: string;
  description: string;
  /** Offer -w/-c with these defaults and this meaning. */
  thresholds?: { warning?: string; critical?: string; describe: string };
  options?: Record<string, YargsOption>;
  examples?: [string, string][];
  /** Check-specific options from raw arguments; throw UsageError on bad input. */
  parse(args: Record<string, unknown>): O;
  gather(ctx: CheckContext, opts: O & CommonOptions): Promise<D>;
  /** How `k8s-nrpe triage` runs it on this host (node-local checks). */
  triage?: {
    /** Why it does not apply to this host, or undefined when it does. */
    skip?(): string | undefined;
    /** Extra arguments for a person's run, e.g. --sudo when not root. */
    args?(): string[];
  };
  evaluate(data: D, opts: O & CommonOptions, now: number): Outcome;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCheck = CheckSpec<any, any>;

export function defineCheck<O extends object, D>(spec: CheckSpec<O, D>): CheckSpec<O, D> {
  return spec;
}
