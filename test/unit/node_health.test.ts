import { describe, expect, it } from 'vitest';
import check, { detectFlavour, type Data } from '../../checks/node_health.js';
import { parseShowUnits, type UnitState } from '../../lib/host/systemd.js';
import { outcomeState } from '../../lib/plugin/result.js';
import { State } from '../../lib/plugin/state.js';
import { checkOptions, flatFindings } from './support.js';

const NOW = Date.parse('2026-06-05T06:30:00Z');

/**
 * `systemctl show -p Id -p LoadState -p ActiveState -p SubState -p NRestarts
 * -p ActiveEnterTimestampMonotonic -- A B C` as systemd writes it: properties
 * in its own order (the service's NRestarts before the unit's), one block per
 * unit in the order asked, a blank line between; a unit that does not exist
 * still gets its block (LoadState=not-found) and exit status 0.
 */
const SHOW = `NRestarts=0
Id=snap.microk8s.daemon-kubelite.service
LoadState=loaded
ActiveState=active
SubState=running
ActiveEnterTimestampMonotonic=9000000000

NRestarts=7
Id=snap.microk8s.daemon-containerd.service
LoadState=loaded
ActiveState=activating
SubState=auto-restart
ActiveEnterTimestampMonotonic=0

NRestarts=0
Id=snap.microk8s.daemon-k8s-dqlite.service
LoadState=not-found
ActiveState=inactive
SubState=dead
ActiveEnterTimestampMonotonic=0
`;
const UNITS = ['snap.microk8s.daemon-kubelite', 'snap.microk8s.daemon-containerd', 'snap.microk8s.daemon-k8s-dqlite'];

const healthy = (): Data => ({
  flavour: 'microk8s',
  units: UNITS.map((unit) => ({ known: true, unit, load: 'loaded', active: 'active', sub: 'running', restarts: 0, activeForS: 86400 })),
  healthz: { ok: true, ms: 1.2, said: '200 ok' },
  runtime: { ok: true, ms: 0.8, said: 'answered', socket: '/var/snap/microk8s/common/run/containerd.sock' },
  sysctl: {
    'fs.aio-nr': 1000, 'fs.aio-max-nr': 1048576, 'fs.inotify.max_user_instances': 1024, 'fs.inotify.max_user_watches': 1048576,
    'net.bridge.bridge-nf-call-iptables': 1, 'net.ipv4.ip_forward': 1, 'net.netfilter.nf_conntrack_count': 10, 'net.netfilter.nf_conntrack_max': 1000,
  },
  brNetfilter: true,
});

describe('systemctl show for several units', () => {
  it('reads one block per unit, in order, with how long each has been active', () => {
    const [k, c, d] = parseShowUnits(SHOW, UNITS, 9_060_000_000);
    expect(k).toEqual({ known: true, unit: UNITS[0], load: 'loaded', active: 'active', sub: 'running', restarts: 0, activeForS: 60 });
    expect(c).toMatchObject({ known: true, active: 'activating', sub: 'auto-restart', restarts: 7, activeForS: undefined });
    expect(d).toMatchObject({ known: true, load: 'not-found' });
  });

  it('a unit without a block is unknown, not healthy', () => {
    expect(parseShowUnits(SHOW.split('\n\n')[0]!, UNITS.slice(0, 2))[1]).toMatchObject({ known: false, unit: UNITS[1] });
  });
});

