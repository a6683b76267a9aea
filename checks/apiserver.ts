import type { PeerCertificate, RawResponse } from '../lib/kube/client.js';
import { NON_RESOURCE_URLS, RESOURCES } from '../lib/kube/resources.js';
import { KubeApiError } from '../lib/kube/errors.js';
import { failedChecks, parseHealth } from '../lib/kube/health.js';
import { condition, refOf } from '../lib/kube/objects.js';
import type { Condition, ObjectMeta } from '../lib/kube/types.js';
import { defineCheck, opt } from '../lib/plugin/check.js';
import { formatDuration } from '../lib/plugin/duration.js';
import { declareMetrics, range, stateOf } from '../lib/plugin/context.js';
import { Report } from '../lib/plugin/report.js';
import { plural } from '../lib/plugin/result.js';
import { sanitize } from '../lib/plugin/sanitize.js';
import { State } from '../lib/plugin/state.js';

/** apiregistration.k8s.io/v1 APIService, the fields this check reads. */
export interface APIService {
  metadata?: ObjectMeta;
  spec?: { service?: { namespace?: string; name?: string } | null; group?: string; version?: string };
  status?: { conditions?: Condition[] };
}

export interface ApiserverData {
  server: string;
  /** The API server could not be reached at all: the line says why. */
  unreachable?: string;
  livez?: RawResponse;
  readyz?: RawResponse;
  /** Seconds for an authenticated list of one node (a read through the storage). */
  latency?: number;
  certificate?: PeerCertificate;
  version?: string;
  apiservices: APIService[];
}

export interface ApiserverOptions {
  warning?: { alerts(v: number): boolean; text: string };
  critical?: { alerts(v: number): boolean; text: string };
  certWarning: number;
  certCritical: number;
  aggregatedState?: 'ok' | 'warning' | 'critical';
}

const STATE_OF = { ok: State.OK, warning: State.WARNING, critical: State.CRITICAL } as const;
const DAY = 86_400_000;

/** One health endpoint's verdict: problems (CRITICAL/UNKNOWN) and how many checks passed. */
function judgeHealth(r: Report, endpoint: 'livez' | 'readyz', res: RawResponse | undefined): number {
  if (!res) return 0;
  const answer = parseHealth(res.body);
  const failed = failedChecks(answer);
  if (res.status === 200 && !failed.length) return answer.checks.length;
  if (res.status === 404) {
    r.problem(State.UNKNOWN, `no /${endpoint} (Kubernetes before 1.16?)`, `/${endpoint} answered 404: this API server does not serve it`);
    r.action(State.UNKNOWN, `see what the server is (kubectl version): before Kubernetes 1.16 only /healthz exists, and a proxy in front of the API server may not pass /${endpoint}`);
    return 0;
  }
  if (failed.length) {
    const names = failed.map((n) => sanitize(n, 80));
    r.action(State.CRITICAL, `read why ${names[0]} fails in the API server's log (microk8s: journalctl -u snap.microk8s.daemon-kubelite --since -10m -g '${names[0]}'); ` +
      `a datastore check (etcd, kine) points at check_k8s_dqlite_cluster; then curl -k https://<server>/${endpoint}?verbose or check again`);
    r.problem(State.CRITICAL, `${endpoint} failed: ${names.join(', ')}`,
      `/${endpoint} answered ${res.status}: ${names.map((n) => `[-]${n} failed`).join(', ')} (the reasons are only in the API server's log; microk8s: journalctl -u snap.microk8s.daemon-kubelite)`);
    return answer.checks.length - failed.length;
  }
  const first = sanitize(res.body.split('\n').find((l) => l.trim()) ?? '', 120);
  r.problem(State.CRITICAL, `${endpoint} answered ${res.status}`, `/${endpoint} answered ${res.status}${first ? `: ${first}` : ''}`);
  return 0;
}

const perf = declareMetrics({
  latency: { describe: 'Seconds for an authenticated list of one node', uom: 's', judge: range('warning', 'critical') },
  cert_days_left: { describe: 'Days until the serving certificate expires', judge: range('certWarning', 'certCritical', { as: 'min' }) },
  apiservices: { describe: 'APIServices registered' },
  apiservices_unavailable: { describe: 'APIServices whose Available condition is not True', judge: stateOf('aggregatedState') },
  livez_checks_ok: { describe: 'Checks /livez?verbose reports as ok' },
  readyz_checks_ok: { describe: 'Checks /readyz?verbose reports as ok' },
});

