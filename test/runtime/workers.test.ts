// The worker-thread pool behind gemm (runtime/workers.ts, tasks.ts): thread-count validation, multi- vs
// single-threaded results bit for bit at awkward sizes, all transposes and accumulate, against the
// naive reference; the pool itself on a test module (worker errors and hangs surface as thrown
// Errors); and in child processes: TENSORKIT_THREADS, a process with an idle pool exits promptly,
// and the compiled dist/ runs threaded with plain node.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gemm, gemmBatch, gemmNaive } from '../../src/tensor/gemm.js';
import { heapFloat32 } from '../../src/runtime/heap.js';
import { ADD_PARTS, KERNEL_MIN_CHUNK, RELU, defineKernel } from '../../src/runtime/kernel-table.js';
import { addPartsTwin } from '../../src/runtime/twins.js';
import { jobSharesAt, setJobObserver, type JobInfo } from '../../src/runtime/job-observer.js';
import { wasmGemmShares } from '../../src/runtime/tasks.js';
import { WASM_DEPTH_SPLIT_MAX_PARTS, WASM_THREAD_MIN_VOLUME, depthParts } from '../../src/runtime/gemm-plan.js';
import { MAILBOX_BYTES, SHARE_ARGS, WorkerPool, availableCores, getThreads, setThreads } from '../../src/runtime/workers.js';
import { assertClose } from '../util/assert-close.js';
import { testRng } from '../util/rng.js';
import { randomArray, COMBOS, label } from '../util/gemm.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const multiCore = availableCores() >= 2;

/** Index of the first element whose bits differ (+0 vs −0 counts), or −1. */
function firstDifference(x: Float32Array, y: Float32Array): number {
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return i;
  return x.length === y.length ? -1 : Math.min(x.length, y.length);
}

/**
 * Each shape in all four layouts, overwriting and accumulating: gemm on 2 threads returns `out`, has
 * the bits of 1 thread, and is close to the naive reference (which sums in doubles, the kernel in
 * float32 per 256-deep block: see gemm-plan.test.ts).
 */
function expectOneThreadBits(shapes: readonly (readonly [number, number, number])[], seed: number): void {
  const rng = testRng(seed);
  for (const [m, n, k] of shapes) {
    const a = randomArray(m * k, rng);
    const b = randomArray(k * n, rng);
    const init = randomArray(m * n, rng);
    const tol = { atol: 1e-5 * (1 + Math.sqrt(k)), rtol: 1e-5 };
    for (const opts of COMBOS) {
      for (const accumulate of [false, true]) {
        const what = `${label(opts)} ${m}×${n}×${k} accumulate=${accumulate}`;
        setThreads(1);
        const single = gemm(init.slice(), a, b, m, n, k, { ...opts, accumulate });
        setThreads(2);
        const out = init.slice();
        expect(gemm(out, a, b, m, n, k, { ...opts, accumulate }), `${what} returns out`).toBe(out);
        expect(firstDifference(out, single), `${what}: first element differing from 1 thread`).toBe(-1);
        assertClose(out, gemmNaive(init.slice(), a, b, m, n, k, { ...opts, accumulate }), { ...tol, what: `${what} vs naive` });
      }
    }
  }
}

/** Runs a tsx script (ESM) in a child node with the given environment; returns its stdout. */
function runChild(script: string, env: Record<string, string> = {}, timeoutMs = 20_000): string {
  return execFileSync(process.execPath, ['--no-warnings', '--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, ...env },
  });
}

const SRC = (file: string): string => JSON.stringify(new URL(`../../src/${file}`, import.meta.url).pathname);

