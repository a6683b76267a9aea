// The incremental list reader and the output hygiene the client relies on.
import { describe, expect, it } from 'vitest';
import { ListStreamParser } from '../../lib/kube/list-stream.js';
import { formatNumber } from '../../lib/plugin/perfdata.js';
import { sanitize } from '../../lib/plugin/sanitize.js';

function parse(text: string, chunk: number): { items: unknown[]; rest: unknown } {
  const items: unknown[] = [];
  const p = new ListStreamParser((i) => items.push(i));
  const buf = Buffer.from(text);
  for (let i = 0; i < buf.length; i += chunk) p.write(buf.subarray(i, i + chunk));
  return { items, rest: p.end() };
}

describe('ListStreamParser', () => {
  const list = {
    kind: 'PodList', apiVersion: 'v1',
    metadata: { resourceVersion: '7', continue: 'eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ==' },
    items: [
      { metadata: { name: 'a', annotations: { items: '[{"items": ["x"]}]', q: 'quote \\" and \\\\ and ]}' } }, spec: { items: [1, 2, { items: [] }] } },
      { metadata: { name: 'ünïcødé 🚀', labels: { 'k': 'v,]' } } },
      { metadata: { name: 'c' }, status: { conditions: [] } },
    ],
  };
  const text = JSON.stringify(list, null, 1);

  it.each([1, 2, 3, 7, 64, 1 << 20])('splits items at any chunk size (%i bytes)', (chunk) => {
    const { items, rest } = parse(text, chunk);
    expect(items).toEqual(list.items);
    expect(rest).toEqual({ ...list, items: [] });
  });

  it('keeps "items": null and a list that has no items key as sent', () => {
    expect(parse('{"kind":"PartialObjectMetadataList","metadata":{},"items":null}', 5)).toEqual({
      items: [], rest: { kind: 'PartialObjectMetadataList', metadata: {}, items: null },
    });
    expect(parse('{"kind":"Status","status":"Failure","message":"items"}', 4).rest).toMatchObject({ kind: 'Status' });
    expect(parse('null', 1)).toEqual({ items: [], rest: null });
    expect(parse('[{"a":1}]', 1)).toEqual({ items: [], rest: [{ a: 1 }] });
  });

  it('an "items" key below the top level is not the list', () => {
    const { items, rest } = parse('{"metadata":{"items":[1,2]},"items":[{"x":1}]}', 3);
    expect(items).toEqual([{ x: 1 }]);
    expect(rest).toEqual({ metadata: { items: [1, 2] }, items: [] });
  });

  it('a malformed item or a cut body is a SyntaxError', () => {
    expect(() => parse('{"items":[{"a":1},{"b":}]}', 4)).toThrow(SyntaxError);
    expect(() => parse('{"items":[{"a":1}', 4)).toThrow(SyntaxError);
  });
});

describe('output hygiene', () => {
  it('sanitize removes bidi controls and invisible format characters', () => {
    const spoof = 'pod-\u202Egnp.exe\u202C \u2066x\u2069 \u200Ey\u200F \u061Cz \u200Bw\uFEFF';
    expect(sanitize(spoof)).toBe('pod-gnp.exe x y z w');
    expect(sanitize(spoof)).not.toMatch(/[\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/);
  });

  it('formatNumber never uses exponent form', () => {
    expect(formatNumber(1e21)).toBe('1000000000000000000000');
    expect(formatNumber(-1e21)).toBe('-1000000000000000000000');
    expect(formatNumber(1.5e25)).toBe(BigInt(1.5e25).toString());
    expect(formatNumber(1.5e25)).toMatch(/^15\d{24}$/);
    expect(formatNumber(Number.MAX_VALUE)).toMatch(/^\d{309}$/);
  });
});
