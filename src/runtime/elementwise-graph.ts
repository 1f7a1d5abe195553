// elementwise-graph.ts: the front end of the elementwise compiler: the Values a body is traced with,
// the expression DAG (hash-consed, typed, with invariant nodes marked), the op table that says how each
// op is written in WebAssembly and in the twin's JavaScript, the macros (exp, log, erf, tanh, sign) as
// DAGs of primitive ops, and the validation and tracing of a definition. elementwise-compiler.ts
// generates code from what this file builds.
import { OP, SIMD } from './wasm-encoder.js';

/** A traced value inside an elementwise body: float32 per element. */
export interface Value {
  /** `this + o`, rounded to float32. */
  add(o: Value | number): Value;
  /** `this − o`, rounded to float32. */
  sub(o: Value | number): Value;
  /** `this · o`, rounded to float32 (never fused with a neighbouring add). */
  mul(o: Value | number): Value;
  /** `this / o`, rounded to float32. */
  div(o: Value | number): Value;
  /** `−this` (flips the sign bit). */
  neg(): Value;
  /** `|this|` (clears the sign bit). */
  abs(): Value;
  /** √this, correctly rounded (NaN below zero, −0 for −0). */
  sqrt(): Value;
  /** WebAssembly `f32.min`: NaN if either is NaN, min(−0, +0) = −0. */
  min(o: Value | number): Value;
  /** WebAssembly `f32.max`: NaN if either is NaN, max(−0, +0) = +0. */
  max(o: Value | number): Value;
  /** −1 below zero, +1 above, +0 for ±0, NaN for NaN (torch.sign, except that −0 gives +0). */
  sign(): Value;
  /**
   * Float32 eˣ: Cody–Waite reduction x = k·ln2 + r (ln 2 split in two, k = round-half-even(x·log₂e)),
   * Cephes' degree-7 polynomial for eʳ, and 2ᵏ built from exponent bits as 2^⌊k/2⌋·2^(k−⌊k/2⌋) so that
   * subnormal results round once. Maximum error 0.99 ulp against Math.exp (measured over every float32
   * input, subnormal results included; the tests check a million of them against 1 ulp). x is clamped to [−104, 89]:
   * +Inf (and anything above 88.7228) → +Inf, −Inf (and below −103.97) → +0, NaN → NaN.
   */
  exp(): Value;
  /**
   * Float32 natural logarithm in Cephes' logf form: x = 2ᵉ·m with m ∈ [√½, √2) read from the bits
   * (subnormals scaled by 2²³ first), log(1 + f) by a degree-9 polynomial, e·ln 2 added in two parts.
   * Maximum error 0.82 ulp against Math.log (measured over every fifth float32 input; the tests
   * check a million inputs against 1 ulp).
   * log(+0) = log(−0) = −Inf, log(+Inf) = +Inf, below zero and NaN → NaN.
   */
  log(): Value;
  /**
   * erf by Abramowitz–Stegun 7.1.26 in PyTorch's vectorised CPU order (with every fused multiply-add
   * split into a multiply and an add): t = 1/(1 + p·|x|), erf = sign(x)·(1 − t·(a₁ + t·(… + t·a₅))·e^(−x²)).
   * The formula is within 1.4e-7 of erf in exact arithmetic; evaluated in float32 its alternating
   * polynomial adds rounding error, and the measured maximum absolute error over every fifth float32
   * input is 6.7e-7 (near |x| = 0.04; PyTorch's FMA evaluation of the same form reaches 5.3e-7).
   * erf(+0) = +0, erf(−0) = −0, erf(±Inf) = ±1, NaN → NaN.
   */
  erf(): Value;
  /**
   * tanh in Cephes' form: |x| < 0.625 → x + x³·P(x²) (degree-4 P), else 1 − 2/(e^(2|x|) + 1) with
   * this library's exp; the sign of x is copied onto the result, so tanh(−0) = −0. Maximum error
   * 1.33 ulp against Math.tanh (measured over every fifth float32 input; the tests bound it by 2 ulp); tanh(±Inf) = ±1, NaN → NaN.
   */
  tanh(): Value;
  /** `this > o` per element (false when either is NaN). */
  gt(o: Value | number): Mask;
  /** `this < o` per element (false when either is NaN). */
  lt(o: Value | number): Mask;
  /** `this ≥ o` per element (false when either is NaN). */
  ge(o: Value | number): Mask;
  /** `this ≤ o` per element (false when either is NaN). */
  le(o: Value | number): Mask;
  /** `this = o` per element (−0 equals +0; NaN equals nothing). */
  eq(o: Value | number): Mask;
}

