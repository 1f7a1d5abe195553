// The packed tarball installs into an empty project where both import and require of 'tensorkit' work.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;

describe('npm package', () => {
  it('packs, installs into an empty project (from the npm cache where it can), and loads with import and require', () => {
    if (!existsSync(join(root, 'dist/index.js'))) execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'pipe' });
    const work = mkdtempSync(join(tmpdir(), 'tk-pack-'));
    execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: root, stdio: 'pipe' });
    const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
    expect(tgz).toBeDefined();
    const app = join(work, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    // --prefer-offline, not --offline: the CLI's dependencies (bullmq, ioredis for distributed sweeps) may
    // need registry metadata that `npm ci` never cached.
    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(work, tgz!)], { cwd: app, stdio: 'pipe' });
    expect(existsSync(join(app, 'node_modules/bullmq/package.json'))).toBe(true);
    writeFileSync(join(app, 'esm.mjs'), `
      import { tensor, Sequential, Dense, ReLU, createOptimizer, loadMnist } from 'tensorkit';
      const m = new Sequential([new Dense({ units: 4 }), new ReLU(), new Dense({ units: 2 })], { inputShape: [3] });
      const y = m.forward(tensor([1, 2, 3], [1, 3]));
      const d = loadMnist({ trainLimit: 10, testLimit: 10 });
      console.log(JSON.stringify({ shape: y.shape, opt: createOptimizer('adam').kind, n: d.train.images.shape[0] }));
    `);
    writeFileSync(join(app, 'cjs.cjs'), `
      const tk = require('tensorkit');
      console.log(JSON.stringify({ shape: tk.zeros([2, 3]).shape, opt: tk.createOptimizer('nadam').kind }));
    `);
    const esm = JSON.parse(execFileSync('node', ['esm.mjs'], { cwd: app, encoding: 'utf8' }));
    expect(esm).toEqual({ shape: [1, 2], opt: 'adam', n: 10 });
    const cjs = JSON.parse(execFileSync('node', ['--no-warnings', 'cjs.cjs'], { cwd: app, encoding: 'utf8' }));
    expect(cjs).toEqual({ shape: [2, 3], opt: 'nadam' });
  }, 120_000);
});
