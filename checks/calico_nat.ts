import { readBootTime } from '../lib/host/boot.js';
import { firstLine } from '../lib/host/command.js';
import { exactDestination, parseChainRules, parseIptablesSave, ruleComment, ruleCount, IptablesParseError, type IptablesSave, type Table } from '../lib/host/iptables.js';
import { kubeProxyServicePortals, parseNftJson, NftParseError, type NftTableDump } from '../lib/host/nft.js';
import { felixBpfEnabled, felixEnv, readBpfPins, type BpfPins, type Dataplane } from '../lib/host/dataplane.js';
import { runPrivileged, sudoersLine as sudoersLineFor, type FixedCommand } from '../lib/host/sudo.js';
import { RESOURCES } from '../lib/kube/resources.js';
import { NodeNotKnown } from '../lib/kube/nodes.js';
import { condition } from '../lib/kube/objects.js';
import { nodeCheckClient, thisNode } from '../lib/kube/this-node.js';
import { hostNames } from '../lib/host/node-name.js';
import { ageSeconds, parseTime } from '../lib/kube/time.js';
import type { EndpointSlice, Pod, Service } from '../lib/kube/types.js';
import { defineCheck, opt, type CheckContext, type OptionsOf } from '../lib/plugin/check.js';
import { declareMetrics, range } from '../lib/plugin/context.js';
import { formatDuration } from '../lib/plugin/duration.js';
import { deadlineFromProcessStart, msLeft } from '../lib/plugin/deadline.js';
import { PluginError } from '../lib/plugin/errors.js';
import { Report } from '../lib/plugin/report.js';
import { plural, withheld, type Outcome } from '../lib/plugin/result.js';
import { sanitize } from '../lib/plugin/sanitize.js';
import { State, worst } from '../lib/plugin/state.js';

// ---------------------------------------------------------------- host side

type SourceName = 'iptables-nft' | 'iptables-legacy' | 'nftables';
type ProxyMode = 'auto' | 'iptables' | 'nftables';

/** The fixed commands, as packaging/sudoers/k8s-nrpe allows them. */
export const NAT_COMMANDS: Record<SourceName, FixedCommand> = {
  // Each backend by name: /usr/sbin/iptables-save is whichever the alternatives system points at,
  // and kube-proxy (inside kubelite on microk8s) may use the other one.
  'iptables-nft': { file: '/usr/sbin/iptables-nft-save', args: ['-t', 'nat'] },
  // No -t nat: asking for a table makes the kernel create it (module autoload), so on a host
  // without legacy tables `-t nat` would add an empty legacy nat table every run. Without -t it
  // dumps only the tables that exist.
  'iptables-legacy': { file: '/usr/sbin/iptables-legacy-save', args: [] },
  nftables: { file: '/usr/sbin/nft', args: ['-j', 'list', 'table', 'ip', 'kube-proxy'] },
};
const MAX_DUMP_BYTES = 64 * 1024 * 1024;
/** btime moves when the clock is stepped after boot (NTP): a start this close to it counts as after. */
const BOOT_SLACK_S = 30;

/** The kube-proxy tables to read: --dataplane iptables/nftables, else --proxy-mode (eBPF dataplanes: all, for the cali-* chains). */
function tablesMode(o: Options): ProxyMode {
  return o.dataplane === 'iptables' || o.dataplane === 'nftables' ? o.dataplane : o.proxyMode;
}

export function sourcesFor(mode: ProxyMode): SourceName[] {
  if (mode === 'iptables') return ['iptables-nft', 'iptables-legacy'];
  if (mode === 'nftables') return ['nftables'];
  return ['iptables-nft', 'iptables-legacy', 'nftables'];
}

/** The sudoers line that lets `user` run exactly what this check runs. */
export function sudoersLine(user: string, mode: ProxyMode): string {
  return sudoersLineFor(user, sourcesFor(mode).map((s) => NAT_COMMANDS[s]));
}

