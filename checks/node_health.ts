import fs from 'node:fs';
import { httpGetLocal, grpcSocketAnswers, type ProbeResult } from '../lib/host/local-probe.js';
import { moduleLoaded, readSysctls } from '../lib/host/sysctl.js';
import { UNIT_NAME, unitStates, type UnitState } from '../lib/host/systemd.js';
import { defineCheck, opt, type OptionsOf } from '../lib/plugin/check.js';
import { declareMetrics, range } from '../lib/plugin/context.js';
import { formatDuration } from '../lib/plugin/duration.js';
import { PluginError, UsageError } from '../lib/plugin/errors.js';
import { Report } from '../lib/plugin/report.js';
import { plural } from '../lib/plugin/result.js';
import { State } from '../lib/plugin/state.js';

export type Flavour = 'microk8s' | 'kubeadm';

/** The units each flavour runs; those marked optional are judged only where installed (k8s-dqlite: not on workers). */
export const UNITS: Record<Flavour, { unit: string; optional?: boolean }[]> = {
  microk8s: [{ unit: 'snap.microk8s.daemon-kubelite' }, { unit: 'snap.microk8s.daemon-containerd' }, { unit: 'snap.microk8s.daemon-k8s-dqlite', optional: true }],
  kubeadm: [{ unit: 'kubelet' }, { unit: 'containerd' }],
};
const SOCKET: Record<Flavour, string> = { microk8s: '/var/snap/microk8s/common/run/containerd.sock', kubeadm: '/run/containerd/containerd.sock' };
const MICROK8S = ['/snap/microk8s', '/var/snap/microk8s'];
const KUBEADM = ['/var/lib/kubelet/config.yaml', '/etc/kubernetes/kubelet.conf'];

/** This host's flavour from what is installed; undefined when it is no node. */
export function detectFlavour(exists: (p: string) => boolean = fs.existsSync): Flavour | undefined {
  if (MICROK8S.some(exists)) return 'microk8s';
  return KUBEADM.some(exists) ? 'kubeadm' : undefined;
}

export const SYSCTLS = ['fs.aio-nr', 'fs.aio-max-nr', 'fs.inotify.max_user_instances', 'fs.inotify.max_user_watches',
  'net.bridge.bridge-nf-call-iptables', 'net.ipv4.ip_forward', 'net.netfilter.nf_conntrack_count', 'net.netfilter.nf_conntrack_max'] as const;

export interface Data {
  /** undefined: not a node (auto-detection found neither flavour). */
  flavour?: Flavour;
  units?: UnitState[];
  healthz?: ProbeResult;
  runtime?: ProbeResult & { socket: string };
  sysctl?: Record<string, number | undefined | Error>;
  brNetfilter?: boolean;
}

