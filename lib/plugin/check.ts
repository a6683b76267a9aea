import type { KubeClient } from '../kube/client.js';
import type { SelectionSpec } from '../kube/selection.js';
import type { Logger } from './log.js';
import type { OptionTable, OptionValues } from './options.js';
import type { Range } from './range.js';
import type { PerfdataDoc } from './context.js';
import type { Outcome } from './result.js';
import type { State } from './state.js';

export { opt } from './options.js';

/** Options every check has (docs/plugin-contract.md). */
export interface CommonOptions {
  warning?: Range;
  critical?: Range;
  timeout: number;
  timeoutState: State;
  /** limit= for list requests. */
  pageSize: number;
  /** The run's budget of kept list items (lib/kube/response.ts). */
  maxListItems: number;
  verbose: number;
  format: 'nagios' | 'json';
  kubeconfig?: string;
  context?: string;
}

/** What gather() may use: I/O lives here, nowhere else. */
export interface CheckContext {
  signal: AbortSignal;
  /**
   * When the check started, epoch ms, on THIS HOST's clock: for host inputs
   * (a journal's window, a file's age). Ages of API objects are judged in
   * evaluate() against its `now`, the API server's clock, which differs when
   * this host's clock is wrong.
   */
  hostClockStart: number;
  verbose: number;
  log: Logger;
  /** The API client, connected on first use (node-local checks may never need it). */
  kube(): Promise<KubeClient>;
}

/**
 * Where a check belongs: 'cluster' verdicts are the same from every host (run
 * them on one), 'node' verdicts are about the host they run on (run them on
 * every node). contrib/ and triage are generated from it.
 */
export type Scope = 'cluster' | 'node';

export type { PerfdataDoc } from './context.js';

/**
 * One check: its options (declared once, typed), its queries (gather) and its
 * judgement (evaluate, pure, tested without network). The core does parsing,
 * deadlines, errors and output.
 */
export interface CheckSpec<Opts extends OptionTable = OptionTable, D = unknown> {
  /** 'scheduler_stall': installed as check_k8s_scheduler_stall. */
  name: string;
  /** 'SCHEDULER STALL': the status line reads 'K8S SCHEDULER STALL OK - ...'. */
  title: string;
  scope: Scope;
  /**
   * How the shipped NRPE command runs it: nrpe.d/k8s-nrpe.cfg is generated
   * from this (scripts/contrib.mjs), and so are the defaults of its Icinga 2
   * CheckCommand for agent mode: the two cannot differ.
   */
  nrpe: {
    /** Arguments as typed after the kubeconfig: '-t 20 --timeout-state critical'. */
    args: string;
    /** false: reads only this host, so the command names no kubeconfig (default true). */
    kubeconfig?: boolean;
    /** The comment above the command: what it alerts on, what it needs ('\n' between lines). */
    about: string;
  };
  /** One line for `k8s-nrpe --help`. */
  summary: string;
  /** Paragraphs for --help and the man page (blank line between paragraphs). */
  description: string;
  /** Offer -w/-c with these defaults and this meaning. */
  thresholds?: { warning?: string; critical?: string; describe: string };
  options?: Opts;
  /**
   * Offer --exclude-namespace/--exclude-name (and --name, --unmatched-state):
   * the lists the check marks `selected: true` obey them (lib/kube/selection.ts).
   */
  selection?: SelectionSpec;
  /**
   * Every perfdata label the check writes, documented (--help, man page,
   * README), each with the context that judges it: declareMetrics(options, {...}).docs
   * (lib/plugin/context.ts), so evaluate() judges with the declared options.
   */
  perfdata?: Record<string, PerfdataDoc>;
  examples?: [string, string][];
  /** Rules between options (one excludes another...); throw UsageError. */
  validate?(o: OptionValues<Opts> & CommonOptions): void;
  gather(ctx: CheckContext, o: OptionValues<Opts> & CommonOptions): Promise<D>;
  /**
   * Not run unless asked for, and why (it writes to the cluster): its NRPE
   * command is commented out, contrib/ applies it only to hosts that ask for
   * it, and triage runs it only with --only.
   */
  optIn?: string;
  /** How `k8s-nrpe triage` runs it on this host (node-local checks). */
  triage?: {
    /** Why it does not apply to this host, or undefined when it does. */
    skip?(): string | undefined;
    /** Extra arguments for a person's run, e.g. --sudo when not root. */
    args?(): string[];
  };
  /**
   * Pure. `now` (epoch ms) is the API server's clock for checks that asked it
   * (KubeClient.serverNow(): this host's corrected by the Date headers' skew),
   * this host's otherwise; never CheckContext.hostClockStart.
   */
  evaluate(data: D, o: OptionValues<Opts> & CommonOptions, now: number): Outcome;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCheck = CheckSpec<any, any>;

/** The options gather/evaluate get for an option table (for helpers outside defineCheck). */
export type OptionsOf<O extends OptionTable> = OptionValues<O> & CommonOptions;

export function defineCheck<const Opts extends OptionTable, D>(spec: CheckSpec<Opts, D>): CheckSpec<Opts, D> {
  return spec;
}
