// The lock file that gives one process a local sweep folder: `<dir>/sweep.lock`, created atomically
// (O_EXCL) with the owner's pid, host and process start time; a lock whose owner is gone is taken over.
import { closeSync, existsSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { procStat } from './processes.js';

/** What sweep.lock holds. */
export interface SweepLockOwner {
  readonly pid: number;
  readonly host: string;
  /** When the owner took the lock (ISO 8601). */
  readonly started_at: string;
  /** The owner's process start time in clock ticks since boot (Linux), so a reused pid is not mistaken for it; null elsewhere. */
  readonly proc_start: string | null;
}

/** A sweep folder held by another live process. */
export class SweepLockedError extends Error {
  readonly owner: SweepLockOwner;
  readonly path: string;
  constructor(path: string, owner: SweepLockOwner) {
    super(`${path} is held by another sweep: pid ${owner.pid} on host ${owner.host}, started ${owner.started_at}. Wait for it to finish, or use another folder; if that process is gone (e.g. on another host), delete ${path}`);
    this.name = 'SweepLockedError';
    this.owner = owner;
    this.path = path;
  }
}

/** Field 22 of /proc/PID/stat (the start time), `'zombie'` for a zombie, or null without /proc. */
function procStart(pid: number | 'self'): string | null {
  const stat = procStat(pid);
  if (stat === null) return null;
  return stat.state === 'Z' ? 'zombie' : stat.start ?? null;
}

/** Whether the lock's owner still runs: same host, pid alive (not a zombie), same start time when known. */
export function ownerAlive(owner: SweepLockOwner): boolean {
  if (owner.host !== hostname()) return true; // Cannot tell from here: assume it runs.
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const start = procStart(owner.pid);
  if (start === 'zombie') return false;
  return owner.proc_start === null || start === null || start === owner.proc_start;
}

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function readOwner(path: string): SweepLockOwner | null {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as SweepLockOwner;
    return typeof v.pid === 'number' && typeof v.host === 'string' ? v : null;
  } catch {
    return null;
  }
}

/** A held lock; `release` removes the file if it is still this one. */
export interface SweepLock {
  readonly path: string;
  readonly owner: SweepLockOwner;
  release(): void;
}

/**
 * Takes `<dir>/sweep.lock` (the folder must exist). If another live process holds it, throws
 * {@link SweepLockedError} naming it. A lock left by a dead process on this host (or an unreadable
 * one, e.g. empty after a crash mid-write) is taken over: it is renamed aside atomically, so of two
 * processes taking it over at once exactly one gets it.
 */
export function acquireSweepLock(dir: string): SweepLock {
  const path = join(dir, 'sweep.lock');
  const owner: SweepLockOwner = { pid: process.pid, host: hostname(), started_at: new Date().toISOString(), proc_start: procStart('self') };
  const text = `${JSON.stringify(owner)}\n`;
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      try {
        writeSync(fd, text);
      } finally {
        closeSync(fd);
      }
      return {
        path, owner,
        release() {
          try {
            if (readFileSync(path, 'utf8') === text) unlinkSync(path);
          } catch {
            // Already gone.
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let seen: string;
    try {
      seen = readFileSync(path, 'utf8');
    } catch {
      continue; // Removed in between: try again.
    }
    const holder = readOwner(path);
    // An unreadable lock younger than a few seconds is being written by a sweep starting right now.
    if (holder === null && Date.now() - mtime(path) < 5000) throw new Error(`${path} is being taken by another sweep starting in this folder; use another folder or try again`);
    if (holder !== null && ownerAlive(holder)) throw new SweepLockedError(path, holder);
    // Stale: move it aside, and put it back if what we moved was a fresh lock of another taker.
    const aside = `${path}.stale-${process.pid}`;
    try {
      renameSync(path, aside);
    } catch {
      continue;
    }
    let moved = '';
    try {
      moved = readFileSync(aside, 'utf8');
    } catch {
      // Nothing to compare.
    }
    if (moved !== seen) {
      try {
        linkSync(aside, path);
      } catch {
        // Someone else holds a lock now; ours is retried below.
      }
    }
    try {
      unlinkSync(aside);
    } catch {
      // Gone.
    }
  }
  const holder = existsSync(path) ? readOwner(path) : null;
  if (holder) throw new SweepLockedError(path, holder);
  throw new Error(`${path}: could not take the sweep lock`);
}
