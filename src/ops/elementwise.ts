// elementwise.ts: the elementwise differentiable ops, forward and backward on compiled SIMD kernels:
// arithmetic with NumPy broadcasting (add, sub, mul, div, pow), where, unary maps (neg, exp, log,
// sqrt, abs, clamp) and the activations (relu, leakyRelu, tanh, sigmoid, gelu in both forms, silu).
import { RELU, RELU_BACKWARD, TANH, SIGMOID, type Kernel } from '../plugin/index.js';
import { Tensor, formatShape, shapeSize } from '../tensor/tensor.js';
import {
  alloc, allocUninit, asVariable, broadcastShapes, expandInto, expandTo, kernel, markHeavy, negated, record, runKernel, sameShape, sumToShape, tracking,
} from './op-helpers.js';
import { Variable, type OpInput } from './variable.js';
import { attrsEnabled, withAttrs } from './tape.js';

const SQRT1_2 = Math.SQRT1_2;
// 1/√(2π): the standard normal density's constant (PyTorch's M_2_SQRTPI · M_SQRT1_2 · 0.5).
const INV_SQRT_2PI = 2 / Math.sqrt(Math.PI) * Math.SQRT1_2 * 0.5;
// √(2/π) and the cubic coefficient of GELU's tanh form (PyTorch's kBeta = M_SQRT2 · M_2_SQRTPI · 0.5, kKappa).
const GELU_BETA = Math.SQRT2 * (2 / Math.sqrt(Math.PI)) * 0.5;
const GELU_KAPPA = 0.044715;

