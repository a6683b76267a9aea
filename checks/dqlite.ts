import fs from 'node:fs';
import { defineCheck, opt, type OptionsOf } from '../lib/plugin/check.js';
import { declareMetrics, each, range } from '../lib/plugin/context.js';
import type { Range } from '../lib/plugin/range.js';
import type { OptionSpec } from '../lib/plugin/options.js';
import { excerpt, parsePatternSpec, readJournal, substringPattern, type JournalRead, type JournalScanResult, type LinePattern } from '../lib/host/journal.js';
import { UNIT_NAME, unitState, type UnitState } from '../lib/host/systemd.js';
import { formatDuration } from '../lib/plugin/duration.js';
import { PluginError, UsageError } from '../lib/plugin/errors.js';
import { Report } from '../lib/plugin/report.js';
import { plural, type Outcome } from '../lib/plugin/result.js';
import { sanitize } from '../lib/plugin/sanitize.js';
import { bySeverityDesc, State, worst } from '../lib/plugin/state.js';

/** A pattern with its thresholds. */
export interface JudgedPattern extends LinePattern {
  warn?: Range;
  crit?: Range;
}

export interface Data {
  /** undefined when journalctl could not read the journal (journalError says why). */
  scan?: JournalScanResult;
  journalError?: string;
  /** journalctl's stderr on success (warnings such as a truncated journal file). */
  journalNote?: string;
  /** undefined when not asked (--no-unit-state, --journal-directory, --journal-root). */
  unit?: UnitState;
  /** The kubelite unit's journal (--kubelite). */
  kubelite?: JournalRead;
}

export const DEFAULT_UNIT = 'snap.microk8s.daemon-k8s-dqlite';
export const KUBELITE_UNIT = 'snap.microk8s.daemon-kubelite';

const MAX_CUSTOM_PATTERNS = 20;
/** The journal of one unit over minutes is small; 512 MiB of JSON means something is very wrong. */
const MAX_JOURNAL_BYTES = 512 * 1024 * 1024;

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

// Where the microk8s snap lives: without it there is no k8s-dqlite to read.
const MICROK8S_SNAP = ['/snap/microk8s', '/var/snap/microk8s'];

