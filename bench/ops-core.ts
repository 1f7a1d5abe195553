// The core differentiable ops (src/ops) on an MLP 784-256-10 training step (batch 64): the op path
// (matmul with transB, broadcast bias add, relu, crossEntropy, backward through the tape, results
// from a StepBuffers round) beside the five bare gemm calls the same step needs, taking turns in one
// process, ratio first (op step / gemms: 1.00 = no overhead beyond the products). Also an untracked
// forward, and a heavy elementwise kernel on a user's plain array staged through the heap vs its twin.
// Usage: node --import tsx bench/ops-core.ts [--quick]
import { readFileSync } from 'node:fs';
import { StepBuffers, Variable, noGrad, ops } from '../src/ops/index.js';
import { kernel, runKernel } from '../src/ops/op-helpers.js';
import { gemm, heapFloat32 } from '../src/plugin/index.js';
import { Rng } from '../src/tensor/rng.js';
import { Tensor } from '../src/tensor/tensor.js';
import { QUICK, header } from './lib/harness.js';

const rng = new Rng(15);
function rand(shape: number[], scale: number, heap = true): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = heap ? heapFloat32(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = (rng.next() - 0.5) * scale;
  return new Tensor(d, shape);
}

/** Median ms per call over `rounds` samples of `reps` calls, after a warm-up. */
function median(fn: () => void, reps: number, rounds: number): number {
  for (let i = 0; i < 3; i++) fn();
  const ts: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    ts.push((performance.now() - t0) / reps);
  }
  ts.sort((a, b) => a - b);
  return ts[rounds >> 1];
}

const batch = 64;
const x = rand([batch, 784], 2);
const labels = Array.from({ length: batch }, (_, i) => i % 10);
const w1 = new Variable(rand([256, 784], 0.05), { requiresGrad: true });
const b1 = new Variable(rand([256], 0.05), { requiresGrad: true });
const w2 = new Variable(rand([10, 256], 0.05), { requiresGrad: true });
const b2 = new Variable(rand([10], 0.05), { requiresGrad: true });
const forward = (): Variable => ops.add(ops.matmul(ops.relu(ops.add(ops.matmul(x, w1, { transB: true }), b1)), w2, { transB: true }), b2);
const buffers = new StepBuffers();
const step = (): void => {
  for (const p of [w1, b1, w2, b2]) p.zeroGrad();
  buffers.reset();
  buffers.run(() => ops.crossEntropy(forward(), labels).backward());
};
const h = heapFloat32(batch * 256);
const o = heapFloat32(batch * 10);
const gh = heapFloat32(batch * 256);
const gw1 = heapFloat32(256 * 784);
const gw2 = heapFloat32(10 * 256);
const gemms = (): void => {
  gemm(h, x.data, w1.data, batch, 256, 784, { transB: true });
  gemm(o, h, w2.data, batch, 10, 256, { transB: true });
  gemm(gw2, o, h, 10, 256, batch, { transA: true });
  gemm(gh, o, w2.data, batch, 256, 10);
  gemm(gw1, gh, x.data, 256, 784, batch, { transA: true });
};
const n = 1 << 17;
const plain = rand([n], 4, false).data;
const out = new Float32Array(n);
const exp = kernel('exp', ['y', 'x'], ({ x: v }) => ({ y: v.exp() }), [], true);

const reps = QUICK ? 3 : 20;
const rounds = QUICK ? 3 : 9;
const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(header(`load average ${load()}`));
let tStep = 0;
let tGemm = 0;
let tFwd = 0;
let tStaged = 0;
let tTwin = 0;
// Take turns so that load drifts hit every variant alike.
for (let turn = 0; turn < 3; turn++) {
  tGemm += median(gemms, reps, rounds);
  tStep += median(step, reps, rounds);
  tFwd += median(() => noGrad(forward), reps, rounds);
  tStaged += median(() => runKernel(exp, n, 1, out, plain), reps, rounds);
  tTwin += median(() => exp.run(n, out, plain), reps, rounds);
}
const row = (name: string, ms: number, ratio: string): void => console.log(`${name.padEnd(58)} ${(ms / 3).toFixed(3).padStart(8)} ms  ${ratio}`);
row('MLP 784-256-10 step over ops (StepBuffers)', tStep, `step / gemms ${(tStep / tGemm).toFixed(2)}`);
row('  the same step as 5 bare gemm calls', tGemm, '');
row('  untracked forward (noGrad, fresh heap arrays: no StepBuffers)', tFwd, `forward / gemms ${(tFwd / tGemm).toFixed(2)}`);
row(`exp on a plain array of ${n}, staged through the heap (SIMD)`, tStaged, `twin / staged ${(tTwin / tStaged).toFixed(2)}`);
row('  its TypeScript twin in place', tTwin, '');
console.log(`load average after: ${load()}`);
