// The guides name files a newcomer opens next: each one must exist. A path
// with a placeholder (NAME, <name>) or of the guide's worked example
// (check_k8s_pending) is not a file of this repository; upstream files
// (another project's path the text cites) are listed here by hand.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const DOCS = ['docs/writing-a-check.md', 'docs/plugin-contract.md'];
/** Paths of other projects the docs cite (monitoring-plugins' lib/states.h, lib/output.h and lib/output.c). */
const UPSTREAM = new Set(['lib/states.h', 'lib/output.h', 'lib/output.c']);
const TOP = ['lib', 'checks', 'cli', 'test', 'docs', 'scripts', 'nrpe.d', 'deploy', 'contrib', 'packaging', 'bench'];
const PATH = new RegExp(`(?<![\\w/.-])((?:${TOP.map((t) => t.replace('.', '\\.')).join('|')})/[\\w./*<>-]*)`, 'g');

/** Repository paths a document names: `lib/kube/resources.ts`, test/harness.ts, contrib/. */
export function namedPaths(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(PATH)) {
    const p = m[1]!.replace(/[.,:;)]+$/, '');
    if (/NAME|<name>|pending|\*/.test(p) || UPSTREAM.has(p)) continue;
    out.add(p);
  }
  return [...out];
}

describe('every repository path the guides name exists', () => {
  for (const doc of DOCS) {
    it(doc, () => {
      const named = namedPaths(fs.readFileSync(path.join(ROOT, doc), 'utf8'));
      expect(named.length).toBeGreaterThan(5);
      expect(named.filter((p) => !fs.existsSync(path.join(ROOT, p)))).toEqual([]);
    });
  }

  it('finds paths in prose, code and tables, and skips placeholders', () => {
    expect(namedPaths('see lib/kube/objects.ts, `test/harness.ts` and (docs/checks/NAME.md) or checks/pending.ts; contrib/.')).toEqual(['lib/kube/objects.ts', 'test/harness.ts', 'contrib/']);
    expect(namedPaths('fs.readFileSync(path) and ../lib/kube/x.js')).toEqual([]);
  });
});
