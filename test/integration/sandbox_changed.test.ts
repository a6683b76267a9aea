import { beforeAll, describe, expect, it } from 'vitest';
import { apiServers, expectContract, runBuilt, type ApiServer } from '../harness.js';

const TITLE = 'SANDBOX CHANGED';

/** A core/v1 kubelet event in scenario form (times relative to the double's start). */
function kubeletEvent(o: { pod: string; node?: string; reason: string; count: number; first: string; last: string; message?: string }) {
  return {
    apiVersion: 'v1', kind: 'Event',
    metadata: { name: `${o.pod}.18a3c1f0e2d4b${o.count}`, namespace: 'apps', creationTimestamp: o.first },
    involvedObject: { kind: 'Pod', namespace: 'apps', name: o.pod, uid: `6c1e0000-0000-4000-8000-${String(o.pod.length * 100 + o.count).padStart(12, '0')}`, apiVersion: 'v1' },
    reason: o.reason, type: o.reason === 'SandboxChanged' ? 'Normal' : 'Warning',
    message: o.message ?? 'Pod sandbox changed, it will be killed and re-created.',
    source: o.node ? { component: 'kubelet', host: o.node } : { component: 'kubelet' },
    ...(o.node && { reportingComponent: 'kubelet', reportingInstance: o.node }),
    firstTimestamp: o.first, lastTimestamp: o.last, count: o.count, eventTime: null,
  };
}