const options = {
  unit: opt.string({
    placeholder: 'UNIT', default: DEFAULT_UNIT, describe: 'systemd unit whose journal is read and whose state is judged',
    check: (u) => (UNIT_NAME.test(u) ? undefined : 'not a systemd unit name'),
  }),
  window: opt.duration({ default: '5m', min: 1, max: 7 * 86400, describe: 'How far back to read the journal (up to 7d)' }),
  // Thresholds are rates: matching lines per minute over --window, so a --window change keeps their meaning.
  'context-canceled-warning': opt.range({ default: '1', describe: 'Warning range for "context canceled" lines per minute (default: more than 5 in 5m)' }),
  'context-canceled-critical': opt.range({ default: '6', describe: 'Critical range for "context canceled" lines per minute (default: more than 30 in 5m)' }),
  'context-deadline-exceeded-warning': opt.range({ default: '0.4', describe: 'Warning range for "context deadline exceeded" lines per minute (default: more than 2 in 5m)' }),
  'context-deadline-exceeded-critical': opt.range({ default: '2', describe: 'Critical range for "context deadline exceeded" lines per minute (default: more than 10 in 5m)' }),
  'database-is-locked-warning': opt.range({ default: '0.4', describe: 'Warning range for "database is locked" lines per minute (default: more than 2 in 5m)' }),
  'database-is-locked-critical': opt.range({ default: '2', describe: 'Critical range for "database is locked" lines per minute (default: more than 10 in 5m)' }),
  'no-available-leader-warning': opt.range({ default: '0.2', describe: 'Warning range for "no available dqlite leader server found" lines per minute (default: more than 1 in 5m)' }),
  'no-available-leader-critical': opt.range({ default: '1', describe: 'Critical range for "no available dqlite leader server found" lines per minute (default: more than 5 in 5m)' }),
  pattern: opt.list({
    placeholder: '[NAME=]TEXT', max: MAX_CUSTOM_PATTERNS, each: (spec) => void parsePatternSpec(spec),
    describe: `More to count (up to ${MAX_CUSTOM_PATTERNS}): [NAME=]TEXT or [NAME=]/REGEX/FLAGS`,
  }),
  'pattern-warning': opt.range({ default: '0', describe: 'Warning range for each --pattern, lines per minute (default: any line)' }),
  'pattern-critical': opt.range({ describe: 'Critical range for each --pattern, lines per minute (default: none)' }),
  kubelite: opt.flag({ describe: 'Also read the kubelite journal (--kubelite-unit) for what dqlite trouble does to the apiserver and kubelet' }),
  'kubelite-unit': opt.string({
    placeholder: 'UNIT', default: KUBELITE_UNIT, describe: 'The unit running the apiserver and kubelet (microk8s: kubelite)',
    check: (u) => (UNIT_NAME.test(u) ? undefined : 'not a systemd unit name'),
  }),
  'kubelite-warning': opt.range({ default: '0.4', describe: 'Warning range for each kubelite pattern, lines per minute (default: more than 2 in 5m)' }),
  'kubelite-critical': opt.range({ default: '2', describe: 'Critical range for each kubelite pattern, lines per minute (default: more than 10 in 5m)' }),
  'unit-state': {
    boolean: true,
    describe: 'Judge the unit\'s systemd state (default: on, off with --journal-directory or --journal-root); --no-unit-state skips it',
    parse: (raw: unknown) => (raw === undefined ? undefined : Boolean(raw)),
  } satisfies OptionSpec<boolean | undefined>,
  'journal-directory': opt.string({
    placeholder: 'DIR', describe: 'Read journal files from this one directory (journalctl -D), e.g. a copy of another machine\'s journal',
  }),
  'journal-root': opt.string({
    placeholder: 'DIR', describe: 'Read the journals of the system whose root is mounted here (journalctl --root): DIR/var/log/journal and the volatile DIR/run/log/journal, e.g. /host in a container',
  }),
};
type Options = OptionsOf<typeof options>;

/** Ask systemd whether the unit runs: yes unless reading another machine's journal. */
export function checksUnit(o: Options): boolean {
  return o.unitState ?? (o.journalDirectory === undefined && o.journalRoot === undefined);
}

/**
 * The built-in k8s-dqlite patterns with their ranges (lines per minute over
 * --window), then every --pattern. See docs/checks/dqlite.md for the logs
 * these defaults come from.
 *
 * context canceled: kine's query context ended before dqlite answered. A
 * healthy node logs a few: the apiserver cancels watches when it restarts
 * ("WATCH Failed to send cancel response ... context canceled") and
 * cancels a request whose client went away. A follower that gets no
 * answers from the leader logs it for every query, without end.
 *
 * context deadline exceeded: a query ran out of its time (the apiserver's
 * storage health check "range on /registry/health" every few seconds among
 * them): the leader answers too slowly or not at all.
 *
 * database is locked: SQLite's SQLITE_BUSY surfacing through kine: a write
 * gave up waiting for the lock, and the API request behind it failed.
 *
 * no available dqlite leader server found: go-dqlite's client found no
 * member that knows a leader. One line while a leader is elected (a member
 * restarts) happens; a loop is a node that cannot join its cluster at all
 * (a stale raft address after a hostname change, canonical/microk8s#5524)
 * while `microk8s inspect` shows nothing.
 */
