import { describe, expect, it } from 'vitest';
import { formatLabel, formatNumber, formatPerfdata } from '../../lib/plugin/perfdata.js';
import { parseRange } from '../../lib/plugin/range.js';

describe('perfdata', () => {
  it('formats numbers without exponents or NaN', () => {
    expect(formatNumber(5)).toBe('5');
    expect(formatNumber(0.1 + 0.2)).toBe('0.3');
    expect(formatNumber(1e-7)).toBe('0');
    expect(formatNumber(1.5e20)).toBe('150000000000000000000');
    expect(formatNumber(-0.0000001)).toBe('0');
    expect(formatNumber(NaN)).toBe('U');
    expect(formatNumber(Infinity)).toBe('U');
  });

  it('quotes labels with spaces and doubles inner quotes', () => {
    expect(formatLabel('pods')).toBe('pods');
    expect(formatLabel('pending pods')).toBe("'pending pods'");
    expect(formatLabel("o'brien")).toBe("'o''brien'");
    expect(formatLabel('a=b|c')).toBe('a_b_c');
  });

  it('writes the full form and drops trailing empty fields', () => {
    expect(formatPerfdata({ label: 'x', value: 3, uom: 's', warn: parseRange('10'), crit: parseRange('@20:30'), min: 0, max: 100 }))
      .toBe('x=3s;10;@20:30;0;100');
    expect(formatPerfdata({ label: 'x', value: 3 })).toBe('x=3');
    expect(formatPerfdata({ label: 'x', value: 3, min: 0 })).toBe('x=3;;;0');
    expect(formatPerfdata({ label: 'x', value: undefined })).toBe('x=U');
  });
});
