import { describe, expect, it } from 'vitest';
import check from '../../checks/pdb.js';
import { pdbDeadlocked, pdbTooStrict } from '../../lib/kube/disruption.js';
import type { PodDisruptionBudget } from '../../lib/kube/types.js';
import { outcomeState } from '../../lib/plugin/result.js';
import { State } from '../../lib/plugin/state.js';
import { checkOptions, clock } from './support.js';

const { NOW } = clock('2026-06-05T06:30:00Z');
const pdb = (name: string, status: PodDisruptionBudget['status'], spec: PodDisruptionBudget['spec'] = { minAvailable: 1 }): PodDisruptionBudget =>
  ({ metadata: { name, namespace: 'apps' }, spec, status });
const budget = (p: PodDisruptionBudget) => ({ id: `apps/${p.metadata!.name}`, namespace: 'apps', name: p.metadata!.name!, rule: `minAvailable ${p.spec?.minAvailable}`, tooStrict: pdbTooStrict(p), deadlocked: pdbDeadlocked(p), status: 'x' });

describe('PodDisruptionBudget status', () => {
  it('too strict: none allowed with every expected pod healthy; deadlocked: none allowed because pods are short', () => {
    const single = pdb('db', { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 });
    expect([pdbTooStrict(single), pdbDeadlocked(single)]).toEqual([true, false]);
    const short = pdb('web', { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 2, expectedPods: 3 });
    expect([pdbTooStrict(short), pdbDeadlocked(short)]).toEqual([false, true]);
    const fine = pdb('api', { disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 });
    expect([pdbTooStrict(fine), pdbDeadlocked(fine)]).toEqual([false, false]);
    // A budget that selects no pod blocks nothing.
    const empty = pdb('gone', { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 });
    expect([pdbTooStrict(empty), pdbDeadlocked(empty)]).toEqual([false, false]);
  });
});

describe('check_k8s_pdb evaluate', () => {
  const strict = budget(pdb('db', { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 }));
  const short = budget(pdb('web', { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 2, expectedPods: 3 }));
  const fine = budget(pdb('api', { disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 }));

  it('is OK without a blocking budget; a short one is only listed', async () => {
    const out = check.evaluate({ budgets: [fine, short] }, await checkOptions(check, []), NOW);
    expect(outcomeState(out)).toBe(State.OK);
    expect(out.summary).toBe('2 PodDisruptionBudgets, none blocks every drain');
    expect(out.findings.map((f) => [f.state, f.text])).toEqual([[undefined, 'apps/web: minAvailable 1, x: its pods are short (check_k8s_workloads), drains wait until they are back']]);
    expect(out.perfdata.map((p) => [p.label, p.value])).toEqual([['blocking_pdbs', 0], ['short_pdbs', 1], ['pdbs', 2]]);
  });

  it('is WARNING by default (-w 0) for a budget that blocks every drain, naming it; -c 0 makes it CRITICAL', async () => {
    let out = check.evaluate({ budgets: [fine, strict] }, await checkOptions(check, []), NOW);
    expect(outcomeState(out)).toBe(State.WARNING);
    expect(out.summary).toBe('1 PodDisruptionBudget blocking every drain: apps/db');
    expect(out.findings[0]).toEqual({ state: State.WARNING, text: 'apps/db: minAvailable 1, x: no eviction can pass even with every pod healthy; a drain of its nodes waits for ever' });
    out = check.evaluate({ budgets: [strict] }, await checkOptions(check, ['-c', '0']), NOW);
    expect(outcomeState(out)).toBe(State.CRITICAL);
    out = check.evaluate({ budgets: [strict] }, await checkOptions(check, ['-w', '1']), NOW);
    expect(outcomeState(out)).toBe(State.OK);
  });

  it('names three blocking budgets in the status line and counts the rest; what to do names the first', async () => {
    const strictNamed = (name: string) => ({ ...strict, id: `apps/${name}`, name });
    const four = ['a', 'b', 'c', 'd'].map(strictNamed);
    let out = check.evaluate({ budgets: four }, await checkOptions(check, []), NOW);
    expect(outcomeState(out)).toBe(State.WARNING);
    expect(out.summary).toBe('4 PodDisruptionBudgets blocking every drain: apps/a, apps/b, apps/c and 1 more');
    expect(out.findings.filter((f) => f.state === State.WARNING)).toHaveLength(4);
    expect(out.actions).toEqual([{ state: State.WARNING, text: 'before the next drain, let apps/a allow one disruption: scale its workload to 2+ replicas, or set maxUnavailable: 1 (kubectl -n apps edit pdb a); check again: disruptionsAllowed must be 1 or more' }]);
    out = check.evaluate({ budgets: four.slice(0, 3) }, await checkOptions(check, []), NOW);
    expect(out.summary).toBe('3 PodDisruptionBudgets blocking every drain: apps/a, apps/b, apps/c');
    // -w 3: three is within the range, four is not.
    expect(outcomeState(check.evaluate({ budgets: four.slice(0, 3) }, await checkOptions(check, ['-w', '3']), NOW))).toBe(State.OK);
    expect(outcomeState(check.evaluate({ budgets: four }, await checkOptions(check, ['-w', '3']), NOW))).toBe(State.WARNING);
  });

  it('an OK run has no next step, and its perfdata starts at 0', async () => {
    const out = check.evaluate({ budgets: [] }, await checkOptions(check, []), NOW);
    expect(out.summary).toBe('0 PodDisruptionBudgets, none blocks every drain');
    expect(out.actions).toBeUndefined();
    expect(out.perfdata.map((p) => [p.label, p.value, p.min, p.warn?.text])).toEqual([['blocking_pdbs', 0, 0, '0'], ['short_pdbs', 0, 0, undefined], ['pdbs', 0, 0, undefined]]);
  });
});
