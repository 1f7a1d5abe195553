// Conv2D: hand-derived values, finite differences over stride/padding variants, PyTorch Conv2d references, errors.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Conv2D, type Conv2DOptions } from '../../src/layers/conv2d.js';
import { Tensor, tensor } from '../../src/tensor/tensor.js';
import { assertClose } from '../util/assert-close.js';
import { gradCheck } from '../util/grad-check.js';
import { randomTensor, testRng } from '../util/rng.js';

interface ConvCase {
  batch: number; inC: number; H: number; W: number; filters: number;
  kernel: [number, number]; stride: [number, number]; padding: [number, number] | 'same'; useBias: boolean;
  yShape: number[]; x: number[]; weight: number[]; bias: number[] | null; dy: number[];
  y: number[]; dx: number[]; dW: number[]; db: number[] | null;
}
const ref = JSON.parse(readFileSync(new URL('../reference/layers_dense_conv.json', import.meta.url), 'utf8')) as { conv: ConvCase[] };

/** A built Conv2D for `[inC, H, W]` with the given weights (and bias). */
function conv(options: Conv2DOptions, inShape: number[], weight: ArrayLike<number>, bias: ArrayLike<number> | null): Conv2D {
  const layer = new Conv2D({ ...options, useBias: bias !== null });
  layer.build(inShape, testRng());
  const [w, b] = layer.params();
  w.value.data.set(weight);
  if (bias !== null) b.value.data.set(bias);
  return layer;
}

describe('Conv2D hand-derived (1×3×3 input x = 1..9, 2×2 kernel [[1,2],[0,-1]], bias 1)', () => {
  const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
  const kernel = [1, 2, 0, -1];

  it('stride 1, no padding: forward and backward', () => {
    // y[i,j] = x[i,j] + 2·x[i,j+1] − x[i+1,j+1] + 1 → [[1+4-5+1, 2+6-6+1], [4+10-8+1, 5+12-9+1]] = [[1,3],[7,9]].
    const layer = conv({ filters: 1, kernelSize: 2 }, [1, 3, 3], kernel, [1]);
    const y = layer.forward(x, true);
    expect(y.shape).toEqual([1, 1, 2, 2]);
    expect(Array.from(y.data)).toEqual([1, 3, 7, 9]);
    // dy = 1 everywhere: db = 4; dW[i,j] = Σ over the 2×2 window at offset (i,j) = [[12,16],[24,28]];
    // dx[h,w] = Σ of the kernel taps that touch (h,w) = [[1,3,2],[1,2,1],[0,-1,-1]].
    const dx = layer.backward(tensor([1, 1, 1, 1], [1, 1, 2, 2]));
    const [w, b] = layer.params();
    expect(Array.from(w.grad.data)).toEqual([12, 16, 24, 28]);
    expect(Array.from(b.grad.data)).toEqual([4]);
    expect(dx.shape).toEqual([1, 1, 3, 3]);
    expect(Array.from(dx.data)).toEqual([1, 3, 2, 1, 2, 1, 0, -1, -1]);
  });

  it('stride 2, padding 1', () => {
    // Windows start at (-1,-1), (-1,1), (1,-1), (1,1); out-of-image taps read 0:
    // (-1,-1): -x00 = -1; (-1,1): 0·x01 - x02 = -3; (1,-1): 2·x10 - x20 = 8-7 = 1; (1,1): 5+12-9 = 8; plus bias 1.
    const layer = conv({ filters: 1, kernelSize: 2, stride: 2, padding: 1 }, [1, 3, 3], kernel, [1]);
    expect(Array.from(layer.forward(x, true).data)).toEqual([0, -2, 2, 9]);
  });
});

/** Loss Σ y·dy (in doubles), whose gradient w.r.t. y is dy. */
function dotLoss(layer: Conv2D, x: Tensor, dy: Float32Array): () => number {
  return () => {
    const y = layer.forward(x, true).data;
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i] * dy[i];
    return s;
  };
}

