import { describe, expect, it } from 'vitest';
import { matchesSelector } from '../../lib/kube/labels.js';

describe('matchesSelector (metav1.LabelSelector semantics)', () => {
  const labels = { app: 'web', tier: 'front', 'openebs.io/persistent-volume': 'pvc-1' };

  it('selects nothing with a null selector and everything with an empty one', () => {
    expect(matchesSelector(undefined, labels)).toBe(false);
    expect(matchesSelector(null, labels)).toBe(false);
    expect(matchesSelector({}, labels)).toBe(true);
    expect(matchesSelector({}, undefined)).toBe(true);
    expect(matchesSelector({ matchLabels: {}, matchExpressions: [] }, {})).toBe(true);
  });

  it('ANDs matchLabels', () => {
    expect(matchesSelector({ matchLabels: { app: 'web', tier: 'front' } }, labels)).toBe(true);
    expect(matchesSelector({ matchLabels: { app: 'web', tier: 'back' } }, labels)).toBe(false);
    expect(matchesSelector({ matchLabels: { missing: '' } }, labels)).toBe(false);
    expect(matchesSelector({ matchLabels: { empty: '' } }, { empty: '' })).toBe(true);
  });

  it('applies In, NotIn, Exists, DoesNotExist as the apiserver does', () => {
    const m = (operator: string, key: string, values?: string[]) => matchesSelector({ matchExpressions: [{ key, operator, values }] }, labels);
    expect(m('In', 'tier', ['front', 'back'])).toBe(true);
    expect(m('In', 'tier', ['back'])).toBe(false);
    expect(m('In', 'missing', ['x'])).toBe(false);
    expect(m('NotIn', 'tier', ['back'])).toBe(true);
    expect(m('NotIn', 'tier', ['front'])).toBe(false);
    expect(m('NotIn', 'missing', ['x'])).toBe(true); // absent key satisfies NotIn
    expect(m('Exists', 'app')).toBe(true);
    expect(m('Exists', 'missing')).toBe(false);
    expect(m('DoesNotExist', 'missing')).toBe(true);
    expect(m('DoesNotExist', 'app')).toBe(false);
    // What the apiserver would reject selects nothing.
    expect(m('In', 'tier', [])).toBe(false);
    expect(m('Gt', 'tier', ['1'])).toBe(false);
  });

  it('ANDs matchLabels with matchExpressions', () => {
    const sel = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] };
    expect(matchesSelector(sel, labels)).toBe(false);
    expect(matchesSelector(sel, { app: 'web', tier: 'back' })).toBe(true);
  });

  it('does not match keys inherited from Object.prototype', () => {
    expect(matchesSelector({ matchExpressions: [{ key: 'constructor', operator: 'Exists' }] }, {})).toBe(false);
    expect(matchesSelector({ matchExpressions: [{ key: 'toString', operator: 'DoesNotExist' }] }, {})).toBe(true);
  });
});
