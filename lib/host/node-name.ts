import os from 'node:os';
import { isNodeName } from '../kube/names.js';
import { UsageError } from '../plugin/errors.js';
import { sanitize } from '../plugin/sanitize.js';

/**
 * The Kubernetes node name of this host, as the kubelet derives it when no
 * --hostname-override is set: the hostname, lowercased (microk8s, kubeadm).
 * Node-local checks default --node to this; clusters that override node
 * names (cloud providers, FQDN names) pass --node.
 */
export function localNodeName(hostname: string = os.hostname()): string {
  return hostname.trim().toLowerCase();
}

/** localNodeName(), refused when it could not be a node name (it goes into selectors and URLs). */
export function thisNodeName(flag = '--node', hostname?: string): string {
  const name = localNodeName(hostname);
  if (!isNodeName(name)) throw new UsageError(`this host's name '${sanitize(name, 80)}' is not a Kubernetes node name: pass ${flag} NODE`);
  return name;
}
