// Interop with scijs ndarray-shaped objects ({ data, shape, stride, offset }), structurally: no dependency.
import { formatShape, shapeSize, Tensor } from '../tensor/tensor.js';

/**
 * The structural shape of a scijs `ndarray`: element `[i0, i1, …]` lives at
 * `data[offset + i0·stride[0] + i1·stride[1] + …]`. Strides may be negative or zero (broadcast).
 */
export interface NdarrayLike {
  readonly data: ArrayLike<number>;
  readonly shape: readonly number[];
  readonly stride: readonly number[];
  readonly offset: number;
}

/** What {@link toNdarray} returns: an ndarray-shaped view of a tensor's data (no copy). */
export interface NdarrayView extends NdarrayLike {
  readonly data: Float32Array;
  readonly shape: number[];
  readonly stride: number[];
  readonly offset: number;
  readonly dtype: 'float32';
  readonly size: number;
}

/** Row-major strides of a shape (`[2, 3, 4]` → `[12, 4, 1]`). */
export function rowMajorStrides(shape: readonly number[]): number[] {
  const stride = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    stride[d] = s;
    s *= shape[d];
  }
  return stride;
}

/**
 * A Tensor from an ndarray-shaped object. A row-major contiguous Float32Array view is shared
 * (`subarray`, no copy); any other layout (transposed, sliced, stepped, negative strides, another
 * element type, a plain array) is gathered into a new row-major Float32Array. Throws, naming the
 * field, if the shape or strides are malformed or an element index falls outside `data`.
 */
export function fromNdarray(array: NdarrayLike): Tensor {
  const { data, shape, stride, offset } = array ?? ({} as NdarrayLike);
  if (data === null || typeof data !== 'object' || typeof data.length !== 'number') {
    throw new TypeError('fromNdarray: data must be an array-like of numbers');
  }
  if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new TypeError(`fromNdarray: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(stride) || stride.length !== shape.length || stride.some((s) => !Number.isSafeInteger(s))) {
    throw new TypeError(`fromNdarray: stride must be ${shape.length} integers (one per axis), got ${JSON.stringify(stride)}`);
  }
  if (!Number.isSafeInteger(offset) || offset < 0) throw new TypeError(`fromNdarray: offset must be a non-negative integer, got ${offset}`);
  const size = shapeSize(shape);
  if (size === 0) return new Tensor(new Float32Array(0), shape);
  // The reachable index range: offset plus the most negative / most positive stride contributions.
  let lo = offset;
  let hi = offset;
  for (let d = 0; d < shape.length; d++) {
    const reach = (shape[d] - 1) * stride[d];
    if (reach < 0) lo += reach;
    else hi += reach;
  }
  if (lo < 0 || hi >= data.length) {
    throw new RangeError(`fromNdarray: shape ${formatShape(shape)}, stride ${formatShape(stride)}, offset ${offset} reach indices [${lo}, ${hi}] outside data of length ${data.length}`);
  }
  const dense = rowMajorStrides(shape);
  const contiguous = stride.every((s, d) => shape[d] === 1 || s === dense[d]);
  if (contiguous && data instanceof Float32Array) return new Tensor(data.subarray(offset, offset + size), shape);
  const out = new Float32Array(size);
  gather(out, data, shape, stride, offset);
  return new Tensor(out, shape);
}

/**
 * An ndarray-shaped view of `t` sharing its data: `ndarray(v.data, v.shape, v.stride, v.offset)`
 * from the `ndarray` package wraps it without a copy. Writes through the view change the tensor.
 */
export function toNdarray(t: Tensor): NdarrayView {
  if (!(t instanceof Tensor)) throw new TypeError('toNdarray: expected a Tensor');
  return { data: t.data, shape: t.shape.slice(), stride: rowMajorStrides(t.shape), offset: 0, dtype: 'float32', size: t.size };
}

/** Copies the strided elements into `out` in row-major order, walking the last axis in the inner loop. */
function gather(out: Float32Array, data: ArrayLike<number>, shape: readonly number[], stride: readonly number[], offset: number): void {
  const rank = shape.length;
  if (rank === 0) {
    out[0] = data[offset];
    return;
  }
  const inner = shape[rank - 1];
  const innerStride = stride[rank - 1];
  const outer = out.length / inner;
  // An odometer over the outer axes; `base` is the data index of the current row's first element.
  const index = new Array<number>(rank - 1).fill(0);
  let base = offset;
  for (let row = 0; row < outer; row++) {
    const o = row * inner;
    for (let j = 0; j < inner; j++) out[o + j] = data[base + j * innerStride];
    for (let d = rank - 2; d >= 0; d--) {
      index[d]++;
      base += stride[d];
      if (index[d] < shape[d]) break;
      base -= index[d] * stride[d];
      index[d] = 0;
    }
  }
}
