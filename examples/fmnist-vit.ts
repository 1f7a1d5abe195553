// A tiny vision transformer on Fashion-MNIST, written as user modules from ops only (no built-in layer
// modules): patch embedding by reshape/permute + matmul, learned position embedding, pre-norm encoder blocks
// (multi-head self-attention from matmul/softmax, LayerNorm, GELU MLP, residuals), mean pooling, linear head.
// Run: npm run example:fmnist-vit  (or: npx tsx examples/fmnist-vit.ts --epochs 5; --quick for a seconds-long slice)
import {
  Module, Parameter, Rng, confusionMatrix, createOptimizer, formatConfusion, loadFashionMnist, ops,
  type Callback, type Optimizer, type Variable,
} from 'tensorkit';
import { UsageError, parseExampleArgs, readInt, readPositive, readRange, runIfMain } from './lib/cli.js';
import { writeClassifierRun } from './lib/classifier-run.js';
import { outputDir, percent, timed } from './lib/output.js';

const USAGE = `usage: npx tsx examples/fmnist-vit.ts [--epochs N] [--batch-size N] [--lr X] [--weight-decay X] [--dim N]
                                      [--depth N] [--heads N] [--patch N] [--seed N] [--out DIR] [--data DIR] [--quick]
  --dim     token width (default 48); --heads must divide it (default 4)
  --depth   encoder blocks (default 3)
  --patch   patch side in pixels, dividing 28 (default 7: 16 tokens of 49 pixels)
  --quick   2000 training / 500 test images, 1 epoch, dim 32, depth 2 (seconds)`;

/**
 * y = x·Wᵀ + b over the last axis of x (`[..., in]` → `[..., out]`), from the matmul op. W is stored
 * `[out, in]` as in PyTorch (read transposed in place by gemm's flag), Xavier-uniform; b starts at zero.
 */
export class Dense extends Module {
  weight: Parameter;
  bias: Parameter;

  constructor(inFeatures: number, outFeatures: number, rng: Rng) {
    super();
    this.weight = Parameter.init([outFeatures, inFeatures], 'xavier-uniform', rng);
    this.bias = Parameter.zeros([outFeatures], { decayMul: 0 });
  }

  forward(x: Variable): Variable {
    return ops.matmul(x, this.weight, { transB: true }).add(this.bias);
  }
}

/** LayerNorm over the last axis (the layerNorm op) with a learned scale and shift, both exempt from weight decay. */
export class LayerNorm extends Module {
  weight: Parameter;
  bias: Parameter;

  constructor(dim: number) {
    super();
    this.weight = Parameter.ones([dim], { decayMul: 0 });
    this.bias = Parameter.zeros([dim], { decayMul: 0 });
  }

  forward(x: Variable): Variable {
    return ops.layerNorm(x, this.weight.shape[0], this.weight, this.bias, 1e-5);
  }
}

/**
 * Multi-head self-attention over `[N, T, D]`: one projection to queries, keys and values `[N, T, 3D]`,
 * split into `heads` heads of D/heads, softmax(q·kᵀ/√dₕ)·v per head, heads concatenated, output projection.
 */
export class SelfAttention extends Module {
  qkv: Dense;
  proj: Dense;
  readonly heads: number;

  constructor(dim: number, heads: number, rng: Rng) {
    super();
    this.qkv = new Dense(dim, 3 * dim, rng);
    this.proj = new Dense(dim, dim, rng);
    this.heads = heads;
  }

  forward(x: Variable): Variable {
    const [n, t, d] = x.shape;
    const h = this.heads;
    const dh = d / h;
    // [N, T, 3D] → [N, T, 3, H, dh] → [3, N, H, T, dh]: q, k and v as [N, H, T, dh] batches of matrices.
    const qkv = ops.permute(this.qkv.forward(x).reshape([n, t, 3, h, dh]), [2, 0, 3, 1, 4]);
    const q = ops.select(qkv, 0, 0);
    const k = ops.select(qkv, 0, 1);
    const v = ops.select(qkv, 0, 2);
    const attention = ops.softmax(ops.matmul(q, k, { transB: true }).mul(1 / Math.sqrt(dh)), -1); // [N, H, T, T]
    const heads = ops.matmul(attention, v); // [N, H, T, dh]
    return this.proj.forward(ops.permute(heads, [0, 2, 1, 3]).reshape([n, t, d]));
  }
}

/** Pre-norm encoder block: x + attention(LN(x)), then + MLP(LN(·)) with a GELU hidden layer of `mlpRatio`·D. */
export class EncoderBlock extends Module {
  norm1: LayerNorm;
  attention: SelfAttention;
  norm2: LayerNorm;
  fc1: Dense;
  fc2: Dense;

