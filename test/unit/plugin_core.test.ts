import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../lib/plugin/duration.js';
import { parseRange } from '../../lib/plugin/range.js';
import { clipWords, registerSecret, sanitize } from '../../lib/plugin/sanitize.js';
import { bySeverityDesc, parseState, State, stateName, worst } from '../../lib/plugin/state.js';
import { formatNumber, formatPerfdata, formatLabel } from '../../lib/plugin/perfdata.js';
import { byteBudget, findingLine, findingsJson, renderJson, renderNagios } from '../../lib/plugin/render.js';
import { firstFew, outcomeState as outcomeOf, plural, unjudged, withheld } from '../../lib/plugin/result.js';
import { UsageError } from '../../lib/plugin/errors.js';
import { Report, worstActions } from '../../lib/plugin/report.js';

// The small pieces every check's output is made of, in the situations an operator meets them:
// a duration in a status line, the range hint after a verdict, a name that tries to break the line.

describe('durations as the operator types and reads them', () => {
  it('reads seconds, units and sums of units', () => {
    expect(parseDuration(' 5m ')).toBe(300);
    expect(parseDuration('1.5h')).toBe(5400);
    expect(parseDuration('500ms')).toBe(0.5);
    expect(parseDuration('1d')).toBe(86400);
    expect(parseDuration('2m30s')).toBe(150);
    expect(parseDuration(45)).toBe(45);
    expect(parseDuration('0.25')).toBe(0.25);
    expect(parseDuration('1.25')).toBe(1.25);
    expect(parseDuration('1.25h')).toBe(4500);
  });

  it('refuses what it cannot read, naming the option and the forms it takes', () => {
    expect(() => parseDuration('soon')).toThrow("invalid duration 'soon': use seconds");
    expect(() => parseDuration('5 minutes', '--window')).toThrow("invalid --window '5 minutes': use seconds or a duration like 90s, 5m, 1h30m");
    for (const bad of ['5m3', 'm5', '5M', '1w', '-5m', '5m ago', ' ']) expect(() => parseDuration(bad), bad).toThrow(UsageError);
  });

  it('writes the two largest units, rounding seconds down', () => {
    const cases: [number, string][] = [
      [0, '0s'], [59.9, '59s'], [60, '1m'], [61, '1m1s'], [9 * 60 + 59, '9m59s'], [10 * 60 + 5, '10m'], [3599, '59m'],
      [3600, '1h'], [3660, '1h1m'], [3600 + 59, '1h'], [86399, '23h59m'], [86400, '1d'], [86400 + 3600, '1d1h'], [86400 + 59 * 60, '1d'],
    ];
    for (const [s, text] of cases) expect(formatDuration(s), String(s)).toBe(text);
  });

  it("says '?' for a time it cannot know (a clock behind, a missing timestamp)", () => {
    for (const s of [-1, NaN, Infinity]) expect(formatDuration(s)).toBe('?');
  });
});

describe('ranges in verdicts', () => {
  it('names the range that fired with its flag, inside or outside', () => {
    expect(parseRange('0', '-c').violation()).toBe('outside -c 0');
    expect(parseRange('@10:20', '-w').violation()).toBe('inside -w @10:20');
    expect(parseRange('10').violation()).toBe('outside 10');
    expect(String(parseRange(' 5: '))).toBe('5:');
  });

  it('takes a number as the config gives it and an alert-inside single value', () => {
    expect(parseRange(5).alerts(6)).toBe(true);
    expect(parseRange(5).alerts(5)).toBe(false);
    const r = parseRange('@10');
    expect([r.alerts(0), r.alerts(10), r.alerts(10.5), r.alerts(-0.5)]).toEqual([true, true, false, false]);
  });

  it('says what is wrong with a bad range', () => {
    expect(() => parseRange('10:5')).toThrow("invalid range '10:5': start 10 is greater than end 5");
    expect(() => parseRange('@')).toThrow("invalid range '@': nothing after '@'");
    expect(() => parseRange(':')).toThrow("invalid range ':': no start or end");
    expect(() => parseRange('x:5')).toThrow("invalid range 'x:5': start 'x' is not a number");
    expect(() => parseRange('5:x')).toThrow("invalid range '5:x': end 'x' is not a number");
    expect(() => parseRange('   ')).toThrow('invalid range: empty');
    expect(() => parseRange('ten')).toThrow("invalid range 'ten': end 'ten' is not a number");
    expect(parseRange('.5:').alerts(0.4)).toBe(true);
    expect(parseRange('+1:2.').alerts(1)).toBe(false);
  });
});

