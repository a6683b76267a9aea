// The API server's certificate is judged before the HTTP layer gets the
// socket (lib/kube/tls-verify.ts): a server that cannot prove itself never
// receives a request byte, so never the bearer token. The built binary meets
// a plain TLS server on 127.0.0.1 that records what it receives.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { parseCaBundle, verifyingAgent } from '../../lib/kube/tls-verify.js';
import { expectContract, runBuilt, tempDir } from '../harness.js';

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

function kubeconfig(name: string, port: number, extra = '', user = `    token: ${TOKEN}\n`): string {
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, `apiVersion: v1\nkind: Config\ncurrent-context: t\nclusters:\n- name: t\n  cluster:\n    server: https://127.0.0.1:${port}\n` +
    `    certificate-authority-data: ${read('ca.crt').toString('base64')}\n${extra}users:\n- name: u\n  user:\n${user}` +
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
    expect(r.firstLine).toMatch(/^K8S LEASES UNKNOWN - TLS verification of API server https:\/\/127\.0\.0\.1:\d+ failed \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN)\)/);
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

describe('an exec plugin\'s client certificate gets the same verifying agent', () => {
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

describe('the verifying agent', () => {
  const anchors = () => parseCaBundle(read('ca.crt'));
  const get = (agent: https.Agent, port: number) => new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      const reused = (res.socket as tls.TLSSocket).isSessionReused();
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, reused }));
    });
    req.on('error', reject);
  });

  it('counts connections still in their handshake towards maxSockets', async () => {
    const s = await start(read('server.crt'), read('server.key'));
    const agent = verifyingAgent({ keepAlive: true, maxSockets: 3, secureContext: tls.createSecureContext({ ca: [] }) }, anchors());
    try {
      const answers = await Promise.all(Array.from({ length: 12 }, () => get(agent, s.port)));
      expect(answers.map((a) => a.status)).toEqual(Array(12).fill(404));
      expect(s.connections).toBeLessThanOrEqual(3);
    } finally {
      agent.destroy();
    }
  });

  it('verifies every new connection: a full handshake each time, no session resumed', async () => {
    const s = await start(read('server.crt'), read('server.key'));
    const agent = verifyingAgent({ keepAlive: true, maxSockets: 1, secureContext: tls.createSecureContext({ ca: [] }) }, anchors());
    try {
      expect(await get(agent, s.port)).toEqual({ status: 404, reused: false });
      expect(await get(agent, s.port)).toEqual({ status: 404, reused: false }); // keep-alive: the same verified socket
      expect(s.connections).toBe(1);
      for (const list of Object.values(agent.freeSockets)) for (const sock of list ?? []) sock.destroy();
      await new Promise((r) => setTimeout(r, 50));
      expect(await get(agent, s.port)).toEqual({ status: 404, reused: false });
      expect(s.connections).toBe(2);
    } finally {
      agent.destroy();
    }
  });
});
