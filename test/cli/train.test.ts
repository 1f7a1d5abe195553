import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rangeOf } from '../../src/cli/args.js';
import {
  activationNames, buildModel, MAX_ACTIVATION_BYTES, MAX_PARAMETERS, modelSize, optimizerConfig, parseTrainArgs, runTrain, trainHelp, TRAIN_OPTIONS, type TrainOptions,
} from '../../src/cli/train.js';
import { loadModel } from '../../src/io/files.js';
import { registerLayer } from '../../src/layers/layer.js';
import { Tanh } from '../../src/layers/activations.js';
import { registerOptimizer } from '../../src/optimizers/optimizer.js';
import { Sgd } from '../../src/optimizers/sgd.js';
import { parseCsv } from '../../src/train/csv.js';
import { captureIo } from '../util/capture-io.js';

const root = new URL('../..', import.meta.url).pathname;

async function parse(argv: string[]): Promise<TrainOptions> {
  const opts = await parseTrainArgs(argv);
  if (!opts) throw new Error('unexpected --help');
  return opts;
}

/** Every option with a non-default value: [short or null, long, value on the command line, key, parsed value]. */
const EVERY_FLAG: [string | null, string, string, keyof TrainOptions, unknown][] = [
  ['wp', 'wandb_project', 'proj', 'wandbProject', 'proj'],
  ['we', 'wandb_entity', 'team', 'wandbEntity', 'team'],
  ['d', 'dataset', 'mnist', 'dataset', 'mnist'],
  ['e', 'epochs', '7', 'epochs', 7],
  ['b', 'batch_size', '16', 'batchSize', 16],
  ['l', 'loss', 'mean_squared_error', 'loss', 'mean_squared_error'],
  ['o', 'optimizer', 'nag', 'optimizer', 'nag'],
  ['lr', 'learning_rate', '0.05', 'learningRate', 0.05],
  ['m', 'momentum', '0.5', 'momentum', 0.5],
  ['beta', 'beta', '0.7', 'beta', 0.7],
  ['beta1', 'beta1', '0.8', 'beta1', 0.8],
  ['beta2', 'beta2', '0.99', 'beta2', 0.99],
  ['eps', 'epsilon', '1e-6', 'epsilon', 1e-6],
  ['w_d', 'weight_decay', '0.0005', 'weightDecay', 0.0005],
  ['w_i', 'weight_init', 'random', 'weightInit', 'random'],
  ['nhl', 'num_layers', '5', 'numLayers', 5],
  ['sz', 'hidden_size', '64', 'hiddenSize', 64],
  ['a', 'activation', 'tanh', 'activation', 'tanh'],
  [null, 'model', 'cnn', 'model', 'cnn'],
  [null, 'filters', '8,32', 'filters', [8, 32]],
  [null, 'kernel_sizes', '5,3', 'kernelSizes', [5, 3]],
  [null, 'padding', '1', 'padding', 1],
  [null, 'pool', 'max', 'pool', 'max'],
  [null, 'dense_units', '64,32', 'denseUnits', [64, 32]],
  [null, 'seed', '42', 'seed', 42],
  [null, 'threads', '2', 'threads', 2],
  [null, 'val_split', '0.2', 'valSplit', 0.2],
  [null, 'data', '/some/dir', 'data', '/some/dir'],
  [null, 'out', 'results', 'out', 'results'],
  [null, 'name', 'run1', 'name', 'run1'],
  [null, 'patience', '3', 'patience', 3],
  [null, 'checkpoint_every', '2', 'checkpointEvery', 2],
  [null, 'resume', 'ckpt.safetensors', 'resume', 'ckpt.safetensors'],
];

