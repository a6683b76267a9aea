import { RESOURCES } from '../lib/kube/client.js';
import { compactEvent, eventReporter, occurrencesSince } from '../lib/kube/events.js';
import { mapBounded } from '../lib/kube/parallel.js';
import type { KubeEvent, Pod } from '../lib/kube/types.js';
import { defineCheck, opt } from '../lib/plugin/check.js';
import { formatDuration } from '../lib/plugin/duration.js';
import { parseRange } from '../lib/plugin/range.js';
import { judge, Report } from '../lib/plugin/report.js';
import { plural } from '../lib/plugin/result.js';
import { State, worst } from '../lib/plugin/state.js';

export interface Data {
  sandboxChanged: KubeEvent[];
  createFailed: KubeEvent[];
  /**
   * Node of the pods whose events name no reporting host, looked up by GET
   * (key "namespace/name"). Kubelet events nearly always carry source.host or
   * reportingInstance, so this is usually empty.
   */
  podNodes: Record<string, string>;
}

/** At most this many pod GETs to place host-less events on a node; the rest count as "node unknown". */
export const MAX_POD_LOOKUPS = 20;
const LOOKUP_PARALLEL = 5;
const UNKNOWN_NODE = '(node unknown)';
/** The fixed rule for name_reserved, shown in its perfdata: any occurrence is CRITICAL. */
const ANY = parseRange('0');

/**
 * containerd's answer when BoltDB still holds a sandbox name from before the
 * reboot: `failed to reserve sandbox name "web_apps_<uid>_1": name "..." is
 * reserved for "<stale sandbox id>"`. Any occurrence is the stale-state
 * signature (RC-3 of the incident review), whatever the count.
 */
const RESERVED = /is reserved for "?([0-9a-f]{6,64})?/i;

const podKey = (ns?: string, name?: string) => `${ns ?? ''}/${name ?? ''}`;

function inScope(e: KubeEvent, since: number): boolean {
  return occurrencesSince(e, since) > 0;
}

interface PodRow { ns: string; name: string; node: string; changed: number; failed: number; reserved: number; message?: string }
interface NodeRow { node: string; changed: number; failed: number; reserved: number; pods: Set<string>; staleIds: Set<string> }

