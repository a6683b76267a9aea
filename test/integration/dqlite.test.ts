// check_k8s_dqlite run as NRPE runs it, against real journal files: entries
// in the journal export format, written by systemd-journal-remote, read by
// the real journalctl through --journal-directory.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST, expectContract, parsePerf, runBuilt, type CheckRun } from '../harness.js';
import { dqliteEntry, haveJournalRemote, writeJournal, type ExportEntry } from '../journal-fixture.js';

const TITLE = 'DQLITE';
const S = 1000;
const M = 60 * S;
const UNIT = 'snap.microk8s.daemon-k8s-dqlite';

const CC_TXN = 'error in txn: query (try: 0): context canceled';
const CC_WATCH = 'WATCH Failed to send cancel response for watchID 77: rpc error: code = Canceled desc = context canceled';
const LOCKED = 'error in txn: exec (try: 0): database is locked';

/**
 * What every scenario has, relative to `now`. Inside the 5 minute window
 * everything sits between now-10s and now-4m30s so a check started up to
 * 30 s later sees the same entries.
 */
function background(now: number): ExportEntry[] {
  const e: ExportEntry[] = [];
  // 20 ordinary k8s-dqlite lines in the window.
  for (let k = 0; k < 20; k++) e.push(dqliteEntry(now - 10 * S - k * 13 * S, 'info', `Compacted revision ${90000 + k}`));
  // Older trouble, outside the window: 15 context canceled, 5 database is locked.
  for (let k = 0; k < 15; k++) e.push(dqliteEntry(now - 8 * M - k * 40 * S, 'error', CC_TXN));
  for (let k = 0; k < 5; k++) e.push(dqliteEntry(now - 9 * M - k * 50 * S, 'error', LOCKED));
  for (let k = 0; k < 30; k++) e.push(dqliteEntry(now - 6 * M - k * 45 * S, 'info', 'Kine listening on unix://@/var/snap/microk8s/current/var/kubernetes/backend/kine.sock'));
  // Other units in the window saying the same words: not k8s-dqlite's.
  for (let k = 0; k < 5; k++) {
    e.push({
      time: now - 20 * S - k * 30 * S, unit: 'snap.microk8s.daemon-kubelite.service', identifier: 'microk8s.daemon-kubelite', pid: 96829, comm: 'kubelite', priority: 3,
      message: `E1125 09:10:0${k}.149366   96829 status.go:71] apiserver received an error that is not an metav1.Status: &errors.errorString{s:"context canceled"}`,
    });
  }
  e.push({ time: now - 30 * S, unit: 'snap.microk8s.daemon-containerd.service', identifier: 'microk8s.daemon-containerd', pid: 4242, message: 'level=error msg="database is locked"' });
  return e;
}

const required = haveJournalRemote();

