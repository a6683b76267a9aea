import { isIP } from 'node:net';
import { RESOURCES } from '../lib/kube/resources.js';
import { matchesSelector, selectorToString } from '../lib/kube/labels.js';
import { condition, refOf } from '../lib/kube/objects.js';
import type { Deployment, LabelSelector, Pod, PodAffinityTerm, Service } from '../lib/kube/types.js';
import type { OptionSpec } from '../lib/plugin/options.js';
import { defineCheck, opt } from '../lib/plugin/check.js';
import { declareMetrics, range } from '../lib/plugin/context.js';
import { resolveA } from '../lib/host/dns.js';
import { formatDuration } from '../lib/plugin/duration.js';
import { UsageError } from '../lib/plugin/errors.js';
import { Report } from '../lib/plugin/report.js';
import { plural } from '../lib/plugin/result.js';
import { State } from '../lib/plugin/state.js';
import { isPodReady, podNotReadyReason } from '../lib/kube/pods.js';

const HOSTNAME = 'kubernetes.io/hostname';
const DEFAULT_NAME = 'kubernetes.default.svc.cluster.local';

export interface DnsProbe {
  name: string;
  /** Where the query went; undefined when there was no address to ask. */
  server?: string;
  /** Why there was no address: the Service is missing or has no ClusterIP. */
  noServer?: string;
  addresses?: string[];
  /** c-ares error code: ETIMEOUT, ENOTFOUND, ESERVFAIL, ECONNREFUSED... */
  error?: string;
  ms?: number;
  timeoutMs: number;
}

export interface Data {
  /** undefined: not found by name, nor (with --selector) by label. */
  deployment?: Deployment;
  /** With --selector and no Deployment by that name: the names the selector found. */
  candidates: string[];
  /** Pods listed with the Deployment's own selector. */
  pods: Pod[];
  dns?: DnsProbe;
}

// ---- options -------------------------------------------------------------

function parseDnsServer(v: string): string {
  let host = v;
  let port = '53';
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(v);
  const v4 = /^([^:]+):(\d+)$/.exec(v);
  if (v6) { host = v6[1]!; port = v6[2] ?? '53'; }
  else if (v4) { host = v4[1]!; port = v4[2]!; }
  const p = Number(port);
  if (!isIP(host) || !Number.isInteger(p) || p < 1 || p > 65535) {
    throw new UsageError(`invalid --dns-server '${v}': give an IP address, optionally with :PORT (IPv6 as [addr]:PORT)`);
  }
  return isIP(host) === 6 ? `[${host}]:${p}` : `${host}:${p}`;
}

function parseResolveName(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (Array.isArray(v)) throw new UsageError('--resolve given more than once');
  const name = String(v).trim() || DEFAULT_NAME;
  if (name.length > 253 || !/^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/.test(name)) {
    throw new UsageError(`invalid --resolve '${name}': not a DNS name`);
  }
  return name.replace(/\.$/, '');
}

// ---- judgement helpers (pure) --------------------------------------------


/**
 * A pod of this Deployment: controlled by one of its ReplicaSets, which are
 * named <deployment>-<pod-template-hash> (a prefix test would also take
 * coredns-autoscaler-...), or by nothing (a ReplicaSet would adopt it).
 */
function ownedBy(p: Pod, deployment: string): boolean {
  const ctrl = p.metadata?.ownerReferences?.find((r) => r.controller);
  if (!ctrl) return true;
  const hash = p.metadata?.labels?.['pod-template-hash'];
  return ctrl.kind === 'ReplicaSet' && hash !== undefined && ctrl.name === `${deployment}-${hash}`;
}


function selectorText(sel: LabelSelector | undefined): string {
  if (!sel) return 'no labelSelector';
  try {
    return selectorToString(sel) || 'everything';
  } catch {
    return 'an invalid selector';
  }
}

