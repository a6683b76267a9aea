import yargs from 'yargs';
import type { AnyCheck, CommonOptions } from './check.js';
import { UsageError } from './errors.js';
import { renderHelp } from './help.js';
import { camel, opt, yargsOption, type AnyOption, type OptionSpec, type OptionTable } from './options.js';
import { parseState, type State } from './state.js';
import { versionLine } from './version.js';
import { selectionOptions } from '../kube/selection.js';

const timeoutState: OptionSpec<State> = {
  placeholder: 'STATE',
  describe: 'State to return on timeout: ok, warning, critical or unknown',
  default: 'unknown',
  parse: (raw, flag) => {
    const s = opt.string({ describe: '' }).parse(raw, flag);
    const state = s === undefined ? undefined : parseState(s);
    if (state === undefined) throw new UsageError(`invalid ${flag} '${String(raw)}': use ok, warning, critical or unknown`);
    return state;
  },
};

/** The options every check has, declared like a check's own. */
export const COMMON_OPTIONS = {
  timeout: opt.custom({
    placeholder: 'SECONDS', default: '10', describe: 'Seconds before the whole check gives up, counted from the start of the process (a duration like 30s works too)',
    parse: (s, flag) => {
      // One bound, one wording: the duration parser checks the syntax only.
      const v = opt.duration({ describe: '' }).parse(s, flag)!;
      if (!(v > 0 && v <= 3600)) throw new UsageError(`invalid ${flag} '${s}': must be more than 0 and at most 3600 seconds`);
      return v;
    },
  }),
  'timeout-state': timeoutState,
  verbose: { describe: 'More output: -v longer long output, -vv request log on stderr, -vvv stack traces', count: true, parse: (raw: unknown) => Number(raw ?? 0) } satisfies OptionSpec<number>,
  kubeconfig: opt.string({ placeholder: 'FILE', describe: 'Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, microk8s client.config, /etc/kubernetes/admin.conf, in-cluster)' }),
  context: opt.string({ placeholder: 'NAME', describe: 'Kubeconfig context to use (default: current-context)' }),
  format: opt.choice(['nagios', 'json'] as const, { default: 'nagios', describe: 'Output format: nagios (status line, perfdata, long output) or json (docs/json.md)' }),
  'page-size': opt.int({ default: 500, min: 1, max: 10000, describe: 'Items per page when listing (limit/continue); larger pages mean fewer round trips on a big cluster' }),
  'max-list-items': opt.int({ default: 60000, min: 1000, max: 10000000, describe: 'List items one run may keep, all lists together (memory: a server that ignores limit= is UNKNOWN past it); raise it for a cluster with more objects of a listed kind' }),
} satisfies OptionTable;

/** Aliases of the common options: -t, -v. */
const ALIASES: Record<string, string> = { timeout: 't', verbose: 'v' };

export type Parsed =
  | { kind: 'help'; text: string }
  | { kind: 'version'; text: string }
  | { kind: 'run'; opts: CommonOptions & Record<string, unknown> };

/** Every option of a check: its own, -w/-c when it has thresholds, the common ones. */
export function allOptions(check: AnyCheck): OptionTable {
  const table: OptionTable = {};
  if (check.thresholds) {
    const { warning, critical, describe } = check.thresholds;
    table.warning = { ...opt.range({ default: warning, describe: `Warning range: ${describe}` }), alias: 'w' };
    table.critical = { ...opt.range({ default: critical, describe: `Critical range: ${describe}` }), alias: 'c' };
  }
  Object.assign(table, check.options ?? {});
  if (check.selection) Object.assign(table, selectionOptions(check.selection));
  for (const [k, spec] of Object.entries(COMMON_OPTIONS)) table[k] = ALIASES[k] ? { ...(spec as AnyOption), alias: ALIASES[k] } : spec;
  return table;
}

/** How an option is named in an error line: '-w', '--min-age'. */
function flagName(name: string, spec: AnyOption): string {
  return spec.alias && (name === 'warning' || name === 'critical') ? `-${spec.alias}` : `--${name}`;
}

