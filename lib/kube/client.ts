import type { Connection } from './kubeconfig.js';
import { fromStatus, KubeApiError, malformed, type RequestTarget } from './errors.js';
import { assertName, fieldSelectorText, invalidName, type FieldTerm } from './names.js';
import type { PeerCertificate } from './peer-certificate.js';
import type { Selection } from './selection.js';
import { resourceName, resourcePath, type Resource } from './resources.js';
import { isObject, JSON_ACCEPT, requestUrl, Transport, type ClientLimits, type ClientStats } from './transport.js';
import type { Logger } from '../plugin/log.js';
import { whilePending } from '../plugin/pending.js';
import { redactSecrets, sanitize } from '../plugin/sanitize.js';

export type { PeerCertificate } from './peer-certificate.js';
export type { ClientLimits, ClientStats } from './transport.js';

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
  /** The objects the check judges: the run's --name/--exclude-* apply (lib/kube/selection.ts). */
  selected?: boolean;
}

interface ListBody {
  kind?: unknown;
  items?: unknown;
  metadata?: { continue?: string; remainingItemCount?: number };
}

const DEFAULT_PAGE = 500;
/** A non-resource answer (/livez?verbose, /version) is a few KB; its text is redacted and searched whole. */
const MAX_PATH_BODY = 1024 * 1024;
/** What kubectl sends for metadata-only lists, including its fallback. */
const METADATA_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';



/**
 * A deliberately small client: GET and paged LIST over one keep-alive
 * agent, aborted by the check's deadline; the only writes are the canary's
 * (create and delete one pod, lib/kube/canary.ts). The generated
 * @kubernetes/client-node API classes are not used: they cost start-up time
 * and memory for nothing a check needs.
 *
 * This file is what a request means (paths, paging, what a 2xx must hold);
 * transport.ts moves the bytes (abort, retries, budgets, see response.ts),
 * clock-skew.ts reads the server's clock, peer-certificate.ts its certificate.
 */
export class KubeClient {
  private readonly transport: Transport;
  /** The run's --name/--exclude-* (set by the core for a check that declares a selection); lists marked `selected` obey it. */
  selection?: Selection;

  constructor(
    readonly conn: Connection,
    private readonly signal: AbortSignal,
    private readonly log: Logger = () => {},
    private readonly pageSize = DEFAULT_PAGE,
    limits: ClientLimits = {},
  ) {
    this.transport = new Transport(conn, signal, log, limits);
  }

  get stats(): ClientStats {
    return this.transport.stats;
  }

  /** Server clock minus local clock (ms), from the Date header of the best-timed response; undefined before one. */
  get clockSkewMs(): number | undefined {
    return this.transport.skew.skewMs;
  }

  /** The skew worth acting on: 0 while it is within what a 1 s Date header can tell. */
  get significantSkewMs(): number {
    return this.transport.skew.significantMs;
  }

  /** The API server's "now" (epoch ms): the local clock corrected by a significant skew. */
  serverNow(): number {
    return Date.now() + this.significantSkewMs;
  }

