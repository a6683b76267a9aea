import type { Range } from './range.js';

/** Units the Monitoring Plugins guidelines allow. */
export type Uom = '' | 's' | 'ms' | 'us' | '%' | 'B' | 'KB' | 'MB' | 'GB' | 'TB' | 'c';

export interface Perfdata {
  label: string;
  value: number | undefined;
  uom?: Uom;
  warn?: Range;
  crit?: Range;
  min?: number;
  max?: number;
}

/** A number as perfdata wants it: plain decimal, never 1e+21, never NaN. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return 'U';
  // toFixed and String switch to exponent form from 1e21; BigInt never does.
  if (Number.isInteger(n)) return Math.abs(n) < 1e21 ? n.toFixed(0) : BigInt(n).toString();
  // Up to 6 decimals, trailing zeros dropped: 0.1234567 -> 0.123457
  const fixed = n.toFixed(6).replace(/\.?0+$/, '');
  return fixed === '-0' ? '0' : fixed;
}

/**
 * Labels may hold anything but '=' and a lone single quote; quote them when
 * they hold spaces or quotes, doubling inner quotes as the guidelines require.
 */
export function formatLabel(label: string): string {
  const clean = label.replace(/[=|\x00-\x1f\x7f]/g, '_');
  if (/[\s']/.test(clean)) return `'${clean.replace(/'/g, "''")}'`;
  return clean;
}

export function formatPerfdata(p: Perfdata): string {
  const num = (n: number | undefined) => (n === undefined ? '' : formatNumber(n));
  const value = p.value === undefined || !Number.isFinite(p.value) ? 'U' : formatNumber(p.value) + (p.uom ?? '');
  const fields = [value, p.warn?.text ?? '', p.crit?.text ?? '', num(p.min), num(p.max)];
  while (fields.length > 1 && fields[fields.length - 1] === '') fields.pop();
  return `${formatLabel(p.label)}=${fields.join(';')}`;
}
