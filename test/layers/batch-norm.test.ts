// BatchNorm1d / BatchNorm2d: hand-derived statistics, finite-difference gradients (training and eval)
// and PyTorch references over two training steps and an eval step.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BatchNorm1d, BatchNorm2d } from '../../src/layers/batch-norm.js';
import type { Rng } from '../../src/tensor/rng.js';
import { Tensor, tensor } from '../../src/tensor/tensor.js';
import { assertClose } from '../util/assert-close.js';
import { gradCheck } from '../util/grad-check.js';
import { randomTensor, testRng } from '../util/rng.js';

interface BnStep {
  mode: 'train' | 'eval';
  x: number[];
  w: number[];
  y: number[];
  dx: number[];
  dweight: number[];
  dbias: number[];
  running_mean: number[];
  running_var: number[];
  num_batches_tracked: number;
}
interface BnCase {
  name: 'batch-norm1d' | 'batch-norm2d';
  shape: number[];
  momentum: number;
  eps: number;
  weight: number[];
  bias: number[];
  steps: BnStep[];
}
const ref = JSON.parse(readFileSync(new URL('../reference/pool_norm.json', import.meta.url), 'utf8')) as { batchnorm: BnCase[] };

type BatchNorm = BatchNorm1d | BatchNorm2d;

function param(layer: BatchNorm, name: string): { value: Tensor; grad: Tensor } {
  const p = layer.params().find((q) => q.name === name);
  if (!p) throw new Error(`no param ${name}`);
  return p;
}

function buffer(layer: BatchNorm, name: string): Tensor {
  const b = layer.buffers().find((q) => q.name === name);
  if (!b) throw new Error(`no buffer ${name}`);
  return b.value;
}

/** loss = Σ w·y with the layer's output; returns the loss closure used for finite differences. */
function weightedSum(layer: BatchNorm, x: Tensor, w: Tensor, training: boolean): () => number {
  return () => {
    const y = layer.forward(x, training);
    let s = 0;
    for (let i = 0; i < y.size; i++) s += w.data[i] * y.data[i];
    return s;
  };
}

/** Checks dx, dweight and dbias of `layer` against central differences of Σ w·y. */
function checkGradients(layer: BatchNorm, x: Tensor, rng: Rng, training: boolean): void {
  const weight = param(layer, 'weight');
  const bias = param(layer, 'bias');
  // Non-trivial affine params so dx depends on them.
  for (let c = 0; c < weight.value.size; c++) {
    weight.value.data[c] = rng.uniform(0.5, 1.5);
    bias.value.data[c] = rng.uniform(-1, 1);
  }
  const y = layer.forward(x, training);
  const w = randomTensor(y.shape, rng);
  weight.grad.data.fill(0);
  bias.grad.data.fill(0);
  const dx = layer.backward(w).data.slice();
  const loss = weightedSum(layer, x, w, training);
  const mode = training ? 'training' : 'eval';
  // float32 forward, h = 1e-2: relative error below 1e-2 (STYLE.md).
  gradCheck(loss, x.data, dx, { h: 1e-2, tol: 1e-2, what: `${layer.kind} ${mode} dx` });
  gradCheck(loss, weight.value.data, weight.grad.data.slice(), { h: 1e-2, tol: 1e-2, what: `${layer.kind} ${mode} dweight` });
  gradCheck(loss, bias.value.data, bias.grad.data.slice(), { h: 1e-2, tol: 1e-2, what: `${layer.kind} ${mode} dbias` });
}

