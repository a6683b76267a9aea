import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { PluginError } from '../plugin/errors.js';
import { registerSecret } from '../plugin/sanitize.js';

const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export interface KubeconfigChoice {
  /** Where the config came from: a path, or 'in-cluster service account'. */
  source: string;
  /** Every place looked at, in order, for the "nothing found" message. */
  tried: string[];
}

/**
 * The discovery order, first hit wins. NRPE passes no environment, so the
 * shipped NRPE config always gives --kubeconfig; the rest serves a person
 * running a check by hand on a node (microk8s first).
 */
export function candidatePaths(env: NodeJS.ProcessEnv = process.env): string[] {
  const list: string[] = [];
  if (env.KUBECONFIG) list.push(...env.KUBECONFIG.split(path.delimiter).filter(Boolean));
  const home = env.HOME || os.homedir();
  if (home) list.push(path.join(home, '.kube', 'config'));
  list.push('/var/snap/microk8s/current/credentials/client.config', '/etc/kubernetes/admin.conf');
  return list;
}

function readable(file: string): 'yes' | 'missing' | 'denied' {
  try {
    fs.accessSync(file, fs.constants.R_OK);
    return fs.statSync(file).isFile() ? 'yes' : 'missing';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'EACCES' || code === 'EPERM' ? 'denied' : 'missing';
  }
}

export function chooseKubeconfig(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): KubeconfigChoice {
  if (explicit) {
    const r = readable(explicit);
    if (r === 'missing') throw new PluginError(`kubeconfig ${explicit} (--kubeconfig) does not exist`);
    if (r === 'denied') throw new PluginError(`kubeconfig ${explicit} (--kubeconfig) is not readable by ${os.userInfo().username}: fix its permissions`);
    return { source: explicit, tried: [explicit] };
  }
  const tried: string[] = [];
  const denied: string[] = [];
  for (const file of candidatePaths(env)) {
    tried.push(file);
    const r = readable(file);
    if (r === 'yes') return { source: file, tried };
    if (r === 'denied') denied.push(file);
  }
  tried.push('in-cluster service account');
  if (env.KUBERNETES_SERVICE_HOST && readable(IN_CLUSTER_TOKEN) === 'yes') {
    return { source: 'in-cluster service account', tried };
  }
  const hint = denied.length
    ? ` (${denied.join(', ')} exists but is not readable by ${os.userInfo().username}: pass --kubeconfig with a config it can read, see deploy/)`
    : ' (pass --kubeconfig)';
  throw new PluginError(`no kubeconfig found; tried ${tried.join(', ')}${hint}`);
}

/** What a request needs: the server URL and TLS/auth options. Never logged. */
export interface Connection {
  server: URL;
  source: string;
  context: string;
  user: string;
  agent: https.Agent;
  headers: Record<string, string>;
  /** The cluster's `disable-compression: true`: do not ask for gzip. */
  disableCompression?: boolean;
  /**
   * An exec credential plugin to run before the first request, with the
   * run's AbortSignal (the client calls it once); it fills headers / agent.
   */
  authenticate?: (signal: AbortSignal) => Promise<void>;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Auth and connection fields kubectl honours that this client does not: named, never silently ignored. */
const UNSUPPORTED_USER = ['auth-provider', 'as', 'as-uid', 'as-groups', 'as-user-extra'];
const UNSUPPORTED_CLUSTER = ['proxy-url'];

/** kubectl resolves relative file paths in a kubeconfig against the kubeconfig's directory. */
function resolveFrom(source: string, file: string): string {
  return path.isAbsolute(file) ? file : path.resolve(path.dirname(source), file);
}

function readCredentialFile(source: string, user: string, file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new PluginError(`kubeconfig ${source}: cannot load credentials for user '${user}': ${credentialError(e)}`);
  }
}

/** Inline `<field>-data` (base64) or the `<field>` file. */
function material(source: string, user: string, section: Obj, field: string): Buffer | undefined {
  const data = str(section[`${field}-data`]);
  if (data) return Buffer.from(data, 'base64');
  const file = str(section[field]);
  return file ? readCredentialFile(source, user, resolveFrom(source, file)) : undefined;
}

