// npm run contrib: write the NRPE commands and the monitoring-server side from
// the checks' own declarations (checks/*.ts, lib/plugin/args.ts), and the
// README's generated sections (scripts/man.mjs), and deploy/rbac.yaml (scripts/rbac.mjs):
//   nrpe.d/k8s-nrpe.cfg                    one command per check, from its `nrpe` declaration
//   contrib/icinga2/k8s-nrpe.conf          CheckCommands (every option) + NRPE apply rules
//   contrib/nagios/k8s-nrpe-commands.cfg   Nagios command, hostgroup and services via check_nrpe
// npm run build writes the same into dist/contrib/ (what the .deb ships), and
// test/integration/contrib.test.ts fails while the committed copies differ.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeRbac } from './rbac.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const CONTRIB_FILES = ['icinga2/k8s-nrpe.conf', 'nagios/k8s-nrpe-commands.cfg'];
const KUBECONFIG = '/etc/nagios/k8s-nrpe.kubeconfig';
// Options for a person at a terminal or a tool, not for a monitoring system.
const INTERACTIVE = new Set(['help', 'version', 'format']);
// The check every other API check depends on (docs/plugin-contract.md): when it is down, they say
// nothing new, so their notifications are suppressed.
const APISERVER = 'apiserver';
const pkgJson = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
// notes_url of every Service: the check's page in docs/checks/, else its README section, at the
// project's home (the one --help names for bugs).
const notesUrl = (home, name) => (fs.existsSync(path.join(root, 'docs/checks', `${name}.md`)) ? `${home}/blob/main/docs/checks/${name}.md` : `${home}#check_k8s_${name}`);

/**
 * The registered checks and the common options, read from the TypeScript
 * source (the same declarations --help renders): what contrib/, the man pages
 * (scripts/man.mjs) and the bash completion (scripts/completion.mjs) are made of.
 */