const options = {
  flavour: opt.choice(['auto', 'microk8s', 'kubeadm'] as const, { default: 'auto', describe: 'Which units and socket to expect: auto finds /snap/microk8s (microk8s) or /var/lib/kubelet/config.yaml (kubeadm)' }),
  unit: opt.list({ placeholder: 'UNIT', max: 10, each: (u, flag) => { if (!UNIT_NAME.test(u)) throw new UsageError(`invalid ${flag} '${u.slice(0, 60)}': not a systemd unit name`); }, describe: 'Judge these systemd units instead of the flavour\'s (repeatable)' }),
  services: opt.flag({ default: true, describe: 'Judge the units (--no-services: without systemd, e.g. in a container)' }),
  systemctl: opt.string({ placeholder: 'PATH', default: 'systemctl', describe: 'The systemctl to run (`systemctl show`)' }),
  'restart-window': opt.duration({ default: '15m', min: 1, describe: 'A unit that systemd restarted and that has run for less than this is restart-looping' }),
  'restarts-warning': opt.range({ default: '0', describe: 'Warning range for systemd\'s restarts of a unit that restarted within --restart-window' }),
  'restarts-critical': opt.range({ default: '4', describe: 'Critical range for the same' }),
  'kubelet-port': opt.int({ default: 10248, min: 0, max: 65535, describe: 'The kubelet\'s healthz port on 127.0.0.1 (0: not probed)' }),
  'containerd-socket': opt.string({ placeholder: 'PATH', describe: 'containerd\'s socket (default: the flavour\'s; microk8s /var/snap/microk8s/common/run/containerd.sock)' }),
  runtime: opt.flag({ default: true, describe: 'Probe containerd\'s socket (skipped, saying so, when this user may not open it)' }),
  'probe-timeout': opt.duration({ default: '2s', min: 0.05, max: 30, describe: 'Time the healthz and containerd probes may take each (within -t)' }),
  'sysctl-root': opt.string({ placeholder: 'DIR', default: '/proc/sys', describe: 'Where the kernel settings are read (a host\'s /proc/sys mounted elsewhere)' }),
  'module-root': opt.string({ placeholder: 'DIR', default: '/sys/module', describe: 'Where loaded kernel modules are listed' }),
  'aio-warning': opt.range({ default: '80', describe: 'Warning range for fs.aio-nr as a percent of fs.aio-max-nr' }),
  'aio-critical': opt.range({ default: '95', describe: 'Critical range for the same (dqlite stops answering when it is full)' }),
  'conntrack-warning': opt.range({ default: '80', describe: 'Warning range for nf_conntrack_count as a percent of nf_conntrack_max' }),
  'conntrack-critical': opt.range({ default: '90', describe: 'Critical range for the same (node-problem-detector\'s ConntrackFull)' }),
  'inotify-instances-warning': opt.range({ default: '1024:', describe: 'Warning range for fs.inotify.max_user_instances' }),
  'inotify-watches-warning': opt.range({ default: '524288:', describe: 'Warning range for fs.inotify.max_user_watches' }),
  'bridge-netfilter': opt.flag({ default: true, describe: 'Judge br_netfilter and net.bridge.bridge-nf-call-iptables (--no-bridge-netfilter: a CNI that puts no pod traffic through a Linux bridge)' }),
};
type Options = OptionsOf<typeof options>;

const perf = declareMetrics({
  'restarts_<unit>': { describe: 'systemd\'s automatic restarts of the unit (NRestarts)', uom: 'c', judge: range('restartsWarning', 'restartsCritical', { note: 'judged only while the unit is not active or restarted within --restart-window' }) },
  'uptime_<unit>': { describe: 'Seconds since the unit last became active', uom: 's' },
  healthz_ms: { describe: 'Time the kubelet\'s /healthz took to answer (or fail)', uom: 'ms' },
  containerd_ms: { describe: 'Time containerd took to answer on its socket (or fail)', uom: 'ms' },
  aio_used_percent: { describe: 'fs.aio-nr as a percent of fs.aio-max-nr', uom: '%', judge: range('aioWarning', 'aioCritical') },
  conntrack_used_percent: { describe: 'nf_conntrack_count as a percent of nf_conntrack_max (when nf_conntrack is loaded)', uom: '%', judge: range('conntrackWarning', 'conntrackCritical') },
  inotify_max_user_instances: { describe: 'fs.inotify.max_user_instances', judge: range('inotifyInstancesWarning', undefined) },
  inotify_max_user_watches: { describe: 'fs.inotify.max_user_watches', judge: range('inotifyWatchesWarning', undefined) },
});

const short = (unit: string) => unit.replace(/^snap\.microk8s\.daemon-/, '').replace(/\.service$/, '').replace(/[^A-Za-z0-9]+/g, '_');
const persist = (key: string, value: number) => `sudo sysctl -w ${key}=${value}, and add the line '${key} = ${value}' to /etc/sysctl.d/90-k8s-node.conf so it survives a reboot`;
const restartCmd = (unit: string) => (unit.startsWith('snap.microk8s.daemon-') ? `sudo snap restart ${unit.slice('snap.'.length).replace(/\.service$/, '')}` : `sudo systemctl restart ${unit}`);

