import { RESOURCES } from '../lib/kube/resources.js';
import { compactEvent, eventCount, eventFirstSeen, eventLastSeen, occurrencesSince } from '../lib/kube/events.js';
import { nodeReadiness } from '../lib/kube/nodes.js';
import { condition, objectRef, refOf } from '../lib/kube/objects.js';
import { thisNode } from '../lib/kube/this-node.js';
import { mapBounded } from '../lib/kube/parallel.js';
import { ageSeconds, parseTime } from '../lib/kube/time.js';
import type { KubeEvent, Node, Pod } from '../lib/kube/types.js';
import { defineCheck, opt } from '../lib/plugin/check.js';
import { declareMetrics, range } from '../lib/plugin/context.js';
import { formatDuration } from '../lib/plugin/duration.js';
import { UsageError } from '../lib/plugin/errors.js';
import { sanitize } from '../lib/plugin/sanitize.js';
import { Report } from '../lib/plugin/report.js';
import { plural } from '../lib/plugin/result.js';
import { State } from '../lib/plugin/state.js';

export interface Data {
  /** Pending pods bound to the judged node(s). */
  pods: Pod[];
  /** The judged node(s). */
  nodes: Node[];
  /** The node judged; undefined when every node is. */
  node?: string;
  /** Events about the pods old enough to judge: kubelet events, and the scheduler's Scheduled events when needed. */
  events: KubeEvent[];
  /** How the events were fetched, for -v. */
  eventQuery: 'none' | 'per-pod' | 'lists';
}

/**
 * Up to this many pods to judge, fetch each one's events with its own small
 * namespaced list (involvedObject.name=...): tiny answers, and etcd reads only
 * that namespace's events, so the cost follows the pods judged. Above it, two
 * cluster-wide lists of kubelet events: they grow with the cluster (bench/:
 * 2.4 MB at 1k pods, 24 MB at 10k), a price worth paying only when a node has
 * more stuck pods than this.
 */
export const PER_POD_QUERY_LIMIT = 50;
const PER_POD_PARALLEL = 8;
/** Clocks of the scheduler's and the kubelet's hosts differ; an event without a pod uid may be this early. */
const SKEW_MS = 30_000;


/** Kubelet events: core/v1 (source.component) or events.k8s.io (reportingComponent). */
export function fromKubelet(e: KubeEvent): boolean {
  return e.source?.component === 'kubelet' || e.reportingComponent === 'kubelet';
}

/** Static pods' mirrors are created by the kubelet itself: it cannot have missed them. */
const isMirror = (p: Pod) => Boolean(p.metadata?.annotations?.['kubernetes.io/config.mirror']);

/** Pods worth judging: bound, Pending, not terminating, not mirrors, older than min-age since creation (bound is later). */
function judgeable(p: Pod, minAge: number, now: number): boolean {
  if (!p.spec?.nodeName || (p.status?.phase && p.status.phase !== 'Pending') || p.metadata?.deletionTimestamp || isMirror(p)) return false;
  return (ageSeconds(p.metadata?.creationTimestamp, now) ?? 0) >= minAge;
}

/**
 * Status only the kubelet writes: startTime, container statuses, and the
 * conditions it owns. The scheduler writes only PodScheduled. A pod the
 * kubelet never saw has none of these.
 */
function kubeletStatus(p: Pod): string | undefined {
  const s = p.status;
  const waiting = [...(s?.containerStatuses ?? [])].map((c) => c.state?.waiting?.reason).find(Boolean);
  if (waiting) return waiting;
  if (s?.containerStatuses?.length) return 'containers reported';
  if (s?.startTime) return 'started';
  const own = s?.conditions?.find((c) => ['Initialized', 'PodReadyToStartContainers', 'ContainersReady', 'Ready'].includes(c.type ?? ''));
  return own ? `${own.type}=${own.status}` : undefined;
}

const perf = declareMetrics({
  stalled_pods: { describe: 'Pods bound longer than --min-age the kubelet is silent about, or reports progress on without writing their status', judge: range('warning', 'critical') },
  pending_bound_pods: { describe: 'Pending pods bound to the judged node(s)' },
  oldest_stalled_age: { describe: 'Seconds since the oldest stalled pod was bound', uom: 's' },
  kubelet_events: { describe: 'Kubelet event occurrences in --window about the Pending pods judged' },
});

