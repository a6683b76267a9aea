import fs from 'node:fs';
import { defineCheck, opt, type OptionsOf } from '../lib/plugin/check.js';
import type { Range } from '../lib/plugin/range.js';
import type { OptionSpec } from '../lib/plugin/options.js';
import { firstLine, runCommand } from '../lib/host/command.js';
import {
  excerpt,
  JOURNAL_FIELDS,
  JournalScan,
  journalPermissionProblem,
  parsePatternSpec,
  substringPattern,
  type JournalScanResult,
  type LinePattern,
} from '../lib/host/journal.js';
import { currentUser } from '../lib/host/user.js';
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
  /** undefined when not asked (--no-unit-state, --journal-directory). */
  unit?: UnitState;
}

export const DEFAULT_UNIT = 'snap.microk8s.daemon-k8s-dqlite';

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
  'warning-context-canceled': opt.range({ default: '0', describe: 'Warning range for "context canceled" lines in --window' }),
  'critical-context-canceled': opt.range({ default: '9', describe: 'Critical range for "context canceled" lines in --window' }),
  'warning-database-is-locked': opt.range({ default: '0', describe: 'Warning range for "database is locked" lines in --window' }),
  'critical-database-is-locked': opt.range({ default: '9', describe: 'Critical range for "database is locked" lines in --window' }),
  pattern: opt.list({
    placeholder: '[NAME=]TEXT', max: MAX_CUSTOM_PATTERNS, each: (spec) => void parsePatternSpec(spec),
    describe: `More to count (up to ${MAX_CUSTOM_PATTERNS}): [NAME=]TEXT or [NAME=]/REGEX/FLAGS`,
  }),
  'pattern-warning': opt.range({ default: '0', describe: 'Warning range for each --pattern count' }),
  'pattern-critical': opt.range({ describe: 'Critical range for each --pattern count (default: none)' }),
  'unit-state': {
    boolean: true,
    describe: 'Judge the unit\'s systemd state (default: on, off with --journal-directory); --no-unit-state skips it',
    parse: (raw: unknown) => (raw === undefined ? undefined : Boolean(raw)),
  } satisfies OptionSpec<boolean | undefined>,
  'journal-directory': opt.string({
    placeholder: 'DIR', describe: 'Read journal files from this directory (journalctl -D), e.g. a host journal mounted into a container',
  }),
};
type Options = OptionsOf<typeof options>;

/** Ask systemd whether the unit runs: yes unless reading another machine's journal directory. */
export function checksUnit(o: Options): boolean {
  return o.unitState ?? o.journalDirectory === undefined;
}

/**
 * The built-in patterns with their ranges, then every --pattern with
 * --pattern-warning/-critical. Default thresholds (warning, critical;
 * Monitoring Plugins ranges: '0' alerts from 1, '9' from 10).
 *
 * context canceled: kine's query context ended before dqlite answered. On a
 * follower it means reads and writes forwarded to the leader are not coming
 * back: during the incident k8s-dqlite on k8s02 logged it for every
 * serviceaccount query while the kubelet could not commit pod status, until
 * a restart. A single one can be an API server cancelling a watch as it
 * restarts, so one line warns; 10 in the default 5 minutes is two a minute,
 * sustained, and is critical.
 *
 * database is locked: SQLite's SQLITE_BUSY surfacing through kine: a write
 * gave up waiting for the lock, and the API request behind it failed. The
 * old check_dqlite_locks.sh watched only this. Same scale: one warns, 10 in
 * 5 minutes (the leader is wedged, not busy for a moment) is critical.
 */
