// The loss registry: built-ins registered by name, user losses through the same public call.
import { describe, expect, it } from 'vitest';
import {
  createLoss, lossNames, MeanSquaredError, registerLoss, SoftmaxCrossEntropy, type Loss,
} from '../../src/losses/index.js';
import { tensor, type Tensor } from '../../src/tensor/tensor.js';

describe('loss registry', () => {
  it('registers cross-entropy and mse', () => {
    expect(lossNames()).toEqual(expect.arrayContaining(['cross-entropy', 'mse']));
    const ce = createLoss('cross-entropy', { labelSmoothing: 0.1 });
    expect(ce).toBeInstanceOf(SoftmaxCrossEntropy);
    expect(ce.getConfig()).toEqual({ labelSmoothing: 0.1, fromLogits: true });
    expect(createLoss('MSE')).toBeInstanceOf(MeanSquaredError);
    expect(() => createLoss('cross-entropy', { lr: 1 })).toThrow(/unknown option "lr"/);
    expect(() => createLoss('hinge')).toThrow(/unknown loss "hinge"; known: .*cross-entropy.*mse/);
  });

  it('rejects re-registering a built-in without override, and takes a user loss by name', () => {
    expect(() => registerLoss('mse', () => new MeanSquaredError())).toThrow(/already registered/);
    class L1 implements Loss {
      readonly kind = 'l1-test';
      private diff = 0;
      forward(pred: Tensor, target: Tensor): number {
        let s = 0;
        for (let i = 0; i < pred.size; i++) s += Math.abs(pred.data[i] - target.data[i]);
        this.diff = s / pred.size;
        return this.diff;
      }
      backward(out?: Tensor): Tensor {
        return out ?? tensor([this.diff]);
      }
      getConfig(): Record<string, unknown> {
        return {};
      }
    }
    registerLoss('l1-test', () => new L1());
    expect(createLoss('l1-test').forward(tensor([1, -2]), tensor([0, 0]))).toBe(1.5);
  });
});

describe('built-in losses given something other than a Tensor', () => {
  it('name the argument instead of failing inside with a TypeError', () => {
    for (const name of ['cross-entropy', 'mse']) {
      const loss = createLoss(name);
      const pred = tensor([0.1, 0.9, 0.8, 0.2], [2, 2]);
      expect(() => loss.forward(pred, [1, 0] as unknown as Tensor), name).toThrow(new RegExp(`^${name}: target must be a Tensor, got an array`));
      expect(() => loss.forward([[0.1, 0.9]] as unknown as Tensor, tensor([1])), name).toThrow(new RegExp(`^${name}: pred must be a Tensor, got an array`));
      expect(() => loss.forward(pred, undefined as unknown as Tensor), name).toThrow(new RegExp(`^${name}: target must be a Tensor, got undefined`));
    }
  });
});
