// End to end with the real thing: build the .deb, lintian it, dpkg -i it, run
// Debian's NRPE daemon on 127.0.0.1 with the installed nrpe.d config, and walk
// README's "From dpkg -i to green" on a host named by its FQDN in upper case
// (K8S02.Example.COM; the Node is k8s02): before any kubeconfig exists nothing
// pages; with one, every API check is OK through check_nrpe with the shipped
// commands (no --node). Then the incident scenario: each answer must equal the
// installed command run by hand the way NRPE runs it (same command line
// through /bin/sh, as nagios with its groups, same environment). Then dpkg -r
// keeps the conffiles and dpkg -P removes them.
//
// NRPE, check_nrpe, the by-hand runs and the API double live in a network
// namespace of the test's own (only lo), with the hostname set in a UTS
// namespace: the kube-dns Service IP is on that lo and the double answers DNS
// there, so check_k8s_coredns's lookup through the Service IP is answered and
// nothing leaves the namespace.
//
// It changes the host (a package, /etc/nagios, /etc/sudoers.d, a group membership), so it runs only
// when asked: K8S_NRPE_E2E=1 (.ci/run sets it). Otherwise it is skipped, saying so: a developer's
// `npm test`, even as root, installs nothing. When asked, it needs root and the packages .ci/run
// installs (a missing one fails the test), refuses to start while another dpkg holds the lock or
// while a k8s-nrpe package it did not install is there, and leaves the machine as it found it:
// dpkg -P, /etc files removed or restored, its NRPE stopped by PID.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST, ROOT, startApiServer, withHostname, type ApiServer } from '../harness.js';
import { HOST_INPUT } from '../sweep.js';
// @ts-expect-error: a plain .mjs build script, no types
import { guardCommands } from '../../scripts/nrpe-guard.mjs';

