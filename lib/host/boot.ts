import fs from 'node:fs/promises';
import { PluginError } from '../plugin/errors.js';

/** 'btime 1764036000' in /proc/stat -> epoch ms; undefined when absent. */
export function parseBootTime(procStat: string): number | undefined {
  const m = /^btime\s+(\d+)\s*$/m.exec(procStat);
  return m ? Number(m[1]) * 1000 : undefined;
}

/**
 * When this host booted (epoch ms, 1 s resolution), from the kernel's btime.
 * Node-local checks compare it with container start times: a container that
 * started before the boot is a status the kubelet never refreshed.
 */
export async function readBootTime(file = '/proc/stat'): Promise<number> {
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
