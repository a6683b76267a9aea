import { Resolver } from 'node:dns/promises';
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
