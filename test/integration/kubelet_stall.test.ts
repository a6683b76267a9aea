import { beforeAll, describe, expect, it } from 'vitest';
import { apiServers, expectContract, near, runBuilt, type ApiServer } from '../harness.js';

const TITLE = 'KUBELET STALL';

const node = (name: string, ready: 'True' | 'False' | 'Unknown' = 'True') => ({
  apiVersion: 'v1', kind: 'Node',
  metadata: { name, creationTimestamp: '$now-400d', labels: { 'kubernetes.io/hostname': name } },
  spec: {},
  status: {
    conditions: [{
      type: 'Ready', status: ready, lastHeartbeatTime: ready === 'True' ? '$now-20s' : '$now-6m', lastTransitionTime: '$now-5m',
      reason: ready === 'True' ? 'KubeletReady' : 'NodeStatusUnknown', message: ready === 'True' ? 'kubelet is posting ready status' : 'Kubelet stopped posting node status.',
    }],
  },
});

/** Bound by the scheduler at `bound`, never seen by the kubelet (only PodScheduled). */
const boundPod = (name: string, nodeName: string, bound: string) => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name, namespace: 'apps', uid: `7b2e0000-0000-4000-8000-${String(name.length * 1000 + name.charCodeAt(name.length - 1)).padStart(12, '0')}`, creationTimestamp: bound },
  spec: { nodeName, schedulerName: 'default-scheduler', containers: [{ name: 'c', image: 'registry.example/c:1' }] },
  status: { phase: 'Pending', qosClass: 'BestEffort', conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: bound }] },
});

const pulling = (pod: ReturnType<typeof boundPod>, nodeName: string) => ({
  apiVersion: 'v1', kind: 'Event',
  metadata: { name: `${pod.metadata.name}.18a3d2e4f6a8b001`, namespace: 'apps', creationTimestamp: '$now-2m' },
  involvedObject: { kind: 'Pod', namespace: 'apps', name: pod.metadata.name, uid: pod.metadata.uid, apiVersion: 'v1', fieldPath: 'spec.containers{c}' },
  reason: 'Pulling', type: 'Normal', message: 'Pulling image "registry.example/c:1"',
  source: { component: 'kubelet', host: nodeName }, reportingComponent: 'kubelet', reportingInstance: nodeName,
  firstTimestamp: '$now-2m', lastTimestamp: '$now-2m', count: 1, eventTime: null,
});

