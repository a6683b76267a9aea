// The API server double: a real HTTPS server on 127.0.0.1 that answers the
// read-only part of the Kubernetes API the way kube-apiserver does (paths,
// list kinds, Status errors, field/label selectors, limit/continue, client
// certificates and bearer tokens), from a scenario file, with faults on
// demand. Started by test/harness.ts and scripts/demo.mjs; prints one JSON
// line {port, pid, url} when it listens; stops on SIGTERM.
//
//   node dist/test/apiserver.mjs --scenario FILE|DIR --dir DIR [--faults FILE] [--port N] [--host 127.0.0.1] [--prefix /PATH] [--dns IP]
//
// --dns also plays the cluster's DNS: UDP port 53 on IP (the kube-dns Service's
// ClusterIP, put on lo of a network namespace of the test's own) answers
// NAME.NAMESPACE.svc.cluster.local with each scenario Service's ClusterIP, so a
// check's lookup through the Service IP is answered and never leaves the namespace.
//
// --prefix serves the API below a path, as Rancher (/k8s/clusters/ID) or a
// path-routing proxy does: the kubeconfigs' server URL carries it, and a request
// outside it is a 404 (recorded with its full path).
import fs from 'node:fs';
import https from 'node:https';
import zlib from 'node:zlib';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import path from 'node:path';
import { ensureCerts, writeKubeconfigs } from './certs.js';
import { fieldSelector, labelSelector, SelectorError } from './selectors.js';
import { readScenario, renderNow, Store, typeKey, type ResourceType } from './store.js';
import { PodLifecycle } from './lifecycle.js';
import { startDnsResponder } from '../dns-responder.js';

type Obj = Record<string, any>;

interface FaultRule {
  path: string;
  query?: string;
  /** Only requests with a method matching this regex (GET, POST, DELETE); default all. */
  method?: string;
  forbid?: boolean;
  unauthorized?: boolean;
  status?: number;
  reason?: string;
  message?: string;
  retryAfter?: number;
  hang?: boolean;
  delayMs?: number;
  truncate?: boolean;
  drop?: boolean;
  malformed?: boolean;
  expireContinue?: boolean;
  times?: number;
  /** 500 whose Status message echoes the request headers, as some proxies do (credentials included). */
  echoHeaders?: boolean;
  /** Answer with exactly this JSON value (null, {}, "text", [], a Status...) and `status` (default 200). */
  body?: unknown;
  /** A list that ignores limit=: this many bytes of pods, streamed (gzip'd when asked). */
  flood?: number;
  /** Send a Date header this many seconds off the real clock (then answer normally). */
  clockOffsetS?: number;
  /**
   * Hold each matching request until, for every pattern here, a held request's path and decoded
   * query match it; then answer them all normally (and later ones at once). Proves requests were
   * in flight at the same time without a clock: made one after another, the first waits for ever.
   */
  together?: string[];
}

/** Requests held by a `together` rule, per rule. */
const held = new WeakMap<object, { text: string; release: () => void }[]>();
const met = new WeakSet<object>();

function meet(rule: FaultRule, text: string): Promise<void> {
  if (met.has(rule)) return Promise.resolve();
  return new Promise((release) => {
    const waiting = held.get(rule) ?? [];
    held.set(rule, waiting);
    waiting.push({ text, release });
    const patterns = rule.together!.map((p) => new RegExp(p));
    if (patterns.every((p) => waiting.some((w) => p.test(w.text)))) {
      met.add(rule);
      for (const w of waiting.splice(0)) w.release();
    }
  });
}

function args(): Record<string, string> {
  const out: Record<string, string> = {};
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i += 2) out[a[i]!.replace(/^--/, '')] = a[i + 1] ?? '';
  return out;
}

const opts = args();
if (!opts.scenario || !opts.dir) {
  process.stderr.write('usage: apiserver --scenario FILE|DIR --dir DIR [--faults FILE] [--port N]\n');
  process.exit(2);
}
const dir = opts.dir;
const store = new Store(readScenario(opts.scenario));
const rules: (FaultRule & { re: RegExp; qre?: RegExp; mre?: RegExp; used: number })[] = opts.faults
  ? (JSON.parse(fs.readFileSync(opts.faults, 'utf8')).rules as FaultRule[]).map((r) => ({
      ...r, re: new RegExp(r.path), qre: r.query ? new RegExp(r.query) : undefined, mre: r.method ? new RegExp(`^(?:${r.method})$`) : undefined, used: 0,
    }))
  : [];
