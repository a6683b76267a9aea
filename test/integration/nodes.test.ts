import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { apiServers, expectContract, near, runBuilt, type ApiServer } from '../harness.js';

const TITLE = 'NODES';

describe('check_k8s_nodes against the API double', () => {
  const start = apiServers();

  let incident: ApiServer;
  let degraded: ApiServer;
  beforeAll(async () => { [incident, degraded] = await Promise.all([start('incident'), start('nodes-degraded')]); });

  it('is OK on the healthy cluster (rebooted one at a time, a week apart)', async () => {
    const s = await start('healthy');
    const run = await runBuilt('nodes', ['--kubeconfig', s.kubeconfig]);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(0);
    expect(run.firstLine).toMatch(/^K8S NODES OK - 3 nodes Ready, heartbeats fresh, kubelet v1\.32\.3 \| /);
    expect(run.perf).toMatchObject({ notready_nodes: '0', notready_percent: '0%', rebooted_together: '0', stale_leases: '0', nodes: '3' });
    expect(run.firstLine).toContain('notready_nodes=0;;0;0;3');
  });

  it('on the incident an hour on: all three nodes Ready again, back within 1m40s of each other 57m ago: WARNING naming what to verify', async () => {
    const run = await runBuilt('nodes', ['--kubeconfig', incident.kubeconfig]);
    expectContract(run, TITLE);
    // Behaviour change: every node is back (Ready, heartbeat fresh), so it is no longer CRITICAL.
    expect(run.code, run.stdout).toBe(1);
    expect(run.firstLine).toMatch(/^K8S NODES WARNING - 3 nodes rebooted together \(Ready again within 1m40s of each other, 57m\d*s? ago: k8s03, k8s01, k8s02\), all Ready again: verify with k8s-nrpe triage \| /);
    expect(run.perf).toMatchObject({ notready_nodes: '0', rebooted_together: '3', stale_leases: '0' });
    expect(run.firstLine).toContain('rebooted_together=3;1;;0;3');
    // Findings sit indented under their section's heading ([WARNING] Reboots, [CRITICAL] Readiness...: Report.section).
    expect(run.stdout).toMatch(/^  \[WARNING\] k8s03: Ready again since 58m ago \(no Rebooted event left: events expire\)$/m);
  });

  it('three nodes that registered and became Ready together 10m ago joined the cluster: OK, not "rebooted together"', async () => {
    const s = await start('nodes-joined');
    const run = await runBuilt('nodes', ['--kubeconfig', s.kubeconfig, '-v']);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(0);
    expect(run.firstLine).toMatch(/^K8S NODES OK - 3 nodes Ready, heartbeats fresh, kubelet v1\.36\.2 \| /);
    expect(run.perf.rebooted_together).toBe('0');
    expect(run.stdout).toMatch(/\n  3 nodes joined the cluster in 1h, Ready for the first time \(not a reboot\), the last 9m\d*s? ago: k8s01, k8s02, k8s03\n/);
  });

  it('asks for one node list, the kube-node-lease Leases and three server-filtered event lists', async () => {
    const before = incident.requests().length;
    await runBuilt('nodes', ['--kubeconfig', incident.kubeconfig]);
    const reqs = incident.requests().slice(before).map((r) => `${r.path}${r.query.fieldSelector ? ` ${r.query.fieldSelector}` : ''}`).sort();
    expect(reqs).toEqual([
      '/api/v1/events involvedObject.kind=Node,reason=NodeNotReady',
      '/api/v1/events involvedObject.kind=Node,reason=NodeReady',
      '/api/v1/events involvedObject.kind=Node,reason=Rebooted',
      '/api/v1/nodes',
      '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases',
    ]);
  });

  it('judges every kind of node trouble at once, worst first', async () => {
    const run = await runBuilt('nodes', ['--kubeconfig', degraded.kubeconfig, '-vv']);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(2);
    expect(run.firstLine).toMatch(/^K8S NODES CRITICAL - k8s02 NotReady \(Unknown\) for 6m\d*s?; k8s03: kubelet stopped renewing its Lease \(renewed 3m\d+s ago, leaseDurationSeconds 40\) but the Node says Ready; /);
    for (const warn of ['k8s04 DiskPressure', '1 node cordoned (k8s01)', 'k8s05 readiness flapping (6 changes in 15m)']) {
      expect(run.firstLine, warn).toContain(`; ${warn}`);
    }
    expect(run.firstLine).toMatch(/; 2 nodes rebooted together \(Rebooted events within 10s of each other, 2m\d*s? ago: k8s05, k8s04\), all Ready again: verify with k8s-nrpe triage \| /);
    const body = run.stdout.split('\n').slice(1);
    expect(body.some((l) => /^  \[CRITICAL\] k8s02 NotReady \(Unknown\) for 6m\d*s?: NodeStatusUnknown: Kubelet stopped posting node status\. \(outside -c 0\)$/.test(l))).toBe(true);
    expect(body.some((l) => /^  \[WARNING\] k8s04 DiskPressure for 8m\d*s?: KubeletHasDiskPressure: kubelet has disk pressure$/.test(l))).toBe(true);
    expect(body).toContain('kubelet versions differ: v1.32.3 (k8s01, k8s02, k8s03, k8s04), v1.31.9 (k8s05)');
    expect(run.perf).toMatchObject({ notready_nodes: '1', notready_percent: '20%', stale_leases: '2', cordoned_nodes: '1', pressure_nodes: '1', rebooted_together: '2', ready_changes_max: '6', nodes: '5' });
  });

  it('--selector judges only the matching nodes (server-side)', async () => {
    const before = degraded.requests().length;
    const run = await runBuilt('nodes', ['--kubeconfig', degraded.kubeconfig, '--selector', 'node.kubernetes.io/microk8s-worker', '--cordoned-state', 'ok']);
    expectContract(run, TITLE);
    expect(run.perf.nodes).toBe('2');
    // both workers came back together: all of them, more than half, but both are back (Ready, fresh heartbeats): WARNING
    expect(run.firstLine).toMatch(/^K8S NODES WARNING - .*2 nodes rebooted together \(Rebooted events within 10s of each other, .*\), all Ready again: verify with k8s-nrpe triage \| /);
    const list = degraded.requests().slice(before).find((r) => r.path === '/api/v1/nodes');
    expect(list?.query.labelSelector).toBe('node.kubernetes.io/microk8s-worker');
  });

  it('percent thresholds: -w/-c with --percent, reboot thresholds with a % suffix', async () => {
    let run = await runBuilt('nodes', ['--kubeconfig', degraded.kubeconfig, '--percent', '-c', '25', '--reboot-warning', '50%', '--flap-warning', '10',
      '--cordoned-state', 'ok', '--selector', 'node.kubernetes.io/microk8s-controlplane']);
    expectContract(run, TITLE);
    // 1 of 3 control-plane nodes NotReady = 33.3% > 25; k8s03's stale Lease is CRITICAL anyway
    expect(run.firstLine).toMatch(/^K8S NODES CRITICAL - k8s02 NotReady \(Unknown\) for 6m/);
    expect(run.firstLine).toContain("notready_percent=33.3%;;25;0;100");
    // 2 of 5 is over 30%, CRITICAL while one of them is down; both are back, so WARNING.
    run = await runBuilt('nodes', ['--kubeconfig', degraded.kubeconfig, '--reboot-critical', '30%', '-v']);
    expect(run.stdout).toMatch(/^  \[WARNING\] 2 nodes rebooted together .*, all Ready again: verify with k8s-nrpe triage on each of them/m);
    run = await runBuilt('nodes', ['--kubeconfig', degraded.kubeconfig, '--reboot-warning', '50%', '--reboot-critical', '50%', '-v']);
    expect(run.stdout).toMatch(/^  2 nodes rebooted together /m);
  });

  it('a True node-problem-detector condition is WARNING naming type, node and message; --ignore-condition and --problem-condition-state choose', async () => {
    // The healthy cluster, with k8s02 carrying the conditions node-problem-detector writes (config/kernel-monitor.json,
    // config/systemd-monitor-counter.json): KernelDeadlock True, ReadonlyFilesystem False, FrequentContainerdRestart True.
    const dir = new URL('../fixtures/healthy/', import.meta.url);
    type Obj = { kind: string; metadata: { name: string }; status?: { conditions?: unknown[] } };
    const objects = fs.readdirSync(dir).filter((f) => f.endsWith('.json'))
      .flatMap((f) => (JSON.parse(fs.readFileSync(new URL(f, dir), 'utf8')) as { objects: Obj[] }).objects);
    const k8s02 = objects.find((o) => o.kind === 'Node' && o.metadata.name === 'k8s02')!;
    const npd = (type: string, status: string, reason: string, message: string) =>
      ({ type, status, reason, message, lastHeartbeatTime: '$now-30s', lastTransitionTime: '$now-12m' });
    k8s02.status!.conditions = [...k8s02.status!.conditions!,
      npd('KernelDeadlock', 'True', 'DockerHung', 'kernel: INFO: task docker:20744 blocked for more than 120 seconds.'),
      npd('ReadonlyFilesystem', 'False', 'FilesystemIsNotReadOnly', 'Filesystem is not read-only'),
      npd('FrequentContainerdRestart', 'True', 'FrequentContainerdRestart', 'Found 5 matching logs, which meets the threshold of 5')];
    const s = await start({ objects });
    const run = await runBuilt('nodes', ['--kubeconfig', s.kubeconfig]);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(1);
    expect(run.firstLine).toMatch(/^K8S NODES WARNING - k8s02 KernelDeadlock; k8s02 FrequentContainerdRestart \| /);
    expect(run.perf).toMatchObject({ problem_conditions: '2', notready_nodes: '0' });
    const body = run.stdout.split('\n').slice(1);
    expect(body.some((l) => new RegExp(`^  \\[WARNING\\] k8s02 KernelDeadlock for ${near('12m')}: DockerHung: kernel: INFO: task docker:20744 blocked for more than 120 seconds\\. \\(--problem-condition-state warning; --ignore-condition KernelDeadlock to silence\\)$`).test(l)), run.stdout).toBe(true);
    expect(run.stdout).not.toContain('ReadonlyFilesystem');

    const ignored = await runBuilt('nodes', ['--kubeconfig', s.kubeconfig, '--ignore-condition', 'KernelDeadlock', '--ignore-condition', 'FrequentContainerdRestart']);
    expect(ignored.code, ignored.stdout).toBe(0);
    expect(ignored.perf).toMatchObject({ problem_conditions: '0' });
    const crit = await runBuilt('nodes', ['--kubeconfig', s.kubeconfig, '--problem-condition-state', 'critical', '--ignore-condition', 'KernelDeadlock']);
    expect(crit.code, crit.stdout).toBe(2);
    expect(crit.firstLine).toMatch(/^K8S NODES CRITICAL - k8s02 FrequentContainerdRestart \| /);
  });

  it('a bad option is UNKNOWN with one line', async () => {
    const run = await runBuilt('nodes', ['--kubeconfig', degraded.kubeconfig, '--reboot-critical', 'most']);
    expect(run.code).toBe(3);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    expect(run.firstLine).toMatch(/^K8S NODES UNKNOWN - .*--reboot-critical/);
  });
}, 120_000);