export default defineCheck({
  name: 'kubelet_stall',
  title: 'KUBELET STALL',
  scope: 'node',
  nrpe: {
    args: '-t 20',
    about:
      'Pods bound to this node, Pending with no kubelet event or status: the kubelet is not acting on its pods.',
  },
  summary: 'Pods bound to a node that stay Pending while its kubelet says nothing',
  description:
    'Pods the scheduler bound to a node that stay Pending while that node\'s kubelet says nothing: no kubelet event ' +
    '(Pulling, Created, FailedMount, FailedCreatePodSandBox, ...) and no kubelet-written status since they were bound. ' +
    'That is a kubelet watch stall (the kubelet is not receiving its pods; on microk8s restart kubelite), or a kubelet ' +
    'that cannot write to the API server. Also stalled: pods the kubelet said Pulled, Created or Started about more ' +
    'than --min-age ago that still show no container status (the kubelet reports container statuses before any of ' +
    'those events, so its status writes are failing while its events get through). Pending pods the kubelet is ' +
    'working on are context, not a stall; pods on a NotReady node are WARNING (the node is down, not stalled).',
  thresholds: {
    describe: 'number of stalled pods (bound, Pending longer than --min-age, no kubelet event or status; or kubelet progress events with no status)',
    critical: '0',
  },
  options: {
    node: opt.localNode({ describe: 'The node to judge' }),
    'all-nodes': opt.flag({ describe: 'Judge every node, reported per node' }),
    'min-age': opt.duration({ default: '60s', describe: 'Give the kubelet this long after binding before its silence counts' }),
    window: opt.duration({ default: '10m', min: 1, describe: 'Window for the kubelet_events perfdata (kubelet events about the Pending pods)' }),
  },
  perfdata: perf.docs,
  validate(o) {
    if (o.node && o.allNodes) throw new UsageError('--node and --all-nodes exclude each other');
  },
  examples: [
    ['$0 --kubeconfig /etc/nagios/k8s-nrpe.kubeconfig', 'this node: CRITICAL on any bound pod the kubelet has not acted on after 60s'],
    ['$0 --all-nodes --min-age 2m', 'every node, from anywhere'],
  ],


  async gather(ctx, o): Promise<Data> {
    const kube = await ctx.kube();
    let pods: Pod[] | undefined;
    let nodes: Node[] = [];
    let node: string | undefined;
    if (!o.allNodes) {
      // This host's node, or UNKNOWN naming --node: never every node in its place (each would then alert for the others).
      const me = await thisNode(kube, o.node, undefined, ' (or --all-nodes)');
      ctx.log(2, `kubelet_stall: judging node ${me.name}, found ${me.how}`);
      node = me.name;
      nodes = [me.node];
      pods = await kube.list<Pod>(RESOURCES.pods, { fieldSelector: `spec.nodeName=${node},status.phase=Pending` });
    }
    if (!pods) {
      const [n, p] = await Promise.all([
        kube.list<Node>(RESOURCES.nodes),
        // spec.nodeName!= would also work; Pending pods are few and unbound ones are dropped here.
        kube.list<Pod>(RESOURCES.pods, { fieldSelector: 'status.phase=Pending' }),
      ]);
      nodes = n;
      pods = p.filter((x) => x.spec?.nodeName);
    }

    // Events only for pods old enough to judge: none on a healthy node.
    // The same clock evaluate() judges by: the API server's.
    const judged = pods.filter((p) => judgeable(p, o.minAge, kube.serverNow()));
    const wanted = new Set(judged.map((p) => refOf(p.metadata?.namespace, p.metadata?.name)));
    const about = (e: KubeEvent) => wanted.has(refOf(e.involvedObject?.namespace, e.involvedObject?.name));
    let events: KubeEvent[] = [];
    let eventQuery: Data['eventQuery'] = 'none';
    if (judged.length && judged.length <= PER_POD_QUERY_LIMIT) {
      // Every event of the pod, whoever wrote it: kubelet events of both kinds
      // and the Scheduled event (the bind time when PodScheduled lacks one).
      eventQuery = 'per-pod';
      const lists = await mapBounded(judged, PER_POD_PARALLEL, (p) =>
        kube.list<KubeEvent, KubeEvent>(RESOURCES.events, {
          namespace: p.metadata?.namespace,
          fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${p.metadata?.name}`,
          project: compactEvent,
        }));
      events = lists.flat();
    } else if (judged.length) {
      // Two disjoint lists: core/v1 kubelet events (source=kubelet, which is
      // source.component), and events.k8s.io ones that carry only reportingComponent.
      eventQuery = 'lists';
      const keep = (e: KubeEvent) => (about(e) ? compactEvent(e) : undefined);
      const needScheduled = judged.some((p) => !boundTime(p));
      const lists = await Promise.all([
        kube.list<KubeEvent, KubeEvent>(RESOURCES.events, { fieldSelector: 'involvedObject.kind=Pod,source=kubelet', project: keep }),
        kube.list<KubeEvent, KubeEvent>(RESOURCES.events, { fieldSelector: 'involvedObject.kind=Pod,reportingComponent=kubelet,source!=kubelet', project: keep }),
        needScheduled
          ? kube.list<KubeEvent, KubeEvent>(RESOURCES.events, { fieldSelector: 'involvedObject.kind=Pod,reason=Scheduled', project: keep })
          : Promise.resolve([]),
      ]);
      events = lists.flat();
    }
    ctx.log(2, `kubelet_stall: ${plural(judged.length, 'pod')} to judge, events fetched ${eventQuery}`);
    return { pods, nodes, node, events, eventQuery };
  },

  evaluate(d, o, now) {
    const since = now - o.window * 1000;
    const byPod = new Map<string, KubeEvent[]>();
    for (const e of d.events) {
      const k = refOf(e.involvedObject?.namespace, e.involvedObject?.name);
      const list = byPod.get(k);
      if (list) list.push(e); else byPod.set(k, [e]);
    }
    const readiness = new Map(d.nodes.map((n) => [n.metadata?.name ?? '', nodeReadiness(n)]));

    type Row = { pod: Pod; node: string; bound: number; age: number; last?: KubeEvent; kubeletEvents: number; status?: string; progress?: KubeEvent };
    const statusStalled: Row[] = [];
    const stalled: Row[] = [];
    const nodeDown: Row[] = [];
    const working: Row[] = [];
    let pending = 0;
    let kubeletEvents = 0;
    for (const pod of d.pods) {
      const node = pod.spec?.nodeName;
      if (!node || (pod.status?.phase && pod.status.phase !== 'Pending') || pod.metadata?.deletionTimestamp || isMirror(pod)) continue;
      if (d.node && node !== d.node) continue;
      pending++;
      const events = byPod.get(refOf(pod.metadata?.namespace, pod.metadata?.name)) ?? [];
      const uid = pod.metadata?.uid;
      // Same pod: by uid when both have one (a recreated pod of the same name must not inherit events).
      const mine = events.filter((e) => !e.involvedObject?.uid || !uid || e.involvedObject.uid === uid);
      const bound = boundTime(pod) ?? scheduledTime(mine) ?? parseTime(pod.metadata?.creationTimestamp) ?? now;
      const age = Math.max(0, (now - bound) / 1000);
      // The kubelet cannot write about a pod before it is bound: a uid match is enough;
      // without a uid the event must be from after the binding.
      const kubelet = mine.filter((e) => fromKubelet(e) && (e.involvedObject?.uid && uid ? true : (eventLastSeen(e) ?? 0) >= bound - SKEW_MS));
      const inWindow = kubelet.reduce((n, e) => n + occurrencesSince(e, since), 0);
      kubeletEvents += inWindow;
      if (age < o.minAge) continue;
      const last = kubelet.reduce<KubeEvent | undefined>((m, e) => (!m || (eventLastSeen(e) ?? 0) > (eventLastSeen(m) ?? 0) ? e : m), undefined);
      const row: Row = { pod, node, bound, age, last, kubeletEvents: inWindow, status: kubeletStatus(pod), progress: unreportedProgress(pod, kubelet, now - o.minAge * 1000) };
      if (row.progress && readiness.get(node) === 'Ready') statusStalled.push(row);
      else if (last || row.status) working.push(row);
      else if (readiness.get(node) === 'Ready') stalled.push(row);
      else nodeDown.push(row);
    }
    const oldestFirst = (a: Row, b: Row) => b.age - a.age;
    stalled.sort(oldestFirst);
    nodeDown.sort(oldestFirst);
    working.sort(oldestFirst);
    statusStalled.sort(oldestFirst);

    const r = new Report();
    const oldestStalled = Math.max(stalled[0]?.age ?? 0, statusStalled[0]?.age ?? 0);
    // Both kinds are stalled pods: the kubelet does not get them going, or cannot say it did.
    const stall = perf.judge(r, 'stalled_pods', stalled.length + statusStalled.length, o, { min: 0 });
    perf.metric(r, 'pending_bound_pods', pending, o, { min: 0 });
    perf.metric(r, 'oldest_stalled_age', Math.round(oldestStalled), o, { min: 0 });
    perf.metric(r, 'kubelet_events', kubeletEvents, o, { min: 0 });
    const groups = (rows: Row[]) => {
      const m = new Map<string, Row[]>();
      for (const x of rows) m.set(x.node, [...(m.get(x.node) ?? []), x]);
      return [...m.entries()];
    };

    // One problem per verdict for the status line; its first node's line is its long output.
    const stalledNodes = groups(stalled);
    const stalledNames = stalledNodes.map(([n]) => n).join(', ');
    stalledNodes.forEach(([node, rows], i) => {
      const text = `kubelet watch stall on ${node} (node Ready): ${plural(rows.length, 'pod')} bound up to ${formatDuration(rows[0]!.age)} ago, ` +
        'Pending with no kubelet event and no kubelet status';
      if (i > 0) r.add(stall.state, text);
      else r.problem(stall.state, `kubelet watch stall on ${stalledNames}: ${plural(stalled.length, 'pod')} bound up to ${formatDuration(oldestStalled)} ago ` +
        `still Pending with no kubelet event; restart kubelite on ${stalledNames}`, text);
      if (stall.state !== State.OK) {
        r.add(stall.state, `remedy on ${node}: restart the kubelet (microk8s: snap restart microk8s.daemon-kubelite); ` +
          'if pods then stay Pending, its API writes fail (check k8s-dqlite)');
      }
    });
    if (stalled.length) {
      const x = stalled[0]!;
      r.action(stall.state, `restart the kubelet on ${stalledNames}: on ${x.node} run sudo snap restart microk8s.daemon-kubelite; then verify ${objectRef(x.pod.metadata)} leaves Pending ` +
        `(kubectl get pod -n ${x.pod.metadata?.namespace} ${x.pod.metadata?.name} -o wide) and check again; if it stays Pending, its API writes fail: check_k8s_dqlite_cluster`);
    }
    for (const x of stalled) r.add(stall.state, `${objectRef(x.pod.metadata)} on ${x.node}: bound ${formatDuration(x.age)} ago, Pending, no kubelet event or status`);

    const statusNodes = groups(statusStalled);
    const statusNames = statusNodes.map(([n]) => n).join(', ');
    statusNodes.forEach(([node, rows], i) => {
      const text = `kubelet on ${node} writes events but not pod status: ${plural(rows.length, 'pod')} bound up to ${formatDuration(rows[0]!.age)} ago ` +
        'that it reported progress on still Pending with no container status; its status updates fail (API server or datastore: check k8s-dqlite), then restart kubelite';
      if (i === 0) {
        r.problem(stall.state, `kubelet on ${statusNames} cannot write pod status: ${plural(statusStalled.length, 'pod')} with ` +
          `${[...new Set(statusStalled.map((x) => x.progress!.reason))].join('/')} events still Pending with no container status`, text);
      } else r.add(stall.state, text);
    });
    if (statusStalled.length) {
      r.action(stall.state, `the kubelet on ${statusNames} cannot write pod status: run check_k8s_apiserver and check_k8s_dqlite_cluster (a struggling datastore refuses writes); ` +
        `once they are OK, on ${statusStalled[0]!.node} run sudo snap restart microk8s.daemon-kubelite and check again`);
    }
    for (const x of statusStalled) {
      const ev = x.progress!;
      r.add(stall.state, `${objectRef(x.pod.metadata)} on ${x.node}: bound ${formatDuration(x.age)} ago, kubelet said ${ev.reason} ` +
        `${formatDuration(Math.max(0, (now - (eventFirstSeen(ev) ?? now)) / 1000))} ago, status still Pending with no containerStatuses`);
    }

    const downNodes = groups(nodeDown);
    const downShort = `${downNodes.map(([n]) => `${n} ${readiness.get(n) ?? 'Missing'}`).join(', ')}: ${plural(nodeDown.length, 'pod')} bound there Pending ` +
      '(node down, not a kubelet watch stall)';
    downNodes.forEach(([node, rows], i) => {
      const ready = condition(d.nodes.find((n) => n.metadata?.name === node)?.status?.conditions, 'Ready');
      const since2 = ageSeconds(ready?.lastTransitionTime, now);
      const text = `${node} is ${readiness.get(node) ?? 'Missing'}${since2 !== undefined ? ` for ${formatDuration(since2)}` : ''}: ` +
        `${plural(rows.length, 'pod')} bound to it Pending with no kubelet event; not a watch stall, the node or its kubelet is down (judge the node, not this check)`;
      if (i === 0) r.problem(State.WARNING, downShort, text); else r.add(State.WARNING, text);
      if (i === 0) r.action(State.WARNING, `${node} is ${readiness.get(node) ?? 'Missing'}: bring it back (check_k8s_nodes says why); its pods start once its kubelet reports again`);
    });
    for (const x of working.slice(0, 5)) {
      const ev = x.last;
      const evText = ev
        ? `${ev.reason ?? 'event'}${eventCount(ev) > 1 ? ` ${eventCount(ev)}x` : ''}, last ${formatDuration(Math.max(0, (now - (eventLastSeen(ev) ?? now)) / 1000))} ago` +
          `${ev.message ? `: ${sanitize(ev.message, 120)}` : ''}`
        : `status ${x.status}`;
      r.info(`${objectRef(x.pod.metadata)} on ${x.node}: Pending ${formatDuration(x.age)} since bound, kubelet working (${evText})`);
    }
    if (working.length > 5) r.info(`${working.length - 5} more Pending pods the kubelet is working on`);

    const where = d.node ?? (d.nodes.length ? plural(d.nodes.length, 'node') : 'any node (the cluster lists no nodes)');
    const pendingText = `${plural(pending, 'Pending pod')} bound to ${where}`;
    return r.done(
      stalled.length + statusStalled.length
        ? `${plural(stalled.length + statusStalled.length, 'stalled pod')} on ${[...new Set([...stalled, ...statusStalled].map((x) => x.node))].join(', ')}, within limits; ${pendingText}`
      : working.length ? `kubelet acting on its pods on ${where}: ${plural(pending, 'Pending pod')} bound, the ${working.length} bound longer than ` +
        `${formatDuration(o.minAge)} all with kubelet events or status (oldest bound ${formatDuration(working[0]!.age)} ago)`
      : pending ? `${pendingText}, none bound longer than ${formatDuration(o.minAge)}`
      : `no Pending pods bound to ${where}`);
  },
});

/** Kubelet events that say containers progressed; the kubelet reports containerStatuses before any of them. */
const PROGRESS = new Set(['Pulled', 'Created', 'Started']);

/**
 * The oldest kubelet event older than `before` saying the pod's containers
 * progressed, when the pod still shows no container status: the kubelet acts
 * on the pod but its status writes do not reach the API.
 */
function unreportedProgress(p: Pod, kubelet: KubeEvent[], before: number): KubeEvent | undefined {
  if (p.status?.containerStatuses?.length) return undefined;
  const old = kubelet.filter((e) => PROGRESS.has(e.reason ?? '') && (eventFirstSeen(e) ?? Infinity) <= before);
  return old.sort((a, b) => (eventFirstSeen(a) ?? 0) - (eventFirstSeen(b) ?? 0))[0];
}

/** When the scheduler bound the pod: the PodScheduled=True transition. */
function boundTime(p: Pod): number | undefined {
  const c = condition(p.status?.conditions, 'PodScheduled');
  return c?.status === 'True' ? parseTime(c.lastTransitionTime) : undefined;
}

/** The Scheduled event's time (the scheduler's, not the kubelet's). */
function scheduledTime(events: KubeEvent[]): number | undefined {
  const e = events.find((x) => x.reason === 'Scheduled' && !fromKubelet(x));
  return e ? eventLastSeen(e) : undefined;
}
