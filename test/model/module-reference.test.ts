// A residual block and a transformer-ish block, written as user modules, trained 3 steps against
// PyTorch 1.13 (test/reference/module_blocks.py, float64): the same losses and final state dicts within 1e-5.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Module, Parameter, Tensor, Variable, nn, ops, tensor } from '../../src/index.js';

interface Arr { shape: number[]; data: number[] }
interface Case { name: string; input: Arr; target: number[]; initial: Record<string, Arr>; losses: number[]; final: Record<string, Arr> }
const ref = JSON.parse(readFileSync(new URL('../reference/module_blocks.json', import.meta.url), 'utf8')) as { cases: Case[] };
const byName = (name: string) => ref.cases.find((c) => c.name === name) as Case;
const toTensor = (a: Arr) => tensor(a.data, a.shape);

class Residual extends Module {
  conv1 = new nn.Conv2d(3, 3, 3, { padding: 1 });
  bn1 = new nn.BatchNorm2d(3);
  conv2 = new nn.Conv2d(3, 3, 3, { padding: 1 });
  bn2 = new nn.BatchNorm2d(3);
  forward(x: Variable): Variable {
    const h = ops.relu(this.bn1.forward(this.conv1.forward(x)));
    return ops.relu(this.bn2.forward(this.conv2.forward(h)).add(x));
  }
}

class ResNet extends Module {
  stem = new nn.Conv2d(1, 3, 3, { padding: 1 });
  block = new Residual();
  flat = new nn.Flatten();
  head = new nn.Linear(3 * 5 * 5, 4);
  forward(x: Variable): Variable {
    return this.head.forward(this.flat.forward(this.block.forward(ops.relu(this.stem.forward(x)))));
  }
}

/** LayerNorm over the last axis from ops: (x − mean) / √(biased var + eps) · weight + bias. */
class LayerNorm extends Module {
  weight: Parameter;
  bias: Parameter;
  constructor(d: number) {
    super();
    this.weight = Parameter.ones([d]);
    this.bias = Parameter.zeros([d]);
  }
  forward(x: Variable): Variable {
    const c = x.sub(x.mean(-1, { keepDims: true }));
    const v = c.mul(c).mean(-1, { keepDims: true });
    return c.div(v.add(1e-5).sqrt()).mul(this.weight).add(this.bias);
  }
}

class Head extends Module {
  q: nn.Linear;
  k: nn.Linear;
  v: nn.Linear;
  out: nn.Linear;
  constructor(d: number, dh: number) {
    super();
    this.q = new nn.Linear(d, dh);
    this.k = new nn.Linear(d, dh);
    this.v = new nn.Linear(d, dh);
    this.out = new nn.Linear(dh, d, { bias: false });
  }
  forward(x: Variable): Variable {
    const q = this.q.forward(x);
    const a = ops.softmax(q.matmul(this.k.forward(x).t()).div(Math.sqrt(q.shape[1])));
    return this.out.forward(a.matmul(this.v.forward(x)));
  }
}

class Transformer extends Module {
  norm1 = new LayerNorm(8);
  heads = [new Head(8, 4), new Head(8, 4)];
  proj_bias = Parameter.zeros([8]);
  norm2 = new LayerNorm(8);
  fc1 = new nn.Linear(8, 16);
  fc2 = new nn.Linear(16, 8);
  cls = new nn.Linear(8, 3);
  forward(x: Variable): Variable {
    let t = x.reshape([x.shape[1], x.shape[2]]);
    const h = this.norm1.forward(t);
    let att = this.heads[0].forward(h);
    for (const head of this.heads.slice(1)) att = att.add(head.forward(h));
    t = t.add(att).add(this.proj_bias);
    t = t.add(this.fc2.forward(ops.gelu(this.fc1.forward(this.norm2.forward(t)))));
    return this.cls.forward(t);
  }
}

function check(model: Module, c: Case, optimizer: Record<string, unknown> & { name: string }): void {
  const x = toTensor(c.input);
  model.build([x.shape.slice(1)]);
  const initial: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(c.initial)) initial[k] = toTensor(v);
  model.loadStateDict(initial);
  model.compile({ optimizer, loss: 'cross-entropy' });
  const losses: number[] = [];
  if (x.shape[0] === 1) {
    // One sequence whose T tokens each get a label: the trainable adapter feeds one input, so step by hand.
    const opt = model.asTrainable().requireCompiled('step').optimizer;
    for (let s = 0; s < 3; s++) {
      model.zeroGrad();
      const loss = ops.crossEntropy(model.forward(new Variable(x)) as Variable, c.target);
      loss.backward();
      opt.step(model.params());
      losses.push(loss.item());
    }
  } else {
    const y = new Tensor(Float32Array.from(c.target), [c.target.length]);
    for (let s = 0; s < 3; s++) losses.push(model.trainStep(x, y).loss);
  }
  for (let s = 0; s < 3; s++) expect(Math.abs(losses[s] - c.losses[s]), `loss ${s}`).toBeLessThan(1e-5);
  const sd = model.stateDict();
  expect(Object.keys(sd).sort()).toEqual(Object.keys(c.final).sort());
  let worst = 0;
  let where = '';
  for (const [k, v] of Object.entries(c.final)) {
    for (let i = 0; i < v.data.length; i++) {
      const err = Math.abs(sd[k].data[i] - v.data[i]);
      if (err > worst) {
        worst = err;
        where = `${k}[${i}]`;
      }
    }
  }
  expect(worst, `largest difference at ${where}`).toBeLessThan(1e-5);
}

describe('user modules against PyTorch 1.13, 3 training steps', () => {
  it('residual block (conv, batch norm, skip) with SGD momentum', () => {
    check(new ResNet(), byName('residual'), { name: 'momentum', lr: 0.1, momentum: 0.9 });
  });

  it('transformer block (LayerNorm from ops, two attention heads, GELU MLP, residuals) with Adam + weight decay', () => {
    check(new Transformer(), byName('transformer'), { name: 'adam', lr: 0.01, weightDecay: 1e-2 });
  });
});
