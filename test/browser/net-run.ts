// The training run the threads test does in a browser worker and in Node: net000 (Conv 3×3 16 ReLU →
// Conv 3×3 16 ReLU → Flatten → Dense 100 ReLU → Dense 10, SGD momentum 0.9, batch 32) for a few steps
// on seeded synthetic images. It takes the library as an argument, so both sides run this very code
// against their own copy of it; big enough that its gemms and conv chunks split across threads.
import type * as Core from '../../src/browser.js';
import type * as Plugin from '../../src/plugin/index.js';

/** What a run reports: the loss at both ends, the runtime's state, and fingerprints of the weights. */
export interface NetRunResult {
  readonly firstLoss: number;
  readonly lastLoss: number;
  readonly info: Core.RuntimeInfo;
  /** FNV-1a (32 bit) over the bytes of each parameter, state-dict key → 8 hex digits. */
  readonly hashes: Record<string, string>;
  /** Sum of squares of all parameters, in float64 (a readable second fingerprint). */
  readonly weightSumSquares: number;
  /** Training images per second over the timed steps (all but the first). */
  readonly imagesPerSecond: number;
}

/** Images per step. */
export const NET_BATCH = 32;

/**
 * Trains net000 for `steps` steps on seeded random images (seed 11) with the current thread count;
 * `midway`, if given, is awaited after the first half of the steps (e.g. to let a browser pool start).
 */
export async function trainNet000(tk: typeof Core, steps = 4, midway?: () => Promise<unknown>): Promise<NetRunResult> {
  const rng = new tk.Rng(11);
  const x = tk.rand([NET_BATCH, 1, 28, 28], rng);
  const labels = new Float32Array(NET_BATCH);
  for (let i = 0; i < NET_BATCH; i++) labels[i] = i % 10;
  const y = tk.tensor(labels, [NET_BATCH]);
  const model = new tk.Sequential([
    new tk.Conv2D({ filters: 16, kernelSize: 3 }), new tk.ReLU(),
    new tk.Conv2D({ filters: 16, kernelSize: 3 }), new tk.ReLU(),
    new tk.Flatten(), new tk.Dense({ units: 100 }), new tk.ReLU(), new tk.Dense({ units: 10 }),
  ], { inputShape: [1, 28, 28], seed: 11 });
  model.compile({ optimizer: { name: 'momentum', lr: 0.01, momentum: 0.9 }, loss: 'cross-entropy' });
  let firstLoss = Number.NaN;
  let lastLoss = Number.NaN;
  let start = 0;
  for (let step = 0; step < steps; step++) {
    if (midway !== undefined && step === steps >> 1) await midway();
    if (step === 1) start = performance.now();
    const { loss } = model.trainStep(x, y);
    if (step === 0) firstLoss = loss;
    lastLoss = loss;
  }
  const seconds = (performance.now() - start) / 1000;
  const hashes: Record<string, string> = {};
  let weightSumSquares = 0;
  for (const [key, t] of Object.entries(model.stateDict())) {
    let hash = 0x811c9dc5;
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193) >>> 0;
    hashes[key] = hash.toString(16).padStart(8, '0');
    for (let i = 0; i < t.data.length; i++) weightSumSquares += t.data[i] * t.data[i];
  }
  return { firstLoss, lastLoss, info: tk.runtimeInfo(), hashes, weightSumSquares, imagesPerSecond: ((steps - 1) * NET_BATCH) / seconds };
}

/** What {@link runLateKernel} reports. */
export interface LateKernelResult {
  /** FNV-1a (32 bit) over the result's bytes. */
  readonly hash: string;
  /** Shares the pool's workers ran during the kernel calls. */
  readonly workerShares: number;
}

/**
 * Compiles an elementwise kernel now (after the pool started, so its workers receive it as a posted
 * message, not in their startup data) and runs it 16 times over 2^20 heap floats: p ← p·s + g.
 */
export function runLateKernel(tk: typeof Core, plugin: typeof Plugin, name: string): LateKernelResult {
  const kernel = plugin.defineElementwise({
    name, arrays: ['p', 'g'], scalars: ['s'],
    body: ({ p, g }, { s }) => ({ p: p.mul(s).add(g) }),
  });
  const n = 1 << 20;
  const p = plugin.heapFloat32(n);
  const g = plugin.heapFloat32(n);
  for (let i = 0; i < n; i++) {
    p[i] = Math.fround(Math.sin(i));
    g[i] = Math.fround(Math.cos(i) / 8);
  }
  const before = tk.runtimeInfo().workerShares;
  // Back to back, so a worker woken by the first call is still spinning for the next ones.
  for (let r = 0; r < 16; r++) kernel.run(n, p, g, r % 2 === 0 ? 0.75 : 0.5);
  const workerShares = tk.runtimeInfo().workerShares - before;
  let hash = 0x811c9dc5;
  const bytes = new Uint8Array(p.buffer, p.byteOffset, p.byteLength);
  for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193) >>> 0;
  return { hash: hash.toString(16).padStart(8, '0'), workerShares };
}