/** The API part's answer, or an apiError when it failed or did not answer within half of -t (from process start). */
export async function withinApiShare<T extends object>(api: Promise<T>, timeoutS: number): Promise<T | { services: []; slices: []; apiError: PluginError }> {
  const share = timeoutS / 2;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PluginError(`the API server did not answer within ${formatDuration(share)} (half of -t ${timeoutS})`)), msLeft(deadlineFromProcessStart(share)));
  });
  try {
    return await Promise.race([api, late]);
  } catch (e) {
    if (e instanceof PluginError) return { services: [], slices: [], apiError: e };
    throw e;
  } finally {
    clearTimeout(timer);
    api.catch(() => {}); // answered after its share: not news
  }
}

export interface NatSource {
  name: SourceName;
  /** read: output parsed; missing: tool not installed; absent: no legacy nat table / nft has no table ip kube-proxy. */
  status: 'read' | 'missing' | 'absent';
  save?: IptablesSave;
  nft?: NftTableDump;
}

/**
 * Every source, read in parallel. When several fail (no root: each needs it)
 * the first in source order is reported, not the first to finish, so the same
 * host gives the same line on every run.
 */
async function readSources(ctx: CheckContext, o: Options): Promise<NatSource[]> {
  const settled = await Promise.allSettled(sourcesFor(tablesMode(o)).map((s) => readSource(ctx, s, o)));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<NatSource>).value);
}

async function readSource(ctx: CheckContext, name: SourceName, o: Options): Promise<NatSource> {
  const cmd = NAT_COMMANDS[name];
  const allowed = sourcesFor(tablesMode(o)).map((s) => NAT_COMMANDS[s]);
  const r = await runPrivileged(cmd, { sudo: o.sudo, signal: ctx.signal, maxBytes: MAX_DUMP_BYTES, log: ctx.log, allowed, purpose: 'read the nat table' });
  if (!r) return { name, status: 'missing' };
  const command = [cmd.file, ...cmd.args].join(' ').trim();
  if (r.exitCode !== 0) {
    if (name === 'nftables' && /No such file or directory/i.test(r.stderr)) return { name, status: 'absent' };
    throw new PluginError(`${command} failed: ${firstLine(r.stderr) || `exit status ${r.exitCode}`}`);
  }
  try {
    if (name === 'nftables') return { name, status: 'read', nft: parseNftJson(r.stdout) };
    const save = parseIptablesSave(r.stdout);
    parseChainRules(save.tables.get('nat'), 'KUBE-SERVICES'); // the rules judged: malformed ones fail here
    return { name, status: save.tables.has('nat') ? 'read' : 'absent', save };
  } catch (e) {
    if (e instanceof IptablesParseError || e instanceof NftParseError) {
      throw new PluginError(`cannot parse the output of ${command}: ${sanitize(e.message, 200)}`);
    }
    throw e;
  }
}

// ---------------------------------------------------------------- the check

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

/** Who does Service NAT on this node, and what says so; undefined: kube-proxy (its tables are judged). */
export function ebpfDataplane(d: Data, o: Options, kubeProxyRules: boolean): { dataplane: Dataplane; evidence: string } | undefined {
  if (o.dataplane === 'calico-ebpf' || o.dataplane === 'cilium') return { dataplane: o.dataplane, evidence: `--dataplane ${o.dataplane}` };
  if (o.dataplane !== 'auto') return undefined;
  if (felixBpfEnabled(pickPod(d.calicoPods ?? []), o.calicoContainer)) return { dataplane: 'calico-ebpf', evidence: 'calico-node has FELIX_BPFENABLED=true' };
  // Pinned maps outlive a switch back to iptables: without kube-proxy rules they are the explanation, with them they are leftovers.
  if (kubeProxyRules) return undefined;
  if (d.bpf?.ciliumServices) return { dataplane: 'cilium', evidence: `pinned BPF map ${d.bpf.ciliumServices}` };
  if (d.bpf?.calicoNat) return { dataplane: 'calico-ebpf', evidence: `pinned BPF map ${d.bpf.calicoNat}` };
  return undefined;
}

/** Service fields kube-proxy reads that lib/kube/types.ts does not (yet) declare. */
type ProxiedService = Service & { spec?: { internalTrafficPolicy?: string; externalName?: string } };

