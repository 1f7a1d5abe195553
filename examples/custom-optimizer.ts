// A user-defined optimizer: Eve (Koushik & Hayashi 2016), written against tensorkit's public base
// class and plugin kit (its per-parameter update is a compiled SIMD kernel, like the built-ins'),
// registered by name, then selected by name to train an MNIST MLP (compared with Adam).
// Writes results.json, learning curves of both runs, an Eve-vs-Adam chart per batch and report.html.
// Run: npm run example:custom-optimizer  (or: npx tsx examples/custom-optimizer.ts --epochs 5 --out out/custom-optimizer; --quick for a seconds-long slice)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { BaseOptimizer, Dense, ReLU, Sequential, loadMnist, readBaseConfig, registerOptimizer, type History, type StepContext } from 'tensorkit';
import { checkKeys, defineElementwise, readNumber } from 'tensorkit/plugin';
import { learningCurvesFromHistory, plotLearningCurves, plotSeedBands, writeRunReport } from 'tensorkit/plots';
import { normalizeArgv } from './lib/cli.js';

/** Eve's hyperparameters (the paper's defaults). */
export interface EveConfig {
  /** Learning rate α, default 1e-3. */
  lr: number;
  /** Adam's first-moment decay β1, default 0.9. */
  beta1: number;
  /** Adam's second-moment decay β2, default 0.999. */
  beta2: number;
  /** Decay β3 of the feedback coefficient d, default 0.999. */
  beta3: number;
  /** Lower clipping threshold k of the relative loss change, default 0.1. */
  thresholdLow: number;
  /** Upper clipping threshold K of the relative loss change, default 10. */
  thresholdHigh: number;
  /** Added to d·√v̂, default 1e-8. */
  eps: number;
  /** L2 weight decay added to the gradient (× `param.decayMul`), default 0. */
  weightDecay: number;
}

export const EVE_DEFAULTS: Readonly<EveConfig> = {
  lr: 1e-3, beta1: 0.9, beta2: 0.999, beta3: 0.999, thresholdLow: 0.1, thresholdHigh: 10, eps: 1e-8, weightDecay: 0,
};

/**
 * Eve's per-parameter update, Adam's with the feedback d in the denominator, as a kernel compiled from
 * its expression: SIMD over parameters in the shared heap and split over the threads, like a
 * built-in's, and a bit-identical TypeScript twin for ordinary arrays. Every operation rounds to
 * float32 in the order written (c1 = 1 − β1 and c2 = 1 − β2 are passed in, computed in doubles).
 */
const EVE_UPDATE = defineElementwise({
  name: 'eve-update',
  arrays: ['p', 'g', 'm', 'v'],
  scalars: ['beta1', 'c1', 'beta2', 'c2', 'stepSize', 'dInvSqrtBc2', 'eps'],
  body: ({ p, g, m, v }, { beta1, c1, beta2, c2, stepSize, dInvSqrtBc2, eps }) => {
    const mNext = m.mul(beta1).add(g.mul(c1));
    const vNext = v.mul(beta2).add(g.mul(c2).mul(g));
    // p ← p − stepSize·m / (d·√v·(1/√(1 − β2ᵗ)) + ε) = p − α·m̂ / (d·√v̂ + ε)
    return { p: p.sub(mNext.mul(stepSize).div(vNext.sqrt().mul(dInvSqrtBc2).add(eps))), m: mNext, v: vNext };
  },
});

/**
 * Eve (Koushik & Hayashi 2016, "Improving Stochastic Gradient Descent with Feedback", Algorithm 1):
 * Adam whose step is divided by a feedback coefficient d_t that grows when the loss jumps around and
 * shrinks when it changes smoothly. With f_t the mini-batch loss passed as `ctx.loss` (assumed > 0:
 * the paper takes the minimum loss f* to be 0):
 *
 *     m ← β1·m + (1 − β1)·g,   m̂ = m / (1 − β1ᵗ)
 *     v ← β2·v + (1 − β2)·g²,  v̂ = v / (1 − β2ᵗ)
 *     t = 1:  f̂ ← f_1,  d ← 1
 *     t > 1:  (δ, Δ) = (k + 1, K + 1) if f_t ≥ f̂ else (1/(K + 1), 1/(k + 1))
 *             c = min(max(δ, f_t / f̂), Δ)           (the relative change, clipped)
 *             f̂' = c·f̂,  r = |f̂' − f̂| / min(f̂', f̂),  f̂ ← f̂'
 *             d ← β3·d + (1 − β3)·r
 *     p ← p − α·m̂ / (d·√v̂ + ε)
 *
 * d and f̂ are optimizer-wide, so they live in `beginStep` and in the saved `globals`; the
 * per-parameter update is Adam's with d in the denominator. Slots: `m`, `v`.
 */
