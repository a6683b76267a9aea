// Kernel settings read as files (/proc/sys/fs/aio-nr is sysctl fs.aio-nr),
// from a root a check can point elsewhere (a test's tree, a host's /proc
// mounted into a container). No sysctl binary: the files are the interface.
import fs from 'node:fs/promises';
import path from 'node:path';

/** 'fs.aio-max-nr' -> ROOT/fs/aio-max-nr. */
export const sysctlPath = (root: string, key: string): string => path.join(root, ...key.split('.'));

/**
 * Each key's value as a number, undefined when its file does not exist (a
 * module that is not loaded: net.bridge.* without br_netfilter,
 * net.netfilter.* without nf_conntrack). Any other read error, or text that
 * is not one integer, is the error's one line.
 */
export async function readSysctls(root: string, keys: readonly string[]): Promise<Record<string, number | undefined | Error>> {
  const values = await Promise.all(keys.map(async (key): Promise<number | undefined | Error> => {
    try {
      const text = (await fs.readFile(sysctlPath(root, key), 'utf8')).trim();
      return /^-?\d+$/.test(text) ? Number(text) : new Error(`${key} is not a whole number`);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return code === 'ENOENT' ? undefined : new Error(`cannot read ${key}: ${code ?? (e as Error).message}`);
    }
  }));
  return Object.fromEntries(keys.map((k, i) => [k, values[i]]));
}

/** A kernel module is loaded (or built in with parameters) when /sys/module/NAME exists. */
export async function moduleLoaded(moduleRoot: string, name: string): Promise<boolean> {
  return fs.stat(path.join(moduleRoot, name)).then((s) => s.isDirectory(), () => false);
}
