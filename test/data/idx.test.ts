import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { IdxFormatError, readIdx } from '../../src/data/idx.js';
import { loadFashionMnist, loadMnist } from '../../src/data/datasets.js';

/** Builds an IDX byte array: magic 0 0 type rank, big-endian u32 dims, payload. */
function idx(type: number, dims: number[], payload: number[]): Uint8Array {
  const head = new Uint8Array(4 + 4 * dims.length);
  head[2] = type;
  head[3] = dims.length;
  const dv = new DataView(head.buffer);
  dims.forEach((d, i) => dv.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  out.set(payload, head.length);
  return out;
}

describe('readIdx', () => {
  it('decodes a hand-made uint8 file, raw and gzipped', () => {
    const bytes = idx(0x08, [2, 3], [0, 1, 2, 253, 254, 255]);
    for (const src of [bytes, gzipSync(bytes)]) {
      const a = readIdx(src);
      expect(a.dtype).toBe('uint8');
      expect(a.shape).toEqual([2, 3]);
      expect(Array.from(a.data)).toEqual([0, 1, 2, 253, 254, 255]);
    }
  });

  it('decodes big-endian int32 and float32 payloads', () => {
    // int32 -2 = ff ff ff fe; float32 1.5 = 3f c0 00 00
    expect(Array.from(readIdx(idx(0x0c, [1], [0xff, 0xff, 0xff, 0xfe])).data)).toEqual([-2]);
    expect(Array.from(readIdx(idx(0x0d, [1], [0x3f, 0xc0, 0, 0])).data)).toEqual([1.5]);
  });

  it('rejects a bad magic, unknown type, truncation, trailing bytes and corrupt gzip with the file named', () => {
    const good = idx(0x08, [2, 2], [1, 2, 3, 4]);
    const badMagic = good.slice();
    badMagic[0] = 7;
    expect(() => readIdx(badMagic, 'x.idx')).toThrow(/x\.idx: bad magic/);
    const badType = good.slice();
    badType[2] = 0x42;
    expect(() => readIdx(badType, 'x.idx')).toThrow(/unknown IDX type code 0x42/);
    expect(() => readIdx(good.subarray(0, 14), 'x.idx')).toThrow(/truncated: dimensions \[2, 2\] need 16 bytes, file has 14/);
    expect(() => readIdx(idx(0x08, [2, 2], [1, 2, 3, 4, 5]), 'x.idx')).toThrow(/trailing bytes/);
    expect(() => readIdx(good.subarray(0, 6), 'x.idx')).toThrow(/truncated header/);
    const gz = gzipSync(good);
    expect(() => readIdx(gz.subarray(0, gz.length - 6), 'x.gz')).toThrow(IdxFormatError);
    expect(() => readIdx(idx(0x08, [0xffffffff, 0xffffffff], []), 'huge')).toThrow(/too large/);
    expect(() => readIdx('/nonexistent/file.idx')).toThrow(/\/nonexistent\/file\.idx: cannot read file \(ENOENT\)/);
  });
});

describe('dataset loaders', () => {
  it('loads the vendored MNIST slice and Fashion-MNIST test set with the documented sizes and scaling', () => {
    const mnist = loadMnist();
    expect(mnist.train.images.shape).toEqual([10000, 1, 28, 28]);
    expect(mnist.test.images.shape).toEqual([10000, 1, 28, 28]);
    expect(mnist.train.labels.shape).toEqual([10000]);
    // Class counts of the vendored training slice, from packages/datasets/README.md.
    const counts = new Array(10).fill(0);
    for (const l of mnist.train.labels.data) counts[l]++;
    expect(counts).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    let min = Infinity;
    let max = -Infinity;
    for (const v of mnist.test.images.data) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(min).toBe(0);
    expect(max).toBe(1);
    const fm = loadFashionMnist({ trainLimit: 100, testLimit: 50 });
    expect(fm.train.images.shape).toEqual([100, 1, 28, 28]);
    expect(fm.test.labels.shape).toEqual([50]);
    expect(fm.classNames[9]).toBe('Ankle boot');
  });

  it('standardises with the training statistics', () => {
    const d = loadMnist({ trainLimit: 500, testLimit: 10, standardize: true });
    let s = 0;
    let sq = 0;
    for (const v of d.train.images.data) {
      s += v;
      sq += v * v;
    }
    const n = d.train.images.size;
    expect(Math.abs(s / n)).toBeLessThan(1e-4);
    expect(Math.abs(sq / n - 1)).toBeLessThan(1e-3);
  });

  it('names the file when images and labels disagree or the folder is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tk-idx-'));
    const img = idx(0x08, [2, 28, 28], new Array(2 * 784).fill(0));
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), img);
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idx(0x08, [3], [1, 2, 3]));
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), img);
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), idx(0x08, [2], [1, 2]));
    expect(() => loadMnist({ dir })).toThrow(/train-labels-idx1-ubyte: 3 labels for 2 images/);
    expect(() => loadMnist({ dir: join(dir, 'nope') })).toThrow(/does not exist/);
  });
});