// Kernels, compiled on first use.
const K = {
  add: () => kernel('add', ['y', 'a', 'b'], ({ a, b }) => ({ y: a.add(b) })),
  sub: () => kernel('sub', ['y', 'a', 'b'], ({ a, b }) => ({ y: a.sub(b) })),
  mul: () => kernel('mul', ['y', 'a', 'b'], ({ a, b }) => ({ y: a.mul(b) })),
  div: () => kernel('div', ['y', 'a', 'b'], ({ a, b }) => ({ y: a.div(b) })),
  // x ∘ s and s ∘ x for a single-value operand s (same bits as the expanded forms).
  addS: () => kernel('add-s', ['y', 'x'], ({ x }, { s }) => ({ y: x.add(s) }), ['s']),
  subS: () => kernel('sub-s', ['y', 'x'], ({ x }, { s }) => ({ y: x.sub(s) }), ['s']),
  rsubS: () => kernel('rsub-s', ['y', 'x'], ({ x }, { s }) => ({ y: s.sub(x) }), ['s']),
  mulS: () => kernel('mul-s', ['y', 'x'], ({ x }, { s }) => ({ y: x.mul(s) }), ['s']),
  divS: () => kernel('div-s', ['y', 'x'], ({ x }, { s }) => ({ y: x.div(s) }), ['s']),
  rdivS: () => kernel('rdiv-s', ['y', 'x'], ({ x }, { s }) => ({ y: s.div(x) }), ['s']),
  // d(a/b)/db = −g·a/b², in PyTorch's order −g·((a/b)/b).
  divGradB: () => kernel('div-grad-b', ['y', 'g', 'a', 'b'], ({ g, a, b }) => ({ y: g.mul(a.div(b).div(b)).neg() })),
  neg: () => kernel('neg', ['y', 'x'], ({ x }) => ({ y: x.neg() })),
  square: () => kernel('square', ['y', 'x'], ({ x }) => ({ y: x.mul(x) })),
  // d x²: g·2x (as PyTorch's pow backward for exponent 2: grad · 2 · x).
  squareGrad: () => kernel('square-grad', ['y', 'g', 'x'], ({ g, x }) => ({ y: g.mul(x.mul(2)) })),
  exp: () => kernel('exp', ['y', 'x'], ({ x }) => ({ y: x.exp() }), [], true),
  log: () => kernel('log', ['y', 'x'], ({ x }) => ({ y: x.log() }), [], true),
  sqrt: () => kernel('sqrt', ['y', 'x'], ({ x }) => ({ y: x.sqrt() })),
  sqrtGrad: () => kernel('sqrt-grad', ['y', 'g', 'r'], ({ g, r }) => ({ y: g.div(r.mul(2)) })),
  abs: () => kernel('abs', ['y', 'x'], ({ x }) => ({ y: x.abs() })),
  // d|x| = sign(x) (0 at 0, as torch.abs).
  absGrad: () => kernel('abs-grad', ['y', 'g', 'x'], ({ g, x }) => ({ y: g.mul(x.sign()) })),
  clamp: () => kernel('clamp', ['y', 'x'], ({ x }, { lo, hi }) => ({ y: x.max(lo).min(hi) }), ['lo', 'hi']),
  // torch's clamp backward passes the gradient where lo ≤ x ≤ hi (both ends inclusive).
  clampGrad: () => kernel('clamp-grad', ['y', 'g', 'x'], ({ g, x }, { lo, hi }) => ({
    y: x.ge(lo).and(x.le(hi)).select(g, 0),
  }), ['lo', 'hi']),
  // Nonzero (or NaN) condition picks a, as torch.where on a bool mask made by `cond != 0`.
  where: () => kernel('where', ['y', 'c', 'a', 'b'], ({ c, a, b }) => ({ y: c.eq(0).select(b, a) })),
  whereGrad: () => kernel('where-grad', ['ga', 'gb', 'g', 'c'], ({ g, c }) => ({ ga: c.eq(0).select(0, g), gb: c.eq(0).select(g, 0) })),
  tanhGrad: () => kernel('tanh-grad', ['y', 'g', 't'], ({ g, t }) => ({ y: g.mul(t.mul(t).neg().add(1)) })),
  sigmoidGrad: () => kernel('sigmoid-grad', ['y', 'g', 's'], ({ g, s }) => ({ y: g.mul(s.neg().add(1).mul(s)) })),
  leakyRelu: () => kernel('leaky-relu', ['y', 'x'], ({ x }, { slope }) => ({ y: x.gt(0).select(x, x.mul(slope)) }), ['slope']),
  leakyReluGrad: () => kernel('leaky-relu-grad', ['y', 'g', 'x'], ({ g, x }, { slope }) => ({ y: x.gt(0).select(g, g.mul(slope)) }), ['slope']),
  // GELU (erf form), in PyTorch's order: x·0.5·(1 + erf(x/√2)).
  gelu: () => kernel('gelu', ['y', 'x'], ({ x }) => ({ y: x.mul(0.5).mul(x.mul(SQRT1_2).erf().add(1)) }), [], true),
  // d gelu/dx = Φ(x) + x·φ(x), Φ(x) = 0.5·(1 + erf(x/√2)), φ(x) = e^(−x²/2)/√(2π).
  geluGrad: () => kernel('gelu-grad', ['y', 'g', 'x'], ({ g, x }) => {
    const cdf = x.mul(SQRT1_2).erf().add(1).mul(0.5);
    const pdf = x.mul(x).mul(-0.5).exp().mul(INV_SQRT_2PI);
    return { y: g.mul(cdf.add(x.mul(pdf))) };
  }, [], true),
  // GELU (tanh form), PyTorch's: 0.5·x·(1 + tanh(β·(x + κ·x³))).
  geluTanh: () => kernel('gelu-tanh', ['y', 'x'], ({ x }) => {
    const inner = x.add(x.mul(x).mul(x).mul(GELU_KAPPA)).mul(GELU_BETA);
    return { y: x.mul(0.5).mul(inner.tanh().add(1)) };
  }, [], true),
  // d/dx = 0.5·(1 + t) + 0.5·x·(1 − t²)·β·(1 + 3κ·x²), t = tanh(β·(x + κ·x³)).
  geluTanhGrad: () => kernel('gelu-tanh-grad', ['y', 'g', 'x'], ({ g, x }) => {
    const x2 = x.mul(x);
    const t = x.add(x2.mul(x).mul(GELU_KAPPA)).mul(GELU_BETA).tanh();
    const left = t.add(1).mul(0.5);
    const right = x.mul(0.5).mul(t.mul(t).neg().add(1)).mul(x2.mul(3 * GELU_KAPPA).add(1).mul(GELU_BETA));
    return { y: g.mul(left.add(right)) };
  }, [], true),
  // SiLU x·σ(x) as PyTorch computes it: x / (1 + e^(−x)).
  silu: () => kernel('silu', ['y', 'x'], ({ x }) => ({ y: x.div(x.neg().exp().add(1)) }), [], true),
  // d silu = σ·(1 + x·(1 − σ)).
  siluGrad: () => kernel('silu-grad', ['y', 'g', 'x'], ({ g, x }) => {
    // σ(x) = 0.5·(1 + tanh(x/2)): no overflow for large |x| and no constant operand needed.
    const sig = x.mul(0.5).tanh().add(1).mul(0.5);
    return { y: g.mul(sig.mul(x.mul(sig.neg().add(1)).add(1))) };
  }, [], true),
};

