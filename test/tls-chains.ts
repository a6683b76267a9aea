// Certificate chains made by the real openssl CLI, each with the verdict
// `openssl verify -purpose sslserver` gives it, so tests can show that the
// checks judge a server exactly as OpenSSL does (they do not judge at all:
// Node's TLS hands the chain to OpenSSL, see docs/security.md).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const SAN = 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc';
const LEAF = ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature', SAN, 'extendedKeyUsage=serverAuth'];
const CA = ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign'];
/** How many self-signed look-alike CA certificates the path-explosion chain carries. */
export const LOOK_ALIKES = 9;

export interface Chain {
  /** What the server sends, leaf first (PEM files in the directory). */
  presented: string[];
  /** The kubeconfig's certificate-authority file. */
  ca: string;
  /** tls-server-name in the kubeconfig (otherwise the server is reached as 127.0.0.1). */
  serverName?: string;
  /** The leaf's key. */
  key: string;
}

export type ChainName =
  | 'good' | 'good-via-intermediate' | 'other-ca' | 'pathlen-exceeded' | 'name-constraint-dns' | 'name-constraint-ip'
  | 'unknown-critical-extension' | 'intermediate-client-auth-only' | 'sha1-leaf' | 'md5-leaf' | 'good-rsa' | 'expired' | 'not-yet-valid'
  | 'wrong-host' | 'ca-file-holds-intermediate' | 'look-alike-self-signed';

