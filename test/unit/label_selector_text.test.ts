import { describe, expect, it } from 'vitest';
import { matchesSelector, selectorToString } from '../../lib/kube/labels.js';
import type { LabelSelector } from '../../lib/kube/types.js';
import { holderNode, strictHolderNode } from '../../lib/kube/nodes.js';
import { PluginError } from '../../lib/plugin/errors.js';
import { labelSelector } from '../apiserver/selectors.js';

describe('selectorToString', () => {
  it('writes matchLabels and every matchExpression operator, sorted by key', () => {
    expect(selectorToString({ matchLabels: { 'k8s-app': 'kube-dns' } })).toBe('k8s-app=kube-dns');
    expect(selectorToString({
      matchLabels: { tier: 'dns', app: 'coredns' },
      matchExpressions: [
        { key: 'zone', operator: 'In', values: ['b', 'a'] },
        { key: 'canary', operator: 'DoesNotExist' },
        { key: 'env', operator: 'NotIn', values: ['test'] },
        { key: 'example.com/owner', operator: 'Exists' },
      ],
    })).toBe('app=coredns,!canary,env notin (test),example.com/owner,tier=dns,zone in (a,b)');
  });

  it('is empty for {} (everything) and refuses what selects nothing or would be rejected', () => {
    expect(selectorToString({})).toBe('');
    expect(() => selectorToString(undefined)).toThrow(PluginError);
    expect(() => selectorToString({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] })).toThrow(/In on 'a' needs values/);
    expect(() => selectorToString({ matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] })).toThrow(/not an operator/);
  });

  it('selects on the apiserver exactly what matchesSelector selects', () => {
    const sels: LabelSelector[] = [
      { matchLabels: { 'k8s-app': 'kube-dns' } },
      { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['test', 'dev'] }] },
      { matchLabels: { app: 'x' }, matchExpressions: [{ key: 'canary', operator: 'DoesNotExist' }, { key: 'zone', operator: 'In', values: ['a', 'b'] }] },
      { matchExpressions: [{ key: 'example.com/owner', operator: 'Exists' }] },
      {},
    ];
    const labelSets: Record<string, string>[] = [
      {}, { 'k8s-app': 'kube-dns' }, { env: 'test' }, { env: 'prod' }, { app: 'x', zone: 'a' }, { app: 'x', zone: 'c' },
      { app: 'x', zone: 'b', canary: 'y' }, { 'example.com/owner': '' }, { 'k8s-app': 'kube-dns-autoscaler' },
    ];
    for (const sel of sels) {
      const server = labelSelector(selectorToString(sel));
      for (const labels of labelSets) {
        expect(server({ metadata: { labels } }), `${JSON.stringify(sel)} on ${JSON.stringify(labels)}`).toBe(matchesSelector(sel, labels));
      }
    }
  });
});

describe('strictHolderNode', () => {
  it('maps only "<node>_<uuid>" identities to a node', () => {
    expect(strictHolderNode('k8s02_4f7c2a1e-9b3d-4c6e-8f2a-1d5e7b9c3a60')).toBe('k8s02');
    expect(strictHolderNode('node_a_1_4f7c2a1e-9b3d-4c6e-8f2a-1d5e7b9c3a60')).toBe('node_a_1');
    expect(strictHolderNode('scheduler-7d9f8b-abcde')).toBeUndefined();
    expect(strictHolderNode('k8s02_notauuid')).toBeUndefined();
    expect(strictHolderNode(undefined)).toBeUndefined();
    // holderNode keeps its lenient fallback for other shapes
    expect(holderNode('k8s02_notauuid')).toBe('k8s02');
  });
});
