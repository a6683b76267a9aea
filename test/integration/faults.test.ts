// Faults of the API server, as the built binary meets them. The client is
// shared by every check, so check_k8s_scheduler_stall stands in for all of
// them here; test/integration/forbidden.test.ts forbids, per check, every
// resource that check reads.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiServers, expectContract, ownSeconds, runBuilt, tempDir, type ApiServer, type Scenario } from '../harness.js';

const TITLE = 'SCHEDULER STALL';
const start = apiServers();
const tmp = tempDir('faults');

async function run(s: ApiServer, extra: string[] = [], kubeconfig = s.kubeconfig) {
  const r = await runBuilt('scheduler_stall', ['--kubeconfig', kubeconfig, ...extra]);
  expectContract(r, TITLE);
  return r;
}

const UNKNOWN_LINE = (text: RegExp) => new RegExp(`^K8S ${TITLE} UNKNOWN - ${text.source}`);

describe('API server faults end in one clear line, never a stack trace', () => {
  it.each([
    ['TLS certificate from another CA', 'badca', /TLS verification of API server https:\/\/127\.0\.0\.1:\d+ failed \(SELF_SIGNED_CERT_IN_CHAIN\): check certificate-authority-data/],
    ['expired client certificate', 'expired', /API server https:\/\/127\.0\.0\.1:\d+ rejected the credentials \(401 Unauthorized\)/],
    ['revoked token', 'badtoken', /API server https:\/\/127\.0\.0\.1:\d+ rejected the credentials \(401 Unauthorized\): token expired or revoked/],
    ['current context points at a dead server', 'multi', /cannot connect to API server https:\/\/127\.0\.0\.1:1: connection refused/],
  ] as const)('%s', async (_, kind, line) => {
    const s = await start('incident');
    const r = await run(s, [], s.kubeconfigFor(kind));
    expect(r.code).toBe(3);
    expect(r.firstLine).toMatch(UNKNOWN_LINE(line));
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('--context picks another context of the same kubeconfig', async () => {
    const s = await start('incident');
    const r = await run(s, ['--context', 'test'], s.kubeconfigFor('multi'));
    expect(r.code).toBe(2);
  });

  it('an API server that is not there', async () => {
    const s = await start('empty');
    const kubeconfig = path.join(tmp, 'gone.kubeconfig');
    fs.copyFileSync(s.kubeconfig, kubeconfig); // stop() removes the double's directory
    await s.stop();
    const r = await run(s, [], kubeconfig);
    expect(r.code).toBe(3);
    expect(r.firstLine).toMatch(UNKNOWN_LINE(/cannot connect to API server https:\/\/127\.0\.0\.1:\d+: connection refused/));
  });

  it.each([
    ['401 on one request', { path: '^/api/v1/pods$', unauthorized: true }, /API server https:\/\/127\.0\.0\.1:\d+ rejected the credentials \(401 Unauthorized\)/],
    ['403', { path: '^/api/v1/pods$', forbid: true }, /forbidden to list pods at cluster scope \(pods is forbidden: User "nagios" cannot list resource "pods" in API group "" at the cluster scope\): grant it with the ClusterRole in deploy\/rbac\.yaml/],
    ['500 with the server\'s message', { path: '^/api/v1/namespaces/apps/events$', status: 500, message: 'etcdserver: request timed out' }, /API server error 500 InternalError on list events in namespace apps: etcdserver: request timed out/],
    ['503', { path: '^/api/v1/namespaces/apps/events$', status: 503 }, /API server error 503 ServiceUnavailable on list events/],
    ['429 that does not stop', { path: '^/api/v1/pods$', status: 429, retryAfter: 1 }, /API server is throttling requests \(429 TooManyRequests\) to list pods/],
    ['a body that is not JSON', { path: '^/api/v1/pods$', malformed: true }, /API server https:\/\/127\.0\.0\.1:\d+ sent a response that is not JSON for list pods: not a Kubernetes API server, or a proxy in between\?/],
    ['a proxy error page', { path: '^/api/v1/pods$', malformed: true, status: 502 }, /API server error 502 on list pods at cluster scope/],
    ['a response cut short', { path: '^/api/v1/pods$', truncate: true }, /API server https:\/\/127\.0\.0\.1:\d+ dropped the connection in the middle of the response to list pods/],
    ['a connection dropped before any answer', { path: '^/api/v1/pods$', drop: true }, /API server https:\/\/127\.0\.0\.1:\d+ closed the connection during list pods at cluster scope/],
  ])('%s', async (_, rule, line) => {
    const s = await start('incident', { rules: [rule] });
    const r = await run(s);
    expect(r.code, r.stdout).toBe(3);
    expect(r.firstLine).toMatch(UNKNOWN_LINE(line));
  });

  it('404 on the Lease is a fact to report, not an error', async () => {
    const s = await start('incident', { rules: [{ path: '/leases/kube-scheduler$', status: 404 }] });
    const r = await run(s);
    expect(r.code).toBe(2);
    expect(r.firstLine).toMatch(/no Lease kube-system\/kube-scheduler \(leader election off\?\)/);
    expect(r.perf.lease_renew_age).toBeUndefined();
  });

  it('429 once with Retry-After: waits, retries, and answers', async () => {
    const s = await start('incident', { rules: [{ path: '^/api/v1/pods$', status: 429, retryAfter: 1, times: 1 }] });
    const r = await run(s);
    expect(r.code).toBe(2);
    const pods = s.requests().filter((q) => q.path === '/api/v1/pods');
    expect(pods.map((q) => q.status)).toEqual([429, 200]);
  });

  it('pages with limit/continue and gets the same answer', async () => {
    const s = await start('incident');
    const whole = await run(s);
    const before = s.requests().length;
    const paged = await run(s, ['--page-size', '7']);
    expect(paged.perf).toEqual(expect.objectContaining({ unscheduled_pods: '46', stalled_pods: '46' }));
    expect(paged.perf.unscheduled_pods).toBe(whole.perf.unscheduled_pods);
    const pods = s.requests().slice(before).filter((q) => q.path === '/api/v1/pods');
    expect(pods).toHaveLength(Math.ceil(46 / 7));
    expect(pods.every((q) => q.query.limit === '7')).toBe(true);
    expect(pods.filter((q) => q.query.continue)).toHaveLength(pods.length - 1);
  });

  it('410 Expired on a continue token restarts the list once', async () => {
    const s = await start('incident', { rules: [{ path: '^/api/v1/pods$', expireContinue: true, times: 1 }] });
    const r = await run(s, ['--page-size', '10']);
    expect(r.code).toBe(2);
    expect(r.perf.unscheduled_pods).toBe('46');
    const statuses = s.requests().filter((q) => q.path === '/api/v1/pods').map((q) => [q.status, Boolean(q.query.continue)]);
    // first page, expired continue, then the whole list again from the start
    expect(statuses.slice(0, 3)).toEqual([[200, false], [410, true], [200, false]]);
  });

  it('410 Expired while events are reduced as they stream: the restarted list counts each event once', async () => {
    const s = await start({
      generate: [
        { count: 3, template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'w-{{i}}', namespace: 'batch', creationTimestamp: '$now-30m' },
          spec: { schedulerName: 'default-scheduler', containers: [{ name: 'c', image: 'busybox' }] }, status: { phase: 'Pending' } } },
        { count: 30, template: { apiVersion: 'v1', kind: 'Event', metadata: { name: 'w-{{i%3}}.{{i}}', namespace: 'batch', creationTimestamp: '$now-2m' },
          involvedObject: { kind: 'Pod', namespace: 'batch', name: 'w-{{i%3}}', apiVersion: 'v1' }, reason: 'FailedScheduling', type: 'Warning',
          message: '0/3 nodes are available', eventTime: '$now-2m.micro', reportingComponent: 'default-scheduler' } },
      ],
    }, { rules: [{ path: '/events$', expireContinue: true, times: 1 }] });
    const r = await run(s, ['--page-size', '10']);
    expect(r.code, r.stdout).toBe(1);
    expect(r.perf).toEqual(expect.objectContaining({ failed_scheduling_events: '30', failing_pods: '3', stalled_pods: '0' }));
    expect(s.requests().filter((q) => q.path.endsWith('/events')).map((q) => q.status)).toContain(410);
  });

  it('410 Expired again after the restart is UNKNOWN', async () => {
    const s = await start('incident', { rules: [{ path: '^/api/v1/pods$', expireContinue: true }] });
    const r = await run(s, ['--page-size', '10']);
    expect(r.code).toBe(3);
    expect(r.firstLine).toMatch(UNKNOWN_LINE(/list of pods expired twice while paging \(410 Expired\)/));
  });

  it('a response slower than -t: exits within -t with the pending request named', async () => {
    // No API request is ever answered, so whatever the check waits for when -t strikes is a request the
    // double holds, however far a busy machine let the check get in 1 s; which one is not asserted.
    const s = await start('incident', { rules: [{ path: '^/api', hang: true }] });
    const r = await run(s, ['-t', '1', '-vv']);
    expect(r.code).toBe(3);
    const m = /^K8S SCHEDULER STALL UNKNOWN - check timed out after 1s(?: waiting for the API server \((GET \/.+)\))?$/.exec(r.firstLine);
    expect(m, r.firstLine).not.toBeNull();
    // What is named is an API request of the check's (one still on its way counts: on a busy machine
    // the double may not have read it yet), and nothing was ever answered.
    for (const named of m![1]?.split(/, (?=GET \/)/) ?? []) expect(named).toMatch(/^GET \/apis?\/\S+$/);
    expect(s.requests().filter((q) => q.status !== 0)).toEqual([]);
    // The deadline holds even with TLS and paging in flight: on the check's own clock, 1 s plus a margin.
    expect(ownSeconds(r)).toBeLessThan(1 + 1);
  });
});

