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
    expect(ce.getConfig()).toEqual({ labelSmoothing: 0.1 });
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
