import { readBootTime } from '../lib/host/boot.js';
import { ebpfDataplane, felixEnv, readBpfPins, type BpfPins, type EbpfDataplane } from '../lib/host/dataplane.js';
import { natTables, readNatTables, type NatSource, type NatTables, type ProxyMode } from '../lib/host/nat-tables.js';
import { hostNames } from '../lib/host/node-name.js';
import { RESOURCES } from '../lib/kube/resources.js';
import { NodeNotKnown } from '../lib/kube/nodes.js';
import { condition } from '../lib/kube/objects.js';
import { newestLivePod } from '../lib/kube/pods.js';
import { expectedServicePorts, PROXY_SERVICE_SELECTOR, PROXY_SLICE_SELECTOR } from '../lib/kube/service-rules.js';
import { nodeCheckClient, thisNode } from '../lib/kube/this-node.js';
import { ageSeconds, parseTime } from '../lib/kube/time.js';
import type { EndpointSlice, Pod, Service } from '../lib/kube/types.js';
import { defineCheck, opt, type OptionsOf } from '../lib/plugin/check.js';
import { declareMetrics, range } from '../lib/plugin/context.js';
import { formatDuration } from '../lib/plugin/duration.js';
import { withinShare } from '../lib/plugin/deadline.js';
import { PluginError } from '../lib/plugin/errors.js';
import { Report, type Section } from '../lib/plugin/report.js';
import { plural, withheld, type Outcome } from '../lib/plugin/result.js';
import { sanitize } from '../lib/plugin/sanitize.js';
import { State } from '../lib/plugin/state.js';

// The host side (the nat-table dumps) is lib/host/nat-tables.ts; which Services need
// a rule is lib/kube/service-rules.ts. This file judges the two against each other,
// and this node's calico-node against the boot: one report section each.

/** btime moves when the clock is stepped after boot (NTP): a start this close to it counts as after. */
const BOOT_SLACK_S = 30;

/** The kube-proxy tables to read: --dataplane iptables/nftables, else --proxy-mode (eBPF dataplanes: all, for the cali-* chains). */
function tablesMode(o: Options): ProxyMode {
  return o.dataplane === 'iptables' || o.dataplane === 'nftables' ? o.dataplane : o.proxyMode;
}

const options = {
  node: opt.localNode({ describe: 'Kubernetes node name of this host' }),
  sudo: opt.flag({ describe: 'Run the NAT dumps through sudo -n (see packaging/sudoers/k8s-nrpe)' }),
  dataplane: opt.choice(['auto', 'iptables', 'nftables', 'calico-ebpf', 'cilium'] as const, {
    default: 'auto',
    describe: 'Who does Service NAT here: auto tells kube-proxy (iptables, nftables) from Calico eBPF (calico-node FELIX_BPFENABLED, ' +
      'pinned cali_v4_nat_fe maps) and Cilium\'s kube-proxy replacement (pinned cilium_lb4_services_v2); calico-ebpf and cilium judge no kube-proxy rules',
  }),
  'proxy-mode': opt.choice(['auto', 'iptables', 'nftables'] as const, {
    default: 'auto', describe: 'Deprecated, use --dataplane: which kube-proxy tables to read (auto: iptables, both backends, and nftables)',
  }),
  'boot-grace': opt.duration({
    default: '5m', describe: 'Right after boot, the kubelet may not have restarted calico-node yet: an old calico-node is WARNING within this, CRITICAL after',
  }),
  'min-age': opt.duration({ default: '60s', describe: 'Ignore Services and endpoint changes younger than this (kube-proxy gets time to sync)' }),
  calico: opt.flag({ default: true, describe: 'Check this node\'s calico-node pod (--no-calico on clusters without Calico)' }),
  'calico-namespace': opt.namespace({ describe: 'Namespace of calico-node (default: any; kube-system on microk8s, calico-system with the operator)' }),
  'calico-selector': opt.labelSelector({ default: 'k8s-app=calico-node', describe: 'Label selector of the calico-node pods' }),
  'calico-container': opt.string({ placeholder: 'NAME', default: 'calico-node', describe: 'Container whose start time is compared with the boot' }),
};
type Options = OptionsOf<typeof options>;

