import { describe, expect, it } from 'vitest';
import { renderJson, renderNagios } from '../../lib/plugin/render.js';
import { sanitize } from '../../lib/plugin/sanitize.js';
import { State } from '../../lib/plugin/state.js';
import type { Outcome } from '../../lib/plugin/result.js';

const outcome = (findings: Outcome['findings'], summary = 'summary'): Outcome => ({
  summary,
  findings,
  perfdata: [{ label: 'pods', value: findings.length, min: 0 }],
});

describe('renderNagios', () => {
  it('writes the status line with the worst state and perfdata', () => {
    const text = renderNagios(outcome([{ state: State.WARNING, text: 'a' }, { state: State.CRITICAL, text: 'b' }, { text: 'info' }]), { title: 'X', verbose: 0 });
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('K8S X CRITICAL - summary | pods=3;;;0');
    expect(lines.slice(1)).toEqual(['[CRITICAL] b', '[WARNING] a', 'info']);
  });

  it('treats UNKNOWN as worse than OK but better than WARNING', () => {
    expect(renderNagios(outcome([{ state: State.UNKNOWN, text: 'u' }, { state: State.OK, text: 'o' }]), { title: 'X', verbose: 0 })).toMatch(/^K8S X UNKNOWN/);
    expect(renderNagios(outcome([{ state: State.UNKNOWN, text: 'u' }, { state: State.WARNING, text: 'w' }]), { title: 'X', verbose: 0 })).toMatch(/^K8S X WARNING/);
  });

  it('stays within what Nagios 4 keeps (8 KiB) by default and says how many findings it left out', () => {
    const many = Array.from({ length: 500 }, (_, i) => ({ state: State.CRITICAL, text: `ns/pod-${i} with a long enough description to fill the budget` }));
    const text = renderNagios(outcome(many), { title: 'X', verbose: 0 });
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(8191);
    expect(Buffer.byteLength(text)).toBeGreaterThan(7000);
    expect(text).toMatch(/\.\.\. and \d+ more/);
    const more = Number(/\.\.\. and (\d+) more/.exec(text)![1]);
    expect(text.trimEnd().split('\n').length - 2 + more).toBe(500);
  });

  it('shows up to a hundred findings whole by default: no line cap below the byte budget', () => {
    const names = Array.from({ length: 100 }, (_, i) => ({ state: State.CRITICAL, text: `kube-system/pod-${i} on node k8s0${i % 3}` }));
    const text = renderNagios(outcome(names), { title: 'X', verbose: 0 });
    expect(text).not.toContain('more (-v shows more)');
    for (let i = 0; i < 100; i++) expect(text).toContain(`kube-system/pod-${i} on node`);
  });

  it('gives more room with -v (what NRPE 4 carries, 64 KiB) and all with -vv', () => {
    const many = Array.from({ length: 5000 }, (_, i) => ({ state: State.CRITICAL, text: `ns/pod-${i}` }));
    expect(Buffer.byteLength(renderNagios(outcome(many), { title: 'X', verbose: 1 }))).toBeGreaterThan(8192);
    expect(Buffer.byteLength(renderNagios(outcome(many), { title: 'X', verbose: 1 }))).toBeLessThanOrEqual(65535);
    expect(renderNagios(outcome(many), { title: 'X', verbose: 2 })).not.toContain('more (-v shows more)');
  });

  it('puts what to do first, worst first, before every finding', () => {
    const o: Outcome = {
      ...outcome(Array.from({ length: 300 }, (_, i) => ({ state: State.CRITICAL, text: `ns/pod-${i} `.repeat(10) }))),
      actions: [{ state: State.CRITICAL, text: 'restart kubelite on k8s02: sudo snap restart microk8s.daemon-kubelite' }, { state: State.WARNING, text: 'look at ns/x' }],
    };
    const lines = renderNagios(o, { title: 'X', verbose: 0 }).split('\n');
    expect(lines[1]).toBe('What to do: restart kubelite on k8s02: sudo snap restart microk8s.daemon-kubelite');
    expect(lines[2]).toBe('What to do: look at ns/x');
    expect(lines[3]).toMatch(/^\[CRITICAL\] ns\/pod-0 /);
    const json = JSON.parse(renderJson(o, { check: 'x', title: 'X' }));
    expect(json.actions).toEqual([{ state: 'CRITICAL', text: o.actions![0]!.text }, { state: 'WARNING', text: 'look at ns/x' }]);
  });

  it('never cuts inside a name: long lines end at a word boundary', () => {
    const long = Array.from({ length: 200 }, (_, i) => `namespace-${i}/pod-name-${i}`).join(', ');
    const text = renderNagios(outcome([{ state: State.CRITICAL, text: long }], long), { title: 'X', verbose: 0 });
    for (const line of text.trimEnd().split('\n')) {
      const words = line.replace(/^\[CRITICAL\] /, '').replace(/^K8S X CRITICAL - /, '').split(' | ')[0]!.split(/,? /).filter((w) => w !== '...');
      for (const w of words) expect(w, line.slice(-80)).toMatch(/^namespace-\d+\/pod-name-\d+$/);
    }
  });

  it('never lets cluster text break the protocol', () => {
    const evil = 'name|with pipe\nand newline\x1b[31mred\x1b[0m\x07';
    const text = renderNagios(outcome([{ state: State.CRITICAL, text: evil }], evil), { title: 'X', verbose: 0 });
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]!.split('|')).toHaveLength(2); // only the perfdata separator
    expect(text).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
  });

  it('keeps the status line within 1 KiB, the summary cut at a word and the perfdata kept', () => {
    const text = renderNagios(outcome([], 'word '.repeat(3000)), { title: 'X', verbose: 0 });
    const first = text.split('\n')[0]!;
    expect(Buffer.byteLength(first)).toBeLessThanOrEqual(1023);
    expect(first).toMatch(/ word \.\.\. \| pods=0;;;0$/);
  });

  it('keeps room for "... and N more" when a huge summary comes with findings', () => {
    for (const n of [1, 3, 12345]) {
      const findings = Array.from({ length: n }, () => ({ state: State.WARNING, text: 'y'.repeat(9000) }));
      const text = renderNagios(outcome(findings, 'x'.repeat(10000)), { title: 'SCHEDULER STALL', verbose: 0 });
      expect(Buffer.byteLength(text), `${n} findings`).toBeLessThanOrEqual(8191);
      expect(Buffer.byteLength(text.split('\n')[0]!)).toBeLessThanOrEqual(1023);
    }
  });
});