describe('tensorkit train: argument parsing', () => {
  it('covers every declared option in this test table (plus --import and --quick, tested below)', () => {
    const tested = new Set([...EVERY_FLAG.map((r) => r[1]), 'import', 'quick', 'augment_shift', 'augment_rotate', 'augment_flip']);
    expect(TRAIN_OPTIONS.map((o) => o.long).filter((l) => !tested.has(l))).toEqual([]);
  });

  it('has the documented defaults (the best MLP configuration)', async () => {
    const o = await parse([]);
    expect(o).toMatchObject({
      wandbProject: 'tensorkit', wandbEntity: 'local', dataset: 'fashion_mnist', loss: 'cross_entropy', optimizer: 'adam',
      learningRate: 5e-4, weightDecay: 5e-4, numLayers: 4, hiddenSize: 512, epochs: 30, patience: 5,
      weightInit: 'Xavier', activation: 'ReLU', model: 'mlp', valSplit: 0.1, out: 'runs', quick: false, threads: 0,
    });
    for (const spec of TRAIN_OPTIONS) if (spec.default !== undefined) expect(o[spec.key as keyof TrainOptions]).toEqual(spec.default);
  });

  for (const [short, long, value, key, expected] of EVERY_FLAG) {
    const spellings = [`--${long} ${value}`, `--${long}=${value}`, ...(short ? [`-${short} ${value}`, `-${short}=${value}`] : [])];
    it(`parses ${spellings.join(' | ')}`, async () => {
      for (const s of spellings) {
        const eq = s.indexOf('=');
        const argv = eq > 0 && !s.includes(' ') ? [s] : s.split(' ');
        expect((await parse(argv))[key]).toEqual(expected);
      }
    });
  }

  it('parses the augmentation flags (CNN only) and rejects them for an MLP', async () => {
    expect(await parse(['--model', 'cnn', '--augment_shift', '2', '--augment_rotate=7.5', '--augment_flip'])).toMatchObject({ augmentShift: 2, augmentRotate: 7.5, augmentFlip: true });
    expect(await parse(['--model', 'cnn'])).toMatchObject({ augmentShift: 0, augmentRotate: 0, augmentFlip: false });
    await expect(parse(['--augment_flip'])).rejects.toThrow(/--augment_shift, --augment_rotate and --augment_flip need --model cnn/);
    await expect(parse(['--model', 'cnn', '--augment_shift', '20'])).rejects.toThrow(/--augment_shift/);
    await expect(parse(['--model', 'cnn', '--augment_rotate', '-1'])).rejects.toThrow(/--augment_rotate/);
  });

  it('parses the assignment\'s full command line as written', async () => {
    const o = await parse('-wp myproj -we me -d fashion_mnist -e 5 -b 32 -l cross_entropy -o nadam -lr 0.001 -m 0.9 -beta 0.9 -beta1 0.9 -beta2 0.999 -eps 1e-8 -w_d 0.0005 -w_i Xavier -nhl 4 -sz 128 -a ReLU'.split(' '));
    expect(o).toMatchObject({ wandbProject: 'myproj', wandbEntity: 'me', epochs: 5, batchSize: 32, optimizer: 'nadam', weightDecay: 0.0005, numLayers: 4, hiddenSize: 128, activation: 'ReLU' });
  });

  it('accepts choices in any case, initializer registry names and --quick', async () => {
    expect((await parse(['-a', 'relu'])).activation).toBe('ReLU');
    expect((await parse(['-w_i', 'xavier'])).weightInit).toBe('Xavier');
    expect((await parse(['-w_i', 'kaiming-normal'])).weightInit).toBe('kaiming-normal');
    const q = await parse(['--quick', '-e', '5']);
    expect(q.quick).toBe(true);
    expect(q.epochs).toBe(1);
  });

  it('gives each optimizer exactly its own hyperparameters', async () => {
    const base = { lr: 0.01, weightDecay: 0.001 };
    const args = ['-lr', '0.01', '-w_d', '0.001', '-m', '0.8', '-beta', '0.95', '-beta1', '0.85', '-beta2', '0.98', '-eps', '1e-7'];
    const cfg = async (o: string) => optimizerConfig(await parse([...args, '-o', o]));
    expect(await cfg('sgd')).toEqual({ name: 'sgd', ...base });
    expect(await cfg('momentum')).toEqual({ name: 'momentum', ...base, momentum: 0.8 });
    expect(await cfg('nag')).toEqual({ name: 'nag', ...base, momentum: 0.8 });
    expect(await cfg('rmsprop')).toEqual({ name: 'rmsprop', ...base, beta: 0.95, eps: 1e-7 });
    expect(await cfg('adam')).toEqual({ name: 'adam', ...base, beta1: 0.85, beta2: 0.98, eps: 1e-7 });
    expect(await cfg('nadam')).toEqual({ name: 'nadam', ...base, beta1: 0.85, beta2: 0.98, eps: 1e-7 });
    // Every built-in accepts its config.
    for (const o of ['sgd', 'momentum', 'nag', 'rmsprop', 'adam', 'nadam']) {
      const opts = await parse([...args, '-o', o, '-nhl', '1', '-sz', '4']);
      expect(() => buildModel(opts).compile({ optimizer: optimizerConfig(opts), loss: 'cross-entropy' })).not.toThrow();
    }
  });

  it('maps -w_i random to N(0, 0.01²) and Xavier to Glorot normal, with zero biases', async () => {
    const std = (d: Float32Array) => Math.sqrt(d.reduce((a, v) => a + v * v, 0) / d.length);
    const random = buildModel(await parse(['-w_i', 'random', '-nhl', '1', '-sz', '128'])).stateDict();
    expect(std(random['0.weight'].data)).toBeCloseTo(0.01, 3);
    expect(random['0.bias'].data.every((v) => v === 0)).toBe(true);
    const xavier = buildModel(await parse(['-w_i', 'Xavier', '-nhl', '1', '-sz', '128'])).stateDict();
    // Glorot normal: std = √(2 / (784 + 128)) ≈ 0.0468; 100k samples give ~0.3% relative error.
    expect(std(xavier['0.weight'].data) / Math.sqrt(2 / 912)).toBeCloseTo(1, 1);
  });

  it('builds the MLP and CNN the options describe (layers, shapes, softmax head)', async () => {
    const mlp = buildModel(await parse(['-nhl', '2', '-sz', '32', '-a', 'tanh']));
    expect(mlp.layers.map((l) => l.kind)).toEqual(['dense', 'tanh', 'dense', 'tanh', 'dense', 'softmax']);
    expect(mlp.inputShape).toEqual([784]);
    const cnn = buildModel(await parse(['--model', 'cnn', '--filters', '4,8', '--kernel_sizes', '3', '--pool', 'max', '--dense_units', '16']));
    expect(cnn.layers.map((l) => l.kind)).toEqual(['conv2d', 'relu', 'max-pool2d', 'conv2d', 'relu', 'max-pool2d', 'flatten', 'dense', 'relu', 'dense', 'softmax']);
    expect(cnn.layerShapes[5]).toEqual([8, 5, 5]);
    expect(cnn.outputShape).toEqual([10]);
  });
});

