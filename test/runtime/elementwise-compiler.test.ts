// The elementwise compiler: every op run as WebAssembly (4-lane loop and scalar tail) against its
// TypeScript twin bit for bit and against float64 references; in-place updates, a Lion step, GELU and
// its derivative; CSE and opcode numbering read back through wabt; definition and call errors.
import { describe, expect, it } from 'vitest';
import {
  compileElementwise, ElementwiseError, type CompiledElementwise, type ElementwiseDefinition, type Value,
} from '../../src/runtime/elementwise-compiler.js';
import { ByteWriter } from '../../src/runtime/wasm-encoder.js';
import { Rng } from '../../src/tensor/rng.js';

// The tsconfig lib (ES2022, no DOM) has no WebAssembly types: declare the little used here.
interface WasmModule { readonly __wasmModule?: never }
interface WasmMemory { readonly buffer: ArrayBuffer }
declare const WebAssembly: {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { readonly exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum: number; shared?: boolean }) => WasmMemory;
};

// 13 = one 8-element step of the unrolled loop, one 4-lane step and a scalar tail of 1
const LENGTHS = [0, 1, 3, 4, 5, 13, 17, 1000];
const SENTINEL = 12345.5;

/**
 * Runs a compiled kernel in a fresh memory: copies `arrays` in (at addresses 4 mod 16, so the 4-lane
 * loads are unaligned), runs `run(…, n, …scalars)` and returns copies of the arrays. Each array is
 * followed by a sentinel that must survive (nothing written at or past n).
 */
function runWasm(
  k: CompiledElementwise, arrays: readonly Float32Array[], n: number, scalars: readonly number[] = [],
  shared = false,
): Float32Array[] {
  const bytes = arrays.reduce((s, a) => s + 16 * Math.ceil((a.length + 8) / 4), 64);
  const pages = Math.ceil(bytes / 65536);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: 65536, shared });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(k.wasm), { env: { memory } });
  const run = instance.exports.run as (...args: number[]) => void;
  const addrs: number[] = [];
  let at = 4;
  for (const a of arrays) {
    const view = new Float32Array(memory.buffer, at, a.length + 1);
    view.set(a);
    view[a.length] = SENTINEL;
    addrs.push(at);
    at += 16 * Math.ceil((a.length + 8) / 4);
  }
  run(...addrs, n, ...scalars);
  return arrays.map((a, i) => {
    const view = new Float32Array(memory.buffer, addrs[i], a.length + 1);
    expect(view[a.length], 'sentinel after the array').toBe(SENTINEL);
    return view.slice(0, a.length);
  });
}

/** Runs the twin on copies of the arrays; returns the copies. */
function runTwin(k: CompiledElementwise, arrays: readonly Float32Array[], n: number, scalars: readonly number[] = []): Float32Array[] {
  const copies = arrays.map((a) => a.slice());
  k.twin(...copies, n, ...scalars);
  return copies;
}

/** Index of the first element whose bits differ (any NaN equals any NaN), or −1. */
function firstBitDifference(x: Float32Array, y: Float32Array): number {
  expect(x.length).toBe(y.length);
  const xi = new Int32Array(x.buffer, x.byteOffset, x.length);
  const yi = new Int32Array(y.buffer, y.byteOffset, y.length);
  for (let i = 0; i < x.length; i++) {
    if (xi[i] !== yi[i] && !(Number.isNaN(x[i]) && Number.isNaN(y[i]))) return i;
  }
  return -1;
}