describe.skipIf(!required)('check_k8s_dqlite reading real journal files', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-nrpe-dqlite-'));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  const journal = (name: string, entries: ExportEntry[]) => {
    const dir = path.join(root, name);
    writeJournal(dir, entries);
    return dir;
  };
  const run = async (args: string[], env?: NodeJS.ProcessEnv): Promise<CheckRun> => {
    const r = await runBuilt('dqlite', args, { env });
    expectContract(r, TITLE);
    return r;
  };

  let healthy: string;
  let now: number;
  let fresh = 0;
  /**
   * The incident's journal, written relative to the moment it is used: the
   * entries span 4m20s of the 5m window, so one written at beforeAll slips
   * out of the window when the suite runs slowly.
   */
  const incidentJournal = () => {
    const t = Date.now();
    return journal(`incident-${fresh++}`, [
      ...background(t),
      // k8s02 during the incident: every serviceaccount query fails.
      ...Array.from({ length: 36 }, (_, k) => dqliteEntry(t - 15 * S - k * 7 * S, 'error', CC_TXN)),
      dqliteEntry(t - 12 * S, 'error', CC_WATCH),
      // Not valid UTF-8: journalctl prints the message as a byte array.
      dqliteEntry(t - 40 * S, 'error', '', {
        message: Buffer.concat([Buffer.from('time="x" level=error msg="error in txn: '), Buffer.from([0xff, 0xfe]), Buffer.from(': database is locked"')]),
      }),
      { ...dqliteEntry(t - 50 * S, 'error', ''), message: 'I1125 09:10:05.711775   19886 log.go:198] [ERROR] dqlite: proxy: first: remote -> local: local error: tls: bad record MAC' },
    ]);
  };
  beforeAll(() => {
    now = Date.now();
    healthy = journal('healthy', background(now));
  });

  it('OK on a healthy journal: errors outside the window and in other units do not count', async () => {
    const r = await run(['--journal-directory', healthy]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.firstLine).toBe(
      `K8S DQLITE OK - 0 context canceled, 0 context deadline exceeded, 0 database is locked, 0 no available dqlite leader server found in 5m (20 lines of ${UNIT} scanned) ` +
      '| context_canceled=0;;;0 rate_context_canceled=0;1;6;0 context_deadline_exceeded=0;;;0 rate_context_deadline_exceeded=0;0.4;2;0 ' +
      'database_is_locked=0;;;0 rate_database_is_locked=0;0.4;2;0 no_available_leader=0;;;0 rate_no_available_leader=0;0.2;1;0 matched_lines=0;;;0 lines_scanned=20;;;0',
    );
    expect(r.stdout).toContain("\nunit state not checked (reading a journal directory, maybe another machine's; --unit-state judges the local unit)\n");
  });

  it('a longer --window reaches the older errors, judged as a rate over that window (behaviour change, issue 13.7)', async () => {
    let r = await run(['--journal-directory', healthy, '--window', '30m']);
    expect(r.code, r.stdout).toBe(0); // 15 and 5 lines in 30 minutes: 0.5 and 0.17 a minute
    expect(r.perf).toMatchObject({ context_canceled: '15', rate_context_canceled: '0.5', database_is_locked: '5', rate_database_is_locked: '0.17', lines_scanned: '70' });
    r = await run(['--journal-directory', healthy, '--window', '30m', '--context-canceled-warning', '0.2', '--database-is-locked-critical', '0.1']);
    expect(r.code).toBe(2);
    expect(r.firstLine).toMatch(/^K8S DQLITE CRITICAL - 5 database is locked \(0\.17\/min, last [\dms]+ ago\), 15 context canceled \(0\.5\/min, last [\dms]+ ago\) in 30m of snap\.microk8s\.daemon-k8s-dqlite \(70 lines scanned\): time="[^"]+" level=error msg="error in txn: exec \(try: 0\): database is locked" \| /);
  });

  it('--unit reads another unit\'s journal (the name without .service works as in journalctl)', async () => {
    const r = await run(['--journal-directory', healthy, '--unit', 'snap.microk8s.daemon-kubelite', '--context-canceled-warning', '0.5']);
    expect(r.code).toBe(1);
    expect(r.perf).toMatchObject({ context_canceled: '5', database_is_locked: '0', lines_scanned: '5' });
  });

  it('OK on a few context canceled lines, WARNING on a sustained rate, quoting the newest with its time (behaviour change, issue 13.7)', async () => {
    const t = Date.now();
    const few = journal('few', [...background(t), dqliteEntry(t - 60 * S, 'error', CC_TXN), dqliteEntry(t - 15 * S, 'error', CC_WATCH)]);
    let r = await run(['--journal-directory', few]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.perf).toMatchObject({ context_canceled: '2', rate_context_canceled: '0.4', matched_lines: '2', lines_scanned: '22' });
    expect(r.stdout).toMatch(/\ncontext canceled: 2 lines in 5m, last [\dms]+ ago at /);

    const dir = journal('warning', [...background(t), ...[100, 80, 60, 45, 30].map((ago) => dqliteEntry(t - ago * S, 'error', CC_TXN)), dqliteEntry(t - 15 * S, 'error', CC_WATCH)]);
    r = await run(['--journal-directory', dir]);
    expect(r.code, r.stdout).toBe(1);
    expect(r.perf).toMatchObject({ context_canceled: '6', rate_context_canceled: '1.2', database_is_locked: '0', matched_lines: '6', lines_scanned: '26' });
    expect(r.firstLine).toMatch(/^K8S DQLITE WARNING - 6 context canceled \(1\.2\/min, last [\dms]+ ago\) in 5m of snap\.microk8s\.daemon-k8s-dqlite \(26 lines scanned\): \.\.\.[^|]*cancel response for watchID 77: rpc error: code = Canceled desc = context canceled" \| /);
    const iso = new Date(t - 15 * S).toISOString().slice(0, 19);
    expect(r.stdout).toMatch(/\n\[WARNING\] context canceled: 6 lines in 5m, last [\dms]+ ago at /);
    expect(r.stdout).toContain(` at ${iso}Z: ...l=error msg="WATCH Failed to send cancel response for watchID 77: rpc error: code = Canceled desc = context canceled"\n`);
    // -v: the whole line and the earlier examples.
    const v = await run(['--journal-directory', dir, '-v']);
    expect(v.stdout).toContain(` at ${iso}Z: time="${iso}Z" level=error msg="WATCH Failed to send`);
    expect(v.stdout).toContain(`\nearlier context canceled: ${new Date(t - 30 * S).toISOString().slice(0, 19)}Z: time=`);
  });

  it('counts context deadline exceeded by default: the apiserver\'s storage health check timing out is CRITICAL (issue 13.7)', async () => {
    const t = Date.now();
    // k8s-dqlite when the leader does not answer: /registry/health ranges time out every few seconds (canonical/microk8s#3227).
    const dir = journal('deadline', [...background(t), ...Array.from({ length: 12 }, (_, k) => dqliteEntry(t - 10 * S - k * 20 * S, 'error', 'error while range on /registry/health : query (try: 0): context deadline exceeded'))]);
    const r = await run(['--journal-directory', dir]);
    expect(r.code, r.stdout).toBe(2);
    expect(r.perf).toMatchObject({ context_deadline_exceeded: '12', rate_context_deadline_exceeded: '2.4' });
    expect(r.firstLine).toMatch(/^K8S DQLITE CRITICAL - 12 context deadline exceeded \(2\.4\/min, last [\dms]+ ago\) in 5m of snap\.microk8s\.daemon-k8s-dqlite/);
  });

  it('--kubelite reads the kubelite journal too: pod and node status the kubelet cannot write (issue 13.7)', async () => {
    const t = Date.now();
    const kubelite = (at: number, message: string): ExportEntry => ({
      time: at, unit: 'snap.microk8s.daemon-kubelite.service', identifier: 'microk8s.daemon-kubelite', pid: 96829, comm: 'kubelite', priority: 6, message,
    });
    const dir = journal('kubelite', [
      ...background(t),
      ...Array.from({ length: 4 }, (_, k) => kubelite(t - 20 * S - k * 30 * S,
        'I1125 09:10:05.478968   96829 status_manager.go:877] "Failed to update status for pod" pod="media/sonarr-0" err="Timeout: request did not complete within requested timeout - context deadline exceeded"')),
      kubelite(t - 25 * S, 'E1125 09:10:06.126250   96829 kubelet_node_status.go:548] "Error updating node status, will retry" err="error getting node \\"k8s02\\": context deadline exceeded"'),
    ]);
    let r = await run(['--journal-directory', dir]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.perf.kubelite_pod_status_failed).toBeUndefined();
    r = await run(['--journal-directory', dir, '--kubelite']);
    expect(r.code, r.stdout).toBe(1);
    expect(r.perf).toMatchObject({ kubelite_pod_status_failed: '4', rate_kubelite_pod_status_failed: '0.8', kubelite_node_status_failed: '1', kubelite_deadline_exceeded: '5', rate_kubelite_deadline_exceeded: '1' });
    expect(r.firstLine).toMatch(/^K8S DQLITE WARNING - 0 context canceled, 0 context deadline exceeded, 0 database is locked, 0 no available dqlite leader server found in 5m \(20 lines of snap\.microk8s\.daemon-k8s-dqlite scanned\); 4 Failed to update status for pod \(0\.8\/min, last [\dms]+ ago\), 5 context deadline exceeded \(1\/min, last [\dms]+ ago\) in 5m of snap\.microk8s\.daemon-kubelite \(\d+ lines scanned\)/);
  });

  it('CRITICAL on the incident: context canceled from k8s-dqlite, a non-UTF-8 database is locked counted too', async () => {
    const r = await run(['--journal-directory', incidentJournal()]);
    expect(r.code, r.stdout).toBe(2);
    expect(r.perf).toMatchObject({ context_canceled: '37', rate_context_canceled: '7.4', database_is_locked: '1', matched_lines: '38', lines_scanned: '59' });
    expect(r.firstLine).toMatch(/^K8S DQLITE CRITICAL - 37 context canceled \(7\.4\/min, last [\dms]+ ago\) in 5m of snap\.microk8s\.daemon-k8s-dqlite \(59 lines scanned\)/);
    expect(r.stdout).toMatch(/\n\[CRITICAL\] context canceled: 37 lines in 5m, last [\dms]+ ago at \S+Z: \.\.\.l=error msg="WATCH Failed to send cancel response for watchID 77: rpc error: code = Canceled desc = context canceled"\n/);
    // One database is locked in 5m is not an alarm on its own (0.2 a minute).
    expect(r.stdout).toMatch(/\ndatabase is locked: 1 line in 5m, last [\dms]+ ago at \S+Z: time="x" level=error msg="error in txn: \uFFFD\uFFFD: database is locked"\n/);
    expect(Buffer.byteLength(r.stdout)).toBeLessThanOrEqual(8191);
  });

  it('--pattern adds counts with their own thresholds, plain text and /regex/', async () => {
    const r = await run(['--journal-directory', incidentJournal(), '--pattern', 'tls_mac=/tls: bad record mac/i', '--pattern', 'deadline exceeded',
      '--pattern-warning', '5', '--pattern-critical', '0', '--context-canceled-warning', '100', '--context-canceled-critical', '200', '--database-is-locked-warning', '0.1']);
    expect(r.code, r.stdout).toBe(2);
    expect(r.perf).toMatchObject({ context_canceled: '37', database_is_locked: '1', tls_mac: '1', deadline_exceeded: '0', matched_lines: '39' });
    expect(r.firstLine).toMatch(/^K8S DQLITE CRITICAL - 1 \/tls: bad record mac\/i \(0\.2\/min, last [\dms]+ ago\), 1 database is locked \(0\.2\/min, last [\dms]+ ago\) in 5m .*: I1125 09:10:05\.711775 19886 log\.go:198\] \[ERROR\] dqlite: proxy/);
    expect(r.firstLine).toContain(' tls_mac=1;;;0 rate_tls_mac=0.2;5;0;0 deadline_exceeded=0;;;0 rate_deadline_exceeded=0;5;0;0 ');
  });

  it('-w/-c judge every matching line together', async () => {
    const r = await run(['--journal-directory', incidentJournal(), '--context-canceled-warning', '100', '--context-canceled-critical', '100', '-w', '30', '-c', '50']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('[WARNING] 38 lines in 5m match a pattern (-w 30 -c 50)');
    expect(r.firstLine).toContain(' matched_lines=38;30;50;0 ');
  });

  it('counts a "no available dqlite leader server found" loop (canonical/microk8s#5524), read from the volatile journal with --journal-root', async () => {
    const t = Date.now();
    // journalctl --root reads ROOT/var/log/journal and ROOT/run/log/journal (Storage=volatile, or before the flush).
    const host = path.join(root, 'host');
    writeJournal(path.join(host, 'var', 'log', 'journal', '0123456789abcdef0123456789abcdef'), background(t));
    writeJournal(path.join(host, 'run', 'log', 'journal', '0123456789abcdef0123456789abcdef'), Array.from({ length: 8 }, (_, k) =>
      dqliteEntry(t - 10 * S - k * 30 * S, 'error', 'failed to create dqlite connection: no available dqlite leader server found')));
    const r = await run(['--journal-root', host]);
    expect(r.code, r.stdout).toBe(2);
    expect(r.perf).toMatchObject({ no_available_leader: '8', rate_no_available_leader: '1.6', lines_scanned: '28' });
    expect(r.firstLine).toMatch(/^K8S DQLITE CRITICAL - 8 no available dqlite leader server found \(1\.6\/min, last [\dms]+ ago\) in 5m of snap\.microk8s\.daemon-k8s-dqlite \(28 lines scanned\)/);
    // The persistent directory alone (-D) does not see it.
    const persistent = await run(['--journal-directory', path.join(host, 'var', 'log', 'journal')]);
    expect(persistent.code, persistent.stdout).toBe(0);
    expect(persistent.perf).toMatchObject({ no_available_leader: '0', lines_scanned: '20' });
  });

  it('--format json: the same result as one object', async () => {
    const r = await runBuilt('dqlite', ['--journal-directory', incidentJournal(), '--format', 'json']);
    expect(r.code).toBe(2);
    const o = JSON.parse(r.stdout);
    expect(o).toMatchObject({ check: 'dqlite', state: 'CRITICAL', exitCode: 2 });
    expect(o.perfdata.map((p: { label: string; value: number }) => [p.label, p.value])).toEqual([
      ['context_canceled', 37], ['rate_context_canceled', 7.4], ['context_deadline_exceeded', 0], ['rate_context_deadline_exceeded', 0],
      ['database_is_locked', 1], ['rate_database_is_locked', 0.2], ['no_available_leader', 0], ['rate_no_available_leader', 0],
      ['matched_lines', 38], ['lines_scanned', 59],
    ]);
    expect(o.findings.find((f: { state: string }) => f.state === 'CRITICAL').text).toMatch(/^context canceled: 37 lines in 5m/);
  });

  it('OK with no entries for the unit in the window, and says so', async () => {
    const t = Date.now();
    const dir = journal('quiet', background(t).filter((e) => e.unit !== `${UNIT}.service` || e.time < t - 6 * M));
    const r = await run(['--journal-directory', dir]);
    expect(r.code).toBe(0);
    expect(r.firstLine).toMatch(/^K8S DQLITE OK - no journal entries for snap\.microk8s\.daemon-k8s-dqlite in the last 5m \(0 lines scanned\) \| .*lines_scanned=0;;;0$/);
  });

  it('20k lines in the window: counted exactly, output within 1 KiB', async () => {
    const t = Date.now();
    const entries: ExportEntry[] = [];
    for (let i = 0; i < 20000; i++) {
      const at = t - 10 * S - Math.floor((i * 250 * S) / 20000);
      const msg = i % 40 === 0 ? CC_TXN : i % 400 === 7 ? LOCKED : `GET /registry/pods/ns-${i % 97}/pod-${i} revision ${1000000 + i}`;
      entries.push(dqliteEntry(at, i % 40 === 0 || i % 400 === 7 ? 'error' : 'info', msg));
    }
    const dir = journal('large', entries);
    const r = await run(['--journal-directory', dir]);
    expect(r.code).toBe(2);
    expect(r.perf).toMatchObject({ context_canceled: '500', database_is_locked: '50', matched_lines: '550', lines_scanned: '20000' });
    expect(Buffer.byteLength(r.stdout)).toBeLessThanOrEqual(8191);
    console.log(`check_k8s_dqlite: 20000 journal lines in ${r.ms} ms`);
  });

  it('runs journalctl with fixed arguments, no shell (-vv shows the command)', async () => {
    const r = await run(['--journal-directory', healthy, '-vv']);
    expect(r.stderr).toMatch(new RegExp(
      `running journalctl -u ${UNIT.replace(/\./g, '\\.')} --since @\\d{10}\\.\\d{3} -o json --output-fields=MESSAGE --all --no-pager -D ${healthy.replace(/[.]/g, '\\.')}\\n`,
    ));
    const since = Number(/--since @(\d+\.\d+)/.exec(r.stderr)![1]) * 1000;
    expect(Math.abs(Date.now() - 5 * M - since)).toBeLessThan(30 * S);
    expect(r.stderr).toMatch(/journalctl exited 0 after \d+ ms, \d+ bytes in 20 lines/);
  });

  it('--unit-state with a journal directory judges the local unit: UNKNOWN here (no systemd, or no microk8s)', async () => {
    const r = await run(['--journal-directory', healthy, '--unit-state']);
    expect(r.code).toBe(3);
    expect(r.firstLine).toMatch(/^K8S DQLITE UNKNOWN - (state of snap\.microk8s\.daemon-k8s-dqlite unknown: no systemd on this host \(--no-unit-state skips this\)|unit snap\.microk8s\.daemon-k8s-dqlite not found on this host)/);
    // A real finding outranks not knowing.
    const c = await run(['--journal-directory', incidentJournal(), '--unit-state', '-v']);
    expect(c.code).toBe(2);
    expect(c.firstLine).toMatch(/^K8S DQLITE CRITICAL - 37 context canceled .*; (state of snap\.microk8s\.daemon-k8s-dqlite unknown|unit snap\.microk8s\.daemon-k8s-dqlite not found)/);
    expect(c.stdout).toMatch(/\n\[UNKNOWN\] (cannot tell whether snap\.microk8s\.daemon-k8s-dqlite is running: systemctl: |unit snap\.microk8s\.daemon-k8s-dqlite not found)/);
  });

  it('UNKNOWN when journalctl cannot open the journal directory', async () => {
    const r = await run(['--journal-directory', path.join(root, 'missing')]);
    expect(r.code).toBe(3);
    expect(r.firstLine).toBe(`K8S DQLITE UNKNOWN - journalctl could not read the journal (exit 1): Failed to open ${path.join(root, 'missing')}: No such file or directory`);
  });

  it('UNKNOWN when journalctl is not installed', async () => {
    const r = await run(['--journal-directory', healthy], { PATH: path.join(root, 'no-bin') });
    expect(r.code).toBe(3);
    expect(r.firstLine).toBe(`K8S DQLITE UNKNOWN - journalctl not found (searched PATH=${path.join(root, 'no-bin')}); install it or run this check where it exists`);
  });

  it('UNKNOWN with one line on bad options', async () => {
    const cases: [string[], RegExp][] = [
      [['--pattern', '/(unclosed/'], /^K8S DQLITE UNKNOWN - invalid --pattern '\/\(unclosed\/': Invalid regular expression: .*\(see --help\)$/],
      [['--pattern', '/x/g'], /flags may be i, m, s and u/],
      [['--context-canceled-warning', '10:5'], /^K8S DQLITE UNKNOWN - --context-canceled-warning: invalid range '10:5': start 10 is greater than end 5 \(see --help\)$/],
      [['--warning-context-canceled', '0'], /Unknown arguments?: warning-context-canceled/], // the count-based names are gone: their unit changed
      [['-c', 'x'], /invalid range 'x'/],
      [['--window=-5m'], /invalid --window '-5m'/],
      [['--unit', 'bad unit'], /invalid --unit 'bad unit'/],
      [['--bogus'], /Unknown argument: bogus/],
    ];
    for (const [args, re] of cases) {
      const r = await run(['--journal-directory', healthy, ...args]);
      expect(r.code, args.join(' ')).toBe(3);
      expect(r.firstLine).toMatch(re);
      expect(r.stdout.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
  });

  it('--help documents --pattern, the thresholds and the journal group', async () => {
    const r = await runBuilt('dqlite', ['--help']);
    expect(r.code).toBe(3);
    for (const s of ['--pattern', '--pattern-warning', '--context-canceled-warning', '--context-deadline-exceeded-critical', '--database-is-locked-critical', '--kubelite', '--journal-directory', '--no-unit-state', 'systemd-journal', "'lvl=level=error'"]) {
      expect(r.stdout).toContain(s);
    }
  });

  const root_ = process.getuid?.() === 0;
  it.skipIf(!root_)('UNKNOWN with the fix when the user may not read the journal (run as nobody)', async () => {
    // journal-remote writes 0640 root files: nobody can list the directory but not read them.
    fs.chmodSync(root, 0o755);
    fs.chmodSync(healthy, 0o755);
    const bin = path.join(DIST, 'check_k8s_dqlite');
    const out = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', bin, '--journal-directory', healthy], { env: { PATH: '/usr/bin:/bin' } }, (err, stdout) => {
        resolve({ code: err ? Number((err as { code?: number }).code) : 0, stdout });
      });
    });
    expect(out.code, out.stdout).toBe(3);
    expect(out.stdout.split('\n')[0]).toMatch(
      /^K8S DQLITE UNKNOWN - cannot read the journal as user (nobody|uid 65534) \(journalctl: No journal files were opened due to insufficient permissions\.\); as root: usermod -aG systemd-journal (nobody|uid 65534) && systemctl restart nagios-nrpe-server$/,
    );
    expect(parsePerf(out.stdout.split('\n')[0]!)).toEqual({});
  });
  if (!root_) console.warn('SKIPPING the journal permission test: it runs the check as nobody, which needs root');
});
