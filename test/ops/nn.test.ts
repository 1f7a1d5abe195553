// The nn ops (src/ops/nn.ts, conv.ts, pool.ts): hand-derived values, and on awkward shapes the forward
// against float64 direct loops (test/ops/nn-math64.ts) and every input's gradient against central
// differences of that float64 math; dropout determinism; bad input errors. PyTorch references are in
// nn-reference.test.ts.
//
// Tolerances: forward |op − ref| ≤ 1e-5·max(1, |ref|); gradients max|analytic − numeric| / max(max|numeric|,
// 1e-3) ≤ 5e-4 (float64 differences with h = 1e-5 are exact to ~1e-9, so what is left is the op's own
// float32 rounding): a gradient off by 0.5% fails (checked at the end of the file).
import { describe, expect, test, vi } from 'vitest';
import { Dropout } from '../../src/layers/dropout.js';
import { setWideConvOps } from '../../src/ops/conv.js';
import { sharedHeap } from '../../src/runtime/heap.js';
import { Variable, noGrad, ops } from '../../src/ops/index.js';
import { availableCores, getThreads, setThreads } from '../../src/runtime/workers.js';
import { setGemmBackend } from '../../src/tensor/gemm.js';
import { Rng } from '../../src/tensor/rng.js';
import { Tensor, tensor } from '../../src/tensor/tensor.js';
import { testRng } from '../util/rng.js';
import {
  avgPool64, batchNorm64, conv64, layerNorm64, maxPool64, numericGrad, relError, weightedSum, type Conv64, type Pool64,
} from './nn-math64.js';

