// The systemd journal as `journalctl -o json` prints it, one entry per line,
// and counting the entries whose MESSAGE matches a set of patterns in
// bounded memory: counts, first/last time and a few recent examples per
// pattern, never the entries themselves.
import type { Logger } from '../plugin/log.js';
import { PluginError, UsageError } from '../plugin/errors.js';
import { sanitize } from '../plugin/sanitize.js';
import { firstLine, runCommand } from './command.js';
import { currentUser } from './user.js';

/** The fields a scan reads; give them to `journalctl --output-fields=` to keep lines short. */
export const JOURNAL_FIELDS = ['MESSAGE'] as const;

export interface JournalEntry {
  /** __REALTIME_TIMESTAMP in epoch ms (undefined if absent or malformed). */
  time?: number;
  /** MESSAGE as text ('' when the entry has none). */
  message: string;
  priority?: number;
  pid?: number;
}

/**
 * A journal field value as text. journalctl -o json prints a field as a
 * string, as an array of byte values when it is not valid UTF-8 (or holds
 * control characters), and as an array of those when the entry has the
 * field more than once; a field too large to show is null (unless --all).
 */
export function fieldText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    if (v.every((b) => typeof b === 'number')) return Buffer.from(v as number[]).toString('utf8');
    const parts = v.map(fieldText).filter((s): s is string => s !== undefined);
    return parts.length ? parts.join('\n') : undefined;
  }
  return undefined;
}

/** One line of `journalctl -o json`; undefined when it is not a JSON object. */
export function parseJournalLine(line: string): JournalEntry | undefined {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!o || typeof o !== 'object' || Array.isArray(o)) return undefined;
  const r = o as Record<string, unknown>;
  const usec = fieldText(r.__REALTIME_TIMESTAMP);
  const priority = Number(fieldText(r.PRIORITY));
  const pid = Number(fieldText(r._PID));
  return {
    time: usec && /^\d+$/.test(usec) ? Math.floor(Number(usec) / 1000) : undefined,
    message: fieldText(r.MESSAGE) ?? '',
    priority: Number.isInteger(priority) && fieldText(r.PRIORITY) !== '' ? priority : undefined,
    pid: Number.isInteger(pid) && pid > 0 ? pid : undefined,
  };
}

/** What to look for in MESSAGE. */
export interface LinePattern {
  /** Perfdata label: [a-z][a-z0-9_]*. */
  label: string;
  /** How the operator wrote it, for output: 'context canceled', '/raft.*timeout/i'. */
  display: string;
  /** Where the message matches (index of the match), or -1. */
  find(message: string): number;
}

/** A plain substring, case-sensitive as grep is. */
export function substringPattern(label: string, text: string): LinePattern {
  return { label, display: text, find: (m) => m.indexOf(text) };
}

const LABEL = /^[a-z][a-z0-9_]{0,39}$/;
const REGEX = /^\/(.+)\/([a-z]*)$/s;

/** 'Context Canceled!' -> 'context_canceled': a perfdata label from free text. */
export function labelFor(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').replace(/^(\d)/, 'p_$1').slice(0, 40).replace(/_+$/, '');
}

/**
 * A --pattern value: `[NAME=]TEXT`. TEXT is a plain substring, or a regular
 * expression written `/RE/FLAGS` (flags i, m, s, u). NAME ([a-z][a-z0-9_]*,
 * up to 40 characters) is the perfdata label; without it the label is made
 * from TEXT. The first '=' separates NAME only when what precedes it is a
 * valid NAME, so to match text like 'level=error' give a name:
 * 'lvl=level=error'.
 */