describe('states', () => {
  it('names a state, and an out-of-range number as UNKNOWN', () => {
    expect(stateName(State.WARNING)).toBe('WARNING');
    expect(stateName(7 as State)).toBe('UNKNOWN');
  });

  it('parses names in any case with blanks around, and the exit codes 0-3', () => {
    expect(parseState(' Critical ')).toBe(State.CRITICAL);
    expect(parseState('0')).toBe(State.OK);
    expect(parseState('3')).toBe(State.UNKNOWN);
    for (const bad of ['4', '-1', '', 'okay', 'crit', '01']) expect(parseState(bad), bad).toBeUndefined();
  });

  it('orders problems CRITICAL, WARNING, UNKNOWN, OK whatever order they were found in', () => {
    expect([State.OK, State.UNKNOWN, State.CRITICAL, State.WARNING].sort(bySeverityDesc)).toEqual([State.CRITICAL, State.WARNING, State.UNKNOWN, State.OK]);
    expect(worst()).toBe(State.OK);
    expect(worst(State.UNKNOWN, State.OK)).toBe(State.UNKNOWN);
    expect(worst(State.WARNING, State.UNKNOWN)).toBe(State.WARNING);
  });
});

describe('cluster text on the status line', () => {
  it('drops bidi and zero-width characters so a name shows as what it is', () => {
    expect(sanitize('pod-\u202Egnp.exe')).toBe('pod-gnp.exe');
    expect(sanitize('kube\u200B-system/\uFEFFcoredns')).toBe('kube-system/coredns');
  });

  it("turns '|' and line breaks into harmless characters, and squeezes blanks", () => {
    expect(sanitize('  a | b\u2028c  ')).toBe('a / b c');
    expect(sanitize('\x1b[1;31mred\x1b[0m text')).toBe('red text');
    expect(sanitize('a\x9bb')).toBe('a b');
    expect(sanitize('ns/a   ns/b')).toBe('ns/a ns/b');
  });

  it('redacts a registered credential, not a short ordinary word', () => {
    registerSecret('s3cr3t-token-value');
    registerSecret('abc12');
    registerSecret('pw6chr');
    registerSecret(undefined);
    expect(sanitize('got s3cr3t-token-value twice: s3cr3t-token-value; abc12')).toBe('got [redacted] twice: [redacted]; abc12');
    expect(sanitize('password pw6chr')).toBe('password [redacted]');
  });

  it('keeps text that fits, and cuts a long list after a whole name', () => {
    expect(clipWords('a'.repeat(10), 10)).toBe('a'.repeat(10));
    expect(clipWords('alpha, beta, gamma, delta', 20)).toBe('alpha, beta ...');
    expect(clipWords('alpha;beta;gamma;delta', 16)).toBe('alpha;beta ...');
    expect(clipWords('x'.repeat(30), 12)).toBe('xxxxxxxxx...');
    expect(clipWords('ab cdefghijklmnopqrstuvwxyz', 12)).toBe('ab cdefgh...');
  });
});