describe('setThreads / getThreads', () => {
  afterEach(() => setThreads(availableCores()));

  it('rejects anything but a positive integer, naming the value', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => setThreads(bad), String(bad)).toThrow(`setThreads: threads must be a positive integer, got ${String(bad)}`);
    }
    expect(() => setThreads('2' as unknown as number)).toThrow('got 2');
  });

  it('takes 1 … cores and clamps larger requests to the cores (never more busy threads than cores)', () => {
    setThreads(1);
    expect(getThreads()).toBe(1);
    setThreads(availableCores());
    expect(getThreads()).toBe(availableCores());
    setThreads(availableCores() + 7);
    expect(getThreads()).toBe(availableCores());
  });

  it('keeps small products on one thread and splits large ones', () => {
    setThreads(1);
    expect(wasmGemmShares(512, 512, 512)).toBe(1);
    setThreads(availableCores());
    expect(wasmGemmShares(8, 8, 8)).toBe(1);
    const edge = Math.ceil(Math.cbrt(2 * WASM_THREAD_MIN_VOLUME)) + 1;
    expect(wasmGemmShares(edge, edge, edge)).toBe(Math.min(2, availableCores()));
    // never more shares of C than register tiles along the split side: 8 × 8 is one tile
    expect(wasmGemmShares(8, 8, 3200)).toBe(1);
    // ... but a small C with a long depth is split along k instead (see the depth-split tests)
    expect(wasmGemmShares(1, 8, 10 * WASM_THREAD_MIN_VOLUME)).toBe(availableCores() > 1 ? WASM_DEPTH_SPLIT_MAX_PARTS : 1);
  });

  it.skipIf(!multiCore)('gives a large product up to 4 shares per thread while each keeps 64 rows or columns', () => {
    setThreads(2);
    expect(wasmGemmShares(512, 512, 512)).toBe(8); // 2 threads × 4, 64 columns each
    expect(wasmGemmShares(256, 256, 256)).toBe(4); // 256 / 64
    expect(wasmGemmShares(33, 100, 4000)).toBe(2); // one per thread even below the span floor
    expect(wasmGemmShares(32, 100, 9216)).toBe(4); // split along k: ⌊9216 / 2048⌋ parts
    expect(wasmGemmShares(9216, 100, 32)).toBe(8); // rows split (m > n)
  });
});

describe.skipIf(!multiCore)('gemm on 2 threads vs 1', () => {
  afterAll(() => setThreads(availableCores()));

  // Awkward sizes (1, 7, 33, 65, 129, not multiples of the 4×8 tile), each big enough (m·n·k ≥
  // 2·WASM_THREAD_MIN_VOLUME) to be split; rows are split when m > n, columns otherwise.
  const SHAPES: readonly [number, number, number][] = [
    [1, 1000, 300], [1000, 1, 300], [7, 1000, 65], [1000, 7, 65], [33, 129, 65], [129, 33, 65],
    [65, 65, 129], [129, 129, 33], [65, 7, 1000], [33, 33, 600],
  ];

  it('splits every test shape (into 2 to 8 shares on 2 threads)', () => {
    setThreads(2);
    const counts = SHAPES.map(([m, n, k]) => wasmGemmShares(m, n, k));
    for (const c of counts) expect(c).toBeGreaterThanOrEqual(2);
    expect(Math.max(...counts)).toBeGreaterThan(2); // some with more shares than threads
  });

  it('is bit-identical to 1 thread for all four layouts, overwrite and accumulate, and close to naive', () => {
    expectOneThreadBits(SHAPES, 71);
  });

  it('stays bit-identical across cache blocks (k > 256, n > 1024) and after the memory grows', () => {
    const rng = testRng(72);
    for (const [m, n, k] of [[37, 1100, 300], [300, 45, 520], [2000, 1500, 1]] as const) {
      const a = randomArray(m * k, rng);
      const b = randomArray(k * n, rng);
      setThreads(1);
      const single = gemm(new Float32Array(m * n), a, b, m, n, k, { transB: true });
      setThreads(2);
      const multi = gemm(new Float32Array(m * n), a, b, m, n, k, { transB: true });
      expect(firstDifference(multi, single), `${m}×${n}×${k}`).toBe(-1);
    }
  });
});

describe.skipIf(!multiCore)('gemm split along k (small C, long depth)', () => {
  afterEach(() => setThreads(availableCores()));

  it('picks the parts from the shape alone (hand-checked cases)', () => {
    expect(depthParts(32, 100, 9216)).toBe(4); // Dense forward of net000: ⌊9216 / 2048⌋
    expect(depthParts(64, 10, 12544)).toBe(6); // net004
    expect(depthParts(3, 5, 4096)).toBe(2);
    expect(depthParts(3, 5, 4095)).toBe(1); // too shallow
    expect(depthParts(7, 9, 100_000)).toBe(WASM_DEPTH_SPLIT_MAX_PARTS);
    expect(depthParts(200, 100, 9216)).toBe(1); // C too large
    expect(depthParts(16, 600, 4799)).toBe(1); // k < 8·max(m, n)
    expect(depthParts(16, 600, 4800)).toBe(2);
  });

  it('gives the bits of 1 thread for all four layouts, overwrite and accumulate, close to naive', () => {
    expectOneThreadBits([[32, 100, 9216], [3, 5, 4100], [7, 9, 20_000], [1, 1, 4096]], 73);
  });
});

