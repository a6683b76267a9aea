import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import tls from 'node:tls';
import { PluginError } from '../plugin/errors.js';

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
}

export async function connect(explicit: string | undefined, context: string | undefined, env = process.env): Promise<Connection> {
  const choice = chooseKubeconfig(explicit, env);
  // Loaded when a check first needs the API (not for --help, usage errors or
  // host-only checks). Deep import: the package index drags in every
  // generated API class, tar and websockets.
  const { KubeConfig } = await import('@kubernetes/client-node/dist/config.js');
  const kc = new KubeConfig();
  try {
    if (choice.source === 'in-cluster service account') kc.loadFromCluster();
    else kc.loadFromFile(choice.source);
  } catch (e) {
    // js-yaml errors quote the offending lines, which may hold a token: keep only the position.
    const mark = (e as { mark?: { line?: number } }).mark;
    const where = mark?.line !== undefined ? ` (line ${mark.line + 1})` : '';
    throw new PluginError(`kubeconfig ${choice.source} is not a valid kubeconfig${where}`);
  }
  if (context) {
    if (!kc.getContextObject(context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new PluginError(`context '${context}' not found in ${choice.source} (has: ${known.join(', ') || 'none'})`);
    }
    kc.setCurrentContext(context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) {
    throw new PluginError(`kubeconfig ${choice.source} has no cluster server for context '${kc.getCurrentContext() || '(none)'}'`);
  }
  let server: URL;
  try {
    server = new URL(cluster.server);
  } catch {
    throw new PluginError(`kubeconfig ${choice.source}: cluster server is not a URL`);
  }
  if (server.protocol !== 'https:') {
    // Plain http would send credentials in clear and is never what a real cluster serves.
    throw new PluginError(`kubeconfig ${choice.source}: server ${server.origin} is not https`);
  }
  const opts: https.RequestOptions = { headers: {} };
  try {
    await kc.applyToHTTPSOptions(opts);
  } catch (e) {
    throw new PluginError(`kubeconfig ${choice.source}: cannot load credentials for user '${kc.getCurrentUser()?.name ?? '?'}': ${credentialError(e)}`);
  }
  // One TLS context for every connection: Node would otherwise build one per
  // socket (a copy of its root store and the key parsed again each time).
  let secureContext: tls.SecureContext;
  try {
    secureContext = tls.createSecureContext({ ca: opts.ca, cert: opts.cert, key: opts.key, pfx: opts.pfx, passphrase: opts.passphrase });
  } catch (e) {
    throw new PluginError(`kubeconfig ${choice.source}: cannot load credentials for user '${kc.getCurrentUser()?.name ?? '?'}': ${credentialError(e)}`);
  }
  // Our own keep-alive agent so sequential requests reuse one TLS session.
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets: 8,
    secureContext,
    rejectUnauthorized: !cluster.skipTLSVerify,
    servername: cluster.tlsServerName || (isIp(server.hostname) ? undefined : server.hostname),
  });
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.headers ?? {})) if (v !== undefined) headers[k] = String(v);
  if (opts.auth) headers.Authorization = 'Basic ' + Buffer.from(opts.auth).toString('base64');
  return {
    server,
    source: choice.source,
    context: kc.getCurrentContext(),
    user: kc.getCurrentUser()?.name ?? '',
    agent,
    headers,
  };
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

/** Describe a credential-loading failure without echoing file contents. */
function credentialError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return `file not found: ${(e as NodeJS.ErrnoException).path ?? ''}`;
  if (code === 'EACCES') return `permission denied: ${(e as NodeJS.ErrnoException).path ?? ''}`;
  return 'invalid client certificate, key or auth provider';
}
