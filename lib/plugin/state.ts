/** Nagios plugin states. These four exit codes are the only ones a check may return. */
export enum State {
  OK = 0,
  WARNING = 1,
  CRITICAL = 2,
  UNKNOWN = 3,
}

export const STATE_NAMES = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const;
export type StateName = (typeof STATE_NAMES)[number];

export function stateName(s: State): StateName {
  return STATE_NAMES[s] ?? 'UNKNOWN';
}

/** Parse 'ok'|'warning'|'critical'|'unknown' (any case) or 0-3. */
export function parseState(text: string): State | undefined {
  const t = text.trim().toUpperCase();
  const i = STATE_NAMES.indexOf(t as StateName);
  if (i >= 0) return i as State;
  if (/^[0-3]$/.test(t)) return Number(t) as State;
  return undefined;
}

/**
 * Severity order for "worst of": CRITICAL > WARNING > UNKNOWN > OK, as
 * monitoring-plugins' max_state_alt (lib/states.h): a known problem outranks
 * not knowing. go-check's result.WorstState orders Critical, Unknown, Warning
 * instead; docs/plugin-contract.md says why we do not.
 */
const SEVERITY: Record<State, number> = {
  [State.OK]: 0,
  [State.UNKNOWN]: 1,
  [State.WARNING]: 2,
  [State.CRITICAL]: 3,
};

export function worst(...states: State[]): State {
  let w = State.OK;
  for (const s of states) if (SEVERITY[s] > SEVERITY[w]) w = s;
  return w;
}

export function bySeverityDesc(a: State, b: State): number {
  return SEVERITY[b] - SEVERITY[a];
}