function expectSameBits(actual: Float32Array, expected: Float32Array, what: string): void {
  const i = firstBitDifference(actual, expected);
  if (i >= 0) expect.fail(`${what}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
}

const F = new Float32Array(1);
const FI = new Int32Array(F.buffer);

/** A float32 from its bits. */
function fromBits(b: number): number {
  FI[0] = b;
  return F[0];
}

/** ulp of the float32 nearest to v (the subnormal spacing below the smallest normal). */
function ulp(v: number): number {
  const a = Math.abs(Math.fround(v));
  if (a < 2 ** -126) return 2 ** -149;
  if (a === Infinity) return 2 ** 104;
  F[0] = a;
  FI[0] += 1;
  return F[0] - a;
}

const SPECIALS = [
  0, -0, Infinity, -Infinity, NaN, 1, -1, 0.5, -0.5, 1.5, 2.5, -2.5, 2 ** -149, -(2 ** -149), 1e-40, -1e-40,
  2 ** -126, -(2 ** -126), 1e38, -1e38, 3.4028234663852886e38, -3.4028234663852886e38, 1e-30, 88.72283, 88.7228394,
  88.73, 89, 90, -87.33, -87.34, -103.97, -103.98, -104, -105, 0.625, -0.625, 0.62499994, 9, -9, 20, 1e-8, -1e-8,
];

/** Specials, then values from U(−lo, lo) and random bit patterns, `n` in all. */
function inputs(n: number, rng: Rng, range = 10): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (i < SPECIALS.length && n > 100) x[i] = SPECIALS[i];
    else if (i % 3 === 0) x[i] = fromBits(rng.nextUint32() | 0);
    else x[i] = rng.uniform(-range, range);
  }
  // short lengths still meet the specials, rotated by the length
  if (n <= 100) for (let i = 0; i < n; i += 2) x[i] = SPECIALS[(i + 7 * n) % SPECIALS.length];
  return x;
}

/** A float64 erf accurate to ~1e-16: 2/√π·e^(−x²)·Σ 2ⁿx^(2n+1)/(1·3·…·(2n+1)) (all terms positive). */
function erf64(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax > 6) return Math.sign(x);
  let term = ax;
  let sum = ax;
  for (let n = 1; n < 500; n++) {
    term *= (2 * ax * ax) / (2 * n + 1);
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return (Math.sign(x) * 2 / Math.sqrt(Math.PI)) * Math.exp(-ax * ax) * sum;
}

// reference semantics of f32.min / f32.max
const wasmMin = (a: number, b: number): number => (Number.isNaN(a) || Number.isNaN(b) ? NaN : a === b ? (Object.is(a, -0) ? a : b) : a < b ? a : b);
const wasmMax = (a: number, b: number): number => (Number.isNaN(a) || Number.isNaN(b) ? NaN : a === b ? (Object.is(a, 0) ? a : b) : a > b ? a : b);
const fr = Math.fround;

interface UnaryCase {
  readonly op: string;
  readonly fn: (x: Value) => Value;
  /** Checks the result against a float64 reference; returns a message when out of bounds. */
  readonly check: (x: number, y: number) => string | undefined;
}

const exact = (ref: (x: number) => number) => (x: number, y: number): string | undefined => {
  const e = fr(ref(x));
  return Object.is(e, y) || (Number.isNaN(e) && Number.isNaN(y)) ? undefined : `expected ${e}`;
};

/** |y − ref(x)| ≤ maxUlp·ulp(ref(x)), specials must match exactly. */
const withinUlp = (ref: (x: number) => number, maxUlp: number) => (x: number, y: number): string | undefined => {
  const e = ref(x);
  if (Number.isNaN(e)) return Number.isNaN(y) ? undefined : `expected NaN`;
  if (!Number.isFinite(fr(e)) || fr(e) === 0) return Object.is(fr(e), y) ? undefined : `expected ${fr(e)}`;
  const u = Math.abs(y - e) / ulp(e);
  return u <= maxUlp ? undefined : `${u.toFixed(2)} ulp from ${e}`;
};

const UNARY: readonly UnaryCase[] = [
  { op: 'neg', fn: (x) => x.neg(), check: exact((x) => -x) },
  { op: 'abs', fn: (x) => x.abs(), check: exact(Math.abs) },
  { op: 'sqrt', fn: (x) => x.sqrt(), check: exact(Math.sqrt) },
  { op: 'sign', fn: (x) => x.sign(), check: exact((x) => (x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : NaN)) },
  // bounds above the maxima measured over every (fifth) float32 input: 0.99 ulp (exp), 1.33 ulp (tanh),
  // 6.7e-7 absolute (erf: A&S 7.1.26 evaluated in float32; PyTorch's FMA form reaches 5.3e-7)
  { op: 'exp', fn: (x) => x.exp(), check: withinUlp(Math.exp, 1) },
  { op: 'tanh', fn: (x) => x.tanh(), check: withinUlp(Math.tanh, 2) },
  { op: 'log', fn: (x) => x.log(), check: withinUlp(Math.log, 1) },
  {
    op: 'erf', fn: (x) => x.erf(), check: (x, y) => {
      const e = erf64(x);
      if (Number.isNaN(e)) return Number.isNaN(y) ? undefined : 'expected NaN';
      return Math.abs(y - e) <= 7e-7 ? undefined : `off by ${Math.abs(y - e)} from ${e}`;
    },
  },
];

interface BinaryCase {
  readonly op: string;
  readonly fn: (a: Value, b: Value) => Value;
  readonly ref: (a: number, b: number) => number;
}

const BINARY: readonly BinaryCase[] = [
  { op: 'add', fn: (a, b) => a.add(b), ref: (a, b) => fr(a + b) },
  { op: 'sub', fn: (a, b) => a.sub(b), ref: (a, b) => fr(a - b) },
  { op: 'mul', fn: (a, b) => a.mul(b), ref: (a, b) => fr(a * b) },
  { op: 'div', fn: (a, b) => a.div(b), ref: (a, b) => fr(a / b) },
  { op: 'min', fn: (a, b) => a.min(b), ref: wasmMin },
  { op: 'max', fn: (a, b) => a.max(b), ref: wasmMax },
  // comparisons through select (1 where the mask holds, else 0); and / or / not on top
  { op: 'gt', fn: (a, b) => a.gt(b).select(1, 0), ref: (a, b) => (a > b ? 1 : 0) },
  { op: 'lt', fn: (a, b) => a.lt(b).select(1, 0), ref: (a, b) => (a < b ? 1 : 0) },
  { op: 'ge', fn: (a, b) => a.ge(b).select(1, 0), ref: (a, b) => (a >= b ? 1 : 0) },
  { op: 'le', fn: (a, b) => a.le(b).select(1, 0), ref: (a, b) => (a <= b ? 1 : 0) },
  { op: 'eq', fn: (a, b) => a.eq(b).select(1, 0), ref: (a, b) => (a === b ? 1 : 0) },
  { op: 'select', fn: (a, b) => a.gt(b).select(a, b), ref: (a, b) => (a > b ? a : b) },
  { op: 'and', fn: (a, b) => a.gt(0).and(b.lt(a)).select(a, b), ref: (a, b) => (a > 0 && b < a ? a : b) },
  { op: 'or', fn: (a, b) => a.gt(0).or(b.lt(a)).select(a, b), ref: (a, b) => (a > 0 || b < a ? a : b) },
  { op: 'not', fn: (a, b) => a.gt(b).not().select(a, b), ref: (a, b) => (!(a > b) ? a : b) },
];

describe('compileElementwise: ops against the twin and a reference', () => {
  for (const c of UNARY) {
    it(`${c.op}: wasm = twin bit for bit at every length, within the stated bound of the float64 reference`, () => {
      const k = compileElementwise({ name: c.op, arrays: ['y', 'x'], body: ({ x }) => ({ y: c.fn(x) }) });
      const rng = new Rng(11);
      for (const n of LENGTHS) {
        const x = inputs(n, rng, c.op === 'exp' ? 100 : 10);
        const y = new Float32Array(n).fill(7);
        const [wy, wx] = runWasm(k, [y, x], n);
        const [ty] = runTwin(k, [y, x], n);
        expectSameBits(wy, ty, `${c.op} n=${n}`);
        expectSameBits(wx, x, `${c.op} n=${n}: input unchanged`);
        for (let i = 0; i < n; i++) {
          const bad = c.check(x[i], wy[i]);
          if (bad !== undefined) expect.fail(`${c.op}(${x[i]}) = ${wy[i]}: ${bad}`);
        }
      }
    });
  }

  for (const c of BINARY) {
    it(`${c.op}: wasm = twin = float32 reference bit for bit at every length`, () => {
      const k = compileElementwise({ name: c.op, arrays: ['y', 'a', 'b'], body: ({ a, b }) => ({ y: c.fn(a, b) }) });
      const rng = new Rng(12);
      for (const n of LENGTHS) {
        const a = inputs(n, rng);
        const b = inputs(n, rng);
        // ties and signed zeros on both sides
        for (let i = 0; i < n; i += 5) b[i] = a[i];
        for (let i = 1; i < n; i += 7) { a[i] = 0; b[i] = -0; }
        const y = new Float32Array(n);
        const [wy] = runWasm(k, [y, a, b], n);
        const [ty] = runTwin(k, [y, a, b], n);
        expectSameBits(wy, ty, `${c.op} n=${n}`);
        const ref = Float32Array.from(a, (ai, i) => c.ref(ai, b[i]));
        expectSameBits(wy, ref, `${c.op} n=${n} against the reference`);
      }
    });
  }

  it('scalars and constants: y = x·s + 0.1 (0.1 rounded to float32) with a scalar rounded to float32', () => {
    const k = compileElementwise({
      name: 'scaled', arrays: ['y', 'x'], scalars: ['s'], body: ({ x }, { s }) => ({ y: x.mul(s).add(0.1) }),
    });
    const x = inputs(37, new Rng(3));
    const s = 1 / 3; // not a float32: both must round it first
    const [wy] = runWasm(k, [new Float32Array(37), x], 37, [s]);
    const [ty] = runTwin(k, [new Float32Array(37), x], 37, [s]);
    expectSameBits(wy, ty, 'scaled');
    expectSameBits(wy, Float32Array.from(x, (v) => fr(fr(v * fr(s)) + fr(0.1))), 'scaled vs reference');
  });

  it('work on scalars only (exp, tanh, a mask) is hoisted before the loops and gives the bits of the per-element path', () => {
    const f = (x: Value, s: Value): Value =>
      x.add(s.exp()).mul(s.gt(0).select(1, -1)).add(s.tanh()).add(s.log()).add(s.gt(0).select(x, x.neg()));
    const hoisted = compileElementwise({ name: 'hoisted', arrays: ['y', 'x'], scalars: ['s'], body: ({ x }, { s }) => ({ y: f(x, s) }) });
    const perElement = compileElementwise({ name: 'per-element', arrays: ['y', 'x', 's'], body: ({ x, s }) => ({ y: f(x, s) }) });
    const x = inputs(21, new Rng(4));
    for (const s of [0.75, -0.3, 0, 3]) {
      const [wh] = runWasm(hoisted, [new Float32Array(21), x], 21, [s]);
      const [th] = runTwin(hoisted, [new Float32Array(21), x], 21, [s]);
      const [wp] = runWasm(perElement, [new Float32Array(21), x, new Float32Array(21).fill(s)], 21);
      expectSameBits(wh, th, `s=${s}: wasm vs twin`);
      expectSameBits(wh, wp, `s=${s}: hoisted vs per element`);
    }
  });

  it('exp over a sample of every float32 bit pattern: wasm = twin, within 1 ulp of Math.exp', () => {
    // every 4099th bit pattern (about a million inputs, all exponents, subnormal outputs and overflow)
    const k = compileElementwise({ name: 'exp', arrays: ['y', 'x'], body: ({ x }) => ({ y: x.exp() }) });
    const n = Math.ceil(2 ** 32 / 4099);
    const xi = new Int32Array(n);
    for (let i = 0; i < n; i++) xi[i] = (i * 4099) | 0;
    const x = new Float32Array(xi.buffer);
    const [wy] = runWasm(k, [new Float32Array(n), x], n);
    const [ty] = runTwin(k, [new Float32Array(n), x], n);
    expectSameBits(wy, ty, 'exp sample');
    const check = withinUlp(Math.exp, 1);
    for (let i = 0; i < n; i++) {
      const bad = check(x[i], wy[i]);
      if (bad !== undefined) expect.fail(`exp(${x[i]}) = ${wy[i]}: ${bad}`);
    }
  });

  it('exp where x·log₂e is exactly k + ½: the wasm (f32x4.nearest) and twin round the tie to even alike', () => {
    const log2e = fr(Math.LOG2E);
    const ties: number[] = [];
    for (let k = -150; k <= 128; k++) {
      const b = (() => { F[0] = (k + 0.5) / log2e; return FI[0]; })();
      for (let d = -64; d <= 64; d++) {
        const x = fromBits(b + d);
        if (fr(x * log2e) === k + 0.5) ties.push(x);
      }
    }
    expect(ties.length).toBeGreaterThan(200);
    const k = compileElementwise({ name: 'exp', arrays: ['y', 'x'], body: ({ x }) => ({ y: x.exp() }) });
    const x = Float32Array.from(ties);
    const [wy] = runWasm(k, [new Float32Array(x.length), x], x.length);
    const [ty] = runTwin(k, [new Float32Array(x.length), x], x.length);
    expectSameBits(wy, ty, 'exp at ties');
    const check = withinUlp(Math.exp, 1);
    for (let i = 0; i < x.length; i++) {
      const bad = check(x[i], wy[i]);
      if (bad !== undefined) expect.fail(`exp(${x[i]}) = ${wy[i]}: ${bad}`);
    }
  });

  it('log over a sample of every float32 bit pattern: wasm = twin, within 1 ulp of Math.log', () => {
    const k = compileElementwise({ name: 'log', arrays: ['y', 'x'], body: ({ x }) => ({ y: x.log() }) });
    const n = Math.ceil(2 ** 32 / 4099);
    const xi = new Int32Array(n);
    for (let i = 0; i < n; i++) xi[i] = (i * 4099) | 0;
    const x = new Float32Array(xi.buffer);
    const [wy] = runWasm(k, [new Float32Array(n), x], n);
    const [ty] = runTwin(k, [new Float32Array(n), x], n);
    expectSameBits(wy, ty, 'log sample');
    const check = withinUlp(Math.log, 1);
    for (let i = 0; i < n; i++) {
      const bad = check(x[i], wy[i]);
      if (bad !== undefined) expect.fail(`log(${x[i]}) = ${wy[i]}: ${bad}`);
    }
  });

  it('log special values: ±0 → −Inf, +Inf → +Inf, negatives and NaN → NaN, 1 → +0, subnormals', () => {
    const k = compileElementwise({ name: 'log', arrays: ['y', 'x'], body: ({ x }) => ({ y: x.log() }) });
    const x = new Float32Array([0, -0, Infinity, -Infinity, NaN, -1, -(2 ** -149), 1, 2 ** -149, 2 ** -140, 3.4028234663852886e38]);
    const [y] = runWasm(k, [new Float32Array(x.length), x], x.length);
    expect(Array.from(y.subarray(0, 7))).toEqual([-Infinity, -Infinity, Infinity, NaN, NaN, NaN, NaN]);
    expect(Object.is(y[7], 0)).toBe(true);
    expect(y[8]).toBe(fr(Math.log(2 ** -149)));
    expect(y[9]).toBe(fr(Math.log(2 ** -140)));
    expect(y[10]).toBe(fr(Math.log(3.4028234663852886e38)));
  });

  it('exp, erf, tanh special values', () => {
    const k = compileElementwise({
      name: 'specials', arrays: ['e', 'f', 't', 'x'], body: ({ x }) => ({ e: x.exp(), f: x.erf(), t: x.tanh() }),
    });
    const x = new Float32Array([0, -0, Infinity, -Infinity, NaN, 89, -104, 2 ** -149]);
    const n = x.length;
    const [e, f, t] = runWasm(k, [new Float32Array(n), new Float32Array(n), new Float32Array(n), x], n);
    expect(Array.from(e)).toEqual([1, 1, Infinity, 0, NaN, Infinity, 0, 1]);
    expect(Object.is(f[0], 0) && Object.is(f[1], -0), `erf(±0) = ${f[0]}, ${f[1]}`).toBe(true);
    expect(Array.from(f.subarray(2, 5))).toEqual([1, -1, NaN]);
    expect(Object.is(t[0], 0) && Object.is(t[1], -0), `tanh(±0) = ${t[0]}, ${t[1]}`).toBe(true);
    expect(Array.from(t.subarray(2, 5))).toEqual([1, -1, NaN]);
    expect(t[7]).toBe(2 ** -149);
  });
});

describe('compileElementwise: in-place updates and real kernels', () => {
  it('in place: every output reads the old values (swap, and p ← 2p + g)', () => {
    const k = compileElementwise({
      name: 'swap-step', arrays: ['p', 'g', 'a', 'b'], body: ({ p, g, a, b }) => ({ a: b, b: a.add(p), p: p.mul(2).add(g) }),
    });
    const rng = new Rng(5);
    for (const n of LENGTHS) {
      const [p, g, a, b] = [0, 1, 2, 3].map(() => inputs(n, rng));
      const expected = [
        Float32Array.from(p, (v, i) => fr(fr(v * 2) + g[i])), g, b, Float32Array.from(a, (v, i) => fr(v + p[i])),
      ];
      const wasm = runWasm(k, [p, g, a, b], n);
      const twin = runTwin(k, [p, g, a, b], n);
      for (let j = 0; j < 4; j++) {
        expectSameBits(wasm[j], expected[j], `n=${n} array ${j} (wasm)`);
        expectSameBits(twin[j], expected[j], `n=${n} array ${j} (twin)`);
      }
    }
  });

  it('n below the array length: elements at and past n stay untouched', () => {
    const k = compileElementwise({ name: 'neg', arrays: ['x'], body: ({ x }) => ({ x: x.neg() }) });
    const x = Float32Array.from({ length: 23 }, (_, i) => i + 1);
    const [w] = runWasm(k, [x], 10);
    const [t] = runTwin(k, [x], 10);
    const expected = Float32Array.from(x, (v, i) => (i < 10 ? -v : v));
    expectSameBits(w, expected, 'wasm');
    expectSameBits(t, expected, 'twin');
  });

  const lion: ElementwiseDefinition = {
    name: 'lion',
    arrays: ['p', 'g', 'm'],
    scalars: ['lr', 'beta1', 'beta2', 'wd'],
    body: ({ p, g, m }, { lr, beta1, beta2, wd }) => {
      const c = beta1.mul(m).add(beta1.neg().add(1).mul(g));
      return {
        p: p.mul(lr.mul(wd).neg().add(1)).sub(lr.mul(c.sign())),
        m: beta2.mul(m).add(beta2.neg().add(1).mul(g)),
      };
    },
  };

  it('Lion step: wasm = twin bit for bit; both match the float64 update within float32 rounding', () => {
    const k = compileElementwise(lion);
    const scal = [1e-3, 0.9, 0.99, 0.1];
    const [lr, b1, b2, wd] = scal;
    const rng = new Rng(21);
    for (const n of LENGTHS) {
      const p = Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
      const g = Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
      const m = Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
      const [wp, , wm] = runWasm(k, [p, g, m], n, scal);
      const [tp, , tm] = runTwin(k, [p, g, m], n, scal);
      expectSameBits(wp, tp, `lion p n=${n}`);
      expectSameBits(wm, tm, `lion m n=${n}`);
      for (let i = 0; i < n; i++) {
        const c = b1 * m[i] + (1 - b1) * g[i];
        if (Math.abs(c) < 1e-5) continue; // the sign of a near-zero c depends on rounding
        const p64 = p[i] * (1 - lr * wd) - lr * Math.sign(c);
        const m64 = b2 * m[i] + (1 - b2) * g[i];
        // a few float32 roundings of values below 1 in magnitude
        expect(Math.abs(wp[i] - p64), `p[${i}]`).toBeLessThan(3e-7);
        expect(Math.abs(wm[i] - m64), `m[${i}]`).toBeLessThan(3e-7);
      }
    }
  });

  it('GELU 0.5·x·(1 + erf(x/√2)) and its derivative: wasm = twin, within 1e-6 of float64 hand formulas', () => {
    const gelu = compileElementwise({
      name: 'gelu', arrays: ['y', 'x'], body: ({ x }) => ({ y: x.mul(0.5).mul(x.div(Math.SQRT2).erf().add(1)) }),
    });
    // d/dx = ½(1 + erf(x/√2)) + x·e^(−x²/2)/√(2π)
    const geluGrad = compileElementwise({
      name: 'gelu-backward', arrays: ['dx', 'dy', 'x'],
      body: ({ dy, x }) => ({
        dx: dy.mul(x.div(Math.SQRT2).erf().add(1).mul(0.5).add(x.mul(x.mul(x).mul(-0.5).exp()).mul(1 / Math.sqrt(2 * Math.PI)))),
      }),
    });
    const rng = new Rng(8);
    for (const n of LENGTHS) {
      const x = Float32Array.from({ length: n }, () => rng.uniform(-6, 6));
      const dy = Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
      const [wy] = runWasm(gelu, [new Float32Array(n), x], n);
      const [ty] = runTwin(gelu, [new Float32Array(n), x], n);
      expectSameBits(wy, ty, `gelu n=${n}`);
      const [wdx] = runWasm(geluGrad, [new Float32Array(n), dy, x], n);
      const [tdx] = runTwin(geluGrad, [new Float32Array(n), dy, x], n);
      expectSameBits(wdx, tdx, `gelu-backward n=${n}`);
      for (let i = 0; i < n; i++) {
        const xi = x[i];
        const y64 = 0.5 * xi * (1 + erf64(xi / Math.SQRT2));
        const d64 = dy[i] * (0.5 * (1 + erf64(xi / Math.SQRT2)) + (xi * Math.exp(-0.5 * xi * xi)) / Math.sqrt(2 * Math.PI));
        // erf's error (≤ 6.7e-7, largest near 0, where x/2 scales it down) plus float32 rounding of values ≤ 6
        expect(Math.abs(wy[i] - y64), `gelu(${xi})`).toBeLessThan(1e-6);
        expect(Math.abs(wdx[i] - d64), `gelu'(${xi})`).toBeLessThan(1e-6);
      }
    }
  });

  it('split into ranges at any offset (as worker threads would run it) gives the bits of one run', () => {
    const k = compileElementwise(lion);
    const scal = [1e-3, 0.9, 0.99, 0.1];
    const rng = new Rng(9);
    const n = 103;
    const arrays = [0, 1, 2].map(() => Float32Array.from({ length: n }, () => rng.uniform(-1, 1)));
    const whole = runWasm(k, arrays, n, scal);
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
    const run = new WebAssembly.Instance(new WebAssembly.Module(k.wasm), { env: { memory } }).exports.run as (...a: number[]) => void;
    const views = arrays.map((a, j) => {
      const v = new Float32Array(memory.buffer, 4096 * (j + 1), n);
      v.set(a);
      return v;
    });
    for (const [from, to] of [[0, 37], [37, 38], [38, 103]]) {
      run(...views.map((v) => v.byteOffset + 4 * from), to - from, ...scal);
    }
    for (let j = 0; j < 3; j++) expectSameBits(views[j], whole[j], `array ${j}`);
  });

  it('a shared-memory module validates and runs over a shared memory like the unshared one', () => {
    const def: ElementwiseDefinition = { name: 'lion', arrays: lion.arrays, scalars: lion.scalars, body: lion.body };
    const shared = compileElementwise(def, { shared: true });
    const plain = compileElementwise(def);
    expect(WebAssembly.validate(shared.wasm)).toBe(true);
    expect(WebAssembly.validate(plain.wasm)).toBe(true);
    const rng = new Rng(2);
    const arrays = [0, 1, 2].map(() => inputs(103, rng, 1));
    const scal = [1e-2, 0.9, 0.99, 0.01];
    const a = runWasm(shared, arrays, 103, scal, true);
    const b = runWasm(plain, arrays, 103, scal, false);
    for (let j = 0; j < 3; j++) expectSameBits(a[j], b[j], `array ${j}`);
    // the import kinds differ: a shared module does not link to an unshared memory
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
    expect(() => new WebAssembly.Instance(new WebAssembly.Module(shared.wasm), { env: { memory } })).toThrow();
  });
});