/** Register credential values with sanitize() so no server or command text can print them. */
function guardKey(key: Buffer | undefined): void {
  if (!key) return;
  const pem = key.toString('utf8');
  registerSecret(pem.trim());
  registerSecret(key.toString('base64'));
  // The base64 body lines of a PEM key, each on its own.
  for (const line of pem.split('\n')) if (/^[A-Za-z0-9+/=]{16,}$/.test(line.trim())) registerSecret(line.trim());
}

interface Loaded {
  server: string;
  context: string;
  userName: string;
  cluster: Obj;
  user: Obj;
}

/** Read the kubeconfig (YAML) and pick the context: what kubectl does for a single file. */
async function load(choice: KubeconfigChoice, context: string | undefined, env: NodeJS.ProcessEnv): Promise<Loaded> {
  if (choice.source === 'in-cluster service account') {
    const host = env.KUBERNETES_SERVICE_HOST ?? '';
    const port = env.KUBERNETES_SERVICE_PORT ?? '443';
    return {
      server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
      context: 'in-cluster',
      userName: 'service account',
      cluster: { 'certificate-authority': path.join(path.dirname(IN_CLUSTER_TOKEN), 'ca.crt') },
      user: { tokenFile: IN_CLUSTER_TOKEN },
    };
  }
  // js-yaml alone, not client-node's KubeConfig: we read exactly the fields we honour,
  // and name the ones we do not (client-node would silently ignore tokenFile).
  const yaml = await import('js-yaml');
  let doc: Obj;
  try {
    doc = obj(yaml.load(fs.readFileSync(choice.source, 'utf8')));
  } catch (e) {
    // js-yaml errors quote the offending lines, which may hold a token: keep only the position.
    const mark = (e as { mark?: { line?: number } }).mark;
    const where = mark?.line !== undefined ? ` (line ${mark.line + 1})` : '';
    throw new PluginError(`kubeconfig ${choice.source} is not a valid kubeconfig${where}`);
  }
  const named = (list: unknown, key: string) =>
    new Map((Array.isArray(list) ? list : []).map(obj).filter((e) => str(e.name)).map((e) => [e.name as string, obj(e[key])]));
  const contexts = named(doc.contexts, 'context');
  const clusters = named(doc.clusters, 'cluster');
  const users = named(doc.users, 'user');
  const current = context ?? str(doc['current-context']) ?? '';
  if (context && !contexts.has(context)) {
    throw new PluginError(`context '${context}' not found in ${choice.source} (has: ${[...contexts.keys()].join(', ') || 'none'})`);
  }
  const ctx = contexts.get(current) ?? {};
  const cluster = clusters.get(str(ctx.cluster) ?? '') ?? {};
  const userName = str(ctx.user) ?? '';
  const server = str(cluster.server);
  if (!server) throw new PluginError(`kubeconfig ${choice.source} has no cluster server for context '${current || '(none)'}'`);
  return { server, context: current, userName, cluster, user: users.get(userName) ?? {} };
}