describe('check_k8s_kubelet_stall against the API double', () => {
  const start = apiServers();

  let incident: ApiServer;
  beforeAll(async () => { incident = await start('incident'); });

  it('is CRITICAL on the incident: pods bound to k8s02 Pending with zero kubelet events', async () => {
    const run = await runBuilt('kubelet_stall', ['--kubeconfig', incident.kubeconfig, '--node', 'k8s02']);
    expectContract(run, TITLE);
    expect(run.code).toBe(2);
    expect(run.firstLine).toMatch(new RegExp(`^K8S KUBELET STALL CRITICAL - kubelet watch stall on k8s02: 4 pods bound up to ${near('10m')} ago still Pending with no kubelet event; restart kubelite on k8s02 \\| `));
    // 4 stalled, 12 ContainerCreating (the sandbox failures: kubelet working), 1 bound 20s ago.
    expect(run.perf).toMatchObject({ stalled_pods: '4', pending_bound_pods: '17' });
    expect(Number(run.perf.oldest_stalled_age!.replace('s', ''))).toBeGreaterThanOrEqual(600 - 10); // '$now-10m' from the check's start
    expect(Number(run.perf.kubelet_events)).toBeGreaterThan(40);
    expect(run.stdout).toMatch(new RegExp(`\\n\\[CRITICAL\\] default/kubelet-test on k8s02: bound ${near('6m')}`));
    expect(Buffer.byteLength(run.stdout)).toBeLessThanOrEqual(8191);
  });

  it('asks only for k8s02\'s Pending pods, and for the events of each pod it judges', async () => {
    const before = incident.requests().length;
    await runBuilt('kubelet_stall', ['--kubeconfig', incident.kubeconfig, '--node', 'k8s02']);
    const reqs = incident.requests().slice(before);
    const pods = reqs.filter((r) => r.path === '/api/v1/pods');
    expect(pods.map((r) => r.query.fieldSelector)).toEqual(['spec.nodeName=k8s02,status.phase=Pending']);
    expect(reqs.filter((r) => r.path.startsWith('/api/v1/nodes')).map((r) => r.path)).toEqual(['/api/v1/nodes/k8s02']);
    // 16 pods to judge: one small namespaced list each, so the cost follows the pods, not the cluster.
    const events = reqs.filter((r) => r.path.endsWith('/events'));
    expect(events).toHaveLength(16);
    for (const e of events) {
      expect(e.path).toMatch(/^\/api\/v1\/namespaces\/[^/]+\/events$/);
      expect(e.query.fieldSelector).toMatch(/^involvedObject\.kind=Pod,involvedObject\.name=[^,]+$/);
    }
    expect(reqs).toHaveLength(2 + 16);
  });

  it('with more pods to judge than per-pod queries are worth, two disjoint kubelet event lists', async () => {
    const many = Array.from({ length: 51 }, (_, i) => boundPod(`quiet-${i}`, 'k8s02', '$now-5m'));
    const s = await start({ objects: [node('k8s02'), ...many] });
    const run = await runBuilt('kubelet_stall', ['--kubeconfig', s.kubeconfig, '--node', 'k8s02']);
    expectContract(run, TITLE);
    expect(run.code).toBe(2);
    const events = s.requests().filter((r) => r.path.endsWith('/events'));
    // Every pod has PodScheduled, so no Scheduled list.
    expect(events.map((r) => [r.path, r.query.fieldSelector]).sort()).toEqual([
      ['/api/v1/events', 'involvedObject.kind=Pod,reportingComponent=kubelet,source!=kubelet'],
      ['/api/v1/events', 'involvedObject.kind=Pod,source=kubelet'],
    ]);
  });

  it('is OK for a node with nothing Pending, without asking for events', async () => {
    const before = incident.requests().length;
    const run = await runBuilt('kubelet_stall', ['--kubeconfig', incident.kubeconfig, '--node', 'k8s01']);
    expectContract(run, TITLE);
    expect(run.code).toBe(0);
    expect(run.firstLine).toMatch(/^K8S KUBELET STALL OK - no Pending pods bound to k8s01 \| stalled_pods=0;;0;0 pending_bound_pods=0;;;0 /);
    expect(incident.requests().slice(before).filter((r) => r.path.endsWith('/events'))).toHaveLength(0);
  });

  it('with a few pods to judge, asks for each pod\'s events in its namespace', async () => {
    const quiet = boundPod('quiet-0', 'k8s02', '$now-5m');
    const busy = boundPod('busy-0', 'k8s02', '$now-5m');
    const s = await start({ objects: [node('k8s02'), quiet, busy, pulling(busy, 'k8s02')] });
    const run = await runBuilt('kubelet_stall', ['--kubeconfig', s.kubeconfig, '--node', 'k8s02', '-v']);
    expectContract(run, TITLE);
    expect(run.code).toBe(2);
    expect(run.perf).toMatchObject({ stalled_pods: '1', pending_bound_pods: '2', kubelet_events: '1' });
    expect(run.stdout).toMatch(new RegExp(`\\[CRITICAL\\] apps/quiet-0 on k8s02: bound ${near('5m')}`));
    expect(run.stdout).toMatch(new RegExp(`\\napps/busy-0 on k8s02: Pending ${near('5m', 70)} since bound, kubelet working \\(Pulling, last ${near('2m', 70)} ago: Pulling image`));
    const events = s.requests().filter((r) => r.path.endsWith('/events'));
    expect(events.map((r) => r.path)).toEqual(['/api/v1/namespaces/apps/events', '/api/v1/namespaces/apps/events']);
    expect(events.map((r) => r.query.fieldSelector).sort()).toEqual([
      'involvedObject.kind=Pod,involvedObject.name=busy-0',
      'involvedObject.kind=Pod,involvedObject.name=quiet-0',
    ]);
  });

  it('is CRITICAL when the kubelet writes events but not pod status (Started 19m ago, still Pending, no containerStatuses)', async () => {
    const stuck = boundPod('web-0', 'k8s02', '$now-20m');
    const started = { ...pulling(stuck, 'k8s02'), reason: 'Started', message: 'Started container c',
      metadata: { name: 'web-0.18a3d2e4f6a8b002', namespace: 'apps', creationTimestamp: '$now-19m' }, firstTimestamp: '$now-19m', lastTimestamp: '$now-19m' };
    const s = await start({ objects: [node('k8s02'), stuck, started] });
    const run = await runBuilt('kubelet_stall', ['--kubeconfig', s.kubeconfig, '--node', 'k8s02']);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(2);
    expect(run.firstLine).toMatch(/^K8S KUBELET STALL CRITICAL - kubelet on k8s02 cannot write pod status: 1 pod with Started events still Pending with no container status \| stalled_pods=1;;0;0 /);
    expect(run.stdout).toMatch(/\[CRITICAL\] apps\/web-0 on k8s02: bound 20m(\d+s)? ago, kubelet said Started 19m(\d+s)? ago, status still Pending with no containerStatuses/);
  });

  it('is WARNING, not a stall, for pods bound to a node whose kubelet stopped posting', async () => {
    const s = await start({ objects: [node('k8s02'), node('k8s03', 'Unknown'), boundPod('a-0', 'k8s03', '$now-4m')] });
    const run = await runBuilt('kubelet_stall', ['--kubeconfig', s.kubeconfig, '--all-nodes']);
    expectContract(run, TITLE);
    expect(run.code).toBe(1);
    expect(run.firstLine).toMatch(/^K8S KUBELET STALL WARNING - k8s03 Unknown: 1 pod bound there Pending \(node down, not a kubelet watch stall\) \| stalled_pods=0;;0;0 /);
    // '$now-5m' is 5 min before the double answered; the check measures from its own start (see near()).
    expect(run.stdout).toMatch(new RegExp(`\\n\\[WARNING\\] k8s03 is Unknown for ${near('5m')}: 1 pod bound to it Pending`));
  });

  it('is OK on a healthy cluster and on an empty one', async () => {
    for (const [name, args] of [['healthy', ['--node', 'k8s02']], ['healthy', ['--all-nodes']], ['empty', ['--all-nodes']]] as const) {
      const s = await start(name);
      const run = await runBuilt('kubelet_stall', ['--kubeconfig', s.kubeconfig, ...args]);
      expectContract(run, TITLE);
      expect(run.code, run.stdout).toBe(0);
      expect(run.firstLine).toMatch(/OK - no Pending pods bound to /);
      expect(s.requests().filter((r) => r.path.endsWith('/events'))).toHaveLength(0);
    }
  });

  it('prints the same result as JSON with --format json', async () => {
    const run = await runBuilt('kubelet_stall', ['--kubeconfig', incident.kubeconfigFor('token'), '--node', 'k8s02', '--format', 'json']);
    expect(run.code).toBe(2);
    const o = JSON.parse(run.stdout);
    expect(o).toMatchObject({ check: 'kubelet_stall', state: 'CRITICAL', exitCode: 2 });
    const texts: string[] = o.findings.filter((f: { state: string | null }) => f.state === 'CRITICAL').map((f: { text: string }) => f.text);
    expect(texts.filter((t) => / on k8s02: bound .* no kubelet event or status$/.test(t))).toHaveLength(4);
    expect(o.perfdata.map((p: { label: string }) => p.label)).toEqual(['stalled_pods', 'pending_bound_pods', 'oldest_stalled_age', 'kubelet_events']);
  });

  it('is UNKNOWN, naming the RBAC fix, when events are forbidden (cluster lists and per-pod lists)', async () => {
    const many = Array.from({ length: 51 }, (_, i) => boundPod(`quiet-${i}`, 'k8s02', '$now-5m'));
    let s = await start({ objects: [node('k8s02'), ...many] }, { rules: [{ path: '^/api/v1/events$', forbid: true }] });
    let run = await runBuilt('kubelet_stall', ['--kubeconfig', s.kubeconfig, '--node', 'k8s02']);
    expectContract(run, TITLE);
    expect(run.code).toBe(3);
    expect(run.firstLine).toMatch(/^K8S KUBELET STALL UNKNOWN - forbidden to list events at cluster scope .*deploy\/rbac\.yaml/);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);

    s = await start({ objects: [node('k8s02'), boundPod('quiet-0', 'k8s02', '$now-5m')] }, { rules: [{ path: '^/api/v1/namespaces/[^/]+/events$', forbid: true }] });
    run = await runBuilt('kubelet_stall', ['--kubeconfig', s.kubeconfig, '--node', 'k8s02']);
    expectContract(run, TITLE);
    expect(run.code).toBe(3);
    expect(run.firstLine).toMatch(/^K8S KUBELET STALL UNKNOWN - forbidden to list events in namespace apps/);
  });

  it('is UNKNOWN for a --node that is not in the cluster, and on bad arguments', async () => {
    const run = await runBuilt('kubelet_stall', ['--kubeconfig', incident.kubeconfig, '--node', 'k8s09']);
    expectContract(run, TITLE);
    expect(run.code).toBe(3);
    expect(run.firstLine).toBe("K8S KUBELET STALL UNKNOWN - no node named k8s09 in the cluster: pass --node with a name 'kubectl get nodes' shows (or --all-nodes)");
    for (const args of [['--node', 'k8s02', '--all-nodes'], ['--min-age', 'soon'], ['-c', '5:1'], ['--node'], ['--nope'], []]) {
      const r = await runBuilt('kubelet_stall', args);
      expectContract(r, TITLE);
      expect(r.code, args.join(' ')).toBe(3);
      expect(r.stdout.trim().split('\n')).toHaveLength(1);
    }
  });
});
