import { RESOURCES } from '../lib/kube/resources.js';
import { compactEvent, eventFirstSeen, eventLastSeen, eventReporter, occurrencesSince } from '../lib/kube/events.js';
import { mapBounded } from '../lib/kube/parallel.js';
import { nodeNamed, unknownNode } from '../lib/kube/nodes.js';
import type { KubeEvent, Pod } from '../lib/kube/types.js';
import { defineCheck, opt } from '../lib/plugin/check.js';
import { declareMetrics, fixed, range } from '../lib/plugin/context.js';
import { formatDuration } from '../lib/plugin/duration.js';
import { judge, Report } from '../lib/plugin/report.js';
import { plural } from '../lib/plugin/result.js';
import { State, worst } from '../lib/plugin/state.js';
import { refOf } from '../lib/kube/objects.js';

export interface Data {
  sandboxChanged: KubeEvent[];
  createFailed: KubeEvent[];
  /**
   * Node of the pods whose events name no reporting host, looked up by GET
   * (key "namespace/name"). Kubelet events nearly always carry source.host or
   * reportingInstance, so this is usually empty.
   */
  podNodes: Record<string, string>;
  /**
   * Pods with "name is reserved" failures that are still Pending (key
   * "namespace/name"): they are waiting for the sandbox they cannot get.
   */
  stillPending?: string[];
}

/** At most this many pod GETs to place host-less events on a node; the rest count as "node unknown". */
export const MAX_POD_LOOKUPS = 20;
const LOOKUP_PARALLEL = 5;
const UNKNOWN_NODE = '(node unknown)';

/**
 * containerd's answer when BoltDB still holds a sandbox name from before the
 * reboot: `failed to reserve sandbox name "web_apps_<uid>_1": name "..." is
 * reserved for "<stale sandbox id>"`. Any occurrence is the stale-state
 * signature (RC-3 of the incident review), whatever the count.
 */
const RESERVED = /is reserved for "?([0-9a-f]{6,64})?/i;


function inScope(e: KubeEvent, since: number): boolean {
  return occurrencesSince(e, since) > 0;
}

interface PodRow {
  ns: string; name: string; node: string; changed: number; failed: number; reserved: number; message?: string;
  /** First and last "name is reserved" failure of this pod (epoch ms). */
  reservedFirst?: number; reservedLast?: number;
}
interface NodeRow {
  node: string; changed: number; failed: number; reserved: number; pods: Set<string>; staleIds: Set<string>;
  /** First and last occurrence of any counted event on the node (epoch ms): how long the churn has gone on. */
  first: number; last: number;
}

const perf = declareMetrics({
  sandbox_changed: { describe: 'SandboxChanged occurrences in --window' },
  create_failed: { describe: 'FailedCreatePodSandBox occurrences in --window' },
  name_reserved: { describe: '"name is reserved" occurrences in --window', judge: fixed('any non-zero is CRITICAL once it lasts --reserved-persist', { critical: '0' }) },
  affected_pods: { describe: 'Pods with sandbox events in --window' },
  affected_nodes: { describe: 'Nodes with sandbox events in --window' },
  worst_node_events: { describe: 'Sandbox events on the worst node in --window', judge: range('warning', 'critical', { note: 'CRITICAL only once the storm lasts --storm-persist' }) },
});

