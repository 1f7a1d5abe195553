// Model files: round trips of architecture, weights, optimizer and training state (continuing
// training after a load is bit-identical), registry errors, hostile metadata, and kill -9 mid-save.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  decodeModel, encodeModel, encodeSafetensors, decodeSafetensors, loadModel, ModelFileError, saveModel,
  SafetensorsError, type TrainingState,
} from '../../src/io/index.js';
import { createLayer, registerLayer, type Layer } from '../../src/layers/index.js';
import { Sequential } from '../../src/model/index.js';
import { BaseOptimizer, registerOptimizer, ReduceOnPlateau, type Optimizer } from '../../src/optimizers/index.js';
import type { Param } from '../../src/tensor/param.js';
import { Rng } from '../../src/tensor/rng.js';
import { randn, Tensor, zeros } from '../../src/tensor/tensor.js';

const tmp = mkdtempSync(join(tmpdir(), 'tk-model-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A custom layer for the registry round trip: y = x · scale (per feature), scale learnable. */
class ScaleLayer implements Layer {
  readonly kind = 'test-scale';
  readonly init: number;
  private scale: Param;
  private out: Tensor;
  private input: Tensor;
  private dx: Tensor;
  constructor(config: Record<string, unknown> = {}) {
    this.init = typeof config.init === 'number' ? config.init : 1;
    this.scale = { name: 'scale', value: zeros([0]), grad: zeros([0]) };
    this.out = this.input = this.dx = zeros([0]);
  }
  build(inputShape: readonly number[]): readonly number[] {
    const n = inputShape[0];
    this.scale = { name: 'scale', value: zeros([n]), grad: zeros([n]) };
    this.scale.value.data.fill(this.init);
    return inputShape.slice();
  }
  forward(x: Tensor): Tensor {
    const n = this.scale.value.size;
    if (this.out.size !== x.size) this.out = zeros(x.shape);
    for (let i = 0; i < x.size; i++) this.out.data[i] = x.data[i] * this.scale.value.data[i % n];
    this.input = x;
    return this.out;
  }
  backward(dy: Tensor): Tensor {
    const n = this.scale.value.size;
    if (this.dx.size !== dy.size) this.dx = zeros(dy.shape);
    for (let i = 0; i < dy.size; i++) {
      this.scale.grad.data[i % n] += dy.data[i] * this.input.data[i];
      this.dx.data[i] = dy.data[i] * this.scale.value.data[i % n];
    }
    return this.dx;
  }
  params(): readonly Param[] {
    return [this.scale];
  }
  getConfig(): Record<string, unknown> {
    return { init: this.init };
  }
}

/** A custom optimizer with a slot and a global that starts at +Infinity (exercises non-finite JSON). */
class BestLossSgd extends BaseOptimizer<'velocity', 'bestLoss'> {
  readonly kind = 'test-best-sgd';
  constructor(config: Record<string, unknown> = {}) {
    super({ lr: typeof config.lr === 'number' ? config.lr : 0.1, weightDecay: 0, decoupledWeightDecay: false, slots: ['velocity'], globals: { bestLoss: Infinity } });
  }
  protected override beginStep(ctx: { loss?: number }): void {
    if (ctx.loss !== undefined && ctx.loss < this.globals.bestLoss) this.globals.bestLoss = ctx.loss;
  }
  protected update(p: Float32Array, g: Float32Array, slots: Record<'velocity', Float32Array>): void {
    const v = slots.velocity;
    for (let i = 0; i < p.length; i++) {
      v[i] = 0.5 * v[i] + g[i];
      p[i] -= this.lr * v[i];
    }
  }
  getConfig(): Record<string, number> {
    return { lr: this.lr };
  }
}
registerLayer('test-scale', (c) => new ScaleLayer(c));
registerOptimizer('test-best-sgd', (c) => new BestLossSgd(c));

/**
 * A small CNN. Dropout is left out where training continues after a load: its masks come from the
 * model's construction Rng, which Sequential does not expose for saving yet.
 */
function cnn(seed: number, extra: Layer[] = []): Sequential {
  return new Sequential([
    createLayer('conv2d', { filters: 4, kernelSize: 3, padding: 'same' }), createLayer('batch-norm2d'), createLayer('relu'),
    createLayer('max-pool2d', { poolSize: 2 }), createLayer('flatten'), createLayer('dense', { units: 5 }),
    ...extra, createLayer('dense', { units: 3 }),
  ], { inputShape: [2, 6, 6], seed });
}

const rng = new Rng(1);
const X = randn([12, 2, 6, 6], rng);
const Y = new Tensor(Float32Array.from({ length: 12 }, (_, i) => i % 3), [12]);

function train(model: Sequential, steps: number): void {
  for (let s = 0; s < steps; s++) model.trainStep(X.slice0((s % 3) * 4, (s % 3) * 4 + 4), Y.slice0((s % 3) * 4, (s % 3) * 4 + 4));
}

describe('saveModel / loadModel', () => {
  it('round-trips architecture, weights, buffers, Adam state and training state; continuing is bit-identical', () => {
    const a = cnn(3).compile({ optimizer: { name: 'adam', lr: 0.01, weightDecay: 1e-3 }, loss: 'cross-entropy' });
    train(a, 4);
    const shuffle = new Rng(9);
    shuffle.normal();
    const schedule = new ReduceOnPlateau(a.optimizer as Optimizer, { patience: 1 });
    const state: TrainingState = { epoch: 2, step: 4, rng: shuffle.getState(), schedule: schedule.stateDict(), note: 'x' };
    expect(state.schedule?.best).toBe(Infinity);
    const path = join(tmp, 'cnn.tkm');
    saveModel(a, path, { optimizer: a.optimizer as Optimizer, trainingState: state });

    const { model: b, optimizer, trainingState } = loadModel(path);
    expect(b.getConfig()).toEqual(a.getConfig());
    expect(trainingState).toEqual(state);
    expect(optimizer?.kind).toBe('adam');
    expect(optimizer?.getConfig()).toEqual(a.optimizer?.getConfig());
    expect(optimizer?.stateDict()).toEqual(a.optimizer?.stateDict());
    const sdA = a.stateDict();
    const sdB = b.stateDict();
    expect(Object.keys(sdB)).toEqual(Object.keys(sdA));
    for (const k of Object.keys(sdA)) expect(sdB[k].data).toEqual(sdA[k].data);
    expect(b.predict(X).data).toEqual(a.predict(X).data);

    // The restored Rng continues the same stream.
    const restored = new Rng(0);
    restored.setState(trainingState?.rng as NonNullable<TrainingState['rng']>);
    expect(restored.normal()).toBe(shuffle.normal());

    b.compile({ optimizer: optimizer as Optimizer, loss: 'cross-entropy' });
    train(a, 3);
    train(b, 3);
    for (const [k, t] of Object.entries(a.stateDict())) expect(b.stateDict()[k].data, k).toEqual(t.data);
  });

  it('the file is a safetensors file whose non-optimizer tensors are the PyTorch state dict', () => {
    const a = cnn(4, [createLayer('dropout', { rate: 0.2 })]).compile({ optimizer: 'momentum', loss: 'cross-entropy' });
    train(a, 1);
    const { tensors, metadata } = decodeSafetensors(encodeModel(a, { optimizer: a.optimizer as Optimizer }));
    expect(metadata.format).toBe('tensorkit-model');
    expect(JSON.parse(metadata.architecture)).toEqual(a.getConfig());
    const weightKeys = Object.keys(tensors).filter((k) => !k.startsWith('optimizer/'));
    expect(weightKeys).toEqual(Object.keys(a.stateDict()));
    expect(Object.keys(tensors).filter((k) => k.startsWith('optimizer/'))).toContain('optimizer/0.weight/b');
  });

  it('round-trips a custom registered layer and optimizer (with an infinite global)', () => {
    const a = new Sequential([createLayer('dense', { units: 4 }), createLayer('test-scale', { init: 0.5 }), createLayer('dense', { units: 2 })], { inputShape: [3], seed: 2 })
      .compile({ optimizer: 'test-best-sgd', loss: 'mse' });
    const opt = a.optimizer as BestLossSgd;
    expect(opt.stateDict().globals.bestLoss).toBe(Infinity);
    const bytes0 = encodeModel(a, { optimizer: opt });
    expect(decodeModel(bytes0).optimizer?.stateDict().globals.bestLoss).toBe(Infinity);
    const x = randn([4, 3], new Rng(2));
    const y = randn([4, 2], new Rng(3));
    a.trainStep(x, y);
    const { model: b, optimizer } = decodeModel(encodeModel(a, { optimizer: opt }));
    expect(b.layers[1]).toBeInstanceOf(ScaleLayer);
    expect(optimizer).toBeInstanceOf(BestLossSgd);
    expect(optimizer?.stateDict()).toEqual(opt.stateDict());
    b.compile({ optimizer: optimizer as Optimizer, loss: 'mse' });
    a.trainStep(x, y);
    b.trainStep(x, y);
    expect(b.predict(x).data).toEqual(a.predict(x).data);
  });

  it('an unregistered layer or optimizer name says what to register', () => {
    const a = new Sequential([createLayer('dense', { units: 2 })], { inputShape: [3] }).compile({ optimizer: 'sgd', loss: 'mse' });
    const { tensors, metadata } = decodeSafetensors(encodeModel(a, { optimizer: a.optimizer as Optimizer }));
    const arch = JSON.parse(metadata.architecture);
    arch.layers[0].kind = 'my-fancy-layer';
    const badLayer = encodeSafetensors(tensors, { ...metadata, architecture: JSON.stringify(arch) });
    expect(() => decodeModel(badLayer, 'm.tkm')).toThrow(ModelFileError);
    expect(() => decodeModel(badLayer, 'm.tkm')).toThrow(/m\.tkm: layer 0 has kind "my-fancy-layer", which is not registered; call registerLayer\("my-fancy-layer", factory\)/);
    const badOpt = encodeSafetensors(tensors, { ...metadata, optimizer: JSON.stringify({ kind: 'eve', config: {}, step: 0, globals: {} }) });
    expect(() => decodeModel(badOpt)).toThrow(/optimizer "eve" is not registered; call registerOptimizer\("eve", factory\)/);
  });

  it('rejects files that do not describe a loadable model with a ModelFileError', () => {
    const a = new Sequential([createLayer('dense', { units: 2 })], { inputShape: [3] });
    const { tensors, metadata } = decodeSafetensors(encodeModel(a));
    const variant = (meta: Record<string, string>, t = tensors) => encodeSafetensors(t, meta);
    const cases: [Uint8Array, RegExp][] = [
      [variant({}), /not a tensorkit model file/],
      [variant({ ...metadata, format_version: '9' }), /unsupported format_version "9"/],
      [variant({ ...metadata, architecture: '{' }), /metadata "architecture" is not valid JSON/],
      [variant({ ...metadata, architecture: '[]' }), /architecture must be an object/],
      [variant({ ...metadata, architecture: '{"inputShape":[0],"layers":[]}' }), /inputShape must be a non-empty array of positive integers/],
      [variant({ ...metadata, architecture: '{"inputShape":[100000,100000],"layers":[{"kind":"relu","config":{}}]}' }), /over the limit/],
      [variant({ ...metadata, architecture: '{"inputShape":[3],"layers":[{"kind":"dense","config":{"units":1000000000}}]}' }), /config integer 1000000000, larger than any tensor dimension/],
      // An empty tensor costs no bytes whatever its shape, so it must not raise the config-integer limit.
      [variant({ ...metadata, architecture: '{"inputShape":[3],"layers":[{"kind":"dense","config":{"units":100000}}]}' },
        { ...tensors, pad: new Tensor(new Float32Array(0), [2000000000, 0]) }), /config integer 100000, larger than any tensor dimension/],
      [variant({ ...metadata, architecture: '{"inputShape":[3],"layers":[{"kind":"dense","config":{"units":-2}}]}' }), /cannot build the architecture: .*units/],
      [variant({ ...metadata, architecture: '{"inputShape":[3],"layers":[{"kind":"dense","config":{"units":3}}]}' }), /weights do not fit the architecture/],
      [variant({ ...metadata, training_state: '{"epoch":-1,"step":0}' }), /training_state epoch must be a non-negative integer/],
      [variant({ ...metadata, training_state: '{"epoch":1,"step":0,"rng":{"s":[1,2,3],"spare":null}}' }), /rng must be an Rng state/],
      [variant(metadata, { ...tensors, 'optimizer/0.weight/m': tensors['0.weight'] }), /optimizer tensors .* but no "optimizer" metadata/],
    ];
    for (const [bytes, message] of cases) {
      expect(() => decodeModel(bytes, 'bad.tkm')).toThrow(ModelFileError);
      expect(() => decodeModel(bytes, 'bad.tkm')).toThrow(message);
    }
    expect(() => decodeModel(new Uint8Array(3))).toThrow(SafetensorsError);
    expect(() => loadModel(join(tmp, 'nope.tkm'))).toThrow(/nope\.tkm: cannot read file \(ENOENT\)/);
  });

  it('a save that fails leaves the previous file intact and no temporary file behind', () => {
    const path = join(tmp, 'keep.tkm');
    const a = new Sequential([createLayer('dense', { units: 2 })], { inputShape: [3] });
    saveModel(a, path);
    const before = readFileSync(path);
    expect(() => saveModel(a, path, { trainingState: { epoch: 1.5, step: 0 } })).toThrow(/trainingState epoch/);
    expect(() => saveModel(a, join(tmp, 'no-such-dir', 'x.tkm'))).toThrow(/ENOENT/);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('kill -9 in the middle of saving a 16 MB model leaves the last good file loadable', async () => {
    const path = join(tmp, 'big.tkm');
    const child = new URL('./save-loop-child.ts', import.meta.url).pathname;
    let interrupted = 0;
    for (const killAt of [1, 3]) {
      // node itself (not the tsx wrapper script) so that SIGKILL reaches the process doing the writes.
      const proc = spawn(process.execPath, ['--import', 'tsx', child, path], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      const killedDuring = await new Promise<number>((resolve, reject) => {
        proc.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (!proc.killed && out.includes(`begin ${killAt}\n`)) {
            // Wait until the temporary file of that save exists, so the kill lands inside the write.
            const deadline = Date.now() + 5000;
            while (Date.now() < deadline && !readdirSync(tmp).some((f) => f.startsWith('.big.tkm.') && f.endsWith('.tmp'))) { /* poll */ }
            proc.kill('SIGKILL');
            resolve(killAt);
          }
        });
        proc.on('exit', (code) => { if (!proc.killed) reject(new Error(`child exited early with ${code}`)); });
      });
      await new Promise<void>((r) => (proc.exitCode !== null || proc.signalCode !== null ? r() : proc.on('exit', () => r())));
      expect(proc.signalCode).toBe('SIGKILL');
      const { model, trainingState } = loadModel(path);
      // The save of index killAt was interrupted (or had just finished): the file holds that one or the one before.
      const epoch = trainingState?.epoch as number;
      expect([killedDuring - 1, killedDuring]).toContain(epoch);
      for (const p of model.params()) expect(p.value.data.every((v) => v === epoch)).toBe(true);
      // A leftover temporary file shows the kill landed inside a write.
      if (readdirSync(tmp).some((f) => f.startsWith('.big.tkm.') && f.endsWith('.tmp'))) interrupted++;
      rmSync(path);
    }
    expect(interrupted).toBeGreaterThan(0);
    // An interrupted save may leave its temporary file; it never replaces the target.
    for (const f of readdirSync(tmp).filter((f) => f.endsWith('.tmp'))) rmSync(join(tmp, f));
    expect(existsSync(path)).toBe(false);
  });
});


/** Runs test/io/reader-child.ts on [reader, path] pairs; one parsed result line per file. */
async function readInChild(cases: [string, string][]): Promise<{ reader: string; error: string | null; message?: string; peakRssMb: number }[]> {
  const child = new URL('./reader-child.ts', import.meta.url).pathname;
  const proc = spawn(process.execPath, ['--import', 'tsx', child, ...cases.flat()], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
  const code = await new Promise<number | null>((resolve) => proc.on('exit', (c) => resolve(c)));
  expect(code).toBe(0);
  return out.trim().split('\n').map((line) => JSON.parse(line));
}

/** Model-file bytes with the given architecture and tensors (no optimizer). */
function modelBytes(architecture: unknown, tensors: Record<string, Tensor> = {}): Uint8Array {
  const text = typeof architecture === 'string' ? architecture : JSON.stringify(architecture);
  return encodeSafetensors(tensors, { format: 'tensorkit-model', format_version: '1', architecture: text });
}

const dense = (units: number) => ({ kind: 'dense', config: { units } });

describe('hostile architectures are refused before anything large is allocated', () => {
  it('in a child process: tiny files declaring huge or many layers, a huge strided im2col, deep nesting — typed, short errors, peak RSS < 300 MB', async () => {
    const { writeFileSync } = await import('node:fs');
    const files: Record<string, Uint8Array> = {
      // 200 × Dense 4096 would build 25 GB of weights and gradients; the file holds no tensors.
      wide: modelBytes({ inputShape: [4096], layers: Array.from({ length: 200 }, () => dense(4096)) }),
      // A million layers (a 40 MB file): refused by size before parsing, with a message that does not list them.
      million: modelBytes({ inputShape: [1], layers: Array.from({ length: 1_000_000 }, () => dense(1)) }),
      // 20,000 layers: refused by count.
      count: modelBytes({ inputShape: [1], layers: Array.from({ length: 20_000 }, () => dense(1)) }),
      // Under the count cap, every tensor missing: the message lists three names and a count.
      many: modelBytes({ inputShape: [1], layers: Array.from({ length: 9000 }, () => dense(1)) }),
      // A 64×64 kernel at stride 2 on a 4096² image: its im2col matrix would be 4096·2017² floats (67 GB).
      im2col: modelBytes({ inputShape: [1, 4096, 4096], layers: [{ kind: 'conv2d', config: { filters: 1, kernelSize: 64, stride: 2 } }] },
        { '0.weight': zeros([1, 1, 64, 64]), '0.bias': zeros([1]) }),
      // A config value nested 5000 deep.
      deep: modelBytes(`{"inputShape":[3],"layers":[{"kind":"dense","config":{"units":${'['.repeat(5000)}2${']'.repeat(5000)}}}]}`),
    };
    const cases: [string, string][] = Object.entries(files).map(([name, bytes]) => {
      const path = join(tmp, `${name}.tkm`);
      writeFileSync(path, bytes);
      return ['model', path];
    });
    expect(files.wide.length).toBeLessThan(10_000);
    const results = await readInChild(cases);
    const byName = Object.fromEntries(Object.keys(files).map((name, i) => [name, results[i]]));
    for (const [name, r] of Object.entries(byName)) {
      expect(r.error, name).toBe('ModelFileError');
      expect(r.message!.length, name).toBeLessThan(600);
      expect(r.peakRssMb, name).toBeLessThan(300);
    }
    expect(byName.wide.message).toMatch(/wide\.tkm: the weights do not fit the architecture: the file lacks 400 tensor\(s\) it needs: "0\.weight", "0\.bias", "1\.weight" … and 397 more$/);
    expect(byName.million.message).toMatch(/metadata "architecture" is \d+ characters long, over the limit of 8388608/);
    expect(byName.count.message).toMatch(/architecture has 20000 layers, over the limit of 10000/);
    expect(byName.many.message).toMatch(/lacks 18000 tensor\(s\) it needs: "0\.weight", "0\.bias", "1\.weight" … and 17997 more/);
    expect(byName.im2col.message).toMatch(/layer 0 \(conv2d\) brings the parameters, buffers and scratch to more than 268435456 floats/);
    expect(byName.deep.message).toMatch(/metadata "architecture" nests deeper than 64 levels/);
  }, 60_000);

  it('a tensor of the wrong shape is named with both shapes before any layer is built', () => {
    const bytes = modelBytes({ inputShape: [3], layers: [dense(4), { kind: 'relu', config: {} }, dense(2)] },
      { '0.weight': zeros([4, 3]), '0.bias': zeros([4]), '2.weight': zeros([2, 5]), '2.bias': zeros([2]) });
    expect(() => decodeModel(bytes, 'w.tkm')).toThrow(/w\.tkm: the weights do not fit the architecture: "2\.weight" has shape \[2, 5\], layer 2 \(dense\) needs \[2, 4\]/);
    const extra = modelBytes({ inputShape: [3], layers: [dense(4)] }, { '0.weight': zeros([4, 3]), '0.bias': zeros([4]), '7.weight': zeros([1]) });
    expect(() => decodeModel(extra, 'x.tkm')).toThrow(/1 tensor\(s\) belong to no layer: "7\.weight"/);
  });

  it('a user layer kind is built alone, only after every earlier layer\'s weights are known to be present', () => {
    let builds = 0;
    class Counting extends ScaleLayer {
      override build(inputShape: readonly number[]): readonly number[] {
        builds++;
        return super.build(inputShape);
      }
    }
    registerLayer('test-counting', (c = {}) => new Counting(c), { override: true });
    const layers = [dense(4), { kind: 'test-counting', config: {} }, dense(2)];
    // The first Dense's weights are missing: the user layer is never built.
    expect(() => decodeModel(modelBytes({ inputShape: [3], layers }), 'c.tkm')).toThrow(/lacks 2 tensor\(s\) it needs: "0\.weight", "0\.bias"/);
    expect(builds).toBe(0);
    // Its own parameter is missing: it is built once (to learn its parameters), nothing after it is.
    expect(() => decodeModel(modelBytes({ inputShape: [3], layers }, { '0.weight': zeros([4, 3]), '0.bias': zeros([4]) }), 'c.tkm'))
      .toThrow(/lacks 3 tensor\(s\) it needs: "1\.scale", "2\.weight", "2\.bias"$/);
    expect(builds).toBe(1);
    // Its parameter has the wrong shape.
    expect(() => decodeModel(modelBytes({ inputShape: [3], layers }, { '0.weight': zeros([4, 3]), '0.bias': zeros([4]), '1.scale': zeros([5]) }), 'c.tkm'))
      .toThrow(/"1\.scale" has shape \[5\], layer 1 \(test-counting\) needs \[4\]/);
    // Complete: it loads (the probe build, then the model's own build).
    builds = 0;
    const ok = modelBytes({ inputShape: [3], layers },
      { '0.weight': zeros([4, 3]), '0.bias': zeros([4]), '1.scale': zeros([4]), '2.weight': zeros([2, 4]), '2.bias': zeros([2]) });
    expect(decodeModel(ok).model.layers[1]).toBeInstanceOf(Counting);
    expect(builds).toBe(2);
  });

  it('callback-state tensors (EarlyStopping\'s best weights) are stored as state/<key>/<name> and given back on load; orphans and missing ones are refused', () => {
    const a = new Sequential([createLayer('dense', { units: 2 })], { inputShape: [3] }).compile({ optimizer: 'adam', loss: 'mse' });
    const best = a.stateDict();
    best['0.weight'].data.fill(7);
    const state: TrainingState = { epoch: 3, step: 9, callbacks: { earlyStopping: { best: 0.25, wait: 1, tensors: best }, csvLogger: { epochBytes: 10, batchBytes: 0 } } };
    const bytes = encodeModel(a, { optimizer: a.optimizer as Optimizer, trainingState: state });
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(Object.keys(tensors).filter((k) => k.startsWith('state/')).sort()).toEqual(['state/earlyStopping/0.bias', 'state/earlyStopping/0.weight']);
    expect(JSON.parse(metadata.training_state).callbacks.earlyStopping.tensors).toEqual(['0.weight', '0.bias']);
    const loaded = decodeModel(bytes, 's.tkm');
    const back = (loaded.trainingState!.callbacks as Record<string, { tensors: Record<string, Tensor> }>).earlyStopping.tensors;
    expect(Object.keys(back)).toEqual(['0.weight', '0.bias']);
    expect(Array.from(back['0.weight'].data)).toEqual(new Array(6).fill(7));
    expect(loaded.trainingState!.callbacks).toMatchObject({ earlyStopping: { best: 0.25, wait: 1 }, csvLogger: { epochBytes: 10, batchBytes: 0 } });
    // The model's own weights are not taken from the state tensors.
    expect(Array.from(loaded.model.stateDict()['0.weight'].data)).toEqual(Array.from(a.stateDict()['0.weight'].data));
    // A state tensor no callback names, and a named one that is missing.
    const orphan = encodeSafetensors({ ...tensors, 'state/other/x': zeros([2]) }, metadata);
    expect(() => decodeModel(orphan, 's.tkm')).toThrow('s.tkm: has state tensors (state/other/x, …) that no callback state in training_state names');
    const { 'state/earlyStopping/0.bias': _gone, ...missing } = tensors;
    expect(() => decodeModel(encodeSafetensors(missing, metadata), 's.tkm'))
      .toThrow('s.tkm: training_state callbacks.earlyStopping names tensor "0.bias", but the file has no "state/earlyStopping/0.bias"');
  });

  it('deep nesting in any metadata JSON (architecture, optimizer, training state) is a ModelFileError naming the file', () => {
    const a = new Sequential([createLayer('dense', { units: 2 })], { inputShape: [3] }).compile({ optimizer: 'adam', loss: 'mse' });
    const { tensors, metadata } = decodeSafetensors(encodeModel(a, { optimizer: a.optimizer as Optimizer, trainingState: { epoch: 1, step: 2 } }));
    const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
    for (const key of ['architecture', 'optimizer', 'training_state']) {
      const bytes = encodeSafetensors(tensors, { ...metadata, [key]: deep });
      expect(() => decodeModel(bytes, 'd.tkm'), key).toThrow(ModelFileError);
      expect(() => decodeModel(bytes, 'd.tkm'), key).toThrow(`d.tkm: metadata "${key}" nests deeper than 64 levels`);
      // Nested, but within the limit: an ordinary validation error, not a depth one.
      const shallow = encodeSafetensors(tensors, { ...metadata, [key]: `${'['.repeat(60)}${']'.repeat(60)}` });
      expect(() => decodeModel(shallow, 'd.tkm'), key).toThrow(ModelFileError);
      expect(() => decodeModel(shallow, 'd.tkm'), key).not.toThrow(/nests deeper/);
    }
  });

  it('errors from hostile names and values stay short', () => {
    const longKind = 'k'.repeat(100_000);
    const bytes = modelBytes({ inputShape: [3], layers: [{ kind: longKind, config: {} }] });
    const err = (() => { try { decodeModel(bytes, 'n.tkm'); } catch (e) { return e as Error; } return null; })();
    expect(err).toBeInstanceOf(ModelFileError);
    expect(err!.message).toMatch(/^n\.tkm: layer 0 has kind "kkkk/);
    expect(err!.message.length).toBeLessThan(400);
    const badUnits = modelBytes({ inputShape: [3], layers: [{ kind: 'dense', config: { units: 'u'.repeat(100_000) } }] });
    expect(() => decodeModel(badUnits)).toThrow(ModelFileError);
    try { decodeModel(badUnits); } catch (e) { expect((e as Error).message.length).toBeLessThan(400); }
  });
});
