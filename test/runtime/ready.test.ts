// ready() (runtime/tasks.ts) and the pool's shared-memory mailbox (runtime/workers.ts), in a fresh child
// process each so the runtime is not loaded yet: ready() compiles the module asynchronously, starts the
// pool and resolves (the workers are unref'd: it must keep the process alive until they run); a kernel
// compiled after the pool started reaches the workers through the mailbox and gives the bits of its
// TypeScript twin; the process still exits on its own afterwards.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { availableCores } from '../../src/runtime/workers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SRC = (file: string): string => JSON.stringify(new URL(`../../src/${file}`, import.meta.url).pathname);

/** Runs `script` as an ES module in a child Node (tsx), returns its parsed last stdout line; throws with its stderr. */
function runChild(script: string): unknown {
  const result = spawnSync(process.execPath, ['--no-warnings', '--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT, encoding: 'utf8', timeout: 60_000,
  });
  if (result.status !== 0) throw new Error(`child exited with ${String(result.status ?? result.signal)}: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').pop() ?? 'null');
}

describe('ready()', () => {
  it('compiles asynchronously, starts the pool, and a kernel posted afterwards gives its twin\'s bits', () => {
    const threads = Math.min(2, availableCores());
    const script = `
      const { ready, runtimeInfo, setThreads } = await import(${SRC('browser.ts')});
      const { defineElementwise, heapFloat32 } = await import(${SRC('plugin/index.ts')});
      setThreads(${threads});
      const info = await ready();
      const again = await ready();
      const kernel = defineElementwise({ name: 'ready-test', arrays: ['p', 'g'], scalars: ['s'], body: ({ p, g }, { s }) => ({ p: p.mul(s).add(g) }) });
      const n = 1 << 19;
      const heapP = heapFloat32(n), heapG = heapFloat32(n), plainP = new Float32Array(n), plainG = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        heapP[i] = plainP[i] = Math.fround(Math.sin(i));
        heapG[i] = plainG[i] = Math.fround(Math.cos(i) / 8);
      }
      for (let r = 0; r < 16; r++) {
        kernel.run(n, heapP, heapG, r % 2 ? 0.5 : 0.75); // SIMD, split over the threads
        kernel.run(n, plainP, plainG, r % 2 ? 0.5 : 0.75); // the TypeScript twin, here
      }
      let differ = 0;
      for (let i = 0; i < n; i++) if (!Object.is(heapP[i], plainP[i])) differ++;
      console.log(JSON.stringify({ info, again, differ, after: runtimeInfo() }));
    `;
    const out = runChild(script) as { info: Record<string, unknown>; again: Record<string, unknown>; differ: number; after: Record<string, unknown> };
    expect(out.info).toMatchObject({ compiledAsync: true, sharedMemory: true, threads, poolWorkers: threads - 1, singleThreadReason: threads > 1 ? null : 'one core' });
    expect(out.again).toEqual(out.info);
    expect(out.differ).toBe(0);
    expect(out.after).toMatchObject({ threads, poolWorkers: threads - 1 });
  }, 90_000);

  it('without SharedArrayBuffer: one thread, still compiled asynchronously', () => {
    const script = `
      const { ready } = await import(${SRC('browser.ts')});
      delete globalThis.SharedArrayBuffer;
      console.log(JSON.stringify(await ready()));
    `;
    expect(runChild(script)).toMatchObject({
      compiledAsync: true, sharedMemory: false, threads: 1, poolWorkers: 0, workerShares: 0, singleThreadReason: expect.stringMatching(/^SharedArrayBuffer is not available/),
    });
  }, 60_000);
});
