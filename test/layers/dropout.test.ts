// Dropout: inverted scaling, keep rate, eval identity, mask stream from the build rng, gradient = mask.
import { describe, expect, it } from 'vitest';
import { Dropout } from '../../src/layers/dropout.js';
import { Tensor, tensor } from '../../src/tensor/tensor.js';
import { Rng } from '../../src/tensor/rng.js';
import { testRng } from '../util/rng.js';

function onesTensor(shape: number[]): Tensor {
  return new Tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(1), shape);
}

describe('Dropout', () => {
  it('training zeroes about `rate` of the units and scales the rest by 1/(1 − rate)', () => {
    const layer = new Dropout({ rate: 0.3 });
    layer.build([1000], testRng(1));
    const y = layer.forward(onesTensor([20, 1000]), true).data;
    const scale = Math.fround(1 / 0.7);
    let kept = 0;
    let other = 0;
    let sum = 0;
    for (const v of y) {
      if (v === scale) kept++;
      else if (v !== 0) other++;
      sum += v;
    }
    expect(other, 'values that are neither 0 nor 1/(1 − rate)').toBe(0);
    // n = 20000 Bernoulli(0.7): σ of the kept fraction ≈ 0.0032, so ±0.015 is > 4σ; E[y] = 1.
    expect(kept / y.length).toBeGreaterThan(0.685);
    expect(kept / y.length).toBeLessThan(0.715);
    expect(sum / y.length).toBeGreaterThan(0.97);
    expect(sum / y.length).toBeLessThan(1.03);
  });

  it('backward multiplies dy by the same mask (hand-checked per element)', () => {
    const layer = new Dropout({ rate: 0.5 });
    layer.build([4, 3], testRng(2));
    const x = tensor(Array.from({ length: 24 }, (_, i) => i + 1), [2, 4, 3]);
    const y = layer.forward(x, true).data.slice();
    const dy = tensor(Array.from({ length: 24 }, (_, i) => 0.5 * (i % 5) - 1), [2, 4, 3]);
    const dx = layer.backward(dy);
    expect(dx.shape).toEqual([2, 4, 3]);
    for (let i = 0; i < 24; i++) {
      // y_i = x_i·m_i with m_i ∈ {0, 2}, and dL/dx_i = dy_i·m_i.
      const m = y[i] / x.data[i];
      expect([0, 2]).toContain(m);
      expect(dx.data[i]).toBe(dy.data[i] * m);
    }
  });

  it('evaluation and rate 0 are the identity (same tensors back, no draws)', () => {
    const rng = testRng(3);
    const before = rng.getState();
    const layer = new Dropout({ rate: 0.5 });
    layer.build([3], rng);
    const x = tensor([1, 2, 3], [1, 3]);
    expect(layer.forward(x, false)).toBe(x);
    const dy = tensor([4, 5, 6], [1, 3]);
    expect(layer.backward(dy)).toBe(dy);
    const zero = new Dropout({ rate: 0 });
    zero.build([3], rng);
    expect(zero.forward(x, true)).toBe(x);
    expect(rng.getState()).toEqual(before);
  });

  it('masks come from the build rng: same seed ⇒ same masks, and they consume that stream', () => {
    const masks = (rng: Rng): number[] => {
      const layer = new Dropout({ rate: 0.5 });
      layer.build([50], rng);
      const x = onesTensor([2, 50]);
      return [...Array.from(layer.forward(x, true).data), ...Array.from(layer.forward(x, true).data)];
    };
    const a = masks(new Rng(42));
    expect(masks(new Rng(42))).toEqual(a);
    expect(masks(new Rng(43))).not.toEqual(a);
    expect(a.slice(0, 100)).not.toEqual(a.slice(100)); // a fresh mask every forward
    // One uniform per unit per training forward, drawn from the rng passed to build.
    const rng = new Rng(42);
    masks(rng);
    const ref = new Rng(42);
    for (let i = 0; i < 200; i++) ref.next();
    expect(rng.getState()).toEqual(ref.getState());
  });

  it('validates its config and shapes, naming the option and the layer', () => {
    expect(() => new Dropout({ rate: 1 })).toThrow(/Dropout: rate must be a number in \[0, 1\), got 1/);
    expect(() => new Dropout({ rate: -0.1 })).toThrow(/Dropout: rate must be a number in \[0, 1\), got -0.1/);
    expect(() => new Dropout({ p: 0.5 } as never)).toThrow(/Dropout: unknown option "p"; known options: rate/);
    expect(new Dropout().getConfig()).toEqual({ rate: 0.5 });
    const layer = new Dropout({ rate: 0.2 });
    expect(() => layer.forward(tensor([1], [1, 1]), true)).toThrow(/Dropout: forward\(\) called before build\(\)/);
    layer.build([3], testRng());
    expect(() => layer.forward(tensor([1, 2], [1, 2]), true)).toThrow(/Dropout: expected input \[batch, 3\], got \[1, 2\]/);
  });
});
