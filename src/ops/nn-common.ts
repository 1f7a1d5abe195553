// nn-common.ts: what the nn ops (conv.ts, pool.ts, nn.ts) share: turning an operand into a Variable,
// recording an op's node only when tracking is on, option readers for sizes given as a number or a pair.
import { opArray, opArrayUninit } from './buffers.js';
import { Tensor, formatShape } from '../tensor/tensor.js';
import { Node, isGradEnabled, type BackwardFn } from './tape.js';
import { Variable, type OpInput } from './variable.js';

/** A size for both spatial axes, or `[h, w]`. */
export type Size2 = number | readonly [number, number];

/** `x` as a Variable (a Tensor becomes a constant; numbers are rejected: these ops need arrays). */
export function asVar(x: OpInput, op: string, what: string): Variable {
  if (x instanceof Variable) return x;
  if (x instanceof Tensor) return new Variable(x);
  const got = Array.isArray(x) ? 'an array' : typeof x === 'number' ? `the number ${x}` : String(x);
  throw new TypeError(`${op}: ${what} must be a Variable or a Tensor, got ${got}`);
}

/** An optional operand (`undefined` and `null` mean "none"). */
export function asOptionalVar(x: OpInput | null | undefined, op: string, what: string): Variable | null {
  return x === undefined || x === null ? null : asVar(x, op, what);
}

/** A float32 array for an op's result or gradient, in the shared heap when there is one (freed with the array). */
export function alloc(n: number): Float32Array {
  return opArray(n);
}

/** As {@link alloc}, for an array the op overwrites in full (see {@link opArrayUninit}: not zero-filled when recycled). */
export function allocUninit(n: number): Float32Array {
  return opArrayUninit(n);
}

/**
 * The op's result: with grad mode on and an input that requires grad, a Variable with one Node
 * holding the backward made by `backward()` and the versions of `saved`; otherwise a plain Variable
 * (nothing recorded, `backward` never called).
 */
export function record(op: string, value: Tensor, inputs: readonly Variable[], saved: readonly Variable[], backward: () => BackwardFn): Variable {
  if (!isGradEnabled() || !inputs.some((v) => v.requiresGrad)) return new Variable(value);
  return new Variable(value, {}, new Node(op, inputs, saved, backward(), value.size));
}

/** Whether grad mode is on and one of `inputs` requires grad (the op will record a node). */
export function tracking(inputs: readonly (Variable | null)[]): boolean {
  if (!isGradEnabled()) return false;
  for (const v of inputs) if (v !== null && v.requiresGrad) return true;
  return false;
}

/** Throws unless `options` is an object (or undefined) whose keys are all in `known`. */
export function checkOptions(op: string, options: unknown, known: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${op}: options must be an object, got ${Array.isArray(options) ? 'an array' : String(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new Error(`${op}: unknown option "${key}"; known options: ${known.join(', ')}`);
  }
  return options as Record<string, unknown>;
}

/** A size option read as `[h, w]` (a number means both): integers ≥ `min`, or `fallback` when absent. */
export function readSize2(op: string, options: Record<string, unknown>, key: string, fallback: readonly [number, number] | undefined, min: number): [number, number] {
  const raw = options[key];
  if (raw === undefined) {
    if (fallback === undefined) throw new Error(`${op}: ${key} is required`);
    return [fallback[0], fallback[1]];
  }
  const pair = typeof raw === 'number' ? [raw, raw] : raw;
  const ok = Array.isArray(pair) && pair.length === 2 && pair.every((v) => Number.isInteger(v) && v >= min);
  if (!ok) {
    const shown = Array.isArray(raw) ? formatShape(raw as number[]) : typeof raw === 'number' ? String(raw) : JSON.stringify(raw) ?? String(raw);
    throw new RangeError(`${op}: ${key} must be an integer ≥ ${min} or a pair of them, got ${shown}`);
  }
  return [pair[0] as number, pair[1] as number];
}

/** A size option of a 1-D op: one integer ≥ `min` (or a one-element array), or `fallback` when absent. */
export function readSize1(op: string, options: Record<string, unknown>, key: string, fallback: number, min: number): number {
  const raw = options[key];
  if (raw === undefined) return fallback;
  const v = Array.isArray(raw) && raw.length === 1 ? raw[0] : raw;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new RangeError(`${op}: ${key} must be an integer ≥ ${min}, got ${Array.isArray(raw) ? formatShape(raw as number[]) : String(raw)}`);
  }
  return v;
}

/** Sums of `dy[outer, channels, inner]` per channel, in doubles, added into `out` (float32). */
export function addChannelSums(out: Float32Array, dy: Float32Array, outer: number, channels: number, inner: number): void {
  for (let c = 0; c < channels; c++) {
    let s = 0;
    for (let b = 0; b < outer; b++) {
      const o = (b * channels + c) * inner;
      for (let i = 0; i < inner; i++) s += dy[o + i];
    }
    out[c] += s;
  }
}

export type { BackwardFn };