/** A per-element boolean inside an elementwise body. */
export interface Mask {
  /** `ifTrue` where the mask holds, else `ifFalse`. */
  select(ifTrue: Value | number, ifFalse: Value | number): Value;
  and(o: Mask): Mask;
  or(o: Mask): Mask;
  not(): Mask;
}

/** A user's elementwise kernel. */
export interface ElementwiseDefinition {
  readonly name: string;                     // kebab or camel, for error messages
  readonly arrays: readonly string[];        // array operands in call order, e.g. ['p', 'g', 'm']
  readonly scalars?: readonly string[];      // float32 scalar operands in call order, e.g. ['lr', 'beta1']
  /** Traced once at compile time with symbolic Values; returns the new values of the arrays it writes
   *  (keys ⊆ arrays; in-place update allowed: every read of an array sees its OLD value, i.e. all outputs
   *  are computed from the inputs of the same element, then stored). */
  readonly body: (arrays: Record<string, Value>, scalars: Record<string, Value>) => Record<string, Value>;
}

/** A bad definition or a bad twin call; the message names the kernel and the problem. */
export class ElementwiseError extends Error {
  constructor(readonly kernel: string, problem: string, options?: { cause?: unknown }) {
    super(`elementwise kernel "${kernel}": ${problem}`, options);
    this.name = 'ElementwiseError';
  }
}

/** At most this many array operands. */
export const MAX_ARRAYS = 8;
/** At most this many scalar operands. */
export const MAX_SCALARS = 12;
/** At most this many distinct DAG nodes per kernel (each is a local in the module). */
export const MAX_NODES = 4000;

// ---------------------------------------------------------------------------------------------
// The DAG: every node has a type (f: float32, i: int32 bits, m: mask) and is hash-consed, so equal
// subexpressions are one node. Node ids grow with creation, so id order is a topological order.

export type Ty = 'f' | 'i' | 'm';

export interface OpSpec {
  readonly ty: Ty;
  readonly args: readonly Ty[];
  readonly commutative: boolean;
  /** SIMD opcode, or -1 when the op only reinterprets bits (nothing to do on a v128). */
  readonly vec: number;
  /** Scalar instruction bytes. */
  readonly sc: readonly number[];
  /** Twin expression from the operands' variable names (and the immediate). */
  readonly twin: (a: readonly string[], imm: number) => string;
  /** Takes an immediate shift count (pushed as i32.const before the op). */
  readonly shift?: boolean;
}

const fbin = (vec: number, sc: number, sym: string, commutative: boolean): OpSpec => ({
  ty: 'f', args: ['f', 'f'], commutative, vec, sc: [sc], twin: (a) => `fr(${a[0]} ${sym} ${a[1]})`,
});
const cmp = (vec: number, sc: number, sym: string, commutative: boolean): OpSpec => ({
  ty: 'm', args: ['f', 'f'], commutative, vec, sc: [sc], twin: (a) => `(${a[0]} ${sym} ${a[1]})`,
});
const ibin = (vec: number, sc: number, js: (a: readonly string[]) => string, commutative: boolean): OpSpec => ({
  ty: 'i', args: ['i', 'i'], commutative, vec, sc: [sc], twin: js,
});