function run1(k: Kernel, x: Float32Array): Float32Array {
  const y = allocUninit(x.length);
  runKernel(k, x.length, 1, y, x);
  return y;
}

function run2(k: Kernel, a: Float32Array, b: Float32Array): Float32Array {
  const y = allocUninit(a.length);
  runKernel(k, a.length, 1, y, a, b);
  return y;
}

// ---- Binary arithmetic with broadcasting ----

/** Gradients of a binary op on operands already expanded to the output shape (null where not needed). */
type BinaryGrads = (g: Float32Array, a: Float32Array, b: Float32Array, y: Float32Array, needA: boolean, needB: boolean) => [Float32Array | null, Float32Array | null];

/** A binary op's kernels for a single-value operand: `right` computes x ∘ s, `left` s ∘ x (x is the array operand). */
interface ScalarForms {
  readonly right: () => Kernel;
  readonly left: () => Kernel;
}

/**
 * A broadcasting binary op: both operands are expanded to the output shape (unless already of it),
 * the compiled kernel runs over the result, and the backward sums each gradient back to its operand's
 * shape. `saveA`/`saveB` say which operands the backward reads (they are version-checked).
 */
function binary(
  op: string, a: Variable, b: Variable, forward: Kernel, scalar: ScalarForms, saveA: boolean, saveB: boolean, grads: BinaryGrads,
): Variable {
  const outShape = broadcastShapes(a.shape, b.shape, op);
  const aSame = sameShape(a.shape, outShape);
  const bSame = sameShape(b.shape, outShape);
  let y: Float32Array;
  if (aSame && !bSame && b.size === 1) {
    // One operand is a single value: a scalar kernel, with no expanded copy.
    y = allocUninit(a.size);
    runKernel(scalar.right(), a.size, 1, y, a.data, b.data[0]);
  } else if (bSame && !aSame && a.size === 1) {
    y = allocUninit(b.size);
    runKernel(scalar.left(), b.size, 1, y, b.data, a.data[0]);
  } else if (aSame !== bSame) {
    // One operand is broadcast: it is expanded into the result array itself, which the kernel then
    // reads and overwrites element by element (y = a ∘ y or y ∘ b): one array and pass fewer.
    const n = shapeSize(outShape);
    y = allocUninit(n);
    if (aSame) runKernel(forward, n, 1, y, a.data, expandInto(y, b.data, b.shape, outShape));
    else runKernel(forward, n, 1, y, expandInto(y, a.data, a.shape, outShape), b.data);
  } else {
    const ad = aSame ? a.data : expandTo(a.data, a.shape, outShape);
    const bd = bSame ? b.data : expandTo(b.data, b.shape, outShape);
    y = run2(forward, ad, bd);
  }
  const value = new Tensor(y, outShape);
  if (!tracking(a, b)) return new Variable(value);
  const saved: Variable[] = [];
  if (saveA) saved.push(a);
  if (saveB) saved.push(b);
  const needA = a.requiresGrad;
  const needB = b.requiresGrad;
  return record(op, value, [a, b], saved, (g) => {
    // The expanded operands are rebuilt from the saved variables (not kept alive by the graph).
    const ae = saveA && !aSame ? expandTo(a.data, a.shape, outShape) : a.data;
    const be = saveB && !bSame ? expandTo(b.data, b.shape, outShape) : b.data;
    const [ga, gb] = grads(g, ae, be, y, needA, needB);
    return [
      needA && ga !== null ? sumToShape(ga, outShape, a.shape) : null,
      needB && gb !== null ? sumToShape(gb, outShape, b.shape) : null,
    ];
  });
}

// Each op's scalar kernels and gradient rule, made once (so an untracked call builds no closure).
const ADD_SCALAR: ScalarForms = { right: K.addS, left: K.addS };
const SUB_SCALAR: ScalarForms = { right: K.subS, left: K.rsubS };
const MUL_SCALAR: ScalarForms = { right: K.mulS, left: K.mulS };
const DIV_SCALAR: ScalarForms = { right: K.divS, left: K.rdivS };
const ADD_GRADS: BinaryGrads = (g) => [g, g];
const SUB_GRADS: BinaryGrads = (g, _a, _b, _y, _needA, needB) => [g, needB ? negated(g) : null];
const MUL_GRADS: BinaryGrads = (g, ae, be, _y, needA, needB) => [needA ? run2(K.mul(), g, be) : null, needB ? run2(K.mul(), g, ae) : null];
const DIV_GRADS: BinaryGrads = (g, ae, be, _y, needA, needB) => {
  let gb: Float32Array | null = null;
  if (needB) {
    gb = allocUninit(g.length);
    runKernel(K.divGradB(), g.length, 1, gb, g, ae, be);
  }
  return [needA ? run2(K.div(), g, be) : null, gb];
};