/** The units and whether each may be absent. */
function unitsOf(o: Options, flavour: Flavour | undefined) {
  return o.unit.length ? o.unit.map((unit) => ({ unit, optional: false })) : flavour ? UNITS[flavour] : [];
}

/** Active, and not restarted by systemd within --restart-window. */
export function judgeServices(r: Report, units: UnitState[], o: Options, flavour?: Flavour): void {
  const unknown = units.filter((u): u is Extract<UnitState, { known: false }> => !u.known);
  if (unknown.length) {
    const names = unknown.map((u) => u.unit).join(', ');
    r.problem(State.UNKNOWN, `state of ${names} unknown: ${unknown[0]!.noSystemd ? 'no systemd on this host' : 'systemctl did not answer'}`);
    for (const u of unknown) r.add(State.UNKNOWN, `cannot tell whether ${u.unit} runs: ${u.reason}`);
    r.action(State.UNKNOWN, 'run it where systemd is PID 1 and systemctl answers (systemctl status); --no-services skips the units');
  }
  const expected = unitsOf(o, flavour);
  for (const [i, u] of units.entries()) {
    const optional = expected[i]?.optional ?? false;
    if (!u.known) continue;
    if (u.load === 'not-found') {
      if (optional) { r.info(`${u.unit} not installed (a worker node runs no datastore)`); continue; }
      r.problem(State.UNKNOWN, `unit ${u.unit} not found`, `unit ${u.unit} not found on this host: --flavour or --unit names the right one`);
      continue;
    }
    const recent = u.activeForS !== undefined && u.activeForS < o.restartWindow;
    const restarts = u.restarts ?? 0;
    const label = `restarts_${short(u.unit)}`;
    const judged = recent || u.active !== 'active';
    // Old restarts of a unit that has run since are history: written without the ranges that judge a recent one.
    const j = judged ? perf.judge(r, 'restarts_<unit>', restarts, o, { min: 0 }, label) : (r.metric(label, restarts, { uom: 'c', min: 0 }), { state: State.OK, hint: '' });
    if (u.activeForS !== undefined) perf.metric(r, 'uptime_<unit>', u.activeForS, o, { min: 0 }, `uptime_${short(u.unit)}`);
    const times = restarts ? `, restarted ${plural(restarts, 'time')} by systemd` : '';
    if (u.active === 'inactive' || u.active === 'failed') {
      r.problem(State.CRITICAL, `${u.unit} ${u.active}`, `unit ${u.unit} is ${u.active} (${u.sub}): not running${times}`);
      r.action(State.CRITICAL, `start it: ${restartCmd(u.unit)}; journalctl -u ${u.unit} -n 100 says why it stopped`);
    } else if (u.active !== 'active' && u.active !== 'reloading') {
      const state = j.state === State.CRITICAL ? State.CRITICAL : State.WARNING;
      r.problem(state, `${u.unit} ${u.active} (${u.sub})`, `unit ${u.unit} is ${u.active} (${u.sub})${u.sub === 'auto-restart' ? ': it exited and systemd is restarting it' : ''}${times}`);
      r.action(state, `read why it exits: journalctl -u ${u.unit} -n 200; fix that, then check again`);
    } else if (recent && j.state !== State.OK) {
      r.problem(j.state, `${u.unit} restart-looping (${restarts} restarts, up ${formatDuration(u.activeForS!)})`, `unit ${u.unit} active for only ${formatDuration(u.activeForS!)}${times} (${j.hint})`);
      r.action(j.state, `read why it keeps exiting: journalctl -u ${u.unit} -n 200 (out of memory? a bad argument in /var/snap/microk8s/current/args?); fix that and check again`);
    } else r.add(undefined, `${u.unit} active (${u.sub})${u.activeForS !== undefined ? ` for ${formatDuration(u.activeForS)}` : ''}${times}`);
  }
}

