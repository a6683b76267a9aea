// --name, --exclude-namespace, --exclude-name and --unmatched-state as the built
// checks take them (lib/kube/selection.ts): what the server is asked, what is
// left out, and the one outcome when nothing is left.
import { describe, expect, it } from 'vitest';
import { apiServers, expectContract, runBuilt } from '../harness.js';

const WORKLOAD_LISTS = /^\/apis\/apps\/v1\/(namespaces\/[^/]+\/)?(deployments|statefulsets|daemonsets)$/;

describe('selection against the API double', () => {
  const start = apiServers();

  it('check_k8s_workloads: excluding the namespaces that hold the down workloads leaves OK; the count says what was judged', async () => {
    const s = await start('incident');
    const all = await runBuilt('workloads', ['--kubeconfig', s.kubeconfig]);
    expect(all.code, all.stdout).toBe(2);
    const run = await runBuilt('workloads', ['--kubeconfig', s.kubeconfig, '--exclude-namespace', '^(games|openebs|apps)$']);
    expectContract(run, 'WORKLOADS');
    expect(run.code, run.stdout).toBe(0);
    expect(Number(run.perf.workloads)).toBeLessThan(Number(all.perf.workloads));
    // Namespace exclusions cannot be asked of the server: the same lists, no field selector.
    const lists = s.requests().filter((q) => WORKLOAD_LISTS.test(q.path));
    expect(lists.every((q) => q.query.fieldSelector === undefined)).toBe(true);
  });

  it('check_k8s_workloads --name NS/NAME judges that one, asked by field selector in its namespace', async () => {
    const s = await start('incident');
    const run = await runBuilt('workloads', ['--kubeconfig', s.kubeconfig, '--name', 'games/survive-minecraft']);
    expectContract(run, 'WORKLOADS');
    expect(run.code, run.stdout).toBe(2);
    expect(run.firstLine).toMatch(/^K8S WORKLOADS CRITICAL - 1 workload with no ready replica: games\/survive-minecraft \|/);
    expect(run.perf.workloads).toBe('1');
    const lists = s.requests().filter((q) => WORKLOAD_LISTS.test(q.path));
    expect(lists.map((q) => q.path).sort()).toEqual(['daemonsets', 'deployments', 'statefulsets'].map((k) => `/apis/apps/v1/namespaces/games/${k}`));
    for (const q of lists) expect(q.query.fieldSelector).toBe('metadata.name=survive-minecraft');
  });

  it('--name of nothing is UNKNOWN with one line, or the state --unmatched-state names', async () => {
    const s = await start('incident');
    const run = await runBuilt('workloads', ['--kubeconfig', s.kubeconfig, '--name', 'games/nothing-here']);
    expectContract(run, 'WORKLOADS');
    expect(run.code, run.stdout).toBe(3);
    expect(run.stdout).toBe('K8S WORKLOADS UNKNOWN - no workload matched --name games/nothing-here: nothing judged (--unmatched-state unknown)\n');
    const ok = await runBuilt('pdb', ['--kubeconfig', s.kubeconfig, '--name', 'nothing-here', '--unmatched-state', 'ok']);
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.firstLine).toBe('K8S PDB OK - no PodDisruptionBudget matched --name nothing-here: nothing judged (--unmatched-state ok)');
  });

  it('exclusions that leave nothing are the same outcome, counting what they dropped', async () => {
    const s = await start('incident');
    const run = await runBuilt('pdb', ['--kubeconfig', s.kubeconfig, '--exclude-name', 'pdb']);
    expect(run.code, run.stdout).toBe(3);
    expect(run.firstLine).toBe('K8S PDB UNKNOWN - no PodDisruptionBudget matched the exclusions (6 excluded by --exclude-namespace/--exclude-name): nothing judged (--unmatched-state unknown)');
  });

  it('a list that starts again (410 Expired) counts what it excluded once', async () => {
    const s = await start('incident', { rules: [{ path: '^/apis/policy/v1/poddisruptionbudgets$', expireContinue: true, times: 1 }] });
    const run = await runBuilt('pdb', ['--kubeconfig', s.kubeconfig, '--exclude-name', 'pdb', '--page-size', '2']);
    expect(run.code, run.stdout).toBe(3);
    expect(run.firstLine).toBe('K8S PDB UNKNOWN - no PodDisruptionBudget matched the exclusions (6 excluded by --exclude-namespace/--exclude-name): nothing judged (--unmatched-state unknown)');
    // It did start again: a first page, the expired continue, then the list from the start.
    const statuses = s.requests().filter((q) => q.path === '/apis/policy/v1/poddisruptionbudgets').map((q) => [q.status, Boolean(q.query.continue)]);
    expect(statuses.slice(0, 3)).toEqual([[200, false], [410, true], [200, false]]);
  });

  it('check_k8s_stuck_terminating: the node\'s stuck pods in an excluded namespace are not judged', async () => {
    const s = await start('incident');
    const all = await runBuilt('stuck_terminating', ['--kubeconfig', s.kubeconfig]);
    expect(all.code, all.stdout).toBe(2);
    const run = await runBuilt('stuck_terminating', ['--kubeconfig', s.kubeconfig, '--exclude-namespace', 'openebs', '--exclude-namespace', 'games|apps']);
    expectContract(run, 'STUCK TERMINATING');
    expect(run.stdout).not.toMatch(/openebs|games\/|apps\//);
    expect(Number(run.perf.stuck_pods)).toBeLessThan(Number(all.perf.stuck_pods));
  });

  it('check_k8s_pods, check_k8s_volumes and check_k8s_nodes take --name the same way', async () => {
    const s = await start('incident');
    const pods = await runBuilt('pods', ['--kubeconfig', s.kubeconfig, '--name', 'apps/backup-29163480']);
    expectContract(pods, 'PODS');
    expect(pods.code, pods.stdout).toBe(1);
    expect(pods.firstLine).toMatch(/1 failed Job \(apps\/backup-29163480\)/);
    const podLists = s.requests().filter((q) => /\/namespaces\/apps\/(pods|jobs)$/.test(q.path));
    // The pods that may be in trouble, the evicted (Failed) ones, and the Jobs: each asked by name.
    expect(podLists.map((q) => q.path.split('/').pop()).sort()).toEqual(['jobs', 'pods', 'pods']);
    for (const q of podLists) expect(q.query.fieldSelector).toMatch(/(^|,)metadata\.name=backup-29163480$/);
    const nodes = await runBuilt('nodes', ['--kubeconfig', s.kubeconfig, '--name', 'k8s01']);
    expectContract(nodes, 'NODES');
    expect(nodes.perf.nodes).toBe('1');
    expect(s.requests().find((q) => q.path === '/api/v1/nodes' && q.query.fieldSelector)?.query.fieldSelector).toBe('metadata.name=k8s01');
    const vol = await runBuilt('volumes', ['--kubeconfig', s.kubeconfig, '--name', 'nope/none']);
    expect(vol.code, vol.stdout).toBe(3);
    expect(vol.firstLine).toBe('K8S VOLUMES UNKNOWN - no claim matched --name nope/none: nothing judged (--unmatched-state unknown)');
  });

  it('a bad regex is UNKNOWN with one line before any request', async () => {
    const s = await start('healthy');
    const run = await runBuilt('workloads', ['--kubeconfig', s.kubeconfig, '--exclude-name', 'web(']);
    expectContract(run, 'WORKLOADS');
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(/^K8S WORKLOADS UNKNOWN - invalid --exclude-name 'web\(': not a regular expression \([^\n|]*\) \(see --help\)\n$/);
    expect(s.requests()).toEqual([]);
  });
});
