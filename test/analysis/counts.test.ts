// Parameter, MAC and FLOP counts: every built-in layer kind against hand counts, and the third
// assignment's network against its conv formula H'·W'·C_out·(2·k²·C_in) + bias + activation.
import { describe, expect, it } from 'vitest';
import {
  AvgPool2D, BatchNorm1d, BatchNorm2d, Conv2D, Dense, Dropout, Flatten, Identity, LeakyReLU, MaxPool2D, ReLU,
  Sequential, Sigmoid, Softmax, Tanh, type Layer,
} from '../../src/index.js';
import {
  analyzeModel, formatAnalysis, layerCost, modelSummaryWithFlops, registerLayerCost,
} from '../../src/analysis/index.js';

/** The third assignment's best network on 1×28×28: conv 3×3 12 → ReLU → conv 5×5 16 → ReLU → flatten → fc 100 → ReLU → fc 10. */
function assignmentNet(c1 = 12, c2 = 16, f1 = 100): Sequential {
  return new Sequential([
    new Conv2D({ filters: c1, kernelSize: 3 }), new ReLU(),
    new Conv2D({ filters: c2, kernelSize: 5 }), new ReLU(),
    new Flatten(),
    new Dense({ units: f1 }), new ReLU(),
    new Dense({ units: 10 }),
  ], { inputShape: [1, 28, 28] });
}

describe('analyzeModel: the third assignment network (hand count)', () => {
  it('reproduces conv MACs + bias + activation per conv layer and the total', () => {
    const a = analyzeModel(assignmentNet());
    const flops = a.rows.map((r) => r.flops);
    // conv1: 28−3+1 = 26 → 26·26·12 = 8,112 outputs, each 2·3²·1 = 18 FLOPs: 146,016; bias 8,112; ReLU 8,112.
    // conv2: 26−5+1 = 22 → 22·22·16 = 7,744 outputs, each 2·5²·12 = 600 FLOPs: 4,646,400; bias 7,744; ReLU 7,744.
    // fc1: 2·7,744·100 = 1,548,800 + 100 bias; ReLU 100.  fc2: 2·100·10 = 2,000 + 10 bias.
    expect(flops).toEqual([146_016 + 8_112, 8_112, 4_646_400 + 7_744, 7_744, 0, 1_548_800 + 100, 100, 2_000 + 10]);
    expect(a.totals.flops).toBe(6_375_138);
    // The assignment's per-conv formula = the conv row plus its ReLU row.
    const convFormula = (h: number, w: number, cOut: number, k: number, cIn: number) => h * w * cOut * (2 * k * k * cIn) + 2 * h * w * cOut;
    expect(flops[0] + flops[1]).toBe(convFormula(26, 26, 12, 3, 1));
    expect(flops[2] + flops[3]).toBe(convFormula(22, 22, 16, 5, 12));
    expect(a.rows.map((r) => r.macs)).toEqual([73_008, 0, 2_323_200, 0, 0, 774_400, 0, 1_000]);
    // Params: 12·9 + 12 = 120; 16·12·25 + 16 = 4,816; 100·7,744 + 100 = 774,500; 10·100 + 10 = 1,010.
    expect(a.rows.map((r) => r.params)).toEqual([120, 0, 4_816, 0, 0, 774_500, 0, 1_010]);
    expect(a.totals.params).toBe(assignmentNet().countParams());
  });

  it('shrinks with the pruned (1, 7, 72) shape the way the formula says', () => {
    const full = analyzeModel(assignmentNet()).totals.flops;
    const small = analyzeModel(assignmentNet(1, 7, 72)).totals.flops;
    // conv1: 676·(18 + 2) = 13,520; conv2: 3,388·(2·25·1 + 2) = 176,176; fc1: 2·3,388·72 + 144 = 488,016; fc2: 1,450.
    expect(small).toBe(13_520 + 176_176 + 488_016 + 1_450);
    expect(full / small).toBeGreaterThan(9);
  });
});

