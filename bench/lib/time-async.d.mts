// Types of time-async.mjs (plain JavaScript so the onnxruntime-web child process runs without tsx).
import type { Timing } from './harness.js';

/** Median and minimum wall time of `fn` in ms after 3 warm-up calls, at least 12 samples and `budgetMs` of calls. */
export function timeAsync(fn: () => Promise<unknown>, budgetMs: number): Promise<Timing>;
