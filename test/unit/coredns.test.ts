import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import check, { type Data, type DnsProbe } from '../../checks/coredns.js';
import { hostnameSpreading } from '../../lib/kube/spreading.js';
import type { Deployment, Pod, PodAffinityTerm, TopologySpreadConstraint } from '../../lib/kube/types.js';
import { parseArgs } from '../../lib/plugin/args.js';
import { UsageError } from '../../lib/plugin/errors.js';
import { outcomeState } from '../../lib/plugin/result.js';
import { State } from '../../lib/plugin/state.js';
import { ROOT } from '../harness.js';
import { checkOptions } from './support.js';

const NOW = Date.parse('2026-06-05T06:30:00Z');

/** The scenario objects themselves: unit tests judge what the integration tests serve. */
function fixture(scenario: 'incident' | 'healthy'): { deployment: Deployment; pods: Pod[] } {
  const objects = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', scenario, 'coredns.json'), 'utf8')).objects as { kind: string }[];
  return {
    deployment: objects.find((o) => o.kind === 'Deployment') as Deployment,
    pods: objects.filter((o) => o.kind === 'Pod') as Pod[],
  };
}
const clone = <T>(x: T): T => structuredClone(x);

const opts = (args: string[] = []) => checkOptions(check, args);

const run = async (d: Partial<Data>, args: string[] = []) => {
  const o = check.evaluate({ candidates: [], pods: [], ...d }, await opts(args), NOW);
  return { o, state: outcomeState(o), perf: Object.fromEntries(o.perfdata.map((p) => [p.label, p.value])), texts: o.findings.map((f) => f.text) };
};