export interface Data {
  node: string;
  /** Epoch ms. */
  bootTime: number;
  sources: NatSource[];
  services: Service[];
  slices: EndpointSlice[];
  /** undefined: not asked (--no-calico). */
  calicoPods?: Pod[];
  /**
   * Why it is not known which node this host is (no kubeconfig, no node or
   * several match, an unknown --node): the verdict is UNKNOWN, the NAT table context.
   */
  nodeUnknown?: string;
  /** The API could not be asked: the local findings still count. */
  apiError?: PluginError;
  /** Pinned eBPF maps (--dataplane auto only). */
  bpf?: BpfPins;
}

const perf = declareMetrics({
  expected_services: { describe: 'Service ports with ready endpoints that need a NAT rule on this node (unset when not judged)' },
  programmed_services: { describe: 'Those that have one' },
  missing_services: { describe: 'Those that do not', judge: range('warning', 'critical') },
  nat_rules: { describe: 'Rules in the nat tables read (every backend)' },
  calico_started_after_boot: { describe: 'Seconds from the boot to calico-node\'s start (negative: it started before the boot)', uom: 's' },
  calico_restarts: { describe: 'restartCount of the calico-node container' },
});

export default defineCheck({
  name: 'calico_nat',
  // Reading the nat table needs root: a person running triage as themselves goes through the sudoers drop-in.
  triage: { args: () => (process.getuid?.() === 0 ? [] : ['--sudo']) },
  title: 'CALICO NAT',
  scope: 'node',
  nrpe: {
    args: '--sudo -t 20 -w 0 -c 2 --min-age 60s',
    about:
      'This node\'s NAT table against the API: every Service with ready endpoints has its ClusterIP rule\n' +
      '(KUBE-SERVICES, or kube-proxy\'s nftables table), and this node\'s calico-node pod is Ready and has\n' +
      'started since the boot. CRITICAL with no KUBE-SERVICES chain (the post-reboot signature).\n' +
      'Node-local and needs root: --sudo runs the fixed dumps that /etc/sudoers.d/k8s-nrpe allows.',
  },
  summary: 'Service NAT rules on this node and a calico-node started since the boot',
  description:
    'Node-local: reads this node\'s NAT table (iptables-save -t nat, nf_tables and legacy backends, or kube-proxy\'s ' +
    'nftables table) and checks that every Service with ready endpoints has its ClusterIP rule, and that this node\'s ' +
    'calico-node pod is Ready and has started since the host booted. A missing KUBE-SERVICES chain or a calico-node ' +
    'container older than the boot is the post-reboot failure where ClusterIP traffic is silently dropped. Needs root: ' +
    'use --sudo with packaging/sudoers/k8s-nrpe.',
  thresholds: {
    describe: 'number of Service ports (with ready endpoints, older than --min-age) that have no NAT rule on this node',
    warning: '0',
    critical: '2',
  },
  options,
  perfdata: perf.docs,
  examples: [
    ['$0 --sudo --kubeconfig /etc/nagios/k8s-nrpe.kubeconfig', 'as NRPE runs it on each node'],
    ['$0 --sudo --node k8s02 -w 0 -c 5 --min-age 2m', 'explicit node name, tolerate more missing rules'],
  ],

  async gather(ctx, o): Promise<Data> {
    const api = (async () => {
      // Which node this host is comes first: without a kubeconfig, or when the API knows no
      // node by this host's names, the NAT table is not judged (UNKNOWN, saying what to do).
      const kube = await nodeCheckClient(ctx);
      const [me, services, slices] = await Promise.all([
        thisNode(kube, o.node),
        kube.list<Service>(RESOURCES.services, { labelSelector: PROXY_SERVICE_SELECTOR }),
        kube.list<EndpointSlice>(RESOURCES.endpointslices, { labelSelector: PROXY_SLICE_SELECTOR }),
      ]);
      ctx.log(2, `calico_nat: this host is node ${me.name}, found ${me.how}`);
      const calicoPods = o.calico
        ? await kube.list<Pod>(RESOURCES.pods, { namespace: o.calicoNamespace, labelSelector: o.calicoSelector, fieldSelector: `spec.nodeName=${me.name}` })
        : undefined;
      return { node: me.name, services, slices, calicoPods };
    })();
    const [bootTime, sources, fromApi, bpf] = await Promise.all([
      readBootTime(),
      readNatTables(tablesMode(o), { sudo: o.sudo, signal: ctx.signal, log: ctx.log }),
      // The NAT table is local evidence: an API server that fails or hangs (the incident's own
      // failure mode) gets half of -t, and the local verdict is reported either way.
      withinShare(api, o.timeout / 2, `the API server did not answer within ${formatDuration(o.timeout / 2)} (half of -t ${o.timeout})`),
      o.dataplane === 'auto' ? readBpfPins() : undefined,
    ]);
    // Named in the output while the API cannot say which node this is: --node, else the hostname.
    const node = o.node ?? hostNames()[0]!;
    if (fromApi instanceof NodeNotKnown) return { node, bootTime, sources, bpf, services: [], slices: [], nodeUnknown: fromApi.message };
    if (fromApi instanceof PluginError) return { node, bootTime, sources, bpf, services: [], slices: [], apiError: fromApi };
    return { bootTime, sources, bpf, ...fromApi };
  },

  evaluate: evaluateNat,
});

