// check_k8s_dqlite_cluster run as NRPE runs it against REAL dqlite clusters
// on 127.0.0.1 (test/dqlite-cluster.ts), asked with the real dqlite shell:
// - three go-dqlite app nodes talking TLS with one shared cluster.crt, each
//   data directory laid out as microk8s's backend/ (cluster.yaml, info.yaml,
//   cluster.crt, cluster.key): OK, then one node stopped, then two, then all,
//   by PID; group read access as nobody; a shell without the certificate.
// - three dqlite-demo nodes (Debian's go-dqlite, no TLS option): members in
//   clear, no cluster.crt; and the TLS options against them (-c/-k passed
//   when both files exist, a certificate go-dqlite refuses).
import { execFileSync, execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST, expectContract, parsePerf, runBuilt, type CheckRun } from '../harness.js';
import { haveDqlite, haveDqliteTls, startDqliteCluster, type DqliteCluster } from '../dqlite-cluster.js';

const TITLE = 'DQLITE CLUSTER';
const NOBODY = 65534;
const DQLITE = (() => {
  try {
    return execFileSync('sh', ['-c', 'command -v dqlite'], { encoding: 'utf8' }).trim() || '/usr/bin/dqlite';
  } catch {
    return '/usr/bin/dqlite';
  }
})();

const haveShell = haveDqlite();

function runAs(bin: string, groups: string[], args: string[]): Promise<CheckRun> {
  return new Promise((resolve) => {
    execFile('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, ...groups, bin, ...args],
      { env: { PATH: '/usr/bin:/bin' }, timeout: 30000 }, (err, stdout, stderr) => {
        const code: unknown = err ? (err as { code?: unknown }).code : 0;
        const firstLine = stdout.split('\n')[0] ?? '';
        resolve({ code: typeof code === 'number' ? code : null, stdout, stderr, firstLine, perf: parsePerf(firstLine), ms: 0 });
      });
  });
}

/** A copy of the built binary nobody can run, wherever the checkout is. */
function binaryForNobody(dir: string): string {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.chmodSync(dir, 0o755);
  fs.chmodSync(bin, 0o755);
  fs.copyFileSync(fs.realpathSync(path.join(DIST, 'k8s-nrpe')), path.join(bin, 'k8s-nrpe'));
  fs.chmodSync(path.join(bin, 'k8s-nrpe'), 0o755);
  fs.symlinkSync('k8s-nrpe', path.join(bin, 'check_k8s_dqlite_cluster'));
  return path.join(bin, 'check_k8s_dqlite_cluster');
}

async function run(backendDir: string, ...args: string[]): Promise<CheckRun> {
  const r = await runBuilt('dqlite_cluster', ['--dqlite', DQLITE, '--backend-dir', backendDir, ...args]);
  expectContract(r, TITLE);
  return r;
}

