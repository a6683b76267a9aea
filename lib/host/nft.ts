// Reads `nft -j list table ...` (libnftables JSON schema 1): the table's
// chains, rules and sets/maps with their elements, and the part kube-proxy's
// nftables mode cares about: the service-ips verdict map, whose elements are
// "cluster IP . protocol . port : goto service-HASH-ns/name/proto/port".

export type NftValue = string | number | boolean | null | NftValue[] | { [k: string]: NftValue };

export interface NftChain {
  name: string;
  /** 'nat', 'filter' for base chains. */
  type?: string;
  hook?: string;
  rules: number;
}

/** A set or a map element: the key parts (concatenations split) and, for maps, the verdict/value. */
export interface NftElement {
  key: (string | number)[];
  comment?: string;
  /** For verdict maps: 'goto' | 'jump' | 'accept' | 'drop' | ... */
  verdict?: string;
  /** goto/jump target chain. */
  target?: string;
}

export interface NftSet {
  name: string;
  kind: 'set' | 'map';
  /** Key types: ['ipv4_addr', 'inet_proto', 'inet_service']. */
  type: string[];
  /** Map value type ('verdict') for maps. */
  map?: string;
  comment?: string;
  elements: NftElement[];
}

export interface NftTableDump {
  version?: string;
  family?: string;
  table?: string;
  chains: Map<string, NftChain>;
  sets: Map<string, NftSet>;
  rules: number;
}

export class NftParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NftParseError';
  }
}

type Obj = { [k: string]: NftValue };
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Flatten an element key: {"concat": [a, b, c]} -> [a, b, c]; a scalar -> [it]. */
function keyParts(v: NftValue): (string | number)[] {
  if (typeof v === 'string' || typeof v === 'number') return [v];
  if (isObj(v) && Array.isArray(v.concat)) return v.concat.flatMap((p) => keyParts(p));
  if (isObj(v) && isObj(v.prefix)) return [`${String(v.prefix.addr)}/${String(v.prefix.len)}`];
  if (isObj(v) && Array.isArray(v.range)) return [v.range.map((p) => String(p)).join('-')];
  return [JSON.stringify(v)];
}

function element(raw: NftValue, isMap: boolean): NftElement {
  let key: NftValue = raw;
  let value: NftValue | undefined;
  if (isMap) {
    if (!Array.isArray(raw) || raw.length !== 2) throw new NftParseError(`map element is not [key, value]: ${JSON.stringify(raw).slice(0, 80)}`);
    [key, value] = raw as [NftValue, NftValue];
  }
  let comment: string | undefined;
  // {"elem": {"val": KEY, "comment": "...", "timeout": ...}} wraps keys with attributes.
  if (isObj(key) && isObj(key.elem)) {
    comment = typeof key.elem.comment === 'string' ? key.elem.comment : undefined;
    key = key.elem.val ?? null;
  }
  const e: NftElement = { key: keyParts(key), comment };
  if (value !== undefined) {
    if (typeof value === 'string') e.verdict = value;
    else if (isObj(value)) {
      const [verdict] = Object.keys(value);
      e.verdict = verdict;
      const body = verdict ? value[verdict] : undefined;
      if (isObj(body) && typeof body.target === 'string') e.target = body.target;
    }
  }
  return e;
}

/** Parse the JSON nft prints for `nft -j list table FAMILY NAME` (or a whole ruleset: the first table wins). */
export function parseNftJson(text: string): NftTableDump {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new NftParseError(`not JSON: ${(e as Error).message}`);
  }
  if (!isObj(doc) || !Array.isArray(doc.nftables)) throw new NftParseError('no "nftables" array');
  const out: NftTableDump = { chains: new Map(), sets: new Map(), rules: 0 };
  for (const item of doc.nftables) {
    if (!isObj(item)) continue;
    if (isObj(item.metainfo)) {
      out.version = typeof item.metainfo.version === 'string' ? item.metainfo.version : undefined;
    } else if (isObj(item.table)) {
      if (out.table === undefined) {
        out.table = String(item.table.name);
        out.family = String(item.table.family);
      }
    } else if (isObj(item.chain)) {
      const c = item.chain;
      if (!mine(out, c)) continue;
      out.chains.set(String(c.name), {
        name: String(c.name),
        type: typeof c.type === 'string' ? c.type : undefined,
        hook: typeof c.hook === 'string' ? c.hook : undefined,
        rules: out.chains.get(String(c.name))?.rules ?? 0,
      });
    } else if (isObj(item.rule)) {
      const r = item.rule;
      if (!mine(out, r)) continue;
      out.rules++;
      const name = String(r.chain);
      const chain = out.chains.get(name) ?? { name, rules: 0 };
      chain.rules++;
      out.chains.set(name, chain);
    } else if (isObj(item.set) || isObj(item.map)) {
      const kind = isObj(item.map) ? 'map' : 'set';
      const s = (item.map ?? item.set) as Obj;
      if (!mine(out, s)) continue;
      const isMap = kind === 'map';
      const type = Array.isArray(s.type) ? s.type.map(String) : [String(s.type)];
      out.sets.set(String(s.name), {
        name: String(s.name),
        kind,
        type,
        map: typeof s.map === 'string' ? s.map : undefined,
        comment: typeof s.comment === 'string' ? s.comment : undefined,
        elements: Array.isArray(s.elem) ? s.elem.map((e) => element(e, isMap)) : [],
      });
    }
  }
  return out;
}

/** Objects of another table (a whole-ruleset dump) are not ours. */
function mine(out: NftTableDump, o: Obj): boolean {
  return out.table === undefined || (String(o.table) === out.table && String(o.family) === out.family);
}

const PROTOCOLS: Record<string, string> = { '6': 'tcp', '17': 'udp', '132': 'sctp' };

export interface ServicePortal {
  address: string;
  protocol: string;
  port: number;
  /** The chain traffic goes to: service-HASH-ns/name/proto/port. */
  target?: string;
  comment?: string;
}

/**
 * kube-proxy (nftables mode) service portals: the elements of the verdict
 * map service-ips, keyed "IP . protocol . port". Undefined when the table
 * has no such map (not kube-proxy's table, or kube-proxy never synced).
 */
export function kubeProxyServicePortals(dump: NftTableDump, mapName = 'service-ips'): ServicePortal[] | undefined {
  const map = dump.sets.get(mapName);
  if (!map || map.kind !== 'map') return undefined;
  const out: ServicePortal[] = [];
  for (const e of map.elements) {
    const [address, proto, port] = e.key;
    const p = typeof port === 'number' ? port : Number(port);
    if (typeof address !== 'string' || proto === undefined || !Number.isInteger(p)) continue;
    const protocol = PROTOCOLS[String(proto)] ?? String(proto).toLowerCase();
    out.push({ address, protocol, port: p, target: e.target, comment: e.comment });
  }
  return out;
}

/** 'service-2QRHZV4L-default/kubernetes/tcp/https' -> 'default/kubernetes:https'. */
export function servicePortFromChain(chain: string | undefined): string | undefined {
  const m = chain ? /^(?:service|external)-[A-Z2-7]{8}-([^/]+)\/([^/]+)\/[a-z]+\/(.*)$/.exec(chain) : null;
  if (!m) return undefined;
  return m[3] ? `${m[1]}/${m[2]}:${m[3]}` : `${m[1]}/${m[2]}`;
}