describe('tensorkit train: errors exit with status 2', () => {
  async function fails(argv: string[], pattern: RegExp): Promise<void> {
    const io = captureIo();
    expect(await runTrain(argv, io)).toBe(2);
    expect(io.err()).toMatch(pattern);
    expect(io.out()).toBe('');
  }

  it('lists the allowed values of every choice option', async () => {
    await fails(['-d', 'cifar10'], /invalid value "cifar10" for -d\/--dataset; allowed values: mnist, fashion_mnist/);
    await fails(['-l', 'hinge'], /-l\/--loss; allowed values: mean_squared_error, cross_entropy/);
    await fails(['-o', 'adagrad'], /-o\/--optimizer; allowed values: sgd, momentum, nag, rmsprop, adam, nadam/);
    await fails(['-w_i', 'he'], /-w_i\/--weight_init; allowed values: random, Xavier, .*xavier-uniform/);
    await fails(['-a', 'mish'], /-a\/--activation; allowed values: identity, sigmoid, tanh, ReLU/);
    await fails(['--model', 'rnn'], /--model; allowed values: mlp, cnn/);
    await fails(['--pool', 'min'], /--pool; allowed values: none, max, avg/);
  });

  it('states the range of every numeric option', async () => {
    const cases: [string[], RegExp][] = [
      [['-e', '0'], /-e\/--epochs; an integer in \[1, 10000\]/],
      [['-e', '2.5'], /-e\/--epochs; an integer in \[1, 10000\]/],
      [['-b', '-4'], /-b\/--batch_size; an integer in \[1, 65536\]/],
      [['-lr', '0'], /-lr\/--learning_rate; a number in \(0, 10\]/],
      [['-lr', 'abc'], /-lr\/--learning_rate; a number in \(0, 10\]/],
      [['-lr', '11'], /-lr\/--learning_rate; a number in \(0, 10\]/],
      [['-m', '1'], /-m\/--momentum; a number in \[0, 1\)/],
      [['-beta', '1.5'], /-beta\/--beta; a number in \[0, 1\)/],
      [['-beta1', '-0.1'], /-beta1\/--beta1; a number in \[0, 1\)/],
      [['-beta2', '1'], /-beta2\/--beta2; a number in \[0, 1\)/],
      [['-eps', '-1e-8'], /-eps\/--epsilon; a number in \[0, 1\]/],
      [['-w_d', '-0.1'], /-w_d\/--weight_decay; a number in \[0, 1\]/],
      [['-nhl', '-1'], /-nhl\/--num_layers; an integer in \[0, 100\]/],
      [['-nhl', '100000'], /-nhl\/--num_layers; an integer in \[0, 100\]/],
      [['-sz', '0'], /-sz\/--hidden_size; an integer in \[1, 65536\]/],
      [['-sz', '1000000000'], /-sz\/--hidden_size; an integer in \[1, 65536\]/],
      [['--filters', '8,0'], /--filters; comma-separated integers in \[1, 4096\], at most 16 of them/],
      [['--filters', Array(17).fill(1).join(',')], /--filters; comma-separated integers in \[1, 4096\], at most 16 of them/],
      [['--kernel_sizes', 'three'], /--kernel_sizes; comma-separated integers in \[1, 28\]/],
      [['--padding', '-1'], /--padding; an integer in \[0, 14\]/],
      [['--dense_units', ''], /--dense_units; comma-separated integers in \[1, 65536\]/],
      [['--seed', '-3'], /--seed; an integer in \[0, 4294967295\]/],
      [['--threads', 'many'], /--threads; an integer in \[0, 256\]/],
      [['--val_split', '1'], /--val_split; a number in \[0, 0\.9\]/],
      [['--patience', '1.5'], /--patience; an integer in \[0, 10000\]/],
      [['--checkpoint_every', '-2'], /--checkpoint_every; an integer in \[0, 10000\]/],
      [['-wp', ''], /invalid value "" for -wp\/--wandb_project/],
      [['-we', ''], /invalid value "" for -we\/--wandb_entity/],
      [['--out', ''], /--out/],
      [['--data', ''], /--data/],
      [['--name', ''], /--name/],
    ];
    for (const [argv, pattern] of cases) await fails(argv, pattern);
  });

  it('rejects unknown options, missing values, mismatched conv lists and impossible networks', async () => {
    await fails(['--learning-rat', '0.1'], /unknown option --learning-rat \(did you mean --learning-rate\?\)|unknown option --learning-rat \(did you mean --learning_rate\?\)/);
    await fails(['-x'], /unknown option -x/);
    await fails(['-lr'], /-lr\/--learning_rate needs a value/);
    await fails(['--model', 'cnn', '--filters', '4,4,4', '--kernel_sizes', '3,3'], /--kernel_sizes has 2 values for 3 conv layers/);
    await fails(['--model', 'cnn', '--filters', '4,4,4,4,4', '--kernel_sizes', '3', '--pool', 'max'], /conv layer 4 \(kernel 3, padding 0\) does not fit its 1×1 input/);
    await fails(['--import', './does-not-exist.mjs'], /--import \.\/does-not-exist\.mjs/);
  });
});