// kube-proxy's own informer selectors (cmd/kube-proxy/app/server.go): Services
// and EndpointSlices with these labels are not kube-proxy's to program.
const PROXY_SERVICE_SELECTOR = '!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless';
const PROXY_SLICE_SELECTOR = `kubernetes.io/service-name,${PROXY_SERVICE_SELECTOR}`;

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
      readSources(ctx, o),
      // The NAT table is local evidence: an API server that fails or hangs (the incident's own
      // failure mode) gets half of -t, and the local verdict is reported either way.
      withinApiShare(api, o.timeout),
      o.dataplane === 'auto' ? readBpfPins() : undefined,
    ]);
    if (sources.every((s) => s.status === 'missing')) {
      const tried = sourcesFor(tablesMode(o)).map((s) => NAT_COMMANDS[s].file).join(', ');
      throw new PluginError(`cannot read the nat table: none of ${tried} is installed (install iptables${tablesMode(o) === 'iptables' ? '' : ' or nftables'})`);
    }
    // Named in the output while the API cannot say which node this is: --node, else the hostname.
    const node = o.node ?? hostNames()[0]!;
    if ('apiError' in fromApi && fromApi.apiError instanceof NodeNotKnown) return { node, bootTime, sources, bpf, services: [], slices: [], nodeUnknown: fromApi.apiError.message };
    return { node, bootTime, sources, bpf, ...fromApi };
  },

    evaluate: evaluateNat,
});

// ---------------------------------------------------------------- judgement

interface Portal {
  key: string;
  source: SourceName;
  target?: string;
  comment?: string;
  /** The rule jumps to a chain that has no rules: no DNAT happens. */
  emptyTarget?: boolean;
}

interface Expected {
  key: string;
  /** 'media/sonarr:http' (kube-proxy's service port name). */
  name: string;
  address: string;
  port: number;
  protocol: string;
  endpoints: number;
}

const portalKey = (address: string, protocol: string, port: number) => `${address}|${protocol.toLowerCase()}|${port}`;
const natTable = (s: NatSource): Table | undefined => s.save?.tables.get('nat');


/** Service portals per source: KUBE-SERVICES rules (iptables) or service-ips elements (nftables). */
function portalsOf(s: NatSource): Portal[] {
  const out: Portal[] = [];
  const table = natTable(s);
  const chain = table?.chains.get('KUBE-SERVICES');
  if (chain) {
    for (const r of chain.rules) {
      const d = exactDestination(r);
      if (!d || !r.target) continue;
      const target = table!.chains.get(r.target);
      out.push({ key: portalKey(d.address, d.protocol, d.port), source: s.name, target: r.target, comment: ruleComment(r), emptyTarget: target ? target.rules.length === 0 : false });
    }
  }
  if (s.nft) {
    for (const p of kubeProxyServicePortals(s.nft) ?? []) {
      const target = p.target ? s.nft.chains.get(p.target) : undefined;
      out.push({ key: portalKey(p.address, p.protocol, p.port), source: s.name, target: p.target, comment: p.comment, emptyTarget: target ? target.rules === 0 : false });
    }
  }
  return out;
}

function isIpv4(ip: string | undefined): ip is string {
  return !!ip && /^\d{1,3}(\.\d{1,3}){3}$/.test(ip);
}

/** When the EndpointSlice controller last changed a slice: the last-change-trigger-time annotation, else creation. */
function sliceChanged(s: EndpointSlice): number | undefined {
  const a = parseTime(s.metadata?.annotations?.['endpoints.kubernetes.io/last-change-trigger-time']);
  const c = parseTime(s.metadata?.creationTimestamp);
  return a === undefined ? c : c === undefined ? a : Math.max(a, c);
}

interface ServiceJudgement {
  expected: Expected[];
  /** Service ports with ready endpoints that are too young to judge. */
  settling: number;
  /** Services kube-proxy's IPv4 rules do not cover (IPv6-only). */
  notJudged: number;
  /** Every (cluster IP, protocol, port) the API knows, for stale-rule detection. */
  known: Set<string>;
}

