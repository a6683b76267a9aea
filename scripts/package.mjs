// npm run package: build/k8s-nrpe_<version>_<arch>.deb with dpkg-deb only, for this machine's
// architecture (dist/k8s-nrpe); `--arch arm64` packages dist/arm64/k8s-nrpe (npm run package:arm64).
//
//   /usr/lib/nagios/plugins/k8s-nrpe          the single executable (npm run build)
//   /usr/lib/nagios/plugins/check_k8s_<name>  a symlink per check in `k8s-nrpe --list`
//   /usr/bin/k8s-nrpe                         a symlink to it: `sudo k8s-nrpe triage` on PATH
//   /etc/nagios/nrpe.d/k8s-nrpe.cfg           conffile: nrpe.d/k8s-nrpe.cfg, each command guarded (nrpe-guard.mjs)
//   /etc/sudoers.d/k8s-nrpe                   conffile, 0440: packaging/sudoers/k8s-nrpe
//   /usr/share/k8s-nrpe/                      rbac.yaml, rbac-canary.yaml (opt-in), make-kubeconfig.sh (deploy/)
//   /usr/share/man/man1/                      k8s-nrpe.1.gz and check_k8s_<name>.1.gz (scripts/man.mjs)
//   /usr/share/bash-completion/completions/   k8s-nrpe (scripts/completion.mjs), a symlink per check name
//   /usr/share/doc/k8s-nrpe/                  copyright, changelog.gz (CHANGELOG.md), changelog.Debian.gz,
//                                             README.Debian, README.md and docs/* (gzipped above 4 KiB,
//                                             as dh_compress does), examples/
//
// Every input is checked before anything is written: the binary must be the
// single executable, every check must have exactly one NRPE command of the
// required shape, the sudoers file must pass visudo.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { homeOf, loadModel } from './contrib.mjs';
import { writeCompletion } from './completion.mjs';
import { shippedDoc, writeMan } from './man.mjs';
import { guardCommands } from './nrpe-guard.mjs';
import { ARCHES, hostArch, runtime } from './runtime.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const started = Date.now();
const NAME = 'k8s-nrpe';
const PLUGINS = 'usr/lib/nagios/plugins';
const KUBECONFIG = '/etc/nagios/k8s-nrpe.kubeconfig';
const MAINTAINER = process.env.DEB_MAINTAINER || 'k8s-nrpe maintainers <maintainers@users.noreply.b-seed-8eb18b8f.example>';

const fail = (msg) => {
  console.error(`package: ${msg}`);
  process.exit(1);
};
const run = (cmd, args, opts = {}) => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  } catch (e) {
    if (e.code === 'ENOENT') fail(`${cmd} not found (apt-get install ${{ visudo: 'sudo', 'dpkg-shlibdeps': 'dpkg-dev' }[cmd] ?? cmd})`);
    fail(`${cmd} ${args.join(' ')} failed: ${(e.stderr || e.message).trim()}`);
  }
};
const rel = (f) => (path.relative(root, f).startsWith('..') ? f : path.relative(root, f));

// --- Inputs ---------------------------------------------------------------
const dist = path.join(root, 'dist');
const archAt = process.argv.indexOf('--arch');
const arch = archAt > 1 ? process.argv[archAt + 1] : hostArch();
if (!ARCHES[arch]) fail(`--arch ${arch}: not one of ${Object.keys(ARCHES).join(', ')}`);
let rt;
try {
  rt = runtime(arch);
} catch (e) {
  fail(e.message);
}
const binary = arch === hostArch() ? path.join(dist, 'k8s-nrpe') : path.join(dist, arch, 'k8s-nrpe');
if (!fs.existsSync(binary)) fail(`${rel(binary)} is missing: run ${arch === hostArch() ? 'npm run build' : `K8S_NRPE_ARCHES=${arch} npm run build`}`);
{
  const bin = fs.readFileSync(binary);
  if (!bin.subarray(0, 4).equals(Buffer.from('\x7fELF', 'latin1')) || !bin.includes('NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2:1')) {
    fail(`${rel(binary)} is not the single executable: a .deb of the JS bundle would need node on every node`);
  }
  // ELF e_machine (little-endian, offset 18): the binary is the architecture the package says.
  const machine = { amd64: 62, arm64: 183 }[arch];
  if (bin.readUInt16LE(18) !== machine) fail(`${rel(binary)} is ELF machine ${bin.readUInt16LE(18)}, not ${arch} (${machine})`);
}
// Debian revision 1 of the npm version: the packaging is not the upstream source.
if (!/^\d+\.\d+\.\d+([~+.][0-9A-Za-z.~+]*)?$/.test(pkg.version)) fail(`package.json version ${pkg.version} is not a Debian upstream version`);
const version = `${pkg.version}-${process.env.DEB_REVISION || '1'}`;
const onTarget = (args, opts = {}) => {
  try {
    return rt.run(binary, args, { env: { PATH: '/usr/bin:/bin' }, ...opts });
  } catch (e) {
    fail(e.message);
  }
};
const checks = onTarget(['--list']).split('\n').filter(Boolean);
if (!checks.length) fail(`${rel(binary)} --list printed no checks`);
// The runtime it embeds is the pinned one (its version and OpenSSL's go into the copyright file).
const runtimeLine = /\(node (v[\d.]+), OpenSSL ([^)]+)\)$/.exec(onTarget(['--version'], { codes: [3] }).trim());
if (runtimeLine?.[1] !== rt.version) fail(`${rel(binary)} --version names node ${runtimeLine?.[1]}, package-lock.json pins ${rt.version}: rebuild`);

