import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeIdx, decodeIdxAsync, IdxFormatError } from '../../src/data/idx.js';
import { readIdx } from '../../src/data/idx-file.js';
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

/** Reads files in a child process (test/io/reader-child.ts); returns each result line with the peak RSS so far. */
async function readIdxInChild(paths: string[]): Promise<{ error: string | null; message?: string; peakRssMb: number }[]> {
  const child = new URL('../io/reader-child.ts', import.meta.url).pathname;
  const proc = spawn(process.execPath, ['--import', 'tsx', child, ...paths.flatMap((p) => ['idx', p])], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
  const code = await new Promise<number | null>((resolve) => proc.on('exit', (c) => resolve(c)));
  expect(code).toBe(0);
  return out.trim().split('\n').map((line) => JSON.parse(line));
}

describe('readIdx on gzip bombs and hostile gzip streams', () => {
  const MB = 2 ** 20;
  const zeroMember = gzipSync(new Uint8Array(MB)); // about 1 kB that inflates to 1 MiB
  const emptyMembers = (n: number) => Buffer.concat(Array.from({ length: n }, () => gzipSync(new Uint8Array(0))));

  it('in a child process: a 1 MB bomb (1000 members of 1 MiB of zeros after a 10-byte IDX) and one behind 100 empty members are refused within 300 MB peak RSS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tk-idx-bomb-'));
    const head = gzipSync(idx(0x08, [10], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
    const bomb = Buffer.concat([head, ...Array.from({ length: 1000 }, () => zeroMember)]);
    expect(bomb.length).toBeLessThan(2 * MB);
    // The header sits behind 2 kB of empty gzip members, and the data right after it inflates past
    // the probe cap: the header is found by bisecting the compressed prefix.
    const hidden = Buffer.concat([emptyMembers(100), gzipSync(Buffer.concat([idx(0x08, [4], [1, 2, 3, 4]), new Uint8Array(64 * MB)]))]);
    writeFileSync(join(dir, 'bomb.idx.gz'), bomb);
    writeFileSync(join(dir, 'hidden.idx.gz'), hidden);
    const [a, b] = await readIdxInChild([join(dir, 'bomb.idx.gz'), join(dir, 'hidden.idx.gz')]);
    expect(a.error).toBe('IdxFormatError');
    expect(a.message).toMatch(/bomb\.idx\.gz: has trailing bytes: dimensions \[10\] need 18 bytes, the gzip data holds more/);
    expect(b.error).toBe('IdxFormatError');
    expect(b.message).toMatch(/hidden\.idx\.gz: has trailing bytes: dimensions \[4\] need 12 bytes/);
    expect(a.peakRssMb).toBeLessThan(300);
    expect(b.peakRssMb).toBeLessThan(300);
  }, 60_000);

  it('reads a valid file whose header comes after empty gzip members or in several members', () => {
    const bytes = idx(0x08, [2, 3], [9, 8, 7, 6, 5, 4]);
    const split = Buffer.concat([emptyMembers(300), gzipSync(bytes.subarray(0, 3)), gzipSync(bytes.subarray(3, 9)), gzipSync(bytes.subarray(9))]);
    const a = readIdx(split, 'split.gz');
    expect(a.shape).toEqual([2, 3]);
    expect(Array.from(a.data)).toEqual([9, 8, 7, 6, 5, 4]);
  });

  it('refuses, naming the file: extra data beyond the declared size, garbage after the stream, a size no gzip of that length can hold', () => {
    const bytes = idx(0x08, [3], [1, 2, 3]);
    const cases: [Uint8Array, RegExp][] = [
      [gzipSync(Buffer.concat([bytes, new Uint8Array([0])])), /x\.gz: has trailing bytes: dimensions \[3\] need 11 bytes, the gzip data holds more/],
      [Buffer.concat([gzipSync(bytes), Buffer.from('garbage!')]), /x\.gz: corrupt gzip data/],
      [gzipSync(idx(0x08, [2 ** 30], [])), /x\.gz: truncated: dimensions \[1073741824\] need 1073741832 bytes, more than \d+ gzip bytes can hold/],
      [gzipSync(idx(0x0e, [2 ** 29], [])), /x\.gz: dimensions \[536870912\] are too large/],
      [gzipSync(bytes).subarray(0, 15), /x\.gz: (corrupt gzip data|file is \d+ bytes|truncated)/],
    ];
    for (const [gz, message] of cases) {
      expect(() => readIdx(gz, 'x.gz')).toThrow(IdxFormatError);
      expect(() => readIdx(gz, 'x.gz')).toThrow(message);
    }
  });
});