/** Which Service ports kube-proxy must have programmed on `node`, from the API's view. */
export function expectedServicePorts(services: Service[], slices: EndpointSlice[], node: string, minAge: number, now: number): ServiceJudgement {
  const byService = new Map<string, EndpointSlice[]>();
  for (const sl of slices) {
    const svc = sl.metadata?.labels?.['kubernetes.io/service-name'];
    if (!svc || (sl.addressType && sl.addressType !== 'IPv4')) continue;
    const k = `${sl.metadata?.namespace}/${svc}`;
    byService.set(k, [...(byService.get(k) ?? []), sl]);
  }
  const out: ServiceJudgement = { expected: [], settling: 0, notJudged: 0, known: new Set() };
  const seen = new Set<string>();
  for (const svc of services as ProxiedService[]) {
    const ns = svc.metadata?.namespace ?? '';
    const name = svc.metadata?.name ?? '';
    const id = `${ns}/${name}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const spec = svc.spec ?? {};
    const labels = svc.metadata?.labels ?? {};
    if (spec.type === 'ExternalName' || 'service.kubernetes.io/service-proxy-name' in labels || 'service.kubernetes.io/headless' in labels) continue;
    const ips = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
    if (!ips.length || ips[0] === 'None') continue; // headless
    const ip = ips.find(isIpv4);
    if (!ip) { out.notJudged++; continue; }
    for (const p of spec.ports ?? []) {
      if (p.port !== undefined) out.known.add(portalKey(ip, p.protocol ?? 'TCP', p.port));
    }
    const serviceYoung = (ageSeconds(svc.metadata?.creationTimestamp, now) ?? Infinity) < minAge;
    const local = spec.internalTrafficPolicy === 'Local';
    for (const p of spec.ports ?? []) {
      if (p.port === undefined) continue;
      const protocol = p.protocol ?? 'TCP';
      const portName = p.name ?? '';
      let ready = 0;
      let young = serviceYoung;
      for (const sl of byService.get(id) ?? []) {
        if (!sl.ports?.some((sp) => (sp.name ?? '') === portName && (sp.protocol ?? 'TCP') === protocol)) continue;
        // EndpointConditions.ready: nil means ready.
        const n = (sl.endpoints ?? []).filter((e) => e.conditions?.ready !== false && (!local || e.nodeName === node)).length;
        if (!n) continue;
        ready += n;
        const changed = sliceChanged(sl);
        if (changed !== undefined && (now - changed) / 1000 < minAge) young = true;
      }
      if (!ready) continue; // kube-proxy writes no NAT rule without endpoints (a filter REJECT instead)
      if (young) { out.settling++; continue; }
      out.expected.push({ key: portalKey(ip, protocol, p.port), name: portName ? `${id}:${portName}` : id, address: ip, port: p.port, protocol, endpoints: ready });
    }
  }
  return out;
}

/** The newest calico-node pod of the node that is not being deleted (a replacement may overlap the old one). */
function pickPod(pods: Pod[]): Pod | undefined {
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
  const pool = live.length ? live : pods;
  return [...pool].sort((a, b) => (parseTime(b.metadata?.creationTimestamp) ?? 0) - (parseTime(a.metadata?.creationTimestamp) ?? 0))[0];
}

/** One half of the status line (Service NAT, calico-node): its state and words. */
interface Half {
  state: State;
  text: string;
  /** The incident's own signature: it leads the status line. */
  signature?: boolean;
}

export function evaluateNat(d: Data, o: Options, now: number): Outcome {
  const r = new Report();
  const read = d.sources.filter((s) => s.status === 'read');
  const withKube = read.filter((s) => natTable(s)?.chains.has('KUBE-SERVICES') || (s.nft && kubeProxyServicePortals(s.nft)));
  const natRules = read.reduce((n, s) => n + ruleCount(natTable(s)) + (s.nft?.rules ?? 0), 0);
  const ipvs = read.some((s) => natTable(s)?.chains.get('KUBE-SERVICES')?.rules.some((x) => x.options.some((y) => y.name === '--match-set' && y.values[0] === 'KUBE-CLUSTER-IP')));
  const portals = read.flatMap(portalsOf);
  const working = new Set(portals.filter((p) => !p.emptyTarget).map((p) => p.key));
  const emptyTargets = new Map(portals.filter((p) => p.emptyTarget).map((p) => [p.key, p]));

  // Where the rules are: each source and its size, for the operator.
  const where = d.sources.map((s) => {
    if (s.status === 'missing') return `${s.name}: not installed`;
    if (s.status === 'absent') return `${s.name}: ${s.name === 'nftables' ? 'no table ip kube-proxy' : 'no nat table'}`;
    const n = s.nft ? s.nft.rules : ruleCount(natTable(s));
    const kube = withKube.includes(s) ? (s.nft ? ', service-ips map' : ', KUBE-SERVICES') : '';
    return `${s.name}: ${plural(n, 'nat rule')}${kube}`;
  });

  const ebpf = ebpfDataplane(d, o, withKube.length > 0);
  const judged = d.apiError || d.nodeUnknown || ebpf ? undefined : expectedServicePorts(d.services, d.slices, d.node, o.minAge, now);
  const expected = judged?.expected ?? [];
  const missing = withKube.length && !ipvs ? expected.filter((e) => !working.has(e.key)) : withKube.length ? [] : expected;
  const programmed = expected.length - missing.length;
  perf.metric(r, 'expected_services', judged ? expected.length : undefined, o, { min: 0 });
  perf.metric(r, 'programmed_services', judged ? programmed : undefined, o, { min: 0 });
  const missingJudged = judged ? perf.judge(r, 'missing_services', missing.length, o, { min: 0 }) : (perf.metric(r, 'missing_services', undefined, o, { min: 0 }), undefined);
  perf.metric(r, 'nat_rules', natRules, o, { min: 0 });

  const nat = judgeNat();
  function judgeNat(): Half {
    if (ebpf) {
      const name = ebpf.dataplane === 'cilium' ? 'Cilium\'s kube-proxy replacement' : 'Calico\'s eBPF dataplane';
      r.info(`Service NAT is done by ${name} (${ebpf.evidence}): kube-proxy's rules are not expected and not judged; --dataplane iptables or nftables judges them`);
      return { state: State.OK, text: `Services translated by ${name} (${ebpf.evidence}), not by kube-proxy rules: not judged` };
    }
    if (!withKube.length) {
      if (d.bpf?.unreadable) r.info(`could not look for an eBPF dataplane's pinned maps (${d.bpf.unreadable}): if Services are translated in BPF, say so with --dataplane calico-ebpf or cilium`);
      r.add(State.CRITICAL,
        `no KUBE-SERVICES chain in the nat table and no nftables kube-proxy table: ClusterIP traffic from ${d.node} is dropped ` +
        `(post-reboot incident signature; booted ${bootAgo(d, now)} ago). Restart kube-proxy/kubelite`);
      return {
        state: State.CRITICAL, signature: true,
        text: `no Service NAT rules on ${d.node}: no KUBE-SERVICES chain in the nat table and no nftables kube-proxy table` +
          `${judged && expected.length ? `, ${plural(expected.length, 'service port')} unreachable by ClusterIP` : ''} (post-reboot signature)`,
      };
    }
    if (ipvs) {
      r.add(State.UNKNOWN, 'kube-proxy runs in IPVS mode (KUBE-SERVICES matches the KUBE-CLUSTER-IP ipset): per-Service rules are in IPVS, which this check does not read');
      return { state: State.UNKNOWN, text: 'kube-proxy IPVS mode: Service rules not judged' };
    }
    if (!judged) {
      return { state: State.OK, text: `${withKube.map((s) => s.name).join(' and ')} ${withKube.length > 1 ? 'hold' : 'holds'} Service rules (${plural(portals.length, 'service port')}); not cross-checked with the API` };
    }
    if (missing.length) {
      const names = missing.slice(0, 3).map((m) => m.name).join(', ');
      return { state: missingJudged!.state, text: `${missing.length} of ${plural(expected.length, 'service port')} with ready endpoints ${missing.length === 1 ? 'has' : 'have'} no NAT rule on ${d.node}: ${names}${missing.length > 3 ? ', ...' : ''}` };
    }
    const held = `${withKube.map((s) => s.name).join(', ')}, ${plural(natRules, 'nat rule')}`;
    if (!expected.length) return { state: State.OK, text: `no Service port with ready endpoints to check on ${d.node} (${held})` };
    return { state: State.OK, text: `${programmed}/${plural(expected.length, 'service port')} programmed on ${d.node} (${held})` };
  }

  const caliChains = read.flatMap((s) => [...(natTable(s)?.chains.keys() ?? [])].filter((c) => c.startsWith('cali-')));
  const caliText = caliChains.length ? `Calico nat chains: ${[...new Set(caliChains)].join(', ')}` : 'no Calico nat chains (cali-*) in the nat table';
  const calico = judgeCalico(r, d, o, now, caliText);
  // Calico's own NAT (pod egress masquerade, floating IPs): Felix's iptables dataplane hooks cali-* chains into the nat table.
  const felix = judgeFelixNat(r, d, o, now, {
    calicoOk: calico?.state === State.OK,
    kubeProxyDataplane: !ebpf,
    iptablesRead: read.some((s) => s.save),
    chains: new Set(caliChains),
  });

  // After the calico verdict, so the two incident signatures stay on the first lines NRPE passes on.
  for (const m of missing) {
    const empty = emptyTargets.get(m.key);
    const why = empty ? `rule jumps to ${empty.target}, which has no rules` : 'no NAT rule';
    r.add(withKube.length ? missingJudged!.state : State.CRITICAL, `${why} for ${m.name} ${m.address}:${m.port}/${m.protocol} (${plural(m.endpoints, 'ready endpoint')})`);
  }
  if (judged) {
    const stale = portals.filter((p) => p.source !== 'nftables' && p.comment?.endsWith(' cluster IP') && !judged.known.has(p.key));
    if (stale.length) r.info(`${plural(stale.length, 'cluster IP rule')} for Service ports the API no longer has (kube-proxy not syncing?): ${stale.slice(0, 3).map((p) => p.comment!.replace(/ cluster IP$/, '')).join(', ')}`);
    if (judged.settling || judged.notJudged) r.info(`not judged: ${plural(judged.settling, 'service port')} younger than --min-age ${formatDuration(o.minAge)}, ${plural(judged.notJudged, 'IPv6-only service')}`);
  }
  const apiText = d.apiError && `cannot cross-check with the API: ${d.apiError.message}`;
  if (apiText) r.add(State.UNKNOWN, apiText);
  r.info(`nat table sources: ${where.join('; ')}`);

  // The status line states both halves, an incident signature first; when
  // nothing local is wrong, an API that could not be asked is the news.
  const halves = [nat, ...(calico ? [calico] : []), ...(felix ? [felix] : [])];
  for (const h of halves) r.problem(h.state, h.text).action(h.state, natAction(h, d, o));
  const line = [...halves.filter((h) => h.signature), ...halves.filter((h) => !h.signature)].map((h) => h.text).join('; ');
  const local = worst(...halves.map((h) => h.state));
  const out = r.done(line);
  // A node-local verdict belongs to a host known to be a node: until then the table is context.
  if (d.nodeUnknown) return withheld(d.nodeUnknown, out, line);
  const summary = !apiText ? line : local === State.CRITICAL || local === State.WARNING ? `${line}; ${apiText}` : apiText;
  return { ...out, summary };
}

