// The ops' shared machinery: kernels staged through the heap give the twin's bits, op outputs do not
// grow the shared heap in a synchronous loop, and broadcasting's expand / sum-back (with their
// column- and row-sum fast paths) against a naive index walk.
import { describe, expect, test } from 'vitest';
import { StepBuffers, Variable, ops } from '../../src/ops/index.js';
import { STAGE_MIN, expandTo, kernel, runKernel, sumToShape } from '../../src/ops/op-helpers.js';
import { heapFloat32, heapStats, isHeapArray } from '../../src/plugin/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { input } from '../util/op-check.js';

/** Naive sum-back: each element of g (row-major over out) added to the broadcast source index. */
function naiveSumTo(g: Float32Array, out: number[], shape: number[]): number[] {
  const acc = new Array<number>(shape.reduce((p, d) => p * d, 1)).fill(0);
  const pad = out.length - shape.length;
  for (let i = 0; i < g.length; i++) {
    let rest = i;
    let src = 0;
    let stride = 1;
    for (let d = out.length - 1; d >= 0; d--) {
      const idx = rest % out[d];
      rest = Math.floor(rest / out[d]);
      if (d >= pad) {
        const size = shape[d - pad];
        src += (size === 1 ? 0 : idx) * stride;
        stride *= size;
      }
    }
    acc[src] += g[i];
  }
  return acc;
}

describe('runKernel', () => {
  test('staged SIMD on ordinary arrays gives the same bits as the twin, for both outputs of a two-output kernel', () => {
    const k = kernel('test-two-out', ['p', 'q', 'x', 'y'], ({ x, y }, { s }) => ({ p: x.mul(y).exp(), q: x.sub(y).tanh().mul(s) }), ['s'], true);
    const n = STAGE_MIN * 3 + 5;
    const x = input([n], 1).data;
    const y = input([n], 2).data;
    const p = new Float32Array(n);
    const q = new Float32Array(n);
    heapFloat32(1); // the runtime is up
    const before = heapStats().allocations;
    runKernel(k, n, 2, p, q, x, y, 0.5);
    expect(heapStats().allocations, 'staging buffers made on first use').toBeGreaterThan(before);
    const p0 = new Float32Array(n);
    const q0 = new Float32Array(n);
    k.run(n, p0, q0, x, y, 0.5); // ordinary arrays: the twin
    expect(Array.from(p)).toEqual(Array.from(p0));
    expect(Array.from(q)).toEqual(Array.from(q0));
    expect(isHeapArray(p)).toBe(false);
    expect(isHeapArray(x)).toBe(false);
  });

  test('a synchronous training loop in a StepBuffers round leaves the shared heap where it was (zeroGrad recycles .grad)', () => {
    const x = new Variable(input([256, 512], 3), { requiresGrad: true });
    const b = new Variable(input([512], 4), { requiresGrad: true });
    heapFloat32(1); // the runtime is up
    const buffers = new StepBuffers();
    const loss = (): void => {
      x.zeroGrad();
      b.zeroGrad();
      buffers.reset();
      buffers.run(() => ops.sum(ops.gelu(ops.mul(ops.add(x, b), 0.5))).backward());
    };
    loss(); // staging buffers and the two gradients grow on first use
    const first = Array.from(b.grad!.data);
    const before = heapStats().arenaBytes;
    for (let i = 0; i < 40; i++) loss();
    // 40 steps × ~8 arrays of 512 KiB would be 160 MiB if an op allocated outside the round's
    // arrays, and 20 MiB if zeroGrad dropped x's gradient block each step.
    expect(heapStats().arenaBytes - before).toBeLessThan(1 << 20);
    // The recycled gradient buffer holds this step's gradient, not a sum with the last one.
    expect(Array.from(b.grad!.data)).toEqual(first);
  });
});

describe('broadcast expand and sum-back', () => {
  const cases: [number[], number[]][] = [
    [[4, 3], [3]], [[4, 3], [1, 3]], [[2, 4, 3], [3]], [[2, 4, 3], [4, 1]], [[4, 3], [4, 1]], [[2, 3, 4, 5], [2, 3, 1, 1]],
    [[2, 3, 4], [2, 1, 4]], [[2, 3, 4], [1, 3, 1]], [[3, 1, 4], [1, 4]], [[2, 1, 3], [2, 1, 1]], [[5, 2], [1]],
  ];
  for (const [out, shape] of cases) {
    test(`[${shape.join(', ')}] ↔ [${out.join(', ')}]`, () => {
      const g = input(out, 5).data;
      const summed = sumToShape(g, out, shape);
      const expected = naiveSumTo(g, out, shape);
      expect(summed.length).toBe(expected.length);
      for (let i = 0; i < expected.length; i++) expect(Math.abs(summed[i] - expected[i])).toBeLessThan(1e-5);
      // expand is sum-back's adjoint: ⟨expand(s), g⟩ = ⟨s, sumBack(g)⟩.
      const s = input(shape, 6).data;
      const e = expandTo(s, shape, out);
      let lhs = 0;
      let rhs = 0;
      for (let i = 0; i < g.length; i++) lhs += e[i] * g[i];
      for (let i = 0; i < s.length; i++) rhs += s[i] * expected[i];
      expect(Math.abs(lhs - rhs)).toBeLessThan(1e-4);
    });
  }
  test('expandTo copies a same-shape operand and fills from a single value', () => {
    const t = new Tensor(Float32Array.from([2]), [1]);
    expect(Array.from(expandTo(t.data, [1], [2, 2]))).toEqual([2, 2, 2, 2]);
  });
});
