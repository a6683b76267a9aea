import { isIP } from 'node:net';
import { Resolver } from 'node:dns/promises';
import { formatDuration } from '../plugin/duration.js';
import { UsageError } from '../plugin/errors.js';
import type { Logger } from '../plugin/log.js';
import { whilePending } from '../plugin/pending.js';

export interface DnsAnswer {
  addresses?: string[];
  /** c-ares error code: ETIMEOUT, ENOTFOUND, ESERVFAIL, ECONNREFUSED... */
  error?: string;
  ms: number;
}

/**
 * One A query to one server ('ip:port' or '[ip6]:port'), bounded by our own
 * timer: c-ares stretches its own timeout (up to twice it, measured), and the
 * run's signal cancels it at the check's deadline.
 */
export function resolveA(server: string, name: string, timeoutMs: number, signal: AbortSignal, log?: Logger): Promise<DnsAnswer> {
  return whilePending(signal, `DNS ${name} via ${server}`, async () => {
    const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
    resolver.setServers([server]);
    const cancel = () => resolver.cancel();
    signal.addEventListener('abort', cancel, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const expiry = new Promise<never>((_, reject) => {
      timer = setTimeout(() => { cancel(); reject(Object.assign(new Error('DNS timeout'), { code: 'ETIMEOUT' })); }, timeoutMs);
    });
    const started = performance.now();
    const answer: DnsAnswer = { ms: 0 };
    try {
      answer.addresses = await Promise.race([resolver.resolve4(name), expiry]);
    } catch (e) {
      answer.error = (e as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
    } finally {
      answer.ms = performance.now() - started;
      clearTimeout(timer);
      signal.removeEventListener('abort', cancel);
    }
    log?.(2, `DNS ${name} via ${server}: ${answer.addresses?.join(',') ?? answer.error} in ${answer.ms.toFixed(1)} ms`);
    return answer;
  });
}

/** --dns-server: an IP address, optionally with :PORT (IPv6 as [addr]:PORT); 'host:port' as resolveA takes it. */
export function parseDnsServer(v: string): string {
  let host = v;
  let port = '53';
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(v);
  const v4 = /^([^:]+):(\d+)$/.exec(v);
  if (v6) { host = v6[1]!; port = v6[2] ?? '53'; }
  else if (v4) { host = v4[1]!; port = v4[2]!; }
  const p = Number(port);
  if (!isIP(host) || !Number.isInteger(p) || p < 1 || p > 65535) {
    throw new UsageError(`invalid --dns-server '${v}': give an IP address, optionally with :PORT (IPv6 as [addr]:PORT)`);
  }
  return isIP(host) === 6 ? `[${host}]:${p}` : `${host}:${p}`;
}

/** A c-ares error code as an operator reads it. */
export function dnsFailureText(code: string | undefined, timeoutMs: number): string {
  switch (code) {
    case 'ETIMEOUT': return `no answer within ${timeoutMs % 1000 ? `${Math.round(timeoutMs)}ms` : formatDuration(timeoutMs / 1000)}`;
    case 'ENOTFOUND': return 'NXDOMAIN: the name does not exist (is the kubernetes plugin serving this zone?)';
    case 'ENODATA': return 'no A record in the answer';
    case 'ESERVFAIL': return 'SERVFAIL: CoreDNS could not answer (API server or upstream trouble?)';
    case 'EREFUSED': return 'REFUSED';
    case 'ECONNREFUSED': return 'connection refused: nothing listening';
    case 'ECANCELLED': return 'cancelled by the check timeout';
    default: return `failed (${code ?? 'unknown error'})`;
  }
}
