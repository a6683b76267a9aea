// Man pages from the checks' own declarations (the ones --help renders, read
// through scripts/contrib.mjs loadModel), so the two cannot drift:
//   dist/man/k8s-nrpe.1             the multi-call binary, its checks, triage
//   dist/man/check_k8s_<name>.1     one per check: options, perfdata, exit states
// npm run package ships them gzipped in /usr/share/man/man1.
//
//   node scripts/man.mjs [OUTDIR]      (default dist/man)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { homeOf, loadModel } from './contrib.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const DOC = '/usr/share/doc/k8s-nrpe';

/**
 * The name a file of the repository (README.md, docs/...) is shipped under in
 * /usr/share/doc/k8s-nrpe: Debian Policy 12.3 compresses documentation above
 * 4 KiB (as dh_compress does); JSON stays plain so tools can read the schema.
 * scripts/package.mjs ships them so; the man pages cite them so.
 */
export function shippedDoc(rel) {
  const size = fs.statSync(path.join(root, rel)).size;
  return `${rel.replace(/^docs\//, '')}${size > 4096 && !rel.endsWith('.json') ? '.gz' : ''}`;
}

/** Text for roff: backslashes and hyphens escaped, no line starting with a control character. */
const esc = (s) => String(s)
  .replace(/\\/g, '\\e')
  .replace(/-/g, '\\-')
  .replace(/^([.'])/gm, '\\&$1');

/** Paragraphs (blank-line separated, as the declarations write them) as .PP blocks. */
const paragraphs = (text) => String(text).split(/\n\s*\n/).map((p) => p.replace(/\s+/g, ' ').trim()).filter(Boolean)
  .map((p) => `.PP\n${esc(p)}`).join('\n');

/** The date of the last commit (or SOURCE_DATE_EPOCH): the same sources give the same page. */
function pageDate() {
  let epoch = Number(process.env.SOURCE_DATE_EPOCH);
  if (!epoch) {
    try {
      epoch = Number(execFileSync('git', ['-C', root, 'log', '-1', '--format=%ct'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    } catch { /* not a git checkout */ }
  }
  return new Date((epoch || Date.now() / 1000) * 1000).toISOString().slice(0, 10);
}

/** '\fB\-w\fR, \fB\-\-warning\fR=\fIRANGE\fR' */
function optionHead(o) {
  const names = [o.short && `\\fB\\-${esc(o.short)}\\fR`, `\\fB\\-\\-${esc(o.flag)}\\fR`].filter(Boolean).join(', ');
  const value = o.kind === 'value' ? `=\\fI${esc(o.value)}\\fR` : '';
  const neg = o.negatable ? `, \\fB\\-\\-no\\-${esc(o.flag)}\\fR` : '';
  return `${names}${value}${neg}`;
}

function optionBody(o) {
  const notes = [];
  if (o.kind === 'flag') { if (o.default === 'true') notes.push('On by default.'); } else if (o.default !== undefined) notes.push(`Default: ${o.default}.`);
  if (o.repeatable) notes.push('Repeatable.');
  if (o.kind === 'count') notes.push(`Repeat for more (-${o.short}${o.short}).`);
  const d = o.describe.trim();
  return [esc(d.endsWith('.') || !d ? d : `${d}.`), ...notes.map(esc)].filter(Boolean).join(' ');
}

const options = (list) => list.map((o) => `.TP\n${optionHead(o)}\n${optionBody(o)}`).join('\n');

const RANGES = [
  'Thresholds (\\-w, \\-c and every option that takes a RANGE) use the Monitoring Plugins range syntax;',
  'an alert is raised when the value is:',
  '.TP\n.B 10\noutside 0..10',
  '.TP\n.B 10:\nbelow 10',
  '.TP\n.B ~:10\nabove 10',
  '.TP\n.B 10:20\noutside 10..20',
  '.TP\n.B @10:20\ninside 10..20',
  '.PP\nAn empty range (\\-w \'\') is a usage error. Durations: 90, 90s, 5m, 1h30m.',
].join('\n');

const EXIT = [
  '.TP\n.B 0\nOK',
  '.TP\n.B 1\nWARNING',
  '.TP\n.B 2\nCRITICAL',
  '.TP\n.B 3\nUNKNOWN: the check could not judge (API unreachable or forbidden, a timeout, a bad option);',
  'also after \\-\\-help and \\-\\-version, as every Monitoring Plugin does.',
].join('\n');

function examples(list, name) {
  return list.map(([cmd, text]) => `.PP\n${esc(text)}:\n.RS\n.nf\n${esc(cmd.replace(/\$0/g, name))}\n.fi\n.RE`).join('\n');
}

function perfdata(check) {
  if (!check.perfdata.length) return '';
  const rows = check.perfdata.map((p) => {
    const facts = [p.uom && `Unit: ${p.uom}.`, p.thresholds && `Thresholds: ${p.thresholds}.`].filter(Boolean).join(' ');
    const d = (p.describe ?? '').trim();
    return `.TP\n.B ${esc(p.label)}\n${esc(d && !/[.!?]$/.test(d) ? `${d}.` : d)}${facts ? ` ${esc(facts)}` : ''}`;
  });
  return ['.SH PERFORMANCE DATA', 'After the \'|\' of the first line, in this order where they apply:', ...rows].join('\n');
}

const SCOPE = {
  cluster: 'Scope: cluster. The answer is the same on every node: monitor it on one host (see the contrib definitions in /usr/share/doc/k8s\\-nrpe/examples).',
  node: 'Scope: node. It judges the host it runs on: monitor it on every node.',
};

function footer(see, model) {
  return [
    '.SH FILES',
    '.TP\n.I /etc/nagios/nrpe.d/k8s\\-nrpe.cfg\nThe NRPE commands and their thresholds (a conffile).',
    '.TP\n.I /etc/nagios/k8s\\-nrpe.kubeconfig\nThe read\\-only kubeconfig of the nagios user (/usr/share/k8s\\-nrpe/make\\-kubeconfig.sh writes it).',
    '.SH SEE ALSO',
    see.map((s, i) => `.BR ${esc(s)} (1)${i < see.length - 1 ? ',' : ''}`).join('\n'),
    '.PP',
    ['README.md', 'docs/plugin-contract.md', 'docs/json.md', 'docs/rolling-reboot.md'].map((f) => `.I ${esc(`${DOC}/${shippedDoc(f)}`)}`).join('\n.br\n'),
    '.SH REPORTING BUGS',
    `${esc(model.bugs)} (home page: ${esc(homeOf(model.bugs))}). Please give the output of the check with \\-vvv.`,
    '',
  ].join('\n');
}

/** The page of one check. */
export function checkPage(check, model, date = pageDate()) {
  const name = `check_k8s_${check.name}`;
  const checkOpts = check.options;
  const common = model.common;
  return [
    `.TH ${name.toUpperCase().replace(/-/g, '\\-')} 1 "${date}" "k8s\\-nrpe ${esc(model.version)}" "k8s\\-nrpe"`,
    // Ragged right, no hyphenation: option and file names stay whole.
    '.ad l\n.nh',
    '.SH NAME',
    `${esc(name)} \\- ${esc(check.summary)}`,
    '.SH SYNOPSIS',
    `.B ${esc(name)}`,
    `[\\fIOPTION\\fR]...`,
    '.br',
    `.B k8s\\-nrpe ${esc(check.name)}`,
    `[\\fIOPTION\\fR]...`,
    '.SH DESCRIPTION',
    paragraphs(check.description),
    `.PP\n${SCOPE[check.scope] ?? ''}`,
    '.SH OPTIONS',
    checkOpts.length ? options(checkOpts) : '.PP\nNo options of its own.',
    '.SS Common options',
    options(common),
    '.SH THRESHOLDS',
    RANGES,
    perfdata(check),
    '.SH EXIT STATUS',
    EXIT,
    '.SH WHAT TO DO',
    'The first long\\-output line of every WARNING, CRITICAL or UNKNOWN result says what to do next, with the node, pod or',
    'command filled in ("What to do: ...";',
    '.B actions',
    'in \\-\\-format json).',
    ...(fs.existsSync(path.join(root, 'docs/checks', `${check.name}.md`))
      ? ['What to do for each verdict, and when the check can be wrong, is in', `.I ${esc(`${DOC}/${shippedDoc(`docs/checks/${check.name}.md`)}`)}`] : []),
    ...(check.examples.length ? ['.SH EXAMPLES', examples(check.examples, name)] : []),
    footer(['k8s-nrpe'], model),
  ].filter(Boolean).join('\n');
}

/** A subcommand's section of k8s-nrpe(1): its synopsis, description and own options. */
const subcommand = (name, sub) => [
  `.SH ${name.toUpperCase()}`,
  `.B k8s\\-nrpe ${name}`,
  '[\\fIOPTION\\fR]...',
  paragraphs(sub.description),
  `.SS ${name[0].toUpperCase()}${name.slice(1)} options`,
  options(sub.options),
].join('\n');

/** The page of the multi-call binary: its checks, triage, discover, the common options. */
export function mainPage(model, date = pageDate()) {
  return [
    `.TH K8S\\-NRPE 1 "${date}" "k8s\\-nrpe ${esc(model.version)}" "k8s\\-nrpe"`,
    // Ragged right, no hyphenation: option and file names stay whole.
    '.ad l\n.nh',
    '.SH NAME',
    'k8s\\-nrpe \\- Nagios/NRPE checks for Kubernetes (microk8s first)',
    '.SH SYNOPSIS',
    '.B k8s\\-nrpe',
    '\\fICHECK\\fR [\\fIOPTION\\fR]...',
    '.br',
    '.B k8s\\-nrpe triage',
    '[\\fIOPTION\\fR]...',
    '.br',
    '.B k8s\\-nrpe discover',
    '[\\fIOPTION\\fR]...',
    '.br',
    '.B k8s\\-nrpe',
    '\\fB\\-\\-list\\fR | \\fB\\-\\-help\\fR | \\fB\\-\\-version\\fR',
    '.SH DESCRIPTION',
    '.PP',
    'Monitoring plugins for the failures that hide behind Ready nodes. One binary: invoked as',
    '.BI check_k8s_ NAME',
    '(a symlink in /usr/lib/nagios/plugins) it runs that check; invoked as',
    '.B k8s\\-nrpe',
    'it takes the check as its first argument.',
    '.B k8s\\-nrpe triage',
    'runs every check that applies to this host at once and prints them worst first: the command for a person on a node.',
    '.SH CHECKS',
    ...model.checks.map((c) => `.TP\n.BR check_k8s_${esc(c.name)} (1)\n${esc(c.summary)} (${c.scope === 'node' ? 'every node' : 'one host per cluster'}).`),
    subcommand('triage', model.triage),
    subcommand('discover', model.discover),
    '.SH OPTIONS',
    'Every check (and discover) takes these (and its own: see its page):',
    options(model.common),
    '.SH THRESHOLDS',
    RANGES,
    '.SH EXIT STATUS',
    EXIT,
    '.PP\nFor triage: the worst state of the checks it ran (CRITICAL > WARNING > UNKNOWN > OK).',
    '.SH EXAMPLES',
    examples([
      ['sudo k8s-nrpe triage --kubeconfig /etc/nagios/k8s-nrpe.kubeconfig', 'Every check on this node, worst first'],
      ['k8s-nrpe --list', 'The checks, one name a line'],
      ['k8s-nrpe discover --icinga2 --kubeconfig /etc/nagios/k8s-nrpe.kubeconfig', 'An Icinga 2 host template: a Service per node and per workload (docs/discover.md)'],
      ['sudo -u nagios /usr/lib/nagios/plugins/check_k8s_scheduler_stall --kubeconfig /etc/nagios/k8s-nrpe.kubeconfig', 'One check as NRPE runs it'],
    ], 'k8s-nrpe'),
    footer(model.checks.map((c) => `check_k8s_${c.name}`), model),
  ].join('\n');
}

const BEGIN = '<!-- checks reference: generated by npm run contrib (scripts/man.mjs) from the declarations; do not edit -->';
const END = '<!-- end of checks reference -->';
const cell = (t) => String(t ?? '').replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();

/** README's reference: every check's scope and every perfdata metric, from the same declarations as the man pages. */
export function readmeReference(model) {
  const out = [BEGIN, '', '## Checks reference', '',
    'Every check, where it runs (scope: `node` on every node, `cluster` on one host per',
    'cluster), and every perfdata metric it prints. Options: `check_k8s_<name> --help`',
    'or `man check_k8s_<name>`.', ''];
  for (const c of model.checks) {
    const doc = fs.existsSync(path.join(root, 'docs/checks', `${c.name}.md`)) ? ` More: [docs/checks/${c.name}.md](docs/checks/${c.name}.md).` : '';
    out.push(`### check_k8s_${c.name}`, '', `${cell(c.summary)}. Scope: ${c.scope}.${doc}`, '');
    // What nrpe.d runs and the thresholds' defaults, from the same declarations.
    out.push(`NRPE command (nrpe.d/k8s-nrpe.cfg, and the Icinga 2 agent's defaults): \`check_k8s_${c.name}${c.nrpe.kubeconfig ? ' --kubeconfig /etc/nagios/k8s-nrpe.kubeconfig' : ''} ${c.nrpe.args}\`.`);
    if (c.thresholds) {
      const def = (v) => (v === undefined ? 'unset' : `\`${v}\``);
      out.push(`\`-w\` ${def(c.thresholds.warning)}, \`-c\` ${def(c.thresholds.critical)} by default: ${cell(c.thresholds.describe)}.`);
    }
    out.push('');
    if (c.perfdata.length) {
      out.push('| perfdata | unit | meaning | thresholds |', '|---|---|---|---|');
      for (const p of c.perfdata) out.push(`| \`${p.label}\` | ${cell(p.uom) || ''} | ${cell(p.describe)} | ${cell(p.thresholds) || ''} |`);
      out.push('');
    }
  }
  out.push(END);
  return out.join('\n');
}

/** Replace README's reference (between the markers; before "## Install on a node" the first time). */
export async function updateReadme(file = path.join(root, 'README.md')) {
  const text = fs.readFileSync(file, 'utf8');
  const ref = readmeReference(await loadModel());
  const next = text.includes(BEGIN)
    ? text.slice(0, text.indexOf(BEGIN)) + ref + text.slice(text.indexOf(END) + END.length)
    : text.replace(/^## Install on a node$/m, `${ref}\n\n## Install on a node`);
  if (next !== text) fs.writeFileSync(file, next);
  return file;
}

/** Write every page into outDir; returns the files. */
export async function writeMan(outDir = path.join(root, 'dist/man')) {
  const model = await loadModel();
  const date = pageDate();
  fs.mkdirSync(outDir, { recursive: true });
  const pages = [['k8s-nrpe.1', mainPage(model, date)], ...model.checks.map((c) => [`check_k8s_${c.name}.1`, checkPage(c, model, date)])];
  for (const f of fs.readdirSync(outDir)) if (f.endsWith('.1') && !pages.some(([n]) => n === f)) fs.rmSync(path.join(outDir, f));
  return pages.map(([file, text]) => {
    const out = path.join(outDir, file);
    fs.writeFileSync(`${out}.${process.pid}.tmp`, text);
    fs.renameSync(`${out}.${process.pid}.tmp`, out);
    return out;
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href && process.argv[2] === '--readme') {
  console.log(`wrote ${path.relative(root, await updateReadme())}`);
} else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const f of await writeMan(process.argv[2] ? path.resolve(process.argv[2]) : undefined)) console.log(`wrote ${path.relative(root, f)}`);
}