const PKG = 'k8s-nrpe';
const PLUGINS = '/usr/lib/nagios/plugins';
const CFG = '/etc/nagios/nrpe.d/k8s-nrpe.cfg';
const SUDOERS = '/etc/sudoers.d/k8s-nrpe';
const KUBECONFIG = '/etc/nagios/k8s-nrpe.kubeconfig';
const CHECK_NRPE = `${PLUGINS}/check_nrpe`;
// NRPE and the by-hand runs get the same environment.
const ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };
/** This host's name: an FQDN in upper case, as README's walk-through has it; the scenarios' Node is k8s02. */
const HOSTNAME = 'K8S02.Example.COM';
const NODE = 'k8s02';
/** The network namespace NRPE, check_nrpe, the checks and the double share. */
const NS = `k8s-nrpe-e2e-${process.pid}`;
/** The kube-dns Service's ClusterIP in the scenarios, put on the namespace's lo. */
const DNS_IP = (JSON.parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/healthy/services.json'), 'utf8')) as { objects: { kind: string; metadata: { name: string }; spec?: { clusterIP?: string } }[] })
  .objects.find((o) => o.kind === 'Service' && o.metadata.name === 'kube-dns')!.spec!.clusterIP!;
/** argv run inside the namespace with this host's name (ip netns exec and unshare exec: the PID is the command's). */
const onTheNode = (argv: string[]): [string, string[]] => ['ip', ['netns', 'exec', NS, ...withHostname(HOSTNAME, argv).flat()]];

function missingPrerequisites(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (dpkg -i, nrpe as nagios)');
  const tools: [string, string][] = [
    ['/usr/sbin/nrpe', 'nagios-nrpe-server'], [CHECK_NRPE, 'nagios-nrpe-plugin'], ['/usr/bin/dpkg-deb', 'dpkg'],
    ['/usr/bin/dpkg-shlibdeps', 'dpkg-dev'], ['/usr/bin/lintian', 'lintian'], ['/usr/sbin/visudo', 'sudo'],
    ['/usr/bin/setpriv', 'util-linux'], ['/usr/bin/strip', 'binutils'],
    ['/usr/bin/unshare', 'util-linux'], ['/usr/bin/hostname', 'hostname'], ['/usr/sbin/ip', 'iproute2'],
  ];
  for (const [tool, pkg] of tools) if (!fs.existsSync(tool)) missing.push(`${tool} (apt-get install ${pkg})`);
  if (!/^nagios:/m.test(fs.readFileSync('/etc/passwd', 'utf8'))) missing.push('user nagios (apt-get install nagios-nrpe-server)');
  return missing;
}

const E2E = process.env.K8S_NRPE_E2E === '1';
const missing = E2E ? missingPrerequisites() : [];
if (!E2E) console.warn('test/e2e/nrpe.test.ts skipped: it installs the .deb and changes /etc (set K8S_NRPE_E2E=1 to run it, as .ci/run does)');

/** dpkg's lock files; dpkg and apt hold them with fcntl locks, which /proc/locks lists by device:inode. */
const DPKG_LOCKS = ['/var/lib/dpkg/lock-frontend', '/var/lib/dpkg/lock'];
/** Who holds a dpkg lock ('pid 1234 holds /var/lib/dpkg/lock'), or undefined when it is free. */
function dpkgLockHolder(): string | undefined {
  const locks = fs.readFileSync('/proc/locks', 'utf8').split('\n');
  for (const file of DPKG_LOCKS) {
    let st: fs.Stats;
    try { st = fs.statSync(file); } catch { continue; }
    const id = `${(st.dev >> 8).toString(16).padStart(2, '0')}:${(st.dev & 0xff).toString(16).padStart(2, '0')}:${st.ino}`;
    // '1: POSIX  ADVISORY  WRITE 1234 08:01:131090 0 EOF' (major:minor in hex, inode in decimal)
    const hit = locks.find((l) => l.split(/\s+/)[5] === id);
    if (hit) return `pid ${hit.split(/\s+/)[4]} holds ${file}`;
  }
  return undefined;
}

/** dpkg, after waiting (a bounded while) for whoever holds its lock; a clear failure if it stays held. */
async function dpkg(args: string[]): Promise<Run> {
  for (let i = 0; i < 120 && dpkgLockHolder(); i++) await new Promise((r) => setTimeout(r, 1000));
  const holder = dpkgLockHolder();
  if (holder) throw new Error(`dpkg ${args.join(' ')}: the dpkg lock stayed held for 2 minutes (${holder}); not touching packages`);
  return run('dpkg', args);
}

interface Run { code: number; stdout: string; stderr: string }
function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeout?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: opts.env ?? process.env, timeout: opts.timeout ?? 120000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (err as { code?: unknown }).code : 0;
      resolve({ code: typeof code === 'number' ? code : -1, stdout, stderr });
    });
  });
}
const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
/** 'install ok installed', 'deinstall ok config-files' or 'not-installed'. */
function dpkgStatus(): string {
  try {
    const s = sh('dpkg-query', ['-W', '-f', '${Status}', PKG]);
    return s.endsWith(' not-installed') ? 'not-installed' : s;
  } catch {
    return 'not-installed';
  }
}
const groupsOf = (user: string) => sh('id', ['-nG', user]).trim().split(/\s+/);
const hasGroup = (g: string) => new RegExp(`^${g}:`, 'm').test(fs.readFileSync('/etc/group', 'utf8'));