/** The incident Deployment scaled to n pods on the given nodes (all ready unless said). */
function scaled(nodes: string[], ready = nodes.length): Data {
  const { deployment, pods } = fixture('incident');
  const d = clone(deployment);
  d.spec!.replicas = nodes.length;
  Object.assign(d.status!, { replicas: nodes.length, readyReplicas: ready, availableReplicas: ready, updatedReplicas: nodes.length });
  const ps = nodes.map((n, i) => {
    const p = clone(pods[0]!);
    p.metadata!.name = `coredns-7896dbf49b-p${i}`;
    p.spec!.nodeName = n;
    if (i >= ready) {
      p.status!.conditions!.find((c) => c.type === 'Ready')!.status = 'False';
      p.status!.containerStatuses![0]!.ready = false;
      p.status!.containerStatuses![0]!.state = { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s restarting failed container' } };
    }
    return p;
  });
  return { deployment: d, pods: ps, candidates: [] };
}

describe('coredns options', () => {
  it('has the documented defaults', async () => {
    const o = await opts();
    expect(o).toMatchObject({ namespace: 'kube-system', deployment: 'coredns', minNodes: 2, requireAntiAffinity: true, resolveTimeout: 2, service: 'kube-dns' });
    expect([o.warning?.text, o.critical?.text]).toEqual(['2:', '1:']);
    expect(o.resolve).toBeUndefined();
    expect((await opts(['--no-require-anti-affinity'])).requireAntiAffinity).toBe(false);
  });

  it('takes --resolve with or without a name; --dns-server implies it', async () => {
    expect((await opts(['--resolve'])).resolve).toBe('kubernetes.default.svc.cluster.local');
    expect((await opts(['--resolve', 'kube-dns.kube-system.svc.cluster.local.'])).resolve).toBe('kube-dns.kube-system.svc.cluster.local');
    expect(await opts(['--dns-server', '127.0.0.1:5353'])).toMatchObject({ dnsServer: '127.0.0.1:5353' }); // implies --resolve in gather (coredns.test.ts integration)
    expect((await opts(['--dns-server', '10.152.183.10'])).dnsServer).toBe('10.152.183.10:53');
    expect((await opts(['--dns-server', '[fd00::a]:53'])).dnsServer).toBe('[fd00::a]:53');
    expect((await opts(['--dns-server', 'fd00::a'])).dnsServer).toBe('[fd00::a]:53');
  });

  it('refuses bad DNS options, and a resolve timeout not shorter than -t', async () => {
    for (const args of [
      ['--dns-server', 'dns.example:53'], ['--dns-server', '127.0.0.1:0'], ['--dns-server', '127.0.0.1:99999'], ['--dns-server', ''],
      ['--resolve', 'bad name'], ['--resolve', 'a..b'], ['--resolve-timeout', '0'], ['--resolve', '--resolve-timeout', '10s'],
      ['--resolve', '-t', '3', '--resolve-timeout', '5'], ['--min-nodes', '-1'], ['--min-nodes', 'two'],
    ]) await expect(parseArgs(check, args), args.join(' ')).rejects.toThrow(UsageError);
    // Without --resolve the resolve timeout does not matter.
    expect((await opts(['-t', '1', '--resolve-timeout', '5'])).resolveTimeout).toBe(5);
  });
});

describe('coredns evaluate', () => {
  it('warns on the incident: one replica on k8s02, no anti-affinity', async () => {
    const { o, state, perf } = await run(fixture('incident'));
    expect(state).toBe(State.WARNING);
    expect(o.summary).toBe('kube-system/coredns: 1/1 ready on 1 node (k8s02): 1 ready replica (-w 2:); single point of failure: every ready pod on k8s02; no hostname anti-affinity');
    expect(perf).toEqual({ desired_replicas: 1, ready_replicas: 1, available_replicas: 1, ready_nodes: 1 });
    expect(o.findings).toContainEqual({ state: State.WARNING, text: 'every ready coredns pod runs on k8s02: a reboot of k8s02 takes cluster DNS down (--min-nodes 2)' });
    expect(o.findings).toContainEqual({ state: undefined, text: 'pod coredns-7896dbf49b-x4q2z on k8s02: Ready' });
    expect(o.perfdata.find((p) => p.label === 'ready_nodes')!.warn?.text).toBe('2:');
  });

  it('is OK after the fix: 2 replicas on 2 nodes with required anti-affinity', async () => {
    const { o, state, perf } = await run(fixture('healthy'));
    expect(state).toBe(State.OK);
    expect(o.summary).toBe('kube-system/coredns: 2/2 ready on 2 nodes (k8s01, k8s03), required podAntiAffinity on kubernetes.io/hostname');
    expect(perf).toMatchObject({ ready_replicas: 2, ready_nodes: 2 });
  });

  it('judges ready replicas with -w/-c: 0 CRITICAL, 1 WARNING, 2 OK by default; tunable', async () => {
    const zero = await run(scaled(['k8s01', 'k8s02'], 0));
    expect(zero.state).toBe(State.CRITICAL);
    expect(zero.o.summary).toBe('kube-system/coredns: 0/2 ready on 0 nodes: no ready replica: no cluster DNS; no hostname anti-affinity');
    expect(zero.texts).toContain('pod coredns-7896dbf49b-p0 on k8s01: CrashLoopBackOff');
    const one = await run(scaled(['k8s01', 'k8s02'], 1));
    expect(one.state).toBe(State.WARNING);
    expect(one.o.summary).toMatch(/^kube-system\/coredns: 1\/2 ready on 1 node \(k8s01\): 1 ready replica \(-w 2:\); single point of failure/);
    // Three desired, two ready on two nodes: within -w 2:.
    expect((await run(scaled(['k8s01', 'k8s02', 'k8s03'], 2), ['--no-require-anti-affinity'])).state).toBe(State.OK);
    expect((await run(scaled(['k8s01', 'k8s02', 'k8s03'], 2), ['--no-require-anti-affinity', '-w', '3:'])).state).toBe(State.WARNING);
    expect((await run(scaled(['k8s01', 'k8s02', 'k8s03'], 2), ['--no-require-anti-affinity', '-c', '3:'])).state).toBe(State.CRITICAL);
  });

  it('is OK for a deliberately single-node cluster with -w 1: --min-nodes 1 --no-require-anti-affinity', async () => {
    const { o, state } = await run(fixture('incident'), ['-w', '1:', '--min-nodes', '1', '--no-require-anti-affinity']);
    expect(state).toBe(State.OK);
    expect(o.summary).toBe('kube-system/coredns: 1/1 ready on 1 node (k8s02), spreading not required');
  });

  it('warns when replicas share nodes despite a spreading rule, and counts only ready pods', async () => {
    const d = scaled(['k8s02', 'k8s02']);
    d.deployment!.spec!.template!.spec!.affinity = fixture('healthy').deployment.spec!.template!.spec!.affinity!;
    const { o, state } = await run(d);
    expect(state).toBe(State.WARNING);
    expect(o.summary).toBe('kube-system/coredns: 2/2 ready on 1 node (k8s02): single point of failure: every ready pod on k8s02');
    // Two ready on k8s01 and k8s02, a third not ready on k8s03: 2 nodes.
    expect((await run(scaled(['k8s01', 'k8s02', 'k8s03'], 2), ['--no-require-anti-affinity', '--min-nodes', '3'])).o.summary)
      .toMatch(/ready pods on only 2 nodes$/);
    expect((await run(scaled(['k8s02', 'k8s02']), ['--no-require-anti-affinity', '--min-nodes', '0'])).state).toBe(State.OK);
  });

  it('ignores pods of other controllers that carry the label, and terminating pods', async () => {
    const d = scaled(['k8s01', 'k8s02']);
    const stranger = clone(d.pods[0]!);
    stranger.metadata!.name = 'coredns-autoscaler-5d4c7b9f8-q1w2e';
    stranger.metadata!.labels!['pod-template-hash'] = '5d4c7b9f8';
    stranger.metadata!.ownerReferences![0]!.name = 'coredns-autoscaler-5d4c7b9f8';
    stranger.spec!.nodeName = 'k8s03';
    const dying = clone(d.pods[1]!);
    dying.metadata!.name = 'coredns-7896dbf49b-old';
    dying.metadata!.deletionTimestamp = '2026-06-05T06:29:00Z';
    dying.spec!.nodeName = 'k8s03';
    const { o, state, texts } = await run({ ...d, pods: [...d.pods, stranger, dying] }, ['--no-require-anti-affinity']);
    expect(state).toBe(State.OK);
    expect(o.summary).toBe('kube-system/coredns: 2/2 ready on 2 nodes (k8s01, k8s02), spreading not required');
    expect(texts.join('\n')).not.toContain('autoscaler');
    expect(texts).toContain('pod coredns-7896dbf49b-old on k8s03: Terminating');
  });

  it('is CRITICAL when the Deployment is missing, UNKNOWN when --selector is ambiguous', async () => {
    let r = await run({});
    expect(r.state).toBe(State.CRITICAL);
    expect(r.o.summary).toBe('deployment kube-system/coredns not found (no cluster DNS)');
    expect(r.perf).toMatchObject({ ready_replicas: 0, ready_nodes: 0 });
    r = await run({}, ['--selector', 'k8s-app=kube-dns']);
    expect(r.o.summary).toBe('deployment kube-system/coredns not found, nor one labelled k8s-app=kube-dns (no cluster DNS)');
    r = await run({ candidates: ['kube-dns', 'kube-dns-canary'] }, ['--selector', 'k8s-app=kube-dns']);
    expect(r.state).toBe(State.UNKNOWN);
    expect(r.o.summary).toMatch(/--selector k8s-app=kube-dns matches 2 Deployments \(kube-dns, kube-dns-canary\): name one with --deployment$/);
  });

  it('judges the DNS answer: time as perfdata, CRITICAL on no answer or no Service address', async () => {
    const probe = (p: Partial<DnsProbe>): DnsProbe => ({ name: 'kubernetes.default.svc.cluster.local', server: '10.152.183.10:53', timeoutMs: 2000, ...p });
    let r = await run({ ...fixture('healthy'), dns: probe({ addresses: ['10.152.183.1'], ms: 3.14159 }) }, ['--resolve']);
    expect(r.state).toBe(State.OK);
    expect(r.o.summary).toMatch(/hostname; kubernetes\.default\.svc\.cluster\.local -> 10\.152\.183\.1 in 3ms$/);
    expect(r.perf.resolve_time).toBe(3.1);
    r = await run({ ...fixture('healthy'), dns: probe({ error: 'ETIMEOUT', ms: 2001 }) }, ['--resolve']);
    expect(r.state).toBe(State.CRITICAL);
    expect(r.o.summary).toBe('kube-system/coredns: 2/2 ready on 2 nodes (k8s01, k8s03): kubernetes.default.svc.cluster.local via 10.152.183.10:53: no answer within 2s');
    expect(r.perf.resolve_time).toBeUndefined();
    expect('resolve_time' in r.perf).toBe(true);
    r = await run({ ...fixture('healthy'), dns: probe({ error: 'ETIMEOUT', timeoutMs: 750 }) }, ['--resolve']);
    expect(r.o.summary).toMatch(/no answer within 750ms$/);
    r = await run({ ...fixture('healthy'), dns: probe({ error: 'ENOTFOUND' }) }, ['--resolve']);
    expect(r.texts).toContain('DNS: kubernetes.default.svc.cluster.local via 10.152.183.10:53: NXDOMAIN: the name does not exist (is the kubernetes plugin serving this zone?)');
    r = await run({ ...fixture('healthy'), dns: probe({ server: undefined, noServer: 'Service kube-system/kube-dns not found: pods have no DNS address' }) }, ['--resolve']);
    expect(r.state).toBe(State.CRITICAL);
    expect(r.o.summary).toMatch(/: Service kube-system\/kube-dns not found$/);
  });
});

describe('hostnameSpreading', () => {
  const base = () => clone(fixture('incident').deployment);
  const withAnti = (terms: PodAffinityTerm[], preferred = false): Deployment => {
    const d = base();
    d.spec!.template!.spec!.affinity = preferred
      ? { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: terms.map((t) => ({ weight: 100, podAffinityTerm: t })) } }
      : { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: terms } };
    return d;
  };
  const withSpread = (c: TopologySpreadConstraint[]): Deployment => {
    const d = base();
    d.spec!.template!.spec!.topologySpreadConstraints = c;
    return d;
  };
  const own = { matchLabels: { 'k8s-app': 'kube-dns' } };
  const H = 'kubernetes.io/hostname';

  it('finds required and preferred anti-affinity that selects its own pods on the hostname key', () => {
    expect(hostnameSpreading(withAnti([{ labelSelector: own, topologyKey: H }]), 2).found).toEqual({ strength: 'required', text: `required podAntiAffinity on ${H}` });
    expect(hostnameSpreading(withAnti([{ labelSelector: own, topologyKey: H }], true), 2).found).toEqual({ strength: 'preferred', text: `preferred podAntiAffinity (weight 100) on ${H}` });
    expect(hostnameSpreading(base(), 2)).toEqual({ found: undefined, misses: [] });
  });

  it('explains rules that do not spread its own pods over hostnames', () => {
    const zone = hostnameSpreading(withAnti([{ labelSelector: own, topologyKey: 'topology.kubernetes.io/zone' }]), 2);
    expect(zone.found).toBeUndefined();
    expect(zone.misses).toEqual([`required podAntiAffinity on topology.kubernetes.io/zone, not ${H}`]);
    const other = hostnameSpreading(withAnti([{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: H }]), 2);
    expect(other.misses).toEqual([`required podAntiAffinity on ${H} selects app=web, not its own pods`]);
    const noSel = hostnameSpreading(withAnti([{ topologyKey: H }]), 2);
    expect(noSel.misses).toEqual([`required podAntiAffinity on ${H} selects no labelSelector, not its own pods`]);
    const otherNs = hostnameSpreading(withAnti([{ labelSelector: own, topologyKey: H, namespaces: ['dns'] }]), 2);
    expect(otherNs.misses).toEqual([`required podAntiAffinity on ${H} looks only in other namespaces`]);
  });

  it('follows namespaces and namespaceSelector like the scheduler', () => {
    for (const t of [
      { namespaces: ['kube-system'] },
      { namespaceSelector: {} },
      { namespaces: ['dns'], namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } },
    ]) expect(hostnameSpreading(withAnti([{ labelSelector: own, topologyKey: H, ...t }]), 2).found?.strength).toBe('required');
    expect(hostnameSpreading(withAnti([{ labelSelector: own, topologyKey: H, namespaceSelector: { matchLabels: { team: 'dns' } } }]), 2).found).toBeUndefined();
  });

  it('takes topologySpreadConstraints on the hostname with a maxSkew below the replica count', () => {
    const hard = hostnameSpreading(withSpread([{ maxSkew: 1, topologyKey: H, whenUnsatisfiable: 'DoNotSchedule', labelSelector: own }]), 2);
    expect(hard.found).toEqual({ strength: 'required', text: `topologySpreadConstraint (maxSkew 1, DoNotSchedule) on ${H}` });
    const soft = hostnameSpreading(withSpread([{ maxSkew: 1, topologyKey: H, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: own }]), 2);
    expect(soft.found?.strength).toBe('preferred');
    const loose = hostnameSpreading(withSpread([{ maxSkew: 2, topologyKey: H, whenUnsatisfiable: 'DoNotSchedule', labelSelector: own }]), 2);
    expect(loose.found).toBeUndefined();
    expect(loose.misses).toEqual([`topologySpreadConstraint (maxSkew 2, DoNotSchedule) on ${H} lets all 2 replicas share a node`]);
    expect(hostnameSpreading(withSpread([{ maxSkew: 2, topologyKey: H, labelSelector: own }]), 3).found?.strength).toBe('required');
  });

  it('prefers a required rule over a preferred one when both exist', () => {
    const d = withAnti([{ labelSelector: own, topologyKey: H }], true);
    d.spec!.template!.spec!.topologySpreadConstraints = [{ maxSkew: 1, topologyKey: H, whenUnsatisfiable: 'DoNotSchedule', labelSelector: own }];
    expect(hostnameSpreading(d, 2).found?.strength).toBe('required');
  });
});

