// A tiny HTTPS server on 127.0.0.1 that answers every request with what no
// API server should send: a gzip bomb, a list that ignores limit= with a
// million items, JSON nested 100,000 deep, or a large body on every one of
// many parallel requests. For tests and bench/ (memory and verdict of a check
// whatever the server sends); stopped by its owner.
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';

export type Hostility = 'gzip-bomb' | 'million-items' | 'deep-json' | 'large-bodies';
export const HOSTILITIES: readonly Hostility[] = ['gzip-bomb', 'million-items', 'deep-json', 'large-bodies'];

/** Items in the list that ignores limit=. */
export const MILLION = 1_000_000;

const MB = 1024 * 1024;
// One gzip member of 1 MB of 'a' (about 1 KB); members concatenated are one valid gzip stream.
const A_MEMBER = zlib.gzipSync(Buffer.alloc(MB, 'a'), { level: 9 });

/** The kind a list or object at this path has, so the client's checks of kind pass and only the size is hostile. */
function kindOf(pathname: string): { kind: string; list: boolean } {
  const parts = pathname.split('/').filter(Boolean);
  // /api/v1/[namespaces/NS/]PLURAL[/NAME] or /apis/G/V/[namespaces/NS/]PLURAL[/NAME]
  const rest = parts.slice(parts[0] === 'api' ? 2 : 3);
  if (rest[0] === 'namespaces' && rest.length >= 3) rest.splice(0, 2);
  const kinds: Record<string, string> = {
    pods: 'Pod', events: 'Event', nodes: 'Node', leases: 'Lease', apiservices: 'APIService', deployments: 'Deployment', daemonsets: 'DaemonSet',
    replicasets: 'ReplicaSet', statefulsets: 'StatefulSet', endpoints: 'Endpoints', endpointslices: 'EndpointSlice', services: 'Service',
    namespaces: 'Namespace', poddisruptionbudgets: 'PodDisruptionBudget', persistentvolumeclaims: 'PersistentVolumeClaim',
    persistentvolumes: 'PersistentVolume', storageclasses: 'StorageClass', volumeattachments: 'VolumeAttachment', jobs: 'Job',
    controllerrevisions: 'ControllerRevision',
  };
  const kind = kinds[rest[0] ?? ''] ?? 'Status';
  return { kind, list: rest.length === 1 };
}

function respond(hostility: Hostility, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'https://127.0.0.1');
  const { kind, list } = kindOf(url.pathname);
  const ok = (headers: Record<string, string> = {}) => res.writeHead(200, { 'Content-Type': 'application/json', ...headers });
  // Written with backpressure until `chunks` pieces are out; stops when the client goes away.
  const pump = (first: Buffer | string, piece: (i: number) => Buffer | string, chunks: number, last: Buffer | string) => {
    let i = 0;
    const write = () => {
      while (i < chunks) {
        if (res.destroyed) return;
        if (!res.write(piece(i++))) { res.once('drain', write); return; }
      }
      res.end(last);
    };
    res.write(first);
    write();
  };
  switch (hostility) {
    case 'gzip-bomb': {
      // 1 GB of 'a' inside a string of the object the client asked for, about 1 MB on the wire.
      ok({ 'Content-Encoding': 'gzip' });
      const head = zlib.gzipSync(list ? `{"kind":"${kind}List","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"` : `{"kind":"${kind}","apiVersion":"v1","metadata":{"name":"`);
      pump(head, () => A_MEMBER, 1024, zlib.gzipSync(list ? '"}}]}' : '"}}'));
      return;
    }
    case 'million-items': {
      if (!list) { ok(); res.end(JSON.stringify({ kind, apiVersion: 'v1', metadata: { name: 'x', namespace: 'kube-system' } })); return; }
      // limit= ignored: every item on one page, 1,000 items per write.
      ok();
      const batch = (b: number) => Array.from({ length: 1000 }, (_, j) => `${b || j ? ',' : ''}{"metadata":{"name":"i${b * 1000 + j}","namespace":"n"},"spec":{},"status":{}}`).join('');
      pump(`{"kind":"${kind}List","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[`, batch, MILLION / 1000, ']}');
      return;
    }
    case 'deep-json': {
      // 100,000 nested arrays inside the object, or inside the first item of a list.
      const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
      ok();
      res.end(list
        ? `{"kind":"${kind}List","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"d","namespace":"n"},"spec":{"x":${deep}}}]}`
        : `{"kind":"${kind}","apiVersion":"v1","metadata":{"name":"d","namespace":"kube-system"},"spec":{"x":${deep}}}`);
      return;
    }
    case 'large-bodies': {
      // 12 MB in every answer (objects, lists, health endpoints alike), so parallel requests add up.
      ok();
      const pad = Buffer.alloc(MB, 'b');
      pump(list ? `{"kind":"${kind}List","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"p","namespace":"n","annotations":{"pad":"` : `{"kind":"${kind}","apiVersion":"v1","metadata":{"name":"p","namespace":"kube-system","annotations":{"pad":"`,
        () => pad, 12, list ? '"}}}]}' : '"}}}');
    }
  }
}

export interface HostileServer {
  port: number;
  /** A kubeconfig for it, trusting `caFile`. */
  kubeconfig: string;
  stop(): Promise<void>;
}

/** Start one on 127.0.0.1 with this certificate; `dir` receives the kubeconfig. */
export async function startHostile(hostility: Hostility, tls: { cert: Buffer; key: Buffer; ca: Buffer }, dir: string): Promise<HostileServer> {
  const sockets = new Set<{ destroy(): void }>();
  const server = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => respond(hostility, req, res));
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const kubeconfig = path.join(dir, `hostile-${hostility}-${port}.yaml`);
  fs.writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\ncurrent-context: h\nclusters:\n- name: h\n  cluster:\n    server: https://127.0.0.1:${port}\n` +
    `    certificate-authority-data: ${tls.ca.toString('base64')}\nusers:\n- name: u\n  user:\n    token: hostile-token\n` +
    'contexts:\n- name: h\n  context:\n    cluster: h\n    user: u\n');
  return {
    port,
    kubeconfig,
    stop: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}
