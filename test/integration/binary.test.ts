// The shipped binary: a Node single executable that needs no node on the
// node, dispatches on the name it is invoked as, and says nothing on stderr.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DIST, pinnedNode, ROOT } from '../harness.js';

const MAIN = path.join(DIST, 'k8s-nrpe');
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
// No node anywhere on PATH: the binary must carry its own runtime.
const noNode = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-nrpe-nonode-'));
const ENV = { PATH: noNode, HOME: '/nonexistent' };
afterAll(() => fs.rmSync(noNode, { recursive: true, force: true }));

/** Run as a shell would: argv[0] is the name as written (a path, or a bare name found on PATH). */
function run(file: string, args: string[], argv0 = file): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: ENV, argv0, stdio: ['ignore', 'pipe', 'pipe'], timeout: 20000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const version = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version as string;
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** What --version and -V end with: the runtime package-lock.json pins, and the OpenSSL 3 it carries. */
const RUNTIME = `\\(node ${esc(pinnedNode())}, OpenSSL 3\\.\\d+\\.\\d+\\)`;

describe('dist/k8s-nrpe', () => {
  it('is an ELF single executable with the blob injected', () => {
    const bin = fs.readFileSync(MAIN);
    expect(bin.subarray(0, 4)).toEqual(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
    expect(bin.includes(`${FUSE}:1`)).toBe(true);
    expect(bin.includes(`${FUSE}:0`)).toBe(false);
  });

  it('runs without node on PATH and prints nothing on stderr', async () => {
    const v = await run(MAIN, ['--version']);
    expect(v.code).toBe(3);
    expect(v.stderr).toBe('');
    expect(v.stdout).toMatch(new RegExp(`^k8s-nrpe ${esc(version)} ${RUNTIME}\n$`));
    const help = await run(MAIN, ['--help']);
    expect(help.stderr).toBe('');
    expect(help.stdout).toMatch(/^k8s-nrpe .*\n\nUsage:\n  k8s-nrpe CHECK /);
  });

  it('dispatches on the symlink it is invoked through, and on a subcommand', async () => {
    const list = await run(MAIN, ['--list']);
    expect(list.code).toBe(0);
    expect(list.stderr).toBe('');
    const checks = list.stdout.split('\n').filter(Boolean);
    expect(checks.length).toBeGreaterThan(0);
    for (const name of checks) {
      const link = path.join(DIST, `check_k8s_${name}`);
      expect(fs.readlinkSync(link)).toBe('k8s-nrpe');
      const viaLink = await run(link, ['--help']);
      expect(viaLink.stderr).toBe('');
      expect(viaLink.code).toBe(3);
      expect(viaLink.stdout.split('\n')[0]).toMatch(new RegExp(`^check_k8s_${name} \\(k8s-nrpe\\) \\d+\\.\\d+\\.\\d+`));
      // -V: the version, and the runtime and OpenSSL inside (an operator's way to tell a vulnerable build).
      const v = await run(link, ['-V']);
      expect(v, name).toEqual({ code: 3, stdout: expect.stringMatching(new RegExp(`^check_k8s_${name} \\(k8s-nrpe\\) ${esc(version)} ${RUNTIME}\n$`)), stderr: '' });
      // NRPE runs it through a shell: argv[0] is the path as written, or a bare name via PATH.
      const bare = await run(MAIN, ['--help'], `check_k8s_${name}`);
      expect(bare).toEqual(viaLink);
      const sub = await run(MAIN, [name, '--help']);
      expect(sub).toEqual(viaLink);
    }
  }, 240_000); // four runs of the binary per check: generous on a busy machine

  it('rejects an unknown invoked name with one UNKNOWN line', async () => {
    const r = await run(MAIN, ['no_such_check']);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^K8S UNKNOWN - unknown check 'no_such_check' \(invoked as k8s-nrpe\); run k8s-nrpe --help for the list\n$/);
  });

  it('keeps the plain bundle for debugging, same behaviour under node', async () => {
    const bundle = path.join(DIST, 'k8s-nrpe.cjs');
    const viaNode = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [bundle, '--list'], (err, stdout) => (err ? reject(err) : resolve(stdout))));
    expect(viaNode).toBe((await run(MAIN, ['--list'])).stdout);
  });
});