describe('BatchNorm1d', () => {
  it('normalises with batch statistics and updates running stats with the unbiased variance (hand-derived)', () => {
    const layer = new BatchNorm1d();
    expect(layer.kind).toBe('batch-norm1d');
    expect(layer.build([2], testRng())).toEqual([2]);
    // Feature 0: {1, 3} → mean 2, biased var 1, unbiased var 2. Feature 1: {5, 5} → mean 5, var 0.
    const y = layer.forward(tensor([1, 5, 3, 5], [2, 2]), true);
    const s = 1 / Math.sqrt(1 + 1e-5);
    assertClose(y.data, [-s, 0, s, 0], { atol: 1e-6, what: 'y' });
    // running_mean = 0.9·0 + 0.1·mean, running_var = 0.9·1 + 0.1·unbiased var.
    assertClose(buffer(layer, 'running_mean').data, [0.2, 0.5], { atol: 1e-7, what: 'running_mean' });
    assertClose(buffer(layer, 'running_var').data, [1.1, 0.9], { atol: 1e-7, what: 'running_var' });
    expect(Array.from(buffer(layer, 'num_batches_tracked').data)).toEqual([1]);
    expect(buffer(layer, 'num_batches_tracked').shape).toEqual([]);
    // Eval uses the running stats: (x − 0.2)/√(1.1 + eps) and (x − 0.5)/√(0.9 + eps).
    const e = layer.forward(tensor([1.2, 1.4], [1, 2]), false);
    assertClose(e.data, [1 / Math.sqrt(1.1 + 1e-5), 0.9 / Math.sqrt(0.9 + 1e-5)], { atol: 1e-6, what: 'eval y' });
    // Eval backward is the per-channel scale weight/√(running_var + eps).
    const dx = layer.backward(tensor([2, 3], [1, 2]));
    assertClose(dx.data, [2 / Math.sqrt(1.1 + 1e-5), 3 / Math.sqrt(0.9 + 1e-5)], { atol: 1e-6, what: 'eval dx' });
    expect(Array.from(buffer(layer, 'num_batches_tracked').data)).toEqual([1]);
  });

  it('exposes PyTorch param and buffer names, weight 1 and bias 0 at init', () => {
    const layer = new BatchNorm1d();
    layer.build([3], testRng());
    expect(layer.params().map((p) => p.name)).toEqual(['weight', 'bias']);
    expect(Array.from(param(layer, 'weight').value.data)).toEqual([1, 1, 1]);
    expect(Array.from(param(layer, 'bias').value.data)).toEqual([0, 0, 0]);
    expect(layer.buffers().map((b) => b.name)).toEqual(['running_mean', 'running_var', 'num_batches_tracked']);
    expect(Array.from(buffer(layer, 'running_var').data)).toEqual([1, 1, 1]);
    expect(layer.getConfig()).toEqual({ momentum: 0.1, eps: 1e-5, affine: true });
  });

  it('affine: false has no params and still back-propagates', () => {
    const layer = new BatchNorm1d({ affine: false });
    layer.build([2], testRng());
    expect(layer.params()).toEqual([]);
    const x = tensor([1, 2, 3, 5, 0, -1], [3, 2]);
    const w = tensor([0.3, -1, 2, 0.5, -0.7, 1.1], [3, 2]);
    const loss = (): number => {
      const y = layer.forward(x, true);
      let s = 0;
      for (let i = 0; i < y.size; i++) s += w.data[i] * y.data[i];
      return s;
    };
    loss();
    gradCheck(loss, x.data, layer.backward(w).data.slice(), { h: 1e-2, tol: 1e-2, what: 'dx (no affine)' });
  });

  it('training gradients (dx, dweight, dbias) match finite differences', () => {
    const rng = testRng(21);
    const layer = new BatchNorm1d();
    layer.build([3], rng);
    checkGradients(layer, randomTensor([5, 3], rng, -2, 2), rng, true);
  });

  it('eval gradients match finite differences', () => {
    const rng = testRng(22);
    const layer = new BatchNorm1d();
    layer.build([3], rng);
    layer.forward(randomTensor([6, 3], rng, -2, 3), true); // non-trivial running stats
    checkGradients(layer, randomTensor([4, 3], rng, -2, 2), rng, false);
  });

  it('accumulates parameter gradients across backward calls', () => {
    const rng = testRng(23);
    const layer = new BatchNorm1d();
    layer.build([2], rng);
    const x = randomTensor([4, 2], rng);
    const dy = randomTensor([4, 2], rng);
    layer.forward(x, true);
    layer.backward(dy);
    const once = param(layer, 'weight').grad.data.slice();
    layer.backward(dy);
    assertClose(param(layer, 'weight').grad.data, Array.from(once, (v) => 2 * v), { atol: 1e-6, what: 'dweight twice' });
  });

  it('reuses its output buffer per batch size and evaluates with loaded running stats', () => {
    const layer = new BatchNorm1d({ affine: false });
    layer.build([2], testRng());
    const x = tensor([1, 2, 3, 4, 5, 6], [3, 2]);
    const y1 = layer.forward(x, true);
    expect(layer.forward(x, true)).toBe(y1);
    // State-dict style load: write the buffers in place, then eval computes (x − mean)/√(var + eps).
    buffer(layer, 'running_mean').data.set([1, -1]);
    buffer(layer, 'running_var').data.set([4, 0.25]);
    const y2 = layer.forward(tensor([3, 0], [1, 2]), false);
    expect(y2.shape).toEqual([1, 2]);
    assertClose(y2.data, [2 / Math.sqrt(4 + 1e-5), 1 / Math.sqrt(0.25 + 1e-5)], { atol: 1e-6, what: 'eval with loaded stats' });
  });

  it('throws like PyTorch on one value per channel in training, but not in eval', () => {
    const layer = new BatchNorm1d();
    layer.build([3], testRng());
    expect(() => layer.forward(tensor([1, 2, 3], [1, 3]), true)).toThrow(
      /BatchNorm1d: expected more than 1 value per channel when training, got input \[1, 3\]/,
    );
    expect(() => layer.forward(tensor([1, 2, 3], [1, 3]), false)).not.toThrow();
  });

  it('validates config and shapes, naming them', () => {
    expect(() => new BatchNorm1d({ momentum: 1.5 })).toThrow(/BatchNorm1d: momentum must be a number in \[0, 1\], got 1.5/);
    expect(() => new BatchNorm1d({ eps: 0 })).toThrow(/BatchNorm1d: eps must be a number in \(0, inf\), got 0/);
    expect(() => new BatchNorm1d({ affine: 'yes' as never })).toThrow(/affine must be true or false/);
    expect(() => new BatchNorm1d({ momentm: 0.1 } as never)).toThrow(/unknown option "momentm"/);
    const layer = new BatchNorm1d();
    expect(() => layer.forward(tensor([1, 2], [2, 1]), true)).toThrow(/BatchNorm1d: forward\(\) called before build\(\)/);
    expect(() => layer.build([2, 3, 4], testRng())).toThrow(/BatchNorm1d: expected a per-sample input shape \[features\] or \[channels, length\], got \[2, 3, 4\]/);
    layer.build([3], testRng());
    expect(() => layer.backward(tensor([1, 2, 3], [1, 3]))).toThrow(/BatchNorm1d: backward\(\) called before forward\(\)/);
    expect(() => layer.forward(tensor([1, 2, 3, 4], [2, 2]), true)).toThrow(/BatchNorm1d: expected input \[batch, 3\], got \[2, 2\]/);
    layer.forward(tensor([1, 2, 3, 4, 5, 6], [2, 3]), true);
    expect(() => layer.backward(tensor([1, 2, 3], [1, 3]))).toThrow(/BatchNorm1d: expected gradient \[2, 3\] \(the shape of the last output\), got \[1, 3\]/);
  });
});