/** a + b with NumPy broadcasting: shapes right-aligned, size-1 (or missing) axes repeated. */
export function add(a: OpInput, b: OpInput): Variable {
  return binary('add', asVariable(a, 'add', 'a'), asVariable(b, 'add', 'b'), K.add(), ADD_SCALAR, false, false, ADD_GRADS);
}

/** a − b with NumPy broadcasting. */
export function sub(a: OpInput, b: OpInput): Variable {
  return binary('sub', asVariable(a, 'sub', 'a'), asVariable(b, 'sub', 'b'), K.sub(), SUB_SCALAR, false, false, SUB_GRADS);
}

/** a · b (elementwise) with NumPy broadcasting. */
export function mul(a: OpInput, b: OpInput): Variable {
  const av = asVariable(a, 'mul', 'a');
  const bv = asVariable(b, 'mul', 'b');
  return binary('mul', av, bv, K.mul(), MUL_SCALAR, bv.requiresGrad, av.requiresGrad, MUL_GRADS);
}

/** a / b (elementwise) with NumPy broadcasting. */
export function div(a: OpInput, b: OpInput): Variable {
  const av = asVariable(a, 'div', 'a');
  const bv = asVariable(b, 'div', 'b');
  return binary('div', av, bv, K.div(), DIV_SCALAR, bv.requiresGrad, true, DIV_GRADS);
}

/**
 * `x^p`, elementwise. `p` is a number, or a Variable/Tensor broadcast against `x` (then the
 * exponent gets a gradient too: x^p·ln x, taken as 0 where x = 0 and p ≥ 0, as PyTorch).
 * Gradient to x: p·x^(p−1) (0 when p = 0). Values are Math.pow per element rounded to float32, so
 * negative bases work for integer p; p = 2 runs the x·x kernel.
 */
export function pow(xIn: OpInput, p: OpInput): Variable {
  if (typeof p === 'number') return withAttrs(powScalar(asVariable(xIn, 'pow', 'x'), p), attrsEnabled() ? { exponent: p } : null);
  if (!(p instanceof Variable) && !(p instanceof Tensor)) {
    throw new Error(`pow: the exponent must be a number, a Variable or a Tensor, got ${Array.isArray(p) ? 'an array' : String(p)}`);
  }
  const x = asVariable(xIn, 'pow', 'x');
  const e = asVariable(p, 'pow', 'exponent');
  return powTensor(x, e, tracking(x, e));
}

function powTensor(x: Variable, e: Variable, track: boolean): Variable {
  const outShape = broadcastShapes(x.shape, e.shape, 'pow');
  const xd = sameShape(x.shape, outShape) ? x.data : expandTo(x.data, x.shape, outShape);
  const ed = sameShape(e.shape, outShape) ? e.data : expandTo(e.data, e.shape, outShape);
  const n = shapeSize(outShape);
  const y = allocUninit(n);
  for (let i = 0; i < n; i++) y[i] = Math.pow(xd[i], ed[i]);
  const value = new Tensor(y, outShape);
  if (!track) return new Variable(value);
  const needX = x.requiresGrad;
  const needE = e.requiresGrad;
  return record('pow', value, [x, e], [x, e], (g) => {
    const xe = sameShape(x.shape, outShape) ? x.data : expandTo(x.data, x.shape, outShape);
    const ee = sameShape(e.shape, outShape) ? e.data : expandTo(e.data, e.shape, outShape);
    let gx: Float32Array | null = null;
    let ge: Float32Array | null = null;
    if (needX) {
      gx = allocUninit(n);
      for (let i = 0; i < n; i++) gx[i] = ee[i] === 0 ? 0 : g[i] * ee[i] * Math.pow(xe[i], ee[i] - 1);
      gx = sumToShape(gx, outShape, x.shape);
    }
    if (needE) {
      ge = allocUninit(n);
      for (let i = 0; i < n; i++) ge[i] = xe[i] === 0 && ee[i] >= 0 ? 0 : g[i] * y[i] * Math.log(xe[i]);
      ge = sumToShape(ge, outShape, e.shape);
    }
    return [gx, ge];
  });
}