/** Runs `fn` with a job observer that records a copy of every job's info; returns the copies. */
function recordJobs(fn: () => void): JobInfo[] {
  const jobs: JobInfo[] = [];
  setJobObserver({ begin: (job) => { jobs.push({ ...job }); }, end: () => {} });
  try {
    fn();
  } finally {
    setJobObserver(null);
  }
  return jobs;
}

describe('job observer (setJobObserver, jobSharesAt)', () => {
  afterEach(() => { setJobObserver(null); setThreads(availableCores()); });

  it('rejects an observer without begin and end, naming them', () => {
    expect(() => setJobObserver({ begin: () => {} } as never)).toThrow('setJobObserver: the observer must have begin(job) and end(job) functions');
  });

  it('sees every gemm with its shape and its shares, and jobSharesAt gives the plan at any thread count', () => {
    const rng = testRng(81);
    const [m, n, k] = [96, 200, 64]; // 1.2e6 ≥ 2·WASM_THREAD_MIN_VOLUME: split on 2 threads
    const a = randomArray(m * k, rng);
    const b = randomArray(k * n, rng);
    setThreads(1);
    const one = recordJobs(() => gemm(new Float32Array(m * n), a, b, m, n, k));
    expect(one.map((j) => [j.kind, j.m, j.n, j.k, j.threads, j.shares])).toEqual([['gemm', m, n, k, 1, 1]]);
    expect(jobSharesAt(one[0], 1)).toBe(1);
    if (!multiCore) return;
    // planShares: 2 threads, max(2, min(8, ⌊200 / 64⌋ = 3)) = 3 column shares (≤ 25 tiles, ≤ 12 by volume)
    expect(jobSharesAt(one[0], 2)).toBe(3);
    setThreads(2);
    const two = recordJobs(() => gemm(new Float32Array(m * n), a, b, m, n, k));
    expect(two.map((j) => [j.kind, j.threads, j.shares])).toEqual([['gemm', 2, 3]]);
    expect(() => jobSharesAt(one[0], 0)).toThrow('jobSharesAt: threads must be a positive integer, got 0');
  });

  it('sees a kernel-table range with its kernel, count and chunk', () => {
    const n = 70_000; // ≥ KERNEL_MIN_PARALLEL: chunks of 16384, ⌈70000 / 16384⌉ = 5 chunks
    const x = heapFloat32(n);
    const y = heapFloat32(n);
    setThreads(1);
    const jobs = recordJobs(() => RELU.run(n, y, x));
    expect(jobs.map((j) => [j.kind, j.kernel, j.count, j.chunk, j.chunks, j.shares])).toEqual([['range', RELU.id, n, 16384, 5, 1]]);
    expect(jobSharesAt(jobs[0], 2)).toBe(Math.min(5, 8));
  });
});

describe('kernel-table split by work (KernelSpec.workScalar)', () => {
  afterEach(() => { setJobObserver(null); setThreads(availableCores()); });

  it('splits add-parts by n·parts: 18432 elements × 64 parts (net004\'s dW) in chunks of 256, the bits of 1 thread and of the twin', () => {
    const [n, parts] = [18432, 64];
    const rng = testRng(95);
    const src = heapFloat32(n * parts);
    src.set(randomArray(n * parts, rng));
    const init = randomArray(n, rng);
    const twin = init.slice();
    addPartsTwin(twin, src, n, parts, n);
    for (const threads of multiCore ? [1, 2] : [1]) {
      setThreads(threads);
      const dst = heapFloat32(n);
      dst.set(init);
      const jobs = recordJobs(() => ADD_PARTS.run(n, dst, src, parts, n));
      // 16384 / 64 = 256 elements per chunk → 72 chunks, 8 shares on 2 threads
      expect(jobs.map((j) => [j.kind, j.count, j.chunk, j.chunks, jobSharesAt(j, 2)])).toEqual([['range', n, 256, 72, 8]]);
      expect(firstDifference(dst, twin), `threads=${threads}`).toBe(-1);
    }
    // A small product of work stays in one chunk: 1000 × 64 < KERNEL_MIN_PARALLEL.
    const few = recordJobs(() => ADD_PARTS.run(1000, heapFloat32(1000), src, parts, 1000));
    expect(few.map((j) => j.chunks)).toEqual([1]);
    expect(KERNEL_MIN_CHUNK).toBe(256);
  });

  it('rejects a workScalar that is not a scalar index of an elements kernel, naming it', () => {
    expect(() => defineKernel({ name: 'bad-work', arrays: 1, scalars: 1, twin: () => {}, workScalar: 1 }))
      .toThrow('defineKernel bad-work: workScalar must be the index of a scalar, an integer in [0, 1), on an elements kernel; got 1');
  });
});