export function evaluateApiserver(d: ApiserverData, o: ApiserverOptions, now: number) {
  const r = new Report();
  if (d.unreachable) {
    r.problem(State.CRITICAL, `API server unreachable: ${d.unreachable}`, `API server ${sanitize(d.server, 100)} unreachable: ${d.unreachable}`);
    r.action(State.CRITICAL, `on the node behind ${sanitize(d.server, 100)}: sudo snap services microk8s (kubelite must be active) and journalctl -u snap.microk8s.daemon-kubelite --since -10m; ` +
      'if kubelite is up but the API is not, check_k8s_dqlite_cluster (no datastore, no API); restart with sudo snap restart microk8s.daemon-kubelite; check again');
    perf.metric(r, 'latency', undefined, o, { min: 0 });
    return r.done('');
  }

  const liveOk = judgeHealth(r, 'livez', d.livez);
  const readyOk = judgeHealth(r, 'readyz', d.readyz);

  // Latency of one authenticated read that goes through the storage (kine/dqlite on microk8s, etcd elsewhere).
  const latency = d.latency === undefined ? undefined : Math.round(d.latency * 1000) / 1000;
  if (latency !== undefined) {
    const j = perf.judge(r, 'latency', latency, o, { min: 0 });
    if (j.state !== State.OK) r.problem(j.state, `list of 1 node took ${latency}s`, `an authenticated list of 1 node took ${latency}s (${j.hint})`);
    r.action(j.state, 'a slow read is a slow datastore more often than a slow API server: run check_k8s_dqlite_cluster and check_k8s_dqlite on the control-plane nodes, and look at their load and disk latency (iostat -x 1)');
  } else perf.metric(r, 'latency', undefined, o, { min: 0 });

  // The serving certificate, as the TLS handshake showed it.
  const cert = d.certificate;
  if (cert?.validTo !== undefined) {
    const days = Math.floor(((cert.validTo - now) / DAY) * 10) / 10;
    const j = perf.judge(r, 'cert_days_left', days, o);
    const until = new Date(cert.validTo).toISOString().slice(0, 10);
    const who = cert.subject ? ` (CN ${sanitize(cert.subject, 60)}${cert.issuer ? `, issuer ${sanitize(cert.issuer, 60)}` : ''})` : '';
    r.action(days < 0 ? State.CRITICAL : j.state, `renew the serving certificate on every control-plane node: sudo microk8s refresh-certs --cert server.crt (elsewhere: kubeadm certs renew apiserver), then check again`);
    // How long ago from the exact time: days is floored to a tenth, which reads a minute as 2h24m.
    if (days < 0) r.problem(State.CRITICAL, `serving certificate expired ${formatDuration((now - cert.validTo) / 1000)} ago`, `the serving certificate${who} expired on ${until}`);
    else if (j.state !== State.OK) r.problem(j.state, `serving certificate expires in ${formatDuration(days * 86400)}`, `the serving certificate${who} expires on ${until} (${j.hint}); microk8s: sudo microk8s refresh-certs --cert server.crt`);
    else r.info(`serving certificate${who} valid until ${until}`);
  } else perf.metric(r, 'cert_days_left', undefined, o);

  // Aggregated APIs: an APIService whose Available condition is not True (metrics-server down breaks kubectl top and HPA).
  const aggregated = STATE_OF[o.aggregatedState ?? 'warning'];
  const down: string[] = [];
  for (const a of d.apiservices) {
    const c = condition(a.status?.conditions, 'Available');
    if (c?.status === 'True') continue;
    const id = sanitize(a.metadata?.name ?? '?', 100);
    const svc = a.spec?.service ? ` (service ${refOf(sanitize(a.spec.service.namespace ?? '', 60), sanitize(a.spec.service.name ?? '', 60))})` : '';
    const why = c ? `${sanitize(c.reason ?? c.status ?? '', 60)}${c.message ? `: ${sanitize(c.message, 300)}` : ''}` : 'no Available condition yet';
    down.push(id);
    r.add(aggregated === State.OK ? undefined : aggregated, `${id}${svc} not Available: ${why}`);
  }
  if (down.length) {
    const state = aggregated;
    const short = `${plural(down.length, 'aggregated API')} not Available (${down.join(', ')})`;
    if (state !== State.OK) r.problem(state, short);
    r.action(state, `see why ${down[0]} is not Available (kubectl get apiservice ${down[0]} -o yaml: its message) and whether its Service's pods run; an unused one can be deleted; check again`);
  }
  perf.metric(r, 'apiservices', d.apiservices.length, o, { min: 0 });
  perf.metric(r, 'apiservices_unavailable', down.length, o, { min: 0, max: d.apiservices.length });
  perf.metric(r, 'livez_checks_ok', liveOk, o, { min: 0 });
  perf.metric(r, 'readyz_checks_ok', readyOk, o, { min: 0 });

  const days = cert?.validTo !== undefined ? Math.floor((cert.validTo - now) / DAY) : undefined;
  const ok = [
    'livez and readyz ok',
    latency !== undefined ? `list in ${latency}s` : undefined,
    days !== undefined ? `certificate valid ${days}d` : undefined,
    `${plural(d.apiservices.length, 'APIService')} available`,
    d.version ? sanitize(d.version, 40) : undefined,
  ].filter(Boolean).join(', ');
  return r.done(ok);
}