// nrpe.d/k8s-nrpe.cfg: exactly one command per check, fixed arguments, the packaged kubeconfig.
const cfgFile = path.join(root, 'nrpe.d/k8s-nrpe.cfg');
const cfg = fs.readFileSync(cfgFile, 'utf8');
{
  const problems = [];
  const seen = new Map();
  for (const [i, line] of cfg.split('\n').entries()) {
    // An opt-in check's command is shipped commented out ('# command[...]='): checked the same way.
    if (!line.trim() || (line.startsWith('#') && !/^#\s*command\[/.test(line))) continue;
    const m = /^#?\s*command\[([A-Za-z0-9_]+)\]=(\S+)(.*)$/.exec(line);
    if (!m) { problems.push(`line ${i + 1}: not a command[...]= line`); continue; }
    const [, cmd, exe, args] = m;
    const check = path.basename(exe).replace(/^check_k8s_/, '');
    if (exe !== `/${PLUGINS}/check_k8s_${check}` || !checks.includes(check)) problems.push(`line ${i + 1}: ${exe} is not a packaged check (${checks.join(', ')})`);
    if (cmd !== `check_k8s_${check}`) problems.push(`line ${i + 1}: command[${cmd}] should be named after its plugin, check_k8s_${check}`);
    if (/\$ARG\d+\$/.test(args)) problems.push(`line ${i + 1}: $ARGn$ lets a monitoring request choose options: use fixed arguments`);
    // NRPE gives plugins no environment: a check that reads the API must name the packaged kubeconfig
    // (a node-local one that reads only the host may leave it out).
    const kc = /\s--kubeconfig[ =](\S+)/.exec(args)?.[1];
    if (kc !== undefined && kc !== KUBECONFIG) problems.push(`line ${i + 1}: --kubeconfig ${kc}: the package sets up ${KUBECONFIG}`);
    if (seen.has(cmd)) problems.push(`line ${i + 1}: command[${cmd}] defined twice`);
    seen.set(cmd, check);
  }
  for (const c of checks) if (!seen.has(`check_k8s_${c}`)) problems.push(`no command[check_k8s_${c}] for check ${c}`);
  if (problems.length) fail(`${rel(cfgFile)}:\n  ${problems.join('\n  ')}`);
}

const sudoers = path.join(root, 'packaging/sudoers/k8s-nrpe');
if (!fs.existsSync(sudoers)) fail(`${rel(sudoers)} is missing`);
run('visudo', ['-c', '-q', '-f', sudoers]);

const debian = path.join(root, 'packaging/debian');
const changelog = fs.readFileSync(path.join(debian, 'changelog'), 'utf8');
const top = /^k8s-nrpe \(([^)]+)\)/.exec(changelog)?.[1];
if (top !== version) fail(`packaging/debian/changelog starts at ${top}, the package is ${version} (package.json): add an entry (dch -v ${version})`);

// Shipped documentation: the README and every docs/ file (a renamed or new doc follows).
// docs/checks/<name>.md keep their directory: /usr/share/doc/k8s-nrpe/checks/<name>.md.
const docs = ['README.md', ...fs.readdirSync(path.join(root, 'docs'), { recursive: true }).map(String).filter((f) => /\.(md|json)$/.test(f)).sort().map((f) => `docs/${f}`)];
for (const f of ['CHANGELOG.md', 'LICENSE']) if (!fs.existsSync(path.join(root, f))) fail(`${f} is missing`);

// Man pages and completion from the declarations in the source: they must describe the built binary.
const model = await loadModel();
// The project's home: the one --help names for bugs (lib/plugin/help.ts), so the two cannot differ.
const HOMEPAGE = process.env.DEB_HOMEPAGE || homeOf(model.bugs);
{
  const declared = model.checks.map((c) => c.name);
  if (declared.join() !== checks.join()) fail(`${rel(binary)} lists ${checks.join(', ')} but the source declares ${declared.join(', ')}: run npm run build`);
}
const manPages = await writeMan(path.join(dist, 'man'));
const completion = await writeCompletion(path.join(dist, 'completion/k8s-nrpe'));

// --- The tree -------------------------------------------------------------
// DEB_OUTDIR: somewhere else than build/ (the tests, so that they never replace a .deb someone made).
const out = path.resolve(process.env.DEB_OUTDIR || path.join(root, 'build'));
fs.mkdirSync(out, { recursive: true });
const tree = path.join(out, `deb-${process.pid}`);
fs.rmSync(tree, { recursive: true, force: true });
// Reproducible: every timestamp is the last commit's (or SOURCE_DATE_EPOCH).
const epoch = Number(process.env.SOURCE_DATE_EPOCH || (() => {
  try {
    return execFileSync('git', ['-C', root, 'log', '-1', '--format=%ct'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
})() || Math.floor(Date.now() / 1000));

function put(dest, { from, text, data, mode = 0o644 }) {
  const file = path.join(tree, dest);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (from) fs.copyFileSync(from, file);
  else fs.writeFileSync(file, data ?? text);
  fs.chmodSync(file, mode);
}

try {
  put(`${PLUGINS}/k8s-nrpe`, { from: binary, mode: 0o755 });
  for (const c of checks) fs.symlinkSync('k8s-nrpe', path.join(tree, PLUGINS, `check_k8s_${c}`));
  fs.mkdirSync(path.join(tree, 'usr/bin'), { recursive: true });
  fs.symlinkSync(`../lib/nagios/plugins/k8s-nrpe`, path.join(tree, 'usr/bin/k8s-nrpe'));
  // Each command guarded, so that after `apt-get remove` NRPE answers what to do (scripts/nrpe-guard.mjs).
  put('etc/nagios/nrpe.d/k8s-nrpe.cfg', { text: guardCommands(cfg) });
  put('etc/sudoers.d/k8s-nrpe', { from: sudoers, mode: 0o440 });
  put('usr/share/k8s-nrpe/rbac.yaml', { from: path.join(root, 'deploy/rbac.yaml') });
  put('usr/share/k8s-nrpe/rbac-canary.yaml', { from: path.join(root, 'deploy/rbac-canary.yaml') });
  put('usr/share/k8s-nrpe/make-kubeconfig.sh', { from: path.join(root, 'deploy/make-kubeconfig.sh'), mode: 0o755 });
  const doc = `usr/share/doc/${NAME}`;
  put(`${doc}/copyright`, { text: copyright() });
  put(`${doc}/changelog.Debian.gz`, { data: gzip(changelog) });
  put(`${doc}/changelog.gz`, { data: gzip(fs.readFileSync(path.join(root, 'CHANGELOG.md'))) });
  put(`${doc}/README.Debian`, { from: path.join(debian, 'README.Debian') });
  for (const f of docs) {
    const data = fs.readFileSync(path.join(root, f));
    const dest = `${doc}/${shippedDoc(f)}`;
    if (dest.endsWith('.gz')) put(dest, { data: gzip(data) });
    else put(dest, { data });
  }
  put(`${doc}/examples/icinga2/k8s-nrpe.conf`, { from: path.join(dist, 'contrib/icinga2/k8s-nrpe.conf') });
  put(`${doc}/examples/nagios/k8s-nrpe-commands.cfg`, { from: path.join(dist, 'contrib/nagios/k8s-nrpe-commands.cfg') });
  for (const page of manPages) put(`usr/share/man/man1/${path.basename(page)}.gz`, { data: gzip(fs.readFileSync(page)) });
  const completions = 'usr/share/bash-completion/completions';
  put(`${completions}/${NAME}`, { from: completion });
  for (const c of checks) fs.symlinkSync(NAME, path.join(tree, completions, `check_k8s_${c}`));
  put(`usr/share/lintian/overrides/${NAME}`, { from: path.join(debian, 'lintian-overrides') });

  put('DEBIAN/conffiles', { text: '/etc/nagios/nrpe.d/k8s-nrpe.cfg\n/etc/sudoers.d/k8s-nrpe\n' });
  put('DEBIAN/postinst', { from: path.join(debian, 'postinst'), mode: 0o755 });
  put('DEBIAN/postrm', { from: path.join(debian, 'postrm'), mode: 0o755 });
  put('DEBIAN/triggers', { from: path.join(debian, 'triggers') });
  put('DEBIAN/control', { text: control() });
  // md5sums: what debsums and dpkg --verify check.
  const sums = [];
  walk(tree, (f) => {
    const r = path.relative(tree, f);
    if (!r.startsWith('DEBIAN/') && fs.lstatSync(f).isFile()) sums.push(`${run('md5sum', [f]).split(' ')[0]}  ${r}`);
  });
  put('DEBIAN/md5sums', { text: `${sums.sort((a, b) => a.slice(34).localeCompare(b.slice(34))).join('\n')}\n` });
  // Whatever the umask: directories 0755, and every timestamp the same.
  walk(tree, (f) => { if (fs.lstatSync(f).isDirectory()) fs.chmodSync(f, 0o755); });
  fs.chmodSync(tree, 0o755);
  walk(tree, (f) => fs.lutimesSync(f, epoch, epoch));
  fs.utimesSync(tree, epoch, epoch);

  const deb = path.join(out, `${NAME}_${version}_${arch}.deb`);
  const tmpDeb = `${deb}.${process.pid}.tmp`;
  // xz, which every dpkg reads (Ubuntu 20.04's cannot read zstd). Level 1: the
  // runtime inside the binary barely compresses further, and -z6 costs 5x the time
  // (measured: 24 MB in ~15 s vs 21 MB in ~70 s).
  // DEB_COMPRESSION=none: a .deb for tests that only read its contents, in seconds.
  const z = process.env.DEB_COMPRESSION === 'none' ? ['-Znone'] : ['-Zxz', '-z1'];
  run('dpkg-deb', ['--root-owner-group', ...z, '--build', tree, tmpDeb], { env: { ...process.env, SOURCE_DATE_EPOCH: String(epoch) } });
  fs.renameSync(tmpDeb, deb);
  console.log(`built ${rel(deb)} (${(fs.statSync(deb).size / 1048576).toFixed(1)} MiB, ${checks.length} checks) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} finally {
  fs.rmSync(tree, { recursive: true, force: true });
}

/** gzip -9n: no name, no timestamp, so the .deb is reproducible. */
function gzip(data) {
  return zlib.gzipSync(data, { level: 9 });
}

function walk(dir, fn) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const f = path.join(dir, e.name);
    if (e.isDirectory()) walk(f, fn);
    fn(f);
  }
}

function control() {
  let kib = 0;
  walk(tree, (f) => { if (!path.relative(tree, f).startsWith('DEBIAN')) kib += Math.ceil(fs.lstatSync(f).size / 1024); });
  return [
    `Package: ${NAME}`,
    `Version: ${version}`,
    `Architecture: ${arch}`,
    `Maintainer: ${MAINTAINER}`,
    `Installed-Size: ${kib}`,
    `Depends: ${shlibdeps()}`,
    'Recommends: sudo',
    'Suggests: nagios-nrpe-server',
    'Section: admin',
    `Homepage: ${HOMEPAGE}`,
    'Priority: optional',
    'Description: Nagios/NRPE checks for Kubernetes (microk8s first)',
    ' Monitoring plugins for the failures that hide behind Ready nodes: a',
    ' scheduler that holds its lease but schedules nothing, NAT rules that',
    ' were not reprogrammed after a reboot, workloads stuck behind their',
    ' disruption budgets. One self-contained binary (it carries its own',
    ' Node.js runtime), a symlink per check, NRPE command definitions and',
    ' the sudo rules the node-local checks need.',
    '',
  ].join('\n');
}

/** The binary's shared-library dependencies, as dpkg-shlibdeps computes them. */
function shlibdeps() {
  const dir = fs.mkdtempSync(path.join(out, 'shlibdeps-'));
  try {
    fs.mkdirSync(path.join(dir, 'debian'));
    fs.writeFileSync(path.join(dir, 'debian/control'), `Source: ${NAME}\n\nPackage: ${NAME}\nArchitecture: any\n`);
    // DEB_HOST_ARCH: dpkg-shlibdeps reads that architecture's libraries and symbols files (for a
    // foreign one, its multiarch libc6 and libstdc++6: scripts/runtime.mjs).
    const line = run('dpkg-shlibdeps', ['-O', path.join(tree, PLUGINS, 'k8s-nrpe')], { cwd: dir, env: { ...process.env, DEB_HOST_ARCH: arch } });
    const deps = /^shlibs:Depends=(.*)$/m.exec(line)?.[1];
    if (!deps) fail(`dpkg-shlibdeps gave no dependencies: ${line}`);
    return deps;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The copyright lines of an npm package's licence file: a line that starts
 * with "Copyright" followed by (c), © or a year, never the licence's own
 * definitions ("copyright notice that is included in or attached to the work")
 * nor the Apache appendix's unfilled template ("Copyright [yyyy] [name of
 * copyright owner]"). Without one, the package.json author.
 */
function copyrightHolders(licence, pkgJson) {
  const found = [];
  for (const line of licence.replace(/\r/g, '').split('\n')) {
    const m = /^\s*copyright\s+((?:\(c\)|©|\d{4}\b).*)$/i.exec(line);
    if (!m || /[[{]yyyy[\]}]|name of copyright owner/i.test(line)) continue;
    const holder = m[1].replace(/^(\(c\)|©)\s*/i, '').trim();
    if (holder && !found.includes(holder)) found.push(holder);
  }
  if (found.length) return found;
  const a = pkgJson.author;
  const author = (typeof a === 'string' ? a : a?.name ?? '').replace(/\s*[<(].*$/, '').trim();
  return [author ? (/^the /i.test(author) ? author : `the ${author}`) : `the ${pkgJson.name} authors`];
}

/** Machine-readable copyright: the project, the Node.js runtime and every npm package in the bundle. */
function copyright() {
  const meta = JSON.parse(fs.readFileSync(path.join(dist, 'k8s-nrpe.meta.json'), 'utf8'));
  const dirs = new Set();
  for (const input of Object.keys(meta.inputs)) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) dirs.add(m[1]);
  }
  const text = (s) => s.replace(/\r/g, '').trimEnd().split('\n').map((l) => (l.trim() ? ` ${l}` : ' .')).join('\n');
  const parts = [
    'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
    `Upstream-Name: ${NAME}`,
    'Comment: /usr/lib/nagios/plugins/k8s-nrpe is a Node.js single executable',
    ' application: the Node.js runtime with the k8s-nrpe code and the npm',
    ' packages listed below compiled into it.',
    '',
    'Files: *',
    'Copyright: the k8s-nrpe authors',
    `License: ${pkg.license}`,
    '',
  ];
  const licenses = new Map();
  for (const dir of [...dirs].sort()) {
    const p = JSON.parse(fs.readFileSync(path.join(root, dir, 'package.json'), 'utf8'));
    const file = fs.readdirSync(path.join(root, dir)).find((f) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(f));
    const license = typeof p.license === 'string' ? p.license : 'see-below';
    const body = file ? fs.readFileSync(path.join(root, dir, file), 'utf8') : '';
    const holders = copyrightHolders(body, p);
    parts.push(`Files: bundled/node_modules/${p.name}/*`, `Copyright: ${holders.join('\n ')}`, `Comment: npm package ${p.name} ${p.version}`);
    if (license === 'Apache-2.0') parts.push('License: Apache-2.0', '');
    else {
      // Each package's own text: MIT-style licenses require their notice with the binary.
      const id = `${license}~${p.name}`;
      licenses.set(id, body || `${license}`);
      parts.push(`License: ${id}`, '');
    }
  }
  // The embedded runtime's own LICENSE (node, V8, OpenSSL, ICU... as that build ships them).
  if (!fs.existsSync(rt.license)) fail(`${rt.license} is missing: the Node.js LICENSE for the copyright file (npm ci)`);
  parts.push(`Files: bundled/node-${rt.version}/*`, 'Copyright: Node.js contributors and the authors of its bundled components (V8, libuv, OpenSSL, ICU, zlib and others, as listed below)',
    `Comment: Node.js ${rt.version} with OpenSSL ${runtimeLine[2]}, npm package node-linux-${ARCHES[arch].cpu}`, `License: Node.js~${rt.version}`, '');
  licenses.set(`Node.js~${rt.version}`, fs.readFileSync(rt.license, 'utf8'));
  parts.push('License: Apache-2.0', ' On Debian systems, the full text of the Apache License 2.0 is in', ' /usr/share/common-licenses/Apache-2.0.', '');
  for (const [id, body] of licenses) parts.push(`License: ${id}`, text(body), '');
  return `${parts.join('\n').trimEnd()}\n`;
}
