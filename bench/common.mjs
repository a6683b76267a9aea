// What the benchmarks share: the API double as a process (stopped by PID, also when interrupted),
// and timing commands as NRPE would run them, interleaved so that a busy minute on a shared machine
// lands on every command alike.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const DIST = path.join(ROOT, 'dist');
export const DOUBLE = path.join(DIST, 'test', 'apiserver.mjs');

/** The doubles running now: stopped by PID if the benchmark is interrupted. */
const running = new Set();
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    for (const pid of running) try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
    process.exit(130);
  });
}

/** The API double on 127.0.0.1 serving a scenario file or directory; its files go to `dir`. */
export async function startDouble(scenarioFile, dir) {
  const started = Date.now();
  const child = spawn(process.execPath, ['--max-old-space-size=4096', DOUBLE, '--scenario', scenarioFile, '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const ready = await new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => {
      out += c;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)));
    });
    child.stderr.on('data', (c) => { err += c; });
    child.on('exit', (code) => reject(new Error(`API double exited ${code}: ${err.trim()}`)));
  });
  child.removeAllListeners('exit');
  running.add(ready.pid);
  const stop = () => new Promise((resolve) => {
    running.delete(ready.pid);
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    process.kill(ready.pid, 'SIGTERM');
  });
  return { ...ready, dir, startMs: Date.now() - started, kubeconfig: path.join(dir, 'kubeconfig-cert.yaml'), log: path.join(dir, 'requests.jsonl'), stop };
}

export const quote = (s) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export const median = (v) => {
  const s = [...v].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** One run's wall and CPU time in ms (bash's time: millisecond resolution, children included). */
export function timed(argv) {
  const r = spawnSync('bash', ['-c', `TIMEFORMAT='%3R %3U %3S'; time ( ${argv.map(quote).join(' ')} >/dev/null 2>&1 )`], { encoding: 'utf8' });
  const [wall, user, sys] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  return { wallMs: wall * 1000, cpuMs: (user + sys) * 1000 };
}

/**
 * `runs` rounds of every command, the order rotated each round (two commands: swapped), and
 * per command the median wall and CPU time and every run's times.
 */
export function interleaved(argvs, runs) {
  const times = argvs.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (let k = 0; k < argvs.length; k++) {
      const j = (i + k) % argvs.length;
      times[j].push(timed(argvs[j]));
    }
  }
  return times.map((v) => ({ wallMs: median(v.map((x) => x.wallMs)), cpuMs: median(v.map((x) => x.cpuMs)), runs: v }));
}
