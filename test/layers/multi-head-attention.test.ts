// MultiHeadAttention: a hand-derived one-head case, finite differences for the input and all four
// params (with and without the causal mask), PyTorch 1.13 nn.MultiheadAttention(batch_first=True)
// references with copied weights (forward and every gradient), torch's init, buffers reused, errors.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createLayer } from '../../src/layers/index.js';
import { MultiHeadAttention } from '../../src/layers/multi-head-attention.js';
import { Rng } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { assertClose } from '../util/assert-close.js';
import { analyticGrads, checkLayerGradients } from '../util/layer-check.js';
import { randomTensor, testRng } from '../util/rng.js';

interface MhaCase {
  batch: number; T: number; embedDim: number; numHeads: number; useBias: boolean; causal: boolean;
  x: number[]; w: number[]; y: number[]; dx: number[]; [key: string]: unknown;
}
const ref = JSON.parse(readFileSync(new URL('../reference/layers_new.json', import.meta.url), 'utf8')) as { mha: MhaCase[] };

describe('MultiHeadAttention', () => {
  it('matches a hand-derived one-head case: identity projections, two positions', () => {
    // E = 1, H = 1, W_in = [1, 1, 1], W_out = [1], biases 0: q = k = v = x. x = [0, 1]:
    // S = q·kᵀ/√1 = [[0, 0], [0, 1]]; P row 0 = [½, ½], row 1 = [1/(1+e), e/(1+e)] = [0.2689414, 0.7310586];
    // y = P·v = [0.5, 0.7310586]. Causal: row 0 sees only key 0, so y₀ = v₀ = 0.
    for (const causal of [false, true]) {
      const mha = new MultiHeadAttention({ embedDim: 1, numHeads: 1, causal });
      mha.build([2, 1], new Rng(0));
      const [inW, inB, outW, outB] = mha.params();
      inW.value.data.set([1, 1, 1]);
      inB.value.data.fill(0);
      outW.value.data[0] = 1;
      outB.value.data[0] = 0;
      const y = mha.forward(new Tensor(Float32Array.of(0, 1), [1, 2, 1]), false);
      assertClose(y.data, [causal ? 0 : 0.5, 0.7310585786], { atol: 1e-7, rtol: 0, what: `y (causal ${causal})` });
      assertClose((mha.attentionWeights as Tensor).data, causal ? [1, 0, 0.2689414214, 0.7310585786] : [0.5, 0.5, 0.2689414214, 0.7310585786],
        { atol: 1e-7, rtol: 0, what: 'P' });
    }
  });

  for (const [i, c] of ref.mha.entries()) {
    it(`matches torch.nn.MultiheadAttention case ${i} (B ${c.batch}, T ${c.T}, E ${c.embedDim}, H ${c.numHeads}, bias ${c.useBias}, causal ${c.causal}): y and every gradient`, () => {
      const mha = createLayer('multi-head-attention', { embedDim: c.embedDim, numHeads: c.numHeads, useBias: c.useBias, causal: c.causal });
      mha.build([c.T, c.embedDim], new Rng(0));
      const names = mha.params().map((p) => p.name);
      expect(names).toEqual(c.useBias ? ['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias'] : ['in_proj_weight', 'out_proj.weight']);
      for (const p of mha.params()) p.value.data.set(c[p.name] as number[]);
      const got = analyticGrads(mha, new Tensor(Float32Array.from(c.x), [c.batch, c.T, c.embedDim]), Float32Array.from(c.w));
      assertClose(got.y, c.y, { atol: 1e-5, rtol: 1e-5, what: 'y' });
      assertClose(got.dx, c.dx, { atol: 1e-5, rtol: 1e-4, what: 'dx' });
      for (const name of names) assertClose(got.params[name], c[`d_${name}`] as number[], { atol: 1e-5, rtol: 1e-4, what: `d ${name}` });
    });
  }

  it('its gradients equal central differences for the input and all four params (plain and causal, 2 heads)', () => {
    for (const causal of [false, true]) {
      const mha = new MultiHeadAttention({ embedDim: 6, numHeads: 2, causal });
      mha.build([4, 6], testRng(1));
      const rng = testRng(2);
      for (const p of mha.params()) if (p.name.endsWith('bias')) p.value.data.set(randomTensor([p.value.size], rng, -0.5, 0.5).data);
      const x = randomTensor([2, 4, 6], rng);
      // Measured worst 7e-5; a 0.5% error in the query or value gradient alone fails (checked by mutation).
      expect(checkLayerGradients(mha, x, randomTensor([2, 4, 6], rng).data, { h: 1e-2, what: `mha causal ${causal}` })).toBeLessThan(2e-3);
    }
  });

  it('initialises like torch: xavier-uniform in_proj_weight, Linear-default out_proj.weight, zero biases', () => {
    const mha = new MultiHeadAttention({ embedDim: 16, numHeads: 4 });
    mha.build([3, 16], new Rng(9));
    const [inW, inB, outW, outB] = mha.params();
    const xavier = Math.sqrt(6 / (16 + 48));
    const linear = 1 / Math.sqrt(16);
    expect(Math.max(...Array.from(inW.value.data, Math.abs))).toBeLessThanOrEqual(xavier);
    expect(Math.max(...Array.from(inW.value.data, Math.abs))).toBeGreaterThan(0.9 * xavier);
    expect(Math.max(...Array.from(outW.value.data, Math.abs))).toBeLessThanOrEqual(linear);
    expect(Math.max(...Array.from(outW.value.data, Math.abs))).toBeGreaterThan(0.9 * linear);
    expect(Array.from(inB.value.data).every((v) => v === 0) && Array.from(outB.value.data).every((v) => v === 0)).toBe(true);
  });

  it('reuses its buffers from step to step and accumulates gradients', () => {
    const mha = new MultiHeadAttention({ embedDim: 4, numHeads: 2 });
    mha.build([3, 4], new Rng(0));
    const x = randomTensor([2, 3, 4], testRng(3));
    const g = randomTensor([2, 3, 4], testRng(4));
    const y1 = mha.forward(x, true);
    const dx1 = mha.backward(g);
    const dIn = Float32Array.from(mha.params()[0].grad.data);
    expect(mha.forward(x, true)).toBe(y1);
    expect(mha.backward(g)).toBe(dx1);
    assertClose(mha.params()[0].grad.data, Array.from(dIn, (v) => 2 * v), { atol: 1e-6, rtol: 1e-6, what: 'accumulated dW_in' });
  });

  it('rejects bad configs and shapes with messages naming the value', () => {
    expect(() => new MultiHeadAttention({ embedDim: 10, numHeads: 3 })).toThrow(/embedDim must be divisible by numHeads, got embedDim 10 and numHeads 3/);
    expect(() => new MultiHeadAttention({ embedDim: 8 } as never)).toThrow(/numHeads must be an integer in \[1/);
    expect(() => createLayer('multi-head-attention', { embedDim: 8, numHeads: 2, dropout: 0.1 })).toThrow(/unknown option "dropout"/);
    expect(() => new MultiHeadAttention({ embedDim: 8, numHeads: 2 }).build([5, 6], new Rng(0))).toThrow(/expected a per-sample input shape \[sequenceLength, 8\], got \[5, 6\]/);
    const mha = new MultiHeadAttention({ embedDim: 8, numHeads: 2 });
    expect(() => mha.params()).toThrow(/before build/);
    mha.build([5, 8], new Rng(0));
    expect(() => mha.forward(new Tensor(new Float32Array(32), [1, 4, 8]), true)).toThrow(/expected input \[batch, 5, 8\], got \[1, 4, 8\]/);
    expect(createLayer('multi-head-attention', mha.getConfig()).getConfig()).toEqual(mha.getConfig());
  });
});
