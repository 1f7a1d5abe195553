// The four assignment networks of issue 7 (net000, net004, net001, net003) as tensorkit models, with
// their optimizer and batch size, plus seeded random inputs: shared by bench/train-step.ts,
// bench/compare-tfjs.ts, bench/epoch.ts and test/perf/allocation.test.ts.
import { Conv2D } from '../../src/layers/conv2d.js';
import { Dense } from '../../src/layers/dense.js';
import { Flatten } from '../../src/layers/flatten.js';
import { Tanh, ReLU } from '../../src/layers/activations.js';
import type { Layer } from '../../src/layers/layer.js';
import { MaxPool2D } from '../../src/layers/pooling.js';
import { Sequential } from '../../src/model/sequential.js';
import { Rng } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';
import '../../src/optimizers/index.js';
import '../../src/losses/index.js';

/** Name of one of the assignment networks. */
export type NetName = 'net000' | 'net004' | 'net001' | 'net003';

/** One assignment network: its architecture line, batch size, optimizer and tensorkit builder. */
export interface NetSpec {
  readonly name: NetName;
  /** The architecture as the issue writes it. */
  readonly description: string;
  readonly batch: number;
  /** Per-sample input shape, `[1, 28, 28]` for all four. */
  readonly inputShape: readonly number[];
  /** The optimizer spec passed to `compile` (registry name + config). */
  readonly optimizer: { readonly name: string; readonly [option: string]: string | number };
  /** The tensorkit layers (fresh instances on each call). */
  layers(): Layer[];
}

const INPUT = [1, 28, 28] as const;

/** The four networks, in the order. */
export const NETWORKS: readonly NetSpec[] = [
  {
    name: 'net000',
    description: 'Conv 3×3 16 ReLU → Conv 3×3 16 ReLU → Flatten → Dense 100 ReLU → Dense 10; SGD momentum; batch 32',
    batch: 32,
    inputShape: INPUT,
    optimizer: { name: 'momentum', lr: 1e-3, momentum: 0.9 },
    layers: () => [
      new Conv2D({ filters: 16, kernelSize: 3 }), new ReLU(),
      new Conv2D({ filters: 16, kernelSize: 3 }), new ReLU(),
      new Flatten(), new Dense({ units: 100 }), new ReLU(), new Dense({ units: 10 }),
    ],
  },
  {
    name: 'net004',
    description: 'Conv 3×3 32 pad 1 ReLU → Conv 3×3 64 pad 1 → MaxPool 2 → Flatten → Dense 10; SGD; batch 64',
    batch: 64,
    inputShape: INPUT,
    optimizer: { name: 'sgd', lr: 0.01 },
    layers: () => [
      new Conv2D({ filters: 32, kernelSize: 3, padding: 1 }), new ReLU(),
      new Conv2D({ filters: 64, kernelSize: 3, padding: 1 }), new MaxPool2D({ poolSize: 2 }),
      new Flatten(), new Dense({ units: 10 }),
    ],
  },
  {
    name: 'net001',
    description: 'MLP 784 → 128 tanh ×3 → 10; Adam; batch 64',
    batch: 64,
    inputShape: INPUT,
    optimizer: { name: 'adam', lr: 1e-3 },
    layers: () => [
      new Flatten(),
      new Dense({ units: 128 }), new Tanh(),
      new Dense({ units: 128 }), new Tanh(),
      new Dense({ units: 128 }), new Tanh(),
      new Dense({ units: 10 }),
    ],
  },
  {
    name: 'net003',
    description: 'Conv 3×3 16 pad 1 ReLU → MaxPool 2 → Conv 3×3 4 pad 1 ReLU → MaxPool 2 → Flatten → Dense 10; Adam; batch 100',
    batch: 100,
    inputShape: INPUT,
    optimizer: { name: 'adam', lr: 1e-3 },
    layers: () => [
      new Conv2D({ filters: 16, kernelSize: 3, padding: 1 }), new ReLU(), new MaxPool2D({ poolSize: 2 }),
      new Conv2D({ filters: 4, kernelSize: 3, padding: 1 }), new ReLU(), new MaxPool2D({ poolSize: 2 }),
      new Flatten(), new Dense({ units: 10 }),
    ],
  },
];

/** The spec of one network by name; throws naming the known ones. */
export function network(name: string): NetSpec {
  const spec = NETWORKS.find((n) => n.name === name);
  if (spec === undefined) throw new Error(`unknown network ${JSON.stringify(name)}; known: ${NETWORKS.map((n) => n.name).join(', ')}`);
  return spec;
}

/** A compiled tensorkit model of `spec` (cross-entropy on logits, accuracy metric), seeded. */
export function buildModel(spec: NetSpec, seed = 1): Sequential {
  const model = new Sequential(spec.layers(), { inputShape: spec.inputShape, seed });
  model.compile({ optimizer: { ...spec.optimizer }, loss: 'cross-entropy', metrics: ['accuracy'] });
  return model;
}

/** A seeded batch: images `[batch, 1, 28, 28]` uniform in [0, 1) and class ids `[batch]` in 0…9. */
export function randomBatch(spec: NetSpec, seed = 2): { x: Tensor; y: Tensor } {
  const rng = new Rng(seed);
  const per = spec.inputShape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(spec.batch * per);
  for (let i = 0; i < x.length; i++) x[i] = rng.uniform(0, 1);
  const y = new Float32Array(spec.batch);
  for (let i = 0; i < y.length; i++) y[i] = rng.int(10);
  return { x: new Tensor(x, [spec.batch, ...spec.inputShape]), y: new Tensor(y, [spec.batch]) };
}
