// check_k8s_node_health, the built binary, on host input made here: a tree of
// real sysctl files, a loopback /healthz responder, an HTTP/2 server on a
// unix socket standing in for containerd, and a stand-in systemctl passed with
// --systemctl (systemd is not PID 1 on the test machines; the real systemctl
// is run once, for the UNKNOWN it must give then).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectContract, parsePerf, runBuilt, tempDir } from '../harness.js';
import { detectFlavour } from '../../checks/node_health.js';
import { fakeSystemctl, HEALTHY_SYSCTLS, startGrpcSocket, startHealthz, writeHostTree, type Responder } from '../node-health-fixture.js';

const TITLE = 'NODE HEALTH';
const HEALTHY_UNITS = {
  'snap.microk8s.daemon-kubelite': { active: 'active', sub: 'running', restarts: 0, upS: 120 },
  'snap.microk8s.daemon-containerd': { active: 'active', sub: 'running', restarts: 0, upS: 120 },
  // Restarted twice, but longer ago than the healthy runs' --restart-window 1m.
  'snap.microk8s.daemon-k8s-dqlite': { active: 'active', sub: 'running', restarts: 2, upS: 90 },
};

describe('check_k8s_node_health on a host tree', () => {
  const dir = tempDir('node-health');
  let healthz: Responder;
  let grpc: { close(): Promise<void> };
  const socket = path.join(dir, 'containerd.sock');
  const held = new Set<net.Socket>();
  const hung = net.createServer((c) => { held.add(c); }); // accepts, never answers
  const hungSocket = path.join(dir, 'hung.sock');

  beforeAll(async () => {
    healthz = await startHealthz();
    grpc = await startGrpcSocket(socket);
    await new Promise<void>((resolve) => hung.listen(hungSocket, resolve));
  });
  afterAll(async () => {
    await healthz.close();
    await grpc.close();
    for (const c of held) c.destroy();
    await new Promise((resolve) => hung.close(resolve));
  });

  const args = (name: string, o: { sysctls?: Record<string, number | undefined>; modules?: string[]; units?: Parameters<typeof fakeSystemctl>[1]; socket?: string; probeTimeout?: string } = {}) => {
    const root = path.join(dir, name);
    const tree = writeHostTree(root, o.sysctls, o.modules);
    const systemctl = fakeSystemctl(tempDirIn(root), o.units ?? HEALTHY_UNITS);
    // --restart-window 1m: a unit up for 90s restarted long enough ago, whatever this host's uptime.
    // --probe-timeout 10s: the loopback responders answer well within it however loaded the machine.
    return ['--flavour', 'microk8s', '--restart-window', '1m', '--probe-timeout', o.probeTimeout ?? '10s', '-t', '20', '--systemctl', systemctl, '--kubelet-port', String(healthz.port), '--containerd-socket', o.socket ?? socket, ...tree];
  };

  it('is OK on a healthy node, with perfdata for each part', async () => {
    const run = await runBuilt('node_health', args('healthy'));
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(0);
    expect(run.firstLine).toMatch(/^K8S NODE HEALTH OK - microk8s: 3 units active, kubelet healthy, containerd answering, kernel settings fine \| /);
    expect(run.firstLine).toContain(' aio_used_percent=0.3%;80;95;0;100 conntrack_used_percent=0.5%;80;90;0;100 ');
    expect(run.firstLine).toContain(' restarts_kubelite=0c;;;0 '); // up longer than --restart-window: not judged
    expect(run.firstLine).toContain(' restarts_k8s_dqlite=2c;;;0 ');
    const perf = parsePerf(run.firstLine);
    expect(perf.uptime_kubelite).toMatch(/^1[12]\ds$/);
    expect(perf.healthz_ms).toMatch(/^[\d.]+ms$/);
    expect(run.stdout).toContain('snap.microk8s.daemon-k8s-dqlite active (running) for ');
  });

  it('is CRITICAL when fs.aio-nr reaches fs.aio-max-nr, saying how to raise and persist it', async () => {
    const run = await runBuilt('node_health', args('aio', { sysctls: { ...HEALTHY_SYSCTLS, 'fs.aio-nr': 65500, 'fs.aio-max-nr': 65536 } }));
    expect(run.code, run.stdout).toBe(2);
    expect(run.firstLine).toMatch(/^K8S NODE HEALTH CRITICAL - fs\.aio-nr 65500 of fs\.aio-max-nr 65536 \| .*aio_used_percent=99\.9%;80;95;0;100/);
    expect(run.stdout).toContain("What to do: raise it: sudo sysctl -w fs.aio-max-nr=1048576, and add the line 'fs.aio-max-nr = 1048576' to /etc/sysctl.d/90-k8s-node.conf so it survives a reboot; then sudo snap restart microk8s.daemon-k8s-dqlite");
  });

  it('judges conntrack, ip_forward, br_netfilter and inotify from the files', async () => {
    const run = await runBuilt('node_health', args('kernel', {
      sysctls: { ...HEALTHY_SYSCTLS, 'net.netfilter.nf_conntrack_count': 250000, 'net.ipv4.ip_forward': 0, 'fs.inotify.max_user_instances': 128, 'net.bridge.bridge-nf-call-iptables': undefined },
      modules: [],
    }));
    expect(run.code, run.stdout).toBe(2);
    expect(run.firstLine).toMatch(/^K8S NODE HEALTH CRITICAL - conntrack table 250000 of 262144; net\.ipv4\.ip_forward=0; fs\.inotify\.max_user_instances 128 low; br_netfilter not loaded \| /);
    expect(run.stdout).toContain('[WARNING] br_netfilter is not loaded');
    expect(run.stdout).toContain('sudo modprobe br_netfilter');
  });

  it('a unit that systemd keeps restarting is WARNING, then CRITICAL past --restarts-critical; a failed one CRITICAL', async () => {
    const looping = { ...HEALTHY_UNITS, 'snap.microk8s.daemon-kubelite': { active: 'active', sub: 'running', restarts: 3, upS: 40 } };
    const warn = await runBuilt('node_health', args('loop', { units: looping }));
    expect(warn.code, warn.stdout).toBe(1);
    expect(warn.firstLine).toMatch(/^K8S NODE HEALTH WARNING - snap\.microk8s\.daemon-kubelite restart-looping \(3 restarts, up \d+s\) \| .*restarts_kubelite=3c;0;4;0/);
    const crit = await runBuilt('node_health', [...args('loop2', { units: looping }), '--restarts-critical', '2']);
    expect(crit.code, crit.stdout).toBe(2);
    const failed = await runBuilt('node_health', args('failed', { units: { ...HEALTHY_UNITS, 'snap.microk8s.daemon-containerd': { active: 'failed', sub: 'failed', restarts: 5 } } }));
    expect(failed.code, failed.stdout).toBe(2);
    expect(failed.firstLine).toMatch(/^K8S NODE HEALTH CRITICAL - snap\.microk8s\.daemon-containerd failed \| /);
    expect(failed.stdout).toContain('sudo snap restart microk8s.daemon-containerd');
  });

  it('a worker without k8s-dqlite is OK; a unit named with --unit that does not exist is UNKNOWN', async () => {
    const { 'snap.microk8s.daemon-k8s-dqlite': _, ...worker } = HEALTHY_UNITS;
    const run = await runBuilt('node_health', args('worker', { units: worker }));
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toContain('snap.microk8s.daemon-k8s-dqlite not installed');
    const named = await runBuilt('node_health', [...args('named', { units: worker }), '--unit', 'kubelet']);
    expect(named.code, named.stdout).toBe(3);
    expect(named.firstLine).toMatch(/^K8S NODE HEALTH UNKNOWN - unit kubelet not found \| /);
  });

  it('healthz failing is CRITICAL with what the kubelet said; containerd not answering in time is CRITICAL', async () => {
    const bad = await startHealthz({ status: 500, body: '[-]syncloop failed' });
    try {
      const a = args('healthz');
      a[a.indexOf('--kubelet-port') + 1] = String(bad.port);
      const run = await runBuilt('node_health', a);
      expect(run.code, run.stdout).toBe(2);
      expect(run.firstLine).toMatch(/^K8S NODE HEALTH CRITICAL - kubelet healthz failed \(500 \[-\]syncloop failed\) \| /);
    } finally {
      await bad.close();
    }
    // A socket that accepts and never answers: only the timeout can end the probe (healthz not asked).
    const a = args('hung', { socket: hungSocket, probeTimeout: '1s' });
    a[a.indexOf('--kubelet-port') + 1] = '0';
    const run = await runBuilt('node_health', a);
    expect(run.code, run.stdout).toBe(2);
    expect(run.firstLine).toMatch(/^K8S NODE HEALTH CRITICAL - containerd not answering \(no answer within 1000 ms\) \| /);
  });

  it('the real systemctl without systemd as PID 1: UNKNOWN naming it, never CRITICAL', async (ctx) => {
    const a = args('nosystemd');
    a.splice(a.indexOf('--systemctl'), 2);
    const run = await runBuilt('node_health', a);
    if (run.stdout.includes('systemctl not found')) ctx.skip();
    if (run.code === 0) ctx.skip(); // a machine where systemd runs and (oddly) has these units
    expect(run.code, run.stdout).toBe(3);
    expect(run.firstLine).toMatch(/^K8S NODE HEALTH UNKNOWN - state of snap\.microk8s\.daemon-kubelite, snap\.microk8s\.daemon-containerd, snap\.microk8s\.daemon-k8s-dqlite unknown: /);
  });

  it('on a host that is no node: UNKNOWN, nothing else judged', async (ctx) => {
    if (detectFlavour()) ctx.skip(); // this machine is a node
    const run = await runBuilt('node_health', ['--sysctl-root', path.join(dir, 'none')]);
    expectContract(run, TITLE);
    expect(run.code, run.stdout).toBe(3);
    expect(run.firstLine).toBe('K8S NODE HEALTH UNKNOWN - not a Kubernetes node: no /snap/microk8s, no /var/lib/kubelet/config.yaml (--flavour names what to judge)');
  });
});

function tempDirIn(root: string): string {
  const d = path.join(root, 'bin');
  fs.mkdirSync(d, { recursive: true });
  return d;
}
