// Activation layers: hand-derived values, finite differences, PyTorch references, stability, errors.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh } from '../../src/layers/activations.js';
import type { Layer } from '../../src/layers/layer.js';
import { Tensor, tensor } from '../../src/tensor/tensor.js';
import { assertClose } from '../util/assert-close.js';
import { gradCheck } from '../util/grad-check.js';
import { randomTensor, testRng } from '../util/rng.js';

interface ActCase { kind: string; config: Record<string, unknown>; shape: number[]; x: number[]; dy: number[]; y: number[]; dx: number[] }
const ref = JSON.parse(readFileSync(new URL('../reference/layers_dense_conv.json', import.meta.url), 'utf8')) as { activations: ActCase[] };

const MAKERS: Record<string, (config: Record<string, unknown>) => Layer> = {
  relu: (c) => new ReLU(c),
  'leaky-relu': (c) => new LeakyReLU(c),
  tanh: (c) => new Tanh(c),
  sigmoid: (c) => new Sigmoid(c),
  softmax: (c) => new Softmax(c),
  identity: (c) => new Identity(c),
};

function built(kind: string, shape: number[], config: Record<string, unknown> = {}): Layer {
  const layer = MAKERS[kind](config);
  expect(layer.build(shape, testRng())).toEqual(shape);
  expect(layer.kind).toBe(kind);
  return layer;
}

function run(layer: Layer, x: Tensor, dy: Tensor): { y: number[]; dx: number[] } {
  const y = Array.from(layer.forward(x, true).data);
  return { y, dx: Array.from(layer.backward(dy).data) };
}

describe('hand-derived values (x = [-2, -0.5, 0.5, 3], dy = [1, 2, 3, 4])', () => {
  const x = tensor([-2, -0.5, 0.5, 3], [1, 4]);
  const dy = tensor([1, 2, 3, 4], [1, 4]);

  it('ReLU: y = max(0, x), dx = dy·[x > 0]', () => {
    expect(run(built('relu', [4]), x, dy)).toEqual({ y: [0, 0, 0.5, 3], dx: [0, 0, 3, 4] });
  });

  it('ReLU keeps NaN and infinities (torch.relu) and passes dy where x is NaN (torch threshold_backward: x ≤ 0 ? 0 : dy)', () => {
    const { y, dx } = run(built('relu', [4]), tensor([Number.NaN, -Infinity, Infinity, -0], [1, 4]), dy);
    expect(y).toEqual([Number.NaN, 0, Infinity, 0]);
    expect(Object.is(y[3], 0)).toBe(true);
    expect(dx).toEqual([1, 0, 3, 0]);
  });

  it('LeakyReLU(0.25): y = x or 0.25x, dx = dy or 0.25dy', () => {
    expect(run(built('leaky-relu', [4], { negativeSlope: 0.25 }), x, dy)).toEqual({ y: [-0.5, -0.125, 0.5, 3], dx: [0.25, 0.5, 3, 4] });
  });

  it('Tanh: dx = dy·(1 − tanh²)', () => {
    const { y, dx } = run(built('tanh', [4]), x, dy);
    const t = [-2, -0.5, 0.5, 3].map(Math.tanh);
    assertClose(y, t, { atol: 1e-7, rtol: 1e-6 });
    assertClose(dx, t.map((v, i) => (i + 1) * (1 - v * v)), { atol: 1e-6, rtol: 1e-5 });
  });

  it('Sigmoid: σ(0.5) = 1/(1 + e^-0.5), dx = dy·σ(1 − σ)', () => {
    const { y, dx } = run(built('sigmoid', [4]), x, dy);
    const s = [-2, -0.5, 0.5, 3].map((v) => 1 / (1 + Math.exp(-v)));
    assertClose(y, s, { atol: 1e-7, rtol: 1e-6 });
    assertClose(dx, s.map((v, i) => (i + 1) * v * (1 - v)), { atol: 1e-6, rtol: 1e-5 });
  });

  it('Softmax of [0, ln 3] is [1/4, 3/4]; with dy = [1, 0], dx = y·(dy − y·dy) = [3/16, −3/16]', () => {
    const layer = built('softmax', [2]);
    const { y, dx } = run(layer, tensor([0, Math.log(3)], [1, 2]), tensor([1, 0], [1, 2]));
    assertClose(y, [0.25, 0.75], { atol: 1e-7, rtol: 1e-6 });
    assertClose(dx, [3 / 16, -3 / 16], { atol: 1e-7, rtol: 1e-6 });
  });

  it('Identity returns its input and dy themselves', () => {
    const layer = built('identity', [4]);
    expect(layer.forward(x, true)).toBe(x);
    expect(layer.backward(dy)).toBe(dy);
  });
});

