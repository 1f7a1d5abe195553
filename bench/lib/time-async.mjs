// Timing of an async call (an onnxruntime session.run) for bench/compare.ts and bench/lib/ort-web-child.mjs:
// 3 untimed warm-up calls, then calls until both 12 samples and the time budget are reached.

/**
 * Median and minimum wall time of `fn` in ms after 3 warm-up calls, timed until at least 12 samples
 * and `budgetMs` of calls (at most 10,000 samples).
 * @param {() => Promise<unknown>} fn
 * @param {number} budgetMs
 * @returns {Promise<{ medianMs: number, minMs: number, samples: number }>}
 */
export async function timeAsync(fn, budgetMs) {
  for (let i = 0; i < 3; i++) await fn();
  const times = [];
  const start = performance.now();
  while ((times.length < 12 || performance.now() - start < budgetMs) && times.length < 10000) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  const medianMs = times.length % 2 === 1 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
  return { medianMs, minMs: times[0], samples: times.length };
}
