// Kubernetes resource quantities (apimachinery resource.Quantity,
// quantity.go) and what a pod asks the scheduler for.
import type { Pod, ResourceList } from './types.js';

const SUFFIX: Record<string, number> = {
  '': 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

// <signedNumber><suffix>: a binary SI suffix, a decimal SI suffix, or a decimal
// exponent (e3, E-2). The exponent is tried first: '1E3' is 1000, '1E' one exa.
const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/;

/**
 * A quantity in its base unit (cores, bytes, pods): '250m' -> 0.25,
 * '1Gi' -> 1073741824, '1k' -> 1000, '12e6' -> 12000000. Undefined for text
 * that is not a quantity (the API server never sends one; a fixture might).
 */
export function parseQuantity(q: string | number | undefined): number | undefined {
  if (typeof q === 'number') return Number.isFinite(q) ? q : undefined;
  if (typeof q !== 'string') return undefined;
  const m = QUANTITY.exec(q.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const v = m[2] !== undefined ? n * 10 ** Number(m[2]) : n * SUFFIX[m[3] ?? '']!;
  return Number.isFinite(v) ? v : undefined;
}

/** The resources the capacity judgement reads: CPU in millicores (as the scheduler counts them), memory in bytes. */
export interface Requests {
  cpu: number;
  memory: number;
}

/** One resource of a list, in the unit Requests uses; 0 when absent. */
function amount(list: ResourceList | undefined, r: keyof Requests): number {
  const v = parseQuantity(list?.[r]) ?? 0;
  // The scheduler counts CPU in whole millicores, rounded up (Quantity.MilliValue).
  return r === 'cpu' ? Math.ceil(Math.round(v * 1e6) / 1e3) : v;
}

/**
 * What a pod asks the scheduler for, as kube-scheduler's NodeResourcesFit
 * counts it (k8s.io/component-helpers/resource PodRequests): the containers'
 * sum plus restartable (sidecar) init containers, or the largest ordinary
 * init container with the sidecars started before it, whichever is more,
 * plus the RuntimeClass overhead. Pod-level requests, when set, replace the
 * containers' for that resource.
 */
export function podRequests(p: Pod): Requests {
  const one = (r: keyof Requests): number => {
    const podLevel = p.spec?.resources?.requests?.[r];
    let total: number;
    if (podLevel !== undefined) total = amount(p.spec?.resources?.requests, r);
    else {
      let sum = 0;
      for (const c of p.spec?.containers ?? []) sum += amount(c.resources?.requests, r);
      let sidecars = 0;
      let initMax = 0;
      for (const c of p.spec?.initContainers ?? []) {
        const need = amount(c.resources?.requests, r);
        if (c.restartPolicy === 'Always') { sum += need; sidecars += need; } else initMax = Math.max(initMax, need + sidecars);
      }
      total = Math.max(sum, initMax);
    }
    return total + amount(p.spec?.overhead, r);
  };
  return { cpu: one('cpu'), memory: one('memory') };
}
