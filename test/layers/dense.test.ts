// Dense: hand-derived values, finite differences, PyTorch Linear references, accumulation, shape and config errors.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Dense } from '../../src/layers/dense.js';
import { Tensor, tensor } from '../../src/tensor/tensor.js';
import { assertClose } from '../util/assert-close.js';
import { gradCheck } from '../util/grad-check.js';
import { randomTensor, testRng } from '../util/rng.js';

interface LinearCase {
  batch: number; in: number; units: number; useBias: boolean;
  x: number[]; weight: number[]; bias: number[] | null; dy: number[];
  y: number[]; dx: number[]; dW: number[]; db: number[] | null;
}
const ref = JSON.parse(readFileSync(new URL('../reference/layers_dense_conv.json', import.meta.url), 'utf8')) as { linear: LinearCase[] };

/** A built Dense with the given weights (and bias). */
function dense(inF: number, units: number, weight: ArrayLike<number>, bias: ArrayLike<number> | null): Dense {
  const layer = new Dense({ units, useBias: bias !== null });
  layer.build([inF], testRng());
  const [w, b] = layer.params();
  w.value.data.set(weight);
  if (bias !== null) b.value.data.set(bias);
  return layer;
}

/** Loss Σ y·dy (in doubles), whose gradient w.r.t. y is dy. */
function dotLoss(layer: Dense, x: Tensor, dy: Float32Array): () => number {
  return () => {
    const y = layer.forward(x, true).data;
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i] * dy[i];
    return s;
  };
}

describe('Dense hand-derived', () => {
  // W = [[1,2],[3,4],[5,6]], b = [0.5,-1,0], x = [[1,-1],[2,0.5]].
  // y = x·Wᵀ + b: row 0 = [1-2+0.5, 3-4-1, 5-6+0] = [-0.5,-2,-1]; row 1 = [2+1+0.5, 6+2-1, 10+3] = [3.5,7,13].
  // dy = [[1,0,0],[0,1,1]]: dW = dyᵀ·x = [x0; x1; x1] = [[1,-1],[2,0.5],[2,0.5]]; db = [1,1,1];
  // dx = dy·W = [W0; W1+W2] = [[1,2],[8,10]].
  const layer = dense(2, 3, [1, 2, 3, 4, 5, 6], [0.5, -1, 0]);
  const x = tensor([1, -1, 2, 0.5], [2, 2]);

  it('forward', () => {
    const y = layer.forward(x, true);
    expect(y.shape).toEqual([2, 3]);
    expect(Array.from(y.data)).toEqual([-0.5, -2, -1, 3.5, 7, 13]);
  });

  it('backward', () => {
    layer.forward(x, true);
    const dx = layer.backward(tensor([1, 0, 0, 0, 1, 1], [2, 3]));
    const [w, b] = layer.params();
    expect(Array.from(w.grad.data)).toEqual([1, -1, 2, 0.5, 2, 0.5]);
    expect(Array.from(b.grad.data)).toEqual([1, 1, 1]);
    expect(dx.shape).toEqual([2, 2]);
    expect(Array.from(dx.data)).toEqual([1, 2, 8, 10]);
  });
});

describe('Dense finite differences (h = 1e-2, relative tol 1e-2)', () => {
  for (const useBias of [true, false]) {
    it(`dx, dW${useBias ? ', db' : ''}`, () => {
      const rng = testRng(11);
      const layer = new Dense({ units: 4, useBias });
      layer.build([5], rng);
      const x = randomTensor([3, 5], rng);
      const dy = randomTensor([3, 4], rng).data;
      layer.forward(x, true);
      const dx = layer.backward(new Tensor(dy, [3, 4])).data.slice();
      const loss = dotLoss(layer, x, dy);
      gradCheck(loss, x.data, dx, { what: 'dx' });
      for (const p of layer.params()) gradCheck(loss, p.value.data, p.grad.data.slice(), { what: p.name });
    });
  }
});

describe('Dense against torch.nn.Linear (float64 reference; atol 1e-5, rtol 1e-4)', () => {
  for (const c of ref.linear) {
    it(`batch ${c.batch}, ${c.in} → ${c.units}${c.useBias ? '' : ', no bias'}`, () => {
      const layer = dense(c.in, c.units, c.weight, c.bias);
      const y = layer.forward(tensor(c.x, [c.batch, c.in]), true);
      assertClose(y.data, c.y, { what: 'y' });
      const dx = layer.backward(tensor(c.dy, [c.batch, c.units]));
      assertClose(dx.data, c.dx, { what: 'dx' });
      const params = layer.params();
      assertClose(params[0].grad.data, c.dW, { what: 'dW' });
      if (c.db !== null) assertClose(params[1].grad.data, c.db, { what: 'db' });
      else expect(params.length).toBe(1);
    });
  }
});

