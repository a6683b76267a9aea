// The KubeClient itself against the API server double (real HTTPS, real wire
// format): what it accepts as an answer, what it refuses, the byte budget,
// gzip, 429 against the deadline, the server's clock, credential redaction, and the canary's create/delete.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { apiServers, type ApiServer } from '../harness.js';
import { KubeClient } from '../../lib/kube/client.js';
import { RESOURCES, resourcePath } from '../../lib/kube/resources.js';
import { KubeApiError } from '../../lib/kube/errors.js';
import { connect } from '../../lib/kube/kubeconfig.js';
import { PluginError } from '../../lib/plugin/errors.js';
import { sanitize } from '../../lib/plugin/sanitize.js';
import type { Pod } from '../../lib/kube/types.js';

const start = apiServers();
const T = 60_000;

async function client(s: ApiServer, kind: Parameters<ApiServer['kubeconfigFor']>[0] = 'cert', limits: ConstructorParameters<typeof KubeClient>[4] = {}, file?: string) {
  const conn = await connect(file ?? s.kubeconfigFor(kind), undefined, {});
  return new KubeClient(conn, new AbortController().signal, () => {}, 500, limits);
}

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure');
}

const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'kube-scheduler', namespace: 'kube-system' }, spec: { holderIdentity: 'k8s01_x' } };
const pod = (name: string, node = 'k8s01') => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns' }, spec: { nodeName: node }, status: { phase: 'Running' } });

describe('2xx bodies are validated before anything is judged', () => {
  const failure200 = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'etcdserver: request timed out', reason: 'Timeout', code: 504 };
  it.each([
    ['null', null, /sent null for get leases\.coordination\.k8s\.io/],
    ['{}', {}, /sent an object without kind or metadata for get leases/],
    ['a string', 'ok', /sent a string for get leases/],
    ['an array', [lease], /sent an array for get leases/],
    ['another kind', { kind: 'Namespace', metadata: { name: 'kube-system' } }, /sent a Namespace instead of a Lease/],
    ['a Failure Status with 200', failure200, /API server error 504 Timeout on get leases\.coordination\.k8s\.io kube-scheduler in namespace kube-system: etcdserver: request timed out/],
  ])('get answered with %s is an error', async (_, body, line) => {
    const s = await start({ objects: [lease] }, { rules: [{ path: '/leases/kube-scheduler$', body }] });
    const c = await client(s);
    const e = await failure(c.getOptional(RESOURCES.leases, 'kube-scheduler', 'kube-system'));
    expect(e).toBeInstanceOf(KubeApiError);
    expect(e.message).toMatch(line);
    c.close();
  }, T);

  it.each([
    ['null', null, /sent null for list pods/],
    ['{}', {}, /sent a list without items for list pods/],
    ['a string', 'ok', /sent a string for list pods/],
    ['an array', [pod('a')], /sent an array for list pods/],
    ['a single object', pod('a'), /sent a list without items for list pods/],
    ['items that are not objects', { kind: 'PodList', metadata: {}, items: [1, 2] }, /could not read the response to list pods at cluster scope .*: TypeError: a list item that is a number/],
    ['a Failure Status with 200', { kind: 'Status', status: 'Failure', message: 'boom', code: 500 }, /API server error 500 on list pods at cluster scope: boom/],
  ])('list answered with %s is an error', async (_, body, line) => {
    const s = await start({ objects: [pod('a')] }, { rules: [{ path: '^/api/v1/pods$', body }] });
    const c = await client(s);
    const e = await failure(c.list(RESOURCES.pods));
    expect(e).toBeInstanceOf(KubeApiError);
    expect(e.message).toMatch(line);
    c.close();
  }, T);

  it('an empty metadata-only list comes as "items": null (as from kube-apiserver) and is an empty list', async () => {
    const s = await start({ objects: [pod('a', 'k8s01')] });
    const c = await client(s);
    expect(await c.list(RESOURCES.pods, { metadataOnly: true, fieldSelector: [['spec.nodeName', '=', 'k8s09']] })).toEqual([]);
    expect(await c.list(RESOURCES.pods, { metadataOnly: true, fieldSelector: [['spec.nodeName', '=', 'k8s01']] })).toHaveLength(1);
    c.close();
  }, T);

  it('an exception in a check\'s project function is a KubeApiError, not a crash', async () => {
    const s = await start({ objects: [pod('a')] });
    const c = await client(s);
    const e = await failure(c.list(RESOURCES.pods, { project: () => { throw new RangeError('bad item'); } }));
    expect(e).toBeInstanceOf(KubeApiError);
    expect(e.message).toMatch(/could not read the response to list pods at cluster scope from API server https:\/\/127\.0\.0\.1:\d+: RangeError: bad item/);
    c.close();
  }, T);
});

