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

// Report.section: a named part with its own state (mp_subcheck, go-check's PartialResult) that rolls up.
describe('Report.section', () => {
  it('derives its state from its problems and findings (worst of), which roll up into the check', () => {
    const r = new Report();
    const nat = r.section('Service NAT');
    nat.add(State.WARNING, 'no NAT rule for media/sonarr:http');
    nat.problem(State.WARNING, '1 Service port without a rule');
    const calico = r.section('calico-node');
    calico.info('kube-system/calico-node-x: Ready');
    expect(nat.state()).toBe(State.WARNING);
    expect(calico.state()).toBe(State.OK);
    const o = r.done('all fine');
    expect(outcomeState(o)).toBe(State.WARNING);
    expect(o.summary).toBe('1 Service port without a rule');
    expect(o.findings).toEqual([
      { section: 'Service NAT', state: State.WARNING, text: 'Service NAT', children: [{ state: State.WARNING, text: 'no NAT rule for media/sonarr:http' }] },
      { section: 'calico-node', state: State.OK, text: 'calico-node', children: [{ text: 'kube-system/calico-node-x: Ready' }] },
    ]);
  });

  it('an explicit state wins over the derived one, and carries to the check', () => {
    const r = new Report();
    const s = r.section('ipvs');
    s.add(State.OK, 'KUBE-SERVICES matches an ipset');
    s.status('IPVS mode: not judged', { state: State.UNKNOWN });
    expect(s.state()).toBe(State.UNKNOWN);
    const o = r.done('fine');
    expect(outcomeState(o)).toBe(State.UNKNOWN);
    expect(o.summary).toBe('IPVS mode: not judged');
    expect(o.findings[0]).toMatchObject({ state: State.UNKNOWN, text: 'ipvs: IPVS mode: not judged' });
  });

  it('a status is named whatever its state, problems first (worst, then priority, then order), OK parts after', () => {
    const parts = (calicoState: State, natPriority = 0) => {
      const r = new Report();
      r.section('nat').status('18/18 programmed');
      r.section('calico').status('calico-node not Ready', { state: calicoState });
      r.section('felix').status('nat chains missing', { state: State.CRITICAL, priority: natPriority });
      return r.done().summary;
    };
    expect(parts(State.OK)).toBe('nat chains missing; 18/18 programmed; calico-node not Ready');
    expect(parts(State.CRITICAL)).toBe('calico-node not Ready; nat chains missing; 18/18 programmed');
    // Among equally bad parts the higher priority leads: the incident's signature.
    expect(parts(State.CRITICAL, 1)).toBe('nat chains missing; calico-node not Ready; 18/18 programmed');
    // Priority does not lift a lesser state over a worse one.
    const r = new Report();
    r.section('a', { priority: 5 }).problem(State.WARNING, 'w');
    r.problem(State.CRITICAL, 'c');
    expect(r.done('ok').summary).toBe('c; w');
  });

  it('all OK: the given OK text, else the sections\' statuses in order', () => {
    const r = new Report();
    r.section('nat').status('18/18 programmed');
    r.section('calico').status('calico-node Ready');
    expect(r.done().summary).toBe('18/18 programmed; calico-node Ready');
    expect(r.done('both fine').summary).toBe('both fine');
  });

  it('perfdata and actions of a section (nested too) roll up into the check, in call order', () => {
    const r = new Report();
    r.metric('a', 1);
    const s = r.section('s');
    const inner = s.section('inner');
    const j = inner.judge('b', 3, { warn: parseRange('2', '-w') });
    s.metric('c', 4);
    inner.action(j.state, 'lower b');
    s.action(State.OK, 'not an action');
    const o = r.done('ok');
    expect(o.perfdata.map((p) => p.label)).toEqual(['a', 'b', 'c']);
    expect(s.perfdata.map((p) => p.label)).toEqual(['b', 'c']);
    expect(o.actions).toEqual([{ state: State.WARNING, text: 'lower b' }]);
    // The nested section's perfdata judged WARNING, but perfdata is not a finding: a judged state becomes one only through a problem or a finding.
    expect(outcomeState(o)).toBe(State.OK);
  });

  it('nested sections: the inner state rolls up through its heading, an empty section leaves no line', () => {
    const r = new Report();
    const outer = r.section('outer');
    outer.section('inner').add(State.CRITICAL, 'broken');
    r.section('empty');
    expect(outer.state()).toBe(State.CRITICAL);
    const o = r.done('ok');
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(o.summary).toBe('ok'); // findings only: no problem named
    expect(o.findings).toHaveLength(1);
    expect(o.findings[0]).toMatchObject({ section: 'outer', state: State.CRITICAL, children: [{ section: 'inner', state: State.CRITICAL, text: 'inner', children: [{ text: 'broken' }] }] });
  });
});
