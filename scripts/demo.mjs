// The bundled demo: start the API server double with the incident's cluster
// state and run every check against it, as a person would on a node.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const scenario = process.argv[2] ?? 'incident';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-nrpe-demo-'));
// A scenario is a directory of JSON files (test/fixtures/incident/) or one file.
const fixtures = path.join(root, 'test/fixtures');
const scenarioPath = fs.existsSync(path.join(fixtures, scenario)) ? path.join(fixtures, scenario) : path.join(fixtures, `${scenario}.json`);
const server = spawn(process.execPath, [path.join(root, 'dist/test/apiserver.mjs'), '--scenario', scenarioPath, '--dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
const ready = await new Promise((resolve, reject) => {
  let out = '';
  server.stdout.on('data', (c) => { out += c; if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0])); });
  server.on('exit', (code) => reject(new Error(`API double exited with ${code}`)));
});
const kubeconfig = path.join(dir, 'kubeconfig-cert.yaml');
console.log(`API server double on ${ready.url} serving the '${scenario}' scenario (${path.relative(root, scenarioPath)})\n`);

// The incident happened on k8s02: checks that judge one node look at it, as they would run there.
const node = process.env.DEMO_NODE ?? (scenario === 'incident' ? 'k8s02' : 'k8s01');
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
const checks = execFileSync(bin('k8s-nrpe'), ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
for (const check of checks) {
  // --help exits 3, as every Monitoring Plugin does: read its text, not its status.
  const takesNode = /--node\b/.test(String(spawnSync(bin('k8s-nrpe'), [check, '--help'], { encoding: 'utf8' }).stdout));
  run(`check_k8s_${check}`, ['--kubeconfig', kubeconfig, ...(takesNode ? ['--node', node] : [])]);
}
// Everything at once, worst first: what a person on the node runs first.
run('k8s-nrpe', ['triage', '--kubeconfig', kubeconfig, '--node', node]);
process.kill(ready.pid, 'SIGTERM');
fs.rmSync(dir, { recursive: true, force: true });
