// The training run the browser test does twice, in Chromium (bundled from `tensorkit`) and in Node (from
// the source tree): a small MLP, 50 Adam steps on synthetic data from a fixed seed. It takes the
// library as arguments so both sides run this very code against their own copy of it.
import type * as Core from '../../src/browser.js';
import type * as Plugin from '../../src/plugin/index.js';

/** What a run reports: the loss curve ends, the gemm variant, and the final weights with a checksum. */
export interface MlpRunResult {
  readonly firstLoss: number;
  readonly lastLoss: number;
  readonly variant: string | null;
  readonly threads: number;
  /** FNV-1a (32 bit) over the bytes of every parameter, in state-dict order, as 8 hex digits. */
  readonly checksum: string;
  /** Sum of squares of all parameters (a second, human-readable fingerprint). */
  readonly weightSumSquares: number;
  /** The final parameters, state-dict key → values, to locate any difference. */
  readonly weights: Record<string, number[]>;
}

/** Samples, features and classes of the synthetic problem. */
const SAMPLES = 64;
const FEATURES = 8;
const CLASSES = 3;

/** Trains the MLP for `steps` full-batch Adam steps (seed 7 for data and weights) and reports it. */
export function trainMlp(tk: typeof Core, plugin: typeof Plugin, steps = 50): MlpRunResult {
  return trainMlpModel(tk, plugin, steps).result;
}

/** {@link trainMlp}, also handing back the trained model and its optimizer. */
export function trainMlpModel(tk: typeof Core, plugin: typeof Plugin, steps = 50): { result: MlpRunResult; model: Core.Sequential } {
  const rng = new tk.Rng(7);
  // Labels from a fixed random linear map of the inputs, so the problem is learnable.
  const x = tk.randn([SAMPLES, FEATURES], rng);
  const map = tk.randn([FEATURES, CLASSES], rng);
  const labels = new Float32Array(SAMPLES);
  for (let i = 0; i < SAMPLES; i++) {
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < CLASSES; c++) {
      let score = 0;
      for (let f = 0; f < FEATURES; f++) score += x.data[i * FEATURES + f] * map.data[f * CLASSES + c];
      if (score > bestScore) {
        bestScore = score;
        best = c;
      }
    }
    labels[i] = best;
  }
  const y = tk.tensor(labels, [SAMPLES]);
  const model = new tk.Sequential([new tk.Dense({ units: 16 }), new tk.ReLU(), new tk.Dense({ units: CLASSES })], { inputShape: [FEATURES], seed: 7 });
  model.compile({ optimizer: { name: 'adam', lr: 0.01 }, loss: 'cross-entropy' });
  let firstLoss = Number.NaN;
  let lastLoss = Number.NaN;
  for (let step = 0; step < steps; step++) {
    const { loss } = model.trainStep(x, y);
    if (step === 0) firstLoss = loss;
    lastLoss = loss;
  }
  const weights: Record<string, number[]> = {};
  let hash = 0x811c9dc5;
  let weightSumSquares = 0;
  for (const [key, t] of Object.entries(model.stateDict())) {
    weights[key] = Array.from(t.data);
    weightSumSquares += plugin.sumSquares(t.data);
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193) >>> 0;
  }
  const result = {
    firstLoss, lastLoss, variant: tk.wasmGemmVariant(), threads: plugin.getThreads(),
    checksum: hash.toString(16).padStart(8, '0'), weightSumSquares, weights,
  };
  return { result, model };
}
