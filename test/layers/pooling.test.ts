// MaxPool2D / AvgPool2D layers: shapes, config validation, buffer reuse and PyTorch references.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AvgPool2D, MaxPool2D } from '../../src/layers/pooling.js';
import { Tensor, tensor } from '../../src/tensor/tensor.js';
import { assertClose } from '../util/assert-close.js';
import { gradCheck } from '../util/grad-check.js';
import { randomTensor, testRng } from '../util/rng.js';

interface PoolCase {
  op: 'max' | 'avg' | 'avg_exclude_pad';
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  y_shape: number[];
  y: number[];
  dy: number[];
  dx: number[];
}
const ref = JSON.parse(readFileSync(new URL('../reference/pool_norm.json', import.meta.url), 'utf8')) as {
  pool: { x_shape: number[]; x: number[]; cases: PoolCase[] };
};

describe('MaxPool2D', () => {
  it('builds [C, outH, outW] and pools a hand-derived 2×2 example', () => {
    const layer = new MaxPool2D({ poolSize: 2 });
    expect(layer.kind).toBe('max-pool2d');
    expect(layer.build([1, 2, 4], testRng())).toEqual([1, 1, 2]);
    // Windows {1, 4, 2, 3} → 4 (index 1) and {0, −1, 5, 2} → 5 (index 6).
    const x = tensor([1, 4, 0, -1, 2, 3, 5, 2], [1, 1, 2, 4]);
    const y = layer.forward(x, true);
    expect(y.shape).toEqual([1, 1, 1, 2]);
    expect(Array.from(y.data)).toEqual([4, 5]);
    const dx = layer.backward(tensor([10, 20], [1, 1, 1, 2]));
    expect(dx.shape).toEqual([1, 1, 2, 4]);
    expect(Array.from(dx.data)).toEqual([0, 10, 0, 0, 0, 0, 20, 0]);
    expect(layer.params()).toEqual([]);
  });

  it('reuses its buffers for a repeated batch size and handles a smaller batch', () => {
    const rng = testRng(3);
    const layer = new MaxPool2D({ poolSize: [2, 3], stride: [1, 2], padding: [1, 1] });
    layer.build([2, 5, 6], rng);
    const x4 = randomTensor([4, 2, 5, 6], rng);
    const y1 = layer.forward(x4, true);
    const dx1 = layer.backward(randomTensor(y1.shape, rng));
    const y2 = layer.forward(x4, true);
    expect(y2).toBe(y1);
    expect(layer.backward(randomTensor(y1.shape, rng))).toBe(dx1);
    // A smaller last batch must give the same rows as the first samples of the big one.
    const firstRows = y1.data.slice(0, y1.size / 2);
    const y3 = layer.forward(x4.slice0(0, 2), true);
    expect(y3.shape).toEqual([2, 2, 6, 3]); // (5 + 2 − 2)/1 + 1 = 6, floor((6 + 2 − 3)/2) + 1 = 3
    expect(Array.from(y3.data)).toEqual(Array.from(firstRows));
  });

  it('gradient matches finite differences', () => {
    const rng = testRng(5);
    const layer = new MaxPool2D({ poolSize: 3, stride: 2, padding: 1 });
    layer.build([2, 5, 5], rng);
    const n = 3 * 2 * 5 * 5;
    const perm = rng.permutation(n);
    const x = new Tensor(Float32Array.from(perm, (v) => v * 0.1 - 4), [3, 2, 5, 5]); // distinct, spacing 0.1
    const y0 = layer.forward(x, true);
    const w = randomTensor(y0.shape, rng);
    const loss = (): number => {
      const y = layer.forward(x, true);
      let s = 0;
      for (let i = 0; i < y.size; i++) s += w.data[i] * y.data[i];
      return s;
    };
    loss();
    const dx = layer.backward(w).data.slice();
    gradCheck(loss, x.data, dx, { h: 1e-2, tol: 1e-3, what: 'MaxPool2D dx' });
  });

  it('validates its config, naming the option', () => {
    expect(() => new MaxPool2D({} as never)).toThrow(/MaxPool2D: poolSize is required/);
    // (config.ts's readPair currently names the element "v"; the lead is asked to name the key.)
    expect(() => new MaxPool2D({ poolSize: 0 })).toThrow(/MaxPool2D: \w+ must be an integer in \[1, inf\), got 0/);
    expect(() => new MaxPool2D({ poolSize: 2, stride: -1 })).toThrow(/MaxPool2D: \w+ must be an integer in \[1, inf\), got -1/);
    expect(() => new MaxPool2D({ poolSize: 3, padding: 2 })).toThrow(/MaxPool2D: padding \[2, 2\] must be at most half of poolSize \[3, 3\]/);
    expect(() => new MaxPool2D({ poolSize: [2, 2, 2] as never })).toThrow(/poolSize must be/);
    expect(() => new MaxPool2D({ poolSize: 2, strides: 2 } as never)).toThrow(/unknown option "strides"/);
  });

  it('rejects wrong shapes, naming them', () => {
    const layer = new MaxPool2D({ poolSize: 2 });
    expect(() => layer.forward(tensor(new Array(16).fill(0), [1, 1, 4, 4]), true)).toThrow(/MaxPool2D: forward\(\) called before build\(\)/);
    expect(() => layer.build([4, 4], testRng())).toThrow(/MaxPool2D: expected a per-sample input shape \[channels, height, width\], got \[4, 4\]/);
    expect(() => layer.build([1, 1, 1], testRng())).toThrow(/MaxPool2D: kernel 2×2 with padding 0×0 does not fit input 1×1 .*\(input \[1, 1, 1\]\)/);
    layer.build([1, 4, 4], testRng());
    expect(() => layer.backward(tensor([1, 2, 3, 4], [1, 1, 2, 2]))).toThrow(/MaxPool2D: backward\(\) called before forward\(\)/);
    expect(() => layer.forward(tensor(new Array(18).fill(0), [1, 2, 3, 3]), true)).toThrow(
      /MaxPool2D: expected input \[batch, 1, 4, 4\], got \[1, 2, 3, 3\]/,
    );
    layer.forward(tensor(new Array(16).fill(0), [1, 1, 4, 4]), true);
    expect(() => layer.backward(tensor([1, 2], [1, 1, 1, 2]))).toThrow(/MaxPool2D: expected gradient \[1, 1, 2, 2\] \(the shape of the last output\), got \[1, 1, 1, 2\]/);
  });

  it('getConfig round-trips', () => {
    const layer = new MaxPool2D({ poolSize: [3, 2], stride: [2, 1], padding: [1, 0] });
    expect(layer.getConfig()).toEqual({ poolSize: [3, 2], stride: [2, 1], padding: [1, 0] });
    expect(new MaxPool2D(layer.getConfig() as never).getConfig()).toEqual(layer.getConfig());
  });
});

