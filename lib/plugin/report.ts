import type { Perfdata, Uom } from './perfdata.js';
import type { Range } from './range.js';
import { outcomeState, type Action, type Finding, type Outcome } from './result.js';
import { bySeverityDesc, State, worst } from './state.js';

/** A problem as the status line names it: its state and a few words. */
export interface Problem {
  state: State;
  short: string;
}

/** The result of judging one value against its ranges (nagiosplugin's ScalarContext.evaluate). */
export interface Judgement {
  state: State;
  /** Which range fired: 'outside -c 0'; '' when OK. */
  hint: string;
}

export interface MetricOptions {
  uom?: Uom;
  min?: number;
  max?: number;
  /** Ranges shown with a metric judged elsewhere (per item, or not known: 'U'). */
  warn?: Range;
  crit?: Range;
}

/** Judge a value: critical wins over warning; the hint names the range that fired. */
export function judge(value: number, warn?: Range, crit?: Range): Judgement {
  if (crit?.alerts(value)) return { state: State.CRITICAL, hint: crit.violation() };
  if (warn?.alerts(value)) return { state: State.WARNING, hint: warn.violation() };
  return { state: State.OK, hint: '' };
}

/**
 * The status line of a check with problems (nagiosplugin's Summary.problem):
 * the short text of every problem that is not OK, worst first, each once.
 */
export function summarize(problems: readonly Problem[], ok: string): string {
  const bad = problems.filter((p) => p.state !== State.OK);
  if (!bad.length) return ok;
  const order = bad.map((p, i) => ({ p, i })).sort((a, b) => bySeverityDesc(a.p.state, b.p.state) || a.i - b.i);
  return [...new Set(order.map(({ p }) => p.short))].join('; ');
}

/**
 * Builds a check's Outcome: problems (status line and long output), evidence
 * and context lines, perfdata with the thresholds that judged it, and the
 * outcomes of sub-checks nested under one line each.
 */
export class Report {
  readonly findings: Finding[] = [];
  readonly perfdata: Perfdata[] = [];
  private readonly named: Problem[] = [];
  private readonly todo: Action[] = [];

  /**
   * What the operator should do about a verdict of this state, with the names
   * filled in (which node, which command, what to verify after). Rendered as
   * the first long-output lines ("What to do: ..."), worst first, and as
   * `actions` in --format json. Ignored when `state` is OK, so a check can
   * pass a judged state as it is.
   */
  action(state: State, text: string): this {
    if (state !== State.OK) this.todo.push({ state, text });
    return this;
  }

  /**
   * A problem: `short` goes to the status line; `text`, when given, is its
   * long-output line (leave it out when evidence lines already say it).
   */
  problem(state: State, short: string, text?: string): this {
    this.named.push({ state, short });
    if (text !== undefined) this.findings.push({ state, text });
    return this;
  }

  /** An evidence line with a state (a pod, a rule), not named in the status line. */
  add(state: State | undefined, text: string): this {
    this.findings.push({ state, text });
    return this;
  }

  /** A context line of long output. */
  info(text: string): this {
    return this.add(undefined, text);
  }

  /** Perfdata that is not judged. */
  metric(label: string, value: number | undefined, o: MetricOptions = {}): this {
    this.perfdata.push({ label, value, ...o });
    return this;
  }

  /** Record a value with its thresholds and judge it: one call, so the two can never disagree. */
  judge(label: string, value: number, o: MetricOptions): Judgement {
    this.metric(label, value, o);
    return judge(value, o.warn, o.crit);
  }

  /**
   * A sub-check's outcome under one line ("scheduler_stall: <its summary>"),
   * its findings nested below. `as` maps its state to what it means here;
   * `short` names it in the status line when it is not OK.
   */
  nest(name: string, sub: Outcome, o: { as?: (s: State) => State; short?: string } = {}): State {
    const state = (o.as ?? ((s) => s))(outcomeState(sub));
    this.named.push({ state, short: o.short ?? `${name}: ${sub.summary}` });
    // A sub-check's own next steps stay next steps here, at the state they mean here.
    for (const a of sub.actions ?? []) this.action(state, `${name}: ${a.text}`);
    this.findings.push({ state, text: `${name}: ${sub.summary}`, ...(sub.findings.length ? { children: sub.findings } : {}) });
    return state;
  }

  /** The problems so far (for composed checks and tests). */
  problems(): Problem[] {
    return [...this.named];
  }

  /**
   * The Outcome: the status line names the problems, worst first, or says
   * `ok`. `prefix` goes before the problems (what they are about: 'kube-system/coredns: 1/2 ready: ').
   */
  done(ok: string, o: { prefix?: string } = {}): Outcome {
    const bad = this.problems().some((p) => p.state !== State.OK);
    const summary = bad ? `${o.prefix ?? ''}${summarize(this.problems(), ok)}` : ok;
    // A problem's state counts even when it has no long-output line of its own.
    const state = worst(...this.problems().map((p) => p.state));
    const actions = worstActions(this.todo);
    return { summary, ...(actions.length && { actions }), findings: this.findings, perfdata: this.perfdata, ...(state !== State.OK && { state }) };
  }
}

/** Actions worst first (stable), each text once. */
export function worstActions(actions: readonly Action[]): Action[] {
  const seen = new Set<string>();
  return actions
    .map((a, i) => ({ a, i }))
    .sort((x, y) => bySeverityDesc(x.a.state, y.a.state) || x.i - y.i)
    .map(({ a }) => a)
    .filter((a) => !seen.has(a.text) && seen.add(a.text));
}