describe('Dense buffers and accumulation', () => {
  it('parameter gradients accumulate across backward calls; dx does not', () => {
    const c = ref.linear[0];
    const layer = dense(c.in, c.units, c.weight, c.bias);
    const x = tensor(c.x, [c.batch, c.in]);
    const dy = tensor(c.dy, [c.batch, c.units]);
    layer.forward(x, true);
    layer.backward(dy);
    layer.forward(x, true);
    const dx = layer.backward(dy);
    assertClose(dx.data, c.dx, { what: 'dx' });
    assertClose(layer.params()[0].grad.data, c.dW.map((v) => 2 * v), { what: 'dW (×2)' });
    assertClose(layer.params()[1].grad.data, (c.db as number[]).map((v) => 2 * v), { what: 'db (×2)' });
  });

  it('reuses its output buffer for a batch size and handles a changed batch size', () => {
    const c = ref.linear[0];
    const layer = dense(c.in, c.units, c.weight, c.bias);
    const x = tensor(c.x, [c.batch, c.in]);
    const y1 = layer.forward(x, true);
    expect(layer.forward(x, false)).toBe(y1);
    const y2 = layer.forward(x.slice0(1, 3), true);
    expect(y2.shape).toEqual([2, c.units]);
    assertClose(y2.data, c.y.slice(c.units, 3 * c.units), { what: 'y (rows 1..2)' });
    assertClose(layer.forward(x, true).data, c.y, { what: 'y (full batch again)' });
  });

  it('defaults to PyTorch Linear init: weight and bias in U(±1/√in)', () => {
    const layer = new Dense({ units: 64 });
    layer.build([100], testRng(5));
    for (const p of layer.params()) {
      let max = 0;
      for (const v of p.value.data) max = Math.max(max, Math.abs(v));
      expect(max, p.name).toBeLessThanOrEqual(0.1);
      expect(max, p.name).toBeGreaterThan(p.name === 'weight' ? 0.099 : 0.08);
    }
  });

  it('params have local names and PyTorch layouts; decayMul is left at its default', () => {
    const layer = new Dense({ units: 3 });
    expect(layer.build([7], testRng())).toEqual([3]);
    const [w, b] = layer.params();
    expect([w.name, w.value.shape, w.grad.shape, w.decayMul]).toEqual(['weight', [3, 7], [3, 7], undefined]);
    expect([b.name, b.value.shape, b.grad.shape, b.decayMul]).toEqual(['bias', [3], [3], undefined]);
  });
});

describe('Dense config', () => {
  it('getConfig rebuilds an identical layer (same seed ⇒ same weights)', () => {
    const a = new Dense({ units: 4, useBias: false, weightInit: { name: 'xavier-normal', gain: 2 }, biasInit: 'zeros' });
    const cfg = a.getConfig();
    expect(cfg).toEqual({ units: 4, useBias: false, weightInit: { name: 'xavier-normal', gain: 2 }, biasInit: 'zeros' });
    const b = new Dense(JSON.parse(JSON.stringify(cfg)));
    a.build([6], testRng(9));
    b.build([6], testRng(9));
    expect(Array.from(b.params()[0].value.data)).toEqual(Array.from(a.params()[0].value.data));
    expect(new Dense({ units: 2 }).getConfig()).toEqual({
      units: 2, useBias: true, weightInit: { name: 'kaiming-uniform', a: Math.sqrt(5) }, biasInit: 'fan-in-uniform',
    });
  });

  it('named initializers are applied', () => {
    const layer = new Dense({ units: 2, weightInit: { name: 'constant', value: 0.5 }, biasInit: 'ones' });
    layer.build([3], testRng());
    expect(Array.from(layer.params()[0].value.data)).toEqual([0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
    expect(Array.from(layer.params()[1].value.data)).toEqual([1, 1]);
  });

  const bad: [Record<string, unknown>, RegExp][] = [
    [{}, /Dense: units must be an integer in \[1, inf\), got undefined/],
    [{ units: 0 }, /Dense: units must be an integer in \[1, inf\), got 0/],
    [{ units: 2.5 }, /Dense: units must be an integer/],
    [{ units: 3, useBias: 'yes' }, /Dense: useBias must be true or false, got "yes"/],
    [{ units: 3, unit: 3 }, /Dense: unknown option "unit"; known options: units, useBias, weightInit, biasInit/],
    [{ units: 3, weightInit: 'xavir' }, /Dense: weightInit: unknown initializer "xavir"; known: /],
    [{ units: 3, biasInit: { name: 'constant' } }, /Dense: biasInit: initializer constant: value must be a number/],
    [{ units: 3, weightInit: 42 }, /Dense: weightInit: initializer must be a name or \{ name, \.\.\.config \}, got 42/],
  ];
  for (const [config, re] of bad) {
    it(`rejects ${JSON.stringify(config)}`, () => {
      expect(() => new Dense(config as never)).toThrow(re);
    });
  }
});

describe('Dense shape errors name the layer and the shapes', () => {
  it('build rejects a non-flat input and suggests Flatten', () => {
    expect(() => new Dense({ units: 10 }).build([1, 28, 28], testRng())).toThrow(
      /Dense: expected a per-sample input shape \[features\], got \[1, 28, 28\] \(add a Flatten layer before it\)/);
  });

  it('forward rejects a wrong input shape', () => {
    const layer = new Dense({ units: 3 });
    layer.build([4], testRng());
    expect(() => layer.forward(tensor(new Array(10).fill(0), [2, 5]), true)).toThrow(/Dense: expected input \[batch, 4\], got \[2, 5\]/);
    expect(() => layer.forward(tensor(new Array(4).fill(0), [4]), true)).toThrow(/Dense: expected input \[batch, 4\], got \[4\]/);
  });

  it('backward checks dy against the last output and the call order', () => {
    const layer = new Dense({ units: 3 });
    expect(() => layer.forward(tensor([0, 0], [1, 2]), true)).toThrow(/Dense: forward\(\) called before build\(\)/);
    expect(() => layer.params()).toThrow(/Dense: params\(\) called before build\(\)/);
    layer.build([2], testRng());
    expect(() => layer.backward(tensor([0, 0, 0], [1, 3]))).toThrow(/Dense: backward\(\) called before forward\(\)/);
    layer.forward(tensor([0, 0, 0, 0], [2, 2]), true);
    expect(() => layer.backward(tensor([0, 0, 0], [1, 3]))).toThrow(/Dense: expected gradient \[2, 3\] \(the shape of the last output\), got \[1, 3\]/);
  });
});
