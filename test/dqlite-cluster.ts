// A real dqlite cluster for tests. Each node is a go-dqlite `app` node (the
// package k8s-dqlite runs in microk8s) on its own 127.0.0.1 port, keeping
// cluster.yaml and info.yaml in its data directory exactly as k8s-dqlite
// keeps them in backend/ (the app's YAML node store), so a node's data
// directory is a --backend-dir. Two kinds:
// - tls: false: dqlite-demo from Debian's go-dqlite package. Members talk in
//   clear: go-dqlite 1.11.5's demo has no TLS option.
// - tls: true: test/dqlite-tls-node/main.go, built here with Debian's Go and
//   Debian's packaged go-dqlite sources (golang-go,
//   golang-github-canonical-go-dqlite-dev; GOPATH mode, nothing downloaded):
//   app.WithTLS(app.SimpleTLSConfig(cluster.crt, cluster.key)) as k8s-dqlite
//   does, one self-signed cluster.crt shared by every node (microk8s hands
//   the first node's to each joining node), in each data directory as in
//   backend/.
// The `dqlite` shell (go-dqlite package) asks them.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './harness.js';

export interface DqliteNode {
  /** Raft address, '127.0.0.1:PORT' (dqlite-demo --db). */
  address: string;
  pid: number;
  /** The app's data directory, <dir>/<address>: holds cluster.yaml and info.yaml. */
  backendDir: string;
  running: boolean;
}

export interface DqliteCluster {
  dir: string;
  nodes: DqliteNode[];
  /** SIGTERM by PID, SIGKILL after 3 s; resolves when the process is gone. */
  stop(i: number): Promise<void>;
  /** Stop every node still running and remove the directory. */
  destroy(): Promise<void>;
}

/**
 * Whether the real binaries are here (apt-get install go-dqlite): false
 * locally without them (the tests skip), an error under CI (.ci/run installs them).
 */
export function haveDqlite(): boolean {
  for (const bin of ['dqlite', 'dqlite-demo']) {
    try {
      execFileSync(bin, ['--help'], { stdio: 'ignore' });
    } catch {
      if (process.env.CI) throw new Error(`CI is set and the dqlite cluster tests need ${bin} (Debian package go-dqlite)`);
      return false;
    }
  }
  return true;
}

const TLS_NODE_SRC = path.join(ROOT, 'test', 'dqlite-tls-node');
// Build output and Go's cache stay in the checkout (.tmp is git-ignored), so a second run does not rebuild.
const TLS_NODE_BUILD = path.join(ROOT, '.tmp', 'dqlite-tls-node');
const GOPATH = '/usr/share/gocode';

/**
 * Whether the TLS node can be built here (Debian's golang-go and
 * golang-github-canonical-go-dqlite-dev): false locally without them, an
 * error under CI.
 */
export function haveDqliteTls(): boolean {
  const missing = [];
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
  } catch {
    missing.push('go (golang-go)');
  }
  if (!fs.existsSync(path.join(GOPATH, 'src/github.com/canonical/go-dqlite/app'))) missing.push('golang-github-canonical-go-dqlite-dev');
  if (missing.length && process.env.CI) throw new Error(`CI is set and the TLS dqlite cluster tests need ${missing.join(', ')}`);
  return missing.length === 0;
}

/** Build test/dqlite-tls-node once (GOPATH mode from Debian's sources); returns the binary. */
function tlsNodeBinary(): string {
  const bin = path.join(TLS_NODE_BUILD, 'dqlite-tls-node');
  const src = path.join(TLS_NODE_SRC, 'main.go');
  if (fs.existsSync(bin) && fs.statSync(bin).mtimeMs >= fs.statSync(src).mtimeMs) return bin;
  fs.mkdirSync(TLS_NODE_BUILD, { recursive: true });
  execFileSync('go', ['build', '-o', bin, '.'], {
    cwd: TLS_NODE_SRC,
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 300_000,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: TLS_NODE_BUILD,
      GOPATH,
      GO111MODULE: 'off',
      GOFLAGS: '',
      GOCACHE: path.join(TLS_NODE_BUILD, 'cache'),
      // go-dqlite's cgo bindings link with -z now, which go refuses unless allowed.
      CGO_LDFLAGS_ALLOW: '-Wl,-z,now',
    },
  });
  return bin;
}

/** cluster.crt/cluster.key as microk8s makes them (CN=k8s, a DNS and an IP name: go-dqlite dials the first DNS name). */
function makeClusterCert(dir: string): void {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '3650', '-subj', '/CN=k8s',
    '-addext', 'subjectAltName=DNS:k8s-node,IP:127.0.0.1', '-keyout', path.join(dir, 'cluster.key'), '-out', path.join(dir, 'cluster.crt')],
  { stdio: 'ignore' });
}

/** The kernel's ephemeral range (what bind(0) and outgoing connections take): [low, high]. */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low && high) return [low, high];
  } catch { /* not Linux: the usual default */ }
  return [32768, 60999];
}

/**
 * Loopback ports for the members, free now and below the ephemeral range: a
 * port taken from bind(0) and closed goes back to the pool that every other
 * test's servers and every outgoing connection draw from, and on a busy run
 * one of them took it before dqlite-demo bound it ("address already in use").
 */