describe('compileElementwise: code generation', () => {
  async function disassemble(bytes: Uint8Array): Promise<string> {
    const wabt = await (await import('wabt')).default();
    const mod = wabt.readWasm(bytes, { readDebugNames: false, simd: true, threads: true, sat_float_to_int: true });
    try {
      return mod.toText({});
    } finally {
      mod.destroy();
    }
  }

  it('each distinct subexpression is computed once per loop (structural hashing, commutative operands)', async () => {
    const k = compileElementwise({
      name: 'cse', arrays: ['y', 'a', 'b'], scalars: ['s'],
      body: ({ a, b }, { s }) => ({ y: a.mul(b).add(b.mul(a)).add(a.mul(b).sqrt()).add(s.mul(2)).add(s.mul(2)) }),
    });
    const text = await disassemble(k.wasm);
    const count = (re: RegExp): number => (text.match(re) ?? []).length;
    // three vector bodies: two in the unrolled 8-element loop, one in the 4-lane loop
    expect(count(/f32x4\.mul/g), 'a·b and b·a are one 4-lane multiply per body').toBe(3);
    expect(count(/f32x4\.sqrt/g)).toBe(3);
    // s·2 is loop-invariant: one scalar multiply before the loops, none per element in either loop
    expect(count(/f32\.mul/g), 'f32.mul: a·b in the tail, s·2 once before the loops').toBe(2);
    expect(count(/f32x4\.splat/g), 's, 2 and s·2 splatted once each').toBe(3);
    expect(count(/v128\.load/g)).toBe(6);
    expect(count(/v128\.store/g)).toBe(3);
    expect(count(/v128\.load offset=16/g), 'the unrolled loop\'s second half').toBe(2);
  });

  it('the opcodes disassemble to the intended instructions (numbering checked against wabt)', async () => {
    const k = compileElementwise({
      name: 'all-ops', arrays: ['y', 'a', 'b'],
      body: ({ a, b }) => ({
        y: a.add(b).sub(b).mul(a).div(b).min(a).max(b).neg().abs().sqrt().exp().erf().tanh().sign().log()
          .add(a.gt(b).and(a.lt(b)).or(a.ge(b).not()).or(a.le(b)).or(a.eq(b)).select(a, b)),
      }),
    });
    const text = await disassemble(k.wasm);
    for (const ins of [
      'f32x4.add', 'f32x4.sub', 'f32x4.mul', 'f32x4.div', 'f32x4.min', 'f32x4.max', 'f32x4.neg', 'f32x4.abs',
      'f32x4.sqrt', 'f32x4.nearest', 'f32x4.gt', 'f32x4.lt', 'f32x4.ge', 'f32x4.le', 'f32x4.eq', 'v128.and',
      'v128.or', 'v128.xor', 'v128.not', 'v128.bitselect', 'f32x4.pmin', 'f32x4.pmax', 'i32x4.shl', 'i32x4.shr_s',
      'i32x4.add', 'i32x4.sub', 'f32x4.convert_i32x4_s', 'f32.convert_i32_s', 'f32x4.splat', 'i32x4.splat', 'v128.load', 'v128.store',
      'f32.add', 'f32.sub', 'f32.mul', 'f32.div', 'f32.min', 'f32.max', 'f32.neg', 'f32.abs', 'f32.sqrt',
      'f32.nearest', 'f32.gt', 'f32.lt', 'f32.ge', 'f32.le', 'f32.eq', 'i32.and', 'i32.or', 'i32.xor', 'i32.eqz',
      'select', 'i32.shl', 'i32.shr_s', 'i32.add', 'i32.sub', 'i32.reinterpret_f32',
      'f32.reinterpret_i32', 'f32.load', 'f32.store',
    ]) {
      expect(text, ins).toMatch(new RegExp(`\\b${ins.replace('.', '\\.')}\\b`));
    }
    expect(text).toContain('(import "env" "memory" (memory (;0;) 1 65536))');
    expect(text).toContain('(export "run" (func 0))');
    const shared = await disassemble(compileElementwise({ name: 'x', arrays: ['x'], body: ({ x }) => ({ x }) }, { shared: true }).wasm);
    expect(shared).toContain('(memory (;0;) 1 65536 shared)');
  });

  it('LEB128: the spec examples and the edges of the 32-bit ranges', () => {
    const u = (v: number): number[] => Array.from(new ByteWriter().u32(v).finish());
    const s = (v: number): number[] => Array.from(new ByteWriter().s32(v).finish());
    expect(u(0)).toEqual([0]);
    expect(u(127)).toEqual([0x7f]);
    expect(u(128)).toEqual([0x80, 0x01]);
    expect(u(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(u(0xffffffff)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(s(0)).toEqual([0]);
    expect(s(63)).toEqual([0x3f]);
    expect(s(64)).toEqual([0xc0, 0x00]);
    expect(s(-1)).toEqual([0x7f]);
    expect(s(-64)).toEqual([0x40]);
    expect(s(-65)).toEqual([0xbf, 0x7f]);
    expect(s(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(s(0x7fffffff)).toEqual([0xff, 0xff, 0xff, 0xff, 0x07]);
    expect(s(-0x80000000)).toEqual([0x80, 0x80, 0x80, 0x80, 0x78]);
  });

  it('the module signature: arrays, n, then scalars', async () => {
    const k = compileElementwise({
      name: 'sig', arrays: ['a', 'b', 'c'], scalars: ['x', 'y'], body: ({ a }, { x, y }) => ({ a: a.add(x).add(y) }),
    });
    expect(k.arrays).toBe(3);
    expect(k.scalars).toBe(2);
    expect(k.name).toBe('sig');
    expect(await disassemble(k.wasm)).toContain('(func (param i32 i32 i32 i32 f32 f32)');
  });
});

describe('compileElementwise: errors', () => {
  const body = ({ x }: Record<string, Value>): Record<string, Value> => ({ x: x.neg() });
  const bad = (def: Partial<ElementwiseDefinition>, message: RegExp): void => {
    expect(() => compileElementwise({ name: 'k', arrays: ['x'], body, ...def } as ElementwiseDefinition)).toThrow(message);
    expect(() => compileElementwise({ name: 'k', arrays: ['x'], body, ...def } as ElementwiseDefinition)).toThrow(ElementwiseError);
  };

  it('names and counts', () => {
    bad({ name: '' }, /name must be a non-empty string/);
    bad({ arrays: [] }, /kernel "k": arrays must hold 1 to 8 names, got 0/);
    bad({ arrays: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'x'] }, /arrays must hold 1 to 8 names, got 9/);
    bad({ scalars: Array.from({ length: 13 }, (_, i) => `s${i}`) }, /scalars must hold 0 to 12 names, got 13/);
    bad({ arrays: ['x', 'x'] }, /duplicate operand name "x"/);
    bad({ scalars: ['x'] }, /duplicate operand name "x"/);
    bad({ arrays: ['x', 3 as unknown as string] }, /arrays holds number 3/);
    bad({ body: 5 as unknown as ElementwiseDefinition['body'] }, /body must be a function/);
  });

  it('outputs', () => {
    bad({ body: ({ x }) => ({ y: x }) }, /kernel "k": body returned "y", which is not one of the arrays; arrays: x/);
    bad({ scalars: ['s'], body: (_, { s }) => ({ s }) }, /"s", which is a scalar/);
    bad({ body: ({ x }) => ({ x: x.gt(0) as unknown as Value }) }, /output "x" is a Mask/);
    bad({ body: () => ({ x: 1 as unknown as Value }) }, /output "x" is number 1, not a Value/);
    bad({ body: () => ({}) }, /returned no outputs/);
    bad({ body: () => null as unknown as Record<string, Value> }, /must return an object .* got null/);
    bad({ body: ({ x }) => ({ x: (x as unknown as { cube(): Value }).cube() }) }, /kernel "k": body threw while tracing: .*cube/);
    bad({
      body: ({ x }) => {
        let y = x;
        for (let i = 0; i < 3000; i++) y = y.add(i);
        return { x: y };
      },
    }, /more than 4000 distinct operations/);
  });

  it('operands: non-finite constants, masks where values go, values from another kernel', () => {
    bad({ body: ({ x }) => ({ x: x.add(NaN) }) }, /add: numeric constant must be finite, got NaN/);
    bad({ body: ({ x }) => ({ x: x.mul(Infinity) }) }, /mul: numeric constant must be finite, got Infinity/);
    bad({ body: ({ x }) => ({ x: x.gt(0).select(-Infinity, x) }) }, /select: numeric constant must be finite/);
    bad({ body: ({ x }) => ({ x: x.add(x.gt(0) as unknown as Value) }) }, /add: operand is a Mask/);
    bad({ body: ({ x }) => ({ x: x.gt(0).select(x.lt(1) as unknown as Value, 0) }) }, /select: operand is a Mask/);
    bad({ body: ({ x }) => ({ x: x.gt(0).and(x as unknown as ReturnType<Value['gt']>).select(1, 0) }) }, /and: operand must be a Mask/);
    bad({ body: ({ x }) => ({ x: x.add('1' as unknown as number) }) }, /add: operand must be a Value or a number, got string/);
    let stray: Value | undefined;
    compileElementwise({ name: 'first', arrays: ['x'], body: ({ x }) => { stray = x; return { x }; } });
    bad({ body: ({ x }) => ({ x: x.add(stray as Value) }) }, /add: operand is a Value from another kernel's body/);
    bad({ body: () => ({ x: stray as Value }) }, /output "x" is a Value from another kernel's body/);
  });

  it('twin calls: argument count, n, array types and lengths, scalars', () => {
    const k = compileElementwise({ name: 'tw', arrays: ['y', 'x'], scalars: ['s'], body: ({ x }, { s }) => ({ y: x.mul(s) }) });
    const y = new Float32Array(4);
    const x = new Float32Array(4);
    expect(() => k.twin(y, x, 4)).toThrow(/kernel "tw": twin takes 2 array\(s\), n and 1 scalar\(s\) \(4 arguments\), got 3/);
    expect(() => k.twin(y, x, 5, 1)).toThrow(/array "y" has 4 elements, fewer than n/);
    expect(() => k.twin(y, x, -1, 1)).toThrow(/n must be an integer/);
    expect(() => k.twin(y, x, 1.5, 1)).toThrow(/n must be an integer/);
    expect(() => k.twin(y, new Float64Array(4) as unknown as Float32Array, 4, 1)).toThrow(/array "x" must be a Float32Array/);
    expect(() => k.twin(y, x, 4, y)).toThrow(/scalar "s" must be a number/);
    expect(() => k.twin(y, x, 4, 2)).not.toThrow();
  });
});