describe('renderJson', () => {
  it('is one JSON object with the same state', () => {
    const o = JSON.parse(renderJson(outcome([{ state: State.WARNING, text: 'a|b' }]), { check: 'x', title: 'X' }));
    expect(o).toMatchObject({ check: 'x', state: 'WARNING', exitCode: 1, findings: [{ state: 'WARNING', text: 'a/b' }] });
    expect(o.perfdata[0]).toEqual({ label: 'pods', value: 1, uom: '', warn: null, crit: null, min: 0, max: null });
  });
});

describe('sanitize', () => {
  it('strips escapes and control characters and bounds length', () => {
    expect(sanitize('a\x1b]0;title\x07b')).toBe('ab');
    expect(sanitize('a\r\nb\tc')).toBe('a b c');
    expect(sanitize('x'.repeat(300), 10)).toBe('xxxxxxx...');
    expect(sanitize(undefined)).toBe('');
  });
});

describe('sections (Report.section) in the output', () => {
  const rules = Array.from({ length: 8 }, (_, i) => ({ state: State.WARNING, text: `no NAT rule for svc${i}` }));
  const nat = { section: 'Service NAT', state: State.WARNING, text: 'Service NAT: 8 missing', children: rules };
  const calico = { section: 'calico-node', state: State.OK, text: 'calico-node: Ready', children: [{ text: 'kube-system/calico-node-x: Ready' }] };

  it('a heading with its state, its lines indented below and not capped like a sub-check\'s', () => {
    const lines = renderNagios(outcome([calico, nat]), { title: 'X', verbose: 0 }).trimEnd().split('\n');
    expect(lines.slice(1)).toEqual([
      '[WARNING] Service NAT: 8 missing',
      ...rules.map((r) => `  [WARNING] ${r.text}`),
      '[OK] calico-node: Ready',
      '  kube-system/calico-node-x: Ready',
    ]);
  });

  it('under a composed sub-check, the cap counts lines, sections\' included', () => {
    const text = renderNagios(outcome([{ state: State.WARNING, text: 'calico_nat: 8 missing', children: [nat, calico] }]), { title: 'X', verbose: 0 });
    expect(text).toContain('\n  [WARNING] Service NAT: 8 missing\n    [WARNING] no NAT rule for svc0\n');
    expect(text).toContain('\n  ... and 6 more (-v shows more)\n'); // 11 lines below the sub-check, 5 shown
  });

  it('--format json: a finding with section set, its findings nested', () => {
    const json = JSON.parse(renderJson(outcome([calico]), { check: 'x', title: 'X' }));
    expect(json.findings).toEqual([{ state: 'OK', text: 'calico-node: Ready', section: 'calico-node', findings: [{ state: null, text: 'kube-system/calico-node-x: Ready' }] }]);
  });
});