describe('BatchNorm2d', () => {
  it('normalises per channel over batch, height and width (hand-derived)', () => {
    const layer = new BatchNorm2d({ momentum: 0.5 });
    expect(layer.kind).toBe('batch-norm2d');
    expect(layer.build([2, 1, 2], testRng())).toEqual([2, 1, 2]);
    // Channel 0 values {0, 2, 4, 6}: mean 3, biased var 5, unbiased 20/3. Channel 1 all 1: var 0.
    const y = layer.forward(tensor([0, 2, 1, 1, 4, 6, 1, 1], [2, 2, 1, 2]), true);
    const s = 1 / Math.sqrt(5 + 1e-5);
    assertClose(y.data, [-3 * s, -s, 0, 0, s, 3 * s, 0, 0], { atol: 1e-6, what: 'y' });
    assertClose(buffer(layer, 'running_mean').data, [1.5, 0.5], { atol: 1e-7, what: 'running_mean' });
    assertClose(buffer(layer, 'running_var').data, [0.5 + 10 / 3, 0.5], { atol: 1e-6, what: 'running_var' });
  });

  it('batch 1 trains when a channel has several pixels', () => {
    const layer = new BatchNorm2d();
    layer.build([1, 2, 1], testRng());
    assertClose(layer.forward(tensor([1, 3], [1, 1, 2, 1]), true).data, [-1 / Math.sqrt(1 + 1e-5), 1 / Math.sqrt(1 + 1e-5)], { atol: 1e-6 });
    const one = new BatchNorm2d();
    one.build([2, 1, 1], testRng());
    expect(() => one.forward(tensor([1, 2], [1, 2, 1, 1]), true)).toThrow(/more than 1 value per channel/);
  });

  it('training and eval gradients match finite differences', () => {
    const rng = testRng(31);
    const layer = new BatchNorm2d();
    layer.build([2, 3, 2], rng);
    checkGradients(layer, randomTensor([3, 2, 3, 2], rng, -2, 2), rng, true);
    checkGradients(layer, randomTensor([2, 2, 3, 2], rng, -2, 2), rng, false);
  });

  it('rejects a non-image input shape', () => {
    expect(() => new BatchNorm2d().build([4], testRng())).toThrow(/BatchNorm2d: expected a per-sample input shape \[channels, height, width\], got \[4\]/);
  });
});

