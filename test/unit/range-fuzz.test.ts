// A seeded fuzz of the threshold parser: whatever the operator types, the
// parser returns a Range or throws a UsageError (exit 3), never anything
// else, and a Range it returns means exactly what the guidelines say.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../lib/plugin/errors.js';
import { parseRange } from '../../lib/plugin/range.js';
import { parseDuration } from '../../lib/plugin/duration.js';
import { rng } from './support.js';

const ALPHABET = ['0', '1', '5', '9', '.', ':', '~', '@', '-', '+', ' ', 'e', 'x', '10', '20', '\u0000', '|', '\n', '٣'];

function randomText(next: () => number): string {
  const n = Math.floor(next() * 10);
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(next() * ALPHABET.length)];
  return s;
}

/** The guidelines' meaning, written independently of lib/plugin/range.ts. */
function reference(text: string, x: number): boolean | undefined {
  const m = /^(@?)(?:(~|[+-]?(?:\d+(?:\.\d*)?|\.\d+))?:)?([+-]?(?:\d+(?:\.\d*)?|\.\d+))?$/.exec(text.trim());
  if (!m || text.trim() === '' || text.trim() === '@') return undefined;
  const hasColon = text.includes(':');
  if (!hasColon && m[3] === undefined) return undefined;
  const start = m[2] === '~' ? -Infinity : m[2] !== undefined ? Number(m[2]) : 0;
  const end = m[3] !== undefined ? Number(m[3]) : Infinity;
  if (hasColon && m[2] === undefined && m[3] === undefined) return undefined;
  if (start > end) return undefined;
  const inside = x >= start && x <= end;
  return m[1] ? inside : !inside;
}

describe('parseRange under fuzz', () => {
  it('returns a Range or throws UsageError, and agrees with the guidelines', () => {
    const next = rng(20261125);
    let valid = 0;
    for (let i = 0; i < 20000; i++) {
      const text = randomText(next);
      let range;
      try {
        range = parseRange(text);
      } catch (e) {
        expect(e, JSON.stringify(text)).toBeInstanceOf(UsageError);
        expect(reference(text, 0), `rejected ${JSON.stringify(text)}`).toBeUndefined();
        continue;
      }
      valid++;
      for (const x of [-1e9, -20, -1, -0.5, 0, 0.5, 1, 5, 9.99, 10, 10.01, 20, 1e9]) {
        expect(range.alerts(x), `${JSON.stringify(text)} at ${x}`).toBe(reference(text, x));
      }
    }
    // The alphabet is rich enough that many draws are real ranges.
    expect(valid).toBeGreaterThan(1000);
  });

  it('durations: a number of seconds or a UsageError, never NaN', () => {
    const next = rng(7);
    const alphabet = ['1', '5', '0', '.', 's', 'm', 'h', 'd', 'ms', ' ', '-', 'x'];
    for (let i = 0; i < 20000; i++) {
      let text = '';
      for (let j = Math.floor(next() * 8); j > 0; j--) text += alphabet[Math.floor(next() * alphabet.length)];
      try {
        const s = parseDuration(text);
        expect(Number.isFinite(s) && s >= 0, JSON.stringify(text)).toBe(true);
      } catch (e) {
        expect(e, JSON.stringify(text)).toBeInstanceOf(UsageError);
      }
    }
  });
});