  constructor(dim: number, heads: number, mlpRatio: number, rng: Rng) {
    super();
    this.norm1 = new LayerNorm(dim);
    this.attention = new SelfAttention(dim, heads, rng);
    this.norm2 = new LayerNorm(dim);
    this.fc1 = new Dense(dim, mlpRatio * dim, rng);
    this.fc2 = new Dense(mlpRatio * dim, dim, rng);
  }

  forward(x: Variable): Variable {
    const h = x.add(this.attention.forward(this.norm1.forward(x)));
    return h.add(this.fc2.forward(ops.gelu(this.fc1.forward(this.norm2.forward(h)))));
  }
}

/** Options of {@link VisionTransformer}. */
export interface VitOptions {
  /** Square image side in pixels (28). */
  readonly imageSize: number;
  /** Patch side in pixels; must divide imageSize. */
  readonly patch: number;
  /** Token width D. */
  readonly dim: number;
  /** Encoder blocks. */
  readonly depth: number;
  /** Attention heads; must divide dim. */
  readonly heads: number;
  /** MLP hidden width as a multiple of dim. */
  readonly mlpRatio: number;
  readonly classes: number;
  /** Seed of the weight initialisation. */
  readonly seed: number;
}

/**
 * Single-channel images `[N, 1, S, S]` → P² patches of p×p pixels, each embedded linearly to D, plus a
 * learned position embedding → `depth` encoder blocks → LayerNorm → mean over tokens → linear head (logits).
 */
export class VisionTransformer extends Module {
  patchEmbed: Dense;
  position: Parameter;
  blocks: EncoderBlock[];
  norm: LayerNorm;
  head: Dense;
  readonly grid: number;
  readonly patch: number;

  constructor(options: VitOptions) {
    super({ ...options });
    const { imageSize, patch, dim, depth, heads, mlpRatio, classes, seed } = options;
    if (!Number.isInteger(patch) || patch < 1 || imageSize % patch !== 0) throw new RangeError(`VisionTransformer: patch must divide the image side ${imageSize}, got ${patch}`);
    if (!Number.isInteger(heads) || heads < 1 || dim % heads !== 0) throw new RangeError(`VisionTransformer: heads must divide dim ${dim}, got ${heads}`);
    const rng = new Rng(seed);
    this.grid = imageSize / patch;
    this.patch = patch;
    this.patchEmbed = new Dense(patch * patch, dim, rng);
    this.position = Parameter.init([this.grid * this.grid, dim], { name: 'random-normal', std: 0.02 }, rng, { decayMul: 0 });
    this.blocks = [];
    for (let i = 0; i < depth; i++) this.blocks.push(new EncoderBlock(dim, heads, mlpRatio, rng));
    this.norm = new LayerNorm(dim);
    this.head = new Dense(dim, classes, rng);
  }

  forward(x: Variable): Variable {
    const n = x.shape[0];
    const g = this.grid;
    const p = this.patch;
    // [N, 1, g·p, g·p] → [N, g, p, g, p] → [N, g, g, p, p] → [N, g², p²]: row-major patches, each flattened.
    const patches = ops.permute(x.reshape([n, g, p, g, p]), [0, 1, 3, 2, 4]).reshape([n, g * g, p * p]);
    let h = this.patchEmbed.forward(patches).add(this.position); // [N, T, D] + [T, D] broadcasts
    for (const block of this.blocks) h = block.forward(h);
    return this.head.forward(ops.mean(this.norm.forward(h), 1)); // mean pooling over tokens → [N, D] → [N, classes]
  }
}

/**
 * Per-step learning rate: linear warmup from 0 to `peak` over `warmup` steps, then cosine decay to
 * `peak`·`floor` at the last step. Set after every batch (so step s+1 uses the rate of s+1).
 */
export function warmupCosine(optimizer: Optimizer & { lr: number }, peak: number, warmup: number, total: number, floor = 0.01): Callback {
  const rate = (step: number): number => {
    if (step < warmup) return peak * (step + 1) / warmup;
    const t = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
    return peak * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * t)));
  };
  optimizer.lr = rate(0);
  return {
    onBatchEnd(logs) {
      optimizer.lr = rate(logs.step);
    },
  };
}

