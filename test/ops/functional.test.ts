// grad(fn) and valueAndGrad(fn): gradients of chosen arguments, fresh leaves per call, errors.
import { describe, expect, test } from 'vitest';
import { AutogradError, Variable, grad, noGrad, ops, valueAndGrad, variable } from '../../src/ops/index.js';
import { Tensor, tensor } from '../../src/tensor/tensor.js';

describe('grad and valueAndGrad', () => {
  // f(x, y) = sum(x²·y): df/dx = 2xy, df/dy = x²
  const f = (x: Variable, y: Variable): Variable => ops.sum(ops.mul(ops.pow(x, 2), y));
  const x = tensor([1, 2], [2]);
  const y = tensor([3, 5], [2]);

  test('grad of the first argument by default', () => {
    const g = grad(f)(x, y);
    expect(g).toBeInstanceOf(Tensor);
    expect(Array.from(g.data)).toEqual([6, 20]);
  });

  test('valueAndGrad of several arguments; each call starts from zero', () => {
    const vg = valueAndGrad(f, [0, 1]);
    for (let i = 0; i < 2; i++) {
      const { value, grads } = vg(x, y);
      expect(value).toBe(23);
      expect(Array.from(grads[0].data)).toEqual([6, 20]);
      expect(Array.from(grads[1].data)).toEqual([1, 4]);
    }
  });

  test('an argument the result does not use gets zeros; Variables are not touched', () => {
    const v = variable([1, 2], { requiresGrad: true });
    const g = grad((a: Variable) => ops.sum(ops.mul(a, 0)), 0)(v);
    expect(Array.from(g.data)).toEqual([0, 0]);
    const unused = grad((a: Variable) => ops.sum(a), 1)(x, y);
    expect(Array.from(unused.data)).toEqual([0, 0]);
    expect(v.grad).toBeNull();
  });

  test('works inside noGrad (tracking is turned on for fn)', () => {
    const g = noGrad(() => grad(f)(x, y));
    expect(Array.from(g.data)).toEqual([6, 20]);
  });

  test('errors: non-scalar result, bad argnums, bad arguments', () => {
    expect(() => grad((a: Variable) => ops.exp(a))(x)).toThrow(AutogradError);
    expect(() => grad((a: Variable) => ops.exp(a))(x)).toThrow(/one element, got shape \[2\]/);
    expect(() => grad(f, 2)(x, y)).toThrow(/argnums 2 is out of range for 2 arguments/);
    expect(() => grad(f)([1, 2] as never, y)).toThrow(/argument 0 must be a Tensor or a Variable, got an array/);
  });
});
