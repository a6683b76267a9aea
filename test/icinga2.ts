// The real Icinga 2 configuration checker (icinga2 daemon -C) on a config of
// the test's own, in a directory of its own: contrib/ and discover's output are
// validated the same way.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const ICINGA2 = '/usr/sbin/icinga2';

function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 60000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: unknown }).code) : 0, out: stdout + stderr });
    });
  });
}

/** The tool, or why it cannot be used here: a failure in CI, a skip elsewhere. */
export function need(tool: string, pkg: string): boolean {
  if (fs.existsSync(tool)) return true;
  const why = `${tool} is missing (apt-get install ${pkg}; .ci/run installs it)`;
  if (process.env.CI) throw new Error(why);
  console.warn(`skipped: ${why}`);
  return false;
}

/** icinga2 daemon -C on `config` (an icinga2.conf body) with its state directories under `dir`. */
export async function icinga2Check(dir: string, config: string): Promise<{ code: number; out: string }> {
  for (const d of ['data', 'log', 'cache', 'spool', 'run']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  fs.writeFileSync(path.join(dir, 'icinga2.conf'), config);
  return run(ICINGA2, ['daemon', '-C', '-c', path.join(dir, 'icinga2.conf'),
    ...['DataDir=data', 'LogDir=log', 'CacheDir=cache', 'SpoolDir=spool', 'InitRunDir=run'].flatMap((d) => ['-D', d.replace('=', `=${dir}/`)]),
    '-D', `RunAsUser=${os.userInfo().username}`, '-D', `RunAsGroup=${execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim()}`]);
}