describe('tensorkit train: ranges, sizes, names and spellings (issue 13)', () => {
  it('gives every numeric option a bounded range, shown in --help', () => {
    const help = trainHelp();
    for (const spec of TRAIN_OPTIONS) {
      if (spec.type !== 'int' && spec.type !== 'number' && spec.type !== 'int-list') continue;
      expect(spec.min, spec.long).toBeDefined();
      expect(spec.max, spec.long).toBeDefined();
      expect(help).toContain(`range: ${rangeOf(spec)}`);
    }
    expect(help).toContain(`range: [0, 100]`); // -nhl
    expect(help).toMatch(/--learning-rate/);
  });

  it('-nhl 100000 -sz 1 and -sz 1000000000 exit 2 naming the range, before any work', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tk-range-'));
    for (const [argv, pattern] of [
      [['-nhl', '100000', '-sz', '1'], /invalid value "100000" for -nhl\/--num_layers; an integer in \[0, 100\]/],
      [['-sz', '1000000000'], /invalid value "1000000000" for -sz\/--hidden_size; an integer in \[1, 65536\]/],
    ] as const) {
      const io = captureIo();
      expect(await runTrain([...argv, '--out', out], io)).toBe(2);
      expect(io.err()).toMatch(pattern);
      expect(io.err()).not.toMatch(/stack|RangeError|typed array/i);
    }
    expect(existsSync(join(out, 'tensorkit'))).toBe(false);
  });

  it('refuses a model over the parameter or activation limit before allocating it', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tk-size-'));
    const io = captureIo();
    // 100 hidden layers of 65536: 784·65536 + 65536 + 99·(65536² + 65536) + 65536·10 + 10 parameters.
    const expected = 785 * 65536 + 99 * 65537 * 65536 + 65537 * 10;
    expect(await runTrain(['-nhl', '100', '-sz', '65536', '--out', out], io)).toBe(2);
    expect(io.err()).toContain(`model too large: ${expected} parameters, limit ${MAX_PARAMETERS}`);
    const io2 = captureIo();
    expect(await runTrain(['-nhl', '2', '-sz', '4000', '-b', '65536', '--out', out], io2)).toBe(2);
    expect(io2.err()).toMatch(/model too large: a batch of 65536 needs [\d.]+ GiB of activations, limit 2 GiB/);
    expect(existsSync(join(out, 'tensorkit'))).toBe(false);
    expect(MAX_ACTIVATION_BYTES).toBe(2 ** 31);
  });

  it('computes the same parameter count as the built model (MLP, CNN with padding and pooling)', async () => {
    for (const argv of [['-nhl', '3', '-sz', '17'], ['-nhl', '0'], ['--model', 'cnn', '--filters', '4,6', '--kernel_sizes', '5,3', '--padding', '1', '--pool', 'avg', '--dense_units', '12,7'], ['--model', 'cnn', '--filters', '3', '--kernel_sizes', '3']]) {
      const opts = await parse(argv);
      expect(modelSize(opts).parameters, argv.join(' ')).toBe(buildModel(opts).countParams());
    }
    await expect(parse(['--model', 'cnn', '--filters', '4,4,4', '--kernel_sizes', '3,3,5', '--pool', 'max'])).rejects.toThrow(/the 2×2 pooling after conv layer 3 gets a 1×1 input/);
  });

  it('a 100-layer MLP trains and writes its summary (no spread of rows into Math.max)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tk-deep-'));
    const io = captureIo();
    expect(await runTrain(['--quick', '-nhl', '100', '-sz', '1', '-b', '500', '--val_split', '0', '--out', out, '--name', 'deep'], io)).toBe(0);
    expect(readFileSync(join(out, 'tensorkit', 'local', 'deep', 'summary.txt'), 'utf8')).toMatch(/^ *201 +softmax/m);
  });

  it('keeps every output under --out: --name, -wp and -we are reduced to one safe folder name', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'tk-paths-'));
    const out = join(parent, 'out');
    const io = captureIo();
    expect(await runTrain(['--quick', '-nhl', '0', '--val_split', '0', '--out', out, '--name', '../../escape', '-wp', '../proj', '-we', 'a/../../b'], io)).toBe(0);
    const dir = join(out, 'proj', 'a-b', 'escape');
    expect(io.out()).toContain(`outputs in ${dir}`);
    expect(existsSync(join(dir, 'metrics.json'))).toBe(true);
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(parent)).toEqual(['out']);
    for (const [flag, value] of [['--name', '../..'], ['-wp', '..'], ['-we', '/']]) {
      const bad = captureIo();
      expect(await runTrain(['--quick', '--out', out, flag, value], bad)).toBe(2);
      expect(bad.err()).toMatch(/has no usable characters for a folder name/);
    }
  });

  it('accepts kebab-case long options and both spellings of choice values', async () => {
    const o = await parse(['--learning-rate', '0.01', '--batch-size=16', '--weight-decay', '0', '--weight-init', 'xavier-uniform', '--num-layers', '2', '--hidden-size', '8', '-l', 'cross-entropy', '-d', 'fashion-mnist']);
    expect(o).toMatchObject({ learningRate: 0.01, batchSize: 16, weightDecay: 0, weightInit: 'xavier-uniform', numLayers: 2, hiddenSize: 8, loss: 'cross_entropy', dataset: 'fashion_mnist' });
    expect((await parse(['-l', 'mean-squared-error'])).loss).toBe('mean_squared_error');
    expect((await parse(['--loss', 'cross_entropy', '-d', 'FASHION_MNIST'])).dataset).toBe('fashion_mnist');
    await expect(parse(['--learning-rate', '1', '--learning_rate', '2'])).rejects.toThrow(/given more than once/);
  });

  it('takes -a from the layer registry: a registered activation is accepted, other layers are not', async () => {
    expect(activationNames()).toEqual(expect.arrayContaining(['identity', 'sigmoid', 'tanh', 'ReLU', 'leaky-relu']));
    expect(activationNames()).not.toContain('dense');
    expect(activationNames()).not.toContain('flatten');
    expect(activationNames()).not.toContain('softmax');
    await expect(parse(['-a', 'cli-test-tanh'])).rejects.toThrow(/-a\/--activation; allowed values: identity, sigmoid, tanh, ReLU/);
    class CliTestTanh extends Tanh {
      override readonly kind = 'cli-test-tanh' as 'tanh';
    }
    registerLayer('cli-test-tanh', (c = {}) => new CliTestTanh(c), { override: true });
    const opts = await parse(['-a', 'cli-test-tanh', '-nhl', '1', '-sz', '4']);
    expect(opts.activation).toBe('cli-test-tanh');
    expect(buildModel(opts).layers.map((l) => l.kind)).toEqual(['dense', 'cli-test-tanh', 'dense', 'softmax']);
    await expect(parse(['-a', 'dense'])).rejects.toThrow(/-a\/--activation/);
    // An activation that only takes vectors (MLP use) is accepted too.
    class VectorOnly extends Tanh {
      override readonly kind = 'cli-test-vector-act' as 'tanh';
      override build(shape: readonly number[]): readonly number[] {
        if (shape.length !== 1) throw new Error('vectors only');
        return shape.slice();
      }
    }
    registerLayer('cli-test-vector-act', (c = {}) => new VectorOnly(c), { override: true });
    expect(activationNames()).toContain('cli-test-vector-act');
  });

  it('counts epochs from 1 in every file and log line of a run', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tk-epochs-'));
    const io = captureIo();
    expect(await runTrain(['--quick', '-nhl', '0', '--patience', '1', '--checkpoint_every', '1', '--out', out, '--name', 'ep'], io)).toBe(0);
    const dir = join(out, 'tensorkit', 'local', 'ep');
    expect(io.err()).toMatch(/^epoch 1\/1 /m);
    const { readMetrics } = await import('../../src/experiments/store.js');
    const lines = readMetrics(dir);
    expect(lines.filter((l) => l.type === 'epoch').map((l) => l.epoch)).toEqual([1]);
    expect(new Set(lines.filter((l) => l.type === 'batch').map((l) => l.epoch))).toEqual(new Set([1]));
    const epochCsv = parseCsv(readFileSync(join(dir, 'history_epoch.csv'), 'utf8'));
    expect(epochCsv[1][0]).toBe('1');
    expect(parseCsv(readFileSync(join(dir, 'history_batch.csv'), 'utf8'))[1][1]).toBe('1');
    expect(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'))).toMatchObject({ epochs: 1, best_epoch: 1 });
    expect(JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'))).toMatchObject({ epochsRun: 1, earlyStopping: { bestEpoch: 1 } });
    expect(existsSync(join(dir, 'checkpoints', 'epoch-0001.safetensors'))).toBe(true);
    expect(trainHelp()).toMatch(/Epochs are counted from 1 in every file and line/);
  });

  it('leaves a loadable model.safetensors in every finished run', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tk-model-'));
    expect(await runTrain(['--quick', '-nhl', '1', '-sz', '8', '--out', out, '--name', 'm'], captureIo())).toBe(0);
    const dir = join(out, 'tensorkit', 'local', 'm');
    const loaded = loadModel(join(dir, 'model.safetensors'));
    expect(loaded.model.layers.map((l) => l.kind)).toEqual(['dense', 'relu', 'dense', 'softmax']);
    expect(loaded.optimizer).toBeUndefined(); // weights only; checkpoints keep the optimizer state
    // The saved weights are the trained ones: they reproduce the reported test accuracy.
    const { loadFashionMnist } = await import('../../src/data/datasets.js');
    const test = loadFashionMnist({ testLimit: 500, trainLimit: 1 }).test;
    loaded.model.compile({ optimizer: 'sgd', loss: 'cross-entropy', metrics: ['accuracy'] });
    const acc = loaded.model.evaluate(test.images.reshape([500, 784]), test.labels).accuracy;
    expect(acc).toBeCloseTo(JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')).test.accuracy, 10);
    const { main } = await import('../../src/cli/main.js');
    const io = captureIo();
    expect(await main(['summary', join(dir, 'model.safetensors')], io)).toBe(0);
    expect(io.out()).toMatch(/dense/);
    expect(await main(['export-onnx', join(dir, 'model.safetensors'), join(dir, 'model.onnx')], captureIo())).toBe(0);
    expect(existsSync(join(dir, 'model.onnx'))).toBe(true);
  });
});

