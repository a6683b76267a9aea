// The last guard before a name or a selector value becomes part of a URL:
// whatever an option, a hostname or a cluster object said, no check can turn
// a GET of one object into another path (`..`, `/`), a list (empty name) or
// an extra selector term (`k8s02,status.phase!=Running`).
import { PluginError } from '../plugin/errors.js';
import { sanitize } from '../plugin/sanitize.js';

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

/** A namespace is a DNS label (RFC 1123): lower-case letters, digits and '-', at most 63. */
export function invalidNamespace(ns: string): string | undefined {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns)) return 'is not a DNS label (lower-case letters, digits and -)';
  if (ns.length > 63) return 'is longer than 63 characters';
  return undefined;
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
