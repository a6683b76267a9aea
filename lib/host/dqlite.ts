// The k8s-dqlite cluster as dqlite itself reports it, read on one node:
// backend/cluster.yaml and info.yaml (the go-dqlite app's node store, which
// k8s-dqlite keeps in /var/snap/microk8s/current/var/kubernetes/backend), and
// the live cluster through the dqlite shell microk8s ships
// (/snap/microk8s/current/bin/dqlite, static), run the way microk8s's own
// tooling runs it (scripts/wrappers/common/utils.py get_dqlite_info):
//   dqlite -s file://BACKEND/cluster.yaml -c BACKEND/cluster.crt -k BACKEND/cluster.key -f json k8s .cluster
import fs from 'node:fs';
import path from 'node:path';
import { PluginError } from '../plugin/errors.js';
import { sanitize } from '../plugin/sanitize.js';
import { firstLine, runCommand, type CommandOptions } from './command.js';

export const DEFAULT_BACKEND_DIR = '/var/snap/microk8s/current/var/kubernetes/backend';
/** The shell inside the snap: built statically by k8s-dqlite's `make static`, so it runs outside the snap too. */
export const SNAP_DQLITE = '/snap/microk8s/current/bin/dqlite';

/** go-dqlite client.NodeRole: Voter = 0, StandBy = 1, Spare = 2. */
export type Role = 'voter' | 'standby' | 'spare' | 'unknown';
const ROLES: Record<string, Role> = { 0: 'voter', 1: 'standby', 2: 'spare' };
export const roleName = (n: number | string | undefined): Role => (n === undefined ? 'unknown' : ROLES[String(n)] ?? 'unknown');

export interface Member {
  /** Decimal uint64, kept as text: IDs exceed 2^53 (JSON numbers would lose digits). */
  id: string;
  /** 'HOST:PORT' as dqlite knows it. */
  address: string;
  role: Role;
}

/**
 * Parse the YAML the go-dqlite app writes (gopkg.in/yaml.v2 of NodeInfo):
 *   - Address: 10.0.0.1:19001        (cluster.yaml: a list)
 *     ID: 3297041220608546238
 *     Role: 0
 * or the same keys without the '- ' (info.yaml, localnode.yaml: one node).
 * A fixed, machine-written shape: a line reader is enough and needs no YAML
 * dependency. Throws on anything else.
 */
