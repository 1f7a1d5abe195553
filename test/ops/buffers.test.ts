// StepBuffers: a repeated computation over ops gets its previous round's arrays back (same objects,
// zero-filled, same results as fresh arrays), a changed size gets a new array, and the pool is active
// only inside run.
import { describe, expect, test } from 'vitest';
import { setOpHeapSoftLimit } from '../../src/ops/buffers.js';
import { StepBuffers, ops, variable, type Variable } from '../../src/ops/index.js';
import { heapStats, isHeapArray } from '../../src/runtime/heap.js';
import { Rng } from '../../src/tensor/rng.js';
import { randn } from '../../src/tensor/tensor.js';

/** One training-like round: a small MLP forward, a loss, backward; returns the loss and the arrays it made. */
function round(w1: Variable, w2: Variable, x: Variable, labels: Int32Array): { loss: number; arrays: Float32Array[] } {
  const h = ops.relu(ops.matmul(x, w1));
  const logits = ops.matmul(h, w2);
  const loss = ops.crossEntropy(logits, labels);
  loss.backward();
  return { loss: loss.item(), arrays: [h.data, logits.data] };
}

describe('StepBuffers', () => {
  const rng = new Rng(7);
  const x = variable(randn([6, 5], rng));
  const labels = new Int32Array([0, 1, 2, 0, 1, 2]);

  test('rounds after the first reuse the same arrays, with the results of fresh arrays', () => {
    const fresh1 = variable(randn([5, 4], new Rng(1)), { requiresGrad: true });
    const fresh2 = variable(randn([4, 3], new Rng(2)), { requiresGrad: true });
    const pooled1 = variable(fresh1.value, { requiresGrad: true });
    const pooled2 = variable(fresh2.value, { requiresGrad: true });
    const buffers = new StepBuffers();
    const seen: Float32Array[][] = [];
    for (let r = 0; r < 3; r++) {
      const expected = round(fresh1, fresh2, x, labels);
      buffers.reset();
      const got = buffers.run(() => round(pooled1, pooled2, x, labels));
      expect(got.loss).toBe(expected.loss);
      expect(Array.from(got.arrays[1])).toEqual(Array.from(expected.arrays[1]));
      expect(Array.from(pooled1.grad!.data)).toEqual(Array.from(fresh1.grad!.data));
      expect(Array.from(pooled2.grad!.data)).toEqual(Array.from(fresh2.grad!.data));
      seen.push(got.arrays);
    }
    // Round 2 and 3 got round 1's arrays back: the same objects.
    expect(seen[1][0]).toBe(seen[0][0]);
    expect(seen[2][1]).toBe(seen[0][1]);
    expect(buffers.size).toBeGreaterThan(2);
  });

  test('a steady loop makes no new heap blocks after its first round', () => {
    const w1 = variable(randn([5, 4], new Rng(3)), { requiresGrad: true });
    const w2 = variable(randn([4, 3], new Rng(4)), { requiresGrad: true });
    const buffers = new StepBuffers();
    const start = heapStats().allocations;
    buffers.reset();
    buffers.run(() => round(w1, w2, x, labels));
    const allocs = heapStats().allocations;
    expect(allocs).toBeGreaterThan(start); // the first round did allocate (the heap is in use)
    for (let r = 0; r < 5; r++) {
      buffers.reset();
      buffers.run(() => round(w1, w2, x, labels));
    }
    expect(heapStats().allocations).toBe(allocs);
  });

  test('a reused array comes back zero-filled; a request of another length gets a new array', () => {
    const buffers = new StepBuffers();
    buffers.reset();
    const a = buffers.run(() => ops.add(variable([1, 2, 3]), variable([1, 1, 1])).data);
    expect(Array.from(a)).toEqual([2, 3, 4]);
    buffers.reset();
    // The same slot, same length: the same array, and the op's result is right (not added to the old one).
    const b = buffers.run(() => ops.add(variable([5, 5, 5]), variable([0, 1, 2])).data);
    expect(b).toBe(a);
    expect(Array.from(b)).toEqual([5, 6, 7]);
    buffers.reset();
    const c = buffers.run(() => ops.add(variable([1, 2]), variable([3, 4])).data);
    expect(c).not.toBe(a);
    expect(Array.from(c)).toEqual([4, 6]);
  });

  test('active only inside run, and run nests', () => {
    const outer = new StepBuffers();
    const inner = new StepBuffers();
    outer.reset();
    inner.reset();
    outer.run(() => {
      ops.neg(variable([1]));
      inner.run(() => ops.neg(variable([1, 2])));
      ops.neg(variable([1, 2, 3]));
    });
    expect(outer.size).toBe(2);
    expect(inner.size).toBe(1);
    const before = outer.size;
    ops.neg(variable([4])); // outside: a fresh array, the pool is untouched
    expect(outer.size).toBe(before);
  });

  test('outside a round, results past the soft limit go to ordinary arrays (the heap stops growing), with the same values', () => {
    const a = variable(randn([64, 64], new Rng(5)));
    const inHeap = ops.exp(a);
    expect(isHeapArray(inHeap.data)).toBe(true);
    const previous = setOpHeapSoftLimit(heapStats().liveBytes); // already at the mark
    try {
      ops.exp(a); // the first result outside the heap may grow the kernels' staging buffers once
      const live = heapStats().liveBytes;
      const results: Variable[] = [];
      for (let i = 0; i < 20; i++) results.push(ops.exp(a));
      for (const r of results) expect(isHeapArray(r.data)).toBe(false);
      expect(heapStats().liveBytes).toBe(live);
      expect(Array.from(results[19].data)).toEqual(Array.from(inHeap.data));
      // Inside a round the pool still serves heap arrays.
      const buffers = new StepBuffers();
      buffers.reset();
      expect(isHeapArray(buffers.run(() => ops.exp(a)).data)).toBe(true);
    } finally {
      setOpHeapSoftLimit(previous);
    }
    expect(() => setOpHeapSoftLimit(-1)).toThrow(/bytes must be ≥ 0/);
  });
});
