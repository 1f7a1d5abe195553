// The four assignment networks of bench/lib/networks.ts (net000, net004, net001, net003) written as user
// modules over ops (conv2d, matmul, relu/tanh, maxPool2d, flatten) with their own Parameters, not the
// built-in layer modules: shared by bench/modules.ts and test/model/assignment-modules.test.ts.
import { Module } from '../../src/model/module.js';
import { Parameter } from '../../src/model/parameter.js';
import type { Sequential } from '../../src/model/sequential.js';
import * as ops from '../../src/ops/ops.js';
import type { Variable } from '../../src/ops/variable.js';
import { Rng } from '../../src/tensor/rng.js';
import { formatShape } from '../../src/tensor/tensor.js';
import type { NetName, NetSpec } from './networks.js';

// PyTorch's default Linear/Conv2d init (kaiming-uniform a = √5 for weights, U(±1/√fanIn) for biases),
// the same as the built-in Dense and Conv2D layers use.
function weightAndBias(shape: readonly number[], rng: Rng): [Parameter, Parameter] {
  const weight = Parameter.init(shape, { name: 'kaiming-uniform', a: Math.sqrt(5) }, rng);
  const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
  const bias = Parameter.init([shape[0]], 'fan-in-uniform', rng, { fanIn });
  return [weight, bias];
}

/** y = x·Wᵀ + b with W `[out, in]` (PyTorch layout, read transposed in place by gemm's flag). */
export class OpLinear extends Module {
  weight: Parameter;
  bias: Parameter;

  constructor(inFeatures: number, outFeatures: number, rng: Rng) {
    super();
    [this.weight, this.bias] = weightAndBias([outFeatures, inFeatures], rng);
  }

  forward(x: Variable): Variable {
    return ops.matmul(x, this.weight, { transB: true }).add(this.bias);
  }
}

/** A 3×3 convolution (the conv2d op, NCHW) with weight `[outC, inC, 3, 3]` and a bias. */
export class OpConv3x3 extends Module {
  weight: Parameter;
  bias: Parameter;
  readonly padding: number;

  constructor(inChannels: number, outChannels: number, padding: number, rng: Rng) {
    super();
    [this.weight, this.bias] = weightAndBias([outChannels, inChannels, 3, 3], rng);
    this.padding = padding;
  }

  forward(x: Variable): Variable {
    return ops.conv2d(x, this.weight, this.bias, { padding: this.padding });
  }
}

/** net000: conv 3×3 16 ReLU → conv 3×3 16 ReLU → flatten → linear 100 ReLU → linear 10. */
export class Net000 extends Module {
  conv1: OpConv3x3;
  conv2: OpConv3x3;
  fc1: OpLinear;
  fc2: OpLinear;

  constructor(rng: Rng) {
    super();
    this.conv1 = new OpConv3x3(1, 16, 0, rng);
    this.conv2 = new OpConv3x3(16, 16, 0, rng);
    this.fc1 = new OpLinear(16 * 24 * 24, 100, rng);
    this.fc2 = new OpLinear(100, 10, rng);
  }

  forward(x: Variable): Variable {
    const h = ops.relu(this.conv2.forward(ops.relu(this.conv1.forward(x))));
    return this.fc2.forward(ops.relu(this.fc1.forward(ops.flatten(h, 1))));
  }
}

/** net004: conv 3×3 32 pad 1 ReLU → conv 3×3 64 pad 1 → max-pool 2 → flatten → linear 10. */
export class Net004 extends Module {
  conv1: OpConv3x3;
  conv2: OpConv3x3;
  fc: OpLinear;

  constructor(rng: Rng) {
    super();
    this.conv1 = new OpConv3x3(1, 32, 1, rng);
    this.conv2 = new OpConv3x3(32, 64, 1, rng);
    this.fc = new OpLinear(64 * 14 * 14, 10, rng);
  }

  forward(x: Variable): Variable {
    const h = ops.maxPool2d(this.conv2.forward(ops.relu(this.conv1.forward(x))), { kernelSize: 2 });
    return this.fc.forward(ops.flatten(h, 1));
  }
}

/** net001: flatten → (linear 128, tanh) ×3 → linear 10. */
export class Net001 extends Module {
  hidden: OpLinear[];
  out: OpLinear;

  constructor(rng: Rng) {
    super();
    this.hidden = [new OpLinear(784, 128, rng), new OpLinear(128, 128, rng), new OpLinear(128, 128, rng)];
    this.out = new OpLinear(128, 10, rng);
  }

  forward(x: Variable): Variable {
    let h = ops.flatten(x, 1);
    for (const layer of this.hidden) h = ops.tanh(layer.forward(h));
    return this.out.forward(h);
  }
}

/** net003: conv 3×3 16 pad 1 ReLU → max-pool 2 → conv 3×3 4 pad 1 ReLU → max-pool 2 → flatten → linear 10. */
export class Net003 extends Module {
  conv1: OpConv3x3;
  conv2: OpConv3x3;
  fc: OpLinear;

  constructor(rng: Rng) {
    super();
    this.conv1 = new OpConv3x3(1, 16, 1, rng);
    this.conv2 = new OpConv3x3(16, 4, 1, rng);
    this.fc = new OpLinear(4 * 7 * 7, 10, rng);
  }

  forward(x: Variable): Variable {
    const h = ops.maxPool2d(ops.relu(this.conv1.forward(x)), { kernelSize: 2 });
    const g = ops.maxPool2d(ops.relu(this.conv2.forward(h)), { kernelSize: 2 });
    return this.fc.forward(ops.flatten(g, 1));
  }
}

const CLASSES: Record<NetName, new (rng: Rng) => Module> = { net000: Net000, net004: Net004, net001: Net001, net003: Net003 };

/** The op-based module of `spec`, seeded, compiled with the spec's optimizer, cross-entropy and accuracy. */
export function buildOpModule(spec: NetSpec, seed = 1): Module {
  const model = new CLASSES[spec.name](new Rng(seed));
  model.build(spec.inputShape);
  model.compile({ optimizer: { ...spec.optimizer }, loss: 'cross-entropy', metrics: ['accuracy'] });
  return model;
}

/**
 * Copies the Sequential's weights into the module, parameter by parameter in order (both list
 * weight then bias, layer by layer); throws naming the first pair whose shapes differ.
 */
export function copyWeights(from: Sequential, to: Module): void {
  const src = from.params();
  const dst = to.namedParameters();
  if (src.length !== dst.length) throw new Error(`copyWeights: the Sequential has ${src.length} parameters, the module ${dst.length}`);
  for (let i = 0; i < src.length; i++) {
    const [name, p] = dst[i];
    const a = src[i].value;
    if (a.shape.length !== p.value.shape.length || a.shape.some((d, j) => d !== p.value.shape[j])) {
      throw new Error(`copyWeights: ${src[i].name} ${formatShape(a.shape)} does not fit ${name} ${formatShape(p.value.shape)}`);
    }
    p.value.data.set(a.data);
  }
}