export function patternsOf(o: Options): JudgedPattern[] {
  const patterns: JudgedPattern[] = [
    { ...substringPattern('context_canceled', 'context canceled'), warn: o.contextCanceledWarning, crit: o.contextCanceledCritical },
    { ...substringPattern('context_deadline_exceeded', 'context deadline exceeded'), warn: o.contextDeadlineExceededWarning, crit: o.contextDeadlineExceededCritical },
    { ...substringPattern('database_is_locked', 'database is locked'), warn: o.databaseIsLockedWarning, crit: o.databaseIsLockedCritical },
    { ...substringPattern('no_available_leader', 'no available dqlite leader server found'), warn: o.noAvailableLeaderWarning, crit: o.noAvailableLeaderCritical },
  ];
  for (const spec of o.pattern) {
    const p = parsePatternSpec(spec);
    if (patterns.some((q) => q.label === p.label)) {
      throw new UsageError(`--pattern '${sanitize(spec, 100)}': the name '${p.label}' is taken; name it: --pattern 'other_name=${sanitize(p.display, 60)}'`);
    }
    patterns.push({ ...p, warn: o.patternWarning, crit: o.patternCritical });
  }
  return patterns;
}

/**
 * What dqlite trouble does to kubelite's apiserver and kubelet, as they log
 * it (kubernetes pkg/kubelet/status/status_manager.go,
 * pkg/kubelet/kubelet_node_status.go, component-helpers lease controller;
 * the storage layer's own "context deadline exceeded").
 */
export function kubelitePatternsOf(o: Options): JudgedPattern[] {
  const judged = { warn: o.kubeliteWarning, crit: o.kubeliteCritical };
  return [
    { ...substringPattern('kubelite_pod_status_failed', 'Failed to update status for pod'), ...judged },
    { ...substringPattern('kubelite_node_status_failed', 'Error updating node status'), ...judged },
    { ...substringPattern('kubelite_lease_failed', 'Failed to update lease'), ...judged },
    { ...substringPattern('kubelite_deadline_exceeded', 'context deadline exceeded'), ...judged },
  ];
}

const perf = declareMetrics({
  '<pattern>': { describe: 'Lines in --window that match the pattern (context_canceled, context_deadline_exceeded, database_is_locked, no_available_leader, each --pattern; kubelite_* with --kubelite)' },
  'rate_<pattern>': { describe: 'The same in lines per minute over --window: what the pattern thresholds judge', judge: each('per pattern', ['contextCanceledWarning', 'contextCanceledCritical', 'contextDeadlineExceededWarning', 'contextDeadlineExceededCritical', 'databaseIsLockedWarning', 'databaseIsLockedCritical', 'noAvailableLeaderWarning', 'noAvailableLeaderCritical', 'patternWarning', 'patternCritical', 'kubeliteWarning', 'kubeliteCritical']) },
  matched_lines: { describe: 'Lines matching any pattern, each once', judge: range('warning', 'critical') },
  lines_scanned: { describe: 'Journal lines read' },
});

