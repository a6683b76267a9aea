import type { Perfdata } from './perfdata.js';
import { State, worst } from './state.js';

/**
 * One line of long output: a judged finding (state set) or plain context
 * (state undefined). `children` nest a sub-check's findings under it
 * (go-check's PartialResult): reboot_ready and triage compose checks.
 */
export interface Finding {
  state?: State;
  text: string;
  children?: Finding[];
  /** The heading of a section (Report.section): its name; `children` are its findings. */
  section?: string;
}

/** The next step for a non-OK verdict, with the names filled in (Report.action). */
export interface Action {
  state: State;
  text: string;
}

/** What a check's pure evaluation returns; the core renders it. */
export interface Outcome {
  summary: string;
  /** What to do, worst verdict first: the first lines of long output. */
  actions?: Action[];
  findings: Finding[];
  perfdata: Perfdata[];
  /** Set only to force a state the findings do not carry (errors, timeouts). */
  state?: State;
}

/** Like go-check: the check's state is the worst of its findings (nested ones included through their parent). */
export function outcomeState(o: Outcome): State {
  return worst(o.state ?? State.OK, ...o.findings.map((f) => f.state ?? State.OK));
}

/** "3 pods" / "1 pod". */
export function plural(n: number, word: string, pluralWord = `${word}s`): string {
  return `${n} ${n === 1 ? word : pluralWord}`;
}

/** The first `max` items, then how many more: 'a, b and 3 more' ('and 3 more nodes', 'and 1 more node' with `what`: 'node'). */
export function firstFew(items: readonly string[], max: number, what?: string): string {
  const shown = items.slice(0, max).join(', ');
  const more = items.length - max;
  return more > 0 ? `${shown} and ${more} more${what ? ` ${more === 1 ? what : `${what}s`}` : ''}` : shown;
}

/** Findings as context: the same lines, no state (evidence shown, not judged). */
export function unjudged(findings: readonly Finding[]): Finding[] {
  return findings.map((f) => ({ text: f.text, ...(f.children && { children: unjudged(f.children) }), ...(f.section !== undefined && { section: f.section }) }));
}

/**
 * A verdict withheld: UNKNOWN for `reason` (which says what to do), with what
 * the check saw kept below as context. A node-local check whose host is not
 * known to be a node reports its evidence but does not page on it.
 */
export function withheld(reason: string, seen: Outcome, seenSummary = seen.summary): Outcome {
  return {
    summary: reason,
    state: State.UNKNOWN,
    findings: [{ state: State.UNKNOWN, text: reason }, { text: `not judged: ${seenSummary}`, children: unjudged(seen.findings) }],
    perfdata: seen.perfdata,
  };
}
