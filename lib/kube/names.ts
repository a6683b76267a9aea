// What the API accepts as names and selectors. Every name that reaches a URL
// path or a selector is checked with these first, so no option or hostname can
// turn a GET into another URL or add a selector term.

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