export default defineCheck({
  name: 'dqlite',
  triage: {
    skip: () => (MICROK8S_SNAP.some((p) => fs.existsSync(p)) ? undefined : 'not a microk8s node (no /snap/microk8s)'),
  },
  title: 'DQLITE',
  scope: 'node',
  nrpe: {
    args: '-t 20 --window 5m',
    kubeconfig: false,
    about:
      'k8s-dqlite journal on this node: "context canceled", "context deadline exceeded", "database is locked" and\n' +
      '"no available dqlite leader server found"\n' +
      'lines per minute over --window (thresholds: check_k8s_dqlite --help), and the unit not running.\n' +
      'Node-local: reads the journal, never the API, so no --kubeconfig. The nagios user must be in group\n' +
      'systemd-journal (the package\'s postinst adds it; by hand: usermod -aG systemd-journal nagios).',
  },
  summary: 'Errors in the k8s-dqlite journal on this node as rates: context canceled, deadline exceeded, database is locked',
  description:
    'Errors in the k8s-dqlite journal on this node: counts the lines of the unit\'s journal in --window that contain ' +
    '"context canceled", "context deadline exceeded", "database is locked" or "no available dqlite leader server found", plus ' +
    'any --pattern, and judges each as a rate ' +
    '(lines per minute over --window) against its own --<pattern>-warning/--<pattern>-critical ranges: a healthy node ' +
    'logs the odd "context canceled" (the apiserver cancelling watches), so one or two lines are OK, a sustained rate ' +
    'warns and a storm is critical. Also judges whether the unit is running (CRITICAL when inactive or failed). With ' +
    '--kubelite, also reads the kubelite unit\'s journal for what dqlite trouble does to the apiserver and kubelet ("Failed ' +
    'to update status for pod", "Error updating node status", "Failed to update lease", "context deadline exceeded"). ' +
    'Reads the journal with journalctl (this system\'s persistent and volatile journals, /var/log/journal and ' +
    '/run/log/journal): the user running it (nagios) must be in group systemd-journal or adm. --pattern ' +
    'takes [NAME=]TEXT or [NAME=]/REGEX/FLAGS (flags i, m, s, u): TEXT is a case-sensitive substring, NAME ([a-z][a-z0-9_]*) ' +
    'the perfdata label (made from TEXT if omitted; to match text with an "=" in it, name it: \'lvl=level=error\'); every ' +
    '--pattern is judged by --pattern-warning/--pattern-critical. Unit state: without systemd as PID 1 (a container) ' +
    'systemctl cannot answer and the check says UNKNOWN unless --no-unit-state; with --journal-directory or --journal-root (another ' +
    'machine\'s journal) the local unit is not asked unless --unit-state.',
  thresholds: {
    describe: 'journal lines in --window matching any pattern, each line once (default: unset; every pattern has its own pair)',
  },
  options,
  perfdata: perf.docs,
  examples: [
    ['$0', 'the NRPE default: snap.microk8s.daemon-k8s-dqlite, last 5 minutes'],
    ['$0 --pattern \'raft=/raft.*(timeout|lost)/i\' --pattern-critical 4', 'count more errors (critical above 4 lines a minute)'],
    ['$0 --kubelite', 'also what the apiserver and kubelet in kubelite log about storage trouble'],
    ['$0 --journal-root /host --window 15m', 'the host\'s journals (persistent and volatile) with its root mounted at /host in a container'],
  ],

  validate(o) {
    if (o.journalDirectory !== undefined && o.journalRoot !== undefined) throw new UsageError('--journal-directory and --journal-root: give one');
    patternsOf(o);
  },

  async gather(ctx, o): Promise<Data> {
    const read = { signal: ctx.signal, log: ctx.log, since: ctx.hostClockStart - o.window * 1000, directory: o.journalDirectory, root: o.journalRoot, maxBytes: MAX_JOURNAL_BYTES };
    const unit = checksUnit(o)
      ? unitState(o.unit, { signal: ctx.signal, log: ctx.log }).catch((e: unknown): UnitState => {
        if (e instanceof PluginError) return { known: false, unit: o.unit, reason: e.message, noSystemd: /not found/.test(e.message) };
        throw e;
      })
      : undefined;
    const [j, u, kubelite] = await Promise.all([
      readJournal(o.unit, patternsOf(o), read),
      unit,
      o.kubelite ? readJournal(o.kubeliteUnit, kubelitePatternsOf(o), read) : undefined,
    ]);
    return { scan: j.scan, journalError: j.error, journalNote: j.note, unit: u, kubelite };
  },

  evaluate(d, o, now) {
    const r = new Report();
    const unit = judgeUnit(r, d.unit, o);

    if (d.journalError || !d.scan) {
      const msg = d.journalError ?? 'journalctl gave no result';
      r.add(State.UNKNOWN, msg);
      // Only a unit that is down or starting is news next to an unreadable journal.
      return statusLine(r, unit && alerts(unit.state) ? unit : undefined, { state: State.UNKNOWN, text: msg });
    }

    const journal = judgePatterns(r, d.scan, patternsOf(o), o, now, o.unit);
    const matched = perf.judge(r, 'matched_lines', d.scan.matched, o, { min: 0 });
    if (matched.state !== State.OK) r.add(matched.state, `${plural(d.scan.matched, 'line')} in ${formatDuration(o.window)} match a pattern (-w ${o.warning ?? '-'} -c ${o.critical ?? '-'})`);
    perf.metric(r, 'lines_scanned', d.scan.scanned, o, { min: 0 });
    if (d.scan.malformed) r.info(`${plural(d.scan.malformed, 'journalctl line')} not JSON, skipped`);
    if (d.journalNote) r.info(`journalctl: ${d.journalNote}`);

    let kubelite: Half | undefined;
    if (d.kubelite?.scan) kubelite = judgePatterns(r, d.kubelite.scan, kubelitePatternsOf(o), o, now, o.kubeliteUnit);
    else if (d.kubelite) {
      r.add(State.UNKNOWN, `${o.kubeliteUnit}: ${d.kubelite.error ?? 'journalctl gave no result'}`);
      kubelite = { state: State.UNKNOWN, text: `${o.kubeliteUnit} journal not read` };
    }
    return statusLine(r, unit, { ...journal, state: worst(journal.state, matched.state) }, kubelite);
  },
});

