// Reading one response body, whatever the server sends: gunzip as a stream
// when it compressed, a byte budget on what arrives and on what it
// decompresses to, list items parsed one by one as they arrive (2xx lists),
// the run's AbortSignal honoured while reading, and every failure turned into
// one KubeApiError.
import type { IncomingMessage } from 'node:http';
import zlib from 'node:zlib';
import { describeTarget, fromNetwork, KubeApiError, malformed, type RequestTarget } from './errors.js';
import { assertDepth, ListStreamParser, TooDeepError } from './list-stream.js';
import { sanitize } from '../plugin/sanitize.js';

/** What one response was, after reading. */
export interface Answer {
  status: number;
  body: unknown;
  /** Body is not JSON (2xx: an error; otherwise: no Status to read). */
  notJson: boolean;
  /** The body as text when it is not JSON (non-resource paths: /livez, /readyz). */
  text?: string;
  retryAfter?: number;
}

export interface ReadStats {
  /** Bytes as received (compressed when the server compressed). */
  bytes: number;
  /** Bytes after decompression: what was parsed. */
  decodedBytes: number;
}

/** What one check process may read from the API server, all responses together (docs/performance.md, "Memory"). */
export interface BudgetLimits {
  /** Bytes received and bytes decompressed, each summed over every response: bounds the parsing work. */
  decodedBytes: number;
  /** Bytes held at once: bodies kept whole until parsed (objects, health endpoints, errors) and the list item being read. */
  heldBytes: number;
  /** List items parsed: bounds the parsing work of lists a check only counts or filters. */
  items: number;
  /** List items a check keeps (its project function returned something): bounds its memory. */
  kept: number;
}

const MiB = 1024 * 1024;
/**
 * Bytes: a 50k-pod cluster of 13 KB pods is 650 MB of pod list. Held: no
 * object exceeds etcd's 1.5 MiB request limit, so 8 MiB is several parallel
 * GETs of the largest object. Kept items: a check keeps at most the 50k
 * pods of a 50k-pod cluster (events are reduced as they stream, KubeClient.fold);
 * at about 0.6 KB of RSS a kept item, 60k keep every check under 150 MB
 * against a server that ignores limit= (bench/hostile.mjs, docs/performance.md);
 * --max-list-items sets it per run. Parsed items: the 100k FailedScheduling
 * events of a mass-unschedulable incident five times over.
 */
export const DEFAULT_BUDGET: BudgetLimits = { decodedBytes: 1024 * MiB, heldBytes: 8 * MiB, items: 500_000, kept: 60_000 };

/** One per check process: every response counts against it, in parallel too. */
export class ResponseBudget {
  received = 0;
  decoded = 0;
  held = 0;
  items = 0;
  kept = 0;
  constructor(readonly limits: BudgetLimits = DEFAULT_BUDGET) {}

  /** A check keeps one more list item (called from its list's item callback, so a throw ends that response). */
  keep(target: RequestTarget): void {
    if (++this.kept > this.limits.kept) throw exceeded(target, `more than ${this.limits.kept} list items kept`, ' A cluster with more objects: raise --max-list-items');
  }
}

const mb = (n: number) => (n < MiB ? `${Math.round(n / 1024)} KB` : `${Math.round(n / MiB)} MB`);

export interface ReadOptions {
  target: RequestTarget;
  /** The server's origin, for messages. */
  server: string;
  signal: AbortSignal;
  budget: ResponseBudget;
  stats: ReadStats;
  /** Each item of a 2xx list, parsed, as it arrives; the body then holds the list without its items. */
  onItem?: (item: unknown) => void;
  /** Bytes this one body may hold, below the run's heldBytes (health endpoints answer a few KB). */
  maxBody?: number;
}

/**
 * Read one response within the byte budget. Every exception becomes a
 * KubeApiError through fail(); done() gets the answer otherwise. Exactly one
 * of them is called (the caller ignores calls after the first).
 */
