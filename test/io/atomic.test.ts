// Atomic writes under faults: a full disk (a 64 kB tmpfs) and a read-only file system (the same
// tmpfs remounted read-only) give a FileWriteError naming the target and the cause, never replace
// the previous file and leave no temporary file; stale temporaries of dead writers are swept.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Checkpoint, ensureDirectory, FileWriteError, removeStaleTempFiles, saveModel, saveSafetensors, writeFileAtomic,
} from '../../src/io/index.js';
import { createLayer } from '../../src/layers/index.js';
import { Sequential } from '../../src/model/index.js';
import { Rng } from '../../src/tensor/rng.js';
import { Tensor, zeros } from '../../src/tensor/tensor.js';

const tmp = mkdtempSync(join(tmpdir(), 'tk-atomic-'));

/** Whether this process may mount a tmpfs (root in a container that allows it); tried once. */
function canMount(): boolean {
  const probe = join(tmp, 'probe');
  mkdirSync(probe);
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]).status === 0;
  if (ok) spawnSync('umount', [probe]);
  return ok;
}
const MOUNT_OK = canMount();

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A model whose file (~160 kB) does not fit in 64 kB, and one that does (~1 kB). */
const big = () => new Sequential([createLayer('dense', { units: 200 })], { inputShape: [200] });
const small = () => new Sequential([createLayer('dense', { units: 4 })], { inputShape: [3] });

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

const temporaries = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

describe.skipIf(!MOUNT_OK)(`write errors on a full and a read-only file system${MOUNT_OK ? '' : ' (skipped: cannot mount a tmpfs here; needs root and mount rights)'}`, () => {
  const disk = join(tmp, 'disk');
  beforeAll(() => {
    mkdirSync(disk);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', disk]);
  });
  afterAll(() => {
    spawnSync('umount', [disk]);
  });

  it('a full disk: FileWriteError "cannot write PATH: no space left on device (ENOSPC)"; the previous file is intact, no temporary is left', () => {
    const path = join(disk, 'model.safetensors');
    saveModel(small(), path);
    const before = readFileSync(path);
    const err = thrown(() => saveModel(big(), path));
    expect(err).toBeInstanceOf(FileWriteError);
    expect(err.message).toBe(`cannot write ${path}: no space left on device (ENOSPC)`);
    expect((err as FileWriteError).code).toBe('ENOSPC');
    expect((err as FileWriteError).path).toBe(path);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(temporaries(disk)).toEqual([]);
    // The same through saveSafetensors and a Checkpoint inside fit.
    const st = join(disk, 'w.safetensors');
    expect(() => saveSafetensors(st, { w: zeros([100_000]) })).toThrow(`cannot write ${st}: no space left on device (ENOSPC)`);
    expect(existsSync(st)).toBe(false);
  });

  it('fit with a Checkpoint on a full disk rejects with the FileWriteError of the checkpoint file', async () => {
    const dir = join(disk, 'ckpt');
    const model = big();
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const rng = new Rng(1);
    const x = new Tensor(Float32Array.from({ length: 4 * 200 }, () => rng.normal()), [4, 200]);
    const y = new Tensor(new Float32Array(4 * 200), [4, 200]);
    const run = model.fit(x, y, { epochs: 1, batchSize: 4, callbacks: [new Checkpoint(model, { dir })] });
    await expect(run).rejects.toThrow(FileWriteError);
    await expect(model.fit(x, y, { epochs: 1, batchSize: 4, callbacks: [new Checkpoint(model, { dir })] }))
      .rejects.toThrow(`cannot write ${join(dir, 'best.safetensors')}: no space left on device (ENOSPC)`); // best is written first
    expect(temporaries(dir)).toEqual([]);
    rmSync(dir, { recursive: true });
  });

  it('a read-only file system: EROFS for a file, and for a folder a Checkpoint must create (not the ENOENT a recursive mkdir reports)', () => {
    const path = join(disk, 'keep.safetensors');
    saveModel(small(), path);
    const before = readFileSync(path);
    execFileSync('mount', ['-o', 'remount,ro', disk]);
    try {
      const err = thrown(() => saveModel(small(), path));
      expect(err).toBeInstanceOf(FileWriteError);
      expect(err.message).toBe(`cannot write ${path}: read-only file system (EROFS)`);
      expect(readFileSync(path).equals(before)).toBe(true);
      const sub = join(disk, 'runs', 'a');
      const ck = new Checkpoint(small(), { dir: sub });
      expect(() => ck.onTrainBegin()).toThrow(`cannot create folder ${sub}: read-only file system (EROFS)`);
      expect(() => ensureDirectory(sub)).toThrow(FileWriteError);
      expect(() => writeFileAtomic(join(disk, 'x.bin'), new Uint8Array(4))).toThrow(/x\.bin: read-only file system \(EROFS\)/);
    } finally {
      execFileSync('mount', ['-o', 'remount,rw', disk]);
    }
    expect(temporaries(disk)).toEqual([]);
  });
});

describe('write errors anywhere', () => {
  it('a missing folder says so and names the file', () => {
    const path = join(tmp, 'no-such-dir', 'm.safetensors');
    const err = thrown(() => saveModel(small(), path));
    expect(err).toBeInstanceOf(FileWriteError);
    expect(err.message).toBe(`cannot write ${path}: its folder does not exist (ENOENT)`);
  });

  it('a target that is a folder is refused and the folder is left alone', () => {
    const dir = join(tmp, 'a-folder');
    mkdirSync(dir);
    const err = thrown(() => writeFileAtomic(dir, new Uint8Array([1])));
    expect(err).toBeInstanceOf(FileWriteError);
    expect(err.message).toMatch(new RegExp(`^cannot write ${dir}: `));
    expect(temporaries(tmp)).toEqual([]);
  });
});

describe('removeStaleTempFiles', () => {
  it('removes the temporaries of dead writers only (not of running processes, nor of other names when filtered)', () => {
    const dir = mkdtempSync(join(tmp, 'stale-'));
    // A pid that has exited: a child we ran to completion.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
    const files = [
      `.last.safetensors.${dead}.0.tmp`,
      `.epoch-0003.safetensors.${dead}.7.tmp`,
      `.last.safetensors.${process.pid}.2.tmp`, // this process: possibly a write in progress
      `.last.safetensors.1.0.tmp`, // pid 1 is running
      `.notes.txt.${dead}.0.tmp`,
      'last.safetensors',
    ];
    for (const f of files) writeFileSync(join(dir, f), 'x');
    const removed = removeStaleTempFiles(dir, (name) => name.endsWith('.safetensors'));
    expect(removed.sort()).toEqual([`.epoch-0003.safetensors.${dead}.7.tmp`, `.last.safetensors.${dead}.0.tmp`]);
    expect(readdirSync(dir).sort()).toEqual([`.last.safetensors.${process.pid}.2.tmp`, '.last.safetensors.1.0.tmp', `.notes.txt.${dead}.0.tmp`, 'last.safetensors'].sort());
    expect(removeStaleTempFiles(dir)).toEqual([`.notes.txt.${dead}.0.tmp`]);
    expect(removeStaleTempFiles(join(dir, 'missing'))).toEqual([]);
  });
});