export interface Spreading {
  /** The strongest rule that spreads the pods over hostnames, if any. */
  found?: { strength: 'required' | 'preferred'; text: string };
  /** Rules that look like spreading but are not (another key, other pods). */
  misses: string[];
}

/**
 * Does the pod template keep its own replicas on different nodes?
 * podAntiAffinity (required or preferred) on kubernetes.io/hostname whose
 * term selects the template's own labels in its own namespace, or a
 * topologySpreadConstraint on kubernetes.io/hostname over its own pods with
 * a maxSkew smaller than the replica count (otherwise all may share a node).
 */
export function hostnameSpreading(d: Deployment, desired: number): Spreading {
  const ns = d.metadata?.namespace ?? '';
  const labels = d.spec?.template?.metadata?.labels ?? {};
  const spec = d.spec?.template?.spec ?? {};
  const misses: string[] = [];
  const found: NonNullable<Spreading['found']>[] = [];

  const ownNamespace = (t: PodAffinityTerm) =>
    (!t.namespaces?.length && !t.namespaceSelector) ||
    (t.namespaces ?? []).includes(ns) ||
    matchesSelector(t.namespaceSelector, { 'kubernetes.io/metadata.name': ns });
  const term = (t: PodAffinityTerm | undefined, strength: 'required' | 'preferred', what: string) => {
    if (!t) return;
    if (t.topologyKey !== HOSTNAME) misses.push(`${what} on ${t.topologyKey || 'no topologyKey'}, not ${HOSTNAME}`);
    else if (!matchesSelector(t.labelSelector, labels)) misses.push(`${what} on ${HOSTNAME} selects ${selectorText(t.labelSelector)}, not its own pods`);
    else if (!ownNamespace(t)) misses.push(`${what} on ${HOSTNAME} looks only in other namespaces`);
    else found.push({ strength, text: `${what} on ${HOSTNAME}` });
  };
  const anti = spec.affinity?.podAntiAffinity;
  for (const t of anti?.requiredDuringSchedulingIgnoredDuringExecution ?? []) term(t, 'required', 'required podAntiAffinity');
  for (const w of anti?.preferredDuringSchedulingIgnoredDuringExecution ?? []) term(w.podAffinityTerm, 'preferred', `preferred podAntiAffinity (weight ${w.weight ?? '?'})`);
  for (const c of spec.topologySpreadConstraints ?? []) {
    const strength = c.whenUnsatisfiable === 'ScheduleAnyway' ? 'preferred' : 'required';
    const skew = c.maxSkew ?? 1;
    const what = `topologySpreadConstraint (maxSkew ${skew}, ${c.whenUnsatisfiable ?? 'DoNotSchedule'})`;
    if (c.topologyKey !== HOSTNAME) misses.push(`${what} on ${c.topologyKey || 'no topologyKey'}, not ${HOSTNAME}`);
    else if (!matchesSelector(c.labelSelector, labels)) misses.push(`${what} on ${HOSTNAME} selects ${selectorText(c.labelSelector)}, not its own pods`);
    else if (skew >= Math.max(desired, 2)) misses.push(`${what} on ${HOSTNAME} lets all ${desired} replicas share a node`);
    else found.push({ strength, text: `${what} on ${HOSTNAME}` });
  }
  return { found: found.find((f) => f.strength === 'required') ?? found[0], misses };
}

function dnsFailure(code: string | undefined, timeoutMs: number): string {
  switch (code) {
    case 'ETIMEOUT': return `no answer within ${timeoutMs % 1000 ? `${Math.round(timeoutMs)}ms` : formatDuration(timeoutMs / 1000)}`;
    case 'ENOTFOUND': return 'NXDOMAIN: the name does not exist (is the kubernetes plugin serving this zone?)';
    case 'ENODATA': return 'no A record in the answer';
    case 'ESERVFAIL': return 'SERVFAIL: CoreDNS could not answer (API server or upstream trouble?)';
    case 'EREFUSED': return 'REFUSED';
    case 'ECONNREFUSED': return 'connection refused: nothing listening';
    case 'ECANCELLED': return 'cancelled by the check timeout';
    default: return `failed (${code ?? 'unknown error'})`;
  }
}

