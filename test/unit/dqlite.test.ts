import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import dqlite, { checksUnit, kubelitePatternsOf, patternsOf, type Data } from '../../checks/dqlite.js';
import { excerpt, fieldText, journalPermissionProblem, JournalScan, parseJournalLine, parsePatternSpec, substringPattern, type JournalScanResult } from '../../lib/host/journal.js';
import { parseShow } from '../../lib/host/systemd.js';
import { renderNagios } from '../../lib/plugin/render.js';
import { outcomeState } from '../../lib/plugin/result.js';
import { State } from '../../lib/plugin/state.js';
import { ROOT } from '../harness.js';
import { checkOptions } from './support.js';

// Captured from the real journalctl (systemd 252) reading a journal file that
// systemd-journal-remote built from test/journal-fixture.ts entries:
//   journalctl -D DIR -u snap.microk8s.daemon-k8s-dqlite.service -o json --all --no-pager
//   journalctl ... -o json --output-fields=MESSAGE,PRIORITY,_PID,SYSLOG_IDENTIFIER --no-pager (no --all)
const captured = (name: string) =>
  fs.readFileSync(path.join(ROOT, 'test/fixtures/journal', name), 'utf8').split('\n').filter(Boolean);
const ALL = captured('dqlite-all-fields.jsonl');
const SLIM = captured('dqlite-output-fields.jsonl');
const T0 = Date.parse('2026-06-12T23:10:00Z');

const opts = (...argv: string[]) => checkOptions(dqlite, argv);

async function usage(...argv: string[]): Promise<string> {
  try {
    await opts(...argv);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`expected a usage error for ${argv.join(' ')}`);
}

