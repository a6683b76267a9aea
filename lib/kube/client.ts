import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { Connection } from './kubeconfig.js';
import { fromNetwork, fromStatus, KubeApiError, type RequestTarget } from './errors.js';
import type { Logger } from '../plugin/log.js';
import { whilePending } from '../plugin/pending.js';

/** Where a kind lives in the API. */
export interface Resource {
  group: string; // '' for core
  version: string;
  plural: string;
  namespaced: boolean;
}

const r = (group: string, version: string, plural: string, namespaced = true): Resource => ({ group, version, plural, namespaced });

export const RESOURCES = {
  pods: r('', 'v1', 'pods'),
  events: r('', 'v1', 'events'),
  nodes: r('', 'v1', 'nodes', false),
  services: r('', 'v1', 'services'),
  endpoints: r('', 'v1', 'endpoints'),
  persistentvolumes: r('', 'v1', 'persistentvolumes', false),
  leases: r('coordination.k8s.io', 'v1', 'leases'),
  deployments: r('apps', 'v1', 'deployments'),
  daemonsets: r('apps', 'v1', 'daemonsets'),
  replicasets: r('apps', 'v1', 'replicasets'),
  statefulsets: r('apps', 'v1', 'statefulsets'),
  poddisruptionbudgets: r('policy', 'v1', 'poddisruptionbudgets'),
  endpointslices: r('discovery.k8s.io', 'v1', 'endpointslices'),
  apiservices: r('apiregistration.k8s.io', 'v1', 'apiservices', false),
} as const;

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
  fieldSelector?: string;
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

interface ListBody<T> {
  items?: T[];
  metadata?: { continue?: string; remainingItemCount?: number };
}

export interface ClientStats {
  requests: number;
  bytes: number;
}

const DEFAULT_PAGE = 500;
const JSON_ACCEPT = 'application/json';
/** What kubectl sends for metadata-only lists, including its fallback. */
const METADATA_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';

function resourceName(res: Resource): string {
  return res.group ? `${res.plural}.${res.group}` : res.plural;
}

