import { readdirSync, readFileSync } from 'node:fs';

/**
 * The pid of this process's child named `comm` (as in /proc/PID/stat), e.g. the influxd and
 * mosquitto that the test harnesses spawn without exposing their pids. Linux only.
 */
export function childPidByName(comm: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (name === comm && ppid === process.pid) return Number(entry);
    } catch {
      // The process ended while we were listing /proc: not the one we are looking for.
    }
  }
  return undefined;
}