export default defineCheck({
  name: 'sandbox_changed',
  title: 'SANDBOX CHANGED',
  scope: 'cluster',
  nrpe: {
    args: '-t 20',
    about:
      'SandboxChanged/FailedCreatePodSandBox storms per node; CRITICAL on containerd\'s stale "name is reserved" state.',
  },
  summary: 'SandboxChanged storms and stale "name is reserved" sandboxes, per node',
  description:
    'Pod sandbox churn per node: SandboxChanged ("Pod sandbox changed, it will be killed and re-created") and ' +
    'FailedCreatePodSandBox events from the kubelet in --window.\n\n' +
    'containerd\'s "name ... is reserved for ..." is CRITICAL when it persists (the same pod failing with it for ' +
    '--reserved-persist, or still Pending that long after the first failure): containerd kept stale sandbox state ' +
    'and refuses the pod until the stale sandboxes are removed (crictl stopp/rmp) or containerd/kubelite is ' +
    'restarted. Shorter, it is the kubelet retrying after a timeout (WARNING). A storm over -c is CRITICAL only when ' +
    'it has gone on for --storm-persist; one node\'s reboot recreates every sandbox once, a WARNING burst. ' +
    'See docs/checks/sandbox_changed.md.',
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
    'reserved-persist': opt.duration({
      default: '5m', min: 1,
      describe: 'A pod whose sandbox name stays "reserved" this long (failures spanning it, or the pod still Pending that long after the first) ' +
        'is stale containerd state (CRITICAL); shorter is the kubelet retrying after a timeout (WARNING)',
    }),
    'storm-persist': opt.duration({
      default: '10m', min: 1,
      describe: 'A storm over -c is CRITICAL only when the node\'s sandbox events have gone on this long; a shorter burst (one reboot) is WARNING',
    }),
  },
  perfdata: perf.docs,
  examples: [
    ['$0 --kubeconfig /etc/nagios/k8s-nrpe.kubeconfig', 'every node; CRITICAL on stale sandbox names or a sustained storm'],
    ['$0 --node k8s02 -w 20 -c 100 --window 15m', 'one node, more tolerant'],
  ],


  async gather(ctx, o): Promise<Data> {
    const kube = await ctx.kube();
    // Two server-side filtered lists in parallel. No source=kubelet term: the
    // `source` field is source.component only, and events written through
    // events.k8s.io carry reportingComponent instead; both reasons come only
    // from the kubelet anyway. The node is source.host / reportingInstance,
    // which are not selectable: filtered here.
    // Neither time nor node is selectable either, so after a whole-cluster
    // reboot these lists hold one event per pod of the cluster for as long as
    // the apiserver keeps events (--event-ttl). Only events with an occurrence
    // in --window are kept as they stream (on the API server's clock, which
    // evaluate() judges by a moment later): memory follows the window.
    const inWindow = (e: KubeEvent) => (inScope(e, kube.serverNow() - o.window * 1000) ? compactEvent(e) : undefined);
    const [sandboxChanged, createFailed, named] = await Promise.all([
      kube.list<KubeEvent, KubeEvent>(RESOURCES.events, { fieldSelector: 'involvedObject.kind=Pod,reason=SandboxChanged', project: inWindow }),
      kube.list<KubeEvent, KubeEvent>(RESOURCES.events, { fieldSelector: 'involvedObject.kind=Pod,reason=FailedCreatePodSandBox', project: inWindow }),
      // --node: the node itself, so a name that matches nothing is not a quiet OK.
      nodeNamed(kube, o.node),
    ]);
    // Events that count but name no host: ask for their pods' node, bounded.
    const since = kube.serverNow() - o.window * 1000;
    const wanted = new Map<string, { ns: string; name: string; uid?: string }>();
    for (const e of [...sandboxChanged, ...createFailed]) {
      const io = e.involvedObject;
      if (eventReporter(e) || !io?.name || !io.namespace || !inScope(e, since)) continue;
      wanted.set(refOf(io.namespace, io.name), { ns: io.namespace, name: io.name, uid: io.uid });
    }
    const lookups = [...wanted.entries()].slice(0, MAX_POD_LOOKUPS);
    const podNodes: Record<string, string> = {};
    await mapBounded(lookups, LOOKUP_PARALLEL, async ([k, p]) => {
      const pod = await kube.getOptional<Pod>(RESOURCES.pods, p.name, p.ns);
      // A pod recreated under the same name is not the one the event is about.
      if (pod?.spec?.nodeName && (!p.uid || !pod.metadata?.uid || pod.metadata.uid === p.uid)) podNodes[k] = pod.spec.nodeName;
    });
    const nodeOf = (e: KubeEvent) => eventReporter(e) ?? podNodes[refOf(e.involvedObject?.namespace, e.involvedObject?.name)];
    if (named === null && ![...sandboxChanged, ...createFailed].some((e) => nodeOf(e) === o.node)) throw unknownNode(o.node!);
    // Nodes with "name is reserved" failures: which of their pods still wait for a sandbox?
    // One server-filtered, metadata-only list per such node (usually one, at most a few).
    const reservedOn = new Set(createFailed.filter((e) => inScope(e, since) && RESERVED.test(e.message ?? ''))
      .map(nodeOf)
      .filter((n): n is string => n !== undefined && (!o.node || n === o.node)));
    const stillPending = (await mapBounded([...reservedOn].slice(0, MAX_POD_LOOKUPS), LOOKUP_PARALLEL, (node) =>
      kube.list<Pod, string>(RESOURCES.pods, {
        fieldSelector: `spec.nodeName=${node},status.phase=Pending`, metadataOnly: true,
        project: (p) => (p.metadata?.deletionTimestamp ? undefined : refOf(p.metadata?.namespace, p.metadata?.name)),
      }))).flat();
    return { sandboxChanged, createFailed, podNodes, stillPending };
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
      const key = refOf(io.namespace, io.name);
      const node = eventReporter(e) ?? d.podNodes[key] ?? UNKNOWN_NODE;
      if (o.node && node !== o.node) return;
      const reserved = kind === 'failed' ? RESERVED.exec(e.message ?? '') : null;

      const first = eventFirstSeen(e) ?? since;
      const last = eventLastSeen(e) ?? now;
      let nr = nodes.get(node);
      if (!nr) nodes.set(node, (nr = { node, changed: 0, failed: 0, reserved: 0, pods: new Set(), staleIds: new Set(), first, last }));
      nr[kind] += n;
      nr.first = Math.min(nr.first, first);
      nr.last = Math.max(nr.last, last);
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
      if (reserved) {
        pr.reserved += n;
        pr.reservedFirst = Math.min(pr.reservedFirst ?? first, first);
        pr.reservedLast = Math.max(pr.reservedLast ?? last, last);
      }
      if (kind === 'failed' && (!pr.message || reserved)) pr.message = e.message;
    };
    for (const e of d.sandboxChanged) tally(e, 'changed');
    for (const e of d.createFailed) tally(e, 'failed');

    const total = (r: { changed: number; failed: number }) => r.changed + r.failed;
    const rows = [...nodes.values()].sort((a, b) => b.reserved - a.reserved || total(b) - total(a) || a.node.localeCompare(b.node));
    const podRows = [...pods.values()].sort((a, b) => b.reserved - a.reserved || total(b) - total(a) || a.name.localeCompare(b.name));

    // "name is reserved" is stale containerd state only when it persists: the same
    // pod failing with it for --reserved-persist, or still Pending that long after
    // the first failure. Shorter, it is the kubelet retrying a sandbox whose first
    // RunPodSandbox timed out while containerd still held the name: it settles.
    const pending = new Set(d.stillPending ?? []);
    const stalePod = (p: PodRow) => p.reserved > 0 && p.reservedFirst !== undefined && (
      (p.reservedLast ?? p.reservedFirst) - p.reservedFirst >= o.reservedPersist * 1000 ||
      (pending.has(refOf(p.ns, p.name)) && now - p.reservedFirst >= o.reservedPersist * 1000));
    const staleOn = new Map<string, PodRow[]>();
    for (const p of podRows.filter(stalePod)) staleOn.set(p.node, [...(staleOn.get(p.node) ?? []), p]);

    const r = new Report();
    const staleNodes = rows.filter((n) => staleOn.has(n.node));
    const transientNodes = rows.filter((n) => n.reserved && !staleOn.has(n.node));
    const stormHits: { row: NodeRow; state: State }[] = [];
    const events = perf.options('worst_node_events', o);
    for (const n of rows) {
      const counts = `${plural(total(n), 'sandbox event')} in ${win} (${n.changed} SandboxChanged, ${n.failed} FailedCreatePodSandBox) on ${plural(n.pods.size, 'pod')}`;
      const stale = staleOn.get(n.node);
      if (stale) {
        const ids = [...n.staleIds].slice(0, 2).join(' ');
        r.add(State.CRITICAL, `containerd stale sandbox state on ${n.node}: ${plural(stale.length, 'pod')} kept failing with sandbox names "reserved for" ` +
          `other sandboxes for ${formatDuration(o.reservedPersist)} or more (${n.reserved}x in ${win}); ${counts}`);
        r.add(State.CRITICAL,
          `remedy on ${n.node}: crictl stopp, then crictl rmp, the stale sandboxes${ids ? ` (e.g. ${ids})` : ''}, ` +
          'or restart containerd/kubelite (snap restart microk8s.daemon-containerd)');
        continue;
      }
      let storm = judge(total(n), events.warn, events.crit).state;
      const lasted = Math.max(0, n.last - n.first) / 1000;
      let note = '';
      if (storm === State.CRITICAL && lasted < o.stormPersist) {
        storm = State.WARNING;
        note = `; a burst of ${formatDuration(lasted)} (a reboot or containerd restart recreates every sandbox once): CRITICAL if it goes on for ${formatDuration(o.stormPersist)}`;
      }
      if (n.reserved) {
        storm = worst(storm, State.WARNING);
        note += `; "name is reserved" ${n.reserved}x, each pod for less than ${formatDuration(o.reservedPersist)}: the kubelet retrying after a timeout, it settles by itself`;
      }
      if (storm !== State.OK) stormHits.push({ row: n, state: storm });
      r.add(storm, `${n.node}: ${counts}${note}`);
    }
    for (const p of podRows.slice(0, 5)) {
      const what = [
        p.failed && `${p.failed} FailedCreatePodSandBox${p.reserved ? ' (name reserved)' : ''}`,
        p.changed && `${p.changed} SandboxChanged`,
      ].filter(Boolean).join(', ');
      r.info(`${refOf(p.ns, p.name)} on ${p.node}: ${what} in ${win}${p.message ? `: ${shortMessage(p.message)}` : ''}`);
    }
    if (podRows.length > 5) r.info(`${podRows.length - 5} more pods with sandbox events`);

    const sum = (f: (n: NodeRow) => number) => rows.reduce((acc, n) => acc + f(n), 0);
    const changed = sum((n) => n.changed);
    const failed = sum((n) => n.failed);
    const reserved = sum((n) => n.reserved);
    perf.metric(r, 'sandbox_changed', changed, o, { min: 0 });
    perf.metric(r, 'create_failed', failed, o, { min: 0 });
    perf.metric(r, 'name_reserved', reserved, o, { min: 0 });
    perf.metric(r, 'affected_pods', podRows.length, o, { min: 0 });
    perf.metric(r, 'affected_nodes', rows.filter((n) => n.node !== UNKNOWN_NODE).length, o, { min: 0 });
    // Judged per node above; the worst node carries the ranges.
    perf.metric(r, 'worst_node_events', rows.reduce((m, n) => Math.max(m, total(n)), 0), o, { min: 0 });

    if (staleNodes.length) {
      const names = staleNodes.map((n) => n.node).join(', ');
      const podsHit = staleNodes.reduce((acc, n) => acc + staleOn.get(n.node)!.length, 0);
      r.problem(State.CRITICAL,
        `containerd stale sandbox state on ${names}: ${plural(podsHit, 'pod')} cannot get a sandbox ` +
        `("name is reserved for" another sandbox for ${formatDuration(o.reservedPersist)} or more, ${reserved}x in ${win}); ` +
        `on ${names} crictl stopp/rmp the stale sandboxes or restart containerd/kubelite`);
      r.action(State.CRITICAL, `on ${names}: find the stale sandbox with sudo crictl -r unix:///var/snap/microk8s/common/run/containerd.sock pods --name <pod> and remove it (crictl stopp <id>, crictl rmp <id>); ` +
        `if many: sudo snap restart microk8s.daemon-containerd; then the pods get a sandbox (kubectl get pods -A -o wide --field-selector spec.nodeName=${staleNodes[0]!.node}) and check again`);
    }
    const stormState = worst(...stormHits.map((h) => h.state));
    const hit = stormHits.filter((h) => h.state === stormState).map((h) => h.row);
    if (hit.length) {
      const transient = transientNodes.length ? ` ("name is reserved" on ${transientNodes.map((n) => n.node).join(', ')}, settling)` : '';
      r.action(stormState, `on ${hit[0]!.node}: kubectl get events -A --field-selector involvedObject.kind=Pod,reason=FailedCreatePodSandBox names the CNI or runtime error; ` +
        'a calico-node not Ready there (check_k8s_calico_nat) or containerd trouble (journalctl -u snap.microk8s.daemon-containerd) are the usual causes; a storm right after a reboot settles by itself');
      r.problem(stormState,
        `sandbox storm on ${hit.map((n) => `${n.node} (${total(n)})`).join(', ')}: ` +
        `${changed} SandboxChanged, ${failed} FailedCreatePodSandBox in ${win} on ${plural(podRows.length, 'pod')}${transient}`);
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