/** Trains the ViT and writes its results into `--out`; returns the metrics written. */
export async function main(argv: string[]): Promise<Record<string, unknown>> {
  const { values, common, help } = parseExampleArgs('fmnist-vit', argv, {
    epochs: { type: 'string' },
    'batch-size': { type: 'string', default: '128' },
    lr: { type: 'string', default: '0.002' },
    'weight-decay': { type: 'string', default: '0.05' },
    dim: { type: 'string' },
    depth: { type: 'string' },
    heads: { type: 'string', default: '4' },
    patch: { type: 'string', default: '7' },
  });
  if (help) {
    console.log(USAGE);
    return {};
  }
  const { seed, quick } = common;
  const epochs = readInt('epochs', values.epochs ?? (quick ? '1' : '5'));
  const batchSize = readInt('batch-size', values['batch-size']);
  const lr = readPositive('lr', values.lr);
  const weightDecay = readRange('weight-decay', values['weight-decay'], 0, 1);
  const dim = readInt('dim', values.dim ?? (quick ? '32' : '48'));
  const depth = readInt('depth', values.depth ?? (quick ? '2' : '3'));
  const heads = readInt('heads', values.heads);
  const patch = readInt('patch', values.patch);
  if (28 % patch !== 0) throw new UsageError(`--patch must divide 28 (1, 2, 4, 7, 14 or 28), got ${patch}`);
  if (dim % heads !== 0) throw new UsageError(`--heads must divide --dim ${dim}, got ${heads}`);
  const out = outputDir(common.out);

  const t0 = performance.now();
  const { train, test, classNames } = loadFashionMnist({ dir: common.data, ...(quick ? { trainLimit: 2000, testLimit: 500 } : {}) });
  console.log(`Fashion-MNIST: ${train.images.shape[0]} train, ${test.images.shape[0]} test images`);

  const config = { imageSize: 28, patch, dim, depth, heads, mlpRatio: 2, classes: classNames.length, seed };
  const model = new VisionTransformer(config);
  model.build([1, 28, 28], { seed });
  // AdamW: Adam with decoupled weight decay (biases, norms and the position embedding exempt).
  const optimizer = createOptimizer('adam', { lr, weightDecay, decoupledWeightDecay: true }) as Optimizer & { lr: number };
  const steps = epochs * Math.ceil(train.images.shape[0] / batchSize);
  const schedule = warmupCosine(optimizer, lr, Math.min(Math.round(steps / 10), 500), steps);
  model.compile({ optimizer, loss: 'cross-entropy', metrics: ['accuracy'] });
  console.log(`ViT: ${(28 / patch) ** 2} tokens of ${patch}×${patch}, dim ${dim}, depth ${depth}, ${heads} heads, ${model.countParams()} parameters`);

  const { result: history, seconds: trainSeconds } = await timed(() => model.fit(train.images, train.labels, {
    epochs, batchSize, seed, verbose: true, callbacks: [schedule], validationData: [test.images, test.labels],
  }));
  const { result: testEval, seconds: testSeconds } = await timed(() => model.evaluate(test.images, test.labels));
  const predicted = model.predictClasses(test.images);
  const matrix = confusionMatrix(predicted, test.labels, classNames.length);
  console.log(`test accuracy ${percent(testEval.accuracy)}  loss ${testEval.loss.toFixed(4)}  (target ≥ 85%)`);
  console.log(formatConfusion(matrix, classNames));
  console.log(`training ${trainSeconds.toFixed(1)} s for ${epochs} epoch(s), test ${testSeconds.toFixed(1)} s, total ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  // Mean training loss of the first and of the last ten batches: the quick test checks that it falls.
  const batchLoss = history.batch.loss;
  const meanOf = (v: readonly number[]): number => v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
  const result = {
    example: 'fmnist-vit', quick, epochs, batchSize, lr, weightDecay, patch, dim, depth, heads, mlpRatio: config.mlpRatio, seed,
    trainImages: train.images.shape[0], testImages: test.images.shape[0],
    testAccuracy: testEval.accuracy, testLoss: testEval.loss, trainSeconds, testSeconds,
    firstBatchesLoss: meanOf(batchLoss.slice(0, 10)), lastBatchesLoss: meanOf(batchLoss.slice(-10)),
    params: model.countParams(), node: process.version, history: history.epoch, confusion: matrix,
  };
  await writeClassifierRun(out, {
    model: 'Fashion-MNIST ViT',
    title: 'fmnist-vit: a tiny vision transformer written as user modules from ops',
    description: 'Patch embedding (reshape/permute + matmul) + learned positions → pre-norm encoder blocks (multi-head self-attention, GELU MLP) → LayerNorm → mean pooling → linear; AdamW with linear warmup and cosine decay per step.',
    params: { epochs, batchSize, lr, weightDecay, patch, dim, depth, heads, seed, quick, params: result.params },
    metrics: result, history, confusion: matrix, classNames, test: testEval, trainSeconds, testSeconds,
  });
  return result;
}

await runIfMain(import.meta.url, main);
