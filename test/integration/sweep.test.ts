// The sweep: every check of `k8s-nrpe --list`, each binary run as NRPE runs it
// (its nrpe.d/k8s-nrpe.cfg options, test/sweep.ts), against the healthy
// scenario, must say OK. A check that is UNKNOWN on a healthy cluster (a
// resource the double does not serve, a request the check cannot make) or
// that cries wolf fails here the day it is registered.
//
// Checks that read this host as well as (or instead of) the API get the same
// kind of healthy host input their own tests use, made here:
// - coredns --resolve: a real UDP DNS responder on 127.0.0.1 that knows
//   kubernetes.default (test/dns-responder.ts), given with --dns-server;
// - certs: the certificates the double itself serves with, made by the real
//   openssl (test/global-setup.ts), and its client kubeconfig;
// - dqlite: a journal written by the real systemd-journal-remote with ordinary
//   k8s-dqlite lines (test/journal-fixture.ts);
// - dqlite_cluster: a real three-node dqlite cluster (test/dqlite-cluster.ts);
// - node_health: a tree of real sysctl files, a loopback /healthz responder,
//   an HTTP/2 server on a unix socket for containerd and a stand-in systemctl
//   given with --systemctl (test/node-health-fixture.ts: systemd is not PID 1
//   on the test machines).
// Where the real tool is missing the check is left out with a message, and
// under CI that is a failure (.ci/run installs them), as in their own tests.
// calico_nat needs a network namespace holding kube-proxy's rules; its OK on
// the healthy scenario is test/integration/calico_nat.test.ts's first case.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapBounded } from '../../lib/kube/parallel.js';
import { haveDqlite, startDqliteCluster, type DqliteCluster } from '../dqlite-cluster.js';
import { startDnsResponder, type DnsResponder } from '../dns-responder.js';
import { apiServers, expectContract, ROOT, type ApiServer } from '../harness.js';
import { dqliteEntry, journalRemoteMissing, writeJournal } from '../journal-fixture.js';
import { fakeSystemctl, startGrpcSocket, startHealthz, writeHostTree, type Responder } from '../node-health-fixture.js';
import { listChecks, runAsNrpe } from '../sweep.js';

/** Judged OK on healthy input by their own test, with the real tools (see above). */
const OWN_TEST: Record<string, { file: string; test: string }> = {
  calico_nat: { file: 'test/integration/calico_nat.test.ts', test: 'is OK with kube-proxy and Calico rules matching the Services' },
};

const TITLE = (check: string) => check.toUpperCase().replace(/_/g, ' ');

describe('the sweep: every check OK on a healthy cluster, run as NRPE runs it', () => {
  const start = apiServers();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-nrpe-sweep-'));
  let server: ApiServer;
  let dns: DnsResponder | undefined;
  let dqlite: DqliteCluster | undefined;
  let healthz: Responder | undefined;
  let containerd: { close(): Promise<void> } | undefined;
  /** Host input per check: extra options, or why it cannot run here. */
  const host: Record<string, string[] | string> = {};

  beforeAll(async () => {
    server = await start('healthy');
    dns = await startDnsResponder({ records: { 'kubernetes.default.svc.cluster.local': ['10.152.183.1'] } });
    host.coredns = ['--dns-server', `127.0.0.1:${dns.port}`];

    const certs = path.join(tmp, 'certs');
    fs.mkdirSync(certs);
    for (const f of ['ca.crt', 'server.crt', 'client.crt']) fs.copyFileSync(path.join(server.dir, f), path.join(certs, f));
    host.certs = ['--certs-dir', certs, '--kubeconfig-glob', server.kubeconfig];

    const noJournal = journalRemoteMissing();
    if (noJournal) host.dqlite = noJournal;
    else {
      const now = Date.now();
      const dir = path.join(tmp, 'journal');
      writeJournal(dir, Array.from({ length: 10 }, (_, k) => dqliteEntry(now - 10_000 - k * 20_000, 'info', `Compacted revision ${90000 + k}`)));
      host.dqlite = ['--journal-directory', dir];
    }

    healthz = await startHealthz();
    const socket = path.join(tmp, 'containerd.sock');
    containerd = await startGrpcSocket(socket);
    const running = { active: 'active', sub: 'running', restarts: 0, upS: 60 };
    const systemctl = fakeSystemctl(tmp, { 'snap.microk8s.daemon-kubelite': running, 'snap.microk8s.daemon-containerd': running, 'snap.microk8s.daemon-k8s-dqlite': running });
    host.node_health = ['--flavour', 'microk8s', '--probe-timeout', '10s', '--systemctl', systemctl, '--kubelet-port', String(healthz.port), '--containerd-socket', socket, ...writeHostTree(path.join(tmp, 'host'))];

    if (!haveDqlite()) host.dqlite_cluster = 'dqlite and dqlite-demo are missing (apt-get install go-dqlite)';
    else {
      dqlite = await startDqliteCluster(3);
      host.dqlite_cluster = ['--dqlite', 'dqlite', '--backend-dir', dqlite.nodes[2]!.backendDir];
    }
  }, 120_000);

  afterAll(async () => {
    await dns?.close();
    await dqlite?.destroy();
    await healthz?.close();
    await containerd?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('every check says OK, in the contract, with nothing on stderr', async () => {
    const checks = await listChecks();
    expect(checks.length).toBeGreaterThan(10);
    const missing = Object.entries(host).filter(([, v]) => typeof v === 'string');
    if (missing.length) {
      const why = missing.map(([c, v]) => `${c}: ${v}`).join('; ');
      if (process.env.CI) throw new Error(`the sweep cannot run every check in CI: ${why}`);
      console.warn(`sweep: left out here: ${why}`);
    }
    const swept = checks.filter((c) => !OWN_TEST[c] && typeof host[c] !== 'string');
    const runs = await mapBounded(swept, 4, (c) => runAsNrpe(c, server, (host[c] as string[] | undefined) ?? []));
    const notOk = runs.map((r, i) => ({ check: swept[i]!, code: r.code, line: r.firstLine, stderr: r.stderr })).filter((r) => r.code !== 0 || r.stderr);
    expect(notOk).toEqual([]);
    for (const [i, r] of runs.entries()) expectContract(r, TITLE(swept[i]!));
  }, 300_000); // every check in turn, as subprocesses, four at a time

  it('the checks it leaves to their own test are judged OK on healthy input there', () => {
    for (const [check, own] of Object.entries(OWN_TEST)) {
      const text = fs.readFileSync(path.join(ROOT, own.file), 'utf8');
      expect(text, `${check}: ${own.file}`).toContain(`it('${own.test}`);
      expect(text, `${check}: ${own.file} runs the healthy scenario`).toContain("'healthy'");
    }
  });
});
