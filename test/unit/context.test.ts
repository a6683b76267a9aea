import { describe, expect, it } from 'vitest';
import { contextOptions, contextRanges, contextText, declaredKey, declareMetrics, each, fixed, percent, range, stateOf } from '../../lib/plugin/context.js';
import { opt } from '../../lib/plugin/options.js';
import { parseRange } from '../../lib/plugin/range.js';
import { Report } from '../../lib/plugin/report.js';
import { State } from '../../lib/plugin/state.js';

const texts = (r: ReturnType<typeof contextRanges>) => ({ warn: r.warn?.text, crit: r.crit?.text, flags: [r.warn?.flag, r.crit?.flag] });

describe('judgement contexts', () => {
  it('a RANGE pair is used as given; absent options give no range', () => {
    const c = range('warning', 'critical');
    expect(texts(contextRanges(c, { warning: parseRange('5', '-w'), critical: parseRange('20', '-c') }))).toEqual({ warn: '5', crit: '20', flags: ['-w', '-c'] });
    expect(contextRanges(c, {})).toEqual({});
  });

  it("numbers: 'max' alerts above N, 'min' below N; zeroOff turns 0 off; the flag names the option", () => {
    expect(texts(contextRanges(range('startWarning', 'startCritical', { as: 'max' }), { startWarning: 10, startCritical: 30 })))
      .toEqual({ warn: '10', crit: '30', flags: ['--start-warning', '--start-critical'] });
    const min = contextRanges(range('minNodes', undefined, { as: 'min', zeroOff: true }), { minNodes: 2 });
    expect(min.warn?.text).toBe('2:');
    expect(min.warn?.alerts(1)).toBe(true);
    expect(min.warn?.alerts(2)).toBe(false);
    expect(contextRanges(range('minNodes', undefined, { as: 'min', zeroOff: true }), { minNodes: 0 })).toEqual({});
    // Without zeroOff, 0 is a limit like any other.
    expect(contextRanges(range('certWarning', undefined, { as: 'min' }), { certWarning: 0 }).warn?.text).toBe('0:');
  });

  it("'min' reads a RANGE given as a plain N as N: and leaves real ranges alone", () => {
    const c = range('warning', undefined, { as: 'min' });
    expect(contextRanges(c, { warning: parseRange('30', '-w') }).warn?.text).toBe('30:');
    expect(contextRanges(c, { warning: parseRange('10:', '-w') }).warn?.text).toBe('10:');
    expect(contextRanges(c, { warning: parseRange('@0:5', '-w') }).warn?.text).toBe('@0:5');
  });

  it('when/unless pick the context by a boolean option; cap lowers a warning above the critical', () => {
    const o = { warning: parseRange('1'), critical: parseRange('2'), percent: true };
    expect(contextRanges(range('warning', 'critical', { unless: 'percent' }), o)).toEqual({});
    expect(contextRanges(percent('warning', 'critical', 'the nodes', { when: 'percent' }), o).crit?.text).toBe('2');
    expect(contextRanges(range('warning', 'critical', { when: 'percent' }), { ...o, percent: false })).toEqual({});
    const capped = range('readyWarning', 'readyCritical', { as: 'max', cap: true });
    expect(texts(contextRanges(capped, { readyWarning: 5, readyCritical: 1 }))).toMatchObject({ warn: '1', crit: '1' });
    expect(texts(contextRanges(range('readyWarning', 'readyCritical', { as: 'max' }), { readyWarning: 5, readyCritical: 1 }))).toMatchObject({ warn: '5', crit: '1' });
  });

  it('a count-or-percent option gives a perfdata range only as a count', () => {
    const c = range('rebootWarning', 'rebootCritical');
    const r = contextRanges(c, { rebootWarning: { range: parseRange('1'), percent: false }, rebootCritical: { range: parseRange('50'), percent: true } });
    expect(r.warn?.text).toBe('1');
    expect(r.crit).toBeUndefined();
  });

  it('state, each and none write no ranges; fixed writes its own', () => {
    expect(contextRanges(stateOf('aggregatedState'), { aggregatedState: 'critical' })).toEqual({});
    expect(contextRanges(each('per lease', ['maxLeaseDuration']), { maxLeaseDuration: 20 })).toEqual({});
    expect(contextRanges(undefined, {})).toEqual({});
    expect(texts(contextRanges(fixed('any is CRITICAL', { critical: '0' }), {}))).toMatchObject({ warn: undefined, crit: '0' });
  });

  it('names the options it reads', () => {
    expect(contextOptions(range('warning', 'critical', { unless: 'percent' }))).toEqual(['warning', 'critical', 'percent']);
    expect(contextOptions(stateOf('problemConditionState'))).toEqual(['problemConditionState']);
    expect(contextOptions(fixed('x'))).toEqual([]);
  });

  it('renders the thresholds column from the options table: flags and defaults', () => {
    const table = {
      warning: { ...opt.range({ default: '5', describe: 'w' }), alias: 'w' },
      critical: { ...opt.range({ describe: 'c' }), alias: 'c' },
      'min-nodes': opt.int({ default: 2, describe: 'n' }),
      percent: opt.flag({ describe: 'p' }),
      'aggregated-state': opt.choice(['ok', 'warning'] as const, { default: 'warning', describe: 's' }),
    };
    expect(contextText(range('warning', 'critical'), table)).toBe('-w (WARNING, default 5), -c (CRITICAL, default unset)');
    expect(contextText(percent('warning', 'critical', 'the nodes', { when: 'percent' }), table))
      .toBe('-w (WARNING, default 5), -c (CRITICAL, default unset); in percent of the nodes; with --percent');
    expect(contextText(range('minNodes', undefined, { as: 'min', zeroOff: true }), table)).toBe('--min-nodes (WARNING, default 2); a plain N alerts below N; 0: not judged');
    expect(contextText(stateOf('aggregatedState'), table)).toBe('any non-zero is the state of --aggregated-state (default warning)');
    expect(contextText(fixed('a rule'), table)).toBe('a rule');
    expect(contextText(undefined, table)).toBe('');
  });

  it('finds the declaration of a templated label, and only a whole match', () => {
    const keys = ['renew_age_<lease>', 'nodes', 'rate_<pattern>'];
    expect(declaredKey('renew_age_kube-scheduler', keys)).toBe('renew_age_<lease>');
    expect(declaredKey('nodes', keys)).toBe('nodes');
    expect(declaredKey('renew_age_', keys)).toBeUndefined();
    expect(declaredKey('xnodes', keys)).toBeUndefined();
  });

  it('Metrics.judge records the declared unit and ranges and judges with them', () => {
    const perf = declareMetrics({ latency: { describe: 'Seconds', uom: 's', judge: range('warning', 'critical') }, 'age_<x>': { describe: 'Age', uom: 's' } });
    const r = new Report();
    const o = { warning: parseRange('1', '-w'), critical: parseRange('5', '-c') };
    expect(perf.judge(r, 'latency', 6, o, { min: 0 })).toEqual({ state: State.CRITICAL, hint: 'outside -c 5' });
    expect(perf.judge(r, 'latency', 2, o).state).toBe(State.WARNING);
    perf.metric(r, 'age_<x>', 3, o, {}, 'age_a');
    expect(r.perfdata[0]).toMatchObject({ label: 'latency', value: 6, uom: 's', min: 0, warn: { text: '1' }, crit: { text: '5' } });
    expect(r.perfdata[2]).toEqual({ label: 'age_a', value: 3, uom: 's' });
  });
});
