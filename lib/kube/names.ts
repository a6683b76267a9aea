// What the API accepts as names and selectors, and the last guard before a
// name or a selector value becomes part of a URL: whatever an option, a
// hostname or a cluster object said, no check can turn a GET of one object
// into another path (`..`, `/`), a list (empty name) or an extra selector
// term (`k8s02,status.phase!=Running`). Options are validated with the is*()
// functions (lib/plugin/options.ts); the client asserts with the rest.
import { PluginError } from '../plugin/errors.js';
import { sanitize } from '../plugin/sanitize.js';

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** An object name (DNS-1123 subdomain, at most 253): pods, nodes, leases, deployments... */
export function isKubeName(name: string): boolean {
  return name.length <= 253 && SUBDOMAIN.test(name);
}

/** Node names are object names; kept apart because --node and hostnames meet here. */
export function isNodeName(name: string): boolean {
  return isKubeName(name);
}

/** A namespace (DNS-1123 label, at most 63). */
export function isNamespaceName(name: string): boolean {
  return name.length <= 63 && LABEL.test(name);
}

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

function isLabelKey(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash < 0) return LABEL_NAME.test(key);
  return isKubeName(key.slice(0, slash)) && LABEL_NAME.test(key.slice(slash + 1));
}

/** Split on commas outside parentheses: "a in (x,y),b" -> ["a in (x,y)", "b"]. */
function terms(selector: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) { out.push(cur); cur = ''; } else cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim());
}

/** A label selector in kubectl's text form (a=b, a!=b, a in (x,y), a notin (x), a, !a). */
export function isLabelSelector(selector: string): boolean {
  if (selector.trim() === '') return false;
  return terms(selector).every((t) => {
    let m: RegExpExecArray | null;
    if ((m = /^!\s*(\S+)$/.exec(t))) return isLabelKey(m[1]!);
    if ((m = /^(\S+?)\s*(==|=|!=)\s*(\S*)$/.exec(t))) return isLabelKey(m[1]!) && LABEL_VALUE.test(m[3]!);
    if ((m = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(t))) {
      return isLabelKey(m[1]!) && m[3]!.split(',').every((v) => LABEL_VALUE.test(v.trim()));
    }
    return isLabelKey(t);
  });
}

/**
 * The apiserver's own rule for a name in a path (IsValidPathSegmentName:
 * not '.' or '..', no '/' or '%'), plus what no object name holds (',',
 * whitespace, control characters) and the 253-character limit.
 */
export function invalidName(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (name === '.' || name === '..') return `is '${name}'`;
  if (name.length > 253) return 'is longer than 253 characters';
  if (/[/%,\s\x00-\x1f\x7f]/.test(name)) return "holds '/', '%', ',', whitespace or a control character";
  return undefined;
}

/** Why a namespace is refused, or undefined. */
export function invalidNamespace(ns: string): string | undefined {
  return isNamespaceName(ns) ? undefined : 'is not a DNS label (lower-case letters, digits and -, at most 63)';
}

export function assertName(name: string, what = 'name'): void {
  const why = invalidName(name);
  if (why) throw new PluginError(`refusing to request ${what} '${sanitize(name, 80)}': it ${why}, not a valid Kubernetes name`);
}

export function assertNamespace(ns: string): void {
  const why = invalidNamespace(ns);
  if (why) throw new PluginError(`refusing to request namespace '${sanitize(ns, 80)}': it ${why}`);
}

/** One field selector term, e.g. ['spec.nodeName', '=', node]; the value is checked, never trusted. */
export type FieldTerm = [field: string, op: '=' | '!=', value: string];

/**
 * Join terms into a fieldSelector. A value holding ',', '=', '!' or '\' would
 * add or change a term (the selector grammar), so it is refused rather than escaped:
 * no name a check selects on can hold them.
 */
export function fieldSelectorText(terms: readonly FieldTerm[]): string {
  return terms.map(([field, op, value]) => {
    if (!/^[A-Za-z][\w.]*$/.test(field)) throw new PluginError(`refusing field selector on '${sanitize(field, 60)}': not a field path`);
    if (/[,=!\\\s\x00-\x1f\x7f]/.test(value)) {
      throw new PluginError(`refusing field selector ${field}${op}'${sanitize(value, 80)}': the value holds ',', '=', '!', '\\' or whitespace, so it is not a name`);
    }
    return `${field}${op}${value}`;
  }).join(',');
}