export const OPS: Record<string, OpSpec> = {
  fadd: fbin(SIMD.f32x4Add, OP.f32Add, '+', true),
  fsub: fbin(SIMD.f32x4Sub, OP.f32Sub, '-', false),
  fmul: fbin(SIMD.f32x4Mul, OP.f32Mul, '*', true),
  fdiv: fbin(SIMD.f32x4Div, OP.f32Div, '/', false),
  // Math.min/max treat −0 as below +0 and return NaN for any NaN: exactly f32.min/f32.max.
  fmin: { ty: 'f', args: ['f', 'f'], commutative: true, vec: SIMD.f32x4Min, sc: [OP.f32Min], twin: (a) => `mn(${a[0]}, ${a[1]})` },
  fmax: { ty: 'f', args: ['f', 'f'], commutative: true, vec: SIMD.f32x4Max, sc: [OP.f32Max], twin: (a) => `mx(${a[0]}, ${a[1]})` },
  // Clamps against a constant (never NaN, never ±0): f32x4.pmin/pmax are one instruction each and, with
  // the variable first, agree with f32.min/max there (a NaN in the first operand comes back out).
  fclampmin: { ty: 'f', args: ['f', 'f'], commutative: false, vec: SIMD.f32x4Pmin, sc: [OP.f32Min], twin: (a) => `mn(${a[0]}, ${a[1]})` },
  fclampmax: { ty: 'f', args: ['f', 'f'], commutative: false, vec: SIMD.f32x4Pmax, sc: [OP.f32Max], twin: (a) => `mx(${a[0]}, ${a[1]})` },
  fneg: { ty: 'f', args: ['f'], commutative: false, vec: SIMD.f32x4Neg, sc: [OP.f32Neg], twin: (a) => `(-${a[0]})` },
  fabs: { ty: 'f', args: ['f'], commutative: false, vec: SIMD.f32x4Abs, sc: [OP.f32Abs], twin: (a) => `ab(${a[0]})` },
  fsqrt: { ty: 'f', args: ['f'], commutative: false, vec: SIMD.f32x4Sqrt, sc: [OP.f32Sqrt], twin: (a) => `fr(sq(${a[0]}))` },
  fnearest: { ty: 'f', args: ['f'], commutative: false, vec: SIMD.f32x4Nearest, sc: [OP.f32Nearest], twin: (a) => `rint(${a[0]})` },
  gt: cmp(SIMD.f32x4Gt, OP.f32Gt, '>', false),
  lt: cmp(SIMD.f32x4Lt, OP.f32Lt, '<', false),
  ge: cmp(SIMD.f32x4Ge, OP.f32Ge, '>=', false),
  le: cmp(SIMD.f32x4Le, OP.f32Le, '<=', false),
  eq: cmp(SIMD.f32x4Eq, OP.f32Eq, '===', true),
  and: { ty: 'm', args: ['m', 'm'], commutative: true, vec: SIMD.v128And, sc: [OP.i32And], twin: (a) => `(${a[0]} && ${a[1]})` },
  or: { ty: 'm', args: ['m', 'm'], commutative: true, vec: SIMD.v128Or, sc: [OP.i32Or], twin: (a) => `(${a[0]} || ${a[1]})` },
  not: { ty: 'm', args: ['m'], commutative: false, vec: SIMD.v128Not, sc: [OP.i32Eqz], twin: (a) => `(!${a[0]})` },
  // operands in stack order: ifTrue, ifFalse, mask (v128.bitselect and select agree on it)
  select: { ty: 'f', args: ['f', 'f', 'm'], commutative: false, vec: SIMD.v128Bitselect, sc: [OP.select], twin: (a) => `(${a[2]} ? ${a[0]} : ${a[1]})` },
  i2f: { ty: 'f', args: ['i'], commutative: false, vec: SIMD.f32x4ConvertI32x4S, sc: [OP.f32ConvertI32S], twin: (a) => `fr(${a[0]})` },
  bits: { ty: 'i', args: ['f'], commutative: false, vec: -1, sc: [OP.i32ReinterpretF32], twin: () => 'I[0]' },
  float: { ty: 'f', args: ['i'], commutative: false, vec: -1, sc: [OP.f32ReinterpretI32], twin: () => 'F[0]' },
  iadd: ibin(SIMD.i32x4Add, OP.i32Add, (a) => `((${a[0]} + ${a[1]}) | 0)`, true),
  isub: ibin(SIMD.i32x4Sub, OP.i32Sub, (a) => `((${a[0]} - ${a[1]}) | 0)`, false),
  iand: ibin(SIMD.v128And, OP.i32And, (a) => `(${a[0]} & ${a[1]})`, true),
  ior: ibin(SIMD.v128Or, OP.i32Or, (a) => `(${a[0]} | ${a[1]})`, true),
  ixor: ibin(SIMD.v128Xor, OP.i32Xor, (a) => `(${a[0]} ^ ${a[1]})`, true),
  ishl: { ty: 'i', args: ['i'], commutative: false, vec: SIMD.i32x4Shl, sc: [OP.i32Shl], shift: true, twin: (a, k) => `(${a[0]} << ${k})` },
  ishr: { ty: 'i', args: ['i'], commutative: false, vec: SIMD.i32x4ShrS, sc: [OP.i32ShrS], shift: true, twin: (a, k) => `(${a[0]} >> ${k})` },
};

