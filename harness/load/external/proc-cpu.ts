// CPU time of another process, from /proc/<pid>/stat (Linux). Used for external generators, whose CPU
// process.cpuUsage() cannot see.
import { readFileSync } from 'node:fs';

/** USER_HZ: /proc reports utime and stime in these ticks; it is 100 on every Linux ABI node runs on. */
const CLOCK_TICKS_PER_S = 100;

/**
 * User + system CPU seconds used so far by every thread of `pid`, or undefined when the process is gone
 * (or /proc is not there). Field 14 and 15 of proc(5); the command name in field 2 may hold spaces and
 * parentheses, so fields are counted from the last ')'.
 */
export function processCpuSeconds(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / CLOCK_TICKS_PER_S : undefined;
}
