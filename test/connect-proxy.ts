// A small HTTP CONNECT proxy on 127.0.0.1 for the proxy-url tests: it records
// each CONNECT (target, Proxy-Authorization) and every byte it relays, so a
// test can tell that the tunnel carried only TLS (no token, no request line in
// clear). Optional: a required Basic credential (407 without it).
import http from 'node:http';
import net from 'node:net';
import { afterAll } from 'vitest';

export interface ConnectProxy {
  url: string;
  connects: { target: string; auth?: string; status: number }[];
  /** Every byte relayed, both directions. */
  relayed(): Buffer;
}

/** Start one proxy; it is closed in afterAll of the calling file. */
export async function startConnectProxy(opts: { auth?: string } = {}): Promise<ConnectProxy> {
  const connects: ConnectProxy['connects'] = [];
  const chunks: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => { res.writeHead(405).end(); });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    sockets.add(client);
    client.on('error', () => {}); // a client that gives up mid-tunnel is not this proxy's failure
    const target = req.url ?? '';
    const auth = req.headers['proxy-authorization'];
    if (opts.auth && auth !== `Basic ${Buffer.from(opts.auth).toString('base64')}`) {
      connects.push({ target, auth, status: 407 });
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n\r\n');
      return;
    }
    const m = /^\[?([^\]]+)\]?:(\d+)$/.exec(target);
    // Loopback only: this proxy never sends traffic off the machine.
    if (!m || !['127.0.0.1', '::1', 'localhost'].includes(m[1]!)) {
      connects.push({ target, auth, status: 403 });
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    connects.push({ target, auth, status: 200 });
    const upstream = net.connect(Number(m[2]), m[1]!, () => {
      client.write('HTTP/1.1 200 Connection established\r\n\r\n');
      if (head.length) upstream.write(head);
      client.on('data', (c: Buffer) => { chunks.push(c); upstream.write(c); });
      upstream.on('data', (c: Buffer) => { chunks.push(c); client.write(c); });
    });
    sockets.add(upstream);
    upstream.on('error', () => {});
    const end = () => { client.destroy(); upstream.destroy(); };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const port = (server.address() as net.AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, connects, relayed: () => Buffer.concat(chunks) };
}
