import { isIP } from 'node:net';
import { RESOURCES } from '../lib/kube/resources.js';
import { condition, refOf } from '../lib/kube/objects.js';
import type { Deployment, Pod, Service } from '../lib/kube/types.js';
import type { OptionSpec } from '../lib/plugin/options.js';
import { defineCheck, opt } from '../lib/plugin/check.js';
import { declareMetrics, range } from '../lib/plugin/context.js';
import { dnsFailureText, parseDnsServer, resolveA } from '../lib/host/dns.js';
import { UsageError } from '../lib/plugin/errors.js';
import { Report } from '../lib/plugin/report.js';
import { plural } from '../lib/plugin/result.js';
import { State, worst } from '../lib/plugin/state.js';
import { isPodReady, podNotReadyReason } from '../lib/kube/pods.js';
import { HOSTNAME, hostnameSpreading, selectorText } from '../lib/kube/spreading.js';
import { selectorToString } from '../lib/kube/labels.js';
import { ownedByDeployment } from '../lib/kube/workloads.js';

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

function parseResolveName(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (Array.isArray(v)) throw new UsageError('--resolve given more than once');
  const name = String(v).trim() || DEFAULT_NAME;
  if (name.length > 253 || !/^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/.test(name)) {
    throw new UsageError(`invalid --resolve '${name}': not a DNS name`);
  }
  return name.replace(/\.$/, '');
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
      const why = dnsFailureText(p.error ?? 'ENODATA', p.timeoutMs);
      r.problem(State.CRITICAL, `${p.name} via ${p.server}: ${why.split(':')[0]}`, `DNS: ${p.name} via ${p.server}: ${why}`);
      r.action(State.CRITICAL, `${p.server} does not answer for ${p.name}: if the CoreDNS pods are Ready, this node's Service NAT is the suspect (check_k8s_calico_nat on this node); ` +
        `else kubectl logs -n ${o.namespace} deploy/${o.deployment}; then dig @${(p.server ?? '').replace(/:53$/, '')} ${p.name} and check again`);
    }

    const dep = d.deployment;
    const desired = dep ? (dep.spec?.replicas ?? 1) : 0;
    const st = dep?.status ?? {};
    const name = dep?.metadata?.name ?? o.deployment;
    const pods = dep ? d.pods.filter((pod) => ownedByDeployment(pod, name)) : [];
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
    const ns = dep.metadata?.namespace ?? o.namespace;
    const scale = `kubectl scale -n ${ns} deploy/${name} --replicas=2`;
    // All Ready but fewer than -w/-c want; whether one action already says what to do about spreading.
    let tooFew = false;
    let planned = false;
    const counts = `${ready} of ${desired} replicas ready, ${available} available, ${st.updatedReplicas ?? 0} up to date`;
    if (replicas.state !== State.OK) {
      const range = replicas.hint.replace(/^outside /, '');
      r.problem(replicas.state, ready === 0 ? 'no ready replica: no cluster DNS' : `${plural(ready, 'ready replica')} (${range})`, `${id}: ${counts} (${replicas.hint})`);
      const notReady = pods.find((pod) => !isPodReady(pod));
      if (notReady || ready < desired) {
        r.action(replicas.state, `see why ${id} pods are not Ready: kubectl describe pod -n ${ns} ${notReady?.metadata?.name ?? `-l ${selectorText(dep.spec?.selector)}`}` +
          `${desired < 2 ? `; scale it to 2 or more (${scale})` : ''}; check again`);
      } else tooFew = true;
    } else r.info(`${id}: ${counts}`);
    // Spreading: without it the scheduler may stack every replica on one node.
    const spread = hostnameSpreading(dep, desired);
    const noSpread = !spread.found && o.requireAntiAffinity;
    const addRule = `add a podAntiAffinity (or topologySpreadConstraint) on ${HOSTNAME} to ${id}'s pod template (kubectl edit -n ${ns} deploy/${name})`;

    // Nodes: one node's reboot must not take all of DNS.
    if (ready > 0 && onNodes.state !== State.OK) {
      if (nodes.length === 1) {
        r.problem(State.WARNING, `single point of failure: every ready pod on ${nodes[0]}`, `every ready ${name} pod runs on ${nodes[0]}: a reboot of ${nodes[0]} takes cluster DNS down (--min-nodes ${o.minNodes})`);
        // One plan, in the order to do it: it also answers "too few" and "no anti-affinity".
        planned = true;
        r.action(worst(State.WARNING, tooFew ? replicas.state : State.OK), `spread ${id} before ${nodes[0]} reboots: ${desired < 2 ? `${scale}, ` : ''}` +
          `add a podAntiAffinity on ${HOSTNAME}, then kubectl rollout restart -n ${ns} deploy/${name}; check again`);
      } else if (nodes.length === 0) {
        r.problem(State.WARNING, 'no ready pod found', `status says ${ready} ready but no ready pod matches ${selectorText(dep.spec?.selector)}`);
      } else {
        r.problem(State.WARNING, `ready pods on only ${plural(nodes.length, 'node')}`, `ready ${name} pods run on ${plural(nodes.length, 'node')} (${nodes.join(', ')}), fewer than --min-nodes ${o.minNodes}`);
      }
    }

    if (tooFew && !planned) {
      const spreadOut = noSpread ? `${addRule} so that they spread over nodes` : 'spread over nodes';
      r.action(replicas.state, `every replica of ${id} is Ready but there are too few: ${scale} (or more), ${spreadOut}; check again`);
      planned = noSpread;
    }
    if (noSpread) {
      if (!planned) r.action(State.WARNING, `${addRule}, or pass --no-require-anti-affinity on a single node`);
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

