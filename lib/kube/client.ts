import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import zlib from 'node:zlib';
import type { TLSSocket } from 'node:tls';
import type { Connection } from './kubeconfig.js';
import { describeTarget, fromNetwork, fromStatus, KubeApiError, type RequestTarget } from './errors.js';
import { ListStreamParser } from './list-stream.js';
import { fieldSelectorText, invalidName, type FieldTerm } from './names.js';
import { resourceName, resourcePath, type Resource } from './resources.js';
import type { Logger } from '../plugin/log.js';
import { whilePending } from '../plugin/pending.js';
import { redactSecrets, sanitize } from '../plugin/sanitize.js';

/** The API server's serving certificate as the TLS handshake showed it. */
export interface PeerCertificate {
  subject?: string;
  issuer?: string;
  /** epoch ms */
  validTo?: number;
}

/** A non-resource path's answer (/livez, /readyz): any status but 401/403/429, text as sent. */
export interface RawResponse {
  status: number;
  body: string;
  /** Round trip of this request, ms. */
  ms: number;
  certificate?: PeerCertificate;
}

export interface ListOptions {
  namespace?: string;
  /** A selector string written by the check, or terms whose values are checked (use terms for any name that came from outside). */
  fieldSelector?: string | readonly FieldTerm[];
  labelSelector?: string;
  /** Page size; the default keeps each response small and memory flat. */
  limit?: number;
  /** Stop after this many items (the check already knows enough). */
  maxItems?: number;
  /**
   * Ask for PartialObjectMetadataList: each item is only
   * {apiVersion, kind, metadata} (labels, ownerReferences, finalizers,
   * deletionTimestamp...), no spec or status. Servers without it send the
   * full list (the Accept header falls back to application/json), so callers
   * must read only item.metadata.
   */
  metadataOnly?: boolean;
}

interface ListBody {
  kind?: unknown;
  items?: unknown;
  metadata?: { continue?: string; remainingItemCount?: number };
}

export interface ClientStats {
  requests: number;
  /** Bytes as received (compressed when the server compressed). */
  bytes: number;
  /** Bytes after decompression: what was parsed. */
  decodedBytes: number;
}

export interface ClientLimits {
  /** Byte budget per response, received and decompressed (default DEFAULT_MAX_RESPONSE_BYTES). */
  maxResponseBytes?: number;
  /** When the run must end (epoch ms), so a 429 whose Retry-After runs past it fails at once. */
  deadline?: number;
  /** Ask for gzip (default true). */
  gzip?: boolean;
}


const DEFAULT_PAGE = 500;
/**
 * Holds a 10,000-item page (the largest --page-size) of 13 KB pods. Lists are
 * parsed as they stream, so memory follows what the check keeps; the budget
 * bounds the time a server that ignores limit= can make the check spend.
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 128 * 1024 * 1024;
/** A Date header has 1 s resolution: a smaller skew cannot be told from rounding. */
const SKEW_NOISE_MS = 2000;
const JSON_ACCEPT = 'application/json';
/** What kubectl sends for metadata-only lists, including its fallback. */
const METADATA_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';

function peerCertificate(sock: TLSSocket | undefined): PeerCertificate | undefined {
  const c = sock?.getPeerCertificate?.();
  if (!c || !Object.keys(c).length) return undefined;
  const validTo = Date.parse(c.valid_to);
  const cn = (x: unknown) => { const v = (x as Record<string, unknown> | undefined)?.CN; return Array.isArray(v) ? String(v[0]) : v === undefined ? undefined : String(v); };
  return { subject: cn(c.subject), issuer: cn(c.issuer), validTo: Number.isNaN(validTo) ? undefined : validTo };
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(t); reject(signal.reason); }, { once: true });
  });

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What one response was, after reading. */
interface Answer {
  status: number;
  body: unknown;
  /** Body is not JSON (2xx: an error; otherwise: no Status to read). */
  notJson: boolean;
  /** The body as text when it is not JSON (non-resource paths: /livez, /readyz). */
  text?: string;
  retryAfter?: number;
  /** The serving certificate of the connection, when asked for. */
  certificate?: PeerCertificate;
}


