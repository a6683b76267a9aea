import os from 'node:os';
import { KubeClient } from '../lib/kube/client.js';
import { connect } from '../lib/kube/kubeconfig.js';
import { NodeNotKnown } from '../lib/kube/nodes.js';
import { nodeCheckClient, thisNode } from '../lib/kube/this-node.js';
import { opt, type AnyCheck, type CheckContext } from '../lib/plugin/check.js';
import { deadlineFromProcessStart, msLeft } from '../lib/plugin/deadline.js';
import { UsageError } from '../lib/plugin/errors.js';
import { actionLine, actionsJson, findingLine, findingsJson } from '../lib/plugin/render.js';
import type { Action, Finding } from '../lib/plugin/result.js';
import { runCheck } from '../lib/plugin/run.js';
import { bySeverityDesc, State, stateName, worst } from '../lib/plugin/state.js';
import { sanitize } from '../lib/plugin/sanitize.js';
import { VERSION } from '../lib/plugin/version.js';

/**
 * `k8s-nrpe triage`: every check at once, for a person on a node at 3 a.m.
 * Checks run in parallel in this process, each with its own deadline, so the
 * whole run takes as long as the slowest check, not the sum.
 */
export interface TriageRow {
  check: string;
  state: State;
  summary: string;
  /** What to do (Report.action), worst first. */
  actions: Action[];
  findings: Finding[];
  ms: number;
}

const PASS_THROUGH = new Set(['--kubeconfig', '--context', '-t', '--timeout', '--page-size']);

export interface TriageOptions {
  shared: string[];
  json: boolean;
  color: boolean;
  only?: string[];
  skip: string[];
  /** --node for the checks that judge one node (node-local checks, kubelet_stall, reboot_ready). */
  node?: string;
  help: boolean;
}

export const TRIAGE_HELP = `k8s-nrpe triage (k8s-nrpe ${VERSION})
Runs every check that applies to this host at once, for a person on a node.

Usage:
  k8s-nrpe triage [--kubeconfig FILE] [--context NAME] [-t SECONDS]
    [--node NODE] [--only CHECK,...] [--skip CHECK,...] [--json] [--no-color]

Every check runs in parallel with its own deadline (-t), so triage takes as
long as the slowest check. It prints a table worst first, the long output of
each check that is not OK, the checks that do not apply to this host and why,
and the overall state, which is also the exit code.

Options:
 --kubeconfig=FILE, --context=NAME, -t, --timeout=SECONDS, --page-size=N
    Passed to every check.
 --node=NODE
    The node to judge, for the checks that judge one node (default: the node
    this host is, found with the API by its hostname, short name or FQDN; on
    a host that is no node, or has no kubeconfig yet, those checks are not
    run and the reason is shown).
 --only=CHECK,...
    Run only these checks (k8s-nrpe --list names them).
 --skip=CHECK,...
    Do not run these checks.
 --json
    One JSON object (docs/json.md) instead of the table.
 --no-color
    No colours (also when NO_COLOR is set or stdout is not a terminal).

Exit states: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (also after --help).
`;

function names(value: string | undefined, flag: string): string[] {
  const list = (value ?? '').split(',').map((s) => s.trim());
  if (!value || list.some((s) => s === '')) throw new UsageError(`${flag} needs check names: ${flag} a,b (k8s-nrpe --list)`);
  return list;
}

export function triageArgs(argv: string[]): TriageOptions {
  const shared: string[] = [];
  let json = false;
  let color = process.stdout.isTTY === true && !process.env.NO_COLOR;
  let only: string[] | undefined;
  let skip: string[] = [];
  let node: string | undefined;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '--json') json = true;
    else if (flag === '-h' || flag === '--help') help = true;
    else if (flag === '--no-color') color = false;
    else if (flag === '--only') only = names(value(), '--only');
    else if (flag === '--skip') skip = names(value(), '--skip');
    else if (flag === '--node') node = opt.node({ describe: '' }).parse(value() ?? '', '--node');
    else if (PASS_THROUGH.has(flag)) shared.push(flag, value() ?? '');
    else throw new UsageError(`unknown triage option '${sanitize(a, 40)}' (k8s-nrpe triage --help)`);
  }
  return { shared, json, color, only, skip, node, help };
}

