// Seeded fuzz of the host parsers: real iptables-save, nft -j and journalctl
// output, mutated (bytes flipped, lines cut, duplicated, truncated). A
// parser returns a result or throws its own parse error, which the check
// turns into one UNKNOWN line; it never throws anything else and never hangs.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../lib/plugin/errors.js';
import { IptablesParseError, parseChainRules, parseIptablesSave, ruleCount } from '../../lib/host/iptables.js';
import { kubeProxyServicePortals, NftParseError, parseNftJson } from '../../lib/host/nft.js';
import { JournalScan, parsePatternSpec } from '../../lib/host/journal.js';
import { ROOT } from '../harness.js';
import { rng } from './support.js';

const NOISE = ['"', '\\', ' ', '\n', ':', '[', ']', '-', '!', '{', '}', ',', '0', '\u0000', '\u00ff', '*', '#', 'COMMIT'];

/** One mutation of the text: flip, insert, delete a span, duplicate or drop a line, truncate. */
function mutate(text: string, next: () => number): string {
  const at = Math.floor(next() * text.length);
  switch (Math.floor(next() * 6)) {
    case 0: return text.slice(0, at) + NOISE[Math.floor(next() * NOISE.length)] + text.slice(at + 1);
    case 1: return text.slice(0, at) + NOISE[Math.floor(next() * NOISE.length)] + text.slice(at);
    case 2: return text.slice(0, at) + text.slice(at + Math.floor(next() * 40));
    case 3: {
      const lines = text.split('\n');
      const i = Math.floor(next() * lines.length);
      lines.splice(i, 0, lines[i]!);
      return lines.join('\n');
    }
    case 4: {
      const lines = text.split('\n');
      lines.splice(Math.floor(next() * lines.length), 1);
      return lines.join('\n');
    }
    default: return text.slice(0, at);
  }
}

function fuzz(seed: number, samples: string[], rounds: number, body: (text: string) => void): void {
  const next = rng(seed);
  for (let i = 0; i < rounds; i++) {
    let text = samples[Math.floor(next() * samples.length)]!;
    for (let m = 1 + Math.floor(next() * 4); m > 0; m--) text = mutate(text, next);
    body(text);
  }
}

/**
 * An independent count of the nat table's rule lines: inside '*nat' ... 'COMMIT' (sections may
 * repeat), every line that is not blank, a comment or a chain declaration.
 */
function natRuleLines(text: string): number {
  let inNat = false;
  let n = 0;
  for (const raw of text.split('\n')) {
    const l = raw.replace(/\r$/, '').trim();
    if (!l || l.startsWith('#')) continue;
    if (l.startsWith('*')) inNat = l.slice(1).trim() === 'nat';
    else if (l === 'COMMIT') inNat = false;
    else if (inNat && !l.startsWith(':')) n++;
  }
  return n;
}

const fixture = (f: string) => fs.readFileSync(path.join(ROOT, 'test/fixtures', f), 'utf8');

describe('parser fuzz', () => {
  it('iptables-save: a result or an IptablesParseError', () => {
    const samples = ['kube-proxy-legacy.save', 'kube-proxy-nat-counters.save', 'quirks-legacy-counters.save'].map((f) => fixture(`netfilter/${f}`));
    let parsed = 0;
    let rejected = 0;
    fuzz(4242, samples, 3000, (text) => {
      try {
        const save = parseIptablesSave(text);
        const nat = save.tables.get('nat');
        parseChainRules(nat, ...(nat ? [...nat.chains.keys()] : []));
        // Every rule line of the nat table, and only those, became a rule.
        expect(ruleCount(nat)).toBe(natRuleLines(text));
        parsed++;
      } catch (e) {
        if (!(e instanceof IptablesParseError)) throw new Error(`${(e as Error).name} on ${JSON.stringify(text.slice(0, 200))}: ${(e as Error).message}`);
        rejected++;
      }
    });
    // Both ways out are exercised: the mutations reach the error paths.
    expect(parsed).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(10);
  });

  it('nft -j: a result or an NftParseError', () => {
    const sample = fixture('netfilter/kube-proxy-nftables.json');
    let parsed = 0;
    let rejected = 0;
    fuzz(99, [sample], 3000, (text) => {
      try {
        kubeProxyServicePortals(parseNftJson(text));
        parsed++;
      } catch (e) {
        if (!(e instanceof NftParseError)) throw new Error(`${(e as Error).name} on ${JSON.stringify(text.slice(0, 200))}: ${(e as Error).message}`);
        rejected++;
      }
    });
    expect(parsed).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(10);
  });

  it('journalctl -o json: every line scanned, none throws', () => {
    const samples = ['dqlite-all-fields.jsonl', 'dqlite-output-fields.jsonl'].map((f) => fixture(`journal/${f}`));
    const patterns = [parsePatternSpec('context canceled'), parsePatternSpec('locked=/database is (locked|busy)/i')];
    let lines = 0;
    fuzz(7, samples, 2000, (text) => {
      const scan = new JournalScan(patterns);
      for (const line of text.split('\n')) { scan.line(line); if (line) lines++; }
      const r = scan.result();
      expect(r.scanned).toBeGreaterThanOrEqual(r.matched);
      for (const p of r.patterns) expect(p.examples.length).toBeLessThanOrEqual(3);
    });
    expect(lines).toBeGreaterThan(1000);
  });

  it('--pattern specs: a pattern or a UsageError', () => {
    const next = rng(11);
    const alphabet = ['a', '=', '/', '(', ')', '[', '*', '+', '?', 'i', 'g', 'x', '\\', ' ', '|', '{', '9', '}'];
    for (let i = 0; i < 5000; i++) {
      let spec = '';
      for (let j = Math.floor(next() * 10); j > 0; j--) spec += alphabet[Math.floor(next() * alphabet.length)];
      try {
        const p = parsePatternSpec(spec);
        expect(typeof p.find('some journal line with context canceled')).toBe('number');
      } catch (e) {
        expect(e, JSON.stringify(spec)).toBeInstanceOf(UsageError);
      }
    }
  });
});
