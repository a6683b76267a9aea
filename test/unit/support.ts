// Helpers the unit tests share: a fixed clock writing API timestamps, a check's
// parsed options, and a seeded random number generator for the fuzz tests.
import type { AnyCheck } from '../../lib/plugin/check.js';
import type { Finding } from '../../lib/plugin/result.js';
import { parseArgs } from '../../lib/plugin/args.js';

export interface Clock {
  /** The fixed "now", in milliseconds, passed to evaluate(). */
  NOW: number;
  /** The time `s` seconds after NOW (before it when negative), like a creationTimestamp: '2026-06-05T06:29:00Z'. */
  at(s: number): string;
  /** The time `s` seconds before NOW, like a creationTimestamp or lastTimestamp: '2026-06-05T06:29:00Z'. */
  ago(s: number): string;
  /** The time `s` seconds before NOW in microseconds, like eventTime or a Lease's renewTime: '2026-06-05T06:29:00.000456Z'. */
  micro(s: number): string;
}

/**
 * A clock fixed at `isoNow`. `millis: true` keeps the ISO milliseconds in at()/ago() ('...:00.000Z');
 * `micros` are the three digits micro() writes after the milliseconds (default '456').
 */
export function clock(isoNow: string, o: { millis?: boolean; micros?: string } = {}): Clock {
  const NOW = Date.parse(isoNow);
  const iso = (ms: number) => new Date(ms).toISOString();
  const at = (s: number) => (o.millis ? iso(NOW + s * 1000) : iso(NOW + s * 1000).replace('.000', ''));
  const micros = o.micros ?? '456';
  return {
    NOW,
    at,
    ago: (s) => at(-s),
    micro: (s) => iso(NOW - s * 1000).replace(/\.(\d{3})Z$/, `.$1${micros}Z`),
  };
}

/** The options a check's evaluate() gets for these command-line arguments (a usage error throws). */
export async function checkOptions<C extends AnyCheck>(check: C, args: string[] = []): Promise<Parameters<C['evaluate']>[1]> {
  const p = await parseArgs(check, args);
  if (p.kind !== 'run') throw new Error('expected options');
  return p.opts as unknown as Parameters<C['evaluate']>[1];
}

/** mulberry32: small, seeded, reproducible. */
export function rng(seed: number): () => number {
  return () => {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The findings with report sections (Report.section) opened: each section's findings in its place. */
export function flatFindings(fs: readonly Finding[]): Finding[] {
  return fs.flatMap((f) => (f.section === undefined ? [f] : flatFindings(f.children ?? [])));
}
