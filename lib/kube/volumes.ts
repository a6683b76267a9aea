// PersistentVolumeClaims, PersistentVolumes, VolumeAttachments and the
// kubelet's volume stats: the shapes the checks read and the pure judgement.
import { formatDuration } from '../plugin/duration.js';
import { objectRef, oneLine, refOf } from './objects.js';
import { parseTime } from './time.js';
import type { ObjectMeta } from './types.js';

export interface PersistentVolumeClaim {
  metadata?: ObjectMeta;
  spec?: { storageClassName?: string; volumeName?: string; resources?: { requests?: { storage?: string } } };
  status?: { phase?: string; capacity?: { storage?: string } };
}

export interface PersistentVolume {
  metadata?: ObjectMeta;
  spec?: {
    storageClassName?: string;
    persistentVolumeReclaimPolicy?: string;
    claimRef?: { namespace?: string; name?: string };
    csi?: { driver?: string };
  };
  /** lastPhaseTransitionTime: beta and on by default in 1.29, GA in 1.31. */
  status?: { phase?: string; message?: string; reason?: string; lastPhaseTransitionTime?: string };
}

export interface VolumeError { time?: string; message?: string; errorCode?: number }

/** storage.k8s.io/v1 VolumeAttachment, written by the attach/detach controller and the CSI external-attacher. */
export interface VolumeAttachment {
  metadata?: ObjectMeta;
  spec?: { attacher?: string; nodeName?: string; source?: { persistentVolumeName?: string } };
  status?: { attached?: boolean; attachError?: VolumeError; detachError?: VolumeError };
}

export interface StorageClass {
  metadata?: ObjectMeta;
  provisioner?: string;
  volumeBindingMode?: string;
}

/** The part of the kubelet's /stats/summary (Summary of the kubelet's stats API, v1alpha1) this reads. */
export interface StatsSummary {
  node?: { nodeName?: string };
  pods?: {
    podRef?: { name?: string; namespace?: string };
    volume?: {
      name?: string;
      pvcRef?: { name?: string; namespace?: string };
      usedBytes?: number;
      capacityBytes?: number;
      availableBytes?: number;
      inodesUsed?: number;
      inodes?: number;
      inodesFree?: number;
    }[];
  }[];
}

/** The annotation the scheduler puts on a WaitForFirstConsumer claim once a pod using it is scheduled. */
export const SELECTED_NODE = 'volume.kubernetes.io/selected-node';

export type VolumeSeverity = 'critical' | 'warning';

export interface VolumeProblem {
  severity: VolumeSeverity;
  /** 'PVC media/data', 'PV pvc-...', 'VolumeAttachment csi-...' */
  what: string;
  why: string;
}

export interface VolumeJudgeOptions {
  now: number;
  /** Seconds a claim may stay Pending, or a volume Released/Pending, before it counts. */
  window: number;
}

const ago = (ms: number | undefined, now: number) => (ms === undefined ? undefined : Math.max(0, (now - ms) / 1000));

/**
 * Claims: Lost (the bound volume is gone: the data is unreachable) is
 * critical; Pending longer than the window is a warning, except a
 * WaitForFirstConsumer claim no pod has asked for yet (Pending by design).
 * A claim has no phase transition time: Pending is timed from its creation.
 */
export function judgeClaims(pvcs: PersistentVolumeClaim[], classes: Map<string, StorageClass>, o: VolumeJudgeOptions): { problems: VolumeProblem[]; waiting: string[] } {
  const problems: VolumeProblem[] = [];
  const waiting: string[] = [];
  for (const c of pvcs) {
    const id = `PVC ${objectRef(c.metadata)}`;
    const phase = c.status?.phase;
    if (phase === 'Lost') {
      problems.push({ severity: 'critical', what: id, why: `Lost: its volume ${c.spec?.volumeName ?? '?'} no longer exists` });
    } else if (phase === 'Pending' || phase === undefined) {
      const sc = c.spec?.storageClassName !== undefined ? classes.get(c.spec.storageClassName) : undefined;
      const selected = c.metadata?.annotations?.[SELECTED_NODE];
      if (sc?.volumeBindingMode === 'WaitForFirstConsumer' && !selected) {
        waiting.push(`${id}: Pending until a pod uses it (StorageClass ${sc.metadata?.name} is WaitForFirstConsumer)`);
        continue;
      }
      const age = ago(parseTime(c.metadata?.creationTimestamp), o.now);
      if (age === undefined || age < o.window) continue;
      const cls = c.spec?.storageClassName;
      const hint = cls !== undefined && cls !== '' && !sc && classes.size ? ` (StorageClass ${cls} does not exist)` : selected ? ` (for a pod on ${selected})` : '';
      problems.push({ severity: 'warning', what: id, why: `Pending for ${formatDuration(age)}${cls ? `, StorageClass ${cls}` : ''}${hint}` });
    }
  }
  return { problems, waiting };
}