describe('check_k8s_sandbox_changed against the API double', () => {
  const start = apiServers();

  let incident: ApiServer;
  beforeAll(async () => { incident = await start('incident'); });

  it('is CRITICAL on the incident: containerd "name is reserved" on k8s02, with the remedy', async () => {
    const run = await runBuilt('sandbox_changed', ['--kubeconfig', incident.kubeconfig]);
    expectContract(run, TITLE);
    expect(run.code).toBe(2);
    expect(run.firstLine).toMatch(/^K8S SANDBOX CHANGED CRITICAL - containerd stale sandbox state on k8s02: 12 pods cannot get a sandbox \("name is reserved for" another sandbox for 5m or more, \d+x in 10m\); on k8s02 crictl stopp\/rmp the stale sandboxes or restart containerd\/kubelite \| /);
    // 12 pods, each with an aggregated SandboxChanged and FailedCreatePodSandBox cut by the window;
    // the post-reboot SandboxChanged on k8s01/k8s03 57m ago are outside it.
    expect(run.perf).toMatchObject({ sandbox_changed: '12', affected_pods: '12', affected_nodes: '1' });
    expect(Number(run.perf.create_failed)).toBeGreaterThan(30);
    expect(run.perf.name_reserved).toBe(run.perf.create_failed);
    expect(Number(run.perf.worst_node_events)).toBe(12 + Number(run.perf.create_failed));
    expect(run.stdout).toMatch(/\n\[CRITICAL\] remedy on k8s02: crictl stopp, then crictl rmp, the stale sandboxes \(e\.g\. 5d7c8b[0-9a-f]{7}/);
    expect(Buffer.byteLength(run.stdout)).toBeLessThanOrEqual(8191);
  });

  it('asks for the two reasons server-side, and the Pending pods of the node with stale names', async () => {
    const before = incident.requests().length;
    await runBuilt('sandbox_changed', ['--kubeconfig', incident.kubeconfig]);
    const reqs = incident.requests().slice(before);
    expect(reqs.map((r) => r.path)).toEqual(['/api/v1/events', '/api/v1/events', '/api/v1/pods']);
    expect(reqs.map((r) => r.query.fieldSelector).sort()).toEqual([
      'involvedObject.kind=Pod,reason=FailedCreatePodSandBox',
      'involvedObject.kind=Pod,reason=SandboxChanged',
      'spec.nodeName=k8s02,status.phase=Pending',
    ]);
    for (const r of reqs) expect(r.query.limit).toBe('500');
  });

  it('is OK for a node with only old sandbox events (--node)', async () => {
    const run = await runBuilt('sandbox_changed', ['--kubeconfig', incident.kubeconfig, '--node', 'k8s01']);
    expectContract(run, TITLE);
    expect(run.code).toBe(0);
    expect(run.firstLine).toMatch(/^K8S SANDBOX CHANGED OK - no sandbox events in 10m on k8s01 \| sandbox_changed=0;;;0 /);
    // A wider window takes in the post-reboot recreation on k8s01, within limits.
    const wide = await runBuilt('sandbox_changed', ['--kubeconfig', incident.kubeconfig, '--node', 'k8s01', '--window', '1h']);
    expect(wide.code).toBe(0);
    expect(wide.perf).toMatchObject({ sandbox_changed: '2', affected_pods: '2', affected_nodes: '1' });
  });

  it('is WARNING on a storm over -w, and -w/-c move it', async () => {
    const s = await start({ objects: [kubeletEvent({ pod: 'web-0', node: 'k8s03', reason: 'SandboxChanged', count: 15, first: '$now-8m', last: '$now-20s' })] });
    let run = await runBuilt('sandbox_changed', ['--kubeconfig', s.kubeconfig]);
    expectContract(run, TITLE);
    expect(run.code).toBe(1);
    expect(run.firstLine).toMatch(/^K8S SANDBOX CHANGED WARNING - sandbox storm on k8s03 \(15\): 15 SandboxChanged, 0 FailedCreatePodSandBox in 10m on 1 pod \| .*'?worst_node_events'?=15;10;50;0/);
    run = await runBuilt('sandbox_changed', ['--kubeconfig', s.kubeconfig, '-w', '20', '-c', '40']);
    expect(run.code).toBe(0);
    // Over -c for 7m40s: a burst (WARNING) until it has gone on for --storm-persist.
    run = await runBuilt('sandbox_changed', ['--kubeconfig', s.kubeconfig, '-w', '5', '-c', '10']);
    expect(run.code).toBe(1);
    run = await runBuilt('sandbox_changed', ['--kubeconfig', s.kubeconfig, '-w', '5', '-c', '10', '--storm-persist', '5m']);
    expect(run.code).toBe(2);
  });

  it('looks up the node of events that name no host: one GET per pod, only those', async () => {
    const s = await start({
      objects: [
        kubeletEvent({ pod: 'db-0', reason: 'FailedCreatePodSandBox', count: 3, first: '$now-5m', last: '$now-1m', message: 'Failed to create pod sandbox: rpc error: code = DeadlineExceeded desc = context deadline exceeded' }),
        kubeletEvent({ pod: 'web-1', node: 'k8s01', reason: 'SandboxChanged', count: 2, first: '$now-5m', last: '$now-1m' }),
        { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'db-0', namespace: 'apps', uid: '6c1e0000-0000-4000-8000-000000000403' }, spec: { nodeName: 'k8s03', containers: [{ name: 'db', image: 'postgres:16' }] }, status: { phase: 'Pending' } },
      ],
    });
    const run = await runBuilt('sandbox_changed', ['--kubeconfig', s.kubeconfig, '--node', 'k8s03', '-v']);
    expectContract(run, TITLE);
    expect(run.code).toBe(0);
    expect(run.perf).toMatchObject({ create_failed: '3', name_reserved: '0', affected_pods: '1', affected_nodes: '1' });
    expect(run.stdout).toContain('apps/db-0 on k8s03: 3 FailedCreatePodSandBox in 10m: context deadline exceeded');
    const gets = s.requests().filter((r) => r.path.includes('/pods'));
    expect(gets.map((r) => r.path)).toEqual(['/api/v1/namespaces/apps/pods/db-0']);
  });

  it('is OK on a healthy cluster and on an empty one', async () => {
    for (const name of ['healthy', 'empty']) {
      const s = await start(name);
      const run = await runBuilt('sandbox_changed', ['--kubeconfig', s.kubeconfig]);
      expectContract(run, TITLE);
      expect(run.code, run.stdout).toBe(0);
      expect(run.firstLine).toMatch(/OK - no sandbox events in 10m \|/);
    }
  });

  it('prints the same result as JSON with --format json', async () => {
    const run = await runBuilt('sandbox_changed', ['--kubeconfig', incident.kubeconfigFor('token'), '--format', 'json']);
    expect(run.code).toBe(2);
    const o = JSON.parse(run.stdout);
    expect(o).toMatchObject({ check: 'sandbox_changed', state: 'CRITICAL', exitCode: 2 });
    expect(o.perfdata.map((p: { label: string }) => p.label)).toEqual(['sandbox_changed', 'create_failed', 'name_reserved', 'affected_pods', 'affected_nodes', 'worst_node_events']);
    expect(o.findings.filter((f: { state: string | null }) => f.state === 'CRITICAL')).toHaveLength(2);
    expect(o.findings.filter((f: { state: string | null }) => f.state === null).length).toBeGreaterThanOrEqual(5);
  });

  it('is UNKNOWN, naming the RBAC fix, when events are forbidden', async () => {
    const s = await start('incident', { rules: [{ path: '^/api/v1/events$', forbid: true }] });
    const run = await runBuilt('sandbox_changed', ['--kubeconfig', s.kubeconfig]);
    expectContract(run, TITLE);
    expect(run.code).toBe(3);
    expect(run.firstLine).toMatch(/^K8S SANDBOX CHANGED UNKNOWN - forbidden to list events at cluster scope .*deploy\/rbac\.yaml/);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('is UNKNOWN with one line on bad arguments', async () => {
    for (const args of [['-c', '10:1'], ['--window', 'soon'], ['--window', '0'], ['--node'], ['--nope'], []]) {
      const run = await runBuilt('sandbox_changed', args);
      expectContract(run, TITLE);
      expect(run.code, args.join(' ')).toBe(3);
      expect(run.stdout.trim().split('\n')).toHaveLength(1);
    }
  });
});
