// What the .deb ships, read with dpkg-deb (no install: test/e2e/nrpe.test.ts
// installs it under a real NRPE): the command on PATH, a man page per check
// and for k8s-nrpe that man renders cleanly and that documents every perfdata
// metric, the docs, the upstream changelog, the bash completion (run in bash),
// the copyright file's real holders, the trigger that catches a nagios user
// created later. npm run package with DEB_COMPRESSION=none into a temp dir.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST, ROOT } from '../harness.js';

const NEEDS: [string, string][] = [['/usr/bin/dpkg-deb', 'dpkg'], ['/usr/bin/dpkg-shlibdeps', 'dpkg-dev'], ['/usr/sbin/visudo', 'sudo'], ['/usr/bin/man', 'man-db'], ['/usr/bin/groff', 'groff-base']];
const missing = NEEDS.filter(([f]) => !fs.existsSync(f)).map(([f, p]) => `${f} (apt-get install ${p})`);
if (missing.length && !process.env.CI) console.warn(`package.test.ts skipped: missing ${missing.join(', ')}`);

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env: opts.env ?? process.env, timeout: 300000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (err as { code?: unknown }).code : 0;
      resolve({ code: typeof code === 'number' ? code : -1, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

describe.skipIf(missing.length > 0 && !process.env.CI)('the .deb\'s contents', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-nrpe-package-'));
  const tree = path.join(tmp, 'tree');
  let deb = '';
  let files: string[] = [];
  let links = new Map<string, string>();
  let checks: string[] = [];
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  beforeAll(async () => {
    if (missing.length) throw new Error(`CI lacks ${missing.join(', ')} (.ci/run installs them)`);
    const r = await run(process.execPath, [path.join(ROOT, 'scripts/package.mjs')], { env: { ...process.env, DEB_COMPRESSION: 'none', DEB_OUTDIR: tmp } });
    expect(r.code, r.stderr).toBe(0);
    deb = path.join(tmp, fs.readdirSync(tmp).find((f) => f.endsWith('.deb'))!);
    checks = execFileSync(path.join(DIST, 'k8s-nrpe'), ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const line of (await run('dpkg-deb', ['-c', deb])).stdout.split('\n').filter(Boolean)) {
      const m = /^(\S)\S+\s+\S+\s+\d+\s+\S+\s+\S+\s+\.\/(\S*)(?: -> (\S+))?$/.exec(line);
      if (!m) continue;
      if (m[1] === 'l') links.set(`/${m[2]}`, m[3]!);
      else if (m[1] === '-') files.push(`/${m[2]}`);
    }
    fs.mkdirSync(tree);
    execFileSync('dpkg-deb', ['-x', deb, tree]);
  }, 400000);

  it('puts k8s-nrpe on PATH and every check beside it', () => {
    expect(links.get('/usr/bin/k8s-nrpe')).toBe('../lib/nagios/plugins/k8s-nrpe');
    expect(files).toContain('/usr/lib/nagios/plugins/k8s-nrpe');
    for (const c of checks) expect(links.get(`/usr/lib/nagios/plugins/check_k8s_${c}`), c).toBe('k8s-nrpe');
  });

  it('has a man page per check and for k8s-nrpe; man renders each without a warning and documents every perfdata metric', async () => {
    const pages = ['k8s-nrpe', ...checks.map((c) => `check_k8s_${c}`)];
    for (const p of pages) expect(files, p).toContain(`/usr/share/man/man1/${p}.1.gz`);
    expect(files.filter((f) => f.startsWith('/usr/share/man/')).length).toBe(pages.length);
    // What lintian runs (groff warnings), at the width of a terminal.
    const env = { ...process.env, LC_ALL: 'C.UTF-8', MANWIDTH: '80', MAN_KEEP_FORMATTING: '', MANROFFSEQ: '' };
    for (const p of pages) {
      const file = path.join(tree, `usr/share/man/man1/${p}.1.gz`);
      const r = await run('man', ['--warnings', '-E', 'UTF-8', '-l', file], { env });
      expect(r.code, `${p}: ${r.stderr}`).toBe(0);
      // A long literal (a unit name, a URL) may not break at 80 columns; anything else is a page error.
      expect(r.stderr.split('\n').filter((l) => l && !/can't break line/.test(l)), p).toEqual([]);
      for (const section of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'OPTIONS', 'EXIT STATUS', 'REPORTING BUGS']) expect(r.stdout, `${p} ${section}`).toMatch(new RegExp(`^${section}$`, 'm'));
      if (p === 'k8s-nrpe') {
        for (const c of checks) expect(r.stdout).toContain(`check_k8s_${c}(1)`);
        // The subcommands, each with its own options.
        for (const section of ['TRIAGE', 'DISCOVER']) expect(r.stdout).toMatch(new RegExp(`^${section}$`, 'm'));
        for (const flag of ['--icinga2', '--director', '--exclude-namespace=REGEX']) expect(r.stdout).toContain(flag);
        continue;
      }
      // Every metric the check prints on the incident scenario is documented (test/integration/help.test.ts
      // holds the declarations to what evaluate records).
      expect(r.stdout, p).toMatch(/^PERFORMANCE DATA$/m);
    }
  }, 120000);

  it('ships the docs, the upstream changelog and the licence terms', () => {
    const doc = '/usr/share/doc/k8s-nrpe';
    for (const f of fs.readdirSync(path.join(ROOT, 'docs'), { recursive: true }).map(String).filter((x) => /\.(md|json)$/.test(x))) {
      expect(files.includes(`${doc}/${f}`) || files.includes(`${doc}/${f}.gz`), f).toBe(true);
    }
    for (const f of ['README.md.gz', 'changelog.gz', 'changelog.Debian.gz', 'copyright', 'README.Debian']) expect(files, f).toContain(`${doc}/${f}`);
    const copyright = fs.readFileSync(path.join(tree, doc.slice(1), 'copyright'), 'utf8');
    expect(copyright).not.toMatch(/^Copyright: notice/m);
    expect(copyright).not.toMatch(/^Copyright: .*\{yyyy\}|^Copyright: \[yyyy\]/m);
    expect(copyright).toMatch(/^Files: bundled\/node_modules\/human-signals\/\*\nCopyright: 2025 ehmicky/m);
    // js-yaml reads the kubeconfig: its own copyright line, not a licence template's.
    expect(copyright).toMatch(/^Files: bundled\/node_modules\/js-yaml\/\*\nCopyright: .*Vitaly Puzrin/m);
    expect(fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8')).toBe(fs.readFileSync('/usr/share/common-licenses/Apache-2.0', 'utf8'));
  });

  it('has a Homepage, and a trigger on the packages that create the nagios user', async () => {
    expect((await run('dpkg-deb', ['-f', deb, 'Homepage'])).stdout.trim()).toMatch(/^https:\/\//);
    const triggers = (await run('sh', ['-c', `dpkg-deb --ctrl-tarfile '${deb}' | tar -xO ./triggers`])).stdout;
    expect(triggers).toMatch(/^interest-noawait \/usr\/sbin\/nrpe$/m);
    const postinst = (await run('sh', ['-c', `dpkg-deb --ctrl-tarfile '${deb}' | tar -xO ./postinst`])).stdout;
    expect(postinst).toMatch(/^\s+triggered\)/m);
    expect((await run('sh', ['-n', '-c', postinst])).code).toBe(0);
  });

  it('completes every check name, its options and their choices in bash', async () => {
    const dir = '/usr/share/bash-completion/completions';
    expect(files).toContain(`${dir}/k8s-nrpe`);
    for (const c of checks) expect(links.get(`${dir}/check_k8s_${c}`), c).toBe('k8s-nrpe');
    const script = path.join(tree, dir.slice(1), 'k8s-nrpe');
    const complete = async (...words: string[]) => {
      const r = await run('bash', ['-c', `source '${script}'; COMP_WORDS=("$@"); COMP_CWORD=$(($#-1)); _k8s_nrpe; printf '%s\\n' "\${COMPREPLY[@]}"`, 'bash', ...words]);
      expect(r.stderr).toBe('');
      return r.stdout.split('\n').filter(Boolean);
    };
    expect(await complete('k8s-nrpe', '')).toEqual(expect.arrayContaining([...checks, 'triage']));
    for (const c of checks) {
      // Every option --help lists is offered after '--'.
      // --help exits 3, as every Monitoring Plugin does.
      const help = spawnSync(path.join(DIST, `check_k8s_${c}`), ['--help'], { encoding: 'utf8' }).stdout;
      const offered = await complete(`check_k8s_${c}`, '--');
      for (const [, flag] of help.matchAll(/^ (?:-\w, )?--(?:\[no-\])?([a-z][a-z0-9-]*)/gm)) expect(offered, `${c} --${flag}`).toContain(`--${flag}`);
      expect(await complete('k8s-nrpe', c, '--format', '')).toEqual(['nagios', 'json']);
    }
    expect(await complete('k8s-nrpe', 'triage', '--skip', `${checks[0]},${checks[1]!.slice(0, 3)}`)).toContain(`${checks[0]},${checks[1]}`);
  }, 300000); // 50 processes (a --help and two bash runs per check): generous on a busy machine
});
