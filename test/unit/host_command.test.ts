import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeCommand, runCommand } from '../../lib/host/command.js';
import { PluginError } from '../../lib/plugin/errors.js';

const live = () => new AbortController().signal;

async function failure(p: Promise<unknown>): Promise<PluginError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(PluginError);
    return e as PluginError;
  }
  throw new Error('expected a PluginError');
}

/** Kill the PIDs a test's shell printed (its background sleeps), so no process outlives the test. */
function killPids(lines: string[]): void {
  for (const l of lines) if (/^\d+$/.test(l)) try { process.kill(Number(l), 'SIGKILL'); } catch { /* already gone */ }
}

describe('runCommand (lib/host/command.ts)', () => {
  it('buffers stdout and stderr and returns a non-zero exit status instead of throwing', async () => {
    const r = await runCommand('sh', ['-c', 'echo out; echo err >&2; exit 3'], { signal: live() });
    expect(r).toMatchObject({ exitCode: 3, stdout: 'out\n', stderr: 'err\n', stdoutBytes: 4 });
    expect(r.command).toBe("sh -c 'echo out; echo err >&2; exit 3'");
  });

  it('passes arguments as they are: no shell expansion', async () => {
    const r = await runCommand('printf', ['%s\n', '$HOME; `id` | cat'], { signal: live() });
    expect(r.stdout).toBe('$HOME; `id` | cat\n');
  });

  it('gives the command only PATH, LC_ALL=C and what the caller adds', async () => {
    const r = await runCommand('env', [], { signal: live(), env: { SYSTEMD_COLORS: '0' } });
    const names = r.stdout.trim().split('\n').map((l) => l.split('=')[0]).sort();
    expect(names).toEqual(['LC_ALL', 'PATH', 'SYSTEMD_COLORS']);
    expect(r.stdout).toContain('LC_ALL=C\n');
  });

  it('streams lines without buffering them', async () => {
    const seen: string[] = [];
    let count = 0;
    const r = await runCommand('seq', ['1', '100000'], { signal: live(), onLine: (l) => { count++; if (count % 25000 === 0) seen.push(l); } });
    expect(count).toBe(100000);
    expect(seen).toEqual(['25000', '50000', '75000', '100000']);
    expect(r).toMatchObject({ exitCode: 0, stdout: '', lines: 100000, truncatedLines: 0 });
    expect(r.stdoutBytes).toBe(588895);
  });

  it('streams a last line without a newline, UTF-8 intact, and cuts over-long lines', async () => {
    const lines: string[] = [];
    const r = await runCommand('sh', ['-c', `printf 'h\\303\\251llo\\n'; head -c 5000 /dev/zero | tr '\\0' x; printf '\\nend'`], {
      signal: live(), maxLineBytes: 100, onLine: (l) => lines.push(l),
    });
    expect(lines).toEqual(['héllo', 'x'.repeat(100), 'end']);
    expect(r.truncatedLines).toBe(1);
  });

  it('stops a command whose streamed output exceeds the byte cap', async () => {
    // yes never ends by itself: returning at all is the proof (no time bound on a busy machine).
    const e = await failure(runCommand('yes', ['context canceled'], { signal: live(), maxBytes: 1 << 20, onLine: () => {} }));
    expect(e.message).toBe(`yes 'context canceled' printed more than 1048576 bytes: stopped it (output cap)`);
  });

  it('stops a command whose buffered output exceeds the byte cap', async () => {
    const e = await failure(runCommand('head', ['-c', '100000', '/dev/zero'], { signal: live(), maxBytes: 1024 }));
    expect(e.message).toMatch(/^head -c 100000 \/dev\/zero printed more than 1024 bytes/);
  });

  it('says which command is missing and where it looked', async () => {
    const e = await failure(runCommand('no-such-tool-k8s-nrpe', ['x'], { signal: live() }));
    expect(e.message).toMatch(/^no-such-tool-k8s-nrpe not found \(searched PATH=.+\); install it/);
    expect(e.state).toBe(3);
  });

  it('says when a command is not executable', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-nrpe-cmd-'));
    const file = path.join(dir, 'tool');
    fs.writeFileSync(file, '#!/bin/sh\necho hi\n', { mode: 0o644 });
    try {
      const e = await failure(runCommand(file, [], { signal: live() }));
      expect(e.message).toBe(`cannot execute ${file}: permission denied (EACCES)`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('kills the command when the check is aborted (-t)', async () => {
    const c = new AbortController();
    const started = Date.now();
    setTimeout(() => c.abort(), 200);
    const e = await failure(runCommand('sleep', ['30'], { signal: c.signal }));
    expect(e.message).toBe('sleep 30 was cancelled (check timed out)');
    expect(Date.now() - started).toBeLessThan(25000); // did not wait for the 30 s sleep
  });

  it('kills a streaming command when the check is aborted', async () => {
    const c = new AbortController();
    setTimeout(() => c.abort(), 200);
    const lines: string[] = [];
    try {
      const e = await failure(runCommand('sh', ['-c', 'sleep 30 & echo $!; wait'], { signal: c.signal, onLine: (l) => lines.push(l) }));
      expect(e.message).toMatch(/was cancelled/);
    } finally {
      killPids(lines); // the sleep, if the kill did not reach it: nothing left running
    }
  });

  it('does not wait for a background child that keeps the pipe open', async () => {
    const started = Date.now();
    const lines: string[] = [];
    try {
      const r = await runCommand('sh', ['-c', 'echo a; sleep 30 & echo $!; exit 0'], { signal: live(), onLine: (l) => lines.push(l) });
      expect(r.exitCode).toBe(0);
      expect(lines).toEqual(['a', expect.stringMatching(/^\d+$/)]);
    } finally {
      killPids(lines.slice(1)); // the background sleep outlives the command by design
    }
    expect(Date.now() - started).toBeLessThan(25000); // did not wait for the background 30 s sleep
  });

  it('honours its own time limit', async () => {
    const e = await failure(runCommand('sleep', ['30'], { signal: live(), timeoutMs: 200 }));
    expect(e.message).toBe('sleep 30 did not finish within 0.2s');
  });

  it('says which signal killed a command', async () => {
    const e = await failure(runCommand('sh', ['-c', 'kill -SEGV $$'], { signal: live() }));
    expect(e.message).toMatch(/was killed by SIGSEGV/);
  });

  it('quotes the command line for messages', () => {
    expect(describeCommand('journalctl', ['--since', '@1700000000.000', '-D', "/tmp/a b'c"])).toBe(
      `journalctl --since @1700000000.000 -D '/tmp/a b'\\''c'`,
    );
  });
});
