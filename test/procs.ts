// Processes as the kernel lists them, for tests that prove a check left nothing running.
import fs from 'node:fs';

/** Live (not zombie) PIDs whose process group is `pgid` (from /proc/PID/stat, field 5). */
export function membersOf(pgid: number): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') out.push(Number(d));
    } catch { /* gone */ }
  }
  return out;
}
