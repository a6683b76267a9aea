// The NRPE commands as the .deb installs them (scripts/nrpe-guard.mjs), run as
// NRPE runs them (popen: /bin/sh -c): the plugin while it is installed, and
// after `apt-get remove` (plugins gone, conffile kept) one UNKNOWN line with the
// next step instead of NRPE's "Unable to read output". The e2e test
// (test/e2e/nrpe.test.ts) runs the installed lines after dpkg -r as well.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIST, ROOT } from '../harness.js';
// @ts-expect-error: a plain .mjs build script, no types
import { GUARD_NOTE, guardCommands } from '../../scripts/nrpe-guard.mjs';

const PLUGINS = '/usr/lib/nagios/plugins';
const source = fs.readFileSync(path.join(ROOT, 'nrpe.d/k8s-nrpe.cfg'), 'utf8');
const installed = (guardCommands as (t: string) => string)(source);
// Opt-in commands ship commented out ('# command[...]'), guarded alike so they are guarded once enabled.
const commands = [...installed.matchAll(/^(?:# )?command\[(check_k8s_([a-z0-9_]+))\]=(.+)$/gm)].map((m) => ({ name: m[2]!, line: m[3]! }));

function sh(line: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile('/bin/sh', ['-c', line], { env: { PATH: '/usr/bin:/bin' }, timeout: 120_000 }, (err, stdout) => {
      resolve({ code: err ? Number((err as { code?: unknown }).code) : 0, stdout });
    });
  });
}

describe('installed NRPE commands', () => {
  it('are the source commands with the same plugin and options, nothing else changed', () => {
    expect(commands.length).toBe([...source.matchAll(/^(?:# )?command\[/gm)].length);
    for (const m of source.matchAll(/^((?:# )?)command\[(check_k8s_[a-z0-9_]+)\]=(\S+)(.*)$/gm)) {
      expect(installed).toContain(`${m[1]}command[${m[2]}]=test -x ${m[3]} && exec ${m[3]}${m[4]}; echo '`);
    }
    const others = (t: string) => t.split('\n').filter((l) => !/^(# )?command\[/.test(l) && !(GUARD_NOTE as string[]).includes(l));
    expect(others(installed)).toEqual(others(source));
    for (const c of commands) expect(c.line).not.toContain('$'); // NRPE would read $...$ as a macro
  });

  it.skipIf(fs.existsSync(`${PLUGINS}/k8s-nrpe`))('with the package removed: UNKNOWN, exit 3, naming the plugin and the next step', async () => {
    for (const c of commands) {
      const r = await sh(c.line);
      expect(r.code, c.name).toBe(3);
      expect(r.stdout).toBe(`K8S ${c.name.toUpperCase().replace(/_/g, ' ')} UNKNOWN - ${PLUGINS}/check_k8s_${c.name} is not installed ` +
        '(package k8s-nrpe removed, its NRPE commands stay until purged): apt-get install k8s-nrpe, or apt-get purge k8s-nrpe to drop these commands\n');
    }
  });

  it('with the plugin there: the plugin itself answers (exec, its own exit code)', async () => {
    for (const c of commands.slice(0, 3)) {
      const r = await sh(c.line.replaceAll(`${PLUGINS}/`, `${DIST}/`));
      expect(r.stdout, c.name).toMatch(new RegExp(`^K8S ${c.name.toUpperCase().replace(/_/g, ' ')} (OK|WARNING|CRITICAL|UNKNOWN) - `));
      expect(r.stdout).not.toMatch(/is not installed/);
    }
  }, 300_000);
});
