import { describe, expect, it } from 'vitest';
import { formatBytes, judgeAttachments, judgeClaims, judgeVolumes, usageFromSummaries, type PersistentVolume, type PersistentVolumeClaim, type StorageClass, type VolumeAttachment } from '../../lib/kube/volumes.js';
import check from '../../checks/volumes.js';
import type { Pod } from '../../lib/kube/types.js';
import { outcomeState } from '../../lib/plugin/result.js';
import { State } from '../../lib/plugin/state.js';
import { checkOptions, clock } from './support.js';

const { NOW, ago } = clock('2026-06-05T06:30:00Z');
const opts = { now: NOW, window: 300 };

const claim = (name: string, phase: string, created: number, sc = 'openebs-jiva-csi-default', annotations?: Record<string, string>): PersistentVolumeClaim =>
  ({ metadata: { name, namespace: 'apps', creationTimestamp: ago(created), annotations }, spec: { storageClassName: sc, volumeName: phase === 'Pending' ? undefined : `pvc-${name}` }, status: { phase } });
const classes = new Map<string, StorageClass>([
  ['openebs-jiva-csi-default', { metadata: { name: 'openebs-jiva-csi-default' }, volumeBindingMode: 'Immediate' }],
  ['microk8s-hostpath', { metadata: { name: 'microk8s-hostpath' }, volumeBindingMode: 'WaitForFirstConsumer' }],
]);

describe('judgeClaims', () => {
  it('is critical for Lost, a warning for Pending past the window, quiet within it', () => {
    const r = judgeClaims([claim('data', 'Lost', 86400), claim('slow', 'Pending', 2700), claim('new', 'Pending', 60), claim('ok', 'Bound', 86400)], classes, opts);
    expect(r.problems).toEqual([
      { severity: 'critical', what: 'PVC apps/data', why: 'Lost: its volume pvc-data no longer exists' },
      { severity: 'warning', what: 'PVC apps/slow', why: 'Pending for 45m, StorageClass openebs-jiva-csi-default' },
    ]);
  });

  it('leaves a WaitForFirstConsumer claim no pod asked for, judges one a pod is waiting for', () => {
    const waiting = judgeClaims([claim('cache', 'Pending', 7200, 'microk8s-hostpath')], classes, opts);
    expect(waiting.problems).toEqual([]);
    expect(waiting.waiting).toEqual(['PVC apps/cache: Pending until a pod uses it (StorageClass microk8s-hostpath is WaitForFirstConsumer)']);
    const selected = judgeClaims([claim('cache', 'Pending', 7200, 'microk8s-hostpath', { 'volume.kubernetes.io/selected-node': 'k8s02' })], classes, opts);
    expect(selected.problems[0]!.why).toBe('Pending for 2h, StorageClass microk8s-hostpath (for a pod on k8s02)');
  });

  it('says when the StorageClass does not exist', () => {
    expect(judgeClaims([claim('typo', 'Pending', 3600, 'fast-ssd')], classes, opts).problems[0]!.why).toBe('Pending for 1h, StorageClass fast-ssd (StorageClass fast-ssd does not exist)');
  });
});

describe('judgeVolumes', () => {
  const pv = (name: string, phase: string, policy: string, since?: number, message?: string): PersistentVolume => ({
    metadata: { name }, spec: { persistentVolumeReclaimPolicy: policy, claimRef: { namespace: 'apps', name: 'scratch-0' } },
    status: { phase, message, lastPhaseTransitionTime: since === undefined ? undefined : ago(since) },
  });

  it('is critical for Failed with the reclaim message', () => {
    expect(judgeVolumes([pv('pvc-1', 'Failed', 'Delete', 600, 'error getting deleter volume plugin for volume "pvc-1": no deletable volume plugin matched')], opts).problems).toEqual([
      { severity: 'critical', what: 'PV pvc-1', why: 'Failed for 10m (was apps/scratch-0): error getting deleter volume plugin for volume "pvc-1": no deletable volume plugin matched' },
    ]);
  });

  it('warns on Released under Delete past the window; Retain only counted', () => {
    const r = judgeVolumes([pv('pvc-2', 'Released', 'Delete', 2400), pv('pvc-3', 'Released', 'Delete', 60), pv('pvc-4', 'Released', 'Retain', 86400 * 12)], opts);
    expect(r.problems).toEqual([{ severity: 'warning', what: 'PV pvc-2', why: 'Released for 40m (was apps/scratch-0) with reclaimPolicy Delete: the provisioner has not deleted it' }]);
    expect(r.retained).toEqual(['PV pvc-4: Released for 12d (was apps/scratch-0), reclaimPolicy Retain: waits for a person to reuse or delete it']);
  });

  it('says honestly when the phase time is not known (before 1.29)', () => {
    expect(judgeVolumes([pv('pvc-5', 'Released', 'Delete')], opts).problems[0]!.why).toMatch(/^Released for an unknown time \(no status.lastPhaseTransitionTime before Kubernetes 1.29\)/);
  });
});