export function parseNodeYaml(text: string): Member[] {
  const raw: Record<string, string>[] = [];
  let cur: Record<string, string> | undefined;
  for (const [i, line] of text.split('\n').entries()) {
    if (!line.trim() || line.trim().startsWith('#')) continue;
    if (line.trim() === '[]') continue;
    const m = /^(- |\s*)(Address|ID|Role|address|id|role):\s*(.*?)\s*$/.exec(line);
    if (!m) throw new Error(`line ${i + 1} is not 'Address:', 'ID:' or 'Role:'`);
    if (m[1] === '- ' || !cur) {
      cur = {};
      raw.push(cur);
    }
    cur[m[2]!.toLowerCase()] = m[3]!.replace(/^(['"])(.*)\1$/, '$2');
  }
  return raw.map((r, i) => {
    if (!r.address) throw new Error(`node ${i + 1} has no Address`);
    if (r.id !== undefined && !/^\d+$/.test(r.id)) throw new Error(`node ${i + 1} has a non-numeric ID`);
    return { id: r.id ?? '', address: r.address, role: roleName(r.role) };
  });
}

/**
 * Parse `dqlite -f json ... .cluster`: [{"ID": 3297041220608546238, "Address": "...", "Role": 0}, ...].
 * The IDs are quoted before JSON.parse so no digit is lost.
 */
export function parseClusterJson(text: string): Member[] {
  const quoted = text.replace(/("ID"\s*:\s*)(\d+)/g, '$1"$2"');
  let data: unknown;
  try {
    data = JSON.parse(quoted);
  } catch {
    throw new Error('not JSON');
  }
  if (!Array.isArray(data)) throw new Error('not a JSON list of nodes');
  return data.map((n: unknown, i) => {
    const o = n as { ID?: unknown; Address?: unknown; Role?: unknown };
    if (!o || typeof o.Address !== 'string') throw new Error(`node ${i + 1} has no Address`);
    return { id: String(o.ID ?? ''), address: o.Address, role: roleName(typeof o.Role === 'number' || typeof o.Role === 'string' ? o.Role : undefined) };
  });
}

/** A member address for messages and perfdata-free text: 'HOST:PORT', sanitized and bounded. */
export const showAddress = (a: string): string => sanitize(a, 80);

export interface BackendFiles {
  dir: string;
  clusterYaml: string;
  /** cluster.crt/cluster.key when both exist: the shell then speaks TLS, as microk8s's members do. */
  tls?: { cert: string; key: string };
  /** This node from info.yaml (undefined when the file is missing). */
  self?: Member;
  /** Members from cluster.yaml, this node's last saved view of the cluster. */
  stored: Member[];
}

function readText(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') {
      throw new PluginError(`cannot read ${file} (${what}): permission denied; microk8s makes backend/ readable by group microk8s: usermod -aG microk8s nagios (see docs/security.md)`);
    }
    if (code === 'ENOENT') throw new PluginError(`${file} (${what}) not found: not a microk8s control-plane node, or --backend-dir is wrong`);
    throw new PluginError(`cannot read ${file} (${what}): ${code ?? 'error'}`);
  }
}

/** Read cluster.yaml (required), info.yaml (optional) and see whether cluster.crt/key exist. */
export function readBackend(dir: string): BackendFiles {
  const clusterYaml = path.join(dir, 'cluster.yaml');
  let stored: Member[];
  try {
    stored = parseNodeYaml(readText(clusterYaml, "dqlite's node store"));
  } catch (e) {
    if (e instanceof PluginError) throw e;
    throw new PluginError(`${clusterYaml} is not a dqlite node store: ${(e as Error).message}`);
  }
  let self: Member | undefined;
  const info = path.join(dir, 'info.yaml');
  if (fs.existsSync(info)) {
    try {
      self = parseNodeYaml(readText(info, "this node's dqlite identity"))[0];
    } catch (e) {
      if (e instanceof PluginError) throw e;
      throw new PluginError(`${info} is not a dqlite node info file: ${(e as Error).message}`);
    }
  }
  const cert = path.join(dir, 'cluster.crt');
  const key = path.join(dir, 'cluster.key');
  const tls = fs.existsSync(cert) && fs.existsSync(key) ? { cert, key } : undefined;
  return { dir, clusterYaml, tls, self, stored };
}

export interface ShellOptions {
  /** The dqlite shell binary. */
  dqlite: string;
  signal: AbortSignal;
  timeoutMs: number;
  log?: CommandOptions['log'];
}

export type ShellAnswer =
  | { ok: true; stdout: string; ms: number }
  | { ok: false; reason: string; timedOut: boolean; ms: number };

/** -s SERVERS [-c CRT -k KEY] -f json k8s COMMAND: the argument list microk8s uses. */
export function shellArgs(servers: string, tls: BackendFiles['tls'], command: string): string[] {
  return ['-s', servers, ...(tls ? ['-c', tls.cert, '-k', tls.key] : []), '-f', 'json', 'k8s', command];
}

/**
 * Run one shell command. A shell that fails or outlives timeoutMs is an
 * answer (ok: false), not an error: without a leader go-dqlite's client
 * retries until its context ends (1.11 has no limit of its own; newer shells
 * stop after 2 s), so "no answer in time" is how a missing leader looks.
 * Only a shell that cannot be run at all throws.
 */
export async function runShell(args: string[], o: ShellOptions): Promise<ShellAnswer> {
  const started = performance.now();
  try {
    const r = await runCommand(o.dqlite, args, { signal: o.signal, timeoutMs: o.timeoutMs, log: o.log, maxBytes: 256 * 1024 });
    const ms = performance.now() - started;
    if (r.exitCode !== 0) {
      const err = firstLine(r.stderr.replace(/^Error:\s*/m, '')) || `exit ${r.exitCode}`;
      return { ok: false, reason: err, timedOut: false, ms };
    }
    return { ok: true, stdout: r.stdout, ms };
  } catch (e) {
    const ms = performance.now() - started;
    if (e instanceof PluginError && /did not finish within/.test(e.message)) {
      return { ok: false, reason: `no answer within ${o.timeoutMs / 1000}s`, timedOut: true, ms };
    }
    throw e;
  }
}