export default defineCheck({
  name: 'sandbox_changed',
  title: 'SANDBOX CHANGED',
  scope: 'cluster',
  summary: 'SandboxChanged storms and stale "name is reserved" sandboxes, per node',
  description:
    'Pod sandbox churn per node: SandboxChanged ("Pod sandbox changed, it will be killed and re-created") and ' +
    'FailedCreatePodSandBox events from the kubelet in --window. Any "name ... is reserved for ..." failure is ' +
    'CRITICAL: containerd kept sandbox state from before a reboot and will refuse every pod that ran on that node ' +
    'until the stale sandboxes are removed (crictl stopp/rmp) or containerd/kubelite is restarted.',
  thresholds: {
    // Judged per node (containerd state is per node), so the limits do not grow
    // with the cluster. A node's reboot or containerd restart recreates every
    // sandbox once: one SandboxChanged per pod, 10-40 on a small node, for one
    // window. A pod that cannot get a sandbox is retried by its pod worker
    // every ~10-20 s, and the kubelet's event spam filter (burst 25 per
    // object, then one per 5 min) lets up to ~25 of those through in the first
    // window and ~2 per window after. So more than 10 is a node that is
    // recreating sandboxes or has a pod failing for minutes (WARNING), and more
    // than 50 is several pods failing at once or a restart loop (CRITICAL).
    describe: 'SandboxChanged + FailedCreatePodSandBox occurrences on one node in --window (the worst node is judged)',
    warning: '10',
    critical: '50',
  },
  options: {
    window: opt.duration({ default: '10m', min: 1, describe: 'How far back events count (aggregated events count their occurrences inside it)' }),
    node: opt.node({ describe: 'Only judge this node (default: every node, reported per node)' }),
  },
  examples: [
    ['$0 --kubeconfig /etc/nagios/k8s-nrpe.kubeconfig', 'every node; CRITICAL on a stale sandbox name or more than 50 events on a node in 10m'],
    ['$0 --node k8s02 -w 20 -c 100 --window 15m', 'one node, more tolerant'],
  ],


  async gather(ctx, o): Promise<Data> {
    const kube = await ctx.kube();
    // Two server-side filtered lists in parallel. No source=kubelet term: the
    // `source` field is source.component only, and events written through
    // events.k8s.io carry reportingComponent instead; both reasons come only
    // from the kubelet anyway. The node is source.host / reportingInstance,
    // which are not selectable: filtered here.
    const [sandboxChanged, createFailed] = await Promise.all([
      kube.list<KubeEvent, KubeEvent>(RESOURCES.events, { fieldSelector: 'involvedObject.kind=Pod,reason=SandboxChanged', project: compactEvent }),
      kube.list<KubeEvent, KubeEvent>(RESOURCES.events, { fieldSelector: 'involvedObject.kind=Pod,reason=FailedCreatePodSandBox', project: compactEvent }),
    ]);
    // Events that count but name no host: ask for their pods' node, bounded.
    const since = ctx.now - o.window * 1000;
    const wanted = new Map<string, { ns: string; name: string; uid?: string }>();
    for (const e of [...sandboxChanged, ...createFailed]) {
      const io = e.involvedObject;
      if (eventReporter(e) || !io?.name || !io.namespace || !inScope(e, since)) continue;
      wanted.set(podKey(io.namespace, io.name), { ns: io.namespace, name: io.name, uid: io.uid });
    }
    const lookups = [...wanted.entries()].slice(0, MAX_POD_LOOKUPS);
    const podNodes: Record<string, string> = {};
    await mapBounded(lookups, LOOKUP_PARALLEL, async ([k, p]) => {
      const pod = await kube.getOptional<Pod>(RESOURCES.pods, p.name, p.ns);
      // A pod recreated under the same name is not the one the event is about.
      if (pod?.spec?.nodeName && (!p.uid || !pod.metadata?.uid || pod.metadata.uid === p.uid)) podNodes[k] = pod.spec.nodeName;
    });
    return { sandboxChanged, createFailed, podNodes };
  },

  evaluate(d, o, now) {
    const since = now - o.window * 1000;
    const win = formatDuration(o.window);
    const nodes = new Map<string, NodeRow>();
    const pods = new Map<string, PodRow>();

    const tally = (e: KubeEvent, kind: 'changed' | 'failed') => {
      const n = occurrencesSince(e, since);
      if (n <= 0) return;
      const io = e.involvedObject ?? {};
      const key = podKey(io.namespace, io.name);
      const node = eventReporter(e) ?? d.podNodes[key] ?? UNKNOWN_NODE;
      if (o.node && node !== o.node) return;
      const reserved = kind === 'failed' ? RESERVED.exec(e.message ?? '') : null;

      let nr = nodes.get(node);
      if (!nr) nodes.set(node, (nr = { node, changed: 0, failed: 0, reserved: 0, pods: new Set(), staleIds: new Set() }));
      nr[kind] += n;
      const podId = io.uid || key;
      nr.pods.add(podId);
      if (reserved) {
        nr.reserved += n;
        if (reserved[1]) nr.staleIds.add(reserved[1].slice(0, 13));
      }

      const pk = `${node}\u0000${podId}`;
      let pr = pods.get(pk);
      if (!pr) pods.set(pk, (pr = { ns: io.namespace ?? '?', name: io.name ?? '?', node, changed: 0, failed: 0, reserved: 0 }));
      pr[kind] += n;
      if (reserved) pr.reserved += n;
      if (kind === 'failed' && (!pr.message || reserved)) pr.message = e.message;
    };
    for (const e of d.sandboxChanged) tally(e, 'changed');
    for (const e of d.createFailed) tally(e, 'failed');

    const total = (r: { changed: number; failed: number }) => r.changed + r.failed;
    const rows = [...nodes.values()].sort((a, b) => b.reserved - a.reserved || total(b) - total(a) || a.node.localeCompare(b.node));
    const podRows = [...pods.values()].sort((a, b) => b.reserved - a.reserved || total(b) - total(a) || a.name.localeCompare(b.name));

    const r = new Report();
    const reservedNodes = rows.filter((n) => n.reserved);
    const stormHits: { row: NodeRow; state: State }[] = [];
    for (const n of rows) {
      const counts = `${plural(total(n), 'sandbox event')} in ${win} (${n.changed} SandboxChanged, ${n.failed} FailedCreatePodSandBox) on ${plural(n.pods.size, 'pod')}`;
      if (n.reserved) {
        const ids = [...n.staleIds].slice(0, 2).join(' ');
        r.add(State.CRITICAL, `containerd stale sandbox state on ${n.node}: sandbox names "reserved for" sandboxes from before the reboot (${n.reserved}x in ${win}); ${counts}`);
        r.add(State.CRITICAL,
          `remedy on ${n.node}: crictl stopp, then crictl rmp, the stale sandboxes${ids ? ` (e.g. ${ids})` : ''}, ` +
          'or restart containerd/kubelite (snap restart microk8s.daemon-containerd)');
      } else {
        const storm = judge(total(n), o.warning, o.critical).state;
        if (storm !== State.OK) stormHits.push({ row: n, state: storm });
        r.add(storm, `${n.node}: ${counts}`);
      }
    }
    for (const p of podRows.slice(0, 5)) {
      const what = [
        p.failed && `${p.failed} FailedCreatePodSandBox${p.reserved ? ' (name reserved)' : ''}`,
        p.changed && `${p.changed} SandboxChanged`,
      ].filter(Boolean).join(', ');
      r.info(`${p.ns}/${p.name} on ${p.node}: ${what} in ${win}${p.message ? `: ${shortMessage(p.message)}` : ''}`);
    }
    if (podRows.length > 5) r.info(`${podRows.length - 5} more pods with sandbox events`);

    const sum = (f: (n: NodeRow) => number) => rows.reduce((acc, n) => acc + f(n), 0);
    const changed = sum((n) => n.changed);
    const failed = sum((n) => n.failed);
    const reserved = sum((n) => n.reserved);
    r.metric('sandbox_changed', changed, { min: 0 })
      .metric('create_failed', failed, { min: 0 })
      .metric('name_reserved', reserved, { crit: ANY, min: 0 })
      .metric('affected_pods', podRows.length, { min: 0 })
      .metric('affected_nodes', rows.filter((n) => n.node !== UNKNOWN_NODE).length, { min: 0 })
      // Judged per node above; the worst node carries the ranges.
      .metric('worst_node_events', rows.reduce((m, n) => Math.max(m, total(n)), 0), { warn: o.warning, crit: o.critical, min: 0 });

    if (reservedNodes.length) {
      const names = reservedNodes.map((n) => n.node).join(', ');
      const podsHit = reservedNodes.reduce((acc, n) => acc + n.pods.size, 0);
      r.problem(State.CRITICAL,
        `containerd stale sandbox state on ${names}: ${plural(podsHit, 'pod')} cannot get a sandbox ` +
        `("name is reserved for" a pre-reboot sandbox, ${reserved}x in ${win}); on ${names} crictl stopp/rmp the stale sandboxes or restart containerd/kubelite`);
    }
    const stormState = worst(...stormHits.map((h) => h.state));
    const hit = stormHits.filter((h) => h.state === stormState).map((h) => h.row);
    if (hit.length) {
      r.problem(stormState,
        `sandbox storm on ${hit.map((n) => `${n.node} (${total(n)})`).join(', ')}: ` +
        `${changed} SandboxChanged, ${failed} FailedCreatePodSandBox in ${win} on ${plural(podRows.length, 'pod')}`);
    }
    const scope = o.node ? `on ${o.node}` : `on ${plural(rows.length, 'node')}`;
    return r.done(rows.length
      ? `${plural(changed + failed, 'sandbox event')} in ${win} ${scope}, within limits (worst ${rows[0]!.node}: ${total(rows[0]!)})`
      : `no sandbox events in ${win}${o.node ? ` on ${o.node}` : ''}`);
  },
});

/** The containerd message names the sandbox twice; the stale id is what an operator needs. */
function shortMessage(message: string): string {
  const m = RESERVED.exec(message);
  if (m) return `sandbox name is reserved for ${m[1] ? m[1].slice(0, 13) : 'another sandbox'} (stale)`;
  return message.replace(/^Failed to create pod sandbox: rpc error: code = \w+ desc = /, '');
}
