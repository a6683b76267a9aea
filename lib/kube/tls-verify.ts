// Verification of an API server's certificate against the kubeconfig's CA,
// done here rather than by OpenSSL so the TLS context never needs a trust
// store (see the comment in kubeconfig.ts for why that saves start-up time).
// Judgement is pure functions over X509Certificate; the agent at the end is
// the edge that applies it to each new connection before any request byte.
import { X509Certificate } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';

/** A verification failure, with OpenSSL's code name so errors.ts words it like OpenSSL's own. */
export class TlsVerifyError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'TlsVerifyError';
  }
}

/** Intermediates allowed between the leaf and the anchor (OpenSSL's default depth is 100; a cluster uses 0-2). */
export const MAX_INTERMEDIATES = 8;
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const PEM = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** Every certificate in a CA file / certificate-authority-data (a bundle may hold several). Throws on none or a bad one. */
export function parseCaBundle(pem: Buffer | string): X509Certificate[] {
  const blocks = pem.toString('latin1').match(PEM) ?? [];
  if (!blocks.length) throw new TlsVerifyError('ERR_INVALID_CA', 'no PEM certificate in the certificate authority');
  return blocks.map((b) => new X509Certificate(b));
}

/** The certificates the server presented, leaf first, from getPeerCertificate(true). */
export function presentedChain(peer: tls.DetailedPeerCertificate): X509Certificate[] {
  const out: X509Certificate[] = [];
  const seen = new Set<tls.DetailedPeerCertificate>();
  for (let c: tls.DetailedPeerCertificate | undefined = peer; c?.raw && !seen.has(c); c = c.issuerCertificate) {
    seen.add(c);
    out.push(new X509Certificate(c.raw));
  }
  return out;
}

const same = (a: X509Certificate, b: X509Certificate) => a.raw.equals(b.raw);
/** child names parent as its issuer (names, key ids, keyCertSign) and parent's key signed it. */
const signedBy = (child: X509Certificate, parent: X509Certificate) => child.checkIssued(parent) && child.verify(parent.publicKey);

function checkTime(c: X509Certificate, now: number): void {
  if (now < Date.parse(c.validFrom)) throw new TlsVerifyError('CERT_NOT_YET_VALID', `certificate is not yet valid (${c.subject.replace(/\n/g, ', ')}: from ${c.validFrom})`);
  if (now > Date.parse(c.validTo)) throw new TlsVerifyError('CERT_HAS_EXPIRED', `certificate has expired (${c.subject.replace(/\n/g, ', ')}: ${c.validTo})`);
}

/**
 * A path from the leaf to one of the anchors, through presented
 * intermediates: [leaf, ...intermediates, anchor], or [leaf] when the leaf
 * itself is an anchor. Depth-first, an anchor preferred at every step;
 * undefined when there is none.
 */
export function buildPath(leaf: X509Certificate, presented: readonly X509Certificate[], anchors: readonly X509Certificate[]): X509Certificate[] | undefined {
  if (anchors.some((a) => same(a, leaf))) return [leaf];
  const walk = (path: X509Certificate[]): X509Certificate[] | undefined => {
    const tip = path[path.length - 1]!;
    const anchor = anchors.find((a) => signedBy(tip, a));
    if (anchor) return [...path, anchor];
    if (path.length > MAX_INTERMEDIATES) return undefined;
    for (const c of presented) {
      if (path.some((p) => same(p, c)) || !c.ca || !signedBy(tip, c)) continue;
      const found = walk([...path, c]);
      if (found) return found;
    }
    return undefined;
  };
  return walk([leaf]);
}

/** Why no path: OpenSSL's code for the same situation (errors.ts maps each to its TLS line). */
function noPathError(leaf: X509Certificate, presented: readonly X509Certificate[]): TlsVerifyError {
  // Follow the presented certificates by issuer name as far as they go, as OpenSSL does with untrusted ones.
  const chain = [leaf];
  for (let tip = leaf; chain.length <= presented.length;) {
    if (tip.checkIssued(tip)) break;
    const next = presented.find((c) => !chain.some((p) => same(p, c)) && tip.checkIssued(c));
    if (!next) break;
    if (!tip.verify(next.publicKey)) return new TlsVerifyError('CERT_SIGNATURE_FAILURE', 'certificate signature failure');
    if (!next.ca) return new TlsVerifyError('INVALID_CA', `invalid CA certificate (${next.subject.replace(/\n/g, ', ')} is not a CA)`);
    chain.push((tip = next));
  }
  if (chain.length > MAX_INTERMEDIATES + 1) return new TlsVerifyError('CERT_CHAIN_TOO_LONG', 'certificate chain too long');
  const top = chain[chain.length - 1]!;
  if (top.checkIssued(top) && top.verify(top.publicKey)) {
    return chain.length === 1
      ? new TlsVerifyError('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate not issued by the kubeconfig\'s certificate authority')
      : new TlsVerifyError('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain not issued by the kubeconfig\'s certificate authority');
  }
  return chain.length === 1
    ? new TlsVerifyError('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate against the kubeconfig\'s certificate authority')
    : new TlsVerifyError('UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'unable to get local issuer certificate: not issued by the kubeconfig\'s certificate authority');
}