describe('the test DNS responder encodes RFC 1035 messages', () => {
  it('echoes id and question, sets QR/AA/RA, copies RD, points answers at the question name', async () => {
    const { encodeName, encodeResponse, parseQuery, RCODE } = await import('../dns-responder.js');
    const question = Buffer.concat([encodeName('kubernetes.default.svc.cluster.local'), Buffer.from([0, 1, 0, 1])]);
    const header = Buffer.from([0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]); // id, RD, QDCOUNT 1
    const q = parseQuery(Buffer.concat([header, question]))!;
    expect(q.question).toEqual({ name: 'kubernetes.default.svc.cluster.local', type: 1, class: 1 });
    const r = encodeResponse(q, RCODE.NOERROR, ['10.152.183.1'], 30);
    expect([...r.subarray(0, 12)]).toEqual([0xbe, 0xef, 0x85, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]);
    expect(r.subarray(12, 12 + question.length).equals(question)).toBe(true);
    expect([...r.subarray(12 + question.length)]).toEqual([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 10, 152, 183, 1]);
    expect(r.readUInt16BE(2) & 0xf).toBe(0);
    expect(encodeResponse(q, RCODE.NXDOMAIN).readUInt16BE(2) & 0xf).toBe(3);
    expect(encodeName('a.bc.')).toEqual(Buffer.from([1, 0x61, 2, 0x62, 0x63, 0]));
  });
});