const FWD_TOL = 1e-5;
const GRAD_TOL = 5e-4;

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-6, what = 'value'): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol * Math.max(1, Math.abs(expected[i])))) {
      expect.fail(`${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
    }
  }
}

function random(shape: number[], seed: number, low = -1, high = 1): Tensor {
  const rng = testRng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = low + (high - low) * rng.next();
  return new Tensor(d, shape);
}

/**
 * Runs `build` on fresh leaves over `inputs` (those flagged in `grad`, default all, require grad),
 * checks the output against `ref` (float64, same inputs) and each differentiable input's gradient of
 * Σ gy·y against central differences of Σ gy·ref. Returns the worst gradient error.
 */
function check(
  build: (...v: Variable[]) => Variable, inputs: Tensor[], ref: (...x: Float64Array[]) => ArrayLike<number>,
  grad: boolean[] = inputs.map(() => true), scaleAnalytic = 1,
): number {
  const vars = inputs.map((t, i) => new Variable(t.clone(), { requiresGrad: grad[i] }));
  const y = build(...vars);
  const x64 = inputs.map((t) => Float64Array.from(t.data));
  const ref0 = ref(...x64);
  close(y.data, ref0, FWD_TOL, 'forward');
  const gy = random(y.shape as number[], 4242, -1, 1);
  y.backward(gy);
  let worst = 0;
  vars.forEach((v, i) => {
    if (!grad[i]) {
      expect(v.grad).toBeNull();
      return;
    }
    const numeric = numericGrad(() => weightedSum(ref(...x64), gy.data), x64[i]);
    const analytic = Float64Array.from(v.grad!.data, (a) => a * scaleAnalytic);
    const e = relError(analytic, numeric);
    worst = Math.max(worst, e);
    if (scaleAnalytic === 1) expect(e, `input ${i}: gradient error ${e}`).toBeLessThan(GRAD_TOL);
  });
  return worst;
}

// ---- Convolution ----

interface ConvCase {
  n: number; c: number; h: number; w: number; o: number; k: number | [number, number];
  stride?: number | [number, number]; padding?: number | [number, number] | 'same' | 'valid';
  dilation?: number | [number, number]; groups?: number; bias?: boolean;
}

const pair = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);

/** The float64 geometry of a case, derived independently of src/ops/conv.ts. */
function geometry64(cc: ConvCase): Conv64 {
  const [kH, kW] = pair(cc.k);
  const [strideH, strideW] = pair(cc.stride ?? 1);
  const [dilH, dilW] = pair(cc.dilation ?? 1);
  let padTop: number;
  let padLeft: number;
  let outH: number;
  let outW: number;
  if (cc.padding === 'same') {
    padTop = Math.floor((dilH * (kH - 1)) / 2);
    padLeft = Math.floor((dilW * (kW - 1)) / 2);
    outH = cc.h;
    outW = cc.w;
  } else {
    [padTop, padLeft] = cc.padding === 'valid' ? [0, 0] : pair(cc.padding ?? 0);
    outH = Math.floor((cc.h + 2 * padTop - dilH * (kH - 1) - 1) / strideH) + 1;
    outW = Math.floor((cc.w + 2 * padLeft - dilW * (kW - 1) - 1) / strideW) + 1;
  }
  return {
    batch: cc.n, inC: cc.c, height: cc.h, width: cc.w, outC: cc.o, kH, kW, groups: cc.groups ?? 1,
    strideH, strideW, padTop, padLeft, dilH, dilW, outH, outW,
  };
}

const CONV_CASES: ConvCase[] = [
  { n: 1, c: 1, h: 1, w: 1, o: 1, k: 1 },
  { n: 1, c: 1, h: 1, w: 1, o: 2, k: 3, padding: 1 },
  { n: 2, c: 3, h: 2, w: 2, o: 2, k: 2 },
  { n: 1, c: 3, h: 5, w: 5, o: 2, k: 3, padding: 1 },
  { n: 2, c: 1, h: 7, w: 7, o: 3, k: 3, stride: 2 },
  { n: 2, c: 3, h: 7, w: 7, o: 2, k: 3, stride: 2, padding: 1, bias: false },
  { n: 1, c: 3, h: 7, w: 5, o: 2, k: [3, 2], stride: [2, 1], padding: [1, 0] },
  { n: 2, c: 3, h: 7, w: 7, o: 2, k: 3, dilation: 2, padding: 2 },
  { n: 1, c: 1, h: 7, w: 5, o: 2, k: [2, 3], dilation: [2, 1], stride: [1, 2], padding: [0, 1] },
  { n: 1, c: 4, h: 5, w: 5, o: 2, k: 3, groups: 2, padding: 1 },
  { n: 2, c: 4, h: 7, w: 7, o: 6, k: 3, groups: 2, stride: 2, dilation: 2, padding: 1 },
  { n: 1, c: 3, h: 5, w: 5, o: 3, k: 3, groups: 3, padding: 'same' },
  { n: 1, c: 3, h: 5, w: 5, o: 2, k: 3, padding: 'same' },
  { n: 2, c: 1, h: 5, w: 7, o: 2, k: 2, padding: 'same' },
  { n: 1, c: 3, h: 7, w: 7, o: 1, k: [4, 3], dilation: [1, 2], padding: 'same' },
  { n: 1, c: 3, h: 2, w: 5, o: 2, k: [1, 3], padding: 'valid' },
  { n: 2, c: 3, h: 5, w: 5, o: 4, k: 1, bias: false },
  { n: 1, c: 3, h: 5, w: 7, o: 2, k: 1, stride: 2 },
  { n: 1, c: 1, h: 2, w: 2, o: 1, k: 3, padding: 3, stride: 2 },
  { n: 1, c: 3, h: 7, w: 7, o: 2, k: 7 },
  { n: 1, c: 1, h: 7, w: 7, o: 1, k: 5, dilation: 2, padding: 'same' },
];

function convCaseName(cc: ConvCase): string {
  const opts = ['stride', 'padding', 'dilation', 'groups', 'bias'].filter((k) => (cc as unknown as Record<string, unknown>)[k] !== undefined)
    .map((k) => `${k} ${JSON.stringify((cc as unknown as Record<string, unknown>)[k])}`);
  return `x [${cc.n}, ${cc.c}, ${cc.h}, ${cc.w}], ${cc.o} filters ${JSON.stringify(cc.k)}${opts.length ? `, ${opts.join(', ')}` : ''}`;
}

function convInputs(cc: ConvCase, g: Conv64, seed: number): Tensor[] {
  const x = random([cc.n, cc.c, cc.h, cc.w], seed);
  const w = random([cc.o, cc.c / g.groups, g.kH, g.kW], seed + 1, -0.7, 0.7);
  return cc.bias === false ? [x, w] : [x, w, random([cc.o], seed + 2, -0.5, 0.5)];
}

function convOptions(cc: ConvCase): ops.Conv2dOptions {
  return { stride: cc.stride, padding: cc.padding, dilation: cc.dilation, groups: cc.groups };
}

describe('conv2d', () => {
  test('hand-derived: 3×3 image, 2×2 kernel [[1, 0], [0, −1]], bias 0.5', () => {
    // y[oh, ow] = x[oh, ow] − x[oh+1, ow+1] + 0.5 = −4 + 0.5 for every output of x = 1..9.
    // d Σy/dx: +1 where x is under tap (0, 0) of some output, −1 under tap (1, 1):
    //   [[1, 1, 0], [1, 0, −1], [0, −1, −1]].
    // d Σy/dW[i, j] = Σ of the 2×2 block of x starting at (i, j): 12, 16, 24, 28; d Σy/db = 4 outputs.
    const x = new Variable(tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]), { requiresGrad: true });
    const w = new Variable(tensor([1, 0, 0, -1], [1, 1, 2, 2]), { requiresGrad: true });
    const b = new Variable(tensor([0.5], [1]), { requiresGrad: true });
    const y = ops.conv2d(x, w, b);
    expect(y.shape).toEqual([1, 1, 2, 2]);
    close(y.data, [-3.5, -3.5, -3.5, -3.5]);
    ops.sum(y).backward();
    close(x.grad!.data, [1, 1, 0, 1, 0, -1, 0, -1, -1]);
    close(w.grad!.data, [12, 16, 24, 28]);
    close(b.grad!.data, [4]);
  });

  test('hand-derived: padding 1 and stride 2 on a 2×2 image with a 3×3 kernel of ones', () => {
    // outH = ⌊(2 + 2 − 3)/2⌋ + 1 = 1; the one window covers the whole image: y = 1 + 2 + 3 + 4 = 10.
    // dx = 1 everywhere; dW[i, j] = the pixel under tap (i, j): 0 on the padded border taps.
    const x = new Variable(tensor([1, 2, 3, 4], [1, 1, 2, 2]), { requiresGrad: true });
    const w = new Variable(tensor(new Array(9).fill(1), [1, 1, 3, 3]), { requiresGrad: true });
    const y = ops.conv2d(x, w, null, { stride: 2, padding: 1 });
    expect(y.shape).toEqual([1, 1, 1, 1]);
    close(y.data, [10]);
    y.backward();
    close(x.grad!.data, [1, 1, 1, 1]);
    close(w.grad!.data, [0, 0, 0, 0, 1, 2, 0, 3, 4]);
  });

  test('hand-derived: dilation 2 reads every other pixel; groups keep channels apart', () => {
    // x[0, 0] = 1..9 (3×3), a 2×2 kernel of ones with dilation 2 spans 3×3 and reads the corners 1+3+7+9 = 20.
    const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
    close(ops.conv2d(x, tensor([1, 1, 1, 1], [1, 1, 2, 2]), null, { dilation: 2 }).data, [20]);
    // Two channels [1, 2] and [10, 20] (1×2 images), groups 2, weights [1, 1] and [1, −1] (1×1×1×2 each):
    // output 0 sees channel 0 only (1 + 2 = 3), output 1 channel 1 only (10 − 20 = −10).
    const y = ops.conv2d(tensor([1, 2, 10, 20], [1, 2, 1, 2]), tensor([1, 1, 1, -1], [2, 1, 1, 2]), null, { groups: 2 });
    close(y.data, [3, -10]);
  });

  // Stride-1 cases run the WideConv engine by default; every case also runs the im2col + gemm path.
  for (const wide of [true, false]) {
    for (const [i, cc] of CONV_CASES.entries()) {
      test(`float64 direct conv and its differences (${wide ? 'default paths' : 'im2col + gemm only'}): ${convCaseName(cc)}`, () => {
        const previous = setWideConvOps(wide);
        try {
          const g = geometry64(cc);
          const inputs = convInputs(cc, g, 100 + 10 * i);
          const y = check(
            (x, w, b) => ops.conv2d(x, w, b ?? null, convOptions(cc)),
            inputs,
            (x, w, b) => conv64(x, w, b ?? null, g),
          );
          expect(y).toBeLessThan(GRAD_TOL);
        } finally {
          setWideConvOps(previous);
        }
      });
    }
  }

  test('the engine path: same-shaped convolutions in flight together, a retained graph run twice', () => {
    // y = conv(relu(conv(x, w1)), w2) with both convs of one shape: two engines hold forward state at
    // once. Gradients must equal the im2col path's; a second backward (retainGraph) after another
    // forward of that shape has reused the engines must give the same gradients again.
    const x = random([2, 3, 6, 6], 1);
    const w1 = random([3, 3, 3, 3], 2, -0.5, 0.5);
    const w2 = random([3, 3, 3, 3], 3, -0.5, 0.5);
    const run = (wide: boolean, twice: boolean): Float32Array[] => {
      const previous = setWideConvOps(wide);
      try {
        const vs = [x, w1, w2].map((t) => new Variable(t.clone(), { requiresGrad: true }));
        const y = ops.conv2d(ops.relu(ops.conv2d(vs[0], vs[1], null, { padding: 1 })), vs[2], null, { padding: 1 });
        const loss = ops.sum(ops.mul(y, random([2, 3, 6, 6], 4)));
        loss.backward(twice ? { retainGraph: true } : {});
        if (twice) {
          ops.conv2d(random([2, 3, 6, 6], 5), w1, null, { padding: 1 });
          for (const v of vs) v.zeroGrad();
          loss.backward();
        }
        return vs.map((v) => v.grad!.data);
      } finally {
        setWideConvOps(previous);
      }
    };
    const ref = run(false, false);
    for (const twice of [false, true]) {
      const got = run(true, twice);
      got.forEach((g, i) => close(g, ref[i], 1e-5, `input ${i}${twice ? ' (second backward)' : ''}`));
    }
  });

  test('only the inputs that require grad get gradients; a constant weight still gives dx', () => {
    const cc = CONV_CASES[5];
    const g = geometry64(cc);
    const [x, w] = convInputs(cc, g, 7);
    check((a, b) => ops.conv2d(a, b, null, convOptions(cc)), [x, w], (a, b) => conv64(a, b, null, g), [true, false]);
    check((a, b) => ops.conv2d(a, b, null, convOptions(cc)), [x, w], (a, b) => conv64(a, b, null, g), [false, true]);
  });

  test('a size-1 batch gives the same result as that image inside a larger batch', () => {
    const x = random([3, 2, 5, 5], 5);
    const w = random([4, 2, 3, 3], 6);
    const all = ops.conv2d(x, w, null, { padding: 1, stride: 2 });
    const one = ops.conv2d(new Tensor(x.data.slice(50, 100), [1, 2, 5, 5]), w, null, { padding: 1, stride: 2 });
    close(one.data, all.data.subarray(one.size, 2 * one.size), 0);
  });

  test('the engine on a batch split into several chunks equals the im2col path; 1 and 2 threads give the same bits', () => {
    // 16 channels, 3×3, 20×20 with padding 1: one image's columns fill more than half the engine's
    // column budget, so each of the 3 images is its own chunk (and the chunks can run on 2 threads).
    const x = random([3, 16, 20, 20], 8);
    const w = random([5, 16, 3, 3], 9, -0.3, 0.3);
    const b = random([5], 10);
    const gy = random([3, 5, 20, 20], 11);
    const run = (wide: boolean, threads: number, stride: number): Float32Array[] => {
      const previousWide = setWideConvOps(wide);
      const previousThreads = getThreads();
      setThreads(threads);
      try {
        const vs = [x, w, b].map((t) => new Variable(t, { requiresGrad: true }));
        const y = ops.conv2d(vs[0], vs[1], vs[2], { padding: 1, stride });
        y.backward(stride === 1 ? gy : random(y.shape as number[], 12));
        return [y.data, ...vs.map((v) => v.grad!.data)];
      } finally {
        setThreads(previousThreads);
        setWideConvOps(previousWide);
      }
    };
    const wide1 = run(true, 1, 1);
    const gemm1 = run(false, 1, 1);
    wide1.forEach((a, i) => close(a, gemm1[i], 1e-5, `engine vs im2col, array ${i}`));
    // With the TypeScript gemm the engine runs on a private heap of its own: same values.
    setGemmBackend('ts');
    try {
      run(true, 1, 1).forEach((a, i) => close(a, gemm1[i], 1e-5, `engine on the TypeScript gemm vs im2col, array ${i}`));
    } finally {
      setGemmBackend('auto');
    }
    if (availableCores() >= 2) {
      for (const [wide, stride] of [[true, 1], [false, 1], [false, 2]] as const) {
        const one = wide ? wide1 : run(wide, 1, stride);
        const two = run(wide, 2, stride);
        two.forEach((a, i) => expect(Array.from(a), `${wide ? 'engine' : `im2col stride ${stride}`}, array ${i}`).toEqual(Array.from(one[i])));
      }
    }
  });

  test('when the heap cannot hold an engine, stride-1 convolutions take the im2col path (and a redone backward too)', () => {
    const heap = sharedHeap();
    expect(heap).not.toBeNull();
    const x = random([2, 3, 9, 9], 21);
    const w = random([4, 3, 3, 3], 22);
    const b = random([4], 23);
    const run = (): Float32Array[] => {
      const vs = [x, w, b].map((t) => new Variable(t, { requiresGrad: true }));
      const y = ops.conv2d(vs[0], vs[1], vs[2], { padding: 1 });
      const loss = ops.sum(ops.mul(y, random([2, 4, 9, 9], 24)));
      loss.backward({ retainGraph: true });
      const first = vs.map((v) => v.grad!.data.slice());
      // Another tracked forward of this shape takes the engine and keeps it (its graph stays alive), so
      // the second backward must redo its forward on a new engine, which the full heap cannot give.
      const hold = ops.conv2d(new Variable(random([2, 3, 9, 9], 25), { requiresGrad: true }), w, b, { padding: 1 });
      for (const v of vs) v.zeroGrad();
      const spy = vi.spyOn(heap!, 'alloc').mockImplementation(() => { throw new Error('heap full (test)'); });
      try {
        loss.backward();
        if (wideOn) expect(spy).toHaveBeenCalled();
      } finally {
        spy.mockRestore();
      }
      expect(hold.node).not.toBeNull();
      return [y.data, ...first, ...vs.map((v) => v.grad!.data)];
    };
    let wideOn = true;
    const normal = run();
    wideOn = false;
    const previous = setWideConvOps(false);
    const im2col = run();
    setWideConvOps(previous);
    normal.forEach((a, i) => close(a, im2col[i], 1e-5, `array ${i}`));
    // And with no engine to be had at all (a shape with no idle engine), the forward takes the im2col path.
    const full = vi.spyOn(heap!, 'alloc').mockImplementation(() => { throw new Error('heap full (test)'); });
    try {
      const y = ops.conv2d(random([5, 3, 9, 9], 26), w, null, { padding: 1 });
      const yRef = noGrad(() => { const p = setWideConvOps(false); try { return ops.conv2d(random([5, 3, 9, 9], 26), w, null, { padding: 1 }); } finally { setWideConvOps(p); } });
      close(y.data, yRef.data, 0);
      expect(full).toHaveBeenCalled();
    } finally {
      full.mockRestore();
    }
  });

  test('an empty batch gives an empty result and empty gradients, on every path and op', () => {
    const empty = (shape: number[]): Tensor => new Tensor(new Float32Array(0), shape);
    const runs: [string, (x: Variable) => Variable, number[]][] = [
      ['conv2d stride 1', (x) => ops.conv2d(x, random([3, 2, 3, 3], 1), random([3], 2), { padding: 1 }), [0, 3, 5, 5]],
      ['conv2d stride 2', (x) => ops.conv2d(x, random([3, 2, 3, 3], 1), null, { stride: 2 }), [0, 3, 2, 2]],
      ['maxPool2d', (x) => ops.maxPool2d(x, { kernelSize: 2 }), [0, 2, 2, 2]],
      ['avgPool2d', (x) => ops.avgPool2d(x, { kernelSize: 2 }), [0, 2, 2, 2]],
      ['layerNorm', (x) => ops.layerNorm(x, [5, 5]), [0, 2, 5, 5]],
      ['dropout', (x) => ops.dropout(x, 0.5, { rng: new Rng(1) }), [0, 2, 5, 5]],
    ];
    for (const [name, f, shape] of runs) {
      const x = new Variable(empty([0, 2, 5, 5]), { requiresGrad: true });
      const y = f(x);
      expect(y.shape, name).toEqual(shape);
      y.backward(empty(shape));
      expect(x.grad!.shape, name).toEqual([0, 2, 5, 5]);
    }
    expect(ops.embedding(empty([0]), random([3, 2], 1)).shape).toEqual([0, 2]);
  });

  test('no graph without grad; one node (inputs x, weight, bias) with it', () => {
    const x = new Variable(random([1, 2, 4, 4], 1), { requiresGrad: true });
    const w = new Variable(random([3, 2, 3, 3], 2), { requiresGrad: true });
    const b = new Variable(random([3], 3), { requiresGrad: true });
    expect(noGrad(() => ops.conv2d(x, w, b)).node).toBeNull();
    expect(ops.conv2d(x.value, w.value, b.value).node).toBeNull();
    const y = ops.conv2d(x, w, b);
    expect(y.node!.op).toBe('conv2d');
    expect(y.node!.inputs).toEqual([x, w, b]);
  });

  test('errors name the problem and the shapes', () => {
    const x = random([1, 3, 5, 5], 1);
    expect(() => ops.conv2d(x, random([2, 2, 3, 3], 2))).toThrow(/weight expects 2 input channels but x has 3 .*\[1, 3, 5, 5\].*\[2, 2, 3, 3\]/);
    expect(() => ops.conv2d(random([1, 4, 5, 5], 1), random([2, 1, 3, 3], 2), null, { groups: 2 })).toThrow(/expects 1·2 groups = 2 input channels but x has 4/);
    expect(() => ops.conv2d(x, random([2, 1, 3, 3], 2), null, { groups: 2 })).toThrow(/groups 2 must divide the input channels 3/);
    expect(() => ops.conv2d(random([1, 4, 5, 5], 1), random([3, 2, 3, 3], 2), null, { groups: 2 })).toThrow(/groups 2 must divide the output channels 3/);
    expect(() => ops.conv2d(x, random([2, 3, 7, 7], 2))).toThrow(/kernel 7×7 \(dilation 1×1\) with padding 0×0 does not fit input 5×5/);
    expect(() => ops.conv2d(x, random([2, 3, 3, 3], 2), null, { dilation: 3 })).toThrow(/kernel 3×3 \(dilation 3×3\).*does not fit input 5×5/);
    expect(() => ops.conv2d(x, random([2, 3, 3, 3], 2), null, { stride: 0 })).toThrow(/stride must be an integer ≥ 1 or a pair of them, got 0/);
    expect(() => ops.conv2d(x, random([2, 3, 3, 3], 2), null, { padding: -1 })).toThrow(/padding must be an integer ≥ 0/);
    expect(() => ops.conv2d(x, random([2, 3, 3, 3], 2), null, { padding: 'full' as 'same' })).toThrow(/padding must be 'valid', 'same'/);
    expect(() => ops.conv2d(x, random([2, 3, 3, 3], 2), null, { padding: 'same', stride: 2 })).toThrow(/'same' needs stride 1/);
    expect(() => ops.conv2d(x, random([2, 3, 3, 3], 2), null, { groups: 1.5 })).toThrow(/groups must be an integer ≥ 1, got 1.5/);
    expect(() => ops.conv2d(x, random([2, 3, 3, 3], 2), null, { strides: 2 } as ops.Conv2dOptions)).toThrow(/unknown option "strides"/);
    expect(() => ops.conv2d(x, random([2, 3, 3, 3], 2), random([3], 3))).toThrow(/bias must have shape \[2\].*got \[3\]/);
    expect(() => ops.conv2d(random([3, 5, 5], 1), random([2, 3, 3, 3], 2))).toThrow(/x must be 4-D \[N, C, H, W\], got \[3, 5, 5\]/);
    expect(() => ops.conv2d(x, random([2, 3, 3], 2))).toThrow(/weight must be 4-D/);
    expect(() => ops.conv2d(x, random([2, 3, 0, 3], 2))).toThrow(/kernel tap per axis/);
    expect(() => ops.conv2d([1, 2] as unknown as Tensor, random([2, 3, 3, 3], 2))).toThrow(/x must be a Variable or a Tensor, got an array/);
  });
});

describe('conv1d', () => {
  const cases: { n: number; c: number; l: number; o: number; k: number; stride?: number; padding?: number | 'same' | 'valid'; dilation?: number; groups?: number; bias?: boolean }[] = [
    { n: 2, c: 3, l: 7, o: 4, k: 3, stride: 2, padding: 1 },
    { n: 1, c: 4, l: 5, o: 2, k: 2, groups: 2, dilation: 2, padding: 'same' },
    { n: 1, c: 1, l: 1, o: 2, k: 1, bias: false },
    { n: 2, c: 1, l: 5, o: 1, k: 5, padding: 'valid' },
  ];
  for (const [i, cc] of cases.entries()) {
    test(`is conv2d of height 1: ${JSON.stringify(cc)}`, () => {
      const g = geometry64({ n: cc.n, c: cc.c, h: 1, w: cc.l, o: cc.o, k: [1, cc.k], stride: [1, cc.stride ?? 1],
        padding: cc.padding === 'same' || cc.padding === 'valid' ? cc.padding : [0, cc.padding ?? 0], dilation: [1, cc.dilation ?? 1], groups: cc.groups });
      const groups = cc.groups ?? 1;
      const inputs = [random([cc.n, cc.c, cc.l], 300 + i), random([cc.o, cc.c / groups, cc.k], 310 + i)];
      if (cc.bias !== false) inputs.push(random([cc.o], 320 + i));
      const opts = { stride: cc.stride, padding: cc.padding, dilation: cc.dilation, groups: cc.groups };
      const y = ops.conv1d(inputs[0], inputs[1], inputs[2] ?? null, opts);
      expect(y.shape).toEqual([cc.n, cc.o, g.outW]);
      check((x, w, b) => ops.conv1d(x, w, b ?? null, opts), inputs, (x, w, b) => conv64(x, w, b ?? null, g));
    });
  }

  test('errors use the 1-D shapes', () => {
    expect(() => ops.conv1d(random([1, 2, 3], 1), random([1, 2, 5], 2))).toThrow(/conv1d: kernel 5 \(dilation 1\) with padding 0 does not fit input 3 \(x \[1, 2, 3\], weight \[1, 2, 5\]\)/);
    expect(() => ops.conv1d(random([1, 2, 3, 3], 1), random([1, 2, 1], 2))).toThrow(/conv1d: x must be 3-D \[N, C, L\]/);
    expect(() => ops.conv1d(random([1, 2, 3], 1), random([1, 2, 1], 2), null, { stride: [1, 2] as unknown as number })).toThrow(/conv1d: stride must be an integer ≥ 1/);
  });
});

// ---- Pooling ----

function pool64(n: number, c: number, h: number, w: number, k: [number, number], s: [number, number], p: [number, number]): Pool64 {
  return {
    planes: n * c, height: h, width: w, kH: k[0], kW: k[1], strideH: s[0], strideW: s[1], padH: p[0], padW: p[1],
    outH: Math.floor((h + 2 * p[0] - k[0]) / s[0]) + 1, outW: Math.floor((w + 2 * p[1] - k[1]) / s[1]) + 1,
  };
}

/** Distinct values (a shuffled ramp) so no window has a tie and finite differences stay off the kinks. */
function distinct(shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const perm = new Rng(seed).permutation(n);
  return new Tensor(Float32Array.from(perm, (v) => (v - n / 2) * 0.1), shape);
}

const POOL_CASES: { shape: number[]; k: [number, number]; s?: [number, number]; p?: [number, number] }[] = [
  { shape: [1, 1, 1, 1], k: [1, 1] },
  { shape: [2, 3, 5, 5], k: [2, 2] },
  { shape: [1, 3, 7, 7], k: [3, 3], s: [2, 2], p: [1, 1] },
  { shape: [2, 1, 7, 5], k: [3, 2], s: [1, 2], p: [1, 1] },
  { shape: [1, 2, 2, 2], k: [2, 2], s: [1, 1], p: [1, 1] },
  { shape: [1, 1, 5, 7], k: [5, 7] },
];

describe('maxPool2d', () => {
  test('hand-derived: 2×2 windows over 0..15, gradient to each maximum', () => {
    // x[h, w] = 4h + w; window maxima are the bottom-right elements 5, 7, 13, 15.
    const x = new Variable(tensor(Array.from({ length: 16 }, (_, i) => i), [1, 1, 4, 4]), { requiresGrad: true });
    const y = ops.maxPool2d(x, { kernelSize: 2 });
    close(y.data, [5, 7, 13, 15]);
    ops.sum(y).backward();
    const expected = new Array(16).fill(0);
    for (const i of [5, 7, 13, 15]) expected[i] = 1;
    close(x.grad!.data, expected);
  });

  test('ties go to the first maximum in row-major order (PyTorch); overlapping windows add up', () => {
    // All-equal 3×3 image, 2×2 windows at stride 1: each of the 4 windows routes its gradient to its
    // top-left element: positions 0, 1, 3, 4 get 1 each.
    const x = new Variable(tensor(new Array(9).fill(2), [1, 1, 3, 3]), { requiresGrad: true });
    const y = ops.maxPool2d(x, { kernelSize: 2, stride: 1 });
    close(y.data, [2, 2, 2, 2]);
    ops.sum(y).backward();
    close(x.grad!.data, [1, 1, 0, 1, 1, 0, 0, 0, 0]);
    // One shared maximum in the centre of overlapping 2×2 windows collects all four gradients.
    const z = new Variable(tensor([0, 0, 0, 0, 9, 0, 0, 0, 0], [1, 1, 3, 3]), { requiresGrad: true });
    ops.sum(ops.maxPool2d(z, { kernelSize: 2, stride: 1 })).backward();
    close(z.grad!.data, [0, 0, 0, 0, 4, 0, 0, 0, 0]);
  });

  test('padding never wins, even against negative values', () => {
    const x = tensor([-5, -6, -7, -8], [1, 1, 2, 2]);
    close(ops.maxPool2d(x, { kernelSize: 2, stride: 1, padding: 1 }).data, [-5, -5, -6, -5, -5, -6, -7, -7, -8]);
  });

  for (const [i, pc] of POOL_CASES.entries()) {
    test(`float64 reference and differences: x ${JSON.stringify(pc.shape)}, kernel ${pc.k}, stride ${pc.s ?? 'default'}, padding ${pc.p ?? 0}`, () => {
      const [n, c, h, w] = pc.shape;
      const g = pool64(n, c, h, w, pc.k, pc.s ?? pc.k, pc.p ?? [0, 0]);
      check((x) => ops.maxPool2d(x, { kernelSize: pc.k, stride: pc.s, padding: pc.p }), [distinct(pc.shape, 50 + i)], (x) => maxPool64(x, g));
    });
  }

  test('accepts [C, H, W]', () => {
    const x = distinct([2, 4, 4], 3);
    const y = ops.maxPool2d(x, { kernelSize: 2 });
    expect(y.shape).toEqual([2, 2, 2]);
    close(y.data, ops.maxPool2d(new Tensor(x.data, [1, 2, 4, 4]), { kernelSize: 2 }).data, 0);
  });

  test('errors', () => {
    const x = random([1, 1, 4, 4], 1);
    expect(() => ops.maxPool2d(x, { kernelSize: 3, padding: 2 })).toThrow(/maxPool2d: padding 2×2 must be at most half the kernel size 3×3/);
    expect(() => ops.maxPool2d(x, { kernelSize: 5 })).toThrow(/maxPool2d: kernel 5×5 with padding 0×0 does not fit input 4×4/);
    expect(() => ops.maxPool2d(x, { kernelSize: 0 })).toThrow(/maxPool2d: kernelSize must be an integer ≥ 1/);
    expect(() => ops.maxPool2d(x, {} as ops.MaxPool2dOptions)).toThrow(/maxPool2d: kernelSize is required/);
    expect(() => ops.maxPool2d(x, { kernelSize: 2, dilation: 2 } as ops.MaxPool2dOptions)).toThrow(/unknown option "dilation"/);
    expect(() => ops.maxPool2d(random([4, 4], 1), { kernelSize: 2 })).toThrow(/x must be \[N, C, H, W\] or \[C, H, W\], got \[4, 4\]/);
  });
});

describe('avgPool2d', () => {
  test('hand-derived: padding counts as zeros by default, or is left out', () => {
    // 2×2 image 1..4, 3×3 windows at stride 1 with padding 1: every window holds all four pixels.
    // countIncludePad: 10/9 each; without: 10/4. Gradient: each pixel is in 4 windows → 4/9 or 4/4.
    const x = new Variable(tensor([1, 2, 3, 4], [1, 1, 2, 2]), { requiresGrad: true });
    const y = ops.avgPool2d(x, { kernelSize: 3, stride: 1, padding: 1 });
    close(y.data, [10 / 9, 10 / 9, 10 / 9, 10 / 9]);
    ops.sum(y).backward();
    close(x.grad!.data, [4 / 9, 4 / 9, 4 / 9, 4 / 9]);
    const x2 = new Variable(tensor([1, 2, 3, 4], [1, 1, 2, 2]), { requiresGrad: true });
    const y2 = ops.avgPool2d(x2, { kernelSize: 3, stride: 1, padding: 1, countIncludePad: false });
    close(y2.data, [2.5, 2.5, 2.5, 2.5]);
    ops.sum(y2).backward();
    close(x2.grad!.data, [1, 1, 1, 1]);
  });

  for (const [i, pc] of POOL_CASES.entries()) {
    for (const includePad of [true, false]) {
      test(`float64 reference and differences: x ${JSON.stringify(pc.shape)}, kernel ${pc.k}, padding ${pc.p ?? 0}, countIncludePad ${includePad}`, () => {
        const [n, c, h, w] = pc.shape;
        const g = pool64(n, c, h, w, pc.k, pc.s ?? pc.k, pc.p ?? [0, 0]);
        check((x) => ops.avgPool2d(x, { kernelSize: pc.k, stride: pc.s, padding: pc.p, countIncludePad: includePad }),
          [random(pc.shape, 70 + i)], (x) => avgPool64(x, g, includePad));
      });
    }
  }

  test('errors', () => {
    expect(() => ops.avgPool2d(random([1, 1, 4, 4], 1), { kernelSize: 2, countIncludePad: 1 as unknown as boolean })).toThrow(/countIncludePad must be true or false/);
    expect(() => ops.avgPool2d(random([1, 1, 4, 4], 1), { kernelSize: [2, 2], padding: [0, 2] })).toThrow(/padding 0×2 must be at most half the kernel size 2×2/);
  });
});

// ---- Dropout ----

describe('dropout', () => {
  const x = random([40, 50], 11, 0.5, 1.5);

  test('keeps each element with probability 1 − p, scaled by 1/(1 − p); the gradient is the same mask', () => {
    const v = new Variable(x.clone(), { requiresGrad: true });
    const y = ops.dropout(v, 0.3, { rng: new Rng(5) });
    const scale = 1 / 0.7;
    let kept = 0;
    let worst = 0;
    for (let i = 0; i < x.size; i++) {
      if (y.data[i] !== 0) kept++;
      worst = Math.max(worst, y.data[i] === 0 ? 0 : Math.abs(y.data[i] - x.data[i] * scale));
    }
    expect(worst).toBeLessThan(1e-6);
    // 2000 draws at 0.7: the standard deviation of the count is ~20; this seed keeps a fixed number.
    expect(Math.abs(kept - 1400)).toBeLessThan(100);
    const gy = random([40, 50], 12);
    y.backward(gy);
    let worstGrad = 0;
    for (let i = 0; i < x.size; i++) worstGrad = Math.max(worstGrad, Math.abs(v.grad!.data[i] - gy.data[i] * (y.data[i] === 0 ? 0 : scale)));
    expect(worstGrad).toBeLessThan(1e-6);
  });

  test('the same seed gives the same bits, with or without tracking; another seed another mask', () => {
    const a = ops.dropout(x, 0.5, { rng: new Rng(9) });
    const b = ops.dropout(new Variable(x, { requiresGrad: true }), 0.5, { rng: new Rng(9) });
    const c = ops.dropout(x, 0.5, { rng: new Rng(10) });
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    expect(Array.from(c.data)).not.toEqual(Array.from(a.data));
  });

  test('draws the mask exactly as the Dropout layer does from the same generator state', () => {
    const layer = new Dropout({ rate: 0.25 });
    layer.build([50], new Rng(21));
    const fromLayer = layer.forward(x, true);
    expect(Array.from(ops.dropout(x, 0.25, { rng: new Rng(21) }).data)).toEqual(Array.from(fromLayer.data));
  });

  test('identity when not training or p = 0 (x itself); zeros for p = 1', () => {
    const v = new Variable(x, { requiresGrad: true });
    expect(ops.dropout(v, 0.5, { training: false })).toBe(v);
    expect(ops.dropout(v, 0, { rng: new Rng(1) })).toBe(v);
    const z = ops.dropout(v, 1, { rng: new Rng(1) });
    expect(z.data.every((d) => d === 0)).toBe(true);
    ops.sum(z).backward();
    expect(v.grad!.data.every((d) => d === 0)).toBe(true);
  });

  test('errors: p out of range, a missing rng, bad options', () => {
    expect(() => ops.dropout(x, 1.5, { rng: new Rng(1) })).toThrow(/dropout: p must be a probability in \[0, 1\], got 1.5/);
    expect(() => ops.dropout(x, Number.NaN, { rng: new Rng(1) })).toThrow(/p must be a probability/);
    expect(() => ops.dropout(x, 0.5)).toThrow(/needs options.rng, a seeded Rng/);
    expect(() => ops.dropout(x, 0.5, { training: 'yes' as unknown as boolean })).toThrow(/training must be true or false/);
    expect(() => ops.dropout(x, 0.5, { seed: 3 } as ops.DropoutOptions)).toThrow(/unknown option "seed"/);
  });
});

// ---- Normalisation ----

describe('layerNorm', () => {
  test('hand-derived: x = [1, 2, 3], weight [1, 2, 3], bias [0, 0, 1]', () => {
    // μ = 2, σ² = 2/3: x̂ = [−1, 0, 1]/√(2/3 + 1e-5); y = x̂·w + b. d Σy/d bias = 1, d Σy/d weight = x̂,
    // d Σy/dx = invStd·(w − mean(w) − x̂·mean(w·x̂)) = invStd·([1, 2, 3] − 2 − x̂·(2·invStd/3)).
    const inv = 1 / Math.sqrt(2 / 3 + 1e-5);
    const x = new Variable(tensor([1, 2, 3], [1, 3]), { requiresGrad: true });
    const w = new Variable(tensor([1, 2, 3], [3]), { requiresGrad: true });
    const b = new Variable(tensor([0, 0, 1], [3]), { requiresGrad: true });
    const y = ops.layerNorm(x, 3, w, b);
    close(y.data, [-inv, 0, 3 * inv + 1], 1e-6);
    ops.sum(y).backward();
    close(b.grad!.data, [1, 1, 1]);
    close(w.grad!.data, [-inv, 0, inv], 1e-6);
    const m = (2 * inv) / 3;
    close(x.grad!.data, [inv * (1 - 2 + inv * m), inv * 0, inv * (3 - 2 - inv * m)], 1e-6);
  });

  const cases: { shape: number[]; norm: number[]; affine: boolean; eps?: number }[] = [
    { shape: [2, 3, 4], norm: [4], affine: true },
    { shape: [2, 3, 4], norm: [3, 4], affine: true },
    { shape: [3, 5], norm: [5], affine: false, eps: 1e-3 },
    { shape: [5, 2], norm: [2], affine: true },
    { shape: [7], norm: [7], affine: true },
    { shape: [1, 1, 7], norm: [7], affine: false },
  ];
  for (const [i, lc] of cases.entries()) {
    test(`float64 reference and differences: x ${JSON.stringify(lc.shape)}, normalizedShape ${JSON.stringify(lc.norm)}${lc.affine ? ', affine' : ''}`, () => {
      const d = lc.norm.reduce((a, b) => a * b, 1);
      const eps = lc.eps ?? 1e-5;
      const inputs = [random(lc.shape, 90 + i, -2, 3)];
      if (lc.affine) inputs.push(random(lc.norm, 91 + i, 0.5, 1.5), random(lc.norm, 92 + i));
      check((x, w, b) => ops.layerNorm(x, lc.norm, w ?? null, b ?? null, eps), inputs,
        (x, w, b) => layerNorm64(x, d, w ?? null, b ?? null, eps));
    });
  }

  test('one feature: x̂ = 0, the output is the bias and dx is 0', () => {
    const x = new Variable(random([4, 1], 1), { requiresGrad: true });
    const y = ops.layerNorm(x, [1], tensor([2], [1]), tensor([0.5], [1]));
    close(y.data, [0.5, 0.5, 0.5, 0.5]);
    ops.sum(y).backward();
    close(x.grad!.data, [0, 0, 0, 0]);
  });

  test('errors', () => {
    const x = random([2, 3, 4], 1);
    expect(() => ops.layerNorm(x, [3])).toThrow(/normalizedShape \[3\] must match the trailing dims of x \[2, 3, 4\]/);
    expect(() => ops.layerNorm(x, [2, 2, 3, 4])).toThrow(/must match the trailing dims/);
    expect(() => ops.layerNorm(x, [])).toThrow(/normalizedShape must be a positive integer or a non-empty list/);
    expect(() => ops.layerNorm(x, 4, random([3], 2))).toThrow(/weight must have shape normalizedShape \[4\], got \[3\]/);
    expect(() => ops.layerNorm(x, 4, null, random([4, 1], 2))).toThrow(/bias must have shape normalizedShape \[4\], got \[4, 1\]/);
    expect(() => ops.layerNorm(x, 4, null, null, -1)).toThrow(/eps must be a finite number ≥ 0, got -1/);
  });
});

describe('batchNorm', () => {
  test('hand-derived: [N, C] = [[1], [3]] in training, and the running update', () => {
    // μ = 2, biased σ² = 1: y = [−1, 1]/√(1 + 1e-5). Running: mean 0.9·0 + 0.1·2 = 0.2,
    // var 0.9·1 + 0.1·(1·2/1) = 1.1 (unbiased: n/(n − 1) = 2).
    const rm = tensor([0], [1]);
    const rv = tensor([1], [1]);
    const y = ops.batchNorm(tensor([1, 3], [2, 1]), rm, rv, null, null, { training: true });
    const inv = 1 / Math.sqrt(1 + 1e-5);
    close(y.data, [-inv, inv], 1e-6);
    close(rm.data, [0.2], 1e-7);
    close(rv.data, [1.1], 1e-7);
    // Evaluation with those statistics: (x − 0.2)/√(1.1 + 1e-5), statistics unchanged.
    const e = ops.batchNorm(tensor([1, 3], [2, 1]), rm, rv);
    close(e.data, [0.8 / Math.sqrt(1.1 + 1e-5), 2.8 / Math.sqrt(1.1 + 1e-5)], 1e-6);
    close(rm.data, [0.2], 1e-7);
  });

  const cases: { shape: number[]; training: boolean; affine: boolean; eps?: number }[] = [
    { shape: [4, 3], training: true, affine: true },
    { shape: [2, 3, 4, 4], training: true, affine: true },
    { shape: [3, 2, 5], training: true, affine: false },
    { shape: [1, 2, 3, 3], training: true, affine: true },
    { shape: [2, 1], training: true, affine: true },
    { shape: [2, 3, 5, 5], training: false, affine: true },
    { shape: [1, 1, 1, 1], training: false, affine: true, eps: 1e-3 },
  ];
  for (const [i, bc] of cases.entries()) {
    test(`float64 reference and differences: x ${JSON.stringify(bc.shape)}, ${bc.training ? 'training' : 'eval'}${bc.affine ? ', affine' : ''}`, () => {
      const [n, c] = bc.shape;
      const s = bc.shape.slice(2).reduce((a, b) => a * b, 1);
      const eps = bc.eps ?? 1e-5;
      const stats = { mean: Float64Array.from(random([c], 200 + i).data), variance: Float64Array.from(random([c], 201 + i, 0.5, 1.5).data) };
      const inputs = [random(bc.shape, 110 + i, -1, 3)];
      if (bc.affine) inputs.push(random([c], 111 + i, 0.5, 1.5), random([c], 112 + i));
      check((x, w, b) => {
        const rm = new Tensor(Float32Array.from(stats.mean), [c]);
        const rv = new Tensor(Float32Array.from(stats.variance), [c]);
        return ops.batchNorm(x, rm, rv, w ?? null, b ?? null, { training: bc.training, eps });
      }, inputs, (x, w, b) => batchNorm64(x, n, c, s, w ?? null, b ?? null, eps, bc.training ? null : stats));
    });
  }

  test('running statistics: momentum, unbiased variance, Variables bumped through modify; none needed in training', () => {
    const x = random([3, 2, 2, 2], 5, -1, 2);
    const rm = new Variable(tensor([0.5, -0.5], [2]));
    const rv = new Variable(tensor([2, 3], [2]));
    ops.batchNorm(x, rm, rv, null, null, { training: true, momentum: 0.3 });
    const n = 12;
    for (let c = 0; c < 2; c++) {
      const vals: number[] = [];
      for (let b = 0; b < 3; b++) for (let k = 0; k < 4; k++) vals.push(x.data[(b * 2 + c) * 4 + k]);
      const mu = vals.reduce((p, q) => p + q, 0) / n;
      const unbiased = vals.reduce((p, q) => p + (q - mu) ** 2, 0) / (n - 1);
      close([rm.data[c]], [0.7 * [0.5, -0.5][c] + 0.3 * mu], 1e-6);
      close([rv.data[c]], [0.7 * [2, 3][c] + 0.3 * unbiased], 1e-6);
    }
    expect(rm.version).toBe(1);
    expect(rv.version).toBe(1);
    const y = ops.batchNorm(x, null, null, null, null, { training: true });
    expect(y.shape).toEqual([3, 2, 2, 2]);
  });

  test('errors', () => {
    const x = random([2, 3, 2, 2], 1);
    const stat = () => tensor([0, 0, 0], [3]);
    expect(() => ops.batchNorm(random([1, 3], 1), stat(), stat(), null, null, { training: true })).toThrow(/training needs more than 1 value per channel, got x \[1, 3\]/);
    expect(() => ops.batchNorm(x, null, null)).toThrow(/without training it normalises with runningMean and runningVar/);
    expect(() => ops.batchNorm(x, tensor([0, 0], [2]), stat())).toThrow(/runningMean must have shape \[3\] \(one per channel\), got \[2\]/);
    expect(() => ops.batchNorm(x, stat(), null, null, null, { training: true })).toThrow(/give both runningMean and runningVar, or neither/);
    expect(() => ops.batchNorm(x, stat(), stat(), random([2], 1))).toThrow(/weight must have shape \[3\]/);
    expect(() => ops.batchNorm(x, stat(), stat(), null, null, { momentum: 2 })).toThrow(/momentum must be a number in \[0, 1\], got 2/);
    expect(() => ops.batchNorm(random([3], 1), null, null, null, null, { training: true })).toThrow(/x must be \[N, C\] or \[N, C, ...spatial\], got \[3\]/);
  });
});

// ---- Embedding ----

describe('embedding', () => {
  test('hand-derived: rows looked up, repeated rows add their gradients', () => {
    // weight rows [0, 1], [2, 3], [4, 5]; indices [2, 0, 2] → [[4, 5], [0, 1], [4, 5]];
    // d Σy/d weight: row 0 once, row 1 never, row 2 twice.
    const w = new Variable(tensor([0, 1, 2, 3, 4, 5], [3, 2]), { requiresGrad: true });
    const y = ops.embedding(tensor([2, 0, 2], [3]), w);
    expect(y.shape).toEqual([3, 2]);
    close(y.data, [4, 5, 0, 1, 4, 5]);
    ops.sum(y).backward();
    close(w.grad!.data, [1, 1, 0, 0, 2, 2]);
  });

  test('any index shape gives [...shape, D]; plain arrays work; paddingIdx gets no gradient', () => {
    const w = new Variable(random([5, 3], 1), { requiresGrad: true });
    const y = ops.embedding(tensor([1, 4, 1, 0, 0, 3], [2, 1, 3]), w, { paddingIdx: -1 });
    expect(y.shape).toEqual([2, 1, 3, 3]);
    close(y.data.subarray(3, 6), w.data.subarray(12, 15), 0);
    const gy = random([2, 1, 3, 3], 2);
    y.backward(gy);
    // Row 4 is paddingIdx −1: no gradient. Row 1 collects positions 0 and 2, row 0 positions 3 and 4.
    close(w.grad!.data.subarray(12, 15), [0, 0, 0]);
    close(w.grad!.data.subarray(3, 6), [0, 1, 2].map((j) => gy.data[j] + gy.data[6 + j]), 1e-6);
    close(w.grad!.data.subarray(0, 3), [0, 1, 2].map((j) => gy.data[9 + j] + gy.data[12 + j]), 1e-6);
    expect(ops.embedding([3, 3], w).shape).toEqual([2, 3]);
  });

  test('errors name the index, its position and V', () => {
    const w = random([10, 4], 1);
    expect(() => ops.embedding(tensor([1, 10], [2]), w)).toThrow(/embedding: index 10 at flat position 1 is out of range: indices must be integers in \[0, 9\] \(V = 10 rows\)/);
    expect(() => ops.embedding(tensor([-1], [1]), w)).toThrow(/index -1 at flat position 0 is out of range/);
    expect(() => ops.embedding(tensor([1.5], [1]), w)).toThrow(/index 1.5 at flat position 0/);
    expect(() => ops.embedding(tensor([0], [1]), random([10], 2))).toThrow(/weight must be 2-D \[V, D\], got \[10\]/);
    expect(() => ops.embedding(tensor([0], [1]), w, { paddingIdx: 10 })).toThrow(/paddingIdx must be an integer in \[-10, 9\] for V = 10, got 10/);
    expect(() => ops.embedding(7 as unknown as Tensor, w)).toThrow(/indices must be a Tensor, a Variable or an array of integers/);
  });
});

// ---- Recording ----

describe('recording', () => {
  test('every op records exactly one node over its own inputs with tracking, and none without', () => {
    const x4 = new Variable(random([2, 2, 4, 4], 1), { requiresGrad: true });
    const w = new Variable(random([3, 2, 3, 3], 2), { requiresGrad: true });
    const b = new Variable(random([3], 3), { requiresGrad: true });
    const x3 = new Variable(random([2, 2, 4], 4), { requiresGrad: true });
    const w1 = new Variable(random([3, 2, 3], 5), { requiresGrad: true });
    const g = new Variable(random([2], 6), { requiresGrad: true });
    const h = new Variable(random([2], 7), { requiresGrad: true });
    const emb = new Variable(random([5, 2], 8), { requiresGrad: true });
    const cases: [string, () => Variable, Variable[]][] = [
      ['conv2d', () => ops.conv2d(x4, w, b, { padding: 1 }), [x4, w, b]],
      ['conv2d', () => ops.conv2d(x4, w, null, { stride: 2 }), [x4, w]],
      ['conv1d', () => ops.conv1d(x3, w1, null), [x3, w1]],
      ['maxPool2d', () => ops.maxPool2d(x4, { kernelSize: 2 }), [x4]],
      ['avgPool2d', () => ops.avgPool2d(x4, { kernelSize: 2 }), [x4]],
      ['dropout', () => ops.dropout(x4, 0.5, { rng: new Rng(1) }), [x4]],
      ['layerNorm', () => ops.layerNorm(x4, [4, 4]), [x4]],
      ['layerNorm', () => ops.layerNorm(x3, 4, random([4], 9), null), [x3, expect.any(Variable) as unknown as Variable]],
      ['batchNorm', () => ops.batchNorm(x4, null, null, g, h, { training: true }), [x4, g, h]],
      ['embedding', () => ops.embedding(tensor([1, 4], [2]), emb), [emb]],
    ];
    for (const [op, run, inputs] of cases) {
      const y = run();
      expect(y.node?.op, op).toBe(op);
      expect(y.node!.inputs, op).toEqual(inputs);
      for (const input of y.node!.inputs) expect(input.node, `${op}: an input made inside the op`).toBeNull();
      expect(noGrad(run).node, `${op} inside noGrad`).toBeNull();
    }
  });
});

// ---- The checks catch small errors ----

describe('the gradient checks have teeth', () => {
  test('a conv, pooling or norm gradient scaled by 1.005 fails the tolerance', () => {
    const cc = CONV_CASES[7];
    const g = geometry64(cc);
    const e1 = check((x, w, b) => ops.conv2d(x, w, b, convOptions(cc)), convInputs(cc, g, 1), (x, w, b) => conv64(x, w, b, g), undefined, 1.005);
    expect(e1).toBeGreaterThan(GRAD_TOL);
    const pg = pool64(1, 2, 5, 5, [3, 3], [2, 2], [1, 1]);
    const e2 = check((x) => ops.avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }), [random([1, 2, 5, 5], 3)], (x) => avgPool64(x, pg, true), undefined, 1.005);
    expect(e2).toBeGreaterThan(GRAD_TOL);
    const e3 = check((x, w, b) => ops.layerNorm(x, 4, w, b), [random([3, 4], 4), random([4], 5, 0.5, 1.5), random([4], 6)],
      (x, w, b) => layerNorm64(x, 4, w, b, 1e-5), undefined, 1.005);
    expect(e3).toBeGreaterThan(GRAD_TOL);
  });
});