// ---- the check -------------------------------------------------------------

const perf = declareMetrics({
  desired_replicas: { describe: 'spec.replicas of the DNS Deployment' },
  ready_replicas: { describe: 'Ready replicas (status.readyReplicas)', judge: range('warning', 'critical') },
  available_replicas: { describe: 'Available replicas (status.availableReplicas)' },
  ready_nodes: { describe: 'Distinct nodes the ready DNS pods run on', judge: range('minNodes', undefined, { as: 'min', zeroOff: true }) },
  resolve_time: { describe: 'Time the --resolve lookup took (U without an answer)', uom: 'ms' },
});

export default defineCheck({
  name: 'coredns',
  title: 'COREDNS',
  scope: 'cluster',
  nrpe: {
    args: '-t 20 --resolve kubernetes.default.svc.cluster.local',
    about:
      'CoreDNS: ready replicas, spread over nodes (one reboot must not drop cluster DNS), a lookup through the kube-dns Service IP.',
  },
  summary: 'CoreDNS replicas, the nodes they run on, spreading, and an optional lookup',
  description:
    'Cluster DNS that one node can take down: the CoreDNS Deployment (default kube-system/coredns, as microk8s ' +
    'names it, label k8s-app=kube-dns) judged by its ready replicas (-w/-c), the nodes its ready pods run on ' +
    '(WARNING when they share fewer than --min-nodes: one reboot drops cluster DNS), and whether its pod template ' +
    'spreads replicas over nodes (podAntiAffinity, required or preferred, or topologySpreadConstraints on ' +
    'kubernetes.io/hostname that select its own pods; WARNING without, unless --no-require-anti-affinity). ' +
    'A missing Deployment is CRITICAL ("not found": no cluster DNS); with --selector the check then looks for a ' +
    'Deployment with those labels in --namespace (other distributions name it kube-dns or rke2-coredns). ' +
    'With --resolve the check also asks the kube-dns Service ClusterIP (spec.clusterIP of --namespace/--service) ' +
    'for a name from this host, CRITICAL without an answer within --resolve-timeout. --dns-server sends that query ' +
    'elsewhere instead: for tests, and for hosts where the Service IP is not routable (not a cluster node); it ' +
    'implies --resolve. On a single-node cluster use -w 1: --min-nodes 1 --no-require-anti-affinity.',
  thresholds: { describe: 'ready replicas of the DNS Deployment', warning: '2:', critical: '1:' },
  options: {
    namespace: opt.namespace({ default: 'kube-system', describe: 'Namespace of the DNS Deployment and Service' }),
    deployment: opt.name({ default: 'coredns', describe: 'Name of the DNS Deployment' }),
    selector: opt.labelSelector({ describe: 'If no Deployment has that name, find it by these labels (e.g. k8s-app=kube-dns)' }),
    'min-nodes': opt.int({ default: 2, min: 0, describe: 'WARNING when the ready pods run on fewer distinct nodes than this (0: do not judge)' }),
    'require-anti-affinity': opt.flag({
      default: true,
      describe: 'WARNING when the pod template does not spread replicas over nodes; --no-require-anti-affinity drops the rule',
    }),
    resolve: {
      placeholder: 'NAME', describe: `Also resolve this name (default ${DEFAULT_NAME}) against the DNS Service from this host`,
      parse: (raw: unknown) => parseResolveName(raw),
    } satisfies OptionSpec<string | undefined>,
    'resolve-timeout': opt.duration({ default: '2s', min: 0.001, describe: 'How long the DNS query may take (within -t)' }),
    'dns-server': opt.custom({
      placeholder: 'IP[:PORT]', parse: parseDnsServer,
      describe: 'Ask this IP[:PORT] instead of the Service ClusterIP (tests; hosts that cannot route to it); implies --resolve',
    }),
    service: opt.name({ default: 'kube-dns', describe: 'Name of the DNS Service whose ClusterIP --resolve asks' }),
  },
  perfdata: perf.docs,
  examples: [
    ['$0 --kubeconfig /etc/nagios/k8s-nrpe.kubeconfig --resolve', 'replicas, nodes, spreading, and one lookup through the Service IP'],
    ['$0 --selector k8s-app=kube-dns', 'coredns, or whatever Deployment carries the kube-dns label'],
    ['$0 -w 1: --min-nodes 1 --no-require-anti-affinity', 'a single-node cluster'],
  ],

  validate(o) {
    if ((o.resolve ?? o.dnsServer) !== undefined && o.resolveTimeout >= o.timeout) {
      throw new UsageError(`--resolve-timeout ${o.resolveTimeout}s must be shorter than -t ${o.timeout}s`);
    }
  },

  async gather(ctx, o): Promise<Data> {
    const kube = await ctx.kube();

    const workload = (async () => {
      let deployment = await kube.getOptional<Deployment>(RESOURCES.deployments, o.deployment, o.namespace);
      let candidates: string[] = [];
      if (!deployment && o.selector) {
        const found = await kube.list<Deployment>(RESOURCES.deployments, { namespace: o.namespace, labelSelector: o.selector });
        candidates = found.map((d) => d.metadata?.name ?? '?');
        if (found.length === 1) deployment = found[0];
      }
      // Its pods, filtered by the apiserver with the Deployment's own selector.
      const pods = deployment
        ? await kube.list<Pod>(RESOURCES.pods, { namespace: deployment.metadata?.namespace ?? o.namespace, labelSelector: selectorToString(deployment.spec?.selector) })
        : [];
      return { deployment, candidates, pods };
    })();

    const dns = (async (): Promise<DnsProbe | undefined> => {
      const name = o.resolve ?? (o.dnsServer ? DEFAULT_NAME : undefined);
      if (name === undefined) return undefined;
      const probe: DnsProbe = { name, timeoutMs: 0 };
      if (o.dnsServer) probe.server = o.dnsServer;
      else {
        const svc = await kube.getOptional<Service>(RESOURCES.services, o.service, o.namespace);
        const ip = svc?.spec?.clusterIP;
        if (!svc) probe.noServer = `Service ${refOf(o.namespace, o.service)} not found: pods have no DNS address`;
        else if (!ip || ip === 'None' || !isIP(ip)) probe.noServer = `Service ${refOf(o.namespace, o.service)} has no ClusterIP`;
        else {
          const ports = svc.spec?.ports ?? [];
          const port = (ports.find((p) => p.name === 'dns' && (p.protocol ?? 'UDP') === 'UDP') ?? ports.find((p) => (p.protocol ?? 'UDP') === 'UDP'))?.port ?? 53;
          probe.server = isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
        }
      }
      if (!probe.server) return probe;
      // Its own timeout, and never past -t: leave the core time to report.
      const left = o.timeout * 1000 - (Date.now() - ctx.hostClockStart) - 250;
      probe.timeoutMs = Math.max(100, Math.min(o.resolveTimeout * 1000, left));
      Object.assign(probe, await resolveA(probe.server, probe.name, probe.timeoutMs, ctx.signal, ctx.log));
      return probe;
    })();

    const [w, probe] = await Promise.all([workload, dns]);
    return { ...w, dns: probe };
  },

  // Pure and timeless: nothing here depends on the clock.
  evaluate(d, o) {
    const r = new Report();

    // The lookup, whatever else happened: no answer means no cluster DNS.
    const p = d.dns;
    let dnsOk = '';
    if (p?.noServer) {
      r.problem(State.CRITICAL, p.noServer.split(':')[0]!, `cannot resolve ${p.name}: ${p.noServer}`);
      r.action(State.CRITICAL, `the DNS Service has no address to ask: kubectl get service -n ${o.namespace} ${o.service} -o wide; if it is gone, microk8s enable dns recreates it; check again`);
    }
    else if (p?.addresses?.length) {
      dnsOk = `${p.name} -> ${p.addresses.join(', ')} in ${Math.round(p.ms ?? 0)}ms`;
      r.info(`DNS: ${dnsOk} (asked ${p.server})`);
    } else if (p) {
      const why = dnsFailure(p.error ?? 'ENODATA', p.timeoutMs);
      r.problem(State.CRITICAL, `${p.name} via ${p.server}: ${why.split(':')[0]}`, `DNS: ${p.name} via ${p.server}: ${why}`);
      r.action(State.CRITICAL, `${p.server} does not answer for ${p.name}: if the CoreDNS pods are Ready, this node's Service NAT is the suspect (check_k8s_calico_nat on this node); ` +
        `else kubectl logs -n ${o.namespace} deploy/${o.deployment}; then dig @${(p.server ?? '').replace(/:53$/, '')} ${p.name} and check again`);
    }

    const dep = d.deployment;
    const desired = dep ? (dep.spec?.replicas ?? 1) : 0;
    const st = dep?.status ?? {};
    const name = dep?.metadata?.name ?? o.deployment;
    const pods = dep ? d.pods.filter((pod) => ownedBy(pod, name)) : [];
    const readyPods = pods.filter((pod) => isPodReady(pod) && !pod.metadata?.deletionTimestamp);
    const nodes = [...new Set(readyPods.map((pod) => pod.spec?.nodeName).filter((n): n is string => !!n))].sort();
    const ready = st.readyReplicas ?? 0;
    const available = st.availableReplicas ?? 0;
    perf.metric(r, 'desired_replicas', desired, o, { min: 0 });
    const replicas = perf.judge(r, 'ready_replicas', ready, o, { min: 0 });
    perf.metric(r, 'available_replicas', available, o, { min: 0 });
    const onNodes = perf.judge(r, 'ready_nodes', nodes.length, o, { min: 0 });
    if (p) perf.metric(r, 'resolve_time', p.addresses?.length ? Math.round((p.ms ?? 0) * 10) / 10 : undefined, o, { min: 0 });

    if (!dep) {
      const id = refOf(o.namespace, o.deployment);
      if (d.candidates.length > 1) {
        return r.problem(State.UNKNOWN,
          `no Deployment ${id}, and --selector ${o.selector} matches ${plural(d.candidates.length, 'Deployment')} (${d.candidates.join(', ')}): name one with --deployment`,
          `--selector ${o.selector} matches ${d.candidates.length} Deployments in ${o.namespace}: ${d.candidates.join(', ')}`)
          .action(State.UNKNOWN, `name the cluster DNS Deployment: --deployment ${d.candidates[0]} (or another of ${d.candidates.join(', ')})`).done('');
      }
      const text = `deployment ${id} not found${o.selector ? `, nor one labelled ${o.selector}` : ''} (no cluster DNS)`;
      return r.problem(State.CRITICAL, text, text)
        .action(State.CRITICAL, `find the cluster DNS Deployment (kubectl get deploy -A -l k8s-app=kube-dns) and name it with --namespace/--deployment; if there is none, microk8s enable dns; check again`)
        .done(text);
    }

    // Replicas: -w/-c on ready.
    const id = refOf(dep.metadata?.namespace ?? o.namespace, name);
    const counts = `${ready} of ${desired} replicas ready, ${available} available, ${st.updatedReplicas ?? 0} up to date`;
    if (replicas.state !== State.OK) {
      const range = replicas.hint.replace(/^outside /, '');
      r.problem(replicas.state, ready === 0 ? 'no ready replica: no cluster DNS' : `${plural(ready, 'ready replica')} (${range})`, `${id}: ${counts} (${replicas.hint})`);
      const notReady = pods.find((pod) => !isPodReady(pod));
      const ns = dep.metadata?.namespace ?? o.namespace;
      const scale = `kubectl scale -n ${ns} deploy/${name} --replicas=2`;
      r.action(replicas.state, notReady || ready < desired
        ? `see why ${id} pods are not Ready: kubectl describe pod -n ${ns} ${notReady?.metadata?.name ?? `-l ${selectorText(dep.spec?.selector)}`}${desired < 2 ? `; scale it to 2 or more (${scale})` : ''}; check again`
        : `every replica of ${id} is Ready but there are too few: ${scale} (or more), spread over nodes; check again`);
    } else r.info(`${id}: ${counts}`);

    // Nodes: one node's reboot must not take all of DNS.
    if (ready > 0 && onNodes.state !== State.OK) {
      if (nodes.length === 1) {
        r.problem(State.WARNING, `single point of failure: every ready pod on ${nodes[0]}`, `every ready ${name} pod runs on ${nodes[0]}: a reboot of ${nodes[0]} takes cluster DNS down (--min-nodes ${o.minNodes})`);
        r.action(State.WARNING, `spread ${id} before ${nodes[0]} reboots: ${desired < 2 ? `kubectl scale -n ${dep.metadata?.namespace ?? o.namespace} deploy/${name} --replicas=2, ` : ''}` +
          `add a podAntiAffinity on ${HOSTNAME}, then kubectl rollout restart -n ${dep.metadata?.namespace ?? o.namespace} deploy/${name}; check again`);
      } else if (nodes.length === 0) {
        r.problem(State.WARNING, 'no ready pod found', `status says ${ready} ready but no ready pod matches ${selectorText(dep.spec?.selector)}`);
      } else {
        r.problem(State.WARNING, `ready pods on only ${plural(nodes.length, 'node')}`, `ready ${name} pods run on ${plural(nodes.length, 'node')} (${nodes.join(', ')}), fewer than --min-nodes ${o.minNodes}`);
      }
    }

    // Spreading: without it the scheduler may stack every replica on one node.
    const spread = hostnameSpreading(dep, desired);
    if (!spread.found && o.requireAntiAffinity) {
      r.action(State.WARNING, `add a podAntiAffinity (or topologySpreadConstraint) on ${HOSTNAME} to ${id}'s pod template (kubectl edit -n ${dep.metadata?.namespace ?? o.namespace} deploy/${name}), or pass --no-require-anti-affinity on a single node`);
      r.problem(State.WARNING, 'no hostname anti-affinity',
        `pod template has no podAntiAffinity or topologySpreadConstraints on ${HOSTNAME} selecting its own pods (${selectorText({ matchLabels: dep.spec?.template?.metadata?.labels ?? {} })}): replicas may share a node`);
    } else if (spread.found) r.info(`spread over nodes by ${spread.found.text}`);
    for (const m of spread.misses) r.info(`not spreading: ${m}`);

    // Context: each pod, and the Deployment's conditions when they are not fine.
    for (const pod of pods) {
      r.info(`pod ${pod.metadata?.name} on ${pod.spec?.nodeName || 'no node'}: ${isPodReady(pod) && !pod.metadata?.deletionTimestamp ? 'Ready' : podNotReadyReason(pod)}`);
    }
    for (const c of st.conditions ?? []) {
      if (c.status !== 'True') r.info(`condition ${c.type}=${c.status} ${c.reason ?? ''}: ${c.message ?? ''}`);
    }

    const where = `${ready}/${desired} ready on ${plural(nodes.length, 'node')}${nodes.length ? ` (${nodes.join(', ')})` : ''}`;
    const extras = [spread.found ? spread.found.text : 'spreading not required', dnsOk].filter(Boolean).join('; ');
    return r.done(`${id}: ${where}, ${extras}`, { prefix: `${id}: ${where}: ` });
  },
});

