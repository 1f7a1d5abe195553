// Inference timing: warm-up, then repeated timed passes of a model's forward over fixed batches.
import { Sequential } from '../model/sequential.js';
import { formatShape, Tensor } from '../tensor/tensor.js';
import { getThreads, setThreads } from '../runtime/workers.js';

/** Options of {@link measureInference}. */
export interface InferenceTimingOptions {
  /** Images per forward call (default 256, capped at the number of images given). */
  readonly batchSize?: number;
  /** Untimed passes first, to warm up the JIT and size the layers' buffers (default 2). */
  readonly warmup?: number;
  /** Timed passes; the median is reported (default 10). */
  readonly repeats?: number;
  /**
   * Gemm threads during the measurement (a positive integer, clamped to the available cores as
   * {@link setThreads} does). The previous count is restored afterwards, even if a pass throws.
   * Default: the current {@link getThreads} value (`TENSORKIT_THREADS`, else all cores).
   */
  readonly threads?: number;
}

/** {@link measureInference}'s result. */
export interface InferenceTiming {
  readonly batchSize: number;
  /** Full batches per pass (a short last batch is left out so every call has the same shape). */
  readonly batches: number;
  readonly warmup: number;
  readonly repeats: number;
  /** Gemm threads in effect during the measurement (after clamping to the cores). */
  readonly threads: number;
  /** Median over the repeats of the mean milliseconds per batch within a pass. */
  readonly msPerBatch: number;
  /** The fastest pass's milliseconds per batch. */
  readonly minMsPerBatch: number;
  /** `batchSize / msPerBatch`, in images per second. */
  readonly imagesPerSecond: number;
  /** Milliseconds per batch of every timed pass, in order. */
  readonly samples: readonly number[];
}

function positiveInt(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new Error(`measureInference: ${name} must be an integer ≥ ${min}, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * Times eval-mode forward passes of `model` over `x` `[N, ...inputShape]`: `warmup` untimed passes, then
 * `repeats` timed passes (performance.now) over the first ⌊N / batchSize⌋ full batches. Reports the median
 * and minimum milliseconds per batch and the median throughput. With `threads`, the gemm thread count is
 * set for the measurement and restored afterwards. Compare two models in the same process,
 * one after the other, on the same `x`: timings on a shared machine are noisy.
 */
export function measureInference(model: Sequential, x: Tensor, options: InferenceTimingOptions = {}): InferenceTiming {
  if (!(model instanceof Sequential)) throw new Error('measureInference: model must be a Sequential');
  if (!(x instanceof Tensor) || x.rank < 1 || x.shape[0] < 1) {
    throw new Error(`measureInference: x must be a non-empty batch of inputs, got ${x instanceof Tensor ? formatShape(x.shape) : String(x)}`);
  }
  const n = x.shape[0];
  const batchSize = Math.min(positiveInt('batchSize', options.batchSize ?? 256, 1), n);
  const warmup = positiveInt('warmup', options.warmup ?? 2, 0);
  const repeats = positiveInt('repeats', options.repeats ?? 10, 1);
  const threads = options.threads === undefined ? undefined : positiveInt('threads', options.threads, 1);
  const batches = Math.floor(n / batchSize);
  const views: Tensor[] = [];
  for (let b = 0; b < batches; b++) views.push(x.slice0(b * batchSize, (b + 1) * batchSize));
  const pass = (): number => {
    const t0 = performance.now();
    for (const v of views) model.forward(v);
    return (performance.now() - t0) / batches;
  };
  const previous = getThreads();
  const samples: number[] = [];
  let used = previous;
  try {
    if (threads !== undefined) setThreads(threads);
    used = getThreads();
    for (let i = 0; i < warmup; i++) pass();
    for (let i = 0; i < repeats; i++) samples.push(pass());
  } finally {
    setThreads(previous);
  }
  const sorted = samples.slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const msPerBatch = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return {
    batchSize, batches, warmup, repeats, threads: used, msPerBatch, minMsPerBatch: sorted[0],
    imagesPerSecond: msPerBatch > 0 ? (batchSize * 1000) / msPerBatch : Number.POSITIVE_INFINITY, samples,
  };
}
