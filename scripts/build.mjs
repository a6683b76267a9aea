// Build: the checks as one Node single-executable application dist/k8s-nrpe
// (multi-call: a symlink dist/check_k8s_<name> per check), the same code as a
// plain bundle dist/k8s-nrpe.cjs for debugging, and the API server double
// used by the tests and the demo. K8S_NRPE_ARCHES=arm64 (or all) also builds
// dist/arm64/k8s-nrpe, under qemu (scripts/runtime.mjs).
//
// Why a single executable: the nodes that run NRPE have whatever Node.js
// their distribution ships (often none, often too old). The binary carries
// its own runtime, the pinned one of package-lock.json, so the .deb depends
// on nothing but libc.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildArches, hostArch, runtime } from './runtime.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const dist = path.join(root, 'dist');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const started = Date.now();

fs.mkdirSync(dist, { recursive: true });
// The bundle is CommonJS (what a Node single-executable needs); the repo is ESM.
fs.writeFileSync(path.join(dist, 'package.json'), '{"type": "commonjs"}\n');

/** Write beside the target and rename: a test running the previous build never sees half a file. */
function replace(target, write) {
  const tmp = `${target}.${process.pid}.tmp`;
  fs.rmSync(tmp, { force: true });
  try {
    write(tmp);
    fs.renameSync(tmp, target);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

const bundle = path.join(dist, 'k8s-nrpe.cjs');
const ENTRY = path.join(root, 'cli/main.ts');
/** What the plain bundle and the snapshot's bundle share: the same code, built the same way. */
const BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'cjs',
  minify: true,
  legalComments: 'none',
  define: { __K8S_NRPE_VERSION__: JSON.stringify(pkg.version) },
  logLevel: 'warning',
};
let result;
{
  const tmp = `${bundle}.${process.pid}.tmp`;
  result = await build({ ...BUNDLE_OPTIONS, entryPoints: [ENTRY], outfile: tmp, banner: { js: '#!/usr/bin/env node' }, metafile: true });
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, bundle);
}

// --- The V8 startup snapshot -----------------------------------------------
// A single executable started from a snapshot skips evaluating the bundle's
// modules (yargs, the checks, client-node...): they were evaluated at build
// time and their heap is deserialized. --help: ~65 -> ~50 ms CPU, an API check
// ~30 ms less (docs/performance.md). Two things make the bundle snapshot-safe
// without touching the code:
// - an entry that evaluates every module the entry point (cli/main.ts)
//   imports at build time and runs the entry point itself (argv, exit
//   handlers) when the binary starts;
// - node:http, https, tls and http2 cannot be loaded while Node builds a
//   snapshot (20 and 24 alike: a SecureContext or parser binding holds handles V8 cannot
//   serialize: "Check failed: handle_checker.CheckGlobalAndEternalHandles()"),
//   and client-node and lib/kube import them at the top. They are replaced by
//   a proxy that requires the real module on first use: at run time.
// Anything a module captures at load time (process.env, the clock) would be
// the build's: no module of cli/, lib/ or checks/ reads either at its top level.
const LAZY_BUILTINS = ['http', 'https', 'tls', 'http2'];
const LAZY_BUILTIN = new RegExp(`^(node:)?(${LAZY_BUILTINS.join('|')})$`);
/** Their export names in the embedded runtime (not in whatever node runs this script). */
let builtinKeys;
const exportNames = (name) => {
  builtinKeys ??= JSON.parse(runtime(hostArch()).run(runtime(hostArch()).node, ['-p',
    `JSON.stringify(Object.fromEntries(${JSON.stringify(LAZY_BUILTINS)}.map((m) => [m, Object.keys(require(m)).filter((k) => k !== 'default')])))`]));
  return builtinKeys[name.replace(/^node:/, '')];
};
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    b.onResolve({ filter: LAZY_BUILTIN }, (args) =>
      args.namespace === 'lazy-builtin' ? { path: args.path, external: true } : { path: `node:${args.path.replace(/^node:/, '')}`, namespace: 'lazy-builtin' });
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, async (args) => {
      // The export names are fixed, so esbuild's __toESM can copy them without loading the module.
      const keys = exportNames(args.path);
      return {
        loader: 'js',
        contents: `let m; const load = () => (m ??= require(${JSON.stringify(args.path)})); const keys = ${JSON.stringify(keys)};
module.exports = new Proxy({}, { get: (_, k) => load()[k], has: (_, k) => keys.includes(k), ownKeys: () => keys,
  getOwnPropertyDescriptor: (_, k) => (keys.includes(k) ? { value: undefined, writable: true, enumerable: true, configurable: true } : undefined) });`,
      };
    });
  },
};
/** The snapshot's entry: the entry point's relative imports now, the entry point itself at start-up. */
function snapshotEntry() {
  const text = fs.readFileSync(ENTRY, 'utf8');
  const eager = [...text.matchAll(/^import\s+(?!type\b)[^;]*?\bfrom\s+'(\.{1,2}\/[^']+)';/gm)].map((m) => m[1]);
  if (!eager.length) throw new Error(`no relative imports found in ${path.relative(root, ENTRY)}`);
  // The warm-up runs before the snapshot is taken (Node drains the event loop first).
  return `${eager.map((p) => `import ${JSON.stringify(p)};`).join('\n')}
import v8 from 'node:v8';
import { warmUp } from './snapshot-warmup.js';
v8.startupSnapshot.setDeserializeMainFunction(() => { require(${JSON.stringify(`./${path.basename(ENTRY)}`)}); });
warmUp().catch((e) => { console.error(\`snapshot warm-up failed: \${e?.stack ?? e}\`); process.exitCode = 1; });
`;
}

