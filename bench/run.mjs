#!/usr/bin/env node
// Benchmark: every check of dist/k8s-nrpe, and the kubectl+jq script a
// competent sysadmin writes instead (bench/shell/<check>.sh, server-side
// field selectors), against the API server double serving generated clusters
// of 1k, 10k and 50k pods (bench/cluster.mjs: ~5 events a pod, 110 pods a
// node). Run as NRPE runs them (env -i); the verdicts of check and script are
// compared and every mismatch reported.
//
//   npm run bench                       # 1k,10k,50k, every check, with the scripts (~10 minutes)
//   npm run bench -- --quick            # 1k only, few runs: while developing
//   npm run bench -- --sizes 1k,10k,50k --checks scheduler_stall,reboot_ready
//   npm run bench -- --sizes 10k,25000 --no-shell --runs 20
//   npm run bench -- --sizes 50k --checks sandbox_changed --no-shell --page-sizes 500,2000,5000
//   npm run bench -- --markdown out.md --json out.json
//   node bench/run.mjs --report out.json   # the tables again from a results file
//
// Needs: apt-get install hyperfine jq time dnsutils kubernetes-client (kubectl;
// or any kubectl on PATH, or --kubectl FILE) and a build (npm run build).
// Not part of npm test or CI: timings are not assertions.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusterScenario } from './cluster.mjs';
import { DIST, DOUBLE, interleaved, quote, ROOT, startDouble } from './common.mjs';

const MAIN = path.join(DIST, 'k8s-nrpe');
const SHELL_DIR = path.join(ROOT, 'bench', 'shell');
const INCIDENT = path.join(ROOT, 'test', 'fixtures', 'incident');
const NRPE_CFG = path.join(ROOT, 'nrpe.d', 'k8s-nrpe.cfg');

/** Cluster sizes in pods (plus the incident's objects); nodes and events follow (bench/cluster.mjs). */
const PRESETS = { '1k': 1000, '10k': 10000, '50k': 50000 };
/** The node a node-scoped check runs on (an incident node with stalled pods); this host is no node of the double. */
const BENCH_NODE = 'k8s02';
/**
 * Checks not run against the clusters, and why. Only a reason per name: the
 * list of checks always comes from dist/k8s-nrpe --list.
 */
/**
 * Checks also run in a second form, named check@form. stuck_terminating runs
 * on each node with --node in nrpe.d; its cluster-wide form (no --node, from
 * one host) must list every pod's metadata, and issue 18 gives it its own
 * target (under 2 s and 100 MB at 50k). No script: the row is the check alone.
 */
const VARIANTS = { stuck_terminating: ['stuck_terminating@cluster'] };
const SKIP = {
  dqlite_cluster: 'reads this host\'s dqlite cluster.yaml and queries its members over TLS, no API request: its cost follows the dqlite members (3-5), not the cluster (here, not a microk8s node: it would end UNKNOWN at once)',
  certs: 'reads this host\'s certificate files (/var/snap/microk8s/current/certs), no API request: its cost follows the files, not the cluster',
  dqlite: 'reads only this host\'s journal (journalctl -u snap.microk8s.daemon-k8s-dqlite) and makes no API request: its cost follows the journal, not the cluster',
};
/**
 * Issue 18's targets: start-up; cost follows what a check looks for (requests,
 * bytes, CPU, RSS within 20% from the smallest to the largest cluster); less
 * CPU and wall time than the script at 10k, 5x less where the script's lists
 * are large (LIST_HEAVY_BYTES received at 10k).
 */
const TARGET = { size: '10k', speedup: 5, growth: 0.2, startupMs: 40 };
const LIST_HEAVY_BYTES = 1024 * 1024;

