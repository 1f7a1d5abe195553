// The backward engine and grad mode: accumulation, graph freeing and retainGraph, version checks on
// saved variables, noGrad recording nothing, diamond-shaped graphs.
import { describe, expect, test } from 'vitest';
import { AutogradError, Variable, isGradEnabled, noGrad, ops, variable } from '../../src/ops/index.js';
import { tensor } from '../../src/tensor/tensor.js';

describe('gradient accumulation', () => {
  test('two backward calls add into .grad; zeroGrad resets it', () => {
    // L = sum(x·x) → dL/dx = 2x = [2, −4]; twice → [4, −8]
    const x = variable([1, -2], { requiresGrad: true });
    ops.sum(ops.mul(x, x)).backward();
    expect(Array.from(x.grad!.data)).toEqual([2, -4]);
    ops.sum(ops.mul(x, x)).backward();
    expect(Array.from(x.grad!.data)).toEqual([4, -8]);
    x.zeroGrad();
    expect(x.grad).toBeNull();
    ops.sum(x).backward();
    expect(Array.from(x.grad!.data)).toEqual([1, 1]);
  });

  test('a variable used along several paths gets the sum of them (diamond)', () => {
    // y = x·3, L = sum(y·y + y) → dL/dx = 3·(2y + 1) = 3·(6x + 1); x = [1, 2] → [21, 39]
    const x = variable([1, 2], { requiresGrad: true });
    const y = ops.mul(x, 3);
    ops.sum(ops.add(ops.mul(y, y), y)).backward();
    expect(Array.from(x.grad!.data)).toEqual([21, 39]);
  });

  test('the same leaf twice as inputs of one op', () => {
    // L = sum(x + x) → 2 per element
    const x = variable([5, 6, 7], { requiresGrad: true });
    ops.sum(ops.add(x, x)).backward();
    expect(Array.from(x.grad!.data)).toEqual([2, 2, 2]);
  });

  test('backward with an explicit upstream gradient for a non-scalar output', () => {
    // y = x² ; dL/dx = g·2x with g = [1, 10, 100], x = [1, 2, 3] → [2, 40, 600]
    const x = variable([1, 2, 3], { requiresGrad: true });
    ops.pow(x, 2).backward(tensor([1, 10, 100], [3]));
    expect(Array.from(x.grad!.data)).toEqual([2, 40, 600]);
  });

  test('retainGrad keeps an intermediate gradient; other intermediates keep none', () => {
    const x = variable([1, 2], { requiresGrad: true });
    const y = ops.mul(x, 2).retainGrad();
    const z = ops.mul(y, 3);
    ops.sum(z).backward();
    expect(Array.from(y.grad!.data)).toEqual([3, 3]);
    expect(z.grad).toBeNull();
    expect(Array.from(x.grad!.data)).toEqual([6, 6]);
  });
});

describe('graph freeing', () => {
  test('a second backward through a freed graph throws a clear error', () => {
    const x = variable([1, 2], { requiresGrad: true });
    const loss = ops.sum(ops.exp(x));
    loss.backward();
    expect(() => loss.backward()).toThrow(AutogradError);
    expect(() => loss.backward()).toThrow(/second time.*retainGraph/);
  });

  test('retainGraph: true allows a second backward (and it accumulates)', () => {
    // L = sum(x·x): dL/dx = 2x = [2, 4]; twice → [4, 8]
    const x = variable([1, 2], { requiresGrad: true });
    const loss = ops.sum(ops.mul(x, x));
    loss.backward({ retainGraph: true });
    loss.backward();
    expect(Array.from(x.grad!.data)).toEqual([4, 8]);
    expect(() => loss.backward()).toThrow(/second time/);
  });

  test('freeing drops the nodes\' saved variables and closures', () => {
    const x = variable([1, 2], { requiresGrad: true });
    const y = ops.mul(x, x);
    const loss = ops.sum(y);
    expect(y.node!.saved.length).toBe(2);
    loss.backward();
    expect(y.node!.saved.length).toBe(0);
    expect(y.node!.backwardFn).toBeNull();
    expect(loss.node!.backwardFn).toBeNull();
  });
});

