// processes.ts: what the experiment stores learn about other processes on this host from /proc (Linux):
// a process's state and start time (to tell a live owner from a reused pid or a zombie), and ending a
// leftover trial process identified by its arguments. Without /proc these report nothing and end nothing.
import { readFileSync } from 'node:fs';

/** Process `pid`'s state letter (`R`, `S`, `Z`, …) and start time in clock ticks since boot (field 22 of /proc/PID/stat), or null (no such process, or no /proc). */
export function procStat(pid: number | 'self'): { readonly state: string; readonly start: string | undefined } | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // "pid (comm) state ppid …": the comm may hold spaces and parentheses, so split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0], start: fields[19] };
}

/**
 * Sends SIGKILL to process `pid` if its command line (/proc/PID/cmdline) satisfies `matches`: how a sweep
 * ends a trial process an interrupted run left behind, without ever killing an unrelated process that
 * reuses the pid. Does nothing when the process is gone, exits in between, or there is no /proc.
 */
export function killIfArgs(pid: number, matches: (args: readonly string[]) => boolean): void {
  let args: string[];
  try {
    args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return;
  }
  if (!matches(args)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // It exited in between.
  }
}
