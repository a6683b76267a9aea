// The connection's TLS as kubeconfig.ts sets it up, in-process: OpenSSL (via
// Node) judges every chain the openssl CLI made, with the verdict `openssl
// verify -purpose sslserver` gives it, and errors.ts words each failure.
// No code of ours judges a chain (docs/security.md).
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../../lib/kube/client.js';
import { connect } from '../../lib/kube/kubeconfig.js';
import { tempDir } from '../harness.js';
import { makeChains, opensslVerify, presentedPem, type Chain, type ChainName } from '../tls-chains.js';

const dir = tempDir('tls-verify');
let chains: Record<ChainName, Chain>;
const servers: tls.Server[] = [];
beforeAll(() => { chains = makeChains(dir); }, 180000);
afterAll(() => { for (const s of servers) s.close(); });

/** A TLS server with this chain, answering 200 "ok" to anything. */
async function serve(c: Chain): Promise<number> {
  const server = tls.createServer({ cert: presentedPem(dir, c), key: fs.readFileSync(path.join(dir, c.key)) }, (s) => {
    s.on('data', () => s.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok'));
    s.on('error', () => {});
  });
  server.on('tlsClientError', () => {});
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

function kubeconfig(name: string, port: number, ca: Buffer | undefined, extra = ''): string {
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, `apiVersion: v1\nkind: Config\ncurrent-context: t\nclusters:\n- name: t\n  cluster:\n    server: https://127.0.0.1:${port}\n` +
    `${ca ? `    certificate-authority-data: ${ca.toString('base64')}\n` : ''}${extra}users:\n- name: u\n  user:\n    token: t0ken\n` +
    'contexts:\n- name: t\n  context:\n    cluster: t\n    user: u\n');
  return file;
}

/** 'OK', or the error line the check would print. */
async function judge(name: string, c: Chain, extra = '', withCa = true): Promise<string> {
  const port = await serve(c);
  const cfg = kubeconfig(name, port, withCa ? fs.readFileSync(path.join(dir, c.ca)) : undefined, (c.serverName ? `    tls-server-name: ${c.serverName}\n` : '') + extra);
  const client = new KubeClient(await connect(cfg, undefined, {}), new AbortController().signal);
  try {
    const r = await client.getPath('/livez');
    return r.body === 'ok' ? 'OK' : `unexpected ${r.status}`;
  } catch (e) {
    return (e as Error).message;
  } finally {
    client.close();
  }
}

describe('every chain as OpenSSL judges it', () => {
  it('accepts exactly what `openssl verify` accepts, refusing the rest with OpenSSL\'s reason', async () => {
    const seen: Record<string, string> = {};
    for (const name of Object.keys(chains) as ChainName[]) {
      const c = chains[name];
      const verdict = opensslVerify(dir, c);
      const line = await judge(name, c);
      seen[name] = verdict;
      if (verdict === 'OK') expect(line, name).toBe('OK');
      else {
        expect(line, name).toMatch(/^TLS verification of API server https:\/\/127\.0\.0\.1:\d+ failed \(.+\): check certificate-authority-data and the server name in the kubeconfig$/);
        // Node's code for the reasons it names, OpenSSL's own words for the others.
        const named: Record<string, string> = {
          'self-signed certificate in certificate chain': 'SELF_SIGNED_CERT_IN_CHAIN', 'path length constraint exceeded': 'PATH_LENGTH_EXCEEDED',
          'unsuitable certificate purpose': 'INVALID_PURPOSE', 'certificate has expired': 'CERT_HAS_EXPIRED',
          'certificate is not yet valid': 'CERT_NOT_YET_VALID', 'hostname mismatch': 'ERR_TLS_CERT_ALTNAME_INVALID',
        };
        expect(line, name).toContain(`failed (${named[verdict] ?? verdict})`);
      }
    }
    // The chains are what they claim to be: four good, the rest refused by OpenSSL itself.
    expect(Object.entries(seen).filter(([, v]) => v === 'OK').map(([k]) => k).sort())
      .toEqual(['ca-file-holds-intermediate', 'good', 'good-rsa', 'good-via-intermediate']);
  }, 120000);

  it('insecure-skip-tls-verify verifies nothing: a server from another CA answers', async () => {
    const c = chains['other-ca'];
    // Without a CA: with one, kubectl and k8s-nrpe refuse the kubeconfig (kubeconfig.test.ts).
    expect(await judge('insecure', c, '    insecure-skip-tls-verify: true\n', false)).toBe('OK');
  });

  it('trusts every certificate of a CA file that holds several', async () => {
    fs.writeFileSync(path.join(dir, 'two-cas.crt'), Buffer.concat([fs.readFileSync(path.join(dir, 'other-ca.crt')), fs.readFileSync(path.join(dir, 'ca.crt'))]));
    expect(await judge('bundle-a', { ...chains.good, ca: 'two-cas.crt' })).toBe('OK');
    expect(await judge('bundle-b', { ...chains['other-ca'], ca: 'two-cas.crt' })).toBe('OK');
  });

  it('refuses a CA that holds no certificate when loading the kubeconfig, as client-go does', async () => {
    const cfg = kubeconfig('no-ca', 1, Buffer.from('not a certificate'));
    await expect(connect(cfg, undefined, {})).rejects.toThrow(/cannot load credentials for user 'u': invalid client certificate, key or certificate authority/);
  });
});
