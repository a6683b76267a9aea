import { describe, expect, it } from 'vitest';
import { parseRange } from '../../lib/plugin/range.js';
import { UsageError } from '../../lib/plugin/errors.js';

// The table from the Monitoring Plugins guidelines, "Threshold and ranges".
const TABLE: [string, number[], number[]][] = [
  // range, values that alert, values that do not
  ['10', [-1, 10.5, 11], [0, 5, 10]],
  ['10:', [-1, 9.99], [10, 11, 1e9]],
  ['~:10', [10.01, 11], [-1e9, -1, 10]],
  ['10:20', [9, 21], [10, 15, 20]],
  ['@10:20', [10, 15, 20], [9, 21]],
  ['@~:0', [-5, 0], [0.5]],
  ['-5:-1', [-6, 0], [-5, -1]],
  ['1.5:2.5', [1.4, 2.6], [1.5, 2.5]],
  [':10', [-1, 11], [0, 10]],
  ['~:', [], [-1e9, 0, 1e9]],
];

describe('parseRange', () => {
  for (const [text, alert, fine] of TABLE) {
    it(`${text} alerts on ${alert.join(', ') || 'nothing'} and not on ${fine.join(', ')}`, () => {
      const r = parseRange(text);
      for (const v of alert) expect(r.alerts(v), `${text} should alert on ${v}`).toBe(true);
      for (const v of fine) expect(r.alerts(v), `${text} should not alert on ${v}`).toBe(false);
      expect(r.text).toBe(text);
    });
  }

  it('keeps endpoints inclusive', () => {
    expect(parseRange('5:5').alerts(5)).toBe(false);
    expect(parseRange('@5:5').alerts(5)).toBe(true);
  });

  for (const bad of ['', ' ', '@', ':', 'abc', '10:5', '1e3', '10::20', '~', '~:abc', '--1', '1,5', '@@1', '5:~', 'NaN', 'Infinity']) {
    it(`rejects '${bad}' as a usage error`, () => {
      expect(() => parseRange(bad)).toThrow(UsageError);
    });
  }
});
