import { describe, expect, it } from 'vitest';
import check, { type Data, type LeaseData } from '../../checks/leases.js';
import type { Lease, Node } from '../../lib/kube/types.js';
import { parseArgs } from '../../lib/plugin/args.js';
import { UsageError } from '../../lib/plugin/errors.js';
import { outcomeState } from '../../lib/plugin/result.js';
import { State } from '../../lib/plugin/state.js';
import { clock, checkOptions } from './support.js';

const { NOW, micro } = clock('2026-06-05T06:30:00Z');
const UUID = '4f7c2a1e-9b3d-4c6e-8f2a-1d5e7b9c3a60';

const opts = (args: string[] = []) => checkOptions(check, args);

const lease = (name: string, holder: string | undefined, renewAgo: number | undefined, duration: number | undefined = 15, transitions = 3): Lease => ({
  metadata: { name, namespace: 'kube-system' },
  spec: {
    ...(holder !== undefined && { holderIdentity: holder }),
    ...(duration !== undefined && { leaseDurationSeconds: duration }),
    acquireTime: micro(3600),
    ...(renewAgo !== undefined && { renewTime: micro(renewAgo) }),
    leaseTransitions: transitions,
  },
});
const node = (name: string, ready = 'True', unschedulable = false): Node => ({
  metadata: { name },
  spec: unschedulable ? { unschedulable: true } : {},
  status: { conditions: [{ type: 'Ready', status: ready }] },
});
/** A lease held by "<node>_<uuid>"; its node Ready unless given (null: no such node). */
const held = (name: string, nodeName: string, renewAgo: number, duration = 15, n: Node | null = node(nodeName)): LeaseData => ({
  name, lease: lease(name, `${nodeName}_${UUID}`, renewAgo, duration), nodeName, node: n ?? undefined,
});
const healthy = (): Data => ({ leases: [held('kube-scheduler', 'k8s01', 2), held('kube-controller-manager', 'k8s03', 1)] });

const run = async (d: Data, args: string[] = []) => {
  const o = check.evaluate(d, await opts(args), NOW);
  return { o, state: outcomeState(o), perf: Object.fromEntries(o.perfdata.map((p) => [p.label, p.value])) };
};

describe('leases options', () => {
  it('defaults to the scheduler and controller-manager leases in kube-system, max duration 20s', async () => {
    expect(await opts()).toMatchObject({ namespace: 'kube-system', lease: [], maxLeaseDuration: undefined, holderNotANode: 'ok' });
  });

  it('takes --lease as a comma-separated list', async () => {
    expect(await opts(['--lease', 'kube-scheduler'])).toMatchObject({ lease: ['kube-scheduler'] });
    expect(await opts(['--lease', 'a, b,a', '--max-lease-duration', '1m'])).toMatchObject({ lease: ['a', 'b'], maxLeaseDuration: 60 });
    await expect(parseArgs(check, ['--lease', 'a', 'b'])).rejects.toThrow(UsageError);
  });

  it('rejects bad lease names and durations', async () => {
    await expect(parseArgs(check, ['--lease', 'Bad_Name'])).rejects.toThrow(UsageError);
    await expect(parseArgs(check, ['--lease', 'a,,b'])).rejects.toThrow(/needs a name/);
    await expect(parseArgs(check, ['--lease', '--namespace', 'x'])).rejects.toThrow(/needs a name/);
    await expect(parseArgs(check, ['--max-lease-duration', 'long'])).rejects.toThrow(/--max-lease-duration/);
  });
});

