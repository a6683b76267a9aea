// check_k8s_certs run as NRPE runs it, against certificates the real openssl
// makes at run time, laid out as microk8s lays them out: certs/*.crt and
// credentials/*.config kubeconfigs, plus the API server double's serving
// certificate over TLS. Every date is relative to the moment the files are
// made and the thresholds are in whole days, so the verdicts hold at any
// second of the day.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiServers, DIST, expectContract, parsePerf, runBuilt, type CheckRun } from '../harness.js';

const TITLE = 'CERTS';
const NOBODY = 65534;
const DAY = 86400_000;

// Made in beforeAll: module and describe bodies run even when every test is filtered out, and then no afterAll does.
let root = '';
afterAll(() => { if (root) fs.rmSync(root, { recursive: true, force: true }); });

function openssl(cwd: string, args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** '20261130084500Z' for openssl ca -startdate/-enddate. */
const asn1 = (ms: number) => new Date(ms).toISOString().replace(/[-:T]/g, '').replace(/\.\d{3}Z$/, 'Z');

/**
 * A CA in `ca/` and a way to sign leaf certificates with it for any
 * validity: `openssl ca -startdate/-enddate`, the one OpenSSL 3.0 subcommand
 * that takes past and future dates (x509 -days only counts from now).
 */
function makeCa(): (out: string, cn: string, notBefore: number, notAfter: number) => void {
  const ca = path.join(root, 'ca');
  fs.mkdirSync(ca);
  openssl(ca, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '3650', '-subj', '/CN=10.152.183.1']);
  fs.writeFileSync(path.join(ca, 'index.txt'), '');
  fs.writeFileSync(path.join(ca, 'serial'), '1000\n');
  fs.writeFileSync(path.join(ca, 'ca.cnf'), [
    '[ca]', 'default_ca = CA_default', '[CA_default]', 'database = index.txt', 'new_certs_dir = .', 'serial = serial',
    'default_md = sha256', 'policy = policy_any', 'unique_subject = no', '[policy_any]', 'commonName = supplied', '',
  ].join('\n'));
  return (out, cn, notBefore, notAfter) => {
    openssl(ca, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', `/CN=${cn}`]);
    openssl(ca, ['ca', '-batch', '-config', 'ca.cnf', '-cert', 'ca.crt', '-keyfile', 'ca.key', '-in', 'leaf.csr', '-out', out,
      '-startdate', asn1(notBefore), '-enddate', asn1(notAfter), '-notext']);
  };
}

const b64 = (f: string) => fs.readFileSync(f).toString('base64');
const kubeconfig = (user: string) =>
  `apiVersion: v1\nkind: Config\nclusters:\n- name: microk8s-cluster\n  cluster:\n    server: https://127.0.0.1:16443\n    certificate-authority-data: Q0E=\n` +
  `users:\n- name: u\n  user:\n${user}contexts:\n- name: microk8s\n  context:\n    cluster: microk8s-cluster\n    user: u\ncurrent-context: microk8s\n`;

describe('check_k8s_certs against certificates made by the real openssl', () => {
  // One node's layout per scenario: <root>/<name>/certs and <root>/<name>/credentials.
  const layouts: Record<string, { certs: string; glob: string }> = {};
  let now = 0;
  const start = apiServers();
  let apiPort = 0;

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-nrpe-certs-check-'));
    now = Date.now();
    const sign = makeCa();
    const caCrt = path.join(root, 'ca', 'ca.crt');
    const layout = (name: string) => {
      const certs = path.join(root, name, 'certs');
      const creds = path.join(root, name, 'credentials');
      fs.mkdirSync(certs, { recursive: true });
      fs.mkdirSync(creds, { recursive: true });
      layouts[name] = { certs, glob: path.join(creds, '*.config') };
      return { certs, creds };
    };
    const leaf = (dir: string, file: string, cn: string, fromDays: number, toDays: number) =>
      sign(path.join(dir, file), cn, now + fromDays * DAY, now + toDays * DAY);

    // healthy: microk8s's CA (10 years) and server certificate (365 days), token kubeconfigs.
    const h = layout('healthy');
    fs.copyFileSync(caCrt, path.join(h.certs, 'ca.crt'));
    leaf(h.certs, 'server.crt', 'kube-apiserver', -1, 365);
    fs.writeFileSync(path.join(h.creds, 'client.config'), kubeconfig('    token: c2VjcmV0LXRva2Vu\n'));

    // expiring: one certificate in 20 days (warning), one in 3 (critical).
    const e = layout('expiring');
    fs.copyFileSync(caCrt, path.join(e.certs, 'ca.crt'));
    leaf(e.certs, 'front-proxy-client.crt', 'front-proxy-client', -300, 20);
    leaf(e.certs, 'kubelet.crt', 'k8s02', -300, 3);

    // past and future: expired two days ago, valid only from ten days on.
    const p = layout('dates');
    leaf(p.certs, 'server.crt', 'kube-apiserver', -365, -2);
    leaf(p.certs, 'front-proxy-ca.crt', 'front-proxy-ca', 10, 400);
    leaf(p.certs, 'ok.crt', 'fine', -1, 200);

    // wrong files next to a good one: text, a CSR, a directory named like a certificate.
    const w = layout('wrong');
    leaf(w.certs, 'server.crt', 'kube-apiserver', -1, 200);
    fs.writeFileSync(path.join(w.certs, 'garbage.crt'), 'this is not a certificate\n');
    fs.copyFileSync(path.join(root, 'ca', 'leaf.csr'), path.join(w.certs, 'request.crt'));
    fs.mkdirSync(path.join(w.certs, 'odd.crt'));

    // kubeconfigs with client certificates: inline (20 days) and a file path; a token one; a broken one.
    const k = layout('kubeconfigs');
    fs.copyFileSync(caCrt, path.join(k.certs, 'ca.crt'));
    leaf(k.creds, 'kubelet.pem', 'system:node:k8s02', -1, 20);
    leaf(k.creds, 'proxy.pem', 'system:kube-proxy', -1, 200);
    fs.writeFileSync(path.join(k.creds, 'kubelet.config'), kubeconfig(`    client-certificate-data: ${b64(path.join(k.creds, 'kubelet.pem'))}\n    client-key-data: S0VZ\n`));
    fs.writeFileSync(path.join(k.creds, 'proxy.config'), kubeconfig('    client-certificate: proxy.pem\n    client-key: proxy.key\n'));
    fs.writeFileSync(path.join(k.creds, 'client.config'), kubeconfig('    token: c2VjcmV0LXRva2Vu\n'));
    fs.writeFileSync(path.join(k.creds, 'callback-token.txt'), 'not matched by the glob\n');

    // long names that are equal in their first 19 characters.
    const l = layout('long');
    leaf(l.certs, 'front-proxy-client-aaaa.crt', 'a', -1, 100);
    leaf(l.certs, 'front-proxy-client-bbbb.crt', 'b', -1, 200);

    apiPort = (await start('healthy')).port;
  }, 120_000);

  const run = async (name: string, ...args: string[]): Promise<CheckRun> => {
    const l = layouts[name]!;
    const r = await runBuilt('certs', ['--certs-dir', l.certs, '--kubeconfig-glob', l.glob, ...args]);
    expectContract(r, TITLE);
    return r;
  };

  it('OK: the soonest expiry in the status line, days left per certificate', async () => {
    const r = await run('healthy');
    expect(r.firstLine).toMatch(/^K8S CERTS OK - 2 certificates, soonest expiry server\.crt in 364 days \(\d{4}-\d\d-\d\d\) \| ca=3649;30:;7: server=364;30:;7:$/);
  }, 30_000);

  it('WARNING under 30 days, CRITICAL under 7, soonest first', async () => {
    const r = await run('expiring');
    expect(r.firstLine).toMatch(/^K8S CERTS CRITICAL - expiring: kubelet\.crt in 2 days \([-\d]+\); expiring: front-proxy-client\.crt in 19 days \([-\d]+\) \|/);
    expect(r.perf).toMatchObject({ 'front-proxy-client': '19', kubelet: '2', ca: '3649' });
    // Thresholds as the operator writes them for days: a plain N is "fewer than N days".
    const relaxed = await run('expiring', '-w', '10', '-c', '1');
    expect(relaxed.firstLine).toMatch(/^K8S CERTS WARNING - expiring: kubelet\.crt in 2 days/);
    expect(relaxed.firstLine).toContain('kubelet=2;10:;1:');
  }, 30_000);

  it('CRITICAL for an expired certificate and for one not valid yet, whatever the thresholds', async () => {
    const r = await run('dates', '-w', '0', '-c', '0');
    expect(r.firstLine).toMatch(/^K8S CERTS CRITICAL - expired: server\.crt on [-\d]+; not yet valid: front-proxy-ca\.crt until [-\d]+ \|/);
    expect(r.perf).toMatchObject({ server: '-2', ok: '199' });
    expect(r.stdout).toMatch(/server\.crt: expired [-\d]+ \(2 days ago\)/);
  }, 30_000);

  it('UNKNOWN naming each file that is no certificate; the good ones still judged', async () => {
    const r = await run('wrong');
    expect(r.firstLine).toMatch(/^K8S CERTS UNKNOWN - cannot judge garbage\.crt: not a PEM or DER certificate, odd\.crt: a directory, not a file, request\.crt: holds no certificate \(CERTIFICATE REQUEST\) \|/);
    expect(r.perf).toMatchObject({ server: '199' });
    expect(r.stdout).not.toMatch(/this is not a certificate|BEGIN/);
  }, 30_000);

  it('client certificates inside kubeconfigs: inline data and a file path; token users carry none', async () => {
    const r = await run('kubeconfigs', '-v');
    expect(r.firstLine).toMatch(/^K8S CERTS WARNING - expiring: kubelet\.config user u in 19 days/);
    expect(r.perf).toMatchObject({ ca: '3649', kc_kubelet: '19', kc_proxy: '199' });
    expect(r.perf).not.toHaveProperty('kc_client');
    expect(r.stdout).toContain('subject CN=system:node:k8s02');
    expect(r.stdout + r.stderr).not.toMatch(/c2VjcmV0LXRva2Vu|S0VZ/);
    const only = await run('kubeconfigs', '--no-kubeconfigs');
    expect(only.firstLine).toMatch(/^K8S CERTS OK - 1 certificate, /);
  }, 30_000);

  it('--server: the certificate a TLS server presents (the API server double)', async () => {
    const r = await run('healthy', '--server', `127.0.0.1:${apiPort}`);
    expect(r.firstLine).toMatch(/^K8S CERTS OK - 3 certificates, /);
    expect(Number(r.perf[`tls_127.0.0.1:${apiPort}`.slice(0, 19)])).toBeGreaterThan(3000);
    const closed = await run('healthy', '--server', '127.0.0.1:1');
    expect(closed.firstLine).toMatch(/^K8S CERTS UNKNOWN - cannot judge TLS 127\.0\.0\.1:1: TLS connection failed: ECONNREFUSED/);
  }, 30_000);

  it('labels stay unique within 19 characters', async () => {
    const r = await run('long');
    expect(r.perf).toEqual({ 'front-proxy-client-': '99', 'front-proxy-clien_2': '199' });
  }, 30_000);

  it('UNKNOWN when the certificate directory is missing', async () => {
    const r = await runBuilt('certs', ['--certs-dir', path.join(root, 'nope')]);
    expectContract(r, TITLE);
    expect(r.firstLine).toMatch(/^K8S CERTS UNKNOWN - certificate directory .*nope not found/);
  }, 30_000);

  it('group read access is enough: as nobody with the directory\'s group; without it UNKNOWN saying why', async () => {
    const gid = 4243;
    const dir = path.join(root, 'group');
    const certs = path.join(dir, 'certs');
    fs.mkdirSync(certs, { recursive: true });
    fs.copyFileSync(path.join(layouts.healthy!.certs, 'ca.crt'), path.join(certs, 'ca.crt'));
    fs.chmodSync(root, 0o755);
    fs.chmodSync(dir, 0o755);
    fs.chownSync(certs, 0, gid);
    fs.chmodSync(certs, 0o770); // microk8s: ug+rwX, o-rwX
    fs.chownSync(path.join(certs, 'ca.crt'), 0, gid);
    fs.chmodSync(path.join(certs, 'ca.crt'), 0o660);
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    fs.copyFileSync(fs.realpathSync(path.join(DIST, 'k8s-nrpe')), path.join(bin, 'k8s-nrpe'));
    fs.chmodSync(path.join(bin, 'k8s-nrpe'), 0o755);
    fs.symlinkSync('k8s-nrpe', path.join(bin, 'check_k8s_certs'));
    const as = (groups: string[]) => new Promise<CheckRun>((resolve) => {
      execFile('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, ...groups, path.join(bin, 'check_k8s_certs'),
        '--certs-dir', certs, '--no-kubeconfigs'], { env: { PATH: '/usr/bin:/bin' }, timeout: 30000 }, (err, stdout, stderr) => {
        const code: unknown = err ? (err as { code?: unknown }).code : 0;
        const firstLine = stdout.split('\n')[0] ?? '';
        resolve({ code: typeof code === 'number' ? code : null, stdout, stderr, firstLine, perf: parsePerf(firstLine), ms: 0 });
      });
    });
    const ok = await as([`--groups=${gid}`]);
    expectContract(ok, TITLE);
    expect(ok.firstLine).toMatch(/^K8S CERTS OK - 1 certificate, soonest expiry ca\.crt/);
    const denied = await as(['--clear-groups']);
    expectContract(denied, TITLE);
    expect(denied.firstLine).toMatch(/^K8S CERTS UNKNOWN - cannot list certificate directory .*: permission denied \(microk8s makes it readable by group microk8s/);
  }, 30_000);
});