/** The kubelet answers /healthz on its local port. */
export function judgeKubelet(r: Report, h: ProbeResult, o: Options, flavour?: Flavour): void {
  perf.metric(r, 'healthz_ms', h.ms, o, { min: 0 });
  if (h.ok) { r.add(undefined, `kubelet healthz on 127.0.0.1:${o.kubeletPort}: ${h.said} in ${h.ms} ms`); return; }
  r.problem(State.CRITICAL, `kubelet healthz failed (${h.said})`, `kubelet healthz on 127.0.0.1:${o.kubeletPort}/healthz: ${h.said} after ${h.ms} ms`);
  const unit = UNITS[flavour ?? 'kubeadm'][0]!.unit;
  r.action(State.CRITICAL, `the kubelet is down or unhealthy on this node: read its journal (journalctl -u ${unit} -n 200), restart it (${restartCmd(unit)}), then check again; --kubelet-port names another port`);
}

/** containerd's gRPC server answers on its socket; a socket this user may not open is said, not judged (root-only on microk8s). */
export function judgeRuntime(r: Report, c: ProbeResult & { socket: string }, o: Options, flavour?: Flavour): void {
  if (/EACCES|EPERM/.test(c.said)) { r.info(`containerd not probed: this user may not open ${c.socket} (${c.said}); its unit is judged`); return; }
  perf.metric(r, 'containerd_ms', c.ms, o, { min: 0 });
  if (c.ok) { r.add(undefined, `containerd answered on ${c.socket} in ${c.ms} ms`); return; }
  r.problem(State.CRITICAL, `containerd not answering (${c.said})`, `containerd socket ${c.socket}: ${c.said} after ${c.ms} ms`);
  const unit = UNITS[flavour ?? 'kubeadm'][1]!.unit;
  r.action(State.CRITICAL, `containerd does not answer: ${flavour === 'microk8s' ? 'sudo microk8s ctr version' : 'sudo ctr version'} hangs too; read journalctl -u ${unit} -n 200, then ${restartCmd(unit)}; --containerd-socket names another socket`);
}

