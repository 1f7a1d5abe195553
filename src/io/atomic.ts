// Crash-safe file writes: write a temporary file next to the target, fsync it, rename it over the
// target, then fsync the directory. A reader sees the old file or the new one, never a torn one.
// Failures become a FileWriteError naming the target and the real cause; stale temporaries of
// killed writers can be swept away.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

let tempCounter = 0;

/** What each errno means for a write, in words (the code follows in parentheses). */
const WRITE_CAUSES: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for the file system',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted (read-only or immutable directory?)',
  ENOENT: 'its folder does not exist',
  ENOTDIR: 'a component of the path is not a directory',
  EISDIR: 'the path is a directory',
  ENAMETOOLONG: 'the path is too long',
  EMFILE: 'too many open files in this process',
  ENFILE: 'too many open files in the system',
  EIO: 'input/output error',
  EEXIST: 'a file is in the way',
  EBUSY: 'the file is busy',
  EXDEV: 'the temporary file and the target are on different file systems',
};

/**
 * Error thrown when a file or folder cannot be written: names the path, the cause in words and the
 * system code, e.g. `cannot write /x/model.safetensors: no space left on device (ENOSPC)`.
 * `code` is the system error code (`ENOSPC`, `EROFS`, `EACCES`, …) when there is one.
 */
export class FileWriteError extends Error {
  readonly path: string;
  readonly code: string | undefined;
  constructor(path: string, cause: unknown, action = 'write') {
    const code = (cause as NodeJS.ErrnoException | null)?.code;
    const words = code !== undefined && Object.hasOwn(WRITE_CAUSES, code) ? WRITE_CAUSES[code] : String((cause as Error | null)?.message ?? cause);
    super(`cannot ${action} ${path}: ${words}${code !== undefined ? ` (${code})` : ''}`, { cause });
    this.name = 'FileWriteError';
    this.path = path;
    this.code = code;
  }
}

/**
 * Writes `bytes` to `path` atomically. The temporary file (`.<name>.<pid>.<n>.tmp`) lives in the
 * target's directory so the rename never crosses a filesystem; it is removed if the write fails.
 * After a crash at any point, `path` holds either its previous content or the complete new content.
 * Any failure (full disk, read-only or missing directory, …) throws a {@link FileWriteError}
 * naming `path`, and leaves a previous file at `path` as it was.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${tempCounter++}.tmp`);
  let fd: number;
  try {
    fd = openSync(temp, 'wx', 0o644);
  } catch (err) {
    throw new FileWriteError(path, err);
  }
  let renamed = false;
  try {
    try {
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
    renamed = true;
    fsyncDirectory(dir);
  } catch (err) {
    throw err instanceof FileWriteError ? err : new FileWriteError(path, err);
  } finally {
    if (!renamed) {
      try {
        unlinkSync(temp);
      } catch {
        // The temporary file is already gone (or the directory refuses even that); nothing more to do.
      }
    }
  }
}

/**
 * Creates `dir` (and missing parents) or throws a {@link FileWriteError} with the real cause: a
 * recursive mkdir reports ENOENT on a read-only file system, so the first missing level is retried
 * alone to learn why it cannot be made.
 */
export function ensureDirectory(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    return;
  } catch (err) {
    let missing = resolve(dir);
    while (!existsSync(dirname(missing)) && dirname(missing) !== missing) missing = dirname(missing);
    try {
      mkdirSync(missing);
      mkdirSync(dir, { recursive: true });
    } catch (inner) {
      throw new FileWriteError(dir, inner, 'create folder');
    }
    if (!existsSync(dir)) throw new FileWriteError(dir, err, 'create folder');
  }
}

/** Matches the temporary files of {@link writeFileAtomic}: `.<name>.<pid>.<n>.tmp`. */
const TEMP_FILE = /^\.(.+)\.(\d+)\.(\d+)\.tmp$/;

/**
 * Removes temporary files that {@link writeFileAtomic} left in `dir` when its process was killed
 * mid-write: those whose pid is not a running process (never this process's own). With `names`,
 * only temporaries of those target file names are touched. Returns the removed file names.
 * Best effort: a temporary that cannot be removed is left in place.
 */
export function removeStaleTempFiles(dir: string, names?: (name: string) => boolean): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const entry of entries) {
    const m = TEMP_FILE.exec(entry);
    if (m === null || (names !== undefined && !names(m[1]))) continue;
    const pid = Number(m[2]);
    if (pid === process.pid || isRunning(pid)) continue;
    try {
      unlinkSync(join(dir, entry));
      removed.push(entry);
    } catch {
      // Gone already, or not ours to remove.
    }
  }
  return removed;
}

/** Whether a process with this pid exists (EPERM: it exists but belongs to another user). */
function isRunning(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Makes a rename durable. Some platforms (Windows) cannot open or fsync a directory; that is not an error there. */
function fsyncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    // EISDIR / EPERM / EINVAL on platforms without directory fsync.
  } finally {
    closeSync(fd);
  }
}