/** Make every chain in `dir` (about 10 s of openssl on a quiet machine). */
export function makeChains(dir: string): Record<ChainName, Chain> {
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ext = (name: string, lines: string[]) => { fs.writeFileSync(path.join(dir, `${name}.ext`), `${lines.join('\n')}\n`); return `${name}.ext`; };
  const root = (name: string) => openssl(['req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '3650', '-subj', `/CN=${name}`,
    ...CA.flatMap((e) => ['-addext', e])]);
  fs.writeFileSync(path.join(dir, 'ca.cnf'), ['[ca]', 'default_ca = d', '[d]', 'database = index.txt', 'new_certs_dir = .', 'serial = serial',
    'policy = any', 'unique_subject = no', 'copy_extensions = none', '[any]', 'commonName = supplied', ''].join('\n'));
  /** `name` signed by `issuer`; `openssl ca` for dates and digests (3.0's x509 -req cannot set dates). */
  const signed = (name: string, issuer: string, lines: string[], o: { dates?: [string, string]; md?: string; key?: string } = {}) => {
    if (!o.key) openssl(['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
    else openssl(['req', '-new', '-key', o.key, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
    fs.writeFileSync(path.join(dir, 'index.txt'), '');
    fs.writeFileSync(path.join(dir, 'serial'), `${(1000 + Math.floor(Math.random() * 1e6)).toString(16).padStart(6, '0')}\n`);
    openssl(['ca', '-batch', '-config', 'ca.cnf', '-cert', `${issuer}.crt`, '-keyfile', `${issuer}.key`, '-in', `${name}.csr`, '-out', `${name}.crt`,
      '-extfile', ext(name, lines), '-md', o.md ?? 'sha256', '-notext',
      ...(o.dates ? ['-startdate', o.dates[0], '-enddate', o.dates[1]] : ['-days', '3650'])]);
  };
  const chain = (presented: string[], ca = 'ca.crt', serverName?: string): Chain => ({ presented: presented.map((p) => `${p}.crt`), ca, serverName, key: `${presented[0]}.key` });

  root('ca');
  root('other-ca');
  // MD5 has no ECDSA signature: the weak-digest leaves come from an RSA CA.
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'rsa-ca.key', '-out', 'rsa-ca.crt', '-days', '3650', '-subj', '/CN=rsa-ca',
    ...CA.flatMap((e) => ['-addext', e])]);
  signed('leaf', 'ca', LEAF);
  signed('inter', 'ca', CA);
  signed('leaf-via-inter', 'inter', LEAF);
  signed('other-leaf', 'other-ca', LEAF);
  // pathlen:0 allows no CA below it.
  signed('inter-pathlen0', 'ca', ['basicConstraints=critical,CA:TRUE,pathlen:0', 'keyUsage=critical,keyCertSign,cRLSign']);
  signed('inter-below-pathlen0', 'inter-pathlen0', CA);
  signed('leaf-pathlen', 'inter-below-pathlen0', LEAF);
  // Name constraints that the leaf's names (DNS localhost, IP 127.0.0.1) break.
  signed('inter-nc-dns', 'ca', [...CA, 'nameConstraints=critical,permitted;DNS:example.com,permitted;IP:127.0.0.0/255.0.0.0']);
  signed('leaf-nc-dns', 'inter-nc-dns', LEAF);
  signed('inter-nc-ip', 'ca', [...CA, 'nameConstraints=critical,permitted;DNS:localhost,permitted;DNS:kubernetes.default.svc,permitted;IP:10.0.0.0/255.0.0.0']);
  signed('leaf-nc-ip', 'inter-nc-ip', LEAF);
  signed('leaf-critical', 'ca', [...LEAF, '1.3.6.1.4.1.55555.1=critical,ASN1:NULL']);
  signed('inter-client-auth', 'ca', [...CA, 'extendedKeyUsage=clientAuth']);
  signed('leaf-via-client-auth', 'inter-client-auth', LEAF);
  signed('leaf-sha1', 'rsa-ca', LEAF, { md: 'sha1' });
  signed('leaf-md5', 'rsa-ca', LEAF, { md: 'md5' });
  signed('leaf-rsa', 'rsa-ca', LEAF);
  signed('leaf-expired', 'ca', LEAF, { dates: ['20200101000000Z', '20200102000000Z'] });
  signed('leaf-future', 'ca', LEAF, { dates: ['20990101000000Z', '20990102000000Z'] });
  // Self-signed CA certificates sharing one subject and key, and a leaf from that key: nothing the kubeconfig trusts.
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', 'look-alike.key']);
  const lookAlikes: string[] = [];
  for (let i = 0; i < LOOK_ALIKES; i++) {
    openssl(['req', '-x509', '-key', 'look-alike.key', '-out', `look-alike-${i}.crt`, '-days', '3650', '-subj', '/CN=look-alike', '-set_serial', String(100 + i),
      ...CA.flatMap((e) => ['-addext', e])]);
    lookAlikes.push(`look-alike-${i}`);
  }
  fs.copyFileSync(path.join(dir, 'look-alike-0.crt'), path.join(dir, 'look-alike.crt'));
  signed('leaf-look-alike', 'look-alike', LEAF);

  return {
    good: chain(['leaf']),
    'good-via-intermediate': chain(['leaf-via-inter', 'inter']),
    'other-ca': chain(['other-leaf', 'other-ca']),
    'pathlen-exceeded': chain(['leaf-pathlen', 'inter-below-pathlen0', 'inter-pathlen0']),
    'name-constraint-dns': chain(['leaf-nc-dns', 'inter-nc-dns'], 'ca.crt', 'localhost'),
    'name-constraint-ip': chain(['leaf-nc-ip', 'inter-nc-ip']),
    'unknown-critical-extension': chain(['leaf-critical']),
    'intermediate-client-auth-only': chain(['leaf-via-client-auth', 'inter-client-auth']),
    'sha1-leaf': chain(['leaf-sha1'], 'rsa-ca.crt'),
    'md5-leaf': chain(['leaf-md5'], 'rsa-ca.crt'),
    'good-rsa': chain(['leaf-rsa'], 'rsa-ca.crt'),
    expired: chain(['leaf-expired']),
    'not-yet-valid': chain(['leaf-future']),
    'wrong-host': chain(['leaf'], 'ca.crt', 'k8s.example.com'),
    'ca-file-holds-intermediate': chain(['leaf-via-inter', 'inter'], 'inter.crt'),
    'look-alike-self-signed': chain(['leaf-look-alike', ...lookAlikes]),
  };
}

/** The server's certificate file: the presented chain, leaf first. */
export function presentedPem(dir: string, c: Chain): Buffer {
  return Buffer.concat(c.presented.map((f) => fs.readFileSync(path.join(dir, f))));
}

/**
 * `openssl verify -purpose sslserver` on the chain, with the name the client
 * checks, every CA-file certificate a trust anchor (-partial_chain, as
 * client-go and allowPartialTrustChain) and TLS's default security level 1
 * (-auth_level 1: the level at which a TLS client refuses SHA-1 and MD5).
 * Its verdict: 'OK', or OpenSSL's error text ("certificate has expired").
 */
export function opensslVerify(dir: string, c: Chain): string {
  const untrusted = c.presented.slice(1);
  if (untrusted.length) fs.writeFileSync(path.join(dir, 'untrusted.pem'), Buffer.concat(untrusted.map((f) => fs.readFileSync(path.join(dir, f)))));
  const r = spawnSync('openssl', ['verify', '-purpose', 'sslserver', '-partial_chain', '-auth_level', '1', '-CAfile', c.ca,
    ...(untrusted.length ? ['-untrusted', 'untrusted.pem'] : []),
    ...(c.serverName ? ['-verify_hostname', c.serverName] : ['-verify_ip', '127.0.0.1']), c.presented[0]!], { cwd: dir, encoding: 'utf8' });
  if (r.status === 0) return 'OK';
  const m = /error \d+ at \d+ depth lookup: (.+)/.exec(r.stdout + r.stderr);
  return m ? m[1]!.trim() : `failed: ${(r.stdout + r.stderr).trim().split('\n').pop()}`;
}
