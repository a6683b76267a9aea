// A real dqlite cluster for tests: Debian's go-dqlite package ships
// dqlite-demo (a go-dqlite `app` node: the same package k8s-dqlite runs in
// microk8s) and the `dqlite` shell. Each node listens on its own 127.0.0.1
// port and keeps cluster.yaml and info.yaml in its data directory exactly as
// k8s-dqlite keeps them in backend/ (the app's YAML node store), so a node's
// data directory is a --backend-dir. The demo has no TLS option (go-dqlite
// 1.11.5): members talk in clear, and the check's TLS handling is tested on
// its own (see test/integration/dqlite_cluster.test.ts).
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

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

/** Whether the real binaries are here (apt-get install go-dqlite). */
export function haveDqlite(): boolean {
  for (const bin of ['dqlite', 'dqlite-demo']) {
    try {
      execFileSync(bin, ['--help'], { stdio: 'ignore' });
    } catch {
      return false;
    }
  }
  return true;
}

/** Free loopback ports: bind to 0, read the port, close (the kernel does not hand it out again at once). */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<net.Server>((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve(s));
  })));
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** `dqlite -s ADDRESS -f json k8s CMD` with a time limit: undefined when it fails or hangs. */
export function shell(address: string, cmd: string, timeoutMs = 3000): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('dqlite', ['-s', address, '-f', 'json', 'k8s', cmd], { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout) => {
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
export async function startDqliteCluster(size: number): Promise<DqliteCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-nrpe-dqlite-cluster-'));
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
      const args = ['--api', `127.0.0.1:${ports[2 * i + 1]}`, '--db', address, '--dir', nodeDir];
      if (i > 0) args.push('--join', nodes[0]!.address);
      const child = spawn('dqlite-demo', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      logs[i] = '';
      child.stderr!.on('data', (c) => { if (logs[i]!.length < 4000) logs[i] += String(c); });
      children.push(child);
      if (child.pid === undefined) throw new Error('dqlite-demo did not start');
      nodes.push({ address, pid: child.pid, backendDir: path.join(nodeDir, address), running: true });
      child.once('exit', () => { nodes[i]!.running = false; });
      // Join one at a time: the app adds a node through the leader, one change at a time.
      await waitFor(`node ${i + 1} (${address}) in the cluster`, async () => {
        const out = await shell(nodes[0]!.address, '.cluster');
        return out !== undefined && out.includes(`"${address}"`);
      });
    }
    const wantVoters = Math.min(size, 3);
    await waitFor(`${wantVoters} voters`, async () => {
      const out = await shell(nodes[0]!.address, '.cluster');
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
