// Tensor: a contiguous row-major Float32Array plus a shape. Reshape shares the data.
import type { Rng } from './rng.js';

/** Number of elements of a shape (1 for a scalar shape `[]`). */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i];
  return n;
}

/** `[2, 3, 4]` → `"[2, 3, 4]"`, for error messages. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function checkShape(shape: readonly number[], what: string): void {
  if (!Array.isArray(shape)) throw new Error(`${what}: shape must be an array of integers, got ${String(shape)}`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`${what}: shape ${formatShape(shape)} has an invalid dimension ${d}`);
  }
}

/**
 * Throws `"<owner>: <what> must be a Tensor, got an array"` (or the value's type) unless `value` is a
 * Tensor, so a public function handed a plain array fails with a message instead of a TypeError inside.
 */
export function checkTensor(owner: string, what: string, value: unknown): asserts value is Tensor {
  if (value instanceof Tensor) return;
  const got = Array.isArray(value) ? 'an array'
    : typeof value === 'object' && value !== null ? Object.prototype.toString.call(value) : String(value);
  throw new Error(`${owner}: ${what} must be a Tensor, got ${got}`);
}

/** A dense float32 tensor: `data` holds `shapeSize(shape)` elements in row-major order. */
export class Tensor {
  readonly data: Float32Array;
  readonly shape: number[];
  readonly size: number;

  constructor(data: Float32Array, shape: readonly number[]) {
    if (!(data instanceof Float32Array)) {
      const got = Array.isArray(data) ? 'an array (use tensor(values, shape) to copy numbers)' : Object.prototype.toString.call(data);
      throw new Error(`Tensor: data must be a Float32Array, got ${got}`);
    }
    checkShape(shape, 'Tensor');
    const size = shapeSize(shape);
    if (data.length !== size) {
      throw new Error(`Tensor: data has ${data.length} elements but shape ${formatShape(shape)} needs ${size}`);
    }
    this.data = data;
    this.shape = shape.slice();
    this.size = size;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** A tensor of a new shape over the same data (no copy). One dimension may be -1. */
  reshape(shape: readonly number[]): Tensor {
    const s = shape.slice();
    const neg = s.indexOf(-1);
    if (neg >= 0) {
      const rest = shapeSize(s.filter((_, i) => i !== neg));
      if (rest === 0 || this.size % rest !== 0) {
        throw new Error(`reshape: cannot reshape ${formatShape(this.shape)} to ${formatShape(shape)}`);
      }
      s[neg] = this.size / rest;
    }
    if (shapeSize(s) !== this.size) {
      throw new Error(`reshape: cannot reshape ${formatShape(this.shape)} (${this.size} elements) to ${formatShape(shape)}`);
    }
    return new Tensor(this.data, s);
  }

  /** A deep copy. */
  clone(): Tensor {
    return new Tensor(this.data.slice(), this.shape);
  }

  /** Rows `start..end` along the first axis as a view sharing the data. */
  slice0(start: number, end: number): Tensor {
    const rows = this.shape[0];
    if (!(start >= 0 && end <= rows && start <= end)) {
      throw new Error(`slice0: range [${start}, ${end}) is outside the first axis of ${formatShape(this.shape)}`);
    }
    const per = rows === 0 ? 0 : this.size / rows;
    return new Tensor(this.data.subarray(start * per, end * per), [end - start, ...this.shape.slice(1)]);
  }

  /** Nested arrays, for printing and tests. */
  toArray(): unknown {
    const build = (dim: number, offset: number): unknown => {
      if (dim === this.shape.length) return this.data[offset];
      const stride = shapeSize(this.shape.slice(dim + 1));
      const out: unknown[] = [];
      for (let i = 0; i < this.shape[dim]; i++) out.push(build(dim + 1, offset + i * stride));
      return out;
    };
    return build(0, 0);
  }

  /**
   * The values and the shape, like PyTorch's repr: `tensor([[1.0000, 2.5000], [3.0000, 4.0000]], shape=[2, 2])`
   * (one row per line for rank ≥ 2). Above 1000 elements each axis shows its first and last 3 entries
   * around `...`. Numbers share one format: integers as integers, else 4 decimals, else (very large or
   * small magnitudes) 4-digit exponents.
   */
  toString(): string {
    const { data, shape } = this;
    const summarise = data.length > 1000;
    let allInt = true;
    let maxAbs = 0;
    let minAbs = Infinity;
    for (let i = 0; i < data.length; i++) {
      const a = Math.abs(data[i]);
      if (!Number.isInteger(data[i])) allInt = false;
      if (Number.isFinite(a)) maxAbs = a > maxAbs ? a : maxAbs;
      if (a > 0 && a < minAbs) minAbs = a;
    }
    const sci = !allInt && (maxAbs >= 1e8 || minAbs < 1e-4);
    const num = (v: number) => (Number.isNaN(v) ? 'nan' : !Number.isFinite(v) ? (v > 0 ? 'inf' : '-inf') : allInt ? String(v) : sci ? v.toExponential(4) : v.toFixed(4));
    let width = 0;
    for (let i = 0; i < data.length; i++) width = Math.max(width, num(data[i]).length);
    const pad = 'tensor('.length;
    const build = (dim: number, offset: number): string => {
      if (dim === shape.length) return num(data[offset]).padStart(width);
      const n = shape[dim];
      const stride = shapeSize(shape.slice(dim + 1));
      const idx: number[] = [];
      for (let i = 0; i < n; i++) if (!summarise || n <= 6 || i < 3 || i >= n - 3) idx.push(i);
      const parts = idx.map((i) => build(dim + 1, offset + i * stride));
      if (summarise && n > 6) parts.splice(3, 0, '...');
      const sep = dim === shape.length - 1 ? ', ' : `,${'\n'.repeat(shape.length - 1 - dim)}${' '.repeat(pad + dim + 1)}`;
      return `[${parts.join(sep)}]`;
    };
    return `tensor(${data.length === 0 ? '[]' : build(0, 0)}, shape=${formatShape(shape)})`;
  }
}

/** A tensor from numbers (copied into a new Float32Array) and a shape. */
export function tensor(data: ArrayLike<number>, shape?: readonly number[]): Tensor {
  const s = shape ?? [data.length];
  checkShape(s, 'tensor');
  if (data.length !== shapeSize(s)) {
    throw new Error(`tensor: got ${data.length} values for shape ${formatShape(s)} (needs ${shapeSize(s)})`);
  }
  return new Tensor(Float32Array.from(data), s);
}

/** A tensor of zeros. */
export function zeros(shape: readonly number[]): Tensor {
  checkShape(shape, 'zeros');
  return new Tensor(new Float32Array(shapeSize(shape)), shape);
}

/** A tensor filled with `value`. */
export function full(shape: readonly number[], value: number): Tensor {
  const t = zeros(shape);
  t.data.fill(value);
  return t;
}

/** A tensor of ones. */
export function ones(shape: readonly number[]): Tensor {
  return full(shape, 1);
}

/** Samples from N(mean, std²) drawn from `rng`. */
export function randn(shape: readonly number[], rng: Rng, mean = 0, std = 1): Tensor {
  const t = zeros(shape);
  for (let i = 0; i < t.size; i++) t.data[i] = mean + std * rng.normal();
  return t;
}

/** Samples from U[low, high) drawn from `rng`. */
export function rand(shape: readonly number[], rng: Rng, low = 0, high = 1): Tensor {
  const t = zeros(shape);
  for (let i = 0; i < t.size; i++) t.data[i] = low + (high - low) * rng.next();
  return t;
}
