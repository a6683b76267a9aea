// The API server's serving certificate as the TLS handshake showed it, for
// checks that report on it (check_k8s_apiserver's expiry). Reading only: the
// chain was already judged by OpenSSL when the connection was made.
import type { TLSSocket } from 'node:tls';

export interface PeerCertificate {
  subject?: string;
  issuer?: string;
  /** epoch ms */
  validTo?: number;
}

export function peerCertificate(sock: TLSSocket | undefined): PeerCertificate | undefined {
  const c = sock?.getPeerCertificate?.();
  if (!c || !Object.keys(c).length) return undefined;
  const validTo = Date.parse(c.valid_to);
  const cn = (x: unknown) => { const v = (x as Record<string, unknown> | undefined)?.CN; return Array.isArray(v) ? String(v[0]) : v === undefined ? undefined : String(v); };
  return { subject: cn(c.subject), issuer: cn(c.issuer), validTo: Number.isNaN(validTo) ? undefined : validTo };
}
