// A user-defined layer: GELU in its exact erf form, written with tensorkit's plugin kit as a user
// would. Its forward and backward are compiled SIMD kernels (defineElementwise), so on the layer's
// buffers in the shared heap they run like the built-ins' kernels, split over the threads. Registered
// by name, then used in a Fashion-MNIST MLP beside the built-in tanh.
// Run: npx tsx examples/custom-layer.ts [--epochs 3] [--out out/custom-layer] [--quick]
import { join } from 'node:path';
import { Activation, Dense, Flatten, Sequential, Tanh, createLayer, loadFashionMnist, registerLayer, type History } from 'tensorkit';
import { checkKeys, defineElementwise } from 'tensorkit/plugin';
import { learningCurvesFromHistory, plotLearningCurves, writeRunReport } from 'tensorkit/plots';
import { parseExampleArgs, readInt, runIfMain } from './lib/cli.js';
import { outputDir, percent, writeJson } from './lib/output.js';

/** 1/√(2π), the standard normal density at 0. */
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** y = x·Φ(x) = ½·x·(1 + erf(x/√2)): PyTorch's `gelu(x)` (approximate='none'). */
export const GELU_FORWARD = defineElementwise({
  name: 'example-gelu',
  arrays: ['y', 'x'],
  body: ({ x }) => ({ y: x.mul(0.5).mul(x.mul(Math.SQRT1_2).erf().add(1)) }),
});

/**
 * dx = dy·(Φ(x) + x·φ(x)) with φ(x) = e^(−x²/2)/√(2π): the derivative of x·Φ(x). With z = x/√2,
 * e^(−x²/2) = e^(−z²), the very exponential erf(z) evaluates inside: the compiler computes shared
 * subexpressions once, so the backward costs one exponential, not two.
 */
export const GELU_BACKWARD = defineElementwise({
  name: 'example-gelu-backward',
  arrays: ['dx', 'dy', 'x'],
  body: ({ dy, x }) => {
    const z = x.mul(Math.SQRT1_2);
    const cdf = z.erf().add(1).mul(0.5);
    const pdf = z.mul(z).neg().exp().mul(INV_SQRT_2PI);
    return { dx: dy.mul(cdf.add(x.mul(pdf))) };
  },
});

/**
 * GELU (Hendrycks & Gimpel 2016), exact form: y = x·Φ(x), Φ the standard normal CDF, erf evaluated as
 * in PyTorch's vectorised CPU kernel (Abramowitz–Stegun 7.1.26, absolute error below 1e-6 in float32).
 * No options. The base class owns the buffers and shape checks; this class supplies the two kernels.
 */
export class Gelu extends Activation {
  readonly kind = 'gelu';

  constructor(options: Record<string, unknown> = {}) {
    super('Gelu');
    checkKeys('Gelu', options, []);
  }

  protected apply(y: Float32Array, x: Float32Array): void {
    GELU_FORWARD.run(y.length, y, x);
  }

  protected gradient(dx: Float32Array, dy: Float32Array, x: Float32Array): void {
    GELU_BACKWARD.run(dx.length, dx, dy, x);
  }
}

// The same public call the built-ins use; from here on the name works everywhere a layer name does.
registerLayer('gelu', (config) => new Gelu(config));

/** Options of {@link main}. */
export interface ExampleOptions {
  epochs: number;
  seed: number;
  out: string;
  data?: string;
  quick: boolean;
}

/** Trains a 784-128-128-10 MLP with GELU and with tanh (same seed) and writes their results. */
export async function main(options: ExampleOptions): Promise<Record<string, unknown>> {
  const data = loadFashionMnist({ dir: options.data, ...(options.quick ? { trainLimit: 2000, testLimit: 500 } : {}) });
  const out = outputDir(options.out);
  const runs: { activation: string; testAccuracy: number; testLoss: number; trainSeconds: number; history: History }[] = [];
  for (const activation of ['gelu', 'tanh']) {
    const act = (): Activation => (activation === 'gelu' ? createLayer('gelu') as Gelu : new Tanh());
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
    title: 'custom-layer: GELU (exact erf form) written with the plugin kit',
    description: 'A user layer registered as "gelu" whose kernels are compiled SIMD expressions, against the built-in tanh in the same MLP (784-128-128-10, Adam 1e-3, batch 64).',
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

// Run only as a script, so tests can import Gelu without training.
await runIfMain(import.meta.url, cli);
