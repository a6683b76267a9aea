// Test harness: the API server double as a real process on 127.0.0.1, and
// the built checks run as NRPE runs them (a subprocess, a clean environment).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

export const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const DIST = path.join(ROOT, 'dist');
const DOUBLE = path.join(DIST, 'test', 'apiserver.mjs');

export interface ApiServer {
  url: string;
  port: number;
  pid: number;
  dir: string;
  /** Kubeconfig with client-certificate auth. */
  kubeconfig: string;
  kubeconfigFor(kind: 'cert' | 'token' | 'expired' | 'badca' | 'badtoken' | 'multi'): string;
  /** Requests the server has answered so far. */
  requests(): RecordedRequest[];
  stop(): Promise<void>;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  bytes: number;
  user?: string;
}

export interface Scenario {
  objects?: unknown[];
  generate?: { count: number; template: unknown }[];
}

/**
 * A scenario: test/fixtures/NAME/ (every *.json in it, merged), test/fixtures/NAME.json,
 * or an object written to a temp file.
 */
export function scenarioFile(s: string | Scenario, dir: string): string {
  if (typeof s === 'string') {
    const asDir = path.join(ROOT, 'test', 'fixtures', s);
    if (fs.existsSync(asDir) && fs.statSync(asDir).isDirectory()) return asDir;
    return path.join(ROOT, 'test', 'fixtures', s.endsWith('.json') ? s : `${s}.json`);
  }
  const file = path.join(dir, 'scenario.json');
  fs.writeFileSync(file, JSON.stringify(s));
  return file;
}

const certCache = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-nrpe-certs-'));

/**
 * Start the double on 127.0.0.1 with a scenario and optional fault rules.
 * Certificates are generated once per test file and reused (openssl is slow).
 */
/**
 * netns: run the double inside that network namespace (`ip netns exec NS node ...`, as root), so a
 * node-local check run in the same namespace reaches it on 127.0.0.1. ip netns exec execs, so the PID is node's.
 */
export async function startApiServer(scenario: string | Scenario, faults?: { rules: unknown[] }, netns?: string): Promise<ApiServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-nrpe-api-'));
  for (const f of fs.readdirSync(certCache)) fs.copyFileSync(path.join(certCache, f), path.join(dir, f));
  const args = [DOUBLE, '--scenario', scenarioFile(scenario, dir), '--dir', dir];
  if (faults) {
    const ff = path.join(dir, 'faults.json');
    fs.writeFileSync(ff, JSON.stringify(faults));
    args.push('--faults', ff);
  }
  const child = netns
    ? spawn('ip', ['netns', 'exec', netns, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const ready = await new Promise<{ port: number; pid: number; url: string }>((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`API double did not start: ${err}`)), 30000);
    child.stdout!.on('data', (c) => {
      out += c;
      const nl = out.indexOf('\n');
      if (nl >= 0) { clearTimeout(timer); resolve(JSON.parse(out.slice(0, nl))); }
    });
    child.stderr!.on('data', (c) => { err += c; });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`API double exited ${code}: ${err}`)); });
  });
  if (!fs.readdirSync(certCache).length) {
    for (const f of fs.readdirSync(dir)) if (/\.(crt|key|pem|srl|cnf)$|^token$/.test(f)) fs.copyFileSync(path.join(dir, f), path.join(certCache, f));
  }
  return {
    ...ready,
    dir,
    kubeconfig: path.join(dir, 'kubeconfig-cert.yaml'),
    kubeconfigFor: (kind) => path.join(dir, `kubeconfig-${kind}.yaml`),
    requests: () => {
      const f = path.join(dir, 'requests.jsonl');
      if (!fs.existsSync(f)) return [];
      return fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as RecordedRequest);
    },
    stop: () => stopPid(child, ready.pid),
  };
}

/**
 * A start function for one test file or describe block: it starts the double as startApiServer
 * does, and an afterAll registered where apiServers() is called stops (by PID) every server it started.
 */
export function apiServers(): (...a: Parameters<typeof startApiServer>) => Promise<ApiServer> {
  const servers: ApiServer[] = [];
  afterAll(async () => { await Promise.all(servers.map((s) => s.stop())); });
  return async (...a) => {
    const s = await startApiServer(...a);
    servers.push(s);
    return s;
  };
}

async function stopPid(child: ChildProcess, pid: number): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(pid, 'SIGTERM');
  const t = setTimeout(() => { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }, 3000);
  await exited;
  clearTimeout(t);
}

export interface CheckRun {
  code: number | null;
  stdout: string;
  stderr: string;
  firstLine: string;
  /** Perfdata of the first line as label -> raw value text. */
  perf: Record<string, string>;
  ms: number;
}

/** Parse 'a=1;2;3 'b c'=4s' into { a: '1', 'b c': '4s' }. */
export function parsePerf(line: string): Record<string, string> {
  const bar = line.indexOf(' | ');
  const out: Record<string, string> = {};
  if (bar < 0) return out;
  const re = /('(?:[^']|'')*'|[^\s=]+)=(\S+)/g;
  for (const m of line.slice(bar + 3).matchAll(re)) {
    const label = m[1]!.startsWith("'") ? m[1]!.slice(1, -1).replace(/''/g, "'") : m[1]!;
    out[label] = m[2]!.split(';')[0]!;
  }
  return out;
}

/**
 * Run a built check the way NRPE does: the installed name, a clean
 * environment (no KUBECONFIG, no HOME config), stdout and exit code.
 */
export function runBuilt(check: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CheckRun> {
  const bin = path.join(DIST, check.startsWith('check_k8s_') || check === 'k8s-nrpe' ? check : `check_k8s_${check}`);
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent', ...opts.env };
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(bin, args, { env, timeout: opts.timeoutMs ?? 30000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code: unknown = err ? (err as { code?: unknown }).code : 0;
      const firstLine = stdout.split('\n')[0] ?? '';
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr, firstLine, perf: parsePerf(firstLine), ms: Date.now() - started });
    });
  });
}

/** The first line must follow the contract whatever happened. */
export function expectContract(run: CheckRun, title: string): void {
  const re = new RegExp(`^K8S ${title} (OK|WARNING|CRITICAL|UNKNOWN) - [^|\\n]+( \\| .+)?$`);
  if (!re.test(run.firstLine)) throw new Error(`first line breaks the contract: ${JSON.stringify(run.firstLine)}`);
  const state = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'].indexOf(run.firstLine.split(' ')[title.split(' ').length + 1]!);
  if (run.code !== state) throw new Error(`exit code ${run.code} does not match state in ${JSON.stringify(run.firstLine)}`);
  if (/\n\s+at .+:\d+:\d+/.test(run.stdout)) throw new Error(`stack trace in output: ${run.stdout}`);
}
