// 2 threads ÷ 1 thread on conv-net training (issue 14), measured without wall-clock ratios (which a
// loaded machine makes meaningless): per network, the runtime's jobs per training step (pool jobs,
// their shares and the work per share, at 1 and at 2 threads); the CPU time of each phase of a step on
// 1 thread and how much of it sits in jobs that split over 2 threads (the rest is Amdahl's serial
// fraction s, which bounds the speed-up at 1/(s + (1 − s)/2)); and the CPU time a 2-thread step costs
// the whole process beyond a 1-thread step (pool dispatch plus workers spinning between jobs).
// CPU times come from process.threadCpuUsage (this thread) and process.cpuUsage (all threads): the
// kernel charges them per scheduler tick, so each figure is a sample mean over many steps; the same
// fractions from wall-clock time are printed beside them as a cross-check.
// Usage: npx tsx bench/scaling.ts [--filter net004] [--cpu-ms 3000] [--census-steps 5]
// Writes bench/results/scaling.json.
import type { Layer } from '../src/layers/layer.js';
import { kernelNames } from '../src/runtime/kernel-table.js';
import { jobSharesAt, setJobObserver, type JobInfo } from '../src/runtime/job-observer.js';
import { availableCores, setThreads } from '../src/runtime/workers.js';
import type { Sequential } from '../src/model/sequential.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { argValue, header, Table, writeResults } from './lib/harness.js';
import { buildModel, NETWORKS, randomBatch, type NetSpec } from './lib/networks.js';