export default defineCheck({
  name: 'apiserver',
  title: 'APISERVER',
  scope: 'cluster',
  nrpe: {
    args: '-t 20 --timeout-state critical',
    about:
      'API server: /livez and /readyz (every failing check named), list latency, serving certificate\n' +
      'expiry, aggregated APIs not Available. Unreachable or timed out is CRITICAL: other services depend on it.',
  },
  summary: 'API server /livez and /readyz, request latency, serving certificate expiry, aggregated APIs',
  description:
    'Asks the API server of the kubeconfig (microk8s: kubelite on :16443) for /livez?verbose and /readyz?verbose and ' +
    'names every failing check ([-]etcd failed, informer-sync, poststarthook/...): CRITICAL. The latency of one ' +
    'authenticated list of a single node (it reads through the storage: kine/dqlite on microk8s) is judged by -w/-c in ' +
    'seconds. The serving certificate is read from the TLS handshake of the same connection: WARNING/CRITICAL ' +
    '--cert-warning/--cert-critical days before it expires. Aggregated APIs (APIServices) whose Available condition ' +
    'is not True are named with the condition\'s reason and message (metrics-server down breaks kubectl top and HPA): ' +
    '--aggregated-state.\n\n' +
    'Unlike the other checks, an API server that cannot be reached (connection refused, reset, TLS failure) is ' +
    'CRITICAL here: this is the check other services can depend on. A timeout is --timeout-state (the NRPE command ' +
    'sets critical). 401 and 403 stay UNKNOWN: the credentials, not the API server, are at fault; a 403 on /livez or ' +
    '/readyz names the nonResourceURLs the ClusterRole must grant.',
  thresholds: { warning: '1', critical: '5', describe: 'seconds for an authenticated list of one node' },
  options: {
    'cert-warning': opt.int({ default: 30, min: 0, max: 36500, describe: 'WARNING when the serving certificate expires in fewer days than this' }),
    'cert-critical': opt.int({ default: 7, min: 0, max: 36500, describe: 'CRITICAL when the serving certificate expires in fewer days than this' }),
    'aggregated-state': opt.choice(['ok', 'warning', 'critical'] as const, { default: 'warning', describe: 'State when an aggregated API (APIService) is not Available' }),
  },
  perfdata: perf.docs,
  examples: [
    ['$0 --kubeconfig /etc/nagios/k8s-nrpe.kubeconfig --timeout-state critical', 'health, latency, certificate, aggregated APIs'],
    ['$0 -w 0.5 -c 2 --cert-warning 60 --aggregated-state critical', 'stricter'],
  ],

  async gather(ctx) {
    const kube = await ctx.kube();
    const server = kube.conn.server.origin;
    let livez: RawResponse;
    try {
      // First request: opens the connection; its handshake shows the serving certificate.
      livez = await kube.getPath('/livez', { verbose: '' });
    } catch (e) {
      // The API server itself is what this check judges: a connection that fails is CRITICAL here, not UNKNOWN.
      if (e instanceof KubeApiError && e.status === undefined && !ANSWERED_BADLY.has(e.reason ?? '')) return { server, unreachable: e.message, apiservices: [] } satisfies ApiserverData;
      throw healthError(e) ?? e;
    }
    const data: ApiserverData = { server, livez, certificate: livez.certificate, apiservices: [] };
    // Then, on the warm connection, the timed read, and the rest one after the other: four small requests
    // on one connection cost less than three more TLS handshakes in parallel.
    const started = performance.now();
    await kube.list(RESOURCES.nodes, { limit: 1, maxItems: 1, metadataOnly: true });
    data.latency = (performance.now() - started) / 1000;
    const readyz = await kube.getPath('/readyz', { verbose: '' }).catch((e) => { throw healthError(e) ?? e; });
    const version = await kube.getPath('/version').catch((e) => { throw healthError(e) ?? e; });
    const apiservices = await kube.list<APIService>(RESOURCES.apiservices, { project: (a) => ({ metadata: { name: a.metadata?.name }, spec: { service: a.spec?.service }, status: a.status }) });
    data.readyz = readyz;
    data.apiservices = apiservices;
    try { data.version = version.status === 200 ? (JSON.parse(version.body) as { gitVersion?: string }).gitVersion : undefined; } catch { /* not JSON: no version */ }
    return data;
  },

  evaluate(d, o, now) {
    return evaluateApiserver(d, o, now);
  },
});

/** The server answered, but not as an API server would: UNKNOWN with the client's line, not "unreachable". */
const ANSWERED_BADLY = new Set(['Malformed', 'BudgetExceeded']);

/** A 403 on a health endpoint names the nonResourceURLs the ClusterRole must grant. */
function healthError(e: unknown): Error | undefined {
  if (!(e instanceof KubeApiError) || e.status !== 403) return undefined;
  return new KubeApiError(`${e.message} (nonResourceURLs ${NON_RESOURCE_URLS.join(', ')}; the default system:public-info-viewer binding grants them too)`, 403, e.reason, e.target);
}
