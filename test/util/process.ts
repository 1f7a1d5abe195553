// Process liveness for tests that kill or watch child processes.
import { readFileSync } from 'node:fs';

/**
 * Whether `pid` is a live process. A zombie counts as dead: an orphan re-parented to PID 1 stays a
 * zombie until PID 1 reaps it, which some container inits never do, and `kill(pid, 0)` succeeds on it.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/PID/stat: "pid (comm) state …"; the comm may contain spaces or parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // No /proc (not Linux): trust kill(pid, 0).
  }
}