ensureCerts(dir);
const token = fs.readFileSync(path.join(dir, 'token'), 'utf8').trim();
const requestLog = path.join(dir, 'requests.jsonl');

const REASONS: Record<number, string> = {
  400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed', 406: 'NotAcceptable',
  409: 'Conflict', 410: 'Expired', 422: 'Invalid', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout',
};

function status(code: number, message: string, reason = REASONS[code] ?? 'Unknown', details?: Obj): Obj {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details && { details }), code };
}

interface Route {
  type?: ResourceType;
  group: string;
  version: string;
  plural: string;
  namespace?: string;
  name?: string;
  extra?: string;
}

/** /api/v1/namespaces/NS/pods/NAME, /apis/G/V/nodes, ... -> parts. */
function route(p: string): Route | undefined {
  const segs = p.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string, version: string, rest: string[];
  if (segs[0] === 'api' && segs.length >= 3) { group = ''; version = segs[1]!; rest = segs.slice(2); }
  else if (segs[0] === 'apis' && segs.length >= 4) { group = segs[1]!; version = segs[2]!; rest = segs.slice(3); }
  else return undefined;
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) { namespace = rest[1]; rest = rest.slice(2); }
  const [plural, name, ...extra] = rest;
  return { type: store.types.get(typeKey(group, version, plural!)), group, version, plural: plural!, namespace, name, extra: extra.join('/') || undefined };
}

interface Caller { user?: string; error?: string }

function authenticate(req: IncomingMessage): Caller {
  const sock = req.socket as TLSSocket;
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) {
    return auth.slice(7) === token ? { user: 'system:serviceaccount:kube-system:k8s-nrpe' } : { error: 'bad token' };
  }
  const peer = sock.getPeerCertificate?.();
  if (peer && Object.keys(peer).length) {
    if (sock.authorized) return { user: String(peer.subject?.CN ?? 'unknown') };
    return { error: String(sock.authorizationError) };
  }
  return { error: 'no credentials' };
}

/** Real continue tokens are opaque base64 JSON; so is ours. */
const encodeContinue = (rv: number, after: string) => Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: `${after}\u0000` })).toString('base64');
function decodeContinue(c: string): { rv: number; start: string } | undefined {
  try {
    const o = JSON.parse(Buffer.from(c, 'base64').toString('utf8')) as { rv: number; start: string };
    return typeof o.start === 'string' ? { rv: o.rv, start: o.start.replace(/\u0000$/, '') } : undefined;
  } catch {
    return undefined;
  }
}

const objKey = (o: Obj) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

function stripForList(o: Obj): Obj {
  const { kind: _k, apiVersion: _a, ...rest } = o;
  return rest;
}

function partial(o: Obj): Obj {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
}

// A query's matches are computed once until the store changes (only pod
// writes change it): paging through 100,000 objects costs one filter, not one per page.
const matches = new Map<string, Obj[]>();
store.onChange = () => matches.clear();

function selectItems(r: Route, q: URLSearchParams): Obj[] {
  const t = r.type!;
  const memo = [typeKey(t.group, t.version, t.plural), r.namespace ?? '', q.get('fieldSelector') ?? '', q.get('labelSelector') ?? ''].join('\u0000');
  let items = matches.get(memo);
  if (!items) {
    const fm = fieldSelector(q.get('fieldSelector') ?? undefined, t.plural);
    const lm = labelSelector(q.get('labelSelector') ?? undefined);
    items = store.list(t).filter((o) => (!r.namespace || o.metadata?.namespace === r.namespace) && fm(o) && lm(o));
    matches.set(memo, items);
  }
  return items;
}

/** Index of the first item after `start` in a list sorted by namespace/name. */
function after(items: Obj[], start: string): number {
  let lo = 0, hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (objKey(items[mid]!) > start) hi = mid; else lo = mid + 1;
  }
  return lo;
}

