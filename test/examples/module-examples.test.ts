// The examples whose models are user modules (fmnist-resnet, fmnist-vit), run in --quick mode into a
// temp folder: the loss falls, accuracy clears a loose floor on the slice, and the output files exist.
// The examples are imported (not spawned with tsx) so that 'tensorkit' resolves to the source tree.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor, Variable, ops, parseCsv, tensor } from '../../src/index.js';
import { ResNet, main as fmnistResnet } from '../../examples/fmnist-resnet.js';
import { VisionTransformer, main as fmnistVit } from '../../examples/fmnist-vit.js';

interface Arr { shape: number[]; data: number[] }
const toTensor = (a: Arr): Tensor => tensor(a.data, a.shape);

const root = mkdtempSync(join(tmpdir(), 'tensorkit-module-examples-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

/** The files every example writes, and metrics.json holding what main returned. */
function expectOutputs(out: string, result: Record<string, unknown>): void {
  for (const file of ['metrics.json', 'history.csv', 'confusion.txt', 'curves.svg', 'confusion.svg', 'report.html']) {
    expect(existsSync(join(out, file)), file).toBe(true);
  }
  const metrics = readJson(join(out, 'metrics.json'));
  expect(metrics.testAccuracy).toBe(result.testAccuracy);
  expect((metrics.confusion as number[][]).flat().reduce((a, b) => a + b, 0)).toBe(500);
  expect(parseCsv(readFileSync(join(out, 'history.csv'), 'utf8'))).toHaveLength(2);
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  for (const chart of ['curves.svg', 'confusion.svg']) expect(html).toContain(`data-file="${chart}"`);
}

describe('module examples (--quick)', () => {
  it('fmnist-resnet: one epoch on 2000 images learns (loss below ln 10, accuracy well above chance)', async () => {
    const out = join(root, 'fmnist-resnet');
    const result = await fmnistResnet(['--quick', '--out', out]);
    expect(result).toMatchObject({ example: 'fmnist-resnet', quick: true, epochs: 1, width: 8, trainImages: 2000, testImages: 500 });
    const history = result.history as { loss: number[]; valLoss: number[] };
    // Chance is 10% and an untrained net's loss ≈ ln 10 = 2.303. One epoch of 32 Adam steps (seed 0, so the run
    // is deterministic): epoch-mean training loss 1.97, test loss 1.64 and 38.2% test accuracy.
    expect(history.loss[0]).toBeLessThan(0.9 * Math.log(10));
    expect(history.valLoss[0]).toBeLessThan(0.8 * Math.log(10));
    expect(result.testAccuracy).toBeGreaterThan(0.3);
    expectOutputs(out, result);
  });

  it('fmnist-vit: one epoch on 2000 images learns (batch loss falls, accuracy well above chance)', async () => {
    const out = join(root, 'fmnist-vit');
    const result = await fmnistVit(['--quick', '--out', out]);
    expect(result).toMatchObject({ example: 'fmnist-vit', quick: true, epochs: 1, dim: 32, depth: 2, patch: 7, trainImages: 2000, testImages: 500 });
    // Warmup then cosine over 16 steps: the first ten batches sit near ln 10, the last ten ~1.5; the test ~50%.
    expect(result.firstBatchesLoss).toBeGreaterThan(2);
    expect(result.lastBatchesLoss as number).toBeLessThan((result.firstBatchesLoss as number) - 0.4);
    expect(result.testAccuracy).toBeGreaterThan(0.3);
    expectOutputs(out, result);
  });

  it('the models are modules with PyTorch-style parameter names and logits of the right shape', async () => {
    const vit = new VisionTransformer({ imageSize: 28, patch: 7, dim: 16, depth: 1, heads: 2, mlpRatio: 2, classes: 10, seed: 0 });
    expect(vit.namedParameters().map(([n]) => n)).toEqual([
      'position', 'patchEmbed.weight', 'patchEmbed.bias', // own parameters first, then sub-modules' (as PyTorch)
      'blocks.0.norm1.weight', 'blocks.0.norm1.bias', 'blocks.0.attention.qkv.weight', 'blocks.0.attention.qkv.bias',
      'blocks.0.attention.proj.weight', 'blocks.0.attention.proj.bias', 'blocks.0.norm2.weight', 'blocks.0.norm2.bias',
      'blocks.0.fc1.weight', 'blocks.0.fc1.bias', 'blocks.0.fc2.weight', 'blocks.0.fc2.bias',
      'norm.weight', 'norm.bias', 'head.weight', 'head.bias',
    ]);
    // 16 patches of 49 pixels: embed 49·16+16, position 16·16, block: 2·(2·16) norms + qkv 16·48+48 + proj 16·16+16
    // + fc1 16·32+32 + fc2 32·16+16, final norm 2·16, head 16·10+10.
    expect(vit.countParams()).toBe(800 + 256 + 64 + 816 + 272 + 544 + 528 + 32 + 170);
    const x = new Variable(tensor(Array.from({ length: 3 * 784 }, (_, i) => Math.sin(i)), [3, 1, 28, 28]));
    expect((vit.forward(x) as Variable).shape).toEqual([3, 10]);
    expect(() => new VisionTransformer({ imageSize: 28, patch: 5, dim: 16, depth: 1, heads: 2, mlpRatio: 2, classes: 10, seed: 0 })).toThrow(/patch must divide the image side 28, got 5/);
    expect(() => new VisionTransformer({ imageSize: 28, patch: 7, dim: 16, depth: 1, heads: 3, mlpRatio: 2, classes: 10, seed: 0 })).toThrow(/heads must divide dim 16, got 3/);
    // The command line rejects them before loading any data, as usage errors.
    await expect(fmnistVit(['--quick', '--patch', '5'])).rejects.toThrow(/--patch must divide 28 .*got 5/);
    await expect(fmnistVit(['--quick', '--heads', '3'])).rejects.toThrow(/--heads must divide --dim 32, got 3/);
    const resnet = new ResNet(4).build([1, 28, 28], { seed: 0 });
    expect(resnet.namedParameters().map(([n]) => n)).toContain('blocks.2.shortcut.conv.weight');
  });

  it('the ViT equals PyTorch 1.13: logits, loss and every gradient (test/reference/vit_tiny.py, float64)', () => {
    const ref = readJson(new URL('../reference/vit_tiny.json', import.meta.url).pathname) as unknown as {
      config: { imageSize: number; patch: number; dim: number; heads: number; depth: number; mlpRatio: number; classes: number };
      input: Arr; target: number[]; initial: Record<string, Arr>; logits: Arr; loss: number; grads: Record<string, Arr>;
    };
    const vit = new VisionTransformer({ ...ref.config, seed: 0 });
    const initial: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(ref.initial)) initial[k] = toTensor(v);
    vit.loadStateDict(initial);
    const logits = vit.forward(new Variable(toTensor(ref.input))) as Variable;
    const loss = ops.crossEntropy(logits, ref.target);
    loss.backward();
    // float32 against float64 references: logits and loss within 1e-5, each gradient within 1e-5 of its
    // largest entry (measured: at most 6.3e-7; a 0.5% gradient error is 500× the tolerance).
    for (let i = 0; i < ref.logits.data.length; i++) expect(Math.abs(logits.value.data[i] - ref.logits.data[i]), `logit ${i}`).toBeLessThan(1e-5);
    expect(Math.abs(loss.item() - ref.loss)).toBeLessThan(1e-5);
    const named = new Map(vit.namedParameters());
    expect([...named.keys()].sort()).toEqual(Object.keys(ref.grads).sort());
    for (const [name, g] of Object.entries(ref.grads)) {
      const got = (named.get(name) as { grad: Tensor }).grad.data;
      const scale = Math.max(1e-3, ...g.data.map(Math.abs));
      let err = 0;
      for (let i = 0; i < g.data.length; i++) err = Math.max(err, Math.abs(got[i] - g.data[i]));
      if (process.env.SHOW_ERRORS) console.log(name, (err / scale).toExponential(2));
      expect(err / scale, `gradient of ${name}`).toBeLessThan(1e-5);
    }
  });
});
