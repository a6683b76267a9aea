import { beforeAll, describe, expect, it } from 'vitest';
import { apiServers, expectContract, ownSeconds, runBuilt, type ApiServer } from '../harness.js';

const TITLE = 'SCHEDULER STALL';

describe('check_k8s_scheduler_stall against the API double', () => {
  const start = apiServers();

  let incident: ApiServer;
  beforeAll(async () => { incident = await start('incident'); });

  it('is CRITICAL on the incident state, naming the lease holder', async () => {
    const run = await runBuilt('scheduler_stall', ['--kubeconfig', incident.kubeconfig]);
    expectContract(run, TITLE);
    expect(run.code).toBe(2);
    expect(run.firstLine).toMatch(/^K8S SCHEDULER STALL CRITICAL - scheduler stall: 46 pods unscheduled for up to \d+m with no FailedScheduling event in 10m; lease held by k8s02, renewed \d+s ago \| /);
    expect(run.perf).toMatchObject({ unscheduled_pods: '46', stalled_pods: '46', failing_pods: '0', failed_scheduling_events: '0' });
    expect(Number(run.perf.lease_renew_age!.replace('s', ''))).toBeLessThan(60);
    expect(Buffer.byteLength(run.stdout)).toBeLessThanOrEqual(8191);
    expect(run.stdout).toMatch(/\n\[CRITICAL\] \S+\/\S+ unscheduled for \d+m/);
    // The next step comes first, with the holder named; 46 pods fit what Nagios keeps, each named whole.
    expect(run.stdout.split('\n')[1]).toMatch(/^What to do: restart the scheduler on k8s02, which holds Lease kube-system\/kube-scheduler: on k8s02 run sudo snap restart microk8s\.daemon-kubelite /);
    expect(run.stdout.match(/^\[CRITICAL\] \S+\/\S+ unscheduled for \d+m\d*s?, never tried/gm)).toHaveLength(46);
  });

  it('with the scheduler stopped and its Lease released (real shapes), says so instead of "scheduler is working"', async () => {
    const s = await start('scheduler-stopped');
    const run = await runBuilt('scheduler_stall', ['--kubeconfig', s.kubeconfig]);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(1);
    expect(run.firstLine).toMatch(/^K8S SCHEDULER STALL WARNING - 1 pod cannot be scheduled \(tried, but no scheduler leads now: Lease kube-system\/kube-scheduler has no holder\): 0\/3 nodes are available: 3 Insufficient cpu\./);
    expect(run.firstLine).not.toMatch(/scheduler is working/);
  });

  it('asks the API server only for what it judges', async () => {
    const before = incident.requests().length;
    await runBuilt('scheduler_stall', ['--kubeconfig', incident.kubeconfig]);
    const reqs = incident.requests().slice(before);
    const pods = reqs.filter((r) => r.path === '/api/v1/pods');
    expect(pods.length).toBeGreaterThan(0);
    for (const r of pods) expect(r.query.fieldSelector).toBe('status.phase=Pending,spec.nodeName=');
    // Events only in the namespaces of the waiting pods, never the cluster's.
    const events = reqs.filter((q) => q.path.endsWith('/events'));
    // The 46 waiting pods are all in 'apps': one namespace asked, however many events the cluster holds.
    expect(events.map((r) => r.path)).toEqual(['/api/v1/namespaces/apps/events']);
    for (const r of events) {
      expect(r.path).toMatch(/^\/api\/v1\/namespaces\/[^/]+\/events$/);
      expect(r.query.fieldSelector).toBe('involvedObject.kind=Pod,reason=FailedScheduling');
    }
    for (const r of reqs) expect(r.query.limit ?? '500').toBe('500');
    expect(reqs.map((r) => r.path)).toContain('/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler');
    expect(reqs.map((r) => r.path)).toContain('/api/v1/nodes/k8s02');
  });

  it('never lists Scheduled events, and asks for no event at all when nothing waits (cost follows what is Pending)', async () => {
    const before = incident.requests().length;
    await runBuilt('scheduler_stall', ['--kubeconfig', incident.kubeconfig]);
    const events = incident.requests().slice(before).filter((r) => r.path.endsWith('/events'));
    expect(new Set(events.map((r) => r.query.fieldSelector))).toEqual(new Set(['involvedObject.kind=Pod,reason=FailedScheduling']));
    const healthy = await start('healthy');
    const run = await runBuilt('scheduler_stall', ['--kubeconfig', healthy.kubeconfig]);
    expect(run.code, run.stdout).toBe(0);
    expect(healthy.requests().filter((r) => r.path.endsWith('/events'))).toEqual([]);
    expect(run.perf).not.toHaveProperty('scheduled_events');
  });

  it('is WARNING, not a stall, on hours of pressure whose events expired (microk8s --event-ttl=5m), and finds the holder node by its hostname label', async () => {
    const s = await start('scheduler-pressure-expired');
    const run = await runBuilt('scheduler_stall', ['--kubeconfig', s.kubeconfig, '-v']);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(1);
    expect(run.firstLine).toMatch(/^K8S SCHEDULER STALL WARNING - 3 pods cannot be scheduled \(scheduler is working\): 0\/1 nodes are available: 1 Insufficient memory\./);
    expect(run.perf).toMatchObject({ stalled_pods: '0', failing_pods: '3', failed_scheduling_events: '0' });
    expect(run.stdout).toMatch(/lease held by node-a, renewed \d+s ago; holder identity K8S01\.Example\.com_/);
    const nodeReqs = s.requests().filter((r) => r.path.startsWith('/api/v1/nodes'));
    expect(nodeReqs.map((r) => [r.path, r.query.labelSelector ?? ''])).toEqual([
      ['/api/v1/nodes/k8s01.example.com', ''],
      ['/api/v1/nodes', 'kubernetes.io/hostname=k8s01.example.com'],
    ]);
  });

  it('works with bearer-token auth and --format json', async () => {
    const run = await runBuilt('scheduler_stall', ['--kubeconfig', incident.kubeconfigFor('token'), '--format', 'json']);
    expect(run.code).toBe(2);
    const o = JSON.parse(run.stdout);
    expect(o).toMatchObject({ check: 'scheduler_stall', state: 'CRITICAL', exitCode: 2 });
    expect(o.findings.filter((f: { state: string }) => f.state === 'CRITICAL')).toHaveLength(46);
  });

  it('is WARNING on ordinary scheduling pressure, quoting the scheduler', async () => {
    const s = await start('pressure');
    const run = await runBuilt('scheduler_stall', ['--kubeconfig', s.kubeconfig]);
    expectContract(run, TITLE);
    expect(run.code).toBe(1);
    expect(run.firstLine).toMatch(/cannot be scheduled \(scheduler is working\): 0\/3 nodes are available/);
    expect(run.perf.stalled_pods).toBe('0');
    expect(Number(run.perf.gated_pods)).toBeGreaterThanOrEqual(1);
    expect(Number(run.perf.failed_scheduling_events)).toBeGreaterThan(1); // series/count aware
  });

  it('is OK on a healthy cluster and on an empty one', async () => {
    for (const name of ['healthy', 'empty']) {
      const s = await start(name);
      const run = await runBuilt('scheduler_stall', ['--kubeconfig', s.kubeconfig]);
      expectContract(run, TITLE);
      expect(run.code, run.stdout).toBe(0);
    }
  });

  it('is UNKNOWN, naming the RBAC fix, when events are forbidden', async () => {
    const s = await start('incident', { rules: [{ path: '^/api/v1/namespaces/[^/]+/events$', forbid: true }] });
    const run = await runBuilt('scheduler_stall', ['--kubeconfig', s.kubeconfig]);
    expectContract(run, TITLE);
    expect(run.code).toBe(3);
    expect(run.firstLine).toMatch(/^K8S SCHEDULER STALL UNKNOWN - forbidden to list events in namespace \S+ .*deploy\/rbac\.yaml/);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('ends within -t on a hung API server, UNKNOWN by default or --timeout-state', async () => {
    const s = await start('incident', { rules: [{ path: '^/api/v1/pods$', hang: true }] });
    let run = await runBuilt('scheduler_stall', ['--kubeconfig', s.kubeconfig, '-t', '2', '-vv']);
    expectContract(run, TITLE);
    expect(run.code).toBe(3);
    expect(run.firstLine).toMatch(/check timed out after 2s waiting for the API server \(GET \/api\/v1\/pods/);
    expect(ownSeconds(run)).toBeLessThan(2 + 1); // its own clock: starting the binary is not counted
    run = await runBuilt('scheduler_stall', ['--kubeconfig', s.kubeconfig, '-t', '1', '--timeout-state', 'critical']);
    expect(run.code).toBe(2);
  });

  it('is UNKNOWN with one line on bad arguments and missing config', async () => {
    for (const args of [['-c', '10:1'], ['--window', 'soon'], ['--nope'], ['-t', '-1'], []]) {
      const run = await runBuilt('scheduler_stall', args);
      expectContract(run, TITLE);
      expect(run.code, args.join(' ')).toBe(3);
      expect(run.stdout.trim().split('\n')).toHaveLength(1);
    }
  });
});