function serveList(r: Route, q: URLSearchParams, accept: string): [number, Obj] {
  const t = r.type!;
  let items: Obj[];
  try {
    items = selectItems(r, q);
  } catch (e) {
    if (e instanceof SelectorError) return [400, status(400, e.message)];
    throw e;
  }
  const cont = q.get('continue');
  if (cont) {
    const c = decodeContinue(cont);
    if (!c) return [400, status(400, 'continue key is not valid: illegal base64 data at input byte 0')];
    items = items.slice(after(items, c.start));
  }
  const limit = Number(q.get('limit') ?? 0);
  const metadata: Obj = { resourceVersion: String(store.resourceVersion) };
  if (limit > 0 && items.length > limit) {
    metadata.continue = encodeContinue(store.resourceVersion, objKey(items[limit - 1]!));
    metadata.remainingItemCount = items.length - limit;
    items = items.slice(0, limit);
  }
  if (/as=PartialObjectMetadataList/.test(accept)) {
    // An empty PartialObjectMetadataList comes as "items": null from a real kube-apiserver: its Items
    // slice stays nil and has no omitempty (k8s.io/apimachinery/pkg/apis/meta/v1/types.go).
    return [200, { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata, items: items.length ? items.map(partial) : null }];
  }
  return [200, { kind: `${t.kind}List`, apiVersion: t.group ? `${t.group}/${t.version}` : t.version, metadata, items: items.map(stripForList) }];
}

function serveGet(r: Route): [number, Obj] {
  const t = r.type!;
  const o = store.list(t).find((x) => x.metadata?.name === r.name && (!t.namespaced || x.metadata?.namespace === r.namespace));
  if (!o) {
    const gr = t.group ? `${t.plural}.${t.group}` : t.plural;
    return [404, status(404, `${gr} "${r.name}" not found`, 'NotFound', { name: r.name, ...(t.group && { group: t.group }), kind: t.plural })];
  }
  return [200, o];
}

// /livez and /readyz as k8s.io/apiserver/pkg/server/healthz handleRootHealth writes them: "ok", or with
// ?verbose one "[+]name ok" line per check and "<endpoint> check passed"; a failing check makes the answer
// verbose and 500 ("[-]etcd failed: reason withheld" ... "readyz check failed"). The checks are kube-apiserver
// 1.32's (abridged); a scenario fails some with objects of kind HealthCheckFailure (apiVersion k8s-nrpe.test/v1,
// metadata.name = the check, spec.endpoints = ['livez', 'readyz']).
const LIVEZ_CHECKS = [
  'ping', 'log', 'etcd', 'poststarthook/start-apiserver-admission-initializer', 'poststarthook/generic-apiserver-start-informers',
  'poststarthook/priority-and-fairness-config-consumer', 'poststarthook/priority-and-fairness-filter', 'poststarthook/start-apiextensions-informers',
  'poststarthook/start-apiextensions-controllers', 'poststarthook/crd-informer-synced', 'poststarthook/rbac/bootstrap-roles',
  'poststarthook/start-kube-aggregator-informers', 'poststarthook/apiservice-registration-controller', 'poststarthook/apiservice-status-available-controller',
  'poststarthook/kube-apiserver-autoregistration', 'autoregister-completion', 'poststarthook/apiservice-openapi-controller',
];
const READYZ_CHECKS = [...LIVEZ_CHECKS.slice(0, 3), 'etcd-readiness', 'informer-sync', ...LIVEZ_CHECKS.slice(3), 'shutdown'];

function health(endpoint: 'livez' | 'readyz', q: URLSearchParams): [number, string] {
  const failing = new Set(store.list({ group: 'k8s-nrpe.test', version: 'v1', plural: 'healthcheckfailures', kind: 'HealthCheckFailure', namespaced: false })
    .filter((o) => (o.spec?.endpoints ?? ['livez', 'readyz']).includes(endpoint)).map((o) => String(o.metadata?.name)));
  const lines = (endpoint === 'livez' ? LIVEZ_CHECKS : READYZ_CHECKS).map((c) => (failing.has(c) ? `[-]${c} failed: reason withheld` : `[+]${c} ok`));
  if (failing.size) return [500, `${lines.join('\n')}\n${endpoint} check failed\n`];
  return [200, q.has('verbose') ? `${lines.join('\n')}\n${endpoint} check passed\n` : 'ok'];
}

/**
 * The kubelet's /stats/summary through the API server's node proxy
 * (/api/v1/nodes/NODE/proxy/stats/summary). A scenario holds one per node as
 * {kind: StatsSummary, metadata: {name: NODE}, summary: {...}}; a node without
 * one answers as an unreachable kubelet does through the proxy.
 */
