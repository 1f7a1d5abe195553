// StepBuffers: a repeated computation over ops gets its previous round's arrays back (same objects,
// zero-filled unless the op overwrites them in full, same results as fresh arrays), a changed size gets
// a new array, and the pool is active only inside run.
import { describe, expect, test } from 'vitest';
import { opArray, opArrayUninit, opInt32Array, setOpHeapSoftLimit } from '../../src/ops/buffers.js';
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

  test('opArrayUninit keeps a recycled array as it was; opArray and opInt32Array zero-fill it', () => {
    const buffers = new StepBuffers();
    buffers.reset();
    const [a, b, c] = buffers.run(() => [opArray(4), opArrayUninit(3), opInt32Array(2, true)]);
    a.set([1, 2, 3, 4]);
    b.set([5, 6, 7]);
    c.set([8, 9]);
    buffers.reset();
    const [a2, b2] = buffers.run(() => [opArrayUninit(4), opArray(3)]);
    expect(a2).toBe(a);
    expect(Array.from(a2)).toEqual([1, 2, 3, 4]); // not zero-filled: the caller overwrites it
    expect(b2).toBe(b);
    expect(Array.from(b2)).toEqual([0, 0, 0]);
    const c2 = buffers.run(() => opInt32Array(2));
    expect(c2.buffer).toBe(c.buffer);
    expect(c2.byteOffset).toBe(c.byteOffset);
    expect(Array.from(c2)).toEqual([0, 0]);
    // Outside a round every kind is a fresh zero-filled array.
    expect(Array.from(opArrayUninit(3))).toEqual([0, 0, 0]);
  });

  // Every op whose result or gradient skips the zero fill on reuse, in one step, run with one batch and
  // then with another: round 2 must equal a fresh computation on its batch bit for bit, so no stale value
  // of round 1 leaks through an array an op does not fully overwrite. Round 1's batch is large-valued so
  // a leak cannot hide in rounding. Covers conv2d (bias, padding; the stride-1 engine and im2col),
  // maxPool2d (2×2 and a general window), relu, tanh, matmul (transB, tall, batched with a broadcast
  // operand), broadcast adds and subs (expanded operands, gradients summed back), mul by a scalar, a variable used twice (the tape's gradient sum),
  // flatten and cross-entropy.
  function step(p: Record<string, Variable>, x: Variable, labels: Int32Array): Variable[] {
    const c1 = ops.relu(ops.conv2d(x, p.w1, p.b1, { padding: 1 })); // [2, 3, 6, 6]
    const c2 = ops.conv2d(c1, p.w2, p.b2, { stride: 2 }); // im2col path: [2, 4, 2, 2]
    const m1 = ops.maxPool2d(c1, { kernelSize: 2 }); // [2, 3, 3, 3]
    const m2 = ops.maxPool2d(c1, { kernelSize: 3, stride: 2 }); // general path: [2, 3, 2, 2]
    const f = ops.tanh(ops.flatten(m1, 1)); // [2, 27]
    const twice = ops.add(f, ops.mul(f, 0.5)); // f used twice: its gradients are summed
    const h = ops.add(ops.matmul(twice, p.fc, { transB: true }), p.fcb); // [2, 5]
    const side = ops.sub(ops.flatten(c2, 1), ops.flatten(m2, 1).sum(1, { keepDims: true })).sum(); // [2, 16] − [2, 1]
    const bat = ops.matmul(h.reshape([2, 1, 5]), p.bm); // batched a [2, 1, 5] · unbatched b [5, 3]: tall
    const bb = ops.matmul(p.bm2, bat.reshape([2, 3, 1])); // broadcast a [3, 3] · batched b [2, 3, 1]
    const logits = ops.add(ops.flatten(bb, 1), h.sum(1, { keepDims: true }));
    const loss = ops.add(ops.crossEntropy(logits, labels), ops.mul(side, 1e-3));
    loss.backward();
    return [loss, logits, c1, m2];
  }

  test('a reused overwrite array never leaks the previous round: round 2 equals a fresh step on its own batch', () => {
    const shapes: Record<string, number[]> = {
      w1: [3, 2, 3, 3], b1: [3], w2: [4, 3, 3, 3], b2: [4], fc: [5, 27], fcb: [5], bm: [5, 3], bm2: [3, 3],
    };
    const make = () => {
      const rng = new Rng(11);
      const out: Record<string, Variable> = {};
      for (const [k, s] of Object.entries(shapes)) out[k] = variable(randn(s, rng), { requiresGrad: true });
      return out;
    };
    const pooled = make();
    const fresh = make();
    const bigData = randn([2, 2, 6, 6], new Rng(12));
    for (let i = 0; i < bigData.size; i++) bigData.data[i] *= 1000;
    const big = variable(bigData);
    const small = variable(randn([2, 2, 6, 6], new Rng(13)));
    const labels1 = new Int32Array([2, 0]);
    const labels2 = new Int32Array([1, 2]);
    const buffers = new StepBuffers();
    buffers.reset();
    const first = buffers.run(() => step(pooled, big, labels1));
    for (const v of Object.values(pooled)) v.zeroGrad();
    buffers.reset();
    const got = buffers.run(() => step(pooled, small, labels2));
    expect(got[1].data).toBe(first[1].data); // round 2 really reused round 1's arrays
    expect(got[2].data).toBe(first[2].data);
    const expected = step(fresh, small, labels2);
    for (let i = 0; i < got.length; i++) expect(Array.from(got[i].data), `output ${i}`).toEqual(Array.from(expected[i].data));
    for (const k of Object.keys(shapes)) {
      expect(Array.from(pooled[k].grad!.data), `gradient of ${k}`).toEqual(Array.from(fresh[k].grad!.data));
    }
  });
});
