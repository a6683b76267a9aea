// Certificates a microk8s node uses, read with Node's own X509Certificate:
// PEM files in the certs directory, the client certificates embedded in the
// credentials kubeconfigs, and the API server's serving certificate as a TLS
// client sees it. No judgement here: check_k8s_certs decides.
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { PluginError } from '../plugin/errors.js';
import { registerSecret } from '../plugin/sanitize.js';

export const DEFAULT_CERTS_DIR = '/var/snap/microk8s/current/certs';
export const DEFAULT_KUBECONFIG_GLOB = '/var/snap/microk8s/current/credentials/*.config';

/** What the check needs of one certificate; never the key, never the PEM. */
export interface CertInfo {
  subject: string;
  issuer: string;
  /** epoch ms */
  notBefore: number;
  notAfter: number;
  /** SHA-256 fingerprint, for telling two certificates with one name apart (-v). */
  fingerprint: string;
}

/** One place certificates come from: a file, one user of a kubeconfig, or a TLS server. */
export interface CertSource {
  kind: 'file' | 'kubeconfig' | 'server';
  /** Where: the file path, 'FILE user NAME', or 'HOST:PORT'. */
  where: string;
  /** The perfdata label before it is made unique: 'server', 'kc_kubelet', 'tls_127.0.0.1_16443'. */
  label: string;
  certs: CertInfo[];
  /** Why no certificate could be read from it (unreadable, not a certificate, no answer). */
  error?: string;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

function info(c: X509Certificate): CertInfo {
  return {
    subject: c.subject.replace(/\n/g, ', '),
    issuer: c.issuer.replace(/\n/g, ', '),
    notBefore: Date.parse(c.validFrom),
    notAfter: Date.parse(c.validTo),
    fingerprint: c.fingerprint256,
  };
}

/**
 * Every certificate in a PEM text (a chain gives several), or the one DER
 * certificate. Throws when there is none: the message never quotes the data.
 */
export function parseCertificates(data: Buffer): CertInfo[] {
  const text = data.toString('latin1');
  const blocks = text.match(PEM_CERT);
  if (blocks) {
    return blocks.map((b, i) => {
      try {
        return info(new X509Certificate(b));
      } catch {
        throw new Error(`PEM block ${i + 1} is not a valid certificate`);
      }
    });
  }
  if (/-----BEGIN /.test(text)) throw new Error(`holds no certificate (${/-----BEGIN ([A-Z0-9 ]+)-----/.exec(text)?.[1] ?? 'other PEM'})`);
  try {
    return [info(new X509Certificate(data))];
  } catch {
    throw new Error(data.length ? 'not a PEM or DER certificate' : 'empty file');
  }
}

function readError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied (microk8s makes it readable by group microk8s: see docs/security.md)';
  if (code === 'EISDIR') return 'a directory, not a file';
  if (code === 'ENOENT') return 'vanished while being read';
  return code ?? 'cannot be read';
}

const stem = (file: string, ext: string) => path.basename(file, ext);

/** One source per regular file (or symlink) named *.crt in dir, sorted by name; the dir itself must be readable. */
export function readCertsDir(dir: string): CertSource[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.crt')).sort();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new PluginError(`certificate directory ${dir} not found (not a microk8s node? --certs-dir names another)`);
    throw new PluginError(`cannot list certificate directory ${dir}: ${readError(e)}`);
  }
  return names.map((n) => {
    const file = path.join(dir, n);
    const source: CertSource = { kind: 'file', where: file, label: stem(n, '.crt'), certs: [] };
    try {
      source.certs = parseCertificates(fs.readFileSync(file));
    } catch (e) {
      source.error = (e as NodeJS.ErrnoException).code ? readError(e) : (e as Error).message;
    }
    return source;
  });
}

/**
 * Files matching a glob whose wildcards (* ?) are in the file name only:
 * '/var/snap/microk8s/current/credentials/*.config'. A missing directory
 * matches nothing.
 */
