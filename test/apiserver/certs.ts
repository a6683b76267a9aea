// Certificates and kubeconfigs for the double, made with the real openssl:
// a cluster CA, the server certificate for 127.0.0.1, a client certificate,
// an expired client certificate and an unrelated CA (for TLS failures).
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Make the files unless a previous run left them (tests copy them in: openssl is slow). */
export function ensureCerts(dir: string): void {
  const need = ['ca.crt', 'ca.key', 'server.crt', 'server.key', 'client.crt', 'client.key', 'expired.crt', 'expired.key', 'badca.crt', 'token'];
  if (need.every((f) => fs.existsSync(path.join(dir, f)))) return;
  openssl(dir, ['req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '3650', '-subj', '/CN=k8s-nrpe-test-ca']);
  openssl(dir, ['req', '-x509', ...EC, '-keyout', 'badca.key', '-out', 'badca.crt', '-days', '3650', '-subj', '/CN=some-other-ca']);
  fs.writeFileSync(path.join(dir, 'server.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\n');
  openssl(dir, ['req', ...EC, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=kube-apiserver']);
  openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '3650', '-extfile', 'server.cnf']);
  openssl(dir, ['req', ...EC, '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/O=k8s-nrpe/CN=nagios']);
  openssl(dir, ['x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt', '-days', '3650']);
  // An expired client certificate: `openssl ca` is the one subcommand of OpenSSL 3.0 that sets past dates.
  openssl(dir, ['req', ...EC, '-keyout', 'expired.key', '-out', 'expired.csr', '-subj', '/O=k8s-nrpe/CN=expired-nagios']);
  fs.writeFileSync(path.join(dir, 'index.txt'), '');
  fs.writeFileSync(path.join(dir, 'ca-sign.cnf'), [
    '[ca]', 'default_ca = CA_default', '[CA_default]', 'database = index.txt', 'new_certs_dir = .', 'serial = ca-sign.srl',
    'default_md = sha256', 'policy = policy_any', 'unique_subject = no', '[policy_any]', 'commonName = supplied', 'organizationName = optional', '',
  ].join('\n'));
  fs.writeFileSync(path.join(dir, 'ca-sign.srl'), '1000\n');
  openssl(dir, ['ca', '-batch', '-config', 'ca-sign.cnf', '-cert', 'ca.crt', '-keyfile', 'ca.key', '-in', 'expired.csr', '-out', 'expired.crt',
    '-startdate', '20200101000000Z', '-enddate', '20200102000000Z', '-notext']);
  // base64url may start with '-' (1 time in 64): a fixed first letter keeps every run's token the same
  // kind; make-kubeconfig.test.ts gives its double a token that starts with '-' on purpose.
  fs.writeFileSync(path.join(dir, 'token'), `t${crypto.randomBytes(24).toString('base64url')}`);
}

const b64 = (dir: string, f: string) => fs.readFileSync(path.join(dir, f)).toString('base64');

/**
 * Kubeconfigs with inline data (a nagios user can read them without the
 * double's private directory): cert, token, expired cert, wrong CA, wrong
 * token, and one with several contexts.
 */
export function writeKubeconfigs(dir: string, url: string): void {
  const token = fs.readFileSync(path.join(dir, 'token'), 'utf8').trim();
  const cluster = (name: string, server: string, ca = 'ca.crt') =>
    `- name: ${name}\n  cluster:\n    server: ${server}\n    certificate-authority-data: ${b64(dir, ca)}\n`;
  const certUser = (name: string, crt: string, key: string) =>
    `- name: ${name}\n  user:\n    client-certificate-data: ${b64(dir, crt)}\n    client-key-data: ${b64(dir, key)}\n`;
  const tokenUser = (name: string, t: string) => `- name: ${name}\n  user:\n    token: ${t}\n`;
  const ctx = (name: string, c: string, u: string) => `- name: ${name}\n  context:\n    cluster: ${c}\n    user: ${u}\n`;
  const config = (clusters: string, users: string, contexts: string, current: string) =>
    `apiVersion: v1\nkind: Config\npreferences: {}\ncurrent-context: ${current}\nclusters:\n${clusters}users:\n${users}contexts:\n${contexts}`;
  const single = (user: string, ca = 'ca.crt') => config(cluster('test', url, ca), user, ctx('test', 'test', 'nagios'), 'test');
  const files: Record<string, string> = {
    cert: single(certUser('nagios', 'client.crt', 'client.key')),
    token: single(tokenUser('nagios', token)),
    expired: single(certUser('nagios', 'expired.crt', 'expired.key')),
    badca: single(certUser('nagios', 'client.crt', 'client.key'), 'badca.crt'),
    badtoken: single(tokenUser('nagios', `${token}x`)),
    multi: config(
      cluster('test', url) + cluster('gone', 'https://127.0.0.1:1'),
      certUser('nagios', 'client.crt', 'client.key'),
      ctx('test', 'test', 'nagios') + ctx('gone', 'gone', 'nagios'),
      'gone',
    ),
  };
  for (const [kind, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, `kubeconfig-${kind}.yaml`), text, { mode: 0o644 });
}
