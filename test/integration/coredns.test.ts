import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsResponder, type DnsResponder } from '../dns-responder.js';
import { apiServers, expectContract, ownSeconds, ROOT, runBuilt, type ApiServer } from '../harness.js';

const TITLE = 'COREDNS';
const DEPLOYMENTS = '/apis/apps/v1/namespaces/kube-system/deployments';
const PODS = '/api/v1/namespaces/kube-system/pods';
const SERVICE = '/api/v1/namespaces/kube-system/services/kube-dns';

type Obj = Record<string, any>;
const objectsOf = (scenario: string): Obj[] =>
  JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', scenario, 'coredns.json'), 'utf8')).objects;

/** The kube-dns Service, its ClusterIP on this host so the query never leaves it. */
const dnsService = (port: number): Obj => ({
  apiVersion: 'v1', kind: 'Service',
  metadata: { name: 'kube-dns', namespace: 'kube-system', creationTimestamp: '$now-400d', labels: { 'k8s-app': 'kube-dns' } },
  spec: {
    type: 'ClusterIP', clusterIP: '127.0.0.1', clusterIPs: ['127.0.0.1'], selector: { 'k8s-app': 'kube-dns' },
    ports: [{ name: 'dns', port, protocol: 'UDP', targetPort: 53 }, { name: 'dns-tcp', port, protocol: 'TCP', targetPort: 53 }, { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 }],
  },
});