  async get<T>(res: Resource, name: string, namespace?: string): Promise<T> {
    const target: RequestTarget = { verb: 'get', resource: resourceName(res), namespace: res.namespaced ? namespace : undefined, name };
    const path = resourcePath(res, namespace, name);
    const a = await this.transport.get(path, {}, target);
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
    const a = await this.transport.get(`${resourcePath(res, namespace, name)}/${below}`, {}, target);
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
    const url = requestUrl(this.conn.server, path, qs);
    const label = `GET ${path}${qs ? `?${qs}` : ''}`;
    const target: RequestTarget = { verb: 'get', resource: path };
    await this.transport.authenticate();
    return whilePending(this.signal, label, async () => {
      const started = performance.now();
      const a = await this.transport.send(url, target, 'text/plain, */*', undefined, true, MAX_PATH_BODY);
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
    const max = opts.maxItems ?? Infinity;
    let items: R[] = [];
    await this.pages(res, opts, (target) => {
      items = [];
      let page: R[] = [];
      return {
        item: (item) => {
          if (items.length + page.length >= max) return;
          const kept = project(item as T);
          if (kept === undefined) return;
          this.transport.budget.keep(target);
          page.push(kept);
        },
        // A page's items count once its body proved to be a list.
        page: () => {
          for (const kept of page) items.push(kept); // not push(...page): a page of 10^5 items would overflow the stack
          page = [];
          return items.length >= max;
        },
      };
    });
    return items;
  }

  /**
   * A list reduced as it streams: `step` sees each item once, as it is parsed,
   * and nothing is kept but what it puts in the state, so a check that needs
   * one record per object (the newest event about each pod) or only counts
   * does not hold every item (no --max-list-items either: the state is the
   * caller's to bound). A list started again (410) starts from a fresh init().
   */
  async fold<T, S>(res: Resource, opts: ListOptions, init: () => S, step: (state: S, item: T) => void): Promise<S> {
    let state!: S;
    await this.pages(res, opts, () => {
      state = init();
      return { item: (item) => step(state, item as T), page: () => false };
    });
    return state;
  }

  /**
   * The paging of list and fold: `begin` is called at the start and again
   * when the list restarts; its sink gets each item (an object) as it is
   * parsed and each page's end once that page's body is a list, and ends the
   * list early by returning true from it.
   */
  private async pages(res: Resource, opts: ListOptions,
    begin: (target: RequestTarget) => { item: (item: object) => void; page: () => boolean }): Promise<void> {
    // --name/--exclude-* (lib/kube/selection.ts) for the lists a check marks selected: a namespace and
    // field terms the server applies, exclusions dropped here before the sink sees them.
    const sel = opts.selected ? this.selection : undefined;
    const namespace = sel && res.namespaced ? sel.namespace(opts.namespace) : opts.namespace;
    const target: RequestTarget = { verb: 'list', resource: resourceName(res), namespace: res.namespaced ? namespace : undefined };
    const path = resourcePath(res, namespace);
    const given = typeof opts.fieldSelector === 'string' ? opts.fieldSelector : opts.fieldSelector && fieldSelectorText(opts.fieldSelector);
    const terms = sel?.fieldTerms(res.namespaced ? namespace : undefined) ?? [];
    const fieldSelector = [given, terms.length ? fieldSelectorText(terms) : ''].filter(Boolean).join(',');
    sel?.noteList();
    const counted = sel?.forList();
    let restarted = false;
    for (;;) {
      const sink = begin(target);
      let cont: string | undefined;
      try {
        do {
          const query: Record<string, string> = { limit: String(opts.limit ?? this.pageSize) };
          if (fieldSelector) query.fieldSelector = fieldSelector;
          if (opts.labelSelector) query.labelSelector = opts.labelSelector;
          if (cont) query.continue = cont;
          const onItem = (item: unknown) => {
            if (!isObject(item)) throw new TypeError(`a list item that is ${describeValue(item)}`);
            if (counted && !counted.keeps(item as { metadata?: { name?: string; namespace?: string } })) return;
            sink.item(item);
          };
          const a = await this.transport.get(path, query, target, opts.metadataOnly ? METADATA_ACCEPT : JSON_ACCEPT, onItem);
          const body = a.body as ListBody;
          // A real kube-apiserver sends "items": null for an empty PartialObjectMetadataList (a nil Go slice).
          if (!isObject(body) || !('items' in body) || (body.items !== null && !Array.isArray(body.items))) {
            throw this.malformed(target, isObject(body) ? 'a list without items' : describeValue(body));
          }
          if (body.kind !== undefined && !(typeof body.kind === 'string' && body.kind.endsWith('List'))) {
            throw this.malformed(target, `a ${sanitize(body.kind, 40)} instead of a list`);
          }
          cont = (isObject(body.metadata) && typeof body.metadata.continue === 'string' && body.metadata.continue) || undefined;
          if (sink.page()) return;
        } while (cont);
        return;
      } catch (e) {
        // 410 Gone: the continue token outlived etcd compaction. The API
        // conventions say to start the list again; do that once.
        if (e instanceof KubeApiError && e.status === 410 && !restarted) {
          restarted = true;
          counted?.restart();
          this.log(2, `list ${target.resource}: continue token expired, restarting the list`);
          continue;
        }
        throw e;
      }
    }
  }

  /**
   * POST one object into a namespace (the canary's pod): the object the server
   * created. Its name is checked like any name that goes into a URL; a 409
   * (AlreadyExists) is a KubeApiError with status 409.
   */
  async create<T>(res: Resource, namespace: string, body: { metadata?: { name?: string } }): Promise<T> {
    const name = body.metadata?.name;
    if (name !== undefined) assertName(name, `${resourceName(res)} name`);
    const target: RequestTarget = { verb: 'create', resource: resourceName(res), namespace, name };
    const a = await this.transport.get(resourcePath(res, namespace), {}, target, JSON_ACCEPT, undefined, 0, { method: 'POST', body });
    if (!isObject(a.body)) throw this.malformed(target, describeValue(a.body));
    if (a.body.kind !== undefined ? a.body.kind !== res.kind : !isObject(a.body.metadata)) {
      throw this.malformed(target, a.body.kind !== undefined ? `a ${sanitize(a.body.kind, 40)} instead of a ${res.kind}` : 'an object without kind or metadata');
    }
    return a.body as T;
  }

  /**
   * DELETE one object with DeleteOptions (a grace period; a uid precondition so
   * that only that very object goes). A 2xx is done, whatever it holds (the
   * object being deleted, or a Status Success); 404 and 409 are KubeApiErrors.
   */
  async delete(res: Resource, name: string, namespace: string | undefined,
    options: { gracePeriodSeconds?: number; preconditions?: { uid: string } } = {}): Promise<void> {
    const target: RequestTarget = { verb: 'delete', resource: resourceName(res), namespace: res.namespaced ? namespace : undefined, name };
    const body = { kind: 'DeleteOptions', apiVersion: 'v1', ...options };
    await this.transport.get(resourcePath(res, namespace, name), {}, target, JSON_ACCEPT, undefined, 0, { method: 'DELETE', body });
  }

  private malformed(target: RequestTarget, what: string): KubeApiError {
    return malformed(this.conn.server.origin, target, what);
  }

  close(): void {
    this.transport.close();
  }
}

/** `null`, `a string`, `an array`: for "sent X for get lease ...". */
function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}
