// Text the checks write themselves never holds a '|': on the status line it would
// start the perfdata, on a long-output line Nagios reads the rest as perfdata, so
// the output sanitizer turns it into '/' and a command we tell the operator to
// run ('... | grep leader') arrives broken. Every string literal and template
// piece in checks/ and lib/ is read with the TypeScript parser; the few that are
// never plugin output are listed with the reason.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { sanitize } from '../../lib/plugin/sanitize.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** file: the literal texts with a '|' that are not plugin output, and why. */
const NOT_OUTPUT: Record<string, { text: string; why: string }[]> = {
  'lib/plugin/render.ts': [{ text: ' | ', why: 'the separator before perfdata itself' }],
  'lib/plugin/help.ts': [{ text: "Perfdata (after the '|'; thresholds: what judges it):", why: '--help text, not plugin output' }],
  'lib/plugin/options.ts': [{ text: '|', why: "--help's usage line: 'warning|critical'" }],
  'lib/host/nat-tables.ts': [{ text: '|', why: 'a map key (address|protocol|port), never printed' }],
  'checks/dqlite.ts': [{ text: "$0 --pattern 'raft=/raft.*(timeout|lost)/i' --pattern-critical 4", why: "an --help example (a regex's alternation)" }],
};

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    return e.isDirectory() ? sources(rel) : rel.endsWith('.ts') ? [rel] : [];
  });
}

/** Every string literal or template piece holding a '|', as [file:line, text]. */
function pipes(file: string): [string, string][] {
  const sf = ts.createSourceFile(file, fs.readFileSync(path.join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest, true);
  const out: [string, string][] = [];
  const visit = (n: ts.Node): void => {
    const text = ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n) || ts.isTemplateHead(n) || ts.isTemplateMiddle(n) || ts.isTemplateTail(n)
      ? n.text : undefined;
    if (text?.includes('|')) out.push([`${file}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1}`, text]);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

describe("the checks' own text holds no '|'", () => {
  const files = [...sources('checks'), ...sources('lib')];

  it('reads the sources it means to (the scan is not empty)', () => {
    expect(files).toContain('checks/scheduler_stall.ts');
    expect(files).toContain('lib/plugin/render.ts');
    // The listed exceptions are found: a scan that reads nothing would pass everything.
    expect(pipes('lib/plugin/render.ts').map(([, t]) => t)).toContain(' | ');
  });

  it("no literal with a '|' outside the listed exceptions", () => {
    const found = files.flatMap((f) => pipes(f).filter(([, t]) => !NOT_OUTPUT[f]?.some((x) => x.text === t)));
    expect(found.map(([where, t]) => `${where}: ${t}`)).toEqual([]);
  });

  it('every listed exception still exists (a stale entry would hide a new one)', () => {
    for (const [file, texts] of Object.entries(NOT_OUTPUT)) {
      const found = pipes(file).map(([, t]) => t);
      for (const x of texts) expect(found, `${file}: ${x.text}`).toContain(x.text);
    }
  });

  it('why it matters: the sanitizer turns a pipe into a slash', () => {
    expect(sanitize('journalctl -u kubelite | grep leader')).toBe('journalctl -u kubelite / grep leader');
  });
});