describe.skipIf(!haveShell || !haveDqliteTls())('check_k8s_dqlite_cluster against a real three-node dqlite cluster over TLS, as microk8s runs it', () => {
  let c: DqliteCluster;
  // Made in beforeAll: a describe body runs even when its tests are filtered out, and then no afterAll does.
  let scratch = '';

  beforeAll(async () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-nrpe-dqlite-check-'));
    c = await startDqliteCluster(3, { tls: true });
  }, 300_000);
  afterAll(async () => {
    await c?.destroy();
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('OK: a leader, 3 of 3 voters reachable, this node a voter, every query over TLS', async () => {
    const [n1, n2] = c.nodes;
    const r = await run(n2!.backendDir, '-vv');
    expect(r.firstLine).toMatch(new RegExp(`^K8S DQLITE CLUSTER OK - leader ${n1!.address}, 3 of 3 voters reachable; this node ${n2!.address} is a voter, reaches the leader \\|`));
    expect(r.perf).toMatchObject({ voters: '3', reachable_voters: '3', members: '3' });
    expect(Number(r.perf.leader_latency!.replace(/s$/, ''))).toBeGreaterThan(0);
    for (const n of c.nodes) expect(r.stdout).toMatch(new RegExp(`${n.address} \\(voter[^)]*\\): answered in \\d+ ms`));
    expect(r.stdout).toContain('queried with TLS (cluster.crt, cluster.key)');
    // Every shell command carried the pair, as microk8s passes it: .leader, .cluster, 3 x .describe.
    const commands = r.stderr.split('\n').filter((l) => /running .*dqlite /.test(l));
    expect(commands.length).toBe(5);
    for (const l of commands) expect(l).toContain(`-c ${n2!.backendDir}/cluster.crt -k ${n2!.backendDir}/cluster.key`);
  }, 60_000);

  it('group read access is enough: as nobody with only the directory\'s group, never root', async () => {
    // microk8s: backend/ is root:microk8s, ug+rwX, o-rwX (snap/hooks/configure). Here: root:<gid 4242>, 0770/0660.
    const gid = 4242;
    const dir = path.join(scratch, 'group-backend');
    fs.mkdirSync(dir);
    for (const f of ['cluster.yaml', 'info.yaml', 'cluster.crt', 'cluster.key']) {
      fs.copyFileSync(path.join(c.nodes[0]!.backendDir, f), path.join(dir, f));
      fs.chownSync(path.join(dir, f), 0, gid);
      fs.chmodSync(path.join(dir, f), 0o660);
    }
    fs.chownSync(dir, 0, gid);
    fs.chmodSync(dir, 0o770);
    const bin = binaryForNobody(path.join(scratch, 'nobody'));
    fs.chmodSync(scratch, 0o755);
    const withGroup = await runAs(bin, [`--groups=${gid}`], ['--dqlite', DQLITE, '--backend-dir', dir]);
    expectContract(withGroup, TITLE);
    expect(withGroup.firstLine).toMatch(/^K8S DQLITE CLUSTER OK - leader /);
    const without = await runAs(bin, ['--clear-groups'], ['--dqlite', DQLITE, '--backend-dir', dir]);
    expectContract(without, TITLE);
    expect(without.firstLine).toMatch(/^K8S DQLITE CLUSTER UNKNOWN - cannot read .*cluster\.yaml \(dqlite's node store\): permission denied; .*group microk8s/);
  }, 60_000);

  it('without cluster.crt/cluster.key the shell speaks clear text, which TLS members drop: CRITICAL, said so', async () => {
    const dir = path.join(scratch, 'no-cert');
    fs.mkdirSync(dir);
    for (const f of ['cluster.yaml', 'info.yaml']) fs.copyFileSync(path.join(c.nodes[0]!.backendDir, f), path.join(dir, f));
    const r = await run(dir, '-v', '--query-timeout', '2s');
    expect(r.firstLine).toMatch(/^K8S DQLITE CLUSTER CRITICAL - no dqlite leader: .*no quorum: 0 of 3 voters reachable/);
    expect(r.stdout).toContain('queried with no TLS (no cluster.crt/cluster.key in the backend directory)');
  }, 60_000);

  it('WARNING with one node stopped: quorum kept, the stopped member named', async () => {
    const [n1, , n3] = c.nodes;
    await c.stop(2);
    const r = await run(n1!.backendDir);
    expect(r.firstLine).toMatch(new RegExp(`^K8S DQLITE CLUSTER WARNING - 1 of 3 members unreachable: ${n3!.address} \\(voter\\) \\|`));
    expect(r.perf).toMatchObject({ voters: '3', reachable_voters: '2', members: '3' });
    expect(r.stdout).toMatch(new RegExp(`${n3!.address} \\(voter\\): unreachable: .*connection refused`));
  }, 60_000);

  it('CRITICAL with two of three stopped: no quorum, within -t whatever dqlite does', async () => {
    const [n1] = c.nodes;
    await c.stop(1);
    const r = await run(n1!.backendDir);
    expect(r.firstLine).toMatch(/^K8S DQLITE CLUSTER CRITICAL - /);
    expect(r.firstLine).toContain('no quorum: 1 of 3 voters reachable, 2 needed');
    expect(r.perf).toMatchObject({ voters: '3', reachable_voters: '1', members: '3' });
    // Default -t 10s, --query-timeout 4s: the check's own limit plus a margin for a busy machine.
    expect(r.ms).toBeLessThan(10_000 + 5_000);
  }, 60_000);

  it('every node stopped: CRITICAL, and the processes are gone', async () => {
    await c.stop(0);
    for (const n of c.nodes) expect(() => process.kill(n.pid, 0)).toThrow();
    const r = await run(c.nodes[0]!.backendDir, '--query-timeout', '2s');
    expect(r.firstLine).toMatch(/^K8S DQLITE CLUSTER CRITICAL - no dqlite leader: .*no quorum: 0 of 3 voters reachable/);
  }, 60_000);
});

describe.skipIf(!haveShell)('check_k8s_dqlite_cluster against dqlite-demo nodes (members in clear, no cluster.crt)', () => {
  let c: DqliteCluster;
  // Made in beforeAll: a describe body runs even when its tests are filtered out, and then no afterAll does.
  let scratch = '';

  beforeAll(async () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-nrpe-dqlite-demo-check-'));
    c = await startDqliteCluster(3);
  }, 120_000);
  afterAll(async () => {
    await c?.destroy();
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  });

  const copyStore = (name: string): string => {
    const dir = path.join(scratch, name);
    fs.mkdirSync(dir);
    for (const f of ['cluster.yaml', 'info.yaml']) fs.copyFileSync(path.join(c.nodes[0]!.backendDir, f), path.join(dir, f));
    return dir;
  };

  it('OK without TLS when the backend directory has no cluster.crt', async () => {
    const r = await run(c.nodes[2]!.backendDir, '-v');
    expect(r.firstLine).toMatch(new RegExp(`^K8S DQLITE CLUSTER OK - leader ${c.nodes[0]!.address}, 3 of 3 voters reachable; this node ${c.nodes[2]!.address} is a voter, reaches the leader \\|`));
    expect(r.stdout).toContain('queried with no TLS');
  }, 60_000);

  it('a TLS client against clear members: -c/-k passed, nothing answers, never OK', async () => {
    const dir = copyStore('tls-backend');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '3650', '-subj', '/CN=k8s',
      '-addext', 'subjectAltName=DNS:node1,IP:127.0.0.1', '-keyout', path.join(dir, 'cluster.key'), '-out', path.join(dir, 'cluster.crt')], { stdio: 'ignore' });
    const r = await run(dir, '-vv', '--query-timeout', '2s');
    for (const l of r.stderr.split('\n').filter((x) => /running .*dqlite /.test(x))) expect(l).toContain(`-c ${dir}/cluster.crt -k ${dir}/cluster.key`);
    expect(r.firstLine).toMatch(/^K8S DQLITE CLUSTER CRITICAL - no dqlite leader: /);
    expect(r.stdout).toContain('queried with TLS (cluster.crt, cluster.key)');
  }, 60_000);

  it('a cluster.crt without a DNS name (go-dqlite refuses it) is UNKNOWN, not a cluster verdict', async () => {
    const dir = copyStore('tls-nodns');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-subj', '/CN=k8s',
      '-keyout', path.join(dir, 'cluster.key'), '-out', path.join(dir, 'cluster.crt')], { stdio: 'ignore' });
    const r = await run(dir);
    expect(r.firstLine).toMatch(/^K8S DQLITE CLUSTER UNKNOWN - the dqlite shell cannot talk TLS to any member \(panic: certificate has no DNS extension\)/);
  }, 60_000);

  it('UNKNOWN naming the file when the backend directory is not there', async () => {
    const r = await run(path.join(scratch, 'nope'));
    expect(r.firstLine).toMatch(/^K8S DQLITE CLUSTER UNKNOWN - .*nope\/cluster\.yaml \(dqlite's node store\) not found/);
  }, 30_000);

  it('UNKNOWN when the dqlite shell is not where --dqlite says', async () => {
    const r = await run(c.nodes[0]!.backendDir, '--dqlite', path.join(scratch, 'no-dqlite'));
    expect(r.firstLine).toMatch(/^K8S DQLITE CLUSTER UNKNOWN - .*no-dqlite not found/);
  }, 30_000);
});

describe.skipIf(fs.existsSync('/snap/microk8s') || fs.existsSync('/var/snap/microk8s'))('triage on a host without microk8s', () => {
  it('lists check_k8s_dqlite_cluster and check_k8s_certs as not run, with why', async () => {
    const list = execFileSync(path.join(DIST, 'k8s-nrpe'), ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    const others = list.filter((c) => c !== 'dqlite_cluster' && c !== 'certs');
    const r = await runBuilt('k8s-nrpe', ['triage', '--skip', others.join(',')]);
    expect(r.stdout).toMatch(/dqlite_cluster \(not a microk8s node \(no \/snap\/microk8s\)\), certs \(not a microk8s node \(no \/snap\/microk8s\)\)/);
  }, 30_000);
});
