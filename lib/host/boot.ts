import fs from 'node:fs/promises';
import { PluginError } from '../plugin/errors.js';

/** 'btime 1764036000' in /proc/stat -> epoch ms; undefined when absent. */
export function parseBootTime(procStat: string): number | undefined {
  const m = /^btime\s+(\d+)\s*$/m.exec(procStat);
  return m ? Number(m[1]) * 1000 : undefined;
}

/**
 * Test-only: epoch seconds to use as this host's boot time instead of /proc/stat's btime, so the
 * tests (and the API double, which reads the same variable) can simulate "booted a minute ago" or
 * "booted days ago" whatever the real uptime. Documented in docs/plugin-contract.md; never set it
 * in production.
 */
export const BOOT_TIME_ENV = 'K8S_NRPE_BOOT_TIME';

/**
 * When this host booted (epoch ms, 1 s resolution), from the kernel's btime
 * (or the test-only K8S_NRPE_BOOT_TIME override).
 * Node-local checks compare it with container start times: a container that
 * started before the boot is a status the kubelet never refreshed.
 */
export async function readBootTime(file = '/proc/stat', env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const override = env[BOOT_TIME_ENV];
  if (override !== undefined && override !== '') {
    if (!/^\d+$/.test(override)) throw new PluginError(`${BOOT_TIME_ENV} is not epoch seconds (a test-only override: unset it)`);
    return Number(override) * 1000;
  }
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new PluginError(`cannot read the boot time from ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const t = parseBootTime(text);
  if (t === undefined) throw new PluginError(`no btime line in ${file}: cannot tell when this host booted`);
  return t;
}
