import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { apiServers, expectContract, runBuilt } from '../harness.js';

const TITLE = 'CAPACITY';

describe('check_k8s_capacity against the API double', () => {
  const start = apiServers();

  // test/fixtures/capacity.json: three nodes from a real Node object (k8s03 smaller, 4 allocatable pods), pods from a
  // real Pod: web (ReplicaSet) on each, db-0 (StatefulSet) on k8s02, calico-node (DaemonSet) on each, two BestEffort
  // workers on k8s03, a Succeeded backup pod on k8s01 and an unbound Pending pod.
  it('is WARNING when losing k8s02 needs 90% of the CPU free elsewhere and k8s03 is at its pod limit, saying what to do first', async () => {
    const s = await start('capacity');
    const run = await runBuilt('capacity', ['--kubeconfig', s.kubeconfig]);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(1);
    // k8s02: web 1.5 + db 1.2 CPU move (calico-node stays) against (4 - 1.75) + (2 - 1.25) = 3 CPU free: 90%
    expect(run.firstLine).toMatch(/^K8S CAPACITY WARNING - losing k8s02 needs 90% of the CPU free elsewhere; k8s03 4\/4 pods \| /);
    expect(run.perf).toMatchObject({ cpu_move: '90%', memory_move: '56.5%', cpu_headroom: '0.3', memory_headroom: '4136275968B', pods_max: '100%', nodes: '3', schedulable_nodes: '3' });
    expect(run.firstLine).toContain('cpu_move=90%;80;100;0 ');
    expect(run.firstLine).toContain('pods_max=100%;90;;0 ');
    const body = run.stdout.split('\n').slice(1);
    expect(body.slice(0, 2)).toEqual(['What to do: add a node or capacity, or lower requests on k8s02 (kubectl describe node k8s02) before it reboots',
      "What to do: move pods off k8s03 or raise its kubelet's maxPods"]);
    expect(body).toContain('[WARNING] losing k8s02: its pods request 2.7 CPU, the other schedulable nodes have 3 CPU free: the move needs 90% of it (outside -w 80)');
    expect(body).toContain('[WARNING] k8s03: 4 of 4 allocatable pods (100%, outside --pods-warning 90): new pods for it fail with "Too many pods"');
    expect(body).toContain('memory: the worst node to lose is k8s02: its pods request 5GiB, the other schedulable nodes have 8.9GiB free (56.5%)');
    // One node list, one list of non-terminal pods (the Succeeded backup pod, 3 CPU, is left out by the server), paged.
    const reqs = s.requests();
    expect(reqs.map((q) => q.path).sort()).toEqual(['/api/v1/nodes', '/api/v1/pods']);
    expect(reqs.find((q) => q.path === '/api/v1/pods')!.query).toMatchObject({ fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed' });
    expect(reqs.every((q) => Number(q.query.limit) > 0)).toBe(true);
  });

  it('-w/-c and --pods-warning move the verdict: CRITICAL when the move would not fit', async () => {
    const s = await start('capacity');
    const crit = await runBuilt('capacity', ['--kubeconfig', s.kubeconfig, '-w', '50', '-c', '85', '--pods-warning', '100']);
    expectContract(crit, TITLE);
    expect(crit.code, crit.stdout).toBe(2);
    expect(crit.firstLine).toMatch(/^K8S CAPACITY CRITICAL - losing k8s02 needs 90% of the CPU free elsewhere; losing k8s02 needs 56.5% of the memory free elsewhere \| /);
    const ok = await runBuilt('capacity', ['--kubeconfig', s.kubeconfig, '-w', '95', '--pods-warning', '100']);
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.firstLine).toMatch(/^K8S CAPACITY OK - 3 nodes: losing k8s02 needs 90% of the CPU and 56.5% of the memory free elsewhere, fullest k8s03 at 4\/4 pods \| /);
    expect(ok.stdout).not.toContain('What to do');
  });

  it('a one-node cluster is OK with a note: N-1 is not judged there', async () => {
    type Obj = { kind: string; metadata: { name: string }; spec?: { nodeName?: string } };
    const all = (JSON.parse(fs.readFileSync(new URL('../fixtures/capacity.json', import.meta.url), 'utf8')) as { objects: Obj[] }).objects;
    const solo = await start({ objects: all.filter((o) => (o.kind === 'Node' ? o.metadata.name === 'k8s01' : o.spec?.nodeName === 'k8s01')) });
    const run = await runBuilt('capacity', ['--kubeconfig', solo.kubeconfig]);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(0);
    expect(run.firstLine).toMatch(/^K8S CAPACITY OK - 1 node: one node, N-1 not judged, fullest k8s01 at 2\/110 pods \| cpu_move=U;80;100;0 memory_move=U;80;100;0 cpu_headroom=U memory_headroom=U /);
    expect(run.stdout).toContain('\none node: losing it loses every pod, so N-1 is not judged');
  });

  it('a bad option is UNKNOWN with one line', async () => {
    const run = await runBuilt('capacity', ['--kubeconfig', '/nonexistent', '--pods-warning', 'full']);
    expect(run.code).toBe(3);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    expect(run.firstLine).toMatch(/^K8S CAPACITY UNKNOWN - .*--pods-warning/);
  });
}, 120_000);
