// crossEntropy (indices or probabilities, label smoothing) and mse: hand-derived values, finite
// differences for logits and probability targets, errors. References: reference-core.test.ts.
import { describe, expect, test } from 'vitest';
import { ops, variable } from '../../src/ops/index.js';
import { tensor } from '../../src/tensor/tensor.js';
import { close, fd, grads, input } from '../util/op-check.js';

describe('hand-derived values', () => {
  test('label smoothing with indices: target (1 − ε)·onehot + ε/C', () => {
    // logits [0, 0], label 0, ε = 0.2: t' = [0.9, 0.1], p = [0.5, 0.5]; loss = −(0.9 + 0.1)·ln 0.5 = ln 2;
    // dlogits = p − t' = [−0.4, 0.4]
    const z = variable([0, 0], { shape: [1, 2], requiresGrad: true });
    const l = ops.crossEntropy(z, [0], { labelSmoothing: 0.2 });
    close([l.item()], [Math.LN2]);
    l.backward();
    close(z.grad!.data, [-0.4, 0.4]);
    // ε = 1: the target is uniform, so the loss is −mean log p.
    const l1 = ops.crossEntropy(tensor([0, Math.log(3)], [1, 2]), [1], { labelSmoothing: 1 });
    close([l1.item()], [-(Math.log(0.25) + Math.log(0.75)) / 2]);
  });

  test('probability targets: loss −Σ t·log p, logits gradient p − t, target gradient −log p, mean over rows', () => {
    // logits [0, ln 3] → p = [1/4, 3/4]; t = [1/4, 3/4] (and a second row [0, 0] with t = [1, 0])
    const z = variable([0, Math.log(3), 0, 0], { shape: [2, 2], requiresGrad: true });
    const t = variable([0.25, 0.75, 1, 0], { shape: [2, 2], requiresGrad: true });
    const l = ops.crossEntropy(z, t);
    const h = -(0.25 * Math.log(0.25) + 0.75 * Math.log(0.75));
    close([l.item()], [(h + Math.LN2) / 2], 1e-6);
    l.backward();
    close(z.grad!.data, [0, 0, -0.25, 0.25], 1e-6);
    close(t.grad!.data, [-Math.log(0.25) / 2, -Math.log(0.75) / 2, Math.LN2 / 2, Math.LN2 / 2], 1e-6);
  });

  test('indices as a [N] Tensor are the same as an array', () => {
    const x = input([3, 4], 1);
    expect(ops.crossEntropy(x, tensor([3, 0, 1], [3])).item()).toBe(ops.crossEntropy(x, [3, 0, 1]).item());
  });
});

describe('finite differences (float32, h = 1e-2)', () => {
  test('logits with smoothing; logits and probability targets together', () => {
    fd((v) => ops.crossEntropy(v, [3, 0, 2], { labelSmoothing: 0.1 }), input([3, 4], 2, -2, 2));
    const t = ops.softmax(input([3, 4], 3, -2, 2)).value;
    fd((v) => ops.crossEntropy(v, t, { labelSmoothing: 0.3 }), input([3, 4], 4, -2, 2));
    fd((v, w) => ops.crossEntropy(v, w, { labelSmoothing: 0.25 }), input([3, 4], 5, -2, 2), input([3, 4], 6, 0, 1));
    fd(ops.mse, input([2, 3], 7), input([2, 3], 8));
  });
});

describe('input errors', () => {
  test('targets, shapes and options', () => {
    const x = input([2, 3], 1);
    expect(() => ops.crossEntropy(x, [0, 1], { labelSmoothing: 1.5 })).toThrow(/crossEntropy: labelSmoothing must be in \[0, 1\], got 1.5/);
    expect(() => ops.crossEntropy(x, input([3, 2], 2))).toThrow(/target of shape \[3, 2\] is neither \[2\] class indices nor probabilities of the logits' shape \[2, 3\]/);
    expect(() => ops.crossEntropy(input([2, 3, 4], 1), [0, 1])).toThrow(/crossEntropy: 2 labels for 8 rows of logits/);
    expect(() => ops.crossEntropy(input([2, 3, 4], 1), tensor([0, 1], [2]))).toThrow(/class indices for logits \[2, 3, 4\] must have shape \[2, 4\], got \[2\]/);
    expect(() => ops.crossEntropy(input([2, 3, 4], 1), input([2, 4, 3], 2))).toThrow(/probability target has shape \[2, 4, 3\] but logits have \[2, 3, 4\]/);
    expect(() => ops.crossEntropy(tensor([1], []), [0])).toThrow(/logits must have a class axis/);
    expect(() => ops.crossEntropy(x, tensor([0, 1.5], [2]))).toThrow(/label 1 is 1.5, must be an integer class index in \[0, 2\]/);
    expect(() => ops.crossEntropy(x, 3 as never)).toThrow(/target must be class indices/);
    expect(() => ops.crossEntropy(input([2, 0], 1), [0, 0])).toThrow(/logits have no classes/);
  });
});
