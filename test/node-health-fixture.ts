// Host input for check_k8s_node_health in tests: a sysctl tree of real files,
// a module directory, a loopback HTTP /healthz responder, an HTTP/2 server on
// a unix socket (what containerd's gRPC server speaks), and a stand-in
// systemctl given to the check with --systemctl (this machine's systemd is not
// PID 1, so the real one cannot answer; the parser is tested on systemd's
// output shape in test/unit/node_health.test.ts).
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/** A healthy node's settings (Ubuntu 22.04 with microk8s's own sysctl and br_netfilter). */
export const HEALTHY_SYSCTLS: Record<string, number> = {
  'fs.aio-nr': 3072, 'fs.aio-max-nr': 1048576, 'fs.inotify.max_user_instances': 1024, 'fs.inotify.max_user_watches': 1048576,
  'net.bridge.bridge-nf-call-iptables': 1, 'net.ipv4.ip_forward': 1, 'net.netfilter.nf_conntrack_count': 1200, 'net.netfilter.nf_conntrack_max': 262144,
};

/** Write ROOT/sys (sysctl files) and ROOT/module (br_netfilter unless omitted); returns the two flags. */
export function writeHostTree(root: string, sysctls: Record<string, number | undefined> = HEALTHY_SYSCTLS, modules = ['br_netfilter', 'nf_conntrack']): string[] {
  const sys = path.join(root, 'sys');
  const mod = path.join(root, 'module');
  for (const [k, v] of Object.entries(sysctls)) {
    if (v === undefined) continue;
    const f = path.join(sys, ...k.split('.'));
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, `${v}\n`);
  }
  for (const m of modules) fs.mkdirSync(path.join(mod, m, 'parameters'), { recursive: true });
  fs.mkdirSync(mod, { recursive: true });
  return ['--sysctl-root', sys, '--module-root', mod];
}

export interface FakeUnit { load?: string; active: string; sub: string; restarts: number; upS?: number }

/**
 * A systemctl that answers `show -p ... -- UNITS` as systemd does: one block
 * per unit, blank line between, ActiveEnterTimestampMonotonic from
 * /proc/uptime minus upS (0: never active; 1 when the host is younger than upS;
 * %.0f, as mawk clamps %d at 2^31 microseconds).
 */
export function fakeSystemctl(dir: string, units: Record<string, FakeUnit>): string {
  const blocks = Object.entries(units).map(([name, u]) => `  ${name}) printf 'Type=notify\\nNRestarts=${u.restarts}\\nId=${name}.service\\n` +
    `LoadState=${u.load ?? 'loaded'}\\nActiveState=${u.active}\\nSubState=${u.sub}\\nActiveEnterTimestampMonotonic=%s\\n' ` +
    `"$(${u.upS === undefined ? 'echo 0' : `awk '{ t = ($1 - ${u.upS}) * 1000000; printf "%.0f", (t > 1 ? t : 1) }' /proc/uptime`})" ;;`);
  const file = path.join(dir, 'systemctl');
  fs.writeFileSync(file, `#!/bin/sh
[ "$1" = show ] || exit 1
while [ "$1" != -- ]; do shift; done; shift
first=1
for unit in "$@"; do
  [ $first = 1 ] || echo
  first=0
  case "$unit" in
${blocks.join('\n')}
  *) printf 'Id=%s.service\\nLoadState=not-found\\nActiveState=inactive\\nSubState=dead\\nNRestarts=0\\nActiveEnterTimestampMonotonic=0\\n' "$unit" ;;
  esac
done
`, { mode: 0o755 });
  return file;
}

export interface Responder { port: number; close(): Promise<void> }

/** GET /healthz on 127.0.0.1: the kubelet's answer ('ok', 200) or another; `hang` never answers. */
export async function startHealthz(o: { status?: number; body?: string; hang?: boolean } = {}): Promise<Responder> {
  const server = http.createServer((req, res) => {
    if (o.hang) return;
    res.writeHead(req.url === '/healthz' ? (o.status ?? 200) : 404, { 'content-type': 'text/plain' }).end(o.body ?? 'ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** An HTTP/2 server on a unix socket: it sends its SETTINGS as containerd's grpc-go server does. */
export async function startGrpcSocket(socketPath: string): Promise<{ close(): Promise<void> }> {
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => { sessions.add(s); s.on('close', () => sessions.delete(s)); });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return { close: () => new Promise((resolve) => { for (const s of sessions) s.destroy(); server.close(() => resolve()); }) };
}
