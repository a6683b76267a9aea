// Reading one response body, whatever the server sends: gunzip as a stream
// when it compressed, a byte budget on what arrives and on what it
// decompresses to, list items parsed one by one as they arrive (2xx lists),
// the run's AbortSignal honoured while reading, and every failure turned into
// one KubeApiError.
import type { IncomingMessage } from 'node:http';
import zlib from 'node:zlib';
import { describeTarget, fromNetwork, KubeApiError, malformed, type RequestTarget } from './errors.js';
import { ListStreamParser } from './list-stream.js';
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

export interface ReadOptions {
  target: RequestTarget;
  /** The server's origin, for messages. */
  server: string;
  signal: AbortSignal;
  /** Byte budget of this response, received and decompressed. */
  maxBytes: number;
  stats: ReadStats;
  /** Each item of a 2xx list, parsed, as it arrives; the body then holds the list without its items. */
  onItem?: (item: unknown) => void;
}

/**
 * Read one response within the byte budget. Every exception becomes a
 * KubeApiError through fail(); done() gets the answer otherwise. Exactly one
 * of them is called (the caller ignores calls after the first).
 */
export function readResponse(res: IncomingMessage, opts: ReadOptions, fail: (e: unknown) => void, done: (a: Answer) => void): void {
  const { target, server, signal, maxBytes, stats, onItem } = opts;
  const status = res.statusCode ?? 0;
  const streaming = onItem && status >= 200 && status < 300 ? new ListStreamParser(onItem) : undefined;
  const chunks: Buffer[] = [];
  let decoded = 0;
  let failed = false;
  const stop = (e: unknown) => { failed = true; gunzip?.destroy(); fail(e); };
  const tooLarge = (what: string) => stop(new KubeApiError(
    `API server ${server} sent more than ${maxBytes} bytes${what} for ${describeTarget(target)}: ` +
    'stopped reading (per-response budget; a server that ignores limit=, or a proxy in between?)',
    undefined, 'TooLarge', target,
  ));
  const consume = (c: Buffer) => {
    if (failed) return;
    if (signal.aborted) return stop(signal.reason);
    decoded += c.length;
    stats.decodedBytes += c.length;
    if (decoded > maxBytes) return tooLarge(' (decompressed)');
    try {
      if (streaming) streaming.write(c);
      else chunks.push(c);
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
      body = streaming ? streaming.end() : JSON.parse((text = Buffer.concat(chunks).toString('utf8')));
      text = undefined;
    } catch (e) {
      if (streaming && !(e instanceof SyntaxError)) return stop(readError(server, target, e));
      notJson = true;
    }
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
  let received = 0;
  res.on('data', (c: Buffer) => {
    if (failed) return;
    received += c.length;
    stats.bytes += c.length;
    if (received > maxBytes) return tooLarge('');
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

/** An exception while reading a response (a malformed item, a check's project function): one line, never a crash. */
export function readError(server: string, target: RequestTarget, e: unknown): KubeApiError {
  if (e instanceof KubeApiError) return e;
  if (e instanceof SyntaxError) return malformed(server, target, 'a list item that is not JSON');
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
