// Text that came from the cluster (names, event messages, holder identities)
// must never break the plugin protocol: '|' starts perfdata, a newline starts
// long output, and escape sequences garble the operator's terminal.
// Bidirectional controls (U+202E...) and other invisible format characters
// would let a name display as something it is not, so they go too.

const ANSI = /\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])/g;
const CONTROL = /[\x00-\x1f\x7f-\x9f\u2028\u2029]+/g;
/** Bidi controls (U+061C, U+200E/F, U+202A-E, U+2066-9) and other zero-width format characters. */
const INVISIBLE = /[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g;

/**
 * Credentials this process holds (bearer token, basic-auth password, client
 * key material), registered by the kubeconfig loader. Any server or command
 * text passes through sanitize() before output, so it is redacted there:
 * a proxy that echoes request headers never gets the token printed.
 */
const secrets = new Set<string>();
/** Shorter values would redact ordinary words. */
const MIN_SECRET = 6;

export function registerSecret(value: string | undefined): void {
  if (value && value.length >= MIN_SECRET) secrets.add(value);
}

export function redactSecrets(text: string): string {
  let s = text;
  for (const secret of secrets) if (s.includes(secret)) s = s.split(secret).join('[redacted]');
  return s;
}

/** One safe line: no secrets, no ANSI, no control or bidi characters, no '|', bounded length. */
export function sanitize(text: unknown, max = 200): string {
  let s = redactSecrets(String(text ?? ''))
    .replace(ANSI, '')
    .replace(CONTROL, ' ')
    .replace(INVISIBLE, '')
    .replace(/\|/g, '/')
    .replace(/ {2,}/g, ' ')
    .trim();
  return clipWords(s, max);
}

/**
 * Shorten to `max` characters at a word boundary, never inside a name: back to
 * the last space (or ',' ';') in the second half, '...' after it. A single
 * word longer than half the room is cut where it must be.
 */
export function clipWords(s: string, max: number): string {
  if (s.length <= max) return s;
  const room = Math.max(0, max - 4);
  const head = s.slice(0, room + 1);
  const at = Math.max(head.lastIndexOf(' '), head.lastIndexOf(','), head.lastIndexOf(';'));
  if (at > room / 2) return `${s.slice(0, at).replace(/[\s,;:]+$/, '')} ...`;
  return `${s.slice(0, Math.max(0, max - 3))}...`;
}
