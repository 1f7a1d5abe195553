// A user-defined layer: Mish (Misra 2019), y = x·tanh(softplus(x)), written with tensorkit's plugin kit as
// a user would. Its forward and backward are compiled SIMD kernels (defineElementwise), so on the
// layer's buffers in the shared heap they run like the built-ins' kernels, split over the threads.
// Registered by name, then used in a Fashion-MNIST MLP beside the built-in GELU (`'gelu'`, which is
// written with the same kit).
// Run: npx tsx examples/custom-layer.ts [--epochs 3] [--out out/custom-layer] [--quick]
import { join } from 'node:path';
import { Activation, Dense, Flatten, Sequential, createLayer, loadFashionMnist, registerLayer, type History, type Layer } from 'tensorkit';
import { checkKeys, defineElementwise, type Value } from 'tensorkit/plugin';
import { learningCurvesFromHistory, plotLearningCurves, writeRunReport } from 'tensorkit/plots';
import { parseExampleArgs, readInt, runIfMain } from './lib/cli.js';
import { outputDir, percent, writeJson } from './lib/output.js';

/**
 * softplus(x) = log(1 + eˣ), and x itself above 20 as torch's softplus (threshold 20) does: there
 * log(1 + eˣ) equals x in float32, and eˣ would only overflow.
 */
function softplus(x: Value): Value {
  return x.gt(20).select(x, x.exp().add(1).log());
}

/** y = x·tanh(softplus(x)): PyTorch's `F.mish(x)`. */
export const MISH_FORWARD = defineElementwise({
  name: 'example-mish',
  arrays: ['y', 'x'],
  body: ({ x }) => ({ y: x.mul(softplus(x).tanh()) }),
});

/**
 * dx = dy·(t + x·(1 − t²)·σ(x)) with t = tanh(softplus(x)) and σ(x) = eˣ/(eˣ + 1), the derivative of
 * softplus; the compiler computes the shared eˣ once.
 */
export const MISH_BACKWARD = defineElementwise({
  name: 'example-mish-backward',
  arrays: ['dx', 'dy', 'x'],
  body: ({ dy, x }) => {
    const t = softplus(x).tanh();
    const ex = x.exp();
    const sigmoid = ex.div(ex.add(1));
    return { dx: dy.mul(t.add(x.mul(t.mul(t).neg().add(1)).mul(sigmoid))) };
  },
});

/**
 * Mish: y = x·tanh(softplus(x)), smooth and non-monotonic like GELU and SiLU. No options. The base
 * class owns the buffers and shape checks; this class supplies the two kernels.
 */
export class Mish extends Activation {
  readonly kind = 'mish';

  constructor(options: Record<string, unknown> = {}) {
    super('Mish');
    checkKeys('Mish', options, []);
  }

  protected apply(y: Float32Array, x: Float32Array): void {
    MISH_FORWARD.run(y.length, y, x);
  }

  protected gradient(dx: Float32Array, dy: Float32Array, x: Float32Array): void {
    MISH_BACKWARD.run(dx.length, dx, dy, x);
  }
}

// The same public call the built-ins use; from here on the name works everywhere a layer name does.
registerLayer('mish', (config) => new Mish(config));

/** Options of {@link main}. */
export interface ExampleOptions {
  epochs: number;
  seed: number;
  out: string;
  data?: string;
  quick: boolean;
}

/** Trains a 784-128-128-10 MLP with the user's Mish and with the built-in GELU (same seed) and writes their results. */
export async function main(options: ExampleOptions): Promise<Record<string, unknown>> {
  const data = loadFashionMnist({ dir: options.data, ...(options.quick ? { trainLimit: 2000, testLimit: 500 } : {}) });
  const out = outputDir(options.out);
  const runs: { activation: string; testAccuracy: number; testLoss: number; trainSeconds: number; history: History }[] = [];
  for (const activation of ['mish', 'gelu']) {
    const act = (): Layer => createLayer(activation);
    const model = new Sequential([new Flatten(), new Dense({ units: 128 }), act(), new Dense({ units: 128 }), act(), new Dense({ units: 10 })], {
      inputShape: [1, 28, 28], seed: options.seed,
    });
    model.compile({ optimizer: { name: 'adam', lr: 1e-3 }, loss: 'cross-entropy', metrics: ['accuracy'] });
    const t0 = performance.now();
    const history = await model.fit(data.train.images, data.train.labels, {
      epochs: options.epochs, batchSize: 64, seed: options.seed, validationSplit: 0.1, verbose: true,
    });
    const trainSeconds = (performance.now() - t0) / 1000;
    const test = model.evaluate(data.test.images, data.test.labels);
    console.log(`${activation}: test accuracy ${percent(test.accuracy)}, test loss ${test.loss.toFixed(4)}, ${trainSeconds.toFixed(1)} s`);
    runs.push({ activation, testAccuracy: test.accuracy, testLoss: test.loss, trainSeconds, history });
    await plotLearningCurves(join(out, `curves-${activation}.svg`), learningCurvesFromHistory(history), { title: `MLP with ${activation}` });
  }
  const result = { example: 'custom-layer', ...options, runs: runs.map(({ history: _h, ...r }) => r) };
  writeJson(out, 'results.json', result);
  writeRunReport(out, {
    title: 'custom-layer: Mish written with the plugin kit',
    description: 'A user layer registered as "mish" whose kernels are compiled SIMD expressions, against the built-in GELU (same kit) in the same MLP (784-128-128-10, Adam 1e-3, batch 64).',
    params: { epochs: options.epochs, seed: options.seed, quick: options.quick },
    tables: [{
      title: 'Test results',
      columns: ['activation', 'test accuracy', 'test loss', 'train seconds'],
      rows: runs.map((r) => [r.activation, percent(r.testAccuracy), r.testLoss, r.trainSeconds]),
    }],
    charts: runs.map((r) => `curves-${r.activation}.svg`),
  });
  console.log(`wrote results.json, curves-*.svg, report.html to ${out}`);
  return result;
}

/** Parses the command line (the shared example flags plus --epochs) and runs {@link main}. */
async function cli(argv: string[]): Promise<unknown> {
  const { values, common, help } = parseExampleArgs('custom-layer', argv, { epochs: { type: 'string', default: '3' } });
  if (help) {
    console.log('usage: npx tsx examples/custom-layer.ts [--epochs N] [--seed N] [--out DIR] [--data DIR] [--quick]');
    return {};
  }
  return main({ epochs: common.quick ? 1 : readInt('epochs', values.epochs), seed: common.seed, out: common.out, data: common.data, quick: common.quick });
}

// Run only as a script, so tests can import Mish without training.
await runIfMain(import.meta.url, cli);
