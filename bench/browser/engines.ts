// What the in-page benchmark runs inside one dedicated worker: one engine (tensorkit on N threads, or a
// TensorFlow.js backend) on one assignment network: training img/s (trainStep / trainOnBatch) and
// inference img/s (predict) on a seeded batch, timed until both a sample count and a time budget.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import { getThreadsCount, setWasmPaths, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { ready, runtimeInfo, setThreads } from '../../src/browser.js';
import { buildModel, network, randomBatch } from '../lib/networks.js';
import { tfjsModel } from '../lib/tfjs-networks.js';

/** One benchmark case: an engine on a network. */
export interface BenchCase {
  readonly net: string;
  /** `tensorkit` or a tfjs backend name: `cpu`, `wasm`, `webgl`. */
  readonly engine: 'tensorkit' | 'cpu' | 'wasm' | 'webgl';
  /** Threads: tensorkit's setThreads, tfjs-wasm's setThreadsCount (ignored by the others). */
  readonly threads: number;
  /** Time budget per measurement (ms); slow engines still get `minSamples` samples. */
  readonly budgetMs: number;
  /** URL of the folder serving tfjs-backend-wasm's .wasm files. */
  readonly wasmBase: string;
}

/** Median time of one call, and how it was measured. */
export interface Timed { readonly medianMs: number; readonly minMs: number; readonly samples: number }

/** A case's outcome: img/s for training and inference, or the error that stopped each. */
export interface BenchResult {
  readonly net: string;
  readonly engine: string;
  readonly threads: number;
  readonly batch: number;
  readonly train: Timed | { readonly error: string };
  readonly infer: Timed | { readonly error: string };
  /** Engine details: tensorkit's runtime info, tfjs's backend, or the WebGL renderer. */
  readonly detail: string;
}

/** Median/min of `fn` after one untimed warm-up call, until `minSamples` samples and `budgetMs` are reached. */
async function timeIt(fn: () => unknown, budgetMs: number, minSamples: number): Promise<Timed> {
  await fn();
  const times: number[] = [];
  const start = performance.now();
  while ((times.length < minSamples || performance.now() - start < budgetMs) && times.length < 1000) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  return { medianMs: times.length % 2 === 1 ? times[mid] : (times[mid - 1] + times[mid]) / 2, minMs: times[0], samples: times.length };
}

/** The error of a failed measurement as one line. */
function failure(error: unknown): { error: string } {
  return { error: (error instanceof Error ? error.message : String(error)).split('\n')[0] };
}

/** The WebGL renderer string (SwiftShader means software rendering), or why there is none. */
function webglRenderer(): string {
  const Canvas = (globalThis as unknown as { OffscreenCanvas?: new (w: number, h: number) => { getContext(kind: string): unknown } }).OffscreenCanvas;
  if (Canvas === undefined) return 'no OffscreenCanvas';
  const gl = new Canvas(1, 1).getContext('webgl2') as { getExtension(name: string): { UNMASKED_RENDERER_WEBGL: number } | null; getParameter(p: number): string; RENDERER: number } | null;
  if (gl === null) return 'no WebGL2 context';
  const debug = gl.getExtension('WEBGL_debug_renderer_info');
  return debug === null ? gl.getParameter(gl.RENDERER) : gl.getParameter(debug.UNMASKED_RENDERER_WEBGL);
}

/** Runs one case in this worker. */
export async function runCase(c: BenchCase): Promise<BenchResult> {
  const spec = network(c.net);
  const { x, y } = randomBatch(spec);
  // tfjs-cpu needs up to a minute a step on the convolution nets: one timed sample is what it gets.
  const minSamples = c.engine === 'cpu' ? 1 : 5;
  if (c.engine === 'tensorkit') {
    setThreads(c.threads);
    await ready();
    const model = buildModel(spec);
    const train = await timeIt(() => model.trainStep(x, y), c.budgetMs, minSamples);
    const infer = await timeIt(() => model.predict(x), c.budgetMs, minSamples);
    const info = runtimeInfo();
    return {
      net: c.net, engine: c.engine, threads: info.threads, batch: spec.batch, train, infer,
      detail: `${info.variant}, ${info.threads} threads, ${info.poolWorkers} Web Workers, ${info.workerShares} shares on them`,
    };
  }
  if (c.engine === 'wasm') {
    setWasmPaths(c.wasmBase);
    setThreadsCount(c.threads);
  }
  let detail = '';
  if (!(await tf.setBackend(c.engine))) throw new Error(`tfjs backend ${c.engine} could not initialise`);
  if (c.engine === 'webgl') detail = webglRenderer();
  // tfjs-wasm picks its threaded SIMD build only where SharedArrayBuffer works (an isolated page).
  if (c.engine === 'wasm') detail = `isolated: ${(globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true}, threads in use: ${getThreadsCount()}`;
  const model = tfjsModel(spec);
  // NCHW with one channel is NHWC with one channel: the same floats.
  const tx = tf.tensor4d(x.data, [spec.batch, 28, 28, 1]);
  const ty = tf.tensor1d(y.data, 'float32');
  let train: BenchResult['train'];
  try {
    train = await timeIt(() => model.trainOnBatch(tx, ty), c.budgetMs, minSamples);
  } catch (error) {
    train = failure(error);
  }
  let infer: BenchResult['infer'];
  try {
    infer = await timeIt(() => {
      const out = model.predict(tx) as tf.Tensor;
      return out.data().then(() => out.dispose());
    }, c.budgetMs, minSamples);
  } catch (error) {
    infer = failure(error);
  }
  return { net: c.net, engine: `tfjs-${c.engine}`, threads: c.engine === 'wasm' ? c.threads : 1, batch: spec.batch, train, infer, detail: `tfjs ${tf.version_core} ${tf.getBackend()}${detail === '' ? '' : `; ${detail}`}` };
}
