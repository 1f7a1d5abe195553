// Model files of user modules: the registered class name, its config and input shapes in the
// architecture JSON, weights under attribute paths; save → load → same predictions and training continues
// exactly; clear errors for unregistered classes and weights that do not fit.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Checkpoint, Module, ModelFileError, Rng, Tensor, Variable, decodeModel, encodeModel, loadModel, nn, ops, randn, readSafetensorsMetadata,
  registerModule, saveModel, createOptimizer,
} from '../../src/index.js';

class TinyRes extends Module {
  conv1: nn.Conv2d;
  bn: nn.BatchNorm2d;
  conv2: nn.Conv2d;
  head: nn.Linear;
  flat = new nn.Flatten();
  constructor(config: { channels?: number } = {}) {
    super(config);
    const c = config.channels ?? 2;
    this.conv1 = new nn.Conv2d(1, c, 3, { padding: 1 });
    this.bn = new nn.BatchNorm2d(c);
    this.conv2 = new nn.Conv2d(c, c, 3, { padding: 1 });
    this.head = new nn.Linear(c * 16, 3);
  }
  forward(x: Variable): Variable {
    const h = ops.relu(this.bn.forward(this.conv1.forward(x)));
    return this.head.forward(this.flat.forward(ops.relu(this.conv2.forward(h).add(h))));
  }
}
registerModule('tiny-res', TinyRes as unknown as new (c: Record<string, unknown>) => Module);