describe('tensorkit train: help and runs', () => {
  it('--help documents every option spelling, the defaults and the outputs', async () => {
    const io = captureIo();
    expect(await runTrain(['--help'], io)).toBe(0);
    const text = io.out();
    expect(text).toBe(trainHelp());
    for (const spec of TRAIN_OPTIONS) {
      expect(text).toContain(`--${spec.long}`);
      if (spec.short) expect(text).toContain(`-${spec.short}, --${spec.long}`);
    }
    expect(text).toMatch(/one of: sgd, momentum, nag, rmsprop, adam, nadam/);
    expect(text).toMatch(/random = random-normal with std 0.01, Xavier = xavier-normal/);
    expect(text).toMatch(/bit-identical for any count/);
    expect(text).toMatch(/88\.6%/);
    expect(text).toMatch(/predictions\.csv/);
  });

  it('--quick trains, evaluates and writes params, metrics, predictions, confusion and history', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tk-train-'));
    const io = captureIo();
    const code = await runTrain(['--quick', '--out', out, '-wp', 'proj', '-we', 'grp', '--name', 'q', '-nhl', '1', '-sz', '32', '-b', '50', '--seed', '3', '--threads', '2'], io);
    expect(io.err()).toMatch(/epoch 1\/1/);
    expect(code).toBe(0);
    const dir = join(out, 'proj', 'grp', 'q');
    expect(io.out()).toContain(`outputs in ${dir}`);
    const params = JSON.parse(readFileSync(join(dir, 'params.json'), 'utf8'));
    expect(params).toMatchObject({ hiddenSize: 32, batchSize: 50, seed: 3, threads: 2, quick: true, epochs: 1 });
    expect(params.resolved).toMatchObject({ trainSamples: 900, valSamples: 100, testSamples: 500, optimizer: { name: 'adam', lr: 0.0005, weightDecay: 0.0005 } });
    const metrics = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'));
    expect(metrics.history.loss).toHaveLength(1);
    expect(metrics.test.accuracy).toBeGreaterThan(0.3); // 18 steps on 900 images; chance is 0.1
    expect(metrics.trainSeconds).toBeGreaterThan(0);
    const preds = parseCsv(readFileSync(join(dir, 'predictions.csv'), 'utf8'));
    expect(preds[0]).toEqual(['index', 'true', 'predicted', 'p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'p9']);
    expect(preds).toHaveLength(501);
    const correct = preds.slice(1).filter((r) => r[1] === r[2]).length;
    expect(correct / 500).toBeCloseTo(metrics.test.accuracy, 10);
    const sum = preds.slice(1, 4).map((r) => r.slice(3).reduce((a, v) => a + Number(v), 0));
    for (const s of sum) expect(s).toBeCloseTo(1, 4); // softmax probabilities
    const confusion = parseCsv(readFileSync(join(dir, 'confusion.csv'), 'utf8'));
    expect(confusion[0][1]).toBe('T-shirt/top');
    const diag = confusion.slice(1).reduce((a, row, i) => a + Number(row[i + 1]), 0);
    expect(diag).toBe(correct);
    expect(readFileSync(join(dir, 'confusion.txt'), 'utf8')).toMatch(/overall accuracy/);
    expect(parseCsv(readFileSync(join(dir, 'history_batch.csv'), 'utf8'))).toHaveLength(1 + 18);
    expect(parseCsv(readFileSync(join(dir, 'history_epoch.csv'), 'utf8'))).toHaveLength(2);
    expect(existsSync(join(dir, 'summary.txt'))).toBe(true);
    // Same name again: a fresh folder, not an overwrite.
    expect(await runTrain(['--quick', '--out', out, '-wp', 'proj', '-we', 'grp', '--name', 'q', '-nhl', '0', '--val_split', '0'], captureIo())).toBe(0);
    expect(existsSync(join(out, 'proj', 'grp', 'q-2', 'metrics.json'))).toBe(true);
  });

  it('--quick CNN on MNIST with squared error, early stopping and checkpoints', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tk-train-'));
    const io = captureIo();
    const argv = ['--quick', '-d', 'mnist', '--model', 'cnn', '--filters', '4', '--kernel_sizes', '5', '--pool', 'max', '--dense_units', '16', '--augment_shift', '1', '--augment_rotate', '5',
      '-l', 'mean_squared_error', '-o', 'momentum', '-lr', '0.1', '--patience', '1', '--checkpoint_every', '1', '--out', out, '--name', 'c'];
    expect(await runTrain(argv, io)).toBe(0);
    const dir = join(out, 'tensorkit', 'local', 'c');
    const metrics = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'));
    expect(metrics.earlyStopping).toMatchObject({ bestEpoch: 1 });
    expect(existsSync(join(dir, 'checkpoints', 'epoch-0001.safetensors'))).toBe(true);
    expect(existsSync(join(dir, 'checkpoints', 'best.safetensors'))).toBe(true);
    const params = JSON.parse(readFileSync(join(dir, 'params.json'), 'utf8'));
    expect(params.resolved.loss).toBe('mse');
    expect(params.resolved.architecture.layers.map((l: { kind: string }) => l.kind)).toEqual(['conv2d', 'relu', 'max-pool2d', 'flatten', 'dense', 'relu', 'dense', 'softmax']);
    // Resuming from the checkpoint taken after the last epoch trains nothing more: same test result.
    const last = join(dir, 'checkpoints', 'last.safetensors');
    expect(await runTrain([...argv.slice(0, -2), '--name', 'c-resumed', '--resume', last], captureIo())).toBe(0);
    const resumed = JSON.parse(readFileSync(join(out, 'tensorkit', 'local', 'c-resumed', 'metrics.json'), 'utf8'));
    expect(resumed.test).toEqual(metrics.test);
    const bad = captureIo();
    expect(await runTrain([...argv.slice(0, -2), '--name', 'c-bad', '--resume', join(dir, 'nope.safetensors')], bad)).toBe(2);
    expect(bad.err()).toMatch(/nope\.safetensors/);
  });

  it('accepts any registered optimizer name, passing only the hyperparameters given', async () => {
    const seen: Record<string, unknown>[] = [];
    registerOptimizer('test-cli-sgd', (config = {}) => {
      seen.push(config);
      return new Sgd({ lr: config.lr as number, weightDecay: config.weightDecay as number });
    }, { override: true });
    const out = mkdtempSync(join(tmpdir(), 'tk-train-'));
    expect(await runTrain(['--quick', '-o', 'test-cli-sgd', '-m', '0.3', '-nhl', '0', '--out', out, '--name', 'r'], captureIo())).toBe(0);
    expect(seen.at(-1)).toEqual({ lr: 0.0005, weightDecay: 0.0005, momentum: 0.3 });
  });
});

