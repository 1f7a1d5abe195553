import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importModule, nodeStripsTypes, typeScriptImportHelp } from '../../src/cli/import-module.js';

const root = new URL('../..', import.meta.url).pathname;
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const distMain = join(root, 'dist', 'cli', 'main.js');

/**
 * A plugin written in TypeScript (erasable syntax only, so Node's type stripping runs it): a custom
 * activation layer `softsign` (y = x / (1 + |x|), dy/dx = 1 / (1 + |x|)²) and an optimizer `plain-sgd`.
 */
function pluginSource(library: string): string {
  return `import { registerLayer, registerOptimizer, Sgd, zeros, type Layer, type Tensor } from ${JSON.stringify(library)};

class Softsign implements Layer {
  readonly kind = 'softsign';
  private x: Tensor | null = null;
  private y: Tensor | null = null;
  private dx: Tensor | null = null;
  build(inputShape: readonly number[]): readonly number[] {
    return inputShape.slice();
  }
  forward(x: Tensor): Tensor {
    if (this.y === null || this.y.shape.join() !== x.shape.join()) {
      this.y = zeros(x.shape);
      this.dx = zeros(x.shape);
    }
    for (let i = 0; i < x.size; i++) this.y.data[i] = x.data[i] / (1 + Math.abs(x.data[i]));
    this.x = x;
    return this.y;
  }
  backward(dy: Tensor): Tensor {
    const x = this.x as Tensor;
    const dx = this.dx as Tensor;
    for (let i = 0; i < x.size; i++) dx.data[i] = dy.data[i] / ((1 + Math.abs(x.data[i])) ** 2);
    return dx;
  }
  params() {
    return [];
  }
  getConfig(): Record<string, unknown> {
    return {};
  }
}

class PlainSgd extends Sgd {
  override readonly kind = 'plain-sgd';
}

registerLayer('softsign', () => new Softsign(), { override: true });
registerOptimizer('plain-sgd', (c: Record<string, unknown> = {}) => new PlainSgd({ lr: c.lr as number, weightDecay: c.weightDecay as number }), { override: true });
`;
}

