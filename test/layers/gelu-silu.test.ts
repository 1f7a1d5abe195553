// The GELU (erf and tanh forms) and SiLU activation layers of src/layers/activations.ts: hand-derived
// values, finite differences, PyTorch 1.13 references (test/reference/gelu.py for the erf form over a
// dense grid in float32, layers_new.py for all three), SIMD kernels = their TypeScript twins, errors.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  GELU_BACKWARD, GELU_FORWARD, GELU_TANH_BACKWARD, GELU_TANH_FORWARD, Gelu, SILU_BACKWARD, SILU_FORWARD, Silu,
} from '../../src/layers/activations.js';
import { createLayer } from '../../src/layers/index.js';
import type { Layer } from '../../src/layers/layer.js';
import { heapFloat32, isHeapArray } from '../../src/plugin/index.js';
import { Rng } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { assertClose } from '../util/assert-close.js';
import { analyticGrads, checkLayerGradients } from '../util/layer-check.js';
import { randomTensor, testRng } from '../util/rng.js';

interface ActRef { x: number[]; w: number[]; y: number[]; dx: number[] }
const ref = JSON.parse(readFileSync(new URL('../reference/layers_new.json', import.meta.url), 'utf8')) as { gelu: ActRef; gelu_tanh: ActRef; silu: ActRef };
const dense = JSON.parse(readFileSync(new URL('../reference/gelu.json', import.meta.url), 'utf8')) as {
  x: number[]; w: number[]; float32: { y: number[]; grad: number[] };
};

function run(layer: Layer, x: ArrayLike<number>, w: ArrayLike<number>): { y: Float32Array; dx: Float32Array } {
  layer.build([x.length], new Rng(0));
  const { y, dx } = analyticGrads(layer, new Tensor(Float32Array.from(x), [1, x.length]), Float32Array.from(w));
  return { y, dx };
}

describe('Gelu', () => {
  it('is registered as "gelu" and keeps its buffers in the shared heap (so the SIMD kernels run)', () => {
    const layer = createLayer('gelu');
    expect(layer).toBeInstanceOf(Gelu);
    layer.build([5], new Rng(0));
    expect(isHeapArray(layer.forward(new Tensor(new Float32Array(5), [1, 5]), false).data)).toBe(true);
    expect(createLayer('gelu', { approximate: 'tanh' }).getConfig()).toEqual({ approximate: 'tanh' });
  });

  it('matches hand-derived values: gelu(x) = x·Φ(x), gelu′(x) = Φ(x) + x·φ(x)', () => {
    // Φ(1) = 0.8413447461, φ(1) = 0.2419707245; Φ(2) = 0.9772498681, φ(2) = 0.0539909665.
    const { y, dx } = run(new Gelu(), [0, 1, -1, 2, -2], [1, 1, 1, 1, 1]);
    assertClose(y, [0, 0.8413447461, -0.1586552539, 1.9544997361, -0.0455002639], { atol: 1e-6, rtol: 0, what: 'y' });
    assertClose(dx, [0.5, 0.8413447461 + 0.2419707245, 0.1586552539 - 0.2419707245, 0.9772498681 + 2 * 0.0539909665,
      0.0227501319 - 2 * 0.0539909665], { atol: 2e-6, rtol: 0, what: 'dx' });
  });

  it('tanh form matches hand-derived values at x = 1: u = √(2/π)·1.044715, y = ½(1 + tanh u)', () => {
    // u = 0.7978845608·1.044715 = 0.8335619689; t = tanh u = 0.6823839812; y = ½(1 + t) = 0.8411919906.
    // y′ = ½(1 + t) + ½·(1 − t²)·√(2/π)·(1 + 3·0.044715) = 0.8411919906 + 0.5·0.5343521022·0.9049167852 = 1.0829640838.
    const { y, dx } = run(new Gelu({ approximate: 'tanh' }), [1, 0], [1, 1]);
    assertClose(y, [0.8411919906, 0], { atol: 2e-6, rtol: 0, what: 'y' });
    assertClose(dx, [1.0829640838, 0.5], { atol: 3e-6, rtol: 0, what: 'dx' });
  });

  it('matches PyTorch 1.13 F.gelu (float32) on a dense grid within 2e-6, and F.gelu(approximate="tanh")', () => {
    const erf = run(new Gelu(), dense.x, dense.w);
    assertClose(erf.y, dense.float32.y, { atol: 2e-6, rtol: 2e-6, what: 'gelu y' });
    assertClose(erf.dx, dense.float32.grad, { atol: 2e-6, rtol: 2e-6, what: 'gelu dx' });
    for (const [name, layer] of [['gelu', new Gelu()], ['gelu_tanh', new Gelu({ approximate: 'tanh' })]] as const) {
      const r = ref[name];
      const got = run(layer, r.x, r.w);
      assertClose(got.y, r.y, { atol: 2e-6, rtol: 2e-6, what: `${name} y` });
      assertClose(got.dx, r.dx, { atol: 3e-6, rtol: 3e-6, what: `${name} dx` });
    }
  });

  it('its gradients equal central differences in both forms (h = 1e-2, tol 1e-3)', () => {
    for (const approximate of ['none', 'tanh'] as const) {
      const layer = new Gelu({ approximate });
      layer.build([200], new Rng(0));
      const rng = testRng(3);
      expect(checkLayerGradients(layer, randomTensor([1, 200], rng, -4, 4), randomTensor([1, 200], rng).data, { tol: 1e-3 })).toBeLessThan(1e-3);
    }
  });

  it('the SIMD kernels give their twins\' bits (heap arrays vs ordinary arrays)', () => {
    const x = Float32Array.from(dense.x);
    const w = Float32Array.from(dense.w);
    for (const [fwd, bwd] of [[GELU_FORWARD, GELU_BACKWARD], [GELU_TANH_FORWARD, GELU_TANH_BACKWARD], [SILU_FORWARD, SILU_BACKWARD]] as const) {
      const n = x.length;
      const xh = heapFloat32(n);
      xh.set(x);
      const wh = heapFloat32(n);
      wh.set(w);
      const yh = heapFloat32(n);
      const yp = new Float32Array(n);
      fwd.run(n, yh, xh);
      fwd.run(n, yp, x);
      expect(Array.from(yp), fwd.name).toEqual(Array.from(yh));
      const dh = heapFloat32(n);
      const dp = new Float32Array(n);
      bwd.run(n, dh, wh, xh);
      bwd.run(n, dp, w, x);
      expect(Array.from(dp), bwd.name).toEqual(Array.from(dh));
    }
  });

  it('rejects an unknown approximation, naming it', () => {
    expect(() => new Gelu({ approximate: 'erf' as 'none' })).toThrow(/Gelu: approximate must be one of none, tanh, got "erf"/);
    expect(() => createLayer('gelu', { alpha: 1 })).toThrow(/unknown option "alpha"/);
  });
});

