// matmul.ts: the differentiable matrix product through gemm, with torch.matmul's shape rules (1-D,
// 2-D, batched with broadcast batch axes) and transposed operands read in place through gemm's flags.
import { gemm } from '../plugin/index.js';
import { Tensor, formatShape } from '../tensor/tensor.js';
import { alloc, allocUninit, asVariable, broadcastShapes, broadcastStrides, record, tracking } from './op-helpers.js';
import { Variable, type OpInput } from './variable.js';
import { attrsEnabled, withAttrs } from './tape.js';

/** Options of {@link matmul}. */
export interface MatmulOptions {
  /** Use the transpose of a's last two axes (a stored as [..., k, m]); no copy is made. */
  readonly transA?: boolean;
  /** Use the transpose of b's last two axes (b stored as [..., n, k]); no copy is made. */
  readonly transB?: boolean;
}

/**
 * Matrix product with torch.matmul's rules: [m, k]·[k, n] → [m, n]; a 1-D `a` is a row [1, k] and a
 * 1-D `b` a column [k, 1], the added axis dropped from the result (1-D·1-D is a dot product, shape
 * []); beyond two axes the leading (batch) axes broadcast, [B, 1, m, k]·[H, k, n] → [B, H, m, n].
 * `transA`/`transB` use the transpose of the last two axes of a ≥2-D operand without copying it
 * (`matmul(q, k, { transB: true })` is q·kᵀ). Every product runs on gemm; a batched `a` against a
 * 2-D `b` runs as one tall product. Backward: dA = dY·op(B)ᵀ, dB = op(A)ᵀ·dY (through gemm's flags,
 * summed over broadcast batch entries).
 */
