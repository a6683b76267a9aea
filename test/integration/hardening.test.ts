// Issue 14 as the built binary meets it: no orphan processes, no echoed
// secrets, no verdict from a body that is not what was asked for, bounded
// time and memory whatever the server sends, and the kubeconfig read as
// kubectl reads it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { apiServers, EVENT_LISTS, expectContract, runBuilt, type ApiServer } from '../harness.js';
import { membersOf } from '../procs.js';

const start = apiServers();
const T = 90_000;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-nrpe-hardening-'));
const groups: number[] = [];
afterAll(() => {
  // Whatever a failing run left behind, this file does not.
  for (const g of groups) { try { process.kill(-g, 'SIGKILL'); } catch { /* gone */ } }
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A copy of the double's cert kubeconfig with the user section replaced. */
function kubeconfigWithUser(s: ApiServer, name: string, user: string): string {
  const base = fs.readFileSync(s.kubeconfigFor('cert'), 'utf8');
  const file = path.join(tmp, `${name}.yaml`);
  fs.writeFileSync(file, base.replace(/users:\n- name: nagios\n  user:\n(    .*\n)+/, `users:\n- name: nagios\n  user:\n${user}`));
  return file;
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}

const execUser = (script: string) =>
  `    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ${script}\n      interactiveMode: Never\n`;

describe('exec credential plugins', () => {
  it('a hung plugin is named in the timeout line and its whole process group is gone afterwards', async () => {
    const s = await start('incident');
    const script = path.join(tmp, 'hung-plugin.sh');
    const pidFile = path.join(tmp, 'hung-plugin.pid');
    fs.writeFileSync(script, `#!/bin/sh\necho $$ > ${pidFile}\nsleep 300 &\nsleep 300\n`, { mode: 0o755 });
    const r = await runBuilt('scheduler_stall', ['--kubeconfig', kubeconfigWithUser(s, 'hung', execUser(script)), '-t', '2']);
    expectContract(r, 'SCHEDULER STALL');
    expect(r.code).toBe(3);
    expect(r.firstLine).toBe(`K8S SCHEDULER STALL UNKNOWN - check timed out after 2s waiting for the credential plugin ${script}`);
    const pgid = Number(fs.readFileSync(pidFile, 'utf8'));
    groups.push(pgid);
    // The plugin ran in its own group (its shell is the leader), and nothing of that group survives the check.
    expect(pgid).toBeGreaterThan(1);
    expect(await until(() => membersOf(pgid).length === 0, 3000), `left running: ${membersOf(pgid).join(', ')}`).toBe(true);
  }, T);

  it('a plugin\'s token is used and redacted from server text; a failing plugin is reported by its exit status and stderr', async () => {
    const s = await start('incident', { rules: [{ path: EVENT_LISTS, echoHeaders: true }] });
    const token = fs.readFileSync(path.join(s.dir, 'token'), 'utf8').trim();
    const good = path.join(tmp, 'good-plugin.sh');
    fs.writeFileSync(good, `#!/bin/sh\ntest -n "$KUBERNETES_EXEC_INFO" || exit 9\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"${token}"}}'\n`, { mode: 0o755 });
    const echoed = await runBuilt('scheduler_stall', ['--kubeconfig', kubeconfigWithUser(s, 'good', execUser(good))]);
    expect(echoed.code, echoed.stdout).toBe(3);
    expect(echoed.firstLine).toMatch(/API server error 500 InternalError on list events .*authorization: Bearer \[redacted\]/);
    expect(echoed.stdout).not.toContain(token);
    // The token was used: the double authenticated the service account.
    expect(s.requests().filter((q) => q.path === '/api/v1/pods').every((q) => q.user === 'system:serviceaccount:kube-system:k8s-nrpe')).toBe(true);
    const bad = path.join(tmp, 'bad-plugin.sh');
    fs.writeFileSync(bad, `#!/bin/sh\necho "login failed: \\033[31mno session\\033[0m" >&2\nexit 4\n`, { mode: 0o755 });
    const r = await runBuilt('scheduler_stall', ['--kubeconfig', kubeconfigWithUser(s, 'bad', execUser(bad))]);
    expectContract(r, 'SCHEDULER STALL');
    expect(r.code).toBe(3);
    expect(r.firstLine).toMatch(/user 'nagios': credential plugin .*bad-plugin\.sh exited 4: login failed/);
  }, T);
});

describe('kubeconfig fields', () => {
  it('honours tokenFile (kubectl\'s spelling) as well as token-file', async () => {
    const s = await start('incident');
    const tokenPath = path.join(s.dir, 'token');
    for (const field of ['tokenFile', 'token-file']) {
      const r = await runBuilt('scheduler_stall', ['--kubeconfig', kubeconfigWithUser(s, field, `    ${field}: ${tokenPath}\n`)]);
      expect(r.code, `${field}: ${r.firstLine}`).toBe(2);
    }
    expect(s.requests().every((q) => q.user === 'system:serviceaccount:kube-system:k8s-nrpe')).toBe(true);
  }, T);

  it('an auth field it does not support is named, not blamed on an expired token', async () => {
    const s = await start('incident');
    const r = await runBuilt('scheduler_stall', ['--kubeconfig', kubeconfigWithUser(s, 'oidc', '    auth-provider:\n      name: oidc\n      config:\n        id-token: abc\n')]);
    expect(r.code).toBe(3);
    expect(r.firstLine).toMatch(/^K8S SCHEDULER STALL UNKNOWN - kubeconfig .*oidc\.yaml: user 'nagios' uses 'auth-provider', which k8s-nrpe does not support/);
    expect(s.requests()).toHaveLength(0);
  }, T);
});

describe('server text and bodies', () => {
  it('a proxy that echoes request headers in a 500 never gets the bearer token printed', async () => {
    const s = await start('incident', { rules: [{ path: '^/api/v1/pods$', echoHeaders: true }] });
    const token = fs.readFileSync(path.join(s.dir, 'token'), 'utf8').trim();
    for (const extra of [[], ['-vvv'], ['--format', 'json']]) {
      const r = await runBuilt('scheduler_stall', ['--kubeconfig', s.kubeconfigFor('token'), ...extra]);
      expect(r.code).toBe(3);
      expect(r.stdout).toMatch(/API server error 500 InternalError on list pods/);
      expect(r.stdout).toMatch(/Bearer \[redacted\]/);
      expect(r.stdout + r.stderr).not.toContain(token);
    }
  }, T);

  it('a lease answered with 200 null is UNKNOWN, not "no leader elected"', async () => {
    const s = await start('incident', { rules: [{ path: '/leases/', body: null }] });
    const r = await runBuilt('leases', ['--kubeconfig', s.kubeconfig]);
    expectContract(r, 'LEASES');
    expect(r.code).toBe(3);
    expect(r.firstLine).toMatch(/sent null for get leases\.coordination\.k8s\.io/);
  }, T);

  it('stuck_terminating --node on a node with no pods: the empty metadata list ("items": null) is OK', async () => {
    const s = await start({ objects: [
      { apiVersion: 'v1', kind: 'Node', metadata: { name: 'k8s03', labels: { 'kubernetes.io/hostname': 'k8s03' } }, status: { conditions: [{ type: 'Ready', status: 'True' }] } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'elsewhere', namespace: 'ns', deletionTimestamp: '$now-2h' }, spec: { nodeName: 'k8s01' }, status: { phase: 'Running' } },
    ] });
    const r = await runBuilt('stuck_terminating', ['--kubeconfig', s.kubeconfig, '--node', 'k8s03']);
    expectContract(r, 'STUCK TERMINATING');
    expect(r.code, r.firstLine).toBe(0);
  }, T);

  it('a list that ignores limit= ends in the check\'s own UNKNOWN line within -t', async () => {
    const s = await start('incident', { rules: [{ path: '^/api/v1/pods$', flood: 400 * 1024 * 1024 }] });
    for (const extra of [[], ['--format', 'json']]) {
      const r = await runBuilt('scheduler_stall', ['--kubeconfig', s.kubeconfig, '-t', '5', ...extra]);
      expect(r.code).toBe(3);
      if (extra.length) expect(JSON.parse(r.stdout)).toMatchObject({ state: 'UNKNOWN' });
      else {
        expectContract(r, 'SCHEDULER STALL');
        // Which budget ends it first depends on the machine: bytes, or the items kept (a fast reader).
        expect(r.firstLine).toMatch(/sent more than \d+ bytes .*for list pods|response budget exceeded: list pods .*list items kept|check timed out after 5s/);
      }
      // Functional bound (the check's own -t plus a margin), not a speed target.
      expect(r.ms).toBeLessThan(5000 + 3000);
    }
  }, T);
});