export function evaluateNat(d: Data, o: Options, now: number): Outcome {
  const r = new Report();
  const t = natTables(d.sources);
  const ebpf = ebpfDataplane(o.dataplane, { pod: newestLivePod(d.calicoPods ?? []), container: o.calicoContainer, bpf: d.bpf, kubeProxyRules: t.withKube.length > 0 });
  judgeNat(r.section('Service NAT'), d, o, now, t, ebpf);
  perf.metric(r, 'nat_rules', t.rules, o, { min: 0 });
  const caliText = t.caliChains.length ? `Calico nat chains: ${t.caliChains.join(', ')}` : 'no Calico nat chains (cali-*) in the nat table';
  const calicoOk = judgeCalico(r, d, o, now, caliText) === State.OK;
  // Calico's own NAT (pod egress masquerade, floating IPs): Felix's iptables dataplane hooks cali-* chains into the nat table.
  if (calicoOk && !ebpf && t.iptablesRead) judgeFelixNat(r, d, o, now, new Set(t.caliChains));
  // When nothing local is wrong, an API that could not be asked is the news: UNKNOWN leads the OK sections.
  if (d.apiError) r.problem(State.UNKNOWN, `cannot cross-check with the API: ${d.apiError.message}`, `cannot cross-check with the API: ${d.apiError.message}`);
  r.info(`nat table sources: ${t.where.join('; ')}`);
  const out = r.done();
  // A node-local verdict belongs to a host known to be a node: until then the table is context.
  return d.nodeUnknown ? withheld(d.nodeUnknown, out) : out;
}

