// The published packages as a user gets them: every public workspace is packed, the tarballs install
// together offline into an empty project, and there the library loads (import and require) and every
// documented `tensorkit` command runs; the core alone loads with no other package installed.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;
// Children run on the Node that runs the suite (CI runs it on 24 and on 22), whatever `node` PATH finds first.
const env = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}` };

interface Packed {
  name: string;
  version: string;
  integrity: string;
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string }[];
}

/** `npm pack --json` of the package in `dir` into `dest`. */
function pack(dir: string, dest: string): Packed {
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dest], { cwd: dir, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return (JSON.parse(out) as Packed[])[0];
}

type LockEntry = {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  [key: string]: unknown;
};

/**
 * A lockfile for an app that depends on the packed tarballs: their entries point at the files, and their
 * registry dependencies are copied, transitively, from the repository's lockfile (same paths, versions and
 * integrity hashes). `npm ci --offline` then installs exactly what the repository tested, from the npm
 * cache that the repository's own install filled (which holds the tarballs, not the registry's metadata,
 * so an `npm install` of version ranges could not resolve offline).
 */
function appLockfile(app: { name: string; dependencies: Record<string, string> }, tarballs: { packed: Packed; manifest: LockEntry }[]): object {
  const repoLock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const packages: Record<string, LockEntry> = { '': { ...app } };
  const resolve = (name: string, from: string): string | undefined => {
    // Node's lookup: from/node_modules/name, then each ancestor's node_modules.
    for (let dir = from; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf('/node_modules/')))) {
      const key = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
      if (repoLock.packages[key] || packages[key]) return key;
      if (!dir) return undefined;
    }
  };
  const visit = (from: string, entry: LockEntry): void => {
    for (const [name, required] of Object.entries({ ...entry.dependencies, ...entry.optionalDependencies, ...entry.peerDependencies })) {
      const key = resolve(name, from);
      if (key === undefined) {
        if (entry.optionalDependencies?.[name] || entry.peerDependencies?.[name]) continue;
        throw new Error(`${name}@${required} (needed by ${from || 'the app'}) is not in the repository's lockfile`);
      }
      if (packages[key]) continue;
      const copy = { ...repoLock.packages[key] };
      delete copy.dev;
      delete copy.devOptional;
      packages[key] = copy;
      visit(key, copy);
    }
  };
  for (const { packed, manifest } of tarballs) {
    const key = `node_modules/${packed.name}`;
    packages[key] = {
      version: packed.version,
      resolved: `file:../${packed.filename}`,
      integrity: packed.integrity,
      ...Object.fromEntries(['license', 'dependencies', 'optionalDependencies', 'peerDependencies', 'bin', 'engines'].filter((k) => manifest[k] !== undefined).map((k) => [k, manifest[k]])),
    };
  }
  for (const { packed } of tarballs) visit(`node_modules/${packed.name}`, packages[`node_modules/${packed.name}`]);
  return { name: app.name, version: '1.0.0', lockfileVersion: 3, requires: true, packages };
}