describe('gemmBatch', () => {
  afterEach(() => setThreads(availableCores()));

  it('checks its count against the arrays, naming both', () => {
    const x = new Float32Array(4);
    expect(() => gemmBatch([x], [x, x], [x, x], 2, 2, 2, 1)).toThrow('gemmBatch: count 2 exceeds the arrays given (outs 1, as 2, bs 2)');
    expect(() => gemmBatch([x], [x], [x], -1, 2, 2, 1)).toThrow('gemmBatch: count must be a non-negative integer, got -1');
    expect(() => gemmBatch([x], [x], [x], 1, 3, 3, 3)).toThrow(); // the per-product checks of gemm
  });

  // A batch of products too small to split by themselves (576×16×16 is a Winograd F(4,3) tile
  // position of net000's second conv: 147456 < 2·WASM_THREAD_MIN_VOLUME), in heap arrays and not,
  // all four layouts, overwrite and accumulate: the bits of one gemm call per product, on 1 and 2
  // threads; on 2 threads with heap arrays, one pool job with one share per product.
  // 784×64×32 ×36 (net004's second conv): each product would split by itself, but 36 per batch
  // balance 2 threads whole; 200×64×32 ×3: too few to balance, each product is split on its own.
  it.each([[576, 16, 16, 36], [7, 33, 65, 50], [33, 9, 40, 3], [784, 64, 32, 36], [200, 64, 32, 3]] as const)('%i×%i×%i ×%i: the bits of single gemm calls on 1 and 2 threads', (m, n, k, count) => {
    const rng = testRng(90 + m);
    for (const inHeap of [true, false]) {
      const make = (length: number): Float32Array => {
        const x = inHeap ? heapFloat32(length) : new Float32Array(length);
        x.set(randomArray(length, rng));
        return x;
      };
      const as = Array.from({ length: count }, () => make(m * k));
      const bs = Array.from({ length: count }, () => make(k * n));
      const init = Array.from({ length: count }, () => make(m * n));
      for (const opts of COMBOS) {
        for (const accumulate of [false, true]) {
          const what = `${label(opts)} ${m}×${n}×${k} ×${count} heap=${inHeap} accumulate=${accumulate}`;
          setThreads(1);
          const single = init.map((c, i) => gemm(c.slice(), as[i], bs[i], m, n, k, { ...opts, accumulate }));
          for (const threads of multiCore ? [1, 2] : [1]) {
            setThreads(threads);
            const outs = init.map((c) => {
              const o = inHeap ? heapFloat32(c.length) : new Float32Array(c.length);
              o.set(c);
              return o;
            });
            const jobs = recordJobs(() => gemmBatch(outs, as, bs, count, m, n, k, { ...opts, accumulate }));
            setThreads(2);
            const batched = inHeap && count * m * n * k >= 2 * WASM_THREAD_MIN_VOLUME && (count >= 4 || wasmGemmShares(m, n, k) === 1);
            setThreads(threads);
            // One job of `count` shares on 2 threads, of 1 share on 1 thread (which jobSharesAt still plans as `count`).
            expect(jobs.map((j) => j.kind), what).toEqual(batched ? ['gemm-batch'] : Array<string>(count).fill('gemm'));
            if (batched) expect([jobs[0].shares, jobSharesAt(jobs[0], 2)], what).toEqual([threads === 2 ? count : 1, count]);
            for (let i = 0; i < count; i++) {
              expect(firstDifference(outs[i], single[i]), `${what} threads=${threads} product ${i}`).toBe(-1);
            }
          }
          const i = count - 1;
          assertClose(single[i], gemmNaive(init[i].slice(), as[i], bs[i], m, n, k, { ...opts, accumulate }),
            { atol: 1e-5 * (1 + Math.sqrt(k)), rtol: 1e-5, what: `${what} vs naive` });
        }
      }
    }
  });
});

