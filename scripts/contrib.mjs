// npm run contrib: write the monitoring-server side from the checks' own
// option tables (checks/*.ts, lib/plugin/args.ts) and nrpe.d/k8s-nrpe.cfg:
//   contrib/icinga2/k8s-nrpe.conf          CheckCommands (every option) + NRPE apply rules
//   contrib/nagios/k8s-nrpe-commands.cfg   Nagios command, hostgroup and services via check_nrpe
// npm run build writes the same into dist/contrib/ (what the .deb ships), and
// test/integration/contrib.test.ts fails while the committed copies differ.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const CONTRIB_FILES = ['icinga2/k8s-nrpe.conf', 'nagios/k8s-nrpe-commands.cfg'];
const KUBECONFIG = '/etc/nagios/k8s-nrpe.kubeconfig';
// Options for a person at a terminal, not for a monitoring system.
const INTERACTIVE = new Set(['help', 'version']);

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
import { COMMON_OPTIONS } from './lib/plugin/args.ts';
import { VERSION } from './lib/plugin/version.ts';
process.stdout.write(JSON.stringify({ version: VERSION, common: COMMON_OPTIONS,
  checks: CHECKS.map(({ name, title, scope, summary, description, thresholds, options, perfdata, examples }) =>
    ({ name, title, scope, summary, description, thresholds, options, perfdata, examples })) }));`,
        resolveDir: root,
        loader: 'ts',
      },
      outfile: tmp,
      bundle: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      logLevel: 'error',
      define: { __K8S_NRPE_VERSION__: JSON.stringify(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version) },
    });
    return JSON.parse(execFileSync(process.execPath, [tmp], { encoding: 'utf8' }));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * One option as every generator sees it:
 *   { flag, short?, kind: 'flag'|'count'|'value', value?: 'METAVAR', choices?, default?: string,
 *     describe, repeatable, negatable, files }
 * negatable: --no-<flag> exists and means something (the option is on by default, or its
 * default depends on other options); files: its value is a path (completion offers files).
 */
function normalizeOption(flag, o) {
  const kind = o.type === 'boolean' ? 'flag' : o.type === 'count' ? 'count' : 'value';
  const short = [o.alias ?? []].flat().find((a) => a.length === 1);
  const files = /(^|-)(kubeconfig|dir|directory|file|path)$/.test(flag);
  const value = kind !== 'value' ? undefined
    : o.choices ? o.choices.join('|')
      : files ? (flag.endsWith('directory') || flag.endsWith('dir') ? 'DIR' : 'FILE')
        : flag.toUpperCase().replace(/-/g, '_');
  return {
    flag,
    short,
    kind,
    value,
    choices: o.choices,
    default: o.default === undefined || o.default === false ? undefined : String(o.default),
    describe: o.describe ?? '',
    repeatable: Boolean(o.array),
    negatable: kind === 'flag' && o.default !== false && !['help', 'version'].includes(flag),
    files,
  };
}

/** The normalized model of every check (see normalizeOption); cached per process. */
let model;
export async function loadModel() {
  if (model) return model;
  const raw = await loadChecks();
  const common = Object.entries(raw.common).map(([f, o]) => normalizeOption(f, o));
  const checks = raw.checks.map((c) => {
    const options = [];
    if (c.thresholds) {
      for (const t of ['warning', 'critical']) {
        options.push({ ...normalizeOption(t, { alias: t[0], type: 'string', default: c.thresholds[t], describe: `${t === 'warning' ? 'Warning' : 'Critical'} range: ${c.thresholds.describe}` }), value: 'RANGE' });
      }
    }
    for (const [f, o] of Object.entries(c.options ?? {})) options.push(normalizeOption(f, o));
    const first = (c.description ?? '').split('\n')[0].replace(/^(.+?\.)\s.*$/, '$1');
    return {
      name: c.name,
      title: c.title,
      scope: c.scope ?? 'cluster',
      summary: c.summary ?? first.replace(/\.$/, ''),
      description: c.description ?? '',
      thresholds: c.thresholds,
      options,
      perfdata: Object.entries(c.perfdata ?? {}).map(([label, p]) => ({ label, ...p })),
      examples: c.examples ?? [],
    };
  });
  model = { version: raw.version, common, checks, raw };
  return model;
}

/** command name -> its -t seconds, from the NRPE config the .deb installs. */
function nrpeTimeouts() {
  const out = new Map();
  for (const line of fs.readFileSync(path.join(root, 'nrpe.d/k8s-nrpe.cfg'), 'utf8').split('\n')) {
    const m = /^command\[([A-Za-z0-9_]+)\]=(.*)$/.exec(line);
    if (!m) continue;
    const t = /\s(?:-t|--timeout)[ =](\d+)s?\b/.exec(m[2]);
    out.set(m[1], t ? Number(t[1]) : 10);
  }
  return out;
}

const under = (s) => s.replace(/-/g, '_');
const str = (s) => `"${String(s).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\s+/g, ' ').trim()}"`;

/** The first sentence of a check's description, for a one-line comment. */
const summary = (d) => d.split('\n')[0].replace(/^(.+?\.)\s.*$/, '$1');

function describe(opt) {
  let d = opt.describe ?? '';
  if (opt.choices) d += ` (one of ${opt.choices.join(', ')})`;
  if (opt.default !== undefined) d += ` (default ${opt.default})`;
  if (opt.type === 'count') d += ' (set: once)';
  return d;
}

/**
 * Icinga 2 arguments for one option, each bound to a custom variable: a flag
 * (and its --no- form when the default is not off), a value, or a repeated
 * key for an array.
 */
function argument(flag, prefix, opt) {
  const variable = `${prefix}${under(flag)}`;
  const entry = (key, spec, d) => `    "--${key}" = {\n${spec.map((l) => `      ${l}\n`).join('')}      description = ${str(d)}\n    }`;
  if (opt.type === 'boolean' || opt.type === 'count') {
    const on = entry(flag, [`set_if = "$${variable}$"`], describe(opt));
    if (opt.type === 'count' || opt.default === false) return on;
    return `${on}\n${entry(`no-${flag}`, [`set_if = "$${prefix}no_${under(flag)}$"`], `Turn off: ${opt.describe ?? flag}`)}`;
  }
  if (opt.array) return entry(flag, [`value = "$${variable}$"`, 'repeat_key = true'], `${describe(opt)} (an array: one --${flag} per element)`);
  return entry(flag, [`value = "$${variable}$"`], describe(opt));
}


function icinga({ common, checks }, timeouts) {
  const commonArgs = Object.entries(common)
    .filter(([flag]) => !INTERACTIVE.has(flag))
    .map(([flag, opt]) => argument(flag, 'k8s_nrpe_', opt));
  const lines = [
    '/* k8s-nrpe: Icinga 2 definitions. Generated by `npm run contrib` from the',
    ' * checks\' option tables: edit those, not this file.',
    ' *',
    ' * Two ways to run the checks on a Kubernetes node:',
    ' * 1. Through NRPE (the .deb installs /etc/nagios/nrpe.d/k8s-nrpe.cfg): set',
    ' *    vars.k8s_nrpe = true on the node\'s Host object; the apply rules at the',
    ' *    end add one Service per check using the ITL "nrpe" CheckCommand.',
    ' * 2. Through an Icinga 2 agent on the node: use the CheckCommands below with',
    ' *    command_endpoint = host.name. Unset variables leave the option out, so',
    ' *    the check\'s own default applies.',
    ' * Needs the ITL (include <itl>, include <plugins>) and PluginDir.',
    ' */',
    '',
    'template CheckCommand "k8s-nrpe-common" {',
    '  arguments = {',
    commonArgs.join('\n'),
    '  }',
    `  vars.k8s_nrpe_kubeconfig = ${str(KUBECONFIG)}`,
    '}',
  ];
  for (const c of checks) {
    const args = [];
    if (c.thresholds) {
      for (const t of ['warning', 'critical']) {
        args.push(argument(t, `k8s_${c.name}_`, { type: 'string', describe: `${t === 'warning' ? 'Warning' : 'Critical'} range: ${c.thresholds.describe}`, default: c.thresholds[t] }));
      }
    }
    for (const [flag, opt] of Object.entries(c.options ?? {})) args.push(argument(flag, `k8s_${c.name}_`, opt));
    lines.push(
      '',
      `/* ${summary(c.description).replace(/\*\//g, '* /')} */`,
      `object CheckCommand "k8s_${c.name}" {`,
      '  import "k8s-nrpe-common"',
      `  command = [ PluginDir + "/check_k8s_${c.name}" ]`,
      ...(args.length ? ['  arguments += {', args.join('\n'), '  }'] : []),
      '}',
    );
  }
  lines.push('', '/* Through NRPE: one Service per check on every Host with vars.k8s_nrpe = true. */');
  for (const c of checks) {
    const command = `check_k8s_${c.name}`;
    lines.push(
      '',
      `apply Service "k8s_${c.name}" {`,
      '  check_command = "nrpe"',
      `  vars.nrpe_command = "${command}"`,
      `  /* longer than the plugin's own -t in nrpe.d/k8s-nrpe.cfg, so the plugin reports its timeout */`,
      `  vars.nrpe_timeout = ${(timeouts.get(command) ?? 10) + 10}`,
      '  check_interval = 1m',
      '  retry_interval = 30s',
      '  assign where host.vars.k8s_nrpe == true',
      '}',
    );
  }
  return `${lines.join('\n')}\n`;
}

function nagios({ checks }, timeouts) {
  const pad = (k) => `    ${k.padEnd(24)}`;
  const block = (kind, fields) => [`define ${kind} {`, ...fields.map(([k, v]) => `${pad(k)}${v}`), '}'].join('\n');
  const parts = [
    [
      '# k8s-nrpe: Nagios object definitions for the monitoring server. Generated by',
      '# `npm run contrib` from the checks and nrpe.d/k8s-nrpe.cfg: edit those, not this file.',
      '#',
      '# Put each Kubernetes node with the k8s-nrpe .deb and NRPE in hostgroup k8s-nodes.',
      '# $ARG1$ is the NRPE command name; $ARG2$ the check_nrpe timeout, longer than',
      "# the plugin's own -t so the plugin, not check_nrpe, reports a slow API server.",
    ].join('\n'),
    block('command', [['command_name', 'check_k8s_nrpe'], ['command_line', '$USER1$/check_nrpe -H $HOSTADDRESS$ -t $ARG2$ -c $ARG1$']]),
    block('hostgroup', [['hostgroup_name', 'k8s-nodes'], ['alias', 'Kubernetes nodes with k8s-nrpe']]),
    block('service', [['name', 'k8s-nrpe-service'], ['use', 'generic-service'], ['hostgroup_name', 'k8s-nodes'], ['register', '0']]),
  ];
  for (const c of checks) {
    const command = `check_k8s_${c.name}`;
    parts.push(`# ${summary(c.description)}\n${block('service', [
      ['use', 'k8s-nrpe-service'],
      ['service_description', `k8s_${c.name}`],
      ['check_command', `check_k8s_nrpe!${command}!${(timeouts.get(command) ?? 10) + 10}`],
    ])}`);
  }
  return `${parts.join('\n\n')}\n`;
}

/** Write both files into outDir (contrib/ or dist/contrib/); returns their paths. */
export async function writeContrib(outDir) {
  const data = await loadChecks();
  const timeouts = nrpeTimeouts();
  const texts = [icinga(data, timeouts), nagios(data, timeouts)];
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
}
