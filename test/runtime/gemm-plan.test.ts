// The WebAssembly SIMD gemm kernel (runtime/tasks.ts, gemm-plan.ts + kernels.wat): against the naive reference and the
// TypeScript kernel at awkward sizes and across cache blocks, determinism, memory growth, backend
// selection, the relaxed-SIMD variant (in a flagged child process), and Dense / Conv2D on both backends.
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import {
  gemm, gemmNaive, gemmTs, gemmWasm, getGemmBackend, setGemmBackend, type GemmBackend, type GemmOptions,
} from '../../src/tensor/gemm.js';
import { wasmGemmVariant } from '../../src/runtime/tasks.js';
import { WASM_GEMM_KC, WASM_GEMM_MC, WASM_GEMM_MR, WASM_GEMM_NC, WASM_GEMM_NR } from '../../src/runtime/gemm-plan.js';
import { Conv2D } from '../../src/layers/conv2d.js';
import { Dense } from '../../src/layers/dense.js';
import type { Layer } from '../../src/layers/layer.js';
import type { Rng } from '../../src/tensor/rng.js';
import { assertClose } from '../util/assert-close.js';
import { randomTensor, testRng } from '../util/rng.js';
import { randomArray, sameBits, COMBOS, label } from '../util/gemm.js';

/**
 * WASM vs naive (and vs the TS kernel). WASM sums in float32 over ≤ KC terms per block, the naive loop
 * in doubles: entries are sums of k products of U(−1, 1) values (size ~√k/3), and the float32 error
 * of such a sum stays well under 1e-5·(1 + √k) absolute; rtol 1e-5 on top.
 */
function checkWasm(m: number, n: number, k: number, opts: GemmOptions, rng: Rng): void {
  const a = randomArray(m * k, rng);
  const b = randomArray(k * n, rng);
  const aCopy = a.slice();
  const bCopy = b.slice();
  const init = randomArray(m * n, rng);
  const tol = { atol: 1e-5 * (1 + Math.sqrt(k)), rtol: 1e-5 };
  for (const accumulate of [false, true]) {
    const fast = init.slice();
    const ref = init.slice();
    const ts = init.slice();
    const what = `wasm ${label(opts)} ${m}×${n}×${k} accumulate=${accumulate}`;
    expect(gemmWasm(fast, a, b, m, n, k, { ...opts, accumulate }), `${what} returns out`).toBe(fast);
    gemmNaive(ref, a, b, m, n, k, { ...opts, accumulate });
    gemmTs(ts, a, b, m, n, k, { ...opts, accumulate });
    assertClose(fast, ref, { ...tol, what: `${what} vs naive` });
    assertClose(fast, ts, { ...tol, what: `${what} vs ts` });
  }
  expect(sameBits(a, aCopy), 'a unmodified').toBe(true);
  expect(sameBits(b, bCopy), 'b unmodified').toBe(true);
}

