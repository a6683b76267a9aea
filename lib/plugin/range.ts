import { UsageError } from './errors.js';

/**
 * A threshold range in the Monitoring Plugins syntax
 * (https://www.monitoring-plugins.org/doc/guidelines.html#THRESHOLDFORMAT):
 *
 *   10      alert if x < 0 or x > 10
 *   10:     alert if x < 10
 *   ~:10    alert if x > 10
 *   10:20   alert if x < 10 or x > 20
 *   @10:20  alert if 10 <= x <= 20
 *
 * Endpoints are inclusive (they do not alert unless inverted).
 */
export class Range {
  constructor(
    readonly start: number,
    readonly end: number,
    readonly inside: boolean,
    /** The text as given, so perfdata repeats what the operator wrote. */
    readonly text: string,
    /** The option it came from ('-c', '--pressure-critical'), for "outside -c 0" hints. */
    readonly flag?: string,
  ) {}

  /** True when the value is outside the range (or inside, with '@'). */
  alerts(value: number): boolean {
    const within = value >= this.start && value <= this.end;
    return this.inside ? within : !within;
  }

  toString(): string {
    return this.text;
  }

  /** Why a value alerts, as nagiosplugin's violation hint: 'outside -c 0', 'inside -w @10:20'. */
  violation(): string {
    return `${this.inside ? 'inside' : 'outside'} ${this.flag ? `${this.flag} ` : ''}${this.text}`;
  }
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

function parseNumber(text: string, what: string, whole: string): number {
  if (!NUMBER.test(text)) {
    throw new UsageError(`invalid range '${whole}': ${what} '${text}' is not a number`);
  }
  return Number(text);
}

export function parseRange(input: string | number, flag?: string): Range {
  const whole = String(input).trim();
  if (whole === '') throw new UsageError('invalid range: empty');
  let rest = whole;
  let inside = false;
  if (rest.startsWith('@')) {
    inside = true;
    rest = rest.slice(1);
  }
  if (rest === '') throw new UsageError(`invalid range '${whole}': nothing after '@'`);
  let start = 0;
  let end: number;
  const colon = rest.indexOf(':');
  if (colon < 0) {
    end = parseNumber(rest, 'end', whole);
  } else {
    const s = rest.slice(0, colon);
    const e = rest.slice(colon + 1);
    if (s === '~') start = -Infinity;
    else if (s !== '') start = parseNumber(s, 'start', whole);
    end = e === '' ? Infinity : parseNumber(e, 'end', whole);
    if (s === '' && e === '') throw new UsageError(`invalid range '${whole}': no start or end`);
  }
  if (start > end) {
    throw new UsageError(`invalid range '${whole}': start ${start} is greater than end ${end}`);
  }
  return new Range(start, end, inside, whole, flag);
}
