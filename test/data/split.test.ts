import { describe, expect, it } from 'vitest';
import { classIds, gatherRows, shuffleRows, trainValSplit } from '../../src/data/split.js';
import { Rng } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';

/** x[i] = [i, 10i] so every row names its origin; y[i] = class of row i. */
function dataset(labels: number[]): { x: Tensor; y: Tensor } {
  const n = labels.length;
  const x = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    x[2 * i] = i;
    x[2 * i + 1] = 10 * i;
  }
  return { x: new Tensor(x, [n, 2]), y: new Tensor(Float32Array.from(labels), [n]) };
}

/** 1000 rows, imbalanced classes: 500 of class 0, 300 of class 1, 150 of class 2, 50 of class 3. */
const IMBALANCED = [...Array(500).fill(0), ...Array(300).fill(1), ...Array(150).fill(2), ...Array(50).fill(3)];

describe('gatherRows / shuffleRows', () => {
  it('gathers rows in the given order and rejects out-of-range indices', () => {
    const { x } = dataset([0, 1, 2]);
    expect(Array.from(gatherRows(x, [2, 0]).data)).toEqual([2, 20, 0, 0]);
    expect(() => gatherRows(x, [3])).toThrow(/index 3 is outside 0..2/);
  });

  it('shuffles x and y in unison, deterministically per seed, leaving the inputs alone', () => {
    const { x, y } = dataset(Array.from({ length: 50 }, (_, i) => i % 7));
    const a = shuffleRows(x, y, { seed: 3 });
    const b = shuffleRows(x, y, { seed: 3 });
    const c = shuffleRows(x, y, { seed: 4 });
    expect(Array.from(a.x.data)).toEqual(Array.from(b.x.data));
    expect(Array.from(a.indices)).not.toEqual(Array.from(c.indices));
    for (let r = 0; r < 50; r++) {
      const i = a.indices[r];
      expect(a.x.data[2 * r]).toBe(i);
      expect(a.y.data[r]).toBe(i % 7);
    }
    expect(x.data[2 * 49]).toBe(49);
    expect([...a.indices].sort((p, q) => p - q)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});

describe('classIds', () => {
  it('reads class ids and the argmax of one-hot rows', () => {
    expect(Array.from(classIds(new Tensor(Float32Array.from([2, 0, 1]), [3])))).toEqual([2, 0, 1]);
    expect(Array.from(classIds(new Tensor(Float32Array.from([0, 1, 0, 1, 0, 0]), [2, 3])))).toEqual([1, 0]);
    expect(() => classIds(new Tensor(Float32Array.from([0.5]), [1]))).toThrow(/label 0.5 at row 0/);
  });
});

describe('trainValSplit', () => {
  for (const stratified of [false, true]) {
    it(`${stratified ? 'stratified' : 'plain'}: disjoint parts that cover every row once, rows kept intact`, () => {
      const { x, y } = dataset(IMBALANCED);
      const { train, val } = trainValSplit(x, y, { fraction: 0.1, seed: 7, stratified });
      expect(val.x.shape).toEqual([100, 2]);
      expect(train.x.shape).toEqual([900, 2]);
      const seen = new Set<number>();
      for (const part of [train, val]) {
        part.indices.forEach((i, r) => {
          expect(seen.has(i)).toBe(false);
          seen.add(i);
          expect(part.x.data[2 * r]).toBe(i);
          expect(part.x.data[2 * r + 1]).toBe(10 * i);
          expect(part.y.data[r]).toBe(IMBALANCED[i]);
        });
      }
      expect(seen.size).toBe(1000);
    });
  }

  it('stratified: each class keeps its share exactly (10% of 500/300/150/50 = 50/30/15/5)', () => {
    const { x, y } = dataset(IMBALANCED);
    const { train, val } = trainValSplit(x, y, { fraction: 0.1, seed: 1, stratified: true });
    const count = (t: Tensor) => [0, 1, 2, 3].map((c) => t.data.filter((v) => v === c).length);
    expect(count(val.y)).toEqual([50, 30, 15, 5]);
    expect(count(train.y)).toEqual([450, 270, 135, 45]);
  });

  it('stratified with fractional quotas: largest remainders make the total round(N·fraction)', () => {
    // 3 classes of 7 rows, fraction 0.2: quotas 1.4 each → floor 1 each, total round(4.2) = 4, so one class gets 2.
    const { x, y } = dataset([...Array(7).fill(0), ...Array(7).fill(1), ...Array(7).fill(2)]);
    const { val } = trainValSplit(x, y, { fraction: 0.2, seed: 2, stratified: true });
    expect(val.y.shape[0]).toBe(4);
    const counts = [0, 1, 2].map((c) => val.y.data.filter((v) => v === c).length).sort();
    expect(counts).toEqual([1, 1, 2]);
  });

  it('plain split on the imbalanced set drifts from the class shares that stratification keeps', () => {
    const { x, y } = dataset(IMBALANCED);
    // Not a requirement of the plain split, just evidence the two modes differ for this seed.
    const plain = trainValSplit(x, y, { fraction: 0.1, seed: 1 });
    const counts = [0, 1, 2, 3].map((c) => plain.val.y.data.filter((v) => v === c).length);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(100);
    expect(counts).not.toEqual([50, 30, 15, 5]);
  });

  it('is deterministic per seed, differs across seeds, and accepts an Rng', () => {
    const { x, y } = dataset(IMBALANCED);
    for (const stratified of [false, true]) {
      const a = trainValSplit(x, y, { fraction: 0.25, seed: 5, stratified });
      const b = trainValSplit(x, y, { fraction: 0.25, seed: 5, stratified });
      const c = trainValSplit(x, y, { fraction: 0.25, seed: 6, stratified });
      const d = trainValSplit(x, y, { fraction: 0.25, rng: new Rng(5), stratified });
      expect(Array.from(a.val.indices)).toEqual(Array.from(b.val.indices));
      expect(Array.from(a.train.indices)).toEqual(Array.from(b.train.indices));
      expect(Array.from(a.val.indices)).toEqual(Array.from(d.val.indices));
      expect(Array.from(a.val.indices)).not.toEqual(Array.from(c.val.indices));
    }
  });

  it('mixes classes in the stratified parts (not grouped by class)', () => {
    const { x, y } = dataset(IMBALANCED);
    const { val } = trainValSplit(x, y, { fraction: 0.1, seed: 3, stratified: true });
    const first10 = new Set(Array.from(val.y.data.subarray(0, 10)));
    expect(first10.size).toBeGreaterThan(1);
  });

  it('rejects bad fractions, empty parts and mismatched rows', () => {
    const { x, y } = dataset([0, 1, 0, 1]);
    expect(() => trainValSplit(x, y, { fraction: 0 })).toThrow(/fraction must be a number in \(0, 1\), got 0/);
    expect(() => trainValSplit(x, y, { fraction: 1.5 })).toThrow(/got 1.5/);
    expect(() => trainValSplit(x, y, { fraction: 0.01 })).toThrow(/leaves an empty part/);
    expect(() => trainValSplit(x, new Tensor(new Float32Array(3), [3]), { fraction: 0.5 })).toThrow(/same number of rows/);
    expect(() => trainValSplit(x, y, { fraction: 0.5, seed: 1, rng: new Rng(1) })).toThrow(/rng or seed, not both/);
  });
});
