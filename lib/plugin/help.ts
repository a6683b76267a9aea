import type { AnyCheck } from './check.js';
import { contextText } from './context.js';
import { shortFlag, type AnyOption, type OptionTable } from './options.js';
import { VERSION } from './version.js';

/** Where operators report bugs (--help, man pages). */
export const BUGS = 'https://github.com/k8s-nrpe/k8s-nrpe/issues';
export const WIDTH = 80;

/** Fill words into lines of at most `width` columns, never splitting a word. */
export function wrap(text: string, width = WIDTH, indent = ''): string[] {
  const lines: string[] = [];
  for (const para of text.split(/\n\s*\n/)) {
    let line = '';
    for (const word of para.split(/\s+/).filter(Boolean)) {
      if (line && indent.length + line.length + 1 + word.length > width) { lines.push(indent + line); line = word; }
      else line = line ? `${line} ${word}` : word;
    }
    if (line) lines.push(indent + line);
    lines.push('');
  }
  lines.pop();
  return lines;
}

/** '-w, --warning=RANGE', '--sudo', '--[no-]calico'. */
export function optionSynopsis(name: string, spec: AnyOption): string {
  const long = spec.boolean && spec.default === true ? `--[no-]${name}` : `--${name}`;
  const arg = spec.boolean || spec.count ? '' : `=${spec.placeholder ?? 'VALUE'}`;
  return `${spec.alias ? `-${spec.alias}, ` : ''}${long}${arg}`;
}

/** '-w RANGE', '--node NODE', '--sudo' for the Usage synopsis. */
function usageItem(name: string, spec: AnyOption): string {
  const flag = shortFlag(name, spec);
  return spec.boolean || spec.count ? flag : `${flag} ${spec.placeholder ?? 'VALUE'}`;
}

/** The text after an option's synopsis: what it does and its default. */
export function optionText(spec: AnyOption): string {
  const dflt = spec.default === undefined || spec.default === false || spec.count ? '' : ` (default: ${String(spec.default)})`;
  return `${spec.describe}${dflt}${spec.repeatable ? ' (repeatable)' : ''}`;
}

export const RANGES =
  'Ranges use the Monitoring Plugins syntax: 10 alerts outside 0..10, 10: below 10, ~:10 above 10, ' +
  '10:20 outside 10..20, @10:20 inside 10..20. Durations: 90, 90s, 5m, 1h30m.';
export const EXIT_STATES = 'Exit states: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (also after --help and --version).';

/** --help as the Monitoring Plugins guidelines ask: version, usage, description, options, examples, exit states, bugs. */
export function renderHelp(check: AnyCheck, table: OptionTable): string {
  const cmd = `check_k8s_${check.name}`;
  const out: string[] = [`${cmd} (k8s-nrpe) ${VERSION}`, ...wrap(check.summary), '', 'Usage:'];
  const usage = Object.entries(table).map(([n, s]) => `[${usageItem(n, s)}]`);
  // Each [-x VALUE] stays on one line: wrap() splits at spaces, so hold them with \x01 meanwhile.
  const held = usage.map((u) => u.replace(/ /g, '\x01'));
  out.push(...wrap(`${cmd} ${held.join(' ')}`, WIDTH, '    ').map((l, i) => (i ? l : `  ${l.trimStart()}`).replace(/\x01/g, ' ')));
  out.push('', ...wrap(check.description), '', 'Options:');
  out.push(' -h, --help', ...wrap('Print this help and exit', WIDTH, '    '));
  out.push(' -V, --version', ...wrap('Print the version and exit', WIDTH, '    '));
  for (const [name, spec] of Object.entries(table)) {
    out.push(` ${optionSynopsis(name, spec)}`, ...wrap(optionText(spec), WIDTH, '    '));
  }
  const perf = perfdataRows(check, table);
  if (perf.length) {
    out.push('', 'Perfdata (after the \'|\'; thresholds: what judges it):');
    for (const p of perf) {
      out.push(` ${p.label}${p.uom ? ` (${p.uom})` : ''}`, ...wrap(`${p.describe}${p.thresholds ? `. Thresholds: ${p.thresholds}.` : ''}`, WIDTH, '    '));
    }
  }
  if (check.examples?.length) {
    out.push('', 'Examples:');
    for (const [c, what] of check.examples) out.push(...wrap(c.replace('$0', cmd), WIDTH, '  '), ...wrap(what, WIDTH, '    '));
  }
  out.push('', ...wrap(RANGES), '', ...wrap(EXIT_STATES), '', ...wrap(`Report bugs: ${BUGS}`));
  return out.join('\n') + '\n';
}

/**
 * Every perfdata metric a check declares with its thresholds column, rendered
 * from the metric's context (lib/plugin/context.ts): the options that judge it
 * and their defaults (`table`: allOptions(check)). --help, the man page and README's reference all print these.
 */
export function perfdataRows(check: AnyCheck, table: OptionTable): { label: string; describe: string; uom?: string; thresholds: string }[] {
  return Object.entries(check.perfdata ?? {}).map(([label, p]) => ({
    label,
    describe: p.describe.replace(/\.$/, ''),
    ...(p.uom && { uom: p.uom }),
    thresholds: contextText(p.judge, table),
  }));
}