describe('bounded whatever the server sends', () => {
  it('a list that ignores limit= stops at the byte budget, received or decompressed', async () => {
    const s = await start({ objects: [] }, { rules: [{ path: '^/api/v1/pods$', flood: 64 * 1024 * 1024 }] });
    for (const gzip of [false, true]) {
      const c = await client(s, 'cert', { budget: { decodedBytes: 4 * 1024 * 1024 }, gzip });
      let seen = 0;
      const e = await failure(c.list(RESOURCES.pods, { project: () => { seen++; return undefined; } }));
      expect(e.message).toMatch(new RegExp(`^response budget exceeded: list pods at cluster scope \\(more than 4 MB ${gzip ? 'decompressed' : '(received|decompressed)'} in this run\\): stopped reading`));
      // Items were parsed as they arrived, before the budget ran out.
      expect(seen).toBeGreaterThan(1000);
      expect(c.stats.decodedBytes).toBeLessThan(5 * 1024 * 1024);
      if (gzip) expect(c.stats.bytes).toBeLessThan(c.stats.decodedBytes / 5);
      c.close();
    }
  }, T);

  it('asks for gzip and reads the same items from a compressed page', async () => {
    const objects = Array.from({ length: 1500 }, (_, i) => pod(`p-${i}`));
    const s = await start({ objects });
    const plain = await client(s, 'cert', { gzip: false });
    const zipped = await client(s);
    const a = await plain.list<{ metadata: { name: string } }, string>(RESOURCES.pods, { limit: 2000, project: (p) => p.metadata.name });
    const b = await zipped.list<{ metadata: { name: string } }, string>(RESOURCES.pods, { limit: 2000, project: (p) => p.metadata.name });
    expect(b).toEqual(a);
    expect(a).toHaveLength(1500);
    expect(zipped.stats.bytes).toBeLessThan(plain.stats.bytes / 4);
    expect(zipped.stats.decodedBytes).toBe(plain.stats.bytes);
    plain.close();
    zipped.close();
  }, T);

  it('a 429 whose Retry-After runs past the deadline fails at once, saying the server throttled', async () => {
    const s = await start({ objects: [pod('a')] }, { rules: [{ path: '^/api/v1/pods$', status: 429, retryAfter: 30, times: 1 }] });
    const c = await client(s, 'cert', { deadline: Date.now() + 10_000 });
    const began = Date.now();
    const e = await failure(c.list(RESOURCES.pods));
    expect(e.message).toMatch(/^the API server throttled the request \(429, Retry-After 30s\) to list pods at cluster scope: retrying would run past the check's deadline/);
    expect(Date.now() - began).toBeLessThan(9_000);
    c.close();
  }, T);

  it('a 429 whose Retry-After fits in the deadline is retried', async () => {
    const s = await start({ objects: [pod('a')] }, { rules: [{ path: '^/api/v1/pods$', status: 429, retryAfter: 1, times: 1 }] });
    const c = await client(s, 'cert', { deadline: Date.now() + 20_000 });
    expect(await c.list(RESOURCES.pods)).toHaveLength(1);
    c.close();
  }, T);
});

describe('the API server clock', () => {
  it('estimates the skew from the Date header and reports only what a 1 s header can tell', async () => {
    const ahead = await start({ objects: [lease] }, { rules: [{ path: '.', clockOffsetS: 300 }] });
    const c = await client(ahead);
    expect(c.clockSkewMs).toBeUndefined();
    await c.get(RESOURCES.leases, 'kube-scheduler', 'kube-system');
    expect(Math.abs(c.clockSkewMs! - 300_000)).toBeLessThan(2_000);
    expect(Math.abs(c.serverNow() - (Date.now() + 300_000))).toBeLessThan(2_000);
    c.close();
    const same = await start({ objects: [lease] });
    const d = await client(same);
    await d.get(RESOURCES.leases, 'kube-scheduler', 'kube-system');
    expect(Math.abs(d.clockSkewMs!)).toBeLessThan(2_000);
    expect(d.significantSkewMs).toBe(0);
    d.close();
  }, T);
});

describe('credentials never reach output', () => {
  const echo = { rules: [{ path: '^/api/v1/pods$', echoHeaders: true }] };
  it('bearer token echoed by a proxy in a 500 body is redacted', async () => {
    const s = await start({ objects: [] }, echo);
    const token = fs.readFileSync(path.join(s.dir, 'token'), 'utf8').trim();
    const c = await client(s, 'token');
    const e = await failure(c.list(RESOURCES.pods));
    expect(e.message).toMatch(/API server error 500 InternalError on list pods at cluster scope: upstream error; request was: .*authorization: Bearer \[redacted\]/);
    expect(e.message).not.toContain(token);
    c.close();
  }, T);

  it('basic-auth password (and its base64 form) and client key material are redacted', async () => {
    const s = await start({ objects: [] }, echo);
    // A client certificate authenticates; the basic-auth header rides along, as a proxy would see it.
    const password = 'hunter2-correct-horse';
    const base = fs.readFileSync(s.kubeconfigFor('cert'), 'utf8');
    const file = path.join(s.dir, 'kubeconfig-basic.yaml');
    fs.writeFileSync(file, base.replace('  user:\n', `  user:\n    username: nagios\n    password: ${password}\n`));
    const c = await client(s, 'cert', {}, file);
    const e = await failure(c.list(RESOURCES.pods));
    const basic = Buffer.from(`nagios:${password}`).toString('base64');
    expect(e.message).toMatch(/authorization: Basic \[redacted\]/);
    expect(e.message).not.toContain(basic);
    // The key itself is never sent; whatever text holds it is still cleaned.
    const key = /client-key-data: (\S+)/.exec(base)![1]!;
    const pem = Buffer.from(key, 'base64').toString('utf8');
    const body = pem.split('\n')[1]!;
    expect(sanitize(`server said ${password} and ${key} and ${body}`, 10_000)).toBe('server said [redacted] and [redacted] and [redacted]');
    c.close();
  }, T);
});

describe('names and selector values cannot redirect a request', () => {
  it.each(['..', '.', '', 'a/b', 'k8s02,status.phase!=Running', 'a%2fb', 'x'.repeat(254)])('refuses the name %j', (name) => {
    expect(() => resourcePath(RESOURCES.services, 'kube-system', name)).toThrow(PluginError);
  });

  it('refuses a namespace that is not a DNS label, and selector values that add terms', async () => {
    expect(() => resourcePath(RESOURCES.services, '..', 'x')).toThrow(/refusing to request namespace '\.\.'/);
    expect(resourcePath(RESOURCES.nodes, undefined, 'k8s01.example')).toBe('/api/v1/nodes/k8s01.example');
    const s = await start({ objects: [pod('a')] });
    const c = await client(s);
    await expect(c.list(RESOURCES.pods, { fieldSelector: [['spec.nodeName', '=', 'k8s02,status.phase!=Running']] }))
      .rejects.toThrow(/refusing field selector spec\.nodeName='k8s02,status\.phase!=Running'/);
    await expect(c.get(RESOURCES.nodes, '..')).rejects.toThrow(/refusing to request nodes name '\.\.'/);
    // getOptional: no object can have that name, so there is none, and nothing is asked.
    const before = s.requests().length;
    expect(await c.getOptional(RESOURCES.nodes, '..')).toBeUndefined();
    expect(s.requests()).toHaveLength(before);
    c.close();
  }, T);
});

// The client's only writes, the canary's create and delete, against the double's PodLifecycle: what goes
// on the wire, what a bad name or a bad answer does, and that a failure never carries the credentials.
const NS = 'k8s-nrpe-canary';
const lifecycle = { apiVersion: 'k8s-nrpe.test/v1', kind: 'PodLifecycle', metadata: { name: 'canary' }, spec: { namespaces: [NS], fault: 'unbound' } };
const manifest = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS }, spec: { containers: [{ name: 'c', image: 'pause' }] } });

