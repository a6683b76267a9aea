import { setMaxListeners } from 'node:events';
import { KubeClient } from '../kube/client.js';
import { connect, type Connection } from '../kube/kubeconfig.js';
import { KubeApiError } from '../kube/errors.js';
import { IN_CLUSTER } from '../kube/kubeconfig-load.js';
import { Selection, type SelectionValues } from '../kube/selection.js';
import { parseArgs } from './args.js';
import type { AnyCheck, CheckContext, CommonOptions } from './check.js';
import { PluginError } from './errors.js';
import { renderJson, renderNagios } from './render.js';
import { outcomeState, type Outcome } from './result.js';
import { sanitize } from './sanitize.js';
import { State } from './state.js';
import type { Logger } from './log.js';
import { pending, type PendingWork } from './pending.js';
import { deadlineFromProcessStart, msLeft } from './deadline.js';

export interface RunResult {
  exitCode: State;
  stdout: string;
  stderr: string;
  /** The structured result (triage composes these); undefined for --help/--version. */
  outcome?: Outcome;
  /** What gather() returned and the parsed options (k8s-nrpe discover prints its own document from them). */
  gathered?: { data: unknown; opts: CommonOptions & Record<string, unknown> };
}

/** An outcome that is only a status line: errors, timeouts, usage. */
export function statusOnly(state: State, summary: string, details: string[] = []): Outcome {
  return { summary, state, perfdata: [], findings: details.map((text) => ({ text })) };
}

class Timeout extends Error {}

/** Before the arguments parse, honour --format json for the error line too. */
function requestedFormat(argv: string[]): 'json' | 'nagios' {
  const i = argv.findIndex((a) => a === '--format' || a.startsWith('--format='));
  if (i < 0) return 'nagios';
  const v = argv[i]!.includes('=') ? argv[i]!.split('=')[1] : argv[i + 1];
  return v === 'json' ? 'json' : 'nagios';
}

/**
 * Run one check end to end and return what to print and the exit code.
 * Never throws: every failure becomes one status line with a state 0-3.
 * The caller writes the output and exits (see cli/main.ts).
 */
export async function runCheck(check: AnyCheck, argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<RunResult> {
  const hostClockStart = Date.now();
  const stderr: string[] = [];
  let opts: (CommonOptions & Record<string, unknown>) | undefined;
  const title = check.title;
  const render = (o: Outcome): RunResult => {
    const format = opts?.format ?? requestedFormat(argv);
    const stdout = format === 'json'
      ? renderJson(o, { check: check.name, title })
      : renderNagios(o, { title, verbose: opts?.verbose ?? 0 });
    return { exitCode: outcomeState(o), stdout, stderr: stderr.join(''), outcome: o };
  };

  try {
    const parsed = await parseArgs(check, argv);
    if (parsed.kind !== 'run') return { exitCode: State.UNKNOWN, stdout: parsed.text, stderr: '' };
    opts = parsed.opts;
  } catch (e) {
    const msg = e instanceof PluginError ? e.message : `invalid arguments: ${(e as Error).message}`;
    return render(statusOnly(State.UNKNOWN, `${sanitize(msg, 300)} (see --help)`));
  }

  const o = opts;
  // -t counts from the start of the process, not of this function: under load
  // the runtime itself may take a while to start, and NRPE counts it too.
  const deadlineAt = deadlineFromProcessStart(o.timeout);
  const log: Logger = (level, line) => {
    if (o.verbose >= level) stderr.push(`[${((Date.now() - performance.timeOrigin) / 1000).toFixed(3)}s] ${line}\n`);
  };
  const controller = new AbortController();
  // Every request in flight listens on this one signal; dozens in parallel are
  // by design, not a leak, and Node's warning would land on the plugin's stderr.
  setMaxListeners(0, controller.signal);
  let client: KubeClient | undefined;
  let connecting: Promise<KubeClient> | undefined;
  let conn: Connection | undefined;
  const ctx: CheckContext = {
    signal: controller.signal,
    hostClockStart,
    verbose: o.verbose,
    log,
    kube: () =>
      (connecting ??= connect(o.kubeconfig, o.context, env).then((c) => {
        conn = c;
        log(2, `using kubeconfig ${c.source}, context ${c.context || '(current)'}, server ${c.server.origin}`);
        client = new KubeClient(c, controller.signal, log, o.pageSize, { deadline: deadlineAt, budget: { kept: o.maxListItems } });
        if (check.selection) client.selection = new Selection(check.selection, o as unknown as SelectionValues);
        return client;
      })),
  };

  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Timeout()), msLeft(deadlineAt));
  });

  let outcome: Outcome;
  let gathered: unknown;
  try {
    const work = (async () => {
      // Started so late (a starved machine) that the deadline has passed: do not begin the I/O.
      if (msLeft(deadlineAt) <= 0) throw new Timeout();
      const data = await check.gather(ctx, o);
      // Ages are judged on the API server's clock when the check asked it: a
      // monitoring host whose clock is off by minutes gives the same verdicts.
      gathered = data;
      // Nothing left to judge after --name/--exclude-*: the one documented outcome (docs/selection.md), not an empty OK.
      const missed = client?.selection?.noMatch();
      const o2 = missed ? statusOnly(missed.state, missed.summary) : check.evaluate(data, o, client ? client.serverNow() : Date.now());
      if (client?.significantSkewMs) noteSkew(o2, client.significantSkewMs);
      return o2;
    })();
    work.catch(() => {}); // a late rejection after the deadline is not news
    outcome = await Promise.race([work, deadline]);
  } catch (e) {
    outcome = failure(withOrigin(e, conn), o, pending(controller.signal), stderr);
  } finally {
    clearTimeout(timer);
    controller.abort(new Timeout());
    client?.close();
  }
  if (o.verbose >= 2 && client) log(2, `${client.stats.requests} API requests, ${client.stats.bytes} bytes received`);
  return { ...render(outcome), gathered: { data: gathered, opts: o } };
}

