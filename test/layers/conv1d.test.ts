// Conv1D: hand-derived values, finite differences for input, weight and bias, PyTorch 1.13 nn.Conv1d
// references (stride, padding, no bias), the params as [filters, inC, k] views, config errors.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Conv1D } from '../../src/layers/conv1d.js';
import { createLayer } from '../../src/layers/index.js';
import { Rng } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { assertClose } from '../util/assert-close.js';
import { analyticGrads, checkLayerGradients } from '../util/layer-check.js';
import { randomTensor, testRng } from '../util/rng.js';

interface ConvCase {
  shape: number[]; filters: number; kernelSize: number; stride: number; padding: number; useBias: boolean;
  x: number[]; weight: number[]; bias?: number[]; w: number[]; y: number[]; dx: number[]; d_weight: number[]; d_bias?: number[];
}
const ref = JSON.parse(readFileSync(new URL('../reference/layers_new.json', import.meta.url), 'utf8')) as { conv1d: ConvCase[] };

describe('Conv1D', () => {
  it('matches a hand-derived convolution: x = [1, 2, 3, 4], w = [1, 0, −1], b = 0.5, padding 1', () => {
    // Padded x = [0, 1, 2, 3, 4, 0]: y_l = xpad_l − xpad_{l+2} + 0.5 = [0 − 2, 1 − 3, 2 − 4, 3 − 0] + 0.5.
    // dy = 1: dx_i = Σ_l w[i + 1 − l] over l in 0…3 with 0 ≤ i + 1 − l ≤ 2: dx = [0 + 1, −1 + 0 + 1, −1 + 0 + 1, −1 + 0] = [1, 0, 0, −1];
    // dw_j = Σ_l xpad[l + j] = [0+1+2+3, 1+2+3+4, 2+3+4+0] = [6, 10, 9]; db = 4.
    const conv = new Conv1D({ filters: 1, kernelSize: 3, padding: 1 });
    expect(conv.build([1, 4], new Rng(0))).toEqual([1, 4]);
    const [weight, bias] = conv.params();
    expect(weight.value.shape).toEqual([1, 1, 3]);
    weight.value.data.set([1, 0, -1]);
    bias.value.data[0] = 0.5;
    const got = analyticGrads(conv, new Tensor(Float32Array.of(1, 2, 3, 4), [1, 1, 4]), Float32Array.of(1, 1, 1, 1));
    expect(Array.from(got.y)).toEqual([-1.5, -1.5, -1.5, 3.5]);
    expect(Array.from(got.dx)).toEqual([1, 0, 0, -1]);
    expect(Array.from(got.params.weight)).toEqual([6, 10, 9]);
    expect(Array.from(got.params.bias)).toEqual([4]);
  });

  for (const [i, c] of ref.conv1d.entries()) {
    it(`matches PyTorch nn.Conv1d case ${i} (input ${JSON.stringify(c.shape)}, k ${c.kernelSize}, stride ${c.stride}, padding ${c.padding}, bias ${c.useBias})`, () => {
      const conv = createLayer('conv1d', { filters: c.filters, kernelSize: c.kernelSize, stride: c.stride, padding: c.padding, useBias: c.useBias });
      const out = conv.build(c.shape.slice(1), new Rng(0));
      expect(out).toEqual([c.filters, c.y.length / (c.shape[0] * c.filters)]);
      conv.params()[0].value.data.set(c.weight);
      if (c.useBias) conv.params()[1].value.data.set(c.bias as number[]);
      const got = analyticGrads(conv, new Tensor(Float32Array.from(c.x), c.shape), Float32Array.from(c.w));
      assertClose(got.y, c.y, { atol: 1e-5, rtol: 1e-5, what: 'y' });
      assertClose(got.dx, c.dx, { atol: 1e-5, rtol: 1e-5, what: 'dx' });
      assertClose(got.params.weight, c.d_weight, { atol: 1e-5, rtol: 1e-5, what: 'dweight' });
      if (c.useBias) assertClose(got.params.bias, c.d_bias as number[], { atol: 1e-5, rtol: 1e-5, what: 'dbias' });
    });
  }

  it('its gradients equal central differences (stride 1 "same" and stride 2 paths)', () => {
    for (const config of [{ filters: 3, kernelSize: 3, padding: 'same' as const }, { filters: 2, kernelSize: 4, stride: 2, padding: 2 }]) {
      const conv = new Conv1D(config);
      conv.build([2, 9], testRng(1));
      const rng = testRng(2);
      const x = randomTensor([2, 2, 9], rng);
      const y = conv.forward(x, true);
      expect(checkLayerGradients(conv, x, randomTensor(y.shape.slice(), rng).data)).toBeLessThan(2e-3);
    }
  });

  it('initialises like torch (fanIn = inC·k) and its params share the inner Conv2D data', () => {
    const conv = new Conv1D({ filters: 8, kernelSize: 5 });
    conv.build([4, 20], new Rng(3));
    const bound = 1 / Math.sqrt(4 * 5);
    for (const p of conv.params()) for (const v of p.value.data) expect(Math.abs(v)).toBeLessThanOrEqual(bound);
    expect(conv.params()[0].value.shape).toEqual([8, 4, 5]);
    const x = randomTensor([1, 4, 20], testRng(4));
    const before = Float32Array.from(conv.forward(x, false).data);
    conv.params()[0].value.data.fill(0);
    conv.params()[1].value.data.fill(0);
    expect(before.some((v) => v !== 0)).toBe(true);
    expect(Array.from(conv.forward(x, false).data).every((v) => v === 0)).toBe(true);
  });

  it('rejects bad configs and shapes with messages naming the value', () => {
    expect(() => new Conv1D({ filters: 2 } as never)).toThrow(/Conv1D: kernelSize must be an integer in \[1/);
    expect(() => new Conv1D({ filters: 2, kernelSize: 2, padding: 'same' })).toThrow(/padding 'same' needs an odd kernelSize, got 2/);
    expect(() => new Conv1D({ filters: 2, kernelSize: 3, stride: 2, padding: 'same' })).toThrow(/padding 'same' needs stride 1, got stride 2/);
    expect(() => new Conv1D({ filters: 2, kernelSize: 3, padding: -1 })).toThrow(/padding must be an integer in \[0/);
    expect(() => new Conv1D({ filters: 2, kernelSize: 3, weightInit: 'xavir' })).toThrow(/^Conv1D: weightInit: unknown initializer "xavir"/);
    expect(() => new Conv1D({ filters: 2, kernelSize: 3 }).build([1, 28, 28], new Rng(0))).toThrow(/Conv1D: expected a per-sample input shape \[channels, length\], got \[1, 28, 28\]/);
    expect(() => new Conv1D({ filters: 2, kernelSize: 9 }).build([1, 4], new Rng(0))).toThrow(/^Conv1D: .*\(input \[1, 4\]\)/);
    const conv = new Conv1D({ filters: 2, kernelSize: 3 });
    conv.build([1, 6], new Rng(0));
    expect(() => conv.forward(new Tensor(new Float32Array(12), [1, 2, 6]), true)).toThrow(/expected input \[batch, 1, 6\], got \[1, 2, 6\]/);
    expect(createLayer('conv1d', conv.getConfig()).getConfig()).toEqual(conv.getConfig());
  });
});
