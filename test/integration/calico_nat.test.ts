// check_k8s_calico_nat as NRPE runs it on a node, against REAL netfilter
// state: a network namespace of its own, loaded with kube-proxy/Calico rules
// by the real iptables-restore, iptables-legacy-restore and nft, and the API
// double started inside the same namespace (its 127.0.0.1 is not the host's).
// Needs root, iproute2, iptables, nftables, ipset and sudo: CI has them
// (.ci/run) and fails loudly without them; elsewhere the tests skip, saying why.
import { execFile, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST, ROOT, expectContract, parsePerf, apiServers, testNetns, utsUnavailable, withHostname, type ApiServer, type CheckRun } from '../harness.js';

const TITLE = 'CALICO NAT';
const NS = testNetns('calico');
/**
 * This file's boot time (K8S_NRPE_BOOT_TIME, epoch seconds), for the double's "$boot" fixture times
 * and for the check alike: the answers do not depend on when this machine really booted.
 */
const BOOTED_LONG_AGO = Math.floor(Date.now() / 1000) - 3 * 3600;
const PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
/** The check's environment as NRPE gives it (none to speak of), plus the test's boot time. */
const checkEnv = (bootTime = BOOTED_LONG_AGO) => ({ PATH, HOME: '/nonexistent', K8S_NRPE_BOOT_TIME: String(bootTime) });
const NOBODY = 65534;
const netfilter = (f: string) => fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'netfilter', f), 'utf8');
const KUBE_PROXY = netfilter('kube-proxy-iptables.rules');
const EMPTY_NAT = '*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n';

function has(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 10000 });
    return true;
  } catch {
    return false;
  }
}

/** What this machine lacks for these tests, each with what to do about it. */
function missingPrerequisites(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) return ['not root (network namespaces and iptables need root)'];
  for (const [tool, pkg] of [['ip', 'iproute2'], ['iptables-restore', 'iptables'], ['iptables-legacy-restore', 'iptables'], ['nft', 'nftables'], ['ipset', 'ipset'], ['sudo', 'sudo'], ['setpriv', 'util-linux']]) {
    if (!has('sh', ['-c', `command -v ${tool}`])) missing.push(`${tool} not installed (apt-get install ${pkg})`);
  }
  if (!fs.existsSync(path.join(DIST, 'test', 'apiserver.mjs')) || !fs.existsSync(path.join(DIST, 'check_k8s_calico_nat'))) missing.push('not built (npm run build)');
  if (!missing.length) {
    const probe = testNetns('probe');
    if (!has('ip', ['netns', 'add', probe])) missing.push('cannot create a network namespace (ip netns add): no CAP_SYS_ADMIN in this container?');
    else {
      if (!has('ip', ['netns', 'exec', probe, 'iptables-save', '-t', 'nat'])) missing.push('iptables does not work inside a network namespace');
      if (!has('ip', ['netns', 'exec', probe, 'nft', 'list', 'tables'])) missing.push('nft does not work inside a network namespace');
      has('ip', ['netns', 'del', probe]);
    }
  }
  return missing;
}

const missing = missingPrerequisites();
if (missing.length && !process.env.CI) console.log(`skipped check_k8s_calico_nat netns tests: ${missing.join('; ')}`);

it.runIf(missing.length > 0 && !!process.env.CI)('has root, network namespaces, iptables, nft, ipset and sudo (CI must)', () => {
  throw new Error(`check_k8s_calico_nat integration tests cannot run in CI: ${missing.join('; ')}. .ci/run installs these packages and runs as root.`);
});

/** Run a command in the namespace, feeding stdin. */
function inNs(cmd: string, args: string[], input?: string): string {
  return execFileSync('ip', ['netns', 'exec', NS, cmd, ...args], { input, encoding: 'utf8', timeout: 20000 });
}

/** KUBE-SERVICES without the rules of these service ports (kube-proxy never wrote them). */
function withoutServices(rules: string, ...servicePorts: string[]): string {
  return rules.split('\n').filter((l) => !(l.startsWith('-A KUBE-SERVICES ') && servicePorts.some((sp) => l.includes(`"${sp} cluster IP"`)))).join('\n');
}

