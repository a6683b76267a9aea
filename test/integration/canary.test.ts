// check_k8s_canary as NRPE runs it: the built binary against the API double,
// whose PodLifecycle binds, starts, readies and deletes the canary one small
// fixed step apart, or stops at one stage (a fault). Stage limits are given
// per test (a fault is judged once its stage's critical limit passes), -t is
// generous; nothing asserts how long anything took.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiServers, DIST, expectContract, parsePerf, ROOT, runBuilt, type ApiServer, type CheckRun } from '../harness.js';
import { HOST_INPUT } from '../sweep.js';

const NS = 'k8s-nrpe-canary';
const fixture = (f: string) => (JSON.parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/healthy', f), 'utf8')) as { objects: { kind: string }[] }).objects;
const cluster = [...fixture('nodes.json'), ...fixture('node-leases.json'), ...fixture('scheduler.json').filter((o) => o.kind === 'Lease')];

const scenario = (spec: Record<string, unknown> = {}, extra: unknown[] = []) => ({
  objects: [...cluster, ...extra, { apiVersion: 'k8s-nrpe.test/v1', kind: 'PodLifecycle', metadata: { name: 'canary' }, spec: { namespaces: [NS], stepMs: 30, ...spec } }],
});
/** Stage limits no healthy step of the double comes near, so a healthy run is OK however busy the machine. */
const RELAXED = ['--schedule-warning', '60s', '--schedule-critical', '120s', '--start-warning', '60s', '--start-critical', '120s',
  '--ready-warning', '60s', '--ready-critical', '120s', '--delete-warning', '60s', '--delete-critical', '120s', '-w', '300', '-c', '400'];

/** The canary pods the double holds now, read with the double's client certificate. */
function canaries(server: ApiServer): Promise<{ metadata: { name: string; uid: string; deletionTimestamp?: string } }[]> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${server.url}/api/v1/namespaces/${NS}/pods`, {
      ca: fs.readFileSync(path.join(server.dir, 'ca.crt')), cert: fs.readFileSync(path.join(server.dir, 'client.crt')), key: fs.readFileSync(path.join(server.dir, 'client.key')),
    }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve(JSON.parse(body).items));
    });
    req.on('error', reject);
    req.end();
  });
}

const run = async (server: ApiServer, args: string[]) => {
  const r = await runBuilt('canary', ['--kubeconfig', server.kubeconfig, '-t', '60', ...args]);
  expectContract(r, 'CANARY');
  return r;
};

/** Start the built check and hand back the child, for the tests that signal it. */
function spawnCanary(server: ApiServer, args: string[]): { pid: number; kill: (s: NodeJS.Signals) => void; done: Promise<CheckRun> } {
  const started = Date.now();
  const child = spawn(path.join(DIST, 'check_k8s_canary'), ['--kubeconfig', server.kubeconfig, ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => { stdout += c; });
  child.stderr.on('data', (c) => { stderr += c; });
  const done = new Promise<CheckRun>((resolve) => child.on('close', (code) => {
    const firstLine = stdout.split('\n')[0] ?? '';
    resolve({ code, stdout, stderr, firstLine, perf: parsePerf(firstLine), ms: Date.now() - started });
  }));
  return { pid: child.pid!, kill: (s) => child.kill(s), done };
}

/** Wait (no bound of its own: the test's timeout is the bound) until the double has created a canary. */
async function untilCreated(server: ApiServer, after = 0): Promise<void> {
  while (server.requests().filter((r) => r.method === 'POST' && r.status === 201).length <= after) await new Promise((ok) => setTimeout(ok, 50));
}

describe('check_k8s_canary', () => {
  const start = apiServers();

  it('OK: every stage timed, the pod deleted and gone', async () => {
    const server = await start(scenario());
    const r = await run(server, [...RELAXED, '--node', 'k8s02']);
    expect(r.code, r.stdout).toBe(0);
    expect(r.firstLine).toMatch(/^K8S CANARY OK - canary k8s-nrpe-canary\/k8s-nrpe-canary-k8s02 started and went on k8s02 in /);
    for (const p of ['schedule_seconds', 'start_seconds', 'ready_seconds', 'delete_seconds', 'total_seconds']) expect(parseFloat(r.perf[p]!), p).toBeGreaterThanOrEqual(0);
    expect(await canaries(server)).toEqual([]);
    const asked = server.requests();
    const post = asked.find((q) => q.method === 'POST')!;
    expect(post).toMatchObject({ path: `/api/v1/namespaces/${NS}/pods`, status: 201 });
    expect(asked.filter((q) => q.method === 'DELETE').map((q) => q.status)).toEqual([200]);
  }, 120_000);

  describe('the incident\'s three failure modes each name their stage', () => {
    const firstLines: string[] = [];

    it('stalled scheduler: not scheduled, no scheduling attempt, the Lease holder named', async () => {
      const server = await start(scenario({ fault: 'unbound' }));
      const r = await run(server, ['--schedule-critical', '2s']);
      expect(r.code, r.stdout).toBe(2);
      expect(r.firstLine).toMatch(/^K8S CANARY CRITICAL - not scheduled after \d+s: no scheduling attempt \(PodScheduled absent\); scheduler Lease held by k8s01, renewed \d+s ago \|/);
      expect(r.stdout.split('\n')[1]).toMatch(/^What to do: the scheduler on k8s01 holds its Lease but does not work its queue: restart it there/);
      expect(r.perf.schedule_seconds).toBe('U');
      expect(await canaries(server)).toEqual([]);
      // Never bound: the API removes it at once on delete, and the check says so rather than "still had it".
      expect(r.stdout).toContain('\ncanary k8s-nrpe-canary/k8s-nrpe-canary deleted and gone\n');
      expect(r.stdout).not.toContain('still had it');
      firstLines.push(r.firstLine.split(' | ')[0]!);
    }, 120_000);

    it('bound to a node that never gets a sandbox: FailedCreatePodSandBox "name is reserved"', async () => {
      const server = await start(scenario({ fault: 'no-sandbox' }));
      const r = await run(server, ['--node', 'k8s02', '--start-critical', '2s', '-v']);
      expect(r.code, r.stdout).toBe(2);
      expect(r.firstLine).toMatch(/^K8S CANARY CRITICAL - bound to k8s02 \d+s ago, no sandbox: FailedCreatePodSandBox( x\d+)?: name is reserved \|/);
      expect(r.stdout).toMatch(/FailedCreatePodSandBox( x\d+)?: Failed to create pod sandbox: rpc error: .* is reserved for "[0-9a-f]+"/);
      expect(r.stdout.split('\n')[1]).toMatch(/What to do: containerd on k8s02 holds a stale sandbox name \("name is reserved"\): restart containerd there/);
      expect(parseFloat(r.perf.schedule_seconds!)).toBeGreaterThanOrEqual(0);
      expect(r.perf.start_seconds).toBe('U');
      expect(server.requests().filter((q) => q.method === 'DELETE').map((q) => q.status)).toEqual([200]);
      firstLines.push(r.firstLine.split(' | ')[0]!);
    }, 120_000);

    it('status never written (the datastore): Running but Ready not written', async () => {
      const server = await start(scenario({ fault: 'not-ready' }));
      const r = await run(server, ['--node', 'k8s03', '--ready-critical', '2s']);
      expect(r.code, r.stdout).toBe(2);
      expect(r.firstLine).toMatch(/^K8S CANARY CRITICAL - Running on k8s03 but Ready not written for \d+s; kubelet heartbeat \(Lease kube-node-lease\/k8s03\) renewed \d+s ago \|/);
      expect(r.stdout.split('\n')[1]).toMatch(/What to do: the kubelet on k8s03 runs the container but its status does not reach the API: check the datastore/);
      firstLines.push(r.firstLine.split(' | ')[0]!);
    }, 120_000);

    it('the three first lines differ', () => {
      expect(firstLines).toHaveLength(3);
      expect(new Set(firstLines).size).toBe(3);
    });
  });

  it('Unschedulable: the scheduler\'s message, WARNING (pressure, not a stall)', async () => {
    const server = await start(scenario({ fault: 'unschedulable' }));
    const r = await run(server, ['--schedule-critical', '2s']);
    expect(r.code, r.stdout).toBe(1);
    expect(r.firstLine).toMatch(/^K8S CANARY WARNING - not scheduled after \d+s: Unschedulable: 0\/3 nodes are available: 3 Insufficient cpu\./);
    expect(await canaries(server)).toEqual([]);
  }, 120_000);

  it('bound, and the kubelet writes nothing', async () => {
    const server = await start(scenario({ fault: 'no-status' }));
    const r = await run(server, ['--node', 'k8s01', '--start-critical', '2s']);
    expect(r.code, r.stdout).toBe(2);
    expect(r.firstLine).toMatch(/^K8S CANARY CRITICAL - bound to k8s01 \d+s ago, its kubelet wrote no status and no events; kubelet heartbeat/);
  }, 120_000);

  it('a delete the kubelet never confirms', async () => {
    const server = await start(scenario({ fault: 'delete-stuck' }));
    const r = await run(server, [...RELAXED, '--delete-critical', '2s', '--delete-warning', '1s']);
    expect(r.code, r.stdout).toBe(2);
    expect(r.firstLine).toMatch(/^K8S CANARY CRITICAL - deleted, still present after \d+s on k8s0\d \(kubelet or datastore\)/);
    expect(parseFloat(r.perf.ready_seconds!)).toBeGreaterThanOrEqual(0);
    expect(r.perf.delete_seconds).toBe('U');
    // The next run finds it still there, deleted long ago by a run that has ended: it says so and waits no longer than a delete stage.
    const again = await run(server, [...RELAXED, '--delete-critical', '2s', '--delete-warning', '1s']);
    expect(again.code, again.stdout).toBe(2);
    expect(again.firstLine).toMatch(/a previous canary k8s-nrpe-canary\/k8s-nrpe-canary is still present \d+s after its delete on k8s0\d/);
    expect(server.requests().filter((q) => q.method === 'POST')).toHaveLength(1);
  }, 120_000);

  it('the API gone mid-run: UNKNOWN, naming the stage and the canary it could not delete', async () => {
    const server = await start(scenario({ fault: 'unbound' }), { rules: [{ path: `^/api/v1/namespaces/${NS}/pods/.`, method: 'GET|DELETE', drop: true }] });
    const r = await run(server, []);
    expect(r.code, r.stdout).toBe(3);
    expect(r.firstLine).toMatch(/^K8S CANARY UNKNOWN - API error in stage schedule after \d+s: API server https:\/\/127\.0\.0\.1:\d+ closed the connection during get pods k8s-nrpe-canary in namespace k8s-nrpe-canary; cannot delete the canary k8s-nrpe-canary\/k8s-nrpe-canary: /);
    expect(r.stdout).toContain('the next run deletes it; now: kubectl -n k8s-nrpe-canary delete pod k8s-nrpe-canary');
  }, 120_000);

  it('killed mid-run (SIGKILL) after its pod exists: the next run deletes the leftover and succeeds', async () => {
    // The first pod never binds, so the first run is still waiting when it is killed.
    const server = await start(scenario({ fault: 'unbound', faultPods: 1 }));
    const first = spawnCanary(server, ['-t', '120', '--schedule-critical', '100s']);
    await untilCreated(server);
    first.kill('SIGKILL');
    expect((await first.done).stdout).toBe('');
    const [left] = await canaries(server);
    expect(left?.metadata.name).toBe('k8s-nrpe-canary');

    const r = await run(server, RELAXED);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`deleted the leftover canary k8s-nrpe-canary/k8s-nrpe-canary: its run \\(.*/${first.pid}/\\d+\\) has ended`));
    expect(r.perf.leftovers_deleted).toBe('1');
    expect(await canaries(server)).toEqual([]);
    // The leftover went first, then this run's own canary was made and deleted.
    expect(server.requests().filter((q) => q.method !== 'GET').map((q) => `${q.method} ${q.status}`)).toEqual(['POST 201', 'DELETE 200', 'POST 201', 'DELETE 200']);
  }, 120_000);

  it('SIGTERM (NRPE\'s command_timeout): deletes first, then says UNKNOWN naming the stage', async () => {
    const server = await start(scenario({ fault: 'unbound' }));
    const c = spawnCanary(server, ['-t', '120', '--schedule-critical', '100s']);
    await untilCreated(server);
    c.kill('SIGTERM');
    const r = await c.done;
    expectContract(r, 'CANARY');
    expect(r.code, r.stdout).toBe(3);
    expect(r.firstLine).toMatch(/^K8S CANARY UNKNOWN - ended by a signal in stage schedule after \d+s/);
    expect(await canaries(server)).toEqual([]);
  }, 120_000);

  it('-t ends the wait before a stage limit: the pod is deleted within -t and the line says -t ended first', async () => {
    const server = await start(scenario({ fault: 'unbound' }));
    const r = await runBuilt('canary', ['--kubeconfig', server.kubeconfig, '-t', '20', '--schedule-warning', '200s', '--schedule-critical', '300s']);
    expectContract(r, 'CANARY');
    expect(r.code, r.stdout).toBe(3);
    expect(r.firstLine).toMatch(/not scheduled after \d+s: no scheduling attempt .*the run's -t 20s ended first/);
    expect(await canaries(server)).toEqual([]);
  }, 120_000);

  it('refuses a namespace holding a pod that is not ours, and creates nothing', async () => {
    const foreign = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: NS }, spec: { nodeName: 'k8s01' }, status: { phase: 'Running' } };
    const server = await start(scenario({}, [foreign]));
    const r = await run(server, RELAXED);
    expect(r.code, r.stdout).toBe(3);
    expect(r.firstLine).toMatch(/^K8S CANARY UNKNOWN - refusing to run: namespace k8s-nrpe-canary holds 1 pod not made by k8s-nrpe \(web-1\)/);
    expect(server.requests().filter((q) => q.method !== 'GET')).toEqual([]);
  }, 120_000);

  it('without the canary Role: UNKNOWN naming deploy/rbac-canary.yaml', async () => {
    const server = await start(scenario({ namespaces: ['elsewhere'] }));
    const r = await run(server, RELAXED);
    expect(r.code, r.stdout).toBe(3);
    expect(r.firstLine).toMatch(/forbidden to create pods k8s-nrpe-canary in namespace k8s-nrpe-canary .*grant it with the Role in deploy\/rbac-canary\.yaml/);
  }, 120_000);

  it('triage runs it only when asked', async () => {
    const server = await start(scenario());
    const all = await runBuilt('k8s-nrpe', ['triage', '--kubeconfig', server.kubeconfig, '--json', '--only', 'leases']);
    expect(JSON.parse(all.stdout).checks.map((c: { check: string }) => c.check)).toEqual(['leases']);
    const skipped = await runBuilt('k8s-nrpe', ['triage', '--kubeconfig', server.kubeconfig, '--json', '--skip', [...HOST_INPUT, 'coredns'].join(',')]);
    const j = JSON.parse(skipped.stdout) as { checks: { check: string }[]; skipped: { check: string; reason: string }[] };
    expect(j.checks.map((c) => c.check)).not.toContain('canary');
    expect(j.skipped).toContainEqual({ check: 'canary', reason: 'creates a pod: run it with k8s-nrpe triage --only canary' });
    expect(server.requests().filter((q) => q.method === 'POST')).toEqual([]);
    const asked = await runBuilt('k8s-nrpe', ['triage', '--kubeconfig', server.kubeconfig, '--json', '--only', 'canary', '-t', '60']);
    const row = (JSON.parse(asked.stdout) as { checks: { check: string; state: string }[] }).checks;
    expect(row).toEqual([expect.objectContaining({ check: 'canary', state: 'OK' })]);
    expect(await canaries(server)).toEqual([]);
  }, 120_000);
});