export class Eve extends BaseOptimizer<'m' | 'v', 'd' | 'fHat'> {
  readonly kind = 'eve';
  readonly beta1: number;
  readonly beta2: number;
  readonly beta3: number;
  readonly thresholdLow: number;
  readonly thresholdHigh: number;
  readonly eps: number;

  constructor(config: Partial<EveConfig> = {}) {
    checkKeys('eve', config, Object.keys(EVE_DEFAULTS));
    super({ ...readBaseConfig('eve', config, EVE_DEFAULTS.lr, false), slots: ['m', 'v'], globals: { d: 1, fHat: 0 } });
    const unit = { min: 0, max: 1, maxExclusive: true };
    this.beta1 = readNumber('eve', config, 'beta1', EVE_DEFAULTS.beta1, unit);
    this.beta2 = readNumber('eve', config, 'beta2', EVE_DEFAULTS.beta2, unit);
    this.beta3 = readNumber('eve', config, 'beta3', EVE_DEFAULTS.beta3, unit);
    this.thresholdLow = readNumber('eve', config, 'thresholdLow', EVE_DEFAULTS.thresholdLow, { min: 0 });
    this.thresholdHigh = readNumber('eve', config, 'thresholdHigh', EVE_DEFAULTS.thresholdHigh, { min: this.thresholdLow });
    this.eps = readNumber('eve', config, 'eps', EVE_DEFAULTS.eps, { min: 0 });
  }

  /** The current feedback coefficient d_t (1 until the second step). */
  get feedback(): number {
    return this.globals.d;
  }

  protected override beginStep(ctx: StepContext, t: number): void {
    const f = ctx.loss;
    if (typeof f !== 'number' || !Number.isFinite(f) || f <= 0) {
      throw new Error(`eve: step(params, { loss }) needs the mini-batch loss as a positive number (Eve assumes the minimum loss is 0), got ${String(f)}`);
    }
    if (t === 1) {
      this.globals.fHat = f;
      this.globals.d = 1;
      return;
    }
    const fHat = this.globals.fHat;
    const k = this.thresholdLow;
    const K = this.thresholdHigh;
    const rising = f >= fHat;
    const lo = rising ? k + 1 : 1 / (K + 1);
    const hi = rising ? K + 1 : 1 / (k + 1);
    const c = Math.min(Math.max(lo, f / fHat), hi);
    const next = c * fHat;
    const r = Math.abs(next - fHat) / Math.min(next, fHat);
    this.globals.fHat = next;
    this.globals.d = this.beta3 * this.globals.d + (1 - this.beta3) * r;
  }

  protected update(p: Float32Array, g: Float32Array, slots: Record<'m' | 'v', Float32Array>, t: number): void {
    const b1 = this.beta1;
    const b2 = this.beta2;
    const stepSize = this.lr / (1 - b1 ** t);
    const invSqrtBc2 = 1 / Math.sqrt(1 - b2 ** t);
    EVE_UPDATE.run(p.length, p, g, slots.m, slots.v, b1, 1 - b1, b2, 1 - b2, stepSize, this.globals.d * invSqrtBc2, this.eps);
  }

  getConfig(): EveConfig & Record<string, number> {
    return {
      lr: this.lr, beta1: this.beta1, beta2: this.beta2, beta3: this.beta3, thresholdLow: this.thresholdLow,
      thresholdHigh: this.thresholdHigh, eps: this.eps, weightDecay: this.weightDecay,
    };
  }
}

// The same public call the built-ins use; from here on `compile({ optimizer: 'eve' })` finds it.
registerOptimizer('eve', (config) => new Eve(config));

/** Options of {@link main}. */
export interface ExampleOptions {
  epochs: number;
  batchSize: number;
  seed: number;
  /** Output folder for results.json. */
  out: string;
  /** Directory with MNIST IDX files (default: the vendored copy). */
  data?: string;
  /** A small slice (2000 train / 500 test images, 1 epoch) that runs in seconds. */
  quick: boolean;
}

