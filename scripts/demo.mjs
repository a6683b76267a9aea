// The bundled demo: start the API server double with a scenario's cluster
// state and run every check against it, as a person would on a node; then
// the triage table.
//
// The node-local checks judge demo inputs, never this machine:
//   check_k8s_calico_nat  a recorded NAT table loaded into a network namespace
//                         of the demo's own (unshare --net as root, unshare
//                         --user --map-root-user --net otherwise); the demo
//                         re-runs itself in it, so the double is there too and
//                         nothing is left behind when it exits
//   check_k8s_dqlite      a journal directory written by systemd-journal-remote
//                         (as test/journal-fixture.ts does), --journal-directory
//   check_k8s_canary      the double plays the scheduler and kubelet for the
//                         canary's pod (test/apiserver/lifecycle.ts); in the
//                         incident the scheduler never tries it, as k8s02's
//                         stalled scheduler did
// When one of these cannot be simulated here the check is not run, and the
// header says why.
//
//   node scripts/demo.mjs [incident|healthy|<fixture>]   (npm run demo)
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const self = fileURLToPath(import.meta.url);
const scenario = process.argv[2] ?? 'incident';
const NETNS_ENV = 'K8S_NRPE_DEMO_NETNS';

// --- A network namespace of our own ------------------------------------------
if (!process.env[NETNS_ENV]) {
  const flags = process.getuid?.() === 0 ? ['--net'] : ['--user', '--map-root-user', '--net'];
  const probe = spawnSync('unshare', [...flags, 'true'], { stdio: 'ignore' });
  const why = probe.error ? `unshare: ${probe.error.code}` : probe.status !== 0 ? `unshare ${flags.join(' ')} is not allowed here (not root, and no unprivileged user namespaces)` : '';
  // Without a namespace the demo runs here, and calico_nat is not run (the header says why).
  const r = why
    ? spawnSync(process.execPath, [self, ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, [NETNS_ENV]: `no: ${why}` } })
    : spawnSync('unshare', [...flags, process.execPath, self, ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, [NETNS_ENV]: 'yes' } });
  process.exit(r.status ?? 1);
}
const inNetns = process.env[NETNS_ENV] === 'yes';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-nrpe-demo-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
const quiet = (cmd, args, input) => execFileSync(cmd, args, { input, stdio: ['pipe', 'ignore', 'pipe'], encoding: 'utf8' });

// A scenario is a directory of JSON files (test/fixtures/incident/) or one file.
const fixtures = path.join(root, 'test/fixtures');
const scenarioPath = fs.existsSync(path.join(fixtures, scenario)) ? path.join(fixtures, scenario) : path.join(fixtures, `${scenario}.json`);
const incident = scenario === 'incident';
// The incident happened on k8s02: checks that judge one node look at it, as they would run there.
const node = process.env.DEMO_NODE ?? (incident ? 'k8s02' : 'k8s01');

// --- calico_nat: the node's NAT table, in our namespace ----------------------
/** Why the NAT table cannot be simulated, or '' once it is loaded. */
function loadNatTable() {
  if (!inNetns) return process.env[NETNS_ENV].replace(/^no: /, '');
  try {
    quiet('ip', ['link', 'set', 'lo', 'up']);
  } catch (e) {
    return `ip link set lo up failed in the namespace: ${String(e.stderr || e.message).trim()}`;
  }
  // The recorded rules match on Felix's ipsets; without ipset an empty table still shows the incident's signature.
  let sets = true;
  try {
    for (const set of ['cali40masq-ipam-pools', 'cali40all-ipam-pools']) quiet('ipset', ['create', set, 'hash:net', 'family', 'inet']);
  } catch {
    sets = false;
  }
  const empty = '*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n';
  const file = incident ? 'calico-only.rules' : 'kube-proxy-iptables.rules';
  const rules = sets ? fs.readFileSync(path.join(fixtures, 'netfilter', file), 'utf8') : empty;
  try {
    quiet('iptables-restore', [], rules);
  } catch (e) {
    return `iptables-restore failed in the namespace: ${String(e.stderr || e.message).trim().split('\n')[0]}`;
  }
  // The check reads both iptables backends: the legacy one is closed to an unprivileged user namespace.
  try {
    quiet('iptables-legacy-save', []);
  } catch (e) {
    return `iptables-legacy-save cannot read the legacy tables here (${String(e.stderr || e.message).trim().split('\n')[0]}): run the demo as root`;
  }
  natSource = sets ? `test/fixtures/netfilter/${file}` : 'an empty nat table (ipset is not installed, the recorded rules need it)';
  return '';
}
let natSource = '';
const natMissing = loadNatTable();