describe('create and delete, the canary\'s only writes', () => {
  it('POSTs the object and returns what the server made; a second create is 409; delete by uid', async () => {
    const s = await start({ objects: [lifecycle] });
    const c = await client(s);
    const made = await c.create<Pod>(RESOURCES.pods, NS, manifest('canary-a'));
    expect(made.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    const again = await failure(c.create(RESOURCES.pods, NS, manifest('canary-a')));
    expect(again).toBeInstanceOf(KubeApiError);
    expect((again as KubeApiError).status).toBe(409);
    expect(again.message).toMatch(/API server error 409 AlreadyExists on create pods canary-a in namespace k8s-nrpe-canary: pods "canary-a" already exists/);
    // Another uid: the precondition keeps the object.
    const wrong = await failure(c.delete(RESOURCES.pods, 'canary-a', NS, { preconditions: { uid: '00000000-0000-4000-8000-000000000000' } }));
    expect((wrong as KubeApiError).status).toBe(409);
    await c.delete(RESOURCES.pods, 'canary-a', NS, { gracePeriodSeconds: 1, preconditions: { uid: made.metadata!.uid! } });
    expect(await c.getOptional(RESOURCES.pods, 'canary-a', NS)).toBeUndefined();
    const gone = await failure(c.delete(RESOURCES.pods, 'canary-a', NS));
    expect((gone as KubeApiError).status).toBe(404);
    const writes = () => s.requests().filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path} ${r.status}`);
    // The double appends to its log as it answers: the last line may land a moment after the answer.
    await vi.waitFor(() => expect(writes()).toHaveLength(5), { timeout: 10_000, interval: 50 });
    expect(writes()).toEqual([
      `POST /api/v1/namespaces/${NS}/pods 201`, `POST /api/v1/namespaces/${NS}/pods 409`,
      `DELETE /api/v1/namespaces/${NS}/pods/canary-a 409`, `DELETE /api/v1/namespaces/${NS}/pods/canary-a 200`, `DELETE /api/v1/namespaces/${NS}/pods/canary-a 404`,
    ]);
    c.close();
  }, T);

  it('refuses names that are not names before any request', async () => {
    const s = await start({ objects: [lifecycle] });
    const c = await client(s);
    expect(await failure(c.create(RESOURCES.pods, NS, manifest('../../nodes/k8s01')))).toBeInstanceOf(PluginError);
    expect(await failure(c.create(RESOURCES.pods, 'Not_A_Namespace', manifest('ok')))).toBeInstanceOf(PluginError);
    expect(await failure(c.delete(RESOURCES.pods, 'a/b', NS))).toBeInstanceOf(PluginError);
    expect(s.requests()).toEqual([]);
    c.close();
  }, T);

  it('a forbidden write names the canary Role; an answer that is not a Pod is refused; no token in any message', async () => {
    const s = await start({ objects: [{ ...lifecycle, spec: { namespaces: ['elsewhere'] } }] }, {
      rules: [{ path: `^/api/v1/namespaces/${NS}/pods/echo$`, method: 'DELETE', echoHeaders: true }],
    });
    const c = await client(s, 'token');
    const forbidden = await failure(c.create(RESOURCES.pods, NS, manifest('x')));
    expect(forbidden.message).toMatch(/forbidden to create pods x in namespace k8s-nrpe-canary \(.*cannot create resource "pods".*\): grant it with the Role in deploy\/rbac-canary\.yaml/);
    const echoed = await failure(c.delete(RESOURCES.pods, 'echo', NS));
    const token = (await import('node:fs')).readFileSync(`${s.dir}/token`, 'utf8').trim();
    expect(echoed.message).toMatch(/API server error 500/);
    expect(echoed.message).not.toContain(token);
    c.close();
    const odd = await start({ objects: [lifecycle] }, { rules: [{ path: `^/api/v1/namespaces/${NS}/pods$`, method: 'POST', body: { kind: 'Status', status: 'Success' }, status: 201 }] });
    const c2 = await client(odd);
    expect((await failure(c2.create(RESOURCES.pods, NS, manifest('y')))).message).toMatch(/sent a Status instead of a Pod for create pods/);
    c2.close();
  }, T);
});