describe('Conv2D finite differences of dx, dW, db (h = 1e-2, relative tol 1e-2)', () => {
  const variants: [string, Conv2DOptions, number[]][] = [
    ['3×3, stride 1, padding 0', { filters: 3, kernelSize: 3 }, [2, 5, 5]],
    ['3×3, stride 2, padding 1', { filters: 2, kernelSize: 3, stride: 2, padding: 1 }, [2, 6, 5]],
    ['non-square 2×3 kernel, stride [2, 1], padding [1, 0]', { filters: 2, kernelSize: [2, 3], stride: [2, 1], padding: [1, 0] }, [3, 5, 6]],
    ["3×5 kernel, padding 'same'", { filters: 2, kernelSize: [3, 5], padding: 'same' }, [1, 4, 5]],
    ['no bias', { filters: 2, kernelSize: 2, useBias: false }, [2, 3, 4]],
  ];
  for (const [name, options, inShape] of variants) {
    it(name, () => {
      const rng = testRng(21);
      const layer = new Conv2D(options);
      const outShape = layer.build(inShape, rng);
      const x = randomTensor([2, ...inShape], rng);
      const dyT = randomTensor([2, ...outShape], rng);
      layer.forward(x, true);
      const dx = layer.backward(dyT).data.slice();
      const loss = dotLoss(layer, x, dyT.data);
      gradCheck(loss, x.data, dx, { what: 'dx' });
      for (const p of layer.params()) gradCheck(loss, p.value.data, p.grad.data.slice(), { what: p.name });
      expect(layer.params().length).toBe(options.useBias === false ? 1 : 2);
    });
  }
});

describe('Conv2D against torch.nn.functional.conv2d (float64 reference; atol 1e-5, rtol 1e-4)', () => {
  for (const c of ref.conv) {
    const options: Conv2DOptions = { filters: c.filters, kernelSize: c.kernel, stride: c.stride, padding: c.padding };
    it(JSON.stringify({ ...options, input: [c.batch, c.inC, c.H, c.W], useBias: c.useBias }), () => {
      const layer = conv(options, [c.inC, c.H, c.W], c.weight, c.bias);
      const y = layer.forward(tensor(c.x, [c.batch, c.inC, c.H, c.W]), true);
      expect(y.shape).toEqual(c.yShape);
      assertClose(y.data, c.y, { what: 'y' });
      const dx = layer.backward(tensor(c.dy, c.yShape));
      assertClose(dx.data, c.dx, { what: 'dx' });
      assertClose(layer.params()[0].grad.data, c.dW, { what: 'dW' });
      if (c.db !== null) assertClose(layer.params()[1].grad.data, c.db, { what: 'db' });
    });
  }
});

