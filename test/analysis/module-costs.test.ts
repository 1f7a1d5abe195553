// Summary of user modules from a trace: per-op parameters, MACs and FLOPs per sample, hand-checked.
import { describe, expect, it } from 'vitest';
import { analyzeModule, pruneChannels, registerOpCost } from '../../src/analysis/index.js';
import { Module, Parameter, Variable, nn, ops } from '../../src/index.js';

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
        return ops.crossEntropy(this.fc.forward(x), new Array(x.shape[0]).fill(1));
      }
    }
    expect(new Odd().build([2]).summary()).toContain('? = no cost function for crossEntropy');
    registerOpCost('crossEntropy', (op) => ({ macs: 0, flops: op.inputs[0].value.size * 3 }));
    expect(new Odd().build([2]).summary()).not.toContain('?');
    expect(() => analyzeModule(new Odd(), {})).toThrow('traceModule: Odd has no known input shape; call build(inputShape) or run a forward first, or pass inputShapes');
  });

  it('pruneChannels says it takes Sequential models only', () => {
    expect(() => pruneChannels(new Small().build([4]) as never, { layer: 0, count: 1 })).toThrow(/pruneChannels: model must be a Sequential \(got Small\); user Modules are not pruned yet/);
  });
});
