// Bad input, hostile cluster text and secrets, for every check the binary
// knows (k8s-nrpe --list): whatever goes in, what comes out is exit 0-3, one
// contract-keeping first line, no stack trace, and no credential.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapBounded } from '../../lib/kube/parallel.js';
import { apiServers, DIST, runBuilt, type ApiServer, type CheckRun } from '../harness.js';

// Many short checks a few at a time: two cores, and each run is a process.
const pool = <T, R>(items: T[], fn: (t: T) => Promise<R>) => mapBounded(items, 4, fn);

const CHECKS = execFileSync(path.join(DIST, 'k8s-nrpe'), ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
const FIRST_LINE = /^K8S [A-Z0-9 ]+ (OK|WARNING|CRITICAL|UNKNOWN) - [^|\n]+( \| [^|\n]+)?$/;
const STATES = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'];
// 'label'=value[UOM];[warn];[crit];[min];[max], as the Monitoring Plugins guidelines define it.
const NUM = '-?\\d+(\\.\\d+)?';
const RANGE = `@?(~|${NUM})?(:(${NUM})?)?`;
const PERF_ITEM = new RegExp(`^('([^']|'')+'|[^\\s'=]+)=(${NUM}(s|ms|us|%|B|KB|MB|GB|TB|c)?|U)(;(${RANGE})?){0,2}(;(${NUM})?){0,2}$`);

function expectSafe(r: CheckRun, what: string): void {
  expect(r.code, `${what}: exit code`).toBeGreaterThanOrEqual(0);
  expect(r.code, `${what}: exit code`).toBeLessThanOrEqual(3);
  expect(r.firstLine, `${what}: first line`).toMatch(FIRST_LINE);
  expect(STATES.indexOf(FIRST_LINE.exec(r.firstLine)![1]!), `${what}: state vs exit code`).toBe(r.code);
  const perf = r.firstLine.includes(' | ') ? r.firstLine.slice(r.firstLine.indexOf(' | ') + 3) : '';
  for (const item of perf.match(/('([^']|'')+'|[^\s=]+)=\S+/g) ?? []) expect(item, `${what}: perfdata`).toMatch(PERF_ITEM);
  // A stack trace is for -vvv only, and then on stderr.
  expect(r.stdout, `${what}: stack trace`).not.toMatch(/\n\s+at .+:\d+:\d+/);
  // eslint-disable-next-line no-control-regex
  expect(r.stdout, `${what}: escape sequence`).not.toMatch(/\x1b/);
}

let api: ApiServer;
let tmp: string;
const start = apiServers();
beforeAll(async () => {
  api = await start('incident');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-nrpe-bad-'));
});
afterAll(async () => {
  fs.rmSync(tmp, { recursive: true, force: true });
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
  });

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
  });
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
    ['YAML but no cluster', () => write('nocluster', 'apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    token: s3cr3t-t0ken-in-a-broken-file\n'), /has no cluster server|not a valid kubeconfig/],
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

describe('shell metacharacters are arguments, never commands', () => {
  it.each(CHECKS)('%s', async (check) => {
    const marker = path.join(tmp, `pwned-${check}`);
    const evil = [`$(touch ${marker})`, `x; touch ${marker} | \`touch ${marker}\``, `-rf\nb`];
    const opts = ['--node', '--unit', '--namespace', '--deployment', '--lease', '--scheduler-name', '--pattern', '--selector'];
    const cases = opts.flatMap((opt) => evil.map((value) => `${opt}=${value}`));
    const runs = await pool(cases, (arg) => runBuilt(check, ['--kubeconfig', api.kubeconfig, '-t', '5', arg]));
    runs.forEach((r, i) => expectSafe(r, `${check} ${JSON.stringify(cases[i])}`));
    expect(fs.existsSync(marker), `${check} ran a shell`).toBe(false);
  });
});

describe('hostile cluster text cannot break the output', () => {
  const evil = `a|b\nc\r\x1b[31mred\x1b[0m\x07\u2028d ${'x'.repeat(10 * 1024)}`;
  it('messages and holder identities with |, newlines, ANSI and 10 KB', async () => {
    const s = await start({
      objects: [
        { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'kube-scheduler', namespace: 'kube-system' }, spec: { holderIdentity: evil, leaseDurationSeconds: 15, renewTime: '$now-1s.micro' } },
        { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', creationTimestamp: '$now-20m' }, spec: {}, status: { phase: 'Pending' } },
        {
          apiVersion: 'v1', kind: 'Event', metadata: { name: 'p.1', namespace: 'ns' }, involvedObject: { kind: 'Pod', namespace: 'ns', name: 'p' },
          reason: 'FailedScheduling', message: evil, type: 'Warning', eventTime: '$now-1m.micro', reportingComponent: 'default-scheduler',
        },
      ],
    });
    for (const v of [[], ['-v'], ['-vv'], ['--format', 'json']]) {
      const r = await runBuilt('scheduler_stall', ['--kubeconfig', s.kubeconfig, ...v]);
      expect(r.code).toBe(1);
      if (v[0] === '--format') {
        const o = JSON.parse(r.stdout);
        expect(o.summary).not.toMatch(/[\n\r\x1b|]/);
        continue;
      }
      expectSafe(r, v.join(' '));
      expect(r.firstLine.split(' | ')).toHaveLength(2);
      expect(r.stdout).not.toMatch(/[\r\x07\u2028]/);
      if (v.length === 0) expect(Buffer.byteLength(r.stdout)).toBeLessThanOrEqual(1024);
      expect(r.stdout.split('\n').slice(1).join('\n')).not.toMatch(/\|/);
    }
  });
});

describe('secrets never appear in output', () => {
  it('not with -vvv, not on success, not on any error', async () => {
    const token = fs.readFileSync(path.join(api.dir, 'token'), 'utf8').trim();
    const key = fs.readFileSync(path.join(api.dir, 'client.key'), 'utf8');
    const keyB64 = Buffer.from(key).toString('base64');
    const keyBody = key.split('\n').filter((l) => l && !l.startsWith('-----'))[0]!;
    const secrets = [token, keyB64.slice(0, 40), keyBody.slice(0, 40), 'PRIVATE KEY'];
    const bad = await start('incident', { rules: [{ path: '^/api/v1/events$', status: 500 }] });
    const runs: [string, string[]][] = [];
    for (const check of CHECKS) {
      for (const kind of ['cert', 'token', 'badtoken', 'badca', 'expired', 'multi'] as const) {
        runs.push([check, ['--kubeconfig', api.kubeconfigFor(kind), '-vvv']]);
      }
      runs.push([check, ['--kubeconfig', bad.kubeconfigFor('token'), '-vvv']]);
      runs.push([check, ['--kubeconfig', api.kubeconfigFor('token'), '-vvv', '--format', 'json']]);
    }
    const results = await pool(runs, ([check, args]) => runBuilt(check, args));
    results.forEach((r, i) => {
      for (const secret of secrets) expect(r.stdout + r.stderr, `${runs[i]![0]} ${runs[i]![1].join(' ')}`).not.toContain(secret);
    });
  }, 120000);
});
