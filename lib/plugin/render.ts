import { formatPerfdata, formatNumber } from './perfdata.js';
import type { Finding, Outcome } from './result.js';
import { outcomeState } from './result.js';
import { sanitize } from './sanitize.js';
import { bySeverityDesc, State, stateName } from './state.js';

export interface RenderOptions {
  /** e.g. 'SCHEDULER STALL' -> 'K8S SCHEDULER STALL CRITICAL - ...' */
  title: string;
  verbose: number;
}

/** NRPE v2 returns at most 1 KiB; NRPE 3/4 up to 64 KiB. -v buys more. */
export function byteBudget(verbose: number): number {
  return verbose <= 0 ? 1024 : verbose === 1 ? 8192 : 65536;
}

function lineCap(verbose: number): number {
  return verbose <= 0 ? 10 : verbose === 1 ? 100 : Infinity;
}

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/** Bytes kept for the "... and N more (-v shows more)" line and its newline. */
const MORE_RESERVE = 48;

/** Shorten to a byte budget without splitting a UTF-8 character. */
function clip(s: string, max: number): string {
  if (bytes(s) <= max) return s;
  let out = s;
  while (out.length && bytes(out) > Math.max(0, max - 3)) out = out.slice(0, -1);
  return out + '...';
}

/**
 * The Monitoring Plugins output: one status line with perfdata, then long
 * output, worst findings first, capped by lines and bytes with a note of
 * what was left out.
 */
export function renderNagios(outcome: Outcome, opts: RenderOptions): string {
  const state = outcomeState(outcome);
  const budget = byteBudget(opts.verbose);
  let perf = outcome.perfdata.map(formatPerfdata).join(' ');
  const head = `K8S ${opts.title} ${stateName(state)} - `;
  // Perfdata stays whole unless it alone would blow the budget.
  while (perf && bytes(head) + bytes(perf) + 40 > budget) perf = perf.split(' ').slice(0, -1).join(' ');
  const tail = perf ? ` | ${perf}` : '';
  // With findings there is always a second line, at least "... and N more": leave room for it.
  const summary = clip(sanitize(outcome.summary, 4000) || stateName(state), budget - bytes(head) - bytes(tail) - 1 - (outcome.findings.length ? MORE_RESERVE : 0));
  const first = `${head}${summary}${tail}`;

  const findings = flatten(outcome.findings, '', opts.verbose > 0 ? 1000 : 200, childCap(opts.verbose));

  const lines = [first];
  let used = bytes(first) + 1;
  const cap = lineCap(opts.verbose);
  let shown = 0;
  for (const line of findings) {
    const more = findings.length - shown - 1;
    const reserve = more > 0 ? MORE_RESERVE : 0; // room for the "... and N more" line
    if (shown >= cap || used + bytes(line) + 1 + reserve > budget) break;
    lines.push(line);
    used += bytes(line) + 1;
    shown++;
  }
  if (shown < findings.length) lines.push(`... and ${findings.length - shown} more (-v shows more)`);
  return lines.join('\n') + '\n';
}

/** Worst first (stable), as one line each. */
function worstFirst(findings: Finding[]): Finding[] {
  return findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => bySeverityDesc(a.f.state ?? State.OK, b.f.state ?? State.OK) || a.i - b.i)
    .map(({ f }) => f);
}

/** '[CRITICAL] text' or 'text' for context. */
export function findingLine(f: Finding, max = 1000): string {
  return (f.state === undefined ? '' : `[${stateName(f.state)}] `) + sanitize(f.text, max);
}

/** Lines of a sub-check shown under its own line: its worst few unless -v, so every sub-check gets its line in 1 KiB. */
function childCap(verbose: number): number {
  return verbose <= 0 ? 2 : verbose === 1 ? 20 : Infinity;
}

/** Long output lines, worst first; a sub-check's findings indented under its line. */
function flatten(findings: Finding[], indent: string, max: number, cap = Infinity): string[] {
  return worstFirst(findings).flatMap((f) => {
    const kids = f.children ?? [];
    const shown = flatten(kids, `${indent}  `, max, cap).slice(0, cap);
    const more = kids.length > cap ? [`${indent}  ... and ${kids.length - cap} more (-v shows more)`] : [];
    return [indent + findingLine(f, max), ...shown, ...more];
  });
}

/** Findings for JSON output: state names, sanitized text, nested sub-check findings. */
export function findingsJson(findings: Finding[]): unknown[] {
  return findings.map((f) => ({
    state: f.state === undefined ? null : stateName(f.state),
    text: sanitize(f.text, 1000),
    ...(f.children ? { findings: findingsJson(f.children) } : {}),
  }));
}

/** --format json: the same result, whole, for tooling. */
export function renderJson(outcome: Outcome, opts: { check: string; title: string }): string {
  const state = outcomeState(outcome);
  return (
    JSON.stringify({
      check: opts.check,
      state: stateName(state),
      exitCode: state,
      summary: sanitize(outcome.summary, 4000),
      perfdata: outcome.perfdata.map((p) => ({
        label: p.label,
        value: p.value === undefined || !Number.isFinite(p.value) ? null : Number(formatNumber(p.value)),
        uom: p.uom ?? '',
        warn: p.warn?.text ?? null,
        crit: p.crit?.text ?? null,
        min: p.min ?? null,
        max: p.max ?? null,
      })),
      findings: findingsJson(outcome.findings),
    }) + '\n'
  );
}