/** Turn argv into options or a help/version request. Throws UsageError. */
export async function parseArgs(check: AnyCheck, argv: string[]): Promise<Parsed> {
  const table = allOptions(check);
  argv = negativeValues(table, argv);
  const y = yargs(argv)
    // Our own help/version: they exit 3 like every Monitoring Plugin.
    .help(false)
    .version(false)
    .options(Object.fromEntries(Object.entries(table).map(([k, spec]) => [k, yargsOption(spec)])))
    .option('help', { alias: 'h', type: 'boolean' })
    .option('version', { alias: 'V', type: 'boolean' })
    .strict()
    .exitProcess(false)
    .parserConfiguration({ 'duplicate-arguments-array': false, 'strip-aliased': true })
    .fail((msg, err) => {
      throw new UsageError(msg || err?.message || 'invalid arguments');
    });
  let raw: Record<string, unknown>;
  try {
    raw = (await y.parse()) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError((e as Error).message);
  }
  if (raw.help) return { kind: 'help', text: renderHelp(check, table) };
  if (raw.version) return { kind: 'version', text: versionLine(`check_k8s_${check.name} (k8s-nrpe)`) };
  if ((raw._ as unknown[] | undefined)?.length) {
    throw new UsageError(`unexpected argument '${String((raw._ as unknown[])[0])}'`);
  }
  missingValues(table, argv);
  collectRepeated(table, argv, raw);

  const opts: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(table)) opts[camel(name)] = spec.parse(raw[name], flagName(name, spec));
  const parsed = opts as CommonOptions & Record<string, unknown>;
  check.validate?.(parsed);
  return { kind: 'run', opts: parsed };
}

/** How an option is written on the command line: --name, and -alias when it has one. */
const flagsOf = (name: string, spec: AnyOption): string[] => [`--${name}`, ...(spec.alias ? [`-${spec.alias}`] : [])];

/** Every flag of an option that takes a value (not a flag, not a count), with the option's name and spec. */
function valueFlags(table: OptionTable): Map<string, [string, AnyOption]> {
  const flags = new Map<string, [string, AnyOption]>();
  for (const [name, spec] of Object.entries(table)) {
    if (!spec.boolean && !spec.count) for (const f of flagsOf(name, spec)) flags.set(f, [name, spec]);
  }
  return flags;
}

/**
 * '-w -5:5' and '-c -10' (a range or number below zero, as the Monitoring
 * Plugins range syntax allows) would read as options to yargs: an option that
 * takes a value, followed by a word that starts with '-' and a digit, gets it
 * as '--warning=-5:5'.
 */
function negativeValues(table: OptionTable, argv: string[]): string[] {
  const takesValue = valueFlags(table);
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return [...out, ...argv.slice(i)];
    const name = takesValue.get(arg)?.[0];
    const next = argv[i + 1];
    if (name !== undefined && next !== undefined && /^-\.?\d/.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/**
 * '-w $ARG1$ -c $ARG2$' with an empty $ARG1$ reaches us as '-w -c 5': yargs
 * then gives -w its default, silently. An option with a default that takes a
 * value, given last or followed by another option of this check, is a usage
 * error. (Without a default yargs passes '' and the option's own parse judges
 * it: --resolve alone means its default name. '-w -5:5' is a negative range: negativeValues.)
 */
function missingValues(table: OptionTable, argv: string[]): void {
  const takesValue = valueFlags(table);
  const known = new Set(['--help', '-h', '--version', '-V']);
  for (const [name, spec] of Object.entries(table)) {
    for (const f of flagsOf(name, spec)) known.add(f);
    if (spec.boolean) known.add(`--no-${name}`);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    const option = takesValue.get(arg);
    if (option?.[1].default === undefined) continue;
    const flag = flagName(...option);
    const next = argv[i + 1];
    if (next === undefined || known.has(next.split('=')[0]!)) throw new UsageError(`${flag} needs a value${next === undefined ? '' : ` (got the option ${next} instead)`}`);
    i++;
  }
}

/**
 * yargs keeps only the last of a repeated option (duplicate-arguments-array
 * is off): '-w 1 -w 2' is -w 2, as docs/plugin-contract.md says. A
 * repeatable option gets every occurrence, in order.
 */
function collectRepeated(table: OptionTable, argv: string[], raw: Record<string, unknown>): void {
  for (const [name, spec] of Object.entries(table)) {
    if (!spec.repeatable) continue;
    const flags = new Set(flagsOf(name, spec));
    const values: string[] = [];
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i]!;
      if (arg === '--') break;
      const eq = arg.indexOf('=');
      if (eq > 0 && flags.has(arg.slice(0, eq))) values.push(arg.slice(eq + 1));
      // '--lease --namespace x': the next option is not this one's value.
      else if (flags.has(arg)) values.push(i + 1 < argv.length && !argv[i + 1]!.startsWith('--') ? argv[++i]! : '');
    }
    raw[name] = values.length ? values : undefined;
  }
}