describe('judgeAttachments', () => {
  it('reports attach and detach errors with their age and message', () => {
    const p = judgeAttachments([{
      metadata: { name: 'csi-3c9a1e7b5d' }, spec: { attacher: 'rbd.csi.ceph.com', nodeName: 'k8s02', source: { persistentVolumeName: 'pvc-9' } },
      status: { attached: false, attachError: { time: ago(90), message: 'rpc error: code = Internal desc = rbd image replicapool/csi-vol-9 is still being used' } },
    }, { metadata: { name: 'fine' }, status: { attached: true } }], { now: NOW });
    expect(p).toEqual([{ severity: 'warning', what: 'VolumeAttachment csi-3c9a1e7b5d (pvc-9 on k8s02)', why: 'attach failed 1m30s ago: rpc error: code = Internal desc = rbd image replicapool/csi-vol-9 is still being used' }]);
  });
});

describe('usageFromSummaries', () => {
  it('keeps one reading per claim (the highest), bytes and inodes in percent, fullest first', () => {
    const u = usageFromSummaries([
      { node: 'k8s01', summary: { pods: [{ podRef: { name: 'a', namespace: 'apps' }, volume: [{ name: 'data', pvcRef: { name: 'shared', namespace: 'apps' }, usedBytes: 50, capacityBytes: 100, inodesUsed: 1, inodes: 100 }, { name: 'tmp', usedBytes: 99, capacityBytes: 100 }] }] } },
      { node: 'k8s02', summary: { pods: [{ podRef: { name: 'b', namespace: 'apps' }, volume: [{ name: 'data', pvcRef: { name: 'shared', namespace: 'apps' }, usedBytes: 60, capacityBytes: 100 }, { name: 'db', pvcRef: { name: 'db', namespace: 'apps' }, usedBytes: 90, capacityBytes: 100, inodesUsed: 95, inodes: 100 }] }] } },
    ]);
    expect(u).toEqual([
      { pvc: 'apps/db', node: 'k8s02', usedBytes: 90, capacityBytes: 100, usedPercent: 90, inodesPercent: 95 },
      { pvc: 'apps/shared', node: 'k8s02', usedBytes: 60, capacityBytes: 100, usedPercent: 60, inodesPercent: undefined },
    ]);
  });

  it('formats bytes', () => {
    expect([formatBytes(512), formatBytes(1536), formatBytes(20 * 1024 ** 3), formatBytes(undefined)]).toEqual(['512B', '1.5KiB', '20GiB', '?']);
  });
});

