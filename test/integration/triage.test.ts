import { describe, expect, it } from 'vitest';
import { apiServers, EVENT_LISTS, runBuilt } from '../harness.js';
import { HOST_INPUT } from '../sweep.js';

const start = apiServers();

// The host's own netfilter, journal, services and kernel settings are not the
// incident's: leave the node-local checks out here (they have their own tests
// with real tools).
const API_ONLY = ['--skip', HOST_INPUT.join(',')];

describe('k8s-nrpe triage', () => {
  it('on the incident: a table worst first, the long output of each non-OK check, CRITICAL overall', async () => {
    const s = await start('incident');
    const r = await runBuilt('k8s-nrpe', ['triage', '--kubeconfig', s.kubeconfig, '--node', 'k8s02', ...API_ONLY]);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^STATE\s+CHECK\s+SUMMARY$/);
    const table = lines.slice(1, lines.indexOf(''));
    const states = table.map((l) => l.split(/\s+/)[0]);
    // worst first: every CRITICAL before every WARNING before UNKNOWN before OK
    const rank = { CRITICAL: 0, WARNING: 1, UNKNOWN: 2, OK: 3 } as Record<string, number>;
    expect(states.map((s) => rank[s!])).toEqual([...states.map((s) => rank[s!])].sort());
    for (const check of ['scheduler_stall', 'sandbox_changed', 'kubelet_stall', 'stuck_terminating', 'reboot_ready']) {
      expect(r.stdout, check).toMatch(new RegExp(`^CRITICAL\\s+${check}\\s+`, 'm'));
      expect(r.stdout, check).toMatch(new RegExp(`^== ${check} \\(CRITICAL\\)$`, 'm'));
    }
    expect(r.stdout).toMatch(/^WARNING\s+coredns\s+/m);
    // check_k8s_canary writes: triage runs it only with --only canary.
    const skipped = HOST_INPUT.map((c) => `${c} (skipped with --skip)`).join(', ');
    expect(r.stdout).toContain(`\nnot run: ${skipped}, canary (creates a pod: run it with k8s-nrpe triage --only canary)\n`);
    expect(r.stdout).toMatch(/^overall: CRITICAL \(\d+ critical, \d+ warning(, \d+ ok)?\) on \S+$/m); // apiserver: the API server itself was fine
    expect(r.stdout).not.toMatch(/\x1b\[/); // no colour on a pipe
    expect(r.stderr).toBe(''); // dozens of requests in one process, and not a word on stderr
  });

  it('--json for tooling, same verdict', async () => {
    const s = await start('incident');
    const r = await runBuilt('k8s-nrpe', ['triage', '--kubeconfig', s.kubeconfig, '--node', 'k8s02', '--json', ...API_ONLY]);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    const o = JSON.parse(r.stdout);
    expect(o).toMatchObject({ state: 'CRITICAL', exitCode: 2 });
    // States as names, as --format json writes them (docs/json.md); exitCode beside them.
    const byName = Object.fromEntries(o.checks.map((c: { check: string; state: string }) => [c.check, c.state]));
    expect(byName).toMatchObject({ scheduler_stall: 'CRITICAL', leases: 'WARNING', coredns: 'WARNING', kubelet_stall: 'CRITICAL', workloads: 'CRITICAL', pods: 'WARNING', volumes: 'WARNING' });
    expect(o.skipped.map((x: { check: string }) => x.check)).toEqual([...HOST_INPUT, 'canary']);
  });

  it('on a healthy cluster: OK overall, no long output', async () => {
    const s = await start('healthy');
    const r = await runBuilt('k8s-nrpe', ['triage', '--kubeconfig', s.kubeconfig, '--node', 'k8s01', ...API_ONLY]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).not.toMatch(/^== /m);
    expect(r.stdout).toMatch(/^overall: OK \(14 ok\) on \S+$/m); // the API checks of k8s-nrpe --list but dqlite and calico_nat
  });

  it('runs the checks at once, not one after another', async () => {
    // The double answers no events list until scheduler_stall's (FailedScheduling) and
    // sandbox_changed's (SandboxChanged) are both waiting for an answer. One check after another,
    // the first would wait out its -t and never see the second's request; at once, both meet and
    // every check ends with its verdict. No clock is read: -t is only the failure's bound.
    const s = await start('incident', { rules: [{ path: EVENT_LISTS, together: ['reason=FailedScheduling', 'reason=SandboxChanged'] }] });
    const r = await runBuilt('k8s-nrpe', ['triage', '--kubeconfig', s.kubeconfig, '-t', '120', '--node', 'k8s02', ...API_ONLY]);
    expect(r.stdout).not.toMatch(/timed out/);
    expect(r.stdout).toMatch(/^CRITICAL\s+scheduler_stall\s+scheduler stall: /m);
    expect(r.stdout).toMatch(/^CRITICAL\s+sandbox_changed\s+/m);
    const events = s.requests().filter((q) => /\/events$/.test(q.path));
    for (const reason of ['FailedScheduling', 'SandboxChanged']) {
      expect(events.some((q) => q.query.fieldSelector?.includes(`reason=${reason}`) && q.status === 200), reason).toBe(true);
    }
  }, 300_000);

  it('bad triage options are UNKNOWN with one line', async () => {
    for (const args of [['--bogus'], ['--only', 'nope'], ['--skip', 'nope']]) {
      const r = await runBuilt('k8s-nrpe', ['triage', ...args]);
      expect(r.code, args.join(' ')).toBe(3);
      expect(r.stdout).toMatch(/^K8S TRIAGE UNKNOWN - /);
      expect(r.stdout.trim().split('\n')).toHaveLength(1);
    }
  });
});