async function loadChecks() {
  const tmp = path.join(root, 'dist', `.contrib-${process.pid}-${Math.random().toString(36).slice(2)}.mjs`);
  fs.mkdirSync(path.dirname(tmp), { recursive: true });
  try {
    await build({
      stdin: {
        contents: `import { CHECKS } from './checks/index.ts';
import { COMMON_OPTIONS, allOptions } from './lib/plugin/args.ts';
import { BUGS, perfdataRows } from './lib/plugin/help.ts';
import { VERSION } from './lib/plugin/version.ts';
import { TRIAGE_HELP } from './cli/triage.ts';
import { DISCOVER } from './cli/discover.ts';
process.stdout.write(JSON.stringify({ version: VERSION, bugs: BUGS, triageHelp: TRIAGE_HELP, common: Object.keys(COMMON_OPTIONS),
  discover: { summary: DISCOVER.summary, description: DISCOVER.description, examples: DISCOVER.examples ?? [], options: Object.entries(allOptions(DISCOVER)).filter(([f]) => !(f in COMMON_OPTIONS)) },
  checks: CHECKS.map((c) => ({ name: c.name, title: c.title, scope: c.scope, optIn: c.optIn, nrpe: c.nrpe, summary: c.summary, description: c.description,
    thresholds: c.thresholds, options: allOptions(c), perfdata: perfdataRows(c, allOptions(c)), examples: c.examples })) }));`,
        resolveDir: root,
        loader: 'ts',
      },
      outfile: tmp,
      bundle: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      logLevel: 'error',
      define: { __K8S_NRPE_VERSION__: JSON.stringify(pkgJson.version) },
    });
    return JSON.parse(execFileSync(process.execPath, [tmp], { encoding: 'utf8' }));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * One option as every generator sees it, from its declaration (lib/plugin/options.ts):
 *   { flag, short?, kind: 'flag'|'count'|'value', value?: 'PLACEHOLDER', choices?, default?: string,
 *     describe, repeatable, negatable, files }
 * negatable: --no-<flag> means something (a flag that is on by default, as --help's --[no-]x, or
 * whose default depends on other options);
 * files: its value is a path (completion offers files).
 */
function normalizeOption(flag, o) {
  const kind = o.count ? 'count' : o.boolean ? 'flag' : 'value';
  const value = kind === 'value' ? o.placeholder ?? 'VALUE' : undefined;
  return {
    flag,
    short: o.alias,
    kind,
    value,
    choices: o.choices,
    default: o.default === undefined || o.default === false || o.count ? undefined : String(o.default),
    describe: o.describe ?? '',
    repeatable: Boolean(o.repeatable),
    // On by default, or on/off decided by other options (no declared default): --no-x says "off".
    negatable: kind === 'flag' && o.default !== false,
    files: /^(FILE|DIR|PATH)$/.test(value ?? ''),
  };
}

/** `k8s-nrpe triage --help`'s options ('-t, --timeout=SECONDS', '--json'), for the man page and completion. */
function triageOptions(help) {
  const block = help.slice(help.indexOf('\nOptions:'));
  const out = [];
  for (const m of block.matchAll(/^ (-[^\n]+)\n((?: {4}.*\n?)*)/gm)) {
    const describe = m[2].replace(/\s+/g, ' ').trim();
    let short;
    for (const f of m[1].split(/,\s+/)) {
      const fm = /^(?:-(\w)|--([a-z][a-z0-9-]*)(?:=(\S+))?)$/.exec(f.trim());
      if (!fm) continue;
      if (fm[1]) { short = fm[1]; continue; }
      out.push({ flag: fm[2], short, kind: fm[3] ? 'value' : 'flag', value: fm[3], describe, repeatable: false, negatable: false, files: fm[3] === 'FILE' });
      short = undefined;
    }
  }
  return out;
}

/** The paragraphs of `k8s-nrpe triage --help` between its Usage and its Options. */
function triageDescription(help) {
  const usage = help.indexOf('\nUsage:');
  const start = help.indexOf('\n\n', usage);
  return help.slice(start, help.indexOf('\nOptions:')).trim();
}

/** Where to report bugs and the project's home: --help's (lib/plugin/help.ts BUGS). */
export const homeOf = (bugs) => bugs.replace(/\/issues\/?$/, '');

/** The normalized model of every check (see normalizeOption); cached per process. */
let model;
export async function loadModel() {
  if (model) return model;
  const raw = await loadChecks();
  const common = new Set(raw.common);
  const first = raw.checks[0];
  const checks = raw.checks.map((c) => ({
    name: c.name,
    title: c.title,
    scope: c.scope,
    optIn: c.optIn,
    summary: c.summary,
    description: c.description ?? '',
    thresholds: c.thresholds,
    // Its own options (-w/-c first), then the common ones: the order of --help.
    options: Object.entries(c.options).filter(([f]) => !common.has(f)).map(([f, o]) => normalizeOption(f, o)),
    // { label, describe, uom, thresholds }: thresholds rendered from the metric's context (lib/plugin/context.ts).
    perfdata: c.perfdata,
    examples: c.examples ?? [],
    nrpe: c.nrpe,
  }));
  const commonOptions = first ? Object.entries(first.options).filter(([f]) => common.has(f)).map(([f, o]) => normalizeOption(f, o)) : [];
  for (const c of checks) c.nrpe = { ...c.nrpe, kubeconfig: c.nrpe.kubeconfig !== false, options: nrpeOptions(c, commonOptions) };
  model = {
    version: raw.version,
    bugs: raw.bugs,
    common: commonOptions,
    checks,
    triage: { help: raw.triageHelp, description: triageDescription(raw.triageHelp), options: triageOptions(raw.triageHelp) },
    /** `k8s-nrpe discover` (docs/discover.md), declared like a check: its own options, normalized as a check's. */
    discover: { ...raw.discover, options: raw.discover.options.map(([f, o]) => normalizeOption(f, o)) },
  };
  return model;
}

/**
 * A check's declared NRPE arguments (spec.nrpe.args) as options and values:
 * [{ option, common, value }], value true for a flag, false for --no-flag, the
 * text for an option with a value (which the declaration must give). Both
 * nrpe.d/k8s-nrpe.cfg and the agent-mode defaults of contrib/icinga2 come from this.
 */
function nrpeOptions(c, common) {
  const tokens = c.nrpe.args.trim().split(/\s+/).filter(Boolean);
  const out = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const find = (pred) => {
      const own = c.options.find(pred);
      if (own) return { option: own, common: false };
      const com = common.find(pred);
      return com && { option: com, common: true };
    };
    const neg = /^--no-(.+)$/.exec(t);
    const hit = neg ? find((o) => o.flag === neg[1] && o.kind === 'flag') : find((o) => (t.startsWith('--') ? o.flag === t.slice(2) : o.short === t.slice(1)));
    if (!hit || !t.startsWith('-')) throw new Error(`${c.name}: nrpe.args '${c.nrpe.args}': '${t}' is not an option of the check`);
    if (hit.option.kind === 'value') {
      const v = tokens[i + 1];
      if (v === undefined || v.startsWith('-')) throw new Error(`${c.name}: nrpe.args: ${t} needs its value written out`);
      out.push({ ...hit, value: v });
      i++;
    } else if (hit.option.kind === 'flag') out.push({ ...hit, value: !neg });
    else throw new Error(`${c.name}: nrpe.args: ${t} (-v) does not belong in a monitoring command`);
  }
  return out;
}

/** The plugin's -t as the NRPE command gives it (the check's default otherwise). */
const nrpeTimeout = (c, common) => Number(c.nrpe.options.find((a) => a.option.flag === 'timeout')?.value ?? common.find((o) => o.flag === 'timeout')?.default ?? 10);

/** The Icinga 2 custom variable of an option: vars.k8s_nrpe_<flag> for the common ones, vars.k8s_<check>_<flag> else. */
const varOf = (c, a) => `${a.common ? 'k8s_nrpe_' : `k8s_${c.name}_`}${under(a.option.flag)}`;

const NRPE_HEADER = [
  '# k8s-nrpe: NRPE command definitions. Installed as /etc/nagios/nrpe.d/k8s-nrpe.cfg.',
  "# Generated by `npm run contrib` from each check's `nrpe` declaration (checks/*.ts), which",
  '# also gives the Icinga 2 agent-mode defaults in contrib/: the two run the same arguments.',
  '# No $ARGn$: thresholds live here, so a monitoring request can never become',
  '# an option (set dont_blame_nrpe=0). Edit the thresholds here per node.',
  '# NRPE passes plugins no environment: every command that reads the API names its',
  '# kubeconfig (deploy/make-kubeconfig.sh writes a read-only one for the nagios user).',
];

/** nrpe.d/k8s-nrpe.cfg, from the declarations: one commented command per check. */
export function nrpeConf(model) {
  const parts = [NRPE_HEADER.join('\n')];
  for (const c of model.checks) {
    const args = [...(c.nrpe.kubeconfig ? ['--kubeconfig', KUBECONFIG] : []), c.nrpe.args.trim()].filter(Boolean).join(' ');
    // An opt-in check (it writes to the cluster) ships commented out: the operator enables it per node.
    const command = `command[check_k8s_${c.name}]=/usr/lib/nagios/plugins/check_k8s_${c.name} ${args}`;
    parts.push([...c.nrpe.about.split('\n').map((l) => `# ${l}`), ...(c.optIn ? ['# Opt-in: uncomment the next line to enable it.', `# ${command}`] : [command])].join('\n'));
  }
  return `${parts.join('\n\n')}\n`;
}

const under = (s) => s.replace(/-/g, '_');
const str = (s) => `"${String(s).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\s+/g, ' ').trim()}"`;

function describe(o) {
  let d = o.describe ?? '';
  if (o.choices) d += ` (one of ${o.choices.join(', ')})`;
  if (o.default !== undefined) d += ` (default ${o.default})`;
  return d;
}

const entry = (key, spec, d) => `    "${key}" = {\n${spec.map((l) => `      ${l}\n`).join('')}      description = ${str(d)}\n    }`;

/**
 * Icinga 2 arguments for one option, bound to one custom variable each, as the ITL does:
 * a value; a repeated key for a repeatable option; a flag set_if the variable is true; and for a
 * negatable option ONE boolean that gives --x when true, --no-x when false and neither when unset
 * (the check's own default). -v is k8s_nrpe_verbose_level (1-3), as the ITL's *_verbose_level.
 */
function argument(o, prefix) {
  const v = `${prefix}${under(o.flag)}`;
  if (o.kind === 'count') {
    return [1, 2, 3].map((n) => entry(`-${'v'.repeat(n)}`, [`set_if = {{ macro("$${prefix}${under(o.flag)}_level$") == ${n} }}`],
      n === 1 ? `${o.describe} (${prefix}${under(o.flag)}_level: 1, 2 or 3; default none)` : `Verbosity level ${n}`)).join('\n');
  }
  if (o.kind === 'flag' && o.negatable) {
    return [
      entry(`--${o.flag}`, [`set_if = {{ macro("$${v}$") == true }}`], `${o.describe} (${v}: true gives --${o.flag}, false --no-${o.flag}, unset the check's default)`),
      entry(`--no-${o.flag}`, [`set_if = {{ macro("$${v}$") == false }}`], `Turn off: ${o.describe}`),
    ].join('\n');
  }
  if (o.kind === 'flag') return entry(`--${o.flag}`, [`set_if = "$${v}$"`], describe(o));
  if (o.repeatable) return entry(`--${o.flag}`, [`value = "$${v}$"`, 'repeat_key = true'], `${describe(o)} (an array: one --${o.flag} per element)`);
  return entry(`--${o.flag}`, [`value = "$${v}$"`], describe(o));
}

const WHERE = {
  node: 'host.vars.k8s_nrpe == true',
  cluster: 'host.vars.k8s_nrpe_cluster == true',
};

/** A value as an Icinga 2 literal: booleans bare, the rest as strings. */
const literal = (v) => (typeof v === 'boolean' ? String(v) : str(v));

/** An opt-in check (it writes to the cluster) goes only where a host asks for it by name. */
const optInVar = (c) => `host.vars.k8s_nrpe_${c.name} == true`;
const optInGroup = (c) => `k8s-${c.name}`;

function icinga(model) {
  const common = model.common.filter((o) => !INTERACTIVE.has(o.flag)).map((o) => argument(o, 'k8s_nrpe_'));
  const names = model.checks.map((c) => c.name);
  const hasApiserver = names.includes(APISERVER);
  const lines = [
    '/* k8s-nrpe: Icinga 2 definitions. Generated by `npm run contrib` from the',
    ' * checks\' declarations (checks/*.ts): edit those, not this file.',
    ' * Needs the ITL (include <itl>, include <plugins>, include <plugins-contrib>):',
    ' * the plugins are in PluginContribDir (/usr/lib/nagios/plugins on Debian).',
    ' *',
    ' * Each check has a scope. A node check judges the host it runs on: it goes on',
    ' * every Kubernetes node. A cluster check gives the same answer everywhere: it',
    ' * goes on ONE host per cluster, so that one problem is one alert.',
    ' *',
    ' * On the Host objects:',
    ' *   vars.k8s_nrpe = true           a Kubernetes node with the k8s-nrpe .deb:',
    ` *                                  gets the node checks (${model.checks.filter((c) => c.scope === 'node').map((c) => c.name).join(', ')})`,
    ' *   vars.k8s_nrpe_cluster = true   the one host that runs the cluster checks:',
    ' *                                  a designated node, or a virtual host such as',
    ' *                                  "k8s-cluster" whose address is a node (NRPE)',
    ' *   vars.k8s_nrpe_agent = true     run the checks through the Icinga 2 agent',
    ' *                                  (command_endpoint) instead of NRPE; on a',
    ' *                                  virtual host, vars.k8s_nrpe_endpoint names',
    ' *                                  the node\'s Endpoint',
    ...(hasApiserver ? [
      ' *   vars.k8s_nrpe_cluster_host     on the nodes: the name of the cluster host,',
      ' *                                  so that their API checks depend on its',
      ` *                                  k8s_${APISERVER} Service (see the Dependency at the end)`,
    ] : []),
    ...model.checks.filter((c) => c.optIn).flatMap((c) => [
      ` *   vars.k8s_nrpe_${c.name} = true   opt in to k8s_${c.name}: ${c.optIn}`,
    ]),
    ' * Options are custom variables: vars.k8s_<check>_<option> (dashes as',
    ' * underscores), vars.k8s_nrpe_verbose_level = 1..3 for -v/-vv/-vvv. Through',
    ' * NRPE the options are the ones in /etc/nagios/nrpe.d/k8s-nrpe.cfg on the node;',
    ' * through the agent each CheckCommand carries the same ones as its defaults',
    ' * (both come from the check\'s nrpe declaration).',
    ' */',
    '',
    'template CheckCommand "k8s-nrpe-common" {',
    '  arguments = {',
    common.join('\n'),
    '  }',
    '}',
  ];
  for (const c of model.checks) {
    const args = c.options.map((o) => argument(o, `k8s_${c.name}_`));
    lines.push(
      '',
      `/* ${c.summary.replace(/\*\//g, '* /')} (scope: ${c.scope}) */`,
      `object CheckCommand "k8s_${c.name}" {`,
      '  import "k8s-nrpe-common"',
      `  command = [ PluginContribDir + "/check_k8s_${c.name}" ]`,
      ...(args.length ? ['  arguments += {', args.join('\n'), '  }'] : []),
      '  /* The arguments of its NRPE command (its nrpe declaration): agent mode runs the same; override per host or service. */',
      `  timeout = ${nrpeTimeout(c, model.common) + 10}`,
      ...(c.nrpe.kubeconfig ? [`  vars.k8s_nrpe_kubeconfig = ${str(KUBECONFIG)}`] : []),
      ...c.nrpe.options.map((a) => `  vars.${varOf(c, a)} = ${literal(a.value)}`),
      '}',
    );
  }
  lines.push('', '/* One Service per check on the hosts of its scope, through NRPE or the agent. */');
  for (const c of model.checks) {
    const command = `check_k8s_${c.name}`;
    lines.push(
      '',
      `apply Service "k8s_${c.name}" {`,
      '  if (host.vars.k8s_nrpe_agent == true) {',
      `    check_command = "k8s_${c.name}"`,
      '    command_endpoint = host.vars.k8s_nrpe_endpoint || host.name',
      '  } else {',
      '    check_command = "nrpe"',
      `    vars.nrpe_command = "${command}"`,
      `    /* longer than the plugin's own -t in its NRPE command, so the plugin reports its timeout */`,
      `    vars.nrpe_timeout = ${nrpeTimeout(c, model.common) + 10}`,
      '  }',
      `  vars.k8s_nrpe_scope = "${c.scope}"`,
      `  vars.k8s_nrpe_reads_api = ${c.nrpe.kubeconfig && c.name !== APISERVER}`,
      `  notes_url = "${notesUrl(homeOf(model.bugs), c.name)}"`,
      '  check_interval = 1m',
      '  retry_interval = 30s',
      `  assign where ${c.optIn ? optInVar(c) : WHERE[c.scope] ?? WHERE.cluster}`,
      '}',
    );
  }
  if (hasApiserver) {
    lines.push(
      '',
      `/* Every check that reads the API depends on k8s_${APISERVER} of the cluster host: while the`,
      ' * API server is down they have nothing new to say, and only it notifies. */',
      `apply Dependency "k8s-${APISERVER}" to Service {`,
      '  parent_host_name = host.vars.k8s_nrpe_cluster_host || host.name',
      `  parent_service_name = "k8s_${APISERVER}"`,
      '  states = [ OK, Warning ]',
      '  disable_notifications = true',
      '  assign where service.vars.k8s_nrpe_reads_api == true && (host.vars.k8s_nrpe_cluster == true || host.vars.k8s_nrpe_cluster_host)',
      '}',
    );
  }
  return `${lines.join('\n')}\n`;
}

function nagios(model) {
  const pad = (k) => `    ${k.padEnd(32)}`;
  const block = (kind, fields) => [`define ${kind} {`, ...fields.map(([k, v]) => `${pad(k)}${v}`), '}'].join('\n');
  const group = { node: 'k8s-nodes', cluster: 'k8s-cluster' };
  const hasApiserver = model.checks.some((c) => c.name === APISERVER);
  const parts = [
    [
      '# k8s-nrpe: Nagios object definitions for the monitoring server. Generated by',
      '# `npm run contrib` from the checks\' declarations (checks/*.ts): edit those,',
      '# not this file.',
      '#',
      '# Node checks judge the host they run on: put every Kubernetes node with the',
      '# k8s-nrpe .deb and NRPE in hostgroup k8s-nodes. Cluster checks give the same',
      '# answer on every node: put ONE host per cluster in hostgroup k8s-cluster (a',
      '# designated node, or a virtual host whose address is a node), so that one',
      '# problem is one alert.',
      '# $ARG1$ is the NRPE command name; $ARG2$ the check_nrpe timeout, longer than',
      "# the plugin's own -t so the plugin, not check_nrpe, reports a slow API server.",
      '# notes_url: the check\'s documentation (also man check_k8s_<name>).',
    ].join('\n'),
    block('command', [['command_name', 'check_k8s_nrpe'], ['command_line', '$USER1$/check_nrpe -H $HOSTADDRESS$ -t $ARG2$ -c $ARG1$']]),
    block('hostgroup', [['hostgroup_name', 'k8s-nodes'], ['alias', 'Kubernetes nodes with k8s-nrpe (node checks)']]),
    block('hostgroup', [['hostgroup_name', 'k8s-cluster'], ['alias', 'One host per Kubernetes cluster (cluster checks)']]),
    block('service', [['name', 'k8s-nrpe-service'], ['use', 'generic-service'], ['register', '0']]),
    ...model.checks.filter((c) => c.optIn).map((c) => `# Opt-in: ${c.optIn}\n${block('hostgroup', [['hostgroup_name', optInGroup(c)], ['alias', `Hosts that run k8s_${c.name} (opt-in)`]])}`),
  ];
  for (const c of model.checks) {
    const command = `check_k8s_${c.name}`;
    parts.push(`# ${c.summary} (scope: ${c.scope})\n${block('service', [
      ['use', 'k8s-nrpe-service'],
      ['hostgroup_name', c.optIn ? optInGroup(c) : group[c.scope] ?? group.cluster],
      ['service_description', `k8s_${c.name}`],
      ['check_command', `check_k8s_nrpe!${command}!${nrpeTimeout(c, model.common) + 10}`],
      ['notes_url', notesUrl(homeOf(model.bugs), c.name)],
    ])}`);
  }
  if (hasApiserver) {
    const readers = (scope) => model.checks.filter((c) => c.scope === scope && !c.optIn && c.name !== APISERVER && c.nrpe.kubeconfig);
    parts.push(`# While the API server is down the checks that read it have nothing new to say: only
# k8s_${APISERVER} notifies. (With more than one cluster, one dependency per cluster host.)`);
    for (const scope of ['cluster', 'node']) {
      const deps = readers(scope);
      if (!deps.length) continue;
      parts.push(block('servicedependency', [
        ['hostgroup_name', 'k8s-cluster'],
        ['service_description', `k8s_${APISERVER}`],
        ['dependent_hostgroup_name', group[scope]],
        ['dependent_service_description', deps.map((c) => `k8s_${c.name}`).join(',')],
        ['execution_failure_criteria', 'n'],
        ['notification_failure_criteria', 'c,u'],
      ]));
    }
  }
  return `${parts.join('\n\n')}\n`;
}

/** Write both files into outDir (contrib/ or dist/contrib/); returns their paths. */
export async function writeContrib(outDir) {
  const model = await loadModel();
  const texts = [icinga(model), nagios(model)];
  return CONTRIB_FILES.map((rel, i) => {
    const file = path.join(outDir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, texts[i]);
    fs.renameSync(tmp, file);
    return file;
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const f of await writeContrib(path.join(root, 'contrib'))) console.log(`wrote ${path.relative(root, f)}`);
  fs.writeFileSync(path.join(root, 'nrpe.d/k8s-nrpe.cfg'), nrpeConf(await loadModel()));
  console.log('wrote nrpe.d/k8s-nrpe.cfg');
  // deploy/rbac.yaml from the registry of what the checks read (lib/kube/resources.ts).
  console.log(`wrote ${path.relative(root, await writeRbac())}`);
  // The README's checks reference comes from the same declarations (a process of its own:
  // man.mjs imports this module, which is still evaluating here).
  process.stdout.write(execFileSync(process.execPath, [path.join(root, 'scripts/man.mjs'), '--readme'], { encoding: 'utf8' }));
}
