// Crash-safe file writes: write a temporary file next to the target, fsync it, rename it over the
// target, then fsync the directory. A reader sees the old file or the new one, never a torn one.
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

let tempCounter = 0;

/**
 * Writes `bytes` to `path` atomically. The temporary file (`.<name>.<pid>.<n>.tmp`) lives in the
 * target's directory so the rename never crosses a filesystem; it is removed if the write fails.
 * After a crash at any point, `path` holds either its previous content or the complete new content.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${tempCounter++}.tmp`);
  const fd = openSync(temp, 'wx', 0o644);
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
  } finally {
    if (!renamed) {
      try {
        unlinkSync(temp);
      } catch {
        // The temporary file is already gone; nothing to clean up.
      }
    }
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
