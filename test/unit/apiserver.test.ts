import { describe, expect, it } from 'vitest';
import check, { type APIService, type ApiserverData } from '../../checks/apiserver.js';
import { failedChecks, parseHealth } from '../../lib/kube/health.js';
import { parseArgs } from '../../lib/plugin/args.js';
import { outcomeState } from '../../lib/plugin/result.js';
import { State } from '../../lib/plugin/state.js';
import { clock, checkOptions } from './support.js';

const { NOW, ago } = clock('2026-06-05T06:30:00Z');
const DAY = 86_400_000;
const opts = (args: string[] = []) => checkOptions(check, args);

// Text as k8s.io/apiserver/pkg/server/healthz handleRootHealth writes it.
const verbose = (endpoint: string, checks: string[], failing: string[] = []) =>
  `${checks.map((c) => (failing.includes(c) ? `[-]${c} failed: reason withheld` : `[+]${c} ok`)).join('\n')}\n${endpoint} check ${failing.length ? 'failed' : 'passed'}\n`;
const READYZ = ['ping', 'log', 'etcd', 'etcd-readiness', 'informer-sync', 'poststarthook/start-apiserver-admission-initializer', 'poststarthook/rbac/bootstrap-roles', 'shutdown'];
const LIVEZ = ['ping', 'log', 'etcd', 'poststarthook/start-apiserver-admission-initializer', 'poststarthook/rbac/bootstrap-roles'];

const local = (name: string): APIService => ({
  metadata: { name },
  spec: { service: null },
  status: { conditions: [{ type: 'Available', status: 'True', reason: 'Local', message: 'Local APIServices are always available', lastTransitionTime: ago(86400) }] },
});
const metrics = (available: boolean): APIService => ({
  metadata: { name: 'v1beta1.metrics.k8s.io' },
  spec: { service: { namespace: 'kube-system', name: 'metrics-server' } },
  status: {
    conditions: [available
      ? { type: 'Available', status: 'True', reason: 'Passed', message: 'all checks passed', lastTransitionTime: ago(3600) }
      // the message kube-aggregator's available controller writes when metrics-server does not answer
      : { type: 'Available', status: 'False', reason: 'FailedDiscoveryCheck', message: 'failing or missing response from https://10.152.183.60:443/apis/metrics.k8s.io/v1beta1: Get "https://10.152.183.60:443/apis/metrics.k8s.io/v1beta1": dial tcp 10.152.183.60:443: connect: connection refused', lastTransitionTime: ago(600) }],
  },
});

const healthy = (): ApiserverData => ({
  server: 'https://10.0.0.11:16443',
  livez: { status: 200, body: verbose('livez', LIVEZ), ms: 3 },
  readyz: { status: 200, body: verbose('readyz', READYZ), ms: 3 },
  latency: 0.012,
  certificate: { subject: '127.0.0.1', issuer: '10.152.183.1', validTo: NOW + 300 * DAY },
  version: 'v1.32.3',
  apiservices: [local('v1.'), local('v1.apps'), metrics(true)],
});

const run = async (d: ApiserverData, args: string[] = []) => {
  const o = check.evaluate(d, await opts(args), NOW);
  return { o, state: outcomeState(o), perf: Object.fromEntries(o.perfdata.map((p) => [p.label, p.value])), texts: o.findings.map((f) => f.text) };
};

describe('health endpoint text', () => {
  it('reads the verbose lines, excluded checks and the verdict', () => {
    const a = parseHealth('[+]ping ok\n[+]log excluded: ok\n[-]etcd failed: reason withheld\n[+]poststarthook/rbac/bootstrap-roles ok\nreadyz check failed\n');
    expect(a.verdict).toBe('failed');
    expect(a.checks).toEqual([{ name: 'ping', ok: true }, { name: 'log', ok: true, excluded: true }, { name: 'etcd', ok: false }, { name: 'poststarthook/rbac/bootstrap-roles', ok: true }]);
    expect(failedChecks(a)).toEqual(['etcd']);
    expect(parseHealth('ok')).toEqual({ checks: [], verdict: 'passed' });
    expect(parseHealth('<html>502</html>').verdict).toBeUndefined();
  });
});