export function patternsOf(o: Options): JudgedPattern[] {
  const patterns: JudgedPattern[] = [
    { ...substringPattern('context_canceled', 'context canceled'), warn: o.warningContextCanceled, crit: o.criticalContextCanceled },
    { ...substringPattern('database_is_locked', 'database is locked'), warn: o.warningDatabaseIsLocked, crit: o.criticalDatabaseIsLocked },
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

export default defineCheck({
  name: 'dqlite',
  triage: {
    skip: () => (MICROK8S_SNAP.some((p) => fs.existsSync(p)) ? undefined : 'not a microk8s node (no /snap/microk8s)'),
  },
  title: 'DQLITE',
  scope: 'node',
  summary: 'Errors in the k8s-dqlite journal on this node: context canceled, database is locked',
  description:
    'Errors in the k8s-dqlite journal on this node: counts the lines of the unit\'s journal in --window that contain ' +
    '"context canceled" (the follower cannot get answers from the dqlite leader: pod status writes fail, as on k8s02 in ' +
    'the incident) or "database is locked", each with its own thresholds, plus any --pattern; and whether the unit is ' +
    'running (CRITICAL when inactive or failed). Reads the journal with journalctl: the user running it (nagios) must ' +
    'be in group systemd-journal or adm. --pattern takes [NAME=]TEXT or [NAME=]/REGEX/FLAGS (flags i, m, s, u): TEXT is ' +
    'a case-sensitive substring, NAME ([a-z][a-z0-9_]*) the perfdata label (made from TEXT if omitted; to match text ' +
    'with an "=" in it, name it: \'lvl=level=error\'); every --pattern is judged by --pattern-warning/--pattern-critical. ' +
    'Unit state: without systemd as PID 1 (a container) systemctl cannot answer and the check says UNKNOWN unless ' +
    '--no-unit-state; with --journal-directory (another machine\'s journal) the local unit is not asked unless --unit-state.',
  thresholds: {
    describe: 'journal lines in --window matching any pattern, each line once (default: unset; every pattern has its own pair)',
  },
  options,
  examples: [
    ['$0', 'the NRPE default: snap.microk8s.daemon-k8s-dqlite, last 5 minutes'],
    ['$0 --pattern \'deadline=context deadline exceeded\' --pattern \'raft=/raft.*(timeout|lost)/i\' --pattern-critical 20', 'count more errors'],
    ['$0 --journal-directory /host/var/log/journal --window 15m', 'a host journal mounted into a container'],
  ],

  validate(o) {
    patternsOf(o);
  },

  async gather(ctx, o): Promise<Data> {
    const since = ctx.now - o.window * 1000;
    const args = [
      '-u', o.unit,
      '--since', `@${(since / 1000).toFixed(3)}`,
      '-o', 'json',
      `--output-fields=${JOURNAL_FIELDS.join(',')}`,
      // Show long messages too (without it json prints null for fields over 4 KiB).
      '--all',
      '--no-pager',
    ];
    if (o.journalDirectory) args.push('-D', o.journalDirectory);
    const scan = new JournalScan(patternsOf(o));

    const journal = runCommand('journalctl', args, { signal: ctx.signal, log: ctx.log, maxBytes: MAX_JOURNAL_BYTES, onLine: (l) => scan.line(l) })
      .then((r): Pick<Data, 'scan' | 'journalError' | 'journalNote'> => {
        const denied = journalPermissionProblem(r.stderr);
        if (denied) {
          const user = currentUser() ?? `uid ${process.getuid?.() ?? '?'}`;
          return {
            // NRPE keeps the groups it started with: after usermod it must be restarted too.
            journalError: `cannot read the journal as user ${user} (journalctl: ${denied}); ` +
              `as root: usermod -aG systemd-journal ${user} && systemctl restart nagios-nrpe-server`,
          };
        }
        if (r.exitCode !== 0) {
          return { journalError: `journalctl could not read the journal (exit ${r.exitCode}): ${firstLine(r.stderr) || 'no message'}` };
        }
        return { scan: scan.result(), journalNote: firstLine(r.stderr) || undefined };
      })
      .catch((e: unknown) => {
        if (e instanceof PluginError) return { journalError: e.message };
        throw e;
      });
    const unit = checksUnit(o)
      ? unitState(o.unit, { signal: ctx.signal, log: ctx.log }).catch((e: unknown): UnitState => {
        if (e instanceof PluginError) return { known: false, unit: o.unit, reason: e.message, noSystemd: /not found/.test(e.message) };
        throw e;
      })
      : undefined;
    const [j, u] = await Promise.all([journal, unit]);
    return { ...j, unit: u };
  },

  evaluate(d, o, now) {
    const r = new Report();
    const win = formatDuration(o.window);
    const ago = (t?: number) => (t === undefined ? '' : `${formatDuration(Math.max(0, (now - t) / 1000))} ago`);
    const unit = judgeUnit(r, d.unit, o);

    if (d.journalError || !d.scan) {
      const msg = d.journalError ?? 'journalctl gave no result';
      r.add(State.UNKNOWN, msg);
      // Only a unit that is down or starting is news next to an unreadable journal.
      return statusLine(r, unit && alerts(unit.state) ? unit : undefined, { state: State.UNKNOWN, text: msg });
    }

    // The patterns: each count against its ranges, the newest example each.
    const s = d.scan;
    const patterns = patternsOf(o);
    const judged = s.patterns.map((c, i) => {
      const p = patterns[i]!;
      return { c, j: r.judge(c.label, c.count, { warn: p.warn, crit: p.crit, min: 0 }) };
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
    const matched = r.judge('matched_lines', s.matched, { warn: o.warning, crit: o.critical, min: 0 });
    if (matched.state !== State.OK) r.add(matched.state, `${plural(s.matched, 'line')} in ${win} match a pattern (-w ${o.warning ?? '-'} -c ${o.critical ?? '-'})`);
    r.metric('lines_scanned', s.scanned, { min: 0 });
    if (s.malformed) r.info(`${plural(s.malformed, 'journalctl line')} not JSON, skipped`);
    if (d.journalNote) r.info(`journalctl: ${d.journalNote}`);

    // What the journal says: the alerting patterns, worst first, with the newest example.
    const alerting = judged.filter(({ j }) => j.state !== State.OK).sort((a, b) => bySeverityDesc(a.j.state, b.j.state));
    let text: string;
    if (alerting.length) {
      const newest = alerting[0]!.c.examples.at(-1);
      text = alerting.map(({ c }) => `${c.count} ${c.display}${c.count ? ` (last ${ago(c.last)})` : ''}`).join(', ') +
        ` in ${win} of ${o.unit} (${plural(s.scanned, 'line')} scanned)` + (newest ? `: ${excerpt(newest.message, newest.at, 120)}` : '');
    } else if (s.scanned === 0) {
      text = `no journal entries for ${o.unit} in the last ${win} (0 lines scanned)`;
    } else {
      text = `${judged.map(({ c }) => `${c.count} ${c.display}`).join(', ')} in ${win} (${plural(s.scanned, 'line')} of ${o.unit} scanned)`;
    }
    return statusLine(r, unit, { state: worst(...judged.map(({ j }) => j.state), matched.state), text });
  },
});

const alerts = (s: State) => s === State.CRITICAL || s === State.WARNING;

/** One half of the status line (the unit, the journal): its state and words. */
interface Half {
  state: State;
  text: string;
}

/** Is k8s-dqlite running at all? undefined when not asked. */
function judgeUnit(r: Report, u: UnitState | undefined, o: Options): Half | undefined {
  if (!u) {
    r.info(`unit state not checked (${o.journalDirectory ? 'reading a journal directory, maybe another machine\'s; --unit-state judges the local unit' : '--no-unit-state'})`);
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
function statusLine(r: Report, unit: Half | undefined, journal: Half): Outcome {
  for (const h of [unit, journal]) if (h) r.problem(h.state, h.text);
  const unitLeads = !!unit && (alerts(unit.state) || (unit.state === State.UNKNOWN && !alerts(journal.state)));
  const line = (unitLeads ? [unit, journal] : [journal, unit]).filter((h): h is Half => !!h).map((h) => h.text).join('; ');
  return { ...r.done(line), summary: line };
}