describe('Silu', () => {
  it('is registered as "silu"', () => {
    expect(createLayer('silu')).toBeInstanceOf(Silu);
    expect(() => createLayer('silu', { beta: 1 })).toThrow(/Silu: unknown option "beta"/);
  });

  it('matches hand-derived values: silu(x) = x·σ(x), silu′(x) = σ(x)·(1 + x·(1 − σ(x)))', () => {
    // σ(1) = 0.7310585786, σ(−2) = 0.1192029220.
    // silu(1) = 0.7310585786, silu′(1) = 0.7310585786·(1 + 0.2689414214) = 0.9276705118;
    // silu(−2) = −0.2384058440, silu′(−2) = 0.1192029220·(1 − 2·0.8807970780) = −0.0907842408; silu′(0) = 0.5.
    const { y, dx } = run(new Silu(), [1, -2, 0], [1, 1, 1]);
    assertClose(y, [0.7310585786, -0.238405844, 0], { atol: 1e-7, rtol: 0, what: 'y' });
    assertClose(dx, [0.9276705118, -0.0907842408, 0.5], { atol: 1e-7, rtol: 0, what: 'dx' });
  });

  it('matches PyTorch 1.13 F.silu including |x| = 60 (no overflow, no NaN)', () => {
    const got = run(new Silu(), ref.silu.x, ref.silu.w);
    assertClose(got.y, ref.silu.y, { atol: 1e-6, rtol: 2e-6, what: 'y' });
    assertClose(got.dx, ref.silu.dx, { atol: 1e-6, rtol: 2e-6, what: 'dx' });
  });

  it('its gradient equals central differences (h = 1e-2, tol 1e-3)', () => {
    const layer = new Silu();
    layer.build([200], new Rng(0));
    const rng = testRng(4);
    expect(checkLayerGradients(layer, randomTensor([1, 200], rng, -6, 6), randomTensor([1, 200], rng).data, { tol: 1e-3 })).toBeLessThan(1e-3);
  });
});
