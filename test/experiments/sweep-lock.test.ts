// The sweep folder lock: created with the owner's pid, host and start time; a live owner is refused by
// name; a dead owner's lock (or a reused pid's) is taken over; release removes only our own lock.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireSweepLock, ownerAlive, SweepLockedError } from '../../src/experiments/sweep-lock.js';

const fresh = () => mkdtempSync(join(tmpdir(), 'tk-lock-'));
/** The pid of a process that has exited (and was reaped). */
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid as number;

describe('acquireSweepLock', () => {
  it('writes the owner and removes the lock on release', () => {
    const dir = fresh();
    const lock = acquireSweepLock(dir);
    const owner = JSON.parse(readFileSync(join(dir, 'sweep.lock'), 'utf8'));
    expect(owner).toMatchObject({ pid: process.pid, host: hostname() });
    expect(Date.parse(owner.started_at)).toBeGreaterThan(0);
    expect(ownerAlive(owner)).toBe(true);
    lock.release();
    expect(existsSync(join(dir, 'sweep.lock'))).toBe(false);
  });

  it('refuses a folder held by a live process, naming pid, host and start', () => {
    const dir = fresh();
    const lock = acquireSweepLock(dir);
    let caught: unknown;
    try {
      acquireSweepLock(dir);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SweepLockedError);
    expect((caught as Error).message).toMatch(new RegExp(`sweep\\.lock is held by another sweep: pid ${process.pid} on host ${hostname()}, started \\d{4}-`));
    lock.release();
    acquireSweepLock(dir).release();
  });

  it('takes over a lock whose owner is dead, or whose pid now belongs to another process', () => {
    const dir = fresh();
    const path = join(dir, 'sweep.lock');
    writeFileSync(path, JSON.stringify({ pid: deadPid(), host: hostname(), started_at: '2026-01-01T00:00:00.000Z', proc_start: '1' }));
    const lock = acquireSweepLock(dir);
    expect(JSON.parse(readFileSync(path, 'utf8')).pid).toBe(process.pid);
    lock.release();
    // Our own pid, but another start time: a reused pid, so the lock is stale (Linux only: needs /proc).
    if (existsSync('/proc/self/stat')) {
      writeFileSync(path, JSON.stringify({ pid: process.pid, host: hostname(), started_at: '2026-01-01T00:00:00.000Z', proc_start: '12' }));
      acquireSweepLock(dir).release();
    }
    expect(existsSync(path)).toBe(false);
  });

  it('treats a lock from another host as held, and does not release a lock that is not its own', () => {
    const dir = fresh();
    const path = join(dir, 'sweep.lock');
    const other = JSON.stringify({ pid: deadPid(), host: `not-${hostname()}`, started_at: '2026-01-01T00:00:00.000Z', proc_start: null });
    writeFileSync(path, other);
    expect(() => acquireSweepLock(dir)).toThrow(/held by another sweep: pid \d+ on host not-/);
    writeFileSync(path, JSON.stringify({ pid: deadPid(), host: hostname(), started_at: 'x', proc_start: null }));
    const lock = acquireSweepLock(dir);
    writeFileSync(path, other); // Someone replaced it by hand.
    lock.release();
    expect(readFileSync(path, 'utf8')).toBe(other);
  });
});
