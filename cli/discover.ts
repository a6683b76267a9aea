import { RESOURCES, type Resource } from '../lib/kube/resources.js';
import type { Node } from '../lib/kube/types.js';
import { defineCheck, opt, type CommonOptions } from '../lib/plugin/check.js';
import { UsageError } from '../lib/plugin/errors.js';
import { Report } from '../lib/plugin/report.js';
import { plural } from '../lib/plugin/result.js';
import { runCheck } from '../lib/plugin/run.js';
import { State } from '../lib/plugin/state.js';

/**
 * `k8s-nrpe discover`: the cluster's nodes and workloads, for a service per
 * object (Icinga 2 `apply Service for`, a Director import). Declared like a
 * check so that it has the same kubeconfig/client/timeout options, --help,
 * --exclude-* and error lines; it prints its own document instead of a
 * status line when it succeeds. docs/discover.md.
 */
export interface DiscoveredNode {
  name: string;
  roles: string[];
}

export interface DiscoveredWorkload {
  kind: string;
  namespace: string;
  name: string;
}

export interface Discovered {
  nodes: DiscoveredNode[];
  workloads: DiscoveredWorkload[];
}

/** The kinds check_k8s_workloads judges one by one with --name. */
const KINDS: [string, Resource][] = [
  ['Deployment', RESOURCES.deployments],
  ['StatefulSet', RESOURCES.statefulsets],
  ['DaemonSet', RESOURCES.daemonsets],
  ['CronJob', RESOURCES.cronjobs],
];

const ROLE_LABEL = 'node-role.kubernetes.io/';

function rolesOf(n: Node): string[] {
  const labels = n.metadata?.labels ?? {};
  const roles = Object.keys(labels).filter((k) => k.startsWith(ROLE_LABEL)).map((k) => k.slice(ROLE_LABEL.length)).filter(Boolean);
  // microk8s marks its control plane with a label of its own, not a node-role.
  if ('node.kubernetes.io/microk8s-controlplane' in labels && !roles.includes('control-plane')) roles.push('control-plane');
  return roles.sort();
}

export const DISCOVER = defineCheck({
  name: 'discover',
  title: 'DISCOVER',
  scope: 'cluster',
  nrpe: { args: '', about: 'not an NRPE command' },
  summary: 'The nodes and workloads to monitor one by one, as JSON, Icinga 2 dictionaries or a Director import',
  description:
    'Lists the nodes, Deployments, StatefulSets, DaemonSets and CronJobs and prints ' +
    'them as JSON (default), as an Icinga 2 host template whose dictionaries `apply Service for` rules iterate ' +
    '(--icinga2) or as flat rows for an Icinga Director import source (--director). Each object names the check and ' +
    'the --name that judges it alone. --exclude-namespace/--exclude-name leave objects out. Only reads what ' +
    'deploy/rbac.yaml grants (list on nodes and the workload kinds). docs/discover.md.',
  selection: { what: 'objects' },
  options: {
    icinga2: opt.flag({ describe: 'Print an Icinga 2 host template (vars.k8s_nrpe_nodes, vars.k8s_nrpe_workloads) instead of JSON' }),
    director: opt.flag({ describe: 'Print a JSON array of flat rows for an Icinga Director import source instead' }),
    template: opt.string({ placeholder: 'NAME', default: 'k8s-nrpe-discovered', describe: 'Name of the Icinga 2 host template (--icinga2): one per cluster', check: (s) => (/^[\w.-]+$/.test(s) ? undefined : 'letters, digits, ".", "_" and "-" only') }),
  },
  validate(o) {
    if (o.icinga2 && o.director) throw new UsageError('--icinga2 and --director: choose one');
  },

  async gather(ctx): Promise<Discovered> {
    const kube = await ctx.kube();
    const [nodes, ...lists] = await Promise.all([
      kube.list<Node, DiscoveredNode>(RESOURCES.nodes, { metadataOnly: true, selected: true, project: (n) => ({ name: n.metadata?.name ?? '', roles: rolesOf(n) }) }),
      ...KINDS.map(([kind, res]) =>
        kube.list<Node, DiscoveredWorkload>(res, { metadataOnly: true, selected: true, project: (w) => ({ kind, namespace: w.metadata?.namespace ?? '', name: w.metadata?.name ?? '' }) })),
    ]);
    const byName = (a: { name: string; namespace?: string }, b: { name: string; namespace?: string }) => `${a.namespace ?? ''}/${a.name}`.localeCompare(`${b.namespace ?? ''}/${b.name}`);
    return { nodes: nodes.sort(byName), workloads: lists.flat().sort((a, b) => a.kind.localeCompare(b.kind) || byName(a, b)) };
  },

  evaluate(d) {
    return new Report().done(`${plural(d.nodes.length, 'node')}, ${plural(d.workloads.length, 'workload')}`);
  },
});

