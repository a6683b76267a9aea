// Hostile input for every check the binary knows (k8s-nrpe --list): shell metacharacters stay
// arguments, cluster text cannot break the output, secrets never appear. Bad options and
// kubeconfigs: bad-input.test.ts.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { CHECKS, expectSafe, pool } from '../bad-input-support.js';
import { apiServers, EVENT_LISTS, expectContract, runBuilt, tempDir, type ApiServer } from '../harness.js';
import { startHostile, type Hostility } from '../hostile-server.js';

let api: ApiServer;
const tmp = tempDir('bad');
const start = apiServers();
beforeAll(async () => {
  api = await start('incident');
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
  }, 600000); // 24 runs of the binary per check
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
      if (v.length === 0) expect(Buffer.byteLength(r.stdout)).toBeLessThanOrEqual(8191);
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
    const bad = await start('incident', { rules: [{ path: EVENT_LISTS, status: 500 }] });
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
  }, 900000);
});

describe('memory bounded whatever the server sends (peak RSS: bench/hostile.mjs)', () => {
  const certs = inject('k8sNrpeCerts');
  const tls = () => ({ cert: fs.readFileSync(path.join(certs, 'server.crt')), key: fs.readFileSync(path.join(certs, 'server.key')), ca: fs.readFileSync(path.join(certs, 'ca.crt')) });
  const against = async (h: Hostility, check: string) => {
    const s = await startHostile(h, tls(), tmp);
    try {
      const r = await runBuilt(check, ['--kubeconfig', s.kubeconfig, '-t', '30']);
      expectContract(r, check.toUpperCase().replace(/_/g, ' '));
      expect(r.stdout).not.toMatch(/internal error|timed out/);
      return r;
    } finally {
      await s.stop();
    }
  };
  const BUDGET = (what: string) => new RegExp(`UNKNOWN - response budget exceeded: ${what} in this run\\): stopped reading`);

  it('a gzip bomb (1 GB of one string in 1 MB) ends at the bytes a run may hold', async () => {
    const r = await against('gzip-bomb', 'leases');
    expect(r.code).toBe(3);
    expect(r.firstLine).toMatch(BUDGET('get leases\\.coordination\\.k8s\\.io kube-(scheduler|controller-manager) in namespace kube-system \\(more than 8 MB to hold at once'));
  }, 120000);

  it.each(['apiserver', 'pods'])('%s: a list that ignores limit= with 10^6 items ends at the items a run may read', async (check) => {
    const r = await against('million-items', check);
    expect(r.code).toBe(3);
    expect(r.firstLine).toMatch(BUDGET('list \\S+ at cluster scope \\(more than (60000 list items kept|500000 list items parsed)'));
    if (/kept/.test(r.firstLine)) expect(r.firstLine).toContain('raise --max-list-items');
  }, 120000);

  it.each(['apiserver', 'pods'])('%s: JSON nested 10^5 deep is not an API server\'s answer', async (check) => {
    const r = await against('deep-json', check);
    expect(r.code).toBe(3);
    expect(r.firstLine).toMatch(/UNKNOWN - API server https:\/\/127\.0\.0\.1:\d+ sent JSON nested more than 1000 deep for (get \/livez|list pods): not a Kubernetes API server/);
  }, 120000);

  it('12 MB answers on parallel lists (workloads) and health endpoints (apiserver) end at the budget', async () => {
    const w = await against('large-bodies', 'workloads');
    expect(w.code).toBe(3);
    expect(w.firstLine).toMatch(BUDGET('list \\S+ at cluster scope \\(more than 8 MB to hold at once'));
    const a = await against('large-bodies', 'apiserver');
    expect(a.code).toBe(3);
    expect(a.firstLine).toMatch(BUDGET('get /livez \\(an answer of more than 1 MB'));
  }, 120000);
});
