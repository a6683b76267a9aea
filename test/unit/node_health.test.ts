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

describe('node_health: the situations an operator meets', () => {
  type Known = Extract<UnitState, { known: true }>;
  const unit = (d: Data, i: number, u: Partial<Known>) => { d.units![i] = { ...(d.units![i] as Known), ...u }; };
  const texts = (out: ReturnType<typeof check.evaluate>) => flatFindings(out.findings).map((f) => f.text);
  const todo = (out: ReturnType<typeof check.evaluate>) => out.actions?.map((a) => a.text) ?? [];
  const perfOf = (out: ReturnType<typeof check.evaluate>, label: string) => out.perfdata.find((p) => p.label === label);

  it('a failed unit is CRITICAL and says to start it; a restart-looping one is judged by its restarts', async () => {
    const o = await checkOptions(check);
    const d = healthy();
    unit(d, 1, { active: 'failed', sub: 'failed', restarts: 2, activeForS: undefined });
    const failed = check.evaluate(d, o, NOW);
    expect(outcomeState(failed)).toBe(State.CRITICAL);
    expect(failed.summary).toBe('snap.microk8s.daemon-containerd failed');
    expect(texts(failed)).toContain('unit snap.microk8s.daemon-containerd is failed (failed): not running, restarted 2 times by systemd');
    expect(todo(failed)).toEqual(['start it: sudo snap restart microk8s.daemon-containerd; journalctl -u snap.microk8s.daemon-containerd -n 100 says why it stopped']);
    unit(d, 1, { active: 'inactive', sub: 'dead', restarts: 0 });
    const stopped = check.evaluate(d, o, NOW);
    expect(outcomeState(stopped)).toBe(State.CRITICAL);
    expect(stopped.summary).toBe('snap.microk8s.daemon-containerd inactive');
    expect(texts(stopped)).toContain('unit snap.microk8s.daemon-containerd is inactive (dead): not running');
    // Exited and being restarted by systemd: WARNING until its restarts pass -c 4.
    unit(d, 1, { active: 'activating', sub: 'auto-restart', restarts: 4 });
    const looping = check.evaluate(d, o, NOW);
    expect(outcomeState(looping)).toBe(State.WARNING);
    expect(looping.summary).toBe('snap.microk8s.daemon-containerd activating (auto-restart)');
    expect(texts(looping)).toContain('unit snap.microk8s.daemon-containerd is activating (auto-restart): it exited and systemd is restarting it, restarted 4 times by systemd');
    expect(todo(looping)).toEqual(['read why it exits: journalctl -u snap.microk8s.daemon-containerd -n 200; fix that, then check again']);
    unit(d, 1, { restarts: 5 });
    expect(outcomeState(check.evaluate(d, o, NOW))).toBe(State.CRITICAL);
    // Starting for the first time, never restarted: still not running, a WARNING.
    unit(d, 1, { sub: 'start-pre', restarts: 0 });
    const starting = check.evaluate(d, o, NOW);
    expect(outcomeState(starting)).toBe(State.WARNING);
    expect(texts(starting)).toContain('unit snap.microk8s.daemon-containerd is activating (start-pre)');
  });

  it('a unit reloading its configuration is running; its restarts judged like an active one', async () => {
    const o = await checkOptions(check);
    const d = healthy();
    unit(d, 0, { active: 'reloading', sub: 'reload', restarts: 0, activeForS: 120 });
    const out = check.evaluate(d, o, NOW);
    expect(outcomeState(out)).toBe(State.OK);
    expect(texts(out)).toContain('snap.microk8s.daemon-kubelite active (reload) for 2m');
  });

  it('restarts: recent ones judged with -w/-c and named in the status line; old ones are history, written without ranges', async () => {
    const o = await checkOptions(check);
    const d = healthy();
    unit(d, 0, { restarts: 2, activeForS: 90 });
    const recent = check.evaluate(d, o, NOW);
    expect(outcomeState(recent)).toBe(State.WARNING);
    expect(recent.summary).toBe('snap.microk8s.daemon-kubelite restart-looping (2 restarts, up 1m30s)');
    expect(texts(recent)).toContain('unit snap.microk8s.daemon-kubelite active for only 1m30s, restarted 2 times by systemd (outside --restarts-warning 0)');
    expect(todo(recent)[0]).toMatch(/^read why it keeps exiting: journalctl -u snap\.microk8s\.daemon-kubelite -n 200 /);
    expect(perfOf(recent, 'restarts_kubelite')).toMatchObject({ value: 2, uom: 'c', min: 0, warn: { text: '0' }, crit: { text: '4' } });
    expect(perfOf(recent, 'uptime_kubelite')).toMatchObject({ value: 90, uom: 's' });
    // Just started and never restarted: fine.
    unit(d, 0, { restarts: 0 });
    expect(outcomeState(check.evaluate(d, o, NOW))).toBe(State.OK);
    // Restarted three times last week, running for a day since.
    unit(d, 0, { restarts: 3, activeForS: 86400 });
    const old = check.evaluate(d, o, NOW);
    expect(outcomeState(old)).toBe(State.OK);
    expect(texts(old)).toContain('snap.microk8s.daemon-kubelite active (running) for 1d, restarted 3 times by systemd');
    const p = perfOf(old, 'restarts_kubelite')!;
    expect(p).toMatchObject({ value: 3, uom: 'c', min: 0 });
    expect(p.warn).toBeUndefined();
    expect(p.crit).toBeUndefined();
  });

  it('the datastore unit missing on a worker is said, not judged; a missing kubelite, or a missing --unit, is UNKNOWN', async () => {
    const d = healthy();
    unit(d, 2, { load: 'not-found', active: 'inactive', sub: 'dead', activeForS: undefined });
    const worker = check.evaluate(d, await checkOptions(check), NOW);
    expect(outcomeState(worker)).toBe(State.OK);
    expect(texts(worker)).toContain('snap.microk8s.daemon-k8s-dqlite not installed (a worker node runs no datastore)');
    expect(worker.summary).toMatch(/^microk8s: 2 units active, /); // the two it runs
    expect(perfOf(worker, 'restarts_k8s_dqlite')).toBeUndefined();
    const n = healthy();
    unit(n, 0, { load: 'not-found', active: 'inactive', sub: 'dead', activeForS: undefined });
    const noKubelite = check.evaluate(n, await checkOptions(check), NOW);
    expect(outcomeState(noKubelite)).toBe(State.UNKNOWN);
    expect(noKubelite.summary).toBe('unit snap.microk8s.daemon-kubelite not found');
    expect(texts(noKubelite)).toContain('unit snap.microk8s.daemon-kubelite not found on this host: --flavour or --unit names the right one');
    // Named with --unit, the datastore is expected.
    const asked = check.evaluate(d, await checkOptions(check, UNITS.flatMap((u) => ['--unit', u])), NOW);
    expect(outcomeState(asked)).toBe(State.UNKNOWN);
    expect(asked.summary).toBe('unit snap.microk8s.daemon-k8s-dqlite not found');
  });

  it('systemctl that does not answer: only the units it could not tell are UNKNOWN, each with its reason', async () => {
    const d = healthy();
    d.units![1] = { known: false, unit: UNITS[1]!, reason: 'systemctl show timed out after 5s', noSystemd: false };
    const out = check.evaluate(d, await checkOptions(check), NOW);
    expect(outcomeState(out)).toBe(State.UNKNOWN);
    expect(out.summary).toBe('state of snap.microk8s.daemon-containerd unknown: systemctl did not answer');
    expect(texts(out)).toContain('cannot tell whether snap.microk8s.daemon-containerd runs: systemctl show timed out after 5s');
    expect(texts(out)).toContain('snap.microk8s.daemon-kubelite active (running) for 1d');
    expect(todo(out)).toEqual(['run it where systemd is PID 1 and systemctl answers (systemctl status); --no-services skips the units']);
  });

  it('--unit on a host of neither flavour judges that unit; a .service name gets systemctl\'s restart', async () => {
    const d: Data = { ...healthy(), flavour: undefined, units: [{ known: true, unit: 'kubelet.service', load: 'loaded', active: 'failed', sub: 'failed', restarts: 0 }] };
    const out = check.evaluate(d, await checkOptions(check, ['--unit', 'kubelet.service']), NOW);
    expect(outcomeState(out)).toBe(State.CRITICAL);
    expect(out.summary).toBe('kubelet.service failed');
    expect(todo(out)[0]).toBe('start it: sudo systemctl restart kubelet.service; journalctl -u kubelet.service -n 100 says why it stopped');
    expect(perfOf(out, 'restarts_kubelet')).toMatchObject({ value: 0 });
    d.units = [{ known: true, unit: 'snap.microk8s.daemon-kubelite.service', load: 'loaded', active: 'failed', sub: 'failed', restarts: 0 }];
    const snap = check.evaluate(d, await checkOptions(check, ['--unit', 'snap.microk8s.daemon-kubelite.service']), NOW);
    expect(todo(snap)[0]).toMatch(/^start it: sudo snap restart microk8s\.daemon-kubelite; /);
    d.units = [{ ...(d.units[0] as Known), active: 'active', sub: 'running', activeForS: 3600 }];
    const ok = check.evaluate(d, await checkOptions(check, ['--unit', 'snap.microk8s.daemon-kubelite.service']), NOW);
    expect(outcomeState(ok)).toBe(State.OK);
    expect(ok.summary).toBe('node: 1 unit active, kubelet healthy, containerd answering, kernel settings fine');
  });

  it('says what it probed: the kubelet port, the socket and the times', async () => {
    const d = healthy();
    d.units = undefined; // --no-services
    const out = check.evaluate(d, await checkOptions(check, ['--kubelet-port', '10250']), NOW);
    expect(outcomeState(out)).toBe(State.OK);
    expect(out.summary).toBe('microk8s: kubelet healthy, containerd answering, kernel settings fine');
    expect(texts(out)).toContain('kubelet healthz on 127.0.0.1:10250: 200 ok in 1.2 ms');
    expect(texts(out)).toContain('containerd answered on /var/snap/microk8s/common/run/containerd.sock in 0.8 ms');
    expect(perfOf(out, 'healthz_ms')).toMatchObject({ value: 1.2, uom: 'ms' });
    expect(perfOf(out, 'containerd_ms')).toMatchObject({ value: 0.8, uom: 'ms' });
    d.healthz = { ok: false, ms: 3, said: 'HTTP 500' };
    const bad = check.evaluate(d, await checkOptions(check, ['--kubelet-port', '10250']), NOW);
    expect(texts(bad)).toContain('kubelet healthz on 127.0.0.1:10250/healthz: HTTP 500 after 3 ms');
    // Root-only socket (EPERM as EACCES): said, no perfdata, not named among what answered.
    d.healthz = healthy().healthz;
    d.runtime = { ok: false, ms: 0.1, said: 'EPERM', socket: '/x.sock' };
    const skipped = check.evaluate(d, await checkOptions(check), NOW);
    expect(outcomeState(skipped)).toBe(State.OK);
    expect(skipped.summary).toBe('microk8s: kubelet healthy, kernel settings fine');
    expect(perfOf(skipped, 'containerd_ms')).toBeUndefined();
    expect(texts(skipped)).toContain('containerd not probed: this user may not open /x.sock (EPERM); its unit is judged');
  });

  it('fs.aio: CRITICAL just past 95%, the action raising the limit fourfold past 1048576, the percent to a tenth', async () => {
    const o = await checkOptions(check);
    const d = healthy();
    d.sysctl!['fs.aio-max-nr'] = 1000;
    d.sysctl!['fs.aio-nr'] = 951;
    expect(outcomeState(check.evaluate(d, o, NOW))).toBe(State.CRITICAL);
    d.sysctl!['fs.aio-nr'] = 333;
    expect(perfOf(check.evaluate(d, o, NOW), 'aio_used_percent')).toMatchObject({ value: 33.3, uom: '%', min: 0, max: 100, warn: { text: '80' }, crit: { text: '95' } });
    d.sysctl!['fs.aio-max-nr'] = 1048576;
    d.sysctl!['fs.aio-nr'] = 1040000;
    const big = check.evaluate(d, o, NOW);
    expect(outcomeState(big)).toBe(State.CRITICAL);
    expect(texts(big)).toContain('asynchronous I/O requests near the limit: fs.aio-nr 1040000 of 1048576 (outside --aio-critical 95); dqlite stops answering when none are left');
    expect(todo(big)[0]).toMatch(/^raise it: sudo sysctl -w fs\.aio-max-nr=4194304, and add the line 'fs\.aio-max-nr = 4194304' to \/etc\/sysctl\.d\/90-k8s-node\.conf so it survives a reboot; /);
  });

  it('fs.aio unreadable is UNKNOWN, once: a read error says itself, a zero limit says it is not readable', async () => {
    const o = await checkOptions(check);
    const d = healthy();
    d.sysctl!['fs.aio-max-nr'] = 0;
    const zero = check.evaluate(d, o, NOW);
    expect(outcomeState(zero)).toBe(State.UNKNOWN);
    expect(zero.summary).toBe('fs.aio-nr not readable under /proc/sys');
    d.sysctl!['fs.aio-max-nr'] = 1000;
    d.sysctl!['fs.aio-nr'] = undefined;
    expect(check.evaluate(d, await checkOptions(check, ['--sysctl-root', '/host/proc/sys']), NOW).summary).toBe('fs.aio-nr not readable under /host/proc/sys');
    d.sysctl!['fs.aio-nr'] = new Error('cannot read /proc/sys/fs/aio-nr: EACCES');
    const err = check.evaluate(d, o, NOW);
    expect(outcomeState(err)).toBe(State.UNKNOWN);
    expect(err.summary).toBe('cannot read /proc/sys/fs/aio-nr: EACCES');
  });

  it('conntrack: 90% exactly is WARNING, 80% OK; the action doubles the limit; a zero limit is "not loaded"', async () => {
    const o = await checkOptions(check);
    const d = healthy();
    d.sysctl!['net.netfilter.nf_conntrack_count'] = 800;
    expect(outcomeState(check.evaluate(d, o, NOW))).toBe(State.OK);
    d.sysctl!['net.netfilter.nf_conntrack_count'] = 801;
    expect(outcomeState(check.evaluate(d, o, NOW))).toBe(State.WARNING);
    d.sysctl!['net.netfilter.nf_conntrack_count'] = 900;
    const at = check.evaluate(d, o, NOW);
    expect(outcomeState(at)).toBe(State.WARNING);
    expect(at.summary).toBe('conntrack table 900 of 1000');
    expect(texts(at)).toContain('conntrack table near full: 900 of 1000 (outside --conntrack-warning 80); the kernel drops new connections when it is full');
    expect(todo(at)).toEqual([`raise it: sudo sysctl -w net.netfilter.nf_conntrack_max=2000, and add the line 'net.netfilter.nf_conntrack_max = 2000' to /etc/sysctl.d/90-k8s-node.conf so it survives a reboot; find who opens so many connections: sudo conntrack -S`]);
    expect(perfOf(at, 'conntrack_used_percent')).toMatchObject({ value: 90, max: 100 });
    d.sysctl!['net.netfilter.nf_conntrack_max'] = 0;
    const off = check.evaluate(d, o, NOW);
    expect(outcomeState(off)).toBe(State.OK);
    expect(texts(off)).toContain('nf_conntrack not loaded: connection table not judged');
    expect(perfOf(off, 'conntrack_used_percent')).toBeUndefined();
  });

  it('inotify limits: one below the minimum is WARNING and says the value to set; at the minimum OK; absent not judged', async () => {
    const o = await checkOptions(check);
    const d = healthy();
    d.sysctl!['fs.inotify.max_user_instances'] = 1023;
    const few = check.evaluate(d, o, NOW);
    expect(outcomeState(few)).toBe(State.WARNING);
    expect(few.summary).toBe('fs.inotify.max_user_instances 1023 low');
    expect(texts(few)).toContain('fs.inotify.max_user_instances is 1023 (outside --inotify-instances-warning 1024:): pods that watch files fail with "too many open files"');
    expect(todo(few)[0]).toMatch(/^raise it: sudo sysctl -w fs\.inotify\.max_user_instances=1024, /);
    const d2 = healthy();
    d2.sysctl!['fs.inotify.max_user_watches'] = 524287;
    const watches = check.evaluate(d2, o, NOW);
    expect(outcomeState(watches)).toBe(State.WARNING);
    expect(watches.summary).toBe('fs.inotify.max_user_watches 524287 low');
    expect(todo(watches)[0]).toMatch(/^raise it: sudo sysctl -w fs\.inotify\.max_user_watches=1048576, /);
    d2.sysctl!['fs.inotify.max_user_watches'] = 524288;
    const at = check.evaluate(d2, o, NOW);
    expect(outcomeState(at)).toBe(State.OK);
    expect(perfOf(at, 'inotify_max_user_watches')).toMatchObject({ value: 524288, min: 0, warn: { text: '524288:' } });
    d2.sysctl!['fs.inotify.max_user_instances'] = undefined;
    d2.sysctl!['fs.inotify.max_user_watches'] = undefined;
    const absent = check.evaluate(d2, o, NOW);
    expect(outcomeState(absent)).toBe(State.OK);
    expect(perfOf(absent, 'inotify_max_user_instances')).toBeUndefined();
  });

  it('ip_forward absent is CRITICAL and says how to set it; the bridge setting also says to load the module first', async () => {
    const o = await checkOptions(check);
    const d = healthy();
    d.sysctl!['net.ipv4.ip_forward'] = undefined;
    d.sysctl!['net.bridge.bridge-nf-call-iptables'] = 0;
    const out = check.evaluate(d, o, NOW);
    expect(outcomeState(out)).toBe(State.CRITICAL);
    expect(out.summary).toBe('net.ipv4.ip_forward=absent; net.bridge.bridge-nf-call-iptables=0');
    expect(texts(out)).toContain('net.ipv4.ip_forward is absent: this node does not route pod traffic');
    expect(texts(out)).toContain('net.bridge.bridge-nf-call-iptables is 0: bridged pod traffic bypasses iptables (Services)');
    expect(todo(out)).toEqual([
      `sudo sysctl -w net.ipv4.ip_forward=1, and add the line 'net.ipv4.ip_forward = 1' to /etc/sysctl.d/90-k8s-node.conf so it survives a reboot`,
      `sudo sysctl -w net.bridge.bridge-nf-call-iptables=1, and add the line 'net.bridge.bridge-nf-call-iptables = 1' to /etc/sysctl.d/90-k8s-node.conf so it survives a reboot (after sudo modprobe br_netfilter)`,
    ]);
  });

  it('br_netfilter: built in (sysctl, no module dir) is fine; no module and no sysctl says to load it; loaded without its sysctl is the setting absent', async () => {
    const o = await checkOptions(check, ['--module-root', '/host/sys/module']);
    const d = healthy();
    d.brNetfilter = undefined;
    expect(outcomeState(check.evaluate(d, o, NOW))).toBe(State.OK);
    d.sysctl!['net.bridge.bridge-nf-call-iptables'] = undefined;
    const missing = check.evaluate(d, o, NOW);
    expect(outcomeState(missing)).toBe(State.WARNING);
    expect(texts(missing)).toContain('br_netfilter is not loaded (no /host/sys/module/br_netfilter): bridged pod traffic bypasses iptables (Services)');
    expect(todo(missing)).toEqual(['load it: sudo modprobe br_netfilter, and add the line "br_netfilter" to /etc/modules-load.d/k8s.conf so it loads at boot']);
    d.brNetfilter = true;
    const noSysctl = check.evaluate(d, o, NOW);
    expect(outcomeState(noSysctl)).toBe(State.WARNING);
    expect(noSysctl.summary).toBe('net.bridge.bridge-nf-call-iptables=absent');
  });

  it('--unit on a host that is no node is still judged', async () => {
    const out = check.evaluate({ units: [] }, await checkOptions(check, ['--unit', 'kubelet']), NOW);
    expect(out.summary).toBe('node: 0 units active, kernel settings fine');
  });
  it('the long output has one section per part, named as the operator reads them', async () => {
    const d = healthy();
    d.sysctl!['net.netfilter.nf_conntrack_max'] = undefined; // a section with nothing to say is left out; this one has a note
    const out = check.evaluate(d, await checkOptions(check), NOW);
    expect(out.findings.map((f) => f.section)).toEqual(['Units', 'kubelet', 'containerd', 'Kernel settings']);
    // Each unit's restarts and uptime under its short name.
    expect(out.perfdata.map((p) => p.label).filter((l) => /^(restarts|uptime)_/.test(l)))
      .toEqual(['restarts_kubelite', 'uptime_kubelite', 'restarts_containerd', 'uptime_containerd', 'restarts_k8s_dqlite', 'uptime_k8s_dqlite']);
  });

  it('a stopped unit has no uptime; containerd not answering on microk8s names microk8s ctr and the snap', async () => {
    const d = healthy();
    unit(d, 1, { active: 'failed', sub: 'failed', activeForS: undefined });
    d.runtime = { ok: false, ms: 2000, said: 'no answer within 2000 ms', socket: '/var/snap/microk8s/common/run/containerd.sock' };
    const out = check.evaluate(d, await checkOptions(check), NOW);
    expect(perfOf(out, 'uptime_containerd')).toBeUndefined();
    expect(perfOf(out, 'restarts_containerd')).toMatchObject({ value: 0 });
    expect(texts(out)).toContain('containerd socket /var/snap/microk8s/common/run/containerd.sock: no answer within 2000 ms after 2000 ms');
    expect(todo(out)).toContain('containerd does not answer: sudo microk8s ctr version hangs too; read journalctl -u snap.microk8s.daemon-containerd -n 200, then sudo snap restart microk8s.daemon-containerd; --containerd-socket names another socket');
    // --unit on a host of neither flavour: the plain containerd names.
    const plain = check.evaluate({ ...d, flavour: undefined, units: [], healthz: { ok: false, ms: 1, said: 'connection refused' } }, await checkOptions(check, ['--unit', 'containerd', '--containerd-socket', '/run/containerd/containerd.sock']), NOW);
    expect(todo(plain)).toContain('the kubelet is down or unhealthy on this node: read its journal (journalctl -u kubelet -n 200), restart it (sudo systemctl restart kubelet), then check again; --kubelet-port names another port');
    expect(todo(plain)).toContain('containerd does not answer: sudo ctr version hangs too; read journalctl -u containerd -n 200, then sudo systemctl restart containerd; --containerd-socket names another socket');
  });

  it('--probe-timeout must leave time within -t', async () => {
    await expect(checkOptions(check, ['-t', '2', '--probe-timeout', '2s'])).rejects.toThrow('--probe-timeout 2s must be shorter than -t 2s');
    expect((await checkOptions(check, ['-t', '3', '--probe-timeout', '2s'])).probeTimeout).toBe(2);
  });
  it('a healthy node\'s long output claims no limit near and no setting low; perfdata starts at 0', async () => {
    const out = check.evaluate(healthy(), await checkOptions(check), NOW);
    expect(texts(out).join('\n')).not.toMatch(/near the limit|near full|low|too many open files|not loaded|absent/);
    for (const label of ['restarts_kubelite', 'uptime_kubelite', 'healthz_ms', 'containerd_ms', 'aio_used_percent', 'conntrack_used_percent', 'inotify_max_user_instances']) {
      expect(perfOf(out, label), label).toMatchObject({ min: 0 });
    }
  });

  it('an active unit whose start time systemd did not give: said active, no uptime guessed', async () => {
    const d = healthy();
    unit(d, 0, { activeForS: undefined, restarts: 1 });
    const out = check.evaluate(d, await checkOptions(check), NOW);
    expect(outcomeState(out)).toBe(State.OK);
    expect(texts(out)).toContain('snap.microk8s.daemon-kubelite active (running), restarted 1 time by systemd');
    expect(perfOf(out, 'uptime_kubelite')).toBeUndefined();
  });

  it('--unit refuses what is not a systemd unit name', async () => {
    await expect(checkOptions(check, ['--unit', 'kubelet; reboot'])).rejects.toThrow("invalid --unit 'kubelet; reboot': not a systemd unit name");
    // A long one is cut in the message.
    await expect(checkOptions(check, ['--unit', `${'k'.repeat(70)} x`])).rejects.toThrow(`invalid --unit '${'k'.repeat(60)}': not a systemd unit name`);
    expect((await checkOptions(check, ['--unit', 'kubelet.service', '--unit', 'containerd'])).unit).toEqual(['kubelet.service', 'containerd']);
  });
});


