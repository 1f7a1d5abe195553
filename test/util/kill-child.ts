// Runs a TypeScript child script that prints progress lines and SIGKILLs it once a reported count
// reaches a threshold: the harness of the kill-and-resume tests.
import { spawn } from 'node:child_process';

/**
 * Starts `node --import tsx script ...args` (node itself, not a wrapper script, so SIGKILL reaches the
 * process doing the work), reads its stdout line by line, and kills it with SIGKILL as soon as a line
 * matching `progress` (whose first group is a count) reports a count ≥ `killAfter`. Resolves with the
 * last count reported; rejects if the child ends by itself before it is killed.
 */
export function runUntilKilled(script: string, args: readonly string[], progress: RegExp, killAfter: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let last = -1;
    let buffer = '';
    proc.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) {
        const m = progress.exec(line);
        if (m) last = Number(m[1]);
        if (last >= killAfter && proc.exitCode === null && !proc.killed) proc.kill('SIGKILL');
      }
    });
    proc.on('error', reject);
    proc.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve(last) : reject(new Error(`child ended with code ${code} before it was killed`))));
  });
}