/** Leaves: an array element, a scalar operand, a float32 constant (imm = its bits), an int constant. */
type Leaf = 'load' | 'scalar' | 'fconst' | 'iconst';
const LEAF_TY: Record<Leaf, Ty> = { load: 'f', scalar: 'f', fconst: 'f', iconst: 'i' };

export interface Node {
  readonly op: string;
  readonly ty: Ty;
  readonly args: readonly number[];
  readonly imm: number;
  /** Depends on no array element: computed once before the loops. */
  readonly invariant: boolean;
}

const F32 = new Float32Array(1);
const I32 = new Int32Array(F32.buffer);

function f32Bits(v: number): number {
  F32[0] = v;
  return I32[0];
}

export function bitsF32(b: number): number {
  I32[0] = b;
  return F32[0];
}

export class Graph {
  readonly nodes: Node[] = [];
  private readonly index = new Map<string, number>();

  constructor(readonly kernel: string) {}

  fail(problem: string): never {
    throw new ElementwiseError(this.kernel, problem);
  }

  private intern(op: string, ty: Ty, args: number[], imm: number): number {
    const key = `${op}:${args.join(',')}:${imm}`;
    const hit = this.index.get(key);
    if (hit !== undefined) return hit;
    if (this.nodes.length >= MAX_NODES) this.fail(`the expression has more than ${MAX_NODES} distinct operations`);
    const invariant = op !== 'load' && args.every((a) => this.nodes[a].invariant);
    this.nodes.push({ op, ty, args, imm, invariant });
    this.index.set(key, this.nodes.length - 1);
    return this.nodes.length - 1;
  }

  leaf(op: Leaf, imm: number): number {
    return this.intern(op, LEAF_TY[op], [], imm);
  }

  /** A float32 constant (the number rounded to float32). */
  c(v: number): number {
    return this.leaf('fconst', f32Bits(v));
  }

  /** An int32 constant. */
  ic(v: number): number {
    return this.leaf('iconst', v | 0);
  }

  op(name: string, args: number[], imm = 0): number {
    const spec = OPS[name];
    for (let i = 0; i < args.length; i++) {
      if (this.nodes[args[i]].ty !== spec.args[i]) throw new Error(`internal: ${name} operand ${i} has the wrong type`);
    }
    const a = spec.commutative && args[0] > args[1] ? [args[1], args[0]] : args;
    return this.intern(name, spec.ty, a, imm);
  }