// ---------------------------------------------------------------- options
function options(argv) {
  const o = { sizes: ['1k', '10k', '50k'], checks: undefined, runs: 10, shellRuns: 3, warmup: 2, shell: true, json: undefined, markdown: undefined, kubectl: undefined, keep: false, report: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) die(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') Object.assign(o, { sizes: ['1k'], runs: 5, shellRuns: 1, warmup: 1 });
    else if (a === '--sizes') o.sizes = val().split(',').filter(Boolean);
    else if (a === '--checks') o.checks = val().split(',').filter(Boolean);
    else if (a === '--runs') o.runs = Number(val());
    else if (a === '--shell-runs') o.shellRuns = Number(val());
    else if (a === '--warmup') o.warmup = Number(val());
    else if (a === '--no-shell') o.shell = false;
    else if (a === '--page-sizes') o.pageSizes = val().split(',').map(Number);
    else if (a === '--json') o.json = path.resolve(val());
    else if (a === '--markdown') o.markdown = path.resolve(val());
    else if (a === '--kubectl') o.kubectl = path.resolve(val());
    else if (a === '--keep') o.keep = true;
    else if (a === '--report') o.report = path.resolve(val());
    else if (a === '-h' || a === '--help') {
      console.log(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1).filter((l, i, a) => a.slice(0, i + 1).every((x) => x.startsWith('//'))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
      process.exit(0);
    } else die(`unknown option ${a} (see --help)`);
  }
  for (const s of o.sizes) if (!PRESETS[s] && !/^\d+$/.test(s)) die(`--sizes: ${s} is neither ${Object.keys(PRESETS).join('/')} nor a number of pods`);
  if (!(o.runs >= 1) || !(o.shellRuns >= 1)) die('--runs and --shell-runs must be at least 1');
  return o;
}

function die(msg) {
  console.error(`bench: ${msg}`);
  process.exit(2);
}

const sizeOf = (s) => PRESETS[s] ?? Number(s);

// ---------------------------------------------------------------- prerequisites
function which(cmd) {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const f = path.join(dir, cmd);
    try {
      fs.accessSync(f, fs.constants.X_OK);
      return f;
    } catch { /* next */ }
  }
  return undefined;
}

/**
 * The kubectl to run. Debian's kubectl package (from the Cloud SDK) installs a
 * dispatcher that asks the server's /version and then execs kubectl.1.NN:
 * one extra request and process per call that a plain kubectl does not make.
 * Use the versioned binary beside it, the one a kubectl install elsewhere is.
 */
function resolveKubectl(explicit) {
  if (explicit) return explicit;
  const found = which('kubectl');
  if (!found) return undefined;
  const real = fs.realpathSync(found);
  const dir = path.dirname(real);
  const versioned = fs.readdirSync(dir).filter((f) => /^kubectl\.1\.\d+$/.test(f))
    .sort((a, b) => Number(a.split('.')[2]) - Number(b.split('.')[2]));
  if (path.basename(real) === 'kubectl' && versioned.length) {
    // The double says it is v1.32: the dispatcher would pick the same.
    return path.join(dir, versioned.includes('kubectl.1.32') ? 'kubectl.1.32' : versioned.at(-1));
  }
  return real;
}

function prerequisites(o) {
  const missing = [];
  if (!which('hyperfine')) missing.push('hyperfine');
  if (!fs.existsSync('/usr/bin/time')) missing.push('time');
  if (o.shell) {
    if (!which('jq')) missing.push('jq');
    if (!resolveKubectl(o.kubectl)) missing.push('kubectl');
    if (!which('bash')) missing.push('bash');
  }
  if (missing.length) {
    die(`missing ${missing.join(', ')}: apt-get install ${missing.join(' ')}` +
      `${o.shell && missing.some((m) => m === 'kubectl' || m === 'jq') ? ' (or run with --no-shell to skip the kubectl+jq comparison)' : ''}`);
  }
  if (!fs.existsSync(MAIN) || !fs.existsSync(DOUBLE)) die('no build: run npm run build first');
}

// ---------------------------------------------------------------- the double
function requestsSince(log, offset) {
  if (!fs.existsSync(log)) return { requests: [], offset };
  const buf = fs.readFileSync(log);
  const text = buf.subarray(offset).toString('utf8');
  return { requests: text.split('\n').filter(Boolean).map((l) => JSON.parse(l)), offset: buf.length };
}

/**
 * kubectl's discovery cache for the double (which serves no /api or /apis
 * discovery documents): the state kubectl is in on every run after its first
 * when its HOME is writable, so kubectl is measured at its best.
 */
