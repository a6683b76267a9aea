// Shared by test/integration/bad-input.test.ts and hostile-input.test.ts (one file was the
// slowest of the suite: split, the two run on both workers).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { expect } from 'vitest';
import { mapBounded } from '../lib/kube/parallel.js';
import { DIST, type CheckRun } from './harness.js';

// Many short checks a few at a time: two cores, and each run is a process.
export const pool = <T, R>(items: T[], fn: (t: T) => Promise<R>) => mapBounded(items, 4, fn);

export const CHECKS = execFileSync(path.join(DIST, 'k8s-nrpe'), ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
export const FIRST_LINE = /^K8S [A-Z0-9 ]+ (OK|WARNING|CRITICAL|UNKNOWN) - [^|\n]+( \| [^|\n]+)?$/;
const STATES = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'];
// 'label'=value[UOM];[warn];[crit];[min];[max], as the Monitoring Plugins guidelines define it.
const NUM = '-?\\d+(\\.\\d+)?';
const RANGE = `@?(~|${NUM})?(:(${NUM})?)?`;
const PERF_ITEM = new RegExp(`^('([^']|'')+'|[^\\s'=]+)=(${NUM}(s|ms|us|%|B|KB|MB|GB|TB|c)?|U)(;(${RANGE})?){0,2}(;(${NUM})?){0,2}$`);

export function expectSafe(r: CheckRun, what: string): void {
  expect(r.code, `${what}: exit code`).toBeGreaterThanOrEqual(0);
  expect(r.code, `${what}: exit code`).toBeLessThanOrEqual(3);
  expect(r.firstLine, `${what}: first line`).toMatch(FIRST_LINE);
  expect(STATES.indexOf(FIRST_LINE.exec(r.firstLine)![1]!), `${what}: state vs exit code`).toBe(r.code);
  const perf = r.firstLine.includes(' | ') ? r.firstLine.slice(r.firstLine.indexOf(' | ') + 3) : '';
  for (const item of perf.match(/('([^']|'')+'|[^\s=]+)=\S+/g) ?? []) expect(item, `${what}: perfdata`).toMatch(PERF_ITEM);
  // A stack trace is for -vvv only, and then on stderr.
  expect(r.stdout, `${what}: stack trace`).not.toMatch(/\n\s+at .+:\d+:\d+/);
  // eslint-disable-next-line no-control-regex
  expect(r.stdout, `${what}: escape sequence`).not.toMatch(/\x1b/);
}
