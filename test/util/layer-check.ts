// Layer gradient checks shared by the layer tests: L = Σ w·y (summed in a double) through a layer's
// forward, its analytic gradients from backward(w), and central differences for the input and every
// parameter.
import type { Layer } from '../../src/layers/layer.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { gradCheck } from './grad-check.js';

/** Σ w·y of the layer's output for input `x` (in a double). */
export function weightedLoss(layer: Layer, x: Tensor, w: Float32Array, training = true): number {
  const y = layer.forward(x, training);
  let s = 0;
  for (let i = 0; i < y.data.length; i++) s += w[i] * y.data[i];
  return s;
}

/** Runs forward then backward(w) with zeroed parameter grads; returns copies of dx and each param grad by name. */
export function analyticGrads(layer: Layer, x: Tensor, w: Float32Array, training = true): { y: Float32Array; dx: Float32Array; params: Record<string, Float32Array> } {
  for (const p of layer.params()) p.grad.data.fill(0);
  const y = layer.forward(x, training);
  const yCopy = Float32Array.from(y.data);
  const dx = layer.backward(new Tensor(Float32Array.from(w), y.shape));
  const params: Record<string, Float32Array> = {};
  for (const p of layer.params()) params[p.name] = Float32Array.from(p.grad.data);
  return { y: yCopy, dx: Float32Array.from(dx.data), params };
}

/**
 * Checks dL/dx (unless `input` is false) and dL/dparam for every parameter against central
 * differences (step `h`, relative error |a − n| / max(1, |a|, |n|) below `tol`). Returns the worst error.
 */
export function checkLayerGradients(
  layer: Layer, x: Tensor, w: Float32Array, opts: { h?: number; tol?: number; input?: boolean; training?: boolean; what?: string } = {},
): number {
  const { h = 1e-2, tol = 2e-3, input = true, training = true, what = layer.kind } = opts;
  const analytic = analyticGrads(layer, x, w, training);
  const loss = (): number => weightedLoss(layer, x, w, training);
  let worst = 0;
  if (input) worst = Math.max(worst, gradCheck(loss, x.data, analytic.dx, { h, tol, what: `${what} dx` }));
  for (const p of layer.params()) {
    worst = Math.max(worst, gradCheck(loss, p.value.data, analytic.params[p.name], { h, tol, what: `${what} d${p.name}` }));
  }
  return worst;
}