describe('leases evaluate', () => {
  it('is OK for fresh leases with short durations on Ready nodes', async () => {
    const { o, state, perf } = await run(healthy());
    expect(state).toBe(State.OK);
    expect(o.summary).toBe('kube-scheduler held by k8s01, renewed 2s ago; kube-controller-manager held by k8s03, renewed 1s ago');
    expect(perf).toEqual({
      'renew_age_kube-scheduler': 2, 'duration_kube-scheduler': 15, 'transitions_kube-scheduler': 3,
      'renew_age_kube-controller-manager': 1, 'duration_kube-controller-manager': 15, 'transitions_kube-controller-manager': 3,
    });
    expect(o.findings).toContainEqual({ state: undefined, text: `kube-system/kube-scheduler: held by k8s01_${UUID} on node k8s01 (Ready), renewed 2s ago, leaseDurationSeconds 15, 3 transitions` });
  });

  it('is only WARNING on the incident (microk8s defaults): the scheduler\'s 60s lease, naming the one change to make', async () => {
    const { o, state } = await run({ leases: [held('kube-scheduler', 'k8s02', 3, 60), held('kube-controller-manager', 'k8s01', 2, 60)] });
    expect(state).toBe(State.WARNING);
    // The controller-manager's 60s is microk8s's default and stays quiet; the scheduler's 20s is the action item.
    expect(o.summary).toBe('kube-scheduler (k8s02): leaseDurationSeconds 60 > 20');
    expect(o.findings[0]).toEqual({ state: State.WARNING, text: 'kube-scheduler: leaseDurationSeconds 60 > 20: failover waits up to 1m; fix: --leader-elect-lease-duration=20s --leader-elect-renew-deadline=15s in /var/snap/microk8s/current/args/kube-scheduler' });
    expect(o.findings.filter((f) => f.state === undefined)).toHaveLength(2);
    expect(o.perfdata.find((p) => p.label === 'duration_kube-controller-manager')!.warn?.text).toBe('60');
    // After the action item (scheduler 20s, controller-manager left at 60s): quiet.
    const fixed = await run({ leases: [held('kube-scheduler', 'k8s02', 3, 20), held('kube-controller-manager', 'k8s01', 2, 60)] });
    expect(fixed.state).toBe(State.OK);
    const durationPerf = o.perfdata.find((p) => p.label === 'duration_kube-scheduler')!;
    expect(durationPerf.warn?.text).toBe('20');
  });

  it('takes leaseDurationSeconds exactly at the limit, and --max-lease-duration 0 turns the rule off', async () => {
    expect((await run({ leases: [held('kube-scheduler', 'k8s01', 1, 20)] })).state).toBe(State.OK);
    expect((await run({ leases: [held('kube-scheduler', 'k8s01', 1, 21)] })).state).toBe(State.WARNING);
    expect((await run({ leases: [held('kube-scheduler', 'k8s01', 1, 60)] }, ['--max-lease-duration', '0'])).state).toBe(State.OK);
  });

  it('is CRITICAL when a lease expired: renewed longer ago than its duration (the boundary is not expired)', async () => {
    expect((await run({ leases: [held('kube-scheduler', 'k8s01', 15, 15)] })).state).toBe(State.OK);
    const { o, state } = await run({ leases: [held('kube-scheduler', 'k8s01', 16, 15), held('kube-controller-manager', 'k8s03', 1)] });
    expect(state).toBe(State.CRITICAL);
    expect(o.summary).toBe('kube-scheduler (k8s01): expired (renewed 16s ago, leaseDurationSeconds 15)');
  });

  it('is CRITICAL when the holder node is NotReady, Unknown or missing; WARNING when only cordoned', async () => {
    const cases: [Node | null, State, RegExp][] = [
      [node('k8s02', 'False'), State.CRITICAL, /holder node k8s02 NotReady/],
      [node('k8s02', 'Unknown'), State.CRITICAL, /holder node k8s02 Unknown/],
      // No node by that name, label or address, with a fresh lease: an external control plane, OK by default.
      [null, State.OK, /^kube-scheduler held by k8s02, renewed 2s ago$/],
      [node('k8s02', 'True', true), State.WARNING, /holder node k8s02 cordoned/],
      [node('k8s02', 'False', true), State.CRITICAL, /k8s02 NotReady, holder node k8s02 cordoned/],
    ];
    for (const [n, want, re] of cases) {
      const { o, state } = await run({ leases: [held('kube-scheduler', 'k8s02', 2, 15, n)] });
      expect(state, JSON.stringify(n)).toBe(want);
      expect(o.summary).toMatch(re);
    }
  });

  it('a holder that is no node: said, and --holder-not-a-node makes it WARNING or CRITICAL', async () => {
    const d: Data = { leases: [held('kube-scheduler', 'vm', 2, 15, null)] };
    const ok = await run(d);
    expect(ok.state).toBe(State.OK);
    expect(ok.o.findings.map((f) => f.text).join('\n')).toMatch(/held by vm_\S+ \(vm is no node of this cluster: an external control plane\?\)/);
    expect((await run(d, ['--holder-not-a-node', 'warning'])).state).toBe(State.WARNING);
    const crit = await run(d, ['--holder-not-a-node', 'critical']);
    expect(crit.state).toBe(State.CRITICAL);
    expect(crit.o.summary).toBe('kube-scheduler (vm): holder vm is no node');
  });

  it('reports a holder identity that is not <node>_<uuid> as it is, without failing on it', async () => {
    const d: Data = { leases: [{ name: 'my-operator', lease: lease('my-operator', 'my-operator-7d9f8b-x2kq9', 1) }] };
    const { o, state } = await run(d);
    expect(state).toBe(State.OK);
    expect(o.findings[0]!.text).toMatch(/held by my-operator-7d9f8b-x2kq9 \(identity is not <node>_<uuid>: node not checked\)/);
    expect(o.summary).toBe('my-operator held by my-operator-7d9f8b-x2kq9, renewed 1s ago');
  });

  it('is WARNING for a missing default lease, CRITICAL for one named with --lease; perfdata U', async () => {
    const d: Data = { leases: [{ name: 'kube-scheduler' }, held('kube-controller-manager', 'k8s01', 1)] };
    let r = await run(d);
    expect(r.state).toBe(State.WARNING);
    expect(r.o.summary).toBe('kube-scheduler: no Lease (leader election off?)');
    expect(r.perf['renew_age_kube-scheduler']).toBeUndefined();
    expect(r.perf['transitions_kube-scheduler']).toBeUndefined();
    r = await run(d, ['--lease', 'kube-scheduler,kube-controller-manager']);
    expect(r.state).toBe(State.CRITICAL);
  });

  it('is CRITICAL for a lease with no holder, WARNING for one with no renewTime', async () => {
    let r = await run({ leases: [{ name: 'kube-scheduler', lease: lease('kube-scheduler', '', 1) }] });
    expect(r.state).toBe(State.CRITICAL);
    expect(r.o.summary).toBe('kube-scheduler: no holder');
    r = await run({ leases: [{ name: 'kube-scheduler', lease: lease('kube-scheduler', `k8s01_${UUID}`, undefined), nodeName: 'k8s01', node: node('k8s01') }] });
    expect(r.state).toBe(State.WARNING);
    expect(r.o.summary).toMatch(/no renewTime/);
  });

  it('judges renew age against -w/-c and puts the ranges in the perfdata', async () => {
    const d = { leases: [held('kube-scheduler', 'k8s01', 8, 15)] };
    expect((await run(d, ['-w', '5', '-c', '10'])).state).toBe(State.WARNING);
    const r = await run(d, ['-w', '3', '-c', '5']);
    expect(r.state).toBe(State.CRITICAL);
    expect(r.o.summary).toBe('kube-scheduler (k8s01): renewed 8s ago');
    const p = r.o.perfdata.find((x) => x.label === 'renew_age_kube-scheduler')!;
    expect([p.warn?.text, p.crit?.text]).toEqual(['3', '5']);
  });

  it('lists the worst lease first in the summary', async () => {
    const { o } = await run({ leases: [held('kube-controller-manager', 'k8s01', 1, 60), held('kube-scheduler', 'k8s02', 300, 60)] }, ['--max-lease-duration', '30s']);
    expect(o.summary).toMatch(/^kube-scheduler \(k8s02\): expired .*; kube-controller-manager \(k8s01\): leaseDurationSeconds 60 > 30$/);
  });
});