/**
 * Judge the server's presented chain (leaf first) against the kubeconfig's
 * CA certificates and the name it was reached by; throws TlsVerifyError.
 * What OpenSSL's default client verification checks that matters here: a
 * signed path to a trusted certificate (any certificate in the CA file is an
 * anchor, as in client-go), CA:TRUE on intermediates, a depth bound, every
 * certificate within its validity by the local clock, serverAuth in the
 * leaf's extended key usage when it has one, and the host (Node's
 * checkServerIdentity: IP SANs for an IP, DNS names otherwise).
 */
export function verifyServerChain(presented: readonly X509Certificate[], anchors: readonly X509Certificate[], host: string, now = Date.now()): void {
  const leaf = presented[0];
  if (!leaf) throw new TlsVerifyError('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'the server presented no certificate');
  const path = buildPath(leaf, presented.slice(1), anchors);
  if (!path) throw noPathError(leaf, presented.slice(1));
  for (const c of path) checkTime(c, now);
  const eku = leaf.keyUsage; // Node names the extended key usage OIDs keyUsage
  if (eku && eku.length && !eku.includes(SERVER_AUTH) && !eku.includes('2.5.29.37.0')) {
    throw new TlsVerifyError('INVALID_PURPOSE', 'unsupported certificate purpose: the server certificate is not for serverAuth');
  }
  const mismatch = tls.checkServerIdentity(host, leaf.toLegacyObject());
  if (mismatch) throw new TlsVerifyError((mismatch as NodeJS.ErrnoException).code ?? 'ERR_TLS_CERT_ALTNAME_INVALID', mismatch.message);
}

type CreateCallback = (err: Error | null, socket: Duplex) => void;
type AddRequest = (req: http.ClientRequest, options: object) => void;

/**
 * An https.Agent whose new connections reach the HTTP layer only once the
 * server's certificate passed verifyServerChain: createConnection in its
 * callback form (node lib/_http_agent.js createSocket accepts a socket given
 * later), so no request byte, and no token, is written to an unverified
 * server. Keep-alive reuse of a verified socket needs no new check; TLS
 * sessions are not cached, so every new connection is a full handshake with a
 * certificate to judge (a resumed one presents none, and Node's agent would
 * keep the session of a connection we rejected, as it closes without error).
 * Connections still in their handshake count towards maxSockets, which
 * http.Agent only counts once created.
 *
 * Defined on first use: node:https must not load while the build makes the
 * startup snapshot (scripts/build.mjs).
 */
const defineVerifyingAgent = () => class VerifyingAgent extends https.Agent {
  private readonly connecting = new Set<tls.TLSSocket>();
  private readonly baseAddRequest = (https.Agent.prototype as unknown as { addRequest: AddRequest }).addRequest;
  private held: Array<[http.ClientRequest, object]> = [];

  constructor(options: https.AgentOptions, private readonly anchors: readonly X509Certificate[]) {
    super({ ...options, rejectUnauthorized: false, maxCachedSessions: 0 });
  }

  private get socketCount(): number {
    return (this as unknown as { totalSocketCount: number }).totalSocketCount ?? 0;
  }

  private hasFreeSocket(): boolean {
    return Object.values(this.freeSockets).some((l) => l?.some((s) => !s.destroyed));
  }

  private atLimit(): boolean {
    return this.connecting.size > 0 && !this.hasFreeSocket() && this.connecting.size + this.socketCount >= this.maxSockets;
  }

  addRequest(req: http.ClientRequest, options: object): void {
    if (this.atLimit()) this.held.push([req, options]);
    else this.baseAddRequest.call(this, req, options);
  }

  private release(): void {
    while (this.held.length && !this.atLimit()) {
      const [req, options] = this.held.shift()!;
      if (!req.destroyed) this.baseAddRequest.call(this, req, options);
    }
  }

  override createConnection(options: http.RequestOptions & { servername?: string }, cb?: CreateCallback): undefined {
    if (!cb) throw new Error('VerifyingAgent.createConnection needs the callback form (http.Agent passes it)');
    // https.Agent's own: tls.connect plus its TLS session cache.
    const socket = (https.Agent.prototype as unknown as { createConnection(o: object): tls.TLSSocket }).createConnection.call(this, options);
    this.connecting.add(socket);
    let settled = false;
    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      socket.off('secureConnect', onSecure).off('error', settle).off('close', onClose);
      this.connecting.delete(socket);
      if (err) {
        socket.destroy();
        cb(err, undefined as unknown as Duplex);
      } else cb(null, socket);
      this.release();
    };
    const onSecure = () => {
      try {
        // Not getPeerX509Certificate() first: on Node 20.20, getPeerCertificate(true) then returns {}.
        verifyServerChain(presentedChain(socket.getPeerCertificate(true)), this.anchors, options.servername || options.host || 'localhost');
        settle();
      } catch (e) {
        settle(e as Error);
      }
    };
    const onClose = () => settle(Object.assign(new Error('socket closed during the TLS handshake'), { code: 'ECONNRESET' }));
    socket.once('secureConnect', onSecure).once('error', settle).once('close', onClose);
    return undefined;
  }

  override destroy(): void {
    for (const s of this.connecting) s.destroy();
    for (const [req] of this.held.splice(0)) req.destroy();
    super.destroy();
  }
};

let verifyingAgentClass: ReturnType<typeof defineVerifyingAgent> | undefined;

export function verifyingAgent(options: https.AgentOptions, anchors: readonly X509Certificate[]): https.Agent {
  verifyingAgentClass ??= defineVerifyingAgent();
  return new verifyingAgentClass(options, anchors);
}