function serveStatsSummary(r: Route): [number, Obj | string] {
  const node = store.list(r.type!).find((x) => x.metadata?.name === r.name);
  if (!node) return serveGet(r);
  const t = [...store.types.values()].find((x) => x.kind === 'StatsSummary');
  const summary = t && store.list(t).find((x) => x.metadata?.name === r.name);
  if (summary) return [200, summary.summary];
  const ip = (node.status?.addresses ?? []).find((a: Obj) => a.type === 'InternalIP')?.address ?? '127.0.0.1';
  return [503, status(503, `error trying to reach service: dial tcp ${ip}:10250: connect: connection refused`, 'ServiceUnavailable')];
}

function forbidden(r: Route | undefined, verb: string, user: string, path = ''): Obj {
  // A non-resource URL (/livez, /readyz): the authorizer names the path.
  if (!r) return status(403, `forbidden: User "${user}" cannot get path "${path}"`, 'Forbidden', {});
  const plural = r?.plural ?? 'unknown';
  const scope = r?.namespace ? `in the namespace "${r.namespace}"` : 'at the cluster scope';
  const msg = `${r?.group ? `${plural}.${r.group}` : plural}${r?.name ? ` "${r.name}"` : ''} is forbidden: User "${user}" cannot ${verb} resource "${plural}" in API group "${r?.group ?? ''}" ${scope}`;
  return status(403, msg, 'Forbidden', { ...(r?.name && { name: r.name }), ...(r?.group && { group: r.group }), kind: plural });
}

/**
 * kube-apiserver compresses a response when the client accepts gzip and the
 * body is over 128 KiB (APIResponseCompression, defaultGzipThresholdBytes in
 * k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/writers.go).
 */
const GZIP_THRESHOLD = 128 * 1024;
const acceptsGzip = (res: ServerResponse) => /\bgzip\b/.test(String(res.req?.headers['accept-encoding'] ?? ''));

/** Bytes of the body as served, before any compression (compressed size in wireBytes of the request log). */
/**
 * Writes an answer. `logged` (the request log's line) runs before the last byte is sent: a client
 * that has its answer finds its request in the log (a line written after res.end() raced a fast client).
 */
function answer(res: ServerResponse, code: number, body: Obj | string, headers: Record<string, string> = {}, json = typeof body !== 'string', logged?: (bytes: number) => void): number {
  const text = json ? renderNow(JSON.stringify(body)) : (body as string);
  const plain = Buffer.from(text);
  let data = plain;
  const extra: Record<string, string> = {};
  if (data.length > GZIP_THRESHOLD && acceptsGzip(res)) {
    data = zlib.gzipSync(data, { level: 1 }); // defaultGzipContentEncodingLevel = 1 (same file)
    extra['Content-Encoding'] = 'gzip';
  }
  if (res.req) wire.set(res.req, data.length);
  logged?.(plain.length);
  res.writeHead(code, { 'Content-Type': json ? 'application/json' : 'text/plain; charset=utf-8', 'Content-Length': data.length, ...extra, ...headers });
  res.end(data);
  return plain.length;
}

/** What each answer cost on the wire (gzip'd or not), for the request log. */
const wire = new WeakMap<IncomingMessage, number>();

/** A PodList of about `bytes` bytes that ignores limit=, written as it is made (gzip'd as a stream when asked). */
function flood(res: ServerResponse, bytes: number): Promise<number> {
  const gzip = acceptsGzip(res);
  res.writeHead(200, { 'Content-Type': 'application/json', ...(gzip && { 'Content-Encoding': 'gzip' }) });
  const out: NodeJS.WritableStream = gzip ? zlib.createGzip({ level: 1 }) : res;
  if (gzip) (out as zlib.Gzip).pipe(res);
  let sent = 0;
  let i = 0;
  const pad = 'x'.repeat(900);
  return new Promise((resolve) => {
    res.on('close', () => resolve(sent));
    const write = () => {
      let ok = true;
      if (sent === 0) { const head = '{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":['; sent += head.length; ok = out.write(head); }
      while (ok && sent < bytes) {
        const item = `${i ? ',' : ''}{"metadata":{"name":"flood-${i}","namespace":"flood","annotations":{"pad":"${pad}"}},"spec":{"nodeName":"k8s01"},"status":{"phase":"Running"}}`;
        i++;
        sent += item.length;
        ok = out.write(item);
      }
      if (sent >= bytes) { out.end(']}'); return; }
      out.once('drain', write);
    };
    write();
  });
}

