// The one rule for which Node this host is (lib/kube/this-node.ts), and the
// host's own names (lib/host/node-name.ts). The built checks are tested with
// real hostnames in test/integration/this-node.test.ts.
import { describe, expect, it } from 'vitest';
import { hostNames } from '../../lib/host/node-name.js';
import { NodeNotKnown } from '../../lib/kube/nodes.js';
import { matchHost, thisNodeAmong } from '../../lib/kube/this-node.js';
import type { Node } from '../../lib/kube/types.js';

const node = (name: string, label?: string, address?: string): Node => ({
  metadata: { name, labels: label === undefined ? {} : { 'kubernetes.io/hostname': label } },
  status: { addresses: [{ type: 'InternalIP', address: '10.0.0.11' }, ...(address === undefined ? [] : [{ type: 'Hostname', address }])] },
});

describe('hostNames: the names this host goes by', () => {
  it('an FQDN hostname gives itself and its short name, lowercased', () => {
    expect(hostNames('K8S01.Example.COM', '')).toEqual(['k8s01.example.com', 'k8s01']);
  });
  it('a short hostname gives its FQDN from the /etc/hosts line that lists it (its first name), as hostname -f does', () => {
    const hosts = '127.0.0.1 localhost\n# 10.0.0.9 k8s09.old k8s01\n127.0.1.1\tk8s01.example.com  k8s01 # comment\n';
    expect(hostNames('k8s01', hosts)).toEqual(['k8s01', 'k8s01.example.com']);
    expect(hostNames('K8S01', hosts)).toEqual(['k8s01', 'k8s01.example.com']);
    // A line whose first name has no dot is no FQDN.
    expect(hostNames('vm', '127.0.0.1 vm')).toEqual(['vm']);
    expect(hostNames('vm', undefined)).toEqual(['vm']);
  });
});

describe('matchHost / thisNodeAmong: this host\'s Node', () => {
  const nodes = [
    node('k8s01', 'k8s01', 'k8s01'),
    node('worker-b', 'k8s02.example.com', 'worker-b'),
    node('worker-c', 'worker-c', 'EDGE-3'),
    node('ip-10-0-0-4.ec2.internal', 'ip-10-0-0-4.ec2.internal', 'ip-10-0-0-4.ec2.internal'),
    node('twin-a', 'twin'),
    node('twin-b', 'twin'),
  ];
  const me = (hostname: string) => thisNodeAmong(nodes, undefined, hostNames(hostname, ''));

  it('by name, whatever the case, from an FQDN hostname too', () => {
    expect(me('k8s01')).toMatchObject({ name: 'k8s01', how: 'by its name' });
    expect(me('K8S01')).toMatchObject({ name: 'k8s01', how: 'by its name' });
    expect(me('K8S01.Example.COM')).toMatchObject({ name: 'k8s01', how: 'by its name' });
  });
  it('by the kubernetes.io/hostname label', () => {
    expect(me('k8s02.example.com')).toMatchObject({ name: 'worker-b', how: 'by its kubernetes.io/hostname label' });
  });
  it('by a Hostname address, case-insensitively', () => {
    expect(me('edge-3')).toMatchObject({ name: 'worker-c', how: 'by its Hostname address' });
  });
  it('by the short form of a node\'s FQDN name when nothing else matches', () => {
    expect(me('ip-10-0-0-4')).toMatchObject({ name: 'ip-10-0-0-4.ec2.internal', how: 'by its name, whose short form is this host\'s short name' });
  });
  it('the most specific tier decides: a node named like the hostname wins over a label elsewhere', () => {
    const both = [node('k8s01', 'k8s01'), node('other', 'k8s01')];
    expect(thisNodeAmong(both, undefined, ['k8s01'])).toMatchObject({ name: 'k8s01' });
    expect(matchHost(both, ['k8s01'])?.tier).toBe(0);
  });
  it('no node, or several in the deciding tier, is NodeNotKnown telling to pass --node', () => {
    expect(() => me('vm')).toThrow(NodeNotKnown);
    expect(() => me('vm')).toThrow("this host is not a node of the cluster: no node has its name (vm) as its name, kubernetes.io/hostname label or Hostname address: pass --node with this host's node name as 'kubectl get nodes' shows it");
    expect(() => me('twin')).toThrow("this host's name (twin) matches 2 nodes: twin-a (kubernetes.io/hostname label), twin-b (kubernetes.io/hostname label): pass --node with the one this host is");
  });
  it('--node is the node name itself, and an unknown one is NodeNotKnown', () => {
    expect(thisNodeAmong(nodes, 'twin-a', ['vm'])).toMatchObject({ name: 'twin-a', how: 'by --node' });
    expect(() => thisNodeAmong(nodes, 'nosuch', ['k8s01'])).toThrow(/^no node named nosuch in the cluster: pass --node/);
    expect(() => thisNodeAmong(nodes, 'nosuch', ['k8s01'])).toThrow(NodeNotKnown);
  });
});