function writeDiscoveryCache(home, url) {
  const dir = path.join(home, '.kube', 'cache', 'discovery', new URL(url).host.replace(/[^\w/.]/g, '_'));
  const R = [
    ['', 'pods', 'Pod', true, ['po']], ['', 'events', 'Event', true, ['ev']], ['', 'nodes', 'Node', false, ['no']],
    ['', 'services', 'Service', true, ['svc']], ['', 'endpoints', 'Endpoints', true, ['ep']], ['', 'namespaces', 'Namespace', false, ['ns']],
    ['', 'configmaps', 'ConfigMap', true, ['cm']], ['', 'persistentvolumeclaims', 'PersistentVolumeClaim', true, ['pvc']],
    ['coordination.k8s.io', 'leases', 'Lease', true, []],
    ['apps', 'deployments', 'Deployment', true, ['deploy']], ['apps', 'daemonsets', 'DaemonSet', true, ['ds']],
    ['apps', 'replicasets', 'ReplicaSet', true, ['rs']], ['apps', 'statefulsets', 'StatefulSet', true, ['sts']],
    ['policy', 'poddisruptionbudgets', 'PodDisruptionBudget', true, ['pdb']],
    ['discovery.k8s.io', 'endpointslices', 'EndpointSlice', true, []],
  ];
  const byGv = new Map();
  for (const [group, plural, kind, namespaced, shortNames] of R) {
    const gv = group ? `${group}/v1` : 'v1';
    if (!byGv.has(gv)) byGv.set(gv, []);
    byGv.get(gv).push({ name: plural, singularName: kind.toLowerCase(), namespaced, kind, verbs: ['get', 'list', 'watch'], ...(shortNames.length && { shortNames }) });
  }
  const groups = [...byGv.keys()].map((gv) => {
    const v = { groupVersion: gv, version: 'v1' };
    return { name: gv === 'v1' ? '' : gv.split('/')[0], versions: [v], preferredVersion: v };
  });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'servergroups.json'), JSON.stringify({ kind: 'APIGroupList', apiVersion: 'v1', groups }));
  for (const [gv, resources] of byGv) {
    fs.mkdirSync(path.join(dir, gv), { recursive: true });
    fs.writeFileSync(path.join(dir, gv, 'serverresources.json'), JSON.stringify({ kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv, resources }));
  }
}

// ---------------------------------------------------------------- how each check is run
/** The arguments nrpe.d/k8s-nrpe.cfg gives a check, with our kubeconfig. */
function nrpeArgs(check, kubeconfig) {
  const cfg = fs.existsSync(NRPE_CFG) ? fs.readFileSync(NRPE_CFG, 'utf8') : '';
  const line = cfg.split('\n').find((l) => l.startsWith(`command[check_k8s_${check}]=`));
  if (!line) return ['--kubeconfig', kubeconfig];
  const args = line.slice(line.indexOf('=') + 1).trim().split(/\s+/).slice(1);
  const k = args.indexOf('--kubeconfig');
  if (k >= 0) args[k + 1] = kubeconfig;
  else args.unshift('--kubeconfig', kubeconfig);
  return args;
}

function helpText(check) {
  try {
    return execFileSync(path.join(DIST, `check_k8s_${check}`), ['--help'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
  } catch (e) {
    return String(e.stdout ?? '');
  }
}


/** Peak RSS of a process tree: the sum over its processes of each one's VmHWM, polled. */
function pollTree(root, peaks) {
  const stack = [root];
  const seen = new Set();
  while (stack.length) {
    const pid = stack.pop();
    if (seen.has(pid)) continue;
    seen.add(pid);
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m && pid !== root) peaks.set(pid, Math.max(peaks.get(pid) ?? 0, Number(m[1])));
      for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
        const ch = fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim();
        if (ch) stack.push(...ch.split(/\s+/).map(Number));
      }
    } catch { /* gone */ }
  }
}

/**
 * One run under GNU time with the process tree polled: peak RSS (the largest
 * process, from time; the sum of every process's peak, from /proc), exit
 * code, first line of output, and the API requests it made.
 */
