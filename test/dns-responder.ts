// A tiny authoritative DNS responder on 127.0.0.1 (UDP) for tests: answers
// A queries from a table, NXDOMAIN for names it does not know, NODATA for
// other types; or stays silent, or answers SERVFAIL, to test timeouts and
// failures. The message format is RFC 1035 section 4: the encoder below is
// minimal but correct (header, the question echoed, answers that point back
// at the question name with a compression pointer).
import dgram from 'node:dgram';

export const TYPE_A = 1;
export const CLASS_IN = 1;
export const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;

export interface Question {
  name: string; // lower case, no trailing dot
  type: number;
  class: number;
}

export interface Query {
  id: number;
  flags: number;
  question: Question;
  /** Bytes of the question section as sent (echoed back verbatim). */
  questionBytes: Buffer;
}

/** A domain name as labels: 'a.b' -> 01 'a' 01 'b' 00. */
export function encodeName(name: string): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter(Boolean);
  const parts: Buffer[] = [];
  for (const l of labels) {
    const b = Buffer.from(l, 'ascii');
    if (b.length > 63) throw new Error(`label too long: ${l}`);
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** The header and first question of a query; undefined when it is not one. */
export function parseQuery(msg: Buffer): Query | undefined {
  if (msg.length < 12) return undefined;
  const id = msg.readUInt16BE(0);
  const flags = msg.readUInt16BE(2);
  if (flags & 0x8000 || msg.readUInt16BE(4) < 1) return undefined; // a response, or no question
  const labels: string[] = [];
  let off = 12;
  for (;;) {
    if (off >= msg.length) return undefined;
    const len = msg[off]!;
    if (len === 0) { off++; break; }
    if (len & 0xc0) return undefined; // no compression in a question we accept
    labels.push(msg.subarray(off + 1, off + 1 + len).toString('ascii'));
    off += 1 + len;
  }
  if (off + 4 > msg.length) return undefined;
  const question = { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(off), class: msg.readUInt16BE(off + 2) };
  return { id, flags, question, questionBytes: msg.subarray(12, off + 4) };
}

/**
 * A response to `q`: QR and AA set, opcode and RD copied, RA set, the
 * question echoed, and one A record per address (name = pointer to offset
 * 12, the question's name).
 */
export function encodeResponse(q: Query, rcode: number, addresses: string[] = [], ttl = 5): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.id, 0);
  const opcode = q.flags & 0x7800;
  const rd = q.flags & 0x0100;
  header.writeUInt16BE(0x8000 | opcode | 0x0400 | rd | 0x0080 | (rcode & 0xf), 2);
  header.writeUInt16BE(1, 4); // QDCOUNT
  header.writeUInt16BE(addresses.length, 6); // ANCOUNT
  header.writeUInt16BE(0, 8); // NSCOUNT
  header.writeUInt16BE(0, 10); // ARCOUNT
  const answers = addresses.map((ip) => {
    const octets = ip.split('.').map(Number);
    if (octets.length !== 4 || octets.some((o) => !(o >= 0 && o <= 255))) throw new Error(`not an IPv4 address: ${ip}`);
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0); // name: pointer to the question name
    rr.writeUInt16BE(TYPE_A, 2);
    rr.writeUInt16BE(CLASS_IN, 4);
    rr.writeUInt32BE(ttl, 6);
    rr.writeUInt16BE(4, 10); // RDLENGTH
    Buffer.from(octets).copy(rr, 12);
    return rr;
  });
  return Buffer.concat([header, q.questionBytes, ...answers]);
}

export interface DnsResponder {
  port: number;
  /** Questions received, in order. */
  queries: Question[];
  close(): Promise<void>;
}

export interface ResponderOptions {
  /** name (no trailing dot) -> A records */
  records?: Record<string, string[]>;
  mode?: 'answer' | 'silent' | 'servfail';
  delayMs?: number;
  /** Where to listen (default 127.0.0.1, a free port): the API double binds a Service ClusterIP's port 53 inside a network namespace. */
  host?: string;
  port?: number;
}

export async function startDnsResponder(opts: ResponderOptions = {}): Promise<DnsResponder> {
  const records = new Map(Object.entries(opts.records ?? {}).map(([k, v]) => [k.toLowerCase().replace(/\.$/, ''), v]));
  const sock = dgram.createSocket('udp4');
  const queries: Question[] = [];
  sock.on('message', (msg, rinfo) => {
    const q = parseQuery(msg);
    if (!q) return;
    queries.push(q.question);
    if (opts.mode === 'silent') return;
    let reply: Buffer;
    if (opts.mode === 'servfail') reply = encodeResponse(q, RCODE.SERVFAIL);
    else if (q.question.class !== CLASS_IN || !records.has(q.question.name)) reply = encodeResponse(q, RCODE.NXDOMAIN);
    else reply = encodeResponse(q, RCODE.NOERROR, q.question.type === TYPE_A ? records.get(q.question.name)! : []);
    const send = () => sock.send(reply, rinfo.port, rinfo.address);
    if (opts.delayMs) setTimeout(send, opts.delayMs);
    else send();
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  return {
    port: sock.address().port,
    queries,
    close: () => new Promise<void>((resolve) => sock.close(() => resolve())),
  };
}