describe('analyzeModel: every built-in layer kind (hand counts)', () => {
  // [2, 6, 6] → conv 3×3 pad 1 (3) → BN2d → LeakyReLU → MaxPool 2 → AvgPool 3 s1 p1 → Tanh → Dropout → Flatten (27)
  //           → Dense 5 → BN1d → Sigmoid → Identity → ReLU → Dense 4 (no bias) → Softmax
  const layers: Layer[] = [
    new Conv2D({ filters: 3, kernelSize: 3, padding: 1 }), new BatchNorm2d(), new LeakyReLU(), new MaxPool2D({ poolSize: 2 }),
    new AvgPool2D({ poolSize: 3, stride: 1, padding: 1 }), new Tanh(), new Dropout({ rate: 0.3 }), new Flatten(),
    new Dense({ units: 5 }), new BatchNorm1d(), new Sigmoid(), new Identity(), new ReLU(), new Dense({ units: 4, useBias: false }), new Softmax(),
  ];
  const model = new Sequential(layers, { inputShape: [2, 6, 6] });
  const a = analyzeModel(model);
  const expected: Record<string, [number, number, number, number, number, number]> = {
    // kind: [params, macs, flops, trainForwardFlops, backwardFlops, activations]
    // conv: P = 36 positions, K = 2·3·3 = 18 taps, 3 filters: MACs 1,944; 2·1,944 + 108 bias;
    //       backward 4·1,944 + 36·18 (col2im) + 108 (db) = 8,532.
    'conv2d': [57, 1_944, 3_996, 3_996, 8_532, 108],
    // BN2d on n = 108: eval 2n; train 6n + 2n (affine); backward 7n; keeps y and x̂.
    'batch-norm2d': [6, 0, 216, 864, 756, 216],
    'leaky-relu': [0, 0, 216, 216, 216, 108],
    // 27 outputs, window 4: 3 comparisons each; backward 1 per output.
    'max-pool2d': [0, 0, 81, 81, 27, 27],
    // 27 outputs, window 9: 8 adds + 1 divide; backward 10.
    'avg-pool2d': [0, 0, 243, 243, 270, 27],
    'tanh': [0, 0, 27, 27, 81, 27],
    'dropout': [0, 0, 0, 27, 27, 54],
    'flatten': [0, 0, 0, 0, 0, 0],
    // 27 → 5: MACs 135; 270 + 5; backward 540 + 5.
    'dense': [140, 135, 275, 275, 545, 5],
    'batch-norm1d': [10, 0, 10, 40, 35, 10],
    'sigmoid': [0, 0, 15, 15, 15, 5],
    'identity': [0, 0, 0, 0, 0, 0],
    'relu': [0, 0, 5, 5, 5, 5],
    // one row of c = 4: forward 5c − 2 = 18, backward 4c − 1 = 15.
    'softmax': [0, 0, 18, 18, 15, 4],
  };

  it('gives each row its hand-counted params, MACs, FLOPs and activations', () => {
    expect(a.rows.map((r) => r.kind)).toEqual(layers.map((l) => l.kind));
    for (const r of a.rows) {
      if (r.index === 13) continue; // the bias-free dense is checked below
      expect([r.params, r.macs, r.flops, r.trainForwardFlops, r.backwardFlops, r.activations], `${r.index} ${r.kind}`).toEqual(expected[r.kind]);
      expect(r.trainFlops).toBe(r.trainForwardFlops + r.backwardFlops);
      expect(r.activationBytes).toBe(4 * r.activations);
    }
    // Dense 5 → 4 without bias: MACs 20, forward 40, backward 80.
    const last = a.rows[13];
    expect([last.params, last.macs, last.flops, last.backwardFlops]).toEqual([20, 20, 40, 80]);
  });

  it('counts BatchNorm running statistics as buffers and sums the totals', () => {
    expect(a.rows[1].bufferElements).toBe(3 + 3 + 1);
    expect(a.rows[9].bufferElements).toBe(5 + 5 + 1);
    expect(a.totals.params).toBe(model.countParams());
    expect(a.totals.flops).toBe(a.rows.reduce((s, r) => s + r.flops, 0));
    expect(a.totals.trainFlops).toBe(a.rows.reduce((s, r) => s + r.trainFlops, 0));
    expect(a.rows[4].inputShape).toEqual([3, 3, 3]);
  });

  it('formats a summary table with FLOP columns and totals', () => {
    const text = modelSummaryWithFlops(model);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^\s*#\s+Layer \(kind\)\s+Output shape\s+Params\s+MACs\s+FLOPs\s+Train FLOPs\s+Act\. memory$/);
    expect(lines[2]).toMatch(/^\s*0\s+conv2d\s+\[batch, 3, 6, 6\]\s+57\s+1,944\s+3,996\s+12,528\s+432 B$/);
    expect(text).toContain(`Total`);
    expect(text).toContain(a.totals.flops.toLocaleString('en-US'));
    expect(text).toContain('Input: [batch, 2, 6, 6]');
    expect(formatAnalysis(a.rows).split('\n')).toHaveLength(lines.length - 1); // rows only: no input line
  });
});

