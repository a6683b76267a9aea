// Which Service ports kube-proxy must have programmed on a node, from the
// API's view: the Services and EndpointSlices kube-proxy itself watches, and
// the ports with ready endpoints (on this node for internalTrafficPolicy Local).
import { portalKey } from '../host/nat-tables.js';
import { ageSeconds, parseTime } from './time.js';
import type { EndpointSlice, Service } from './types.js';

// kube-proxy's own informer selectors (cmd/kube-proxy/app/server.go): Services
// and EndpointSlices with these labels are not kube-proxy's to program.
export const PROXY_SERVICE_SELECTOR = '!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless';
export const PROXY_SLICE_SELECTOR = `kubernetes.io/service-name,${PROXY_SERVICE_SELECTOR}`;

/** Service fields kube-proxy reads that lib/kube/types.ts does not (yet) declare. */
type ProxiedService = Service & { spec?: { internalTrafficPolicy?: string; externalName?: string } };

/** A Service port that needs a NAT rule. */
export interface Expected {
  /** portalKey(address, protocol, port). */
  key: string;
  /** 'media/sonarr:http' (kube-proxy's service port name). */
  name: string;
  address: string;
  port: number;
  protocol: string;
  endpoints: number;
}

export interface ServiceJudgement {
  expected: Expected[];
  /** Service ports with ready endpoints that are too young to judge. */
  settling: number;
  /** Services kube-proxy's IPv4 rules do not cover (IPv6-only). */
  notJudged: number;
  /** Every (cluster IP, protocol, port) the API knows, for stale-rule detection. */
  known: Set<string>;
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

/** Which Service ports kube-proxy must have programmed on `node`; younger than `minAge` seconds (Service or slice change): settling. */
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