export function parsePatternSpec(spec: string, option = '--pattern'): LinePattern {
  if (spec === '') throw new UsageError(`${option} needs a value: [NAME=]TEXT or [NAME=]/REGEX/FLAGS`);
  let name: string | undefined;
  let text = spec;
  const eq = spec.indexOf('=');
  if (eq > 0 && LABEL.test(spec.slice(0, eq))) {
    name = spec.slice(0, eq);
    text = spec.slice(eq + 1);
  }
  if (text === '') throw new UsageError(`invalid ${option} '${sanitize(spec, 100)}': nothing to match after '${name}='`);
  const re = REGEX.exec(text);
  if (!re) {
    const label = name ?? labelFor(text);
    if (!label) throw new UsageError(`invalid ${option} '${sanitize(spec, 100)}': give it a name, e.g. ${option} 'name=${sanitize(text, 60)}'`);
    return substringPattern(label, text);
  }
  const [, source, flags] = re as unknown as [string, string, string];
  const bad = flags.replace(/[imsu]/g, '');
  if (bad || new Set(flags).size !== flags.length) {
    throw new UsageError(`invalid ${option} '${sanitize(spec, 100)}': flags may be i, m, s and u, each once (not '${sanitize(bad || flags, 20)}')`);
  }
  let regex: RegExp;
  try {
    regex = new RegExp(source, flags);
  } catch (e) {
    throw new UsageError(`invalid ${option} '${sanitize(spec, 100)}': ${sanitize((e as Error).message, 150)}`);
  }
  const label = name ?? labelFor(source);
  if (!label) throw new UsageError(`invalid ${option} '${sanitize(spec, 100)}': give it a name, e.g. ${option} 'name=${sanitize(text, 60)}'`);
  return { label, display: text, find: (m) => regex.exec(m)?.index ?? -1 };
}

export interface Example {
  time?: number;
  /** Sanitized, cut around the match. */
  message: string;
  /** Where the match starts in `message` (to cut it shorter around the match). */
  at: number;
}

export interface PatternCount {
  label: string;
  display: string;
  count: number;
  /** Times (epoch ms) of the first and last matching entries. */
  first?: number;
  last?: number;
  /** The most recent matches, newest last, sanitized. */
  examples: Example[];
}

export interface JournalScanResult {
  /** Lines read from journalctl (entries, plus malformed lines). */
  scanned: number;
  /** Lines that were not a JSON object (skipped). */
  malformed: number;
  /** Entries matching at least one pattern (each entry once). */
  matched: number;
  /** Times (epoch ms) of the oldest and newest entries scanned. */
  oldest?: number;
  newest?: number;
  patterns: PatternCount[];
}

/**
 * Feed it journalctl -o json lines one at a time; memory stays a few
 * examples per pattern however many lines go through.
 */
export class JournalScan {
  private readonly counts: PatternCount[];
  private scanned = 0;
  private malformed = 0;
  private matched = 0;
  private oldest?: number;
  private newest?: number;

  constructor(
    private readonly patterns: readonly LinePattern[],
    /** Recent examples kept per pattern. */
    private readonly keep = 3,
    /** Example messages are cut to this many characters. */
    private readonly exampleLength = 300,
  ) {
    this.counts = patterns.map((p) => ({ label: p.label, display: p.display, count: 0, examples: [] }));
  }

  line(text: string): void {
    if (text === '') return;
    this.scanned++;
    const e = parseJournalLine(text);
    if (!e) { this.malformed++; return; }
    this.entry(e);
  }

  entry(e: JournalEntry): void {
    if (e.time !== undefined) {
      if (this.oldest === undefined || e.time < this.oldest) this.oldest = e.time;
      if (this.newest === undefined || e.time > this.newest) this.newest = e.time;
    }
    let hit = false;
    this.patterns.forEach((p, i) => {
      const at = p.find(e.message);
      if (at < 0) return;
      hit = true;
      const c = this.counts[i]!;
      c.count++;
      if (e.time !== undefined) {
        if (c.first === undefined || e.time < c.first) c.first = e.time;
        if (c.last === undefined || e.time >= c.last) c.last = e.time;
      }
      const message = excerpt(e.message, at, this.exampleLength);
      c.examples.push({ time: e.time, message, at: Math.max(0, p.find(message)) });
      if (c.examples.length > this.keep) c.examples.shift();
    });
    if (hit) this.matched++;
  }

