// Node names are often not `hostname`: the node-scoped checks find this host's
// Node by its name, short name or FQDN against each Node's name,
// kubernetes.io/hostname label and Hostname addresses, in any case, and say
// UNKNOWN naming --node when none or several match (lib/kube/this-node.ts).
// The hostname is really set, in a UTS namespace of the check's own
// (unshare -u, as root), not mocked. test/fixtures/hostnames.json:
//   k8s01     label k8s01              Hostname address k8s01
//   worker-b  label k8s02.example.com  Hostname address worker-b
//   worker-c  label worker-c           Hostname address EDGE-3
//   twin-a    label twin               twin-b  label twin
import { beforeAll, describe, expect, it } from 'vitest';
import { apiServers, expectContract, runBuilt, utsUnavailable, type ApiServer } from '../harness.js';
import { HOST_ONLY } from '../sweep.js';

const why = utsUnavailable();
if (why && !process.env.CI) console.log(`skipped hostname tests: ${why}`);

it.runIf(!!why && !!process.env.CI)('can set a hostname in a UTS namespace (CI must)', () => {
  throw new Error(`this-node tests cannot run in CI: ${why}`);
});

describe.skipIf(!!why)('which node this host is, with real hostnames', () => {
  const start = apiServers();
  let api: ApiServer;
  beforeAll(async () => { api = await start('hostnames'); });

  const kubelet = (hostname: string, ...args: string[]) => runBuilt('kubelet_stall', ['--kubeconfig', api.kubeconfig, ...args], { hostname });
  const reboot = (hostname: string, ...args: string[]) => runBuilt('reboot_ready', ['--kubeconfig', api.kubeconfig, ...args], { hostname });
  const nodeRequests = (before: number) => api.requests().slice(before).filter((r) => r.path.startsWith('/api/v1/nodes'))
    .map((r) => `${r.path}${r.query.labelSelector ? `?labelSelector=${r.query.labelSelector}` : ''}`);

  it('an FQDN hostname in upper case finds the node named by its short name, without listing every node', async () => {
    const before = api.requests().length;
    const r = await kubelet('K8S01.Example.COM');
    expectContract(r, 'KUBELET STALL');
    expect(r.firstLine).toMatch(/^K8S KUBELET STALL OK - no Pending pods bound to k8s01 \| /);
    expect(nodeRequests(before)).toEqual([
      '/api/v1/nodes/k8s01.example.com',
      '/api/v1/nodes/k8s01',
      '/api/v1/nodes?labelSelector=kubernetes.io/hostname in (k8s01.example.com,k8s01)',
    ]);
    const rr = await reboot('K8S01.Example.COM');
    expectContract(rr, 'REBOOT READY');
    expect(rr.firstLine).toMatch(/^K8S REBOOT READY OK - safe to reboot k8s01: 4\/4 other nodes Ready and settled/);
  }, 120000);

  it('a hostname that is a node name costs one GET', async () => {
    const before = api.requests().length;
    const r = await kubelet('k8s01');
    expect(r.firstLine).toMatch(/^K8S KUBELET STALL OK - no Pending pods bound to k8s01 \| /);
    expect(nodeRequests(before)).toEqual(['/api/v1/nodes/k8s01']);
  }, 120000);

  it('a hostname only the kubernetes.io/hostname label carries', async () => {
    const r = await kubelet('k8s02.example.com');
    expect(r.firstLine).toMatch(/^K8S KUBELET STALL OK - no Pending pods bound to worker-b \| /);
    const rr = await reboot('k8s02.example.com');
    expect(rr.firstLine).toMatch(/^K8S REBOOT READY OK - safe to reboot worker-b: /);
  }, 120000);

  it('a hostname only a Hostname address carries (any case): found by listing every node, and -vv says --node spares it', async () => {
    const r = await kubelet('edge-3', '-vv');
    expect(r.firstLine).toMatch(/^K8S KUBELET STALL OK - no Pending pods bound to worker-c \| /);
    expect(r.stderr).toContain('judging node worker-c, found by its Hostname address, after listing every node (pass --node worker-c to spare the list)');
    const rr = await reboot('edge-3');
    expect(rr.firstLine).toMatch(/^K8S REBOOT READY OK - safe to reboot worker-c: /);
  }, 120000);

  it('two nodes matching is UNKNOWN naming both and --node', async () => {
    for (const r of [await kubelet('twin'), await reboot('twin')]) {
      expect(r.code, r.stdout).toBe(3);
      expect(r.firstLine).toMatch(/ UNKNOWN - this host's name \(twin\) matches 2 nodes: twin-a \(kubernetes\.io\/hostname label\), twin-b \(kubernetes\.io\/hostname label\): pass --node/);
    }
    const given = await kubelet('twin', '--node', 'twin-b');
    expect(given.firstLine).toMatch(/^K8S KUBELET STALL OK - no Pending pods bound to twin-b \| /);
  }, 120000);

  it('no node matching is UNKNOWN naming --node; kubelet_stall no longer judges every node in its place', async () => {
    for (const [title, r] of [['KUBELET STALL', await kubelet('vm.example.org')], ['REBOOT READY', await reboot('vm.example.org')]] as const) {
      expectContract(r, title);
      expect(r.code, r.stdout).toBe(3);
      expect(r.firstLine).toBe(`K8S ${title} UNKNOWN - this host is not a node of the cluster: no node has its name (vm.example.org, vm) as its name, ` +
        `kubernetes.io/hostname label or Hostname address: pass --node${title === 'KUBELET STALL' ? ' (or --all-nodes)' : ''} with this host's node name as 'kubectl get nodes' shows it`);
    }
    const all = await kubelet('vm.example.org', '--all-nodes');
    expect(all.firstLine).toMatch(/^K8S KUBELET STALL OK - no Pending pods bound to 5 nodes \| /);
  }, 120000);

  // The host-only checks (its journal, dqlite, certificates, services, kernel) are not this cluster's: leave those out; calico_nat stays in.
  const triage = (hostname: string, args: string[], skip: string[] = []) =>
    runBuilt('k8s-nrpe', ['triage', ...args, '--skip', [...HOST_ONLY, ...skip].join(',')], { hostname });

  it('triage on a host that is no node: the checks about this node are not run, saying why, and do not make the overall verdict', async () => {
    const healthy = await start('healthy');
    const r = await triage('vm.example.org', ['--kubeconfig', healthy.kubeconfig]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).not.toMatch(/^\S+\s+(calico_nat|kubelet_stall|reboot_ready)\s/m);
    for (const check of ['calico_nat', 'kubelet_stall', 'reboot_ready']) {
      expect(r.stdout, check).toMatch(new RegExp(`not run: .*${check} \\(this host is not a node of the cluster: no node has its name \\(vm\\.example\\.org, vm\\)`));
    }
    expect(r.stdout).toMatch(/^overall: OK \(12 ok\) on vm\.example\.org$/m);
  }, 120000);

  it('triage on a node whose hostname is an FQDN judges that node', async () => {
    const healthy = await start('healthy');
    const r = await triage('K8S01.Example.COM', ['--kubeconfig', healthy.kubeconfig], ['calico_nat']);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^OK\s+kubelet_stall\s+no Pending pods bound to k8s01$/m);
    expect(r.stdout).toMatch(/^OK\s+reboot_ready\s+safe to reboot k8s01: /m);
  }, 120000);

  it('triage before a kubeconfig exists: the node checks are not run, naming make-kubeconfig.sh', async () => {
    const r = await triage('k8s01', ['--kubeconfig', '/etc/nagios/k8s-nrpe-test-absent.kubeconfig']);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/not run: .*calico_nat \(cannot tell whether this host is a node of a cluster: .*make-kubeconfig\.sh/);
  }, 120000);
});
