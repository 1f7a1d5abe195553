// Summary of user modules from a trace: per-op parameters, MACs and FLOPs per sample, hand-checked.
import { describe, expect, it } from 'vitest';
import { analyzeModule, pruneChannels, registerOpCost } from '../../src/analysis/index.js';
import { Module, Parameter, Rng, Tensor, Variable, nn, ops, randn } from '../../src/index.js';
import { Node } from '../../src/ops/tape.js';

class Small extends Module {
  fc = new nn.Linear(4, 3);
  w = Parameter.ones([3, 2]);
  b = Parameter.zeros([2]);
  forward(x: Variable): Variable {
    return ops.relu(this.fc.forward(x)).matmul(this.w).add(this.b).mean(-1, { keepDims: true });
  }
}

describe('analyzeModule / Module.summary', () => {
  it('counts each op per sample (hand-derived)', () => {
    const a = analyzeModule(new Small().build([4]));
    const rows = a.rows.map((r) => [r.name, r.kind, r.outputShape.join('x'), r.params, r.macs, r.flops]);
    expect(rows).toEqual([
      // Linear 4→3: MACs 4·3 = 12; FLOPs 2·12 + 3 bias adds = 27; params 12 + 3.
      ['fc', 'dense', '3', 15, 12, 27],
      // ReLU: one compare per element.
      ['relu', 'relu', '3', 0, 0, 3],
      // [3]·[3, 2]: 2 outputs of 3 terms: MACs 6, FLOPs 12; the parameter w (6) counted at its first use.
      ['matmul', 'matmul', '2', 6, 6, 12],
      // + b: 2 adds; b (2 parameters).
      ['add', 'add', '2', 2, 0, 2],
      // mean over 2 elements: one add and one divide = 2 (n input elements).
      ['mean', 'mean', '1', 0, 0, 2],
    ]);
    expect(a.totals).toEqual({ params: 23, macs: 18, flops: 46, unknownRows: 0 });
  });

  it('counts a shared layer\'s FLOPs at every use and its parameters once; conv by its formula', () => {
    class Shared extends Module {
      conv = new nn.Conv2d(1, 2, 3);
      flat = new nn.Flatten();
      lin = new nn.Linear(18, 18);
      forward(x: Variable): Variable {
        return this.lin.forward(this.lin.forward(this.flat.forward(this.conv.forward(x))));
      }
    }
    const a = analyzeModule(new Shared().build([1, 5, 5]));
    // Conv 1→2, 3×3, on 5×5 → [2, 3, 3]: MACs = 9 positions · 2 · 9 taps = 162; FLOPs 2·162 + 18 bias = 342.
    expect(a.rows[0]).toMatchObject({ name: 'conv', params: 20, macs: 162, flops: 342 });
    // Linear 18→18 twice: MACs 324 each, FLOPs 2·324 + 18 = 666 each; parameters (342) once.
    expect(a.rows.slice(2).map((r) => [r.name, r.params, r.macs, r.flops])).toEqual([['lin', 342, 324, 666], ['lin', 0, 324, 666]]);
    expect(a.totals).toMatchObject({ params: 362, macs: 810, flops: 1674 });
  });

  it('summary() prints the table; an op without a cost is marked and named', () => {
    const text = new Small().build([4]).summary();
    expect(text).toMatch(/0  fc +dense +\[batch, 3\] +15 +12 +27/);
    expect(text).toMatch(/Total +23 +18 +46/);
    class Odd extends Module {
      fc = new nn.Linear(2, 2);
      forward(x: Variable): Variable {
        // An op of the user's own (a node no built-in cost knows): x ↦ 3x.
        const h = this.fc.forward(x);
        const y = new Tensor(Float32Array.from(h.value.data, (v) => 3 * v), h.shape);
        return new Variable(y, {}, new Node('tripleTest', [h], [], (g) => [Float32Array.from(g, (v) => 3 * v)], y.size));
      }
    }
    expect(new Odd().build([2]).summary()).toContain('? = no cost function for tripleTest');
    registerOpCost('tripleTest', (op) => ({ macs: 0, flops: op.output.value.size }));
    expect(new Odd().build([2]).summary()).not.toContain('?');
    expect(() => analyzeModule(new Odd(), {})).toThrow('traceModule: Odd has no known input shape; call build(inputShape) or run a forward first, or pass inputShapes');
  });

  it('pruneChannels says it takes Sequential models only', () => {
    expect(() => pruneChannels(new Small().build([4]) as never, { layer: 0, count: 1 })).toThrow(/pruneChannels: model must be a Sequential \(got Small\); user Modules are not pruned yet/);
  });

  // Convention of the existing rules (and of the layer costs they mirror): forward FLOPs of the whole
  // traced batch divided by the batch; a multiply-add is 2 FLOPs (MACs counted separately), an add,
  // multiply, compare, select or transcendental is 1, copies and views are 0.
  it('every built-in op has a cost: the functional nn ops, reductions, where and the losses (hand-derived, per sample)', () => {
    /** A module running `f` with parameters `params` (fields p0, p1, …); the rows of its analysis that are not `skip`. */
    class Fn extends Module {
      constructor(readonly f: (x: Variable, p: Parameter[]) => Variable, params: Parameter[]) {
        super();
        params.forEach((p, i) => { (this as unknown as Record<string, Parameter>)[`p${i}`] = p; });
      }
      forward(x: Variable): Variable {
        return this.f(x, Object.keys(this).filter((k) => /^p\d+$/.test(k)).map((k) => (this as unknown as Record<string, Parameter>)[k]));
      }
    }
    const rng = new Rng(3);
    const param = (shape: number[]): Parameter => new Parameter(randn(shape, rng));
    const cost = (f: (x: Variable, p: Parameter[]) => Variable, input: number[], params: number[][] = [], op?: string) => {
      const rows = analyzeModule(new Fn(f, params.map(param)).build(input)).rows;
      const row = op === undefined ? rows[rows.length - 1] : rows.find((r) => r.kind === op);
      expect(row, op).toBeDefined();
      return [row!.kind, row!.macs, row!.flops];
    };
    // conv2d [2, 5, 5] * [3, 2, 2, 2] + bias, padding 1 → [3, 6, 6] = 108 outputs of K = 2·2·2 = 8 taps:
    // MACs 864, FLOPs 2·864 + 108 bias adds = 1836.
    expect(cost((x, [w, b]) => ops.conv2d(x, w, b, { padding: 1 }), [2, 5, 5], [[3, 2, 2, 2], [3]])).toEqual(['conv2d', 864, 1836]);
    // Grouped and dilated, no bias: [4, 6, 6] * [4, 2, 3, 3], groups 2, dilation 2 → [4, 2, 2] = 16 outputs, K = 18: 288, 576.
    expect(cost((x, [w]) => ops.conv2d(x, w, null, { groups: 2, dilation: 2 }), [4, 6, 6], [[4, 2, 3, 3]])).toEqual(['conv2d', 288, 576]);
    // conv1d [2, 7] * [4, 2, 3] + bias, stride 2 → [4, 3] = 12 outputs, K = 6: MACs 72, FLOPs 144 + 12 = 156.
    expect(cost((x, [w, b]) => ops.conv1d(x, w, b, { stride: 2 }), [2, 7], [[4, 2, 3], [4]])).toEqual(['conv1d', 72, 156]);
    // maxPool2d 2×2 on [3, 6, 6] → 27 outputs · 3 compares = 81; 3×3 stride 2 padding 1 on [1, 5, 5] → 9 outputs · 8 = 72.
    expect(cost((x) => ops.maxPool2d(x, { kernelSize: 2 }), [3, 6, 6])).toEqual(['maxPool2d', 0, 81]);
    expect(cost((x) => ops.maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }), [1, 5, 5])).toEqual(['maxPool2d', 0, 72]);
    // avgPool2d 3×3 stride 3 on [3, 6, 6] → 12 outputs · 9 = 108; 2×3 stride 1 on [1, 3, 4] → 2·2 = 4 outputs · 6 = 24.
    expect(cost((x) => ops.avgPool2d(x, { kernelSize: 3 }), [3, 6, 6])).toEqual(['avgPool2d', 0, 108]);
    expect(cost((x) => ops.avgPool2d(x, { kernelSize: [2, 3], stride: 1 }), [1, 3, 4])).toEqual(['avgPool2d', 0, 24]);
    // Over a constant (clamp(x, 10) is 10 everywhere in the trace) the window is the recorded one, not
    // whatever fits the values: 3×3 stride 1 padding 1 on [1, 4, 4] → 16 outputs · 8 = 128; avg 2×2 stride 1 on [2, 3, 3] → 8 · 4 = 32.
    expect(cost((x) => ops.maxPool2d(ops.clamp(x, 10), { kernelSize: 3, stride: 1, padding: 1 }), [1, 4, 4])).toEqual(['maxPool2d', 0, 128]);
    expect(cost((x) => ops.avgPool2d(ops.clamp(x, 10), { kernelSize: 2, stride: 1 }), [2, 3, 3])).toEqual(['avgPool2d', 0, 32]);
    // max over the last two axes of [3, 3, 3]: 27 inputs into 3 = 24 compares; min over the last of [3, 2, 2]: 12 − 6 = 6.
    expect(cost((x) => ops.max(x, [2, 3]), [3, 3, 3])).toEqual(['max', 0, 24]);
    expect(cost((x) => ops.min(x, -1, { keepDims: true }), [3, 2, 2])).toEqual(['min', 0, 6]);
    // var over 27 elements: 4·27 = 108 (the batch axis included: 2·27 inputs, 4·54 / 2 per sample).
    expect(cost((x) => ops.var(x, [1, 2, 3]), [3, 3, 3])).toEqual(['var', 0, 108]);
    // where over [3]: 3 selects.
    expect(cost((x) => ops.where(new Tensor(Float32Array.of(1, 0, 1), [3]), x, ops.neg(x)), [3])).toEqual(['where', 0, 3]);
    // layerNorm over rows of 5 in [4, 5] (20 elements): 6·20 + 20 (weight) + 20 (bias) = 160; without the affine 120.
    expect(cost((x, [w, b]) => ops.layerNorm(x, 5, w, b), [4, 5], [[5], [5]])).toEqual(['layerNorm', 0, 160]);
    expect(cost((x) => ops.layerNorm(x, 5), [4, 5])).toEqual(['layerNorm', 0, 120]);
    // batchNorm on [3, 4] with running statistics: 2 per element = 24.
    const stats = [new Tensor(new Float32Array(3), [3]), new Tensor(new Float32Array(3).fill(1), [3])];
    expect(cost((x, [w, b]) => ops.batchNorm(x, stats[0], stats[1], w, b), [3, 4], [[3], [3]])).toEqual(['batchNorm', 0, 24]);
    // embedding: a row copy, no arithmetic.
    expect(cost((_x, [w]) => ops.embedding([1, 0, 1], w), [2], [[3, 4]])).toEqual(['embedding', 0, 0]);
    // dropout (recorded only when training): a multiply per element, 6.
    expect(cost((x) => ops.dropout(x, 0.5, { training: true, rng: new Rng(1) }), [6])).toEqual(['dropout', 0, 6]);
    // crossEntropy on [batch 2, 4] logits, mean: 7·8 + 1 = 57 for the batch, 28.5 per sample; 'none': 7·8 = 56 → 28.
    expect(cost((x) => ops.crossEntropy(x, new Array(x.shape[0]).fill(3)), [4])).toEqual(['crossEntropy', 0, 28.5]);
    expect(cost((x) => ops.crossEntropy(x, new Array(x.shape[0]).fill(1), { reduction: 'none' }), [4])).toEqual(['crossEntropy', 0, 28]);
    // mse over [batch 2, 3] = 6 elements: 3·6 = 18, 9 per sample.
    expect(cost((x) => ops.mse(x, new Tensor(new Float32Array(x.size), x.shape)), [3])).toEqual(['mse', 0, 9]);
    // Copies cost nothing.
    expect(cost((x) => ops.stack([x, x], 1), [3])).toEqual(['stack', 0, 0]);
  });
});
