// The state of a systemd unit on this host, from `systemctl show`, for
// node-local checks that judge a daemon (k8s-dqlite, kubelite, containerd).
import type { Logger } from '../plugin/log.js';
import { sanitize } from '../plugin/sanitize.js';
import { firstLine, runCommand } from './command.js';

/** A unit name as systemd accepts it; never starts with '-' (it would read as an option). */
export const UNIT_NAME = /^[A-Za-z0-9:_.@\\][A-Za-z0-9:_.@\\-]*$/;

export type UnitState =
  | {
      known: true;
      unit: string;
      /** loaded, not-found, masked, bad-setting, error */
      load: string;
      /** active, reloading, inactive, failed, activating, deactivating, maintenance */
      active: string;
      /** running, exited, dead, failed, auto-restart, start-pre, ... */
      sub: string;
      /** Automatic restarts since the unit was loaded (systemd >= 235). */
      restarts?: number;
      /** Seconds since it last became active (while active). */
      activeForS?: number;
    }
  | {
      known: false;
      unit: string;
      /** Why systemd could not be asked, one line. */
      reason: string;
      /** True when there is no systemd to ask (a container, a chroot). */
      noSystemd: boolean;
    };

/** Parse `systemctl show -p A -p B` output: Key=Value lines. */
export function parseShow(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1).trim();
  }
  return out;
}

const NO_SYSTEMD = /not been booted with systemd|Failed to connect to bus|Failed to get D-Bus connection|Host is down|No such file or directory/i;

/** The properties asked for, one `-p` each. */
const PROPS = ['Id', 'LoadState', 'ActiveState', 'SubState', 'NRestarts', 'ActiveEnterTimestampMonotonic'];

/**
 * `systemctl show` for several units at once prints one block per unit, in
 * the order asked, separated by a blank line. Each block becomes the unit's
 * state; `monotonicNowUs` (CLOCK_MONOTONIC, as systemd's *Monotonic
 * properties) turns ActiveEnterTimestampMonotonic into how long it has run.
 */
export function parseShowUnits(text: string, units: readonly string[], monotonicNowUs?: number): UnitState[] {
  const blocks = text.split(/\n\s*\n/).map(parseShow).filter((b) => Object.keys(b).length);
  return units.map((unit, i) => {
    const p = blocks[i];
    if (!p?.ActiveState) return { known: false, unit, reason: 'systemctl show printed no state for it', noSystemd: false };
    const restarts = Number(p.NRestarts);
    const entered = Number(p.ActiveEnterTimestampMonotonic);
    return {
      known: true,
      unit,
      load: sanitize(p.LoadState ?? '', 40),
      active: sanitize(p.ActiveState, 40),
      sub: sanitize(p.SubState ?? '', 40),
      restarts: p.NRestarts !== undefined && p.NRestarts !== '' && Number.isInteger(restarts) ? restarts : undefined,
      // 0 means never entered active (systemd's "n/a").
      activeForS: monotonicNowUs !== undefined && entered > 0 && p.ActiveState === 'active' ? Math.max(0, Math.round((monotonicNowUs - entered) / 1e6)) : undefined,
    };
  });
}

/** CLOCK_MONOTONIC in microseconds: Node's hrtime is that clock on Linux (libuv uv_hrtime). */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/**
 * Ask systemd for the state of units, one `systemctl show` for all. Never
 * throws for "systemd cannot answer" (systemd not PID 1, no D-Bus): every
 * unit comes back known: false with the reason; a missing systemctl or a
 * timeout throws the PluginError of runCommand. `systemctl` names another
 * binary (a test's, or one outside PATH).
 */
export async function unitStates(units: readonly string[], ctx: { signal: AbortSignal; log?: Logger; systemctl?: string }): Promise<UnitState[]> {
  const r = await runCommand(ctx.systemctl ?? 'systemctl', ['show', ...PROPS.flatMap((p) => ['-p', p]), '--', ...units], {
    signal: ctx.signal,
    log: ctx.log,
    maxBytes: 64 * 1024,
  });
  if (r.exitCode !== 0 || !/^ActiveState=/m.test(r.stdout)) {
    const said = firstLine(r.stderr) || firstLine(r.stdout) || `exit status ${r.exitCode}`;
    return units.map((unit) => ({ known: false, unit, reason: `systemctl: ${said}`, noSystemd: NO_SYSTEMD.test(r.stderr) }));
  }
  return parseShowUnits(r.stdout, units, monotonicUs());
}

/** One unit's state (unitStates for one). */
export async function unitState(unit: string, ctx: { signal: AbortSignal; log?: Logger }): Promise<UnitState> {
  return (await unitStates([unit], ctx))[0]!;
}
