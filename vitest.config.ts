import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Examples import the package by its public name; inside the repo that is the source tree.
    alias: { tensorkit: new URL('./src/index.ts', import.meta.url).pathname },
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Test files already run in parallel processes; each on one gemm thread keeps the 2-core CI machine
    // from oversubscribing. test/tensor/threads.test.ts sets thread counts explicitly.
    env: { TENSORKIT_THREADS: '1' },
  },
});
