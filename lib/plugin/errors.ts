import { State } from './state.js';

/**
 * An error that already knows which plugin state it means and carries one line
 * an operator can act on. Everything thrown inside a check that is not a
 * PluginError becomes UNKNOWN with a generic "internal error" line.
 */
export class PluginError extends Error {
  constructor(
    message: string,
    readonly state: State = State.UNKNOWN,
    /** Extra lines for long output (only shown with -v). */
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = 'PluginError';
  }
}

/** Bad command line: options, ranges, durations. Always UNKNOWN. */
export class UsageError extends PluginError {
  constructor(message: string) {
    super(message, State.UNKNOWN);
    this.name = 'UsageError';
  }
}