describe('finite differences of dx (h = 1e-2, relative tol 1e-2; samples kept ≥ 0.05 away from the kinks)', () => {
  const cases: [string, Record<string, unknown>, number[]][] = [
    ['relu', {}, [3, 4]],
    ['leaky-relu', { negativeSlope: 0.1 }, [2, 3, 2]],
    ['tanh', {}, [3, 4]],
    ['sigmoid', {}, [3, 4]],
    ['softmax', {}, [3, 5]],
    ['softmax', {}, [2, 2, 4]],
  ];
  for (const [kind, config, shape] of cases) {
    it(`${kind} ${JSON.stringify(config)} [${shape}]`, () => {
      const rng = testRng(31);
      const layer = built(kind, shape.slice(1), config);
      const x = randomTensor(shape, rng, -3, 3);
      for (let i = 0; i < x.size; i++) if (Math.abs(x.data[i]) < 0.05) x.data[i] = 0.5;
      const dy = randomTensor(shape, rng);
      layer.forward(x, true);
      const dx = layer.backward(dy).data.slice();
      const loss = (): number => {
        const y = layer.forward(x, true).data;
        let s = 0;
        for (let i = 0; i < y.length; i++) s += y[i] * dy.data[i];
        return s;
      };
      gradCheck(loss, x.data, dx, { what: `${kind} dx`, h: 1e-2 });
    });
  }
});

describe('against torch (relu, leaky_relu, tanh, sigmoid, softmax; float64 reference; atol 1e-6, rtol 1e-5)', () => {
  for (const c of ref.activations) {
    it(`${c.kind} ${JSON.stringify(c.config)} [${c.shape}]`, () => {
      const layer = built(c.kind, c.shape.slice(1), c.config);
      const { y, dx } = run(layer, tensor(c.x, c.shape), tensor(c.dy, c.shape));
      assertClose(y, c.y, { atol: 1e-6, rtol: 1e-5, what: 'y' });
      assertClose(dx, c.dx, { atol: 1e-6, rtol: 1e-5, what: 'dx' });
    });
  }
});

