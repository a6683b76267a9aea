import { UsageError } from './errors.js';

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

/** '90', '90s', '5m', '1h30m', '1.5h' -> seconds. A bare number is seconds. */
export function parseDuration(input: string | number, option = 'duration'): number {
  const text = String(input).trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let matched = 0;
  for (const m of text.matchAll(re)) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    matched += m[0].length;
  }
  if (text === '' || matched !== text.length) {
    throw new UsageError(`invalid ${option} '${text}': use seconds or a duration like 90s, 5m, 1h30m`);
  }
  return total;
}

/** Seconds -> '4h20m', '5m', '42s' for summaries. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return h ? `${d}d${h}h` : `${d}d`;
  if (h > 0) return m ? `${h}h${m}m` : `${h}h`;
  return sec && m < 10 ? `${m}m${sec}s` : `${m}m`;
}
