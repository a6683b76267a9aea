import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BOOT_TIME_ENV, parseBootTime, readBootTime } from '../../lib/host/boot.js';
import { PluginError } from '../../lib/plugin/errors.js';
import { bootTime } from '../apiserver/store.js';

describe('the boot time', () => {
  it('is /proc/stat btime, in ms for the checks and s for the double', async () => {
    const btime = parseBootTime(fs.readFileSync('/proc/stat', 'utf8'))!;
    expect(await readBootTime('/proc/stat', {})).toBe(btime);
    expect(bootTime({})).toBe(btime / 1000);
  });

  it('honours the test-only K8S_NRPE_BOOT_TIME in the check and the double alike', async () => {
    const env = { [BOOT_TIME_ENV]: '1700000000' };
    expect(await readBootTime('/nonexistent', env)).toBe(1700000000_000);
    expect(bootTime(env)).toBe(1700000000);
  });

  it('refuses an override that is not epoch seconds, with one line that does not echo it', async () => {
    const e = await readBootTime('/proc/stat', { [BOOT_TIME_ENV]: '1|2\nx' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PluginError);
    expect((e as Error).message).toBe('K8S_NRPE_BOOT_TIME is not epoch seconds (a test-only override: unset it)');
    expect(() => bootTime({ [BOOT_TIME_ENV]: 'soon' })).toThrow(/not epoch seconds/);
  });
});
