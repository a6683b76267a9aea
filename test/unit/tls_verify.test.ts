// The API server certificate judgement (lib/kube/tls-verify.ts) on
// certificates made by the real openssl at test time: the cases OpenSSL's
// own verification would catch, with OpenSSL's code names.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromNetwork } from '../../lib/kube/errors.js';
import { buildPath, parseCaBundle, verifyServerChain, TlsVerifyError } from '../../lib/kube/tls-verify.js';
import { tempDir } from '../harness.js';

const dir = tempDir('tls-verify');
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const SAN = 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc';
const LEAF = ['basicConstraints=CA:FALSE', SAN, 'extendedKeyUsage=serverAuth'];
const CA_EXT = ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign'];

const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });

function rootCa(name: string): void {
  openssl(['req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '3650', '-subj', `/CN=${name}`,
    ...CA_EXT.flatMap((e) => ['-addext', e])]);
}

/** A certificate for `name` signed by `issuer`, with these extensions; dates only through `openssl ca` (OpenSSL 3.0's x509 cannot set them). */
function signed(name: string, issuer: string, ext: string[], dates?: [string, string]): void {
  fs.writeFileSync(path.join(dir, `${name}.ext`), `${ext.join('\n')}\n`);
  openssl(['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
  if (!dates) {
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`, '-CAcreateserial',
      '-out', `${name}.crt`, '-days', '3650', '-extfile', `${name}.ext`]);
    return;
  }
  fs.writeFileSync(path.join(dir, 'index.txt'), '');
  fs.writeFileSync(path.join(dir, 'serial'), '1000\n');
  fs.writeFileSync(path.join(dir, 'ca.cnf'), ['[ca]', 'default_ca = d', '[d]', 'database = index.txt', 'new_certs_dir = .', 'serial = serial',
    'default_md = sha256', 'policy = any', 'unique_subject = no', '[any]', 'commonName = supplied', ''].join('\n'));
  openssl(['ca', '-batch', '-config', 'ca.cnf', '-cert', `${issuer}.crt`, '-keyfile', `${issuer}.key`, '-in', `${name}.csr`, '-out', `${name}.crt`,
    '-extfile', `${name}.ext`, '-startdate', dates[0], '-enddate', dates[1], '-notext']);
}

const pem = (name: string) => fs.readFileSync(path.join(dir, `${name}.crt`));
const x = (name: string) => new X509Certificate(pem(name));
/** The code verifyServerChain throws, or 'ok'. */
function verdict(presented: string[], anchors: string[], host = '127.0.0.1'): string {
  try {
    verifyServerChain(presented.map(x), anchors.map(x), host);
    return 'ok';
  } catch (e) {
    expect(e).toBeInstanceOf(TlsVerifyError);
    return (e as TlsVerifyError).code;
  }
}

beforeAll(() => {
  rootCa('ca');
  rootCa('other-ca');
  signed('leaf', 'ca', LEAF);
  signed('inter', 'ca', CA_EXT);
  signed('leaf-via-inter', 'inter', LEAF);
  signed('not-a-ca', 'ca', ['basicConstraints=CA:FALSE']);
  signed('leaf-via-not-a-ca', 'not-a-ca', LEAF);
  signed('expired', 'ca', LEAF, ['20200101000000Z', '20200102000000Z']);
  signed('not-yet-valid', 'ca', LEAF, ['20990101000000Z', '20990102000000Z']);
  signed('client-only', 'ca', ['basicConstraints=CA:FALSE', SAN, 'extendedKeyUsage=clientAuth']);
  signed('no-eku', 'ca', ['basicConstraints=CA:FALSE', SAN]);
  signed('other-leaf', 'other-ca', LEAF);
}, 120000);

describe('verifyServerChain', () => {
  it('accepts a leaf signed by the CA, with or without the CA in the presented chain', () => {
    expect(verdict(['leaf'], ['ca'])).toBe('ok');
    expect(verdict(['leaf', 'ca'], ['ca'])).toBe('ok');
    expect(verdict(['no-eku'], ['ca'])).toBe('ok');
  });

  it('builds the path through an intermediate the server presents, and only then', () => {
    expect(verdict(['leaf-via-inter', 'inter'], ['ca'])).toBe('ok');
    expect(verdict(['leaf-via-inter', 'inter', 'ca'], ['ca'])).toBe('ok');
    expect(buildPath(x('leaf-via-inter'), [x('ca'), x('inter')], [x('ca')])?.map((c) => c.subject)).toEqual(['CN=leaf-via-inter', 'CN=inter', 'CN=ca']);
    expect(verdict(['leaf-via-inter'], ['ca'])).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('rejects a chain from another CA with the code OpenSSL gives', () => {
    expect(verdict(['leaf', 'ca'], ['other-ca'])).toBe('SELF_SIGNED_CERT_IN_CHAIN');
    expect(verdict(['leaf'], ['other-ca'])).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(verdict(['other-leaf'], ['ca'])).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(verdict(['ca'], ['other-ca'])).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(verdict(['leaf-via-inter', 'inter'], ['other-ca'])).toBe('UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
  });

  it('rejects an intermediate that is not a CA', () => {
    expect(verdict(['leaf-via-not-a-ca', 'not-a-ca'], ['ca'])).toBe('INVALID_CA');
  });

  it('judges validity by the local clock, on every certificate of the path', () => {
    expect(verdict(['expired'], ['ca'])).toBe('CERT_HAS_EXPIRED');
    expect(verdict(['not-yet-valid'], ['ca'])).toBe('CERT_NOT_YET_VALID');
    const inTheFuture = Date.parse(x('ca').validTo) + 86400_000;
    expect(() => verifyServerChain([x('leaf')], [x('ca')], '127.0.0.1', inTheFuture)).toThrow(expect.objectContaining({ code: 'CERT_HAS_EXPIRED' }));
  });

  it('wants serverAuth when the leaf names its extended key usage', () => {
    expect(verdict(['client-only'], ['ca'])).toBe('INVALID_PURPOSE');
  });

  it('checks the name the server was reached by: IP SANs, DNS names, tls-server-name', () => {
    expect(verdict(['leaf'], ['ca'], 'kubernetes.default.svc')).toBe('ok');
    expect(verdict(['leaf'], ['ca'], 'localhost')).toBe('ok');
    expect(verdict(['leaf'], ['ca'], '10.0.0.1')).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(verdict(['leaf'], ['ca'], 'k8s.example.com')).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('trusts every certificate of a CA file that holds several', () => {
    const bundle = Buffer.concat([pem('other-ca'), pem('ca')]);
    const anchors = parseCaBundle(bundle);
    expect(anchors.map((a) => a.subject)).toEqual(['CN=other-ca', 'CN=ca']);
    expect(() => verifyServerChain([x('leaf')], anchors, '127.0.0.1')).not.toThrow();
    expect(() => verifyServerChain([x('other-leaf')], anchors, '127.0.0.1')).not.toThrow();
    expect(() => parseCaBundle('not a certificate')).toThrow(TlsVerifyError);
  });

  it('gives codes errors.ts words as a TLS verification failure', () => {
    const codes = new Set<string>();
    for (const [presented, anchors, host] of [
      [['leaf', 'ca'], ['other-ca']], [['leaf'], ['other-ca']], [['ca'], ['other-ca']], [['leaf-via-inter', 'inter'], ['other-ca']],
      [['leaf-via-not-a-ca', 'not-a-ca'], ['ca']], [['expired'], ['ca']], [['not-yet-valid'], ['ca']], [['client-only'], ['ca']],
      [['leaf'], ['ca'], 'k8s.example.com'],
    ] as [string[], string[], string?][]) {
      try {
        verifyServerChain(presented.map(x), anchors.map(x), host ?? '127.0.0.1');
      } catch (e) {
        codes.add((e as TlsVerifyError).code);
        const line = fromNetwork(e as NodeJS.ErrnoException, { verb: 'get', resource: 'leases' }, 'https://127.0.0.1:6443').message;
        expect(line).toBe(`TLS verification of API server https://127.0.0.1:6443 failed (${(e as TlsVerifyError).code}): check certificate-authority-data and the server name in the kubeconfig`);
      }
    }
    expect(codes.size).toBe(9);
  });
});