function powScalar(x: Variable, p: number): Variable {
  if (Number.isNaN(p)) throw new Error('pow: the exponent is NaN');
  if (p === 2) {
    const y = run1(K.square(), x.data);
    const value = new Tensor(y, x.shape);
    if (!tracking(x)) return new Variable(value);
    return record('pow', value, [x], [x], (g) => [run2(K.squareGrad(), g, x.data)]);
  }
  const d = x.data;
  const y = allocUninit(d.length);
  for (let i = 0; i < d.length; i++) y[i] = Math.pow(d[i], p);
  const value = new Tensor(y, x.shape);
  if (!tracking(x)) return new Variable(value);
  return record('pow', value, [x], [x], (g) => {
    const gx = alloc(g.length); // zeros: returned as is when p = 0
    if (p === 0) return [gx];
    const xd = x.data;
    for (let i = 0; i < g.length; i++) gx[i] = g[i] * p * Math.pow(xd[i], p - 1);
    return [gx];
  });
}

/**
 * `cond ? a : b` elementwise, with `cond`, `a` and `b` broadcast together (NumPy rules). `cond` is a
 * mask (a Tensor or Variable; nonzero and NaN count as true) and gets no gradient. a gets g where
 * cond, b gets g elsewhere, each summed back to its shape.
 */
export function where(cond: Tensor | Variable, aIn: OpInput, bIn: OpInput): Variable {
  if (!(cond instanceof Tensor) && !(cond instanceof Variable)) {
    throw new Error(`where: cond must be a Tensor or a Variable mask, got ${Array.isArray(cond) ? 'an array' : String(cond)}`);
  }
  const c = cond instanceof Variable ? cond.value : cond;
  const a = asVariable(aIn, 'where', 'a');
  const b = asVariable(bIn, 'where', 'b');
  let outShape: number[];
  try {
    outShape = broadcastShapes(c.shape, broadcastShapes(a.shape, b.shape, 'where'), 'where');
  } catch {
    throw new Error(`where: shapes cond ${formatShape(c.shape)}, a ${formatShape(a.shape)} and b ${formatShape(b.shape)} cannot be broadcast together`);
  }
  const n = shapeSize(outShape);
  const cd = sameShape(c.shape, outShape) ? c.data : expandTo(c.data, c.shape, outShape);
  const ad = sameShape(a.shape, outShape) ? a.data : expandTo(a.data, a.shape, outShape);
  const bd = sameShape(b.shape, outShape) ? b.data : expandTo(b.data, b.shape, outShape);
  const y = allocUninit(n);
  runKernel(K.where(), n, 1, y, cd, ad, bd);
  const value = new Tensor(y, outShape);
  if (!tracking(a, b)) return new Variable(value);
  return withAttrs(record('where', value, [a, b], [], (g) => {
    const ga = allocUninit(n);
    const gb = allocUninit(n);
    runKernel(K.whereGrad(), n, 2, ga, gb, g, cd);
    return [a.requiresGrad ? sumToShape(ga, outShape, a.shape) : null, b.requiresGrad ? sumToShape(gb, outShape, b.shape) : null];
  }), attrsEnabled() ? { cond: c.clone() } : null);
}

// ---- Unary maps ----

/** What a unary op's gradient kernel reads beside g: nothing, the input x, or the output y. */
type GradReads = 'none' | 'x' | 'y';

// Shared by every untracked call, so an op without tracking builds no closure.
const NO_SCALARS: readonly number[] = [];

/**
 * A unary op on compiled kernels: `forward` maps (y, x, ...scalars), `grad` maps (gx, g[, x or y],
 * ...scalars). When the gradient reads x, x is saved (version-checked).
 */
function unary(op: string, xIn: OpInput, forward: () => Kernel, grad: () => Kernel, reads: GradReads, scalars = NO_SCALARS): Variable {
  const x = asVariable(xIn, op, 'x');
  const n = x.size;
  const y = allocUninit(n);
  runKernel(forward(), n, 1, y, x.data, ...scalars);
  const value = new Tensor(y, x.shape);
  if (!tracking(x)) return new Variable(value);
  return record(op, value, [x], reads === 'x' ? [x] : [], (g) => {
    const gx = allocUninit(n);
    if (reads === 'none') runKernel(grad(), n, 1, gx, g, ...scalars);
    else runKernel(grad(), n, 1, gx, g, reads === 'x' ? x.data : y, ...scalars);
    return [gx];
  });
}

