// README's first command, `npm run demo`: the bundled incident, every check and
// triage against the API double, as a newcomer sees it. The demo must keep
// telling the incident's story (each failure behind its own check, the canary
// stuck at the scheduler), and leave nothing behind. It runs the built binaries
// (npm test builds first) and needs a network namespace for calico_nat (root, or
// unprivileged user namespaces); where it has none, calico_nat is "NOT RUN" and
// said so, which CI (root) must not see.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../harness.js';

const demoDirs = () => fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('k8s-nrpe-demo-'));

function demo(): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'scripts/demo.mjs')], { cwd: ROOT, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (err as { code?: unknown }).code : 0;
      resolve({ code: typeof code === 'number' ? code : -1, stdout, stderr });
    });
  });
}

describe('npm run demo (README\'s first command)', () => {
  it('tells the incident check by check, then triage, and leaves nothing behind', async () => {
    const before = new Set(demoDirs());
    const r = await demo();
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout;
    const line = (check: string) => out.split('\n').find((l) => l.startsWith(`K8S ${check} `)) ?? `(no K8S ${check} line)`;
    expect(line('SCHEDULER STALL')).toMatch(/^K8S SCHEDULER STALL CRITICAL - scheduler stall: 46 pods unscheduled /);
    expect(line('SANDBOX CHANGED')).toMatch(/^K8S SANDBOX CHANGED CRITICAL - containerd stale sandbox state on k8s02/);
    expect(line('KUBELET STALL')).toMatch(/^K8S KUBELET STALL CRITICAL - kubelet watch stall on k8s02/);
    expect(line('STUCK TERMINATING')).toMatch(/^K8S STUCK TERMINATING CRITICAL - 12 pods stuck Terminating/);
    expect(line('COREDNS')).toMatch(/^K8S COREDNS WARNING - .*single point of failure: every ready pod on k8s02/);
    expect(line('NODES')).toMatch(/^K8S NODES WARNING - 3 nodes rebooted together/);
    // The canary is asked to do what the stalled scheduler would not.
    expect(line('CANARY')).toMatch(/^K8S CANARY CRITICAL - not scheduled after \d+s: no scheduling attempt \(PodScheduled absent\); scheduler Lease held by k8s02/);
    expect(out).toContain('\ncanary k8s-nrpe-canary/k8s-nrpe-canary-k8s02 deleted and gone\n');
    if (!/calico_nat +NOT RUN/.test(out) || process.env.CI) {
      expect(line('CALICO NAT')).toMatch(/^K8S CALICO NAT CRITICAL - no Service NAT rules on k8s02/);
    }
    if (!/dqlite +NOT RUN/.test(out) || process.env.CI) expect(line('DQLITE')).toMatch(/^K8S DQLITE CRITICAL - 36 context canceled/);
    // Triage last: the overall verdict, worst first.
    expect(out).toMatch(/\n\$ k8s-nrpe triage [^\n]*\n[^]*CRITICAL/);
    // Every check answered within the contract: no exit code outside 0-3.
    for (const m of out.matchAll(/^\(exit (\d+)\)$/gm)) expect(Number(m[1])).toBeLessThanOrEqual(3);
    expect(demoDirs().filter((d) => !before.has(d))).toEqual([]);
  }, 300_000);
});
