// The API server's certificate is judged by OpenSSL during the handshake
// (Node's TLS, rejectUnauthorized): a server that cannot prove itself never
// receives a request byte, so never the bearer token. The built binary meets
// a plain TLS server on 127.0.0.1 that records what it receives, with chains
// made by the openssl CLI and judged also by `openssl verify` and kubectl.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { expectContract, runBuilt, tempDir } from '../harness.js';
import { makeChains, opensslVerify, presentedPem, type Chain, type ChainName } from '../tls-chains.js';

const dir = tempDir('tls-verify-int');
const certs = inject('k8sNrpeCerts');
const read = (f: string) => fs.readFileSync(path.join(certs, f));
const TOKEN = 'tls-verify-test-token-0123456789';

/** A TLS server that answers any request with a 404 and records every byte it receives, per connection. */
async function recordingServer(cert: Buffer, key: Buffer) {
  const received: Buffer[] = [];
  const clientCerts: string[] = [];
  const open = new Set<{ destroy(): void }>();
  let connections = 0;
  const server = tls.createServer({ cert, key, requestCert: true, rejectUnauthorized: false }, (s) => {
    open.add(s);
    const peer = s.getPeerCertificate();
    if (peer?.subject) clientCerts.push(String(peer.subject.CN ?? ''));
    s.on('data', (c: Buffer) => {
      received.push(c);
      s.write('HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n');
    });
    s.on('error', () => {});
    s.on('close', () => open.delete(s));
  });
  server.on('tlsClientError', () => {});
  // TCP connections, counted before the handshake (a client that rejects the certificate closes before the server's 'secureConnection').
  server.on('connection', (raw: { destroy(): void; once(e: 'close', f: () => void): void }) => {
    connections++;
    open.add(raw);
    raw.once('close', () => open.delete(raw));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    get connections() { return connections; },
    clientCerts,
    text: () => Buffer.concat(received).toString('latin1'),
    /** Wait until every connection the client made has closed (the client exits; the socket closes). */
    idle: async () => { while (open.size) await new Promise((r) => setTimeout(r, 20)); },
    stop: () => new Promise<void>((r) => { for (const s of open) s.destroy(); server.close(() => r()); }),
  };
}

function kubeconfig(name: string, port: number, extra = '', user = `    token: ${TOKEN}\n`, ca = read('ca.crt')): string {
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, `apiVersion: v1\nkind: Config\ncurrent-context: t\nclusters:\n- name: t\n  cluster:\n    server: https://127.0.0.1:${port}\n` +
    `    certificate-authority-data: ${ca.toString('base64')}\n${extra}users:\n- name: u\n  user:\n${user}` +
    'contexts:\n- name: t\n  context:\n    cluster: t\n    user: u\n');
  return file;
}

const servers: Array<{ stop: () => Promise<void> }> = [];
afterAll(async () => { await Promise.all(servers.map((s) => s.stop())); });
async function start(cert: Buffer, key: Buffer) {
  const s = await recordingServer(cert, key);
  servers.push(s);
  return s;
}

beforeAll(() => {
  // A server certificate for 127.0.0.1 from another CA (badca, made with the double's certificates).
  fs.writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  const o = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  o(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'impostor.key', '-out', 'impostor.csr', '-subj', '/CN=kube-apiserver']);
  o(['x509', '-req', '-in', 'impostor.csr', '-CA', path.join(certs, 'badca.crt'), '-CAkey', path.join(certs, 'badca.key'), '-set_serial', '7',
    '-out', 'impostor.crt', '-days', '3650', '-extfile', 'san.ext']);
}, 60000);

