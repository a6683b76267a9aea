// Issue 14's burst: many checks started at once, as NRPE does when a whole
// service group comes due, against an API server that never answers and with
// credential plugins that hang. Every check must end on its own -t with one
// UNKNOWN line, counted from its own process start, and leave no process behind.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { apiServers, expectContract, ownSeconds, runBuilt, tempDir } from '../harness.js';
import { membersOf } from '../procs.js';

const start = apiServers();
const tmp = tempDir('burst');
const pidDir = path.join(tmp, 'pids');
fs.mkdirSync(pidDir);
afterAll(() => {
  for (const f of fs.readdirSync(pidDir)) {
    try { process.kill(-Number(fs.readFileSync(path.join(pidDir, f), 'utf8')), 'SIGKILL'); } catch { /* gone */ }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Processes of the plugins' groups still alive (their shells wrote their PIDs, which are the group ids). */
function survivors(): number[] {
  return fs.readdirSync(pidDir).flatMap((f) => membersOf(Number(fs.readFileSync(path.join(pidDir, f), 'utf8'))));
}

const API_CHECKS = ['scheduler_stall', 'leases', 'coredns', 'stuck_terminating', 'sandbox_changed', 'kubelet_stall', 'reboot_ready', 'nodes', 'apiserver'];
const NODE_CHECKS = new Set(['kubelet_stall', 'reboot_ready', 'stuck_terminating']);
const TITLE: Record<string, string> = Object.fromEntries(API_CHECKS.map((c) => [c, c.replace(/_/g, ' ').toUpperCase()]));
/**
 * What a check may take beyond its -t on its own clock (from its process start): writing its line.
 * Not a speed target, and generous: 18 checks start at once on whatever cores the machine has.
 */
const MARGIN_S = 5;

describe('a burst of checks against a hung API server and hanging credential plugins', () => {
  it('every check ends UNKNOWN within its -t, and nothing it started survives', async () => {
    const s = await start('incident', { rules: [{ path: '^/(api|apis|livez|readyz|version)', hang: true }] });
    const base = fs.readFileSync(s.kubeconfigFor('cert'), 'utf8');
    const kubeconfigs = API_CHECKS.map((c) => {
      const script = path.join(tmp, `plugin-${c}.sh`);
      fs.writeFileSync(script, `#!/bin/sh\necho $$ > ${path.join(pidDir, c)}\nsleep 300 &\nsleep 300\n`, { mode: 0o755 });
      const file = path.join(tmp, `${c}.yaml`);
      fs.writeFileSync(file, base.replace(/users:\n- name: nagios\n  user:\n(    .*\n)+/,
        `users:\n- name: nagios\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ${script}\n      interactiveMode: Never\n`));
      return file;
    });
    const t = 5;
    const runs = await Promise.all([
      // Each check twice: once stuck on the server, once stuck on its credential plugin.
      ...API_CHECKS.map((c) => runBuilt(c, ['--kubeconfig', s.kubeconfig, '-t', String(t), '-vv', ...(NODE_CHECKS.has(c) ? ['--node', 'k8s02'] : [])])),
      ...API_CHECKS.map((c, i) => runBuilt(c, ['--kubeconfig', kubeconfigs[i]!, '-t', String(t), '-vv'])),
    ]);
    runs.forEach((r, i) => {
      const check = API_CHECKS[i % API_CHECKS.length]!;
      expectContract(r, TITLE[check]!);
      expect(r.code, `${check}: ${r.firstLine}`).toBe(3);
      expect(r.firstLine, check).toMatch(new RegExp(`check timed out after ${t}s waiting for (the API server|the credential plugin)`));
      // On the check's own clock, from its process start (-vv stamps): how the machine schedules
      // the spawn is not the check's to control, its deadline is.
      expect(ownSeconds(r), `${check}: ${r.stderr.slice(-300)}`).toBeLessThan(t + MARGIN_S);
    });
    // The plugins' groups are killed at the deadline; give the kernel a moment to reap them.
    for (let i = 0; i < 30 && survivors().length; i++) await new Promise((ok) => setTimeout(ok, 100));
    expect(survivors()).toEqual([]);
  }, 300_000);
});
