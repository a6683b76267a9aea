import { RESOURCES } from '../lib/kube/resources.js';
import { KubeApiError } from '../lib/kube/errors.js';
import { mapBounded } from '../lib/kube/parallel.js';
import type { Pod } from '../lib/kube/types.js';
import {
  formatBytes, judgeAttachments, judgeClaims, judgeVolumes, usageFromSummaries,
  type PersistentVolume, type PersistentVolumeClaim, type StatsSummary, type StorageClass, type VolumeAttachment, type VolumeProblem,
} from '../lib/kube/volumes.js';
import { defineCheck, opt } from '../lib/plugin/check.js';
import { declareMetrics, percent, range } from '../lib/plugin/context.js';
import { UsageError } from '../lib/plugin/errors.js';
import { judge, Report } from '../lib/plugin/report.js';
import { firstFew, plural } from '../lib/plugin/result.js';
import { State } from '../lib/plugin/state.js';

export interface Data {
  pvcs: PersistentVolumeClaim[];
  pvs: PersistentVolume[];
  attachments: VolumeAttachment[];
  /** Only looked up when a claim is Pending (WaitForFirstConsumer is Pending by design). */
  classes: StorageClass[];
  /** --usage: one stats summary per node that runs a pod mounting a claim. */
  usage?: {
    summaries: { node: string; summary: StatsSummary }[];
    /** Nodes whose kubelet could not be asked, with why. */
    failed: { node: string; why: string }[];
    /** Claims mounted by running pods (namespace/name). */
    mounted: number;
  };
}

const PARALLEL = 4;

/**
 * What `kubectl describe` takes for a problem's subject: 'PVC apps/data' is `pvc -n apps data`,
 * 'PV pvc-1' is `pv pvc-1`, 'VolumeAttachment csi-1 (pvc-9 on k8s02)' is `volumeattachment csi-1`
 * (what follows the name is for the reader, not the shell).
 */
function describeArgs(what: string): string {
  const [kind = '', ref = ''] = what.split(' ');
  const slash = ref.indexOf('/');
  return `${kind.toLowerCase()} ${slash < 0 ? ref : `-n ${ref.slice(0, slash)} ${ref.slice(slash + 1)}`}`;
}

/** One line per node: the kubelet may be down (503 from the proxy) while the API answers. */
function kubeletUnreachable(e: unknown): e is KubeApiError {
  return e instanceof KubeApiError && e.status !== undefined && e.status !== 401 && e.status !== 403;
}

const perf = declareMetrics({
  volume_problems: { describe: 'Claims, volumes and attachments with a problem', judge: range('warning', 'critical', { note: 'Lost claims and Failed volumes are CRITICAL whatever the count' }) },
  pvcs: { describe: 'Claims listed' },
  pvcs_pending: { describe: 'Claims Pending longer than --window (WaitForFirstConsumer without a pod excepted)' },
  pvcs_lost: { describe: 'Claims Lost' },
  pvs: { describe: 'Volumes listed' },
  pvs_failed: { describe: 'Volumes Failed' },
  pvs_released: { describe: 'Volumes Released or Pending longer than --window (any reclaim policy)' },
  attachment_errors: { describe: 'VolumeAttachments with an attach or detach error' },
  pvc_usage_max: { describe: 'The fullest mounted claim, percent of its capacity (--usage)', uom: '%', judge: percent('usageWarning', 'usageCritical', 'the claim\'s capacity (bytes or inodes)', { as: 'max' }) },
});

