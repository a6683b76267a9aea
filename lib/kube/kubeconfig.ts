import fs from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { PluginError } from '../plugin/errors.js';
import { registerSecret } from '../plugin/sanitize.js';
import { parseProxyUrl, throughProxy } from './proxy.js';
import { obj, resolveKubeconfig, str, type ResolvedKubeconfig } from './kubeconfig-load.js';

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

/** Auth and connection fields kubectl honours that this client does not: named, never silently ignored. */
const UNSUPPORTED_USER = ['auth-provider', 'as', 'as-uid', 'as-groups', 'as-user-extra'];

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
  return file ? readCredentialFile(source, user, file) : undefined;
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

/**
 * What kubectl refuses in the chosen cluster and user, with client-go's own reason
 * (clientcmd/validation.go validateClusterInfo and validateAuthInfo, and
 * transport.TLSConfigFor for a CA with insecure-skip-tls-verify): a config kubectl
 * would not use is not guessed at.
 */
function refuseConflicts(k: ResolvedKubeconfig): void {
  const c = k.cluster;
  const u = k.user;
  const has = (o: Obj, f: string) => str(o[f]) !== undefined;
  const refuse = (file: string, why: string) => { throw new PluginError(`kubeconfig ${file}: ${why} (kubectl refuses it too)`); };
  if (has(c, 'certificate-authority') && has(c, 'certificate-authority-data')) {
    refuse(k.source, `certificate-authority-data and certificate-authority are both specified for cluster '${k.clusterName}': keep one`);
  }
  if (c['insecure-skip-tls-verify'] === true && (has(c, 'certificate-authority') || has(c, 'certificate-authority-data'))) {
    refuse(k.source, `cluster '${k.clusterName}' has insecure-skip-tls-verify and a certificate authority; specifying a root certificates file with the insecure flag is not allowed: remove insecure-skip-tls-verify`);
  }
  if (has(u, 'client-certificate') || has(u, 'client-certificate-data')) {
    if (has(u, 'client-certificate') && has(u, 'client-certificate-data')) refuse(k.userSource, `client-certificate-data and client-certificate are both specified for user '${k.userName}': keep one`);
    if (has(u, 'client-key') && has(u, 'client-key-data')) refuse(k.userSource, `client-key-data and client-key are both specified for user '${k.userName}': keep one`);
    if (!has(u, 'client-key') && !has(u, 'client-key-data')) refuse(k.userSource, `client-key-data or client-key must be specified for user '${k.userName}' to use the client certificate`);
  }
  // Only the inline token counts here, as in validateAuthInfo (a tokenFile beside a password is allowed).
  if (has(u, 'token') && (has(u, 'username') || has(u, 'password'))) {
    refuse(k.userSource, `more than one authentication method found for user '${k.userName}' (token and basic auth), only one is allowed`);
  }
}

/**
 * The bearer token kubectl sends. With tokenFile (kubectl's spelling; client-node
 * reads token-file, honoured too) the file's token wins over an inline token while
 * the file can be read and is not empty (client-go transport
 * NewBearerAuthWithRefreshRoundTripper: the CachedFileTokenSource, trimmed, is
 * asked on every request and the inline token is the fallback); without an inline
 * token the file must be readable (clientcmd getUserIdentificationPartialConfig).
 */
function bearerToken(k: ResolvedKubeconfig): string | undefined {
  const inline = str(k.user.token);
  const tokenFile = str(k.user.tokenFile) ?? str(k.user['token-file']);
  if (!tokenFile) return inline;
  let fromFile: string | undefined;
  try {
    fromFile = fs.readFileSync(tokenFile, 'utf8').trim() || undefined;
    if (!fromFile && !inline) throw new PluginError(`kubeconfig ${k.userSource}: cannot load credentials for user '${k.userName}': token file ${tokenFile} is empty`);
  } catch (e) {
    if (e instanceof PluginError) throw e;
    if (!inline) throw new PluginError(`kubeconfig ${k.userSource}: cannot load credentials for user '${k.userName}': ${credentialError(e)}`);
  }
  return fromFile ?? inline;
}

export async function connect(explicit: string | undefined, context: string | undefined, env = process.env): Promise<Connection> {
  const k = await resolveKubeconfig(explicit, context, env);
  const source = k.source;
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
    if (k.user[f] !== undefined) throw new PluginError(`kubeconfig ${k.userSource}: user '${k.userName}' uses '${f}', which k8s-nrpe does not support (use a token, client certificate or exec plugin)`);
  }
  const proxy = str(k.cluster['proxy-url']) && parseProxyUrl(k.cluster['proxy-url'] as string, `kubeconfig ${source}: cluster '${k.clusterName}'`);
  refuseConflicts(k);

  const headers: Record<string, string> = {};
  const u = k.user;
  const token = bearerToken(k);
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
  const cert = material(k.userSource, k.userName, u, 'client-certificate');
  const key = material(k.userSource, k.userName, u, 'client-key');
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
  const agentFor = (secureContext: tls.SecureContext): https.Agent => {
    const agent = new https.Agent({
      keepAlive: true,
      maxSockets: 8,
      secureContext,
      rejectUnauthorized: !skipVerify,
      servername: str(k.cluster['tls-server-name']) || (isIp(server.hostname) ? undefined : server.hostname),
    });
    return proxy ? throughProxy(agent, proxy) : agent;
  };
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
        source: k.userSource, user: k.userName, signal, env,
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
