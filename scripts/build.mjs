// Build: one bundled multi-call script dist/k8s-nrpe with a symlink per check,
// and the API server double used by the tests and the demo.
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const dist = path.join(root, 'dist');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

fs.mkdirSync(dist, { recursive: true });
// The bundle is CommonJS (what a Node single-executable needs); the repo is ESM.
fs.writeFileSync(path.join(dist, 'package.json'), '{"type": "commonjs"}\n');

// Imports of client-node's config.js that no check uses: see scripts/stubs/.
const UNUSED = /^(node-fetch|socks-proxy-agent|hpagent|\.\/gen\/index\.js|\.\/(azure|gcp|oidc)_auth\.js)$/;
const stubUnused = {
  name: 'stub-unused',
  setup(b) {
    b.onResolve({ filter: UNUSED }, (args) =>
      args.importer.includes(`${path.sep}@kubernetes${path.sep}client-node${path.sep}`)
        ? { path: path.join(root, 'scripts/stubs/client-node-unused.cjs') }
        : undefined);
  },
};

const main = path.join(dist, 'k8s-nrpe');
const result = await build({
  entryPoints: [path.join(root, 'lib/main.ts')],
  outfile: main,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  legalComments: 'none',
  banner: { js: '#!/usr/bin/env node' },
  define: { __K8S_NRPE_VERSION__: JSON.stringify(pkg.version) },
  metafile: true,
  logLevel: 'warning',
  plugins: [stubUnused],
});
fs.chmodSync(main, 0o755);

// One symlink per check: the binary dispatches on the name it was invoked as.
const checks = fs.readdirSync(path.join(root, 'checks'))
  .filter((f) => f.endsWith('.ts') && f !== 'index.ts')
  .map((f) => f.replace(/\.ts$/, ''));
for (const name of checks) {
  const link = path.join(dist, `check_k8s_${name}`);
  fs.rmSync(link, { force: true });
  fs.symlinkSync('k8s-nrpe', link);
}

const double = path.join(root, 'test/apiserver/main.ts');
if (fs.existsSync(double)) await build({
  entryPoints: [double],
  outfile: path.join(dist, 'test/apiserver.mjs'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  logLevel: 'warning',
});

const size = fs.statSync(main).size;
console.log(`built ${path.relative(root, main)} (${(size / 1024).toFixed(0)} KiB) with ${checks.length} checks: ${checks.join(', ')}`);
if (process.env.BUILD_META) fs.writeFileSync(path.join(dist, 'meta.json'), JSON.stringify(result.metafile));