export function resourcePath(res: Resource, namespace?: string, name?: string): string {
  const base = res.group ? `/apis/${res.group}/${res.version}` : `/api/${res.version}`;
  const ns = res.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${res.plural}${name ? `/${encodeURIComponent(name)}` : ''}`;
}

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

/**
 * A deliberately small read-only client: GET and paged LIST over one
 * keep-alive agent, aborted by the check's deadline. The generated
 * @kubernetes/client-node API classes are not used: they cost start-up time
 * and memory for nothing a check needs.
 */
export class KubeClient {
  readonly stats: ClientStats = { requests: 0, bytes: 0 };

  constructor(
    readonly conn: Connection,
    private readonly signal: AbortSignal,
    private readonly log: Logger = () => {},
    private readonly pageSize = DEFAULT_PAGE,
  ) {}

  async get<T>(res: Resource, name: string, namespace?: string): Promise<T> {
    const target: RequestTarget = { verb: 'get', resource: resourceName(res), namespace: res.namespaced ? namespace : undefined, name };
    return (await this.request(resourcePath(res, namespace, name), {}, target)) as T;
  }

  /** get, with 404 meaning "there is none" rather than an error. */
  async getOptional<T>(res: Resource, name: string, namespace?: string): Promise<T | undefined> {
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
    return whilePending(this.signal, label, async () => {
      const started = performance.now();
      const { status, body, bytes, certificate } = await this.send(url, target, 'text/plain, */*', true);
      const ms = performance.now() - started;
      this.stats.requests++;
      this.stats.bytes += bytes;
      this.log(2, `${label} -> ${status} (${bytes} B, ${Math.round(ms)} ms)`);
      if (status === 401 || status === 403 || status === 429) {
        let parsed: unknown;
        try { parsed = JSON.parse(body); } catch { parsed = undefined; }
        throw fromStatus(status, parsed, target, this.conn.server.origin);
      }
      return { status, body, ms, certificate };
    }, 'api');
  }

  /**
   * All items matching the selectors, page by page (limit/continue). With
   * `project`, each item is reduced (or dropped, by returning undefined) as
   * its page arrives, so memory follows what the check keeps, not what the
   * server sends: a check that only counts keeps one page of objects at a time.
   */
  async list<T, R = T>(res: Resource, opts: ListOptions & { project?: (item: T) => R | undefined } = {}): Promise<R[]> {
    const project = opts.project ?? ((item: T) => item as unknown as R);
    const target: RequestTarget = { verb: 'list', resource: resourceName(res), namespace: res.namespaced ? opts.namespace : undefined };
    const path = resourcePath(res, opts.namespace);
    let restarted = false;
    for (;;) {
      const items: R[] = [];
      let cont: string | undefined;
      try {
        do {
          const query: Record<string, string> = { limit: String(opts.limit ?? this.pageSize) };
          if (opts.fieldSelector) query.fieldSelector = opts.fieldSelector;
          if (opts.labelSelector) query.labelSelector = opts.labelSelector;
          if (cont) query.continue = cont;
          const body = (await this.request(path, query, target, opts.metadataOnly ? METADATA_ACCEPT : JSON_ACCEPT)) as ListBody<T>;
          if (!body || !Array.isArray(body.items)) throw this.malformed(target, 'a list without items');
          for (const item of body.items) {
            const kept = project(item);
            if (kept !== undefined) items.push(kept);
          }
          cont = body.metadata?.continue || undefined;
          if (opts.maxItems !== undefined && items.length >= opts.maxItems) return items.slice(0, opts.maxItems);
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

  private async request(path: string, query: Record<string, string>, target: RequestTarget, accept = JSON_ACCEPT, attempt = 0): Promise<unknown> {
    const qs = new URLSearchParams(query).toString();
    const url = new URL(path + (qs ? `?${qs}` : ''), this.conn.server);
    const label = `GET ${path}${qs ? `?${decodeURIComponent(qs)}` : ''}`;
    return whilePending(this.signal, label, async () => {
      const started = Date.now();
      const { status, body, retryAfter, bytes } = await this.send(url, target, accept);
      this.stats.requests++;
      this.stats.bytes += bytes;
      this.log(2, `${label} -> ${status} (${bytes} B, ${Date.now() - started} ms)`);
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        if (status >= 200 && status < 300) throw this.malformed(target, 'a response that is not JSON');
        parsed = undefined;
      }
      if (status >= 200 && status < 300) return parsed;
      // 429 asks us to come back; do so once if the deadline allows (the signal ends the wait).
      if (status === 429 && attempt === 0) {
        const wait = Math.min(Math.max(retryAfter ?? 1, 0), 5) * 1000;
        this.log(2, `${label}: throttled, retrying in ${wait} ms`);
        await sleep(wait, this.signal);
        return this.request(path, query, target, accept, attempt + 1);
      }
      throw fromStatus(status, parsed, target, this.conn.server.origin);
    }, 'api');
  }

  private send(url: URL, target: RequestTarget, accept: string, wantCertificate = false): Promise<{ status: number; body: string; bytes: number; retryAfter?: number; certificate?: PeerCertificate }> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        url,
        {
          method: 'GET',
          agent: this.conn.agent,
          headers: { ...this.conn.headers, Accept: accept, 'User-Agent': 'k8s-nrpe' },
          signal: this.signal,
        },
        (res) => {
          const certificate = wantCertificate ? peerCertificate(res.socket as TLSSocket) : undefined;
          const chunks: Buffer[] = [];
          let bytes = 0;
          res.on('data', (c: Buffer) => { chunks.push(c); bytes += c.length; });
          res.on('error', (e) => reject(fromNetwork(e as NodeJS.ErrnoException, target, this.conn.server.origin)));
          res.on('aborted', () => reject(this.truncated(target)));
          res.on('end', () => {
            if (!res.complete) return reject(this.truncated(target));
            const ra = Number(res.headers['retry-after']);
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), bytes, retryAfter: Number.isFinite(ra) ? ra : undefined, certificate });
          });
        },
      );
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (this.signal.aborted) return reject(this.signal.reason);
        reject(fromNetwork(e, target, this.conn.server.origin));
      });
      req.end();
    });
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