// The pool itself, on a tiny module with the gemm export's signature: a share stores argument 1 at
// byte address argument 9, then, by argument 0: 0 returns, 1 traps (unreachable), 2 loops forever.
const TEST_WAT = `(module
  (import "env" "memory" (memory 1 1 shared))
  (func (export "gemm") (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)
    (i32.store (local.get 9) (local.get 1))
    (if (i32.eq (local.get 0) (i32.const 1)) (then unreachable))
    (if (i32.eq (local.get 0) (i32.const 2)) (then (loop $forever (br $forever))))))`;

type ShareFn = (...args: number[]) => void;
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Memory: new (descriptor: object) => { buffer: SharedArrayBuffer };
  Instance: new (module: object, imports: object) => { exports: { gemm: ShareFn } };
}

describe('WorkerPool', () => {
  const W = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
  let module: object;
  let memory: { buffer: SharedArrayBuffer };
  let gemmHere: ShareFn;
  let marks: Int32Array; // share s stores 100 + s here, at byte 64 + 4s
  const pools: WorkerPool[] = [];

  beforeAll(async () => {
    const wabt = await (await import('wabt')).default();
    const parsed = wabt.parseWat('pool-test.wat', TEST_WAT, { threads: true });
    const bytes = parsed.toBinary({}).buffer;
    parsed.destroy();
    module = new W.Module(bytes);
    memory = new W.Memory({ initial: 1, maximum: 1, shared: true });
    gemmHere = new W.Instance(module, { env: { memory } }).exports.gemm;
    marks = new Int32Array(memory.buffer, 64, 16);
  });
  afterAll(() => { for (const pool of pools) pool.close(); });

  function newPool(size: number, mem: object = memory): WorkerPool {
    const pool = new WorkerPool(module, mem, new Array<number>(size).fill(0), { tasks: '[null]', helpers: '{}', setup: '', data: {} });
    pools.push(pool);
    return pool;
  }

  /** Share s: the given mode, stores 100 + s at byte 64 + 4s. */
  function shareArgs(modes: readonly number[]): Int32Array {
    const args = new Int32Array(modes.length * SHARE_ARGS);
    modes.forEach((mode, s) => {
      args[s * SHARE_ARGS] = mode;
      args[s * SHARE_ARGS + 1] = 100 + s;
      args[s * SHARE_ARGS + 9] = 64 + 4 * s;
    });
    return args;
  }

  /**
   * The caller's share function for jobs whose worker shares must run on workers (they trap or
   * hang): share 0 runs, then waits (≤ 5 s) until every other share has started on a worker, so
   * the caller finds none left to claim.
   */
  function callerWaitingForWorkers(shares: number): ShareFn {
    return (...args: number[]) => {
      gemmHere(...args);
      const until = performance.now() + 5000;
      for (let s = 1; s < shares; s++) while (Atomics.load(marks, s) === 0 && performance.now() < until);
    };
  }

  it('runs each share exactly once, whichever thread claims it', () => {
    const pool = newPool(3);
    for (const shares of [4, 2, 1, 12, 4]) {
      marks.fill(0);
      pool.run(shareArgs(new Array<number>(shares).fill(0)), shares, gemmHere, 5000);
      expect(Array.from(marks.subarray(0, shares)), `${shares} shares`).toEqual(Array.from({ length: shares }, (_, s) => 100 + s));
      expect(marks[shares] ?? 0).toBe(0);
    }
    expect(() => pool.run(shareArgs([0]), 256, gemmHere, 5000)).toThrow('shares must be an integer in [1, 255], got 256');
  });

  it('rethrows an error raised in a worker, naming the worker and the error, and stays usable', () => {
    const pool = newPool(2);
    marks.fill(0);
    expect(() => pool.run(shareArgs([0, 1, 0]), 3, callerWaitingForWorkers(3), 5000))
      .toThrow(/worker thread [12] failed: RuntimeError: unreachable/);
    expect(pool.closed).toBe(false);
    marks.fill(0);
    pool.run(shareArgs([0, 0, 0]), 3, gemmHere, 5000);
    expect(Array.from(marks.subarray(0, 3))).toEqual([100, 101, 102]);
  });

  it('reports a worker that cannot start (here: a memory its module cannot import) at once, by name', () => {
    const tooBig = new W.Memory({ initial: 2, maximum: 2, shared: true }); // the module imports at most 1 page
    const pool = newPool(1, tooBig);
    const start = performance.now();
    expect(() => pool.run(shareArgs([0, 0]), 2, gemmHere, 5000)).toThrow(/could not start: worker thread 1 failed: LinkError/);
    expect(performance.now() - start).toBeLessThan(5000);
    expect(pool.closed).toBe(true);
  });

  it('delivers a posted message (JSON with bytes) through the shared mailbox before the worker\'s next job; refuses one too big', () => {
    const out = new Int32Array(new SharedArrayBuffer(16));
    // The worker's handler records what it got and wakes this thread.
    const setup = `onMessage = (m) => { const v = new Int32Array(workerData.out); v[1] = m.bytes.length; v[2] = m.bytes[m.bytes.length - 1]; Atomics.store(v, 0, m.value); Atomics.notify(v, 0); };`;
    const pool = new WorkerPool(module, memory, [0], { tasks: '[null]', helpers: '{}', setup, data: { out: out.buffer } });
    pools.push(pool);
    pool.run(shareArgs([0, 0]), 2, gemmHere, 5000); // started, the worker now idle in serve()
    expect(pool.post({ value: 42, bytes: new Uint8Array([1, 2, 3, 250]) })).toBe(true);
    marks.fill(0);
    pool.run(shareArgs([0, 0]), 2, gemmHere, 5000); // wakes the worker, which reads the mailbox first
    Atomics.wait(out, 0, 0, 10_000);
    expect(Array.from(out.subarray(0, 3))).toEqual([42, 4, 250]);
    expect(pool.post({ text: 'x'.repeat(MAILBOX_BYTES / 2) })).toBe(false);
  });

  it('throws instead of hanging when a worker does not finish, and shuts the pool down', () => {
    const pool = newPool(1);
    pool.run(shareArgs([0, 0]), 2, gemmHere, 5000); // started and working
    marks.fill(0);
    const start = performance.now();
    expect(() => pool.run(shareArgs([0, 2]), 2, callerWaitingForWorkers(2), 300))
      .toThrow(/workers did not finish their gemm shares within 300 ms; the pool was shut down/);
    expect(performance.now() - start).toBeLessThan(3000);
    expect(pool.closed).toBe(true);
    expect(() => pool.run(shareArgs([0, 0]), 2, gemmHere, 5000)).toThrow(/thread pool is unusable/);
  });
});

