// Text that came from the cluster (names, event messages, holder identities)
// must never break the plugin protocol: '|' starts perfdata, a newline starts
// long output, and escape sequences garble the operator's terminal.

const ANSI = /\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])/g;
const CONTROL = /[\x00-\x1f\x7f-\x9f\u2028\u2029]+/g;

/** One safe line: no ANSI, no control characters, no '|', bounded length. */
export function sanitize(text: unknown, max = 200): string {
  let s = String(text ?? '')
    .replace(ANSI, '')
    .replace(CONTROL, ' ')
    .replace(/\|/g, '/')
    .replace(/ {2,}/g, ' ')
    .trim();
  if (s.length > max) s = s.slice(0, Math.max(0, max - 3)) + '...';
  return s;
}