describe('WASM gemm kernel', () => {
  it('is available on Node 20 (WebAssembly SIMD validates) with a tile and blocks that fit together', () => {
    expect(['simd', 'relaxed-simd']).toContain(wasmGemmVariant());
    expect(WASM_GEMM_MR).toBe(4); // fixed by kernels.wat
    expect(WASM_GEMM_NR).toBe(8);
    expect(WASM_GEMM_MC % WASM_GEMM_MR).toBe(0);
    expect(WASM_GEMM_NC % WASM_GEMM_NR).toBe(0);
  });

  it('computes a hand-derived 2×3 · 3×2 product in all four layouts, overwrite and accumulate', () => {
    // A = [[1, 2, 3], [4, 5, 6]], B = [[7, 8], [9, 10], [11, 12]]
    // AB = [[1·7 + 2·9 + 3·11, 1·8 + 2·10 + 3·12], [4·7 + 5·9 + 6·11, 4·8 + 5·10 + 6·12]] = [[58, 64], [139, 154]]
    const A = Float32Array.of(1, 2, 3, 4, 5, 6);
    const At = Float32Array.of(1, 4, 2, 5, 3, 6); // stored [3×2]
    const B = Float32Array.of(7, 8, 9, 10, 11, 12);
    const Bt = Float32Array.of(7, 9, 11, 8, 10, 12); // stored [2×3]
    for (const [a, b, opts] of [
      [A, B, {}], [At, B, { transA: true }], [A, Bt, { transB: true }], [At, Bt, { transA: true, transB: true }],
    ] as const) {
      const out = new Float32Array(4).fill(99);
      expect(gemmWasm(out, a, b, 2, 2, 3, opts)).toBe(out);
      expect(Array.from(out)).toEqual([58, 64, 139, 154]);
      out.fill(1);
      gemmWasm(out, a, b, 2, 2, 3, { ...opts, accumulate: true });
      expect(Array.from(out)).toEqual([59, 65, 140, 155]);
    }
  });

  it('matches the naive reference and the TS kernel at awkward sizes, all trans combos, accumulate on/off', () => {
    const rng = testRng(21);
    const sizes = [1, 7, 33, 65, 100, 129];
    for (const opts of COMBOS) {
      for (const m of sizes) for (const n of sizes) for (const k of [1, 7, 65, 129]) checkWasm(m, n, k, opts, rng);
    }
  });

  it('matches across cache blocks and tile edges (non-multiples of MR, NR, MC, KC, NC)', () => {
    const rng = testRng(22);
    const shapes: [number, number, number][] = [
      [WASM_GEMM_MR - 1, WASM_GEMM_NR + 1, WASM_GEMM_KC + 1], // one partial tile, two depth blocks
      [WASM_GEMM_MC + 5, 3 * WASM_GEMM_NR + 3, WASM_GEMM_KC + 17], // two row blocks, two depth blocks
      [2 * WASM_GEMM_MC + 1, 9, 2 * WASM_GEMM_KC + 3], // three of each, thin n
      [5, WASM_GEMM_NC + 13, 30], // two column panels
      [16, 26 * 26, 9], // net000 conv1 forward
    ];
    for (const opts of COMBOS) for (const [m, n, k] of shapes) checkWasm(m, n, k, opts, rng);
  });

  it('k = 0 zeroes out (or leaves it when accumulating); m = 0 or n = 0 is a no-op', () => {
    const empty = new Float32Array(0);
    const out = Float32Array.of(1, 2, 3, 4, 5, 6);
    gemmWasm(out, empty, empty, 2, 3, 0, { accumulate: true });
    expect(Array.from(out)).toEqual([1, 2, 3, 4, 5, 6]);
    gemmWasm(out, empty, empty, 2, 3, 0);
    expect(Array.from(out)).toEqual([0, 0, 0, 0, 0, 0]);
    const one = Float32Array.of(7);
    gemmWasm(one, empty, Float32Array.of(1, 2), 0, 2, 1);
    gemmWasm(one, Float32Array.of(1, 2), empty, 1, 0, 2);
    expect(one[0]).toBe(7);
    gemmWasm(one, Float32Array.of(3), Float32Array.of(-2), 1, 1, 1, { accumulate: true });
    expect(one[0]).toBe(1);
  });

  it('reads longer inputs and subarray views, writes only the first m·n elements of out', () => {
    const rng = testRng(23);
    const backing = randomArray(80, rng);
    const a = backing.subarray(3, 3 + 21); // 3×7, at an odd offset
    const b = backing.subarray(30, 80); // 7×5 = 35 used, 50 given
    const out = new Float32Array(15 + 3).fill(42);
    const ref = new Float32Array(15);
    gemmWasm(out, a, b, 3, 5, 7);
    gemmNaive(ref, a, b, 3, 5, 7);
    assertClose(out.subarray(0, 15), ref, { atol: 1e-6, rtol: 1e-6 });
    expect(Array.from(out.subarray(15))).toEqual([42, 42, 42]);
    // accumulate with a longer out: only the first m·n elements change
    out.subarray(0, 15).set(ref);
    gemmWasm(out, a, b, 3, 5, 7, { accumulate: true });
    assertClose(out.subarray(0, 15), ref.map((v) => 2 * v), { atol: 1e-6, rtol: 1e-6 });
    expect(Array.from(out.subarray(15))).toEqual([42, 42, 42]);
  });

  it('checks its arguments like gemm', () => {
    const x = new Float32Array(6);
    expect(() => gemmWasm(new Float32Array(3), x, x, 2, 2, 3)).toThrow(/out has 3 elements, needs m·n = 2·2 = 4/);
    const buf = new Float32Array(16);
    expect(() => gemmWasm(buf.subarray(0, 4), buf.subarray(2, 8), buf.subarray(8, 14), 2, 2, 3)).toThrow(/must not alias/);
  });

  it('is deterministic: repeated runs, and runs after other shapes, give the same bits', () => {
    const rng = testRng(24);
    const [m, n, k] = [70, 150, 600];
    for (const opts of COMBOS) {
      const a = randomArray(m * k, rng);
      const b = randomArray(k * n, rng);
      const first = gemmWasm(new Float32Array(m * n), a, b, m, n, k, opts);
      gemmWasm(new Float32Array(33 * 33), randomArray(33 * 65, rng), randomArray(65 * 33, rng), 33, 33, 65);
      const second = gemmWasm(new Float32Array(m * n), a, b, m, n, k, opts);
      expect(sameBits(first, second), `${label(opts)} bit-identical`).toBe(true);
    }
  });

  it('gives each output element the same bits whatever the rest of the problem (edge tiles, row blocks)', () => {
    // The summation order of element (i, j) depends only on k and KC, not on its tile or block: a
    // row slice of A times B reproduces the matching rows of the full product bit for bit. This is
    // what lets a thread pool split gemm by rows or columns without changing results.
    const rng = testRng(25);
    const [m, n, k] = [WASM_GEMM_MC + 11, 37, WASM_GEMM_KC + 40];
    const a = randomArray(m * k, rng);
    const b = randomArray(k * n, rng);
    const full = gemmWasm(new Float32Array(m * n), a, b, m, n, k);
    for (const [r0, rows] of [[0, 1], [5, 13], [WASM_GEMM_MC - 2, 7], [m - 3, 3]]) {
      const part = gemmWasm(new Float32Array(rows * n), a.subarray(r0 * k, (r0 + rows) * k), b, rows, n, k);
      expect(sameBits(part, full.subarray(r0 * n, (r0 + rows) * n)), `rows ${r0}..${r0 + rows}`).toBe(true);
    }
  });

  it('grows its memory for a large call and stays correct for small calls afterwards', () => {
    // k = 1: every entry is one float32 product, exact in both kernels.
    const rng = testRng(26);
    const [m, n] = [2100, 2300]; // C alone is 19 MB
    const a = randomArray(m, rng);
    const b = randomArray(n, rng);
    const out = gemmWasm(new Float32Array(m * n), a, b, m, n, 1);
    for (const i of [0, 1, m - 1]) for (const j of [0, 7, n - 1]) expect(out[i * n + j]).toBe(Math.fround(a[i] * b[j]));
    const rng2 = testRng(27);
    checkWasm(9, 10, 11, {}, rng2);
  });
});

