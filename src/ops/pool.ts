// pool.ts: the differentiable 2-D poolings maxPool2d and avgPool2d over [N, C, H, W] (or [C, H, W]) on the
// kit's pooling kernels, with PyTorch's floor output size, padding rule, tie rule and count_include_pad.
import { avgPool2dBackward, avgPool2dForward, heapInt32, maxPool2dBackward, maxPool2dForward, poolGeometry, type PoolGeometry } from '../plugin/index.js';
import { Tensor, formatShape } from '../tensor/tensor.js';
import { alloc, allocUninit, asVar, checkOptions, readSize2, record, tracking, type Size2 } from './nn-common.js';
import { opInt32Array } from './buffers.js';
import type { OpInput, Variable } from './variable.js';
import { attrsEnabled, withAttrs } from './tape.js';

/** Options of {@link maxPool2d} (PyTorch's `F.max_pool2d` with dilation 1, ceil_mode false). */
export interface MaxPool2dOptions {
  /** Window size `k` or `[kH, kW]` (required). */
  readonly kernelSize: Size2;
  /** Step between windows (default: the kernel size). */
  readonly stride?: Size2;
  /** Implicit padding on each side, at most half the kernel size (default 0); padding never wins the max. */
  readonly padding?: Size2;
}

/** Options of {@link avgPool2d} (PyTorch's `F.avg_pool2d` with ceil_mode false). */
export interface AvgPool2dOptions extends MaxPool2dOptions {
  /** Divide by kH·kW even where the window covers padding (PyTorch's default, true); false: by the in-image count. */
  readonly countIncludePad?: boolean;
}

/** Geometry for x of rank 3 or 4; the result shape has x's rank. */
function plan(op: string, x: Variable, options: Record<string, unknown>): { g: PoolGeometry; outShape: number[] } {
  const rank = x.shape.length;
  if (rank !== 3 && rank !== 4) throw new Error(`${op}: x must be [N, C, H, W] or [C, H, W], got ${formatShape(x.shape)}`);
  const [batch, channels, height, width] = rank === 4 ? x.shape : [1, ...x.shape];
  const [kH, kW] = readSize2(op, options, 'kernelSize', undefined, 1);
  const [sH, sW] = readSize2(op, options, 'stride', [kH, kW], 1);
  const [pH, pW] = readSize2(op, options, 'padding', [0, 0], 0);
  if (2 * pH > kH || 2 * pW > kW) {
    throw new RangeError(`${op}: padding ${pH}×${pW} must be at most half the kernel size ${kH}×${kW}`);
  }
  let g: PoolGeometry;
  try {
    g = poolGeometry(batch, channels, height, width, kH, kW, sH, sW, pH, pW);
  } catch (e) {
    throw new RangeError(`${op}: ${(e as Error).message.replace(/^pool2d: /, '')} (x ${formatShape(x.shape)})`);
  }
  const outShape = rank === 4 ? [batch, channels, g.outH, g.outW] : [channels, g.outH, g.outW];
  return { g, outShape };
}

let scratch: Int32Array = new Int32Array(0);

/** A reused argmax buffer for untracked calls (grown to the largest call). */
function argmaxScratch(n: number): Int32Array {
  if (scratch.length < n) scratch = heapInt32(n);
  return scratch.length === n ? scratch : scratch.subarray(0, n);
}

/**
 * 2-D max pooling (as `torch.nn.functional.max_pool2d`): each output is the largest input of its
 * window; padding never wins. Ties go to the first maximum in row-major window order (PyTorch's rule),
 * and the gradient flows only to it; overlapping windows sharing a maximum add up. A NaN in a window
 * is its maximum. Shapes: `[N, C, H, W]` → `[N, C, outH, outW]` (or without N), outH = ⌊(H + 2·pH − kH) / sH⌋ + 1.
 */
export function maxPool2d(xIn: OpInput, options: MaxPool2dOptions): Variable {
  const op = 'maxPool2d';
  const x = asVar(xIn, op, 'x');
  const { g, outShape } = plan(op, x, checkOptions(op, options, ['kernelSize', 'stride', 'padding']));
  const outSize = g.batch * g.channels * g.outH * g.outW;
  const y = allocUninit(outSize); // the forward writes every output and every argmax
  // The kernel always writes argmax; only a recorded op keeps it (for backward).
  const argmax = tracking([x]) ? opInt32Array(outSize, true) : argmaxScratch(outSize);
  maxPool2dForward(y, argmax, x.data, g);
  // maxPool2dBackward writes every dx element (zeros outside the argmaxes) itself.
  return withAttrs(record(op, new Tensor(y, outShape), [x], [], () => (dy) => [maxPool2dBackward(allocUninit(x.size), dy, argmax, g)]), attrsEnabled() ? poolAttrs(g) : null);
}

/**
 * 2-D average pooling (as `torch.nn.functional.avg_pool2d`): each output is its window's sum divided
 * by kH·kW (`countIncludePad`, the default: padding counts as zeros) or by the number of in-image
 * elements. The gradient spreads evenly (÷ the same divisor) over the window's in-image part.
 * Shapes as {@link maxPool2d}.
 */
export function avgPool2d(xIn: OpInput, options: AvgPool2dOptions): Variable {
  const op = 'avgPool2d';
  const x = asVar(xIn, op, 'x');
  const o = checkOptions(op, options, ['kernelSize', 'stride', 'padding', 'countIncludePad']);
  const countIncludePad = o.countIncludePad ?? true;
  if (typeof countIncludePad !== 'boolean') throw new TypeError(`${op}: countIncludePad must be true or false, got ${String(countIncludePad)}`);
  const { g, outShape } = plan(op, x, o);
  const y = alloc(g.batch * g.channels * g.outH * g.outW);
  avgPool2dForward(y, x.data, g, countIncludePad);
  return withAttrs(record(op, new Tensor(y, outShape), [x], [], () => (dy) => [avgPool2dBackward(alloc(x.size), dy, g, countIncludePad)]), attrsEnabled() ? { ...poolAttrs(g), countIncludePad } : null);
}

/** What a traced pooling records: kernel, stride and pads [top, left, bottom, right] (symmetric). */
function poolAttrs(g: PoolGeometry): Record<string, unknown> {
  return { kernel: [g.kH, g.kW], stride: [g.strideH, g.strideW], pads: [g.padH, g.padW, g.padH, g.padW] };
}