/** Trains the same 784-32-10 MLP with Eve and with Adam (same seed) and writes their results. */
export async function main(options: ExampleOptions): Promise<Record<string, unknown>> {
  const data = loadMnist({ dir: options.data, ...(options.quick ? { trainLimit: 2000, testLimit: 500 } : {}) });
  const flat = (images: typeof data.train.images) => images.reshape([images.shape[0], 784]);
  const xTrain = flat(data.train.images);
  const xTest = flat(data.test.images);
  console.log(`MNIST: ${xTrain.shape[0]} train, ${xTest.shape[0]} test images`);

  const runs: { optimizer: string; testAccuracy: number; testLoss: number; trainSeconds: number; history: History }[] = [];
  for (const optimizer of ['eve', 'adam']) {
    const model = new Sequential([new Dense({ units: 32 }), new ReLU(), new Dense({ units: 10 })], { inputShape: [784], seed: options.seed });
    model.compile({ optimizer, loss: 'cross-entropy', metrics: ['accuracy'] });
    const t0 = performance.now();
    const history = await model.fit(xTrain, data.train.labels, {
      epochs: options.epochs, batchSize: options.batchSize, seed: options.seed, validationSplit: 0.1, verbose: true,
    });
    const trainSeconds = (performance.now() - t0) / 1000;
    const test = model.evaluate(xTest, data.test.labels);
    console.log(`${optimizer}: test accuracy ${(test.accuracy * 100).toFixed(2)}%, test loss ${test.loss.toFixed(4)}, ${trainSeconds.toFixed(1)} s`);
    runs.push({ optimizer, testAccuracy: test.accuracy, testLoss: test.loss, trainSeconds, history });
  }

  mkdirSync(options.out, { recursive: true });
  const result = { example: 'custom-optimizer', ...options, runs };
  writeFileSync(join(options.out, 'results.json'), `${JSON.stringify(result, null, 2)}\n`);

  // Charts: each run's learning curves, and the two training-loss curves per batch on one chart.
  const charts: string[] = [];
  for (const run of runs) {
    const file = `curves-${run.optimizer}.svg`;
    await plotLearningCurves(join(options.out, file), learningCurvesFromHistory(run.history), { title: `${run.optimizer}: learning curves`, smoothing: 0.9 });
    charts.push(file);
  }
  await plotSeedBands(join(options.out, 'eve-vs-adam.svg'), runs.map((r) => ({ name: r.optimizer, runs: [r.history.batch.loss] })), {
    title: 'Training loss per batch: Eve vs Adam (same seed)', xTitle: 'Batch', yTitle: 'Training loss',
  });
  charts.push('eve-vs-adam.svg');
  writeRunReport(options.out, {
    title: 'custom-optimizer: Eve, registered by name, against Adam',
    description: 'A 784-32-10 ReLU MLP on MNIST trained with a user-defined optimizer (Eve, Koushik & Hayashi 2016) selected by its registry name, and with Adam from the same seed.',
    params: { epochs: options.epochs, batchSize: options.batchSize, seed: options.seed, quick: options.quick, trainImages: xTrain.shape[0], testImages: xTest.shape[0] },
    tables: [{
      title: 'Results',
      columns: ['optimizer', 'test accuracy', 'test loss', 'train seconds'],
      rows: runs.map((r) => [r.optimizer, `${(100 * r.testAccuracy).toFixed(2)}%`, r.testLoss, r.trainSeconds]),
    }],
    charts,
  });
  console.log(`wrote results.json, ${charts.join(', ')} and report.html to ${options.out}`);
  return result;
}

function parseCli(): ExampleOptions {
  const options = {
      epochs: { type: 'string', default: '5' },
      'batch-size': { type: 'string', default: '64' },
      seed: { type: 'string', default: '0' },
      out: { type: 'string', default: 'out/custom-optimizer' },
      data: { type: 'string' },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
  } as const;
  const { values: args } = parseArgs({ args: normalizeArgv(process.argv.slice(2), Object.keys(options)), options });
  if (args.help) {
    console.log('usage: npx tsx examples/custom-optimizer.ts [--epochs N] [--batch-size N] [--seed N] [--out DIR] [--data DIR] [--quick]');
    process.exit(0);
  }
  const int = (name: string, value: string): number => {
    const v = Number(value);
    if (!Number.isInteger(v) || v < (name === 'seed' ? 0 : 1)) {
      console.error(`custom-optimizer: --${name} must be ${name === 'seed' ? 'a non-negative' : 'a positive'} integer, got ${JSON.stringify(value)}`);
      process.exit(2);
    }
    return v;
  };
  return {
    epochs: args.quick ? 1 : int('epochs', args.epochs),
    batchSize: int('batch-size', args['batch-size']),
    seed: int('seed', args.seed),
    out: args.out,
    data: args.data,
    quick: args.quick,
  };
}

// Run only as a script, so tests can import Eve without training.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(parseCli());
}
