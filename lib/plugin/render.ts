import { formatPerfdata, formatNumber } from './perfdata.js';
import type { Action, Finding, Outcome } from './result.js';
import { outcomeState } from './result.js';
import { clipWords, sanitize } from './sanitize.js';
import { bySeverityDesc, State, stateName } from './state.js';

export interface RenderOptions {
  /** e.g. 'SCHEDULER STALL' -> 'K8S SCHEDULER STALL CRITICAL - ...' */
  title: string;
  verbose: number;
}

/**
 * How many bytes of output each -v level prints, sized for the transports
 * (docs/plugin-contract.md, "Output size"): Nagios 4 keeps 8 KiB of a
 * plugin's output, perfdata included (MAX_PLUGIN_OUTPUT_LENGTH 8192 in its
 * include/nagios.h, the terminating NUL among them); Debian's NRPE 4.1 carries
 * 64 KiB (src/nrpe.c my_system(): "Maximum buffer is 64K"); Icinga 2 keeps
 * everything. NRPE cannot pass -v, so the default is what Nagios keeps.
 */
export function byteBudget(verbose: number): number {
  return verbose <= 0 ? 8191 : verbose === 1 ? 65535 : Infinity;
}

/**
 * The status line (summary and perfdata) stays within 1 KiB whatever the
 * budget: what even an NRPE v2 packet carries whole (MAX_PACKETBUFFER_LENGTH
 * 1024), and what a notification shows.
 */
export const FIRST_LINE_MAX = 1023;

/** Room the summary always keeps on the status line; perfdata gives way beyond it. */
const SUMMARY_ROOM = 400;

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/** Bytes kept for the "... and N more (-v shows more)" line and its newline. */
const MORE_RESERVE = 48;

/** Shorten to a byte budget at a word boundary, without splitting a UTF-8 character. */
function clip(s: string, max: number): string {
  if (bytes(s) <= max) return s;
  // clipWords counts characters: shrink until the bytes fit (multi-byte text).
  let chars = Math.min(s.length, max);
  let out = clipWords(s, chars);
  while (chars > 0 && bytes(out) > max) out = clipWords(s, (chars = Math.floor(chars * 0.9)));
  return out;
}

/**
 * The Monitoring Plugins output: one status line with perfdata, then what to
 * do (Report.action), then long output, worst findings first, capped by
 * bytes with a note of what was left out.
 */
export function renderNagios(outcome: Outcome, opts: RenderOptions): string {
  const state = outcomeState(outcome);
  const budget = byteBudget(opts.verbose);
  let perf = outcome.perfdata.map(formatPerfdata).join(' ');
  const head = `K8S ${opts.title} ${stateName(state)} - `;
  // Perfdata stays whole unless it would leave the summary no room: then whole labels go, last first.
  while (perf && bytes(head) + bytes(perf) + 3 + SUMMARY_ROOM > FIRST_LINE_MAX) perf = perf.split(' ').slice(0, -1).join(' ');
  const tail = perf ? ` | ${perf}` : '';
  const summary = clip(sanitize(outcome.summary, 4000) || stateName(state), FIRST_LINE_MAX - bytes(head) - bytes(tail));
  const first = `${head}${summary}${tail}`;

  const actions = (outcome.actions ?? []).map(actionLine);
  const findings = flatten(outcome.findings, '', 1000, childCap(opts.verbose));
  const body = [...actions, ...findings];

  const lines = [first];
  let used = bytes(first) + 1;
  let shown = 0;
  for (const line of body) {
    const more = body.length - shown - 1;
    const reserve = more > 0 ? MORE_RESERVE : 0; // room for the "... and N more" line
    if (used + bytes(line) + 1 + reserve > budget) break;
    lines.push(line);
    used += bytes(line) + 1;
    shown++;
  }
  if (shown < body.length) lines.push(`... and ${body.length - shown} more (-v shows more)`);
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

/** Lines of a sub-check shown under its own line: its worst few unless -v, so every sub-check gets its line within the budget. */
function childCap(verbose: number): number {
  return verbose <= 0 ? 5 : verbose === 1 ? 20 : Infinity;
}

/**
 * Long output lines, worst first; a sub-check's findings indented under its
 * line, a section's under its heading. A section is part of this check, so its
 * lines are not capped (only the byte budget cuts them).
 */
function flatten(findings: Finding[], indent: string, max: number, cap = Infinity): string[] {
  return worstFirst(findings).flatMap((f) => {
    const kids = f.children ?? [];
    const limit = f.section === undefined ? cap : Infinity;
    // Counted in lines: a sub-check's sections bring their own lines.
    const lines = flatten(kids, `${indent}  `, max, cap);
    const shown = lines.slice(0, limit);
    const more = lines.length > limit ? [`${indent}  ... and ${lines.length - limit} more (-v shows more)`] : [];
    return [indent + findingLine(f, max), ...shown, ...more];
  });
}

/** 'What to do: <the next step>' (Report.action). */
export function actionLine(a: Action): string {
  return `What to do: ${sanitize(a.text, 1000)}`;
}

/** Actions for JSON output: state names, sanitized text, worst first. */
export function actionsJson(actions: Action[] | undefined): unknown[] {
  return (actions ?? []).map((a) => ({ state: stateName(a.state), text: sanitize(a.text, 1000) }));
}

/** Findings for JSON output: state names, sanitized text, nested sub-check findings. */
export function findingsJson(findings: Finding[]): unknown[] {
  return findings.map((f) => ({
    state: f.state === undefined ? null : stateName(f.state),
    text: sanitize(f.text, 1000),
    ...(f.section !== undefined ? { section: sanitize(f.section, 200) } : {}),
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
      actions: actionsJson(outcome.actions),
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