describe('gemm backend selection', () => {
  afterEach(() => setGemmBackend('auto'));

  it('defaults to auto and rejects unknown backends with the allowed values', () => {
    expect(getGemmBackend()).toBe('auto');
    expect(() => setGemmBackend('gpu' as GemmBackend)).toThrow(/backend must be one of wasm, ts, auto, got gpu/);
    expect(getGemmBackend()).toBe('auto');
  });

  it("'ts' and 'wasm' route gemm to that kernel bit for bit", () => {
    const rng = testRng(28);
    const [m, n, k] = [40, 50, 300];
    const a = randomArray(m * k, rng);
    const b = randomArray(k * n, rng);
    for (const backend of ['ts', 'wasm'] as const) {
      setGemmBackend(backend);
      expect(getGemmBackend()).toBe(backend);
      const viaGemm = gemm(new Float32Array(m * n), a, b, m, n, k, { transB: false });
      const direct = (backend === 'ts' ? gemmTs : gemmWasm)(new Float32Array(m * n), a, b, m, n, k);
      expect(sameBits(viaGemm, direct), backend).toBe(true);
    }
    // the two kernels differ in rounding (double vs float32 sums), so this also shows the switch took effect
    setGemmBackend('ts');
    const ts = gemm(new Float32Array(m * n), a, b, m, n, k);
    setGemmBackend('wasm');
    const wasm = gemm(new Float32Array(m * n), a, b, m, n, k);
    expect(sameBits(ts, wasm)).toBe(false);
    assertClose(wasm, ts, { atol: 1e-5 * (1 + Math.sqrt(k)), rtol: 1e-5, what: 'wasm vs ts' });
  });
});