describe('AvgPool2D', () => {
  it('defaults to counting padding, optionally not (hand-derived)', () => {
    // x = [[1, 2], [3, 4]], 2×2 windows, stride 2, padding 1: each window holds one pixel.
    const x = tensor([1, 2, 3, 4], [1, 1, 2, 2]);
    const incl = new AvgPool2D({ poolSize: 2, padding: 1 });
    expect(incl.kind).toBe('avg-pool2d');
    expect(incl.build([1, 2, 2], testRng())).toEqual([1, 2, 2]);
    assertClose(incl.forward(x, false).data, [0.25, 0.5, 0.75, 1], { atol: 1e-7, what: 'count padding' });
    assertClose(incl.backward(tensor([4, 4, 4, 4], [1, 1, 2, 2])).data, [1, 1, 1, 1], { atol: 1e-7, what: 'dx' });
    const excl = new AvgPool2D({ poolSize: 2, padding: 1, countIncludePad: false });
    excl.build([1, 2, 2], testRng());
    assertClose(excl.forward(x, false).data, [1, 2, 3, 4], { atol: 1e-7, what: 'exclude padding' });
    expect(excl.getConfig()).toEqual({ poolSize: [2, 2], stride: [2, 2], padding: [1, 1], countIncludePad: false });
  });

  it('validates countIncludePad', () => {
    expect(() => new AvgPool2D({ poolSize: 2, countIncludePad: 1 as never })).toThrow(/AvgPool2D: countIncludePad must be true or false, got 1/);
  });
});

describe('pooling layers against PyTorch (nn.MaxPool2d / nn.AvgPool2d)', () => {
  const [batch, channels, height, width] = ref.pool.x_shape;
  for (const c of ref.pool.cases) {
    const name = `${c.op} kernel ${c.kernel} stride ${c.stride} padding ${c.padding}`;
    it(name, () => {
      const config = { poolSize: c.kernel, stride: c.stride, padding: c.padding };
      const layer = c.op === 'max' ? new MaxPool2D(config) : new AvgPool2D({ ...config, countIncludePad: c.op === 'avg' });
      expect(layer.build([channels, height, width], testRng())).toEqual(c.y_shape.slice(1));
      const y = layer.forward(tensor(ref.pool.x, [batch, channels, height, width]), true);
      expect(y.shape).toEqual(c.y_shape);
      const dx = layer.backward(tensor(c.dy, c.y_shape));
      // float32 vs float64 reference: atol 1e-5, rtol 1e-5.
      assertClose(y.data, c.y, { atol: 1e-5, rtol: 1e-5, what: `${name} y` });
      assertClose(dx.data, c.dx, { atol: 1e-5, rtol: 1e-5, what: `${name} dx` });
    });
  }
});