describe('perfdata values', () => {
  it('writes large, negative and fractional values plainly', () => {
    expect(formatNumber(1e21)).toBe('1000000000000000000000');
    expect(formatNumber(-1e21)).toBe('-1000000000000000000000');
    expect(formatNumber(-2.5)).toBe('-2.5');
    expect(formatNumber(2.0000004)).toBe('2');
    expect(formatNumber(0.1234567)).toBe('0.123457');
  });

  it('a value it could not measure is U without its unit; a crit alone keeps the empty warn field', () => {
    expect(formatPerfdata({ label: 'latency', value: NaN, uom: 's' })).toBe('latency=U');
    expect(formatPerfdata({ label: 'latency', value: Infinity, uom: 's', crit: parseRange('5') })).toBe('latency=U;;5');
    expect(formatPerfdata({ label: 'x', value: 1, max: 3 })).toBe('x=1;;;;3');
    expect(formatLabel('a\tb')).toBe('a_b');
  });
});

describe('long output', () => {
  it('keeps what each transport carries per -v level', () => {
    expect([byteBudget(0), byteBudget(1), byteBudget(2), byteBudget(3)]).toEqual([8191, 65535, Infinity, Infinity]);
  });

  it('marks judged lines with their state and leaves context lines bare', () => {
    expect(findingLine({ state: State.OK, text: 'fine' })).toBe('[OK] fine');
    expect(findingLine({ text: 'context' })).toBe('context');
    expect(findingsJson([{ text: 'a', children: [{ state: State.WARNING, text: 'b' }] }, { state: State.OK, text: 'c' }]))
      .toEqual([{ state: null, text: 'a', findings: [{ state: 'WARNING', text: 'b' }] }, { state: 'OK', text: 'c' }]);
  });

  it("shows a sub-check's worst five lines by default, twenty with -v, and says how many it left", () => {
    const children = Array.from({ length: 25 }, (_, i) => ({ state: i === 24 ? State.CRITICAL : State.WARNING, text: `pod-${i}` }));
    const outcome = { summary: 'sub', findings: [{ state: State.CRITICAL, text: 'scheduler_stall: 25 pods', children }], perfdata: [] };
    const lines = renderNagios(outcome, { title: 'T', verbose: 0 }).trimEnd().split('\n');
    expect(lines).toEqual(['K8S T CRITICAL - sub', '[CRITICAL] scheduler_stall: 25 pods', '  [CRITICAL] pod-24', '  [WARNING] pod-0', '  [WARNING] pod-1', '  [WARNING] pod-2', '  [WARNING] pod-3', '  ... and 20 more (-v shows more)']);
    const v = renderNagios(outcome, { title: 'T', verbose: 1 }).trimEnd().split('\n');
    expect(v).toHaveLength(2 + 20 + 1);
    expect(v.at(-1)).toBe('  ... and 5 more (-v shows more)');
    expect(renderNagios(outcome, { title: 'T', verbose: 2 })).not.toContain('more (-v shows more)');
    // Exactly five: all shown, no "and 0 more".
    const five = { ...outcome, findings: [{ ...outcome.findings[0]!, children: children.slice(0, 5) }] };
    expect(renderNagios(five, { title: 'T', verbose: 0 }).trimEnd().split('\n')).toHaveLength(7);
  });

  it('an empty summary shows the state; perfdata that would crowd the summary loses whole labels, last first', () => {
    expect(renderNagios({ summary: '', findings: [], perfdata: [], state: State.WARNING }, { title: 'T', verbose: 0 })).toBe('K8S T WARNING - WARNING\n');
    const perfdata = Array.from({ length: 60 }, (_, i) => ({ label: `metric_number_${i}`, value: i }));
    const first = renderNagios({ summary: 'ok', findings: [], perfdata }, { title: 'T', verbose: 0 }).split('\n')[0]!;
    const kept = first.split(' | ')[1]!.split(' ');
    expect(kept.length).toBeGreaterThan(10);
    expect(kept.length).toBeLessThan(60);
    expect(kept).toEqual(perfdata.slice(0, kept.length).map((p) => `${p.label}=${p.value}`));
    expect(Buffer.byteLength(first)).toBeLessThanOrEqual(1023 - 400 + 'ok'.length + 3);
  });
});