async function freePorts(n: number): Promise<number[]> {
  const [low] = ephemeralRange();
  const floor = Math.max(1024, Math.min(20000, low - 4096));
  const ports: number[] = [];
  while (ports.length < n) {
    const port = floor + Math.floor(Math.random() * (low - floor));
    if (ports.includes(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) ports.push(port);
  }
  return ports;
}

/** `dqlite -s ADDRESS -f json k8s CMD` with a time limit: undefined when it fails or hangs. */
export function shell(address: string, cmd: string, tlsArgs: string[] = [], timeoutMs = 3000): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('dqlite', ['-s', address, ...tlsArgs, '-f', 'json', 'k8s', cmd], { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout) => {
      resolve(err ? undefined : stdout);
    });
  });
}

async function waitFor(what: string, cond: () => Promise<boolean> | boolean, ms = 30000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`dqlite cluster: timed out waiting for ${what}`);
}

/** Addresses in a cluster.yaml written by the app (go yaml.v2: '- Address: a' lines). */
function storeAddresses(file: string): string[] {
  try {
    return [...fs.readFileSync(file, 'utf8').matchAll(/Address: (\S+)/g)].map((m) => m[1]!);
  } catch {
    return [];
  }
}

/**
 * Start `size` dqlite-demo nodes on 127.0.0.1 and join them into one cluster
 * (the first bootstraps, the others --join it). Resolves when the leader
 * lists every node as a voter (the app promotes up to 3 voters) and every
 * node's cluster.yaml lists every address.
 */
export async function startDqliteCluster(size: number, o: { tls?: boolean } = {}): Promise<DqliteCluster> {
  // A port another process took between our check and the member's bind: start again on others.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(size, o);
    } catch (e) {
      if (attempt >= 3 || !/address already in use/.test((e as Error).message)) throw e;
    }
  }
}

async function startOnce(size: number, o: { tls?: boolean }): Promise<DqliteCluster> {
  const tlsBin = o.tls ? tlsNodeBinary() : undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-nrpe-dqlite-cluster-'));
  if (o.tls) makeClusterCert(dir);
  const tlsArgs = o.tls ? ['-c', path.join(dir, 'cluster.crt'), '-k', path.join(dir, 'cluster.key')] : [];
  const children: ChildProcess[] = [];
  const nodes: DqliteNode[] = [];
  const logs: string[] = [];

  const stopChild = async (i: number): Promise<void> => {
    const child = children[i]!;
    const node = nodes[i]!;
    node.running = false;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try { process.kill(node.pid, 'SIGTERM'); } catch { /* already gone */ }
    const t = setTimeout(() => { try { process.kill(node.pid, 'SIGKILL'); } catch { /* gone */ } }, 3000);
    await exited;
    clearTimeout(t);
  };
  const destroy = async (): Promise<void> => {
    await Promise.all(nodes.map((_, i) => stopChild(i)));
    fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    const ports = await freePorts(2 * size);
    for (let i = 0; i < size; i++) {
      const address = `127.0.0.1:${ports[2 * i]}`;
      const nodeDir = path.join(dir, `node${i + 1}`);
      fs.mkdirSync(nodeDir);
      let child: ChildProcess;
      let backendDir: string;
      if (tlsBin) {
        // backend/ as microk8s has it: the node's files and the shared cluster.crt/cluster.key together.
        for (const f of ['cluster.crt', 'cluster.key']) fs.copyFileSync(path.join(dir, f), path.join(nodeDir, f));
        const args = ['-dir', nodeDir, '-db', address, '-cert', path.join(nodeDir, 'cluster.crt'), '-key', path.join(nodeDir, 'cluster.key')];
        if (i > 0) args.push('-join', nodes[0]!.address);
        child = spawn(tlsBin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
        backendDir = nodeDir;
      } else {
        const args = ['--api', `127.0.0.1:${ports[2 * i + 1]}`, '--db', address, '--dir', nodeDir];
        if (i > 0) args.push('--join', nodes[0]!.address);
        child = spawn('dqlite-demo', args, { stdio: ['ignore', 'ignore', 'pipe'] });
        backendDir = path.join(nodeDir, address);
      }
      logs[i] = '';
      child.stderr!.on('data', (c) => { if (logs[i]!.length < 4000) logs[i] += String(c); });
      children.push(child);
      if (child.pid === undefined) throw new Error('dqlite-demo did not start');
      nodes.push({ address, pid: child.pid, backendDir, running: true });
      child.once('exit', () => { nodes[i]!.running = false; });
      // Join one at a time: the app adds a node through the leader, one change at a time.
      await waitFor(`node ${i + 1} (${address}) in the cluster`, async () => {
        const out = await shell(nodes[0]!.address, '.cluster', tlsArgs);
        return out !== undefined && out.includes(`"${address}"`);
      });
    }
    const wantVoters = Math.min(size, 3);
    await waitFor(`${wantVoters} voters`, async () => {
      const out = await shell(nodes[0]!.address, '.cluster', tlsArgs);
      return out !== undefined && (out.match(/"Role": 0/g) ?? []).length === wantVoters;
    });
    await waitFor('every cluster.yaml to list every node', () =>
      nodes.every((n) => nodes.every((m) => storeAddresses(path.join(n.backendDir, 'cluster.yaml')).includes(m.address))));
  } catch (e) {
    await destroy();
    throw new Error(`${(e as Error).message}\n${logs.map((l, i) => `node ${i + 1}: ${l}`).join('\n')}`);
  }
  return { dir, nodes, stop: stopChild, destroy };
}