describe('no request byte before the server is verified', () => {
  it('a server with a certificate from another CA receives nothing, not the token', async () => {
    const s = await start(fs.readFileSync(path.join(dir, 'impostor.crt')), fs.readFileSync(path.join(dir, 'impostor.key')));
    const r = await runBuilt('leases', ['--kubeconfig', kubeconfig('impostor', s.port), '-t', '20']);
    expectContract(r, 'LEASES');
    expect(r.code).toBe(3);
    expect(r.firstLine).toMatch(/^K8S LEASES UNKNOWN - TLS verification of API server https:\/\/127\.0\.0\.1:\d+ failed \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED_CERT_IN_CHAIN)\)/);
    await s.idle();
    expect(s.connections).toBeGreaterThan(0); // the handshake happened; the judgement came after it
    expect(s.text()).toBe('');
  });

  it('the same server with the right certificate receives the request (the recorder works)', async () => {
    const s = await start(read('server.crt'), read('server.key'));
    const r = await runBuilt('leases', ['--kubeconfig', kubeconfig('right', s.port), '-t', '20']);
    expectContract(r, 'LEASES');
    await s.idle();
    expect(s.text()).toMatch(/^GET \/apis\/coordination\.k8s\.io\/v1\/namespaces\/kube-system\/leases\//);
    expect(s.text()).toContain(`Bearer ${TOKEN}`);
  });

  it('tls-server-name: a name on the certificate passes, another is refused before any byte', async () => {
    const s = await start(read('server.crt'), read('server.key'));
    const ok = await runBuilt('leases', ['--kubeconfig', kubeconfig('sni-ok', s.port, '    tls-server-name: kubernetes.default.svc\n'), '-t', '20']);
    await s.idle();
    expect(ok.firstLine).not.toMatch(/TLS verification/);
    expect(s.text()).toContain('GET /apis/coordination.k8s.io/');

    const wrong = await start(read('server.crt'), read('server.key'));
    const r = await runBuilt('leases', ['--kubeconfig', kubeconfig('sni-wrong', wrong.port, '    tls-server-name: k8s.example.com\n'), '-t', '20']);
    expectContract(r, 'LEASES');
    expect(r.firstLine).toMatch(/^K8S LEASES UNKNOWN - TLS verification of API server https:\/\/127\.0\.0\.1:\d+ failed \(ERR_TLS_CERT_ALTNAME_INVALID\)/);
    await wrong.idle();
    expect(wrong.text()).toBe('');
  });
});

describe('insecure-skip-tls-verify', () => {
  it('still skips verification: the server from another CA gets the request', async () => {
    const s = await start(fs.readFileSync(path.join(dir, 'impostor.crt')), fs.readFileSync(path.join(dir, 'impostor.key')));
    // Without a CA: with one, kubectl and k8s-nrpe refuse the kubeconfig (kubeconfig.test.ts).
    const file = kubeconfig('insecure', s.port, '    insecure-skip-tls-verify: true\n');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/^ {4}certificate-authority-data: .*\n/m, ''));
    const r = await runBuilt('leases', ['--kubeconfig', file, '-t', '20']);
    expectContract(r, 'LEASES');
    expect(r.firstLine).not.toMatch(/TLS verification/);
    await s.idle();
    expect(s.text()).toContain('GET /apis/coordination.k8s.io/');
  });
});

describe('an exec plugin\'s client certificate is verified the same way', () => {
  const execUser = () => {
    const cred = path.join(dir, 'cred.json');
    fs.writeFileSync(cred, JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential',
      status: { clientCertificateData: read('client.crt').toString(), clientKeyData: read('client.key').toString() } }));
    const script = path.join(dir, 'cert-plugin.sh');
    fs.writeFileSync(script, `#!/bin/sh\ncat ${cred}\n`, { mode: 0o755 });
    return `    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ${script}\n      interactiveMode: Never\n`;
  };

  it('refuses a server from another CA before any byte, and presents the plugin\'s certificate to the right one', async () => {
    const impostor = await start(fs.readFileSync(path.join(dir, 'impostor.crt')), fs.readFileSync(path.join(dir, 'impostor.key')));
    const r = await runBuilt('leases', ['--kubeconfig', kubeconfig('exec-impostor', impostor.port, '', execUser()), '-t', '20']);
    expectContract(r, 'LEASES');
    expect(r.firstLine).toMatch(/^K8S LEASES UNKNOWN - TLS verification of API server https:\/\/127\.0\.0\.1:\d+ failed/);
    await impostor.idle();
    expect(impostor.text()).toBe('');

    const right = await start(read('server.crt'), read('server.key'));
    await runBuilt('leases', ['--kubeconfig', kubeconfig('exec-right', right.port, '', execUser()), '-t', '20']);
    await right.idle();
    expect(right.text()).toContain('GET /apis/coordination.k8s.io/');
    expect(right.clientCerts).toContain('nagios');
  });
});

