// The README's "Writing models" example, run as written: the code block is extracted from README.md,
// pointed at src/, given a small batch of training data, and imported.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Module, Variable } from '../../src/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Writing models'));
const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
const dir = mkdtempSync(join(tmpdir(), 'tensorkit-readme-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('README "Writing models"', () => {
  it('has a residual block of at most 15 lines', () => {
    const lines = code.split('\n');
    const start = lines.findIndex((l) => l.startsWith('class Residual'));
    const end = lines.findIndex((l, i) => i > start && l === '}');
    expect(start).toBeGreaterThanOrEqual(0);
    expect(end - start + 1).toBeLessThanOrEqual(15);
  });

  it('runs as written: builds, trains one epoch, and names parameters by attribute path', async () => {
    const header = [
      "import { Tensor as T_, Rng as R_ } from 'tensorkit';",
      'const r_ = new R_(1);',
      'const trainX = new T_(Float32Array.from({ length: 32 * 784 }, () => r_.normal()), [32, 1, 28, 28]);',
      'const trainY = new T_(Float32Array.from({ length: 32 }, (_, i) => i % 10), [32]);',
    ].join('\n');
    const source = `${header}\n${code}\nexport { model, Net, Residual };\n`
      .replaceAll("from 'tensorkit'", `from ${JSON.stringify(pathToFileURL(join(root, 'src/index.ts')).href)}`);
    const file = join(dir, 'readme-residual.ts');
    writeFileSync(file, source);
    const mod = await import(pathToFileURL(file).href) as { model: Module };
    const names = mod.model.namedParameters().map(([n]) => n);
    expect(names.slice(0, 3)).toEqual(['stem.weight', 'stem.bias', 'blocks.0.conv1.weight']);
    expect(names).toContain('blocks.1.bn2.bias');
    expect(Object.keys(mod.model.stateDict())).toContain('blocks.0.bn1.running_mean');
    const out = mod.model.forward(new Variable(new (await import('../../src/index.js')).Tensor(new Float32Array(2 * 784), [2, 1, 28, 28]))) as Variable;
    expect(out.shape).toEqual([2, 10]);
  });
});