function record(req: IncomingMessage, url: URL, code: number, bytes: number, user?: string): void {
  const wireBytes = wire.get(req);
  const entry = { method: req.method, path: url.pathname, ...(fullPaths.has(req) && { fullPath: fullPaths.get(req) }), query: Object.fromEntries(url.searchParams), status: code, bytes, ...(wireBytes !== undefined && wireBytes !== bytes && { wireBytes }), user, at: arrivals.get(req) };
  fs.appendFileSync(requestLog, JSON.stringify(entry) + '\n');
}

// The path as sent, when --prefix is set (path is then the part below the prefix).
const fullPaths = new WeakMap<IncomingMessage, string>();
// When each request arrived (epoch ms), for tests that ask whether requests were concurrent.
const arrivals = new WeakMap<IncomingMessage, number>();

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  arrivals.set(req, Date.now());
  const url = new URL(req.url ?? '/', 'https://127.0.0.1');
  if (prefix) {
    fullPaths.set(req, url.pathname);
    if (!url.pathname.startsWith(`${prefix}/`)) {
      answer(res, 404, status(404, `not below ${prefix}`, 'NotFound', {}), {}, undefined, (bytes) => record(req, url, 404, bytes));
      return;
    }
    url.pathname = url.pathname.slice(prefix.length);
  }
  const caller = authenticate(req);
  const r = route(url.pathname);
  const verb = req.method === 'POST' ? 'create' : req.method === 'DELETE' ? 'delete' : r?.name ? 'get' : 'list';

  const rule = rules.find((x) => x.re.test(url.pathname) && (!x.qre || x.qre.test(url.search)) && (!x.mre || x.mre.test(req.method ?? 'GET')) &&
    (x.times === undefined || x.used < x.times));
  if (caller.user && rule && !(rule.expireContinue && !url.searchParams.get('continue'))) {
    rule.used++;
    if (rule.hang) { record(req, url, 0, 0, caller.user); return; } // hold the socket open, never answer
    if (rule.drop) { record(req, url, 0, 0, caller.user); req.socket.destroy(); return; }
    if (rule.delayMs) await new Promise((ok) => setTimeout(ok, rule.delayMs));
    if (rule.together) await meet(rule, `${url.pathname}${decodeURIComponent(url.search)}`);
    if (rule.clockOffsetS !== undefined) res.setHeader('Date', new Date(Date.now() + rule.clockOffsetS * 1000).toUTCString());
    if (rule.flood) { record(req, url, 200, await flood(res, rule.flood), caller.user); return; }
    if ('body' in rule) {
      answer(res, rule.status ?? 200, rule.body as Obj, {}, true, (bytes) => record(req, url, rule.status ?? 200, bytes, caller.user));
      return;
    }
    if (rule.truncate) {
      const full = renderNow(JSON.stringify(r?.type ? serveList(r, url.searchParams, '')[1] : {}));
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(full) + 1000 });
      res.write(full.slice(0, Math.floor(full.length / 2)));
      record(req, url, 200, Math.floor(full.length / 2), caller.user);
      setTimeout(() => req.socket.destroy(), 50);
      return;
    }
    let code: number | undefined;
    let body: Obj | string | undefined;
    const headers: Record<string, string> = {};
    if (rule.malformed) { code = rule.status ?? 200; body = '<html><body>502 Bad Gateway</body></html>'; }
    else if (rule.echoHeaders) {
      code = 500;
      body = status(500, `upstream error; request was: ${Object.entries(req.headers).map(([k, v]) => `${k}: ${String(v)}`).join('; ')}`);
    }
    else if (rule.forbid) { code = 403; body = forbidden(r, verb, caller.user, url.pathname); }
    else if (rule.unauthorized) { code = 401; body = status(401, 'Unauthorized'); }
    else if (rule.expireContinue) {
      code = 410;
      body = status(410, 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.', 'Expired');
    } else if (rule.status) {
      code = rule.status;
      body = status(code, rule.message ?? (code === 429 ? 'Too many requests, please try again later.' : `fault injected on ${url.pathname}`), rule.reason ?? REASONS[code],
        rule.retryAfter !== undefined ? { retryAfterSeconds: rule.retryAfter } : undefined);
      if (rule.retryAfter !== undefined) headers['Retry-After'] = String(rule.retryAfter);
    }
    if (code !== undefined && body !== undefined) {
      answer(res, code, body, headers, undefined, (bytes) => record(req, url, code, bytes, caller.user));
      return;
    }
  }

  let code: number;
  let body: Obj | string;
  if (!caller.user) [code, body] = [401, status(401, 'Unauthorized')];
  else if ((req.method === 'POST' || req.method === 'DELETE') && lifecycle && r?.type?.plural === 'pods' && r.group === '' && !r.extra) {
    [code, body] = await write(req, r, verb, caller.user);
  } else if (req.method !== 'GET') [code, body] = [405, status(405, `the server does not allow this method on the requested resource`)];
  else if (url.pathname === '/version') [code, body] = [200, { major: '1', minor: '32', gitVersion: 'v1.32.3', platform: 'linux/amd64' }];
  else if (url.pathname === '/livez' || url.pathname === '/readyz') [code, body] = health(url.pathname.slice(1) as 'livez' | 'readyz', url.searchParams);
  else if (url.pathname === '/healthz') [code, body] = [200, 'ok'];
  else if (r?.type?.plural === 'nodes' && r.group === '' && r.name && r.extra === 'proxy/stats/summary') [code, body] = serveStatsSummary(r);
  else if (!r?.type || r.extra) [code, body] = [404, status(404, 'the server could not find the requested resource', 'NotFound', {})];
  else if (r.name) [code, body] = serveGet(r);
  else [code, body] = serveList(r, url.searchParams, String(req.headers.accept ?? ''));
  answer(res, code, body, {}, undefined, (bytes) => record(req, url, code, bytes, caller.user));
}