describe('numerical stability', () => {
  it('Sigmoid saturates to exactly 0 and 1 without NaN at ±1000', () => {
    const { y, dx } = run(built('sigmoid', [2]), tensor([-1000, 1000], [1, 2]), tensor([1, 1], [1, 2]));
    expect(y).toEqual([0, 1]);
    expect(dx).toEqual([0, 0]);
  });

  it('branch-free ReLU, LeakyReLU, Tanh and Sigmoid match the plain formulas bit for bit, specials included', () => {
    const specials = [NaN, Infinity, -Infinity, 0, -0, 1e-30, -1e-30, 1e-8, -1e-8, 19.9, 20, 20.1, -25, 88, -88, 1000, -1000];
    const values: number[] = specials.slice();
    const rng = testRng(5);
    for (let i = 0; i < 2000; i++) values.push(rng.uniform(-12, 12));
    const n = values.length;
    const x = tensor(values, [1, n]);
    const xs = x.data; // float32-rounded inputs
    const dyValues = values.map((_, i) => (i % 7 === 0 ? NaN : i % 11 === 0 ? Infinity : Math.sin(i)));
    const dy = tensor(dyValues, [1, n]);
    const expected: Record<string, (v: number, g: number) => [number, number]> = {
      // torch.relu keeps NaN (clamp_min); threshold_backward is x ≤ 0 ? 0 : dy, so a NaN x passes dy.
      relu: (v, g) => [v <= 0 ? 0 : v, v <= 0 ? 0 : g],
      'leaky-relu': (v, g) => [v > 0 ? v : 0.25 * v, v > 0 ? g : 0.25 * g],
      tanh: (v) => [Math.tanh(v), NaN],
      sigmoid: (v) => [v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)), NaN],
    };
    for (const [kind, f] of Object.entries(expected)) {
      const layer = built(kind, [n], kind === 'leaky-relu' ? { negativeSlope: 0.25 } : {});
      const y = layer.forward(x, true).data;
      const dx = layer.backward(dy).data;
      for (let i = 0; i < n; i++) {
        const [ey, edx] = f(xs[i], dy.data[i]);
        expect(Object.is(y[i], Math.fround(ey)), `${kind}(${xs[i]}) = ${y[i]}, expected ${Math.fround(ey)}`).toBe(true);
        if (!Number.isNaN(edx) || kind === 'relu' || kind === 'leaky-relu') {
          expect(Object.is(dx[i], Math.fround(edx)), `${kind}' at ${xs[i]} with dy ${dy.data[i]}: ${dx[i]}, expected ${Math.fround(edx)}`).toBe(true);
        }
      }
    }
  });

  it('Softmax is max-subtracted: huge logits give finite probabilities', () => {
    const { y } = run(built('softmax', [3]), tensor([1000, 1000 + Math.log(3), -1000], [1, 3]), tensor([0, 0, 0], [1, 3]));
    assertClose(y, [0.25, 0.75, 0], { atol: 1e-4, rtol: 0 }); // 1000 + ln 3 rounds in float32
    expect(y.every(Number.isFinite)).toBe(true);
  });
});

describe('buffers, shapes and configs', () => {
  it('reuses the output buffer for a batch size and handles a changed batch size', () => {
    const layer = built('tanh', [2]);
    const x = tensor([1, 2, 3, 4], [2, 2]);
    const y = layer.forward(x, true);
    expect(layer.forward(x, true)).toBe(y);
    assertClose(layer.forward(x.slice0(1, 2), true).data, [Math.tanh(3), Math.tanh(4)], { atol: 1e-7 });
  });

  it('shape errors name the layer and both shapes', () => {
    for (const kind of Object.keys(MAKERS)) {
      const layer = MAKERS[kind]({});
      const name = layer.constructor.name;
      expect(() => layer.forward(tensor([1], [1, 1]), true)).toThrow(`${name}: forward() called before build()`);
      layer.build([3], testRng());
      expect(() => layer.forward(tensor([1, 2, 3, 4], [1, 4]), true)).toThrow(`${name}: expected input [batch, 3], got [1, 4]`);
      layer.forward(tensor([1, 2, 3, 4, 5, 6], [2, 3]), true);
      expect(() => layer.backward(tensor([1, 2, 3], [1, 3]))).toThrow(`${name}: expected gradient [2, 3] (the shape of the last output), got [1, 3]`);
    }
  });

  it('Softmax needs a last axis', () => {
    expect(() => new Softmax().build([], testRng())).toThrow(/Softmax: expected a per-sample input shape with a non-empty last axis, got \[\]/);
  });

  it('configs are validated (unknown keys rejected) and getConfig round-trips', () => {
    expect(() => new ReLU({ inplace: true })).toThrow(/ReLU: unknown option "inplace"/);
    expect(() => new Softmax({ axis: 0 })).toThrow(/Softmax: unknown option "axis"/);
    expect(() => new LeakyReLU({ alpha: 0.2 } as never)).toThrow(/LeakyReLU: unknown option "alpha"; known options: negativeSlope/);
    expect(() => new LeakyReLU({ negativeSlope: 'x' } as never)).toThrow(/LeakyReLU: negativeSlope must be a number/);
    expect(new LeakyReLU().getConfig()).toEqual({ negativeSlope: 0.01 });
    expect(new LeakyReLU(new LeakyReLU({ negativeSlope: 0.3 }).getConfig()).negativeSlope).toBe(0.3);
    for (const kind of ['relu', 'tanh', 'sigmoid', 'softmax', 'identity']) {
      expect(MAKERS[kind]({}).getConfig()).toEqual({});
      expect(MAKERS[kind]({}).params()).toEqual([]);
    }
  });
});