describe('judged as `openssl verify -purpose sslserver` judges it (and kubectl)', () => {
  const chainDir = tempDir('tls-chains');
  let chains: Record<ChainName, Chain>;
  beforeAll(() => { chains = makeChains(chainDir); }, 180000);
  const haveKubectl = fs.existsSync('/usr/bin/kubectl');

  // What OpenSSL says of each chain (the openssl CLI); the test fails if a chain is not made as meant.
  const expected: Record<ChainName, string> = {
    good: 'OK',
    'good-via-intermediate': 'OK',
    'good-rsa': 'OK',
    'ca-file-holds-intermediate': 'OK', // every certificate of the CA file is an anchor, as in client-go
    'other-ca': 'self-signed certificate in certificate chain',
    'pathlen-exceeded': 'path length constraint exceeded',
    'name-constraint-dns': 'permitted subtree violation',
    'name-constraint-ip': 'permitted subtree violation',
    'unknown-critical-extension': 'unhandled critical extension',
    'intermediate-client-auth-only': 'unsuitable certificate purpose',
    'sha1-leaf': 'CA signature digest algorithm too weak',
    'md5-leaf': 'CA signature digest algorithm too weak',
    expired: 'certificate has expired',
    'not-yet-valid': 'certificate is not yet valid',
    'wrong-host': 'hostname mismatch',
    'look-alike-self-signed': 'self-signed certificate in certificate chain',
  };
  /** Node's name for what OpenSSL said (UNSPECIFIED: Node has no name, the line gives OpenSSL's words). */
  const nodeWords: Record<string, string> = {
    'self-signed certificate in certificate chain': 'SELF_SIGNED_CERT_IN_CHAIN',
    'path length constraint exceeded': 'PATH_LENGTH_EXCEEDED',
    'unsuitable certificate purpose': 'INVALID_PURPOSE',
    'certificate has expired': 'CERT_HAS_EXPIRED',
    'certificate is not yet valid': 'CERT_NOT_YET_VALID',
    'hostname mismatch': 'ERR_TLS_CERT_ALTNAME_INVALID',
  };

  for (const name of Object.keys(expected) as ChainName[]) {
    it(name, async () => {
      const c = chains[name];
      const verdict = opensslVerify(chainDir, c);
      expect(verdict).toBe(expected[name]);
      const s = await start(presentedPem(chainDir, c), fs.readFileSync(path.join(chainDir, c.key)));
      const cfg = kubeconfig(`chain-${name}`, s.port, c.serverName ? `    tls-server-name: ${c.serverName}\n` : '', undefined, fs.readFileSync(path.join(chainDir, c.ca)));
      // -t generous: a busy machine must not turn a verdict into a timeout (a refused chain ends at the handshake).
      const r = await runBuilt('leases', ['--kubeconfig', cfg, '-t', '60']);
      expectContract(r, 'LEASES');
      await s.idle();
      if (verdict === 'OK') {
        expect(r.firstLine).not.toMatch(/TLS verification/);
        expect(s.text()).toContain(`Bearer ${TOKEN}`);
      } else {
        expect(r.code).toBe(3);
        expect(r.firstLine).toContain(`failed (${nodeWords[verdict] ?? verdict}): check certificate-authority-data`);
        expect(s.text()).toBe('');
      }
      if (haveKubectl) {
        // kubectl (client-go, Go's crypto/x509) on the same server: it refuses the TLS handshake exactly when we do.
        // Not spawnSync: the recording server lives in this process and must answer the handshake.
        const stderr = await new Promise<string>((resolve) => execFile('/usr/bin/kubectl', ['--kubeconfig', cfg, 'get', '--raw', '/livez', '--request-timeout=20s'],
          { env: { PATH: '/usr/bin:/bin', HOME: chainDir } }, (_e, _out, err) => resolve(String(err))));
        expect(/x509:|tls:/.test(stderr), stderr).toBe(verdict !== 'OK');
      }
    }, 60000);
  }
});