  result(): JournalScanResult {
    return {
      scanned: this.scanned,
      malformed: this.malformed,
      matched: this.matched,
      oldest: this.oldest,
      newest: this.newest,
      patterns: this.counts.map((c) => ({ ...c, examples: [...c.examples] })),
    };
  }
}

/**
 * A long message cut to `max` characters around position `at` (the match),
 * sanitized: '...' marks what was left out on either side.
 */
export function excerpt(message: string, at: number, max: number): string {
  if (message.length <= max) return sanitize(message, max);
  // Keep a third of the room before the match, the rest after it.
  const start = Math.max(0, Math.min(at - Math.floor(max / 3), message.length - (max - 3)));
  const head = start > 0 ? '...' : '';
  let end = start + max - head.length;
  const tail = end < message.length ? '...' : '';
  if (tail) end -= tail.length;
  return sanitize(head + message.slice(start, end) + tail, max);
}

/** The lines journalctl prints when the user may not read the system journal. */
export function journalPermissionProblem(stderr: string): string | undefined {
  const line = stderr.split('\n').find((l) =>
    /insufficient permissions|not seeing messages from other users|Permission denied/i.test(l));
  return line ? sanitize(line, 200) : undefined;
}

export interface JournalRead {
  /** undefined when journalctl could not read the journal (error says why). */
  scan?: JournalScanResult;
  error?: string;
  /** journalctl's stderr on success (warnings such as a truncated journal file). */
  note?: string;
}

export interface ReadJournalOptions {
  signal: AbortSignal;
  log?: Logger;
  /** Epoch ms: read entries from here on. */
  since: number;
  /** journalctl -D: another machine's journal files. */
  directory?: string;
  /**
   * journalctl --root: the journals of the system mounted there, persistent
   * (var/log/journal) and volatile (run/log/journal) both. Without it or
   * `directory` journalctl reads this system's, both of them too.
   */
  root?: string;
  maxBytes: number;
}

/**
 * Scan one unit's journal since a time with journalctl -o json, streamed
 * line by line (bounded memory). A journal it may not read, or a journalctl
 * that fails, is an error line for the caller to report, not an exception.
 */
export async function readJournal(unit: string, patterns: readonly LinePattern[], o: ReadJournalOptions): Promise<JournalRead> {
  const args = [
    '-u', unit,
    '--since', `@${(o.since / 1000).toFixed(3)}`,
    '-o', 'json',
    `--output-fields=${JOURNAL_FIELDS.join(',')}`,
    // Show long messages too (without it json prints null for fields over 4 KiB).
    '--all',
    '--no-pager',
  ];
  if (o.directory) args.push('-D', o.directory);
  else if (o.root) args.push('--root', o.root);
  const scan = new JournalScan(patterns);
  try {
    const r = await runCommand('journalctl', args, { signal: o.signal, log: o.log, maxBytes: o.maxBytes, onLine: (l) => scan.line(l) });
    const denied = journalPermissionProblem(r.stderr);
    if (denied) {
      const user = currentUser() ?? `uid ${process.getuid?.() ?? '?'}`;
      // NRPE keeps the groups it started with: after usermod it must be restarted too.
      return { error: `cannot read the journal as user ${user} (journalctl: ${denied}); as root: usermod -aG systemd-journal ${user} && systemctl restart nagios-nrpe-server` };
    }
    if (r.exitCode !== 0) return { error: `journalctl could not read the journal (exit ${r.exitCode}): ${firstLine(r.stderr) || 'no message'}` };
    return { scan: scan.result(), note: firstLine(r.stderr) || undefined };
  } catch (e) {
    if (e instanceof PluginError) return { error: e.message };
    throw e;
  }
}