/**
 * A deliberately small read-only client: GET and paged LIST over one
 * keep-alive agent, aborted by the check's deadline. The generated
 * @kubernetes/client-node API classes are not used: they cost start-up time
 * and memory for nothing a check needs.
 *
 * Bounds, whatever the server sends: a byte budget per response (received and
 * decompressed), list items parsed one by one as they arrive, the deadline
 * (AbortSignal) honoured while reading, every failure while reading turned
 * into a KubeApiError, and credentials never echoed (see sanitize()).
 */
export class KubeClient {
  readonly stats: ClientStats = { requests: 0, bytes: 0, decodedBytes: 0 };
  /** Server clock minus local clock (ms), from the Date header of the best-timed response; undefined before one. */
  clockSkewMs: number | undefined;
  private bestRoundTrip = Infinity;
  private authenticated: Promise<void> | undefined;
  private readonly maxBytes: number;

  constructor(
    readonly conn: Connection,
    private readonly signal: AbortSignal,
    private readonly log: Logger = () => {},
    private readonly pageSize = DEFAULT_PAGE,
    private readonly limits: ClientLimits = {},
  ) {
    this.maxBytes = limits.maxResponseBytes ?? conn.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  }

  /** The skew worth acting on: 0 while it is within what a 1 s Date header can tell. */
  get significantSkewMs(): number {
    const s = this.clockSkewMs ?? 0;
    return Math.abs(s) > SKEW_NOISE_MS ? s : 0;
  }

  /** The API server's "now" (epoch ms): the local clock corrected by a significant skew. */
  serverNow(): number {
    return Date.now() + this.significantSkewMs;
  }

  async get<T>(res: Resource, name: string, namespace?: string): Promise<T> {
    const target: RequestTarget = { verb: 'get', resource: resourceName(res), namespace: res.namespaced ? namespace : undefined, name };
    const path = resourcePath(res, namespace, name);
    const a = await this.request(path, {}, target);
    const body = a.body;
    // A 2xx must be the object asked for: judging a `null`, `{}` or an HTML page as "the lease" makes false verdicts.
    if (!isObject(body)) throw this.malformed(target, describeValue(body));
    if (body.kind !== undefined ? body.kind !== res.kind : !isObject(body.metadata)) {
      throw this.malformed(target, body.kind !== undefined ? `a ${sanitize(body.kind, 40)} instead of a ${res.kind}` : 'an object without kind or metadata');
    }
    return body as T;
  }

  /**
   * GET a path below one object: nodes NAME proxy/stats/summary reaches the
   * kubelet through the API server (RBAC: get on nodes/proxy).
   */
  async getBelow<T>(res: Resource, name: string, below: string, namespace?: string): Promise<T> {
    const target: RequestTarget = { verb: 'get', resource: `${resourceName(res)}/${below.split('/')[0]}`, namespace: res.namespaced ? namespace : undefined, name };
    const a = await this.request(`${resourcePath(res, namespace, name)}/${below}`, {}, target);
    if (!isObject(a.body)) throw this.malformed(target, describeValue(a.body));
    return a.body as T;
  }

