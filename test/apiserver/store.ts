// The double's object store: a scenario (objects + generated objects) loaded
// once, indexed by resource the way the apiserver serves them. "$boot..." times
// are resolved once (the boot does not move); "$now..." times stay templates and
// are rendered into each response (renderNow), so a lease "renewed $now-2s" is
// 2 s old at every request, however long the file runs.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BOOT_TIME_ENV } from '../../lib/host/boot.js';
import { RESOURCES } from '../../lib/kube/resources.js';

type Obj = Record<string, any>;

export interface ResourceType {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

/**
 * What the double serves even when a scenario holds none of them: every resource of the registry
 * (lib/kube/resources.ts), an empty list as a real API server answers, never a 404.
 */
const BUILTIN: ResourceType[] = Object.values(RESOURCES).map(({ group, version, plural, kind, namespaced }) => ({ group, version, plural, kind, namespaced }));

/** Cluster-scoped kinds: the registry's, and those a scenario may hold that no check reads. */
const CLUSTER_SCOPED = new Set([
  ...BUILTIN.filter((t) => !t.namespaced).map((t) => t.kind),
  'Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PriorityClass', 'CSINode', 'StatsSummary',
]);

function pluralOf(kind: string): string {
  const k = kind.toLowerCase();
  if (k.endsWith('s')) return k;
  if (k.endsWith('y')) return `${k.slice(0, -1)}ies`;
  return `${k}s`;
}

function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

export const typeKey = (group: string, version: string, plural: string) => `${group}/${version}/${plural}`;

/**
 * Seconds since the epoch at which this host booted: K8S_NRPE_BOOT_TIME when set (the test-only
 * override the checks honour too, lib/host/boot.ts), else /proc/stat btime.
 */
export function bootTime(env = process.env): number {
  const override = env[BOOT_TIME_ENV];
  if (override !== undefined && override !== '') {
    if (!/^\d+$/.test(override)) throw new Error(`${BOOT_TIME_ENV}=${override}: not epoch seconds`);
    return Number(override);
  }
  const m = /^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'));
  if (!m) throw new Error('no btime in /proc/stat');
  return Number(m[1]);
}

const UNIT_S: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
const TIME = /^\$(now|boot)(?:([+-])((?:\d+[smhd])+))?(\.micro)?$/;

function formatTime(ms: number, micro: boolean): string {
  const iso = new Date(ms).toISOString(); // 2026-06-05T06:00:00.123Z
  return micro ? iso.replace(/\.(\d{3})Z$/, '.$1000Z') : iso.replace(/\.\d{3}Z$/, 'Z');
}

/** "$now-58m" -> RFC 3339; "$boot-2h.micro" -> microseconds. Anything else unchanged. */
export function resolveTime(value: string, now: number, boot: number): string {
  const m = TIME.exec(value);
  if (!m) return value;
  let offset = 0;
  if (m[3]) for (const [, n, u] of m[3].matchAll(/(\d+)([smhd])/g)) offset += Number(n) * UNIT_S[u!]!;
  const base = m[1] === 'now' ? now : boot * 1000;
  return formatTime(base + (m[2] === '-' ? -1 : 1) * offset * 1000, Boolean(m[4]));
}

/** Resolve the "$boot..." strings in place; "$now..." strings stay for renderNow. Each distinct string once. */
function resolveBootTimes(v: unknown, boot: number, seen = new Map<string, string>()): unknown {
  if (typeof v === 'string') {
    if (!v.startsWith('$boot')) return v;
    // Generated objects repeat the same few relative times: resolve each once.
    let t = seen.get(v);
    if (t === undefined) seen.set(v, (t = resolveTime(v, 0, boot)));
    return t;
  }
  if (Array.isArray(v)) return v.map((x) => resolveBootTimes(x, boot, seen));
  if (v && typeof v === 'object') {
    const out: Obj = {};
    for (const [k, x] of Object.entries(v)) out[k] = resolveBootTimes(x, boot, seen);
    return out;
  }
  return v;
}

/** A JSON string literal that is exactly a "$now..." time (no escapes can occur in one). */
const NOW_LITERAL = /"(\$now(?:[+-](?:\d+[smhd])+)?(?:\.micro)?)"/g;

/**
 * A serialized response with every "$now..." time resolved against `now` (default: this
 * instant). One pass over the text, so it costs what writing the response costs.
 */
export function renderNow(json: string, now = Date.now()): string {
  return json.includes('"$now') ? json.replace(NOW_LITERAL, (_, t: string) => `"${resolveTime(t, now, 0)}"`) : json;
}

/** A short stable suffix like the ones ReplicaSets give pods: '7d9f4'. */
function hashSuffix(i: number): string {
  return crypto.createHash('sha1').update(String(i)).digest('hex').slice(0, 5);
}

/** Compiled once per expression: a 50k-pod scenario evaluates millions of them. */
const compiled = new Map<string, (i: number) => number>();

function evalIndex(expr: string, i: number): number {
  let f = compiled.get(expr);
  if (!f) {
    const e = expr.trim();
    if (!/^[\di+\-*/%() ]+$/.test(e)) throw new Error(`bad template expression '{{${e}}}'`);
    f = Function('i', `return (${e});`) as (i: number) => number;
    compiled.set(expr, f);
  }
  return Math.floor(f(i));
}

/**
 * Expand a template for object number i: "{{i}}", "{{i%3+1}}" and "{{hash}}"
 * inside strings; a whole string "{{=i*4+6}}" becomes that number (the
 * scenario file stays valid JSON).
 */
function expand(templateJson: string, i: number): Obj {
  const text = templateJson
    .replace(/"\{\{=([^}]+)\}\}"/g, (_, expr: string) => String(evalIndex(expr, i)))
    .replace(/\{\{([^}]+)\}\}/g, (_, expr: string) => (expr.trim() === 'hash' ? hashSuffix(i) : String(evalIndex(expr, i))));
  return JSON.parse(text) as Obj;
}

