// Which kubeconfig files are read and how they merge: client-go's loading rules
// (kubectl's), the reference being k8s.io/client-go/tools/clientcmd:
//   loader.go        ClientConfigLoadingRules.Load: $KUBECONFIG is a list, missing
//                    files are skipped, the first file to set a map key (a cluster,
//                    user or context name) wins whole, current-context from the
//                    first file that sets it; an explicit file must exist;
//                    relative paths resolve against the file they are in.
//   merged_client_builder.go  in-cluster configuration only when no file gave one.
//   client_config.go / validation.go  context, cluster and user selection and the
//                    conflicts kubectl refuses (quoted in the messages below).
// Our additions, for a monitoring host: with neither --kubeconfig nor $KUBECONFIG,
// microk8s's and kubeadm's admin kubeconfigs are tried after ~/.kube/config.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PluginError } from '../plugin/errors.js';
import { sanitize } from '../plugin/sanitize.js';

/** Where the .deb installs the script that writes the NRPE kubeconfig (scripts/package.mjs). */
export const MAKE_KUBECONFIG = '/usr/share/k8s-nrpe/make-kubeconfig.sh';
/** The kubeconfig make-kubeconfig.sh writes by default, which the shipped NRPE commands pass. */
export const NRPE_KUBECONFIG = '/etc/nagios/k8s-nrpe.kubeconfig';
export const IN_CLUSTER = 'in-cluster service account';
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/**
 * Test-only: another directory for the service account's token and ca.crt. NRPE
 * passes no environment, so it never reaches a check in production.
 */
export const SERVICE_ACCOUNT_DIR_ENV = 'K8S_NRPE_SERVICEACCOUNT_DIR';

type Obj = Record<string, unknown>;
export const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
export const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The context kubectl would use, its cluster and user, with file paths made absolute. */
export interface ResolvedKubeconfig {
  /** The kubeconfig file the cluster (its server) came from, or IN_CLUSTER: named in messages. */
  source: string;
  /** The file the user came from (credential messages; the exec plugin's directory). */
  userSource: string;
  /** Every file read, in order (one unless $KUBECONFIG lists several). */
  files: string[];
  context: string;
  clusterName: string;
  userName: string;
  server: string;
  cluster: Obj;
  user: Obj;
}

type Stat = { kind: 'file' } | { kind: 'missing' } | { kind: 'dir' } | { kind: 'denied' };

function probe(file: string): Stat {
  try {
    if (fs.statSync(file).isDirectory()) return { kind: 'dir' };
    fs.accessSync(file, fs.constants.R_OK);
    return { kind: 'file' };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'EACCES' || code === 'EPERM' ? { kind: 'denied' } : { kind: 'missing' };
  }
}

const whoami = () => { try { return os.userInfo().username; } catch { return `uid ${process.getuid?.()}`; } };

/** The next step for a kubeconfig that is not there: the packaged script writes it. */
function writeItWith(file: string): string {
  return `write it with ${MAKE_KUBECONFIG}${file === NRPE_KUBECONFIG ? '' : ` -o ${file}`} (as root, see /usr/share/doc/k8s-nrpe/README.Debian)`;
}

/** A file named by --kubeconfig or $KUBECONFIG that exists but cannot be read: kubectl fails on it too. */
function unusable(file: string, st: Stat, how: string): PluginError {
  if (st.kind === 'dir') {
    const inside = probe(path.join(file, 'config')).kind === 'file' ? ` (did you mean ${path.join(file, 'config')}?)` : '';
    return new PluginError(`kubeconfig ${file} (${how}) is a directory, not a kubeconfig file${inside}`);
  }
  return new PluginError(`kubeconfig ${file} (${how}) is not readable by ${whoami()}: fix its permissions`);
}

function serviceAccountDir(env: NodeJS.ProcessEnv): string {
  return env[SERVICE_ACCOUNT_DIR_ENV] || SERVICE_ACCOUNT_DIR;
}

/** client-go's inClusterClientConfig.Possible(): both variables set and a token file. */
function inClusterPossible(env: NodeJS.ProcessEnv): boolean {
  return !!env.KUBERNETES_SERVICE_HOST && !!env.KUBERNETES_SERVICE_PORT && probe(path.join(serviceAccountDir(env), 'token')).kind === 'file';
}