describe('coredns: what to do', () => {
  it('no ready replica: describe the pod that is not Ready', async () => {
    const { o } = await run(scaled(['k8s01', 'k8s02'], 0));
    expect(o.actions?.[0]).toEqual({ state: State.CRITICAL, text: expect.stringMatching(/^see why kube-system\/coredns pods are not Ready: kubectl describe pod -n kube-system coredns-7896dbf49b-p0/) });
  });
});

describe('coredns: what to do when every replica is Ready but too few', () => {
  it('says to scale, not to describe a Ready pod', async () => {
    // Two Ready on two nodes, spread by a rule, -w 3: scale, nothing else.
    const d = scaled(['k8s01', 'k8s02']);
    d.deployment!.spec!.template!.spec!.affinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { 'k8s-app': 'kube-dns' } }, topologyKey: 'kubernetes.io/hostname' }] } };
    const { o, state } = await run(d, ['-w', '3:']);
    expect(state).toBe(State.WARNING);
    expect(o.actions?.map((a) => a.text)).toEqual(['every replica of kube-system/coredns is Ready but there are too few: kubectl scale -n kube-system deploy/coredns --replicas=2 (or more), spread over nodes; check again']);
  });

  it('too few and no rule to spread them: one step says both', async () => {
    const { o, state } = await run(scaled(['k8s01', 'k8s02']), ['-w', '3:']);
    expect(state).toBe(State.WARNING);
    expect(o.actions?.map((a) => a.text)).toEqual(['every replica of kube-system/coredns is Ready but there are too few: kubectl scale -n kube-system deploy/coredns --replicas=2 (or more), ' +
      'add a podAntiAffinity (or topologySpreadConstraint) on kubernetes.io/hostname to kube-system/coredns\'s pod template (kubectl edit -n kube-system deploy/coredns) so that they spread over nodes; check again']);
  });

  it('one Ready replica on one node, no rule (microk8s\'s default): one plan, in the order to do it, not three overlapping steps', async () => {
    const { o, state } = await run(scaled(['k8s02']));
    expect(state).toBe(State.WARNING);
    expect(o.summary).toBe('kube-system/coredns: 1/1 ready on 1 node (k8s02): 1 ready replica (-w 2:); single point of failure: every ready pod on k8s02; no hostname anti-affinity');
    expect(o.actions?.map((a) => a.text)).toEqual(['spread kube-system/coredns before k8s02 reboots: kubectl scale -n kube-system deploy/coredns --replicas=2, ' +
      'add a podAntiAffinity on kubernetes.io/hostname, then kubectl rollout restart -n kube-system deploy/coredns; check again']);
  });
});