const lifecycle = PodLifecycle.from(store, status);

/** A request body, at most 1 MiB, as JSON (undefined when empty). */
async function readJson(req: IncomingMessage): Promise<Obj | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 1024 * 1024) throw new Error('request body over 1 MiB');
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as Obj) : undefined;
}

/** Pod create and delete, where the scenario's PodLifecycle allows them (elsewhere: what RBAC would say). */
async function write(req: IncomingMessage, r: Route, verb: string, user: string): Promise<[number, Obj]> {
  if (!lifecycle!.writable(r.namespace)) return [403, forbidden(r, verb, user)];
  let body: Obj | undefined;
  try {
    body = await readJson(req);
  } catch (e) {
    return [400, status(400, `the body of the request could not be decoded: ${(e as Error).message}`)];
  }
  if (req.method === 'POST' && !r.name) return lifecycle!.create(r.namespace!, body ?? {});
  if (req.method === 'DELETE' && r.name) return lifecycle!.delete(r.namespace!, r.name, body);
  return [405, status(405, 'the server does not allow this method on the requested resource')];
}

const server = https.createServer(
  {
    key: fs.readFileSync(path.join(dir, 'server.key')),
    cert: fs.readFileSync(path.join(dir, 'server.crt')),
    ca: fs.readFileSync(path.join(dir, 'ca.crt')),
    requestCert: true,
    rejectUnauthorized: false, // judged per request, so an expired certificate gets a 401 like the real thing
  },
  (req, res) => {
    handle(req, res).catch((e: Error) => {
      if (!res.headersSent) answer(res, 500, status(500, `double: ${e.message}`));
    });
  },
);
server.keepAliveTimeout = 30_000;

const host = opts.host || '127.0.0.1';
const prefix = (opts.prefix ?? '').replace(/\/+$/, '');
/** The scenario's Services as cluster DNS names: NAME.NAMESPACE.svc.cluster.local -> ClusterIP. */
function serviceRecords(): Record<string, string[]> {
  const services = [...store.types.values()].find((t) => t.group === '' && t.plural === 'services');
  const out: Record<string, string[]> = {};
  for (const s of services ? store.list(services) : []) {
    const ip = s.spec?.clusterIP;
    if (ip && ip !== 'None') out[`${s.metadata.name}.${s.metadata.namespace}.svc.cluster.local`] = [ip];
  }
  return out;
}
const dns = opts.dns ? startDnsResponder({ records: serviceRecords(), host: opts.dns, port: 53 }) : undefined;

server.listen(Number(opts.port ?? 0), host, async () => {
  // Ready means ready to answer: the DNS socket is bound before the line below is written.
  await dns;
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const url = `https://${host}:${port}${prefix}`;
  writeKubeconfigs(dir, url);
  process.stdout.write(JSON.stringify({ port, pid: process.pid, url }) + '\n');
});

const stop = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
