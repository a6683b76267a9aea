import { describe, expect, it } from 'vitest';
import { parseQuantity, podRequests } from '../../lib/kube/quantity.js';
import type { Pod } from '../../lib/kube/types.js';

describe('parseQuantity', () => {
  it('reads every suffix the API serializes', () => {
    const cases: [string | number, number][] = [
      ['4', 4], ['250m', 0.25], ['1500m', 1.5], ['0.5', 0.5], ['.5', 0.5], ['1k', 1000], ['2M', 2e6], ['3G', 3e9], ['1T', 1e12],
      ['128974848', 128974848], ['129e6', 129e6], ['129E6', 129e6], ['1e3', 1000], ['5e-1', 0.5], ['1E', 1e18],
      ['123Mi', 123 * 2 ** 20], ['8Gi', 8 * 2 ** 30], ['16318908Ki', 16318908 * 1024], ['1.5Gi', 1.5 * 2 ** 30], ['2Ti', 2 * 2 ** 40],
      ['100n', 100e-9], ['10u', 10e-6], ['+2', 2], ['-1', -1], [' 110 ', 110], [110, 110],
    ];
    for (const [q, v] of cases) expect(parseQuantity(q), String(q)).toBeCloseTo(v, 12);
  });

  it('refuses what is not a quantity', () => {
    for (const q of ['', 'abc', '1.2.3', '1Kb', '1 Gi', 'Gi', '1e', '1ki', 'e3', undefined, Number.NaN, '1e999']) expect(parseQuantity(q as string), String(q)).toBeUndefined();
  });
});

describe('podRequests', () => {
  const res = (cpu?: string, memory?: string) => ({ resources: { requests: { ...(cpu && { cpu }), ...(memory && { memory }) } } });
  it('sums the containers, in millicores and bytes, rounding CPU up to a millicore', () => {
    const p: Pod = { spec: { containers: [{ name: 'a', ...res('100m', '64Mi') }, { name: 'b', ...res('0.0005', '1G') }, { name: 'c' }] } };
    expect(podRequests(p)).toEqual({ cpu: 101, memory: 64 * 2 ** 20 + 1e9 });
  });

  it('an init container counts when it is larger than the containers; a sidecar adds to them; overhead adds', () => {
    const p: Pod = { spec: {
      containers: [res('200m', '100Mi')],
      initContainers: [{ ...res('500m', '50Mi') }, { restartPolicy: 'Always', ...res('100m', '10Mi') }, { ...res('250m', '20Mi') }],
      overhead: { cpu: '10m', memory: '1Mi' },
    } };
    // cpu: max(200+100, 500, 250+100) + 10; memory: max(110, 50, 30) + 1 (Mi)
    expect(podRequests(p)).toEqual({ cpu: 510, memory: 111 * 2 ** 20 });
  });

  it('pod-level requests replace the containers\' for that resource', () => {
    const p: Pod = { spec: { resources: { requests: { cpu: '2' } }, containers: [res('500m', '1Gi')] } };
    expect(podRequests(p)).toEqual({ cpu: 2000, memory: 2 ** 30 });
  });

  it('a pod without requests asks for nothing', () => {
    expect(podRequests({})).toEqual({ cpu: 0, memory: 0 });
  });
});
