// End to end with the real thing: build the .deb, lintian it, dpkg -i it, run
// Debian's NRPE daemon on 127.0.0.1 with the installed nrpe.d config, and ask
// it for every check with check_nrpe against the API double (incident
// scenario). Each answer must equal the installed command run by hand the way
// NRPE runs it (same command line through /bin/sh, as nagios with its groups,
// same environment). Then dpkg -r keeps the conffiles and dpkg -P removes them.
//
// Needs root and the packages .ci/run installs. In CI a missing prerequisite
// fails the test; elsewhere it is skipped with the reason printed.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST, ROOT, startApiServer, type ApiServer } from '../harness.js';

const PKG = 'k8s-nrpe';
const PLUGINS = '/usr/lib/nagios/plugins';
const CFG = '/etc/nagios/nrpe.d/k8s-nrpe.cfg';
const SUDOERS = '/etc/sudoers.d/k8s-nrpe';
const KUBECONFIG = '/etc/nagios/k8s-nrpe.kubeconfig';
const CHECK_NRPE = `${PLUGINS}/check_nrpe`;
// NRPE and the by-hand runs get the same environment.
const ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };

function missingPrerequisites(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (dpkg -i, nrpe as nagios)');
  const tools: [string, string][] = [
    ['/usr/sbin/nrpe', 'nagios-nrpe-server'], [CHECK_NRPE, 'nagios-nrpe-plugin'], ['/usr/bin/dpkg-deb', 'dpkg'],
    ['/usr/bin/dpkg-shlibdeps', 'dpkg-dev'], ['/usr/bin/lintian', 'lintian'], ['/usr/sbin/visudo', 'sudo'],
    ['/usr/bin/setpriv', 'util-linux'], ['/usr/bin/strip', 'binutils'],
  ];
  for (const [tool, pkg] of tools) if (!fs.existsSync(tool)) missing.push(`${tool} (apt-get install ${pkg})`);
  if (!/^nagios:/m.test(fs.readFileSync('/etc/passwd', 'utf8'))) missing.push('user nagios (apt-get install nagios-nrpe-server)');
  return missing;
}