/** The check and arguments that judge one object alone. */
export function checkFor(o: { kind: string; namespace?: string; name: string }): { check: string; args: string[] } {
  return o.kind === 'Node' ? { check: 'nodes', args: ['--name', o.name] } : { check: 'workloads', args: ['--name', `${o.namespace}/${o.name}`] };
}

export function discoverJson(d: Discovered): string {
  return JSON.stringify({
    nodes: d.nodes.map((n) => ({ ...n, ...checkFor({ kind: 'Node', name: n.name }) })),
    workloads: d.workloads.map((w) => ({ ...w, ...checkFor(w) })),
  }, null, 2) + '\n';
}

/**
 * Rows for a Director import source (fileshipper's JSON format: an array of
 * objects with scalar columns): `key` is unique, the rest become vars.
 */
export function discoverDirector(d: Discovered): string {
  const rows = [
    ...d.nodes.map((n) => ({ key: `Node/${n.name}`, kind: 'Node', namespace: '', name: n.name, roles: n.roles.join(','), k8s_nrpe_check: 'nodes', k8s_nrpe_name: n.name })),
    ...d.workloads.map((w) => ({ key: `${w.kind}/${w.namespace}/${w.name}`, kind: w.kind, namespace: w.namespace, name: w.name, roles: '', k8s_nrpe_check: checkFor(w).check, k8s_nrpe_name: `${w.namespace}/${w.name}` })),
  ];
  return JSON.stringify(rows, null, 2) + '\n';
}

/** An Icinga 2 string literal: the names are Kubernetes names, JSON's escapes are Icinga 2's. */
const str = (s: string) => JSON.stringify(s);

/** The workloads' namespace is `ns` there: `namespace` is a keyword of the Icinga 2 language. */
export function discoverIcinga2(d: Discovered, template: string): string {
  const dict = (entries: [string, Record<string, string | string[]>][]) => entries.length
    ? `{\n${entries.map(([k, v]) => `    ${str(k)} = { ${Object.entries(v).map(([f, x]) => `${f} = ${Array.isArray(x) ? `[ ${x.map(str).join(', ')} ]` : str(x)}`).join(', ')} }`).join('\n')}\n  }`
    : '{}';
  return [
    '/* Generated by k8s-nrpe discover --icinga2: the cluster\'s nodes and workloads.',
    ` * Import it on the cluster host (import "${template}"); the apply Service for rules in`,
    ' * contrib/icinga2/k8s-nrpe-discover.conf make a service per object. Regenerate, do not edit. */',
    `template Host ${str(template)} {`,
    `  vars.k8s_nrpe_nodes = ${dict(d.nodes.map((n) => [n.name, { roles: n.roles }]))}`,
    `  vars.k8s_nrpe_workloads = ${dict(d.workloads.map((w) => [`${w.kind}/${w.namespace}/${w.name}`, { kind: w.kind, ns: w.namespace, name: w.name }]))}`,
    '}',
    '',
  ].join('\n');
}

/** Run discover: its document on success, the status line (UNKNOWN, exit 3) otherwise. */
export async function runDiscover(argv: string[]): Promise<{ stdout: string; stderr: string; exitCode: State }> {
  const r = await runCheck(DISCOVER, argv);
  const g = r.gathered;
  // --help/--version name the subcommand, not a check_k8s_ link that does not exist.
  if (!r.outcome) return { ...r, stdout: r.stdout.replaceAll('check_k8s_discover', 'k8s-nrpe discover') };
  if (r.exitCode !== State.OK || !g || g.data === undefined) return r;
  const d = g.data as Discovered;
  const o = g.opts as unknown as CommonOptions & { icinga2: boolean; director: boolean; template: string };
  const stdout = o.icinga2 ? discoverIcinga2(d, o.template) : o.director ? discoverDirector(d) : discoverJson(d);
  return { stdout, stderr: r.stderr, exitCode: State.OK };
}