describe('--import of train, summary and export-onnx', () => {
  it('names the Node version needed for TypeScript, and missing files', async () => {
    const text = typeScriptImportHelp('./plugin.ts', 'v20.20.2');
    expect(text).toMatch(/--import \.\/plugin\.ts: importing a TypeScript file needs Node 22\.18 or newer/);
    expect(text).toMatch(/this is Node v20\.20\.2/);
    expect(text).toMatch(/compile the module to \.js/);
    await expect(importModule('./no-such-plugin.ts')).rejects.toThrow(/--import \.\/no-such-plugin\.ts: no such file/);
    await expect(importModule('no-such-package-tk')).rejects.toThrow(/--import no-such-package-tk: /);
    const work = mkdtempSync(join(tmpdir(), 'tk-import-'));
    const throwing = join(work, 'throws.mjs');
    writeFileSync(throwing, "throw new Error('plugin exploded');\n");
    await expect(importModule(throwing)).rejects.toThrow(/--import .*throws\.mjs: plugin exploded/);
  });

  it('a .ts plugin registers a layer and an optimizer for train; summary and export-onnx load its models with --import', () => {
    const work = mkdtempSync(join(tmpdir(), 'tk-import-'));
    const plugin = join(work, 'plugin.ts');
    writeFileSync(plugin, pluginSource(join(root, 'src/index.ts')));
    // An ES-module project, as a user's would be (tsx would otherwise load a bare .ts file as CommonJS,
    // which gives the plugin its own copy of the registries).
    writeFileSync(join(work, 'package.json'), '{ "type": "module" }\n');
    const run = (args: string[]) => spawnSync(tsx, [join(root, 'src/cli/main.ts'), ...args], { cwd: work, encoding: 'utf8' });

    const t = run(['train', '--import', './plugin.ts', '-a', 'softsign', '-o', 'plain-sgd', '-lr', '0.1', '--quick', '-nhl', '1', '-sz', '8', '--out', work, '--name', 'soft']);
    expect(t.stderr).not.toMatch(/tensorkit train:/);
    expect(t.status).toBe(0);
    const model = join(work, 'tensorkit', 'local', 'soft', 'model.safetensors');
    expect(existsSync(model)).toBe(true);

    const without = run(['summary', model]);
    expect(without.status).toBe(1);
    expect(without.stderr).toMatch(/softsign/);
    const summary = run(['summary', '--import', './plugin.ts', model]);
    expect(summary.stderr).toBe('');
    expect(summary.status).toBe(0);
    // The custom layer keeps its row; its unknown costs show as "?", and the totals say they are partial.
    expect(summary.stdout).toMatch(/^1 +softsign +\[batch, 8\] +0 +\? +\? +\? +\?$/m);
    expect(summary.stdout).toMatch(/Total .*\+\?/);

    // A built-in network trained with the plugin's optimizer: its checkpoint names plain-sgd.
    expect(run(['train', '--import', plugin, '-o', 'plain-sgd', '--quick', '-nhl', '0', '--checkpoint_every', '1', '--out', work, '--name', 'relu']).status).toBe(0);
    const reluModel = join(work, 'tensorkit', 'local', 'relu', 'checkpoints', 'last.safetensors');
    expect(run(['summary', '--import', './plugin.ts', reluModel]).stdout).toMatch(/optimizer: plain-sgd/);
    const onnxOut = join(work, 'relu.onnx');
    const bad = run(['export-onnx', reluModel, onnxOut]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/plain-sgd/);
    const ok = run(['export-onnx', `--import=${plugin}`, reluModel, onnxOut]);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(readFileSync(onnxOut).length).toBeGreaterThan(100);
  }, 60_000);

  it.skipIf(!existsSync(distMain))('plain node (dist): a .ts plugin works where Node strips types, else exits 2 naming the Node version; .mjs always works', () => {
    const work = mkdtempSync(join(tmpdir(), 'tk-import-dist-'));
    writeFileSync(join(work, 'plugin.ts'), pluginSource(join(root, 'dist/index.js')));
    // The same module with the types removed by hand: what a user without type stripping would ship.
    writeFileSync(join(work, 'plugin.mjs'), pluginSource(join(root, 'dist/index.js'))
      .replace(', type Layer, type Tensor', '').replace(' implements Layer', '')
      .replace(/: Tensor \| null/g, '').replace(/\(inputShape: readonly number\[\]\): readonly number\[\]/, '(inputShape)')
      .replace(/\(x: Tensor\): Tensor/, '(x)').replace(/\(dy: Tensor\): Tensor/, '(dy)').replace(/ as Tensor/g, '')
      .replace(/getConfig\(\): Record<string, unknown>/, 'getConfig()').replace(/\(c: Record<string, unknown> = \{\}\)/, '(c = {})')
      .replace(/ as number/g, '').replace(/(readonly|private|override) /g, ''));
    const node = (args: string[]) => spawnSync(process.execPath, [distMain, ...args], { cwd: work, encoding: 'utf8' });
    const mjs = node(['train', '--import', './plugin.mjs', '-a', 'softsign', '-o', 'plain-sgd', '--quick', '-nhl', '1', '-sz', '4', '--out', work, '--name', 'm']);
    expect(mjs.stderr).not.toMatch(/tensorkit train:/);
    expect(mjs.status).toBe(0);
    const ts = node(['train', '--import', './plugin.ts', '-a', 'softsign', '--quick', '-nhl', '1', '-sz', '4', '--out', work, '--name', 't']);
    if (nodeStripsTypes()) {
      expect(ts.stderr).not.toMatch(/tensorkit train:/);
      expect(ts.status).toBe(0);
    } else {
      expect(ts.status).toBe(2);
      expect(ts.stderr).toContain(typeScriptImportHelp('./plugin.ts'));
      expect(ts.stderr).not.toMatch(/ERR_UNKNOWN_FILE_EXTENSION|\n +at /);
    }
  }, 60_000);
});