describe('results', () => {
  it('counts in words', () => {
    expect([plural(0, 'pod'), plural(1, 'pod'), plural(2, 'pod'), plural(2, 'replica', 'replicas'), plural(3, 'child', 'children')]).toEqual(['0 pods', '1 pod', '2 pods', '2 replicas', '3 children']);
    // The status line names a few, then counts the rest: exactly max names, no 'and 0 more'.
    expect([firstFew([], 2), firstFew(['a', 'b'], 2), firstFew(['a', 'b', 'c'], 2), firstFew(['a', 'b', 'c', 'd', 'e'], 3, 'node'), firstFew(['a', 'b', 'c', 'd'], 3, 'node')])
      .toEqual(['', 'a, b', 'a, b and 1 more', 'a, b, c and 2 more nodes', 'a, b, c and 1 more node']);
  });

  it('a withheld verdict is UNKNOWN for its reason, with what was seen kept unjudged', () => {
    const seen = { summary: '2 pods stuck', findings: [{ state: State.CRITICAL, text: 'ns/a', children: [{ state: State.WARNING, text: 'x' }] }], perfdata: [{ label: 'stuck', value: 2 }] };
    const w = withheld('this host is not a node: give --node', seen);
    expect(w.summary).toBe('this host is not a node: give --node');
    expect(w.state).toBe(State.UNKNOWN);
    expect(w.findings).toEqual([{ state: State.UNKNOWN, text: 'this host is not a node: give --node' }, { text: 'not judged: 2 pods stuck', children: [{ text: 'ns/a', children: [{ text: 'x' }] }] }]);
    expect(w.perfdata).toBe(seen.perfdata);
    expect(unjudged([{ state: State.OK, text: 'a' }])).toEqual([{ text: 'a' }]);
    expect(withheld('r', seen, 'other words').findings[1]!.text).toBe('not judged: other words');
  });
});

describe('what to do', () => {
  it('an OK verdict has no next step; the same step twice is said once, worst first', () => {
    const r = new Report();
    r.action(State.OK, 'nothing to do');
    expect(r.done('fine').actions).toBeUndefined();
    r.action(State.WARNING, 'look at k8s02');
    r.action(State.CRITICAL, 'restart kubelite on k8s01');
    r.action(State.WARNING, 'look at k8s02');
    r.action(State.UNKNOWN, 'give --node');
    expect(r.done('fine').actions).toEqual([
      { state: State.CRITICAL, text: 'restart kubelite on k8s01' }, { state: State.WARNING, text: 'look at k8s02' }, { state: State.UNKNOWN, text: 'give --node' },
    ]);
    expect(worstActions([{ state: State.WARNING, text: 'a' }, { state: State.WARNING, text: 'b' }]).map((a) => a.text)).toEqual(['a', 'b']);
  });

  it("a nested sub-check's next steps stay, named and at the state they mean here; a quiet sub-check adds no children", () => {
    const r = new Report();
    const sub = { summary: '2 pods stuck', findings: [{ state: State.CRITICAL, text: 'ns/a' }], perfdata: [], actions: [{ state: State.CRITICAL, text: 'force-delete ns/a' }] };
    expect(r.nest('stuck_terminating', sub, { as: () => State.WARNING })).toBe(State.WARNING);
    expect(r.nest('leases', { summary: 'fresh', findings: [], perfdata: [] })).toBe(State.OK);
    const o = r.done('ok');
    expect(o.actions).toEqual([{ state: State.WARNING, text: 'stuck_terminating: force-delete ns/a' }]);
    expect(o.findings[1]).toEqual({ state: State.OK, text: 'leases: fresh' });
    expect(o.state).toBe(State.WARNING);
    expect(r.problems()).toEqual([{ state: State.WARNING, short: 'stuck_terminating: 2 pods stuck' }, { state: State.OK, short: 'leases: fresh' }]);
    // problems() is a copy: a caller cannot add to the status line behind the report's back.
    r.problems().push({ state: State.CRITICAL, short: 'x' });
    expect(r.done('ok').summary).toBe('stuck_terminating: 2 pods stuck');
  });

  it('metric() keeps an unjudged value with its unit and bounds; evidence lines keep their state', () => {
    const r = new Report();
    r.metric('pods', 3, { min: 0, max: 10 }).add(State.WARNING, 'ns/a slow').info('context');
    const o = r.done('fine');
    expect(o.perfdata).toEqual([{ label: 'pods', value: 3, min: 0, max: 10 }]);
    expect(o.findings).toEqual([{ state: State.WARNING, text: 'ns/a slow' }, { state: undefined, text: 'context' }]);
    expect(o.summary).toBe('fine');
    expect(outcomeOf(o)).toBe(State.WARNING);
  });
});

