// --help as the Monitoring Plugins guidelines ask, for every check the binary
// lists, k8s-nrpe itself and triage: name and version, a Usage synopsis, the
// options, examples, the exit states and where to report bugs; every line
// within 80 columns and no word of a declaration split across lines. And the
// classic `-w $ARG1$` trap: an empty threshold is a usage error everywhere.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DIST, ROOT } from '../harness.js';
// @ts-expect-error: plain JS, the generators' model of the declarations (what --help renders too)
import { loadModel } from '../../scripts/contrib.mjs';

interface Opt { flag: string; short?: string; describe: string }
interface ModelCheck { name: string; summary: string; options: Opt[]; perfdata: { label: string; thresholds: string }[] }
interface Model { version: string; common: Opt[]; checks: ModelCheck[] }

function run(bin: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(path.join(DIST, bin), args, { env: { PATH: '/usr/bin:/bin' }, timeout: 30000 }, (err, stdout, stderr) => {
      const code = err ? (err as { code?: unknown }).code : 0;
      resolve({ code: typeof code === 'number' ? code : -1, stdout, stderr });
    });
  });
}

/** Lines wider than 80 columns (code points: the help is plain text). */
const wide = (text: string) => text.split('\n').filter((l) => [...l].length > 80);
/** Every whitespace-separated word of `text` appears whole in `help`: nothing was split mid-word. */
function splitWords(text: string, help: string): string[] {
  const tokens = new Set(help.split(/\s+/));
  return text.split(/\s+/).filter((w) => w && !tokens.has(w) && ![...tokens].some((t) => t.includes(w)));
}

describe('--help', () => {
  let model: Model;
  let checks: string[] = [];
  beforeAll(async () => {
    model = await loadModel();
    checks = (await run('k8s-nrpe', ['--list'])).stdout.split('\n').filter(Boolean);
  }, 60000);

  it('of every check: name and version, Usage, options, exit states, bugs; within 80 columns, no word split', async () => {
    expect(checks.length).toBeGreaterThan(0);
    const helps = await Promise.all(checks.map((c) => run(`check_k8s_${c}`, ['--help'])));
    helps.forEach((r, i) => {
      const c = checks[i]!;
      const decl = model.checks.find((m) => m.name === c)!;
      expect(r.code, c).toBe(3);
      expect(r.stderr, c).toBe('');
      const h = r.stdout;
      expect(wide(h), `${c}: lines over 80 columns`).toEqual([]);
      expect(h.split('\n')[0], c).toMatch(new RegExp(`^check_k8s_${c} \\(k8s-nrpe\\) ${model.version.replace(/\./g, '\\.')}\\b`));
      expect(h, c).toMatch(new RegExp(`^Usage:\\s+check_k8s_${c} `, 'm'));
      expect(h, c).toMatch(/^Options:/m);
      expect(h, c).toMatch(/^Examples?:/m);
      expect(h, c).toMatch(/exit/i);
      for (const s of ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN']) expect(h, `${c} ${s}`).toContain(s);
      expect(h, c).toMatch(/report bugs/i);
      for (const o of [...decl.options, ...model.common]) {
        expect(h, `${c} --${o.flag}`).toMatch(new RegExp(`(^|\\s)--(\\[no-\\])?${o.flag}\\b`, 'm'));
        expect(splitWords(o.describe, h), `${c} --${o.flag}: words split`).toEqual([]);
      }
      // Every declared metric, with the thresholds its context renders (the man page and README print the same).
      for (const p of decl.perfdata) {
        expect(h, `${c} perfdata ${p.label}`).toMatch(new RegExp(`^ ${p.label.replace(/[<>]/g, '.')}( \\(|$)`, 'm'));
        if (p.thresholds) expect(splitWords(`Thresholds: ${p.thresholds}.`, h), `${c} ${p.label}: thresholds`).toEqual([]);
      }
    });
  }, 120000);

  it('of k8s-nrpe: every check on one short line with its summary, within 80 columns', async () => {
    const r = await run('k8s-nrpe', ['--help']);
    expect(r.code).toBe(3);
    expect(wide(r.stdout)).toEqual([]);
    expect(r.stdout.split('\n')[0]).toMatch(/^k8s-nrpe \d+\.\d+\.\d+/);
    expect(r.stdout).toMatch(/^Usage:/m);
    expect(r.stdout).toMatch(/report bugs/i);
    for (const c of model.checks) {
      const line = r.stdout.split('\n').find((l) => new RegExp(`^\\s+${c.name}\\s`).test(l));
      expect(line, c.name).toBeDefined();
      expect(line, c.name).toContain(c.summary.slice(0, 30));
    }
  });

  it('of k8s-nrpe triage: a real help, exit 3, within 80 columns', async () => {
    const r = await run('k8s-nrpe', ['triage', '--help']);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^Usage:\s+k8s-nrpe triage/m);
    for (const f of ['--only', '--skip', '--json', '--node']) expect(r.stdout).toContain(f);
    expect(wide(r.stdout)).toEqual([]);
  });
});

