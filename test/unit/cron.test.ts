import { describe, expect, it } from 'vitest';
import { CronError, parseSchedule, scheduleInterval } from '../../lib/kube/cron.js';

const H = 3600e3;
const D = 24 * H;
const at = (iso: string) => Date.parse(iso);
const interval = (schedule: string, now: string, zone?: string) => scheduleInterval(parseSchedule(schedule, zone), at(now));

describe('cron schedules as the CronJob controller reads them (robfig/cron ParseStandard)', () => {
  it('takes the interval between fire times around now', () => {
    expect(interval('*/5 * * * *', '2026-06-05T06:32:00Z')).toBe(5 * 60e3);
    expect(interval('0 2 * * *', '2026-06-05T06:30:00Z')).toBe(D);
    expect(interval('30 */6 * * *', '2026-06-05T06:30:00Z')).toBe(6 * H);
    // The first of the month: 31 days around a 31-day month's turn.
    expect(interval('0 0 1 * *', '2026-06-05T00:00:00Z')).toBe(31 * D);
  });

  it('reads the macros and @every', () => {
    expect(interval('@hourly', '2026-06-05T06:30:00Z')).toBe(H);
    expect(interval('@daily', '2026-06-05T06:30:00Z')).toBe(D);
    expect(interval('@midnight', '2026-06-05T06:30:00Z')).toBe(D);
    expect(interval('@weekly', '2026-06-05T06:30:00Z')).toBe(7 * D);
    expect(interval('@monthly', '2026-06-05T06:30:00Z')).toBe(31 * D); // May 1 -> June 1 -> July 1: 31, 30
    expect(interval('@yearly', '2026-06-05T06:30:00Z')).toBe(365 * D);
    expect(interval('@annually', '2026-06-05T06:30:00Z')).toBe(365 * D);
    expect(interval('@every 90m', '2026-06-05T06:30:00Z')).toBe(1.5 * H);
  });

  it('reads lists, ranges, steps and names; a weekday schedule allows the weekend on a Monday', () => {
    // 8:00, 12:00, 18:00: around 10:00 the gaps are 8->12 (4h) and 18->8 (14h).
    expect(interval('0 8,12,18 * * *', '2026-06-05T10:00:00Z')).toBe(14 * H);
    expect(interval('0 8,12,18 * * *', '2026-06-05T13:00:00Z')).toBe(6 * H);
    // Monday 2026-06-08 10:00: Fri 02:00 -> Mon 02:00 is 3 days.
    expect(interval('0 2 * * 1-5', '2026-06-08T10:00:00Z')).toBe(3 * D);
    expect(interval('0 2 * * MON-FRI', '2026-06-10T10:00:00Z')).toBe(D);
    expect(interval('0 9-17/4 * * *', '2026-06-05T14:00:00Z')).toBe(4 * H); // 9, 13, 17
    expect(interval('5/20 * * * *', '2026-06-05T06:30:00Z')).toBe(20 * 60e3); // 5, 25, 45
    expect(interval('0 0 * JAN,jul *', '2026-06-05T06:30:00Z')).toBe(151 * D); // Jan 31 -> Jul 1
  });

  it('ORs day of month and day of week when both are restricted, ANDs them when one starts with *', () => {
    // The 1st or any Sunday: June 2026 has Sundays 7, 14, 21, 28.
    expect(interval('0 0 1 * 0', '2026-06-10T12:00:00Z')).toBe(7 * D);
    // '*/1' in day of month is robfig's star: Sundays only.
    expect(interval('0 0 */1 * 0', '2026-06-10T12:00:00Z')).toBe(7 * D);
    expect(interval('0 0 29 2 *', '2026-06-05T00:00:00Z')).toBe(4 * 365 * D + D);
  });

  it('counts in the schedule\'s time zone: spec.timeZone or a CRON_TZ=/TZ= prefix, across DST', () => {
    // Europe/Berlin springs forward on 2026-03-29: 02:30 local does not exist, the day is 23 hours.
    expect(interval('30 3 * * *', '2026-03-29T12:00:00Z', 'Europe/Berlin')).toBe(24 * H); // Sat 03:30 -> Sun 03:30 is 23h, Sun -> Mon 24h
    expect(interval('30 3 * * *', '2026-03-29T00:00:00Z', 'Europe/Berlin')).toBe(24 * H); // Fri -> Sat 24h, Sat -> Sun 23h
    expect(interval('CRON_TZ=Europe/Berlin 30 3 * * *', '2026-03-29T03:00:00Z')).toBe(24 * H);
    // Fall back on 2026-10-25: Sat 03:30 CEST -> Sun 03:30 CET is 25 hours.
    expect(interval('TZ=Europe/Berlin 30 3 * * *', '2026-10-25T12:00:00Z')).toBe(25 * H);
    expect(interval('30 3 * * *', '2026-10-25T12:00:00Z', 'UTC')).toBe(24 * H);
    // 9:00 New York on weekdays is 13:00 or 14:00 UTC; the zone keeps the wall time.
    expect(interval('0 9 * * *', '2026-11-01T20:00:00Z', 'America/New_York')).toBe(25 * H); // Sat 09:00 EDT -> Sun 09:00 EST
    expect(interval('0 9 * * *', '2026-11-03T20:00:00Z', 'America/New_York')).toBe(24 * H);
  });

  it('rejects what the controller would not run, saying why', () => {
    for (const [schedule, why] of [
      ['* * * *', /4 fields, not 5/], ['60 * * * *', /outside 0-59/], ['* 24 * * *', /outside 0-23/], ['* * 0 * *', /outside 1-31/],
      ['* * * 13 *', /outside 1-12/], ['* * * * 7', /outside 0-6/], ['*/0 * * * *', /bad step/], ['5-1 * * * *', /outside/],
      ['@fortnightly', /unknown descriptor/], ['x * * * *', /not a number/], ['@every soon', /not a duration/], ['1-2-3 * * * *', /not a range/],
    ] as const) {
      expect(() => parseSchedule(schedule), schedule).toThrow(CronError);
      expect(() => parseSchedule(schedule), schedule).toThrow(why);
    }
    expect(() => parseSchedule('0 2 * * *', 'Mars/Olympus')).toThrow(/unknown time zone 'Mars\/Olympus'/);
    expect(() => parseSchedule('CRON_TZ=Nowhere/Town 0 2 * * *')).toThrow(/unknown time zone/);
  });

  it('says undefined for a schedule that never fires (the 30th of February)', () => {
    expect(interval('0 0 30 2 *', '2026-06-05T06:30:00Z')).toBeUndefined();
  });
});