/** The Service NAT section: kube-proxy's rules against the Service ports with ready endpoints. */
function judgeNat(s: Section, d: Data, o: Options, now: number, t: NatTables, ebpf: EbpfDataplane | undefined): void {
  const judged = d.apiError || d.nodeUnknown || ebpf ? undefined : expectedServicePorts(d.services, d.slices, d.node, o.minAge, now);
  const expected = judged?.expected ?? [];
  const working = new Set(t.portals.filter((p) => !p.emptyTarget).map((p) => p.key));
  const missing = t.withKube.length && !t.ipvs ? expected.filter((e) => !working.has(e.key)) : t.withKube.length ? [] : expected;
  perf.metric(s, 'expected_services', judged ? expected.length : undefined, o, { min: 0 });
  perf.metric(s, 'programmed_services', judged ? expected.length - missing.length : undefined, o, { min: 0 });
  const missingState = judged ? perf.judge(s, 'missing_services', missing.length, o, { min: 0 }).state : (perf.metric(s, 'missing_services', undefined, o, { min: 0 }), State.OK);
  const restart = `on ${d.node} run sudo snap restart microk8s.daemon-kubelite (kube-proxy runs inside it)`;
  const verify = `verify on ${d.node} that sudo iptables -t nat -S KUBE-SERVICES lists KUBE-SVC- rules again, and check again`;
  if (ebpf) {
    const name = ebpf.dataplane === 'cilium' ? 'Cilium\'s kube-proxy replacement' : 'Calico\'s eBPF dataplane';
    s.info(`Service NAT is done by ${name} (${ebpf.evidence}): kube-proxy's rules are not expected and not judged; --dataplane iptables or nftables judges them`);
    s.status(`Services translated by ${name} (${ebpf.evidence}), not by kube-proxy rules: not judged`, { state: State.OK });
  } else if (!t.withKube.length) {
    if (d.bpf?.unreadable) s.info(`could not look for an eBPF dataplane's pinned maps (${d.bpf.unreadable}): if Services are translated in BPF, say so with --dataplane calico-ebpf or cilium`);
    s.add(State.CRITICAL,
      `no KUBE-SERVICES chain in the nat table and no nftables kube-proxy table: ClusterIP traffic from ${d.node} is dropped ` +
      `(post-reboot incident signature; booted ${bootAgo(d, now)} ago). Restart kube-proxy/kubelite`);
    s.status(`no Service NAT rules on ${d.node}: no KUBE-SERVICES chain in the nat table and no nftables kube-proxy table` +
      `${judged && expected.length ? `, ${plural(expected.length, 'service port')} unreachable by ClusterIP` : ''} (post-reboot signature)`, { state: State.CRITICAL, priority: 1 });
    s.action(State.CRITICAL, `the Service NAT rules are gone on ${d.node}: ${restart}; that rebuilds KUBE-SERVICES; ${verify}`);
  } else if (t.ipvs) {
    s.problem(State.UNKNOWN, 'kube-proxy IPVS mode: Service rules not judged', 'kube-proxy runs in IPVS mode (KUBE-SERVICES matches the KUBE-CLUSTER-IP ipset): per-Service rules are in IPVS, which this check does not read')
      .action(State.UNKNOWN, `read the Services from IPVS on ${d.node} (sudo ipvsadm -Ln): this check reads iptables and nftables rules only`);
  } else if (!judged) {
    s.status(`${t.withKube.map((x) => x.name).join(' and ')} ${t.withKube.length > 1 ? 'hold' : 'holds'} Service rules (${plural(t.portals.length, 'service port')})`, { state: State.OK });
  } else if (missing.length) {
    const names = missing.slice(0, 3).map((m) => m.name).join(', ');
    s.status(`${missing.length} of ${plural(expected.length, 'service port')} with ready endpoints ${missing.length === 1 ? 'has' : 'have'} no NAT rule on ${d.node}: ${names}${missing.length > 3 ? ', ...' : ''}`, { state: missingState });
    s.action(missingState, `kube-proxy on ${d.node} is not syncing every Service: ${restart}; ${verify}`);
  } else {
    const held = `${t.withKube.map((x) => x.name).join(', ')}, ${plural(t.rules, 'nat rule')}`;
    s.status(expected.length ? `${expected.length}/${plural(expected.length, 'service port')} programmed on ${d.node} (${held})` : `no Service port with ready endpoints to check on ${d.node} (${held})`, { state: State.OK });
  }
  const emptyTargets = new Map(t.portals.filter((p) => p.emptyTarget).map((p) => [p.key, p]));
  for (const m of missing) {
    const empty = emptyTargets.get(m.key);
    const why = empty ? `rule jumps to ${empty.target}, which has no rules` : 'no NAT rule';
    s.add(t.withKube.length ? missingState : State.CRITICAL, `${why} for ${m.name} ${m.address}:${m.port}/${m.protocol} (${plural(m.endpoints, 'ready endpoint')})`);
  }
  if (!judged) return;
  const stale = t.portals.filter((p) => p.source !== 'nftables' && p.comment?.endsWith(' cluster IP') && !judged.known.has(p.key));
  if (stale.length) s.info(`${plural(stale.length, 'cluster IP rule')} for Service ports the API no longer has (kube-proxy not syncing?): ${stale.slice(0, 3).map((p) => p.comment!.replace(/ cluster IP$/, '')).join(', ')}`);
  if (judged.settling || judged.notJudged) s.info(`not judged: ${plural(judged.settling, 'service port')} younger than --min-age ${formatDuration(o.minAge)}, ${plural(judged.notJudged, 'IPv6-only service')}`);
}

