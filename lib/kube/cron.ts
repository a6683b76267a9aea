// A CronJob's schedule as the CronJob controller reads it: robfig/cron/v3's
// ParseStandard (kubernetes pkg/controller/cronjob/utils.go), in the zone of
// spec.timeZone or a CRON_TZ=/TZ= prefix, else the controller's (UTC on
// microk8s). Only what judging staleness needs: the interval between fire
// times around a moment. Pure; zones through Intl (the runtime's tz data).
//
// Written here rather than taken from npm: a dependency would have to match
// robfig exactly (its day-of-month/day-of-week rule: a '*'-started field
// makes the two ANDed, else ORed; its descriptors; what it rejects) and
// brings scheduling code the check does not need. The cases where cron
// dialects differ are pinned in test/unit/cron.test.ts.

import { parseDuration } from '../plugin/duration.js';

const MINUTE_MS = 60_000;

interface Field { min: number; max: number; names?: readonly string[] }
const FIELDS: Field[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  { min: 0, max: 6, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *', '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *',
};

/** A parsed schedule: the allowed values of each field, or a fixed period (@every). */
export interface Schedule {
  zone: string;
  sets?: Set<number>[];
  /** The day-of-month or day-of-week field started with '*' or '?': the two are ANDed (robfig's star bit). */
  dayStar?: boolean;
  /** @every DURATION, in ms. */
  every?: number;
}

export class CronError extends Error {}

function parseValue(v: string, f: Field): number {
  const named = f.names?.indexOf(v.toLowerCase()) ?? -1;
  if (named >= 0) return named + f.min;
  if (!/^\d+$/.test(v)) throw new CronError(`'${v}' is not a number${f.names ? ' or a name' : ''}`);
  return Number(v);
}

/** One field: lists of '*', '?', N, N-M, each with an optional /STEP. */
function parseField(expr: string, f: Field): { set: Set<number>; star: boolean } {
  const set = new Set<number>();
  let star = false;
  for (const part of expr.split(',')) {
    const [range, stepText, extra] = part.split('/');
    if (extra !== undefined || range === undefined || range === '') throw new CronError(`'${part}' is not a range`);
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1 || (stepText !== undefined && !/^\d+$/.test(stepText))) throw new CronError(`bad step in '${part}'`);
    let lo: number;
    let hi: number;
    if (range === '*' || range === '?') { lo = f.min; hi = f.max; star = true; } else {
      const [a, b, more] = range.split('-');
      if (more !== undefined) throw new CronError(`'${range}' is not a range`);
      lo = parseValue(a!, f);
      hi = b === undefined ? (stepText === undefined ? lo : f.max) : parseValue(b, f);
    }
    if (lo < f.min || hi > f.max || lo > hi) throw new CronError(`'${part}' is outside ${f.min}-${f.max}`);
    for (let v = lo; v <= hi; v += step) set.add(v);
  }
  return { set, star };
}

/** @every DURATION (a Go duration: 1h30m, 90s): a fixed period, in ms. */
function parseEvery(text: string): number {
  let seconds: number;
  try { seconds = parseDuration(text); } catch { throw new CronError(`'@every ${text}' is not a duration`); }
  if (!/[a-z]$/.test(text) || seconds < 1) throw new CronError(`'@every ${text}' is not a duration of a second or more`);
  return seconds * 1000;
}

/**
 * Parse a CronJob's schedule. `timeZone` is spec.timeZone; a CRON_TZ= or TZ=
 * prefix names the zone too (the API rejects both together). Throws
 * CronError for what the controller would not run.
 */
export function parseSchedule(schedule: string, timeZone?: string): Schedule {
  let text = schedule.trim();
  let zone = timeZone || 'UTC';
  const tz = /^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$/.exec(text);
  if (tz) { zone = tz[1]!; text = tz[2]!.trim(); }
  zoneFormat(zone);
  if (text.startsWith('@every ')) return { zone, every: parseEvery(text.slice(7).trim()) };
  if (text.startsWith('@')) {
    const m = MACROS[text.toLowerCase()];
    if (!m) throw new CronError(`unknown descriptor '${text}'`);
    text = m;
  }
  const parts = text.split(/\s+/);
  if (parts.length !== 5) throw new CronError(`${parts.length} fields, not 5`);
  const parsed = parts.map((p, i) => parseField(p, FIELDS[i]!));
  return { zone, sets: parsed.map((p) => p.set), dayStar: parsed[2]!.star || parsed[4]!.star };
}

// ---- wall clock in a zone ---------------------------------------------------

const formats = new Map<string, Intl.DateTimeFormat>();
function zoneFormat(zone: string): Intl.DateTimeFormat {
  let f = formats.get(zone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' });
    } catch { throw new CronError(`unknown time zone '${zone}'`); }
    formats.set(zone, f);
  }
  return f;
}

/** The zone's wall clock at an instant, as if it were UTC (whole minutes). */
function wallOf(instant: number, zone: string): number {
  const p: Record<string, number> = {};
  for (const x of zoneFormat(zone).formatToParts(new Date(instant))) if (x.type !== 'literal') p[x.type] = Number(x.value);
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!);
}

/** The instant the zone's clock shows `wall`; in a DST gap, the wall time an offset later (as Go's time.Date). */
function instantOf(wall: number, zone: string): number {
  const first = wall - (wallOf(wall, zone) - wall);
  return wall - (wallOf(first, zone) - first);
}

/** The first wall minute at or after `wall` that the schedule fires at; undefined within `limit`. */
function nextWall(s: Schedule, wall: number, limit: number): number | undefined {
  const [mins, hours, doms, months, dows] = s.sets!;
  let t = Math.ceil(wall / MINUTE_MS) * MINUTE_MS;
  while (t <= limit) {
    const d = new Date(t);
    if (!months!.has(d.getUTCMonth() + 1)) { t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1); continue; }
    const dom = doms!.has(d.getUTCDate());
    const dow = dows!.has(d.getUTCDay());
    if (!(s.dayStar ? dom && dow : dom || dow)) { t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1); continue; }
    if (!hours!.has(d.getUTCHours())) { t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours() + 1); continue; }
    if (!mins!.has(d.getUTCMinutes())) { t += MINUTE_MS; continue; }
    return t;
  }
  return undefined;
}

/** Far enough back to see two fire times of any schedule that fires at all (29 February: every 4 years, or 8 around 2100). */
const LOOKBACKS_DAYS = [1, 8, 63, 370, 9 * 366];

/**
 * The time between fire times around `now` (ms): the longer of the gap that
 * holds `now` and the one before it, so a weekday schedule on a Monday
 * allows the weekend. undefined when it never fires.
 */
export function scheduleInterval(s: Schedule, now: number): number | undefined {
  if (s.every !== undefined) return s.every;
  const wallNow = wallOf(now, s.zone);
  for (const days of LOOKBACKS_DAYS) {
    const walls: number[] = [];
    let t: number | undefined = wallNow - days * 86400e3;
    const limit = wallNow + days * 86400e3;
    // Wall fire times up to the first after now; only the last three are kept.
    while ((t = nextWall(s, t, limit)) !== undefined) {
      walls.push(t);
      if (walls.length > 3) walls.shift();
      if (t > wallNow) break;
      t += MINUTE_MS;
    }
    if (walls.length === 3 && walls[2]! > wallNow) {
      const [a, b, c] = walls.map((w) => instantOf(w, s.zone)) as [number, number, number];
      return Math.max(c - b, b - a);
    }
  }
  return undefined;
}
