/**
 * What judges each perfdata metric, declared beside it: nagiosplugin's
 * contexts, looked up by metric name (nagiosplugin/context.py: "The Check
 * controller selects a context for each Metric by matching the metric's
 * context attribute with the context's name"; its ScalarContext holds the
 * warning and critical ranges). Here a context names the OPTIONS that give
 * its ranges, not the ranges themselves, so that
 *  - evaluate() takes a metric's ranges from its declaration and the parsed
 *    options (Metrics.judge/metric): it cannot judge with other options;
 *  - --help, the man page and README's reference print the same declaration
 *    (contextText: the flags and their defaults);
 *  - test/integration/perfdata-contexts.test.ts compares every judged metric's
 *    warn/crit in the output with what its declared options give.
 */
import { shortFlag, type AnyOption, type OptionTable } from './options.js';
import type { Uom } from './perfdata.js';
import { parseRange, Range } from './range.js';
import type { Judgement, MetricOptions, Report } from './report.js';

/**
 * How an option's value becomes a range. A RANGE option is used as given;
 * a number N (a duration in seconds, a count) means:
 *   'max': above N alerts (the range N);
 *   'min': below N alerts (the range N:), and so does a RANGE option given as
 *          a plain N (certificate days: -w 30 means fewer than 30 days).
 */
export type RangeAs = 'max' | 'min';

/** A pair of options gives the warning and critical ranges (ScalarContext). */
export interface RangeContext<K extends string = string> {
  kind: 'range';
  warning?: K;
  critical?: K;
  as?: RangeAs;
  /** A number option of 0 judges nothing (--min-nodes 0). */
  zeroOff?: boolean;
  /** Number options: a warning above the critical is the critical (the canary stops waiting at the critical). */
  cap?: boolean;
  /** Judged only while this boolean option is on (nodes: -w/-c with --percent) ... */
  when?: K;
  /** ... or only while it is off. */
  unless?: K;
  /** A percentage of what: 'the nodes' (the value is a share, the ranges are in percent). */
  of?: string;
  /** What else the rule does, in a few words ('CRITICAL only once it lasts --storm-persist'). */
  note?: string;
}

/** Any non-zero value is the state a choice option names (--aggregated-state). */
export interface StateContext<K extends string = string> {
  kind: 'state';
  option: K;
}

/** A rule of the check's own, the same whatever the options; its ranges, if it writes them, fixed. */
export interface FixedContext {
  kind: 'fixed';
  rule: string;
  warning?: string;
  critical?: string;
}

/** Judged per item (a lease, a pattern) by whichever of these options applies to it. */
export interface EachContext<K extends string = string> {
  kind: 'each';
  options: K[];
  rule: string;
}

export type MetricContext<K extends string = string> = RangeContext<K> | StateContext<K> | FixedContext | EachContext<K>;

/** range('warning', 'critical'), range('podsWarning', 'podsCritical'), range('minNodes', undefined, { as: 'min' }). */
export function range<const K extends string>(warning: K | undefined, critical: K | undefined, o: Omit<RangeContext<K>, 'kind' | 'warning' | 'critical'> = {}): RangeContext<K> {
  return { kind: 'range', ...(warning && { warning }), ...(critical && { critical }), ...o };
}

/** A range over a percentage of a total ('the nodes'): the value is 100 * part / total. */
export function percent<const K extends string>(warning: K, critical: K, of: string, o: Omit<RangeContext<K>, 'kind' | 'warning' | 'critical' | 'of'> = {}): RangeContext<K> {
  return range(warning, critical, { ...o, of });
}

/** Any non-zero value is the state the choice option `option` names. */
export function stateOf<const K extends string>(option: K): StateContext<K> {
  return { kind: 'state', option };
}

/** A fixed rule: `rule` says it, the ranges (written to perfdata) never change. */
export function fixed(rule: string, ranges: { warning?: string; critical?: string } = {}): FixedContext {
  return { kind: 'fixed', rule, ...ranges };
}

/** Judged per item by one of `options` (which one: `rule`). */
export function each<const K extends string>(rule: string, options: K[]): EachContext<K> {
  return { kind: 'each', rule, options };
}

export interface PerfdataDoc<K extends string = string> {
  describe: string;
  /** Its unit as printed ('s', '%', 'B', 'c'); none for a plain count. Metrics.metric/judge write it. */
  uom?: Uom;
  /** What judges it; none: not judged (shown only). */
  judge?: MetricContext<K>;
}

/** 'podsWarning' -> 'pods-warning', the option table's key. */
export function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The option keys a context reads. */
export function contextOptions(c: MetricContext | undefined): string[] {
  if (!c) return [];
  if (c.kind === 'range') return [c.warning, c.critical, c.when, c.unless].filter((k): k is string => k !== undefined);
  if (c.kind === 'state') return [c.option];
  if (c.kind === 'each') return [...c.options];
  return [];
}

