import { describe, expect, it } from 'vitest';
import { apiServers, expectContract, runBuilt } from '../harness.js';

const TITLE = 'PDB';
const PDBS = '/apis/policy/v1/poddisruptionbudgets';
/** A budget as the disruption controller leaves it (policy/v1 status). */
const pdb = (name: string, spec: Record<string, unknown>, status: Record<string, number>) => ({
  apiVersion: 'policy/v1', kind: 'PodDisruptionBudget',
  metadata: { name, namespace: 'apps', creationTimestamp: '$now-30d', generation: 1 },
  spec: { ...spec, selector: { matchLabels: { app: name } } },
  status: { observedGeneration: 1, ...status, conditions: [{ type: 'DisruptionAllowed', status: status.disruptionsAllowed ? 'True' : 'False', reason: status.disruptionsAllowed ? 'SufficientPods' : 'InsufficientPods', message: '', lastTransitionTime: '$now-2h' }] },
});

describe('check_k8s_pdb against the API double', () => {
  const start = apiServers();

  it('is WARNING for a single-replica budget with minAvailable 1, lists the short one, and lists budgets once', async () => {
    const s = await start({ objects: [
      pdb('db', { minAvailable: 1 }, { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 }),
      pdb('web', { maxUnavailable: 1 }, { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 2, expectedPods: 3 }),
      pdb('api', { minAvailable: 2 }, { disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 }),
    ] });
    const run = await runBuilt('pdb', ['--kubeconfig', s.kubeconfig, '-w', '0']);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(1);
    expect(run.firstLine).toBe('K8S PDB WARNING - 1 PodDisruptionBudget blocking every drain: apps/db | blocking_pdbs=1;0;;0 short_pdbs=1;;;0 pdbs=3;;;0');
    expect(run.stdout).toContain('\n[WARNING] apps/db: minAvailable 1, 0 disruptions allowed, 1/1 healthy: no eviction can pass');
    expect(run.stdout).toContain('\napps/web: maxUnavailable 1, 0 disruptions allowed, 1/2 healthy: its pods are short');
    expect(s.requests().map((q) => q.path)).toEqual([PDBS]);
  });

  it('is OK on the incident: the Jiva budgets are short of pods, which other checks judge', async () => {
    const s = await start('incident');
    const run = await runBuilt('pdb', ['--kubeconfig', s.kubeconfig]);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(0);
    expect(run.firstLine).toMatch(/^K8S PDB OK - 6 PodDisruptionBudgets, none blocks every drain \| blocking_pdbs=0;0;;0 short_pdbs=6;;;0 pdbs=6;;;0$/);
  });

  it('--namespace asks the server for that namespace only', async () => {
    const s = await start('healthy');
    const run = await runBuilt('pdb', ['--kubeconfig', s.kubeconfig, '--namespace', 'apps']);
    expect(run.code, run.stdout).toBe(0);
    expect(s.requests().map((q) => q.path)).toEqual(['/apis/policy/v1/namespaces/apps/poddisruptionbudgets']);
  });
});