async function measureOnce(argv, env, server) {
  const before = requestsSince(server.log, 0).offset;
  const tf = path.join(server.dir, `time.${process.pid}.txt`);
  const child = spawn('/usr/bin/time', ['-f', '%M %e %U %S', '-o', tf, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const peaks = new Map();
  const timer = setInterval(() => pollTree(child.pid, peaks), 4);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => { stdout += c; });
  child.stderr.on('data', (c) => { stderr += c; });
  const code = await new Promise((resolve) => child.on('close', (c) => resolve(c)));
  clearInterval(timer);
  const [maxKB, secs, user, sys] = fs.readFileSync(tf, 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
  const sumKB = [...peaks.values()].reduce((a, b) => a + b, 0);
  const { requests } = requestsSince(server.log, before);
  return {
    code,
    firstLine: stdout.split('\n')[0],
    stderr: stderr.split('\n').find((l) => l.trim()) ?? '',
    maxRssKB: maxKB,
    treeRssKB: Math.max(sumKB, maxKB),
    processes: peaks.size,
    wallMs: secs * 1000,
    cpuMs: (user + sys) * 1000,
    requests: requests.length,
    bytes: requests.reduce((n, r) => n + (r.bytes ?? 0), 0),
    queries: requests.map((r) => ({ path: r.path, query: r.query, status: r.status, bytes: r.bytes })),
  };
}

/** Median wall time and CPU time over `runs` runs (hyperfine, no shell in between). */
function hyperfine(argv, runs, warmup, dir) {
  const jf = path.join(dir, `hyperfine.${process.pid}.json`);
  execFileSync('hyperfine', ['-N', '--style', 'none', '-i', '--warmup', String(warmup), '--runs', String(runs), '--export-json', jf, argv.map(quote).join(' ')],
    { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 16 * 1024 * 1024 });
  const r = JSON.parse(fs.readFileSync(jf, 'utf8')).results[0];
  return { medianMs: r.median * 1000, meanMs: r.mean * 1000, stddevMs: (r.stddev ?? 0) * 1000, minMs: r.min * 1000, maxMs: r.max * 1000, cpuMs: (r.user + r.system) * 1000, runs: r.times.length };
}

// ---------------------------------------------------------------- formatting
const ms = (v) => (v === undefined ? '-' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(0)} ms`);
const mb = (kb) => (kb === undefined ? '-' : `${(kb / 1024).toFixed(0)} MB`);
const bytes = (b) => (b === undefined ? '-' : b >= 1048576 ? `${(b / 1048576).toFixed(1)} MB` : b >= 1024 ? `${(b / 1024).toFixed(1)} KB` : `${b} B`);
/** The check's own peak RSS, and what its child processes (host commands) added, if any. */
const rss = (x) => (x ? `${mb(x.maxRssKB)}${x.treeRssKB - x.maxRssKB > 1024 ? ` (+${mb(x.treeRssKB - x.maxRssKB)} children)` : ''}` : '-');
const ratio = (a, b) => (a && b ? `${(a / b).toFixed(1)}x` : '-');
const pct = (a, b) => (a && b ? `${((b / a - 1) * 100).toFixed(0)}%` : '-');
const table = (head, rows) => [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
const stateOf = (line) => /^K8S .*? (OK|WARNING|CRITICAL|UNKNOWN) - /.exec(line)?.[1] ?? /^(OK|WARNING|CRITICAL|UNKNOWN)\b/.exec(line)?.[1] ?? '?';

function machine() {
  const cpu = /model name\s*:\s*(.+)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? '?';
  const tool = (cmd, args) => { try { return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0].trim(); } catch { return '?'; } };
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    cpu,
    memGB: (os.totalmem() / 2 ** 30).toFixed(1),
    kernel: os.release(),
    node: process.version,
    hyperfine: tool('hyperfine', ['--version']),
    jq: tool('jq', ['--version']),
  };
}

// ---------------------------------------------------------------- main
async function main() {
  const o = options(process.argv.slice(2));
  if (o.report) {
    console.log(report(JSON.parse(fs.readFileSync(o.report, 'utf8'))));
    return;
  }
  prerequisites(o);
  const kubectl = o.shell ? resolveKubectl(o.kubectl) : undefined;
  const all = execFileSync(MAIN, ['--list'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } }).split('\n').filter(Boolean);
  const checks = all.filter((c) => !o.checks || o.checks.includes(c)).flatMap((c) => [c, ...(VARIANTS[c] ?? [])]);
  if (o.checks) for (const c of o.checks) if (!all.includes(c)) die(`--checks: dist/k8s-nrpe --list has no ${c} (it has ${all.join(', ')})`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-nrpe-bench-'));
  const m = machine();
  if (kubectl) m.kubectl = `${kubectl} (${execFileSync(kubectl, ['version', '--client'], { encoding: 'utf8' }).split('\n')[0].replace('Client Version: ', '')})`;
  const results = { machine: m, options: { ...o, json: undefined, markdown: undefined }, checks: all, skipped: {}, startup: undefined, sizes: [] };
  const log = (s) => process.stderr.write(`${s}\n`);
  log(`bench: ${checks.length} checks (${checks.join(', ')}), sizes ${o.sizes.join(', ')}, work dir ${work}`);
  log(`bench: ${m.nproc} CPUs (${m.cpu}), load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  // Shell equivalents run with the real kubectl first on PATH, in a HOME of their own.
  const bin = path.join(work, 'bin');
  fs.mkdirSync(bin);
  if (kubectl) fs.symlinkSync(kubectl, path.join(bin, 'kubectl'));
  const PATH = '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin';
  const envFor = (home, extraPath = '') => ({ PATH: extraPath + PATH, HOME: home });
  const cleanEnv = (home, extraPath = '') => ['env', '-i', `PATH=${extraPath}${PATH}`, `HOME=${home}`];

  // Start-up with no network: the floor under every check.
  {
    const argv = [...cleanEnv('/nonexistent'), MAIN, '--help'];
    const h = hyperfine(argv, Math.max(o.runs * 2, 10), o.warmup + 1, work);
    const fake = { dir: work, log: path.join(work, 'none.jsonl') };
    const once = await measureOnce(argv, envFor('/nonexistent'), fake);
    results.startup = { ...h, maxRssKB: once.maxRssKB };
    log(`startup (k8s-nrpe --help): median ${ms(h.medianMs)}, cpu ${ms(h.cpuMs)}, peak RSS ${mb(once.maxRssKB)}`);
  }

  const helps = Object.fromEntries(checks.filter((c) => !c.includes('@')).map((c) => [c, helpText(c)]));
  const kept = [];
  for (const size of o.sizes) {
    const pods = sizeOf(size);
    const dir = path.join(work, size.replace(':', '-'));
    fs.mkdirSync(dir);
    const scenario = path.join(dir, 'scenario.json');
    const { scenario: cluster, layout } = clusterScenario(INCIDENT, pods);
    const events = layout.events;
    fs.writeFileSync(scenario, JSON.stringify(cluster));
    const server = await startDouble(scenario, dir);
    const home = path.join(dir, 'home');
    writeDiscoveryCache(home, server.url);
    const load0 = os.loadavg()[0];
    log(`\n== ${size}: ${pods} Running pods on ${layout.nodes} nodes (${layout.onIncident} on the incident's, ${layout.onWorkers} on ${layout.workers} workers), ${events} events (+ incident objects); double up in ${ms(server.startMs)} on ${server.url}`);
    const rows = [];
    try {
      for (const check of checks) {
        if (SKIP[check]) {
          results.skipped[check] = SKIP[check];
          continue;
        }
        const [base, form] = check.split('@');
        const nodeArgs = form !== 'cluster' && /--node\b/.test(helps[base]) ? ['--node', BENCH_NODE] : [];
        const args = [...nrpeArgs(base, server.kubeconfig), ...nodeArgs];
        const argv = [...cleanEnv('/nonexistent'), path.join(DIST, `check_k8s_${base}`), ...args];
        const once = await measureOnce(argv, envFor('/nonexistent'), server);
        // A run of seconds (a check that grows with the cluster, or ends at its -t) gets 3 runs, no
        // warm-up: its cost is plain at that scale, and the whole benchmark stays near ten minutes.
        const slow = once.wallMs > 5000;
        const h = hyperfine(argv, slow ? Math.min(o.runs, 3) : o.runs, slow ? 0 : o.warmup, dir);
        const row = { check, args, argv, ...once, ...h };
        log(`${check}: ${stateOf(once.firstLine)}, median ${ms(h.medianMs)}, cpu ${ms(h.cpuMs)}, RSS ${rss(once)}, ${once.requests} requests ${bytes(once.bytes)}`);
        if (stateOf(once.firstLine) === 'UNKNOWN') log(`  ! ${once.firstLine}`);
        if (once.stderr) log(`  ! stderr: ${once.stderr}`);
        // --page-sizes: the same check with other --page-size values (issue 18: pages chosen from measurement).
        if (o.pageSizes?.length) {
          row.pages = [];
          for (const pageSize of o.pageSizes) {
            const pargv = [...argv, '--page-size', String(pageSize)];
            const ponce = await measureOnce(pargv, envFor('/nonexistent'), server);
            const ph = hyperfine(pargv, ponce.wallMs > 5000 ? 3 : Math.min(o.runs, 5), 0, dir);
            row.pages.push({ pageSize, state: stateOf(ponce.firstLine), requests: ponce.requests, bytes: ponce.bytes, maxRssKB: ponce.maxRssKB, medianMs: ph.medianMs, cpuMs: ph.cpuMs });
            log(`  --page-size ${pageSize}: ${stateOf(ponce.firstLine)}, median ${ms(ph.medianMs)}, cpu ${ms(ph.cpuMs)}, RSS ${rss(ponce)}, ${ponce.requests} requests ${bytes(ponce.bytes)}`);
          }
        }
        const script = path.join(SHELL_DIR, `${check}.sh`); // none for a check@form
        if (o.shell && fs.existsSync(script)) {
          const sargv = [...cleanEnv(home, `${bin}:`), 'bash', script, server.kubeconfig, BENCH_NODE];
          // Seconds to minutes a run on big clusters: GNU time's wall clock is
          // precise enough, and each run also gives memory and bytes. Stop
          // early once a minute is spent (the large sizes).
          const sRuns = [];
          const t0 = Date.now();
          while (sRuns.length < o.shellRuns && (sRuns.length === 0 || Date.now() - t0 < 60_000)) {
            sRuns.push(await measureOnce(sargv, envFor(home, `${bin}:`), server));
          }
          const sOnce = sRuns[0];
          const walls = sRuns.map((x) => x.wallMs).sort((a, b) => a - b);
          const sh = {
            medianMs: walls.length % 2 ? walls[(walls.length - 1) / 2] : (walls[walls.length / 2 - 1] + walls[walls.length / 2]) / 2,
            minMs: walls[0],
            maxMs: walls.at(-1),
            cpuMs: sRuns.reduce((n, x) => n + x.cpuMs, 0) / sRuns.length,
            runs: sRuns.length,
            treeRssKB: Math.max(...sRuns.map((x) => x.treeRssKB)),
            maxRssKB: Math.max(...sRuns.map((x) => x.maxRssKB)),
          };
          row.shell = { ...sOnce, ...sh };
          log(`  shell: ${stateOf(sOnce.firstLine)}, median ${ms(sh.medianMs)} of ${sh.runs}, cpu ${ms(sh.cpuMs)}, RSS ${mb(sh.treeRssKB)} (${sOnce.processes} processes), ${sOnce.requests} requests ${bytes(sOnce.bytes)}: ${(sh.medianMs / h.medianMs).toFixed(1)}x`);
          if (sOnce.code !== once.code) log(`  ! verdict MISMATCH: check exit ${once.code}, script exit ${sOnce.code}: ${sOnce.firstLine.slice(0, 200)}${sOnce.stderr ? ` (stderr: ${sOnce.stderr.slice(0, 200)})` : ''}`);
        }
        rows.push(row);
      }
    } finally {
      // The smallest and largest clusters stay up for the interleaved comparison below.
      const keep = o.sizes.length >= 2 && (size === o.sizes[0] || size === o.sizes.at(-1));
      if (keep) kept.push(server);
      else await server.stop();
    }
    results.sizes.push({ size, pods, events, layout, doubleStartMs: server.startMs, load: [load0, os.loadavg()[0]], rows });
  }

  // Growth, measured fairly: the same check against the smallest and the
  // largest cluster in alternating runs, so a busy minute on the shared
  // machine lands on both sides instead of on one size.
  try {
    if (results.sizes.length >= 2) {
      const a = results.sizes[0], b = results.sizes.at(-1);
      log(`\n== growth ${a.size} -> ${b.size}: ${o.runs} alternating runs per check`);
      results.growth = {};
      for (const x of a.rows) {
        const y = b.rows.find((z) => z.check === x.check);
        if (!y) continue;
        const n = y.medianMs > 5000 ? Math.min(o.runs, 3) : o.runs;
        const [ga, gb] = interleaved([x.argv, y.argv], n);
        const g = { a: { wallMs: ga.wallMs, cpuMs: ga.cpuMs }, b: { wallMs: gb.wallMs, cpuMs: gb.cpuMs }, runs: n };
        results.growth[x.check] = g;
        log(`${x.check}: wall ${ms(g.a.wallMs)} -> ${ms(g.b.wallMs)}, cpu ${ms(g.a.cpuMs)} -> ${ms(g.b.cpuMs)}`);
      }
    }
  } finally {
    for (const server of kept) await server.stop();
  }

  const md = report(results);
  console.log(md);
  const jsonOut = o.json ?? path.join(work, 'results.json');
  fs.writeFileSync(jsonOut, JSON.stringify(results, null, 1));
  if (o.markdown) fs.writeFileSync(o.markdown, `${md}\n`);
  const bad = results.sizes.flatMap((s) => s.rows.filter((x) => x.shell && x.shell.code !== x.code).map((x) => `${s.size} ${x.check}`));
  if (bad.length) {
    log(`\nbench: verdict mismatches (check vs script): ${bad.join(', ')}`);
    process.exitCode = 1;
  }
  log(`\nbench: results in ${jsonOut}${o.markdown ? ` and ${o.markdown}` : ''}`);
  if (!o.keep) {
    for (const s of results.sizes) fs.rmSync(path.join(work, s.size.replace(':', '-')), { recursive: true, force: true });
    if (!o.json) log('bench: (work dir kept for results.json; scenario and certificate dirs removed, --keep keeps them)');
  }
}

// ---------------------------------------------------------------- the report
function report(r) {
  const out = [];
  const m = r.machine;
  out.push(`Machine: ${m.nproc} CPUs (${m.cpu}), ${m.memGB} GiB, Linux ${m.kernel}, Node ${m.node}; ${m.date}`);
  out.push(`Tools: ${m.hyperfine}, ${m.jq}${m.kubectl ? `, kubectl ${m.kubectl}` : ''}`);
  out.push(`Runs: ${r.options.runs} per check (hyperfine, warm-up ${r.options.warmup}; 3 and no warm-up when a run takes over 5 s; plus one under GNU time for memory and bytes); up to ${r.options.shellRuns} per kubectl+jq script under GNU time (fewer once a minute is spent). Wall time is the median, CPU is user+system (mean).`);
  if (r.startup) {
    const s = r.startup;
    out.push('', `Start-up, \`k8s-nrpe --help\` (no network): median ${ms(s.medianMs)} (min ${ms(s.minMs)}), CPU ${ms(s.cpuMs)}, peak RSS ${mb(s.maxRssKB)} -> target < ${TARGET.startupMs} ms: ${s.medianMs < TARGET.startupMs ? 'met' : 'MISSED'}`);
  }
  for (const s of r.sizes) {
    out.push('', `### ${s.size}: ${s.pods} Running pods on ${s.layout?.nodes ?? '?'} nodes, ${s.events} events (load ${s.load.map((l) => l.toFixed(1)).join(' -> ')})`, '');
    if (s.layout) out.push(`${s.layout.onIncident} of the pods on the incident's nodes k8s01-k8s03, ${s.layout.onWorkers} on ${s.layout.workers} worker nodes (110 a node); the double started in ${ms(s.doubleStartMs)}. kubectl+jq RSS is the sum of its processes' peaks; "verdict" compares the exit codes of check and script.`, '');
    out.push(table(
      ['check', 'state', 'requests', 'bytes', 'wall (median)', 'CPU', 'peak RSS', 'script: state', 'requests', 'bytes', 'wall', 'CPU', 'RSS', 'script / check: wall, CPU'],
      s.rows.map((x) => [
        x.check, stateOf(x.firstLine), x.requests, bytes(x.bytes), ms(x.medianMs), ms(x.cpuMs), rss(x),
        x.shell ? `${stateOf(x.shell.firstLine)}${x.shell.code === x.code ? '' : ' **MISMATCH**'}` : '-',
        x.shell?.requests ?? '-', bytes(x.shell?.bytes), ms(x.shell?.medianMs), ms(x.shell?.cpuMs), mb(x.shell?.treeRssKB),
        x.shell ? `${ratio(x.shell.medianMs, x.medianMs)}, ${ratio(x.shell.cpuMs, x.cpuMs)}` : '-',
      ])));
  }
  if (r.sizes.length >= 2) {
    const a = r.sizes[0], b = r.sizes.at(-1);
    out.push('', `### Growth from ${a.size} to ${b.size} (target: within ${TARGET.growth * 100}%)`, '');
    if (r.growth) out.push(`Wall and CPU time: medians of ${r.options.runs} runs against each cluster, alternating, both clusters up (one busy minute on the shared machine lands on both sides), timed by bash (a fork more than hyperfine: compare within a row). RSS and bytes: the runs above.`, '');
    out.push(table(['check', `requests ${a.size}`, `requests ${b.size}`, 'growth', `wall ${a.size}`, `wall ${b.size}`, 'growth', `CPU ${a.size}`, `CPU ${b.size}`, 'growth', `RSS ${a.size}`, `RSS ${b.size}`, 'growth', `bytes ${a.size}`, `bytes ${b.size}`, 'growth'],
      a.rows.map((x) => {
        const y = b.rows.find((z) => z.check === x.check);
        const g = r.growth?.[x.check];
        const wa = g?.a.wallMs ?? x.medianMs, wb = g?.b.wallMs ?? y?.medianMs, ca = g?.a.cpuMs ?? x.cpuMs, cb = g?.b.cpuMs ?? y?.cpuMs;
        return [x.check, x.requests, y?.requests ?? '-', pct(x.requests, y?.requests), ms(wa), ms(wb), pct(wa, wb), ms(ca), ms(cb), pct(ca, cb),
          mb(x.maxRssKB), mb(y?.maxRssKB), pct(x.maxRssKB, y?.maxRssKB), bytes(x.bytes), bytes(y?.bytes), pct(x.bytes, y?.bytes)];
      })));
  }
  const t = r.sizes.find((s) => s.size === TARGET.size);
  const first = r.sizes[0], last = r.sizes.at(-1);
  if (t || first !== last) {
    out.push('', `### Targets (issue 18)`, '');
    const rows = (t ?? last).rows;
    out.push(table(['check', `flat ${first.size} -> ${last.size} (requests, bytes, CPU, RSS within ${TARGET.growth * 100}%)`, `less CPU and wall than the script at ${(t ?? last).size}`, `>= ${TARGET.speedup}x where the script's lists are large (> ${bytes(LIST_HEAVY_BYTES)})`],
      rows.map((x) => {
        const grow = (f) => {
          const a = f(first.rows.find((z) => z.check === x.check)), b = f(last.rows.find((z) => z.check === x.check));
          return a === 0 && b === 0 ? 0 : a && b ? b / a - 1 : undefined; // 0 -> 0: nothing grew
        };
        const gi = r.growth?.[x.check];
        const g = [grow((z) => z?.requests), grow((z) => z?.bytes), gi ? gi.b.cpuMs / gi.a.cpuMs - 1 : grow((z) => z?.cpuMs), grow((z) => z?.maxRssKB)];
        const ok = (v) => v !== undefined && v <= TARGET.growth;
        const show = g.map((v) => (v === undefined ? '?' : `${v >= 0 ? '+' : ''}${(v * 100).toFixed(0)}%`)).join(', ');
        const flat = first === last ? '-' : g.every(ok) ? `met (${show})` : `MISSED (${show})`;
        const sh = x.shell;
        const beats = !sh ? 'no script' : sh.cpuMs > x.cpuMs && sh.medianMs > x.medianMs ? `met (${ratio(sh.medianMs, x.medianMs)}, ${ratio(sh.cpuMs, x.cpuMs)})` : `MISSED (${ratio(sh.medianMs, x.medianMs)}, ${ratio(sh.cpuMs, x.cpuMs)})`;
        const heavy = !sh ? '-' : sh.bytes < LIST_HEAVY_BYTES ? `- (${bytes(sh.bytes)})`
          : Math.min(sh.medianMs / x.medianMs, sh.cpuMs / x.cpuMs) >= TARGET.speedup ? 'met' : `MISSED (${ratio(sh.medianMs, x.medianMs)}, ${ratio(sh.cpuMs, x.cpuMs)})`;
        return [x.check, flat, beats, heavy];
      })));
  }
  const mismatches = r.sizes.flatMap((s) => s.rows.filter((x) => x.shell && x.shell.code !== x.code).map((x) => `- ${s.size} ${x.check}: check ${stateOf(x.firstLine)} (${x.code}), script ${stateOf(x.shell.firstLine)} (${x.shell.code}): ${x.shell.firstLine.slice(0, 160)}`));
  const compared = r.sizes.flatMap((s) => s.rows.filter((x) => x.shell)).length;
  if (compared) out.push('', mismatches.length ? `Verdict mismatches between check and script (${mismatches.length} of ${compared}):` : `Verdicts: check and script agree in all ${compared} runs compared.`, ...mismatches);
  const skipped = Object.entries(r.skipped);
  if (skipped.length) out.push('', 'Not run against the clusters:', ...skipped.map(([c, why]) => `- ${c}: ${why}`));
  if (last) {
    out.push('', `### What each check asked for at ${last.size} (from the double's requests.jsonl)`, '');
    for (const x of last.rows) {
      const agg = new Map();
      for (const q of x.queries) {
        // GETs by name and per-namespace lists are grouped: /api/v1/namespaces/*/pods/* x12.
        const p = q.path.replace(/\/namespaces\/[^/]+\//, '/namespaces/*/');
        const named = /^\/(api\/v1|apis\/[^/]+\/[^/]+)\/(namespaces\/\*\/)?[^/]+\/[^/]+$/.test(p);
        const sel = q.query.fieldSelector?.replace(/(involvedObject\.name|metadata\.name)=[^,]*/g, '$1=*');
        const k = `${named ? p.replace(/\/[^/]+$/, '/*') : p}${sel ? ` fieldSelector=${sel}` : ''}${q.query.labelSelector ? ` labelSelector=${q.query.labelSelector}` : ''}`;
        const e = agg.get(k) ?? { n: 0, bytes: 0, named };
        e.n++;
        e.bytes += q.bytes;
        agg.set(k, e);
      }
      out.push(`- ${x.check}: ${[...agg].map(([k, e]) => `\`${k}\` ${e.n > 1 ? `${e.n} ${e.named ? 'GETs' : /=\*/.test(k) ? 'lists' : 'requests'} ` : ''}${bytes(e.bytes)}`).join('; ')}`);
    }
  }
  return out.join('\n');
}

main().catch((e) => {
  console.error(`bench: ${e.stack ?? e}`);
  process.exit(1);
});