/** The files to merge, as kubectl picks them (plus our node-local fallbacks), or the in-cluster account. */
export function kubeconfigFiles(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string[] | typeof IN_CLUSTER {
  if (explicit) {
    const st = probe(explicit);
    if (st.kind === 'missing') throw new PluginError(`kubeconfig ${explicit} (--kubeconfig) does not exist: ${writeItWith(explicit)}`);
    if (st.kind !== 'file') throw unusable(explicit, st, '--kubeconfig');
    return [explicit];
  }
  if (env.KUBECONFIG) {
    // A list: every file that exists is merged, missing ones are skipped (loader.go).
    const listed = [...new Set(env.KUBECONFIG.split(path.delimiter).filter(Boolean))];
    const files: string[] = [];
    for (const file of listed) {
      const st = probe(file);
      if (st.kind === 'file') files.push(file);
      else if (st.kind !== 'missing') throw unusable(file, st, '$KUBECONFIG');
    }
    if (files.length) return files;
    if (inClusterPossible(env)) return IN_CLUSTER;
    throw new PluginError(`no kubeconfig found: none of the $KUBECONFIG files exists (${listed.join(', ')}); fix $KUBECONFIG or pass --kubeconfig`);
  }
  const tried: string[] = [];
  const denied: string[] = [];
  const home = env.HOME || os.homedir();
  if (home) {
    // kubectl's only default: a directory or an unreadable file there is an error for kubectl too.
    const file = path.join(home, '.kube', 'config');
    const st = probe(file);
    tried.push(file);
    if (st.kind === 'file') return [file];
    if (st.kind !== 'missing') throw unusable(file, st, '~/.kube/config');
  }
  // Ours: the admin kubeconfigs of microk8s and kubeadm, for a person running a check on a node.
  for (const file of ['/var/snap/microk8s/current/credentials/client.config', '/etc/kubernetes/admin.conf']) {
    tried.push(file);
    const st = probe(file);
    if (st.kind === 'file') return [file];
    if (st.kind !== 'missing') denied.push(file);
  }
  tried.push(IN_CLUSTER);
  if (inClusterPossible(env)) return IN_CLUSTER;
  const hint = denied.length
    ? `${denied.join(', ')} exists but is not readable by ${whoami()}: pass --kubeconfig with one it can read, written by ${MAKE_KUBECONFIG}`
    : `write one with ${MAKE_KUBECONFIG} (as root) and pass --kubeconfig ${NRPE_KUBECONFIG}`;
  throw new PluginError(`no kubeconfig found; tried ${tried.join(', ')} (${hint})`);
}

interface Entry { value: Obj; file: string }

interface FileConfig {
  clusters: Map<string, Entry>;
  users: Map<string, Entry>;
  contexts: Map<string, Entry>;
  currentContext?: string;
}

/** kubectl resolves relative file paths in a kubeconfig against that file's directory. */
function resolveFrom(file: string, p: string): string {
  return path.isAbsolute(p) ? p : path.resolve(path.dirname(file), p);
}

/** client-go's ResolveLocalPaths for one entry: the fields that name files. */
function withAbsolutePaths(kind: 'cluster' | 'user', file: string, e: Obj): Obj {
  const out: Obj = { ...e };
  const fields = kind === 'cluster' ? ['certificate-authority'] : ['client-certificate', 'client-key', 'tokenFile', 'token-file'];
  for (const f of fields) if (str(out[f])) out[f] = resolveFrom(file, out[f] as string);
  const exec = obj(out.exec);
  // A command with a slash is a path (relative to the kubeconfig); without, a $PATH lookup.
  if (kind === 'user' && str(exec.command)?.includes('/')) out.exec = { ...exec, command: resolveFrom(file, exec.command as string) };
  return out;
}

async function readFileConfig(file: string): Promise<FileConfig> {
  // js-yaml alone, not client-node's KubeConfig: we read exactly the fields we honour,
  // and name the ones we do not (client-node silently ignores tokenFile).
  const yaml = await import('js-yaml');
  let doc: Obj;
  try {
    doc = obj(yaml.load(fs.readFileSync(file, 'utf8')));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') throw unusable(file, { kind: 'dir' }, 'kubeconfig');
    if (code === 'EACCES' || code === 'EPERM') throw unusable(file, { kind: 'denied' }, 'kubeconfig');
    // js-yaml errors quote the offending lines, which may hold a token: keep only the position.
    const mark = (e as { mark?: { line?: number } }).mark;
    const where = mark?.line !== undefined ? ` (line ${mark.line + 1})` : '';
    throw new PluginError(`kubeconfig ${file} is not a valid kubeconfig${where}`);
  }
  const named = (list: unknown, key: 'cluster' | 'user' | 'context', listName: string): Map<string, Entry> => {
    const m = new Map<string, Entry>();
    for (const e of (Array.isArray(list) ? list : []).map(obj)) {
      const name = str(e.name);
      if (name === undefined) continue;
      // kubectl refuses a file that names one twice (its message quotes the entries, credentials included).
      if (m.has(name)) throw new PluginError(`kubeconfig ${file}: ${listName} has '${sanitize(name, 60)}' twice (kubectl refuses it too): remove one`);
      const value = obj(e[key]);
      m.set(name, { value: key === 'context' ? value : withAbsolutePaths(key, file, value), file });
    }
    return m;
  };
  return {
    clusters: named(doc.clusters, 'cluster', 'clusters'),
    users: named(doc.users, 'user', 'users'),
    contexts: named(doc.contexts, 'context', 'contexts'),
    currentContext: str(doc['current-context']),
  };
}

/** Merge as loader.go does: the first file to set a name wins (the whole entry), and the first current-context. */
function merge(configs: FileConfig[]): FileConfig {
  const out: FileConfig = { clusters: new Map(), users: new Map(), contexts: new Map() };
  for (const c of configs) {
    for (const k of ['clusters', 'users', 'contexts'] as const) {
      for (const [name, e] of c[k]) if (!out[k].has(name)) out[k].set(name, e);
    }
    out.currentContext ??= c.currentContext;
  }
  return out;
}

function inCluster(env: NodeJS.ProcessEnv): ResolvedKubeconfig {
  // rest.InClusterConfig(): https://KUBERNETES_SERVICE_HOST:KUBERNETES_SERVICE_PORT, the
  // token file (re-read by kubectl, read once here: a check lives seconds) and ca.crt.
  const host = env.KUBERNETES_SERVICE_HOST ?? '';
  const dir = serviceAccountDir(env);
  return {
    source: IN_CLUSTER,
    userSource: IN_CLUSTER,
    files: [],
    context: 'in-cluster',
    clusterName: 'in-cluster',
    userName: 'service account',
    server: `https://${host.includes(':') ? `[${host}]` : host}:${env.KUBERNETES_SERVICE_PORT}`,
    cluster: { 'certificate-authority': path.join(dir, 'ca.crt') },
    user: { tokenFile: path.join(dir, 'token') },
  };
}

const list = (m: Map<string, unknown>) => [...m.keys()].map((k) => sanitize(k, 60)).join(', ') || 'none';

/** Read the kubeconfig(s) and pick the context, cluster and user as kubectl does. */
export async function resolveKubeconfig(explicit: string | undefined, context: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<ResolvedKubeconfig> {
  const files = kubeconfigFiles(explicit, env);
  if (files === IN_CLUSTER) return inCluster(env);
  const merged = merge(await Promise.all(files.map(readFileConfig)));
  const where = files.join(':');
  const name = context ?? merged.currentContext;
  if (context !== undefined && !merged.contexts.has(context)) {
    throw new PluginError(`context '${sanitize(context, 60)}' not found in ${where} (has: ${list(merged.contexts)})`);
  }
  if (name === undefined) {
    throw new PluginError(`kubeconfig ${where} sets no current-context: pass --context (has: ${list(merged.contexts)})`);
  }
  const ctx = merged.contexts.get(name);
  if (!ctx) throw new PluginError(`kubeconfig ${where}: current-context '${sanitize(name, 60)}' is not one of its contexts (has: ${list(merged.contexts)})`);
  const clusterName = str(ctx.value.cluster) ?? '';
  const cluster = merged.clusters.get(clusterName);
  if (!cluster) {
    throw new PluginError(`kubeconfig ${ctx.file}: context '${sanitize(name, 60)}' names cluster '${sanitize(clusterName, 60)}', which ${files.length > 1 ? 'none of ' + where + ' defines' : 'it does not define'} (has: ${list(merged.clusters)})`);
  }
  const server = str(cluster.value.server);
  if (!server) throw new PluginError(`kubeconfig ${cluster.file} has no cluster server for context '${sanitize(name, 60)}' (cluster '${sanitize(clusterName, 60)}')`);
  // A user the context names but no file defines: kubectl connects without credentials, so do we.
  const userName = str(ctx.value.user) ?? '';
  const user = merged.users.get(userName);
  return {
    source: cluster.file,
    userSource: user?.file ?? cluster.file,
    files,
    context: name,
    clusterName,
    userName,
    server,
    cluster: cluster.value,
    user: user?.value ?? {},
  };
}