  // shorthands used by the macros
  add(a: number, b: number): number { return this.op('fadd', [a, b]); }
  sub(a: number, b: number): number { return this.op('fsub', [a, b]); }
  mul(a: number, b: number): number { return this.op('fmul', [a, b]); }
  div(a: number, b: number): number { return this.op('fdiv', [a, b]); }

  /** Horner's rule c[0]·xⁿ + … + c[n], one multiply and one add per step (no FMA). */
  horner(x: number, c: readonly number[]): number {
    let acc = this.c(c[0]);
    for (let i = 1; i < c.length; i++) acc = this.add(this.mul(acc, x), this.c(c[i]));
    return acc;
  }

  /** The float with a's magnitude and b's sign bit. */
  copySign(a: number, b: number): number {
    const signBit = this.op('iand', [this.op('bits', [b]), this.ic(0x80000000 | 0)]);
    const mag = this.op('iand', [this.op('bits', [a]), this.ic(0x7fffffff)]);
    return this.op('float', [this.op('ior', [mag, signBit])]);
  }
}

// ---------------------------------------------------------------------------------------------
// Macros: exp, erf, tanh and sign as DAGs of the primitive ops above.

// Cephes expf: ln 2 = C1 − C2 with C1 = 355/512 exact in 9 bits (so k·C1 is exact for |k| ≤ 2¹⁵).
const EXP_C1 = 0.693359375;
const EXP_C2 = -2.12194440e-4;
const EXP_P = [1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];

function expNode(g: Graph, x: number): number {
  // clamp: e^89 overflows and e^−104 rounds to 0 in float32; f32.min/max keep a NaN
  const xc = g.op('fclampmax', [g.op('fclampmin', [x, g.c(89)]), g.c(-104)]);
  const k = g.op('fnearest', [g.mul(xc, g.c(Math.LOG2E))]);
  // x − k·C1 is exact (both near k·ln2, k·C1 exact); then the small correction
  const r = g.sub(g.sub(xc, g.mul(k, g.c(EXP_C1))), g.mul(k, g.c(EXP_C2)));
  const z = g.mul(r, r);
  const y = g.add(g.add(g.mul(g.horner(r, EXP_P), z), r), g.c(1));
  // 2ᵏ = 2^k1 · 2^k2 with k1 = k >> 1, k2 = k − k1 ∈ [−75, 64]: both scales are normal floats, y·2^k1
  // is exact, and the last multiply rounds once (into a subnormal, to 0, or to +Inf as it should).
  // k as an int32: k + 1.5·2²³ is exact (|k| ≤ 150) and holds k in its low mantissa bits
  const ki = g.op('isub', [g.op('bits', [g.add(k, g.c(12582912))]), g.ic(0x4b400000)]);
  const k1 = g.op('ishr', [ki], 1);
  const k2 = g.op('isub', [ki, k1]);
  const scale = (e: number): number => g.op('float', [g.op('ishl', [g.op('iadd', [e, g.ic(127)])], 23)]);
  return g.mul(g.mul(y, scale(k1)), scale(k2));
}

// Cephes logf
const LOG_P = [
  7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1,
  2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
];