export function readResponse(res: IncomingMessage, opts: ReadOptions, fail: (e: unknown) => void, done: (a: Answer) => void): void {
  const { target, server, signal, budget, stats } = opts;
  const limits = budget.limits;
  const status = res.statusCode ?? 0;
  const onItem = opts.onItem && ((item: unknown) => {
    if (++budget.items > limits.items) throw exceeded(target, `more than ${limits.items} list items parsed`);
    opts.onItem!(item);
  });
  const streaming = onItem && status >= 200 && status < 300 ? new ListStreamParser(onItem) : undefined;
  const chunks: Buffer[] = [];
  let failed = false;
  // What this response holds against the budget's heldBytes, given back when it ends either way.
  let heldHere = 0;
  const hold = (n: number) => {
    heldHere += n;
    budget.held += n;
    if (opts.maxBody !== undefined && heldHere > opts.maxBody) throw exceeded(target, `an answer of more than ${mb(opts.maxBody)}`);
    if (budget.held > limits.heldBytes) throw exceeded(target, `more than ${mb(limits.heldBytes)} to hold at once`);
  };
  const release = () => { budget.held -= heldHere; heldHere = 0; chunks.length = 0; };
  const stop = (e: unknown) => { failed = true; release(); gunzip?.destroy(); fail(e); };
  const consume = (c: Buffer) => {
    if (failed) return;
    if (signal.aborted) return stop(signal.reason);
    stats.decodedBytes += c.length;
    try {
      if ((budget.decoded += c.length) > limits.decodedBytes) throw exceeded(target, `more than ${mb(limits.decodedBytes)} decompressed`);
      if (streaming) {
        const before = streaming.buffered;
        streaming.write(c);
        hold(streaming.buffered - before);
      } else {
        chunks.push(c);
        hold(c.length);
      }
    } catch (e) {
      stop(readError(server, target, e));
    }
  };
  const finish = () => {
    if (failed) return;
    if (!res.complete) return stop(truncated(server, target));
    const ra = Number(res.headers['retry-after']);
    let body: unknown;
    let notJson = false;
    let text: string | undefined;
    try {
      if (streaming) body = streaming.end();
      else {
        const whole = Buffer.concat(chunks);
        text = whole.toString('utf8');
        if (/^\s*[[{]/.test(text.slice(0, 64))) assertDepth(whole); // JSON: refuse what would overflow a reader's stack
        body = JSON.parse(text);
        text = undefined;
      }
    } catch (e) {
      if (e instanceof TooDeepError || (streaming && !(e instanceof SyntaxError))) return stop(readError(server, target, e));
      notJson = true;
    }
    release();
    done({ status, body, notJson, text, retryAfter: Number.isFinite(ra) && res.headers['retry-after'] !== undefined ? ra : undefined });
  };

  const encoding = String(res.headers['content-encoding'] ?? '').toLowerCase();
  const gunzip = encoding === 'gzip' ? zlib.createGunzip() : undefined;
  if (encoding && encoding !== 'identity' && !gunzip) {
    return stop(malformed(server, target, `a body in an encoding it was not asked for (${sanitize(encoding, 20)})`));
  }
  if (gunzip) {
    gunzip.on('data', consume);
    gunzip.on('end', finish);
    gunzip.on('error', () => stop(malformed(server, target, 'a corrupt gzip body')));
  }
  res.on('data', (c: Buffer) => {
    if (failed) return;
    stats.bytes += c.length;
    if ((budget.received += c.length) > limits.decodedBytes) return stop(exceeded(target, `more than ${mb(limits.decodedBytes)} received`));
    if (gunzip) gunzip.write(c);
    else consume(c);
  });
  res.on('error', (e) => stop(signal.aborted ? signal.reason : fromNetwork(e as NodeJS.ErrnoException, target, server)));
  res.on('aborted', () => stop(truncated(server, target)));
  res.on('end', () => {
    if (failed) return;
    if (!res.complete) return stop(truncated(server, target));
    if (gunzip) gunzip.end();
    else finish();
  });
}

/** The budget ran out on this request: one line that names it and says what it means. */
function exceeded(target: RequestTarget, what: string, hint = ''): KubeApiError {
  return new KubeApiError(
    `response budget exceeded: ${describeTarget(target)} (${what} in this run): stopped reading; ` +
    `a server that ignores limit=, or a proxy in between?${hint}`,
    undefined, 'BudgetExceeded', target,
  );
}

/** An exception while reading a response (a malformed item, a check's project function): one line, never a crash. */
export function readError(server: string, target: RequestTarget, e: unknown): KubeApiError {
  if (e instanceof KubeApiError) return e;
  if (e instanceof SyntaxError) return malformed(server, target, 'a list item that is not JSON');
  if (e instanceof TooDeepError) return malformed(server, target, e.message);
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new KubeApiError(`could not read the response to ${describeTarget(target)} from API server ${server}: ${sanitize(msg, 160)}`,
    undefined, 'ReadFailed', target);
}

function truncated(server: string, target: RequestTarget): KubeApiError {
  return new KubeApiError(
    `API server ${server} dropped the connection in the middle of the response to ${target.verb} ${target.resource}`,
    undefined, 'Truncated', target,
  );
}
