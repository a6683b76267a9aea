// Test harness: the API server double as a real process on 127.0.0.1, and
// the built checks run as NRPE runs them (a subprocess, a clean environment).
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BOOT_TIME_ENV } from '../lib/host/boot.js';
import { formatDuration, parseDuration } from '../lib/plugin/duration.js';
import crypto from 'node:crypto';
import { afterAll, inject } from 'vitest';
import { ROOT } from './pinned-runtime.js';

export { pinnedNode, ROOT } from './pinned-runtime.js';

export const DIST = path.join(ROOT, 'dist');
/**
 * Other architectures' builds (K8S_NRPE_ARCHES=arm64 npm run build: dist/<arch>/), run under Debian's
 * qemu-user-static with that architecture's multiarch libc6 and libstdc++6 (scripts/runtime.mjs).
 */
export const FOREIGN = { arm64: { dist: path.join(DIST, 'arm64'), qemu: 'qemu-aarch64-static', cpu: 'arm64', elfMachine: 183 } } as const;
export type ForeignArch = keyof typeof FOREIGN;

/** A double fault-rule path for every list of core events, cluster-wide or namespaced (scheduler_stall asks per namespace). */
export const EVENT_LISTS = '^/api/v1/(namespaces/[^/]+/)?events$';
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
  /** The path as sent, when the double serves below a prefix (StartOptions.prefix); path is then the part below it. */
  fullPath?: string;
  query: Record<string, string>;
  status: number;
  bytes: number;
  user?: string;
  /** Arrival, epoch ms on the double's clock. */
  at: number;
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

/** The double's certificates, made once per run by test/global-setup.ts (openssl is slow). */
const CERT_FILES = ['ca.crt', 'ca.key', 'server.crt', 'server.key', 'client.crt', 'client.key', 'expired.crt', 'expired.key', 'badca.crt', 'token'];

/**
 * A network namespace name for a test: it carries this run's tag, so test/global-setup.ts fails the
 * run when one is left behind (and removes it).
 */
export function testNetns(what = 'ns'): string {
  return `k8snrpe-${inject('k8sNrpeRunTag')}-${what}-${crypto.randomBytes(3).toString('hex')}`;
}

/** A temp directory for one file's tests, removed in afterAll (also when a test failed). */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `k8s-nrpe-${prefix}-`));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Doubles started and not yet stopped, with their directories. A double that never got ready (its
 * start timed out, so no stop() exists) is still killed and removed when the test file's process exits.
 */
const live = new Map<ChildProcess, string>();
process.once('exit', () => {
  for (const [child, dir] of live) {
    try { child.kill('SIGKILL'); } catch { /* gone */ }
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

export interface StartOptions {
  /** Run the double inside that network namespace (`ip netns exec NS node ...`, as root), so a node-local
   * check run in the same namespace reaches it on 127.0.0.1. ip netns exec execs, so the PID is node's. */
  netns?: string;
  /** Epoch seconds the double resolves "$boot" fixture times against (K8S_NRPE_BOOT_TIME); default: the real boot. */
  bootTime?: number;
  /** The bearer token the double accepts (default: the run's random one). */
  token?: string;
  /** Serve the API below this path (as Rancher does); the kubeconfigs' server URL carries it. */
  prefix?: string;
  /** Also answer cluster DNS on this IP's UDP port 53 (inside `netns`, where the test put the IP on lo). */
  dns?: string;
}

/**
 * Start the double on 127.0.0.1 with a scenario and optional fault rules. stop() ends it by PID and
 * removes its directory; apiServers() calls stop for every server in afterAll.
 */
export async function startApiServer(scenario: string | Scenario, faults?: { rules: unknown[] }, opts: StartOptions | string = {}): Promise<ApiServer> {
  const { netns, bootTime, token, prefix, dns } = typeof opts === 'string' ? { netns: opts } as StartOptions : opts;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-nrpe-api-'));
  const certs = inject('k8sNrpeCerts');
  for (const f of CERT_FILES) fs.copyFileSync(path.join(certs, f), path.join(dir, f));
  if (token !== undefined) fs.writeFileSync(path.join(dir, 'token'), token);
  const args = [DOUBLE, '--scenario', scenarioFile(scenario, dir), '--dir', dir];
  if (faults) {
    const ff = path.join(dir, 'faults.json');
    fs.writeFileSync(ff, JSON.stringify(faults));
    args.push('--faults', ff);
  }
  if (prefix) args.push('--prefix', prefix);
  if (dns) args.push('--dns', dns);
  const env = { ...process.env };
  if (bootTime !== undefined) env[BOOT_TIME_ENV] = String(Math.floor(bootTime));
  const child = netns
    ? spawn('ip', ['netns', 'exec', netns, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env })
    : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  live.set(child, dir);
  child.once('exit', () => live.delete(child));
  let ready: { port: number; pid: number; url: string };
  try {
    ready = await new Promise((resolve, reject) => {
      let out = '';
      let err = '';
      child.stdout!.on('data', (c) => {
        out += c;
        const nl = out.indexOf('\n');
        if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)));
      });
      child.stderr!.on('data', (c) => { err += c; });
      // No timer of its own: a double that never starts is the hook's timeout (a machine-speed question).
      child.on('exit', (code) => reject(new Error(`API double exited ${code}: ${err}`)));
    });
  } catch (e) {
    live.delete(child);
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
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
    stop: async () => {
      await stopPid(child, ready.pid);
      fs.rmSync(dir, { recursive: true, force: true });
    },
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
 * `arch`: another architecture's build of it, under qemu.
 */
export function runBuilt(check: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; arch?: ForeignArch; hostname?: string } = {}): Promise<CheckRun> {
  const foreign = opts.arch ? FOREIGN[opts.arch] : undefined;
  const bin = path.join(foreign?.dist ?? DIST, check.startsWith('check_k8s_') || check === 'k8s-nrpe' ? check : `check_k8s_${check}`);
  const native: [string, string[]] = foreign ? [foreign.qemu, [bin, ...args]] : [bin, args];
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent', ...opts.env };
  const started = Date.now();
  const [file, argv] = opts.hostname === undefined ? native : withHostname(opts.hostname, [native[0], ...native[1]]);
  return new Promise((resolve) => {
    // A backstop for a check that ignores its own -t, not a speed bound: generous for a busy machine.
    execFile(file, argv, { env, timeout: opts.timeoutMs ?? 300000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code: unknown = err ? (err as { code?: unknown }).code : 0;
      const firstLine = stdout.split('\n')[0] ?? '';
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr, firstLine, perf: parsePerf(firstLine), ms: Date.now() - started });
    });
  });
}

