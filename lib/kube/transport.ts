// The HTTP side of the client: one GET (or a canary's POST/DELETE) over the connection's keep-alive
// agent, aborted by the run's AbortSignal, its body read within the run's
// response budget (response.ts), the server's Date noted for clock skew, and statuses turned
// into KubeApiErrors, with a 429 retried once when the deadline allows.
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { Connection } from './kubeconfig.js';
import { ClockSkew } from './clock-skew.js';
import { describeTarget, fromNetwork, fromStatus, KubeApiError, malformed, type RequestTarget } from './errors.js';
import { peerCertificate, type PeerCertificate } from './peer-certificate.js';
import { DEFAULT_BUDGET, readError, readResponse, ResponseBudget, type Answer, type BudgetLimits } from './response.js';
import type { Logger } from '../plugin/log.js';
import { sleep } from '../plugin/deadline.js';
import { whilePending } from '../plugin/pending.js';

export interface ClientStats {
  requests: number;
  /** Bytes as received (compressed when the server compressed). */
  bytes: number;
  /** Bytes after decompression: what was parsed. */
  decodedBytes: number;
}

export interface ClientLimits {
  /** The run's response budget, where it differs from DEFAULT_BUDGET (tests). */
  budget?: Partial<BudgetLimits>;
  /** When the run must end (epoch ms), so a 429 whose Retry-After runs past it fails at once. */
  deadline?: number;
  /** Ask for gzip (default true). */
  gzip?: boolean;
}

export const JSON_ACCEPT = 'application/json';

/** A request that writes (the canary's pod): its method and JSON body. */
export interface Write {
  method: 'POST' | 'DELETE';
  body?: unknown;
}

/** One exchange: the answer, and the serving certificate when asked for. */
export interface Exchange extends Answer {
  certificate?: PeerCertificate;
}

/**
 * The URL of a request: the server URL's path is kept in front of every path, as
 * client-go keeps it (rest.DefaultServerURL: the host's path is the base of
 * every request), so a cluster behind Rancher (https://rancher/k8s/clusters/ID)
 * or a path-routing proxy is asked at its own paths, health endpoints included.
 * Its query and fragment are dropped, as clientcmd's client_config.go does.
 */
export function requestUrl(server: URL, path: string, qs: string): URL {
  const url = new URL(server.origin);
  url.pathname = server.pathname.replace(/\/+$/, '') + path;
  url.search = qs;
  return url;
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class Transport {
  readonly stats: ClientStats = { requests: 0, bytes: 0, decodedBytes: 0 };
  readonly skew = new ClockSkew();
  private authenticated: Promise<void> | undefined;
  /** One for the whole run: every response of this client counts against it. */
  readonly budget: ResponseBudget;

  constructor(
    readonly conn: Connection,
    private readonly signal: AbortSignal,
    private readonly log: Logger,
    private readonly limits: ClientLimits,
  ) {
    this.budget = new ResponseBudget({ ...DEFAULT_BUDGET, ...limits.budget });
  }

  /** The server's origin, for messages. */
  get server(): string {
    return this.conn.server.origin;
  }

  /** An exec credential plugin runs once, before the first request (its own pending entry names it). */
  async authenticate(): Promise<void> {
    if (this.conn.authenticate) await (this.authenticated ??= this.conn.authenticate(this.signal));
  }

  /**
   * One GET (or, with `write`, a POST or DELETE with a JSON body: the canary's pod), with a 2xx Failure Status and
   * non-2xx statuses thrown as KubeApiError; 429 retried once if the deadline allows (a 429 was not acted on, so a write may be repeated).
   */
  async get(path: string, query: Record<string, string>, target: RequestTarget, accept = JSON_ACCEPT,
    onItem?: (item: unknown) => void, attempt = 0, write?: Write): Promise<Answer> {
    await this.authenticate();
    const qs = new URLSearchParams(query).toString();
    const url = requestUrl(this.conn.server, path, qs);
    const label = `${write?.method ?? 'GET'} ${path}${qs ? `?${decodeURIComponent(qs)}` : ''}`;
    return whilePending(this.signal, label, async () => {
      const started = Date.now();
      const a = await this.send(url, target, accept, onItem, false, undefined, write);
      this.log(2, `${label} -> ${a.status} (${Date.now() - started} ms)`);
      const ok = a.status >= 200 && a.status < 300;
      if (ok && a.notJson) throw malformed(this.server, target, 'a response that is not JSON');
      // client-go treats a Status with status Failure as an error whatever the HTTP code.
      const b = a.body;
      if (ok && isObject(b) && b.kind === 'Status' && b.status === 'Failure') {
        throw fromStatus(typeof b.code === 'number' && b.code >= 400 ? b.code : 500, b, target, this.server);
      }
      if (ok) return a;
      if (a.status === 429 && attempt === 0) {
        const seconds = Math.max(a.retryAfter ?? 1, 0);
        const left = this.limits.deadline !== undefined ? this.limits.deadline - Date.now() : Infinity;
        if (seconds * 1000 >= left) {
          throw new KubeApiError(
            `the API server throttled the request (429, Retry-After ${seconds}s) to ${describeTarget(target)}: ` +
            `retrying would run past the check's deadline (${Math.max(0, left / 1000).toFixed(1)}s left)`,
            429, 'TooManyRequests', target,
          );
        }
        // Without a known deadline, wait at most 5 s (the signal ends the wait anyway).
        const wait = (this.limits.deadline !== undefined ? seconds : Math.min(seconds, 5)) * 1000;
        this.log(2, `${label}: throttled, retrying in ${wait} ms`);
        await sleep(wait, this.signal);
        if (this.signal.aborted) throw this.signal.reason;
        return await this.get(path, query, target, accept, onItem, attempt + 1, write);
      }
      throw fromStatus(a.status, a.notJson ? undefined : b, target, this.server);
    }, 'api');
  }

  /** One HTTP exchange, any status; network failures and the abort reject. */
  send(url: URL, target: RequestTarget, accept: string, onItem?: (item: unknown) => void, wantCertificate = false, maxBody?: number, write?: Write): Promise<Exchange> {
    const server = this.server;
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (e: unknown) => {
        if (settled) return;
        settled = true;
        req.destroy();
        reject(e);
      };
      const sent = Date.now();
      const headers: Record<string, string> = { ...this.conn.headers, Accept: accept, 'User-Agent': 'k8s-nrpe' };
      if (this.limits.gzip ?? !this.conn.disableCompression) headers['Accept-Encoding'] = 'gzip';
      const payload = write?.body === undefined ? undefined : Buffer.from(JSON.stringify(write.body));
      if (payload) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) });
      const req = https.request(url, { method: write?.method ?? 'GET', agent: this.conn.agent, headers, signal: this.signal }, (res) => {
        try {
          this.skew.note(res.headers.date, sent, Date.now());
          this.stats.requests++;
          const certificate = wantCertificate ? peerCertificate(res.socket as TLSSocket) : undefined;
          readResponse(res, { target, server, signal: this.signal, budget: this.budget, stats: this.stats, onItem, maxBody }, fail,
            (a) => { if (!settled) { settled = true; resolve({ ...a, certificate }); } });
        } catch (e) {
          fail(readError(server, target, e));
        }
      });
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (this.signal.aborted) return fail(this.signal.reason);
        fail(fromNetwork(e, target, server));
      });
      req.end(payload);
    });
  }

  close(): void {
    this.conn.agent.destroy();
  }
}