/** The chains Felix's iptables dataplane always programs in the nat table (felix/rules/rule_defs.go: the hooks from the built-in chains). */
const FELIX_NAT_HOOKS = ['cali-PREROUTING', 'cali-POSTROUTING', 'cali-OUTPUT'];

/**
 * A Ready calico-node (older than --min-age) in iptables mode whose hooks are
 * missing from the nat table has not programmed Calico's NAT: pod egress
 * masquerading (cali-nat-outgoing) does not happen. Not judged for an eBPF or
 * nftables Felix (the caller checks that an iptables table was read).
 */
function judgeFelixNat(r: Report, d: Data, o: Options, now: number, chains: Set<string>): void {
  const pod = newestLivePod(d.calicoPods ?? [])!;
  if (felixEnv(pod, o.calicoContainer, 'FELIX_NFTABLESMODE')?.toLowerCase() === 'enabled') return;
  const started = parseTime(pod.status?.containerStatuses?.find((x) => x.name === o.calicoContainer)?.state?.running?.startedAt);
  if (started === undefined || (now - started) / 1000 < o.minAge) return;
  const missing = FELIX_NAT_HOOKS.filter((h) => !chains.has(h));
  if (!missing.length) {
    if (!chains.has('cali-nat-outgoing')) r.info('no cali-nat-outgoing chain next to Felix\'s hooks: egress NAT for natOutgoing IP pools is not programmed');
    return;
  }
  r.section('Calico NAT')
    .problem(State.WARNING, `Calico's nat chains missing (${missing.join(', ')})`, `calico-node is Ready but its nat chains are missing (${missing.join(', ')}): Felix has not programmed Calico's NAT, pod egress is not masqueraded; restart calico-node`)
    .action(State.WARNING, `Felix has not programmed Calico's NAT on ${d.node}: delete its calico-node pod (find it with ${calicoPods(d, o)}) so the DaemonSet recreates it; check again`);
}