/** The chains Felix's iptables dataplane always programs in the nat table (felix/rules/rule_defs.go: the hooks from the built-in chains). */
const FELIX_NAT_HOOKS = ['cali-PREROUTING', 'cali-POSTROUTING', 'cali-OUTPUT'];

/**
 * A Ready calico-node (older than --min-age) in iptables mode whose hooks are
 * missing from the nat table has not programmed Calico's NAT: pod egress
 * masquerading (cali-nat-outgoing) does not happen. Not judged for an eBPF or
 * nftables Felix, or when no iptables table was read.
 */
function judgeFelixNat(r: Report, d: Data, o: Options, now: number, c: { calicoOk: boolean; kubeProxyDataplane: boolean; iptablesRead: boolean; chains: Set<string> }): Half | undefined {
  const pod = pickPod(d.calicoPods ?? []);
  if (!o.calico || !pod || !c.calicoOk || !c.kubeProxyDataplane || !c.iptablesRead) return undefined;
  if (felixEnv(pod, o.calicoContainer, 'FELIX_NFTABLESMODE')?.toLowerCase() === 'enabled') return undefined;
  const started = parseTime(pod.status?.containerStatuses?.find((x) => x.name === o.calicoContainer)?.state?.running?.startedAt);
  if (started === undefined || (now - started) / 1000 < o.minAge) return undefined;
  const missing = FELIX_NAT_HOOKS.filter((h) => !c.chains.has(h));
  if (!missing.length) {
    if (!c.chains.has('cali-nat-outgoing')) r.info('no cali-nat-outgoing chain next to Felix\'s hooks: egress NAT for natOutgoing IP pools is not programmed');
    return undefined;
  }
  r.add(State.WARNING, `calico-node is Ready but its nat chains are missing (${missing.join(', ')}): Felix has not programmed Calico's NAT, pod egress is not masqueraded; restart calico-node`);
  return { state: State.WARNING, text: `Calico's nat chains missing (${missing.join(', ')})` };
}