/** Runs a command in `cwd` and returns its status and output (never throws on a non-zero status). */
function run(cwd: string, cmd: string, args: readonly string[]): { status: number | null; out: string; err: string } {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

describe('npm packages', () => {
  const work = mkdtempSync(join(tmpdir(), 'tk-pack-'));
  const app = join(work, 'app');
  const packed: Packed[] = [];
  let tensorkit: (...args: string[]) => { status: number | null; out: string; err: string };

  beforeAll(() => {
    if (!existsSync(join(root, 'dist/index.js'))) execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, env, stdio: 'pipe' });
    const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] };
    expect(rootPkg.workspaces).toEqual(['packages/*']);
    const tarballs: { packed: Packed; manifest: LockEntry }[] = [];
    for (const dir of [root, ...readdirSync(join(root, 'packages')).sort().map((ws) => join(root, 'packages', ws))]) {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as LockEntry & { private?: boolean };
      if (!manifest.private) tarballs.push({ packed: pack(dir, work), manifest });
    }
    packed.push(...tarballs.map((t) => t.packed));
    mkdirSync(app);
    const appPkg = { name: 'app', version: '1.0.0', private: true, dependencies: Object.fromEntries(packed.map((p) => [p.name, `file:../${p.filename}`])) };
    writeFileSync(join(app, 'package.json'), JSON.stringify(appPkg, null, 2));
    writeFileSync(join(app, 'package-lock.json'), JSON.stringify(appLockfile(appPkg, tarballs), null, 2));
    // Offline: the registry dependencies (vega, vega-lite, …) come from the npm cache that the repository's install filled.
    const install = run(app, 'npm', ['ci', '--offline', '--no-audit', '--no-fund']);
    expect(install.status, install.err).toBe(0);
    const bin = join(app, 'node_modules/.bin/tensorkit');
    tensorkit = (...args) => run(app, bin, args);
  }, 120_000);

  afterAll(() => rmSync(work, { recursive: true, force: true })); // about 70 MB: the datasets' tarball and its install

  it('packs the core small, without the datasets, and the datasets as their own package', () => {
    expect(packed.map((p) => p.name).sort()).toEqual(['@tensorkit/datasets', 'tensorkit']);
    const core = packed.find((p) => p.name === 'tensorkit')!;
    const paths = core.files.map((f) => f.path);
    expect(paths).toContain('dist/index.js');
    expect(paths).toContain('dist/cli/main.js');
    expect(paths.filter((p) => /idx\d-ubyte|^data\/|^packages\//.test(p))).toEqual([]);
    expect(core.size).toBeLessThan(2_000_000); // 34.5 MB when the data were inside
    const data = packed.find((p) => p.name === '@tensorkit/datasets')!;
    expect(data.files.map((f) => f.path)).toEqual(expect.arrayContaining([
      'fashion-mnist/train-images-idx3-ubyte.gz', 'fashion-mnist/SHA256SUMS', 'mnist/t10k-labels-idx1-ubyte.gz', 'mnist/SHA256SUMS', 'README.md', 'index.js',
    ]));
  });

  it('loads with import and require and finds the data in the installed datasets package', () => {
    writeFileSync(join(app, 'esm.mjs'), `
      import { tensor, Sequential, Dense, ReLU, createOptimizer, loadMnist, vendoredDataDir } from 'tensorkit';
      import { datasetDir } from '@tensorkit/datasets';
      const m = new Sequential([new Dense({ units: 4 }), new ReLU(), new Dense({ units: 2 })], { inputShape: [3] });
      const y = m.forward(tensor([1, 2, 3], [1, 3]));
      const d = loadMnist({ trainLimit: 10, testLimit: 10 });
      console.log(JSON.stringify({ shape: y.shape, opt: createOptimizer('adam').kind, n: d.train.images.shape[0], data: vendoredDataDir(), mnist: datasetDir('mnist') }));
    `);
    writeFileSync(join(app, 'cjs.cjs'), `
      const tk = require('tensorkit');
      console.log(JSON.stringify({ shape: tk.zeros([2, 3]).shape, opt: tk.createOptimizer('nadam').kind }));
    `);
    const esm = run(app, process.execPath, ['esm.mjs']);
    expect(esm.err).toBe('');
    const installed = realpathSync(join(app, 'node_modules/@tensorkit/datasets'));
    expect(JSON.parse(esm.out)).toEqual({ shape: [1, 2], opt: 'adam', n: 10, data: installed, mnist: join(installed, 'mnist') + '/' });
    const cjs = run(app, process.execPath, ['--no-warnings', 'cjs.cjs']);
    expect(cjs.err).toBe('');
    expect(JSON.parse(cjs.out)).toEqual({ shape: [2, 3], opt: 'nadam' });
  });

  it('the core entry loads with no other package installed; without the datasets, training names the fix', () => {
    const bare = join(work, 'bare');
    cpSync(join(app, 'node_modules/tensorkit'), join(bare, 'node_modules/tensorkit'), { recursive: true });
    writeFileSync(join(bare, 'package.json'), JSON.stringify({ name: 'bare', version: '1.0.0', private: true }));
    const load = run(bare, process.execPath, ['--input-type=module', '-e', "const tk = await import('tensorkit'); console.log(typeof tk.Sequential, typeof tk.loadFashionMnist)"]);
    expect(load.err).toBe('');
    expect(load.out.trim()).toBe('function function');
    const train = run(bare, process.execPath, ['node_modules/tensorkit/dist/cli/main.js', 'train', '--quick', '-d', 'mnist']);
    if (existsSync('/usr/share/datasets/mnist')) {
      expect(train.status).toBe(0); // a system copy is the last place looked at
    } else {
      expect(train.status).not.toBe(0);
      expect(train.err).toMatch(/mnist: no data found; install the datasets package \(npm install @tensorkit\/datasets\) or point at a folder of IDX files with \{ dir \} \(tensorkit train --data DIR\)/);
      expect(train.err).not.toMatch(/\n\s+at /); // a message, not a stack trace
    }
  });

  it('runs every documented tensorkit command from the installed packages', () => {
    const help = tensorkit('--help');
    expect(help.status).toBe(0);
    expect(help.out).toMatch(/^tensorkit 0\.1\.0: /);
    for (const cmd of ['train', 'sweep', 'runs', 'report', 'summary', 'export-onnx']) expect(help.out).toMatch(new RegExp(`\\n  ${cmd} `));
    expect(tensorkit('train', '--help').out).toMatch(/usage: tensorkit train/);

    // train --quick on the data of the installed @tensorkit/datasets, keeping a model file.
    const train = tensorkit('train', '--quick', '-nhl', '1', '-sz', '32', '-lr', '0.005', '--checkpoint_every', '1', '--name', 'quick', '--threads', '1');
    expect(train.status, train.err).toBe(0);
    expect(train.out).toMatch(/training mlp on fashion-mnist \(900 train \/ 100 val \/ 500 test\)/);
    const runDir = join(app, 'runs/tensorkit/local/quick');
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as { test_accuracy: number };
    expect(summary.test_accuracy).toBeGreaterThan(0.5); // 1 epoch on 900 images; chance is 0.1
    const model = join(runDir, 'checkpoints/last.safetensors');
    expect(existsSync(model)).toBe(true);

    // --import of a TypeScript plugin (Node 22 and 24 strip its types) that registers an optimizer by name.
    writeFileSync(join(app, 'plugin.ts'), `import { createOptimizer, registerOptimizer, type Optimizer } from 'tensorkit';
registerOptimizer('plain-sgd', (config: Record<string, unknown> = {}): Optimizer => createOptimizer('sgd', config));
`);
    const plugin = tensorkit('train', '--import', './plugin.ts', '-o', 'plain-sgd', '--quick', '-nhl', '0', '--name', 'plugin', '--threads', '1');
    expect(plugin.status, plugin.err).toBe(0);
    expect(JSON.parse(readFileSync(join(app, 'runs/tensorkit/local/plugin/params.json'), 'utf8')).optimizer).toBe('plain-sgd');

    // A TypeScript plugin layer written with the installed kit: train with it by name, then summary and
    // export-onnx load that run's model with --import (ONNX has no op for it: the error names the layer).
    writeFileSync(join(app, 'layer.ts'), `import { Activation, registerLayer } from 'tensorkit';
import { defineElementwise } from 'tensorkit/plugin';
const SOFTSIGN = defineElementwise({ name: 'softsign', arrays: ['y', 'x'], body: ({ x }) => ({ y: x.div(x.abs().add(1)) }) });
const SOFTSIGN_GRAD = defineElementwise({ name: 'softsign-grad', arrays: ['dx', 'dy', 'x'], body: ({ dy, x }) => {
  const d = x.abs().add(1);
  return { dx: dy.div(d.mul(d)) };
} });
class Softsign extends Activation {
  readonly kind = 'softsign';
  constructor() { super('Softsign'); }
  protected apply(y: Float32Array, x: Float32Array): void { SOFTSIGN.run(y.length, y, x); }
  protected gradient(dx: Float32Array, dy: Float32Array, x: Float32Array): void { SOFTSIGN_GRAD.run(dx.length, dx, dy, x); }
}
registerLayer('softsign', () => new Softsign());
`);
    const soft = tensorkit('train', '--import', './layer.ts', '-a', 'softsign', '--quick', '-nhl', '1', '-sz', '16', '--name', 'soft', '--threads', '1');
    expect(soft.status, soft.err).toBe(0);
    const softModel = join(app, 'runs/tensorkit/local/soft/model.safetensors');
    expect(tensorkit('summary', softModel).status).not.toBe(0); // softsign is unknown without the plugin
    const softSum = tensorkit('summary', '--import', './layer.ts', softModel);
    expect(softSum.status, softSum.err).toBe(0);
    expect(softSum.out).toMatch(/softsign +\[batch, 16\] +0 +\?/);
    const softOnnx = tensorkit('export-onnx', '--import', './layer.ts', softModel, 'soft.onnx');
    expect(softOnnx.err).toMatch(/softsign/);

    const list = tensorkit('runs', 'list');
    expect(list.status, list.err).toBe(0);
    expect(list.out).toMatch(/tensorkit\/local\/quick\s+finished/);
    expect(list.out).toMatch(/tensorkit\/local\/plugin\s+finished/);
    expect(list.out).toMatch(/^3 runs$/m);

    // report renders its charts with vega and vega-lite: dependencies of the package, installed with it.
    const report = tensorkit('report', 'runs', '--out', 'report.html');
    expect(report.status, report.err).toBe(0);
    const html = readFileSync(join(app, 'report.html'), 'utf8');
    expect(html).toMatch(/<svg/);

    const sum = tensorkit('summary', model);
    expect(sum.status, sum.err).toBe(0);
    expect(sum.out).toMatch(/25,?450/); // 784·32 + 32 + 32·10 + 10 parameters

    const onnx = tensorkit('export-onnx', model, 'model.onnx');
    expect(onnx.status, onnx.err).toBe(0);
    const bytes = readFileSync(join(app, 'model.onnx'));
    expect(bytes[0]).toBe(0x08); // field 1 (ir_version, varint): the first byte of an ONNX ModelProto
    expect(bytes.includes(Buffer.from('Gemm'))).toBe(true);

    writeFileSync(join(app, 'tiny.json'), JSON.stringify({
      name: 'tiny', method: 'grid', metric: { name: 'test_accuracy', goal: 'maximize' },
      parameters: { num_layers: { value: 0 }, learning_rate: { values: [0.01, 0.001] } },
    }));
    const sweep = tensorkit('sweep', 'tiny.json', '--quick', '--threads', '1', '--out', 'sweeps', '--report');
    expect(sweep.status, sweep.out + sweep.err).toBe(0);
    expect(sweep.out).toMatch(/2 finished, 0 stopped early, 0 failed/);
    expect(readFileSync(join(app, 'sweeps/tiny/report.html'), 'utf8')).toMatch(/<svg/);
  }, 120_000);
});