describe('leases: what to do', () => {
  it('an expired lease: restart kubelite on the node that held it', async () => {
    const { o } = await run({ leases: [held('kube-scheduler', 'k8s02', 120), held('kube-controller-manager', 'k8s03', 1)] });
    expect(o.actions?.[0]).toEqual({ state: State.CRITICAL, text: expect.stringMatching(/^kube-scheduler: the leader k8s02_\S+ stopped renewing: on k8s02 run sudo snap restart microk8s\.daemon-kubelite .*kubectl get lease -n kube-system kube-scheduler.*check again$/) });
  });

  it('a holder on a NotReady node: bring it back or stop its control plane', async () => {
    const { o } = await run({ leases: [held('kube-scheduler', 'k8s02', 2, 15, node('k8s02', 'False'))] });
    expect(o.actions?.[0]?.text).toMatch(/^kube-scheduler: bring k8s02 back .*on k8s02: sudo snap stop microk8s\.daemon-kubelite/);
  });

  it('no holder: restart on each control-plane node', async () => {
    const { o } = await run({ leases: [{ name: 'kube-scheduler', lease: lease('kube-scheduler', undefined, 5) }] });
    expect(o.actions?.[0]?.text).toMatch(/^kube-scheduler: no kube-scheduler leads: on each control-plane node run sudo snap restart microk8s\.daemon-kubelite/);
  });

  it('is silent when every lease is fine', async () => {
    expect((await run(healthy())).o.actions).toBeUndefined();
  });
});