describe('tensorkit command (subprocess)', () => {
  const tsx = join(root, 'node_modules', '.bin', 'tsx');
  const run = (args: string[], cwd = root) => spawnSync(tsx, [join(root, 'src/cli/main.ts'), ...args], { cwd, encoding: 'utf8' });

  it('dispatches train --help (exit 0) and exits 2 on a bad value, through the real entry point', () => {
    const help = run(['train', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('-w_i, --weight_init');
    const bad = run(['train', '-o', 'adagrad']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/allowed values: sgd, momentum, nag, rmsprop, adam, nadam/);
  }, 30_000);

  it('main() dispatches in-process too: unknown commands exit 2', async () => {
    const { main } = await import('../../src/cli/main.js');
    const io = captureIo();
    expect(await main(['fly'], io)).toBe(2);
    expect(io.err()).toMatch(/known commands: train, sweep, runs, report, summary, export-onnx, version, help/);
    expect(await main(['train', '-h'], io)).toBe(0);
    expect(io.out()).toContain('usage: tensorkit train');
  });

  it('--import loads a module that registers an optimizer, which -o then accepts', () => {
    const work = mkdtempSync(join(tmpdir(), 'tk-import-'));
    const reg = join(work, 'register.mts');
    writeFileSync(reg, `import { registerOptimizer } from ${JSON.stringify(join(root, 'src/optimizers/index.ts'))};
import { Sgd } from ${JSON.stringify(join(root, 'src/optimizers/sgd.ts'))};
registerOptimizer('plain-sgd', (c = {}) => new Sgd({ lr: c.lr as number, weightDecay: c.weightDecay as number }));
`);
    const r = run(['train', '--import', reg, '-o', 'plain-sgd', '--quick', '-nhl', '0', '--out', work, '--name', 'x']);
    expect(r.stderr).not.toMatch(/tensorkit train:/);
    expect(r.status).toBe(0);
    expect(JSON.parse(readFileSync(join(work, 'tensorkit', 'local', 'x', 'params.json'), 'utf8')).optimizer).toBe('plain-sgd');
  }, 30_000);

  it.skipIf(!existsSync(join(root, 'dist/cli/train.js')))('runs from the built dist/cli/main.js', () => {
    const r = spawnSync('node', [join(root, 'dist/cli/main.js'), 'train', '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('-lr, --learning_rate');
  });
});