/** This node's calico-node pod, judged against the boot: a line for the status line, or undefined when not asked. */
function judgeCalico(r: Report, d: Data, o: Options, now: number, caliText: string): Half | undefined {
  const noMetrics = (): undefined => {
    perf.metric(r, 'calico_started_after_boot', undefined, o);
    perf.metric(r, 'calico_restarts', undefined, o, { min: 0 });
    return undefined;
  };
  if (!o.calico) {
    r.info(`calico-node not checked (--no-calico); ${caliText}`);
    return noMetrics();
  }
  if (d.apiError || d.nodeUnknown) {
    r.info(caliText);
    return noMetrics();
  }
  const pod = pickPod(d.calicoPods ?? []);
  if (!pod) {
    r.add(State.WARNING, `no calico-node pod on ${d.node} (${o.calicoSelector}${o.calicoNamespace ? ` in ${o.calicoNamespace}` : ''}): the DaemonSet does not run here, or the cluster has no Calico (then use --no-calico)`);
    noMetrics();
    return { state: State.WARNING, text: 'no calico-node pod' };
  }
  const podName = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
  const cs = pod.status?.containerStatuses?.find((c) => c.name === o.calicoContainer);
  const ready = condition(pod.status?.conditions, 'Ready');
  const restarts = cs?.restartCount;
  const started = parseTime(cs?.state?.running?.startedAt);
  const sinceBoot = started === undefined ? undefined : (started - d.bootTime) / 1000;
  perf.metric(r, 'calico_started_after_boot', sinceBoot === undefined ? undefined : Math.round(sinceBoot), o);
  perf.metric(r, 'calico_restarts', restarts, o, { min: 0 });
  const facts = `restarts ${restarts ?? '?'}; host booted ${bootAgo(d, now)} ago`;
  const startText = sinceBoot === undefined ? 'start time unknown' : sinceBoot >= -BOOT_SLACK_S ? `started ${formatDuration(Math.max(0, sinceBoot))} after boot` : `started ${formatDuration(-sinceBoot)} BEFORE boot`;
  const summary = `${podName}: ${ready?.status === 'True' ? 'Ready' : 'not Ready'}, ${startText}, ${plural(restarts ?? 0, 'restart')}; ${caliText}`;

  let half: Half | undefined;
  const booted = (now - d.bootTime) / 1000;
  if (sinceBoot !== undefined && sinceBoot < -BOOT_SLACK_S && booted < o.bootGrace) {
    r.add(State.WARNING,
      `calico-node has not restarted yet: ${podName} started ${formatDuration(-sinceBoot)} before this host booted ${bootAgo(d, now)} ago; ` +
      `CRITICAL if it has not restarted ${formatDuration(o.bootGrace)} after the boot (--boot-grace)`);
    half = { state: State.WARNING, text: 'calico-node has not restarted yet (host booted ' + `${bootAgo(d, now)} ago)` };
  } else if (sinceBoot !== undefined && sinceBoot < -BOOT_SLACK_S) {
    r.add(State.CRITICAL,
      `calico-node has not restarted since the reboot: ${podName} started ${formatDuration(-sinceBoot)} before this host booted ` +
      `${bootAgo(d, now)} ago (${plural(restarts ?? 0, 'restart')}); delete the pod or restart kubelite`);
    half = { state: State.CRITICAL, text: 'calico-node has not restarted since the reboot', signature: true };
  } else if (!cs) {
    r.add(State.WARNING, `${podName} has no status for container ${o.calicoContainer} (${facts})`);
    half = { state: State.WARNING, text: `calico-node container ${o.calicoContainer} has no status` };
  } else if (!cs.state?.running) {
    const w: { reason?: string; message?: string } | undefined = cs.state?.waiting ?? cs.state?.terminated;
    const reason = w ? `${cs.state?.waiting ? 'waiting' : 'terminated'}: ${w.reason ?? '?'}${w.message ? ` (${sanitize(w.message, 120)})` : ''}` : 'not running';
    r.add(State.CRITICAL, `${podName} container ${o.calicoContainer} is not running, ${reason}; ${facts}`);
    half = { state: State.CRITICAL, text: `calico-node not running (${w?.reason ?? 'no state'})` };
  } else if (ready?.status !== 'True') {
    const since = ageSeconds(ready?.lastTransitionTime, now);
    const state = since === undefined || since >= o.minAge ? State.CRITICAL : State.WARNING;
    r.add(state, `${podName} is not Ready${since !== undefined ? ` for ${formatDuration(since)}` : ''}${ready?.reason ? ` (${ready.reason})` : ''}; ${facts}`);
    half = { state, text: 'calico-node not Ready' };
  }
  r.info(summary);
  return half ?? { state: State.OK, text: `calico-node Ready, ${startText}` };
}

