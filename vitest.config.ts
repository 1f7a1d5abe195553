import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Examples import the package by its public names; inside the repo that is the source tree.
    alias: [
      { find: /^tensorkit\/(plugin|experiments|plots|analysis)$/, replacement: new URL('./src/$1/index.ts', import.meta.url).pathname },
      { find: /^tensorkit\/node$/, replacement: new URL('./src/node.ts', import.meta.url).pathname },
      { find: /^tensorkit\/internals$/, replacement: new URL('./src/internals.ts', import.meta.url).pathname },
      { find: /^tensorkit$/, replacement: new URL('./src/index.ts', import.meta.url).pathname },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Test files already run in parallel processes; each on one gemm thread keeps the 2-core CI machine
    // from oversubscribing. test/runtime/workers.test.ts sets thread counts explicitly.
    env: { TENSORKIT_THREADS: '1' },
  },
});