const missing = missingPrerequisites();
if (missing.length && !process.env.CI) console.warn(`test/e2e/nrpe.test.ts skipped: missing ${missing.join(', ')}`);

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

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const until = Date.now() + 15000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nrpe exited ${child.exitCode}: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => { c.destroy(); resolve(true); });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nrpe did not listen on 127.0.0.1:${port}: ${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(missing.length > 0 && !process.env.CI)('the .deb under real NRPE', () => {
  let deb = '';
  let checks: string[] = [];
  let server: ApiServer | undefined;
  let nrpe: ChildProcess | undefined;
  let tmp = '';
  let installedByUs = false;
  let journalBefore: boolean | undefined;

  beforeAll(async () => {
    if (missing.length) throw new Error(`CI lacks the NRPE end-to-end prerequisites: ${missing.join(', ')} (.ci/run installs them)`);
    // Never clobber a real installation or a real credential.
    if (dpkgStatus() !== 'not-installed' || fs.existsSync(KUBECONFIG)) {
      throw new Error(`${PKG} is installed or ${KUBECONFIG} exists on this machine; this test installs and purges ${PKG}: dpkg -P ${PKG} first`);
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-nrpe-e2e-'));
    const pkg = await run(process.execPath, [path.join(ROOT, 'scripts/package.mjs')], { timeout: 600000 });
    expect(pkg.code, pkg.stderr).toBe(0);
    deb = path.join(ROOT, /built (build\/\S+\.deb)/.exec(pkg.stdout)![1]!);
    checks = sh(path.join(DIST, 'k8s-nrpe'), ['--list']).split('\n').filter(Boolean);
    journalBefore = hasGroup('systemd-journal') ? groupsOf('nagios').includes('systemd-journal') : undefined;
  }, 900000);

  afterAll(async () => {
    if (nrpe && nrpe.exitCode === null) {
      const exited = new Promise((r) => nrpe!.once('exit', r));
      process.kill(nrpe.pid!, 'SIGTERM');
      await exited;
    }
    await server?.stop();
    if (installedByUs && dpkgStatus() !== 'not-installed') await run('dpkg', ['-P', PKG]);
    if (installedByUs) fs.rmSync(KUBECONFIG, { force: true });
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }, 120000);

  it('passes lintian: no error or warning that an override does not explain', async () => {
    const r = await run('lintian', ['--fail-on', 'none', deb], { timeout: 600000 });
    const tags = r.stdout.split('\n').filter((l) => /^[EW]: /.test(l));
    expect(tags, r.stdout + r.stderr).toEqual([]);
  }, 600000);

  it('installs: the binary, a symlink per check, the conffiles, sudo rules that visudo accepts', async () => {
    // Set first: a dpkg -i that outlives the test still gets purged in afterAll.
    installedByUs = true;
    const r = await run('dpkg', ['-i', deb]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(dpkgStatus()).toBe('install ok installed');
    const verify = await run('dpkg', ['--verify', PKG]);
    expect(verify.stdout + verify.stderr).toBe('');

    const bin = fs.statSync(`${PLUGINS}/k8s-nrpe`);
    expect(bin.mode & 0o777).toBe(0o755);
    for (const c of checks) expect(fs.readlinkSync(`${PLUGINS}/check_k8s_${c}`)).toBe('k8s-nrpe');
    const installedChecks = (await run(`${PLUGINS}/k8s-nrpe`, ['--list'], { env: { PATH: '/nonexistent' } })).stdout;
    expect(installedChecks.split('\n').filter(Boolean)).toEqual(checks);

    expect(fs.readFileSync(CFG, 'utf8')).toBe(fs.readFileSync(path.join(ROOT, 'nrpe.d/k8s-nrpe.cfg'), 'utf8'));
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
  }, 300000);

  it('answers every check through check_nrpe exactly as the command run by hand', async () => {
    expect(installedByUs).toBe(true);
    server = await startApiServer('incident');
    // The double's kubeconfig carries its CA, client certificate and key inline.
    fs.copyFileSync(server.kubeconfig, KUBECONFIG);
    const nagiosGid = Number(/^nagios:[^:]*:(\d+):/m.exec(fs.readFileSync('/etc/group', 'utf8'))![1]);
    fs.chownSync(KUBECONFIG, 0, nagiosGid);
    fs.chmodSync(KUBECONFIG, 0o640);

    const port = await freePort();
    const nrpeDir = path.join(tmp, 'nrpe');
    fs.mkdirSync(nrpeDir, { mode: 0o755 });
    const nagiosUid = Number(/^nagios:[^:]*:(\d+):/m.exec(fs.readFileSync('/etc/passwd', 'utf8'))![1]);
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
    nrpe = spawn('/usr/sbin/nrpe', ['-c', conf, '-4', '-f'], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    nrpe.stdout!.on('data', (c) => { nrpeOut += c; });
    nrpe.stderr!.on('data', (c) => { nrpeOut += c; });
    const log = () => `${nrpeOut}${fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : ''}`;
    await waitForPort(port, nrpe, log);

    const commands = new Map<string, string>();
    for (const line of fs.readFileSync(CFG, 'utf8').split('\n')) {
      const m = /^command\[([^\]]+)\]=(.+)$/.exec(line);
      if (m) commands.set(m[1]!, m[2]!);
    }
    const results: { check: string; nrpe: Run; byHand: Run }[] = [];
    for (const c of checks) {
      const cmdline = commands.get(`check_k8s_${c}`);
      expect(cmdline, `no NRPE command for ${c}`).toBeDefined();
      const viaNrpe = await run(CHECK_NRPE, ['-H', '127.0.0.1', '-p', String(port), '-t', '60', '-c', `check_k8s_${c}`]);
      // As NRPE runs it: popen() (/bin/sh -c) as nagios with its supplementary groups, NRPE's environment.
      const byHand = await run('/usr/bin/setpriv', ['--reuid=nagios', '--regid=nagios', '--init-groups', '--', '/bin/sh', '-c', cmdline!], { env: ENV });
      results.push({ check: c, nrpe: viaNrpe, byHand });
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
    expect(server.requests().length).toBeGreaterThan(0);

    const exited = new Promise((r) => nrpe!.once('exit', r));
    process.kill(nrpe.pid!, 'SIGTERM');
    await exited;
  }, 300000);

  it('dpkg -r keeps the conffiles, dpkg -P removes them and what the package set up', async () => {
    expect(installedByUs).toBe(true);
    const remove = await run('dpkg', ['-r', PKG]);
    expect(remove.code, remove.stderr).toBe(0);
    expect(dpkgStatus()).toBe('deinstall ok config-files');
    expect(fs.existsSync(`${PLUGINS}/k8s-nrpe`)).toBe(false);
    for (const c of checks) expect(fs.existsSync(`${PLUGINS}/check_k8s_${c}`)).toBe(false);
    expect(fs.existsSync(CFG)).toBe(true);
    expect(fs.existsSync(SUDOERS)).toBe(true);

    const purge = await run('dpkg', ['-P', PKG]);
    expect(purge.code, purge.stderr).toBe(0);
    expect(dpkgStatus()).toBe('not-installed');
    for (const f of [CFG, SUDOERS, KUBECONFIG, '/var/lib/k8s-nrpe', `/usr/share/doc/${PKG}`]) expect(fs.existsSync(f), f).toBe(false);
    expect(fs.readdirSync('/etc/nagios/nrpe.d').filter((f) => f.startsWith(PKG))).toEqual([]);
    if (journalBefore !== undefined) expect(groupsOf('nagios').includes('systemd-journal')).toBe(journalBefore);
  }, 120000);
});