/** The bundle to snapshot, beside the SEA work files. */
async function snapshotBundle(out) {
  await build({
    stdin: { contents: snapshotEntry(), resolveDir: path.dirname(ENTRY), sourcefile: 'sea-snapshot-entry.ts', loader: 'ts' },
    ...BUNDLE_OPTIONS,
    outfile: out,
    plugins: [lazyBuiltins],
  });
}

// --- The single executable ------------------------------------------------
// node --experimental-sea-config makes a blob (the snapshot, or the bundle plus V8's code cache
// for it), postject injects it into a copy of the node binary behind the sentinel fuse.
// https://nodejs.org/docs/latest-v24.x/api/single-executable-applications.html
// The node is the pinned runtime of the target architecture (scripts/runtime.mjs), never the one
// running this script: the blob is only valid for the node that made it, so a foreign
// architecture's blob is made by its own node under qemu.
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
/**
 * V8 options the binary always starts with (SEA config execArgv, Node 24.7+). A young generation
 * of 2 MiB semi-spaces instead of V8's default of up to 16 MiB: a check lives a second or two, so
 * the default's room for short-lived garbage is RSS it never gives back; against a server that
 * ignores limit= it was ~20 MB of the peak (pods 136 -> 116 MB, workloads 139 -> 117 MB at 60,000
 * kept items), for a few ms of CPU more in scavenges (docs/performance.md, "Memory").
 */
const EXEC_ARGV = ['--max-semi-space-size=2'];

/** The SEA binary is rebuilt only when the bundle, the runtime or this script changed. */
function seaKey(rt) {
  const st = fs.statSync(rt.node);
  return crypto.createHash('sha256')
    .update(fs.readFileSync(bundle))
    .update(`${rt.arch}\0${rt.node}\0${st.size}\0${st.mtimeMs}\0${rt.version}\0${process.env.SEA_SNAPSHOT ?? ''}\0`)
    .update(fs.readFileSync(fileURLToPath(import.meta.url)))
    .update(fs.readFileSync(path.join(root, 'scripts/runtime.mjs')))
    .digest('hex').slice(0, 16);
}

