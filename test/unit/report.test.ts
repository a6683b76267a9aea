// The plugin core's judgement helpers every check shares: judge() for one value against
// its ranges, summarize() for the status line, Report for an Outcome.
import { describe, expect, it } from 'vitest';
import { parseRange } from '../../lib/plugin/range.js';
import { judge, Report, summarize } from '../../lib/plugin/report.js';
import { outcomeState, plural } from '../../lib/plugin/result.js';
import { bySeverityDesc, parseState, State, stateName, worst } from '../../lib/plugin/state.js';

describe('judge', () => {
  it('critical wins over warning and names the range that fired; OK says nothing', () => {
    const w = parseRange('10', '-w');
    const c = parseRange('20', '-c');
    expect(judge(5, w, c)).toEqual({ state: State.OK, hint: '' });
    expect(judge(10, w, c)).toEqual({ state: State.OK, hint: '' });
    expect(judge(11, w, c)).toEqual({ state: State.WARNING, hint: 'outside -w 10' });
    expect(judge(21, w, c)).toEqual({ state: State.CRITICAL, hint: 'outside -c 20' });
    expect(judge(21)).toEqual({ state: State.OK, hint: '' });
    expect(judge(21, undefined, c).state).toBe(State.CRITICAL);
  });
});

describe('summarize: the status line', () => {
  it('names every problem once, worst first, in the order found within a state', () => {
    expect(summarize([
      { state: State.WARNING, short: 'w1' },
      { state: State.UNKNOWN, short: 'u1' },
      { state: State.CRITICAL, short: 'c1' },
      { state: State.WARNING, short: 'w2' },
      { state: State.CRITICAL, short: 'c2' },
      { state: State.WARNING, short: 'w1' },
    ], 'all fine')).toBe('c1; c2; w1; w2; u1');
  });

  it('a problem found twice (two findings with the same words) is said once', () => {
    expect(summarize([{ state: State.CRITICAL, short: 'k8s02 NotReady' }, { state: State.CRITICAL, short: 'k8s02 NotReady' }], 'ok')).toBe('k8s02 NotReady');
  });

  it('OK "problems" are not named; none at all gives the OK text', () => {
    expect(summarize([{ state: State.OK, short: 'quiet' }, { state: State.WARNING, short: 'w' }], 'ok')).toBe('w');
    expect(summarize([{ state: State.OK, short: 'quiet' }], 'all fine')).toBe('all fine');
    expect(summarize([], 'all fine')).toBe('all fine');
  });
});

describe('Report', () => {
  it('a problem without a long-output line still sets the state; the status line says it once', () => {
    const r = new Report();
    r.problem(State.WARNING, 'slow');
    r.problem(State.WARNING, 'slow');
    r.info('context');
    const o = r.done('fine');
    expect(o.summary).toBe('slow');
    expect(o.state).toBe(State.WARNING);
    expect(outcomeState(o)).toBe(State.WARNING);
    expect(o.findings).toEqual([{ state: undefined, text: 'context' }]);
  });

  it('the OK text when nothing is wrong, no forced state, and the prefix only before problems', () => {
    const ok = new Report();
    ok.problem(State.OK, 'not a problem', 'said in long output');
    const o = ok.done('all fine', { prefix: 'kube-system/coredns: ' });
    expect(o.summary).toBe('all fine');
    expect(o.state).toBeUndefined();
    expect(outcomeState(o)).toBe(State.OK);
    const bad = new Report();
    bad.problem(State.CRITICAL, '0/2 ready', '0 of 2 replicas ready');
    const b = bad.done('all fine', { prefix: 'kube-system/coredns: ' });
    expect(b.summary).toBe('kube-system/coredns: 0/2 ready');
    expect(b.findings).toEqual([{ state: State.CRITICAL, text: '0 of 2 replicas ready' }]);
  });

  it('judge() records the metric with its ranges and returns the same verdict', () => {
    const r = new Report();
    const warn = parseRange('1', '-w');
    const j = r.judge('latency', 1.5, { uom: 's', min: 0, warn });
    expect(j).toEqual({ state: State.WARNING, hint: 'outside -w 1' });
    expect(r.perfdata).toEqual([{ label: 'latency', value: 1.5, uom: 's', min: 0, warn }]);
    // judged values do not set the state by themselves: the check decides what they mean
    expect(outcomeState(r.done('ok'))).toBe(State.OK);
  });

  it('nest(): the sub-check under one line, its state mapped, its findings below', () => {
    const r = new Report();
    const sub = { summary: 'holder stalled', findings: [{ state: State.CRITICAL, text: 'k8s01: 3 pods unscheduled' }], perfdata: [] };
    expect(r.nest('scheduler_stall', sub, { as: (s) => (s === State.CRITICAL ? State.WARNING : s) })).toBe(State.WARNING);
    r.nest('leases', { summary: 'fresh', findings: [], perfdata: [] });
    const o = r.done('ok');
    expect(o.summary).toBe('scheduler_stall: holder stalled');
    expect(outcomeState(o)).toBe(State.WARNING);
    expect(o.findings).toEqual([
      { state: State.WARNING, text: 'scheduler_stall: holder stalled', children: [{ state: State.CRITICAL, text: 'k8s01: 3 pods unscheduled' }] },
      { state: State.OK, text: 'leases: fresh' },
    ]);
    const named = new Report();
    named.nest('dns', { summary: 'x', findings: [], perfdata: [], state: State.UNKNOWN }, { short: 'DNS not judged' });
    expect(named.done('ok').summary).toBe('DNS not judged');
  });
});

describe('states', () => {
  it('worst: CRITICAL > WARNING > UNKNOWN > OK', () => {
    expect(worst()).toBe(State.OK);
    expect(worst(State.OK, State.UNKNOWN)).toBe(State.UNKNOWN);
    expect(worst(State.UNKNOWN, State.WARNING)).toBe(State.WARNING);
    expect(worst(State.WARNING, State.UNKNOWN)).toBe(State.WARNING);
    expect(worst(State.CRITICAL, State.WARNING, State.UNKNOWN)).toBe(State.CRITICAL);
    expect(bySeverityDesc(State.CRITICAL, State.UNKNOWN)).toBeLessThan(0);
    expect(bySeverityDesc(State.OK, State.OK)).toBe(0);
  });

  it('names and parses the four states, nothing else', () => {
    expect([0, 1, 2, 3].map((s) => stateName(s as State))).toEqual(['OK', 'WARNING', 'CRITICAL', 'UNKNOWN']);
    expect(stateName(7 as State)).toBe('UNKNOWN');
    expect(['ok', ' Critical ', '3', 'warning', 'UNKNOWN'].map(parseState)).toEqual([0, 2, 3, 1, 3]);
    expect(['4', 'fine', '', '-1', '01'].map(parseState)).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });

  it('outcomeState: the worst finding or the forced state', () => {
    expect(outcomeState({ summary: '', findings: [{ text: 'info' }], perfdata: [] })).toBe(State.OK);
    expect(outcomeState({ summary: '', findings: [{ state: State.WARNING, text: 'w' }], perfdata: [], state: State.UNKNOWN })).toBe(State.WARNING);
    expect(outcomeState({ summary: '', findings: [], perfdata: [], state: State.UNKNOWN })).toBe(State.UNKNOWN);
  });

  it('plural', () => {
    expect([plural(0, 'pod'), plural(1, 'pod'), plural(2, 'pod'), plural(2, 'Lease', 'Leases held')]).toEqual(['0 pods', '1 pod', '2 pods', '2 Leases held']);
  });
});