describe('check_k8s_coredns against the API double', () => {
  const start = apiServers();
  const responders: DnsResponder[] = [];
  afterAll(async () => { await Promise.all(responders.map((r) => r.close())); });

  let incident: ApiServer;
  beforeAll(async () => { incident = await start('incident'); });

  it('warns on the incident: one replica, on k8s02, no anti-affinity', async () => {
    const run = await runBuilt('coredns', ['--kubeconfig', incident.kubeconfig]);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(1);
    expect(run.firstLine).toBe(
      'K8S COREDNS WARNING - kube-system/coredns: 1/1 ready on 1 node (k8s02): 1 ready replica (-w 2:); single point of failure: every ready pod on k8s02; no hostname anti-affinity' +
      ' | desired_replicas=1;;;0 ready_replicas=1;2:;1:;0 available_replicas=1;;;0 ready_nodes=1;2:;;0');
    expect(run.stdout).toContain('\n[WARNING] every ready coredns pod runs on k8s02: a reboot of k8s02 takes cluster DNS down (--min-nodes 2)\n');
    expect(run.stdout).toContain('\npod coredns-7896dbf49b-x4q2z on k8s02: Ready\n');
  });

  it("lists only the Deployment's pods, by its selector, on the server", async () => {
    const before = incident.requests().length;
    await runBuilt('coredns', ['--kubeconfig', incident.kubeconfig]);
    const reqs = incident.requests().slice(before);
    expect(reqs.map((r) => r.path)).toEqual([`${DEPLOYMENTS}/coredns`, PODS]);
    expect(reqs[1]!.query).toMatchObject({ labelSelector: 'k8s-app=kube-dns' });
    expect(reqs[1]!.query.fieldSelector).toBeUndefined();
  });

  it('is OK on the healthy cluster, with --format json', async () => {
    const s = await start('healthy');
    const run = await runBuilt('coredns', ['--kubeconfig', s.kubeconfig, '--format', 'json']);
    expect(run.code, run.stdout).toBe(0);
    const o = JSON.parse(run.stdout);
    expect(o).toMatchObject({ check: 'coredns', state: 'OK', exitCode: 0 });
    expect(o.summary).toBe('kube-system/coredns: 2/2 ready on 2 nodes (k8s01, k8s03), required podAntiAffinity on kubernetes.io/hostname');
    expect(o.perfdata).toContainEqual({ label: 'ready_replicas', value: 2, uom: '', warn: '2:', crit: '1:', min: 0, max: null });
    expect(o.findings).toContainEqual({ state: null, text: 'spread over nodes by required podAntiAffinity on kubernetes.io/hostname' });
  });

  it('is CRITICAL when no replica is ready', async () => {
    const objects = objectsOf('incident');
    const dep = objects.find((o) => o.kind === 'Deployment')!;
    Object.assign(dep.status, { readyReplicas: 0, availableReplicas: 0, unavailableReplicas: 1 });
    dep.status.conditions[1] = { type: 'Available', status: 'False', lastUpdateTime: '$now-2m', lastTransitionTime: '$now-2m', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' };
    const pod = objects.find((o) => o.kind === 'Pod')!;
    pod.status.conditions.find((c: Obj) => c.type === 'Ready').status = 'False';
    pod.status.containerStatuses[0] = { ...pod.status.containerStatuses[0], ready: false, started: false, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 2m40s restarting failed container=coredns' } } };
    const s = await start({ objects });
    const run = await runBuilt('coredns', ['--kubeconfig', s.kubeconfig]);
    expectContract(run, TITLE);
    expect(run.code).toBe(2);
    expect(run.firstLine).toMatch(/^K8S COREDNS CRITICAL - kube-system\/coredns: 0\/1 ready on 0 nodes: no ready replica: no cluster DNS; no hostname anti-affinity \| /);
    expect(run.stdout).toContain('\npod coredns-7896dbf49b-x4q2z on k8s02: CrashLoopBackOff\n');
    expect(run.stdout).toContain('\ncondition Available=False MinimumReplicasUnavailable: Deployment does not have minimum availability.');
  });

  it('is CRITICAL "not found" on an empty cluster; --selector looks for it by label', async () => {
    const s = await start('empty');
    let run = await runBuilt('coredns', ['--kubeconfig', s.kubeconfig]);
    expectContract(run, TITLE);
    expect(run.code).toBe(2);
    expect(run.firstLine).toMatch(/^K8S COREDNS CRITICAL - deployment kube-system\/coredns not found \(no cluster DNS\) \| /);
    const before = s.requests().length;
    run = await runBuilt('coredns', ['--kubeconfig', s.kubeconfig, '--selector', 'k8s-app=kube-dns']);
    expect(run.code).toBe(2);
    expect(run.firstLine).toMatch(/not found, nor one labelled k8s-app=kube-dns \(no cluster DNS\)/);
    const reqs = s.requests().slice(before);
    expect(reqs.map((r) => [r.path, r.status, r.query.labelSelector])).toEqual([[`${DEPLOYMENTS}/coredns`, 404, undefined], [DEPLOYMENTS, 200, 'k8s-app=kube-dns']]);
  });

  it('finds a Deployment named otherwise by --selector, and lists its pods by its own selector', async () => {
    // A kube-dns Deployment as other distributions name it, selecting on two labels.
    const objects = JSON.parse(JSON.stringify(objectsOf('healthy')).replaceAll('coredns-6c8f7d5b94', 'kube-dns-6c8f7d5b94')) as Obj[];
    const dep = objects.find((o) => o.kind === 'Deployment')!;
    dep.metadata.name = 'kube-dns';
    dep.spec.selector = { matchLabels: { 'k8s-app': 'kube-dns' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['dns', 'node'] }] };
    for (const o of objects) {
      o.metadata.labels = { ...o.metadata.labels, tier: 'dns' };
      if (o.spec?.template) o.spec.template.metadata.labels.tier = 'dns';
    }
    const s = await start({ objects });
    const run = await runBuilt('coredns', ['--kubeconfig', s.kubeconfig, '--selector', 'k8s-app=kube-dns']);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(0);
    expect(run.firstLine).toMatch(/^K8S COREDNS OK - kube-system\/kube-dns: 2\/2 ready on 2 nodes \(k8s01, k8s03\)/);
    const reqs = s.requests();
    expect(reqs.map((r) => r.path)).toEqual([`${DEPLOYMENTS}/coredns`, DEPLOYMENTS, PODS]);
    expect(reqs[2]!.query.labelSelector).toBe('k8s-app=kube-dns,tier in (dns,node)');
  });

  describe('--resolve against a real UDP DNS responder on 127.0.0.1', () => {
    let answering: DnsResponder;
    let resolving: ApiServer;
    beforeAll(async () => {
      answering = await startDnsResponder({ records: { 'kubernetes.default.svc.cluster.local': ['10.152.183.1'], 'web.apps.svc.cluster.local': ['10.152.183.77', '10.152.183.78'] } });
      responders.push(answering);
      resolving = await start({ objects: [...objectsOf('healthy'), dnsService(answering.port)] });
    });

    it('asks the kube-dns Service ClusterIP and port, OK with the resolve time as perfdata', async () => {
      const before = resolving.requests().length;
      const asked = answering.queries.length;
      const run = await runBuilt('coredns', ['--kubeconfig', resolving.kubeconfig, '--resolve']);
      expectContract(run, TITLE);
      expect(run.code, run.stdout).toBe(0);
      expect(run.firstLine).toMatch(/^K8S COREDNS OK - kube-system\/coredns: 2\/2 ready on 2 nodes \(k8s01, k8s03\), required podAntiAffinity on kubernetes\.io\/hostname; kubernetes\.default\.svc\.cluster\.local -> 10\.152\.183\.1 in \d+ms \| /);
      expect(run.perf.resolve_time).toMatch(/^\d+(\.\d)?ms$/);
      expect(run.stdout).toContain(`(asked 127.0.0.1:${answering.port})`);
      expect(answering.queries.slice(asked)).toEqual([{ name: 'kubernetes.default.svc.cluster.local', type: 1, class: 1 }]);
      expect(resolving.requests().slice(before).map((r) => r.path).sort()).toEqual([`${DEPLOYMENTS}/coredns`, PODS, SERVICE].sort());
    });

    it('resolves another name, with --dns-server instead of the Service', async () => {
      const before = resolving.requests().length;
      const run = await runBuilt('coredns', ['--kubeconfig', resolving.kubeconfig, '--resolve', 'web.apps.svc.cluster.local', '--dns-server', `127.0.0.1:${answering.port}`]);
      expect(run.code, run.stdout).toBe(0);
      expect(run.firstLine).toMatch(/web\.apps\.svc\.cluster\.local -> 10\.152\.183\.77, 10\.152\.183\.78 in \d+ms/);
      expect(resolving.requests().slice(before).map((r) => r.path)).not.toContain(SERVICE);
    });

    it('is CRITICAL on NXDOMAIN and SERVFAIL', async () => {
      let run = await runBuilt('coredns', ['--kubeconfig', resolving.kubeconfig, '--resolve', 'nope.svc.cluster.local']);
      expectContract(run, TITLE);
      expect(run.code).toBe(2);
      expect(run.firstLine).toMatch(new RegExp(`: nope\\.svc\\.cluster\\.local via 127\\.0\\.0\\.1:${answering.port}: NXDOMAIN \\| .*resolve_time=U`));
      const failing = await startDnsResponder({ mode: 'servfail' });
      responders.push(failing);
      run = await runBuilt('coredns', ['--kubeconfig', resolving.kubeconfig, '--dns-server', `127.0.0.1:${failing.port}`]);
      expect(run.code).toBe(2);
      expect(run.stdout).toContain(`[CRITICAL] DNS: kubernetes.default.svc.cluster.local via 127.0.0.1:${failing.port}: SERVFAIL: CoreDNS could not answer`);
    });

    it('is CRITICAL after --resolve-timeout when nothing answers, well within -t', async () => {
      const silent = await startDnsResponder({ mode: 'silent' });
      responders.push(silent);
      const run = await runBuilt('coredns', ['--kubeconfig', resolving.kubeconfig, '--dns-server', `127.0.0.1:${silent.port}`, '--resolve-timeout', '0.6', '-t', '3', '-vv']);
      expectContract(run, TITLE);
      expect(run.code).toBe(2);
      expect(run.firstLine).toMatch(/: kubernetes\.default\.svc\.cluster\.local via 127\.0\.0\.1:\d+: no answer within 600ms \| /);
      expect(silent.queries).toHaveLength(1);
      // Not the -t deadline: the check ended on its own resolve timeout (its own clock, no start-up).
      expect(ownSeconds(run)).toBeLessThan(3);
    });

    it('is CRITICAL when the kube-dns Service is missing', async () => {
      const s = await start({ objects: objectsOf('healthy') });
      const run = await runBuilt('coredns', ['--kubeconfig', s.kubeconfig, '--resolve']);
      expect(run.code).toBe(2);
      expect(run.firstLine).toMatch(/2\/2 ready on 2 nodes \(k8s01, k8s03\): Service kube-system\/kube-dns not found \| /);
      expect(run.stdout).toContain('[CRITICAL] cannot resolve kubernetes.default.svc.cluster.local: Service kube-system/kube-dns not found: pods have no DNS address');
    });
  });

  it('is UNKNOWN, naming the RBAC fix, when pods or deployments are forbidden', async () => {
    for (const [rule, re] of [
      [`^${PODS}$`, /^K8S COREDNS UNKNOWN - forbidden to list pods in namespace kube-system .*deploy\/rbac\.yaml/],
      [`^${DEPLOYMENTS}/`, /^K8S COREDNS UNKNOWN - forbidden to get deployments\.apps coredns in namespace kube-system .*deploy\/rbac\.yaml/],
    ] as const) {
      const s = await start('incident', { rules: [{ path: rule, forbid: true }] });
      const run = await runBuilt('coredns', ['--kubeconfig', s.kubeconfig]);
      expectContract(run, TITLE);
      expect(run.code, run.stdout).toBe(3);
      expect(run.firstLine).toMatch(re);
      expect(run.stdout.trim().split('\n')).toHaveLength(1);
      await s.stop();
    }
  });

  it('is UNKNOWN with one line on bad arguments', async () => {
    for (const args of [['-w', '3:1'], ['--min-nodes', 'x'], ['--dns-server', 'dns.example'], ['--resolve', '-t', '2', '--resolve-timeout', '2'], ['--nope'], []]) {
      const run = await runBuilt('coredns', args.length ? ['--kubeconfig', incident.kubeconfig, ...args] : args);
      expectContract(run, TITLE);
      expect(run.code, args.join(' ')).toBe(3);
      expect(run.stdout.trim().split('\n')).toHaveLength(1);
    }
  });
});