describe('volume', () => {
  // 2,000 pending pods that the scheduler keeps failing to place, and 100,000
  // FailedScheduling events about them (50 each), as a large broken cluster has.
  const big: Scenario = {
    generate: [
      {
        count: 2000,
        template: {
          apiVersion: 'v1', kind: 'Pod',
          metadata: { name: 'job-{{i}}', namespace: 'batch', creationTimestamp: '$now-30m' },
          spec: { schedulerName: 'default-scheduler', containers: [{ name: 'c', image: 'busybox' }] },
          status: { phase: 'Pending' },
        },
      },
      {
        count: 100000,
        template: {
          apiVersion: 'v1', kind: 'Event',
          metadata: { name: 'job-{{i%2000}}.{{i}}', namespace: 'batch', creationTimestamp: '$now-5m' },
          involvedObject: { kind: 'Pod', namespace: 'batch', name: 'job-{{i%2000}}', apiVersion: 'v1' },
          reason: 'FailedScheduling', type: 'Warning', action: 'Scheduling',
          message: '0/3 nodes are available: 3 node(s) didn\'t match pod topology spread constraints | attempt {{i}}',
          eventTime: '$now-5m.micro', reportingComponent: 'default-scheduler', reportingInstance: 'default-scheduler-k8s01',
        },
      },
    ],
  };

  it('100,000 matching events: counted, output still within 1 KiB', async () => {
    const s = await start(big);
    const r = await run(s, ['-t', '60']);
    // Ordinary pressure (the scheduler is trying), quoted with its '|' made harmless.
    expect(r.code).toBe(1);
    expect(r.firstLine).toMatch(/2000 pods cannot be scheduled \(scheduler is working\): 0\/3 nodes are available: 3 node\(s\) didn't match pod topology spread constraints \/ attempt \d+ \| /);
    expect(r.perf).toEqual(expect.objectContaining({ failed_scheduling_events: '100000', unscheduled_pods: '2000', failing_pods: '2000', stalled_pods: '0' }));
    expect(Buffer.byteLength(r.stdout)).toBeLessThanOrEqual(8191);
    expect(r.stdout).toMatch(/\.\.\. and \d+ more \(-v shows more\)\n$/);
    // All 2,000 wait in one namespace: that namespace's events, in pages of 500, nothing cluster-wide.
    const events = s.requests().filter((q) => q.path.endsWith('/events') && /FailedScheduling/.test(q.query.fieldSelector ?? ''));
    expect(events).toHaveLength(100000 / 500);
    expect(new Set(events.map((q) => q.path))).toEqual(new Set(['/api/v1/namespaces/batch/events']));
  }, 600000);
});

describe('a host command slower than -t', () => {
  it('is named in the timeout line, and killed', async () => {
    // A journalctl that never answers: the deadline, not journalctl's output, is under test.
    const bin = fs.mkdtempSync(path.join(tmp, 'hang-'));
    const pidFile = path.join(bin, 'pid');
    fs.writeFileSync(path.join(bin, 'journalctl'), `#!/bin/sh\necho $$ > '${pidFile}'\nexec sleep 37\n`, { mode: 0o755 });
    try {
      const r = await runBuilt('dqlite', ['--no-unit-state', '-t', '1'], { env: { PATH: `${bin}:${process.env.PATH}` } });
      expectContract(r, 'DQLITE');
      expect(r.code).toBe(3);
      expect(r.firstLine).toMatch(/^K8S DQLITE UNKNOWN - check timed out after 1s waiting for journalctl -u snap\.microk8s\.daemon-k8s-dqlite /);
      // It did not wait for journalctl (37 s); how soon after 1 s it ended is the machine's speed, not asserted.
      expect(r.ms).toBeLessThan(37000);
      // The check started it, so the check ends it.
      // This run's sleep (by PID, not by name: other runs may have one), gone long before its 37 s.
      const pid = Number(fs.readFileSync(pidFile, 'utf8'));
      const alive = () => { try { process.kill(pid, 0); return true; } catch { return false; } };
      for (let i = 0; i < 200 && alive(); i++) await new Promise((ok) => setTimeout(ok, 100));
      expect(alive()).toBe(false);
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });
});