describe('layer cost registry', () => {
  it('names the kind when a layer has no cost function, and accepts a registered one', () => {
    const custom: Layer = { kind: 'square-test', build: (s) => s.slice(), forward: (x) => x, backward: (d) => d, params: () => [], getConfig: () => ({}) };
    const model = new Sequential([custom], { inputShape: [4] });
    expect(() => analyzeModel(model)).toThrow('analyzeModel: layer 0: layerCost: no cost function for layer kind "square-test"');
    registerLayerCost('square-test', (_l, input) => ({ macs: 0, flops: input[0], trainForwardFlops: input[0], backwardFlops: 2 * input[0], activations: input[0] }));
    expect(analyzeModel(model).totals.trainFlops).toBe(12);
    expect(layerCost(new ReLU(), [2, 3], [2, 3]).flops).toBe(6);
    expect(() => registerLayerCost('relu', () => ({ macs: 0, flops: 0, trainForwardFlops: 0, backwardFlops: 0, activations: 0 }))).toThrow('already registered');
  });
});

describe('a layer without a cost function (issue 13: custom layers keep the FLOP columns)', () => {
  it('unknownCosts: mark keeps the row with NaN costs; the summary shows ? and partial totals', () => {
    const custom: Layer = { kind: 'mystery-test', build: (s) => s.slice(), forward: (x) => x, backward: (d) => d, params: () => [], getConfig: () => ({}) };
    const model = new Sequential([new Dense({ units: 4 }), custom, new ReLU()], { inputShape: [3] });
    expect(() => analyzeModel(model)).toThrow(/no cost function for layer kind "mystery-test"/);
    const a = analyzeModel(model, { unknownCosts: 'mark' });
    expect(a.rows.map((r) => r.costKnown)).toEqual([true, false, true]);
    expect(a.rows[1].flops).toBeNaN();
    // Dense 3→4: 12 MACs, 24 + 4 = 28 FLOPs; ReLU on 4: 4 FLOPs. The unknown row is left out of the sums.
    expect(a.totals).toMatchObject({ params: 16, macs: 12, flops: 32, unknownRows: 1 });
    const text = modelSummaryWithFlops(model);
    expect(text).toMatch(/^\s*1\s+mystery-test\s+\[batch, 4\]\s+0\s+\?\s+\?\s+\?\s+\?$/m);
    expect(text).toMatch(/Total\s+16\s+12\+\?\s+32\+\?/);
    expect(text).toMatch(/\? = no cost function for mystery-test \(register one with registerLayerCost\)/);
    expect(model.summary()).toMatch(/mystery-test\s+\[batch, 4\]\s+0\s+\?/);
  });
});
