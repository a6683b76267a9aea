// k8s-nrpe discover against the API double: its three documents parse, the
// Icinga 2 one with the shipped CheckCommands and the apply-for example is
// accepted by the real icinga2 daemon -C (test/icinga2.ts, as contrib/ is),
// --exclude-* applies, and it reads only what deploy/rbac.yaml grants.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiServers, DIST, ROOT, runBuilt, tempDir } from '../harness.js';
import { ICINGA2, icinga2Check, need } from '../icinga2.js';

interface Doc { nodes: { name: string; roles: string[]; check: string; args: string[] }[]; workloads: { kind: string; namespace: string; name: string; check: string; args: string[] }[] }

const tmp = tempDir('discover');

describe('k8s-nrpe discover', () => {
  const start = apiServers();

  it('prints the nodes and workloads as JSON, each with the check and --name that judge it alone, from metadata-only lists', async () => {
    const s = await start('incident');
    const r = await runBuilt('k8s-nrpe', ['discover', '--kubeconfig', s.kubeconfig]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc.nodes.map((n) => n.name)).toEqual(['k8s01', 'k8s02', 'k8s03']);
    expect(doc.nodes[0]).toEqual({ name: 'k8s01', roles: ['control-plane'], check: 'nodes', args: ['--name', 'k8s01'] });
    expect(doc.workloads).toContainEqual({ kind: 'Deployment', namespace: 'games', name: 'survive-minecraft', check: 'workloads', args: ['--name', 'games/survive-minecraft'] });
    expect(doc.workloads.map((w) => w.kind)).toEqual(expect.arrayContaining(['Deployment', 'StatefulSet', 'DaemonSet']));
    // Exactly the registry's lists, nothing else.
    const paths = s.requests().map((q) => q.path).sort();
    expect(paths).toEqual(['/api/v1/nodes', '/apis/apps/v1/daemonsets', '/apis/apps/v1/deployments', '/apis/apps/v1/statefulsets', '/apis/batch/v1/cronjobs']);
    // CronJobs too (check_k8s_workloads judges them with --name): the healthy cluster's backups.
    const healthy = await start('healthy');
    const h = JSON.parse((await runBuilt('k8s-nrpe', ['discover', '--kubeconfig', healthy.kubeconfig])).stdout) as Doc;
    expect(h.workloads).toContainEqual({ kind: 'CronJob', namespace: 'apps', name: 'backup', check: 'workloads', args: ['--name', 'apps/backup'] });
  });

  it('leaves out what --exclude-namespace and --exclude-name match', async () => {
    const s = await start('incident');
    const r = await runBuilt('k8s-nrpe', ['discover', '--kubeconfig', s.kubeconfig, '--exclude-namespace', '^openebs$', '--exclude-name', '^k8s03$']);
    expect(r.code, r.stdout).toBe(0);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc.nodes.map((n) => n.name)).toEqual(['k8s01', 'k8s02']);
    expect(doc.workloads.length).toBeGreaterThan(0);
    expect(doc.workloads.filter((w) => w.namespace === 'openebs')).toEqual([]);
  });

  it('prints flat rows for an Icinga Director import source: one unique key each', async () => {
    const s = await start('healthy');
    const r = await runBuilt('k8s-nrpe', ['discover', '--kubeconfig', s.kubeconfig, '--director']);
    expect(r.code, r.stdout).toBe(0);
    const rows = JSON.parse(r.stdout) as Record<string, string>[];
    expect(rows.length).toBeGreaterThan(3);
    expect(new Set(rows.map((x) => x.key)).size).toBe(rows.length);
    for (const row of rows) for (const v of Object.values(row)) expect(typeof v).toBe('string');
    expect(rows).toContainEqual({ key: 'Node/k8s01', kind: 'Node', namespace: '', name: 'k8s01', roles: 'control-plane', k8s_nrpe_check: 'nodes', k8s_nrpe_name: 'k8s01' });
  });

  it('prints an Icinga 2 host template that icinga2 daemon -C accepts with contrib/, one service per object', async () => {
    const s = await start('incident');
    const r = await runBuilt('k8s-nrpe', ['discover', '--kubeconfig', s.kubeconfig, '--icinga2', '--template', 'k8s-prod-discovered']);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain('template Host "k8s-prod-discovered" {');
    const json = JSON.parse((await runBuilt('k8s-nrpe', ['discover', '--kubeconfig', s.kubeconfig])).stdout) as Doc;
    if (!need(ICINGA2, 'icinga2-bin icinga2-common')) return;
    const discovered = path.join(tmp, 'discovered.conf');
    fs.writeFileSync(discovered, r.stdout);
    const out = await icinga2Check(path.join(tmp, 'icinga2'), `include <itl>
include <plugins>
include <plugins-contrib>
const PluginDir = "/usr/lib/nagios/plugins"
const PluginContribDir = "/usr/lib/nagios/plugins"
include "${path.join(DIST, 'contrib/icinga2/k8s-nrpe.conf')}"
include "${path.join(ROOT, 'contrib/icinga2/k8s-nrpe-discover.conf')}"
include "${discovered}"
object Host "k8s-prod" {
  import "k8s-prod-discovered"
  check_command = "dummy"
  address = "127.0.0.1"
  vars.k8s_nrpe = true
  vars.k8s_nrpe_cluster = true
  vars.k8s_nrpe_canary = true
}
`);
    expect(out.out).not.toMatch(/critical\/|warning\//);
    expect(out.code, out.out).toBe(0);
    // contrib's checks on the host (a node running the cluster checks too), plus one per node and one per workload.
    const services = Number(/Instantiated (\d+) Services?\./.exec(out.out)?.[1]);
    const plain = (await icinga2Check(path.join(tmp, 'icinga2-plain'), fs.readFileSync(path.join(tmp, 'icinga2', 'icinga2.conf'), 'utf8').replace('  import "k8s-prod-discovered"\n', ''))).out;
    expect(services - Number(/Instantiated (\d+) Services?\./.exec(plain)?.[1])).toBe(json.nodes.length + json.workloads.length);
  }, 240000); // two icinga2 daemon -C runs, ~10 s each on a quiet machine

  it('is UNKNOWN with one line on a bad option and when the exclusions leave nothing; --help names the subcommand', async () => {
    const s = await start('healthy');
    const both = await runBuilt('k8s-nrpe', ['discover', '--kubeconfig', s.kubeconfig, '--icinga2', '--director']);
    expect(both.code).toBe(3);
    expect(both.stdout).toBe('K8S DISCOVER UNKNOWN - --icinga2 and --director: choose one (see --help)\n');
    const help = await runBuilt('k8s-nrpe', ['discover', '--help']);
    expect(help.code).toBe(3);
    expect(help.stdout).toMatch(/^k8s-nrpe discover \(k8s-nrpe\) /);
    expect(help.stdout).toContain('  k8s-nrpe discover [--icinga2] [--director] [--template NAME]\n    [--exclude-namespace REGEX] [--exclude-name REGEX]');
    expect(help.stdout).not.toContain('check_k8s_discover');
    const none = await runBuilt('k8s-nrpe', ['discover', '--kubeconfig', s.kubeconfig, '--exclude-name', '.']);
    expect(none.code).toBe(3);
    expect(none.stdout).toMatch(/^K8S DISCOVER UNKNOWN - no object matched the exclusions \(\d+ excluded by --exclude-namespace\/--exclude-name\): nothing judged \(--unmatched-state unknown\)\n$/);
  });
});