describe.skipIf(missing.length > 0)('check_k8s_calico_nat in a network namespace with real netfilter state', () => {
  let healthy: ApiServer;
  let incident: ApiServer;
  let asNobody: string; // a copy of the binary nobody can execute, wherever the checkout is

  beforeAll(async () => {
    execFileSync('ip', ['netns', 'add', NS]);
    execFileSync('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
    // Felix's ipsets, which cali-nat-outgoing matches.
    for (const set of ['cali40masq-ipam-pools', 'cali40all-ipam-pools']) inNs('ipset', ['create', set, 'hash:net', 'family', 'inet']);
    [healthy, incident] = await Promise.all([
      start('healthy', undefined, { netns: NS, bootTime: BOOTED_LONG_AGO }),
      start('incident', undefined, { netns: NS, bootTime: BOOTED_LONG_AGO }),
    ]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-nrpe-nobody-'));
    fs.chmodSync(dir, 0o755);
    const real = fs.realpathSync(path.join(DIST, 'k8s-nrpe'));
    fs.copyFileSync(real, path.join(dir, 'k8s-nrpe'));
    fs.chmodSync(path.join(dir, 'k8s-nrpe'), 0o755);
    fs.symlinkSync('k8s-nrpe', path.join(dir, 'check_k8s_calico_nat'));
    asNobody = dir;
  });

  afterAll(async () => {
    has('ip', ['netns', 'del', NS]);
    if (asNobody) fs.rmSync(asNobody, { recursive: true, force: true });
  });
  // Registered after the hook above, so its afterAll runs first (vitest runs afterAll hooks last-in,
  // first-out): the doubles stop before their network namespace goes.
  const start = apiServers();

  /** Both backends' nat tables as given (empty when omitted), and no nftables kube-proxy table. */
  function nat(tables: { nft?: string; legacy?: string; nftables?: string }): void {
    inNs('iptables-restore', [], tables.nft ?? EMPTY_NAT);
    inNs('iptables-legacy-restore', [], tables.legacy ?? EMPTY_NAT);
    has('ip', ['netns', 'exec', NS, 'nft', 'delete', 'table', 'ip', 'kube-proxy']);
    if (tables.nftables) inNs('nft', ['-f', '-'], tables.nftables);
  }

  /** The built check inside the namespace, as NRPE starts it (no environment), optionally as nobody. */
  /**
   * `node`: the --node given (null: none, the check finds this host's node); `hostname`: the host's
   * name, set in a UTS namespace of the check's own; `kubeconfig`: another than the server's.
   */
  function run(args: string[], opts: { user?: 'nobody'; server?: ApiServer; bootTime?: number; node?: string | null; hostname?: string; kubeconfig?: string } = {}): Promise<CheckRun> {
    const server = opts.server ?? healthy;
    const bin = opts.user ? path.join(asNobody, 'check_k8s_calico_nat') : path.join(DIST, 'check_k8s_calico_nat');
    const kubeconfig = opts.kubeconfig ?? (opts.user ? readableCopy(server.kubeconfig) : server.kubeconfig);
    const node = opts.node === undefined ? ['--node', 'k8s02'] : opts.node === null ? [] : ['--node', opts.node];
    const check = [bin, '--kubeconfig', kubeconfig, ...node, ...args];
    const argv = ['netns', 'exec', NS,
      ...(opts.user ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'] : []),
      ...(opts.hostname === undefined ? check : withHostname(opts.hostname, check).flat())];
    const started = Date.now();
    return new Promise((resolve) => {
      execFile('ip', argv, { env: checkEnv(opts.bootTime), timeout: 60000 }, (err, stdout, stderr) => {
        const code: unknown = err ? (err as { code?: unknown }).code : 0;
        const firstLine = stdout.split('\n')[0] ?? '';
        resolve({ code: typeof code === 'number' ? code : null, stdout, stderr, firstLine, perf: parsePerf(firstLine), ms: Date.now() - started });
      });
    });
  }

  function readableCopy(file: string): string {
    const copy = path.join(asNobody, path.basename(path.dirname(file)) + '-' + path.basename(file));
    fs.copyFileSync(file, copy);
    fs.chmodSync(copy, 0o644);
    return copy;
  }

  it('is OK with kube-proxy and Calico rules matching the Services, asking the API only for what it judges', async () => {
    nat({ nft: KUBE_PROXY });
    const before = healthy.requests().length;
    const r = await run([]);
    expectContract(r, TITLE);
    expect(r.code, r.stdout).toBe(0);
    expect(r.firstLine).toMatch(/^K8S CALICO NAT OK - 18\/18 service ports programmed on k8s02 \(iptables-nft, 127 nat rules\); calico-node Ready, started 52s after boot \| /);
    expect(r.perf).toEqual({
      expected_services: '18', programmed_services: '18', missing_services: '0', nat_rules: '127', calico_started_after_boot: '52s', calico_restarts: '1',
    });
    expect(r.stdout).toMatch(/\n  kube-system\/calico-node-q9w4m: Ready, .*Calico nat chains: cali-OUTPUT, cali-POSTROUTING, cali-PREROUTING, cali-fip-dnat, cali-fip-snat, cali-nat-outgoing\n/);
    expect(r.stdout).toMatch(/nftables: no table ip kube-proxy/);

    const reqs = healthy.requests().slice(before);
    expect(reqs.map((q) => `${q.path} ${q.query.labelSelector ?? ''} ${q.query.fieldSelector ?? ''}`.trim()).sort()).toEqual([
      '/api/v1/nodes/k8s02',
      '/api/v1/pods k8s-app=calico-node spec.nodeName=k8s02',
      '/api/v1/services !service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless',
      '/apis/discovery.k8s.io/v1/endpointslices kubernetes.io/service-name,!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless',
    ]);
    expect(reqs.every((q) => q.status === 200)).toBe(true);
  });

  it('is CRITICAL on the incident node: empty nat table after the reboot and calico-node older than the boot', async () => {
    nat({});
    const r = await run([], { server: incident });
    expectContract(r, TITLE);
    expect(r.code, r.stdout).toBe(2);
    expect(r.firstLine).toMatch(/^K8S CALICO NAT CRITICAL - no Service NAT rules on k8s02: no KUBE-SERVICES chain in the nat table and no nftables kube-proxy table, 18 service ports unreachable by ClusterIP \(post-reboot signature\); calico-node has not restarted since the reboot \| /);
    expect(r.perf).toMatchObject({ expected_services: '18', programmed_services: '0', missing_services: '18', nat_rules: '0', calico_started_after_boot: '-7200s', calico_restarts: '0' });
    expect(r.stdout).toMatch(/\n  \[CRITICAL\] no KUBE-SERVICES chain in the nat table and no nftables kube-proxy table: ClusterIP traffic from k8s02 is dropped \(post-reboot incident signature; booted \S+ ago\)\. Restart kube-proxy\/kubelite\n/);
    expect(r.stdout).toMatch(/\n  \[CRITICAL\] calico-node has not restarted since the reboot: kube-system\/calico-node-q9w4m started 2h before this host booted \S+ ago \(0 restarts\); delete the pod or restart kubelite\n/);
    expect(Buffer.byteLength(r.stdout)).toBeLessThanOrEqual(8191);
  });

  it('is CRITICAL when only Calico\'s chains came back, and names them', async () => {
    nat({ nft: netfilter('calico-only.rules') });
    const r = await run(['-v']);
    expectContract(r, TITLE);
    expect(r.code).toBe(2);
    expect(r.firstLine).toMatch(/no KUBE-SERVICES chain in the nat table.*; calico-node Ready, started 52s after boot \| /);
    expect(r.stdout).toMatch(/Calico nat chains: cali-OUTPUT, cali-POSTROUTING/);
    expect(r.perf.nat_rules).toBe('9');
  });

  it('judges missing service rules against -w/-c', async () => {
    nat({ nft: withoutServices(KUBE_PROXY, 'openebs/pvc-05e03b60-7c1d-4a8e-9f3b-2d6e8a41c0f7-jiva-ctrl-svc:iscsi') });
    let r = await run([]);
    expectContract(r, TITLE);
    expect(r.code).toBe(1);
    expect(r.firstLine).toMatch(/^K8S CALICO NAT WARNING - 1 of 18 service ports with ready endpoints has no NAT rule on k8s02: openebs\/pvc-05e03b60-7c1d-4a8e-9f3b-2d6e8a41c0f7-jiva-ctrl-svc:iscsi;/);
    expect(r.stdout).toMatch(/\n  \[WARNING\] no NAT rule for openebs\/pvc-05e03b60-7c1d-4a8e-9f3b-2d6e8a41c0f7-jiva-ctrl-svc:iscsi 10\.152\.183\.101:3260\/TCP \(1 ready endpoint\)/);
    expect(r.perf).toMatchObject({ programmed_services: '17', missing_services: '1' });

    nat({ nft: withoutServices(KUBE_PROXY, 'default/kubernetes:https', 'kube-system/kube-dns:dns', 'kube-system/kube-dns:dns-tcp') });
    r = await run([]);
    expectContract(r, TITLE);
    expect(r.code).toBe(2);
    expect(r.perf.missing_services).toBe('3');
    r = await run(['-w', '5', '-c', '10']);
    expectContract(r, TITLE);
    expect(r.code, r.stdout).toBe(0);
    expect(r.firstLine).toMatch(/missing_services=3;5;10;0/);
  });

  it('with the rules intact on the incident node, leads with calico-node', async () => {
    nat({ nft: KUBE_PROXY });
    const r = await run([], { server: incident });
    expectContract(r, TITLE);
    expect(r.code).toBe(2);
    expect(r.firstLine).toMatch(/^K8S CALICO NAT CRITICAL - calico-node has not restarted since the reboot; 18\/18 service ports programmed on k8s02/);
  });

  it('reads the legacy backend (iptables-legacy-restore) and says so', async () => {
    nat({ legacy: KUBE_PROXY });
    const r = await run([]);
    expectContract(r, TITLE);
    expect(r.code, r.stdout).toBe(0);
    expect(r.firstLine).toMatch(/18\/18 service ports programmed on k8s02 \(iptables-legacy, 127 nat rules\)/);
    expect(r.stdout).toMatch(/iptables-nft: 0 nat rules; iptables-legacy: 127 nat rules, KUBE-SERVICES/);
  });

  it('never creates a legacy nat table on a host that has none (iptables-legacy-save runs without -t)', async () => {
    const fresh = `${NS}-fresh`;
    execFileSync('ip', ['netns', 'add', fresh]);
    try {
      const r = await new Promise<CheckRun>((resolve) => {
        execFile('ip', ['netns', 'exec', fresh, path.join(DIST, 'check_k8s_calico_nat'), '--kubeconfig', healthy.kubeconfig, '--node', 'k8s02', '-t', '5'],
          { env: checkEnv() }, (err, stdout, stderr) => {
            const firstLine = stdout.split('\n')[0] ?? '';
            resolve({ code: err ? Number((err as { code?: unknown }).code) : 0, stdout, stderr, firstLine, perf: parsePerf(firstLine), ms: 0 });
          });
      });
      expectContract(r, TITLE);
      expect(r.code).toBe(2); // nothing programmed there, API unreachable from that namespace
      expect(r.stdout).toMatch(/iptables-nft: 0 nat rules; iptables-legacy: no nat table; nftables: no table ip kube-proxy/);
      expect(execFileSync('ip', ['netns', 'exec', fresh, 'cat', '/proc/net/ip_tables_names'], { encoding: 'utf8' })).toBe('');
      expect(execFileSync('ip', ['netns', 'exec', fresh, 'nft', 'list', 'tables'], { encoding: 'utf8' })).toBe('');
    } finally {
      has('ip', ['netns', 'del', fresh]);
    }
  });

  it('reads kube-proxy nftables mode (table ip kube-proxy, map service-ips) through nft -j', async () => {
    // Calico's own chains stay in iptables whatever kube-proxy's mode (judged since issue 13.6).
    nat({ nft: netfilter('calico-only.rules'), nftables: netfilter('kube-proxy-nftables.nft') });
    let r = await run([]);
    expectContract(r, TITLE);
    expect(r.code, r.stdout).toBe(0);
    expect(r.firstLine).toMatch(/18\/18 service ports programmed on k8s02 \(nftables, \d+ nat rules\)/);
    r = await run(['--proxy-mode', 'iptables']);
    expect(r.code).toBe(2); // nftables not read: no Service rules where it looked
    expect(r.firstLine).toMatch(/no KUBE-SERVICES chain/);
    inNs('nft', ['delete', 'element', 'ip', 'kube-proxy', 'service-ips', '{ 10.152.183.10 . udp . 53 }']);
    r = await run(['--proxy-mode', 'nftables']);
    expectContract(r, TITLE);
    expect(r.code).toBe(1);
    expect(r.firstLine).toMatch(/1 of 18 service ports .*: kube-system\/kube-dns:dns;/);
  });

  it('is UNKNOWN without root, giving the exact sudoers line; and with --sudo when sudo refuses', async () => {
    nat({ nft: KUBE_PROXY });
    let r = await run([], { user: 'nobody' });
    expectContract(r, TITLE);
    expect(r.code).toBe(3);
    expect(r.firstLine).toMatch(/^K8S CALICO NAT UNKNOWN - cannot read the nat table: \/usr\/sbin\/iptables-nft-save needs root \(iptables-nft-save v[\d.]+ \(nf_tables\): .*Permission denied \(you must be root\)\); run with --sudo and add to \/etc\/sudoers.d\/k8s-nrpe: /);
    expect(r.firstLine.endsWith(': nobody ALL=(root) NOPASSWD: /usr/sbin/iptables-nft-save -t nat, /usr/sbin/iptables-legacy-save "", /usr/sbin/nft -j list table ip kube-proxy')).toBe(true);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    r = await run(['--sudo'], { user: 'nobody' });
    expectContract(r, TITLE);
    expect(r.code).toBe(3);
    expect(r.firstLine).toMatch(/^K8S CALICO NAT UNKNOWN - sudo refused to run \/usr\/sbin\/iptables-nft-save -t nat \(sudo: a password is required\): add to \/etc\/sudoers.d\/k8s-nrpe \(packaging\/sudoers\/k8s-nrpe\): nobody ALL=\(root\) NOPASSWD: /);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('--sudo runs the fixed commands through sudo -n (root may)', async () => {
    nat({ nft: KUBE_PROXY });
    const r = await run(['--sudo', '-vv']);
    expectContract(r, TITLE);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toContain('running /usr/bin/sudo -n /usr/sbin/iptables-nft-save -t nat');
    expect(r.stderr).toMatch(/running \/usr\/bin\/sudo -n \/usr\/sbin\/iptables-legacy-save\n/);
    expect(r.stderr).toContain('running /usr/bin/sudo -n /usr/sbin/nft -j list table ip kube-proxy');
  });

  it('reports the local CRITICAL within -t when the API server hangs, naming the API part as not answered (issue 14.3)', async () => {
    nat({});
    const hung = await start('incident', { rules: [{ path: '^/api/v1/services$', hang: true }] }, NS);
    const r = await run(['-t', '4'], { server: hung });
    expectContract(r, TITLE);
    expect(r.code, r.stdout).toBe(2);
    expect(r.firstLine).toMatch(/^K8S CALICO NAT CRITICAL - no Service NAT rules on k8s02: no KUBE-SERVICES chain in the nat table and no nftables kube-proxy table \(post-reboot signature\); cannot cross-check with the API: the API server did not answer within 2s \(half of -t 4\) \| /);
    expect(r.stdout).toMatch(/\n\[UNKNOWN\] cannot cross-check with the API: the API server did not answer within 2s/);
    expect(r.ms).toBeLessThan(4000 + 1500);
  });

  it('keeps judging the nat table when the API is unreachable', async () => {
    nat({});
    const dead = path.join(asNobody, 'dead-kubeconfig.yaml');
    fs.writeFileSync(dead, fs.readFileSync(healthy.kubeconfig, 'utf8').replace(/https:\/\/127\.0\.0\.1:\d+/, 'https://127.0.0.1:9'));
    const r = await new Promise<CheckRun>((resolve) => {
      execFile('ip', ['netns', 'exec', NS, path.join(DIST, 'check_k8s_calico_nat'), '--kubeconfig', dead, '--node', 'k8s02'], { env: checkEnv() }, (err, stdout, stderr) => {
        const firstLine = stdout.split('\n')[0] ?? '';
        resolve({ code: err ? Number((err as { code?: unknown }).code) : 0, stdout, stderr, firstLine, perf: parsePerf(firstLine), ms: 0 });
      });
    });
    expectContract(r, TITLE);
    expect(r.code).toBe(2);
    expect(r.firstLine).toMatch(/no KUBE-SERVICES chain in the nat table/);
    expect(r.stdout).toMatch(/\n\[UNKNOWN\] cannot cross-check with the API: .*127\.0\.0\.1:9/);
  });
  it('right after dpkg -i, with no kubeconfig written yet, is UNKNOWN with the set-up step, the nat table shown but not judged', async () => {
    nat({});
    const r = await run([], { node: null, kubeconfig: '/etc/nagios/k8s-nrpe-test-absent.kubeconfig' });
    expectContract(r, TITLE);
    expect(r.code, r.stdout).toBe(3);
    expect(r.firstLine).toMatch(/^K8S CALICO NAT UNKNOWN - cannot tell whether this host is a node of a cluster: .*\/etc\/nagios\/k8s-nrpe-test-absent\.kubeconfig.*make-kubeconfig\.sh/);
    expect(r.stdout).toMatch(/\nnot judged: no Service NAT rules on \S+: no KUBE-SERVICES chain in the nat table/);
    expect(r.stdout).not.toMatch(/\[CRITICAL\]/);
  });

  const uts = utsUnavailable();
  it.skipIf(!!uts)('on a host whose name no node has, is UNKNOWN naming --node, not CRITICAL', async () => {
    nat({});
    const r = await run([], { node: null, hostname: 'vm' });
    expectContract(r, TITLE);
    expect(r.code, r.stdout).toBe(3);
    expect(r.firstLine).toMatch(/^K8S CALICO NAT UNKNOWN - this host is not a node of the cluster: no node has its name \(vm\) as its name, kubernetes\.io\/hostname label or Hostname address: pass --node /);
    expect(r.stdout).toMatch(/\nnot judged: no Service NAT rules on vm: /);
  });

  it.skipIf(!!uts)('finds its node from an FQDN hostname in upper case', async () => {
    nat({ nft: KUBE_PROXY });
    const r = await run([], { node: null, hostname: 'K8S02.Example.LAN' });
    expectContract(r, TITLE);
    expect(r.code, r.stdout).toBe(0);
    expect(r.firstLine).toMatch(/^K8S CALICO NAT OK - 18\/18 service ports programmed on k8s02 \(iptables-nft, 127 nat rules\); calico-node Ready/);
  });

  it.skipIf(!!uts)('with an API configured but unreachable, keeps the local CRITICAL whatever the hostname (the incident)', async () => {
    nat({});
    const dead = path.join(asNobody, 'dead-kubeconfig-2.yaml');
    fs.writeFileSync(dead, fs.readFileSync(healthy.kubeconfig, 'utf8').replace(/https:\/\/127\.0\.0\.1:\d+/, 'https://127.0.0.1:9'));
    const r = await run([], { node: null, hostname: 'vm', kubeconfig: dead });
    expectContract(r, TITLE);
    expect(r.code, r.stdout).toBe(2);
    expect(r.firstLine).toMatch(/^K8S CALICO NAT CRITICAL - no Service NAT rules on vm: no KUBE-SERVICES chain .*; cannot cross-check with the API: .*127\.0\.0\.1:9/);
  });

  it('gives the same answers on a host booted a minute ago as on one booted hours ago', async () => {
    // Only calico-node's start is relative to the boot; Services and EndpointSlices are not, so a
    // fresh boot must not make ports "settling" (the first minutes after a boot used to fail here).
    const fresh = Math.floor(Date.now() / 1000) - 60;
    const [freshHealthy, freshIncident] = await Promise.all([
      start('healthy', undefined, { netns: NS, bootTime: fresh }),
      start('incident', undefined, { netns: NS, bootTime: fresh }),
    ]);
    const cases: [string, { nft?: string }, 'healthy' | 'incident', number, RegExp][] = [
      ['all programmed', { nft: KUBE_PROXY }, 'healthy', 0, /^K8S CALICO NAT OK - 18\/18 service ports programmed on k8s02 \(iptables-nft, 127 nat rules\); calico-node Ready, started 52s after boot \| /],
      ['one missing', { nft: withoutServices(KUBE_PROXY, 'kube-system/kube-dns:dns') }, 'healthy', 1, /^K8S CALICO NAT WARNING - 1 of 18 service ports with ready endpoints has no NAT rule on k8s02: kube-system\/kube-dns:dns;/],
      ['the incident', {}, 'incident', 2, /^K8S CALICO NAT CRITICAL - no Service NAT rules on k8s02: .*; calico-node has not restarted since the reboot \| /],
    ];
    for (const [what, tables, scenario, code, line] of cases) {
      nat(tables);
      // --boot-grace 30s: within the grace (default 5m) an old calico-node is a WARNING by design (see below).
      const long = await run(['--boot-grace', '30s'], { server: scenario === 'healthy' ? healthy : incident, bootTime: BOOTED_LONG_AGO });
      const recent = await run(['--boot-grace', '30s'], { server: scenario === 'healthy' ? freshHealthy : freshIncident, bootTime: fresh });
      for (const [boot, r] of [['3h ago', long], ['60s ago', recent]] as const) {
        expectContract(r, TITLE);
        expect(r.code, `${what}, booted ${boot}: ${r.stdout}`).toBe(code);
        expect(r.firstLine, `${what}, booted ${boot}`).toMatch(line);
      }
      // The same line, perfdata included: nothing in it depends on how long ago the boot was.
      expect(recent.firstLine, what).toBe(long.firstLine);
    }
  });

  it('within --boot-grace after the boot, a calico-node that has not restarted yet is WARNING, not CRITICAL (behaviour change, issue 13.6)', async () => {
    const fresh = Math.floor(Date.now() / 1000) - 60;
    const freshIncident = await start('incident', undefined, { netns: NS, bootTime: fresh });
    nat({ nft: KUBE_PROXY });
    let r = await run([], { server: freshIncident, bootTime: fresh });
    expectContract(r, TITLE);
    expect(r.code, r.stdout).toBe(1);
    // The worst section leads the status line (Report.section); the OK NAT section follows.
    expect(r.firstLine).toMatch(/^K8S CALICO NAT WARNING - calico-node has not restarted yet \(host booted (\d+m(\d+s)?|\d+s) ago\); 18\/18 service ports programmed on k8s02 \(iptables-nft, 127 nat rules\) \| /); // '1m ago' on the whole minute, '1m2s ago' after
    r = await run(['--boot-grace', '30s'], { server: freshIncident, bootTime: fresh });
    expect(r.code).toBe(2);
    expect(r.firstLine).toMatch(/^K8S CALICO NAT CRITICAL - calico-node has not restarted since the reboot; /);
  });

  it("WARNING when a Ready calico-node's cali-* chains are missing from the nat table (behaviour change, issue 13.6)", async () => {
    nat({ nft: KUBE_PROXY.split('\n').filter((l) => !l.includes('cali-')).join('\n') });
    const r = await run([]);
    expectContract(r, TITLE);
    expect(r.code, r.stdout).toBe(1);
    // The WARNING section leads the status line (Report.section); the OK ones follow in order.
    expect(r.firstLine).toMatch(/^K8S CALICO NAT WARNING - Calico's nat chains missing \(cali-PREROUTING, cali-POSTROUTING, cali-OUTPUT\); 18\/18 service ports programmed on k8s02 .*; calico-node Ready, started 52s after boot \| /);
  });
});
