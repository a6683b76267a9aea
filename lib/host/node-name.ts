import os from 'node:os';

/**
 * The Kubernetes node name of this host, as the kubelet derives it when no
 * --hostname-override is set: the hostname, lowercased (microk8s, kubeadm).
 * Node-local checks default --node to this; clusters that override node
 * names (cloud providers, FQDN names) pass --node.
 */
export function localNodeName(hostname: string = os.hostname()): string {
  return hostname.trim().toLowerCase();
}