export function globFiles(pattern: string): { dir: string; files: string[] } {
  const dir = path.dirname(pattern);
  const base = path.basename(pattern);
  if (/[*?[]/.test(dir)) throw new PluginError(`--kubeconfig-glob '${pattern}': wildcards only in the file name`);
  const re = new RegExp(`^${base.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { dir, files: [] };
    throw new PluginError(`cannot list ${dir} for --kubeconfig-glob: ${readError(e)}`);
  }
  return { dir, files: names.filter((n) => re.test(n) && !n.startsWith('.')).sort().map((n) => path.join(dir, n)) };
}

/**
 * The client certificates of a kubeconfig's users: client-certificate-data
 * (base64 PEM) or client-certificate (a file, relative to the kubeconfig).
 * Token users carry no certificate and give no source. Read with js-yaml,
 * as lib/kube/kubeconfig.ts reads kubeconfigs; tokens and keys are left
 * untouched and registered as secrets, so no message can carry them.
 */
export async function readKubeconfigCerts(file: string): Promise<CertSource[]> {
  const label = `kc_${stem(file, path.extname(file))}`;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return [{ kind: 'kubeconfig', where: file, label, certs: [], error: readError(e) }];
  }
  const yaml = await import('js-yaml');
  let doc: unknown;
  try {
    doc = yaml.load(text);
  } catch (e) {
    // YAML errors quote lines, which may hold a token: the position only.
    const mark = (e as { mark?: { line?: number } }).mark;
    return [{ kind: 'kubeconfig', where: file, label, certs: [], error: `not a valid kubeconfig${mark?.line !== undefined ? ` (line ${mark.line + 1})` : ''}` }];
  }
  type Entry = { name?: unknown; user?: Record<string, unknown> };
  const entries = (doc && typeof doc === 'object' && Array.isArray((doc as { users?: unknown }).users)
    ? (doc as { users: unknown[] }).users : []).filter((u): u is Entry => !!u && typeof u === 'object');
  const out: CertSource[] = [];
  for (const [i, u] of entries.entries()) {
    const user = u.user && typeof u.user === 'object' ? u.user : {};
    for (const k of ['token', 'client-key-data', 'password']) if (typeof user[k] === 'string') registerSecret(user[k]);
    const name = typeof u.name === 'string' ? u.name : `#${i + 1}`;
    const where = `${file} user ${name}`;
    const sourceLabel = entries.length > 1 ? `${label}_${name}` : label;
    const inline = user['client-certificate-data'];
    const ref = user['client-certificate'];
    let data: Buffer | undefined;
    try {
      if (typeof inline === 'string') data = Buffer.from(inline, 'base64');
      else if (typeof ref === 'string') data = fs.readFileSync(path.resolve(path.dirname(file), ref));
    } catch (e) {
      out.push({ kind: 'kubeconfig', where, label: sourceLabel, certs: [], error: `client-certificate ${String(ref)}: ${readError(e)}` });
      continue;
    }
    if (!data) continue;
    try {
      out.push({ kind: 'kubeconfig', where, label: sourceLabel, certs: parseCertificates(data) });
    } catch (e) {
      out.push({ kind: 'kubeconfig', where, label: sourceLabel, certs: [], error: `client certificate ${(e as Error).message}` });
    }
  }
  return out;
}

/** 'host:port' or '[v6]:port' -> parts; throws on anything else. */
export function parseHostPort(s: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : 0;
  if (!m || port < 1 || port > 65535) throw new Error(`'${s.slice(0, 80)}' is not HOST:PORT`);
  return { host: m[1] ?? m[2]!, port };
}

/**
 * The certificate a TLS server presents (its leaf), as any client would get
 * it. Not verified: an expired or unknown certificate is exactly what we
 * want to see. The SNI is the host name (none for an IP).
 */
export function fetchServerCert(hostPort: string, signal: AbortSignal): Promise<CertSource> {
  const { host, port } = parseHostPort(hostPort);
  const label = `tls_${hostPort.replace(/[[\]]/g, '')}`;
  return new Promise((resolve) => {
    const done = (s: Omit<CertSource, 'kind' | 'where' | 'label'>) => {
      signal.removeEventListener('abort', onAbort);
      sock.destroy();
      resolve({ kind: 'server', where: hostPort, label, ...s });
    };
    const isIp = /^[\d.]+$|:/.test(host);
    const sock = tls.connect({ host, port, rejectUnauthorized: false, servername: isIp ? undefined : host, ALPNProtocols: ['http/1.1'] });
    const onAbort = () => done({ certs: [], error: 'no TLS handshake before the check timed out' });
    signal.addEventListener('abort', onAbort, { once: true });
    sock.once('secureConnect', () => {
      const c = sock.getPeerX509Certificate();
      if (!c) done({ certs: [], error: 'the server presented no certificate' });
      else done({ certs: [info(c)] });
    });
    sock.once('error', (e: NodeJS.ErrnoException) => done({ certs: [], error: `TLS connection failed: ${e.code ?? e.message}` }));
  });
}
