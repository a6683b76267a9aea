import type { Perfdata, Uom } from './perfdata.js';
import type { Range } from './range.js';
import { outcomeState, type Action, type Finding, type Outcome } from './result.js';
import { bySeverityDesc, State, worst } from './state.js';

/** A problem as the status line names it: its state and a few words. */
export interface Problem {
  state: State;
  short: string;
  /** Among equally bad problems, higher leads the status line (a section's priority; default 0). */
  priority?: number;
  /** A section's status (Section.status): named on the status line whatever its state, after the problems. */
  status?: boolean;
}

/** Where a section stands among its siblings on the status line. */
export interface SectionOptions {
  /** Among equally bad problems, a higher priority leads the status line (an incident's signature). Default 0. */
  priority?: number;
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
 * the short text of every problem that is not OK, worst first (then higher
 * priority, then as found), each once; then the status of each OK section
 * (Section.status), so a check of several parts says how each part is. With
 * no problem, `ok`, or when it is undefined the sections' statuses.
 */
export function summarize(problems: readonly Problem[], ok?: string): string {
  const bad = problems.filter((p) => p.state !== State.OK);
  const stated = problems.filter((p) => p.state === State.OK && p.status).map((p) => p.short);
  if (!bad.length) return ok ?? [...new Set(stated)].join('; ');
  const order = bad
    .map((p, i) => ({ p, i }))
    .sort((a, b) => bySeverityDesc(a.p.state, b.p.state) || (b.p.priority ?? 0) - (a.p.priority ?? 0) || a.i - b.i);
  return [...new Set([...order.map(({ p }) => p.short), ...stated])].join('; ');
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
  private readonly parts: Section[] = [];

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

  /**
   * A named part of the check (monitoring-plugins' mp_subcheck, go-check's
   * PartialResult): its problems, findings, perfdata and actions roll up into
   * this report; its state is the one set by status(), else the worst of its
   * problems, findings and sections. In long output it is one heading line
   * ('[STATE] name: status', or '[STATE] name') with its findings indented below, placed where
   * section() was called; in --format json a finding with `section` set.
   */
  section(name: string, o: SectionOptions = {}): Section {
    const part = new Section(this, name, o.priority ?? 0);
    this.parts.push(part);
    this.findings.push(part.heading);
    return part;
  }

  /** The problems so far, sections' included (for composed checks and tests). */
  problems(): Problem[] {
    return [...this.named, ...this.parts.flatMap((p) => p.rolledUp())];
  }

  /**
   * The Outcome: the status line names the problems, worst first, or says
   * `ok` (left out: the sections' statuses). `prefix` goes before the problems
   * (what they are about: 'kube-system/coredns: 1/2 ready: ').
   */
  done(ok?: string, o: { prefix?: string } = {}): Outcome {
    const problems = this.problems();
    const bad = problems.some((p) => p.state !== State.OK);
    const summary = bad ? `${o.prefix ?? ''}${summarize(problems, ok)}` : summarize(problems, ok);
    // A problem's state counts even when it has no long-output line of its own.
    const state = worst(...problems.map((p) => p.state));
    const actions = worstActions(this.todo);
    const findings = this.settled();
    return { summary, ...(actions.length && { actions }), findings, perfdata: this.perfdata, ...(state !== State.OK && { state }) };
  }

  /** The findings with every section's heading filled in; sections with nothing to say left out. */
  protected settled(): Finding[] {
    for (const p of this.parts) p.settle();
    return this.findings.filter((f) => f.section === undefined || !this.parts.some((p) => p.heading === f && p.empty()));
  }

  /** Own problems and findings states, and the sections' (Section.state without an explicit state). */
  protected derivedState(): State {
    return worst(...this.named.map((p) => p.state), ...this.findings.filter((f) => f.section === undefined).map((f) => f.state ?? State.OK), ...this.parts.map((p) => p.state()));
  }

  protected isEmpty(): boolean {
    return !this.named.length && this.parts.every((p) => p.empty()) && !this.findings.some((f) => f.section === undefined);
  }
}

/** A part of a check (Report.section): a Report whose state, problems and perfdata roll up into its parent's. */
export class Section extends Report {
  /** Its line in the parent's findings: text and state filled in when the parent is done. */
  readonly heading: Finding;
  private explicit?: State;
  private said?: string;

  constructor(private readonly parent: Report, readonly name: string, private priority: number) {
    super();
    this.heading = { text: name, section: name, children: [] };
  }

  /**
   * What this part amounts to (mp_subcheck's output, PartialResult.Output):
   * named on the parent's status line whatever its state, in place of its
   * problems. `state` sets the part's state (mp_set_subcheck_state; derived
   * when left out); `priority` replaces section()'s, once the verdict says
   * whether this part is the incident's signature.
   */
  status(text: string, o: { state?: State; priority?: number } = {}): this {
    this.said = text;
    if (o.state !== undefined) this.explicit = o.state;
    if (o.priority !== undefined) this.priority = o.priority;
    return this;
  }

  /** The part's state: set by status(), else the worst of its problems, findings and sections (go-check's GetStatus). */
  state(): State {
    return this.explicit ?? this.derivedState();
  }

  override metric(label: string, value: number | undefined, o: MetricOptions = {}): this {
    super.metric(label, value, o);
    this.parent.metric(label, value, o);
    return this;
  }

  override action(state: State, text: string): this {
    this.parent.action(state, text);
    return this;
  }

  /** Its problems as the parent names them: its status, or each problem, with its priority. */
  rolledUp(): Problem[] {
    if (this.said !== undefined) return [{ state: this.state(), short: this.said, priority: this.priority, status: true }];
    return this.problems().map((p) => ({ ...p, priority: p.priority ?? this.priority }));
  }

  empty(): boolean {
    return this.said === undefined && this.explicit === undefined && this.isEmpty();
  }

  /** Its heading: '[STATE] name: status', or the name alone (its problems are on the status line and below it). */
  settle(): void {
    Object.assign(this.heading, { state: this.state(), text: this.said === undefined ? this.name : `${this.name}: ${this.said}`, children: this.settled() });
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