function isSea(file) {
  try {
    return fs.readFileSync(file).includes(`${FUSE}:1`);
  } catch {
    return false;
  }
}

/** Build `out`/k8s-nrpe for one architecture's runtime; what was built, for the summary line. */
async function buildSea(rt, out) {
  fs.mkdirSync(out, { recursive: true });
  if (!fs.readFileSync(rt.node).includes(`${FUSE}:0`)) throw new Error(`${rt.node} has no unset SEA fuse: not a Node.js build that can carry a single-executable blob`);
  const exeOut = path.join(out, 'k8s-nrpe');
  const cacheDir = path.join(out, '.sea-cache');
  const key = seaKey(rt);
  const cached = path.join(cacheDir, key);
  const same = (a, b) => { try { const x = fs.statSync(a), y = fs.statSync(b); return x.ino === y.ino && x.dev === y.dev; } catch { return false; } };
  if (same(cached, exeOut) && isSea(exeOut)) return 'single executable, unchanged';
  const work = fs.mkdtempSync(path.join(dist, '.sea-'));
  let snapshotted = false;
  try {
    const blob = path.join(work, 'k8s-nrpe.blob');
    const config = path.join(work, 'sea-config.json');
    const seaBlob = (extra) => {
      fs.writeFileSync(config, JSON.stringify({ output: blob, disableExperimentalSEAWarning: true, execArgv: EXEC_ARGV, ...extra }));
      rt.run(rt.node, ['--experimental-sea-config', config], { cwd: work });
    };
    // The snapshot when it builds (SEA_SNAPSHOT=0: not tried), else the bundle with V8's code cache.
    if (process.env.SEA_SNAPSHOT !== '0') {
      try {
        const snapMain = path.join(work, 'k8s-nrpe-snapshot.cjs');
        await snapshotBundle(snapMain);
        seaBlob({ main: snapMain, useSnapshot: true });
        snapshotted = true;
      } catch (e) {
        const why = String(e.stderr || e.message).split('\n').find((l) => /failed|error/i.test(l)) ?? 'failed';
        // CI must notice a snapshot that stopped building (a ReferenceError once hid here); a
        // developer's build falls back to the code cache.
        if (process.env.CI) throw new Error(`${rt.arch} startup snapshot failed: ${String(e.stderr || e.message).slice(0, 2000)}`);
        console.warn(`build: ${rt.arch}: no startup snapshot (${why}): using the code cache`);
      }
    }
    if (!snapshotted) {
      try {
        seaBlob({ main: bundle, useCodeCache: true });
      } catch (e) {
        throw new Error(`${rt.arch}: node --experimental-sea-config failed: ${e.stderr || e.message}`);
      }
    }
    const exe = path.join(work, 'k8s-nrpe');
    fs.copyFileSync(rt.node, exe);
    fs.chmodSync(exe, 0o755);
    // Debug info and the static symbol table are most of an unstripped node (123 MB -> 110 MB);
    // .dynsym stays, so nothing that loads it notices. (.comment: compiler versions, nothing else.)
    try {
      execFileSync(rt.strip, ['--strip-all', '--remove-section=.comment', exe], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      if (e.code !== 'ENOENT') throw new Error(`${rt.strip} failed: ${e.stderr}`);
      // What ships is stripped: CI (and so every package it makes) must have the tool.
      if (process.env.CI) throw new Error(`${rt.strip} not found: apt-get install ${rt.stripPackage}`);
      console.warn(`build: ${rt.strip} (${rt.stripPackage}) not found: the ${rt.arch} binary keeps its debug info`);
    }
    const postject = path.join(root, 'node_modules', 'postject', 'dist', 'cli.js');
    // postject's ELF library warns about node's many .note sections on stderr: show it only on failure.
    try {
      execFileSync(process.execPath, [postject, exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', FUSE], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      throw new Error(`postject failed: ${e.stderr || e.message}`);
    }
    // The cache is an optimisation: a concurrent build of the same key may have linked it first.
    fs.rmSync(cacheDir, { recursive: true, force: true });
    try {
      fs.mkdirSync(cacheDir, { recursive: true });
      fs.linkSync(exe, cached);
    } catch (e) {
      if (e.code !== 'EEXIST' && e.code !== 'ENOENT') throw e;
    }
    fs.renameSync(exe, exeOut);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return `single executable${snapshotted ? ' with a startup snapshot' : ''}`;
}

/**
 * The binary must run cleanly on its own (nothing on stderr, it names its checks, it embeds the
 * pinned runtime), then one symlink per check: the binary dispatches on the name it was invoked as.
 */
function checkAndLink(rt, out) {
  const exe = path.join(out, 'k8s-nrpe');
  const env = { PATH: '/usr/bin:/bin' };
  const where = path.relative(root, exe);
  const list = rt.run(exe, ['--list'], { env });
  // --version exits 3 (UNKNOWN), as the Monitoring Plugins guidelines ask.
  const version = rt.run(exe, ['--version'], { env, codes: [3] });
  const checks = list.split('\n').filter(Boolean);
  if (!checks.length || checks.some((c) => !/^[a-z0-9_]+$/.test(c))) throw new Error(`${where} --list printed ${JSON.stringify(list)}`);
  if (!version.includes(`(node ${rt.version}, OpenSSL `)) throw new Error(`${where} --version printed ${JSON.stringify(version)}, not the pinned runtime node ${rt.version}`);
  for (const name of checks) replace(path.join(out, `check_k8s_${name}`), (tmp) => fs.symlinkSync('k8s-nrpe', tmp));
  for (const f of fs.readdirSync(out)) {
    const m = /^check_k8s_([a-z0-9_]+)$/.exec(f);
    if (m && !checks.includes(m[1]) && fs.lstatSync(path.join(out, f)).isSymbolicLink()) fs.rmSync(path.join(out, f));
  }
  return checks;
}

// dist/k8s-nrpe is this machine's architecture (what the tests, the demo and the bench run);
// dist/<arch>/k8s-nrpe each other architecture K8S_NRPE_ARCHES asks for.
const host = hostArch();
const built = [];
let checks;
for (const arch of buildArches()) {
  const rt = runtime(arch);
  const out = arch === host ? dist : path.join(dist, arch);
  const t0 = Date.now();
  const kind = await buildSea(rt, out);
  checks = checkAndLink(rt, out);
  const exe = path.join(out, 'k8s-nrpe');
  built.push(`${path.relative(root, exe)} (${arch}, node ${rt.version}, ${kind}, ${(fs.statSync(exe).size / 1048576).toFixed(1)} MiB, ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

// The monitoring-server side (Icinga 2, Nagios) for exactly these checks: the .deb ships it as examples.
const { writeContrib } = await import('./contrib.mjs');
await writeContrib(path.join(dist, 'contrib'));

const double = path.join(root, 'test/apiserver/main.ts');
if (fs.existsSync(double)) {
  const out = path.join(dist, 'test/apiserver.mjs');
  const tmp = `${out}.${process.pid}.tmp.mjs`;
  await build({
    entryPoints: [double],
    outfile: tmp,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    logLevel: 'warning',
  });
  fs.renameSync(tmp, out);
}

console.log(`built ${built.join('; ')}; bundle dist/k8s-nrpe.cjs ${(fs.statSync(bundle).size / 1024).toFixed(0)} KiB; ${checks.length} checks: ${checks.join(', ')} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
// What went into the bundle: npm run package lists those packages and their licenses in the .deb's copyright.
fs.writeFileSync(path.join(dist, 'k8s-nrpe.meta.json'), JSON.stringify(result.metafile));
if (process.env.BUILD_META) fs.writeFileSync(path.join(dist, 'meta.json'), JSON.stringify(result.metafile));
