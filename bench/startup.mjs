#!/usr/bin/env node
// Start-up: what the single executable costs before and around a check, against the floor of
// the runtime it embeds. Three commands, each as NRPE runs it (env -i, no HOME):
//
//   node -e 0            the pinned runtime itself (npm's node-linux-<cpu> of package-lock.json,
//                        the binary dist/k8s-nrpe is made from): nothing of ours
//   k8s-nrpe --help      the snapshot deserialized, the help rendered: no file, no network
//   check_k8s_leases     a whole check against the API double (test/fixtures/incident) on
//                        127.0.0.1: kubeconfig, TLS with the client certificate, 4 GETs
//
// Paired: every round runs the three, in an order that rotates each round, so a busy minute
// on a shared machine lands on each alike; the table gives medians of wall and CPU
// (user+system, children included) per command and what each costs above `node -e 0`.
//
//   npm run build && node bench/startup.mjs [--runs 40] [--markdown FILE]
//   node bench/startup.mjs --baseline OLD/k8s-nrpe --baseline-node /usr/bin/node
//       also another build (a previous release) and the node it embeds, in the same rounds
//
// Not part of npm test or CI: timings are not assertions.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DIST, DOUBLE, interleaved, ROOT, startDouble } from './common.mjs';
import { hostArch, runtime } from '../scripts/runtime.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const RUNS = Number(opt('--runs', '40'));
const MARKDOWN = opt('--markdown');
const BASELINE = opt('--baseline');
const BASELINE_NODE = opt('--baseline-node');
if (!BASELINE !== !BASELINE_NODE) throw new Error('--baseline and --baseline-node go together');
if (!Number.isInteger(RUNS) || RUNS < 3) throw new Error('--runs: a whole number of at least 3');

const MAIN = path.join(DIST, 'k8s-nrpe');
if (!fs.existsSync(MAIN) || !fs.existsSync(DOUBLE)) throw new Error('no build: run npm run build first');
const rt = runtime(hostArch());
const env = ['env', '-i', 'PATH=/usr/bin:/bin', 'HOME=/nonexistent'];
/** What the binary says it embeds: the floor must be the same runtime, or the table compares nothing. */
const versionOf = (argv) => {
  try {
    return execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    return String(e.stdout ?? ''); // --version exits 3
  }
};
const embedded = /\(node (v[\d.]+), OpenSSL ([^)]+)\)/.exec(versionOf([MAIN, '--version']));
const floor = versionOf([rt.node, '-p', 'process.version + " " + process.versions.openssl']).trim().split(' ');
if (!embedded || embedded[1] !== floor[0] || embedded[2] !== floor[1]) {
  throw new Error(`dist/k8s-nrpe embeds ${embedded?.slice(1).join('/') ?? 'an unknown runtime'}, ${rt.node} is ${floor.join('/')}: rebuild (npm run build)`);
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-nrpe-startup-'));
const server = await startDouble(path.join(ROOT, 'test', 'fixtures', 'incident'), work);
try {
  /** The three commands for one build and the node it embeds; `label` names the build. */
  const commands = (main, node, label) => {
    // check_k8s_leases as NRPE names it: the multi-call binary dispatches on that name.
    const leases = path.join(fs.mkdtempSync(path.join(work, 'bin-')), 'check_k8s_leases');
    fs.symlinkSync(fs.realpathSync(main), leases);
    const nodeVersion = versionOf([node, '-p', 'process.version']).trim();
    return [
      { name: `\`node -e 0\` (Node ${nodeVersion}${label}, the floor)`, argv: [...env, node, '-e', '0'], floor: true },
      { name: `\`k8s-nrpe --help\`${label}`, argv: [...env, main, '--help'] },
      { name: `\`check_k8s_leases\`${label} (incident double: TLS, 4 GETs)`, argv: [...env, leases, '--kubeconfig', server.kubeconfig], check: true },
    ];
  };
  const rows = [...commands(MAIN, rt.node, ''), ...(BASELINE ? commands(BASELINE, BASELINE_NODE, `, ${versionOf([BASELINE, '--version']).trim()}`) : [])];
  // The check must do its whole job in every run: a fast UNKNOWN would flatter the table.
  for (const r of rows.filter((x) => x.check)) {
    const first = versionOf(r.argv).split('\n')[0];
    if (!/^K8S LEASES (OK|WARNING|CRITICAL) - /.test(first)) throw new Error(`${r.name} against the double: ${first}`);
  }
  const load0 = os.loadavg();
  const started = new Date().toISOString().slice(0, 16);
  interleaved(rows.map((r) => r.argv), 2); // warm the page cache
  const results = interleaved(rows.map((r) => r.argv), RUNS);
  const load1 = os.loadavg();

  const ms = (v) => `${v.toFixed(1)} ms`;
  const quartiles = (v) => {
    const s = [...v].sort((a, b) => a - b);
    return `${s[Math.floor(s.length / 4)].toFixed(0)}-${s[Math.floor((3 * s.length) / 4)].toFixed(0)}`;
  };
  /** Each row's floor: the `node -e 0` of its own build's runtime. */
  const floorOf = (i) => results[rows.findLastIndex((r, j) => j <= i && r.floor)];
  const lines = [
    `Start-up, ${RUNS} interleaved rounds (bench/startup.mjs), ${started}Z: ${os.availableParallelism()} CPUs, load ${load0[0].toFixed(1)} -> ${load1[0].toFixed(1)}; dist/k8s-nrpe embeds node ${embedded[1]}, OpenSSL ${embedded[2]}.`,
    '',
    '| command | median wall | median CPU (IQR) | CPU above `node -e 0` |',
    '|---|---|---|---|',
    ...rows.map((r, i) => {
      const x = results[i];
      return `| ${r.name} | ${ms(x.wallMs)} | ${ms(x.cpuMs)} (${quartiles(x.runs.map((t) => t.cpuMs))}) | ${r.floor ? '-' : `+${ms(x.cpuMs - floorOf(i).cpuMs)}`} |`;
    }),
  ];
  const text = `${lines.join('\n')}\n`;
  process.stdout.write(text);
  if (MARKDOWN) fs.writeFileSync(MARKDOWN, text);
} finally {
  await server.stop();
  fs.rmSync(work, { recursive: true, force: true });
}
