import { beforeAll, describe, expect, it } from 'vitest';
import { apiServers, expectContract, runBuilt, type ApiServer } from '../harness.js';

const TITLE = 'LEASES';
const LEASES = '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases';

describe('check_k8s_leases against the API double', () => {
  const start = apiServers();

  let incident: ApiServer;
  let degraded: ApiServer;
  beforeAll(async () => { [incident, degraded] = await Promise.all([start('incident'), start('leases-degraded')]); });

  it('is only WARNING on the incident: fresh lease on a Ready k8s02, the scheduler\'s leaseDurationSeconds 60 > 20', async () => {
    const run = await runBuilt('leases', ['--kubeconfig', incident.kubeconfig]);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(1);
    // microk8s's default 60s: the scheduler warns (the action item), the controller-manager stays quiet.
    expect(run.firstLine).toMatch(/^K8S LEASES WARNING - kube-scheduler \(k8s02\): leaseDurationSeconds 60 > 20 \| /);
    expect(run.perf).toMatchObject({ 'duration_kube-scheduler': '60s', 'transitions_kube-scheduler': '14c', 'transitions_kube-controller-manager': '9c' });
    expect(Number.parseFloat(run.perf['renew_age_kube-scheduler']!)).toBeLessThan(15);
    expect(run.firstLine).toContain("duration_kube-scheduler=60s;20;;0");
    const lines = run.stdout.trim().split('\n').slice(1);
    // What to do first, then the problem, then each lease's facts.
    expect(lines[0]).toBe('What to do: kube-scheduler: set --leader-elect-lease-duration=20s --leader-elect-renew-deadline=15s in /var/snap/microk8s/current/args/kube-scheduler, then on each control-plane node sudo snap restart microk8s.daemon-kubelite');
    expect(lines[1]).toBe('[WARNING] kube-scheduler: leaseDurationSeconds 60 > 20: failover waits up to 1m; fix: --leader-elect-lease-duration=20s --leader-elect-renew-deadline=15s in /var/snap/microk8s/current/args/kube-scheduler');
    expect(lines[2]).toMatch(/^kube-system\/kube-scheduler: held by k8s02_4f7c2a1e-9b3d-4c6e-8f2a-1d5e7b9c3a60 on node k8s02 \(Ready\), renewed \d+s ago, leaseDurationSeconds 60, 14 transitions$/);
    expect(lines).toHaveLength(4);
  });

  it('GETs each lease and each holder node once, lists nothing', async () => {
    const before = incident.requests().length;
    await runBuilt('leases', ['--kubeconfig', incident.kubeconfig]);
    const reqs = incident.requests().slice(before);
    expect(reqs.map((r) => `${r.method} ${r.path}`).sort()).toEqual([
      'GET /api/v1/nodes/k8s01',
      'GET /api/v1/nodes/k8s02',
      `GET ${LEASES}/kube-controller-manager`,
      `GET ${LEASES}/kube-scheduler`,
    ]);
    // Two leases held from k8s02: its node is fetched once.
    const b2 = degraded.requests().length;
    await runBuilt('leases', ['--kubeconfig', degraded.kubeconfig, '--lease', 'kube-scheduler,external-dns']);
    const nodes = degraded.requests().slice(b2).filter((r) => r.path.startsWith('/api/v1/nodes'));
    expect(nodes.map((r) => r.path)).toEqual(['/api/v1/nodes/k8s02']);
  });

  it('is OK on a healthy cluster, with --format json', async () => {
    const s = await start('healthy');
    const run = await runBuilt('leases', ['--kubeconfig', s.kubeconfig, '--format', 'json']);
    expect(run.code, run.stdout).toBe(0);
    const o = JSON.parse(run.stdout);
    expect(o).toMatchObject({ check: 'leases', state: 'OK', exitCode: 0 });
    expect(o.summary).toMatch(/^kube-scheduler held by k8s01, renewed \d+s ago; kube-controller-manager held by k8s03, renewed \d+s ago$/);
    expect(o.perfdata.map((p: { label: string }) => p.label)).toEqual([
      'renew_age_kube-scheduler', 'duration_kube-scheduler', 'transitions_kube-scheduler',
      'renew_age_kube-controller-manager', 'duration_kube-controller-manager', 'transitions_kube-controller-manager',
    ]);
    expect(o.perfdata.find((p: { label: string }) => p.label === 'duration_kube-scheduler')).toMatchObject({ value: 15, uom: 's', warn: '20', min: 0 });
  });

  it('is CRITICAL for a holder on a node whose kubelet stopped posting, and for an expired lease', async () => {
    const run = await runBuilt('leases', ['--kubeconfig', degraded.kubeconfig]);
    expectContract(run, TITLE);
    expect(run.code).toBe(2);
    // Renewed '$now-5m': 5 min before the double answered. The check measures from its own start, a
    // little earlier (less than its -t of 10 s): 4m5Xs or 5m.
    expect(run.firstLine).toMatch(/^K8S LEASES CRITICAL - kube-scheduler \(k8s02\): holder node k8s02 Unknown; kube-controller-manager \(k8s03\): expired \(renewed (4m5\ds|5m\d*s?) ago, leaseDurationSeconds 15\) \| /);
    const age = Number.parseFloat(run.perf['renew_age_kube-controller-manager']!);
    expect(age).toBeGreaterThan(300 - 10);
    expect(age).toBeLessThan(300 + 2);
  });

  it('is WARNING for a holder on a cordoned node, CRITICAL for one on no node, OK for a pod-name identity', async () => {
    const cases: [string, number, RegExp][] = [
      ['cloud-controller-manager', 1, /WARNING - cloud-controller-manager \(k8s01\): holder node k8s01 cordoned \|/],
      // Held from no node, renewed: an external control plane, said but not paged (--holder-not-a-node).
      ['cluster-autoscaler', 0, /OK - cluster-autoscaler held by k8s04, renewed \d+s ago \|/],
      ['snapshot-controller-leader', 0, /OK - snapshot-controller-leader held by snapshot-controller-5b7c9d8f6-x2kq9, renewed \d+s ago \|/],
    ];
    for (const [lease, code, re] of cases) {
      const before = degraded.requests().length;
      const run = await runBuilt('leases', ['--kubeconfig', degraded.kubeconfig, '--lease', lease]);
      expectContract(run, TITLE);
      expect(run.code, run.stdout).toBe(code);
      expect(run.firstLine).toMatch(re);
      if (lease === 'snapshot-controller-leader') {
        expect(run.stdout).toContain('(identity is not <node>_<uuid>: node not checked)');
        expect(degraded.requests().slice(before).map((r) => r.path)).toEqual([`${LEASES}/snapshot-controller-leader`]);
      }
    }
  });

  it('on an empty cluster: WARNING for the default leases, CRITICAL for one named with --lease', async () => {
    const s = await start('empty');
    let run = await runBuilt('leases', ['--kubeconfig', s.kubeconfig]);
    expectContract(run, TITLE);
    expect(run.code).toBe(1);
    expect(run.firstLine).toMatch(/^K8S LEASES WARNING - kube-scheduler: no Lease \(leader election off\?\); kube-controller-manager: no Lease \(leader election off\?\) \| renew_age_kube-scheduler=U/);
    run = await runBuilt('leases', ['--kubeconfig', s.kubeconfig, '--lease', 'kube-scheduler']);
    expectContract(run, TITLE);
    expect(run.code).toBe(2);
    expect(run.stdout).toContain('[CRITICAL] no Lease kube-system/kube-scheduler: leader election off (--leader-elect=false) or kube-scheduler never started');
  });

  it('is UNKNOWN, naming the RBAC fix, when leases or nodes are forbidden', async () => {
    for (const path of [`^${LEASES}/`, '^/api/v1/nodes/']) {
      const s = await start('incident', { rules: [{ path, forbid: true }] });
      const run = await runBuilt('leases', ['--kubeconfig', s.kubeconfig]);
      expectContract(run, TITLE);
      expect(run.code, run.stdout).toBe(3);
      expect(run.firstLine).toMatch(path.includes('leases')
        ? /^K8S LEASES UNKNOWN - forbidden to get leases\.coordination\.k8s\.io kube-\S+ in namespace kube-system .*deploy\/rbac\.yaml/
        : /^K8S LEASES UNKNOWN - forbidden to get nodes k8s0[12] .*deploy\/rbac\.yaml/);
      expect(run.stdout.trim().split('\n')).toHaveLength(1);
      await s.stop();
    }
  });

  it('is UNKNOWN with one line on bad arguments', async () => {
    for (const args of [['--lease', 'Bad_Name'], ['--lease', ''], ['--max-lease-duration', 'long'], ['-w', '5:1'], ['--nope'], []]) {
      const run = await runBuilt('leases', args.length ? ['--kubeconfig', incident.kubeconfig, ...args] : args);
      expectContract(run, TITLE);
      expect(run.code, args.join(' ')).toBe(3);
      expect(run.stdout.trim().split('\n')).toHaveLength(1);
    }
  });
});
