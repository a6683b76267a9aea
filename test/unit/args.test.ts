import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../lib/plugin/args.js';
import check from '../../checks/scheduler_stall.js';

describe('parseArgs', () => {
  it('rejects -w without a value', async () => {
    await expect(parseArgs(check, ['-w'])).rejects.toThrow(/range/);
  });
});
