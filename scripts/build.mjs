// Build: the checks as one Node single-executable application dist/k8s-nrpe
// (multi-call: a symlink dist/check_k8s_<name> per check), the same code as a
// plain bundle dist/k8s-nrpe.cjs for debugging, and the API server double
// used by the tests and the demo.
//
// Why a single executable: the nodes that run NRPE have whatever Node.js
// their distribution ships (often none, often too old). The binary carries
// its own runtime, so the .deb depends on nothing but libc.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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
const main = path.join(dist, 'k8s-nrpe');
const ENTRY = path.join(root, 'cli/main.ts');
/** What the plain bundle and the snapshot's bundle share: the same code, built the same way. */
const BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: 'node20',
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
// - node:http, https, tls and http2 cannot be loaded while Node 20 builds a
//   snapshot (a SecureContext or parser binding holds handles V8 cannot
//   serialize: "Check failed: handle_checker.CheckGlobalAndEternalHandles()"),
//   and client-node and lib/kube import them at the top. They are replaced by
//   a proxy that requires the real module on first use: at run time.
// Anything a module captures at load time (process.env, the clock) would be
// the build's: no module of cli/, lib/ or checks/ reads either at its top level.
const LAZY_BUILTIN = /^(node:)?(http|https|tls|http2)$/;
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    b.onResolve({ filter: LAZY_BUILTIN }, (args) =>
      args.namespace === 'lazy-builtin' ? { path: args.path, external: true } : { path: `node:${args.path.replace(/^node:/, '')}`, namespace: 'lazy-builtin' });
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, async (args) => {
      // The export names are fixed, so esbuild's __toESM can copy them without loading the module.
      const keys = Object.keys(await import(args.path)).filter((k) => k !== 'default');
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
// node --experimental-sea-config makes a blob (the bundle plus V8's code
// cache for it), postject injects it into a copy of the node binary behind the
// sentinel fuse. https://nodejs.org/docs/latest-v20.x/api/single-executable-applications.html
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/** Why this node binary cannot carry a blob, or undefined when it can. */
function seaUnsupported(nodeBin) {
  let head;
  try {
    head = Buffer.alloc(4);
    const fd = fs.openSync(nodeBin, 'r');
    fs.readSync(fd, head, 0, 4, 0);
    fs.closeSync(fd);
  } catch (e) {
    return `cannot read ${nodeBin}: ${e.message}`;
  }
  if (!head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) return `${nodeBin} is not an ELF executable (a wrapper script or shim?)`;
  // Distribution builds that link a shared libnode keep the fuse in the library, not the executable.
  if (!fs.readFileSync(nodeBin).includes(`${FUSE}:0`)) return `${nodeBin} has no unset SEA fuse (a build against a shared libnode?)`;
  return undefined;
}

/** The SEA binary is rebuilt only when the bundle or the node binary changed. */
function seaKey(nodeBin) {
  const st = fs.statSync(nodeBin);
  return crypto.createHash('sha256')
    .update(fs.readFileSync(bundle))
    .update(`${nodeBin}\0${st.size}\0${st.mtimeMs}\0${process.version}\0${process.env.SEA_SNAPSHOT ?? ''}\0`)
    .update(fs.readFileSync(fileURLToPath(import.meta.url)))
    .digest('hex').slice(0, 16);
}

function isSea(file) {
  try {
    return fs.readFileSync(file).includes(`${FUSE}:1`);
  } catch {
    return false;
  }
}

// SEA_NODE: an official Node 20+ linux binary to embed, when the node running the build cannot be used.
const nodeBin = fs.realpathSync(process.env.SEA_NODE || process.execPath);
const why = seaUnsupported(nodeBin);
let kind;
if (why) {
  // Still a working dist/ for tests on a developer machine, but npm run package refuses it.
  console.warn(`build: no single executable: ${why}. dist/k8s-nrpe is the JS bundle and needs node; set SEA_NODE=/path/to/official/node to fix.`);
  replace(main, (tmp) => fs.copyFileSync(bundle, tmp));
  kind = 'JS bundle (not a single executable)';
} else {
  const cacheDir = path.join(dist, '.sea-cache');
  const key = seaKey(nodeBin);
  const cached = path.join(cacheDir, key);
  const same = (a, b) => { try { const x = fs.statSync(a), y = fs.statSync(b); return x.ino === y.ino && x.dev === y.dev; } catch { return false; } };
  if (same(cached, main) && isSea(main)) {
    kind = 'single executable, unchanged';
  } else {
    const work = fs.mkdtempSync(path.join(dist, '.sea-'));
    let snapshotted = false;
    try {
      const blob = path.join(work, 'k8s-nrpe.blob');
      const config = path.join(work, 'sea-config.json');
      const seaBlob = (extra) => {
        fs.writeFileSync(config, JSON.stringify({ output: blob, disableExperimentalSEAWarning: true, ...extra }));
        // The blob (snapshot or code cache) is only valid for the node that will run it.
        execFileSync(nodeBin, ['--experimental-sea-config', config], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
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
          if (process.env.CI) throw new Error(`startup snapshot failed: ${String(e.stderr || e.message).slice(0, 2000)}`);
          console.warn(`build: no startup snapshot (${why}): using the code cache`);
        }
      }
      if (!snapshotted) {
        try {
          seaBlob({ main: bundle, useCodeCache: true });
        } catch (e) {
          throw new Error(`node --experimental-sea-config failed: ${e.stderr || e.message}`);
        }
      }
      const exe = path.join(work, 'k8s-nrpe');
      fs.copyFileSync(nodeBin, exe);
      fs.chmodSync(exe, 0o755);
      // Debug info and the static symbol table are most of an unstripped node (99 MB -> 86 MB);
      // .dynsym stays, so nothing that loads it notices. (.comment: compiler versions, nothing else.)
      try {
        execFileSync('strip', ['--strip-all', '--remove-section=.comment', exe], { stdio: ['ignore', 'ignore', 'pipe'] });
      } catch (e) {
        if (e.code === 'ENOENT') console.warn('build: strip (binutils) not found: the binary keeps its debug info');
        else throw new Error(`strip failed: ${e.stderr}`);
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
      fs.renameSync(exe, main);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
    kind = `single executable${snapshotted ? ' with a startup snapshot' : ''}`;
  }
}

// The binary must run cleanly on its own: nothing on stderr, and it names its checks.
const env = { PATH: '/usr/bin:/bin' };
let list;
try {
  list = execFileSync(main, ['--list'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
} catch (e) {
  throw new Error(`dist/k8s-nrpe --list failed (${e.status ?? e.code}): ${e.stderr ?? e.message}`);
}
const checks = list.split('\n').filter(Boolean);
if (!checks.length || checks.some((c) => !/^[a-z0-9_]+$/.test(c))) throw new Error(`dist/k8s-nrpe --list printed ${JSON.stringify(list)}`);

// One symlink per check: the binary dispatches on the name it was invoked as.
for (const name of checks) replace(path.join(dist, `check_k8s_${name}`), (tmp) => fs.symlinkSync('k8s-nrpe', tmp));
for (const f of fs.readdirSync(dist)) {
  const m = /^check_k8s_([a-z0-9_]+)$/.exec(f);
  if (m && !checks.includes(m[1]) && fs.lstatSync(path.join(dist, f)).isSymbolicLink()) fs.rmSync(path.join(dist, f));
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

const mib = (f) => (fs.statSync(f).size / 1048576).toFixed(1);
console.log(`built dist/k8s-nrpe (${kind}, ${mib(main)} MiB; bundle dist/k8s-nrpe.cjs ${(fs.statSync(bundle).size / 1024).toFixed(0)} KiB) with ${checks.length} checks: ${checks.join(', ')} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
// What went into the bundle: npm run package lists those packages and their licenses in the .deb's copyright.
fs.writeFileSync(path.join(dist, 'k8s-nrpe.meta.json'), JSON.stringify(result.metafile));
if (process.env.BUILD_META) fs.writeFileSync(path.join(dist, 'meta.json'), JSON.stringify(result.metafile));