describe('the status line with text in many bytes', () => {
  it('stays within 1 KiB without splitting a character', () => {
    const first = renderNagios({ summary: 'пространство '.repeat(200), findings: [], perfdata: [{ label: 'x', value: 1 }] }, { title: 'T', verbose: 0 }).split('\n')[0]!;
    expect(Buffer.byteLength(first)).toBeLessThanOrEqual(1023);
    expect(first).not.toContain('\uFFFD');
    expect(first).toMatch(/^K8S T OK - (пространство )+\.\.\. \| x=1$/);
  });

  it('leaves out whole findings with a count when they exceed the budget, keeping room for the count line', () => {
    const findings = Array.from({ length: 3 }, (_, i) => ({ state: State.WARNING, text: `${i}`.repeat(1000) }));
    const text = renderNagios({ summary: 's', findings, perfdata: [] }, { title: 'T', verbose: 0 });
    expect(text.trimEnd().split('\n')).toHaveLength(4);
    const tight = renderNagios({ summary: 's', findings: [...findings, ...findings, ...findings, { state: State.WARNING, text: 'x'.repeat(990) }], perfdata: [] }, { title: 'T', verbose: 0 });
    const lines = tight.trimEnd().split('\n');
    expect(Buffer.byteLength(tight)).toBeLessThanOrEqual(8191);
    expect(lines.at(-1)).toMatch(/^\.\.\. and \d+ more \(-v shows more\)$/);
    expect(lines.length - 2 + Number(/and (\d+) more/.exec(lines.at(-1)!)![1])).toBe(10);
  });
});

describe('--format json', () => {
  it('a value it could not measure is null, bounds are kept as given, no step is an empty list', () => {
    const o = JSON.parse(renderJson({ summary: 's', findings: [], perfdata: [{ label: 'latency', value: NaN, uom: 's', min: 5, max: 0 }, { label: 'x', value: undefined }] }, { check: 'c', title: 'C' }));
    expect(o.actions).toEqual([]);
    expect(renderJson({ summary: 's', findings: [], perfdata: [] }, { check: 'c', title: 'C' }).endsWith('}\n')).toBe(true);
    expect(o.perfdata).toEqual([
      { label: 'latency', value: null, uom: 's', warn: null, crit: null, min: 5, max: 0 },
      { label: 'x', value: null, uom: '', warn: null, crit: null, min: null, max: null },
    ]);
  });

  it('a nested sub-check without next steps adds none, whatever its state', () => {
    const r = new Report();
    r.nest('scheduler_stall', { summary: '3 pods stalled', findings: [], perfdata: [], state: State.CRITICAL });
    const o = r.done('ok');
    expect(o.actions).toBeUndefined();
    expect(o.state).toBe(State.CRITICAL);
    expect(o.findings).toEqual([{ state: State.CRITICAL, text: 'scheduler_stall: 3 pods stalled' }]);
  });
});