describe('relaxed-SIMD variant', () => {
  it('runs correctly under --experimental-wasm-relaxed-simd (child process)', () => {
    // Node 20 validates relaxed SIMD only behind the flag; Node ≥ 22 picks this variant by default.
    const script = `
      const { wasmGemmVariant } = await import(${JSON.stringify(new URL('../../src/runtime/tasks.ts', import.meta.url).pathname)});
      const { gemmWasm, gemmNaive } = await import(${JSON.stringify(new URL('../../src/tensor/gemm.ts', import.meta.url).pathname)});
      let worst = 0;
      let x = 1;
      const next = () => { x = (x * 48271) % 2147483647; return x / 2147483647 * 2 - 1; };
      for (const [m, n, k, transA, transB] of [[7, 33, 65, false, false], [65, 9, 300, true, true], [100, 129, 7, false, true]]) {
        const a = Float32Array.from({ length: m * k }, next);
        const b = Float32Array.from({ length: k * n }, next);
        const out = gemmWasm(new Float32Array(m * n), a, b, m, n, k, { transA, transB });
        const ref = gemmNaive(new Float32Array(m * n), a, b, m, n, k, { transA, transB });
        for (let i = 0; i < out.length; i++) worst = Math.max(worst, Math.abs(out[i] - ref[i]) / (1 + Math.sqrt(k)));
      }
      console.log(JSON.stringify({ variant: wasmGemmVariant(), worst }));
    `;
    // Node ≥ 22 has relaxed SIMD on by default and rejects the flag as a bad option.
    const flag = Number(process.versions.node.split('.')[0]) < 22 ? ['--experimental-wasm-relaxed-simd'] : [];
    const stdout = execFileSync(process.execPath, [
      ...flag, '--no-warnings', '--import', 'tsx', '--input-type=module', '-e', script,
    ], { encoding: 'utf8' });
    const result = JSON.parse(stdout.trim()) as { variant: string; worst: number };
    expect(result.variant).toBe('relaxed-simd');
    expect(result.worst).toBeLessThan(1e-5); // same tolerance as the plain variant
  });
});

/** Runs forward and backward of a freshly built layer under a backend; returns y, dx and the param grads. */
function runLayer(make: () => Layer, inShape: number[], batch: number, backend: GemmBackend): Float32Array[] {
  setGemmBackend(backend);
  const layer = make();
  layer.build(inShape, testRng(31));
  const rng = testRng(32);
  const x = randomTensor([batch, ...inShape], rng);
  const y = layer.forward(x, true);
  const dy = randomTensor(y.shape.slice(), rng);
  const dx = layer.backward(dy);
  return [y.data.slice(), dx.data.slice(), ...layer.params().map((p) => p.grad.data.slice())];
}

describe('layers on the WASM backend agree with the TS backend', () => {
  afterEach(() => setGemmBackend('auto'));
  // Both kernels are float32-accurate; tolerances cover the different rounding of sums of up to ~600 terms.
  const tol = { atol: 1e-4, rtol: 1e-4 };

  it('Dense 300 → 70, batch 19: y, dx, dW, db', () => {
    const make = (): Layer => new Dense({ units: 70 });
    const ts = runLayer(make, [300], 19, 'ts');
    const wasm = runLayer(make, [300], 19, 'wasm');
    const names = ['y', 'dx', 'dW', 'db'];
    expect(wasm.length).toBe(4);
    wasm.forEach((v, i) => assertClose(v, ts[i], { ...tol, what: `Dense ${names[i]}` }));
  });

  it('Conv2D 3×3, 5 → 16 channels, padding 1, stride 2, batch 3 on 13×11: y, dx, dW, db', () => {
    const make = (): Layer => new Conv2D({ filters: 16, kernelSize: 3, padding: 1, stride: 2 });
    const ts = runLayer(make, [5, 13, 11], 3, 'ts');
    const wasm = runLayer(make, [5, 13, 11], 3, 'wasm');
    const names = ['y', 'dx', 'dW', 'db'];
    expect(wasm.length).toBe(4);
    wasm.forEach((v, i) => assertClose(v, ts[i], { ...tol, what: `Conv2D ${names[i]}` }));
  });
});