/** Lines per minute over the window, two decimals: what the pattern thresholds judge. */
export function perMinute(count: number, windowS: number): number {
  return Math.round((count / (windowS / 60)) * 100) / 100;
}

/** Each pattern's rate against its ranges, the newest example each; the journal's half of the status line. */
function judgePatterns(r: Report, s: JournalScanResult, patterns: JudgedPattern[], o: Options, now: number, unit: string): Half {
  const win = formatDuration(o.window);
  const ago = (t?: number) => (t === undefined ? '?' : `${formatDuration(Math.max(0, (now - t) / 1000))} ago`);
  const judged = s.patterns.map((c, i) => {
    const p = patterns[i]!;
    const rate = perMinute(c.count, o.window);
    perf.metric(r, '<pattern>', c.count, o, { min: 0 }, c.label);
    // Judged per pattern: its ranges are one of the pairs the 'rate_<pattern>' context names (patternsOf).
    return { c, rate, j: r.judge(`rate_${c.label}`, rate, { warn: p.warn, crit: p.crit, min: 0 }) };
  });
  for (const { c, j } of judged) {
    const last = c.examples[c.examples.length - 1];
    const text = c.count === 0
      ? `${c.display}: no lines in ${win}`
      : `${c.display}: ${plural(c.count, 'line')} in ${win}, last ${ago(c.last)} at ${c.last === undefined ? '?' : iso(c.last)}: ` +
        (last ? (o.verbose > 0 ? last.message : excerpt(last.message, last.at, 120)) : '');
    r.add(j.state === State.OK ? undefined : j.state, text);
    if (o.verbose > 0) {
      for (const e of c.examples.slice(0, -1).reverse()) r.info(`earlier ${c.display}: ${e.time === undefined ? '?' : iso(e.time)}: ${e.message}`);
    }
  }
  // What the journal says: the alerting patterns, worst first, with the newest example.
  const alerting = judged.filter(({ j }) => j.state !== State.OK).sort((a, b) => bySeverityDesc(a.j.state, b.j.state));
  const state = worst(...judged.map(({ j }) => j.state));
  if (alerting.length) {
    const newest = alerting[0]!.c.examples.at(-1);
    const text = alerting.map(({ c, rate }) => `${c.count} ${c.display}${c.count ? ` (${rate}/min, last ${ago(c.last)})` : ''}`).join(', ') +
      ` in ${win} of ${unit} (${plural(s.scanned, 'line')} scanned)` + (newest ? `: ${excerpt(newest.message, newest.at, 120)}` : '');
    return { state, text };
  }
  if (s.scanned === 0) return { state, text: `no journal entries for ${unit} in the last ${win} (0 lines scanned)` };
  return { state, text: `${judged.map(({ c }) => `${c.count} ${c.display}`).join(', ')} in ${win} (${plural(s.scanned, 'line')} of ${unit} scanned)` };
}