  /** get, with 404 meaning "there is none" rather than an error. */
  async getOptional<T>(res: Resource, name: string, namespace?: string): Promise<T | undefined> {
    // No object can have an invalid name (a holder identity turned into a node
    // name, say): there is none, and no request is made for it.
    if (invalidName(name)) {
      this.log(2, `get ${resourceName(res)} '${sanitize(name, 80)}': not a valid name, so there is none`);
      return undefined;
    }
    try {
      return await this.get<T>(res, name, namespace);
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404) return undefined;
      throw e;
    }
  }

  /**
   * GET a non-resource path (/livez, /readyz?verbose): the status and text
   * are the answer, so only 401/403/429 (no answer at all) throw. The
   * serving certificate of the connection comes with it.
   */
  async getPath(path: string, query: Record<string, string> = {}): Promise<RawResponse> {
    const qs = new URLSearchParams(query).toString().replace(/=(&|$)/g, '$1'); // ?verbose, not ?verbose=
    const url = new URL(path + (qs ? `?${qs}` : ''), this.conn.server);
    const label = `GET ${path}${qs ? `?${qs}` : ''}`;
    const target: RequestTarget = { verb: 'get', resource: path };
    if (this.conn.authenticate) await (this.authenticated ??= this.conn.authenticate(this.signal));
    return whilePending(this.signal, label, async () => {
      const started = performance.now();
      const a = await this.send(url, target, 'text/plain, */*', undefined, true);
      const ms = performance.now() - started;
      this.log(2, `${label} -> ${a.status} (${Math.round(ms)} ms)`);
      if (a.status === 401 || a.status === 403 || a.status === 429) throw fromStatus(a.status, a.notJson ? undefined : a.body, target, this.conn.server.origin);
      const body = a.text ?? (typeof a.body === 'string' ? a.body : JSON.stringify(a.body));
      return { status: a.status, body: redactSecrets(body), ms, certificate: a.certificate };
    }, 'api');
  }

  /**
   * All items matching the selectors, page by page (limit/continue). Each
   * item is parsed as it arrives and, with `project`, reduced (or dropped, by
   * returning undefined) at once, so memory follows what the check keeps, not
   * what the server sends.
   */
  async list<T, R = T>(res: Resource, opts: ListOptions & { project?: (item: T) => R | undefined } = {}): Promise<R[]> {
    const project = opts.project ?? ((item: T) => item as unknown as R);
    const target: RequestTarget = { verb: 'list', resource: resourceName(res), namespace: res.namespaced ? opts.namespace : undefined };
    const path = resourcePath(res, opts.namespace);
    const fieldSelector = typeof opts.fieldSelector === 'string' ? opts.fieldSelector : opts.fieldSelector && fieldSelectorText(opts.fieldSelector);
    const max = opts.maxItems ?? Infinity;
    let restarted = false;
    for (;;) {
      const items: R[] = [];
      let cont: string | undefined;
      try {
        do {
          const query: Record<string, string> = { limit: String(opts.limit ?? this.pageSize) };
          if (fieldSelector) query.fieldSelector = fieldSelector;
          if (opts.labelSelector) query.labelSelector = opts.labelSelector;
          if (cont) query.continue = cont;
          const page: R[] = [];
          const onItem = (item: unknown) => {
            if (!isObject(item)) throw new TypeError(`a list item that is ${describeValue(item)}`);
            if (items.length + page.length >= max) return;
            const kept = project(item as T);
            if (kept !== undefined) page.push(kept);
          };
          const a = await this.request(path, query, target, opts.metadataOnly ? METADATA_ACCEPT : JSON_ACCEPT, onItem);
          const body = a.body as ListBody;
          // A real kube-apiserver sends "items": null for an empty PartialObjectMetadataList (a nil Go slice).
          if (!isObject(body) || !('items' in body) || (body.items !== null && !Array.isArray(body.items))) {
            throw this.malformed(target, isObject(body) ? 'a list without items' : describeValue(body));
          }
          if (body.kind !== undefined && !(typeof body.kind === 'string' && body.kind.endsWith('List'))) {
            throw this.malformed(target, `a ${sanitize(body.kind, 40)} instead of a list`);
          }
          items.push(...page);
          cont = (isObject(body.metadata) && typeof body.metadata.continue === 'string' && body.metadata.continue) || undefined;
          if (items.length >= max) return items;
        } while (cont);
        return items;
      } catch (e) {
        // 410 Gone: the continue token outlived etcd compaction. The API
        // conventions say to start the list again; do that once.
        if (e instanceof KubeApiError && e.status === 410 && !restarted) {
          restarted = true;
          this.log(2, `list ${target.resource}: continue token expired, restarting the list`);
          continue;
        }
        throw e;
      }
    }
  }

  private malformed(target: RequestTarget, what: string): KubeApiError {
    return new KubeApiError(
      `API server ${this.conn.server.origin} sent ${what} for ${target.verb} ${target.resource}: not a Kubernetes API server, or a proxy in between?`,
      undefined, 'Malformed', target,
    );
  }

  /** One GET, with a 2xx Failure Status and non-2xx statuses thrown as KubeApiError; 429 retried once if the deadline allows. */
  private async request(path: string, query: Record<string, string>, target: RequestTarget, accept = JSON_ACCEPT,
    onItem?: (item: unknown) => void, attempt = 0): Promise<Answer> {
    // An exec credential plugin runs once, before the first request (its own pending entry names it).
    if (this.conn.authenticate) await (this.authenticated ??= this.conn.authenticate(this.signal));
    const qs = new URLSearchParams(query).toString();
    const url = new URL(path + (qs ? `?${qs}` : ''), this.conn.server);
    const label = `GET ${path}${qs ? `?${decodeURIComponent(qs)}` : ''}`;
    return whilePending(this.signal, label, async () => {
      const started = Date.now();
      const a = await this.send(url, target, accept, onItem);
      this.log(2, `${label} -> ${a.status} (${Date.now() - started} ms)`);
      const ok = a.status >= 200 && a.status < 300;
      if (ok && a.notJson) throw this.malformed(target, 'a response that is not JSON');
      // client-go treats a Status with status Failure as an error whatever the HTTP code.
      const b = a.body;
      if (ok && isObject(b) && b.kind === 'Status' && b.status === 'Failure') {
        throw fromStatus(typeof b.code === 'number' && b.code >= 400 ? b.code : 500, b, target, this.conn.server.origin);
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
        return await this.request(path, query, target, accept, onItem, attempt + 1);
      }
      throw fromStatus(a.status, a.notJson ? undefined : b, target, this.conn.server.origin);
    }, 'api');
  }

  /** Clock skew from one response: its Date (whole seconds, so +0.5 s) against the local midpoint of the request. */
  private noteDate(date: string | undefined, sent: number, received: number): void {
    const server = date ? Date.parse(date) : NaN;
    if (!Number.isFinite(server)) return;
    const roundTrip = received - sent;
    if (roundTrip > this.bestRoundTrip) return;
    this.bestRoundTrip = roundTrip;
    this.clockSkewMs = Math.round(server + 500 - (sent + received) / 2);
  }

  private send(url: URL, target: RequestTarget, accept: string, onItem?: (item: unknown) => void, wantCertificate = false): Promise<Answer> {
    const origin = this.conn.server.origin;
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
      const req = https.request(url, { method: 'GET', agent: this.conn.agent, headers, signal: this.signal }, (res) => {
        try {
          this.noteDate(res.headers.date, sent, Date.now());
          this.stats.requests++;
          const certificate = wantCertificate ? peerCertificate(res.socket as TLSSocket) : undefined;
          this.read(res, target, onItem, fail, (a) => { if (!settled) { settled = true; resolve({ ...a, certificate }); } });
        } catch (e) {
          fail(this.handlerError(target, e));
        }
      });
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (this.signal.aborted) return fail(this.signal.reason);
        fail(fromNetwork(e, target, origin));
      });
      req.end();
    });
  }

  /**
   * Read one response within the byte budget: gunzip as a stream when the
   * server compressed, feed list items to onItem (2xx lists only), keep other
   * bodies whole. Every exception becomes a KubeApiError through fail().
   */
  private read(res: IncomingMessage, target: RequestTarget, onItem: ((item: unknown) => void) | undefined,
    fail: (e: unknown) => void, done: (a: Answer) => void): void {
    const status = res.statusCode ?? 0;
    const streaming = onItem && status >= 200 && status < 300 ? new ListStreamParser(onItem) : undefined;
    const chunks: Buffer[] = [];
    let decoded = 0;
    let failed = false;
    const stop = (e: unknown) => { failed = true; gunzip?.destroy(); fail(e); };
    const tooLarge = (what: string) => stop(new KubeApiError(
      `API server ${this.conn.server.origin} sent more than ${this.maxBytes} bytes${what} for ${describeTarget(target)}: ` +
      'stopped reading (per-response budget; a server that ignores limit=, or a proxy in between?)',
      undefined, 'TooLarge', target,
    ));
    const consume = (c: Buffer) => {
      if (failed) return;
      if (this.signal.aborted) return stop(this.signal.reason);
      decoded += c.length;
      this.stats.decodedBytes += c.length;
      if (decoded > this.maxBytes) return tooLarge(' (decompressed)');
      try {
        if (streaming) streaming.write(c);
        else chunks.push(c);
      } catch (e) {
        stop(this.handlerError(target, e));
      }
    };
    const finish = () => {
      if (failed) return;
      if (!res.complete) return stop(this.truncated(target));
      const ra = Number(res.headers['retry-after']);
      let body: unknown;
      let notJson = false;
      let text: string | undefined;
      try {
        body = streaming ? streaming.end() : JSON.parse((text = Buffer.concat(chunks).toString('utf8')));
        text = undefined;
      } catch (e) {
        if (streaming && !(e instanceof SyntaxError)) return stop(this.handlerError(target, e));
        notJson = true;
      }
      done({ status, body, notJson, text, retryAfter: Number.isFinite(ra) && res.headers['retry-after'] !== undefined ? ra : undefined });
    };

    const encoding = String(res.headers['content-encoding'] ?? '').toLowerCase();
    const gunzip = encoding === 'gzip' ? zlib.createGunzip() : undefined;
    if (encoding && encoding !== 'identity' && !gunzip) {
      return stop(this.malformed(target, `a body in an encoding it was not asked for (${sanitize(encoding, 20)})`));
    }
    if (gunzip) {
      gunzip.on('data', consume);
      gunzip.on('end', finish);
      gunzip.on('error', () => stop(this.malformed(target, 'a corrupt gzip body')));
    }
    let received = 0;
    res.on('data', (c: Buffer) => {
      if (failed) return;
      received += c.length;
      this.stats.bytes += c.length;
      if (received > this.maxBytes) return tooLarge('');
      if (gunzip) gunzip.write(c);
      else consume(c);
    });
    res.on('error', (e) => stop(this.signal.aborted ? this.signal.reason : fromNetwork(e as NodeJS.ErrnoException, target, this.conn.server.origin)));
    res.on('aborted', () => stop(this.truncated(target)));
    res.on('end', () => {
      if (failed) return;
      if (!res.complete) return stop(this.truncated(target));
      if (gunzip) gunzip.end();
      else finish();
    });
  }

  /** An exception while reading a response (a malformed item, a check's project function): one line, never a crash. */
  private handlerError(target: RequestTarget, e: unknown): KubeApiError {
    if (e instanceof KubeApiError) return e;
    if (e instanceof SyntaxError) return this.malformed(target, 'a list item that is not JSON');
    const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return new KubeApiError(`could not read the response to ${describeTarget(target)} from API server ${this.conn.server.origin}: ${sanitize(msg, 160)}`,
      undefined, 'ReadFailed', target);
  }

  private truncated(target: RequestTarget): KubeApiError {
    return new KubeApiError(
      `API server ${this.conn.server.origin} dropped the connection in the middle of the response to ${target.verb} ${target.resource}`,
      undefined, 'Truncated', target,
    );
  }

  close(): void {
    this.conn.agent.destroy();
  }
}

/** `null`, `a string`, `an array`: for "sent X for get lease ...". */
function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}
