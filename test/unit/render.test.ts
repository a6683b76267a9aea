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

  it('stays within 1 KiB and says how many findings it left out', () => {
    const many = Array.from({ length: 500 }, (_, i) => ({ state: State.CRITICAL, text: `ns/pod-${i} with a long enough description to fill the budget` }));
    const text = renderNagios(outcome(many), { title: 'X', verbose: 0 });
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(1024);
    expect(text).toMatch(/\.\.\. and \d+ more/);
    const more = Number(/\.\.\. and (\d+) more/.exec(text)![1]);
    expect(text.trimEnd().split('\n').length - 2 + more).toBe(500);
  });

  it('gives more room with -v', () => {
    const many = Array.from({ length: 500 }, (_, i) => ({ state: State.CRITICAL, text: `ns/pod-${i}` }));
    expect(Buffer.byteLength(renderNagios(outcome(many), { title: 'X', verbose: 1 }))).toBeGreaterThan(1024);
    expect(Buffer.byteLength(renderNagios(outcome(many), { title: 'X', verbose: 1 }))).toBeLessThanOrEqual(8192);
  });

  it('never lets cluster text break the protocol', () => {
    const evil = 'name|with pipe\nand newline\x1b[31mred\x1b[0m\x07';
    const text = renderNagios(outcome([{ state: State.CRITICAL, text: evil }], evil), { title: 'X', verbose: 0 });
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]!.split('|')).toHaveLength(2); // only the perfdata separator
    expect(text).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
  });

  it('shortens a huge summary but keeps the perfdata', () => {
    const text = renderNagios(outcome([], 'x'.repeat(10000)), { title: 'X', verbose: 0 });
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(1024);
    expect(text.trimEnd()).toMatch(/\.\.\. \| pods=0;;;0$/);
  });

  it('keeps room for "... and N more" when a huge summary comes with findings', () => {
    for (const n of [1, 3, 12345]) {
      const findings = Array.from({ length: n }, () => ({ state: State.WARNING, text: 'y'.repeat(5000) }));
      const text = renderNagios(outcome(findings, 'x'.repeat(10000)), { title: 'SCHEDULER STALL', verbose: 0 });
      expect(Buffer.byteLength(text), `${n} findings`).toBeLessThanOrEqual(1024);
      expect(text).toMatch(new RegExp(`\\n\\.\\.\\. and ${n} more \\(-v shows more\\)\\n$`));
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
