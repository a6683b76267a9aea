// deploy/make-kubeconfig.sh writes a kubeconfig the checks can use: the
// server and CA of the admin's context, the ServiceAccount token, mode 0640,
// and never the admin's own credentials. kubectl is a recording stand-in that
// answers from the API double's files; the written kubeconfig is then used by
// the built check against the double (bearer-token auth).
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runBuilt, startApiServer, tempDir, type ApiServer } from '../harness.js';

const SCRIPT = path.join(ROOT, 'deploy/make-kubeconfig.sh');
const isRoot = process.getuid?.() === 0;
const hasNagios = (() => { try { return /^nagios:/m.test(fs.readFileSync('/etc/group', 'utf8')); } catch { return false; } })();

/** A kubectl that knows one cluster (the double) and logs its arguments. */
function fakeKubectl(dir: string, server: ApiServer): string {
  const ca = fs.readFileSync(path.join(server.dir, 'ca.crt')).toString('base64');
  const token = fs.readFileSync(path.join(server.dir, 'token'), 'utf8').trim();
  const file = path.join(dir, 'kubectl');
  fs.writeFileSync(file, `#!/bin/sh
echo "$*" >> "${dir}/calls"
case "$*" in
  *"jsonpath={.clusters[0].cluster.server}"*) printf '%s' '${server.url}' ;;
  *"jsonpath={.clusters[0].cluster.certificate-authority-data}"*) printf '%s' '${ca}' ;;
  *"get serviceaccount k8s-nrpe"*) echo "NAME SECRETS AGE" ;;
  *"get secret k8s-nrpe-token"*) printf '%s' '${Buffer.from(token).toString('base64')}' ;;
  *"create token k8s-nrpe --duration"*) echo '${token}' ;;
  *"--kubeconfig"*"auth can-i list pods --all-namespaces"*) grep -qF -- '${token}' "$2" && echo yes || echo no ;;
  *) echo "fake kubectl: unexpected $*" >&2; exit 1 ;;
esac
`, { mode: 0o755 });
  return file;
}

function sh(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('/bin/sh', [SCRIPT, ...args], { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: unknown }).code) : 0, stdout, stderr });
    });
  });
}

describe('deploy/make-kubeconfig.sh', () => {
  let server: ApiServer;
  const dir = tempDir('mkkc');
  // A token that starts with '-' (as 1 in 64 base64url tokens do), on purpose: neither the script
  // nor the tools it drives may read it as an option.
  const TOKEN = `-${crypto.randomBytes(24).toString('base64url')}`;
  beforeAll(async () => {
    server = await startApiServer('healthy', undefined, { token: TOKEN });
  });
  afterAll(async () => { await server?.stop(); });

  for (const mode of ['secret', 'duration'] as const) {
    it(`writes a working read-only kubeconfig from the ${mode === 'secret' ? 'token Secret' : 'TokenRequest API'}`, async () => {
      const out = path.join(dir, `${mode}.kubeconfig`);
      const kubectl = fakeKubectl(dir, server);
      const args = ['-o', out, ...(mode === 'duration' ? ['--duration', '8760h'] : []), ...(!isRoot || !hasNagios ? ['--group', String(os.userInfo().gid)] : [])];
      const r = await sh(args, { KUBECTL: kubectl });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`wrote ${out} (server ${server.url}, ServiceAccount kube-system/k8s-nrpe)\n`);

      const st = fs.statSync(out);
      expect(st.mode & 0o777).toBe(0o640);
      if (isRoot && hasNagios) {
        expect(st.uid).toBe(0);
        expect(fs.readFileSync('/etc/group', 'utf8')).toMatch(new RegExp(`^nagios:[^:]*:${st.gid}:`, 'm'));
      }
      const text = fs.readFileSync(out, 'utf8');
      expect(text).not.toMatch(/client-(key|certificate)/);
      expect(TOKEN.startsWith('-')).toBe(true);
      expect(text.split('\n').map((l) => l.trim())).toContain(`token: ${TOKEN}`);
      const calls = fs.readFileSync(path.join(dir, 'calls'), 'utf8');
      expect(calls).not.toMatch(/\.users|client-key|client-certificate/);
      if (mode === 'duration') expect(calls).toContain('create token k8s-nrpe --duration 8760h');
      // No temp file left beside it.
      expect(fs.readdirSync(dir).filter((f) => f.startsWith('.k8s-nrpe'))).toEqual([]);

      const run = await runBuilt('scheduler_stall', ['--kubeconfig', out]);
      expect(run.firstLine).toMatch(/^K8S SCHEDULER STALL OK - /);
      const users = new Set(server.requests().map((q) => q.user));
      expect(users).toContain('system:serviceaccount:kube-system:k8s-nrpe');
    });
  }

  it('refuses a plain-http server and a missing ServiceAccount with one line', async () => {
    const kubectl = fakeKubectl(dir, server);
    const http = await sh(['-o', path.join(dir, 'x'), '--server', 'http://10.0.0.1:8080'], { KUBECTL: kubectl });
    expect(http.code).toBe(1);
    expect(http.stderr).toBe("make-kubeconfig.sh: API server URL 'http://10.0.0.1:8080' is not https:// (use --server)\n");
    const noSa = path.join(dir, 'kubectl-nosa');
    fs.writeFileSync(noSa, `#!/bin/sh\ncase "$*" in *serviceaccount*) echo 'Error from server (NotFound): serviceaccounts "k8s-nrpe" not found' >&2; exit 1 ;; *) exec ${kubectl} "$@" ;; esac\n`, { mode: 0o755 });
    const r = await sh(['-o', path.join(dir, 'y')], { KUBECTL: noSa });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`make-kubeconfig.sh: no ServiceAccount kube-system/k8s-nrpe: apply rbac.yaml first (${noSa} apply -f ${path.join(ROOT, 'deploy/rbac.yaml')})\n`);
    const noDir = await sh(['-o', path.join(dir, 'none/kc')], { KUBECTL: kubectl });
    expect(noDir.stderr).toBe(`make-kubeconfig.sh: ${path.join(dir, 'none')} does not exist: install nagios-nrpe-server first, or write elsewhere with -o FILE\n`);
    expect(fs.existsSync(path.join(dir, 'x')) || fs.existsSync(path.join(dir, 'y'))).toBe(false);
  });
});