describe('Conv2D buffers and accumulation', () => {
  const c = ref.conv[1];
  const options: Conv2DOptions = { filters: c.filters, kernelSize: c.kernel, stride: c.stride, padding: c.padding };
  const inShape = [c.inC, c.H, c.W];

  it('parameter gradients accumulate across backward calls; dx does not', () => {
    const layer = conv(options, inShape, c.weight, c.bias);
    const x = tensor(c.x, [c.batch, ...inShape]);
    const dy = tensor(c.dy, c.yShape);
    layer.forward(x, true);
    layer.backward(dy);
    layer.forward(x, true);
    assertClose(layer.backward(dy).data, c.dx, { what: 'dx' });
    assertClose(layer.params()[0].grad.data, c.dW.map((v) => 2 * v), { what: 'dW (×2)' });
    assertClose(layer.params()[1].grad.data, (c.db as number[]).map((v) => 2 * v), { what: 'db (×2)' });
  });

  it('reuses its output buffer for a batch size and handles a changed batch size', () => {
    const layer = conv(options, inShape, c.weight, c.bias);
    const x = tensor(c.x, [c.batch, ...inShape]);
    const y1 = layer.forward(x, true);
    expect(layer.forward(x, true)).toBe(y1);
    const per = c.y.length / c.batch;
    const y2 = layer.forward(x.slice0(1, 2), true);
    expect(y2.shape).toEqual([1, ...c.yShape.slice(1)]);
    assertClose(y2.data, c.y.slice(per), { what: 'y (image 1 alone)' });
    assertClose(layer.forward(x, true).data, c.y, { what: 'y (full batch again)' });
  });

  it('defaults to PyTorch Conv2d init: U(±1/√(inC·kH·kW)), fans from [outC, inC, kH, kW]', () => {
    const layer = new Conv2D({ filters: 16, kernelSize: [3, 5] });
    expect(layer.build([4, 8, 8], testRng(3))).toEqual([16, 6, 4]);
    const bound = 1 / Math.sqrt(4 * 3 * 5);
    const [w, b] = layer.params();
    expect(w.value.shape).toEqual([16, 4, 3, 5]);
    expect(b.value.shape).toEqual([16]);
    expect(Math.max(...Array.from(w.value.data, Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...Array.from(w.value.data, Math.abs))).toBeGreaterThan(0.99 * bound);
    expect(Math.max(...Array.from(b.value.data, Math.abs))).toBeLessThanOrEqual(bound);
  });
});

describe('Conv2D config', () => {
  it('getConfig normalizes sizes and rebuilds an identical layer', () => {
    const a = new Conv2D({ filters: 4, kernelSize: 3, stride: [1, 2], padding: 'valid', weightInit: 'xavier-uniform', biasInit: 'zeros' });
    const cfg = a.getConfig();
    expect(cfg).toEqual({
      filters: 4, kernelSize: [3, 3], stride: [1, 2], padding: [0, 0], useBias: true, weightInit: 'xavier-uniform', biasInit: 'zeros',
    });
    const b = new Conv2D(JSON.parse(JSON.stringify(cfg)));
    a.build([2, 6, 6], testRng(4));
    b.build([2, 6, 6], testRng(4));
    expect(Array.from(b.params()[0].value.data)).toEqual(Array.from(a.params()[0].value.data));
    expect(new Conv2D({ filters: 1, kernelSize: 5, padding: 'same' }).getConfig().padding).toBe('same');
  });

  it("padding 'same' keeps the spatial size", () => {
    const layer = new Conv2D({ filters: 2, kernelSize: [3, 5], padding: 'same' });
    expect(layer.build([1, 7, 9], testRng())).toEqual([2, 7, 9]);
  });

  const bad: [Record<string, unknown>, RegExp][] = [
    [{ kernelSize: 3 }, /Conv2D: filters must be an integer in \[1, inf\), got undefined/],
    [{ filters: 2 }, /Conv2D: kernelSize is required/],
    [{ filters: 2, kernelSize: 'big' }, /Conv2D: kernelSize must be an integer in \[1, inf\) or a pair of them, got "big"/],
    [{ filters: 2, kernelSize: 3, stride: [1, 2, 3] }, /Conv2D: stride must be .* or a pair of them, got \[1,2,3\]/],
    [{ filters: 2, kernelSize: 3, padding: 'full' }, /Conv2D: padding must be one of same, valid, got "full"/],
    [{ filters: 2, kernelSize: 3, padding: 'same', stride: 2 }, /Conv2D: padding 'same' needs stride 1, got stride \[2, 2\]/],
    [{ filters: 2, kernelSize: [2, 3], padding: 'same' }, /Conv2D: padding 'same' needs odd kernel sizes, got kernelSize \[2, 3\]/],
    [{ filters: 2, kernelSize: 3, filter: 2 }, /Conv2D: unknown option "filter"; known options: filters, kernelSize, stride, padding/],
    [{ filters: 2, kernelSize: 3, weightInit: 'he' }, /Conv2D: weightInit: unknown initializer "he"/],
  ];
  for (const [config, re] of bad) {
    it(`rejects ${JSON.stringify(config)}`, () => {
      expect(() => new Conv2D(config as never)).toThrow(re);
    });
  }
});

describe('Conv2D shape errors name the layer and the shapes', () => {
  it('build rejects a non-image input and a kernel larger than the padded input', () => {
    expect(() => new Conv2D({ filters: 2, kernelSize: 3 }).build([784], testRng())).toThrow(
      /Conv2D: expected a per-sample input shape \[channels, height, width\], got \[784\]/);
    expect(() => new Conv2D({ filters: 2, kernelSize: 5 }).build([1, 3, 3], testRng())).toThrow(
      /Conv2D: .*kernel 5×5 .* does not fit input 3×3 \(input \[1, 3, 3\]\)/);
  });

  it('forward rejects a wrong input shape; backward a wrong gradient shape', () => {
    const layer = new Conv2D({ filters: 2, kernelSize: 3 });
    layer.build([1, 5, 5], testRng());
    expect(() => layer.forward(new Tensor(new Float32Array(2 * 25 * 2), [2, 2, 5, 5]), true)).toThrow(
      /Conv2D: expected input \[batch, 1, 5, 5\], got \[2, 2, 5, 5\]/);
    expect(() => layer.forward(new Tensor(new Float32Array(25), [1, 5, 5]), true)).toThrow(
      /Conv2D: expected input \[batch, 1, 5, 5\], got \[1, 5, 5\]/);
    layer.forward(new Tensor(new Float32Array(50), [2, 1, 5, 5]), true);
    expect(() => layer.backward(new Tensor(new Float32Array(18), [1, 2, 3, 3]))).toThrow(
      /Conv2D: expected gradient \[2, 2, 3, 3\] \(the shape of the last output\), got \[1, 2, 3, 3\]/);
  });
});
