// A --node that names no node (a typo in an NRPE command, a hostname that is
// not the node name) must never read as a quiet, healthy node: every check
// that takes --node says so the same way, UNKNOWN, with the fix; calico_nat
// too, whatever its NAT table shows (a verdict about a node that is not one).
import { beforeAll, describe, expect, it } from 'vitest';
import { CHECKS, expectSafe } from '../bad-input-support.js';
import { apiServers, runBuilt, type ApiServer } from '../harness.js';

const start = apiServers();
let api: ApiServer;
beforeAll(async () => { api = await start('incident'); });

const UNKNOWN_NODE = /^K8S [A-Z ]+ UNKNOWN - no node named nosuch-node in the cluster: pass --node with a name 'kubectl get nodes' shows/;

describe('an unknown --node is UNKNOWN, the same way in every check', () => {
  it('every check whose --help offers --node', async () => {
    const withNode: string[] = [];
    for (const check of CHECKS) {
      const help = await runBuilt(check, ['--help']);
      if (/^\s+--node\b/m.test(help.stdout)) withNode.push(check);
    }
    // The node-scoped checks of today; a new one joins this test by having --node.
    expect(withNode).toEqual(expect.arrayContaining(['stuck_terminating', 'sandbox_changed', 'kubelet_stall', 'calico_nat', 'reboot_ready']));
    for (const check of withNode) {
      const r = await runBuilt(check, ['--kubeconfig', api.kubeconfig, '--node', 'nosuch-node', '-v']);
      expectSafe(r, check);
      expect(r.code, `${check}: ${r.firstLine}`).toBe(3);
      // calico_nat reads this host's nat table first: where it cannot (not root, no iptables) that is its UNKNOWN.
      if (check === 'calico_nat' && !UNKNOWN_NODE.test(r.firstLine)) {
        expect(r.firstLine).toMatch(/^K8S CALICO NAT UNKNOWN - (cannot read the nat table|.*(permission denied|sudo))/i);
        continue;
      }
      expect(r.firstLine, check).toMatch(UNKNOWN_NODE);
    }
  }, 300000);

  it('a node that still has stuck pods bound to it is judged, not refused, once it is deleted', async () => {
    // The incident's k8s02 has pods stuck Terminating: delete its Node object and look again.
    const s = await start('incident', { rules: [{ path: '^/api/v1/nodes/k8s02$', status: 404 }] });
    const r = await runBuilt('stuck_terminating', ['--kubeconfig', s.kubeconfig, '--node', 'k8s02', '-v']);
    expectSafe(r, 'stuck_terminating');
    expect(r.code, r.firstLine).toBe(2);
    expect(r.stdout).toMatch(/node k8s02 no longer exists/);
  }, 120000);
});