/** The kernel settings microk8s inspect and node-problem-detector warn about. */
export function judgeKernel(r: Report, s: Record<string, number | undefined | Error>, brNetfilter: boolean, o: Options): void {
  const bad = Object.entries(s).filter((e): e is [string, Error] => e[1] instanceof Error);
  for (const [, e] of bad) r.problem(State.UNKNOWN, e.message);
  const num = (k: string) => (typeof s[k] === 'number' ? s[k] as number : undefined);
  const percent = (label: 'aio_used_percent' | 'conntrack_used_percent', used: number | undefined, max: number | undefined) =>
    (used === undefined || !max ? undefined : { used, max, ...perf.judge(r, label, Math.round((used / max) * 1000) / 10, o, { min: 0, max: 100 }) });
  const aio = percent('aio_used_percent', num('fs.aio-nr'), num('fs.aio-max-nr'));
  if (!aio && !bad.length) r.problem(State.UNKNOWN, `fs.aio-nr not readable under ${o.sysctlRoot}`);
  if (aio && aio.state !== State.OK) {
    r.problem(aio.state, `fs.aio-nr ${aio.used} of fs.aio-max-nr ${aio.max}`, `asynchronous I/O requests near the limit: fs.aio-nr ${aio.used} of ${aio.max} (${aio.hint}); dqlite stops answering when none are left`);
    r.action(aio.state, `raise it: ${persist('fs.aio-max-nr', Math.max(1048576, aio.max * 4))}; then sudo snap restart microk8s.daemon-k8s-dqlite`);
  }
  const ct = percent('conntrack_used_percent', num('net.netfilter.nf_conntrack_count'), num('net.netfilter.nf_conntrack_max'));
  if (ct && ct.state !== State.OK) {
    r.problem(ct.state, `conntrack table ${ct.used} of ${ct.max}`, `conntrack table near full: ${ct.used} of ${ct.max} (${ct.hint}); the kernel drops new connections when it is full`);
    r.action(ct.state, `raise it: ${persist('net.netfilter.nf_conntrack_max', ct.max * 2)}; find who opens so many connections: sudo conntrack -S`);
  } else if (!ct) r.info('nf_conntrack not loaded: connection table not judged');
  for (const [key, label, want] of [['fs.inotify.max_user_instances', 'inotify_max_user_instances', 1024],
    ['fs.inotify.max_user_watches', 'inotify_max_user_watches', 1048576]] as const) {
    const v = num(key);
    if (v === undefined) continue;
    const j = perf.judge(r, label, v, o, { min: 0 });
    if (j.state !== State.OK) {
      r.problem(j.state, `${key} ${v} low`, `${key} is ${v} (${j.hint}): pods that watch files fail with "too many open files"`);
      r.action(j.state, `raise it: ${persist(key, want)}`);
    }
  }
  const setting = (key: string, state: State, why: string) => {
    const v = num(key);
    if (v === 1) return;
    r.problem(state, `${key}=${v ?? 'absent'}`, `${key} is ${v ?? 'absent'}: ${why}`);
    r.action(state, `${persist(key, 1)}${key.startsWith('net.bridge') ? ' (after sudo modprobe br_netfilter)' : ''}`);
  };
  setting('net.ipv4.ip_forward', State.CRITICAL, 'this node does not route pod traffic');
  if (!o.bridgeNetfilter) return;
  // Built into the kernel, it may have no /sys/module entry; its sysctl says it is there.
  if (!brNetfilter && num('net.bridge.bridge-nf-call-iptables') === undefined) {
    r.problem(State.WARNING, 'br_netfilter not loaded', `br_netfilter is not loaded (no ${o.moduleRoot}/br_netfilter): bridged pod traffic bypasses iptables (Services)`);
    r.action(State.WARNING, 'load it: sudo modprobe br_netfilter, and add the line "br_netfilter" to /etc/modules-load.d/k8s.conf so it loads at boot');
  } else setting('net.bridge.bridge-nf-call-iptables', State.WARNING, 'bridged pod traffic bypasses iptables (Services)');
}