// --- dqlite: a journal directory ---------------------------------------------
/** Why the journal cannot be simulated, or '' once DIR/journal holds it. */
async function writeDemoJournal() {
  const tmp = path.join(dir, 'journal-fixture.mjs');
  await build({ entryPoints: [path.join(root, 'test/journal-fixture.ts')], outfile: tmp, bundle: true, platform: 'node', format: 'esm', logLevel: 'error' });
  const j = await import(pathToFileURL(tmp).href);
  const missing = j.journalRemoteMissing();
  if (missing) return missing;
  const now = Date.now();
  const S = 1000;
  // Ordinary lines, then (incident) what k8s02's k8s-dqlite logged while every query failed.
  const entries = Array.from({ length: 20 }, (_, k) => j.dqliteEntry(now - 10 * S - k * 13 * S, 'info', `Compacted revision ${90000 + k}`));
  if (incident) {
    for (let k = 0; k < 36; k++) entries.push(j.dqliteEntry(now - 15 * S - k * 7 * S, 'error', 'error in txn: query (try: 0): context canceled'));
    for (let k = 0; k < 3; k++) entries.push(j.dqliteEntry(now - 20 * S - k * 31 * S, 'error', 'error in txn: exec (try: 0): database is locked'));
  }
  j.writeJournal(path.join(dir, 'journal'), entries);
  return '';
}
const journalMissing = await writeDemoJournal().catch((e) => `writing the journal failed: ${e.message}`);

// --- The cluster ---------------------------------------------------------------
// The scenario, plus a scheduler and kubelet for the canary's pod: in the incident the scheduler
// holds its Lease and never tries the pod (the lifecycle's 'unbound' fault).
const scenarioDir = path.join(dir, 'scenario');
fs.mkdirSync(scenarioDir);
if (fs.statSync(scenarioPath).isDirectory()) {
  for (const f of fs.readdirSync(scenarioPath).filter((n) => n.endsWith('.json'))) fs.copyFileSync(path.join(scenarioPath, f), path.join(scenarioDir, f));
} else fs.copyFileSync(scenarioPath, path.join(scenarioDir, 'scenario.json'));
const canaryFault = incident ? 'unbound' : undefined;
fs.writeFileSync(path.join(scenarioDir, 'zz-canary-lifecycle.json'), JSON.stringify({ objects: [{
  apiVersion: 'k8s-nrpe.test/v1', kind: 'PodLifecycle', metadata: { name: 'canary' },
  spec: { namespaces: ['k8s-nrpe-canary'], stepMs: 300, ...(canaryFault && { fault: canaryFault }) },
}] }));
const server = spawn(process.execPath, [path.join(root, 'dist/test/apiserver.mjs'), '--scenario', scenarioDir, '--dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
const ready = await new Promise((resolve, reject) => {
  let out = '';
  server.stdout.on('data', (c) => { out += c; if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0])); });
  server.on('exit', (code) => reject(new Error(`API double exited with ${code}`)));
});
const kubeconfig = path.join(dir, 'kubeconfig-cert.yaml');

console.log([
  `k8s-nrpe demo: the '${scenario}' scenario, as the checks see it on node ${node}.`,
  'Simulated (nothing below reads this machine, except its boot time):',
  `  cluster       an API server double on ${ready.url} serving ${path.relative(root, scenarioPath)}`,
  natMissing
    ? `  calico_nat    NOT RUN: ${natMissing}`
    : `  calico_nat    ${node}'s NAT table from ${natSource}, loaded into a network namespace of the demo's own`,
  journalMissing
    ? `  dqlite        NOT RUN: ${journalMissing}`
    : `  dqlite        a journal directory of k8s-dqlite lines${incident ? " with k8s02's 'context canceled' storm" : ''} (--journal-directory)`,
  `  canary        the double schedules and starts the canary's pod${canaryFault ? ', except that its scheduler never tries it (the stall)' : ''}`,
  '  boot time     this machine\'s: the double dates calico-node\'s start relative to it',
  '',
].join('\n'));

const bin = (name) => path.join(root, 'dist', name);
const run = (name, args) => {
  console.log(`$ ${name} ${args.join(' ')}`);
  try {
    process.stdout.write(execFileSync(bin(name), args, { encoding: 'utf8', env: { PATH: process.env.PATH } }));
    console.log('(exit 0)\n');
  } catch (e) {
    process.stdout.write(e.stdout ?? '');
    console.log(`(exit ${e.status})\n`);
  }
};
const extra = {
  dqlite: journalMissing ? undefined : ['--journal-directory', path.join(dir, 'journal')],
  calico_nat: natMissing ? undefined : [],
  // A stage past its critical limit ends the wait: 5s instead of 20s keeps the demo short; -t 30
  // leaves that wait, the evidence and the delete inside the run's time on a busy machine too.
  canary: ['-t', '30', '--schedule-critical', '5s'],
};
try {
  const checks = execFileSync(bin('k8s-nrpe'), ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  const notRun = [];
  for (const check of checks) {
    if (check in extra && !extra[check]) { notRun.push(check); continue; }
    // --help exits 3, as every Monitoring Plugin does: read its text, not its status.
    const takesNode = /--node\b/.test(String(spawnSync(bin('k8s-nrpe'), [check, '--help'], { encoding: 'utf8' }).stdout));
    run(`check_k8s_${check}`, ['--kubeconfig', kubeconfig, ...(takesNode ? ['--node', node] : []), ...(extra[check] ?? [])]);
  }
  // Everything at once, worst first: what a person on the node runs first. Triage cannot point
  // dqlite at the demo journal, so it skips it (and what could not be simulated).
  const skip = [...new Set(['dqlite', ...notRun])].filter((c) => checks.includes(c));
  run('k8s-nrpe', ['triage', '--kubeconfig', kubeconfig, '--node', node, ...(skip.length ? ['--skip', skip.join(',')] : [])]);
} finally {
  process.kill(ready.pid, 'SIGTERM');
}