const alerts = (s: State) => s === State.CRITICAL || s === State.WARNING;

/** One half of the status line (the unit, the journal): its state and words. */
interface Half {
  state: State;
  text: string;
}

/** Is k8s-dqlite running at all? undefined when not asked. */
function judgeUnit(r: Report, u: UnitState | undefined, o: Options): Half | undefined {
  if (!u) {
    r.info(`unit state not checked (${o.journalDirectory || o.journalRoot ? 'reading a journal directory, maybe another machine\'s; --unit-state judges the local unit' : '--no-unit-state'})`);
    return undefined;
  }
  if (!u.known) {
    r.add(State.UNKNOWN, `cannot tell whether ${u.unit} is running: ${u.reason}; --no-unit-state skips this`);
    return { state: State.UNKNOWN, text: `state of ${u.unit} unknown: ${u.noSystemd ? 'no systemd on this host' : 'systemd did not answer'} (--no-unit-state skips this)` };
  }
  const restarts = u.restarts ? `, restarted ${plural(u.restarts, 'time')} by systemd` : '';
  let half: Half;
  if (u.load === 'not-found') half = { state: State.UNKNOWN, text: `unit ${u.unit} not found on this host (is microk8s installed? --unit names another)` };
  else if (u.active === 'inactive' || u.active === 'failed') half = { state: State.CRITICAL, text: `unit ${u.unit} is ${u.active} (${u.sub}): not running${restarts}` };
  else if (u.active === 'activating' || u.active === 'deactivating' || u.active === 'maintenance') {
    half = { state: State.WARNING, text: `unit ${u.unit} is ${u.active} (${u.sub})${u.sub === 'auto-restart' ? ': it exited and systemd is restarting it' : ''}${restarts}` };
  } else half = { state: State.OK, text: `unit ${u.active} (${u.sub})${restarts}` };
  r.add(half.state === State.OK ? undefined : half.state, half.text);
  return half;
}

/**
 * The status line states both halves, the journal first; a unit that is down
 * (or starting) is the news and leads, and so does a unit whose state is
 * unknown unless the journal alerts.
 */
function statusLine(r: Report, unit: Half | undefined, journal: Half, kubelite?: Half): Outcome {
  for (const h of [unit, journal, kubelite]) if (h) r.problem(h.state, h.text);
  if (unit) r.action(unit.state, unit.state === State.UNKNOWN ? 'see whether microk8s is installed here (snap list microk8s) and systemd answers (systemctl status); --unit names another unit, --no-unit-state skips this'
    : 'start k8s-dqlite: sudo snap start microk8s.daemon-k8s-dqlite (journalctl -u snap.microk8s.daemon-k8s-dqlite says why it stopped); then check_k8s_dqlite_cluster and check again');
  r.action(journal.state, 'run check_k8s_dqlite_cluster (is there a leader, a quorum?) and look at this node\'s disk latency and load (iostat -x 1): ' +
    '"context canceled" storms are followers not hearing the leader in time; if one member is slow or partitioned, restart it (sudo snap restart microk8s.daemon-k8s-dqlite on it, one node at a time)');
  if (kubelite) r.action(kubelite.state, 'kubelite cannot write to the datastore: fix k8s-dqlite first (check_k8s_dqlite_cluster), then check again');
  const unitLeads = !!unit && (alerts(unit.state) || (unit.state === State.UNKNOWN && !alerts(journal.state)));
  const line = [...(unitLeads ? [unit, journal] : [journal, unit]), kubelite].filter((h): h is Half => !!h).map((h) => h.text).join('; ');
  return { ...r.done(line), summary: line };
}
