import { describe, expect, it } from 'vitest';
import { Batcher, batches } from '../../src/data/batches.js';
import { Rng } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';

/** 10 rows: x[i] = [i, -i], y[i] = i. */
function rows(n = 10): { x: Tensor; y: Tensor } {
  const x = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    x[2 * i] = i;
    x[2 * i + 1] = -i;
  }
  return { x: new Tensor(x, [n, 2]), y: new Tensor(Float32Array.from({ length: n }, (_, i) => i), [n]) };
}

describe('batches', () => {
  it('walks the rows in order without shuffle, last batch short', () => {
    const { x, y } = rows();
    // Read each batch before asking for the next: the views are overwritten by the following batch.
    const seen = [];
    for (const b of batches(x, y, { batchSize: 4 })) seen.push({ shape: b.x.shape.slice(), y: Array.from(b.y.data), index: b.index, count: b.count });
    expect(seen).toEqual([
      { shape: [4, 2], y: [0, 1, 2, 3], index: 0, count: 3 },
      { shape: [4, 2], y: [4, 5, 6, 7], index: 1, count: 3 },
      { shape: [2, 2], y: [8, 9], index: 2, count: 3 },
    ]);
  });

  it('drops a short last batch with dropLast', () => {
    const { x, y } = rows();
    expect([...batches(x, y, { batchSize: 4, dropLast: true })].length).toBe(2);
  });

  it('shuffles per epoch from the Rng: each epoch a permutation, x and y aligned, same seed ⇒ same order', () => {
    const { x, y } = rows();
    const orders = (seed: number) => {
      const b = new Batcher(x, y, { batchSize: 3, shuffle: true, rng: new Rng(seed) });
      const out: number[][] = [];
      for (let e = 0; e < 2; e++) {
        const epoch: number[] = [];
        for (const batch of b.epoch()) {
          for (let r = 0; r < batch.y.shape[0]; r++) {
            expect(batch.x.data[2 * r]).toBe(batch.y.data[r]);
            expect(batch.x.data[2 * r + 1]).toBe(-batch.y.data[r]);
            expect(batch.indices[r]).toBe(batch.y.data[r]);
          }
          epoch.push(...batch.y.data);
        }
        out.push(epoch);
      }
      return out;
    };
    const a = orders(1);
    expect(a).toEqual(orders(1));
    expect(a[0]).not.toEqual(a[1]);
    expect(a[0]).not.toEqual(orders(2)[0]);
    for (const epoch of a) expect([...epoch].sort((p, q) => p - q)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('reuses the same buffers and tensor views for every batch of every epoch', () => {
    const { x, y } = rows();
    const b = new Batcher(x, y, { batchSize: 4, shuffle: true, rng: new Rng(0) });
    const xs = new Set<Tensor>();
    const buffers = new Set<ArrayBufferLike>();
    for (let e = 0; e < 3; e++) {
      for (const batch of b.epoch()) {
        xs.add(batch.x);
        buffers.add(batch.x.data.buffer);
      }
    }
    expect(xs.size).toBe(2); // one view for the full length 4, one for the short length 2
    expect(buffers.size).toBe(1);
  });

  it('augments image batches deterministically per augmentSeed and leaves the source untouched', () => {
    const n = 6;
    const data = new Float32Array(n * 1 * 5 * 5);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) % 11;
    const x = new Tensor(data, [n, 1, 5, 5]);
    const y = new Tensor(Float32Array.from({ length: n }, (_, i) => i), [n]);
    const before = data.slice();
    const run = (seed: number) => {
      const out: number[][] = [];
      for (const b of batches(x, y, { batchSize: 4, augmentSeed: seed, augment: { shift: 1, rotate: 10, flip: true } })) out.push(Array.from(b.x.data));
      return out;
    };
    const a = run(3);
    expect(a).toEqual(run(3));
    expect(a).not.toEqual(run(4));
    expect(a[0]).not.toEqual(Array.from(data.subarray(0, 100)));
    expect(data).toEqual(before);
  });

  it('each epoch\'s order depends only on the Rng state at beginEpoch, so a saved state replays an epoch from any batch', () => {
    const { x, y } = rows(11);
    const rng = new Rng(9);
    const b = new Batcher(x, y, { batchSize: 3, shuffle: true, rng });
    const epochs: number[][] = [];
    const states = [];
    for (let e = 0; e < 3; e++) {
      states.push(rng.getState());
      const order: number[] = [];
      for (const batch of b.epoch()) order.push(...batch.y.data);
      epochs.push(order);
    }
    expect(b.epochIndex).toBe(2);
    // Epoch 1 again, from the state saved before it, starting at batch 2 (a resume mid-epoch).
    const replay = new Batcher(x, y, { batchSize: 3, shuffle: true, rng: new Rng(0) });
    const rng2 = new Rng(0);
    rng2.setState(states[1]);
    const again = new Batcher(x, y, { batchSize: 3, shuffle: true, rng: rng2 });
    again.beginEpoch(1);
    const tail: number[] = [];
    for (let k = 2; k < again.count; k++) tail.push(...again.batch(k).y.data);
    expect(tail).toEqual(epochs[1].slice(6));
    // …and the epoch after it follows as in the uninterrupted run.
    again.beginEpoch();
    expect(again.epochIndex).toBe(2);
    expect(Array.from({ length: again.count }, (_, k) => Array.from(again.batch(k).y.data)).flat()).toEqual(epochs[2]);
    // One shuffle per epoch from the identity order: the first epoch is exactly rng.permutation(11).
    expect(epochs[0]).toEqual(Array.from(new Rng(9).permutation(11)));
    expect(() => replay.batch(0)).toThrow(/call beginEpoch\(\) before batch\(\)/);
    replay.beginEpoch();
    expect(() => replay.batch(4)).toThrow(/batch index must be an integer in \[0, 4\), got 4/);
  });

  it('augmentation of a batch depends only on (augmentSeed, epoch, batch), not on the shuffles or earlier batches', () => {
    const n = 5;
    const data = new Float32Array(n * 1 * 4 * 4);
    for (let i = 0; i < data.length; i++) data[i] = (i * 5) % 13;
    const x = new Tensor(data, [n, 1, 4, 4]);
    const y = new Tensor(Float32Array.from({ length: n }, (_, i) => i), [n]);
    const opts = { batchSize: 2, augment: { shift: 1, flip: true }, augmentSeed: 4 };
    const a = new Batcher(x, y, opts);
    a.beginEpoch(3);
    const direct = Array.from(a.batch(2).x.data);
    const b = new Batcher(x, y, opts);
    for (let e = 0; e <= 3; e++) for (const batch of b.epoch()) if (e === 3 && batch.index === 2) expect(Array.from(batch.x.data)).toEqual(direct);
    a.beginEpoch(2);
    expect(Array.from(a.batch(2).x.data)).not.toEqual(direct);
  });

  it('rejects bad options with messages naming them', () => {
    const { x, y } = rows();
    expect(() => batches(x, y, { batchSize: 0 }).next()).toThrow(/batchSize must be an integer >= 1, got 0/);
    expect(() => new Batcher(x, new Tensor(new Float32Array(3), [3]), { batchSize: 2 })).toThrow(/same number of rows/);
    expect(() => new Batcher(x, y, { batchSize: 2, augment: { shift: 1 } })).toThrow(/augmentation needs images \[N, C, H, W\]/);
    expect(() => new Batcher(x, y, { batchSize: 2, augment: { shift: 1.5 } as never })).toThrow(/shift must be an integer/);
    expect(() => new Batcher(x, y, { batchSize: 2, augmentSeed: NaN })).toThrow(/augmentSeed must be a finite number, got NaN/);
    expect(() => new Batcher(x, y, { batchSize: 2, rng: {} as never })).toThrow(/rng must be an Rng/);
    expect(() => new Batcher(x, y, { batchSize: 2 }).beginEpoch(-1)).toThrow(/epoch index must be a non-negative integer, got -1/);
  });
});