function logNode(g: Graph, x: number): number {
  // subnormals: scale into the normal range and take 23 off the exponent
  const tiny = g.op('lt', [x, g.c(2 ** -126)]);
  const xs = g.op('select', [g.mul(x, g.c(2 ** 23)), x, tiny]);
  const b = g.op('bits', [xs]);
  // x = 2^e0 · m0 with m0 ∈ [0.5, 1): exponent field − 126, mantissa under the exponent of 0.5
  const e0 = g.op('i2f', [g.op('isub', [g.op('ishr', [b], 23), g.ic(126)])]);
  const m0 = g.op('float', [g.op('ior', [g.op('iand', [b, g.ic(0x007fffff)]), g.ic(0x3f000000)])]);
  // m0 < √½: use 2·m0 and e0 − 1 so that f = m − 1 ∈ [√½ − 1, √2 − 1) (2·m0 − 1 and m0 − 1 are exact)
  const low = g.op('lt', [m0, g.c(0.707106781186547524)]);
  const e = g.sub(g.sub(e0, g.op('select', [g.c(23), g.c(0), tiny])), g.op('select', [g.c(1), g.c(0), low]));
  const f = g.op('select', [g.sub(g.add(m0, m0), g.c(1)), g.sub(m0, g.c(1)), low]);
  const z = g.mul(f, f);
  let y = g.mul(g.mul(g.horner(f, LOG_P), f), z);
  y = g.add(y, g.mul(e, g.c(EXP_C2)));
  y = g.add(y, g.mul(z, g.c(-0.5)));
  const r = g.add(g.add(f, y), g.mul(e, g.c(EXP_C1)));
  // 0 < x < Inf takes r; ±0 → −Inf, +Inf → +Inf, below zero and NaN → NaN
  const finite = g.op('and', [g.op('gt', [x, g.c(0)]), g.op('lt', [x, g.c(Infinity)])]);
  const special = g.op('select', [g.c(-Infinity), g.op('select', [x, g.c(NaN), g.op('eq', [x, g.c(Infinity)])]), g.op('eq', [x, g.c(0)])]);
  return g.op('select', [r, special, finite]);
}

// Abramowitz & Stegun 7.1.26, as in PyTorch's Vectorized<float>::erf
const ERF_P = 0.3275911;
const ERF_A = [1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592]; // a5 … a1

function erfNode(g: Graph, x: number): number {
  const ax = g.op('fabs', [x]);
  const t = g.div(g.c(1), g.add(g.mul(g.c(ERF_P), ax), g.c(1)));
  const r = g.horner(t, ERF_A);
  const e = expNode(g, g.op('fneg', [g.mul(x, x)]));
  const y = g.add(g.mul(g.mul(g.op('fneg', [e]), t), r), g.c(1));
  // PyTorch xors x's sign bit into the result (y ≥ 0 for every x; y = +0 at x = ±0)
  const signBit = g.op('iand', [g.op('bits', [x]), g.ic(0x80000000 | 0)]);
  return g.op('float', [g.op('ixor', [g.op('bits', [y]), signBit])]);
}

// Cephes tanhf
const TANH_P = [-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1];

function tanhNode(g: Graph, x: number): number {
  const ax = g.op('fabs', [x]);
  const z = g.mul(ax, ax);
  const small = g.add(g.mul(g.mul(g.horner(z, TANH_P), z), ax), ax);
  const e = expNode(g, g.add(ax, ax));
  const big = g.sub(g.c(1), g.div(g.c(2), g.add(e, g.c(1))));
  // a NaN fails the comparison and takes the exp branch, which keeps it NaN
  const y = g.op('select', [small, big, g.op('lt', [ax, g.c(0.625)])]);
  return g.copySign(y, x);
}

function signNode(g: Graph, x: number): number {
  // x − x is +0 for ±0 and NaN for NaN (±Inf are caught by the comparisons first)
  const zero = g.c(0);
  const inner = g.op('select', [g.c(-1), g.sub(x, x), g.op('lt', [x, zero])]);
  return g.op('select', [g.c(1), inner, g.op('gt', [x, zero])]);
}

// ---------------------------------------------------------------------------------------------
// The traced Value and Mask handed to the body.

class TracedValue implements Value {
  constructor(readonly g: Graph, readonly id: number) {}

  private operand(o: Value | number, what: string): number {
    if (typeof o === 'number') {
      if (!Number.isFinite(o)) this.g.fail(`${what}: numeric constant must be finite, got ${o}`);
      return this.g.c(o);
    }
    if (o instanceof TracedValue) {
      if (o.g !== this.g) this.g.fail(`${what}: operand is a Value from another kernel's body`);
      return o.id;
    }
    if (o instanceof TracedMask) this.g.fail(`${what}: operand is a Mask, not a Value (use mask.select(a, b))`);
    return this.g.fail(`${what}: operand must be a Value or a number, got ${describe(o)}`);
  }