/**
 * A command run with its own hostname: a new UTS namespace (unshare -u, as root) whose hostname is
 * set before the command starts, so a check sees exactly what it would on a host of that name.
 */
export function withHostname(hostname: string, command: string[]): [string, string[]] {
  return ['unshare', ['-u', 'sh', '-c', 'hostname "$0" && exec "$@"', hostname, ...command]];
}

/** Why hostnames cannot be set in a UTS namespace here (undefined: they can). */
export function utsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (unshare -u needs CAP_SYS_ADMIN)';
  try {
    const [file, argv] = withHostname('k8s-nrpe-probe.example', ['hostname']);
    const out = execFileSync(file, argv, { encoding: 'utf8', timeout: 10000 }).trim();
    return out === 'k8s-nrpe-probe.example' ? undefined : `unshare -u did not set the hostname (got ${out})`;
  } catch (e) {
    return `unshare -u failed: ${(e as Error).message.split('\n')[0]}`;
  }
}

/**
 * How long the check itself ran, in seconds, on its own clock: the last '[12.345s]' stamp of a -vv
 * run (the request count it logs as it ends). Unlike the wall-clock time of the subprocess, it
 * leaves out starting the binary, which depends on the machine, so "ends within -t plus a margin"
 * holds on a busy machine too.
 */
export function ownSeconds(run: CheckRun): number {
  const stamps = [...run.stderr.matchAll(/^\[(\d+\.\d{3})s\] /gm)];
  if (!stamps.length) throw new Error(`no -vv timestamps on stderr: ${JSON.stringify(run.stderr.slice(0, 300))}`);
  return Number(stamps[stamps.length - 1]![1]);
}

/**
 * A regex source for how a check shows an age that a fixture gave as '$now-<d>': the double renders
 * '$now' as it answers, and the check measures from its own start, up to its -t (10 s by default)
 * earlier, so '$now-40m' reads '40m' or '39m', '$now-5m' '5m' or '4m5Xs'. Seconds the double's
 * whole-second timestamps add are allowed too.
 */
export function near(d: string, slackS = 10): string {
  const s = parseDuration(d);
  const forms = new Set<string>();
  for (let k = -1; k <= slackS; k++) forms.add(formatDuration(s - k));
  return `(?:${[...forms].map((f) => f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`;
}

/** The first line must follow the contract whatever happened. */
export function expectContract(run: CheckRun, title: string): void {
  const re = new RegExp(`^K8S ${title} (OK|WARNING|CRITICAL|UNKNOWN) - [^|\\n]+( \\| .+)?$`);
  if (!re.test(run.firstLine)) throw new Error(`first line breaks the contract: ${JSON.stringify(run.firstLine)}`);
  const state = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'].indexOf(run.firstLine.split(' ')[title.split(' ').length + 1]!);
  if (run.code !== state) throw new Error(`exit code ${run.code} does not match state in ${JSON.stringify(run.firstLine)}`);
  if (/\n\s+at .+:\d+:\d+/.test(run.stdout)) throw new Error(`stack trace in output: ${run.stdout}`);
}
