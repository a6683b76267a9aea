// Host commands run in their own process group: a timeout, a cancel or
// runaway output ends the command and everything it started.
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../lib/host/command.js';
import { membersOf } from '../procs.js';

const groups: number[] = [];
afterAll(() => { for (const g of groups) { try { process.kill(-g, 'SIGKILL'); } catch { /* gone */ } } });

async function gone(pgid: number, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end && membersOf(pgid).length) await new Promise((r) => setTimeout(r, 50));
  return membersOf(pgid).length === 0;
}

/** A shell that prints its PID (= its group), starts a background sleeper and then hangs. */
const HANG = ['-c', 'echo $$; sleep 300 & sleep 300'];

describe('runCommand kills the whole process group', () => {
  it.each([
    ['the check\'s signal', (c: AbortController) => ({ signal: c.signal }), true],
    ['its own timeout', (c: AbortController) => ({ signal: c.signal, timeoutMs: 500 }), false],
  ])('on %s', async (_, opts, abort) => {
    const c = new AbortController();
    let pgid = 0;
    const run = runCommand('sh', HANG, { ...opts(c), onLine: (l) => { pgid ||= Number(l); } });
    while (!pgid) await new Promise((r) => setTimeout(r, 20));
    groups.push(pgid);
    expect(membersOf(pgid).length).toBeGreaterThanOrEqual(2);
    if (abort) setTimeout(() => c.abort(new Error('deadline')), 300);
    await expect(run).rejects.toThrow(/cancelled|did not finish|killed/);
    expect(await gone(pgid), `left running: ${membersOf(pgid).join(', ')}`).toBe(true);
  }, 20_000);

  it('a background child holding the pipes after the command exited is ended too', async () => {
    const c = new AbortController();
    const pids: number[] = [];
    const r = await runCommand('sh', ['-c', 'echo $$; sleep 300 & echo $!'], { signal: c.signal, onLine: (l) => { pids.push(Number(l)); } });
    const [pgid, sleeper] = pids as [number, number];
    groups.push(pgid);
    expect(r.exitCode).toBe(0);
    expect(await gone(pgid)).toBe(true);
    // The sleeper itself, wherever its group is: not running any more.
    const alive = () => { try { return !/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${sleeper}/stat`, 'utf8')); } catch { return false; } };
    const end = Date.now() + 3000;
    while (alive() && Date.now() < end) await new Promise((res) => setTimeout(res, 50));
    if (alive()) process.kill(sleeper, 'SIGKILL');
    expect(alive()).toBe(false);
  }, 20_000);
});
