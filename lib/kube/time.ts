/** RFC 3339 (with or without fractional seconds) -> epoch ms; undefined for absent or bad input. */
export function parseTime(t: string | null | undefined): number | undefined {
  if (!t) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Seconds from `t` to `now`, never negative (clocks skew). */
export function ageSeconds(t: string | null | undefined, now: number): number | undefined {
  const ms = parseTime(t);
  return ms === undefined ? undefined : Math.max(0, (now - ms) / 1000);
}