function bootAgo(d: Data, now: number): string {
  return formatDuration(Math.max(0, (now - d.bootTime) / 1000));
}

/** The next step for one half of the verdict (the NAT rules, calico-node, Felix's hooks), with this node's names. */
function natAction(h: Half, d: Data, o: Options): string {
  const node = d.node;
  const restart = `on ${node} run sudo snap restart microk8s.daemon-kubelite (kube-proxy runs inside it)`;
  const verify = `verify with sudo iptables -t nat -S KUBE-SERVICES | head on ${node} and check again`;
  const calicoPod = `kubectl -n ${o.calicoNamespace || 'kube-system'} get pods -l ${o.calicoSelector} -o wide --field-selector spec.nodeName=${node}`;
  if (h.text.startsWith('no Service NAT rules')) return `the Service NAT rules are gone on ${node}: ${restart}; that rebuilds KUBE-SERVICES; ${verify}`;
  if (/no NAT rule on /.test(h.text)) return `kube-proxy on ${node} is not syncing every Service: ${restart}; ${verify}`;
  if (h.text.startsWith('kube-proxy IPVS')) return `read the Services from IPVS on ${node} (sudo ipvsadm -Ln): this check reads iptables and nftables rules only`;
  if (h.text.startsWith('calico-node has not restarted since the reboot')) return `recreate calico-node on ${node}: delete its pod (find it with ${calicoPod}), or ${restart}; then its pod is Ready and started after the boot; check again`;
  if (h.text.startsWith('calico-node has not restarted yet')) return `wait up to --boot-grace ${formatDuration(o.bootGrace)} for calico-node to restart after the boot, then check again (${calicoPod})`;
  if (h.text.startsWith('calico-node')) return `see why calico-node on ${node} is not running or Ready: ${calicoPod}, then kubectl describe and kubectl logs -c ${o.calicoContainer} that pod; check again`;
  if (h.text.startsWith('Calico\'s nat chains missing')) return `Felix has not programmed Calico's NAT on ${node}: delete its calico-node pod (find it with ${calicoPod}) so the DaemonSet recreates it; check again`;
  if (h.text.startsWith('no calico-node pod')) return `see whether the calico-node DaemonSet runs on ${node} (${calicoPod}); a cluster without Calico: pass --no-calico`;
  return `run sudo k8s-nrpe triage on ${node} for the rest of the picture, then check again`;
}
