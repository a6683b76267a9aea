// Real journal files for tests: entries written in the journal export format
// (https://systemd.io/JOURNAL_EXPORT_FORMATS/) and turned into a .journal
// file by systemd-journal-remote, which journalctl -D then reads like the
// host journal.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const JOURNAL_REMOTE = '/lib/systemd/systemd-journal-remote';
export const DQLITE_UNIT = 'snap.microk8s.daemon-k8s-dqlite.service';

/** Fixed ids so captured output is stable. */
export const BOOT_ID = '3f7c5e2a9b8d4c1e8f6a5b4c3d2e1f00';
const MACHINE_ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';

export interface ExportEntry {
  /** Epoch ms. */
  time: number;
  /** _SYSTEMD_UNIT; undefined for kernel-ish entries. */
  unit?: string;
  /** Text, or raw bytes (not UTF-8: journalctl prints them as a number array). */
  message: string | Buffer;
  identifier?: string;
  pid?: number;
  comm?: string;
  priority?: number;
  hostname?: string;
  /** Extra fields (e.g. a second MESSAGE). */
  extra?: [string, string | Buffer][];
}

/**
 * Null when systemd-journal-remote is there; otherwise why not. Under CI the
 * tool is installed by .ci/run, so a missing one is a test failure there.
 */
export function journalRemoteMissing(): string | null {
  if (fs.existsSync(JOURNAL_REMOTE)) return null;
  return `${JOURNAL_REMOTE} not found: apt-get install systemd-journal-remote (.ci/run installs it)`;
}

/** Call at the top of a describe: throws under CI, returns false (and says why) locally. */
export function haveJournalRemote(): boolean {
  const missing = journalRemoteMissing();
  if (!missing) return true;
  if (process.env.CI) throw new Error(`CI is set and the journal tests need real journal files: ${missing}`);
  console.warn(`SKIPPING journal-file tests: ${missing}`);
  return false;
}

function field(name: string, value: string | Buffer): Buffer {
  const buf = Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8');
  // Text fields are NAME=value; anything with a newline or not UTF-8 uses the binary form.
  if (!Buffer.isBuffer(value) && !value.includes('\n')) return Buffer.concat([Buffer.from(`${name}=`), buf, Buffer.from('\n')]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(buf.length));
  return Buffer.concat([Buffer.from(`${name}\n`), len, buf, Buffer.from('\n')]);
}

/** Entries (sorted by time) in the journal export format. */
export function exportFormat(entries: ExportEntry[], bootTime: number): Buffer {
  const parts: Buffer[] = [];
  for (const e of [...entries].sort((a, b) => a.time - b.time)) {
    const usec = BigInt(Math.round(e.time * 1000));
    const mono = BigInt(Math.max(1, Math.round((e.time - bootTime) * 1000)));
    const f: [string, string | Buffer][] = [
      ['__REALTIME_TIMESTAMP', usec.toString()],
      ['__MONOTONIC_TIMESTAMP', mono.toString()],
      ['_BOOT_ID', BOOT_ID],
      ['_MACHINE_ID', MACHINE_ID],
      ['_HOSTNAME', e.hostname ?? 'k8s02'],
      ['_TRANSPORT', 'stdout'],
      ['PRIORITY', String(e.priority ?? 6)],
      ['SYSLOG_FACILITY', '3'],
    ];
    if (e.unit) f.push(['_SYSTEMD_UNIT', e.unit], ['_SYSTEMD_SLICE', 'system.slice'], ['_SYSTEMD_CGROUP', `/system.slice/${e.unit}`]);
    if (e.identifier) f.push(['SYSLOG_IDENTIFIER', e.identifier]);
    if (e.pid) f.push(['_PID', String(e.pid)], ['_UID', '0'], ['_GID', '0']);
    if (e.comm) f.push(['_COMM', e.comm]);
    f.push(['MESSAGE', e.message], ...(e.extra ?? []));
    for (const [k, v] of f) parts.push(field(k, v));
    parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

/** Write entries into DIR/test.journal with systemd-journal-remote; returns the file. */
export function writeJournal(dir: string, entries: ExportEntry[], bootTime = Date.now() - 3 * 86400e3): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'test.journal');
  const r = spawnSync(JOURNAL_REMOTE, ['-o', file, '-'], { input: exportFormat(entries, bootTime), encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.status !== 0 || !fs.existsSync(file)) throw new Error(`systemd-journal-remote failed (${r.status ?? r.signal}): ${r.stderr}`);
  return file;
}

/** A k8s-dqlite line as logrus prints it under the snap. */
export function dqliteLine(time: number, level: string, msg: string): string {
  return `time="${new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z')}" level=${level} msg="${msg}"`;
}

export function dqliteEntry(time: number, level: string, msg: string, extra: Partial<ExportEntry> = {}): ExportEntry {
  return {
    time,
    unit: DQLITE_UNIT,
    identifier: 'microk8s.daemon-k8s-dqlite',
    comm: 'k8s-dqlite',
    pid: 19886,
    priority: level === 'error' ? 3 : 6,
    message: dqliteLine(time, level, msg),
    ...extra,
  };
}