export async function runTriage(checks: AnyCheck[], argv: string[]): Promise<{ stdout: string; exitCode: State }> {
  let parsed: ReturnType<typeof triageArgs>;
  try {
    parsed = triageArgs(argv);
  } catch (e) {
    return { stdout: `K8S TRIAGE UNKNOWN - ${sanitize((e as Error).message, 300)}\n`, exitCode: State.UNKNOWN };
  }
  if (parsed.help) return { stdout: TRIAGE_HELP, exitCode: State.UNKNOWN };
  const unknownName = [...(parsed.only ?? []), ...parsed.skip].find((n) => !checks.some((c) => c.name === n));
  if (unknownName) {
    return { stdout: `K8S TRIAGE UNKNOWN - no check '${sanitize(unknownName, 40)}' (k8s-nrpe --list)\n`, exitCode: State.UNKNOWN };
  }
  const skipped: { check: string; reason: string }[] = [];
  const selected = checks.filter((c) => {
    if (parsed.only && !parsed.only.includes(c.name)) return false;
    const reason = parsed.skip.includes(c.name) ? 'skipped with --skip' : parsed.only ? undefined : c.triage?.skip?.();
    if (reason) skipped.push({ check: c.name, reason });
    return !reason;
  });
  // Which node this host is, found once for the checks whose verdict is about it. A host that is
  // no node (or has no kubeconfig yet) does not get their UNKNOWNs in its overall verdict: they are
  // "not run", saying why; an API that does not answer leaves them to run and say what they can.
  const aboutThisNode = (c: AnyCheck) => c.scope === 'node' && Boolean(c.options?.node);
  const located: Promise<ThisHost> = parsed.node === undefined && selected.some(aboutThisNode) ? locateThisNode(parsed.shared) : Promise.resolve({});
  const ran = await Promise.all(selected.map(async (c): Promise<TriageRow | undefined> => {
    const started = Date.now();
    const here: ThisHost = aboutThisNode(c) ? await located : {};
    if (here.notANode) {
      skipped.push({ check: c.name, reason: here.notANode });
      return undefined;
    }
    const given = parsed.node ?? here.node;
    const node = given !== undefined && c.options?.node && (parsed.node !== undefined || aboutThisNode(c)) ? ['--node', given] : [];
    const r = await runCheck(c, [...parsed.shared, ...node, ...(c.triage?.args?.() ?? [])]);
    const o = r.outcome;
    return { check: c.name, state: r.exitCode, summary: o?.summary ?? r.stdout.split('\n')[0] ?? '', actions: o?.actions ?? [], findings: o?.findings ?? [], ms: Date.now() - started };
  }));
  const rows = ran.filter((r): r is TriageRow => r !== undefined);
  rows.sort((a, b) => bySeverityDesc(a.state, b.state) || a.check.localeCompare(b.check));
  const overall = worst(...rows.map((r) => r.state));
  const where = parsed.node ?? os.hostname();
  if (parsed.json) {
    const checksJson = rows.map((r) => ({
      check: r.check, state: stateName(r.state), exitCode: r.state, summary: sanitize(r.summary, 4000), actions: actionsJson(r.actions), findings: findingsJson(r.findings), ms: r.ms,
    }));
    return { stdout: JSON.stringify({ host: os.hostname(), node: parsed.node ?? null, state: stateName(overall), exitCode: overall, checks: checksJson, skipped }) + '\n', exitCode: overall };
  }
  return { stdout: renderTable(rows, overall, parsed.color, skipped, where), exitCode: overall };
}

interface ThisHost {
  node?: string;
  notANode?: string;
}

/**
 * This host's node (lib/kube/this-node.ts), asked once with triage's own
 * --kubeconfig/--context/-t. notANode: why it is not known to be one (no
 * kubeconfig, no node or several match). Neither: the API did not say.
 */
async function locateThisNode(shared: string[]): Promise<ThisHost> {
  const value = (...flags: string[]) => {
    const i = shared.findIndex((a) => flags.includes(a));
    return i >= 0 ? shared[i + 1] : undefined;
  };
  const timeout = Number(value('-t', '--timeout') ?? 10);
  const deadline = deadlineFromProcessStart(Number.isFinite(timeout) && timeout > 0 ? timeout : 10);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error('timed out')), msLeft(deadline));
  let client: KubeClient | undefined;
  const ctx = {
    kube: async () => (client = new KubeClient(await connect(value('--kubeconfig'), value('--context')), controller.signal, () => {}, undefined, { deadline })),
  } as Pick<CheckContext, 'kube'> as CheckContext;
  try {
    return { node: (await thisNode(await nodeCheckClient(ctx), undefined)).name };
  } catch (e) {
    return e instanceof NodeNotKnown ? { notANode: e.message } : {};
  } finally {
    clearTimeout(timer);
    controller.abort();
    client?.close();
  }
}

const COLORS: Record<State, string> = { [State.OK]: '32', [State.WARNING]: '33', [State.CRITICAL]: '31', [State.UNKNOWN]: '35' };

export function renderTable(rows: TriageRow[], overall: State, color: boolean, skipped: { check: string; reason: string }[] = [], where = os.hostname()): string {
  const paint = (s: State, text: string) => (color ? `\x1b[${COLORS[s]}m${text}\x1b[0m` : text);
  const width = Math.max(5, ...rows.map((r) => r.check.length));
  const cols = process.stdout.isTTY ? process.stdout.columns || 120 : Infinity;
  const lines = [`${'STATE'.padEnd(8)}  ${'CHECK'.padEnd(width)}  SUMMARY`];
  for (const r of rows) {
    const summary = r.summary.length > cols - width - 12 ? r.summary.slice(0, Math.max(20, cols - width - 15)) + '...' : r.summary;
    lines.push(`${paint(r.state, stateName(r.state).padEnd(8))}  ${r.check.padEnd(width)}  ${summary}`);
  }
  for (const r of rows.filter((x) => x.state !== State.OK && (x.findings.length || x.actions.length))) {
    lines.push('', paint(r.state, `== ${r.check} (${stateName(r.state)})`), `   ${r.summary}`);
    for (const a of r.actions) lines.push(`   ${actionLine(a)}`);
    for (const f of r.findings.slice(0, 20)) lines.push(`   ${findingLine(f)}`);
    if (r.findings.length > 20) lines.push(`   ... and ${r.findings.length - 20} more (k8s-nrpe ${r.check} -vv)`);
  }
  const counts = [State.CRITICAL, State.WARNING, State.UNKNOWN, State.OK]
    .map((s) => [s, rows.filter((r) => r.state === s).length] as const)
    .filter(([, n]) => n)
    .map(([s, n]) => `${n} ${stateName(s).toLowerCase()}`);
  if (skipped.length) lines.push('', `not run: ${skipped.map((s) => `${s.check} (${s.reason})`).join(', ')}`);
  lines.push('', `overall: ${paint(overall, stateName(overall))} (${counts.join(', ') || 'no checks'}) on ${sanitize(where, 100)}`);
  return lines.join('\n') + '\n';
}