  private bin(op: string, o: Value | number, what: string): TracedValue {
    return new TracedValue(this.g, this.g.op(op, [this.id, this.operand(o, what)]));
  }

  private cmp(op: string, o: Value | number, what: string): TracedMask {
    return new TracedMask(this.g, this.g.op(op, [this.id, this.operand(o, what)]));
  }

  private un(op: string): TracedValue {
    return new TracedValue(this.g, this.g.op(op, [this.id]));
  }

  add(o: Value | number): Value { return this.bin('fadd', o, 'add'); }
  sub(o: Value | number): Value { return this.bin('fsub', o, 'sub'); }
  mul(o: Value | number): Value { return this.bin('fmul', o, 'mul'); }
  div(o: Value | number): Value { return this.bin('fdiv', o, 'div'); }
  min(o: Value | number): Value { return this.bin('fmin', o, 'min'); }
  max(o: Value | number): Value { return this.bin('fmax', o, 'max'); }
  neg(): Value { return this.un('fneg'); }
  abs(): Value { return this.un('fabs'); }
  sqrt(): Value { return this.un('fsqrt'); }
  sign(): Value { return new TracedValue(this.g, signNode(this.g, this.id)); }
  exp(): Value { return new TracedValue(this.g, expNode(this.g, this.id)); }
  log(): Value { return new TracedValue(this.g, logNode(this.g, this.id)); }
  erf(): Value { return new TracedValue(this.g, erfNode(this.g, this.id)); }
  tanh(): Value { return new TracedValue(this.g, tanhNode(this.g, this.id)); }
  gt(o: Value | number): Mask { return this.cmp('gt', o, 'gt'); }
  lt(o: Value | number): Mask { return this.cmp('lt', o, 'lt'); }
  ge(o: Value | number): Mask { return this.cmp('ge', o, 'ge'); }
  le(o: Value | number): Mask { return this.cmp('le', o, 'le'); }
  eq(o: Value | number): Mask { return this.cmp('eq', o, 'eq'); }
}

class TracedMask implements Mask {
  constructor(readonly g: Graph, readonly id: number) {}

  private mask(o: Mask, what: string): number {
    if (!(o instanceof TracedMask)) this.g.fail(`${what}: operand must be a Mask (from gt, lt, ge, le, eq), got ${describe(o)}`);
    if (o.g !== this.g) this.g.fail(`${what}: operand is a Mask from another kernel's body`);
    return o.id;
  }

  private value(o: Value | number, what: string): number {
    if (typeof o === 'number') {
      if (!Number.isFinite(o)) this.g.fail(`${what}: numeric constant must be finite, got ${o}`);
      return this.g.c(o);
    }
    if (o instanceof TracedMask) this.g.fail(`${what}: operand is a Mask, not a Value (nest another select)`);
    if (!(o instanceof TracedValue)) this.g.fail(`${what}: operand must be a Value or a number, got ${describe(o)}`);
    if (o.g !== this.g) this.g.fail(`${what}: operand is a Value from another kernel's body`);
    return o.id;
  }

  select(ifTrue: Value | number, ifFalse: Value | number): Value {
    const a = this.value(ifTrue, 'select');
    const b = this.value(ifFalse, 'select');
    return new TracedValue(this.g, this.g.op('select', [a, b, this.id]));
  }

  and(o: Mask): Mask { return new TracedMask(this.g, this.g.op('and', [this.id, this.mask(o, 'and')])); }
  or(o: Mask): Mask { return new TracedMask(this.g, this.g.op('or', [this.id, this.mask(o, 'or')])); }
  not(): Mask { return new TracedMask(this.g, this.g.op('not', [this.id])); }
}

export function describe(o: unknown): string {
  if (o === null) return 'null';
  if (Array.isArray(o)) return 'an array';
  if (typeof o === 'number' || typeof o === 'boolean') return `${typeof o} ${String(o)}`;
  if (typeof o === 'object') return `an object (${Object.prototype.toString.call(o)})`;
  return typeof o;
}

