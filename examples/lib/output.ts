// Writing an example's results into its output folder, and small timing/formatting helpers.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Creates `dir` (and parents) and returns it. */
export function outputDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Writes `data` as pretty JSON to `<dir>/<file>`; returns the path. NaN and ±Infinity become null. */
export function writeJson(dir: string, file: string, data: unknown): string {
  const path = join(dir, file);
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
  return path;
}

/** Writes `text` to `<dir>/<file>`; returns the path. */
export function writeText(dir: string, file: string, text: string): string {
  const path = join(dir, file);
  writeFileSync(path, text);
  return path;
}

/** Runs `fn` and returns its result with the elapsed wall time in seconds. */
export async function timed<T>(fn: () => T | Promise<T>): Promise<{ result: T; seconds: number }> {
  const t0 = performance.now();
  const result = await fn();
  return { result, seconds: (performance.now() - t0) / 1000 };
}

/** A fraction as a percentage with two decimals, e.g. 0.8834 → "88.34%". */
export function percent(v: number): string {
  return `${(v * 100).toFixed(2)}%`;
}