/**
 * A server that cannot be reached, trusted or that refuses the credentials: say
 * which kubeconfig and context named it, since that is what the operator edits.
 */
function withOrigin(e: unknown, conn: Connection | undefined): unknown {
  if (!conn || !(e instanceof KubeApiError)) return e;
  // Socket and TLS failures carry the errno or OpenSSL code as reason; our own reasons are CamelCase.
  const reaching = e.status === undefined && /^E[A-Z_]+$|CERT|SELF_SIGNED|UNABLE_TO|HOSTNAME|ALTNAME|SSL/.test(e.reason ?? '');
  if (!reaching && e.status !== 401) return e;
  const from = conn.source === IN_CLUSTER
    ? 'server of the in-cluster service account: KUBERNETES_SERVICE_HOST/PORT'
    : `server of context '${sanitize(conn.context, 60)}' in kubeconfig ${conn.source}`;
  return new KubeApiError(`${e.message} (${from})`, e.status, e.reason, e.target);
}

/** Say it when this host's clock is off from the API server's: ages were measured on the server's. */
function noteSkew(o: Outcome, skewMs: number): void {
  const s = Math.round(skewMs / 1000);
  o.findings.push({ text: `this host's clock is ${Math.abs(s)}s ${s > 0 ? 'behind' : 'ahead of'} the API server's: ages are measured on the server's clock` });
  o.perfdata.push({ label: 'api_clock_skew', value: s, uom: 's' });
}

function failure(e: unknown, o: CommonOptions, waitingFor: PendingWork[], stderr: string[]): Outcome {
  if (e instanceof Timeout) {
    // Name what hung: a host command or credential plugin first (this node's problem), then API requests.
    const api = waitingFor.filter((w) => w.kind === 'api').map((w) => w.label);
    const local = waitingFor.filter((w) => w.kind !== 'api');
    const parts = [
      ...local.slice(0, 1).map((w) => `waiting for ${w.kind === 'credential' ? 'the credential plugin ' : ''}${sanitize(w.label, 120)}`),
      ...(api.length ? [`waiting for the API server (${api.slice(0, 2).join(', ')})`] : []),
    ];
    return statusOnly(o.timeoutState, `check timed out after ${o.timeout}s${parts.length ? ` ${parts.join(' and ')}` : ''}`);
  }
  if (o.verbose >= 3 && e instanceof Error && e.stack) stderr.push(e.stack + '\n');
  if (e instanceof PluginError) return statusOnly(e.state, e.message, e.details);
  const name = e instanceof Error ? e.name : 'error';
  const message = e instanceof Error ? e.message : String(e);
  return statusOnly(State.UNKNOWN, `internal error (${name}: ${sanitize(message, 200)}); rerun with -vvv and report it`);
}