describe('decodeIdx and decodeIdxAsync (bytes, browser-safe)', () => {
  const MB = 2 ** 20;
  const emptyMembers = (n: number) => Buffer.concat(Array.from({ length: n }, () => gzipSync(new Uint8Array(0))));

  it('decodeIdx decodes raw bytes like readIdx and sends gzip to decodeIdxAsync', () => {
    const bytes = idx(0x0c, [2], [0xff, 0xff, 0xff, 0xfe, 0, 0, 1, 0]);
    const a = decodeIdx(bytes);
    expect(a.dtype).toBe('int32');
    expect(Array.from(a.data)).toEqual([-2, 256]);
    expect(() => decodeIdx(gzipSync(bytes), 'x.gz')).toThrow(IdxFormatError);
    expect(() => decodeIdx(gzipSync(bytes), 'x.gz')).toThrow('x.gz: is gzip-compressed: decode it with decodeIdxAsync (or readIdx in Node)');
    expect(() => decodeIdx(idx(0x08, [2, 2], [1, 2, 3]))).toThrow('<bytes>: truncated: dimensions [2, 2] need 16 bytes, file has 15');
  });

  it('decodeIdxAsync decodes raw and gzipped bytes to what readIdx gives, and refuses multi-member gzip', async () => {
    const bytes = idx(0x08, [2, 3], [9, 8, 7, 6, 5, 4]);
    for (const src of [bytes, gzipSync(bytes)]) {
      const a = await decodeIdxAsync(src);
      expect(a).toEqual(readIdx(src));
      expect(Array.from(a.data)).toEqual([9, 8, 7, 6, 5, 4]);
    }
    // Big enough to come out of the stream in several chunks.
    const big = idx(0x0d, [30000, 7], Array.from({ length: 840000 }, (_, i) => (i * 37) % 256));
    expect(await decodeIdxAsync(gzipSync(big), 'big.gz')).toEqual(readIdx(big));
    // Several gzip members: engines differ (Node 24's DecompressionStream reads one member, Node 22's
    // reads them all). Either the data is decoded whole, or what follows the first member is refused —
    // never silently dropped.
    const split = Buffer.concat([gzipSync(bytes.subarray(0, 9)), gzipSync(bytes.subarray(9))]);
    const outcome = async (src: Uint8Array, name: string): Promise<unknown> => decodeIdxAsync(src, name).then((a) => a, (e: unknown) => e);
    const splitResult = await outcome(split, 'split.gz');
    if (splitResult instanceof Error) {
      expect(splitResult).toBeInstanceOf(IdxFormatError);
      expect(splitResult.message).toMatch(/split\.gz: corrupt gzip data \(.*junk/i);
    } else {
      expect(splitResult).toEqual(readIdx(bytes));
    }
    const emptyFirst = await outcome(Buffer.concat([emptyMembers(3), gzipSync(bytes)]), 'e.gz');
    if (emptyFirst instanceof Error) expect(emptyFirst).toBeInstanceOf(IdxFormatError);
    else expect(emptyFirst).toEqual(readIdx(bytes));
  });

  it('decodeIdxAsync stops a gzip bomb at the declared size and refuses hostile streams, naming the source', async () => {
    // One member: a 10-byte IDX followed by 256 MiB of zeros (about 256 kB compressed), refused at the first
    // chunk past 18 bytes (decodeRawIdx would word it "file has N" after inflating it all).
    const bomb = gzipSync(Buffer.concat([idx(0x08, [10], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), new Uint8Array(256 * MB)]), { level: 1 });
    expect(bomb.length).toBeLessThan(2 * MB);
    await expect(decodeIdxAsync(bomb, 'bomb.gz')).rejects.toThrow('bomb.gz: has trailing bytes: dimensions [10] need 18 bytes, the gzip data holds more');
    const bytes = idx(0x08, [3], [1, 2, 3]);
    const cases: [Uint8Array, RegExp][] = [
      [gzipSync(Buffer.concat([bytes, new Uint8Array([0])])), /x\.gz: has trailing bytes: dimensions \[3\] need 11 bytes, the gzip data holds more/],
      [gzipSync(idx(0x08, [2 ** 30], [])), /x\.gz: truncated: dimensions \[1073741824\] need 1073741832 bytes, more than \d+ gzip bytes can hold/],
      [gzipSync(idx(0x0e, [2 ** 29], [])), /x\.gz: dimensions \[536870912\] are too large/],
      [gzipSync(new Uint8Array([7, 0, 8, 1, 0, 0, 0, 1, 5])), /x\.gz: bad magic/],
      [gzipSync(bytes).subarray(0, 15), /x\.gz: (corrupt gzip data|file is \d+ bytes|truncated)/],
      [new Uint8Array([0x1f, 0x8b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), /x\.gz: corrupt gzip data/],
    ];
    for (const [gz, message] of cases) {
      const err = await decodeIdxAsync(gz, 'x.gz').then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(IdxFormatError);
      expect((err as Error).message).toMatch(message);
    }
  });
});