/** This node's calico-node pod judged against the boot, as the calico-node section; its state, or undefined when not judged. */
function judgeCalico(r: Report, d: Data, o: Options, now: number, caliText: string): State | undefined {
  const noMetrics = (): undefined => {
    perf.metric(r, 'calico_started_after_boot', undefined, o);
    perf.metric(r, 'calico_restarts', undefined, o, { min: 0 });
    return undefined;
  };
  if (!o.calico || d.apiError || d.nodeUnknown) {
    r.info(o.calico ? caliText : `calico-node not checked (--no-calico); ${caliText}`);
    return noMetrics();
  }
  const s = r.section('calico-node');
  const find = calicoPods(d, o);
  const pod = newestLivePod(d.calicoPods ?? []);
  if (!pod) {
    s.problem(State.WARNING, 'no calico-node pod', `no calico-node pod on ${d.node} (${o.calicoSelector}${o.calicoNamespace ? ` in ${o.calicoNamespace}` : ''}): the DaemonSet does not run here, or the cluster has no Calico (then use --no-calico)`)
      .action(State.WARNING, `see whether the calico-node DaemonSet runs on ${d.node} (${find}); a cluster without Calico: pass --no-calico`);
    return noMetrics() ?? State.WARNING;
  }
  const podName = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
  const cs = pod.status?.containerStatuses?.find((c) => c.name === o.calicoContainer);
  const ready = condition(pod.status?.conditions, 'Ready');
  const restarts = cs?.restartCount;
  const started = parseTime(cs?.state?.running?.startedAt);
  const sinceBoot = started === undefined ? undefined : (started - d.bootTime) / 1000;
  perf.metric(s, 'calico_started_after_boot', sinceBoot === undefined ? undefined : Math.round(sinceBoot), o);
  perf.metric(s, 'calico_restarts', restarts, o, { min: 0 });
  const facts = `restarts ${restarts ?? '?'}; host booted ${bootAgo(d, now)} ago`;
  const startText = sinceBoot === undefined ? 'start time unknown' : sinceBoot >= -BOOT_SLACK_S ? `started ${formatDuration(Math.max(0, sinceBoot))} after boot` : `started ${formatDuration(-sinceBoot)} BEFORE boot`;
  const why = `see why calico-node on ${d.node} is not running or Ready: ${find}, then kubectl describe and kubectl logs -c ${o.calicoContainer} that pod; check again`;
  const booted = (now - d.bootTime) / 1000;
  if (sinceBoot !== undefined && sinceBoot < -BOOT_SLACK_S && booted < o.bootGrace) {
    s.problem(State.WARNING, `calico-node has not restarted yet (host booted ${bootAgo(d, now)} ago)`,
      `calico-node has not restarted yet: ${podName} started ${formatDuration(-sinceBoot)} before this host booted ${bootAgo(d, now)} ago; ` +
      `CRITICAL if it has not restarted ${formatDuration(o.bootGrace)} after the boot (--boot-grace)`)
      .action(State.WARNING, `wait up to --boot-grace ${formatDuration(o.bootGrace)} for calico-node to restart after the boot, then check again (${find})`);
  } else if (sinceBoot !== undefined && sinceBoot < -BOOT_SLACK_S) {
    s.add(State.CRITICAL,
      `calico-node has not restarted since the reboot: ${podName} started ${formatDuration(-sinceBoot)} before this host booted ` +
      `${bootAgo(d, now)} ago (${plural(restarts ?? 0, 'restart')}); delete the pod or restart kubelite`);
    s.status('calico-node has not restarted since the reboot', { state: State.CRITICAL, priority: 1 })
      .action(State.CRITICAL, `recreate calico-node on ${d.node}: delete its pod (find it with ${find}), or on ${d.node} run sudo snap restart microk8s.daemon-kubelite (kube-proxy runs inside it); then its pod is Ready and started after the boot; check again`);
  } else if (!cs) {
    s.problem(State.WARNING, `calico-node container ${o.calicoContainer} has no status`, `${podName} has no status for container ${o.calicoContainer} (${facts})`).action(State.WARNING, why);
  } else if (!cs.state?.running) {
    const w: { reason?: string; message?: string } | undefined = cs.state?.waiting ?? cs.state?.terminated;
    const reason = w ? `${cs.state?.waiting ? 'waiting' : 'terminated'}: ${w.reason ?? '?'}${w.message ? ` (${sanitize(w.message, 120)})` : ''}` : 'not running';
    s.problem(State.CRITICAL, `calico-node not running (${w?.reason ?? 'no state'})`, `${podName} container ${o.calicoContainer} is not running, ${reason}; ${facts}`).action(State.CRITICAL, why);
  } else if (ready?.status !== 'True') {
    const since = ageSeconds(ready?.lastTransitionTime, now);
    const state = since === undefined || since >= o.minAge ? State.CRITICAL : State.WARNING;
    s.problem(state, 'calico-node not Ready', `${podName} is not Ready${since !== undefined ? ` for ${formatDuration(since)}` : ''}${ready?.reason ? ` (${ready.reason})` : ''}; ${facts}`).action(state, why);
  } else {
    s.status(`calico-node Ready, ${startText}`, { state: State.OK });
  }
  s.info(`${podName}: ${ready?.status === 'True' ? 'Ready' : 'not Ready'}, ${startText}, ${plural(restarts ?? 0, 'restart')}; ${caliText}`);
  return s.state();
}

/** Where to find this node's calico-node pod. */
function calicoPods(d: Data, o: Options): string {
  return `kubectl -n ${o.calicoNamespace || 'kube-system'} get pods -l ${o.calicoSelector} -o wide --field-selector spec.nodeName=${d.node}`;
}

function bootAgo(d: Data, now: number): string {
  return formatDuration(Math.max(0, (now - d.bootTime) / 1000));
}
