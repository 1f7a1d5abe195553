// Layer gradient checks shared by the layer tests: L = Σ w·y (summed in a double) through a layer's
// forward, its analytic gradients from backward(w), and central differences for the input and every
// parameter.
import type { Layer } from '../../src/layers/layer.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { expect } from 'vitest';

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
 * Central differences of `loss` with respect to every element of `x` (read in place), in doubles.
 */
function numericGrad(loss: () => number, x: Float32Array, h: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const orig = x[i];
    x[i] = orig + h;
    const up = loss();
    x[i] = orig - h;
    const down = loss();
    x[i] = orig;
    // The steps actually taken are the float32-rounded ones.
    out[i] = (up - down) / (Math.fround(orig + h) - Math.fround(orig - h));
  }
  return out;
}

/**
 * Checks dL/dx (unless `input` is false) and dL/dparam for every parameter against central
 * differences (step `h`). Each element's error is |a − n| / max(|n|, max|n|/10): relative to the
 * element itself down to a tenth of the tensor's largest gradient, so a 0.5% error in a gradient (or
 * in a part of it, such as attention's query rows) shows as 5e-3; it must stay below `tol`. Returns
 * the worst error.
 */
export function checkLayerGradients(
  layer: Layer, x: Tensor, w: Float32Array, opts: { h?: number; tol?: number; input?: boolean; training?: boolean; what?: string } = {},
): number {
  const { h = 1e-2, tol = 2e-3, input = true, training = true, what = layer.kind } = opts;
  const analytic = analyticGrads(layer, x, w, training);
  const loss = (): number => weightedLoss(layer, x, w, training);
  const targets: [string, Float32Array, Float32Array][] = [];
  if (input) targets.push(['dx', x.data, analytic.dx]);
  for (const p of layer.params()) targets.push([`d${p.name}`, p.value.data, analytic.params[p.name]]);
  let worst = 0;
  for (const [name, values, a] of targets) {
    const n = numericGrad(loss, values, h);
    let scale = 0;
    for (let i = 0; i < n.length; i++) scale = Math.max(scale, Math.abs(n[i]));
    // Each element's error relative to its own size, floored at a tenth of the tensor's largest
    // gradient (below that, float32 rounding of the loss dominates the differences).
    const floor = Math.max(0.1 * scale, 1e-6);
    let rel = 0;
    let at = 0;
    for (let i = 0; i < n.length; i++) {
      const e = Math.abs(a[i] - n[i]) / Math.max(Math.abs(n[i]), floor);
      if (!(e <= rel)) {
        rel = e;
        at = i;
      }
    }
    if (!(rel < tol)) {
      expect.fail(`${what} ${name}[${at}]: analytic ${a[at]} vs numeric ${n[at]} (relative error ${rel}, floor ${floor}, tol ${tol})`);
    }
    worst = Math.max(worst, rel);
  }
  return worst;
}
