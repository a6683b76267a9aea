import { describe, expect, it } from 'vitest';
import { nodeForHolder } from '../../lib/kube/nodes.js';
import type { Node } from '../../lib/kube/types.js';

const node = (name: string, hostnameLabel = name, hostnameAddress = name): Node => ({
  metadata: { name, labels: { 'kubernetes.io/hostname': hostnameLabel } },
  status: { addresses: [{ type: 'InternalIP', address: '10.0.0.11' }, { type: 'Hostname', address: hostnameAddress }] },
});
const UUID = '4f7c2a1e-9b3d-4c6e-8f2a-1d5e7b9c3a60';

describe('nodeForHolder: a lease holder "<hostname>_<uuid>" to its Node', () => {
  const nodes = [node('k8s01'), node('worker-b', 'k8s02.example.com'), node('worker-c', 'worker-c', 'K8S03')];

  it('matches the node name, case-insensitively (os.Hostname() is not lowercased, node names are)', () => {
    expect(nodeForHolder(`k8s01_${UUID}`, nodes)?.metadata?.name).toBe('k8s01');
    expect(nodeForHolder(`K8S01_${UUID}`, nodes)?.metadata?.name).toBe('k8s01');
  });

  it('matches the kubernetes.io/hostname label when the node name differs (--hostname-override, FQDN)', () => {
    expect(nodeForHolder(`K8s02.Example.com_${UUID}`, nodes)?.metadata?.name).toBe('worker-b');
  });

  it('matches the Hostname address', () => {
    expect(nodeForHolder(`k8s03_${UUID}`, nodes)?.metadata?.name).toBe('worker-c');
  });

  it('finds nothing for another hostname, no identity, or an identity that is not <hostname>_<uuid>', () => {
    expect(nodeForHolder(`vm_${UUID}`, nodes)).toBeUndefined();
    expect(nodeForHolder(undefined, nodes)).toBeUndefined();
    expect(nodeForHolder('k8s01', nodes)).toBeUndefined();
    expect(nodeForHolder('k8s01_not-a-uuid', nodes)).toBeUndefined();
  });

  it('prefers the node named like the hostname over another node labelled with it', () => {
    const both = [node('other', 'k8s01'), node('k8s01')];
    expect(nodeForHolder(`k8s01_${UUID}`, both)?.metadata?.name).toBe('k8s01');
  });
});