// ---------------------------------------------------------------------------------------------
// Validation and tracing

export interface Traced {
  readonly g: Graph;
  /** [array index, node id] per written array, in array order. */
  readonly outputs: readonly (readonly [number, number])[];
}

function checkNames(g: Graph, list: unknown, what: string, max: number, min: number, seen: Set<string>): readonly string[] {
  if (!Array.isArray(list)) g.fail(`${what} must be an array of names, got ${describe(list)}`);
  if (list.length < min || list.length > max) {
    g.fail(`${what} must hold ${min} to ${max} names, got ${list.length}`);
  }
  for (const name of list) {
    if (typeof name !== 'string' || name.length === 0) g.fail(`${what} holds ${describe(name)}, expected a non-empty string`);
    if (seen.has(name)) g.fail(`duplicate operand name "${name}"`);
    seen.add(name);
  }
  return list as readonly string[];
}

export function trace(def: ElementwiseDefinition): Traced {
  if (def === null || typeof def !== 'object') throw new ElementwiseError('?', `definition must be an object, got ${describe(def)}`);
  if (typeof def.name !== 'string' || def.name.trim().length === 0) {
    throw new ElementwiseError('?', `name must be a non-empty string, got ${describe(def.name)}`);
  }
  const g: Graph = new Graph(def.name);
  const seen = new Set<string>();
  const arrays = checkNames(g, def.arrays, 'arrays', MAX_ARRAYS, 1, seen);
  const scalars = checkNames(g, def.scalars ?? [], 'scalars', MAX_SCALARS, 0, seen);
  if (typeof def.body !== 'function') g.fail(`body must be a function, got ${describe(def.body)}`);

  const arrayValues: Record<string, Value> = {};
  const scalarValues: Record<string, Value> = {};
  arrays.forEach((name, i) => { arrayValues[name] = new TracedValue(g, g.leaf('load', i)); });
  scalars.forEach((name, i) => { scalarValues[name] = new TracedValue(g, g.leaf('scalar', i)); });

  let result: unknown;
  try {
    result = def.body(arrayValues, scalarValues);
  } catch (err) {
    if (err instanceof ElementwiseError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new ElementwiseError(def.name, `body threw while tracing: ${message}`, { cause: err });
  }
  if (result === null || typeof result !== 'object' || Array.isArray(result)) {
    g.fail(`body must return an object mapping array names to Values, got ${describe(result)}`);
  }
  const out = result as Record<string, unknown>;
  const keys = Object.keys(out);
  if (keys.length === 0) g.fail('body returned no outputs; return e.g. { p: newP }');
  const outputs: [number, number][] = [];
  for (const key of keys) {
    const at = arrays.indexOf(key);
    if (at < 0) {
      const kind = scalars.includes(key) ? 'a scalar (scalars cannot be written)' : 'not one of the arrays';
      g.fail(`body returned "${key}", which is ${kind}; arrays: ${arrays.join(', ')}`);
    }
    const v = out[key];
    if (v instanceof TracedMask) g.fail(`output "${key}" is a Mask; turn it into a Value with mask.select(a, b)`);
    if (!(v instanceof TracedValue)) g.fail(`output "${key}" is ${describe(v)}, not a Value`);
    if (v.g !== g) g.fail(`output "${key}" is a Value from another kernel's body`);
    outputs.push([at, v.id]);
  }
  outputs.sort((a, b) => a[0] - b[0]);
  return { g, outputs };
}

/** Marks the nodes the outputs depend on. */
export function live(g: Graph, outputs: readonly (readonly [number, number])[]): boolean[] {
  const used = new Array<boolean>(g.nodes.length).fill(false);
  for (const [, id] of outputs) used[id] = true;
  for (let id = g.nodes.length - 1; id >= 0; id--) {
    if (used[id]) for (const a of g.nodes[id].args) used[a] = true;
  }
  return used;
}