describe('check_k8s_node_health evaluate', () => {
  it('is OK on a healthy node and says what it judged', async () => {
    const out = check.evaluate(healthy(), await checkOptions(check), NOW);
    expect(outcomeState(out)).toBe(State.OK);
    expect(out.summary).toBe('microk8s: 3 units active, kubelet healthy, containerd answering, kernel settings fine');
  });

  it('fs.aio-nr: OK at 80% (the range is inclusive), WARNING above, CRITICAL above 95%', async () => {
    const o = await checkOptions(check);
    const at = (nr: number) => { const d = healthy(); d.sysctl!['fs.aio-nr'] = nr; d.sysctl!['fs.aio-max-nr'] = 1000; return check.evaluate(d, o, NOW); };
    expect(outcomeState(at(800))).toBe(State.OK);
    expect(outcomeState(at(801))).toBe(State.WARNING);
    expect(outcomeState(at(950))).toBe(State.WARNING);
    const full = at(1000);
    expect(outcomeState(full)).toBe(State.CRITICAL);
    expect(full.summary).toBe('fs.aio-nr 1000 of fs.aio-max-nr 1000');
    expect(full.actions?.[0]?.text).toMatch(/^raise it: sudo sysctl -w fs\.aio-max-nr=1048576, .*\/etc\/sysctl\.d\/.*; then sudo snap restart microk8s\.daemon-k8s-dqlite$/);
  });

  it('conntrack near full is CRITICAL past 90% (node-problem-detector\'s ConntrackFull); not loaded is only a note', async () => {
    const o = await checkOptions(check);
    const d = healthy();
    d.sysctl!['net.netfilter.nf_conntrack_count'] = 901;
    expect(outcomeState(check.evaluate(d, o, NOW))).toBe(State.CRITICAL);
    d.sysctl!['net.netfilter.nf_conntrack_count'] = undefined;
    const out = check.evaluate(d, o, NOW);
    expect(outcomeState(out)).toBe(State.OK);
    expect(flatFindings(out.findings).map((f) => f.text)).toContain('nf_conntrack not loaded: connection table not judged');
  });

  it('ip_forward off is CRITICAL; bridge-nf-call-iptables off or br_netfilter missing WARNING; its sysctl counts as loaded', async () => {
    const o = await checkOptions(check);
    const d = healthy();
    d.sysctl!['net.ipv4.ip_forward'] = 0;
    expect(outcomeState(check.evaluate(d, o, NOW))).toBe(State.CRITICAL);
    const b = healthy();
    b.sysctl!['net.bridge.bridge-nf-call-iptables'] = 0;
    expect(check.evaluate(b, o, NOW).summary).toBe('net.bridge.bridge-nf-call-iptables=0');
    b.brNetfilter = false;
    b.sysctl!['net.bridge.bridge-nf-call-iptables'] = 1; // built in: no /sys/module entry, the sysctl is there
    expect(outcomeState(check.evaluate(b, o, NOW))).toBe(State.OK);
    b.sysctl!['net.bridge.bridge-nf-call-iptables'] = undefined;
    const out = check.evaluate(b, o, NOW);
    expect(outcomeState(out)).toBe(State.WARNING);
    expect(out.summary).toBe('br_netfilter not loaded');
    // A CNI that routes without a bridge: the operator turns the bridge rules off; ip_forward is still judged.
    const routed = await checkOptions(check, ['--no-bridge-netfilter']);
    expect(outcomeState(check.evaluate(b, routed, NOW))).toBe(State.OK);
    b.sysctl!['net.ipv4.ip_forward'] = 0;
    expect(outcomeState(check.evaluate(b, routed, NOW))).toBe(State.CRITICAL);
    expect(check.evaluate(b, routed, NOW).summary).toBe('net.ipv4.ip_forward=0');
  });

  it('restarts count only while the unit has run for less than --restart-window', async () => {
    const o = await checkOptions(check, ['--restart-window', '10m']);
    const d = healthy();
    d.units![0] = { ...(d.units![0] as Extract<UnitState, { known: true }>), restarts: 3, activeForS: 599 };
    const out = check.evaluate(d, o, NOW);
    expect(outcomeState(out)).toBe(State.WARNING);
    expect(out.summary).toBe('snap.microk8s.daemon-kubelite restart-looping (3 restarts, up 9m59s)');
    d.units![0] = { ...(d.units![0] as Extract<UnitState, { known: true }>), restarts: 3, activeForS: 600 };
    expect(outcomeState(check.evaluate(d, o, NOW))).toBe(State.OK);
    d.units![0] = { ...(d.units![0] as Extract<UnitState, { known: true }>), restarts: 5, activeForS: 10 };
    expect(outcomeState(check.evaluate(d, o, NOW))).toBe(State.CRITICAL);
  });

  it('what it cannot know is UNKNOWN, one status line for all units; a socket it may not open is said, not judged', async () => {
    const o = await checkOptions(check);
    const d = healthy();
    d.units = UNITS.map((unit) => ({ known: false, unit, reason: 'systemctl: System has not been booted with systemd as init system (PID 1). Can\'t operate.', noSystemd: true }));
    d.runtime = { ok: false, ms: 0.1, said: 'EACCES', socket: '/x.sock' };
    const out = check.evaluate(d, o, NOW);
    expect(outcomeState(out)).toBe(State.UNKNOWN);
    expect(out.summary).toBe(`state of ${UNITS.join(', ')} unknown: no systemd on this host`);
    expect(flatFindings(out.findings).map((f) => f.text)).toContain('containerd not probed: this user may not open /x.sock (EACCES); its unit is judged');
    d.units = healthy().units;
    const ok = check.evaluate(d, o, NOW);
    expect(outcomeState(ok)).toBe(State.OK);
    expect(ok.summary).toBe('microk8s: 3 units active, kubelet healthy, kernel settings fine');
  });

  it('a kubelet or containerd that does not answer is CRITICAL, the commands those of the flavour', async () => {
    const o = await checkOptions(check);
    const d = healthy();
    d.healthz = { ok: false, ms: 2000, said: 'no answer within 2000 ms' };
    d.runtime = { ok: false, ms: 2000, said: 'no answer within 2000 ms', socket: '/run/containerd/containerd.sock' };
    const micro = check.evaluate(d, o, NOW);
    expect(outcomeState(micro)).toBe(State.CRITICAL);
    expect(micro.summary).toBe('kubelet healthz failed (no answer within 2000 ms); containerd not answering (no answer within 2000 ms)');
    expect(micro.actions?.map((a) => a.text).join('\n')).toContain('sudo snap restart microk8s.daemon-kubelite');
    const kubeadm = check.evaluate({ ...d, flavour: 'kubeadm', units: [] }, o, NOW);
    const todo = kubeadm.actions?.map((a) => a.text).join('\n');
    expect(todo).toContain('journalctl -u kubelet -n 200), restart it (sudo systemctl restart kubelet)');
    expect(todo).toContain('sudo ctr version hangs too; read journalctl -u containerd -n 200, then sudo systemctl restart containerd');
  });

  it('not a node: UNKNOWN and nothing else', async () => {
    const out = check.evaluate({}, await checkOptions(check), NOW);
    expect(outcomeState(out)).toBe(State.UNKNOWN);
    expect(out.summary).toMatch(/^not a Kubernetes node: /);
    expect(out.perfdata).toEqual([]);
  });

  it('finds the flavour from what is installed', () => {
    expect(detectFlavour((p) => p === '/var/snap/microk8s')).toBe('microk8s');
    expect(detectFlavour((p) => p === '/var/lib/kubelet/config.yaml')).toBe('kubeadm');
    expect(detectFlavour(() => false)).toBeUndefined();
  });
});