const filter = argValue('--filter');
const cpuBudgetMs = Number(argValue('--cpu-ms') ?? 3000);
const censusSteps = Number(argValue('--census-steps') ?? 5);
const DEFAULT_NETS = ['net000', 'net004', 'net003', 'net001'];
const threadCpuUsage = (process as unknown as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage;
if (threadCpuUsage === undefined) throw new Error('bench/scaling.ts needs process.threadCpuUsage (Node ≥ 23.9): run it with the pinned Node 24 (npx tsx)');
if (availableCores() < 2) throw new Error('bench/scaling.ts needs at least 2 cores');

/** CPU µs of this thread. */
function threadCpu(): number {
  const u = threadCpuUsage!.call(process);
  return u.user + u.system;
}
/** CPU µs of one threadCpu() + performance.now() pair, the profile's clock read. */
function calibrateClock(): number {
  const reads = 200_000;
  const c0 = threadCpu();
  let sink = 0;
  for (let i = 0; i < reads; i++) sink += threadCpu() + performance.now();
  if (sink === -1) console.log(sink);
  return (threadCpu() - c0) / reads;
}
const clockCost = calibrateClock();

/** CPU µs of the whole process (every thread). */
function processCpu(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** A job's kind with its kernel's name (range jobs), e.g. `range:relu-backward`. */
function jobName(job: Readonly<JobInfo>): string {
  return job.kind === 'range' ? `range:${kernelNames()[job.kernel] ?? job.kernel}` : job.kind;
}
/** Work of one job: gemm flops, range elements (or planes), conv chunks. */
function jobWork(job: Readonly<JobInfo>): number {
  if (job.kind === 'gemm' || job.kind === 'gemm-depth') return 2 * job.m * job.n * job.k;
  if (job.kind === 'gemm-batch') return 2 * job.m * job.n * job.k * job.chunks;
  return job.kind === 'range' ? job.count : job.chunks;
}
function workUnit(kind: string): string {
  return kind.startsWith('gemm') ? 'flop' : kind.startsWith('range') ? 'elements' : 'chunks';
}

// ---- 1. Job census: the runtime's jobs in a step, at 1 and 2 threads. ----
interface KindCensus { calls: number; poolJobs: number; shares: number; work: number; minShareWork: number }
interface Census { calls: number; poolJobs: number; shares: number; byKind: Map<string, KindCensus> }

function census(spec: NetSpec, threads: number): Census {
  setThreads(threads);
  const model = buildModel(spec);
  const { x, y } = randomBatch(spec);
  for (let i = 0; i < 3; i++) model.trainStep(x, y);
  const c: Census = { calls: 0, poolJobs: 0, shares: 0, byKind: new Map() };
  setJobObserver({
    begin: (job) => {
      const name = jobName(job);
      let k = c.byKind.get(name);
      if (k === undefined) c.byKind.set(name, k = { calls: 0, poolJobs: 0, shares: 0, work: 0, minShareWork: Infinity });
      k.calls++;
      k.work += jobWork(job);
      c.calls++;
      if (job.shares > 1) {
        k.poolJobs++;
        k.shares += job.shares;
        c.poolJobs++;
        c.shares += job.shares;
        k.minShareWork = Math.min(k.minShareWork, jobWork(job) / job.shares);
      }
    },
    end: () => {},
  });
  try {
    for (let i = 0; i < censusSteps; i++) model.trainStep(x, y);
  } finally {
    setJobObserver(null);
  }
  return c;
}

// ---- 2. CPU time per phase on 1 thread, and the part of it in jobs that split over 2 threads. ----
interface Phase {
  cpu: number; wall: number;
  /** CPU (wall) µs inside jobs that split over 2 threads, and what they would take there (ceil(S/2)/S of it). */
  jobCpu: number; jobWall: number; jobCpuAt2: number; jobWallAt2: number;
}
const newPhase = (): Phase => ({ cpu: 0, wall: 0, jobCpu: 0, jobWall: 0, jobCpuAt2: 0, jobWallAt2: 0 });

interface Profile {
  steps: number; stepCpu: number; stepWall: number; phases: Map<string, Phase>; jobsByKind: Map<string, Phase>;
  /** Jobs that stay on one thread at 2 threads, by kind and shape (jobCpu holds their count). */
  serialJobs: Map<string, Phase>;
  /** Clock reads (threadCpu + performance.now pairs) the profile made. */
  clockReads: number;
}

function profile(spec: NetSpec): Profile {
  setThreads(1);
  const model: Sequential = buildModel(spec);
  const { x, y } = randomBatch(spec);
  for (let i = 0; i < 3; i++) model.trainStep(x, y);
  const phases = new Map<string, Phase>();
  const jobsByKind = new Map<string, Phase>();
  const serialJobs = new Map<string, Phase>();
  let clockReads = 0;
  let current: Phase | null = null;
  const phase = (name: string): Phase => {
    let p = phases.get(name);
    if (p === undefined) phases.set(name, p = newPhase());
    return p;
  };
  // Wraps obj[method] so its CPU and wall time count in phase `name` (phases do not nest).
  const wrap = (obj: object, method: string, name: string): void => {
    const o = obj as Record<string, (...args: unknown[]) => unknown>;
    const original = o[method];
    if (typeof original !== 'function') return;
    const p = phase(name);
    o[method] = (...args: unknown[]) => {
      clockReads += 2;
      const c0 = threadCpu();
      const w0 = performance.now();
      const outer = current;
      current = p;
      try {
        return original.apply(obj, args);
      } finally {
        current = outer;
        p.cpu += threadCpu() - c0;
        p.wall += (performance.now() - w0) * 1000;
      }
    };
  };
  wrap(model, 'zeroGrad', 'zeroGrad');
  model.layers.forEach((layer: Layer, i: number) => {
    wrap(layer, 'forward', `forward ${i} ${layer.kind}`);
    wrap(layer, 'forwardFused', `forward ${i} ${layer.kind}+fused`);
    wrap(layer, 'backward', `backward ${i} ${layer.kind}`);
  });
  wrap(model.loss!, 'forward', 'loss forward');
  wrap(model.loss!, 'backward', 'loss backward');
  wrap(model.optimizer!, 'step', 'optimizer step');
  let jobC0 = 0;
  let jobW0 = 0;
  setJobObserver({
    begin: () => { clockReads += 2; jobC0 = threadCpu(); jobW0 = performance.now(); },
    end: (job) => {
      const at2 = jobSharesAt(job, 2);
      const dc = threadCpu() - jobC0;
      const dw = (performance.now() - jobW0) * 1000;
      if (at2 <= 1) {
        // Stays on the calling thread with 2 threads too: serial. Kept by kind and shape, to name what to split.
        const key = job.kind.startsWith('gemm') ? `gemm ${job.m}×${job.n}×${job.k}` : `${jobName(job)} ${jobWork(job)}`;
        let q = serialJobs.get(key);
        if (q === undefined) serialJobs.set(key, q = newPhase());
        q.cpu += dc; q.wall += dw; q.jobCpu++;
        return;
      }
      // S shares of equal work on 2 threads: the busier thread runs ceil(S/2) of them.
      const f = Math.ceil(at2 / 2) / at2;
      const name = jobName(job);
      let k = jobsByKind.get(name);
      if (k === undefined) jobsByKind.set(name, k = newPhase());
      for (const p of current === null ? [k] : [current, k]) {
        p.jobCpu += dc; p.jobWall += dw; p.jobCpuAt2 += f * dc; p.jobWallAt2 += f * dw;
      }
      k.cpu += dc; k.wall += dw;
    },
  });
  let steps = 0;
  let stepCpu = 0;
  let stepWall = 0;
  try {
    while (stepCpu < cpuBudgetMs * 1000 || steps < 20) {
      clockReads += 2;
      const c0 = threadCpu();
      const w0 = performance.now();
      model.trainStep(x as Tensor, y as Tensor);
      stepCpu += threadCpu() - c0;
      stepWall += (performance.now() - w0) * 1000;
      steps++;
    }
  } finally {
    setJobObserver(null);
  }
  return { steps, stepCpu, stepWall, phases, jobsByKind, serialJobs, clockReads };
}

// ---- 3. Extra CPU of a 2-thread step: the process's CPU per step at 2 threads minus at 1. ----
function processCpuPerStep(spec: NetSpec, threads: number): { process: number; main: number; steps: number } {
  setThreads(threads);
  const model = buildModel(spec);
  const { x, y } = randomBatch(spec);
  for (let i = 0; i < 3; i++) model.trainStep(x, y);
  let steps = 0;
  const p0 = processCpu();
  const m0 = threadCpu();
  while (threadCpu() - m0 < (cpuBudgetMs * 1000) / 2 || steps < 20) {
    model.trainStep(x, y);
    steps++;
  }
  return { process: (processCpu() - p0) / steps, main: (threadCpu() - m0) / steps, steps };
}

const headerLine = header(`load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(headerLine);
const results: Record<string, unknown>[] = [];
const ms = (us: number, steps: number): string => (us / steps / 1000).toFixed(3);
const pct = (a: number, b: number): string => (b > 0 ? ((100 * a) / b).toFixed(1) : '-');

for (const name of DEFAULT_NETS) {
  if (filter !== undefined && !name.includes(filter)) continue;
  const spec = NETWORKS.find((n) => n.name === name)!;
  console.log(`\n== ${spec.name}: ${spec.description}`);
  const c1 = census(spec, 1);
  const c2 = census(spec, 2);
  console.log(`jobs per step: ${(c1.calls / censusSteps).toFixed(1)} runtime calls; pool jobs at 1 thread ${(c1.poolJobs / censusSteps).toFixed(1)}, `
    + `at 2 threads ${(c2.poolJobs / censusSteps).toFixed(1)} with ${(c2.shares / censusSteps).toFixed(1)} shares`);
  const jobTable = new Table([
    ['job (2 threads)', 26, 'l'], ['calls', 6, 'r'], ['pool', 6, 'r'], ['shares', 7, 'r'], ['work/call', 11, 'r'], ['min work/share', 15, 'r'], ['unit', 8, 'l'],
  ]);
  for (const [kind, k] of [...c2.byKind].sort((a, b) => b[1].calls - a[1].calls)) {
    jobTable.row([kind, (k.calls / censusSteps).toFixed(1), (k.poolJobs / censusSteps).toFixed(1), (k.shares / censusSteps).toFixed(1),
      (k.work / k.calls).toExponential(2), k.poolJobs > 0 ? k.minShareWork.toExponential(2) : '-', workUnit(kind)]);
  }
  const prof = profile(spec);
  const S = prof.steps;
  console.log(`\n1 thread, ${S} steps: CPU ${ms(prof.stepCpu, S)} ms/step (wall ${ms(prof.stepWall, S)} ms/step); per phase:`);
  const phaseTable = new Table([
    ['phase', 30, 'l'], ['CPU ms', 8, 'r'], ['% step', 7, 'r'], ['in 2T jobs %', 13, 'r'], ['serial ms', 10, 'r'], ['wall: 2T jobs %', 16, 'r'],
  ]);
  let phasesCpu = 0, phasesJob = 0, phasesWall = 0, phasesJobWall = 0;
  for (const [pname, p] of prof.phases) {
    if (p.cpu === 0 && p.wall === 0) continue;
    phasesCpu += p.cpu; phasesJob += p.jobCpu; phasesWall += p.wall; phasesJobWall += p.jobWall;
    phaseTable.row([pname, ms(p.cpu, S), pct(p.cpu, prof.stepCpu), pct(p.jobCpu, p.cpu), ms(Math.max(0, p.cpu - p.jobCpu), S), pct(p.jobWall, p.wall)]);
  }
  let jobCpu = 0, jobCpuAt2 = 0, jobWall = 0, jobWallAt2 = 0;
  for (const k of prof.jobsByKind.values()) { jobCpu += k.jobCpu; jobCpuAt2 += k.jobCpuAt2; jobWall += k.jobWall; jobWallAt2 += k.jobWallAt2; }
  const restCpu = prof.stepCpu - phasesCpu;
  const restJob = jobCpu - phasesJob;
  phaseTable.row(['(rest: guard, metrics, checks)', ms(restCpu, S), pct(restCpu, prof.stepCpu), pct(restJob, restCpu),
    ms(Math.max(0, restCpu - restJob), S), pct(jobWall - phasesJobWall, prof.stepWall - phasesWall)]);
  const s = 1 - jobCpu / prof.stepCpu;
  const sWall = 1 - jobWall / prof.stepWall;
  const amdahl = 1 / (s + (1 - s) / 2);
  // With the shares' granularity (S shares of equal work: ceil(S/2)/S of the job on the busier thread).
  const granular = prof.stepCpu / (prof.stepCpu - jobCpu + jobCpuAt2);
  const amdahlWall = 1 / (sWall + (1 - sWall) / 2);
  console.log(`serial fraction s = ${s.toFixed(3)} (CPU; wall ${sWall.toFixed(3)}): 2T speed-up bound 1/(s + (1−s)/2) = ${amdahl.toFixed(2)} `
    + `(wall ${amdahlWall.toFixed(2)}); with share granularity ${granular.toFixed(2)}`);
  const byKind = new Table([['2T-splittable job', 26, 'l'], ['CPU ms/step', 12, 'r'], ['% step', 7, 'r']]);
  for (const [kind, k] of [...prof.jobsByKind].sort((a, b) => b[1].cpu - a[1].cpu)) byKind.row([kind, ms(k.cpu, S), pct(k.cpu, prof.stepCpu)]);
  const serialTable = new Table([['serial job (1 thread at 2T)', 34, 'l'], ['calls/step', 10, 'r'], ['CPU ms/step', 12, 'r'], ['% step', 7, 'r']]);
  for (const [key, q] of [...prof.serialJobs].sort((a, b) => b[1].cpu - a[1].cpu).slice(0, 12)) {
    serialTable.row([key, (q.jobCpu / S).toFixed(1), ms(q.cpu, S), pct(q.cpu, prof.stepCpu)]);
  }
  const one = processCpuPerStep(spec, 1);
  const two = processCpuPerStep(spec, 2);
  const workersAt2 = two.process - two.main;
  // The profile's own timing calls (two clock reads per job and per phase) land mostly outside the
  // jobs: take their calibrated cost off the serial time (an upper bound of their share in it).
  const overhead = (prof.clockReads / S) * clockCost;
  const sCorrected = Math.max(0, (s * prof.stepCpu / S - overhead) / (prof.stepCpu / S - overhead));
  const amdahlCorrected = 1 / (sCorrected + (1 - sCorrected) / 2);
  console.log(`instrumentation: ${(prof.clockReads / S).toFixed(0)} clock reads per step × ${clockCost.toFixed(2)} µs = ${ms(overhead, 1)} ms CPU per step `
    + `(instrumented step ${ms(prof.stepCpu, S)} ms, plain ${ms(one.main, 1)} ms); `
    + `without it s = ${sCorrected.toFixed(3)}, bound ${amdahlCorrected.toFixed(2)}`);
  console.log(`process CPU per step: 1 thread ${ms(one.process, 1)} ms (main ${ms(one.main, 1)}), 2 threads ${ms(two.process, 1)} ms `
    + `(main ${ms(two.main, 1)}, others ${ms(workersAt2, 1)}): 2T costs ${ms(two.process - one.process, 1)} ms CPU per step more `
    + `(${pct(two.process - one.process, one.process)}%)`);
  results.push({
    net: spec.name,
    census: { threads1: { calls: c1.calls / censusSteps, poolJobs: c1.poolJobs / censusSteps },
      threads2: { calls: c2.calls / censusSteps, poolJobs: c2.poolJobs / censusSteps, shares: c2.shares / censusSteps,
        byKind: Object.fromEntries([...c2.byKind].map(([k, v]) => [k, { ...v, calls: v.calls / censusSteps, poolJobs: v.poolJobs / censusSteps, shares: v.shares / censusSteps }])) } },
    oneThread: { steps: S, stepCpuMs: prof.stepCpu / S / 1000, stepWallMs: prof.stepWall / S / 1000,
      phases: Object.fromEntries([...prof.phases].map(([k, p]) => [k, { cpuMs: p.cpu / S / 1000, in2TJobsCpuMs: p.jobCpu / S / 1000 }])),
      serialJobs: Object.fromEntries([...prof.serialJobs].map(([k, q]) => [k, { callsPerStep: q.jobCpu / S, cpuMs: q.cpu / S / 1000 }])),
      serialFraction: s, serialFractionWall: sWall, instrumentationCpuMs: overhead / 1000, serialFractionCorrected: sCorrected, boundCorrected: amdahlCorrected, bound: amdahl, boundWall: amdahlWall, boundGranular: granular },
    processCpuMsPerStep: { threads1: one.process / 1000, threads2: two.process / 1000, threads2Main: two.main / 1000 },
  });
}
setThreads(availableCores());
writeResults('scaling', headerLine, { cpuBudgetMs, censusSteps, results });
