// Ops record their arguments on the tape (node.attrs) only while a trace runs: the switch in tape.ts is
// off in ordinary training, traceModule turns it on around its forward (and off again, even when the
// forward throws), and the recorded arguments are exactly the ones the op was called with.
import { describe, expect, it } from 'vitest';
import { traceModule } from '../../src/model/trace.js';
import { attrsEnabled, setAttrsEnabled, withAttrs, type Node } from '../../src/ops/tape.js';
import { Module, Parameter, Rng, Tensor, Variable, ops, randn } from '../../src/index.js';

/** A small network using most ops that have arguments. */
class Net extends Module {
  readonly w = new Parameter(randn([4, 2, 3, 2], new Rng(3)));
  readonly emb = new Parameter(randn([5, 3], new Rng(4)));
  forward(x: Variable): Variable {
    const c = ops.conv2d(x, this.w, null, { stride: [2, 1], padding: [1, 0], dilation: [1, 2], groups: 2 });
    const p = ops.maxPool2d(ops.clamp(c, 1e-6), { kernelSize: 2, stride: 1, padding: 1 });
    const s = ops.slice(p, [null, { start: 1, end: 4, step: 2 }]);
    const r = ops.sum(ops.var(s, -1, { correction: 0, keepDims: true }), [-2, 1]);
    const m = ops.where(new Tensor(Float32Array.of(1, 0), [2]), r, ops.clamp(r, null, 0.5));
    const e = ops.embedding(new Tensor(Float32Array.of(4, 0), [2]), this.emb);
    return ops.softmax(ops.matmul(m.reshape([-1, 1]), ops.sum(e, 1, { keepDims: true }), { transB: true }), 0);
  }
}

/** Every node reachable from `v`. */
function nodesOf(v: Variable): Node[] {
  const seen = new Set<Node>();
  const stack = [v.node as Node];
  while (stack.length > 0) {
    const n = stack.pop() as Node;
    if (n === null || seen.has(n)) continue;
    seen.add(n);
    for (const i of n.inputs) if (i.node !== null) stack.push(i.node);
  }
  return [...seen];
}

describe('op attrs on the tape', () => {
  it('are off by default: training steps build no attrs objects', () => {
    expect(attrsEnabled()).toBe(false);
    const net = new Net();
    for (let step = 0; step < 2; step++) {
      const x = new Variable(randn([2, 4, 5, 6], new Rng(step)), { requiresGrad: true });
      const y = net.forward(x);
      const nodes = nodesOf(y);
      expect(nodes.map((n) => n.op).sort()).toEqual(
        ['clamp', 'clamp', 'conv2d', 'embedding', 'matmul', 'maxPool2d', 'reshape', 'slice', 'softmax', 'sum', 'sum', 'var', 'where'].sort());
      expect(nodes.filter((n) => n.attrs !== null).map((n) => n.op)).toEqual([]);
      y.sum().backward();
    }
  });

  it('are recorded inside traceModule with the arguments as called, and the switch is off afterwards', () => {
    const net = new Net();
    const trace = traceModule(net, { inputShapes: [[4, 5, 6]], batch: 2 });
    expect(attrsEnabled()).toBe(false);
    const byOp = (name: string) => trace.ops.filter((o) => o.op === name).map((o) => o.attrs);
    // conv: H 5 → ⌊(5 + 2 − 3)/2⌋ + 1 = 3, W 6 with dilation 2 → 6 − 2·1 = 4; symmetric pads.
    expect(byOp('conv2d')).toEqual([{ kernel: [3, 2], stride: [2, 1], dilation: [1, 2], groups: 2, pads: [1, 0, 1, 0] }]);
    expect(byOp('maxPool2d')).toEqual([{ kernel: [2, 2], stride: [1, 1], pads: [1, 1, 1, 1] }]);
    expect(byOp('clamp')).toEqual([{ min: 1e-6, max: Infinity }, { min: -Infinity, max: 0.5 }]);
    expect(byOp('slice')).toEqual([{ starts: [0, 1, 0, 0], steps: [1, 2, 1, 1] }]);
    expect(byOp('var')).toEqual([{ axes: [3], keepDims: true, correction: 0 }]);
    expect(byOp('sum')).toEqual([{ axes: [1, 2], keepDims: false }, { axes: [1], keepDims: true }]);
    expect(byOp('matmul')).toEqual([{ transA: false, transB: true }]);
    expect(byOp('softmax')).toEqual([{ axis: 0 }]);
    const [where] = byOp('where') as [{ cond: Tensor }];
    expect([...where.cond.data]).toEqual([1, 0]);
    const [emb] = byOp('embedding') as [{ indices: Int32Array; shape: number[] }];
    expect([...emb.indices]).toEqual([4, 0]);
    expect(emb.shape).toEqual([2]);
    // The same ops after the trace record nothing again.
    const y = net.forward(new Variable(randn([2, 4, 5, 6], new Rng(9)), { requiresGrad: true }));
    expect(nodesOf(y).filter((n) => n.attrs !== null)).toEqual([]);
  });

  it("'same' padding records its asymmetric pads; the switch is restored when the forward throws", () => {
    class Same extends Module {
      readonly w = new Parameter(randn([1, 1, 2, 4], new Rng(1)));
      forward(x: Variable): Variable {
        return ops.conv2d(x, this.w, null, { padding: 'same' });
      }
    }
    const t = traceModule(new Same(), { inputShapes: [[1, 3, 5]] });
    // total padding k − 1: H 1 → top 0, bottom 1; W 3 → left 1, right 2.
    expect(t.ops[0].attrs).toEqual({ kernel: [2, 4], stride: [1, 1], dilation: [1, 1], groups: 1, pads: [0, 1, 1, 2] });
    class Bad extends Module {
      forward(x: Variable): Variable {
        ops.clamp(x, 0);
        throw new Error('bad forward');
      }
    }
    expect(() => traceModule(new Bad(), { inputShapes: [[3]] })).toThrow('bad forward');
    expect(attrsEnabled()).toBe(false);
    // setAttrsEnabled returns the previous setting; withAttrs leaves a node-less result alone.
    expect(setAttrsEnabled(true)).toBe(false);
    expect(setAttrsEnabled(false)).toBe(true);
    const plain = new Variable(new Tensor(Float32Array.of(1), [1]));
    expect(withAttrs(plain, { a: 1 })).toBe(plain);
    expect(plain.node).toBe(null);
  });
});
