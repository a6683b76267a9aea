// The client's only writes, the canary's create and delete, against the API
// double's PodLifecycle: what goes on the wire, what a bad name or a bad
// answer does, and that a failure never carries the credentials.
import { describe, expect, it } from 'vitest';
import { apiServers, type ApiServer } from '../harness.js';
import { KubeClient, RESOURCES } from '../../lib/kube/client.js';
import { KubeApiError } from '../../lib/kube/errors.js';
import { connect } from '../../lib/kube/kubeconfig.js';
import { PluginError } from '../../lib/plugin/errors.js';
import type { Pod } from '../../lib/kube/types.js';

const start = apiServers();
const T = 60_000;
const NS = 'k8s-nrpe-canary';
const lifecycle = { apiVersion: 'k8s-nrpe.test/v1', kind: 'PodLifecycle', metadata: { name: 'canary' }, spec: { namespaces: [NS], fault: 'unbound' } };
const manifest = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS }, spec: { containers: [{ name: 'c', image: 'pause' }] } });

async function client(s: ApiServer, kind: Parameters<ApiServer['kubeconfigFor']>[0] = 'cert') {
  const conn = await connect(s.kubeconfigFor(kind), undefined, {});
  return new KubeClient(conn, new AbortController().signal, () => {}, 500, {});
}

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure');
}

describe('create and delete', () => {
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
    const writes = s.requests().filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path} ${r.status}`);
    expect(writes).toEqual([
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
