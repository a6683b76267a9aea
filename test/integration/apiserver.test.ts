import { beforeAll, describe, expect, it } from 'vitest';
import { apiServers, expectContract, runBuilt, type ApiServer } from '../harness.js';

const TITLE = 'APISERVER';

describe('check_k8s_apiserver against the API double', () => {
  const start = apiServers();

  let healthy: ApiServer;
  beforeAll(async () => { healthy = await start('healthy'); });

  it('is OK on the healthy cluster: livez/readyz, latency, the certificate from the handshake, APIServices', async () => {
    const before = healthy.requests().length;
    const run = await runBuilt('apiserver', ['--kubeconfig', healthy.kubeconfig]);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(0);
    // The double's serving certificate is made for 3650 days.
    expect(run.firstLine).toMatch(/^K8S APISERVER OK - livez and readyz ok, list in \d+(\.\d+)?s, certificate valid 36[45]\dd, 6 APIServices available, v1\.32\.3 \| /);
    expect(run.perf).toMatchObject({ apiservices: '6', apiservices_unavailable: '0', livez_checks_ok: '17', readyz_checks_ok: '20' });
    expect(run.firstLine).toMatch(/latency=[\d.]+s;1;5;0 /);
    expect(run.firstLine).toMatch(/cert_days_left=36[45]\d(\.\d)?;30:;7:/);
    expect(run.stdout).toContain('serving certificate (CN kube-apiserver, issuer k8s-nrpe-test-ca) valid until');
    const reqs = healthy.requests().slice(before).map((r) => `${r.path}${Object.keys(r.query).length ? `?${new URLSearchParams(r.query)}` : ''}`);
    expect(reqs[0]).toBe('/livez?verbose=');
    expect(reqs[1]).toBe('/api/v1/nodes?limit=1');
    expect(reqs.slice(2).sort()).toEqual(['/apis/apiregistration.k8s.io/v1/apiservices?limit=500', '/readyz?verbose=', '/version']);
  });

  it('names the failing checks and the unavailable aggregated APIs', async () => {
    const s = await start('apiserver-degraded');
    const run = await runBuilt('apiserver', ['--kubeconfig', s.kubeconfig, '-v']);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(2);
    expect(run.firstLine).toMatch(/^K8S APISERVER CRITICAL - livez failed: etcd; readyz failed: etcd, informer-sync; 2 aggregated APIs not Available \(v1beta1\.custom\.metrics\.k8s\.io, v1beta1\.metrics\.k8s\.io\) \| /);
    expect(run.stdout).toContain('[CRITICAL] /readyz answered 500: [-]etcd failed, [-]informer-sync failed (the reasons are only in the API server');
    expect(run.stdout).toContain('[WARNING] v1beta1.metrics.k8s.io (service kube-system/metrics-server) not Available: FailedDiscoveryCheck: failing or missing response from https://10.152.183.60:443/apis/metrics.k8s.io/v1beta1');
    expect(run.stdout).toContain('[WARNING] v1beta1.custom.metrics.k8s.io (service monitoring/prometheus-adapter) not Available: MissingEndpoints: endpoints for service/prometheus-adapter in "monitoring" have no addresses with port name "https"');
    expect(run.perf).toMatchObject({ apiservices_unavailable: '2', readyz_checks_ok: '18' });
  });

  it('judges the latency of the timed list with -w/-c in seconds', async () => {
    const s = await start('healthy', { rules: [{ path: '^/api/v1/nodes$', query: 'limit=1', delayMs: 1200 }] });
    const run = await runBuilt('apiserver', ['--kubeconfig', s.kubeconfig, '-w', '1', '-c', '30']);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(1);
    expect(run.firstLine).toMatch(/^K8S APISERVER WARNING - list of 1 node took 1\.\d+s \| /);
    expect(Number.parseFloat(run.perf.latency!)).toBeGreaterThanOrEqual(1.2);
  });

  it('warns before the serving certificate expires (days from the handshake)', async () => {
    const run = await runBuilt('apiserver', ['--kubeconfig', healthy.kubeconfig, '--cert-warning', '3700', '--cert-critical', '10']);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(1);
    expect(run.firstLine).toMatch(/^K8S APISERVER WARNING - serving certificate expires in \d+d\d*h? \| /);
    expect(run.stdout).toMatch(/^\[WARNING\] the serving certificate \(CN kube-apiserver, issuer k8s-nrpe-test-ca\) expires on \d{4}-\d\d-\d\d \(outside --cert-warning 3700:\)/m);
  });

  it('an API server that refuses connections is CRITICAL, not UNKNOWN', async () => {
    const run = await runBuilt('apiserver', ['--kubeconfig', healthy.kubeconfigFor('multi'), '--context', 'gone']);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(2);
    expect(run.firstLine).toMatch(/^K8S APISERVER CRITICAL - API server unreachable: cannot connect to API server https:\/\/127\.0\.0\.1:1: connection refused/);
  });

  it('a hung API server is --timeout-state (critical in the NRPE command)', async () => {
    const s = await start('healthy', { rules: [{ path: '^/livez$', hang: true }] });
    const run = await runBuilt('apiserver', ['--kubeconfig', s.kubeconfig, '-t', '2', '--timeout-state', 'critical']);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(2);
    expect(run.firstLine).toMatch(/timed out after 2s.*\/livez/);
  });

  it('a 403 on /readyz names the nonResourceURLs to grant: UNKNOWN', async () => {
    const s = await start('healthy', { rules: [{ path: '^/readyz$', forbid: true }] });
    const run = await runBuilt('apiserver', ['--kubeconfig', s.kubeconfig]);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(3);
    expect(run.firstLine).toMatch(/^K8S APISERVER UNKNOWN - forbidden to get \/readyz .*deploy\/rbac\.yaml.*nonResourceURLs \/livez, \/readyz, \/version/);
  });

  it('on the incident the API server itself was fine: OK', async () => {
    const s = await start('incident');
    const run = await runBuilt('apiserver', ['--kubeconfig', s.kubeconfig]);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(0);
  });
}, 120_000);
