import os from 'node:os';
import type { AnyCheck } from './plugin/check.js';
import { runCheck } from './plugin/run.js';
import { bySeverityDesc, State, stateName, worst } from './plugin/state.js';
import { sanitize } from './plugin/sanitize.js';

/**
 * `k8s-nrpe triage`: every check at once, for a person on a node at 3 a.m.
 * Checks run in parallel in this process, each with its own deadline, so the
 * whole run takes as long as the slowest check, not the sum.
 */
export interface TriageRow {
  check: string;
  state: State;
  summary: string;
  findings: { state: string | null; text: string }[];
  ms: number;
}

interface JsonResult {
  state: string;
  exitCode: number;
  summary: string;
  findings: { state: string | null; text: string }[];
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
}

export function triageArgs(argv: string[]): TriageOptions {
  const shared: string[] = [];
  let json = false;
  let color = process.stdout.isTTY === true && !process.env.NO_COLOR;
  let only: string[] | undefined;
  let skip: string[] = [];
  let node: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (flag === '--json') json = true;
    else if (flag === '--no-color') color = false;
    else if (flag === '--only') only = (inline ?? argv[++i] ?? '').split(',').filter(Boolean);
    else if (flag === '--skip') skip = (inline ?? argv[++i] ?? '').split(',').filter(Boolean);
    else if (flag === '--node') node = inline ?? argv[++i];
    else if (PASS_THROUGH.has(flag)) shared.push(flag, inline ?? argv[++i] ?? '');
    else throw new Error(`unknown triage option '${sanitize(a, 40)}' (use --kubeconfig, --context, -t, --node N, --only a,b, --skip a,b, --json, --no-color)`);
  }
  return { shared, json, color, only, skip, node };
}

export async function runTriage(checks: AnyCheck[], argv: string[]): Promise<{ stdout: string; exitCode: State }> {
  let parsed: ReturnType<typeof triageArgs>;
  try {
    parsed = triageArgs(argv);
  } catch (e) {
    return { stdout: `K8S TRIAGE UNKNOWN - ${(e as Error).message}\n`, exitCode: State.UNKNOWN };
  }
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
  const rows = await Promise.all(selected.map(async (c): Promise<TriageRow> => {
    const started = Date.now();
    const node = parsed.node !== undefined && c.options?.node ? ['--node', parsed.node] : [];
    const r = await runCheck(c, [...parsed.shared, ...node, ...(c.triage?.args?.() ?? []), '--format', 'json']);
    let j: JsonResult;
    try {
      j = JSON.parse(r.stdout) as JsonResult;
    } catch {
      j = { state: stateName(r.exitCode), exitCode: r.exitCode, summary: r.stdout.split('\n')[0] ?? '', findings: [] };
    }
    return { check: c.name, state: r.exitCode, summary: j.summary, findings: j.findings, ms: Date.now() - started };
  }));
  rows.sort((a, b) => bySeverityDesc(a.state, b.state) || a.check.localeCompare(b.check));
  const overall = worst(...rows.map((r) => r.state));
  if (parsed.json) {
    return { stdout: JSON.stringify({ host: os.hostname(), state: stateName(overall), exitCode: overall, checks: rows, skipped }) + '\n', exitCode: overall };
  }
  return { stdout: renderTable(rows, overall, parsed.color, skipped), exitCode: overall };
}

const COLORS: Record<State, string> = { [State.OK]: '32', [State.WARNING]: '33', [State.CRITICAL]: '31', [State.UNKNOWN]: '35' };

export function renderTable(rows: TriageRow[], overall: State, color: boolean, skipped: { check: string; reason: string }[] = []): string {
  const paint = (s: State, text: string) => (color ? `\x1b[${COLORS[s]}m${text}\x1b[0m` : text);
  const width = Math.max(5, ...rows.map((r) => r.check.length));
  const cols = process.stdout.isTTY ? process.stdout.columns || 120 : Infinity;
  const lines = [`${'STATE'.padEnd(8)}  ${'CHECK'.padEnd(width)}  SUMMARY`];
  for (const r of rows) {
    const summary = r.summary.length > cols - width - 12 ? r.summary.slice(0, Math.max(20, cols - width - 15)) + '...' : r.summary;
    lines.push(`${paint(r.state, stateName(r.state).padEnd(8))}  ${r.check.padEnd(width)}  ${summary}`);
  }
  for (const r of rows.filter((x) => x.state !== State.OK && x.findings.length)) {
    lines.push('', paint(r.state, `== ${r.check} (${stateName(r.state)})`), `   ${r.summary}`);
    for (const f of r.findings.slice(0, 20)) lines.push(`   ${f.state ? `[${f.state}] ` : ''}${f.text}`);
    if (r.findings.length > 20) lines.push(`   ... and ${r.findings.length - 20} more (k8s-nrpe ${r.check} -vv)`);
  }
  const counts = [State.CRITICAL, State.WARNING, State.UNKNOWN, State.OK]
    .map((s) => [s, rows.filter((r) => r.state === s).length] as const)
    .filter(([, n]) => n)
    .map(([s, n]) => `${n} ${stateName(s).toLowerCase()}`);
  if (skipped.length) lines.push('', `not run: ${skipped.map((s) => `${s.check} (${s.reason})`).join(', ')}`);
  lines.push('', `overall: ${paint(overall, stateName(overall))} (${counts.join(', ') || 'no checks'}) on ${os.hostname()}`);
  return lines.join('\n') + '\n';
}