export interface Scenario {
  objects?: Obj[];
  generate?: { count: number; template: Obj }[];
}

/** A scenario file, or every *.json in a directory merged in name order. */
export function readScenario(file: string): Scenario {
  if (fs.statSync(file).isDirectory()) {
    const merged: Required<Scenario> = { objects: [], generate: [] };
    for (const f of fs.readdirSync(file).filter((n) => n.endsWith('.json')).sort()) {
      const s = JSON.parse(fs.readFileSync(path.join(file, f), 'utf8')) as Scenario;
      merged.objects.push(...(s.objects ?? []));
      merged.generate.push(...(s.generate ?? []));
    }
    return merged;
  }
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Scenario;
}

export class Store {
  readonly types = new Map<string, ResourceType>();
  private readonly items = new Map<string, Obj[]>();
  resourceVersion = 1000;

  constructor(scenario: Scenario, boot = bootTime()) {
    for (const t of BUILTIN) this.types.set(typeKey(t.group, t.version, t.plural), t);
    const seen = new Map<string, string>();
    for (const raw of scenario.objects ?? []) this.add(resolveBootTimes(raw, boot, seen) as Obj);
    for (const g of scenario.generate ?? []) {
      const json = JSON.stringify(g.template);
      // Expanded and resolved one at a time: no second copy of a large scenario in memory.
      for (let i = 0; i < g.count; i++) this.add(resolveBootTimes(expand(json, i), boot, seen) as Obj);
    }
    // etcd key order: plain code-unit order, which is also what continue tokens compare with.
    for (const [k, list] of this.items) {
      const keyed = list.map((o) => [key(o), o] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      this.items.set(k, keyed.map(([, o]) => o));
    }
  }

  private add(o: Obj): void {
    if (!o.kind || !o.apiVersion) throw new Error(`scenario object without kind/apiVersion: ${JSON.stringify(o).slice(0, 120)}`);
    const { group, version } = splitApiVersion(o.apiVersion);
    // A builtin's own plural (StorageClass -> storageclasses), else the usual rule.
    const plural = BUILTIN.find((t) => t.kind === o.kind && t.group === group)?.plural ?? pluralOf(o.kind);
    const k = typeKey(group, version, plural);
    if (!this.types.has(k)) this.types.set(k, { group, version, plural, kind: o.kind, namespaced: !CLUSTER_SCOPED.has(o.kind) });
    const meta = (o.metadata ??= {});
    meta.uid ??= uuidFor(`${k}/${meta.namespace ?? ''}/${meta.name ?? ''}`);
    meta.resourceVersion ??= String(++this.resourceVersion);
    meta.creationTimestamp ??= '$now-1d';
    if (!this.items.has(k)) this.items.set(k, []);
    this.items.get(k)!.push(o);
    // Core events are also served by events.k8s.io (and the other way round) in the real API;
    // the checks read core/v1 only, so keep one copy.
  }

  list(t: ResourceType): Obj[] {
    return this.items.get(typeKey(t.group, t.version, t.plural)) ?? [];
  }

  /** Called after every write (the server's memoized list matches are then stale). */
  onChange: () => void = () => {};

  /** Create or replace one object (writes: the pod lifecycle), keeping etcd key order; a new resourceVersion. */
  put(t: ResourceType, o: Obj): Obj {
    const k = typeKey(t.group, t.version, t.plural);
    const list = this.items.get(k) ?? [];
    this.items.set(k, list);
    o.metadata.resourceVersion = String(++this.resourceVersion);
    const ok = key(o);
    const i = list.findIndex((x) => key(x) >= ok);
    if (i >= 0 && key(list[i]!) === ok) list[i] = o;
    else list.splice(i < 0 ? list.length : i, 0, o);
    this.onChange();
    return o;
  }

  /** Remove one object; false when there was none. */
  remove(t: ResourceType, namespace: string, name: string): boolean {
    const list = this.list(t);
    const i = list.findIndex((x) => x.metadata?.namespace === namespace && x.metadata?.name === name);
    if (i < 0) return false;
    list.splice(i, 1);
    this.resourceVersion++;
    this.onChange();
    return true;
  }
}

const key = (o: Obj) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

function uuidFor(text: string): string {
  const h = crypto.createHash('sha1').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
