// One response budget per run (lib/kube/response.ts): responses read at the
// same time add up, and each way of running out is one KubeApiError naming
// the request. The responses are in-memory streams fed chunk by chunk, so
// the interleaving of "parallel" requests is fixed, not left to a race.
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { KubeApiError, type RequestTarget } from '../../lib/kube/errors.js';
import { MAX_JSON_DEPTH } from '../../lib/kube/list-stream.js';
import { readResponse, ResponseBudget, type Answer } from '../../lib/kube/response.js';

const MiB = 1024 * 1024;

/** A response whose body arrives by push(); end() completes it. */
function response(): { res: IncomingMessage; push(s: string | Buffer): void; end(): void } {
  const s = new PassThrough() as unknown as IncomingMessage & PassThrough;
  Object.assign(s, { statusCode: 200, headers: {}, complete: false });
  return { res: s, push: (c) => s.write(c), end: () => { (s as { complete: boolean }).complete = true; s.end(); } };
}

function read(res: IncomingMessage, budget: ResponseBudget, target: RequestTarget, onItem?: (i: unknown) => void) {
  return new Promise<Answer>((resolve, reject) => readResponse(res, { target, server: 'https://127.0.0.1:6443', signal: new AbortController().signal, budget,
    stats: { bytes: 0, decodedBytes: 0 }, onItem }, reject, resolve));
}

const lease = (name: string): RequestTarget => ({ verb: 'get', resource: 'leases.coordination.k8s.io', namespace: 'kube-system', name });
const settle = () => new Promise((r) => setImmediate(r));

describe('one budget for the whole run', () => {
  it('two bodies that each fit add up: the one that crosses the line fails, naming its request', async () => {
    const budget = new ResponseBudget({ decodedBytes: 100 * MiB, heldBytes: 8 * MiB, items: 1000, kept: 1000 });
    const a = response();
    const b = response();
    const ra = read(a.res, budget, lease('a'));
    const rb = read(b.res, budget, lease('b'));
    rb.catch(() => {}); // rejected while a is still being read; asserted below
    const half = '{"kind":"Lease","metadata":{"name":"x","annotations":{"pad":"' + 'p'.repeat(5 * MiB);
    a.push(half);
    await settle();
    b.push(half);
    await settle();
    await expect(rb).rejects.toThrow(/^response budget exceeded: get leases\.coordination\.k8s\.io b in namespace kube-system \(more than 8 MB to hold at once in this run\)/);
    a.push('"}}}');
    a.end();
    expect((await ra).body).toMatchObject({ kind: 'Lease' });
    // Both gave back what they held: the next body of 5 MB fits again.
    expect(budget.held).toBe(0);
    const c = response();
    const rc = read(c.res, budget, lease('c'));
    c.push(half + '"}}}');
    c.end();
    expect((await rc).body).toMatchObject({ kind: 'Lease' });
  });

  it('list items count over every list of the run', async () => {
    const budget = new ResponseBudget({ decodedBytes: 100 * MiB, heldBytes: 8 * MiB, items: 1500, kept: 1500 });
    const list = (n: number) => `{"kind":"PodList","metadata":{},"items":[${Array.from({ length: n }, (_, i) => `{"metadata":{"name":"p${i}"}}`).join(',')}]}`;
    const first = response();
    const r1 = read(first.res, budget, { verb: 'list', resource: 'pods' }, () => {});
    first.push(list(1000));
    first.end();
    await r1;
    const second = response();
    const r2 = read(second.res, budget, { verb: 'list', resource: 'jobs.batch', namespace: 'ns' }, () => {});
    second.push(list(1000));
    second.end();
    const e = await r2.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KubeApiError);
    expect((e as KubeApiError).message).toMatch(/^response budget exceeded: list jobs\.batch in namespace ns \(more than 1500 list items parsed in this run\)/);
    expect((e as KubeApiError).reason).toBe('BudgetExceeded');
  });

  it('decompressed bytes count over the run, read or streamed', async () => {
    const budget = new ResponseBudget({ decodedBytes: 3 * MiB, heldBytes: 8 * MiB, items: 1000, kept: 1000 });
    const body = `{"kind":"Lease","metadata":{"name":"x","annotations":{"pad":"${'p'.repeat(2 * MiB)}"}}}`;
    const one = response();
    const r1 = read(one.res, budget, lease('one'));
    one.push(body);
    one.end();
    await r1;
    const two = response();
    const r2 = read(two.res, budget, lease('two'));
    two.push(body);
    two.end();
    await expect(r2).rejects.toThrow(/\(more than 3 MB (received|decompressed) in this run\)/);
  });

  it('JSON nested deeper than MAX_JSON_DEPTH is malformed, in an object and in a list item', async () => {
    const deep = `${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`;
    const get = response();
    const r1 = read(get.res, new ResponseBudget(), lease('deep'));
    get.push(`{"kind":"Lease","metadata":{"name":"d"},"spec":{"x":${deep}}}`);
    get.end();
    await expect(r1).rejects.toThrow(`sent JSON nested more than ${MAX_JSON_DEPTH} deep for get leases.coordination.k8s.io`);
    const list = response();
    const r2 = read(list.res, new ResponseBudget(), { verb: 'list', resource: 'pods' }, () => {});
    list.push(`{"kind":"PodList","items":[{"spec":${deep}}]}`);
    list.end();
    await expect(r2).rejects.toThrow(`sent JSON nested more than ${MAX_JSON_DEPTH} deep for list pods`);
    // At the limit it is read.
    const ok = response();
    const r3 = read(ok.res, new ResponseBudget(), lease('ok'));
    ok.push(`{"kind":"Lease","x":${'['.repeat(MAX_JSON_DEPTH - 1)}${']'.repeat(MAX_JSON_DEPTH - 1)}}`);
    ok.end();
    expect((await r3).body).toMatchObject({ kind: 'Lease' });
  });
});