describe('leases: the words the operator acts on', () => {
  it('a missing Lease: why it may be missing, and how to name the ones that exist', async () => {
    const { o } = await run({ leases: [{ name: 'kube-scheduler' }] });
    expect(o.findings).toContainEqual({ state: State.WARNING, text: 'no Lease kube-system/kube-scheduler: leader election off (--leader-elect=false) or kube-scheduler never started' });
    expect(o.findings).toContainEqual({ state: undefined, text: 'kube-system/kube-scheduler: no such Lease' });
    expect(o.actions).toEqual([{ state: State.WARNING, text: 'kube-scheduler: see whether kube-scheduler runs with --leader-elect (microk8s: /var/snap/microk8s/current/args/kube-scheduler); if this cluster has no kube-scheduler Lease by design, list the ones it has with --lease' }]);
  });

  it('a Lease without leaseDurationSeconds cannot expire: WARNING, and never read as expired however old', async () => {
    const l = held('kube-scheduler', 'k8s01', 600);
    delete l.lease!.spec!.leaseDurationSeconds;
    const { o, state, perf } = await run({ leases: [l] });
    expect(state).toBe(State.WARNING);
    expect(o.summary).toBe('kube-scheduler (k8s01): no leaseDurationSeconds');
    expect(o.findings[0]).toEqual({ state: State.WARNING, text: 'kube-scheduler: no leaseDurationSeconds: expiry unknown' });
    expect(o.actions?.[0]?.text).toBe('kube-scheduler: read the Lease (kubectl get lease -n kube-system kube-scheduler -o yaml): whatever wrote it did not set leaseDurationSeconds');
    expect(o.findings.map((f) => f.text)).toContain(`kube-system/kube-scheduler: held by k8s01_${UUID} on node k8s01 (Ready), renewed 10m ago, leaseDurationSeconds ?, 3 transitions`);
    expect(perf['duration_kube-scheduler']).toBeUndefined();
  });

  it('a Lease never renewed and never held: both said, the worst first, in one status-line entry', async () => {
    const { o, state } = await run({ leases: [{ name: 'kube-scheduler', lease: lease('kube-scheduler', undefined, undefined, 15, 0) }] });
    // (no holder and no renewTime: never read as expired, there is nothing to time)
    expect(state).toBe(State.CRITICAL);
    expect(o.summary).toBe('kube-scheduler: no holder, no renewTime');
    expect(o.findings.slice(0, 2)).toEqual([
      { state: State.CRITICAL, text: 'kube-scheduler: no holder: no leader elected' },
      { state: State.WARNING, text: 'kube-scheduler: no renewTime: freshness unknown' },
    ]);
    expect(o.findings).toContainEqual({ state: undefined, text: 'kube-system/kube-scheduler: not held, never renewed, leaseDurationSeconds 15, 0 transitions' });
    expect(o.perfdata.find((p) => p.label === 'transitions_kube-scheduler')).toMatchObject({ value: 0, uom: 'c', min: 0 });
    expect(o.perfdata.find((p) => p.label === 'renew_age_kube-scheduler')).toMatchObject({ value: undefined, uom: 's', min: 0 });
  });

  it('a Lease released by its leader (no holder) long ago is "no holder", not also "expired"', async () => {
    const { o, state } = await run({ leases: [{ name: 'kube-scheduler', lease: lease('kube-scheduler', '', 600) }] });
    expect(state).toBe(State.CRITICAL);
    expect(o.summary).toBe('kube-scheduler: no holder');
    expect(o.findings.filter((f) => f.state !== undefined)).toEqual([{ state: State.CRITICAL, text: 'kube-scheduler: no holder: no leader elected' }]);
  });

  it('a cordoned holder: move leadership off it before the drain', async () => {
    const { o } = await run({ leases: [held('kube-scheduler', 'k8s02', 2, 15, node('k8s02', 'True', true))] });
    expect(o.findings[0]).toEqual({ state: State.WARNING, text: 'kube-scheduler: holder node k8s02 cordoned: move leadership off it before the drain or reboot' });
    expect(o.actions?.[0]?.text).toMatch(/^kube-scheduler: move leadership off k8s02 before its drain: on k8s02 run sudo snap restart microk8s\.daemon-kubelite/);
  });

  it('a holder named by a hostname in capitals is matched to its node in lower case', async () => {
    const l: LeaseData = { name: 'kube-scheduler', lease: lease('kube-scheduler', `K8S02_${UUID}`, 120), nodeName: 'k8s02', node: node('k8s02') };
    const { o } = await run({ leases: [l] });
    expect(o.summary).toBe('kube-scheduler (k8s02): expired (renewed 2m ago, leaseDurationSeconds 15)');
    expect(o.actions?.[0]?.text).toMatch(/stopped renewing: on k8s02 run sudo snap restart/);
    // The same identity whose node is not known: the host part, lower-cased, is where to restart.
    const unknown = await run({ leases: [{ name: 'kube-scheduler', lease: lease('kube-scheduler', `K8S02_${UUID}`, 120) }] });
    expect(unknown.o.actions?.[0]?.text).toMatch(/stopped renewing: on k8s02 run sudo snap restart/);
  });

  it('--holder-not-a-node: where to look, or how to accept it', async () => {
    const { o } = await run({ leases: [held('kube-scheduler', 'vm', 2, 15, null)] }, ['--holder-not-a-node', 'warning']);
    expect(o.findings[0]).toEqual({ state: State.WARNING, text: 'kube-scheduler: holder vm is no node: not a node of this cluster by name, kubernetes.io/hostname or Hostname address (--holder-not-a-node)' });
    expect(o.actions?.[0]?.text).toBe('kube-scheduler: find where vm runs kube-scheduler (an external control plane?); if that is by design, pass --holder-not-a-node ok');
  });

  it('a long lease: the microk8s fix for the scheduler, the flag for any other; --max-lease-duration drops the scheduler hint', async () => {
    let r = await run({ leases: [held('kube-scheduler', 'k8s01', 1, 60)] });
    expect(r.o.actions?.[0]?.text).toBe('kube-scheduler: set --leader-elect-lease-duration=20s --leader-elect-renew-deadline=15s in /var/snap/microk8s/current/args/kube-scheduler, then on each control-plane node sudo snap restart microk8s.daemon-kubelite');
    r = await run({ leases: [held('kube-controller-manager', 'k8s01', 1, 90)] });
    expect(r.o.findings[0]).toEqual({ state: State.WARNING, text: 'kube-controller-manager: leaseDurationSeconds 90 > 60: failover waits up to 1m30s' });
    expect(r.o.actions?.[0]?.text).toBe("kube-controller-manager: lower kube-controller-manager's --leader-elect-lease-duration to 60s or less");
    r = await run({ leases: [held('kube-scheduler', 'k8s01', 1, 60)] }, ['--max-lease-duration', '30s']);
    expect(r.o.findings[0]).toEqual({ state: State.WARNING, text: 'kube-scheduler: leaseDurationSeconds 60 > 30: failover waits up to 1m' });
    // --max-lease-duration 0: no rule, so no range in the perfdata either.
    r = await run({ leases: [held('kube-scheduler', 'k8s01', 1, 60)] }, ['--max-lease-duration', '0']);
    expect(r.o.perfdata.find((p) => p.label === 'duration_kube-scheduler')).toMatchObject({ value: 60, uom: 's', min: 0, warn: undefined });
    expect(r.o.perfdata.find((p) => p.label === 'renew_age_kube-scheduler')).toMatchObject({ value: 1, uom: 's', min: 0 });
  });

  it('the OK line of a Lease renewed at an unknown time, held by an identity that is not a node', async () => {
    const { o } = await run({ leases: [{ name: 'op', lease: lease('op', 'op-1', 1) }] });
    expect(o.summary).toBe('op held by op-1, renewed 1s ago');
    const never = check.evaluate({ leases: [{ name: 'op', lease: lease('op', 'op-1', undefined) }] }, await opts(['-w', '1000']), NOW);
    expect(never.summary).toBe('op (op-1): no renewTime');
  });
});
