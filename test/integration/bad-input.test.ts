// Bad input, hostile cluster text and secrets, for every check the binary
// knows (k8s-nrpe --list): whatever goes in, what comes out is exit 0-3, one
// contract-keeping first line, no stack trace, and no credential.
// Shell metacharacters, hostile cluster text and secrets: hostile-input.test.ts.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHECKS, expectSafe, pool } from '../bad-input-support.js';
import { apiServers, runBuilt, tempDir, type ApiServer } from '../harness.js';

let api: ApiServer;
const tmp = tempDir('bad');
const start = apiServers();
beforeAll(async () => {
  api = await start('incident');
});

describe('bad options are UNKNOWN with one line, for every check', () => {
  const BAD: string[][] = [
    ...['', '@', ':', '~', '~:~', '10:5', '@20:10', 'abc', '1e3', '1:2:3', '0x10', 'NaN', 'Infinity', '--5', ' '].flatMap((r) => [['-w', r], ['-c', r]]),
    ['-t', '0'], ['-t', '-1'], ['-t', 'abc'], ['-t', '99999'], ['-t', ''], ['--timeout-state', 'maybe'],
    ['--page-size', '0'], ['--page-size', 'many'],
    ['--format', 'xml'], ['--nope'], ['-x'], ['positional'], ['--kubeconfig'], ['--context', ''],
  ];
  it.each(CHECKS)('%s', async (check) => {
    const runs = await pool(BAD, (args) => runBuilt(check, ['--kubeconfig', api.kubeconfig, ...args]));
    for (const [i, args] of BAD.entries()) {
      const r = runs[i]!;
      expectSafe(r, `${check} ${JSON.stringify(args)}`);
      expect(r.code, `${check} ${JSON.stringify(args)}: ${r.firstLine}`).toBe(3);
      expect(r.stdout.trim().split('\n'), `${check} ${JSON.stringify(args)}`).toHaveLength(1);
      expect(r.firstLine).toMatch(/ - .*(invalid|unknown|not a number|empty|needs a value|Unknown argument|unexpected argument|Invalid values|nothing after|no start or end|greater than|given more than once|must be)/i);
    }
  }, 600000); // 36 runs of the binary per check: generous on a busy machine

  it('-h and -V exit 3 with text, as the Monitoring Plugins do', async () => {
    for (const check of CHECKS) {
      const h = await runBuilt(check, ['-h']);
      expect(h.code).toBe(3);
      expect(h.stdout).toMatch(new RegExp(`check_k8s_${check}`));
      expect(h.stdout).toMatch(/--kubeconfig/);
      const v = await runBuilt(check, ['-V']);
      expect(v.code).toBe(3);
      expect(v.stdout).toMatch(/^check_k8s_\w+ \(k8s-nrpe\) \d+\.\d+\.\d+/);
    }
  }, 600000);
});

describe('a normal run says nothing on stderr', () => {
  it.each(CHECKS)('%s', async (check) => {
    const r = await runBuilt(check, ['--kubeconfig', api.kubeconfig, ...(['kubelet_stall', 'reboot_ready'].includes(check) ? ['--node', 'k8s02'] : [])]);
    expectSafe(r, check);
    expect(r.stderr, check).toBe('');
  });
});

describe('kubeconfig trouble is UNKNOWN and says what to fix', () => {
  const cases: [string, () => string, RegExp][] = [
    ['missing file', () => '/nonexistent/k8s-nrpe.kubeconfig', /kubeconfig \/nonexistent\/k8s-nrpe\.kubeconfig \(--kubeconfig\) does not exist/],
    ['not YAML', () => write('notyaml', 'token: s3cr3t-t0ken-in-a-broken-file\n  - [ :\n\t{{{'), /is not a valid kubeconfig/],
    ['YAML but no cluster', () => write('nocluster', 'apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    token: s3cr3t-t0ken-in-a-broken-file\n'), /sets no current-context: pass --context \(has: none\)/],
    ['plain http server', () => write('http', 'apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:8080\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user:\n    token: s3cr3t-t0ken-in-a-broken-file\n'), /is not https/],
    ['unknown context', () => api.kubeconfigFor('multi'), /context 'nope' not found in .* \(has: test, gone\)/],
  ];
  const write = (name: string, text: string) => {
    const f = path.join(tmp, name);
    fs.writeFileSync(f, text);
    return f;
  };
  it.each(cases)('%s', async (name, file, line) => {
    const args = ['--kubeconfig', file(), ...(name === 'unknown context' ? ['--context', 'nope'] : [])];
    const r = await runBuilt('scheduler_stall', [...args, '-vvv']);
    expectSafe(r, name);
    expect(r.code).toBe(3);
    expect(r.firstLine).toMatch(line);
    expect(r.stdout + r.stderr).not.toMatch(/s3cr3t-t0ken/);
  });

  it('nothing found: UNKNOWN listing every place tried, never localhost:8080', async () => {
    const r = await runBuilt('scheduler_stall', []);
    expect(r.code).toBe(3);
    expect(r.firstLine).toMatch(/no kubeconfig found; tried \/nonexistent\/\.kube\/config, \/var\/snap\/microk8s\/current\/credentials\/client\.config, \/etc\/kubernetes\/admin\.conf, in-cluster service account/);
  });
});

describe('--node is a node name, never a selector', () => {
  // --node goes into a field selector (spec.nodeName=NAME): a ',' there would add a term.
  it.each(CHECKS)('%s', async (check) => {
    const help = await runBuilt(check, ['--help']);
    const r = await runBuilt(check, ['--kubeconfig', api.kubeconfig, '--node', 'k8s01,status.phase=Running']);
    expectSafe(r, check);
    // A check without --node refuses it as an unknown option: either way, never a query.
    expect(r.code).toBe(3);
    if (/--node\b/.test(help.stdout)) {
      expect(r.firstLine).toMatch(/ - invalid --node 'k8s01,status\.phase=Running': a node name is lowercase letters, digits, '-' and '\.' \(see --help\)$/);
    }
    expect(api.requests().some((q) => /nodeName=k8s01,status\.phase=Running/.test(q.query.fieldSelector ?? ''))).toBe(false);
  });
});
