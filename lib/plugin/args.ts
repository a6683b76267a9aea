import yargs, { type Argv, type Options as YargsOption } from 'yargs';
import type { AnyCheck, CommonOptions } from './check.js';
import { UsageError } from './errors.js';
import { parseOptionalRange } from './range.js';
import { parseDuration } from './duration.js';
import { parseState, State } from './state.js';
import { VERSION } from './version.js';

export const COMMON_OPTIONS: Record<string, YargsOption> = {
  timeout: { alias: 't', type: 'string', default: '10', describe: 'Seconds before the whole check gives up (a duration like 30s works too)' },
  'timeout-state': { type: 'string', default: 'unknown', describe: 'State to return on timeout: ok|warning|critical|unknown' },
  verbose: { alias: 'v', type: 'count', describe: 'More output: -v longer long output, -vv request log on stderr, -vvv stack traces' },
  kubeconfig: { type: 'string', describe: 'Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, microk8s client.config, /etc/kubernetes/admin.conf, in-cluster)' },
  context: { type: 'string', describe: 'Kubeconfig context to use (default: current-context)' },
  format: { type: 'string', choices: ['nagios', 'json'], default: 'nagios', describe: 'Output format' },
  'page-size': { type: 'string', default: '500', describe: 'Items per page when listing (limit/continue); larger pages mean fewer round trips on a big cluster' },
  help: { alias: 'h', type: 'boolean', describe: 'Show this help' },
  version: { alias: 'V', type: 'boolean', describe: 'Show the version' },
};

const RANGE_HELP =
  'Ranges use the Monitoring Plugins syntax: 10 (alert outside 0..10), 10: (below 10), ~:10 (above 10), ' +
  '10:20 (outside 10..20), @10:20 (inside 10..20). Durations: 90, 90s, 5m, 1h30m. Exit codes: 0 OK, 1 WARNING, ' +
  '2 CRITICAL, 3 UNKNOWN (also for --help and --version).';

function wrapText(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) { lines.push(line); line = word; }
    else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join('\n');
}

export type Parsed =
  | { kind: 'help'; text: string }
  | { kind: 'version'; text: string }
  | { kind: 'run'; opts: CommonOptions & Record<string, unknown> };

function parser(check: AnyCheck, argv: string[]): Argv {
  const options: Record<string, YargsOption> = { ...COMMON_OPTIONS };
  if (check.thresholds) {
    // An explicit `default: undefined` would make yargs swallow a bare '-w': set it only when there is one.
    const { warning, critical, describe } = check.thresholds;
    options.warning = { alias: 'w', type: 'string', describe: `Warning range: ${describe}`, ...(warning !== undefined && { default: warning }) };
    options.critical = { alias: 'c', type: 'string', describe: `Critical range: ${describe}`, ...(critical !== undefined && { default: critical }) };
  }
  Object.assign(options, check.options ?? {});
  let y = yargs(argv)
    .scriptName(`check_k8s_${check.name}`)
    .usage('$0 [options]')
    // Disable yargs' own help/version first: ours exit 3 like every Monitoring Plugin.
    .help(false)
    .version(false)
    .options(options)
    .strict()
    .exitProcess(false)
    .wrap(Math.min(100, process.stdout.columns || 100))
    .parserConfiguration({ 'duplicate-arguments-array': false, 'strip-aliased': true })
    .fail((msg, err) => {
      throw new UsageError(msg || err?.message || 'invalid arguments');
    });
  for (const [cmd, desc] of check.examples ?? []) y = y.example(cmd, desc);
  return y;
}

/** Turn argv into options or a help/version request. Throws UsageError. */
export async function parseArgs(check: AnyCheck, argv: string[]): Promise<Parsed> {
  const y = parser(check, argv);
  let raw: Record<string, unknown>;
  try {
    raw = (await y.parse()) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError((e as Error).message);
  }
  collectRepeated(check.options ?? {}, argv, raw);
  if (raw.help) {
    let text = '';
    y.showHelp((s: string) => { text = s; });
    // yargs wraps a long usage text badly; put our own paragraphs after its usage line.
    const [usage, ...rest] = text.split('\n');
    const about = `${wrapText(check.description, 90)}\n\n${wrapText(RANGE_HELP, 90)}`;
    return { kind: 'help', text: [usage, '', about, ...rest].join('\n') + '\n' };
  }
  if (raw.version) return { kind: 'version', text: `check_k8s_${check.name} (k8s-nrpe) ${VERSION}\n` };
  if ((raw._ as unknown[] | undefined)?.length) {
    throw new UsageError(`unexpected argument '${String((raw._ as unknown[])[0])}'`);
  }

  const timeout = parseDuration(String(raw.timeout), '--timeout');
  if (!(timeout > 0) || timeout > 3600) throw new UsageError(`invalid --timeout '${String(raw.timeout)}': must be more than 0 and at most 3600 seconds`);
  const timeoutState = parseState(String(raw['timeout-state']));
  if (timeoutState === undefined) throw new UsageError(`invalid --timeout-state '${String(raw['timeout-state'])}': use ok, warning, critical or unknown`);

  const pageSize = Number(raw['page-size']);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 10000) throw new UsageError(`invalid --page-size '${String(raw['page-size'])}': use a whole number from 1 to 10000`);

  const opts: CommonOptions & Record<string, unknown> = {
    ...check.parse(raw),
    warning: parseOptionalRange(nonEmpty(raw.warning, '-w')),
    critical: parseOptionalRange(nonEmpty(raw.critical, '-c')),
    timeout,
    timeoutState,
    pageSize,
    verbose: Number(raw.verbose ?? 0),
    format: raw.format === 'json' ? 'json' : 'nagios',
    kubeconfig: optionalString(raw.kubeconfig, '--kubeconfig'),
    context: optionalString(raw.context, '--context'),
  };
  return { kind: 'run', opts };
}

/**
 * yargs keeps only the last of a repeated option here (duplicate-arguments-array
 * is off, so '-w 1 -w 2' cannot turn into an array). A check option declared
 * with `array: true, nargs: 1` is repeatable: '--pattern a --pattern b=c'
 * gives ['a', 'b=c'], every occurrence in order.
 */
function collectRepeated(options: Record<string, YargsOption>, argv: string[], raw: Record<string, unknown>): void {
  for (const [name, def] of Object.entries(options)) {
    if (!def.array) continue;
    const flags = new Set([name, ...[def.alias ?? []].flat()].map((n) => (n.length === 1 ? `-${n}` : `--${n}`)));
    const values: string[] = [];
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i]!;
      if (arg === '--') break;
      const eq = arg.indexOf('=');
      if (eq > 0 && flags.has(arg.slice(0, eq))) values.push(arg.slice(eq + 1));
      else if (flags.has(arg) && i + 1 < argv.length) values.push(argv[++i]!);
    }
    if (values.length) raw[name] = values;
  }
}

function nonEmpty(v: unknown, name: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) throw new UsageError(`${name} given more than once`);
  return String(v);
}

/** A string option given without a value arrives as '' and is an error, not "unset". */
export function optionalString(v: unknown, name: string): string | undefined {
  if (v === undefined) return undefined;
  if (Array.isArray(v)) throw new UsageError(`${name} given more than once`);
  if (typeof v !== 'string' || v === '') throw new UsageError(`${name} needs a value`);
  return v;
}

export { State };
