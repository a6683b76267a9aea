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

/**
 * Ask systemd for a unit's state. Never throws for "systemd cannot answer"
 * (systemd not PID 1, no D-Bus): that comes back as known: false with the
 * reason; a missing systemctl or a timeout throws the PluginError of
 * runCommand.
 */
export async function unitState(unit: string, ctx: { signal: AbortSignal; log?: Logger }): Promise<UnitState> {
  const r = await runCommand('systemctl', ['show', '-p', 'LoadState', '-p', 'ActiveState', '-p', 'SubState', '-p', 'NRestarts', '--', unit], {
    signal: ctx.signal,
    log: ctx.log,
    maxBytes: 64 * 1024,
  });
  const p = parseShow(r.stdout);
  if (r.exitCode !== 0 || !p.ActiveState) {
    const said = firstLine(r.stderr) || firstLine(r.stdout) || `exit status ${r.exitCode}`;
    return { known: false, unit, reason: `systemctl: ${said}`, noSystemd: NO_SYSTEMD.test(r.stderr) };
  }
  const restarts = Number(p.NRestarts);
  return {
    known: true,
    unit,
    load: sanitize(p.LoadState ?? '', 40),
    active: sanitize(p.ActiveState, 40),
    sub: sanitize(p.SubState ?? '', 40),
    restarts: p.NRestarts !== undefined && p.NRestarts !== '' && Number.isInteger(restarts) ? restarts : undefined,
  };
}