describe('check_k8s_volumes evaluate', () => {
  it('is CRITICAL for lost data whatever -w/-c say, counts the rest, and with --namespace judges only its volumes', async () => {
    const { default: check } = await import('../../checks/volumes.js');
    const { checkOptions } = await import('./support.js');
    const lostPv: PersistentVolume = { metadata: { name: 'pvc-x' }, spec: { persistentVolumeReclaimPolicy: 'Delete', claimRef: { namespace: 'other', name: 'scratch' } }, status: { phase: 'Released', lastPhaseTransitionTime: ago(3600) } };
    const data = { pvcs: [claim('data', 'Lost', 86400), claim('slow', 'Pending', 2700)], pvs: [lostPv], attachments: [], classes: [...classes.values()], usage: undefined };
    const o = check.evaluate(data, await checkOptions(check, ['-w', '10']), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(o.summary).toBe('1 volume lost or failed: PVC apps/data Lost');
    expect(o.actions?.[0]?.text).toMatch(/^PVC apps\/data is Lost: kubectl describe pvc -n apps data names the storage backend's error/);
    expect(Object.fromEntries(o.perfdata.map((p) => [p.label, p.value]))).toMatchObject({ volume_problems: 3, pvcs_lost: 1, pvcs_pending: 1, pvs_released: 1 });
    const scoped = check.evaluate(data, await checkOptions(check, ['--namespace', 'apps']), NOW);
    expect(outcomeState(scoped)).toBe(State.CRITICAL);
    expect(Object.fromEntries(scoped.perfdata.map((p) => [p.label, p.value]))).toMatchObject({ volume_problems: 2, pvs: 0 });
  });

  it('--usage: the fullest claim as perfdata with its thresholds, each full claim named', async () => {
    const { default: check } = await import('../../checks/volumes.js');
    const { checkOptions } = await import('./support.js');
    const summary = { pods: [{ podRef: { name: 'db-0', namespace: 'apps' }, volume: [{ name: 'data', pvcRef: { name: 'db', namespace: 'apps' }, usedBytes: 85 * 1024 ** 3, capacityBytes: 100 * 1024 ** 3 }] }] };
    const o = check.evaluate({ pvcs: [], pvs: [], attachments: [], classes: [], usage: { summaries: [{ node: 'k8s01', summary }], failed: [], mounted: 1 } }, await checkOptions(check, ['--usage']), NOW);
    expect(outcomeState(o)).toBe(State.WARNING);
    expect(o.summary).toBe('1 claim over 80% full (apps/db 85%)');
    expect(o.perfdata.at(-1)).toMatchObject({ label: 'pvc_usage_max', value: 85, uom: '%', min: 0, max: 100 });
    expect(o.findings.map((f) => f.text)).toContain('PVC apps/db on k8s01: 85% used (85GiB of 100GiB), over --usage-warning 80%');
  });

  const GiB = 1024 ** 3;
  const usage = (volume: object[], node = 'k8s01') => ({ summaries: [{ node, summary: { pods: [{ podRef: { name: 'db-0', namespace: 'apps' }, volume }] } }], failed: [], mounted: volume.length });
  const none = { pvcs: [], pvs: [], attachments: [], classes: [] };

  it('--usage: a claim out of inodes is full though its bytes are not', async () => {
    const u = usage([{ name: 'data', pvcRef: { name: 'maildir', namespace: 'apps' }, usedBytes: 10 * GiB, capacityBytes: 100 * GiB, inodesUsed: 655_000, inodes: 655_360 }]);
    const o = check.evaluate({ ...none, usage: u }, await checkOptions(check, ['--usage']), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(o.summary).toBe('1 claim over 90% full (apps/maildir 99.9%)');
    expect(o.findings.map((f) => f.text)).toContain('PVC apps/maildir on k8s01: 10% used (10GiB of 100GiB), inodes 99.9%, over --usage-critical 90%');
    expect(o.perfdata.find((p) => p.label === 'pvc_usage_max')).toMatchObject({ value: 99.9 });
  });

  it('--usage: at the threshold is not over it; the critical claim leads the summary; no inode text when bytes are fuller', async () => {
    const u = usage([
      { name: 'a', pvcRef: { name: 'at-warning', namespace: 'apps' }, usedBytes: 80, capacityBytes: 100, inodesUsed: 10, inodes: 100 },
      { name: 'b', pvcRef: { name: 'warn', namespace: 'apps' }, usedBytes: 81, capacityBytes: 100, inodesUsed: 10, inodes: 100 },
      { name: 'c', pvcRef: { name: 'crit', namespace: 'apps' }, usedBytes: 95, capacityBytes: 100 },
    ]);
    const o = check.evaluate({ ...none, usage: u }, await checkOptions(check, ['--usage']), NOW);
    expect(outcomeState(o)).toBe(State.CRITICAL);
    expect(o.summary).toBe('2 claims over 90% full (apps/crit 95%)');
    const texts = o.findings.map((f) => f.text);
    expect(texts).toContain('PVC apps/warn on k8s01: 81% used (81B of 100B), over --usage-warning 80%');
    expect(texts.some((t) => t.includes('apps/at-warning'))).toBe(false);
    expect(o.findings.find((f) => f.text.includes('apps/warn'))?.state).toBe(State.WARNING);
    expect(o.findings.find((f) => f.text.includes('apps/crit'))?.state).toBe(State.CRITICAL);
  });

  it('--usage: a kubelet that cannot be asked is UNKNOWN for its claims, said per node; all well otherwise', async () => {
    const u = { ...usage([{ name: 'a', pvcRef: { name: 'db', namespace: 'apps' }, usedBytes: 10, capacityBytes: 100 }]), failed: [{ node: 'k8s03', why: 'the server is currently unable to handle the request (503)' }] };
    const o = check.evaluate({ ...none, usage: u }, await checkOptions(check, ['--usage']), NOW);
    expect(outcomeState(o)).toBe(State.UNKNOWN);
    expect(o.summary).toBe('usage on k8s03 not known');
    expect(o.findings.map((f) => f.text)).toContain('usage of claims on k8s03 not known: the server is currently unable to handle the request (503)');
    const fine = check.evaluate({ ...none, usage: { ...u, failed: [] } }, await checkOptions(check, ['--usage']), NOW);
    expect(outcomeState(fine)).toBe(State.OK);
    expect(fine.summary).toBe('0 PVCs, 0 PVs, 0 VolumeAttachments: none lost, failed, stuck or in error, 1 mounted claim at most 10% full');
  });

  it('problems under the count thresholds: named by kind, WARNING or CRITICAL by -w/-c, OK below -w', async () => {
    const pv: PersistentVolume = { metadata: { name: 'pvc-r' }, spec: { persistentVolumeReclaimPolicy: 'Delete', claimRef: { namespace: 'apps', name: 'old' } }, status: { phase: 'Released', lastPhaseTransitionTime: ago(3600) } };
    const data = { pvcs: [claim('slow', 'Pending', 2700), claim('slower', 'Pending', 3600)], pvs: [pv], attachments: [], classes: [...classes.values()], usage: undefined };
    const w = check.evaluate(data, await checkOptions(check), NOW);
    expect(outcomeState(w)).toBe(State.WARNING);
    expect(w.summary).toBe('2 PVCs Pending, 1 PV not reclaimed');
    expect(outcomeState(check.evaluate(data, await checkOptions(check, ['-c', '2']), NOW))).toBe(State.CRITICAL);
    const ok = check.evaluate(data, await checkOptions(check, ['-w', '3']), NOW);
    expect(outcomeState(ok)).toBe(State.OK);
    expect(ok.summary).toMatch(/^2 PVCs, 1 PV, 0 VolumeAttachments/);
    expect(ok.findings.every((f) => f.state === undefined)).toBe(true);
    expect(Object.fromEntries(ok.perfdata.map((p) => [p.label, p.value]))).toMatchObject({ volume_problems: 3, pvcs_pending: 2, pvs_released: 1, pvs_failed: 0 });
  });

  describe('many problems at once', () => {
    const pv = (name: string, phase: string, policy: string, ns = 'apps', message?: string): PersistentVolume => ({
      metadata: { name }, spec: { persistentVolumeReclaimPolicy: policy, claimRef: { namespace: ns, name: `c-${name}` } },
      status: { phase, message, lastPhaseTransitionTime: ago(3600) },
    });
    const va = (name: string, pvName: string): VolumeAttachment => ({
      metadata: { name }, spec: { attacher: 'rbd.csi.ceph.com', nodeName: 'k8s02', source: { persistentVolumeName: pvName } },
      status: { attached: false, attachError: { time: ago(120), message: 'rpc error: code = Internal' } },
    });
    const data = () => ({
      pvcs: [claim('a', 'Lost', 86400), claim('b', 'Lost', 86400), claim('slow', 'Pending', 2700)],
      pvs: [pv('pvc-f', 'Failed', 'Delete', 'apps', 'no deletable volume plugin matched'), pv('pvc-r', 'Released', 'Delete', 'other'), pv('pvc-k', 'Released', 'Retain', 'other')],
      attachments: [va('csi-1', 'pvc-r'), va('csi-2', 'pvc-f')],
      classes: [...classes.values()],
      usage: undefined,
    });

    it('three lost or failed: two named and how many more; the rest counted by kind; each line with its state', async () => {
      const o = check.evaluate(data(), await checkOptions(check), NOW);
      expect(outcomeState(o)).toBe(State.CRITICAL);
      expect(o.summary).toBe('3 volumes lost or failed: PVC apps/a Lost, PVC apps/b Lost and 1 more; 1 PVC Pending, 1 PV not reclaimed, 2 attachment errors');
      const lines = o.findings.map((f) => [f.state, f.text]);
      expect(lines).toContainEqual([State.WARNING, '7 volume problems (outside -w 0)']);
      expect(lines).toContainEqual([State.CRITICAL, 'PV pvc-f: Failed for 1h (was apps/c-pvc-f): no deletable volume plugin matched']);
      expect(lines).toContainEqual([State.WARNING, 'VolumeAttachment csi-1 (pvc-r on k8s02): attach failed 2m ago: rpc error: code = Internal']);
      expect(lines).toContainEqual([undefined, 'PV pvc-k: Released for 1h (was other/c-pvc-k), reclaimPolicy Retain: waits for a person to reuse or delete it']);
      // critical lines first, then the rest
      expect(o.findings.filter((f) => f.state === State.CRITICAL).length).toBe(3);
      expect(Object.fromEntries(o.perfdata.map((p) => [p.label, p.value]))).toEqual({
        volume_problems: 7, pvcs: 3, pvcs_pending: 1, pvcs_lost: 2, pvs: 3, pvs_failed: 1, pvs_released: 2, attachment_errors: 2,
      });
      expect(o.perfdata.find((p) => p.label === 'volume_problems')?.warn?.text).toBe('0');
    });

    it('only lost ones and a -w that the count exceeds: the count is its own line, not a second summary part', async () => {
      const d = { ...data(), pvcs: [claim('a', 'Lost', 86400)], pvs: [], attachments: [] };
      const o = check.evaluate(d, await checkOptions(check), NOW);
      expect(o.summary).toBe('1 volume lost or failed: PVC apps/a Lost');
      expect(o.findings.map((f) => [f.state, f.text])).toEqual([
        [State.WARNING, '1 volume problem (outside -w 0)'],
        [State.CRITICAL, 'PVC apps/a: Lost: its volume pvc-a no longer exists'],
      ]);
      const two = check.evaluate({ ...d, pvcs: [claim('a', 'Lost', 86400), claim('b', 'Lost', 86400)] }, await checkOptions(check), NOW);
      expect(two.summary).toBe('2 volumes lost or failed: PVC apps/a Lost, PVC apps/b Lost');
    });

    it('--max-items lists the first ones and says how many it left out', async () => {
      const o = check.evaluate(data(), await checkOptions(check, ['--max-items', '2']), NOW);
      const texts = o.findings.map((f) => f.text);
      expect(texts).toContain('... and 5 more (--max-items 2)');
      expect(o.findings.filter((f) => f.state !== undefined && /^(PVC|PV|VolumeAttachment) /.test(f.text))).toHaveLength(2);
      const exact = check.evaluate(data(), await checkOptions(check, ['--max-items', '7']), NOW);
      expect(exact.findings.map((f) => f.text).some((t) => t.startsWith('... and'))).toBe(false);
    });

    it('--namespace: only the volumes of its claims and their attachments', async () => {
      const o = check.evaluate(data(), await checkOptions(check, ['--namespace', 'other']), NOW);
      const perf = Object.fromEntries(o.perfdata.map((p) => [p.label, p.value]));
      expect(perf).toMatchObject({ pvs: 2, pvs_failed: 0, pvs_released: 2, attachment_errors: 1 });
      expect(o.findings.map((f) => f.text).join('\n')).not.toContain('csi-2');
    });
  });

  it('the OK line names the scope and, with --usage, the fullest claim', async () => {
    const o = check.evaluate({ pvcs: [claim('ok', 'Bound', 86400)], pvs: [], attachments: [], classes: [], usage: undefined }, await checkOptions(check, ['--namespace', 'apps']), NOW);
    expect(outcomeState(o)).toBe(State.OK);
    expect(o.summary).toBe('1 PVC in apps, 0 PVs, 0 VolumeAttachments: none lost, failed, stuck or in error');
    const u = usage([{ name: 'a', pvcRef: { name: 'a', namespace: 'apps' }, usedBytes: 30, capacityBytes: 100 }, { name: 'b', pvcRef: { name: 'b', namespace: 'apps' }, usedBytes: 70, capacityBytes: 100 }]);
    const full = check.evaluate({ ...none, usage: u }, await checkOptions(check, ['--usage']), NOW);
    expect(full.summary).toBe('0 PVCs, 0 PVs, 0 VolumeAttachments: none lost, failed, stuck or in error, 2 mounted claims at most 70% full');
    expect(full.perfdata.find((p) => p.label === 'pvc_usage_max')).toMatchObject({ value: 70 });
    expect(full.findings).toEqual([]);
  });

  it('refuses --usage-warning above --usage-critical, accepts them equal', async () => {
    await expect(checkOptions(check, ['--usage-warning', '95', '--usage-critical', '90'])).rejects.toThrow(/--usage-warning 95 is above --usage-critical 90/);
    await expect(checkOptions(check, ['--usage-warning', '90', '--usage-critical', '90'])).resolves.toBeDefined();
  });
});

describe('check_k8s_volumes: what the operator reads and does (mutation testing, hmut2)', () => {
  const GiB = 1024 ** 3;
  const none = { pvcs: [], pvs: [], attachments: [], classes: [], usage: undefined };
  const usage = (volume: object[], node = 'k8s01') => ({ summaries: [{ node, summary: { pods: [{ podRef: { name: 'db-0', namespace: 'apps' }, volume }] } }], failed: [], mounted: volume.length });
  const released = (name: string, ns = 'apps'): PersistentVolume => ({ metadata: { name }, spec: { persistentVolumeReclaimPolicy: 'Delete', claimRef: { namespace: ns, name: `c-${name}` } }, status: { phase: 'Released', lastPhaseTransitionTime: ago(3600) } });
  const actions = (o: ReturnType<typeof check.evaluate>) => o.actions?.map((a) => [a.state, a.text]);

  it('a lost claim: the step names the claim as kubectl takes it, and what follows for its pods', async () => {
    const o = check.evaluate({ ...none, pvcs: [claim('data', 'Lost', 86400)], classes: [...classes.values()] }, await checkOptions(check), NOW);
    expect(actions(o)).toEqual([[State.CRITICAL, 'PVC apps/data is Lost: kubectl describe pvc -n apps data names the storage backend\'s error; ' +
      'restore the volume from the backend (or a backup) and rebind the claim; its pods stay Pending until then']]);
  });

  it('a Failed PV first: the step says its reclaim failed and how to finish it, not to rebind a claim that is gone', async () => {
    const failed: PersistentVolume = { metadata: { name: 'pvc-f' }, spec: { persistentVolumeReclaimPolicy: 'Delete', claimRef: { namespace: 'apps', name: 'data' } },
      status: { phase: 'Failed', message: 'error getting deleter volume plugin for volume "pvc-f": no deletable volume plugin matched', lastPhaseTransitionTime: ago(3600) } };
    const o = check.evaluate({ ...none, pvs: [failed] }, await checkOptions(check), NOW);
    expect(o.summary).toBe('1 volume lost or failed: PV pvc-f Failed for 1h (was apps/data)');
    // Was: '...; restore the volume from the backend (or a backup) and rebind the claim; its pods stay Pending until then'.
    expect(actions(o)).toEqual([[State.CRITICAL, 'PV pvc-f is Failed for 1h (was apps/data): its reclaim failed, and its claim is gone, so no pod waits for it; ' +
      'kubectl describe pv pvc-f says why (status.message): fix that (the provisioner, the storage backend), then kubectl delete pv pvc-f, and the volume on the backend if the reclaim left it']]);
    // a lost claim listed first keeps its own step
    const both = check.evaluate({ ...none, pvcs: [claim('lost', 'Lost', 86400)], pvs: [failed] }, await checkOptions(check), NOW);
    expect(actions(both)?.[0]?.[1]).toMatch(/^PVC apps\/lost is Lost: kubectl describe pvc -n apps lost names the storage backend's error; restore the volume/);
  });

  it('the first counted problem gets the describe step: a Pending claim with -n, a PV without', async () => {
    const pending = check.evaluate({ ...none, pvcs: [claim('slow', 'Pending', 2700)], pvs: [released('pvc-r')], classes: [...classes.values()] }, await checkOptions(check), NOW);
    expect(actions(pending)).toEqual([[State.WARNING, 'kubectl describe pvc -n apps slow: its events name the provisioner, StorageClass or attach error; fix that (a Released PV: delete it or clear its claimRef)']]);
    const pv = check.evaluate({ ...none, pvs: [released('pvc-r')] }, await checkOptions(check), NOW);
    expect(actions(pv)).toEqual([[State.WARNING, 'kubectl describe pv pvc-r: its events name the provisioner, StorageClass or attach error; fix that (a Released PV: delete it or clear its claimRef)']]);
    expect(pv.findings.map((f) => [f.state, f.text])).toEqual([
      [State.WARNING, '1 volume problem (outside -w 0)'],
      [State.WARNING, 'PV pvc-r: Released for 1h (was apps/c-pvc-r) with reclaimPolicy Delete: the provisioner has not deleted it'],
    ]);
  });

  it('an attach error alone: the describe step is a command that runs (the attachment\'s name, not its "(pv on node)")', async () => {
    const va: VolumeAttachment = {
      metadata: { name: 'csi-3c9a1e7b5d' }, spec: { attacher: 'rbd.csi.ceph.com', nodeName: 'k8s02', source: { persistentVolumeName: 'pvc-9' } },
      status: { attached: false, attachError: { time: ago(90), message: 'rpc error: code = Internal' } },
    };
    const o = check.evaluate({ ...none, attachments: [va] }, await checkOptions(check), NOW);
    expect(o.summary).toBe('1 attachment error');
    // Was: 'kubectl describe volumeattachment csi-3c9a1e7b5d (pvc-9 on k8s02): ...', a syntax error in a shell.
    expect(actions(o)).toEqual([[State.WARNING, 'kubectl describe volumeattachment csi-3c9a1e7b5d: its events name the provisioner, StorageClass or attach error; fix that (a Released PV: delete it or clear its claimRef)']]);
  });

  it('a Pending claim of a WaitForFirstConsumer class no pod asked for is a context line, one of an Immediate class a problem: the classes are looked up by name', async () => {
    const o = check.evaluate({ ...none, pvcs: [claim('cache', 'Pending', 7200, 'microk8s-hostpath'), claim('slow', 'Pending', 2700)], classes: [...classes.values()] }, await checkOptions(check), NOW);
    expect(o.summary).toBe('1 PVC Pending');
    expect(o.findings.map((f) => [f.state, f.text])).toEqual([
      [State.WARNING, '1 volume problem (outside -w 0)'],
      [State.WARNING, 'PVC apps/slow: Pending for 45m, StorageClass openebs-jiva-csi-default'],
      [undefined, 'PVC apps/cache: Pending until a pod uses it (StorageClass microk8s-hostpath is WaitForFirstConsumer)'],
    ]);
  });

  it('--namespace with a PV never bound (no claimRef): left out, not a crash', async () => {
    const available: PersistentVolume = { metadata: { name: 'pv-static' }, spec: { persistentVolumeReclaimPolicy: 'Retain' }, status: { phase: 'Available' } };
    const o = check.evaluate({ ...none, pvs: [available, released('pvc-r')] }, await checkOptions(check, ['--namespace', 'apps']), NOW);
    expect(o.summary).toBe('1 PV not reclaimed');
    expect(Object.fromEntries(o.perfdata.map((p) => [p.label, p.value]))).toMatchObject({ pvs: 1, pvs_released: 1 });
  });

  it('the perfdata: every count from 0, the usage from 0 to 100', async () => {
    const o = check.evaluate({ ...none, usage: usage([{ name: 'a', pvcRef: { name: 'a', namespace: 'apps' }, usedBytes: 10, capacityBytes: 100 }]) }, await checkOptions(check, ['--usage']), NOW);
    expect(o.perfdata.map((p) => [p.label, p.min, p.max])).toEqual([
      ['volume_problems', 0, undefined], ['pvcs', 0, undefined], ['pvcs_pending', 0, undefined], ['pvcs_lost', 0, undefined], ['pvs', 0, undefined],
      ['pvs_failed', 0, undefined], ['pvs_released', 0, undefined], ['attachment_errors', 0, undefined], ['pvc_usage_max', 0, 100],
    ]);
  });

  it('--usage: the step names the fullest claim; --max-items cuts the claim lines; inodes as full as bytes are named', async () => {
    const u = usage([
      { name: 'a', pvcRef: { name: 'db', namespace: 'apps' }, usedBytes: 95 * GiB, capacityBytes: 100 * GiB },
      { name: 'b', pvcRef: { name: 'logs', namespace: 'apps' }, usedBytes: 85 * GiB, capacityBytes: 100 * GiB, inodesUsed: 85, inodes: 100 },
    ]);
    const o = check.evaluate({ ...none, usage: u }, await checkOptions(check, ['--usage']), NOW);
    expect(actions(o)).toEqual([[State.CRITICAL, 'free space on PVC apps/db or expand it (kubectl edit pvc -n apps db: raise spec.resources.requests.storage, if its StorageClass allows expansion)']]);
    expect(o.findings.map((f) => f.text)).toContain('PVC apps/logs on k8s01: 85% used (85GiB of 100GiB), inodes 85%, over --usage-warning 80%');
    const cut = check.evaluate({ ...none, usage: u }, await checkOptions(check, ['--usage', '--max-items', '1']), NOW);
    expect(cut.findings.map((f) => f.text)).toEqual(['PVC apps/db on k8s01: 95% used (95GiB of 100GiB), over --usage-critical 90%']);
  });

  it('--usage with a kubelet that did not answer: the step says where to look', async () => {
    const u = { ...usage([]), failed: [{ node: 'k8s03', why: 'nodes "k8s03" is forbidden: cannot get resource "nodes/proxy"' }] };
    const o = check.evaluate({ ...none, usage: u }, await checkOptions(check, ['--usage']), NOW);
    expect(actions(o)).toEqual([[State.UNKNOWN, '--usage reads each node\'s kubelet stats through the API server (nodes/proxy): see why k8s03\'s kubelet did not answer (kubectl describe node k8s03: Ready? on k8s03: sudo snap services microk8s)']]);
    expect(o.summary).toBe('usage on k8s03 not known');
  });
});

describe('check_k8s_volumes gather: what is asked, and which failures cost only a node (mutation testing, hmut2)', () => {
  type ListOpts = { namespace?: string; labelSelector?: string; fieldSelector?: string; project?: (x: never) => unknown };
  const pod = (name: string, node: string | undefined, claims: string[]): Pod => ({
    metadata: { name, namespace: 'apps' },
    spec: { ...(node && { nodeName: node }), volumes: [...claims.map((c) => ({ name: c, persistentVolumeClaim: { claimName: c } })), { name: 'tmp', emptyDir: {} }] },
    status: { phase: 'Running' },
  } as Pod);
  function gatherWith(o: { pvcs?: PersistentVolumeClaim[]; pods?: Pod[]; stats?: Record<string, object | Error> }, args: string[] = []) {
    const calls: string[] = [];
    const lists: Record<string, unknown[]> = { persistentvolumeclaims: o.pvcs ?? [], persistentvolumes: [], volumeattachments: [], storageclasses: [...classes.values()], pods: o.pods ?? [] };
    const kube = {
      async list(res: { plural: string }, lo: ListOpts = {}) {
        calls.push(`list ${res.plural} ${lo.namespace ?? ''} ${lo.labelSelector ?? ''} ${lo.fieldSelector ?? ''}`.replace(/ +/g, ' ').trim());
        const all = lists[res.plural] ?? [];
        return lo.project ? all.map((x) => lo.project!(x as never)).filter((x) => x !== undefined) : all;
      },
      async getBelow(res: { plural: string }, name: string, sub: string) {
        calls.push(`get ${res.plural} ${name} ${sub}`);
        const r = o.stats?.[name];
        if (r instanceof Error) throw r;
        return r ?? { pods: [] };
      },
    };
    const ctx = { signal: new AbortController().signal, hostClockStart: NOW, verbose: 0, log: () => {}, kube: async () => kube };
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return checkOptions(check, args).then((op) => check.gather(ctx as any, op)).then((d) => ({ d, calls }));
  }
  const apiError = async (status: number | undefined, message: string) => {
    const { KubeApiError } = await import('../../lib/kube/errors.js');
    return new KubeApiError(message, status, undefined, { verb: 'get', resource: 'nodes/proxy' } as never);
  };

  it('StorageClasses only when a claim is Pending (a claim without a status counts as Pending); no usage without --usage', async () => {
    const bound = await gatherWith({ pvcs: [claim('a', 'Bound', 600)] }, ['--namespace', 'apps', '--selector', 'app=db']);
    expect(bound.calls).toEqual(['list persistentvolumeclaims apps app=db', 'list persistentvolumes', 'list volumeattachments']);
    expect(bound.d.classes).toEqual([]);
    expect(bound.d.usage).toBeUndefined();
    const pending = await gatherWith({ pvcs: [claim('a', 'Bound', 600), claim('b', 'Pending', 600)] });
    expect(pending.calls).toContain('list storageclasses');
    expect(pending.d.classes).toHaveLength(2);
    const noStatus = await gatherWith({ pvcs: [{ metadata: { name: 'new', namespace: 'apps' }, spec: {} }] });
    expect(noStatus.calls).toContain('list storageclasses');
  });

  it('--usage: the stats of each node running a pod that mounts a claim, once each, in name order; the claims counted', async () => {
    const pods = [pod('db-0', 'k8s02', ['data-db-0']), pod('web', 'k8s01', ['uploads', 'cache']), pod('db-1', 'k8s02', ['data-db-1']), pod('plain', 'k8s03', []), pod('unbound', undefined, ['x'])];
    const { d, calls } = await gatherWith({ pods }, ['--usage', '--namespace', 'apps']);
    expect(calls).toContain('list pods apps status.phase=Running');
    expect(calls.filter((c) => c.startsWith('get'))).toEqual(['get nodes k8s01 proxy/stats/summary', 'get nodes k8s02 proxy/stats/summary']);
    expect(d.usage).toEqual({ summaries: [{ node: 'k8s01', summary: { pods: [] } }, { node: 'k8s02', summary: { pods: [] } }], failed: [], mounted: 4 });
  });

  it('--usage: a kubelet that does not answer (503, 500) costs its node, said with why; 401, 403 and a network failure end the check', async () => {
    const pods = [pod('db-0', 'k8s02', ['data']), pod('web', 'k8s01', ['uploads'])];
    const e503 = await apiError(503, 'the server is currently unable to handle the request');
    const { d } = await gatherWith({ pods, stats: { k8s02: e503 } }, ['--usage']);
    expect(d.usage).toEqual({ summaries: [{ node: 'k8s01', summary: { pods: [] } }], failed: [{ node: 'k8s02', why: 'the server is currently unable to handle the request' }], mounted: 2 });
    expect((await gatherWith({ pods, stats: { k8s02: await apiError(500, 'proxy error') } }, ['--usage'])).d.usage?.failed).toHaveLength(1);
    for (const e of [await apiError(403, 'nodes "k8s02" is forbidden: cannot get resource "nodes/proxy"'), await apiError(401, 'Unauthorized'), await apiError(undefined, 'connect ECONNREFUSED')]) {
      await expect(gatherWith({ pods, stats: { k8s02: e } }, ['--usage'])).rejects.toThrow(e.message);
    }
  });
});