describe('coredns: the situations an operator meets', () => {
  const probe = (p: Partial<DnsProbe>): DnsProbe => ({ name: 'kubernetes.default.svc.cluster.local', server: '10.152.183.10:53', timeoutMs: 2000, ...p });

  it('a Service without a ClusterIP: CRITICAL, naming the Service to look at', async () => {
    const r = await run({ ...fixture('healthy'), dns: probe({ server: undefined, noServer: 'Service kube-system/kube-dns has no ClusterIP' }) }, ['--resolve']);
    expect(r.state).toBe(State.CRITICAL);
    expect(r.o.summary).toBe('kube-system/coredns: 2/2 ready on 2 nodes (k8s01, k8s03): Service kube-system/kube-dns has no ClusterIP');
    expect(r.texts).toContain('cannot resolve kubernetes.default.svc.cluster.local: Service kube-system/kube-dns has no ClusterIP');
    expect(r.o.actions?.map((a) => a.text)).toEqual(['the DNS Service has no address to ask: kubectl get service -n kube-system kube-dns -o wide; if it is gone, microk8s enable dns recreates it; check again']);
    expect('resolve_time' in r.perf).toBe(true);
    expect(r.perf.resolve_time).toBeUndefined();
  });

  it('an answer lists every address and the server asked; an answer with no address is a failure', async () => {
    let r = await run({ ...fixture('healthy'), dns: probe({ addresses: ['10.152.183.1', '10.152.183.2'], ms: 12.46 }) }, ['--resolve']);
    expect(r.state).toBe(State.OK);
    expect(r.texts).toContain('DNS: kubernetes.default.svc.cluster.local -> 10.152.183.1, 10.152.183.2 in 12ms (asked 10.152.183.10:53)');
    expect(r.perf.resolve_time).toBe(12.5);
    r = await run({ ...fixture('healthy'), dns: probe({ addresses: [], ms: 4, server: '127.0.0.1:5353' }) }, ['--dns-server', '127.0.0.1:5353']);
    expect(r.state).toBe(State.CRITICAL);
    expect(r.o.summary).toMatch(/: kubernetes\.default\.svc\.cluster\.local via 127\.0\.0\.1:5353: no A record in the answer$/);
    // The next step asks the same server, with its port when it is not 53.
    expect(r.o.actions?.[0]?.text).toBe('127.0.0.1:5353 does not answer for kubernetes.default.svc.cluster.local: if the CoreDNS pods are Ready, this node\'s Service NAT is the suspect (check_k8s_calico_nat on this node); ' +
      'else kubectl logs -n kube-system deploy/coredns; then dig @127.0.0.1:5353 kubernetes.default.svc.cluster.local and check again');
    r = await run({ ...fixture('healthy'), dns: probe({ error: 'ESERVFAIL' }) }, ['--resolve']);
    expect(r.o.actions?.[0]?.text).toMatch(/; then dig @10\.152\.183\.10 kubernetes\.default\.svc\.cluster\.local and check again$/);
  });

  it('no ready replica with a single desired one: describe the pod and scale to two', async () => {
    const d = scaled(['k8s01'], 0);
    const { o, state } = await run(d);
    expect(state).toBe(State.CRITICAL);
    expect(o.findings).toContainEqual({ state: State.CRITICAL, text: 'kube-system/coredns: 0 of 1 replicas ready, 0 available, 1 up to date (outside -c 1:)' });
    expect(o.actions?.[0]?.text).toBe('see why kube-system/coredns pods are not Ready: kubectl describe pod -n kube-system coredns-7896dbf49b-p0; scale it to 2 or more (kubectl scale -n kube-system deploy/coredns --replicas=2); check again');
  });

  it('fewer ready than desired and no pod listed: describe them by the selector', async () => {
    const d = scaled(['k8s01', 'k8s02'], 1);
    const { o, state } = await run({ ...d, pods: [] });
    expect(state).toBe(State.WARNING);
    expect(o.actions?.[0]?.text).toBe('see why kube-system/coredns pods are not Ready: kubectl describe pod -n kube-system -l k8s-app=kube-dns; check again');
    // Status counts ready replicas the pod list does not show (a stale list): said, not a single point of failure.
    expect(o.summary).toBe('kube-system/coredns: 1/2 ready on 0 nodes: 1 ready replica (-w 2:); no ready pod found; no hostname anti-affinity');
    expect(o.findings).toContainEqual({ state: State.WARNING, text: 'status says 1 ready but no ready pod matches k8s-app=kube-dns' });
  });

  it('every ready pod on one node of two desired: spread it, without scaling', async () => {
    const d = scaled(['k8s02', 'k8s02']);
    const { o } = await run(d, ['--no-require-anti-affinity']);
    expect(o.summary).toBe('kube-system/coredns: 2/2 ready on 1 node (k8s02): single point of failure: every ready pod on k8s02');
    expect(o.actions?.map((a) => a.text)).toEqual(['spread kube-system/coredns before k8s02 reboots: add a podAntiAffinity on kubernetes.io/hostname, then kubectl rollout restart -n kube-system deploy/coredns; check again']);
    // One desired: scale it first.
    const one = await run(fixture('incident'), ['--no-require-anti-affinity', '-w', '1:']);
    expect(one.o.actions?.map((a) => a.text)).toEqual(['spread kube-system/coredns before k8s02 reboots: kubectl scale -n kube-system deploy/coredns --replicas=2, add a podAntiAffinity on kubernetes.io/hostname, then kubectl rollout restart -n kube-system deploy/coredns; check again']);
  });

  it('ready pods on two nodes under --min-nodes 3: WARNING naming the nodes', async () => {
    const { o, state } = await run(scaled(['k8s01', 'k8s02', 'k8s02']), ['--no-require-anti-affinity', '--min-nodes', '3']);
    expect(state).toBe(State.WARNING);
    expect(o.findings).toContainEqual({ state: State.WARNING, text: 'ready coredns pods run on 2 nodes (k8s01, k8s02), fewer than --min-nodes 3' });
    expect(o.summary).toBe('kube-system/coredns: 3/3 ready on 2 nodes (k8s01, k8s02): ready pods on only 2 nodes');
    expect((await run(scaled(['k8s01', 'k8s02', 'k8s03']), ['--no-require-anti-affinity', '--min-nodes', '3'])).state).toBe(State.OK);
  });

  it('no hostname anti-affinity: says which labels its pods carry and how to add it', async () => {
    const { o } = await run(scaled(['k8s01', 'k8s02']));
    expect(o.summary).toBe('kube-system/coredns: 2/2 ready on 2 nodes (k8s01, k8s02): no hostname anti-affinity');
    expect(o.findings).toContainEqual({ state: State.WARNING, text: 'pod template has no podAntiAffinity or topologySpreadConstraints on kubernetes.io/hostname selecting its own pods (k8s-app=kube-dns): replicas may share a node' });
    expect(o.actions?.map((a) => a.text)).toEqual(['add a podAntiAffinity (or topologySpreadConstraint) on kubernetes.io/hostname to kube-system/coredns\'s pod template (kubectl edit -n kube-system deploy/coredns), or pass --no-require-anti-affinity on a single node']);
    // A rule on the zone does not spread over nodes: said as context.
    const d = scaled(['k8s01', 'k8s02']);
    d.deployment!.spec!.template!.spec!.affinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { 'k8s-app': 'kube-dns' } }, topologyKey: 'topology.kubernetes.io/zone' }] } };
    const zone = await run(d);
    expect(zone.state).toBe(State.WARNING);
    expect(zone.texts).toContain('not spreading: required podAntiAffinity on topology.kubernetes.io/zone, not kubernetes.io/hostname');
    const spread = await run(fixture('healthy'));
    expect(spread.texts).toContain('spread over nodes by required podAntiAffinity on kubernetes.io/hostname');
  });

  it('a Deployment with no replicas field counts one desired; conditions that are not True are shown', async () => {
    const d = scaled(['k8s01']);
    delete d.deployment!.spec!.replicas;
    d.deployment!.status!.conditions = [
      { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: 'ok' },
      { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' },
    ];
    const { o, perf, texts } = await run(d, ['-w', '1:', '--min-nodes', '1', '--no-require-anti-affinity']);
    expect(perf.desired_replicas).toBe(1);
    expect(o.summary).toBe('kube-system/coredns: 1/1 ready on 1 node (k8s01), spreading not required');
    expect(texts).toContain('condition Available=False MinimumReplicasUnavailable: Deployment does not have minimum availability.');
    expect(texts.join('\n')).not.toContain('condition Progressing');
    expect(texts).toContain('kube-system/coredns: 1 of 1 replicas ready, 1 available, 1 up to date');
  });

  it('a Deployment found by --selector under another name: its own pods, its own name in every line', async () => {
    const d = scaled(['k8s01', 'k8s02']);
    d.deployment!.metadata!.name = 'kube-dns';
    for (const p of d.pods) p.metadata!.ownerReferences![0]!.name = 'kube-dns-7896dbf49b';
    const { o, state, texts } = await run({ ...d, candidates: ['kube-dns'] }, ['--selector', 'k8s-app=kube-dns', '--no-require-anti-affinity']);
    expect(state).toBe(State.OK);
    expect(o.summary).toBe('kube-system/kube-dns: 2/2 ready on 2 nodes (k8s01, k8s02), spreading not required');
    expect(texts).toContain('pod coredns-7896dbf49b-p0 on k8s01: Ready');
  });

  it('a pod not yet scheduled is shown on no node and not counted', async () => {
    const d = scaled(['k8s01', 'k8s02', 'k8s03'], 2);
    delete d.pods[2]!.spec!.nodeName;
    const { texts, perf } = await run(d, ['--no-require-anti-affinity']);
    expect(texts).toContain('pod coredns-7896dbf49b-p2 on no node: CrashLoopBackOff');
    expect(perf.ready_nodes).toBe(2);
  });
  it('--resolve: a name at the DNS limit of 253 is taken, one longer or with a label ending in "-" is not', async () => {
    const label = 'a'.repeat(63);
    const at = [label, label, label, 'a'.repeat(61)].join('.');
    expect(at).toHaveLength(253);
    expect((await opts(['--resolve', at])).resolve).toBe(at);
    await expect(opts(['--resolve', `${at}b`])).rejects.toThrow(`invalid --resolve '${at}b': not a DNS name`);
    await expect(opts(['--resolve', 'kube-dns-.kube-system'])).rejects.toThrow("invalid --resolve 'kube-dns-.kube-system': not a DNS name");
    await expect(opts(['--resolve', 'x.-y'])).rejects.toThrow(UsageError);
    expect((await opts(['--resolve', 'a.b-c.d'])).resolve).toBe('a.b-c.d');
    await expect(opts(['--resolve', '-t', '3', '--resolve-timeout', '5'])).rejects.toThrow('--resolve-timeout 5s must be shorter than -t 3s');
  });

  it('an ambiguous --selector says which Deployments it found and how to name one; a missing one how to find it', async () => {
    let r = await run({ candidates: ['kube-dns', 'rke2-coredns'] }, ['--selector', 'k8s-app=kube-dns']);
    expect(r.state).toBe(State.UNKNOWN);
    expect(r.texts).toContain('--selector k8s-app=kube-dns matches 2 Deployments in kube-system: kube-dns, rke2-coredns');
    expect(r.o.actions?.map((a) => a.text)).toEqual(['name the cluster DNS Deployment: --deployment kube-dns (or another of kube-dns, rke2-coredns)']);
    r = await run({});
    expect(r.o.actions?.map((a) => a.text)).toEqual(['find the cluster DNS Deployment (kubectl get deploy -A -l k8s-app=kube-dns) and name it with --namespace/--deployment; if there is none, microk8s enable dns; check again']);
  });
  it('names the nodes in order whatever order the pods are listed in; perfdata starts at 0', async () => {
    const r = await run({ ...scaled(['k8s03', 'k8s01']), dns: { name: 'kubernetes.default.svc.cluster.local', server: '10.152.183.10:53', timeoutMs: 2000, addresses: ['10.152.183.1'], ms: 2 } }, ['--no-require-anti-affinity', '--resolve']);
    expect(r.o.summary).toMatch(/^kube-system\/coredns: 2\/2 ready on 2 nodes \(k8s01, k8s03\), /);
    expect(r.o.perfdata.map((p) => [p.label, p.min])).toEqual([['desired_replicas', 0], ['ready_replicas', 0], ['available_replicas', 0], ['ready_nodes', 0], ['resolve_time', 0]]);
  });

  it('a Deployment whose controller has not yet written conditions: no condition line', async () => {
    const d = scaled(['k8s01', 'k8s02']);
    delete d.deployment!.status!.conditions;
    const { texts, state } = await run(d, ['--no-require-anti-affinity']);
    expect(state).toBe(State.OK);
    expect(texts.join('\n')).not.toContain('condition');
  });

  it('--resolve takes a name with blanks around it', async () => {
    expect((await opts(['--resolve', ' kube-dns.kube-system.svc.cluster.local '])).resolve).toBe('kube-dns.kube-system.svc.cluster.local');
  });
});


