import { describe, expect, it } from 'vitest';
import { formatBytes, judgeAttachments, judgeClaims, judgeVolumes, usageFromSummaries, type PersistentVolume, type PersistentVolumeClaim, type StorageClass } from '../../lib/kube/volumes.js';
import { clock } from './support.js';

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
    expect(o.summary).toBe('1 volume lost or failed: PVC apps/data Lost');
    expect(o.actions?.[0]?.text).toMatch(/^PVC apps\/data is Lost: kubectl describe pvc -n apps data names the storage backend's error/);
    expect(Object.fromEntries(o.perfdata.map((p) => [p.label, p.value]))).toMatchObject({ volume_problems: 3, pvcs_lost: 1, pvcs_pending: 1, pvs_released: 1 });
    const scoped = check.evaluate(data, await checkOptions(check, ['--namespace', 'apps']), NOW);
    expect(Object.fromEntries(scoped.perfdata.map((p) => [p.label, p.value]))).toMatchObject({ volume_problems: 2, pvs: 0 });
  });

  it('--usage: the fullest claim as perfdata with its thresholds, each full claim named', async () => {
    const { default: check } = await import('../../checks/volumes.js');
    const { checkOptions } = await import('./support.js');
    const summary = { pods: [{ podRef: { name: 'db-0', namespace: 'apps' }, volume: [{ name: 'data', pvcRef: { name: 'db', namespace: 'apps' }, usedBytes: 85 * 1024 ** 3, capacityBytes: 100 * 1024 ** 3 }] }] };
    const o = check.evaluate({ pvcs: [], pvs: [], attachments: [], classes: [], usage: { summaries: [{ node: 'k8s01', summary }], failed: [], mounted: 1 } }, await checkOptions(check, ['--usage']), NOW);
    expect(o.summary).toBe('1 claim over 80% full (apps/db 85%)');
    expect(o.perfdata.at(-1)).toMatchObject({ label: 'pvc_usage_max', value: 85, uom: '%', min: 0, max: 100 });
    expect(o.findings.map((f) => f.text)).toContain('PVC apps/db on k8s01: 85% used (85GiB of 100GiB), over --usage-warning 80%');
  });
});