/** One option's value as a range (see RangeAs); undefined when unset or off. */
function asRange(value: unknown, key: string, c: RangeContext): Range | undefined {
  const flag = key === 'warning' ? '-w' : key === 'critical' ? '-c' : `--${kebab(key)}`;
  if (value === undefined || value === null) return undefined;
  if (value instanceof Range) {
    const plain = !value.inside && !value.text.includes(':');
    return c.as === 'min' && plain ? parseRange(`${value.end}:`, value.flag ?? flag) : value;
  }
  // An option whose value holds a count range or a percentage (nodes' --reboot-*): only a count is a perfdata range.
  if (typeof value === 'object' && 'range' in value) return (value as { percent?: boolean }).percent ? undefined : (value as { range: Range }).range;
  if (typeof value === 'number') {
    if (c.zeroOff && value === 0) return undefined;
    return parseRange(c.as === 'min' ? `${value}:` : String(value), flag);
  }
  return parseRange(String(value), flag);
}

/** The warning and critical ranges a context gives with these options (nothing for 'state' and 'each'). */
export function contextRanges(c: MetricContext | undefined, o: object): { warn?: Range; crit?: Range } {
  if (!c) return {};
  const v = o as Record<string, unknown>;
  if (c.kind === 'fixed') return { ...(c.warning && { warn: parseRange(c.warning) }), ...(c.critical && { crit: parseRange(c.critical) }) };
  if (c.kind !== 'range') return {};
  if ((c.when && !v[c.when]) || (c.unless && v[c.unless])) return {};
  let w = c.warning ? v[c.warning] : undefined;
  const cv = c.critical ? v[c.critical] : undefined;
  // A warning past the critical never fires first: show the critical (the canary stops waiting there).
  if (c.cap && typeof w === 'number' && typeof cv === 'number') w = Math.min(w, cv);
  const warn = c.warning ? asRange(w, c.warning, c) : undefined;
  const crit = c.critical ? asRange(cv, c.critical, c) : undefined;
  return { ...(warn && { warn }), ...(crit && { crit }) };
}

/** '-w (WARNING, default 1)': how --help, the man page and README name an option. */
function flagText(key: string, table: OptionTable, what?: string): string {
  const spec: AnyOption | undefined = table[kebab(key)];
  const flag = shortFlag(kebab(key), spec);
  if (spec?.boolean) return flag;
  return `${flag} (${what ? `${what}, ` : ''}default ${spec?.default === undefined ? 'unset' : String(spec.default)})`;
}

/** The thresholds column: which options judge the metric, with their defaults, and how. */
export function contextText(c: MetricContext | undefined, table: OptionTable): string {
  if (!c) return '';
  if (c.kind === 'state') return `any non-zero is the state of ${flagText(c.option, table)}`;
  if (c.kind === 'fixed') return c.rule;
  if (c.kind === 'each') return `${c.rule}: ${c.options.map((k) => flagText(k, table)).join(', ')}`;
  const parts = [[c.warning && flagText(c.warning, table, 'WARNING'), c.critical && flagText(c.critical, table, 'CRITICAL')].filter(Boolean).join(', ')];
  if (c.as === 'min') parts.push('a plain N alerts below N');
  if (c.as === 'max') parts.push('N alerts above N');
  if (c.of) parts.push(`in percent of ${c.of}`);
  if (c.when) parts.push(`with ${flagText(c.when, table)}`);
  if (c.unless) parts.push(`without ${flagText(c.unless, table)}`);
  if (c.zeroOff) parts.push('0: not judged');
  if (c.cap) parts.push('a warning above the critical is the critical');
  if (c.note) parts.push(c.note);
  return parts.join('; ');
}

/** A label declared as 'renew_age_<lease>' matches renew_age_kube-scheduler. */
export function declaredKey(label: string, keys: readonly string[]): string | undefined {
  if (keys.includes(label)) return label;
  return keys.find((k) => k.includes('<') && new RegExp(`^${k.split(/<[^>]+>/).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.+')}$`).test(label));
}

type Extra = Pick<MetricOptions, 'min' | 'max'>;

/**
 * A check's perfdata declarations, bound for evaluate(): a judged metric
 * goes through here, so its unit and ranges are the declared ones (a metric
 * that is not judged may, for its unit).
 * `K` is a declared name; a templated one ('renew_age_<lease>') takes the
 * written label as `label`.
 */
export class Metrics<K extends string> {
  constructor(readonly docs: Record<K, PerfdataDoc>) {}

  /** The unit and ranges of a declared metric with these options. */
  options(key: K, o: object, extra: Extra = {}): MetricOptions {
    const d = this.docs[key];
    return { ...(d.uom && { uom: d.uom }), ...extra, ...contextRanges(d.judge, o) };
  }

  /** Record a judged metric and judge it with its declared ranges (Report.judge). */
  judge(r: Report, key: K, value: number, o: object, extra: Extra = {}, label: string = key): Judgement {
    return r.judge(label, value, this.options(key, o, extra));
  }

  /** Record a metric (U when undefined) with its declared unit and ranges: judged elsewhere or not at all. */
  metric(r: Report, key: K, value: number | undefined, o: object, extra: Extra = {}, label: string = key): Report {
    return r.metric(label, value, this.options(key, o, extra));
  }
}

/**
 * Declare a check's perfdata, each metric with its context. The options a
 * context names must be the check's (test/integration/perfdata-contexts.test.ts
 * holds every check to it, and to the output).
 */
export function declareMetrics<const D extends Record<string, PerfdataDoc>>(docs: D): Metrics<keyof D & string> {
  return new Metrics(docs);
}