const builtIn = (k: Kernel) => (): Kernel => k;
const RELU_K = builtIn(RELU);
const RELU_BACKWARD_K = builtIn(RELU_BACKWARD);
const TANH_K = builtIn(markHeavy(TANH));
const SIGMOID_K = builtIn(markHeavy(SIGMOID));

/** −x (any shape). */
export function neg(x: OpInput): Variable {
  return unary('neg', x, K.neg, K.neg, 'none');
}

/** eˣ (float32 exp: ≤ 1 ulp). Gradient g·eˣ. */
export function exp(x: OpInput): Variable {
  return unary('exp', x, K.exp, K.mul, 'y');
}

/** Natural log (NaN below zero, −Inf at zero). Gradient g/x. */
export function log(x: OpInput): Variable {
  return unary('log', x, K.log, K.div, 'x');
}

/** √x. Gradient g/(2√x). */
export function sqrt(x: OpInput): Variable {
  return unary('sqrt', x, K.sqrt, K.sqrtGrad, 'y');
}

/** |x|. Gradient g·sign(x), 0 at x = 0 (as torch.abs). */
export function abs(x: OpInput): Variable {
  return unary('abs', x, K.abs, K.absGrad, 'x');
}

/**
 * `min(max(x, min), max)` elementwise; either bound may be omitted (null/undefined). Gradient g
 * where min ≤ x ≤ max (ends included, as torch.clamp), 0 outside. When min > max every element
 * becomes max, as in PyTorch.
 */
export function clamp(xIn: OpInput, min?: number | null, max?: number | null): Variable {
  const lo = min ?? -Infinity;
  const hi = max ?? Infinity;
  if (typeof lo !== 'number' || Number.isNaN(lo) || typeof hi !== 'number' || Number.isNaN(hi)) {
    throw new Error(`clamp: min and max must be numbers (or omitted), got min ${String(min)}, max ${String(max)}`);
  }
  if (min == null && max == null) throw new Error('clamp: give at least one of min and max');
  return withAttrs(unary('clamp', xIn, K.clamp, K.clampGrad, 'x', [lo, hi]), attrsEnabled() ? { min: lo, max: hi } : null);
}

/** max(x, 0); gradient 0 at x ≤ 0 (as PyTorch). */
export function relu(x: OpInput): Variable {
  return unary('relu', x, RELU_K, RELU_BACKWARD_K, 'x');
}

/** `x > 0 ? x : slope·x` (slope default 0.01, as torch). Gradient g or slope·g (slope at 0). */
export function leakyRelu(xIn: OpInput, slope = 0.01): Variable {
  if (typeof slope !== 'number' || !Number.isFinite(slope)) throw new Error(`leakyRelu: slope must be a finite number, got ${String(slope)}`);
  return withAttrs(unary('leakyRelu', xIn, K.leakyRelu, K.leakyReluGrad, 'x', [slope]), attrsEnabled() ? { slope } : null);
}

/** tanh(x); gradient 1 − tanh². */
export function tanh(x: OpInput): Variable {
  return unary('tanh', x, TANH_K, K.tanhGrad, 'y');
}

/** 1 / (1 + e^(−x)); gradient σ·(1 − σ). */
export function sigmoid(x: OpInput): Variable {
  return unary('sigmoid', x, SIGMOID_K, K.sigmoidGrad, 'y');
}

/** Options of {@link gelu}. */
export interface GeluOptions {
  /** 'none' (default): the exact erf form; 'tanh': PyTorch's tanh approximation. */
  readonly approximate?: 'none' | 'tanh';
}

/**
 * GELU, as torch.nn.functional.gelu: exact form x·Φ(x) = x·0.5·(1 + erf(x/√2)) (default), or with
 * `{ approximate: 'tanh' }` 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
 */
export function gelu(x: OpInput, options: GeluOptions = {}): Variable {
  const form = options.approximate ?? 'none';
  if (form === 'tanh') return withAttrs(unary('gelu', x, K.geluTanh, K.geluTanhGrad, 'x'), attrsEnabled() ? { approximate: form } : null);
  if (form !== 'none') throw new Error(`gelu: approximate must be 'none' or 'tanh', got ${String(form)}`);
  return withAttrs(unary('gelu', x, K.gelu, K.geluGrad, 'x'), attrsEnabled() ? { approximate: form } : null);
}

/** SiLU (swish) x·σ(x) = x / (1 + e^(−x)); gradient σ·(1 + x·(1 − σ)). */
export function silu(x: OpInput): Variable {
  return unary('silu', x, K.silu, K.siluGrad, 'x');
}