describe.skipIf(!multiCore)('child processes', () => {
  it('honours TENSORKIT_THREADS (clamped to the cores) and rejects a bad value by name', () => {
    const script = `
      const { getThreads } = await import(${SRC('runtime/workers.ts')});
      const { wasmGemmShares } = await import(${SRC('runtime/tasks.ts')});
      let threads;
      try { threads = getThreads(); } catch (error) { threads = error.message; }
      console.log(JSON.stringify({ threads, split: typeof threads === 'number' && wasmGemmShares(512, 512, 512) > 1 }));
    `;
    const run = (value: string): unknown => JSON.parse(runChild(script, { TENSORKIT_THREADS: value }).trim());
    expect(run('1')).toEqual({ threads: 1, split: false });
    expect(run('2')).toEqual({ threads: 2, split: true });
    expect(run('999')).toEqual({ threads: availableCores(), split: true });
    expect(run('two')).toEqual({ threads: 'TENSORKIT_THREADS must be a positive integer, got "two"', split: false });
    expect(run('0')).toEqual({ threads: 'TENSORKIT_THREADS must be a positive integer, got "0"', split: false });
  });

  it('falls back to the unshared module on one thread where SharedArrayBuffer is missing', () => {
    // Imported first, then removed: on Node ≥ 22 tsx transforms in this thread with esbuild's transformSync,
    // which needs SharedArrayBuffer itself. The library looks for it on first use, not at import.
    const script = `
      const { gemm, gemmNaive } = await import(${SRC('tensor/gemm.ts')});
      const { wasmGemmShares, wasmGemmVariant } = await import(${SRC('runtime/tasks.ts')});
      const { getThreads } = await import(${SRC('runtime/workers.ts')});
      delete globalThis.SharedArrayBuffer;
      const [m, n, k] = [129, 65, 300];
      const a = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i));
      const b = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i));
      const out = gemm(new Float32Array(m * n), a, b, m, n, k);
      const ref = gemmNaive(new Float32Array(m * n), a, b, m, n, k);
      const worst = out.reduce((w, v, i) => Math.max(w, Math.abs(v - ref[i])), 0);
      console.log(JSON.stringify({ variant: wasmGemmVariant(), threads: getThreads(), shares: wasmGemmShares(m, n, k), worst }));
    `;
    const result = JSON.parse(runChild(script).trim()) as { variant: string; threads: number; shares: number; worst: number };
    // The unshared module of the variant the engine validates: relaxed SIMD on Node ≥ 22, plain SIMD on 20.
    expect(result).toMatchObject({ variant: Number(process.versions.node.split('.')[0]) >= 22 ? 'relaxed-simd' : 'simd', threads: 1, shares: 1 });
    expect(result.worst).toBeLessThan(1e-5 * (1 + Math.sqrt(300)));
  });

  it('exits promptly when the work ends with an idle 2-thread pool', () => {
    // The child runs threaded gemms (the pool starts), then just ends: unref'd workers sleeping in
    // Atomics.wait must not keep it alive. spawnSync's timeout kills a hung child (status null).
    const script = `
      const { gemm } = await import(${SRC('tensor/gemm.ts')});
      const { setThreads } = await import(${SRC('runtime/workers.ts')});
      const { wasmGemmShares } = await import(${SRC('runtime/tasks.ts')});
      setThreads(2);
      const [m, n, k] = [256, 256, 64];
      const a = new Float32Array(m * k).fill(0.5), b = new Float32Array(k * n).fill(2);
      const out = gemm(new Float32Array(m * n), a, b, m, n, k);
      gemm(out, a, b, m, n, k, { accumulate: true });
      console.log(wasmGemmShares(m, n, k) > 1, out[0], out[m * n - 1]);
      globalThis.endedAt = performance.now();
      process.on('exit', () => console.log('exit after', Math.round(performance.now() - globalThis.endedAt), 'ms'));
    `;
    const result = spawnSync(process.execPath, ['--no-warnings', '--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT, encoding: 'utf8', timeout: 15_000,
    });
    expect(result.status, `stderr: ${result.stderr}`).toBe(0);
    const [first, second] = result.stdout.trim().split('\n');
    expect(first).toBe('true 128 128'); // threaded; k·0.5·2 = 64, twice
    const exitMs = Number(/exit after (\d+) ms/.exec(second ?? '')?.[1]);
    expect(exitMs).toBeLessThan(1000);
  });

  it('runs threaded from the compiled dist/ with plain node (building it if stale)', () => {
    const sources = ['runtime/workers', 'runtime/tasks', 'tensor/gemm', 'runtime/kernels-wasm.generated'];
    const stale = sources.some((name) => {
      const js = `${ROOT}dist/${name}.js`;
      return !existsSync(js) || statSync(js).mtimeMs < statSync(`${ROOT}src/${name}.ts`).mtimeMs;
    });
    if (stale) {
      // Type errors elsewhere in the tree (work in progress) do not stop tsc from emitting: check the files.
      spawnSync(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], { cwd: ROOT, timeout: 170_000 });
      for (const name of sources) expect(existsSync(`${ROOT}dist/${name}.js`), `dist/${name}.js`).toBe(true);
    }
    const script = `
      import { gemm } from './dist/tensor/gemm.js';
      import { setThreads } from './dist/runtime/workers.js';
      import { wasmGemmShares } from './dist/runtime/tasks.js';
      const [m, n, k] = [129, 131, 65];
      const a = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i));
      const b = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i));
      setThreads(1);
      const one = gemm(new Float32Array(m * n), a, b, m, n, k, { transA: true });
      setThreads(2);
      const two = gemm(new Float32Array(m * n), a, b, m, n, k, { transA: true });
      console.log(wasmGemmShares(m, n, k) > 1, two.every((v, i) => Object.is(v, one[i])));
    `;
    const stdout = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 15_000 });
    expect(stdout.trim()).toBe('true true');
  }, 200_000);
});
