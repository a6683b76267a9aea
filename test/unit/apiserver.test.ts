import { describe, expect, it } from 'vitest';
import check, { type APIService, type ApiserverData } from '../../checks/apiserver.js';
import { failedChecks, parseHealth } from '../../lib/kube/health.js';
import { parseArgs } from '../../lib/plugin/args.js';
import { formatPerfdata } from '../../lib/plugin/perfdata.js';
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
    expect(o.findings.find((f) => f.text.startsWith('v1beta1.metrics.k8s.io '))?.state).toBe(State.WARNING);
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
    expect(o.actions).toEqual([{ state: State.CRITICAL, text: "read why etcd fails in the API server's log (microk8s: journalctl -u snap.microk8s.daemon-kubelite --since -10m -g 'etcd'); " +
      'a datastore check (etcd, kine) points at check_k8s_dqlite_cluster; then curl -k https://<server>/readyz?verbose or check again' }]);
  });
});

describe('apiserver: edges of the verdict', () => {
  it('a failing check on a 200 answer is still named; a 500 with every check passing says what the server said', async () => {
    const d = healthy();
    d.livez = { status: 200, body: verbose('livez', LIVEZ, ['log']), ms: 3 };
    let r = await run(d);
    expect(r.state).toBe(State.CRITICAL);
    expect(r.o.summary).toBe('livez failed: log');
    expect(r.perf.livez_checks_ok).toBe(4);
    d.livez = { status: 500, body: `\n  \n${verbose('livez', LIVEZ)}`, ms: 3 };
    r = await run(d);
    expect(r.state).toBe(State.CRITICAL);
    expect(r.o.summary).toBe('livez answered 500');
    expect(r.texts[0]).toBe('/livez answered 500: [+]ping ok');
    expect(r.perf.livez_checks_ok).toBe(0);
  });

  it('an empty answer with an error status: the status alone', async () => {
    const d = healthy();
    d.readyz = { status: 502, body: '', ms: 1 };
    const { o, state, texts } = await run(d);
    expect(state).toBe(State.CRITICAL);
    expect(texts[0]).toBe('/readyz answered 502');
    expect(o.summary).toBe('readyz answered 502');
  });

  it('a 404 says what to look at next', async () => {
    const d = healthy();
    d.readyz = { status: 404, body: '404 page not found\n', ms: 1 };
    const { o, state } = await run(d);
    expect(state).toBe(State.UNKNOWN);
    expect(o.actions).toEqual([{ state: State.UNKNOWN, text: 'see what the server is (kubectl version): before Kubernetes 1.16 only /healthz exists, and a proxy in front of the API server may not pass /readyz' }]);
  });

  it('the latency to the millisecond; at -w itself OK, with no step to take', async () => {
    const d = healthy();
    d.latency = 0.98765;
    let r = await run(d);
    expect(r.state).toBe(State.OK);
    expect(r.perf.latency).toBe(0.988);
    expect(r.o.summary).toMatch(/^livez and readyz ok, list in 0\.988s, /);
    expect(r.o.actions ?? []).toEqual([]);
    d.latency = 1;
    expect((await run(d)).state).toBe(State.OK);
    d.latency = 5.0004;
    r = await run(d);
    expect(r.state).toBe(State.WARNING);
    expect(r.o.summary).toBe('list of 1 node took 5s');
    d.latency = 5.2;
    r = await run(d);
    expect(r.state).toBe(State.CRITICAL);
    expect(r.texts[0]).toBe('an authenticated list of 1 node took 5.2s (outside -c 5)');
    expect(r.o.actions?.[0]).toEqual({ state: State.CRITICAL, text: expect.stringMatching(/^a slow read is a slow datastore more often than a slow API server: run check_k8s_dqlite_cluster/) });
  });

  it('without a timing or a certificate: U perfdata and no such words in the OK line', async () => {
    const d = healthy();
    delete d.latency;
    delete d.certificate;
    delete d.version;
    const { o, state, perf } = await run(d);
    expect(state).toBe(State.OK);
    expect(o.summary).toBe('livez and readyz ok, 3 APIServices available');
    expect(perf.latency).toBeUndefined();
    expect(perf.cert_days_left).toBeUndefined();
    expect(o.perfdata.map(formatPerfdata).slice(0, 2)).toEqual(['latency=U;1;5;0', 'cert_days_left=U;30:;7:']);
  });

  it('the valid certificate named with its issuer in long output, its whole days in the OK line', async () => {
    const d = healthy();
    d.certificate = { subject: 'kube-apiserver', issuer: 'kubernetes', validTo: NOW + 300 * DAY + 20 * 3_600_000 };
    const { o, texts, perf } = await run(d);
    expect(o.summary).toBe('livez and readyz ok, list in 0.012s, certificate valid 300d, 3 APIServices available, v1.32.3');
    expect(perf.cert_days_left).toBe(300.8);
    expect(texts).toContain('serving certificate (CN kube-apiserver, issuer kubernetes) valid until 2027-04-02');
    d.certificate = { validTo: NOW + 300 * DAY };
    expect((await run(d)).texts).toContain('serving certificate valid until 2027-04-01');
  });

  it('a certificate expired half a day ago, and one expiring at this very moment: CRITICAL with the step to renew', async () => {
    const d = healthy();
    d.certificate = { subject: '127.0.0.1', issuer: 'ca', validTo: NOW - 12 * 3_600_000 };
    let r = await run(d);
    expect(r.state).toBe(State.CRITICAL);
    expect(r.o.summary).toBe('serving certificate expired 12h ago');
    expect(r.texts[0]).toBe('the serving certificate (CN 127.0.0.1, issuer ca) expired on 2026-06-04');
    expect(r.o.actions?.[0]).toEqual({ state: State.CRITICAL, text: expect.stringMatching(/^renew the serving certificate on every control-plane node: sudo microk8s refresh-certs --cert server\.crt/) });
    d.certificate = { validTo: NOW };
    r = await run(d);
    expect(r.state).toBe(State.CRITICAL);
    expect(r.o.summary).toBe('serving certificate expires in 0s');
    expect(r.o.actions?.[0]?.state).toBe(State.CRITICAL);
    // With --cert-critical 0 an expired certificate is still CRITICAL.
    d.certificate = { validTo: NOW - 12 * 3_600_000 };
    r = await run(d, ['--cert-critical', '0', '--cert-warning', '0']);
    expect(r.state).toBe(State.CRITICAL);
    expect(r.o.actions?.[0]?.state).toBe(State.CRITICAL);
  });

  it('aggregated APIs: a local one without a service, a condition with no reason or message, the step names the first', async () => {
    const d = healthy();
    d.apiservices = [
      { metadata: { name: 'v1.example.com' }, spec: { service: null }, status: { conditions: [{ type: 'Available', status: 'False' }] } },
      metrics(false),
    ];
    const { o, state, texts, perf } = await run(d);
    expect(state).toBe(State.WARNING);
    expect(o.summary).toBe('2 aggregated APIs not Available (v1.example.com, v1beta1.metrics.k8s.io)');
    expect(texts).toContain('v1.example.com not Available: False');
    expect(o.actions).toEqual([{ state: State.WARNING, text: 'see why v1.example.com is not Available (kubectl get apiservice v1.example.com -o yaml: its message) and whether its Service\'s pods run; an unused one can be deleted; check again' }]);
    expect(perf).toMatchObject({ apiservices: 2, apiservices_unavailable: 2 });
    expect(o.perfdata.find((p) => p.label === 'apiservices_unavailable')?.max).toBe(2);
  });

  it('an APIService just created, with no status yet, is not Available', async () => {
    const d = healthy();
    d.apiservices.push({ metadata: { name: 'v1beta1.custom.metrics.k8s.io' }, spec: { service: { namespace: 'monitoring', name: 'adapter' } } });
    const { o, state } = await run(d);
    expect(state).toBe(State.WARNING);
    expect(o.summary).toBe('1 aggregated API not Available (v1beta1.custom.metrics.k8s.io)');
  });

  it('a certificate expired a minute ago is said to have expired a minute ago (not the tenth of a day the perfdata rounds to)', async () => {
    const d = healthy();
    d.certificate = { validTo: NOW - 60_000 };
    const { o, state, perf } = await run(d);
    expect(state).toBe(State.CRITICAL);
    expect(o.summary).toBe('serving certificate expired 1m ago');
    expect(perf.cert_days_left).toBe(-0.1);
  });

  it('a certificate valid to this very moment under --cert-warning 0 --cert-critical 0 is not yet expired', async () => {
    const d = healthy();
    d.certificate = { validTo: NOW };
    const { o, state, texts } = await run(d, ['--cert-warning', '0', '--cert-critical', '0']);
    expect(state).toBe(State.OK);
    expect(o.actions ?? []).toEqual([]);
    expect(texts).toContain('serving certificate valid until 2026-06-05');
  });

  it('--aggregated-state ok: the unavailable API is shown but not judged, and no step is asked', async () => {
    const d = healthy();
    d.apiservices[2] = metrics(false);
    const { o, state, perf } = await run(d, ['--aggregated-state', 'ok']);
    expect(state).toBe(State.OK);
    expect(o.actions ?? []).toEqual([]);
    const line = o.findings.find((f) => f.text.startsWith('v1beta1.metrics.k8s.io (service kube-system/metrics-server) not Available: FailedDiscoveryCheck'));
    expect(line).toBeDefined();
    expect(line!.state).toBeUndefined();
    expect(perf.apiservices_unavailable).toBe(1);
  });

  it('unreachable: says where to look on the node behind the server, and nothing else is judged', async () => {
    const { o, perf } = await run({ server: 'https://10.0.0.11:16443', unreachable: 'connection refused', apiservices: [] });
    expect(o.findings.map((f) => f.text)).toEqual(['API server https://10.0.0.11:16443 unreachable: connection refused']);
    expect(o.actions).toEqual([{ state: State.CRITICAL, text: expect.stringMatching(/^on the node behind https:\/\/10\.0\.0\.11:16443: sudo snap services microk8s .*check_k8s_dqlite_cluster/) }]);
    expect(Object.keys(perf)).toEqual(['latency']);
  });
});

describe('apiserver: perfdata as a grapher reads it', () => {
  it('with its thresholds, floors and the APIService count as the ceiling of the unavailable ones', async () => {
    const { o } = await run(healthy());
    expect(o.perfdata.map(formatPerfdata).join(' ')).toBe('latency=0.012s;1;5;0 cert_days_left=300;30:;7: apiservices=3;;;0 apiservices_unavailable=0;;;0;3 livez_checks_ok=5;;;0 readyz_checks_ok=8;;;0');
    const down = await run({ server: 'https://10.0.0.11:16443', unreachable: 'connection refused', apiservices: [] });
    expect(down.o.perfdata.map(formatPerfdata).join(' ')).toBe('latency=U;1;5;0');
  });
});
