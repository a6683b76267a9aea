// Who made an object this run leaves in the cluster, in words another run can
// check: "<hostname>/<boot id>/<pid>/<process start ticks>". A later run on
// the same host (NRPE runs a node's checks on that node) tells at once
// whether the maker still runs: the same boot, and a process with that pid
// and that start time. A killed run's leftovers are then cleaned up on the
// next run instead of after an age bound. PID reuse cannot fool it: a new
// process with the same pid has another start time (/proc/PID/stat field 22).
import fs from 'node:fs';
import os from 'node:os';

/**
 * Field 22 of /proc/PID/stat (starttime, clock ticks since boot); undefined
 * when there is no such process, or it is a zombie (dead, not yet reaped).
 */
function startTicks(pid: number | 'self', proc = '/proc'): string | undefined {
  try {
    const stat = fs.readFileSync(`${proc}/${pid}/stat`, 'utf8');
    // comm (field 2) may hold spaces and parentheses: count from the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z' || rest[0] === 'X') return undefined;
    return rest[19];
  } catch {
    return undefined;
  }
}

function bootId(proc = '/proc'): string {
  try {
    return fs.readFileSync(`${proc}/sys/kernel/random/boot_id`, 'utf8').trim();
  } catch {
    return 'unknown-boot';
  }
}

/** This process, as an owner string. */
export function thisRunOwner(proc = '/proc'): string {
  return [os.hostname(), bootId(proc), process.pid, startTicks('self', proc) ?? '0'].join('/');
}

/**
 * Whether the run named by `owner` still runs: false when it ran on this
 * host in this boot and its process is gone (or is another process now);
 * undefined when this host cannot tell (another host, another boot, a
 * malformed owner): the caller falls back to an age bound.
 */
export function runAlive(owner: string | undefined, proc = '/proc'): boolean | undefined {
  const m = /^(.+)\/([^/]+)\/(\d+)\/(\d+)$/.exec(owner ?? '');
  if (!m) return undefined;
  const [, host, boot, pid, ticks] = m;
  if (host !== os.hostname()) return undefined;
  if (boot !== bootId(proc)) return false; // this host rebooted since: every process of then is gone
  return startTicks(Number(pid), proc) === ticks;
}
