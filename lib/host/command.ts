// Run one fixed host command for a node-local check (journalctl, systemctl,
// iptables-save, ...): an argument array, never a shell; killed when the
// check's AbortSignal fires (-t); output capped in bytes; spawn failures,
// timeouts and runaway output mapped to a PluginError with one line an
// operator can act on. A non-zero exit status is NOT an error here: many
// tools use it to answer (systemctl is-active exits 3 for "inactive"), so
// the caller reads exitCode and stderr and decides.
import type { Logger } from '../plugin/log.js';
import { PluginError } from '../plugin/errors.js';
import { sanitize } from '../plugin/sanitize.js';
import { State } from '../plugin/state.js';
import { whilePending } from '../plugin/pending.js';
import { killGroup, killGroupNow, trackGroup } from './process-group.js';

/**
 * NRPE starts plugins with no environment. Without a PATH, look where
 * Debian/Ubuntu install system tools (and never in the current directory).
 */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface CommandOptions {
  /** The check's signal (CheckContext.signal): aborting it kills the command. */
  signal: AbortSignal;
  /**
   * Cap on stdout bytes, buffered or streamed (default 1 MiB). Beyond it the
   * command is killed and runCommand throws an UNKNOWN PluginError.
   */
  maxBytes?: number;
  /**
   * Stream stdout: called once per line (without the newline), nothing is
   * buffered, so memory stays bounded however much the command prints.
   * result.stdout is then ''.
   */
  onLine?: (line: string) => void;
  /** Streaming only: a longer line is cut to this many bytes (default 256 KiB). */
  maxLineBytes?: number;
  /** Own time limit in ms (the check's -t applies anyway through signal). */
  timeoutMs?: number;
  /** Extra environment. The command gets only PATH (inherited or DEFAULT_PATH), LC_ALL=C and these. */
  env?: Record<string, string>;
  /** Pass this process's whole environment too (exec credential plugins expect it, as under kubectl). */
  inheritEnv?: boolean;
  /** What the timeout line names while it runs (default: the command line). */
  label?: string;
  /** -vv: the command line, exit status, bytes and time on stderr. */
  log?: Logger;
}

export interface CommandResult {
  /** The command line as text, for messages ('journalctl -u x -o json'). */
  command: string;
  exitCode: number;
  /** Buffered stdout ('' when streamed through onLine). */
  stdout: string;
  /** stderr, at most 64 KiB. */
  stderr: string;
  stdoutBytes: number;
  lines: number;
  /** Streamed lines that were cut to maxLineBytes. */
  truncatedLines: number;
}

const MAX_STDERR = 64 * 1024;

/** 'journalctl -u "a b" -o json': for messages and -vv logs only, never executed. */
export function describeCommand(file: string, args: readonly string[]): string {
  const q = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return [file, ...args].map(q).join(' ');
}

/** First non-empty stderr line, sanitized: what most tools say when they fail. */
export function firstLine(text: string): string {
  return sanitize(text.split('\n').find((l) => l.trim()) ?? '', 200);
}

/**
 * Run `file args...` without a shell and wait for it. Throws PluginError
 * (UNKNOWN) when the command cannot be started (not found, not executable),
 * is killed by a signal, exceeds its time or byte limit, or is cancelled.
 */
export function runCommand(file: string, args: readonly string[], opts: CommandOptions): Promise<CommandResult> {
  return whilePending(opts.signal, opts.label ?? describeCommand(file, args), () => execute(file, args, opts));
}

