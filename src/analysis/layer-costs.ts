// Cost functions of the built-in layer kinds (per sample), registered by name in ./index.ts.
import type { Conv2D } from '../layers/conv2d.js';
import type { Dense } from '../layers/dense.js';
import type { Layer } from '../layers/layer.js';
import { shapeSize } from '../tensor/tensor.js';
import type { LayerCost, LayerCostFunction } from './counts.js';

/**
 * Dense, input `[in]` → output `[out]`:
 *   MACs = in·out;  forward = 2·in·out (+ out bias adds);
 *   backward = 2·in·out (dW += dyᵀ·x) + 2·in·out (dx = dy·W) (+ out for db).
 */
export function denseCost(layer: Layer, inputShape: readonly number[], outputShape: readonly number[]): LayerCost {
  const inF = shapeSize(inputShape);
  const out = shapeSize(outputShape);
  const bias = (layer as Dense).useBias === false ? 0 : out;
  const macs = inF * out;
  const flops = 2 * macs + bias;
  return { macs, flops, trainForwardFlops: flops, backwardFlops: 4 * macs + bias, activations: out };
}

/**
 * Conv2D, input `[inC, H, W]`, kernel `kH×kW`, output `[outC, H', W']`; P = H'·W', K = inC·kH·kW:
 *   MACs = P·outC·K;  forward = P·outC·(2·K) (one multiply and one add per kernel tap) + P·outC bias adds;
 *   backward = 2·MACs (dW += dy·colᵀ) + 2·MACs (dcol = Wᵀ·dy) + P·K (col2im adds) + P·outC (db).
 * For a k×k kernel that is the third assignment's count H'·W'·C_out·(2·k²·C_in) + H'·W'·C_out; the
 * assignment's activation term H'·W'·C_out is the following ReLU's row (1 FLOP per element).
 */
export function conv2dCost(layer: Layer, inputShape: readonly number[], outputShape: readonly number[]): LayerCost {
  const conv = layer as Conv2D;
  const [kH, kW] = conv.kernelSize;
  const positions = outputShape[1] * outputShape[2];
  const outC = outputShape[0];
  const taps = inputShape[0] * kH * kW;
  const outputs = positions * outC;
  const bias = conv.useBias === false ? 0 : outputs;
  const macs = outputs * taps;
  const flops = 2 * macs + bias;
  return { macs, flops, trainForwardFlops: flops, backwardFlops: 4 * macs + positions * taps + bias, activations: outputs };
}

/** Reads a pooling layer's window size. */
function poolWindow(layer: Layer): number {
  const size = (layer as unknown as { poolSize: readonly [number, number] }).poolSize;
  return size[0] * size[1];
}

/**
 * MaxPool2D with a kH×kW window, n output elements: forward = n·(kH·kW − 1) comparisons;
 * backward = n (each dy added at its argmax).
 */
export function maxPoolCost(layer: Layer, _in: readonly number[], outputShape: readonly number[]): LayerCost {
  const n = shapeSize(outputShape);
  const flops = n * (poolWindow(layer) - 1);
  return { macs: 0, flops, trainForwardFlops: flops, backwardFlops: n, activations: n };
}

/**
 * AvgPool2D with a kH×kW window, n output elements: forward = n·kH·kW (kH·kW − 1 adds and a divide);
 * backward = n·(kH·kW + 1) (a divide and kH·kW adds per output). Windows clipped by padding are counted whole.
 */
export function avgPoolCost(layer: Layer, _in: readonly number[], outputShape: readonly number[]): LayerCost {
  const n = shapeSize(outputShape);
  const window = poolWindow(layer);
  return { macs: 0, flops: n * window, trainForwardFlops: n * window, backwardFlops: n * (window + 1), activations: n };
}

/** Flatten and Identity: views of their input, no arithmetic and no memory. */
export function viewCost(): LayerCost {
  return { macs: 0, flops: 0, trainForwardFlops: 0, backwardFlops: 0, activations: 0 };
}

/**
 * Dropout on n elements: inference is the identity (0); training multiplies by the mask (n) and
 * keeps output and mask (2n floats); backward = n.
 */
export function dropoutCost(_layer: Layer, inputShape: readonly number[]): LayerCost {
  const n = shapeSize(inputShape);
  return { macs: 0, flops: 0, trainForwardFlops: n, backwardFlops: n, activations: 2 * n };
}

/**
 * BatchNorm1d/2d on n elements. Inference folds the running statistics into one scale and shift per
 * channel: 2n. Training forward: mean n, variance 3n (subtract, square, add), normalise 2n, affine 2n
 * (if `affine`). Backward: Σdy and Σdy·x̂ (3n) then dx = w·invStd·(dy − mean(dy) − x̂·mean(dy·x̂)) (4n) = 7n.
 * Keeps output and x̂: 2n floats.
 */
export function batchNormCost(layer: Layer, inputShape: readonly number[]): LayerCost {
  const n = shapeSize(inputShape);
  const affine = (layer as unknown as { affine?: boolean }).affine === false ? 0 : 2 * n;
  return { macs: 0, flops: 2 * n, trainForwardFlops: 6 * n + affine, backwardFlops: 7 * n, activations: 2 * n };
}

/** An elementwise activation costing `forward` and `backward` FLOPs per element. */
function elementwise(forward: number, backward: number): LayerCostFunction {
  return (_layer, inputShape) => {
    const n = shapeSize(inputShape);
    return { macs: 0, flops: forward * n, trainForwardFlops: forward * n, backwardFlops: backward * n, activations: n };
  };
}

/**
 * Softmax over rows of c elements: forward per row = (c − 1) max comparisons + c subtractions + c exps +
 * (c − 1) adds + c divides = 5c − 2; backward per row = Σ dy·y (2c − 1) + c subtractions + c multiplies = 4c − 1.
 */
export function softmaxCost(_layer: Layer, inputShape: readonly number[]): LayerCost {
  const n = shapeSize(inputShape);
  const c = inputShape[inputShape.length - 1];
  const rows = n / c;
  const flops = rows * (5 * c - 2);
  return { macs: 0, flops, trainForwardFlops: flops, backwardFlops: rows * (4 * c - 1), activations: n };
}


/** ReLU: forward 1 comparison per element; backward 1 (select dy or 0). */
export const reluCost = elementwise(1, 1);
/** LeakyReLU: forward a comparison and a multiply (2 per element); backward 2. */
export const leakyReluCost = elementwise(2, 2);
/** Tanh: forward 1 per element (one transcendental); backward dy·(1 − y²) = 3. */
export const tanhCost = elementwise(1, 3);
/** Sigmoid: forward exp, add, divide (3 per element); backward dy·y·(1 − y) = 3. */
export const sigmoidCost = elementwise(3, 3);