export default defineCheck({
  name: 'node_health',
  title: 'NODE HEALTH',
  scope: 'node',
  nrpe: {
    args: '-t 15',
    kubeconfig: false,
    about:
      'This node\'s own services and kernel settings: kubelite/kubelet, containerd and k8s-dqlite units active and not\n' +
      'restart-looping, the kubelet\'s /healthz on 127.0.0.1:10248, containerd answering on its socket, fs.aio-nr near\n' +
      'fs.aio-max-nr, inotify limits, br_netfilter, ip_forward, conntrack table near full. Reads only this host.\n' +
      'containerd\'s socket is root-only on microk8s: as nagios the socket probe is skipped (said in the long output)\n' +
      'and containerd is judged by its unit; give nagios the socket\'s group to have it probed.',
  },
  summary: 'This node\'s kubelet, containerd and datastore units, kubelet healthz, containerd, and the kernel settings microk8s inspect warns about',
  description:
    'Judges the node it runs on without the API: the systemd units of the node\'s services (microk8s: kubelite, containerd, ' +
    'k8s-dqlite where installed; kubeadm: kubelet, containerd; or --unit) are active and were not restarted by systemd within ' +
    '--restart-window (`systemctl show`: ActiveState, NRestarts, ActiveEnterTimestampMonotonic); the kubelet answers 200 on ' +
    'http://127.0.0.1:10248/healthz; containerd\'s gRPC server answers on its socket (an HTTP/2 handshake, no API call: a ' +
    'hung daemon\'s socket still accepts connections); and the kernel settings `microk8s inspect` and node-problem-detector ' +
    'warn about, read from --sysctl-root: fs.aio-nr as a percent of fs.aio-max-nr (dqlite stops answering when it is full), ' +
    'fs.inotify limits, br_netfilter and net.bridge.bridge-nf-call-iptables, net.ipv4.ip_forward, and nf_conntrack_count as ' +
    'a percent of nf_conntrack_max. What it cannot know (no systemd, not a node) is UNKNOWN, never CRITICAL; a containerd socket this user may not open is skipped, saying so.',
  options,
  perfdata: perf.docs,
  examples: [
    ['$0', 'the NRPE default: units, healthz, containerd and kernel settings of this node'],
    ['$0 --flavour kubeadm --restart-window 30m', 'a kubeadm node (kubelet, containerd units; /run/containerd/containerd.sock), restarts judged for 30 minutes'],
  ],
  triage: { skip: () => (detectFlavour() ? undefined : 'not a Kubernetes node (no /snap/microk8s, no /var/lib/kubelet/config.yaml)') },

  validate(o) {
    if (o.probeTimeout >= o.timeout) throw new UsageError(`--probe-timeout ${o.probeTimeout}s must be shorter than -t ${o.timeout}s`);
  },

  async gather(ctx, o): Promise<Data> {
    const flavour = o.flavour === 'auto' ? detectFlavour() : o.flavour;
    if (!flavour && !o.unit.length) return {};
    const units = unitsOf(o, flavour).map((u) => u.unit);
    const timeoutMs = o.probeTimeout * 1000;
    const socket = o.containerdSocket ?? (flavour ? SOCKET[flavour] : undefined);
    const [unitsState, healthz, runtime, sysctl, brNetfilter] = await Promise.all([
      o.services && units.length ? unitStates(units, { signal: ctx.signal, log: ctx.log, systemctl: o.systemctl }).catch((e: unknown): UnitState[] => {
        if (e instanceof PluginError) return units.map((unit) => ({ known: false, unit, reason: e.message, noSystemd: /not found/.test(e.message) }));
        throw e;
      }) : undefined,
      o.kubeletPort ? httpGetLocal(o.kubeletPort, '/healthz', timeoutMs, ctx.signal) : undefined,
      o.runtime && socket ? grpcSocketAnswers(socket, timeoutMs, ctx.signal).then((p) => ({ ...p, socket })) : undefined,
      readSysctls(o.sysctlRoot, SYSCTLS),
      moduleLoaded(o.moduleRoot, 'br_netfilter'),
    ]);
    return { flavour, units: unitsState, healthz, runtime, sysctl, brNetfilter };
  },

  evaluate(d, o) {
    const r = new Report();
    if (!d.flavour && !o.unit.length) {
      r.problem(State.UNKNOWN, 'not a Kubernetes node: no /snap/microk8s, no /var/lib/kubelet/config.yaml (--flavour names what to judge)');
      return r.done('');
    }
    // One section per part, as the long output shows them; the status line names the worst problems.
    if (d.units) judgeServices(r.section('Units'), d.units, o, d.flavour);
    if (d.healthz) judgeKubelet(r.section('kubelet'), d.healthz, o, d.flavour);
    if (d.runtime) judgeRuntime(r.section('containerd'), d.runtime, o, d.flavour);
    if (d.sysctl) judgeKernel(r.section('Kernel settings'), d.sysctl, d.brNetfilter ?? false, o);
    const probed = d.runtime && !/EACCES|EPERM/.test(d.runtime.said);
    // Units this host has (a worker has no datastore unit): the ones judged.
    const installed = d.units?.filter((u) => !u.known || u.load !== 'not-found');
    const parts = [installed && plural(installed.length, 'unit') + ' active', d.healthz && 'kubelet healthy', probed && 'containerd answering', 'kernel settings fine'];
    return r.done(`${d.flavour ?? 'node'}: ${parts.filter(Boolean).join(', ')}`);
  },
});