describe('an empty threshold is a usage error in every check', () => {
  let checks: string[] = [];
  beforeAll(async () => {
    checks = (await run('k8s-nrpe', ['--list'])).stdout.split('\n').filter(Boolean);
  });

  // -w $ARG1$ with an empty $ARG1$: the shell passes '' or nothing, or the next option takes its place.
  const FORMS: [string, string[]][] = [
    ["-w ''", ['-w', '']], ["-c ''", ['-c', '']], ['--warning=', ['--warning=']], ['--critical=', ['--critical=']],
    ['-w as the last word', ['-w']], ['-w -c 5', ['-w', '-c', '5']], ['-c -w 5', ['-c', '-w', '5']],
  ];
  it.each(FORMS)('%s', async (_, args) => {
    const runs = await Promise.all(checks.map((c) => run(`check_k8s_${c}`, ['--kubeconfig', '/nonexistent/kubeconfig', ...args])));
    runs.forEach((r, i) => {
      const c = checks[i]!;
      // UNKNOWN with one line that names the problem, before any API access (no kubeconfig error).
      expect(r.code, `${c}: ${r.stdout}`).toBe(3);
      expect(r.stdout.split('\n')[0], c).toMatch(/^K8S [A-Z ]+ UNKNOWN - /);
      expect(r.stdout, c).not.toMatch(/kubeconfig \//i);
      // It names the option (or, in a check without thresholds, refuses it as unknown).
      expect(r.stdout, c).toMatch(/-w|-c|--warning|--critical|range|threshold|argument/);
    });
  }, 60000);
});

describe('the packaged NRPE commands', () => {
  it('all parse: no usage error in any line of nrpe.d/k8s-nrpe.cfg', async () => {
    const cfg = fs.readFileSync(path.join(ROOT, 'nrpe.d/k8s-nrpe.cfg'), 'utf8');
    const lines = [...cfg.matchAll(/^command\[[^\]]+\]=\/usr\/lib\/nagios\/plugins\/(check_k8s_\w+)(.*)$/gm)];
    expect(lines.length).toBeGreaterThan(0);
    const runs = await Promise.all(lines.map(([, bin, args]) => {
      // The packaged kubeconfig is not here: a missing one is a fault, not a usage error. -t stays short.
      const argv = args!.trim().split(/\s+/).map((a) => (a === '/etc/nagios/k8s-nrpe.kubeconfig' ? '/nonexistent/kubeconfig' : a));
      return run(bin!, argv);
    }));
    runs.forEach((r, i) => {
      // A UsageError's line ends '(see --help)' (lib/plugin/run.ts).
      expect(r.stdout.split('\n')[0], lines[i]![0]).not.toMatch(/\(see --help\)$/);
    });
  }, 120000);
});
