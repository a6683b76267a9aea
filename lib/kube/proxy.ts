// A cluster's `proxy-url`: HTTPS to the API server through an HTTP CONNECT
// tunnel, as client-go does (clientcmd client_config.go sets http.ProxyURL;
// Go's transport sends CONNECT host:port, with Proxy-Authorization from the
// URL's user info). The tunnel only carries bytes: the TLS handshake with the
// API server, and its verification (CA, name, client certificate), is the
// agent's own, end to end, inside it. An https:// proxy is reached over TLS
// verified with Node's bundled roots, as Go uses the system roots for it.
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { PluginError } from '../plugin/errors.js';
import { registerSecret } from '../plugin/sanitize.js';

/** The proxy schemes client-go accepts (clientcmd parseProxyURL); socks5 is named, not supported. */
export function parseProxyUrl(text: string, where: string): URL {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new PluginError(`${where}: proxy-url is not a URL`);
  }
  const scheme = u.protocol.replace(/:$/, '');
  if (scheme === 'socks5') throw new PluginError(`${where}: proxy-url ${u.protocol}//${u.host} is a SOCKS5 proxy, which k8s-nrpe does not support (use an http or https CONNECT proxy)`);
  if (scheme !== 'http' && scheme !== 'https') throw new PluginError(`${where}: proxy-url has unsupported scheme "${scheme}", must be http, https, or socks5 (kubectl refuses it too)`);
  return u;
}

/** URL user info as Go's url.UserPassword gives it; a malformed escape is kept as written. */
function decoded(s: string): string {
  try { return decodeURIComponent(s); } catch { return s; }
}

type CreateCallback = (err: Error | null, socket: Duplex) => void;
type AgentOptions = http.RequestOptions & { host?: string; port?: number | string };

/** A tunnel failure that names the proxy, not the API server, as the one that failed. */
function proxyError(proxy: URL, what: string): Error {
  // No code: errors.ts fromNetwork then words it with this message.
  return new Error(`proxy ${proxy.origin} ${what}`);
}

/** CONNECT host:port through the proxy; resolves with the raw tunnel socket. */
function openTunnel(proxy: URL, host: string, port: number, auth: string | undefined): Promise<net.Socket> {
  const target = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const secure = proxy.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request({
      host: proxy.hostname.replace(/^\[|\]$/g, ''),
      port: proxy.port || (secure ? 443 : 80),
      method: 'CONNECT',
      path: target,
      headers: { Host: target, ...(auth && { 'Proxy-Authorization': `Basic ${auth}` }) },
      agent: false,
    });
    req.once('connect', (res, socket, head) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(proxyError(proxy, `refused the tunnel to ${target}: ${res.statusCode} ${res.statusMessage ?? ''}`.trim()));
        return;
      }
      if (head.length) socket.unshift(head);
      resolve(socket);
    });
    req.once('response', (res) => { res.destroy(); reject(proxyError(proxy, `answered CONNECT with ${res.statusCode}`)); });
    req.once('error', (e: NodeJS.ErrnoException) => reject(proxyError(proxy, `unreachable (${e.code ?? e.message})`)));
    req.end();
  });
}

/**
 * Make the agent open its connections through the proxy: the agent's own
 * createConnection (TLS, its verification and session cache) runs over the
 * tunnel socket instead of a direct TCP connection.
 */
export function throughProxy(agent: https.Agent, proxy: URL): https.Agent {
  const user = decoded(proxy.username);
  const password = decoded(proxy.password);
  const auth = user || password ? Buffer.from(`${user}:${password}`).toString('base64') : undefined;
  registerSecret(password || undefined);
  registerSecret(proxy.password || undefined);
  registerSecret(auth);
  const shown = new URL(proxy.origin);
  const own = (agent as unknown as { createConnection(o: AgentOptions, cb: CreateCallback): Duplex | undefined }).createConnection;
  (agent as unknown as { createConnection(o: AgentOptions, cb: CreateCallback): undefined }).createConnection = (options, cb) => {
    openTunnel(shown, String(options.host ?? 'localhost'), Number(options.port ?? 443), auth).then((socket) => {
      // tls.connect({ socket }): the handshake with the API server happens inside the tunnel.
      const tlsSocket = own.call(agent, { ...options, socket } as AgentOptions, cb);
      if (tlsSocket) cb(null, tlsSocket);
    }, (e: Error) => cb(e, undefined as unknown as Duplex));
    return undefined;
  };
  return agent;
}