describe('apiserver options', () => {
  it('defaults: -w 1 -c 5 seconds, certificate 30/7 days, aggregated APIs WARNING', async () => {
    const o = await opts();
    expect([o.warning?.text, o.critical?.text]).toEqual(['1', '5']);
    expect(o).toMatchObject({ certWarning: 30, certCritical: 7, aggregatedState: 'warning' });
    await expect(parseArgs(check, ['--cert-warning', 'soon'])).rejects.toThrow(/--cert-warning/);
    await expect(parseArgs(check, ['--aggregated-state', 'unknown'])).rejects.toThrow(/--aggregated-state/);
  });
});

describe('apiserver evaluate', () => {
  it('is OK when everything passes, with the facts in the summary', async () => {
    const { o, state, perf } = await run(healthy());
    expect(state).toBe(State.OK);
    expect(o.summary).toBe('livez and readyz ok, list in 0.012s, certificate valid 300d, 3 APIServices available, v1.32.3');
    expect(perf).toEqual({ latency: 0.012, cert_days_left: 300, apiservices: 3, apiservices_unavailable: 0, livez_checks_ok: 5, readyz_checks_ok: 8 });
    const cert = o.perfdata.find((p) => p.label === 'cert_days_left')!;
    expect([cert.warn?.text, cert.crit?.text]).toEqual(['30:', '7:']);
  });

  it('names every failing readyz/livez check: CRITICAL', async () => {
    const d = healthy();
    d.readyz = { status: 500, body: verbose('readyz', READYZ, ['etcd', 'informer-sync']), ms: 5 };
    d.livez = { status: 500, body: verbose('livez', LIVEZ, ['etcd']), ms: 5 };
    const { o, state, perf, texts } = await run(d);
    expect(state).toBe(State.CRITICAL);
    expect(o.summary).toBe('livez failed: etcd; readyz failed: etcd, informer-sync');
    expect(texts).toContain("/readyz answered 500: [-]etcd failed, [-]informer-sync failed (the reasons are only in the API server's log; microk8s: journalctl -u snap.microk8s.daemon-kubelite)");
    expect(perf.readyz_checks_ok).toBe(6);
  });

  it('a status without check lines is CRITICAL with what the server said', async () => {
    const d = healthy();
    d.readyz = { status: 503, body: 'upstream connect error\n', ms: 1 };
    const { o, state } = await run(d);
    expect(state).toBe(State.CRITICAL);
    expect(o.summary).toBe('readyz answered 503');
    expect(o.findings[0]?.text).toBe('/readyz answered 503: upstream connect error');
  });

  it('judges the latency with -w/-c in seconds', async () => {
    const d = healthy();
    d.latency = 1.5;
    const r = await run(d);
    expect(r.state).toBe(State.WARNING);
    expect(r.o.summary).toBe('list of 1 node took 1.5s');
    expect((await run(d, ['-w', '2'])).state).toBe(State.OK);
    expect((await run(d, ['-c', '1'])).state).toBe(State.CRITICAL);
  });

  it('warns 30 days before the serving certificate expires, CRITICAL at 7 and when expired', async () => {
    const d = healthy();
    d.certificate = { subject: '127.0.0.1', validTo: NOW + 20 * DAY };
    let r = await run(d);
    expect(r.state).toBe(State.WARNING);
    expect(r.o.summary).toBe('serving certificate expires in 20d');
    expect(r.texts[0]).toBe('the serving certificate (CN 127.0.0.1) expires on 2026-06-25 (outside --cert-warning 30:); microk8s: sudo microk8s refresh-certs --cert server.crt');
    d.certificate = { validTo: NOW + 2 * DAY };
    expect((await run(d)).state).toBe(State.CRITICAL);
    d.certificate = { validTo: NOW - DAY };
    r = await run(d);
    expect(r.o.summary).toBe('serving certificate expired 1d ago');
    expect(r.perf.cert_days_left).toBe(-1);
  });

  it('names an aggregated API that is not Available with its reason and message', async () => {
    const d = healthy();
    d.apiservices[2] = metrics(false);
    const { o, state, perf, texts } = await run(d);
    expect(state).toBe(State.WARNING);
    expect(o.summary).toBe('1 aggregated API not Available (v1beta1.metrics.k8s.io)');
    expect(texts).toContain('v1beta1.metrics.k8s.io (service kube-system/metrics-server) not Available: FailedDiscoveryCheck: failing or missing response from https://10.152.183.60:443/apis/metrics.k8s.io/v1beta1: Get "https://10.152.183.60:443/apis/metrics.k8s.io/v1beta1": dial tcp 10.152.183.60:443: connect: connection refused');
    expect(perf.apiservices_unavailable).toBe(1);
    expect((await run(d, ['--aggregated-state', 'critical'])).state).toBe(State.CRITICAL);
    expect((await run(d, ['--aggregated-state', 'ok'])).state).toBe(State.OK);
  });

  it('an APIService whose Available condition is Unknown is not Available, nor is one without the condition', async () => {
    const d = healthy();
    // kube-aggregator's available controller before its first check of the service, or while it cannot tell
    d.apiservices[2] = { ...metrics(true), status: { conditions: [{ type: 'Available', status: 'Unknown', reason: 'ServiceNotFound', message: 'service/metrics-server in "kube-system" is not present', lastTransitionTime: ago(60) }] } };
    d.apiservices.push({ metadata: { name: 'v1beta1.custom.metrics.k8s.io' }, spec: { service: { namespace: 'monitoring', name: 'adapter' } }, status: {} });
    const { o, state, perf, texts } = await run(d);
    expect(state).toBe(State.WARNING);
    expect(o.summary).toBe('2 aggregated APIs not Available (v1beta1.metrics.k8s.io, v1beta1.custom.metrics.k8s.io)');
    expect(texts).toContain('v1beta1.metrics.k8s.io (service kube-system/metrics-server) not Available: ServiceNotFound: service/metrics-server in "kube-system" is not present');
    expect(texts).toContain('v1beta1.custom.metrics.k8s.io (service monitoring/adapter) not Available: no Available condition yet');
    expect(perf).toMatchObject({ apiservices: 4, apiservices_unavailable: 2 });
  });

  it('a 404 on a health endpoint is UNKNOWN (an API server too old to serve it), and the rest is still judged', async () => {
    const d = healthy();
    d.livez = { status: 404, body: '404 page not found\n', ms: 1 };
    const { o, state, perf, texts } = await run(d);
    expect(state).toBe(State.UNKNOWN);
    expect(o.summary).toBe('no /livez (Kubernetes before 1.16?)');
    expect(texts).toContain('/livez answered 404: this API server does not serve it');
    expect(perf).toMatchObject({ livez_checks_ok: 0, readyz_checks_ok: 8 });
  });

  it('the certificate days: a fraction below the threshold alerts, exactly the threshold does not', async () => {
    const d = healthy();
    d.certificate = { validTo: NOW + 30 * DAY };
    let r = await run(d);
    expect(r.state).toBe(State.OK);
    expect(r.perf.cert_days_left).toBe(30);
    d.certificate = { validTo: NOW + 30 * DAY - 3 * 3_600_000 };
    r = await run(d);
    expect(r.state).toBe(State.WARNING);
    expect(r.perf.cert_days_left).toBe(29.8);
    expect(r.o.summary).toBe('serving certificate expires in 29d19h');
    d.certificate = { validTo: NOW + 7 * DAY - 1000 };
    expect((await run(d)).state).toBe(State.CRITICAL);
  });

  it('an API server that cannot be reached is CRITICAL here', async () => {
    const { o, state, perf } = await run({ server: 'https://127.0.0.1:16443', unreachable: 'cannot connect to API server https://127.0.0.1:16443: connection refused (is the apiserver/kubelite running?)', apiservices: [] });
    expect(state).toBe(State.CRITICAL);
    expect(o.summary).toBe('API server unreachable: cannot connect to API server https://127.0.0.1:16443: connection refused (is the apiserver/kubelite running?)');
    expect(perf.latency).toBeUndefined();
  });
});

describe('apiserver: what to do', () => {
  it('a failing readyz check: read its reason in the API server log', async () => {
    const d = healthy();
    d.readyz = { status: 500, body: verbose('readyz', READYZ, ['etcd']), ms: 5 };
    const { o } = await run(d);
    expect(o.actions?.[0]).toEqual({ state: State.CRITICAL, text: expect.stringMatching(/^read why etcd fails in the API server's log \(microk8s: journalctl -u snap\.microk8s\.daemon-kubelite .*grep -i 'etcd'\)/) });
  });
});
