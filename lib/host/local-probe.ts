// Probes of daemons on this host, over loopback or a unix socket, each with
// its own short time limit inside the check's -t: the kubelet's /healthz
// (plain HTTP on 127.0.0.1) and a gRPC server's socket (containerd).
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { sanitize } from '../plugin/sanitize.js';

export interface ProbeResult {
  ok: boolean;
  /** Milliseconds until the answer (or the failure). */
  ms: number;
  /** What answered ('200 ok') or why nothing did, one line. */
  said: string;
}

const since = (t: bigint) => Math.round(Number(process.hrtime.bigint() - t) / 1e5) / 10;
const why = (e: unknown) => sanitize((e as NodeJS.ErrnoException).code ?? (e as Error).message, 120);

/**
 * GET http://127.0.0.1:PORT/PATH: ok when the answer is 200 (the kubelet's
 * healthz says "ok"). Never throws. The body is read up to 1 KiB.
 */
export function httpGetLocal(port: number, urlPath: string, timeoutMs: number, signal: AbortSignal): Promise<ProbeResult> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, timeout: timeoutMs, signal, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { if (body.length < 1024) body += c; });
      res.on('end', () => resolve({ ok: res.statusCode === 200, ms: since(t0), said: `${res.statusCode} ${sanitize(body, 80)}`.trim() }));
      res.on('error', (e) => resolve({ ok: false, ms: since(t0), said: why(e) }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('no answer'), { code: `no answer within ${timeoutMs} ms` })));
    req.on('error', (e) => resolve({ ok: false, ms: since(t0), said: why(e) }));
  });
}

/**
 * Connect to a gRPC server's unix socket and wait for its HTTP/2 SETTINGS
 * frame: the server itself answered, not only the kernel's accept queue (a
 * hung daemon's socket still accepts). No request is made, so no client of
 * the daemon's API is written here. Never throws.
 */
export function grpcSocketAnswers(socketPath: string, timeoutMs: number, signal: AbortSignal): Promise<ProbeResult> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve) => {
    let done = false;
    const session = http2.connect('http://localhost', { createConnection: () => net.connect(socketPath) });
    const finish = (ok: boolean, said: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      session.destroy();
      resolve({ ok, ms: since(t0), said });
    };
    const onAbort = () => finish(false, 'cancelled by the check timeout');
    const timer = setTimeout(() => finish(false, `no answer within ${timeoutMs} ms`), timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    session.once('remoteSettings', () => finish(true, 'answered'));
    session.on('error', (e) => finish(false, why(e)));
    session.once('close', () => finish(false, 'closed the connection without answering'));
  });
}