export function matmul(aIn: OpInput, bIn: OpInput, options: MatmulOptions = {}): Variable {
  const a = asVariable(aIn, 'matmul', 'a');
  const b = asVariable(bIn, 'matmul', 'b');
  const transA = options.transA === true;
  const transB = options.transB === true;
  const ra = a.shape.length;
  const rb = b.shape.length;
  // The operands for error messages, built only when one is thrown (a string per call is garbage per step).
  const shapes = (): string => `${formatShape(a.shape)}${transA ? 'ᵀ' : ''} · ${formatShape(b.shape)}${transB ? 'ᵀ' : ''}`;
  if (ra === 0 || rb === 0) throw new Error(`matmul: both operands need at least one axis, got ${shapes()}`);
  if ((transA && ra < 2) || (transB && rb < 2)) throw new Error(`matmul: transA/transB need a ≥2-D operand, got ${shapes()}`);
  // Logical matrices: a is [..., m, k], b is [..., k, n] after the optional transposes.
  const m = ra === 1 ? 1 : a.shape[ra - (transA ? 1 : 2)];
  const k = a.shape[ra - (ra === 1 || !transA ? 1 : 2)];
  const kb = rb === 1 ? b.shape[0] : b.shape[rb - (transB ? 1 : 2)];
  const n = rb === 1 ? 1 : b.shape[rb - (transB ? 2 : 1)];
  if (k !== kb) throw new Error(`matmul: inner dimensions differ in ${shapes()} (${k} vs ${kb})`);
  const batchA = ra > 2 ? a.shape.slice(0, ra - 2) : [];
  const batchB = rb > 2 ? b.shape.slice(0, rb - 2) : [];
  let batch: number[];
  try {
    batch = broadcastShapes(batchA, batchB, 'matmul');
  } catch {
    throw new Error(`matmul: batch axes ${formatShape(batchA)} and ${formatShape(batchB)} cannot be broadcast together in ${shapes()}`);
  }
  const outShape = [...batch];
  if (ra > 1) outShape.push(m);
  if (rb > 1) outShape.push(n);
  const count = batch.reduce((p, d) => p * d, 1);
  const mk = m * k;
  const kn = k * n;
  const mn = m * n;
  // Matrix offsets (in matrices) of a and b for each batch entry; null when the operand has no batch axes.
  const offA = batchA.length > 0 ? batchOffsets(batchA, batch, count) : null;
  const offB = batchB.length > 0 ? batchOffsets(batchB, batch, count) : null;
  // A batched a (not transposed) against an unbatched b is one tall [count·m, k]·[k, n] product.
  const tall = offB === null && !transA && offA !== null && batchA.length === batch.length;
  // Every product overwrites its block (gemm with k = 0 writes zeros), so y needs no zero fill.
  const y = allocUninit(count * mn);
  if (tall) {
    gemm(y, a.data, b.data, count * m, n, k, { transB });
  } else {
    for (let p = 0; p < count; p++) {
      const pa = offA === null ? 0 : offA[p] * mk;
      const pb = offB === null ? 0 : offB[p] * kn;
      gemm(y.subarray(p * mn, (p + 1) * mn), a.data.subarray(pa, pa + mk), b.data.subarray(pb, pb + kn), m, n, k, { transA, transB });
    }
  }
  const value = new Tensor(y, outShape);
  if (!tracking(a, b)) return new Variable(value);
  const needA = a.requiresGrad;
  const needB = b.requiresGrad;
  return withAttrs(record('matmul', value, [a, b], needA && needB ? [a, b] : needA ? [b] : [a], (g) => {
    let ga: Float32Array | null = null;
    let gb: Float32Array | null = null;
    if (tall) {
      // One product each: into the leaf's .grad when it has one (see below), else overwriting a new array.
      const sinkA = needA ? a.gradSink() : null;
      const sinkB = needB ? b.gradSink() : null;
      if (needA) ga = gemm(sinkA ?? allocUninit(a.size), g, b.data, count * m, k, n, { transB: !transB, accumulate: sinkA !== null });
      if (needB) {
        gb = sinkB ?? allocUninit(b.size);
        if (transB) gemm(gb, g, a.data, n, k, count * m, { transA: true, accumulate: sinkB !== null });
        else gemm(gb, a.data, g, k, n, count * m, { transA: true, accumulate: sinkB !== null });
      }
      return [sinkA === null ? ga : null, sinkB === null ? gb : null];
    }
    // One product per operand (no batch axes): its gradient is written in one gemm, straight into the
    // leaf's .grad when it has one (as the Dense layer does; the tape then adds nothing), else into an
    // array the gemm overwrites. Batched: each matrix sums over the entries that used it, from zeros.
    const single = count === 1;
    const sinkA = single && needA ? a.gradSink() : null;
    const sinkB = single && needB ? b.gradSink() : null;
    const accA = !single || sinkA !== null;
    const accB = !single || sinkB !== null;
    if (needA) ga = sinkA ?? (single ? allocUninit(a.size) : alloc(a.size));
    if (needB) gb = sinkB ?? (single ? allocUninit(b.size) : alloc(b.size));
    for (let p = 0; p < count; p++) {
      const pa = offA === null ? 0 : offA[p] * mk;
      const pb = offB === null ? 0 : offB[p] * kn;
      const gp = g.subarray(p * mn, (p + 1) * mn);
      const ap = a.data.subarray(pa, pa + mk);
      const bp = b.data.subarray(pb, pb + kn);
      // Accumulate: a broadcast operand's matrix receives the sum over the batch entries that reused it.
      if (ga !== null) {
        const out = ga.subarray(pa, pa + mk);
        if (transA) gemm(out, bp, gp, k, m, n, { transA: transB, transB: true, accumulate: accA }); // dAᵀ = op(B)·dYᵀ
        else gemm(out, gp, bp, m, k, n, { transB: !transB, accumulate: accA }); // dA = dY·op(B)ᵀ
      }
      if (gb !== null) {
        const out = gb.subarray(pb, pb + kn);
        if (transB) gemm(out, gp, ap, n, k, m, { transA: true, transB: transA, accumulate: accB }); // dBᵀ = dYᵀ·op(A)
        else gemm(out, ap, gp, k, n, m, { transA: !transA, accumulate: accB }); // dB = op(A)ᵀ·dY
      }
    }
    return [sinkA === null ? ga : null, sinkB === null ? gb : null];
  }), attrsEnabled() ? { transA, transB } : null);
}

/** For each entry of the broadcast batch (row-major), the index of the operand's matrix. */
function batchOffsets(own: readonly number[], batch: readonly number[], count: number): Int32Array {
  const strides = broadcastStrides(own, batch);
  const out = new Int32Array(count);
  const rank = batch.length;
  const index = new Int32Array(rank);
  let at = 0;
  for (let p = 0; p < count; p++) {
    out[p] = at;
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++;
      at += strides[d];
      if (index[d] < batch[d]) break;
      at -= strides[d] * batch[d];
      index[d] = 0;
    }
  }
  return out;
}