describe('batch norm against PyTorch (two training steps, then eval; float64 reference)', () => {
  for (const c of ref.batchnorm) {
    it(`${c.name} ${JSON.stringify(c.shape)} momentum ${c.momentum} eps ${c.eps}`, () => {
      const layer = c.name === 'batch-norm1d'
        ? new BatchNorm1d({ momentum: c.momentum, eps: c.eps })
        : new BatchNorm2d({ momentum: c.momentum, eps: c.eps });
      expect(layer.build(c.shape.slice(1), testRng())).toEqual(c.shape.slice(1));
      const weight = param(layer, 'weight');
      const bias = param(layer, 'bias');
      weight.value.data.set(c.weight);
      bias.value.data.set(c.bias);
      c.steps.forEach((step, k) => {
        const what = `${c.name} step ${k} (${step.mode})`;
        weight.grad.data.fill(0);
        bias.grad.data.fill(0);
        const y = layer.forward(tensor(step.x, c.shape), step.mode === 'train');
        const dx = layer.backward(tensor(step.w, c.shape));
        // float32 arithmetic vs float64 reference: atol 1e-5, rtol 1e-4 (dx of a normalised batch sums
        // cancelling terms, so it gets atol 5e-5).
        assertClose(y.data, step.y, { atol: 1e-5, rtol: 1e-4, what: `${what} y` });
        assertClose(dx.data, step.dx, { atol: 5e-5, rtol: 1e-4, what: `${what} dx` });
        assertClose(weight.grad.data, step.dweight, { atol: 5e-5, rtol: 1e-4, what: `${what} dweight` });
        assertClose(bias.grad.data, step.dbias, { atol: 5e-5, rtol: 1e-4, what: `${what} dbias` });
        assertClose(buffer(layer, 'running_mean').data, step.running_mean, { atol: 1e-6, rtol: 1e-5, what: `${what} running_mean` });
        assertClose(buffer(layer, 'running_var').data, step.running_var, { atol: 1e-6, rtol: 1e-5, what: `${what} running_var` });
        expect(buffer(layer, 'num_batches_tracked').data[0]).toBe(step.num_batches_tracked);
      });
    });
  }
});