describe('in-place modification of saved variables', () => {
  test('changing a saved input before backward throws naming the op', () => {
    const a = variable([1, 2], { requiresGrad: true });
    const b = variable([3, 4]);
    const loss = ops.sum(ops.mul(a, b)); // mul saved b (for dL/da = b)
    b.modify((d) => { d[0] = 100; });
    expect(() => loss.backward()).toThrow(AutogradError);
    expect(() => loss.backward()).toThrow(/saved by mul for backward was modified in place \(version 1, expected 0\)/);
  });

  test('changing a variable the op did not save is fine (add saves nothing)', () => {
    const a = variable([1, 2], { requiresGrad: true });
    const b = variable([3, 4]);
    const loss = ops.sum(ops.add(a, b));
    b.modify((d) => d.fill(0));
    loss.backward();
    expect(Array.from(a.grad!.data)).toEqual([1, 1]);
  });

  test('a reshape view shares the version counter with its base', () => {
    const a = variable([1, 2, 3, 4], { requiresGrad: true });
    const b = variable([1, 2, 3, 4]);
    const view = ops.reshape(b, [2, 2]);
    const loss = ops.sum(ops.mul(ops.reshape(a, [2, 2]), view));
    b.modify((d) => { d[3] = 0; });
    expect(view.version).toBe(1);
    expect(() => loss.backward()).toThrow(/modified in place/);
  });

  test('a backward that throws midway leaves no gradient pending on the nodes it reached', () => {
    const x = variable([1, 2], { requiresGrad: true });
    const b = variable([3, 4]);
    const h = ops.mul(x, 2); // a node both losses go through
    const bad = ops.add(ops.sum(ops.mul(h, b)), ops.sum(h)); // h receives a gradient from sum(h) …
    b.modify((d) => { d[0] = 0; }); // … and the mul(h, b) branch throws
    expect(() => bad.backward()).toThrow(/modified in place/);
    x.zeroGrad();
    ops.sum(h).backward(); // through h again: dL/dx = 2 per element, nothing left over from the failed walk
    expect(Array.from(x.grad!.data)).toEqual([2, 2]);
  });

  test('markModified records a change made through .data', () => {
    const a = variable([1, 2], { requiresGrad: true });
    const loss = ops.sum(ops.log(a)); // log saves a
    a.data[0] = 5;
    a.markModified();
    expect(() => loss.backward()).toThrow(/saved by log/);
  });

  test('a leaf that requires grad can be modified only inside noGrad', () => {
    const w = variable([1, 2], { requiresGrad: true });
    expect(() => w.modify((d) => d.fill(0))).toThrow(/leaf variable that requires grad.*noGrad/);
    noGrad(() => w.modify((d) => { d[0] -= 0.5; }));
    expect(Array.from(w.data)).toEqual([0.5, 2]);
    expect(w.version).toBe(1);
    // Nor through a reshape view; a detached alias may be changed (as in PyTorch) and bumps the shared version.
    expect(() => ops.reshape(w, [1, 2]).modify((d) => d.fill(0))).toThrow(/view of a leaf variable that requires grad/);
    expect(Array.from(w.data)).toEqual([0.5, 2]);
    const loss = ops.sum(ops.log(w));
    w.detach().modify((d) => { d[1] = 4; });
    expect(w.version).toBe(2);
    expect(() => loss.backward()).toThrow(/saved by log/);
  });
});

describe('noGrad and untracked ops', () => {
  test('ops inside noGrad record no node and do not require grad', () => {
    const x = variable([1, 2], { requiresGrad: true });
    expect(isGradEnabled()).toBe(true);
    const y = noGrad(() => {
      expect(isGradEnabled()).toBe(false);
      return ops.sum(ops.mul(x, x));
    });
    expect(isGradEnabled()).toBe(true);
    expect(y.node).toBeNull();
    expect(y.requiresGrad).toBe(false);
    expect(y.item()).toBe(5);
    expect(() => y.backward()).toThrow(/does not require grad/);
  });

  test('noGrad restores the mode when fn throws, and nests', () => {
    expect(() => noGrad(() => { throw new Error('boom'); })).toThrow('boom');
    expect(isGradEnabled()).toBe(true);
    noGrad(() => noGrad(() => undefined));
    expect(isGradEnabled()).toBe(true);
  });

  test('ops on inputs that need no grad create no node (no tape cost)', () => {
    const a = variable([1, 2]);
    const y = ops.gelu(ops.matmul(ops.reshape(a, [1, 2]), variable([1, 1], { shape: [2, 1] })));
    expect(y.node).toBeNull();
    expect(y.requiresGrad).toBe(false);
  });

  test('detach cuts the graph: no gradient flows through the detached branch', () => {
    // L = sum(x·detach(x)) → dL/dx = detach(x) = x
    const x = variable([2, 3], { requiresGrad: true });
    ops.sum(ops.mul(x, x.detach())).backward();
    expect(Array.from(x.grad!.data)).toEqual([2, 3]);
  });
});

describe('errors', () => {
  test('backward of a non-scalar without a gradient', () => {
    const x = variable([1, 2], { requiresGrad: true });
    expect(() => ops.exp(x).backward()).toThrow(/shape \[2\].*needs one element/);
  });

  test('backward with a gradient of the wrong shape', () => {
    const x = variable([1, 2], { requiresGrad: true });
    expect(() => ops.exp(x).backward(tensor([1, 2, 3], [3]))).toThrow(/gradient has shape \[3\] but the variable has shape \[2\]/);
  });

  test('requiresGrad cannot be turned off on an op result; Variable needs a Tensor', () => {
    const x = variable([1], { requiresGrad: true });
    const y = ops.exp(x);
    expect(() => { y.requiresGrad = false; }).toThrow(/detach/);
    expect(() => new Variable([1, 2] as never)).toThrow(/must be a Tensor, got an array/);
  });

  test('a long chain backpropagates without overflowing the stack', () => {
    // y = x + 1 + 1 + … (20000 times); dy/dx = 1
    const x = variable([0], { requiresGrad: true });
    let y = x;
    for (let i = 0; i < 20000; i++) y = ops.add(y, 1);
    y.backward();
    expect(y.item()).toBe(20000);
    expect(x.grad!.data[0]).toBe(1);
  });
});
