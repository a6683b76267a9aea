// 403 on each resource each check reads. The resources are not listed by
// hand: a first run against the incident records what the check asks for,
// then each of those paths is forbidden in turn. A forbidden read is never
// silent: the check is UNKNOWN naming the verb and resource and the RBAC
// fix, or (where a check documents that it degrades) says in its output
// what it could not read.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiServers, DIST, runBuilt, type ApiServer } from '../harness.js';
import { HOST_ONLY as HOST_ONLY_CHECKS } from '../sweep.js';

const CHECKS = execFileSync(path.join(DIST, 'k8s-nrpe'), ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
const start = apiServers();
/** Node-local checks that read only the host, never the API. */
const HOST_ONLY = new Set(HOST_ONLY_CHECKS);

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('a forbidden resource is never silent', () => {
  it.each(CHECKS)('%s', async (check) => {
    const base = await start('incident');
    // --node k8s02: node-local checks look at the incident's broken node.
    // -v: a check that degrades may put the note below its findings; it must be there to read.
    const args = (s: ApiServer) => ['--kubeconfig', s.kubeconfig, '-v', ...(['kubelet_stall', 'reboot_ready'].includes(check) ? ['--node', 'k8s02'] : [])];
    await runBuilt(check, args(base));
    const paths = [...new Set(base.requests().map((r) => r.path))];
    // Both ways: a host-only check asks the API nothing, and only a host-only check may (a check
    // that silently stopped asking would otherwise pass here without a single assertion).
    expect(paths.length === 0, `${check} asked for ${paths.join(', ') || 'nothing'}`).toBe(HOST_ONLY.has(check));
    for (const p of paths) {
      const s = await start('incident', { rules: [{ path: `^${escape(p)}$`, forbid: true }] });
      const r = await runBuilt(check, args(s));
      const what = `${check} with ${p} forbidden`;
      expect(r.code, what).toBeGreaterThanOrEqual(0);
      expect(r.code, what).toBeLessThanOrEqual(3);
      expect(r.stdout, what).toMatch(/forbidden to (get|list) \S+/);
      if (r.code === 3) expect(r.firstLine, what).toMatch(/UNKNOWN - .*forbidden to (get|list) .*deploy\/rbac\.yaml/);
      await s.stop();
    }
  }, 600000);
});
