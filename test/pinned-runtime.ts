// The runtime the binaries embed, as package-lock.json pins it (scripts/runtime.mjs builds with it).
// No vitest import: test/global-setup.ts uses it too.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/** The Node.js version of npm's node-linux-<cpu> in package-lock.json, as process.version spells it. */
export function pinnedNode(cpu: 'x64' | 'arm64' = 'x64'): string {
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
  const v = lock.packages[`node_modules/node-linux-${cpu}`]?.version;
  if (!v) throw new Error(`package-lock.json pins no node-linux-${cpu}`);
  return `v${v}`;
}