async function execute(file: string, args: readonly string[], opts: CommandOptions): Promise<CommandResult> {
  const maxBytes = opts.maxBytes ?? 1024 * 1024;
  const maxLineBytes = opts.maxLineBytes ?? 256 * 1024;
  const command = describeCommand(file, args);
  const path = process.env.PATH || DEFAULT_PATH;
  const started = Date.now();
  opts.log?.(2, `running ${command}`);

  // Loaded on first use: execa and the node modules it pulls in cost every
  // check ~10 ms of CPU and ~5 MB of memory at start-up, and only node-local
  // checks run commands (see docs/performance.md).
  const { execa } = await import('execa');
  const sub = execa(file, [...args], {
    cancelSignal: opts.signal,
    forceKillAfterDelay: 1000,
    timeout: opts.timeoutMs,
    stdin: 'ignore',
    reject: false,
    extendEnv: !!opts.inheritEnv,
    env: { PATH: path, LC_ALL: 'C', ...opts.env },
    // Its own process group: on timeout, cancel or runaway output the whole
    // group is killed, not only the child (see process-group.ts).
    detached: true,
    encoding: opts.onLine ? 'buffer' : 'utf8',
    buffer: { stdout: !opts.onLine, stderr: true },
    maxBuffer: { stdout: maxBytes, stderr: MAX_STDERR },
    stripFinalNewline: false,
  });

  const pgid = sub.pid;
  const untrack = pgid ? trackGroup(pgid) : () => false;
  const killAll = () => { if (pgid) killGroup(pgid); };
  opts.signal.addEventListener('abort', killAll, { once: true });
  let timer: NodeJS.Timeout | undefined;
  if (opts.timeoutMs) timer = setTimeout(killAll, opts.timeoutMs);
  sub.then((r) => {
    // execa killed only the child: end the rest of its group too.
    if (pgid && (r.isMaxBuffer || r.timedOut || r.isCanceled)) killGroupNow(pgid);
  }, () => {}).finally(() => {
    // Waited for, with every pipe closed: nothing of this command holds our output any more.
    untrack();
    clearTimeout(timer);
    opts.signal.removeEventListener('abort', killAll);
  });

  // A background child that inherited the pipes (sh -c 'x &') would keep
  // them open after the command itself ended: read for one more second at
  // most, then close them and end the group, so the check ends on time.
  sub.once('exit', () => {
    setTimeout(() => { sub.stdout?.destroy(); sub.stderr?.destroy(); killAll(); }, 1000).unref();
  });

  let streamed = 0;
  let lines = 0;
  let truncatedLines = 0;
  let overflow = false;
  if (opts.onLine) {
    const onLine = opts.onLine;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let cut = false;
    const emit = () => {
      lines++;
      if (cut) truncatedLines++;
      onLine(Buffer.concat(pending, pendingBytes).toString('utf8'));
      pending = [];
      pendingBytes = 0;
      cut = false;
    };
    const keep = (part: Buffer) => {
      const room = maxLineBytes - pendingBytes;
      if (part.length > room) cut = true;
      const kept = part.length > room ? part.subarray(0, Math.max(0, room)) : part;
      if (kept.length) { pending.push(kept); pendingBytes += kept.length; }
    };
    try {
      for await (const chunk of sub.iterable({ from: 'stdout', binary: true })) {
        const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        streamed += buf.length;
        if (streamed > maxBytes) { overflow = true; killAll(); sub.kill(); break; }
        let start = 0;
        for (let nl = buf.indexOf(10, start); nl >= 0; nl = buf.indexOf(10, start)) {
          keep(buf.subarray(start, nl));
          emit();
          start = nl + 1;
        }
        if (start < buf.length) keep(buf.subarray(start));
      }
    } catch {
      // The stream ends with an error when the command could not start or was
      // killed; the result below says which.
    }
    if (!overflow && pendingBytes) emit();
  }

  const r = await sub;
  const stderr = typeof r.stderr === 'string' ? r.stderr : Buffer.from(r.stderr ?? []).toString('utf8');
  const stdout = opts.onLine ? '' : String(r.stdout ?? '');
  const stdoutBytes = opts.onLine ? streamed : Buffer.byteLength(stdout);
  const ms = Date.now() - started;
  opts.log?.(2, `${file} exited ${r.exitCode ?? r.signal ?? '?'} after ${ms} ms, ${stdoutBytes} bytes${opts.onLine ? ` in ${lines} lines` : ''}`);

  const code = (r as { code?: string }).code;
  if (code === 'ENOENT') {
    throw new PluginError(`${file} not found (searched PATH=${path}); install it or run this check where it exists`);
  }
  if (code === 'EACCES' || code === 'EPERM') {
    throw new PluginError(`cannot execute ${file}: permission denied (${code})`);
  }
  if (overflow || r.isMaxBuffer) {
    throw new PluginError(`${command} printed more than ${maxBytes} bytes: stopped it (output cap)`);
  }
  if (r.isCanceled) throw new PluginError(`${command} was cancelled (check timed out)`, State.UNKNOWN);
  if (r.timedOut) throw new PluginError(`${command} did not finish within ${(opts.timeoutMs ?? 0) / 1000}s`);
  if (r.exitCode === undefined) {
    if (r.signal) throw new PluginError(`${command} was killed by ${r.signal}`);
    throw new PluginError(`cannot run ${command}: ${sanitize(r.shortMessage ?? r.message ?? 'unknown error', 200)}`);
  }
  return { command, exitCode: r.exitCode, stdout, stderr, stdoutBytes, lines, truncatedLines };
}
