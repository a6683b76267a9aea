// Field and label selectors as the real kube-apiserver parses and applies
// them: only the fields each resource registers are selectable (anything else
// is a 400 "field label not supported"), label selectors take the full
// equality- and set-based grammar.

export class SelectorError extends Error {}

type Obj = Record<string, any>;

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

/** Field getters per resource, as registered by the apiserver (pkg/registry/.../strategy.go). */
const FIELDS: Record<string, Record<string, (o: Obj) => string>> = {
  pods: {
    'spec.nodeName': (o) => str(o.spec?.nodeName),
    'spec.restartPolicy': (o) => str(o.spec?.restartPolicy),
    'spec.schedulerName': (o) => str(o.spec?.schedulerName),
    'spec.serviceAccountName': (o) => str(o.spec?.serviceAccountName),
    'spec.hostNetwork': (o) => String(Boolean(o.spec?.hostNetwork)),
    'status.phase': (o) => str(o.status?.phase),
    'status.podIP': (o) => str(o.status?.podIP),
    'status.nominatedNodeName': (o) => str(o.status?.nominatedNodeName),
  },
  events: {
    'involvedObject.kind': (o) => str(o.involvedObject?.kind),
    'involvedObject.namespace': (o) => str(o.involvedObject?.namespace),
    'involvedObject.name': (o) => str(o.involvedObject?.name),
    'involvedObject.uid': (o) => str(o.involvedObject?.uid),
    'involvedObject.apiVersion': (o) => str(o.involvedObject?.apiVersion),
    'involvedObject.resourceVersion': (o) => str(o.involvedObject?.resourceVersion),
    'involvedObject.fieldPath': (o) => str(o.involvedObject?.fieldPath),
    reason: (o) => str(o.reason),
    reportingComponent: (o) => str(o.reportingComponent),
    source: (o) => str(o.source?.component),
    type: (o) => str(o.type),
  },
  nodes: { 'spec.unschedulable': (o) => String(Boolean(o.spec?.unschedulable)) },
  services: { 'spec.clusterIP': (o) => str(o.spec?.clusterIP), 'spec.type': (o) => str(o.spec?.type) },
  namespaces: { 'status.phase': (o) => str(o.status?.phase) },
  replicasets: { 'status.replicas': (o) => str(o.status?.replicas ?? 0) },
  secrets: { type: (o) => str(o.type) },
};

const COMMON: Record<string, (o: Obj) => string> = {
  'metadata.name': (o) => str(o.metadata?.name),
  'metadata.namespace': (o) => str(o.metadata?.namespace),
};

/** Split on `sep` where it is not escaped with a backslash. */
function splitUnescaped(text: string, sep: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\' && i + 1 < text.length) { cur += ch + text[i + 1]; i++; continue; }
    if (ch === sep) { parts.push(cur); cur = ''; continue; }
    cur += ch;
  }
  parts.push(cur);
  return parts;
}

const unescape = (s: string) => s.replace(/\\(.)/g, '$1');

export type Matcher = (o: Obj) => boolean;

export function fieldSelector(text: string | undefined, plural: string): Matcher {
  if (!text) return () => true;
  const fields = { ...COMMON, ...(FIELDS[plural] ?? {}) };
  const terms = splitUnescaped(text, ',').filter((t) => t !== '').map((term) => {
    const m = /^((?:[^=!\\]|\\.)+)(==|!=|=)(.*)$/.exec(term);
    if (!m) throw new SelectorError(`invalid selector: '${text}'; can't understand '${term}'`);
    const key = unescape(m[1]!);
    const value = unescape(m[3]!);
    const get = fields[key];
    if (!get) throw new SelectorError(`field label not supported: ${key}`);
    return m[2] === '!=' ? (o: Obj) => get(o) !== value : (o: Obj) => get(o) === value;
  });
  return (o) => terms.every((t) => t(o));
}

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;

/** Split on commas outside parentheses: "a in (x,y),b" -> ["a in (x,y)", "b"]. */
function splitTerms(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) { out.push(cur); cur = ''; continue; }
    cur += ch;
  }
  out.push(cur);
  return out.map((s) => s.trim()).filter(Boolean);
}

export function labelSelector(text: string | undefined): Matcher {
  if (!text || !text.trim()) return () => true;
  const bad = (term: string) => new SelectorError(`unable to parse requirement: found '${term}', expected: identifier or operator`);
  const terms = splitTerms(text).map((term): Matcher => {
    let m = /^(\S+?)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
    if (m) {
      const [, key, op, list] = m;
      if (!KEY.test(key!)) throw bad(term);
      const values = new Set(list!.split(',').map((v) => v.trim()).filter(Boolean));
      return op === 'in'
        ? (o) => values.has(o.metadata?.labels?.[key!])
        : (o) => !values.has(o.metadata?.labels?.[key!]);
    }
    m = /^(\S+?)\s*(==|!=|=)\s*(\S*)$/.exec(term);
    if (m) {
      const [, key, op, value] = m;
      if (!KEY.test(key!)) throw bad(term);
      return op === '!='
        ? (o) => o.metadata?.labels?.[key!] !== value
        : (o) => o.metadata?.labels?.[key!] === value;
    }
    m = /^(!?)(\S+)$/.exec(term);
    if (m && KEY.test(m[2]!)) {
      const key = m[2]!;
      return m[1] ? (o) => !(key in (o.metadata?.labels ?? {})) : (o) => key in (o.metadata?.labels ?? {});
    }
    throw bad(term);
  });
  return (o) => terms.every((t) => t(o));
}