const dir = mkdtempSync(join(tmpdir(), 'tensorkit-module-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const labels = new Tensor(Float32Array.from([0, 1, 2, 1]), [4]);

function trained(): { model: TinyRes; x: Tensor } {
  const model = new TinyRes({ channels: 3 }).build([1, 4, 4], { seed: 2 });
  const rng = new Rng(3);
  const x = randn([4, 1, 4, 4], rng);
  model.compile({ optimizer: { name: 'adam', lr: 0.01 }, loss: 'cross-entropy' });
  for (let i = 0; i < 2; i++) model.trainStep(x, labels);
  return { model, x };
}

/** A copy of `bytes` with the first occurrence of ASCII `from` replaced by `to` (same length). */
function replaceBytes(bytes: Uint8Array, from: string, to: string): Uint8Array {
  const f = new TextEncoder().encode(from);
  const t = new TextEncoder().encode(to);
  const out = bytes.slice();
  for (let i = 0; i + f.length <= out.length; i++) {
    if (f.every((b, j) => out[i + j] === b)) {
      out.set(t, i);
      return out;
    }
  }
  throw new Error(`replaceBytes: ${from} not found`);
}

describe('model files of user modules', () => {
  it('save → load gives the same predictions, state dict and optimizer; training continues exactly', () => {
    const { model, x } = trained();
    const bytes = encodeModel(model, { optimizer: model.asTrainable().optimizer ?? undefined, trainingState: { epoch: 0, step: 2 } });
    const loaded = decodeModel<TinyRes>(bytes);
    expect(loaded.model).toBeInstanceOf(TinyRes);
    expect(loaded.model.getConfig()).toEqual({ channels: 3 });
    expect(loaded.model.predict(x).data).toEqual(model.predict(x).data);
    const a = model.stateDict();
    const b = loaded.model.stateDict();
    expect(Object.keys(b)).toEqual(Object.keys(a));
    for (const k of Object.keys(a)) expect(b[k].data, k).toEqual(a[k].data);
    expect(loaded.trainingState).toEqual({ epoch: 0, step: 2 });
    // One more step on each: identical weights (the Adam moments and step count came back).
    loaded.model.compile({ optimizer: loaded.optimizer ?? createOptimizer('adam'), loss: 'cross-entropy' });
    model.trainStep(x, labels);
    loaded.model.trainStep(x, labels);
    const a2 = model.stateDict();
    const b2 = loaded.model.stateDict();
    for (const k of Object.keys(a2)) expect(b2[k].data, k).toEqual(a2[k].data);
  });

  it('records the class name, config and input shapes, through saveModel / loadModel', () => {
    const { model, x } = trained();
    const path = join(dir, 'tiny.safetensors');
    saveModel(model, path);
    expect(JSON.parse(readSafetensorsMetadata(path).architecture)).toEqual({ module: 'tiny-res', config: { channels: 3 }, inputShapes: [[1, 4, 4]] });
    expect(loadModel<TinyRes>(path).model.predict(x).data).toEqual(model.predict(x).data);
  });

  it('a Checkpoint of a user module with dropout resumes to the same weights as an uninterrupted fit', async () => {
    class Dropper extends Module {
      fc = new nn.Linear(6, 8);
      drop = new nn.Dropout(0.3);
      out = new nn.Linear(8, 3);
      constructor(config: Record<string, unknown> = {}) {
        super(config);
      }
      forward(x: Variable): Variable {
        return this.out.forward(this.drop.forward(ops.tanh(this.fc.forward(x))));
      }
    }
    registerModule('dropper', Dropper);
    const rng = new Rng(4);
    const x = randn([24, 6], rng);
    const y = new Tensor(Float32Array.from({ length: 24 }, (_, i) => i % 3), [24]);
    const make = () => {
      const m = new Dropper().build([6], { seed: 9 });
      m.compile({ optimizer: { name: 'adam', lr: 0.01 }, loss: 'cross-entropy' });
      return m;
    };
    const whole = make();
    await whole.fit(x, y, { epochs: 3, batchSize: 5, seed: 1 });
    const ckdir = join(dir, 'ck');
    const first = make();
    await first.fit(x, y, { epochs: 1, batchSize: 5, seed: 1, callbacks: [new Checkpoint(first, { dir: ckdir })] });
    const loaded = loadModel<Dropper>(join(ckdir, 'last.safetensors'));
    const resumed = loaded.model;
    resumed.compile({ optimizer: loaded.optimizer ?? 'adam', loss: 'cross-entropy' });
    await resumed.fit(x, y, { epochs: 3, batchSize: 5, seed: 1, resumeFrom: loaded.trainingState as never });
    const a = whole.stateDict();
    const b = resumed.stateDict();
    for (const k of Object.keys(a)) expect(b[k].data, k).toEqual(a[k].data);
  });

  it('fails clearly: an unregistered class, a name the reader does not know, weights that do not fit', () => {
    class Unregistered extends Module {
      lin = new nn.Linear(2, 2);
      forward(x: Variable): Variable {
        return this.lin.forward(x);
      }
    }
    expect(() => encodeModel(new Unregistered().build([2]))).toThrow("saveModel: Unregistered is not a registered module; call registerModule('unregistered', Unregistered)");
    expect(() => encodeModel(new TinyRes())).toThrow('saveModel: TinyRes has no input shape yet; call build(inputShape) or run a forward first');
    const { model } = trained();
    const bytes = encodeModel(model);
    // Rename the module in the metadata to one nobody registered (same byte length keeps the header valid).
    const renamed = replaceBytes(bytes, 'tiny-res', 'tiny-xyz');
    expect(() => decodeModel(renamed, 'x.safetensors')).toThrow(ModelFileError);
    expect(() => decodeModel(renamed, 'x.safetensors')).toThrow(/module "tiny-xyz" is not registered; call registerModule\("tiny-xyz", ModuleClass\) before loading \(registered modules: .*"tiny-res"\)/);
    const resized = replaceBytes(bytes, '\\"channels\\":3', '\\"channels\\":2');
    expect(() => decodeModel(resized, 'x.safetensors')).toThrow(/the weights do not fit the architecture: .*"conv1.weight" has shape \[3, 1, 3, 3\], the module needs \[2, 1, 3, 3\]/);
  });
});
