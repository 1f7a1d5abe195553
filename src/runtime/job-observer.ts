// job-observer.ts: watching the runtime's jobs, for benchmarks and tests. tasks.ts describes each job
// (a gemm, a gemm batch, a conv task, a kernel-table range) to the observer set here, before and after
// running it; jobSharesAt tells how the same job would split at another thread count. Nothing in the
// library sets an observer, and describing a job allocates nothing.
import { depthParts, planBatchShares, planShares, WASM_SHARES_PER_THREAD } from './gemm-plan.js';
import { MAX_SHARES } from './workers.js';

/** What a job of the runtime is: a gemm (split over C, or along its depth), a conv task, or a kernel-table range. */
export type JobKind = 'gemm' | 'gemm-depth' | 'gemm-batch' | 'conv-forward' | 'conv-backward' | 'range';

/**
 * One job as a {@link JobObserver} sees it: a single object, reused and overwritten by every job
 * (copy what you keep). A job is one call that may split over the threads: a WebAssembly gemm, or a
 * runTasks call (conv chunks, a kernel-table range). `shares` is how many shares it runs in now (1:
 * the calling thread alone, no pool job); {@link jobSharesAt} gives the split at another thread count.
 */
export interface JobInfo {
  kind: JobKind;
  /** A gemm's m, n, k (0 for tasks). */
  m: number;
  n: number;
  k: number;
  /** A task job's chunks, or a gemm batch's products (0 for a gemm). */
  chunks: number;
  /** A range's kernel-table id, elements (or planes) and chunk length (−1, 0, 0 otherwise). */
  kernel: number;
  count: number;
  chunk: number;
  /** Threads work splits over now ({@link Runtime.threadsNow}). */
  threads: number;
  /** Shares it runs in now: more than 1 means one job of the worker pool. */
  shares: number;
}

/**
 * Called at the start and end of every job of the runtime (see {@link JobInfo}), on the calling
 * thread, around the whole job (the pool's dispatch and wait included). For benchmarks and tests:
 * it counts jobs and lets a caller time them; nothing in the library sets one.
 */
export interface JobObserver {
  begin(job: Readonly<JobInfo>): void;
  end(job: Readonly<JobInfo>): void;
}

let current: JobObserver | null = null;
const jobInfo: JobInfo = { kind: 'gemm', m: 0, n: 0, k: 0, chunks: 0, kernel: -1, count: 0, chunk: 0, threads: 1, shares: 1 };

/** Sets (or, with null, removes) the observer of the runtime's jobs; returns the previous one. */
export function setJobObserver(observer: JobObserver | null): JobObserver | null {
  if (observer !== null && (typeof observer.begin !== 'function' || typeof observer.end !== 'function')) {
    throw new TypeError('setJobObserver: the observer must have begin(job) and end(job) functions');
  }
  const previous = current;
  current = observer;
  return previous;
}

/**
 * The shares `job` would run in on `threads` threads (the plans of runTasks and the gemm): for a
 * benchmark on one thread that asks what a second one could take. Bits never depend on it.
 */
export function jobSharesAt(job: Readonly<JobInfo>, threads: number): number {
  if (!(Number.isInteger(threads) && threads >= 1)) throw new RangeError(`jobSharesAt: threads must be a positive integer, got ${threads}`);
  if (threads === 1) return 1;
  if (job.kind === 'gemm-batch') return planBatchShares(threads, job.chunks, job.m, job.n, job.k);
  if (job.kind === 'gemm' || job.kind === 'gemm-depth') {
    const parts = depthParts(job.m, job.n, job.k);
    return parts > 1 ? parts : planShares(threads, job.m, job.n, job.k, MAX_SHARES);
  }
  return Math.max(1, Math.min(job.chunks, threads * WASM_SHARES_PER_THREAD, MAX_SHARES));
}

/** The observer set by {@link setJobObserver}, or null (the runtime then skips describing its jobs). */
export function jobObserver(): JobObserver | null {
  return current;
}

/** Overwrites and returns the one {@link JobInfo} object (allocation-free; called only when an observer is set). */
export function describeJob(
  kind: JobKind, m: number, n: number, k: number, chunks: number, kernel: number, count: number, chunk: number, threads: number, shares: number,
): Readonly<JobInfo> {
  const j = jobInfo;
  j.kind = kind; j.m = m; j.n = n; j.k = k; j.chunks = chunks; j.kernel = kernel; j.count = count; j.chunk = chunk;
  j.threads = threads; j.shares = shares;
  return j;
}