/**
 * Volumes: Failed (the reclaim failed: status.message says why) is critical;
 * Pending or Released longer than the window is a warning when
 * reclaimPolicy is Delete (the provisioner should have deleted it); a
 * Released volume under Retain waits for a person by design and is only
 * counted. Before 1.29 there is no lastPhaseTransitionTime: how long is not
 * known, and the text says so.
 */
export function judgeVolumes(pvs: PersistentVolume[], o: VolumeJudgeOptions): { problems: VolumeProblem[]; retained: string[] } {
  const problems: VolumeProblem[] = [];
  const retained: string[] = [];
  for (const v of pvs) {
    const id = `PV ${v.metadata?.name ?? '?'}`;
    const phase = v.status?.phase;
    const since = ago(parseTime(v.status?.lastPhaseTransitionTime), o.now);
    const forHow = since === undefined ? 'for an unknown time (no status.lastPhaseTransitionTime before Kubernetes 1.29)' : `for ${formatDuration(since)}`;
    const claim = v.spec?.claimRef ? ` (was ${refOf(v.spec.claimRef.namespace, v.spec.claimRef.name)})` : '';
    const policy = v.spec?.persistentVolumeReclaimPolicy ?? 'Retain';
    if (phase === 'Failed') {
      problems.push({ severity: 'critical', what: id, why: `Failed ${forHow}${claim}: ${oneLine(v.status?.message, 200) || v.status?.reason || 'no message'}` });
    } else if (phase === 'Released' || phase === 'Pending') {
      if (since !== undefined && since < o.window) continue;
      if (phase === 'Released' && policy !== 'Delete') {
        retained.push(`${id}: Released ${forHow}${claim}, reclaimPolicy ${policy}: waits for a person to reuse or delete it`);
        continue;
      }
      const why = phase === 'Released'
        ? `Released ${forHow}${claim} with reclaimPolicy Delete: the provisioner has not deleted it`
        : `Pending ${forHow}: not available for binding`;
      problems.push({ severity: 'warning', what: id, why });
    }
  }
  return { problems, retained };
}

/**
 * VolumeAttachments with an attach or detach error the attacher wrote (it
 * clears attachError once an attach succeeds, so one that is there is
 * current).
 */
export function judgeAttachments(vas: VolumeAttachment[], o: { now: number }): VolumeProblem[] {
  const out: VolumeProblem[] = [];
  for (const va of vas) {
    const pv = va.spec?.source?.persistentVolumeName;
    const what = `VolumeAttachment ${va.metadata?.name ?? '?'}${pv ? ` (${pv} on ${va.spec?.nodeName ?? '?'})` : ''}`;
    for (const [kind, err] of [['attach', va.status?.attachError], ['detach', va.status?.detachError]] as const) {
      if (!err) continue;
      const when = ago(parseTime(err.time), o.now);
      out.push({ severity: 'warning', what, why: `${kind} failed${when !== undefined ? ` ${formatDuration(when)} ago` : ''}: ${oneLine(err.message, 200) || 'no message'}` });
    }
  }
  return out;
}

export interface VolumeUsage {
  /** namespace/name of the claim */
  pvc: string;
  node: string;
  usedPercent?: number;
  inodesPercent?: number;
  usedBytes?: number;
  capacityBytes?: number;
}

/**
 * Per-claim usage from the nodes' stats summaries. A claim mounted by
 * several pods (ReadWriteMany, or two pods on one node) appears once per pod:
 * the highest reading is kept.
 */
export function usageFromSummaries(summaries: { node: string; summary: StatsSummary }[]): VolumeUsage[] {
  const byPvc = new Map<string, VolumeUsage>();
  for (const { node, summary } of summaries) {
    for (const pod of summary.pods ?? []) {
      for (const vol of pod.volume ?? []) {
        if (!vol.pvcRef?.name) continue;
        const pvc = refOf(vol.pvcRef.namespace ?? pod.podRef?.namespace, vol.pvcRef.name);
        const pct = (a?: number, b?: number) => (a !== undefined && b ? Math.round((a / b) * 1000) / 10 : undefined);
        const u: VolumeUsage = {
          pvc, node, usedBytes: vol.usedBytes, capacityBytes: vol.capacityBytes,
          usedPercent: pct(vol.usedBytes, vol.capacityBytes), inodesPercent: pct(vol.inodesUsed, vol.inodes),
        };
        const prev = byPvc.get(pvc);
        if (!prev || (u.usedPercent ?? -1) > (prev.usedPercent ?? -1)) byPvc.set(pvc, u);
      }
    }
  }
  return [...byPvc.values()].sort((a, b) => (b.usedPercent ?? -1) - (a.usedPercent ?? -1) || a.pvc.localeCompare(b.pvc));
}

/** 1536 -> '1.5KiB'. */
export function formatBytes(n: number | undefined): string {
  if (n === undefined) return '?';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${i ? v.toFixed(1).replace(/\.0$/, '') : v}${units[i]}`;
}
