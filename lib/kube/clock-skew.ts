// The API server's clock against ours, from the Date headers of its
// responses: ages are judged on the server's clock, so a monitoring host whose
// clock is off by minutes gives the same verdicts.

/** A Date header has 1 s resolution: a smaller skew cannot be told from rounding. */
const SKEW_NOISE_MS = 2000;

export class ClockSkew {
  /** Server clock minus local clock (ms), from the best-timed response; undefined before one. */
  skewMs: number | undefined;
  private bestRoundTrip = Infinity;

  /** One response: its Date (whole seconds, so +0.5 s) against the local midpoint of the request. */
  note(date: string | undefined, sent: number, received: number): void {
    const server = date ? Date.parse(date) : NaN;
    if (!Number.isFinite(server)) return;
    const roundTrip = received - sent;
    if (roundTrip > this.bestRoundTrip) return;
    this.bestRoundTrip = roundTrip;
    this.skewMs = Math.round(server + 500 - (sent + received) / 2);
  }

  /** The skew worth acting on: 0 while it is within what a 1 s Date header can tell. */
  get significantMs(): number {
    const s = this.skewMs ?? 0;
    return Math.abs(s) > SKEW_NOISE_MS ? s : 0;
  }
}