export default defineCheck({
  name: 'volumes',
  title: 'VOLUMES',
  scope: 'cluster',
  nrpe: {
    args: '-t 20 -w 0 --window 5m',
    about:
      'PVCs Pending/Lost, PVs Failed or left Released, VolumeAttachment errors. Add --usage (and nodes/proxy in deploy/rbac.yaml) for fullness.',
  },
  summary: 'PVCs Pending or Lost, PVs Failed or left Released, VolumeAttachment errors; --usage: how full claims are',
  description:
    'Claims that never bound or lost their volume, volumes not reclaimed, attach errors; with --usage, how full claims ' +
    'are. Lists PersistentVolumeClaims (--namespace or all, --selector on the server), PersistentVolumes and ' +
    'VolumeAttachments (cluster-scoped; with --namespace only those of its claims). CRITICAL: a claim Lost (its volume is ' +
    'gone), a volume Failed (reclaim failed; status.message says why). Counted by -w/-c: a claim Pending for longer ' +
    'than --window (timed from its creation; a claim of a WaitForFirstConsumer StorageClass that no pod asked for yet is ' +
    'Pending by design and only listed), a volume Pending or Released for longer than --window with reclaimPolicy ' +
    'Delete (its provisioner did not delete it; Released under Retain waits for a person and is only counted), a ' +
    'VolumeAttachment with status.attachError or detachError. How long a volume has been in its phase comes from ' +
    'status.lastPhaseTransitionTime (Kubernetes 1.29+); before that it is not known and the line says so.\n\n' +
    'With --usage the check also reads the kubelet stats summary (through the API server\'s node proxy, NODE/proxy/stats/summary: get on ' +
    'nodes/proxy, commented out in deploy/rbac.yaml) of each node that runs a pod mounting a claim, no other node, and ' +
    'judges each claim\'s used bytes and inodes in percent of capacity by --usage-warning/--usage-critical.',
  thresholds: { describe: 'number of volume problems (Lost claims and Failed volumes are CRITICAL whatever the count)', warning: '0' },
  selection: { what: 'claims', name: true },
  options: {
    namespace: opt.namespace({ describe: 'Only claims in this namespace, and the volumes and attachments of those claims' }),
    selector: opt.labelSelector({ describe: 'Only claims with these labels (server-side)' }),
    window: opt.duration({ default: '5m', min: 1, describe: 'How long a claim may be Pending, or a volume Pending/Released, before it counts' }),
    usage: opt.flag({ describe: 'Also judge how full each mounted claim is (kubelet stats summary; needs get on nodes/proxy)' }),
    'usage-warning': opt.int({ default: 80, min: 1, max: 100, describe: 'WARNING when a claim is more than this percent full (bytes or inodes)' }),
    'usage-critical': opt.int({ default: 90, min: 1, max: 100, describe: 'CRITICAL when a claim is more than this percent full (bytes or inodes)' }),
    'max-items': opt.int({ default: 20, min: 1, max: 1000, describe: 'List at most this many problems in the long output' }),
  },
  perfdata: perf.docs,
  examples: [
    ['$0 --kubeconfig /etc/nagios/k8s-nrpe.kubeconfig', 'every claim, volume and attachment'],
    ['$0 --usage --usage-warning 85 --usage-critical 95', 'and how full they are (RBAC: nodes/proxy)'],
  ],

  validate(o) {
    if (o.usageWarning > o.usageCritical) throw new UsageError(`--usage-warning ${o.usageWarning} is above --usage-critical ${o.usageCritical}`);
  },

  async gather(ctx, o) {
    const kube = await ctx.kube();
    const [pvcs, pvs, attachments] = await Promise.all([
      kube.list<PersistentVolumeClaim>(RESOURCES.persistentvolumeclaims, { namespace: o.namespace, labelSelector: o.selector, selected: true }),
      kube.list<PersistentVolume>(RESOURCES.persistentvolumes),
      kube.list<VolumeAttachment>(RESOURCES.volumeattachments),
    ]);
    const pending = pvcs.some((c) => (c.status?.phase ?? 'Pending') === 'Pending');
    const [classes, usage] = await Promise.all([
      pending ? kube.list<StorageClass>(RESOURCES.storageclasses) : Promise.resolve([] as StorageClass[]),
      o.usage ? (async (): Promise<Data['usage']> => {
        // Only nodes running a pod that mounts a claim: the pods say which.
        const mounts = await kube.list<Pod, { node: string; claims: number }>(RESOURCES.pods, {
          namespace: o.namespace, fieldSelector: 'status.phase=Running',
          project: (p) => {
            const claims = (p.spec?.volumes ?? []).filter((v) => v.persistentVolumeClaim?.claimName).length;
            return claims && p.spec?.nodeName ? { node: p.spec.nodeName, claims } : undefined;
          },
        });
        const nodes = [...new Set(mounts.map((m) => m.node))].sort();
        const failed: { node: string; why: string }[] = [];
        const got = await mapBounded(nodes, PARALLEL, async (node) => {
          try {
            return { node, summary: await kube.getBelow<StatsSummary>(RESOURCES.nodes, node, 'proxy/stats/summary') };
          } catch (e) {
            if (!kubeletUnreachable(e)) throw e;
            failed.push({ node, why: e.message });
            return undefined;
          }
        });
        return { summaries: got.filter((x): x is NonNullable<typeof x> => !!x), failed, mounted: mounts.reduce((s, m) => s + m.claims, 0) };
      })() : Promise.resolve(undefined),
    ]);
    return { pvcs, pvs, attachments, classes, usage };
  },

  evaluate(d, o, now) {
    const r = new Report();
    const opts = { now, window: o.window };
    // With --namespace: only the volumes bound to its claims, and their attachments.
    const pvs = o.namespace ? d.pvs.filter((v) => v.spec?.claimRef?.namespace === o.namespace) : d.pvs;
    const pvNames = new Set(pvs.map((v) => v.metadata?.name));
    const attachments = o.namespace ? d.attachments.filter((a) => pvNames.has(a.spec?.source?.persistentVolumeName)) : d.attachments;

    const classes = new Map(d.classes.map((c) => [c.metadata?.name ?? '', c]));
    const claims = judgeClaims(d.pvcs, classes, opts);
    const volumes = judgeVolumes(pvs, opts);
    const attach = judgeAttachments(attachments, { now });
    const problems: VolumeProblem[] = [...claims.problems, ...volumes.problems, ...attach];

    const jp = perf.judge(r, 'volume_problems', problems.length, o, { min: 0 });
    const critical = problems.filter((p) => p.severity === 'critical');
    if (critical.length) {
      const names = firstFew(critical.map((p) => `${p.what} ${p.why.split(':')[0]}`), 2);
      const [c0] = critical as [VolumeProblem];
      const phase0 = `${c0.what} is ${c0.why.split(':')[0]}`;
      // A claim is Lost when its volume went; a volume is Failed when its reclaim failed, after its claim went.
      r.action(State.CRITICAL, c0.what.startsWith('PV ')
        ? `${phase0}: its reclaim failed, and its claim is gone, so no pod waits for it; kubectl describe ${describeArgs(c0.what)} says why (status.message): ` +
          `fix that (the provisioner, the storage backend), then kubectl delete ${describeArgs(c0.what)}, and the volume on the backend if the reclaim left it`
        : `${phase0}: kubectl describe ${describeArgs(c0.what)} names the storage backend's error; ` +
          'restore the volume from the backend (or a backup) and rebind the claim; its pods stay Pending until then');
      r.problem(State.CRITICAL, `${plural(critical.length, 'volume')} lost or failed: ${names}`);
    }
    const rest = critical.length ? problems.filter((p) => p.severity !== 'critical') : problems;
    if (jp.state !== State.OK && rest.length) {
      const kinds = [
        [claims.problems.filter((p) => p.severity !== 'critical').length, 'PVC Pending', 'PVCs Pending'],
        [volumes.problems.filter((p) => p.severity !== 'critical').length, 'PV not reclaimed', 'PVs not reclaimed'],
        [attach.length, 'attachment error', 'attachment errors'],
      ] as const;
      const what = kinds.filter(([n]) => n > 0).map(([n, one, many]) => `${n} ${n === 1 ? one : many}`).join(', ');
      r.problem(jp.state, what, `${plural(problems.length, 'volume problem')} (${jp.hint})`);
      r.action(jp.state, `kubectl describe ${describeArgs(rest[0]!.what)}: its events name the provisioner, StorageClass or attach error; fix that (a Released PV: delete it or clear its claimRef)`);
    } else if (jp.state !== State.OK) r.add(jp.state, `${plural(problems.length, 'volume problem')} (${jp.hint})`);
    for (const p of [...critical, ...rest].slice(0, o.maxItems)) {
      const state = p.severity === 'critical' ? State.CRITICAL : jp.state;
      r.add(state === State.OK ? undefined : state, `${p.what}: ${p.why}`);
    }
    if (problems.length > o.maxItems) r.info(`... and ${problems.length - o.maxItems} more (--max-items ${o.maxItems})`);
    for (const line of [...claims.waiting, ...volumes.retained]) r.info(line);

    const count = (xs: VolumeProblem[], re: RegExp) => xs.filter((p) => re.test(p.why)).length;
    perf.metric(r, 'pvcs', d.pvcs.length, o, { min: 0 });
    perf.metric(r, 'pvcs_pending', count(claims.problems, /^Pending/), o, { min: 0 });
    perf.metric(r, 'pvcs_lost', count(claims.problems, /^Lost/), o, { min: 0 });
    perf.metric(r, 'pvs', pvs.length, o, { min: 0 });
    perf.metric(r, 'pvs_failed', count(volumes.problems, /^Failed/), o, { min: 0 });
    perf.metric(r, 'pvs_released', volumes.problems.length - count(volumes.problems, /^Failed/) + volumes.retained.length, o, { min: 0 });
    perf.metric(r, 'attachment_errors', attach.length, o, { min: 0 });

    let usageText = '';
    if (d.usage) {
      const u = usageFromSummaries(d.usage.summaries);
      const pct = (x: (typeof u)[number]) => Math.max(x.usedPercent ?? 0, x.inodesPercent ?? 0);
      // '80' as a Monitoring Plugins range: above 80 alerts (the context's as: 'max').
      const { warn, crit } = perf.options('pvc_usage_max', o);
      const top = u.length ? Math.max(...u.map(pct)) : 0;
      const jt = perf.judge(r, 'pvc_usage_max', top, o, { min: 0, max: 100 });
      const full = u.map((x) => ({ x, j: judge(pct(x), warn, crit) })).filter((f) => f.j.state !== State.OK);
      if (full.length) {
        const f0 = full[0]!;
        r.action(jt.state, `free space on PVC ${f0.x.pvc} or expand it (kubectl edit ${describeArgs(`PVC ${f0.x.pvc}`)}: raise spec.resources.requests.storage, if its StorageClass allows expansion)`);
        r.problem(jt.state, `${plural(full.length, 'claim')} over ${jt.state === State.CRITICAL ? o.usageCritical : o.usageWarning}% full (${f0.x.pvc} ${pct(f0.x)}%)`);
      }
      for (const { x, j } of full.slice(0, o.maxItems)) {
        const inodes = x.inodesPercent !== undefined && x.inodesPercent >= (x.usedPercent ?? 0) ? `, inodes ${x.inodesPercent}%` : '';
        const over = j.state === State.CRITICAL ? `--usage-critical ${o.usageCritical}` : `--usage-warning ${o.usageWarning}`;
        r.add(j.state, `PVC ${x.pvc} on ${x.node}: ${x.usedPercent ?? '?'}% used (${formatBytes(x.usedBytes)} of ${formatBytes(x.capacityBytes)})${inodes}, over ${over}%`);
      }
      for (const f of d.usage.failed) {
        r.problem(State.UNKNOWN, `usage on ${f.node} not known`, `usage of claims on ${f.node} not known: ${f.why}`);
        r.action(State.UNKNOWN, `--usage reads each node's kubelet stats through the API server (nodes/proxy): see why ${f.node}'s kubelet did not answer (kubectl describe node ${f.node}: Ready? on ${f.node}: sudo snap services microk8s)`);
      }
      usageText = `, ${plural(u.length, 'mounted claim')} at most ${top}% full`;
    }

    const scope = o.namespace ? ` in ${o.namespace}` : '';
    return r.done(`${plural(d.pvcs.length, 'PVC')}${scope}, ${plural(pvs.length, 'PV')}, ${plural(attachments.length, 'VolumeAttachment')}: none lost, failed, stuck or in error${usageText}`);
  },
});