/** Durations move between two runs a second apart ('renewed 3s ago'): compare them as N<unit>. */
const stable = (line: string) => line.replace(/\b\d+(\.\d+)?(ms|s|m|h|d)\b/g, 'N$2');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Until NRPE answers inside `ns`: check_nrpe without -c asks its version. */
async function waitForNrpe(ns: string, port: number, child: ChildProcess, log: () => string): Promise<void> {
  const until = Date.now() + 30000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`nrpe exited ${child.exitCode ?? child.signalCode}: ${log()}`);
    const r = await run('ip', ['netns', 'exec', ns, CHECK_NRPE, '-H', '127.0.0.1', '-p', String(port), '-t', '5']);
    if (r.code === 0 && /^NRPE v/.test(r.stdout)) return;
    if (Date.now() > until) throw new Error(`nrpe did not answer on 127.0.0.1:${port} in ${ns}: ${r.stdout}${r.stderr}\n${log()}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

// Listed as skipped (not passed) in the report, with what to do.
if (!E2E) it.skip('the .deb under real NRPE: set K8S_NRPE_E2E=1 to install it on this machine and run it', () => {});

describe.skipIf(!E2E)('the .deb under real NRPE', () => {
  let deb = '';
  let checks: string[] = [];
  let server: ApiServer | undefined;
  let nrpe: ChildProcess | undefined;
  let tmp = '';
  let installedByUs = false;
  let journalBefore: boolean | undefined;
  let netns = false;
  let port = 0;
  let nrpeLog = () => '';
  /** The shipped commands (command[NAME]=LINE) and the opt-in ones that ship commented out. */
  const commands = new Map<string, string>();
  const optIn = new Set<string>();
  /** The checks NRPE defines, in --list order. */
  const defined = () => checks.filter((c) => !optIn.has(`check_k8s_${c}`));
  /** check_nrpe inside the namespace, as the monitoring server would ask. */
  const viaNrpe = (c: string) => run('ip', ['netns', 'exec', NS, CHECK_NRPE, '-H', '127.0.0.1', '-p', String(port), '-t', '60', '-c', `check_k8s_${c}`]);
  /** Each check through check_nrpe, one after another. */
  async function askEach(names: string[]): Promise<{ check: string; r: Run }[]> {
    const out: { check: string; r: Run }[] = [];
    for (const c of names) out.push({ check: c, r: await viaNrpe(c) });
    return out;
  }
  /** A double in the namespace that also answers cluster DNS on the kube-dns Service IP; its kubeconfig is installed. */
  async function serve(scenario: string): Promise<void> {
    await server?.stop();
    server = undefined;
    server = await startApiServer(scenario, undefined, { netns: NS, dns: DNS_IP });
    // The double's kubeconfig carries its CA, client certificate and key inline.
    fs.copyFileSync(server.kubeconfig, KUBECONFIG);
    const nagiosGid = Number(/^nagios:[^:]*:(\d+):/m.exec(fs.readFileSync('/etc/group', 'utf8'))![1]);
    fs.chownSync(KUBECONFIG, 0, nagiosGid);
    fs.chmodSync(KUBECONFIG, 0o640);
  }

  beforeAll(async () => {
    if (missing.length) throw new Error(`K8S_NRPE_E2E=1 but the NRPE end-to-end prerequisites are missing: ${missing.join(', ')} (.ci/run installs them)`);
    // Never clobber a real installation or a real credential, never race another package manager.
    const status = dpkgStatus();
    if (status !== 'not-installed') throw new Error(`refusing to run: ${PKG} is already on this machine (${status}), not installed by this test; this test installs and purges ${PKG}: dpkg -P ${PKG} first`);
    for (const f of [KUBECONFIG, CFG, SUDOERS]) {
      if (fs.existsSync(f)) throw new Error(`refusing to run: ${f} exists without the package (a real configuration?); this test writes and removes it`);
    }
    const holder = dpkgLockHolder();
    if (holder) throw new Error(`refusing to run: another package manager is at work (${holder}); run it again when it is done`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-nrpe-e2e-'));
    const pkg = await run(process.execPath, [path.join(ROOT, 'scripts/package.mjs')], { timeout: 600000 });
    expect(pkg.code, pkg.stderr).toBe(0);
    deb = path.join(ROOT, /built (build\/\S+\.deb)/.exec(pkg.stdout)![1]!);
    checks = sh(path.join(DIST, 'k8s-nrpe'), ['--list']).split('\n').filter(Boolean);
    journalBefore = hasGroup('systemd-journal') ? groupsOf('nagios').includes('systemd-journal') : undefined;
    execFileSync('ip', ['netns', 'add', NS]);
    netns = true;
    execFileSync('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
    execFileSync('ip', ['-n', NS, 'addr', 'add', `${DNS_IP}/32`, 'dev', 'lo']);
  }, 900000);

  // Whatever failed above, each step of the clean-up runs, and a clean-up that fails is reported.
  afterAll(async () => {
    const problems: string[] = [];
    const step = async (what: string, f: () => Promise<unknown> | unknown) => {
      try { await f(); } catch (e) { problems.push(`${what}: ${(e as Error).message}`); }
    };
    await step('stop nrpe', async () => {
      if (nrpe && nrpe.exitCode === null && nrpe.signalCode === null) {
        const exited = new Promise((r) => nrpe!.once('exit', r));
        process.kill(nrpe.pid!, 'SIGTERM');
        await exited;
      }
    });
    await step('stop the API double', () => server?.stop());
    await step(`ip netns del ${NS}`, () => { if (netns) execFileSync('ip', ['netns', 'del', NS]); });
    await step(`dpkg -P ${PKG}`, async () => {
      if (installedByUs && dpkgStatus() !== 'not-installed') {
        const r = await dpkg(['-P', PKG]);
        if (r.code !== 0) throw new Error(r.stderr.trim());
      }
    });
    await step(`remove ${KUBECONFIG}`, () => { if (installedByUs) fs.rmSync(KUBECONFIG, { force: true }); });
    await step('restore nagios\'s groups', async () => {
      if (journalBefore === false && groupsOf('nagios').includes('systemd-journal')) {
        const r = await run('gpasswd', ['-d', 'nagios', 'systemd-journal']);
        if (r.code !== 0) throw new Error(r.stderr.trim());
      }
    });
    await step('remove the temp dir', () => { if (tmp) fs.rmSync(tmp, { recursive: true, force: true }); });
    if (problems.length) throw new Error(`the e2e test could not leave the machine as it found it:\n${problems.join('\n')}`);
  }, 300000);

  it('passes lintian: no error or warning that an override does not explain', async () => {
    // lintian leaves its MLDBM caches (mldbm-elf-*) in TMPDIR: give it this test's own temp dir.
    const r = await run('lintian', ['--fail-on', 'none', deb], { timeout: 600000, env: { ...process.env, TMPDIR: tmp } });
    const tags = r.stdout.split('\n').filter((l) => /^[EW]: /.test(l));
    expect(tags, r.stdout + r.stderr).toEqual([]);
  }, 600000);

  it('installs: the binary, a symlink per check, the conffiles, sudo rules that visudo accepts', async () => {
    installedByUs = true; // from here on, afterAll purges (also when dpkg -i half-fails or outlives the test)
    const r = await dpkg(['-i', deb]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(dpkgStatus()).toBe('install ok installed');
    const verify = await run('dpkg', ['--verify', PKG]);
    expect(verify.stdout + verify.stderr).toBe('');

    const bin = fs.statSync(`${PLUGINS}/k8s-nrpe`);
    expect(bin.mode & 0o777).toBe(0o755);
    for (const c of checks) expect(fs.readlinkSync(`${PLUGINS}/check_k8s_${c}`)).toBe('k8s-nrpe');
    const installedChecks = (await run(`${PLUGINS}/k8s-nrpe`, ['--list'], { env: { PATH: '/nonexistent' } })).stdout;
    expect(installedChecks.split('\n').filter(Boolean)).toEqual(checks);

    expect(fs.readFileSync(CFG, 'utf8')).toBe(guardCommands(fs.readFileSync(path.join(ROOT, 'nrpe.d/k8s-nrpe.cfg'), 'utf8')));
    const conffiles = sh('dpkg-query', ['-W', '-f', '${Conffiles}', PKG]);
    expect(conffiles).toContain(CFG);
    expect(conffiles).toContain(SUDOERS);
    const sudoers = fs.statSync(SUDOERS);
    expect([sudoers.mode & 0o777, sudoers.uid, sudoers.gid]).toEqual([0o440, 0, 0]);
    expect((await run('visudo', ['-c'])).code).toBe(0);
    for (const f of ['copyright', 'changelog.Debian.gz', 'README.Debian', 'examples/icinga2/k8s-nrpe.conf', 'examples/nagios/k8s-nrpe-commands.cfg']) {
      expect(fs.existsSync(`/usr/share/doc/${PKG}/${f}`), f).toBe(true);
    }
    if (journalBefore !== undefined) expect(groupsOf('nagios')).toContain('systemd-journal');
    // On PATH for `sudo k8s-nrpe triage`, and documented by man.
    expect(fs.readlinkSync('/usr/bin/k8s-nrpe')).toBe('../lib/nagios/plugins/k8s-nrpe');
    expect((await run('man', ['-w', 'check_k8s_scheduler_stall'])).stdout.trim()).toBe('/usr/share/man/man1/check_k8s_scheduler_stall.1.gz');

    // The installed commands, for the NRPE tests below.
    for (const line of fs.readFileSync(CFG, 'utf8').split('\n')) {
      const m = /^command\[([^\]]+)\]=(.+)$/.exec(line);
      if (m) commands.set(m[1]!, m[2]!);
      // An opt-in check (the canary: it writes) ships commented out; NRPE does not define it.
      const off = /^# command\[([^\]]+)\]=/.exec(line);
      if (off) optIn.add(off[1]!);
    }
    expect(defined().length, 'no command defined').toBeGreaterThan(0);
  }, 300000);

  it('straight after dpkg -i, before any kubeconfig: nothing pages, and the API checks name make-kubeconfig.sh', async () => {
    expect(installedByUs).toBe(true);
    expect(fs.existsSync(KUBECONFIG)).toBe(false);
    port = await freePort();
    const nrpeDir = path.join(tmp, 'nrpe');
    fs.mkdirSync(nrpeDir, { mode: 0o755 });
    const nagiosUid = Number(/^nagios:[^:]*:(\d+):/m.exec(fs.readFileSync('/etc/passwd', 'utf8'))![1]);
    const nagiosGid = Number(/^nagios:[^:]*:(\d+):/m.exec(fs.readFileSync('/etc/group', 'utf8'))![1]);
    fs.chownSync(nrpeDir, nagiosUid, nagiosGid);
    const logFile = path.join(nrpeDir, 'nrpe.log');
    const conf = path.join(nrpeDir, 'nrpe.cfg');
    fs.writeFileSync(conf, [
      `pid_file=${nrpeDir}/nrpe.pid`, `log_file=${logFile}`, 'debug=1',
      'server_address=127.0.0.1', `server_port=${port}`, 'allowed_hosts=127.0.0.1',
      'nrpe_user=nagios', 'nrpe_group=nagios', 'dont_blame_nrpe=0', 'allow_bash_command_substitution=0',
      'command_timeout=60', 'connection_timeout=300', 'include_dir=/etc/nagios/nrpe.d', '',
    ].join('\n'));
    let nrpeOut = '';
    nrpe = spawn(...onTheNode(['/usr/sbin/nrpe', '-c', conf, '-4', '-f']), { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    nrpe.stdout!.on('data', (c) => { nrpeOut += c; });
    nrpe.stderr!.on('data', (c) => { nrpeOut += c; });
    nrpeLog = () => `${nrpeOut}${fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : ''}`;
    await waitForNrpe(NS, port, nrpe, nrpeLog);

    const answers = await askEach(defined());
    const summary = answers.map(({ check, r }) => `${check}: ${r.code} ${r.stdout.split('\n')[0]}`).join('\n');
    for (const { check, r } of answers) {
      // UNKNOWN (cannot know yet) or OK, never a page; and the first line is the plugin's, not NRPE's.
      expect([0, 3], `${check}\n${summary}\n${nrpeLog()}`).toContain(r.code);
      expect(r.stdout, check).toMatch(new RegExp(`^K8S ${check.toUpperCase().replace(/_/g, ' ')} (OK|UNKNOWN) - `));
      // A check that reads the API says which step sets it up.
      if (commands.get(`check_k8s_${check}`)!.includes('--kubeconfig')) expect(r.stdout.split('\n')[0], check).toContain('make-kubeconfig.sh');
    }
  }, 300000);

  it(`with a kubeconfig, on a host named ${HOSTNAME}: every API check OK through check_nrpe, no --node needed`, async () => {
    expect(!!nrpe && nrpe.exitCode === null && nrpe.signalCode === null, `NRPE is not running: ${nrpeLog()}`).toBe(true);
    await serve('healthy');
    for (const [name, line] of commands) expect(line, name).not.toMatch(/--node\b/);
    const api = defined().filter((c) => !HOST_INPUT.includes(c));
    // One at a time, as the incident run below: apiserver's latency thresholds must not judge this test's own load.
    const answers = await askEach(api);
    const summary = answers.map(({ check, r }) => `${check}: ${r.code} ${r.stdout.split('\n')[0]}`).join('\n');
    console.log(`healthy cluster through NRPE on ${HOSTNAME}:\n${summary}`);
    for (const { check, r } of answers) expect(r.code, `${check}\n${summary}\n${nrpeLog()}`).toBe(0);
    // The node-scoped checks found this host's Node by its FQDN, without --node.
    const kubelet = answers.find((a) => a.check === 'kubelet_stall')!.r.stdout;
    expect(kubelet).toMatch(new RegExp(`^K8S KUBELET STALL OK - [^|]*\\b${NODE}\\b`));
    const reboot = answers.find((a) => a.check === 'reboot_ready')!.r.stdout;
    expect(reboot).toMatch(new RegExp(`^K8S REBOOT READY OK - [^|]*\\b${NODE}\\b`));
    // coredns asked the kube-dns Service IP and had its answer, inside the namespace.
    expect(answers.find((a) => a.check === 'coredns')!.r.stdout).toMatch(/resolve_time=\d/);
    // The checks that read this host (its netfilter, journal, units, certificates) cannot be green on a
    // machine that is no microk8s node; they are judged with real host input in their own tests. Here:
    // they answer in the contract and a host that is no microk8s node is UNKNOWN, not a page.
    for (const c of defined().filter((x) => HOST_INPUT.includes(x) && x !== 'calico_nat')) {
      const r = await viaNrpe(c);
      expect(r.code, `${c}: ${r.stdout}`).toBe(3);
    }
  }, 300000);

  it('answers every check through check_nrpe exactly as the command run by hand', async () => {
    expect(installedByUs).toBe(true);
    expect(!!nrpe && nrpe.exitCode === null && nrpe.signalCode === null, `NRPE is not running: ${nrpeLog()}`).toBe(true);
    await serve('incident');
    const log = nrpeLog;

    const results: { check: string; nrpe: Run; byHand: Run }[] = [];
    for (const c of defined()) {
      const cmdline = commands.get(`check_k8s_${c}`);
      expect(cmdline, `no NRPE command for ${c}`).toBeDefined();
      const answer = await viaNrpe(c);
      // As NRPE runs it: popen() (/bin/sh -c) as nagios with its supplementary groups, NRPE's
      // environment, on the same host (namespace and hostname).
      const byHand = await run(...onTheNode(['/usr/bin/setpriv', '--reuid=nagios', '--regid=nagios', '--init-groups', '--', '/bin/sh', '-c', cmdline!]), { env: ENV });
      results.push({ check: c, nrpe: answer, byHand });
    }
    const summary = results.map((r) => `${r.check}: nrpe ${r.nrpe.code} ${JSON.stringify(r.nrpe.stdout.split('\n')[0])} / by hand ${r.byHand.code} ${JSON.stringify(r.byHand.stdout.split('\n')[0])}`).join('\n');
    console.log(`NRPE and by hand, per check (exit code, first line):\n${summary}`);
    for (const r of results) {
      const first = (x: Run) => stable(x.stdout.split('\n')[0] ?? '');
      expect(r.nrpe.code, `${r.check}\n${summary}\n${log()}`).toBe(r.byHand.code);
      expect(first(r.nrpe), r.check).toBe(first(r.byHand));
      expect(r.nrpe.code).toBeGreaterThanOrEqual(0);
      expect(r.nrpe.code).toBeLessThanOrEqual(3);
      // The packaged kubeconfig reached every API check: nothing says it could not be read.
      expect(r.nrpe.stdout, r.check).not.toMatch(/no kubeconfig found|not readable by|NRPE: /);
    }
    // The chain reached the cluster: the incident's scheduler stall is CRITICAL through NRPE.
    const stall = results.find((r) => r.check === 'scheduler_stall')!;
    expect(stall.nrpe.code, summary).toBe(2);
    expect(stall.nrpe.stdout).toMatch(/^K8S SCHEDULER STALL CRITICAL - /);
    expect(server!.requests().length).toBeGreaterThan(0);
    // On this host (k8s02 by its FQDN) the netfilter of the namespace holds no Service NAT rules: the
    // incident's signature, paged through NRPE with calico_nat's --sudo as nagios.
    const nat = results.find((r) => r.check === 'calico_nat')!;
    expect(nat.nrpe.stdout, summary).toMatch(new RegExp(`^K8S CALICO NAT CRITICAL - no Service NAT rules on ${NODE}\\b`));

    const exited = new Promise((r) => nrpe!.once('exit', r));
    process.kill(nrpe!.pid!, 'SIGTERM');
    await exited;
  }, 300000);

  it('dpkg -r keeps the conffiles, dpkg -P removes them and what the package set up', async () => {
    expect(installedByUs).toBe(true);
    const remove = await dpkg(['-r', PKG]);
    expect(remove.code, remove.stderr).toBe(0);
    expect(dpkgStatus()).toBe('deinstall ok config-files');
    expect(fs.existsSync(`${PLUGINS}/k8s-nrpe`)).toBe(false);
    for (const c of checks) expect(fs.existsSync(`${PLUGINS}/check_k8s_${c}`)).toBe(false);
    expect(fs.existsSync(CFG)).toBe(true);
    expect(fs.existsSync(SUDOERS)).toBe(true);
    // The kept commands, as NRPE runs them (sh -c, as nagios): the next step, not "Unable to read output".
    for (const m of fs.readFileSync(CFG, 'utf8').matchAll(/^command\[check_k8s_([a-z0-9_]+)\]=(.+)$/gm)) {
      const r = await run('/usr/bin/setpriv', ['--reuid=nagios', '--regid=nagios', '--init-groups', '--', '/bin/sh', '-c', m[2]!], { env: ENV });
      expect(r.code, m[1]).toBe(3);
      expect(r.stdout).toMatch(/^K8S [A-Z ]+ UNKNOWN - \/usr\/lib\/nagios\/plugins\/check_k8s_\w+ is not installed .*apt-get purge k8s-nrpe/);
    }

    const purge = await dpkg(['-P', PKG]);
    expect(purge.code, purge.stderr).toBe(0);
    expect(dpkgStatus()).toBe('not-installed');
    for (const f of [CFG, SUDOERS, KUBECONFIG, '/var/lib/k8s-nrpe', `/usr/share/doc/${PKG}`]) expect(fs.existsSync(f), f).toBe(false);
    expect(fs.readdirSync('/etc/nagios/nrpe.d').filter((f) => f.startsWith(PKG))).toEqual([]);
    if (journalBefore !== undefined) expect(groupsOf('nagios').includes('systemd-journal')).toBe(journalBefore);
  }, 120000);
});