describe('journal lines as the real journalctl -o json prints them', () => {
  it('reads string, byte-array and repeated MESSAGE fields and the realtime timestamp', () => {
    const e = ALL.map(parseJournalLine);
    expect(e.every(Boolean)).toBe(true);
    expect(e[0]).toEqual({
      time: T0, priority: 6, pid: 19886,
      message: 'time="2026-06-12T23:10:00Z" level=info msg="Kine listening on unix://@/var/snap/microk8s/current/var/kubernetes/backend/kine.sock"',
    });
    expect(e[1]!.message).toBe('time="2026-06-12T23:10:01Z" level=error msg="error in txn: query (try: 0): context canceled"');
    expect(e[1]!.time).toBe(T0 + 1000);
    // Not valid UTF-8: journalctl prints an array of byte values.
    expect(ALL[4]).toMatch(/"MESSAGE":\[116,105,109,101,/);
    expect(e[4]!.message).toMatch(/^time="2026-06-12T23:10:03Z" level=error msg="error in txn: query \/registry\/serviceaccounts\/kÿ: \uFFFD\uFFFD: database is locked"$/);
    // The same field twice in one entry: an array of values.
    expect(ALL[5]).toMatch(/"MESSAGE":\["time=/);
    expect(e[5]!.message).toBe('time="2026-06-12T23:10:04Z" level=info msg="first"\nsecond part: context canceled');
    expect(e[7]!.message).toMatch(/^time="2026-06-12T23:10:06Z" level=error msg="x{5000} context canceled"$/);
  });

  it('without --all journalctl prints null for a field over 4 KiB: an empty message, not a crash', () => {
    const long = SLIM.map(parseJournalLine).find((x) => x && x.time === T0 + 6000);
    expect(SLIM.some((l) => l.includes('"MESSAGE":null'))).toBe(true);
    expect(long).toMatchObject({ message: '', pid: 19886 });
  });

  it('--output-fields keeps what the check reads', () => {
    const slim = SLIM.map(parseJournalLine);
    const all = ALL.map(parseJournalLine);
    expect(slim.slice(0, 7)).toEqual(all.slice(0, 7));
    expect(Object.keys(JSON.parse(SLIM[1]!)).sort()).toEqual(
      ['MESSAGE', 'PRIORITY', 'SYSLOG_IDENTIFIER', '_BOOT_ID', '_PID', '__CURSOR', '__MONOTONIC_TIMESTAMP', '__REALTIME_TIMESTAMP'],
    );
  });

  it('skips what is not a JSON object', () => {
    for (const bad of ['', 'not json', '[1,2]', 'null', '"MESSAGE"', '{"MESSAGE":"cut off']) expect(parseJournalLine(bad)).toBeUndefined();
    expect(parseJournalLine('{"__REALTIME_TIMESTAMP":"x","MESSAGE":5}')).toEqual({ message: '', time: undefined, priority: undefined, pid: undefined });
  });

  it('turns field values into text', () => {
    expect(fieldText('a')).toBe('a');
    expect(fieldText([104, 105])).toBe('hi');
    expect(fieldText([[104, 105], 'x'])).toBe('hi\nx');
    expect(fieldText(null)).toBeUndefined();
    expect(fieldText([])).toBe('');
  });
});

describe('JournalScan', () => {
  const patterns = () => [substringPattern('context_canceled', 'context canceled'), substringPattern('database_is_locked', 'database is locked')];

  it('counts the captured lines per pattern, each matching entry once in matched', () => {
    const scan = new JournalScan(patterns());
    for (const l of ALL) scan.line(l);
    scan.line('garbage');
    scan.line('');
    const r = scan.result();
    expect(r).toMatchObject({ scanned: 9, malformed: 1, matched: 6, oldest: T0, newest: T0 + 6000 });
    expect(r.patterns.map((p) => [p.label, p.count, p.first, p.last])).toEqual([
      ['context_canceled', 4, T0 + 1000, T0 + 6000],
      ['database_is_locked', 2, T0 + 2000, T0 + 3000],
    ]);
  });

  it('keeps only the newest examples, cut around the match', () => {
    const scan = new JournalScan(patterns(), 3, 120);
    for (const l of ALL) scan.line(l);
    const cc = scan.result().patterns[0]!;
    expect(cc.examples.map((x) => x.time)).toEqual([T0 + 1200, T0 + 4000, T0 + 6000]);
    expect(cc.examples[1]!.message).toBe('time="2026-06-12T23:10:04Z" level=info msg="first" second part: context canceled');
    const long = cc.examples[2]!.message;
    expect(long.length).toBeLessThanOrEqual(120);
    expect(long).toMatch(/^\.\.\.x+ context canceled"$/);
  });

  it('stays small on 100k lines', () => {
    const scan = new JournalScan(patterns());
    const line = ALL[1]!;
    for (let i = 0; i < 100000; i++) scan.line(line);
    const r = scan.result();
    expect(r.patterns[0]).toMatchObject({ count: 100000 });
    expect(r.patterns[0]!.examples).toHaveLength(3);
  });

  it('excerpt keeps short messages whole and sanitizes them', () => {
    expect(excerpt('a | b\nc', 0, 50)).toBe('a / b c');
    expect(excerpt('x'.repeat(100) + 'MATCH' + 'y'.repeat(100), 100, 60)).toMatch(/^\.\.\.x+MATCHy+\.\.\.$/);
    expect(excerpt('MATCH' + 'y'.repeat(100), 0, 20)).toBe('MATCHyyyyyyyyyyyy...');
    expect(excerpt('y'.repeat(100) + 'MATCH', 100, 20)).toBe('...yyyyyyyyyyyyMATCH');
    expect(excerpt('0123456789abcdefghij', 15, 12)).toBe('...bcdefghij');
  });
});

describe('--pattern values', () => {
  it('plain text, named text, regex with flags', () => {
    const a = parsePatternSpec('context deadline exceeded');
    expect([a.label, a.display, a.find('x: context deadline exceeded')]).toEqual(['context_deadline_exceeded', 'context deadline exceeded', 3]);
    const b = parsePatternSpec('raft=/raft.*(timeout|lost)/i');
    expect([b.label, b.display, b.find('RAFT leader LOST'), b.find('raft ok')]).toEqual(['raft', '/raft.*(timeout|lost)/i', 0, -1]);
    const c = parsePatternSpec('lvl=level=error');
    expect([c.label, c.find('x level=error')]).toEqual(['lvl', 2]);
    const d = parsePatternSpec('Level=Error');
    expect([d.label, d.display]).toEqual(['level_error', 'Level=Error']);
    expect(parsePatternSpec('/tls: bad record MAC/').label).toBe('tls_bad_record_mac');
    expect(parsePatternSpec('503 errors').label).toBe('p_503_errors');
  });

  it('matching is case-sensitive unless the regex says i', () => {
    expect(parsePatternSpec('context canceled').find('Context Canceled')).toBe(-1);
    expect(parsePatternSpec('/context canceled/i').find('Context Canceled')).toBe(0);
  });

  it('rejects what cannot work, saying why', () => {
    expect(() => parsePatternSpec('/(/')).toThrow(/^invalid --pattern '\/\(\/': Invalid regular expression: .*Unterminated group/);
    expect(() => parsePatternSpec('/a/g')).toThrow(/flags may be i, m, s and u, each once \(not 'g'\)/);
    expect(() => parsePatternSpec('/a/ii')).toThrow(/each once/);
    expect(() => parsePatternSpec('')).toThrow(/needs a value/);
    expect(() => parsePatternSpec('name=')).toThrow(/nothing to match after 'name='/);
    expect(() => parsePatternSpec('!!!')).toThrow(/give it a name/);
  });
});

describe('check_k8s_dqlite options', () => {
  it('defaults: the microk8s unit, 5m, the three built-in patterns with their rate ranges, unit state on (behaviour change, issue 13.7)', async () => {
    const o = await opts();
    expect(o).toMatchObject({ unit: 'snap.microk8s.daemon-k8s-dqlite', window: 300, journalDirectory: undefined });
    expect(checksUnit(o)).toBe(true);
    expect(patternsOf(o).map((p) => [p.label, p.display, p.warn?.text, p.crit?.text])).toEqual([
      ['context_canceled', 'context canceled', '1', '6'],
      ['context_deadline_exceeded', 'context deadline exceeded', '0.4', '2'],
      ['database_is_locked', 'database is locked', '0.4', '2'],
      ['no_available_leader', 'no available dqlite leader server found', '0.2', '1'],
    ]);
    expect(o.warning).toBeUndefined();
  });

  it('--pattern repeats, in order, with --pattern-warning/--pattern-critical', async () => {
    const o = await opts('--pattern', 'deadline=context deadline exceeded', '--pattern=/raft/i', '--pattern', 'x', '--pattern-critical', '5:');
    expect(patternsOf(o).slice(4).map((p) => [p.label, p.warn?.text, p.crit?.text])).toEqual([
      ['deadline', '0', '5:'], ['raft', '0', '5:'], ['x', '0', '5:'],
    ]);
  });

  it('--journal-directory and --journal-root turn the local unit state off unless --unit-state', async () => {
    expect(checksUnit(await opts('--journal-directory', '/x'))).toBe(false);
    expect(checksUnit(await opts('--journal-root', '/host'))).toBe(false);
    expect(checksUnit(await opts('--journal-root', '/host', '--unit-state'))).toBe(true);
    expect(checksUnit(await opts('--journal-directory', '/x', '--unit-state'))).toBe(true);
    expect(checksUnit(await opts('--no-unit-state'))).toBe(false);
  });

  it('usage errors name the option', async () => {
    expect(await usage('--context-canceled-warning', '5:1')).toBe("--context-canceled-warning: invalid range '5:1': start 5 is greater than end 1");
    expect(await usage('--database-is-locked-critical', 'abc')).toMatch(/^--database-is-locked-critical: invalid range 'abc'/);
    expect(await usage('--kubelite-unit', 'a b')).toBe("invalid --kubelite-unit 'a b': not a systemd unit name");
    expect(await usage('--pattern-critical', '')).toMatch(/^--pattern-critical: invalid range/);
    expect(await usage('--pattern', '/[/')).toMatch(/^invalid --pattern '\/\[\/': Invalid regular expression/);
    expect(await usage('--pattern', 'context canceled')).toMatch(/the name 'context_canceled' is taken/);
    expect(await usage('--pattern', 'a=x', '--pattern', 'a=y')).toMatch(/the name 'a' is taken/);
    expect(await usage('--window', '0')).toMatch(/invalid --window '0': must be from 1s to 7d/);
    expect(await usage('--window', '8d')).toMatch(/must be from 1s to 7d/);
    expect(await usage('--window', 'soon')).toMatch(/invalid --window 'soon'/);
    expect(await usage('--unit', '--foo')).toMatch(/.+/);
    expect(await usage('--unit', '-x')).toMatch(/.+/);
    expect(await usage('--unit', 'a b')).toBe("invalid --unit 'a b': not a systemd unit name");
    expect(await usage('--journal-directory', '')).toBe('--journal-directory needs a value');
    expect(await usage('--journal-directory', '/x', '--journal-root', '/host')).toBe('--journal-directory and --journal-root: give one');
    expect(await usage(...Array.from({ length: 21 }, (_, i) => [`--pattern`, `p${i}=x${i}`]).flat())).toMatch(/at most 20/);
  });
});

const NOW = Date.parse('2026-06-12T23:15:00Z');
const BUILTIN = [
  { label: 'context_canceled', display: 'context canceled' },
  { label: 'context_deadline_exceeded', display: 'context deadline exceeded' },
  { label: 'database_is_locked', display: 'database is locked' },
  { label: 'no_available_leader', display: 'no available dqlite leader server found' },
];

function scanOf(counts: Record<string, number>, extra: Partial<JournalScanResult> = {}, o?: { patterns: { label: string; display: string }[] }): JournalScanResult {
  const patterns = (o?.patterns ?? BUILTIN)
    .map(({ label, display }) => {
      const count = counts[label] ?? 0;
      return {
        label, display, count,
        first: count ? NOW - 240e3 : undefined,
        last: count ? NOW - 12e3 : undefined,
        examples: count ? [
          { time: NOW - 60e3, message: `older ${display}`, at: 6 },
          { time: NOW - 12e3, message: `time="2026-06-12T23:14:48Z" level=error msg="error in txn: query (try: 0): ${display}"`, at: 75 },
        ] : [],
      };
    });
  const matched = Object.values(counts).reduce((a, b) => a + b, 0);
  return { scanned: 4210, malformed: 0, matched, oldest: NOW - 299e3, newest: NOW - 1e3, patterns, ...extra };
}

const active = { known: true as const, unit: 'snap.microk8s.daemon-k8s-dqlite', load: 'loaded', active: 'active', sub: 'running', restarts: 0 };

describe('check_k8s_dqlite evaluate()', () => {
  const judge = async (d: Data, ...argv: string[]) => {
    const o = await opts(...argv);
    const out = dqlite.evaluate(d, o, NOW);
    return { out, state: outcomeState(out), text: renderNagios(out, { title: 'DQLITE', verbose: o.verbose }) };
  };

  it('OK: a clean journal and a running unit', async () => {
    const { state, text } = await judge({ scan: scanOf({}), unit: active });
    expect(state).toBe(State.OK);
    expect(text.split('\n')[0]).toBe(
      'K8S DQLITE OK - 0 context canceled, 0 context deadline exceeded, 0 database is locked, 0 no available dqlite leader server found in 5m (4210 lines of snap.microk8s.daemon-k8s-dqlite scanned); unit active (running) ' +
      '| context_canceled=0;;;0 rate_context_canceled=0;1;6;0 context_deadline_exceeded=0;;;0 rate_context_deadline_exceeded=0;0.4;2;0 ' +
      'database_is_locked=0;;;0 rate_database_is_locked=0;0.4;2;0 no_available_leader=0;;;0 rate_no_available_leader=0;0.2;1;0 matched_lines=0;;;0 lines_scanned=4210;;;0',
    );
    expect(text).toContain('\ncontext canceled: no lines in 5m\n');
  });

  it('OK with no entries at all, and says so', async () => {
    const { state, out } = await judge({ scan: scanOf({}, { scanned: 0, oldest: undefined, newest: undefined }), unit: active });
    expect(state).toBe(State.OK);
    expect(out.summary).toBe('no journal entries for snap.microk8s.daemon-k8s-dqlite in the last 5m (0 lines scanned); unit active (running)');
  });

  it('one or two context canceled lines in 5m are OK; a sustained rate warns, quoting the newest with its time (behaviour change, issue 13.7)', async () => {
    for (const n of [1, 2]) {
      const { state, text } = await judge({ scan: scanOf({ context_canceled: n }), unit: active });
      expect(state).toBe(State.OK);
      expect(text).toContain(`\ncontext canceled: ${n} line${n > 1 ? 's' : ''} in 5m, last 12s ago`);
    }
    const { state, out, text } = await judge({ scan: scanOf({ context_canceled: 6 }), unit: active });
    expect(state).toBe(State.WARNING);
    expect(out.summary).toBe(
      '6 context canceled (1.2/min, last 12s ago) in 5m of snap.microk8s.daemon-k8s-dqlite (4210 lines scanned): ' +
      'time="2026-06-12T23:14:48Z" level=error msg="error in txn: query (try: 0): context canceled"; unit active (running)',
    );
    expect(text).toContain('\n[WARNING] context canceled: 6 lines in 5m, last 12s ago at 2026-06-12T23:14:48Z: time="2026-06-12T23:14:48Z" level=error');
    expect(text).not.toContain('older context canceled');
  });

  it('context deadline exceeded is counted by default: three lines in 5m warn, a storm is critical (behaviour change, issue 13.7)', async () => {
    expect((await judge({ scan: scanOf({ context_deadline_exceeded: 2 }), unit: active })).state).toBe(State.OK);
    const w = await judge({ scan: scanOf({ context_deadline_exceeded: 3 }), unit: active });
    expect(w.state).toBe(State.WARNING);
    expect(w.out.summary).toMatch(/^3 context deadline exceeded \(0\.6\/min, last 12s ago\) in 5m/);
    expect(w.text).toContain(' context_deadline_exceeded=3;;;0 rate_context_deadline_exceeded=0.6;0.4;2;0 ');
    expect((await judge({ scan: scanOf({ context_deadline_exceeded: 11 }), unit: active })).state).toBe(State.CRITICAL);
    // The same count over a longer window is a lower rate.
    expect((await judge({ scan: scanOf({ context_deadline_exceeded: 11 }), unit: active }, '--window', '30m')).state).toBe(State.OK);
  });

  it('CRITICAL from a storm of context canceled lines; -v adds earlier examples', async () => {
    const { state, text, out } = await judge({ scan: scanOf({ context_canceled: 40, database_is_locked: 3 }), unit: active }, '-v');
    expect(state).toBe(State.CRITICAL);
    expect(out.actions?.[0]?.text).toMatch(/^run check_k8s_dqlite_cluster \(is there a leader, a quorum\?\) .*sudo snap restart microk8s\.daemon-k8s-dqlite on it, one node at a time/);
    expect(text.split('\n')[1]).toMatch(/^What to do: run check_k8s_dqlite_cluster/);
    expect(text).toMatch(/^K8S DQLITE CRITICAL - 40 context canceled \(8\/min, last 12s ago\), 3 database is locked \(0\.6\/min, last 12s ago\) in 5m/);
    expect(text).toContain('[CRITICAL] context canceled: 40 lines');
    expect(text).toContain('[WARNING] database is locked: 3 lines');
    expect(text).toContain('\nearlier context canceled: 2026-06-12T23:14:00Z: older context canceled\n');
    expect(text).toMatch(/\| context_canceled=40;;;0 rate_context_canceled=8;1;6;0 context_deadline_exceeded=0;;;0 rate_context_deadline_exceeded=0;0\.4;2;0 database_is_locked=3;;;0 rate_database_is_locked=0\.6;0\.4;2;0 no_available_leader=0;;;0 rate_no_available_leader=0;0\.2;1;0 matched_lines=43;;;0 lines_scanned=4210;;;0\n/);
  });

  it('each pattern has its own thresholds', async () => {
    const d = { scan: scanOf({ context_canceled: 5, database_is_locked: 1 }), unit: active };
    expect((await judge(d, '--context-canceled-warning', '0.5', '--context-canceled-critical', '10')).state).toBe(State.WARNING);
    const r = await judge(d, '--context-canceled-warning', '2', '--context-canceled-critical', '10', '--database-is-locked-warning', '5');
    expect(r.state).toBe(State.OK);
    expect((await judge(d, '--database-is-locked-critical', '0.1')).state).toBe(State.CRITICAL);
  });

  it('-w/-c judge all matching lines together', async () => {
    const d = { scan: scanOf({ context_canceled: 5, database_is_locked: 3 }), unit: active };
    const r = await judge(d, '--context-canceled-warning', '100', '--database-is-locked-warning', '100', '-c', '7');
    expect(r.state).toBe(State.CRITICAL);
    expect(r.text).toContain('[CRITICAL] 8 lines in 5m match a pattern (-w - -c 7)');
    expect(r.text).toContain(' matched_lines=8;;7;0 ');
  });

  it('custom patterns: counted, labelled, judged by --pattern-warning/--pattern-critical (1: expects a line)', async () => {
    const patterns = [
      ...BUILTIN,
      { label: 'deadline', display: 'context deadline exceeded' }, { label: 'heartbeat', display: '/leader/' },
    ];
    const d = { scan: scanOf({ deadline: 3 }, {}, { patterns }), unit: active };
    const r = await judge(d, '--pattern', 'deadline=context deadline exceeded', '--pattern', 'heartbeat=/leader/', '--pattern-warning', '5', '--pattern-critical', '0.1:');
    expect(r.state).toBe(State.CRITICAL);
    expect(r.out.summary).toMatch(/^0 \/leader\/ in 5m of snap/);
    expect(r.text).toContain('[CRITICAL] /leader/: no lines in 5m');
    expect(r.text).toContain('\ncontext deadline exceeded: 3 lines in 5m, last 12s ago');
    expect(r.text).toContain(' deadline=3;;;0 rate_deadline=0.6;5;0.1:;0 heartbeat=0;;;0 rate_heartbeat=0;5;0.1:;0 ');
  });

  it('CRITICAL when the unit is failed or inactive, and the summary says that first', async () => {
    for (const [a, sub] of [['failed', 'failed'], ['inactive', 'dead']]) {
      const { state, out } = await judge({ scan: scanOf({ context_canceled: 2 }), unit: { ...active, active: a!, sub: sub!, restarts: 3 } });
      expect(state).toBe(State.CRITICAL);
      expect(out.summary).toMatch(new RegExp(`^unit snap.microk8s.daemon-k8s-dqlite is ${a} \\(${sub}\\): not running, restarted 3 times by systemd; 2 context canceled`));
    }
  });

  it('WARNING while systemd restarts it', async () => {
    const { state, out } = await judge({ scan: scanOf({}), unit: { ...active, active: 'activating', sub: 'auto-restart', restarts: 1 } });
    expect(state).toBe(State.WARNING);
    expect(out.summary).toMatch(/^unit snap.microk8s.daemon-k8s-dqlite is activating \(auto-restart\): it exited and systemd is restarting it, restarted 1 time by systemd; /);
  });

  it('UNKNOWN when the unit does not exist', async () => {
    const { state, out } = await judge({ scan: scanOf({}), unit: { ...active, load: 'not-found', active: 'inactive', sub: 'dead' } });
    expect(state).toBe(State.UNKNOWN);
    expect(out.summary).toMatch(/^unit snap.microk8s.daemon-k8s-dqlite not found on this host/);
  });

  it('without systemd: UNKNOWN saying why and how to skip; a real journal finding still wins', async () => {
    const unit = { known: false as const, unit: 'snap.microk8s.daemon-k8s-dqlite', noSystemd: true,
      reason: "systemctl: System has not been booted with systemd as init system (PID 1). Can't operate." };
    const a = await judge({ scan: scanOf({}), unit });
    expect(a.state).toBe(State.UNKNOWN);
    expect(a.out.summary).toMatch(/^state of snap.microk8s.daemon-k8s-dqlite unknown: no systemd on this host \(--no-unit-state skips this\); 0 context canceled/);
    expect(a.text).toContain("[UNKNOWN] cannot tell whether snap.microk8s.daemon-k8s-dqlite is running: systemctl: System has not been booted with systemd as init system (PID 1). Can't operate.; --no-unit-state skips this\n");
    const b = await judge({ scan: scanOf({ context_canceled: 40 }), unit });
    expect(b.state).toBe(State.CRITICAL);
    expect(b.out.summary).toMatch(/^40 context canceled .*; state of snap.microk8s.daemon-k8s-dqlite unknown/);
  });

  it('unit state skipped: says so in the long output', async () => {
    const a = await judge({ scan: scanOf({}) }, '--no-unit-state');
    expect(a.state).toBe(State.OK);
    expect(a.text).toContain('\nunit state not checked (--no-unit-state)\n');
    const b = await judge({ scan: scanOf({}) }, '--journal-directory', '/j');
    expect(b.text).toContain("unit state not checked (reading a journal directory, maybe another machine's; --unit-state judges the local unit)");
  });

  it('UNKNOWN when the journal cannot be read, CRITICAL still when the unit is down', async () => {
    const journalError = 'cannot read the journal as user nagios (journalctl: No journal files were opened due to insufficient permissions.); add the user to group systemd-journal: usermod -aG systemd-journal nagios';
    const a = await judge({ journalError, unit: active });
    expect(a.state).toBe(State.UNKNOWN);
    expect(a.out.summary).toBe(journalError);
    expect(a.out.perfdata).toEqual([]);
    const b = await judge({ journalError, unit: { ...active, active: 'failed', sub: 'failed' } });
    expect(b.state).toBe(State.CRITICAL);
    expect(b.out.summary).toMatch(/^unit snap.microk8s.daemon-k8s-dqlite is failed \(failed\): not running; cannot read the journal/);
  });

  it('reports skipped lines and journalctl warnings', async () => {
    const { text } = await judge({ scan: scanOf({}, { malformed: 2 }), journalNote: 'Journal file /x.journal is truncated, ignoring file.', unit: active });
    expect(text).toContain('\n2 journalctl lines not JSON, skipped\n');
    expect(text).toContain('\njournalctl: Journal file /x.journal is truncated, ignoring file.\n');
  });
});

describe('journalctl permission messages', () => {
  it('recognises what journalctl prints to a user outside systemd-journal/adm', () => {
    expect(journalPermissionProblem('No journal files were opened due to insufficient permissions.\n')).toBe('No journal files were opened due to insufficient permissions.');
    expect(journalPermissionProblem('Hint: You are currently not seeing messages from other users and the system.\n      Users in groups \'adm\', \'systemd-journal\' can see all messages.\n      Pass -q to\n'))
      .toBe('Hint: You are currently not seeing messages from other users and the system.');
    expect(journalPermissionProblem('Journal file /var/log/journal/x/system.journal is truncated, ignoring file.\n')).toBeUndefined();
    expect(journalPermissionProblem('')).toBeUndefined();
  });
});

describe('systemctl show output', () => {
  it('parses Key=Value lines', () => {
    expect(parseShow('LoadState=loaded\nActiveState=failed\nSubState=failed\nNRestarts=5\n')).toEqual({ LoadState: 'loaded', ActiveState: 'failed', SubState: 'failed', NRestarts: '5' });
    expect(parseShow('')).toEqual({});
  });
});

describe('check_k8s_dqlite evaluate(): more situations', () => {
  const judge = async (d: Data, ...argv: string[]) => {
    const o = await opts(...argv);
    const out = dqlite.evaluate(d, o, NOW);
    return { out, state: outcomeState(out), text: renderNagios(out, { title: 'DQLITE', verbose: o.verbose }), lines: out.findings.map((f): [State | undefined, string] => [f.state, f.text]) };
  };
  const KUBELITE = [
    { label: 'kubelite_pod_status_failed', display: 'Failed to update status for pod' },
    { label: 'kubelite_node_status_failed', display: 'Error updating node status' },
    { label: 'kubelite_lease_failed', display: 'Failed to update lease' },
    { label: 'kubelite_deadline_exceeded', display: 'context deadline exceeded' },
  ];
  const kubeliteScan = (counts: Record<string, number>) => scanOf(counts, { scanned: 900 }, { patterns: KUBELITE });

  it('a WARNING pattern listed before a CRITICAL one: the CRITICAL one leads the status line and gives the quoted line', async () => {
    // 6 context canceled in 5m: 1.2/min, WARNING; 11 database is locked: 2.2/min, CRITICAL.
    const { state, out } = await judge({ scan: scanOf({ context_canceled: 6, database_is_locked: 11 }), unit: active });
    expect(state).toBe(State.CRITICAL);
    expect(out.summary).toBe(
      '11 database is locked (2.2/min, last 12s ago), 6 context canceled (1.2/min, last 12s ago) in 5m of snap.microk8s.daemon-k8s-dqlite (4210 lines scanned): ' +
      'time="2026-06-12T23:14:48Z" level=error msg="error in txn: query (try: 0): database is locked"; unit active (running)',
    );
  });

  it('the rate is per minute of --window, two decimals: 1 line in 7m is 0.14/min', async () => {
    const { out, text } = await judge({ scan: scanOf({ no_available_leader: 1 }), unit: active }, '--window', '7m');
    // 0.14/min is inside the 0.2 warning range.
    expect(outcomeState(out)).toBe(State.OK);
    expect(text).toContain(' rate_no_available_leader=0.14;0.2;1;0 ');
    expect(text).toContain('\nno available dqlite leader server found: 1 line in 7m, last 12s ago at 2026-06-12T23:14:48Z: ');
    // Two lines in 7m: 0.29/min, over 0.2.
    const w = await judge({ scan: scanOf({ no_available_leader: 2 }), unit: active }, '--window', '7m');
    expect(w.state).toBe(State.WARNING);
    expect(w.out.summary).toMatch(/^2 no available dqlite leader server found \(0\.29\/min, last 12s ago\) in 7m of /);
  });

  it('a line stamped after now (the clock behind the journal) reads 0s ago, never negative', async () => {
    const scan = scanOf({ database_is_locked: 20 });
    scan.patterns[2]!.last = NOW + 5000;
    const { out } = await judge({ scan, unit: active });
    expect(out.summary).toMatch(/^20 database is locked \(4\/min, last 0s ago\) in 5m/);
  });

  it('a count without a time or an example (an entry without __REALTIME_TIMESTAMP) says ? and quotes nothing', async () => {
    const scan = scanOf({ context_canceled: 40 });
    scan.patterns[0] = { ...scan.patterns[0]!, last: undefined, examples: [] };
    const { state, out, lines } = await judge({ scan, unit: active });
    expect(state).toBe(State.CRITICAL);
    expect(out.summary).toBe('40 context canceled (8/min, last ?) in 5m of snap.microk8s.daemon-k8s-dqlite (4210 lines scanned); unit active (running)');
    expect(lines).toContainEqual([State.CRITICAL, 'context canceled: 40 lines in 5m, last ? at ?: ']);
  });

  it('-v quotes earlier examples newest first and the newest whole; without -v an excerpt of 120 characters', async () => {
    const scan = scanOf({ context_canceled: 40 });
    const long = `time="2026-06-12T23:14:48Z" level=error msg="${'x'.repeat(200)} context canceled"`;
    scan.patterns[0]!.examples = [
      { time: NOW - 90e3, message: 'first context canceled', at: 6 },
      { time: NOW - 60e3, message: 'second context canceled', at: 7 },
      { time: NOW - 12e3, message: long, at: long.indexOf('context canceled') },
    ];
    const v = await judge({ scan, unit: active }, '-v');
    expect(v.text).toContain('\nearlier context canceled: 2026-06-12T23:14:00Z: second context canceled\nearlier context canceled: 2026-06-12T23:13:30Z: first context canceled\n');
    expect(v.text).toContain(`[CRITICAL] context canceled: 40 lines in 5m, last 12s ago at 2026-06-12T23:14:48Z: ${long}\n`);
    const quiet = await judge({ scan, unit: active });
    expect(quiet.text).not.toContain('earlier context canceled');
    const line = quiet.lines.find(([, t]) => t.startsWith('context canceled: 40 lines'))?.[1] ?? '';
    expect(line).toMatch(/^context canceled: 40 lines in 5m, last 12s ago at 2026-06-12T23:14:48Z: \.\.\.x+ context canceled"$/);
    expect(line.length).toBe('context canceled: 40 lines in 5m, last 12s ago at 2026-06-12T23:14:48Z: '.length + 120);
  });

  it('-w/-c on all matched lines: within them no line is added, and -w alone names its range', async () => {
    const d = { scan: scanOf({ context_canceled: 2, database_is_locked: 1 }), unit: active };
    const ok = await judge(d, '-w', '5');
    expect(ok.state).toBe(State.OK);
    expect(ok.text).not.toContain('match a pattern');
    const w = await judge(d, '-w', '2');
    expect(w.state).toBe(State.WARNING);
    expect(w.lines).toContainEqual([State.WARNING, '3 lines in 5m match a pattern (-w 2 -c -)']);
    // The status line: the journal's half at the worst of the patterns and the matched count.
    expect(w.out.summary).toBe('2 context canceled, 0 context deadline exceeded, 1 database is locked, 0 no available dqlite leader server found in 5m (4210 lines of snap.microk8s.daemon-k8s-dqlite scanned); unit active (running)');
    expect(w.out.actions?.[0]).toEqual({ state: State.WARNING, text: expect.stringMatching(/^run check_k8s_dqlite_cluster /) });
  });

  it('a unit restarted by systemd says how often, even when it runs', async () => {
    const { state, out } = await judge({ scan: scanOf({}), unit: { ...active, restarts: 2 } });
    expect(state).toBe(State.OK);
    expect(out.summary).toMatch(/; unit active \(running\), restarted 2 times by systemd$/);
  });

  it('deactivating or in maintenance: WARNING without the auto-restart words, and the unit leads', async () => {
    for (const a of ['deactivating', 'maintenance']) {
      const { state, out } = await judge({ scan: scanOf({}), unit: { ...active, active: a, sub: 'stop-sigterm' } });
      expect(state).toBe(State.WARNING);
      expect(out.summary).toMatch(new RegExp(`^unit snap.microk8s.daemon-k8s-dqlite is ${a} \\(stop-sigterm\\); 0 context canceled`));
      expect(out.actions?.[0]).toEqual({ state: State.WARNING, text: expect.stringMatching(/^start k8s-dqlite: sudo snap start microk8s\.daemon-k8s-dqlite /) });
    }
    // activating for another reason than a restart: no "exited" either.
    const { out } = await judge({ scan: scanOf({}), unit: { ...active, active: 'activating', sub: 'start-pre' } });
    expect(out.summary).toMatch(/^unit snap.microk8s.daemon-k8s-dqlite is activating \(start-pre\); /);
  });

  it('a unit systemd cannot tell about: UNKNOWN, the step says how to find out', async () => {
    const unit = { known: false as const, unit: 'snap.microk8s.daemon-k8s-dqlite', noSystemd: false, reason: 'Failed to connect to bus: Connection refused' };
    const { state, out } = await judge({ scan: scanOf({}), unit });
    expect(state).toBe(State.UNKNOWN);
    expect(out.summary).toMatch(/^state of snap.microk8s.daemon-k8s-dqlite unknown: systemd did not answer \(--no-unit-state skips this\); 0 context canceled/);
    expect(out.actions?.[0]?.text).toMatch(/^see whether microk8s is installed here \(snap list microk8s\) and systemd answers/);
    // An unknown unit next to a WARNING journal: the journal leads (a known problem outranks not knowing).
    const w = await judge({ scan: scanOf({ context_canceled: 6 }), unit });
    expect(w.state).toBe(State.WARNING);
    expect(w.out.summary).toMatch(/^6 context canceled \(1\.2\/min, last 12s ago\) .*; state of snap.microk8s.daemon-k8s-dqlite unknown: systemd did not answer/);
  });

  it('an unreadable journal: a unit that is fine or unknown is not news, one starting is', async () => {
    const journalError = 'journalctl: exit 1';
    const ok = await judge({ journalError, unit: active });
    expect(ok.out.summary).toBe('journalctl: exit 1');
    const unknown = await judge({ journalError, unit: { known: false as const, unit: 'snap.microk8s.daemon-k8s-dqlite', noSystemd: true, reason: 'no systemd' } });
    expect(unknown.state).toBe(State.UNKNOWN);
    expect(unknown.out.summary).toBe('journalctl: exit 1');
    const starting = await judge({ journalError, unit: { ...active, active: 'activating', sub: 'auto-restart' } });
    expect(starting.state).toBe(State.WARNING);
    expect(starting.out.summary).toBe('unit snap.microk8s.daemon-k8s-dqlite is activating (auto-restart): it exited and systemd is restarting it; journalctl: exit 1');
    // No scan and no error: still UNKNOWN, saying so.
    const none = await judge({ unit: active });
    expect(none.state).toBe(State.UNKNOWN);
    expect(none.out.summary).toBe('journalctl gave no result');
  });

  it('--journal-root alone: the unit state is not asked, said as reading another journal', async () => {
    const { text } = await judge({ scan: scanOf({}) }, '--journal-root', '/host');
    expect(text).toContain("\nunit state not checked (reading a journal directory, maybe another machine's; --unit-state judges the local unit)\n");
  });

  it('--kubelite: the apiserver and kubelet failing to write are their own half, with their own step', async () => {
    // 3 failed lease updates in 5m: 0.6/min, over the 0.4 warning; the dqlite journal clean.
    const { state, out, text } = await judge({ scan: scanOf({}), unit: active, kubelite: { scan: kubeliteScan({ kubelite_lease_failed: 3 }) } }, '--kubelite');
    expect(state).toBe(State.WARNING);
    expect(out.summary).toBe(
      '0 context canceled, 0 context deadline exceeded, 0 database is locked, 0 no available dqlite leader server found in 5m (4210 lines of snap.microk8s.daemon-k8s-dqlite scanned); ' +
      'unit active (running); 3 Failed to update lease (0.6/min, last 12s ago) in 5m of snap.microk8s.daemon-kubelite (900 lines scanned): ' +
      'time="2026-06-12T23:14:48Z" level=error msg="error in txn: query (try: 0): Failed to update lease"',
    );
    expect(out.actions).toEqual([{ state: State.WARNING, text: 'kubelite cannot write to the datastore: fix k8s-dqlite first (check_k8s_dqlite_cluster), then check again' }]);
    expect(text).toContain(' kubelite_lease_failed=3;;;0 rate_kubelite_lease_failed=0.6;0.4;2;0 ');
    // --kubelite-critical: 0.6/min is a storm.
    expect((await judge({ scan: scanOf({}), unit: active, kubelite: { scan: kubeliteScan({ kubelite_lease_failed: 3 }) } }, '--kubelite', '--kubelite-critical', '0.5')).state).toBe(State.CRITICAL);
    // Quiet kubelite: its counts in the OK line, in its own unit's words.
    const quiet = await judge({ scan: scanOf({}), unit: active, kubelite: { scan: kubeliteScan({}) } }, '--kubelite');
    expect(quiet.state).toBe(State.OK);
    expect(quiet.out.summary).toMatch(/; unit active \(running\); 0 Failed to update status for pod, 0 Error updating node status, 0 Failed to update lease, 0 context deadline exceeded in 5m \(900 lines of snap\.microk8s\.daemon-kubelite scanned\)$/);
  });

  it('--kubelite whose journal cannot be read: UNKNOWN naming the unit, the dqlite half still judged', async () => {
    const { state, out, lines } = await judge({ scan: scanOf({ context_canceled: 40 }), unit: active, kubelite: { error: 'journalctl: exit 1' } }, '--kubelite', '--kubelite-unit', 'kubelite.service');
    expect(state).toBe(State.CRITICAL);
    expect(out.summary).toMatch(/^40 context canceled .*; unit active \(running\); kubelite\.service journal not read$/);
    expect(lines).toContainEqual([State.UNKNOWN, 'kubelite.service: journalctl: exit 1']);
    const noScan = await judge({ scan: scanOf({}), unit: active, kubelite: {} }, '--kubelite');
    expect(noScan.state).toBe(State.UNKNOWN);
    expect(noScan.lines).toContainEqual([State.UNKNOWN, 'snap.microk8s.daemon-kubelite: journalctl gave no result']);
  });
});

describe('check_k8s_dqlite evaluate(): the long output', () => {
  const lines = async (d: Data, ...argv: string[]) => {
    const out = dqlite.evaluate(d, await opts(...argv), NOW);
    return { out, lines: out.findings.map((f): [State | undefined, string] => [f.state, f.text]) };
  };

  it('a clean journal: the unit, each pattern, nothing else (no skipped lines, no journalctl note)', async () => {
    const { lines: l } = await lines({ scan: scanOf({}), unit: active });
    expect(l).toEqual([
      [undefined, 'unit active (running)'],
      [undefined, 'context canceled: no lines in 5m'],
      [undefined, 'context deadline exceeded: no lines in 5m'],
      [undefined, 'database is locked: no lines in 5m'],
      [undefined, 'no available dqlite leader server found: no lines in 5m'],
    ]);
  });

  it('a unit that is down has its own line at its state, and the step to start it', async () => {
    const { out, lines: l } = await lines({ scan: scanOf({}), unit: { ...active, active: 'failed', sub: 'failed' } });
    expect(l[0]).toEqual([State.CRITICAL, 'unit snap.microk8s.daemon-k8s-dqlite is failed (failed): not running']);
    expect(out.actions?.[0]).toEqual({ state: State.CRITICAL, text: 'start k8s-dqlite: sudo snap start microk8s.daemon-k8s-dqlite (journalctl -u snap.microk8s.daemon-k8s-dqlite says why it stopped); then check_k8s_dqlite_cluster and check again' });
  });

  it('the status line quotes the newest of several examples', async () => {
    const scan = scanOf({ context_canceled: 40 });
    scan.patterns[0]!.examples = [
      { time: NOW - 90e3, message: 'first context canceled', at: 6 },
      { time: NOW - 60e3, message: 'second context canceled', at: 7 },
      { time: NOW - 12e3, message: 'third context canceled', at: 6 },
    ];
    const { out } = await lines({ scan, unit: active });
    expect(out.summary).toMatch(/ \(4210 lines scanned\): third context canceled; unit active \(running\)$/);
  });
});

describe('check_k8s_dqlite --kubelite patterns', () => {
  it('find what the apiserver and kubelet in kubelite log when the datastore fails them, under their own labels and ranges', async () => {
    const o = await opts('--kubelite', '--kubelite-warning', '0.5', '--kubelite-critical', '3');
    const ps = kubelitePatternsOf(o);
    expect(ps.map((p) => [p.label, p.display, p.warn?.text, p.crit?.text])).toEqual([
      ['kubelite_pod_status_failed', 'Failed to update status for pod', '0.5', '3'],
      ['kubelite_node_status_failed', 'Error updating node status', '0.5', '3'],
      ['kubelite_lease_failed', 'Failed to update lease', '0.5', '3'],
      ['kubelite_deadline_exceeded', 'context deadline exceeded', '0.5', '3'],
    ]);
    // klog lines as kubelite writes them (kubelet status_manager and kubelet_node_status as in
    // test/integration/dqlite.test.ts; the node lease controller; the apiserver's storage timeout).
    const lines = [
      'I1125 09:10:05.478968   96829 status_manager.go:877] "Failed to update status for pod" pod="media/sonarr-0" err="Timeout: request did not complete within requested timeout - context deadline exceeded"',
      'E1125 09:10:06.126250   96829 kubelet_node_status.go:548] "Error updating node status, will retry" err="error getting node \\"k8s02\\": etcdserver: request timed out"',
      'E1125 09:10:07.000001   96829 controller.go:195] "Failed to update lease" err="etcdserver: request timed out"',
      'E1125 09:10:08.000002   96829 status.go:71] apiserver received an error that is not an metav1.Status: context deadline exceeded',
    ];
    expect(ps.map((p, i) => p.find(lines[i]!) >= 0)).toEqual([true, true, true, true]);
    expect(ps.map((p) => p.find('I0612 23:14:52.000004 1234 kubelet.go:2400] "SyncLoop (PLEG): event for pod"'))).toEqual([-1, -1, -1, -1]);
  });

  it('-v: an earlier example without a time says ?', async () => {
    const scan = scanOf({ context_canceled: 40 });
    scan.patterns[0]!.examples = [{ time: undefined, message: 'timeless context canceled', at: 10 }, ...scan.patterns[0]!.examples];
    const o = await opts('-v');
    const out = dqlite.evaluate({ scan, unit: active }, o, NOW);
    expect(out.findings.map((f) => f.text)).toContain('earlier context canceled: ?: timeless context canceled');
  });
});