export async function connect(explicit: string | undefined, context: string | undefined, env = process.env): Promise<Connection> {
  const choice = chooseKubeconfig(explicit, env);
  const source = choice.source;
  const k = await load(choice, context, env);
  let server: URL;
  try {
    server = new URL(k.server);
  } catch {
    throw new PluginError(`kubeconfig ${source}: cluster server is not a URL`);
  }
  if (server.protocol !== 'https:') {
    // Plain http would send credentials in clear and is never what a real cluster serves.
    throw new PluginError(`kubeconfig ${source}: server ${server.origin} is not https`);
  }
  for (const f of UNSUPPORTED_USER) {
    if (k.user[f] !== undefined) throw new PluginError(`kubeconfig ${source}: user '${k.userName}' uses '${f}', which k8s-nrpe does not support (use a token, client certificate or exec plugin)`);
  }
  for (const f of UNSUPPORTED_CLUSTER) {
    if (k.cluster[f] !== undefined) throw new PluginError(`kubeconfig ${source}: the cluster uses '${f}', which k8s-nrpe does not support`);
  }

  const headers: Record<string, string> = {};
  const u = k.user;
  // kubectl spells it tokenFile; client-node read token-file: honour both. A token inline wins, as in client-go.
  const tokenFile = str(u.tokenFile) ?? str(u['token-file']);
  const token = str(u.token) ?? (tokenFile ? readCredentialFile(source, k.userName, resolveFrom(source, tokenFile)).toString('utf8').trim() : undefined);
  if (token) {
    registerSecret(token);
    headers.Authorization = `Bearer ${token}`;
  } else if (str(u.username) || str(u.password)) {
    const basic = Buffer.from(`${str(u.username) ?? ''}:${str(u.password) ?? ''}`).toString('base64');
    registerSecret(str(u.password));
    registerSecret(basic);
    headers.Authorization = `Basic ${basic}`;
  }

  const ca = material(source, k.userName, k.cluster, 'certificate-authority');
  const cert = material(source, k.userName, u, 'client-certificate');
  const key = material(source, k.userName, u, 'client-key');
  guardKey(key);
  const skipVerify = k.cluster['insecure-skip-tls-verify'] === true;
  // OpenSSL judges the server (chain, purpose, validity, constraints; Node
  // checks the name), before the HTTP layer writes a byte: docs/security.md.
  // Every certificate of the kubeconfig's CA is a trust anchor, as in
  // client-go, so a CA file holding an intermediate works as with kubectl
  // (allowPartialTrustChain). Without a CA: Node's bundled roots.
  // insecure-skip-tls-verify: nothing is verified.
  if (ca && !skipVerify) {
    try {
      caCertificates(ca);
    } catch (e) {
      throw new PluginError(`kubeconfig ${source}: cannot load credentials for user '${k.userName}': ${credentialError(e)}`);
    }
  }
  const trust: tls.SecureContextOptions = ca && !skipVerify ? { ca, allowPartialTrustChain: true } : {};
  const tlsFor = (c: Buffer | string | undefined, kk: Buffer | string | undefined) => {
    try {
      return tls.createSecureContext({ ...trust, cert: c, key: kk });
    } catch (e) {
      throw new PluginError(`kubeconfig ${source}: cannot load credentials for user '${k.userName}': ${credentialError(e)}`);
    }
  };
  // Our own keep-alive agent so sequential requests reuse one TLS connection, and
  // one TLS context for every connection (Node would otherwise build one per socket).
  const agentFor = (secureContext: tls.SecureContext): https.Agent => new https.Agent({
    keepAlive: true,
    maxSockets: 8,
    secureContext,
    rejectUnauthorized: !skipVerify,
    servername: str(k.cluster['tls-server-name']) || (isIp(server.hostname) ? undefined : server.hostname),
  });
  const conn: Connection = {
    server,
    source,
    context: k.context,
    user: k.userName,
    agent: agentFor(tlsFor(cert, key)),
    headers,
    disableCompression: k.cluster['disable-compression'] === true,
  };
  const exec = obj(u.exec);
  if (!token && Object.keys(exec).length) {
    conn.authenticate = async (signal) => {
      const { runExecCredential } = await import('./exec-credential.js');
      const cred = await runExecCredential(exec, {
        source, user: k.userName, signal, env,
        cluster: { server: server.href, 'certificate-authority-data': ca?.toString('base64'), 'insecure-skip-tls-verify': k.cluster['insecure-skip-tls-verify'] === true },
      });
      if (cred.token) conn.headers.Authorization = `Bearer ${cred.token}`;
      if (cred.clientCertificateData && cred.clientKeyData) {
        conn.agent.destroy();
        conn.agent = agentFor(tlsFor(cred.clientCertificateData, cred.clientKeyData));
      }
    };
  }
  return conn;
}

/** The certificates of a CA file; like client-go, a file without one is an error, not an empty trust store. */
function caCertificates(pem: Buffer): X509Certificate[] {
  const blocks = pem.toString('latin1').match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  if (!blocks.length) throw new Error('no PEM certificate in the certificate authority');
  return blocks.map((b) => new X509Certificate(b));
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

/** Describe a credential-loading failure without echoing file contents. */
function credentialError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return `file not found: ${(e as NodeJS.ErrnoException).path ?? ''}`;
  if (code === 'EACCES') return `permission denied: ${(e as NodeJS.ErrnoException).path ?? ''}`;
  return 'invalid client certificate, key or certificate authority';
}
