// Fuzzer for tensorkit's file readers: mutates valid IDX, safetensors and model files (bit flips,
// truncation, huge lengths, bad JSON, overlapping offsets, …) and builds resource bombs (gzip bombs,
// architectures with huge or many layers, deep nesting, huge counts and dims), and checks that each
// case either loads or fails with the reader's typed error, within a time bound and a bound on how
// much the process's peak resident memory grows during that one case.
//
//   npx tsx scripts/fuzz.ts --cases 100000 --seed 1 [--kinds idx,safetensors,model] [--bomb-rate 0.125] [--out DIR]
//
// Exit code 1 if any mutant escaped with an untyped error or broke the time/memory bound; with
// --out, each such mutant is written to DIR for reproduction.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION } from '../src/io/model-file.js';
import { IdxFormatError } from '../src/data/idx.js';
import { readIdx } from '../src/data/idx-file.js';
import {
  decodeModel, decodeSafetensors, encodeModel, encodeSafetensors, ModelFileError, SafetensorsError,
} from '../src/io/index.js';
import { createLayer } from '../src/layers/index.js';
import { Sequential } from '../src/model/index.js';
import { createOptimizer } from '../src/optimizers/index.js';
import { Rng } from '../src/tensor/rng.js';
import { randn, Tensor, zeros } from '../src/tensor/tensor.js';

/** The file kinds the fuzzer mutates. */
export type FuzzKind = 'idx' | 'safetensors' | 'model';
export const FUZZ_KINDS: readonly FuzzKind[] = ['idx', 'safetensors', 'model'];

export interface FuzzOptions {
  /** Total mutants, spread round-robin over `kinds`. */
  readonly cases: number;
  readonly seed: number;
  readonly kinds?: readonly FuzzKind[];
  /** A single load slower than this counts as a failure (default 2000 ms). */
  readonly caseTimeLimitMs?: number;
  /** Resident memory above this counts as a failure (default 1.5 GB). */
  readonly rssLimitBytes?: number;
  /** A case that raises the process's peak resident memory by more than this fails (default 200 MB). */
  readonly caseRssGrowthLimitBytes?: number;
  /** Fraction of cases that are resource bombs instead of mutants (default 1/8). */
  readonly bombRate?: number;
  /** Where to write failing mutants (optional). */
  readonly outDir?: string;
}

/** One mutant that escaped the contract. */
export interface FuzzFailure {
  readonly kind: FuzzKind;
  readonly caseIndex: number;
  readonly mutation: string;
  readonly problem: string;
}

export interface FuzzKindStats {
  cases: number;
  /** Mutants that loaded (the mutation hit bytes the reader may accept, e.g. a weight value). */
  loaded: number;
  /** Mutants rejected with the typed error. */
  typedErrors: number;
  /** Rejections per mutation strategy. */
  byMutation: Record<string, number>;
  maxMs: number;
  /** Slowest case per mutation strategy (ms). */
  maxMsByMutation: Record<string, number>;
}

export interface FuzzReport {
  readonly stats: Record<FuzzKind, FuzzKindStats>;
  readonly failures: FuzzFailure[];
  readonly seconds: number;
  readonly maxRssBytes: number;
  /** The largest rise of the peak resident memory during one case. */
  readonly maxCaseRssGrowthBytes: number;
}

interface Target {
  readonly seeds: Uint8Array[];
  /** Loads the bytes, throwing on rejection. */
  readonly load: (bytes: Uint8Array) => void;
  readonly isTyped: (err: unknown) => boolean;
  /** Whether the format has a safetensors JSON header (enables the header-level mutations). */
  readonly json: boolean;
}

/** Valid inputs of every kind, built deterministically. */
function buildTargets(): Record<FuzzKind, Target> {
  const idx = (typeCode: number, dims: number[], bytesPer: number, rng: Rng): Uint8Array => {
    const count = dims.reduce((a, b) => a * b, 1);
    const out = new Uint8Array(4 + 4 * dims.length + count * bytesPer);
    const view = new DataView(out.buffer);
    out[2] = typeCode;
    out[3] = dims.length;
    dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
    for (let i = 4 + 4 * dims.length; i < out.length; i++) out[i] = rng.int(256);
    return out;
  };
  const rng = new Rng(12345);
  const images = idx(0x08, [3, 5, 5], 1, rng);
  const idxSeeds = [images, idx(0x08, [10], 1, rng), idx(0x0d, [2, 3], 4, rng), idx(0x0b, [4], 2, rng), gzipSync(images)];

  const model = new Sequential([
    createLayer('conv2d', { filters: 3, kernelSize: 3, padding: 1 }), createLayer('batch-norm2d'), createLayer('relu'),
    createLayer('max-pool2d', { poolSize: 2 }), createLayer('flatten'), createLayer('dropout', { rate: 0.1 }),
    createLayer('dense', { units: 4 }), createLayer('softmax'),
  ], { inputShape: [1, 4, 4], seed: 1 });
  const optimizer = createOptimizer('adam', { lr: 0.01 });
  model.compile({ optimizer, loss: 'cross-entropy' });
  model.trainStep(randn([2, 1, 4, 4], rng), randn([2, 4], rng));
  const modelBytes = encodeModel(model, {
    optimizer, trainingState: { epoch: 1, step: 1, rng: rng.getState(), schedule: { epoch: 1, best: Infinity } },
  });
  const mlp = new Sequential([createLayer('dense', { units: 3 }), createLayer('tanh'), createLayer('dense', { units: 2 })], { inputShape: [4] });
  const torchFixture = readFileSync(new URL('../test/fixtures/torch_cnn.safetensors', import.meta.url));
  const stSeeds = [encodeSafetensors(model.stateDict(), { note: 'fuzz' }), new Uint8Array(torchFixture)];

  return {
    idx: { seeds: idxSeeds, load: (b) => void readIdx(b, 'fuzz.idx'), isTyped: (e) => e instanceof IdxFormatError, json: false },
    safetensors: { seeds: stSeeds, load: (b) => void decodeSafetensors(b, 'fuzz.safetensors'), isTyped: (e) => e instanceof SafetensorsError, json: true },
    model: {
      seeds: [modelBytes, encodeModel(mlp)],
      load: (b) => void decodeModel(b, 'fuzz.tkm'),
      isTyped: (e) => e instanceof SafetensorsError || e instanceof ModelFileError,
      json: true,
    },
  };
}

const HUGE = [2 ** 31, 2 ** 32 - 1, 2 ** 40, 2 ** 53 - 1, 1e300, -1, 0, 1e9];

/** Splits a safetensors-layout file into its header JSON text and data bytes (null if not parseable). */
function splitHeader(bytes: Uint8Array): { header: Record<string, unknown>; data: Uint8Array } | null {
  if (bytes.length < 8) return null;
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  if (n > bytes.length - 8) return null;
  try {
    return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))), data: bytes.subarray(8 + n) };
  } catch {
    return null;
  }
}

function joinHeader(headerText: string, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** Replaces one randomly chosen number in a JSON text with a hostile value. */
function mutateNumberInText(text: string, rng: Rng): string {
  const matches = [...text.matchAll(/-?\d+(?:\.\d+)?(?:e[-+]?\d+)?/g)];
  if (matches.length === 0) return text + '}';
  const m = matches[rng.int(matches.length)];
  const replacement = rng.next() < 0.5 ? String(HUGE[rng.int(HUGE.length)]) : ['1.5', '-7', '"3"', 'null', '[]', '1e999'][rng.int(6)];
  return text.slice(0, m.index) + replacement + text.slice((m.index as number) + m[0].length);
}

/** Header-level mutations that keep a correct length field, so the deeper validation is exercised. */
function mutateHeader(bytes: Uint8Array, rng: Rng): [string, Uint8Array] {
  const parts = splitHeader(bytes);
  if (parts === null) return ['bitflip', bitFlip(bytes, rng)];
  const { header, data } = parts;
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  const pick = () => header[names[rng.int(names.length)]] as Record<string, unknown>;
  const choice = rng.int(8);
  if (choice === 0 && names.length >= 2) {
    // Overlap: one tensor's range copied onto another's.
    const a = pick();
    const b = pick();
    b.data_offsets = (a.data_offsets as number[]).slice();
    return ['overlap', joinHeader(JSON.stringify(header), data)];
  }
  if (choice === 1 && names.length > 0) {
    const e = pick();
    (e.shape as number[]).push(HUGE[rng.int(HUGE.length)]);
    return ['huge-shape', joinHeader(JSON.stringify(header), data)];
  }
  if (choice === 2 && names.length > 0) {
    pick().dtype = ['F16', 'BF16', 'F64', 'I64', 'U8', 'BOOL', 'F8_E4M3', 'X', 7][rng.int(9)];
    return ['dtype', joinHeader(JSON.stringify(header), data)];
  }
  if (choice === 3) {
    // Mutate a number inside a metadata JSON string (architecture, optimizer, training state).
    const meta = header.__metadata__ as Record<string, string> | undefined;
    const keys = meta ? Object.keys(meta) : [];
    if (meta && keys.length > 0) {
      const k = keys[rng.int(keys.length)];
      meta[k] = rng.next() < 0.7 ? mutateNumberInText(meta[k], rng) : meta[k].slice(0, rng.int(meta[k].length + 1));
      return ['metadata-json', joinHeader(JSON.stringify(header), data)];
    }
  }
  if (choice === 4) return ['header-number', joinHeader(mutateNumberInText(JSON.stringify(header), rng), data)];
  if (choice === 5) {
    const text = JSON.stringify(header);
    return ['bad-json', joinHeader(text.slice(0, rng.int(text.length)), data)];
  }
  if (choice === 6 && names.length > 0) {
    // Duplicate key: the same tensor entry twice, with the second claiming other offsets.
    const name = names[rng.int(names.length)];
    const text = JSON.stringify(header);
    return ['duplicate-key', joinHeader(`${text.slice(0, -1)},${JSON.stringify(name)}:${JSON.stringify(header[name])}}`, data)];
  }
  if (names.length > 0) {
    delete header[names[rng.int(names.length)]];
    return ['drop-tensor', joinHeader(JSON.stringify(header), data)];
  }
  return ['bitflip', bitFlip(bytes, rng)];
}

function bitFlip(bytes: Uint8Array, rng: Rng): Uint8Array {
  const out = bytes.slice();
  const flips = 1 + rng.int(8);
  for (let i = 0; i < flips; i++) out[rng.int(out.length)] ^= 1 << rng.int(8);
  return out;
}

/** Safetensors bytes around a raw header text and a data region. */
function rawSafetensors(headerText: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  return joinHeader(headerText, data);
}

/** Model-file bytes from an architecture JSON text, extra metadata and tensors. */
function modelFile(architecture: string, tensors: Record<string, Tensor> = {}, extra: Record<string, string> = {}): Uint8Array {
  return encodeSafetensors(tensors, { format: MODEL_FORMAT, format_version: MODEL_FORMAT_VERSION, architecture, ...extra });
}

/** `n` levels of arrays or objects around `inner`. */
function nested(n: number, inner = '1', objects = false): string {
  return objects ? `${'{"a":'.repeat(n)}${inner}${'}'.repeat(n)}` : `${'['.repeat(n)}${inner}${']'.repeat(n)}`;
}

/** 1 MiB of zeros, gzipped (about 1 kB): repeated as gzip members it makes a bomb of any size. */
const ZERO_MEMBER = gzipSync(new Uint8Array(2 ** 20));
const EMPTY_MEMBER = gzipSync(new Uint8Array(0));

function idxHeader(typeCode: number, dims: number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length);
  out[2] = typeCode;
  out[3] = dims.length;
  dims.forEach((d, i) => new DataView(out.buffer).setUint32(4 + 4 * i, d, false));
  return out;
}

let HUGE_ARCHITECTURE: Uint8Array | undefined;

/**
 * Resource bombs: small inputs that would make a careless reader allocate gigabytes, recurse
 * without bound or format a huge message. [strategy name, bytes].
 */
function bomb(kind: FuzzKind, rng: Rng): [string, Uint8Array] {
  const big = HUGE[rng.int(HUGE.length)];
  if (kind === 'idx') {
    const choice = rng.int(4);
    const dims = [1 + rng.int(20)];
    const head = Uint8Array.from([...idxHeader(0x08, dims), ...new Uint8Array(dims[0])]);
    const members = Array.from({ length: 50 + rng.int(400) }, () => ZERO_MEMBER);
    if (choice === 0) return ['bomb-gzip', Buffer.concat([gzipSync(head), ...members])];
    // The header behind empty members, with the bomb in the same member right after it.
    if (choice === 1) return ['bomb-gzip-hidden', Buffer.concat([...Array.from({ length: 1 + rng.int(200) }, () => EMPTY_MEMBER), gzipSync(head), ...members])];
    if (choice === 2) {
      // Dimensions claiming up to 2^32 − 1 each, gzipped or raw, with a little data.
      const hugeDims = Array.from({ length: 1 + rng.int(4) }, () => Math.min(2 ** 32 - 1, Math.max(0, Math.trunc(big))));
      const bytes = Uint8Array.from([...idxHeader([0x08, 0x0d, 0x0e][rng.int(3)], hugeDims), ...new Uint8Array(rng.int(64))]);
      return ['bomb-huge-dims', rng.next() < 0.5 ? gzipSync(bytes) : bytes];
    }
    // Rank 255 of ones: a long header, a tiny payload.
    return ['bomb-huge-rank', gzipSync(Uint8Array.from([...idxHeader(0x08, Array(255).fill(1)), 7]))];
  }
  if (kind === 'safetensors') {
    const choice = rng.int(5);
    const depth = 1000 + rng.int(20_000);
    if (choice === 0) {
      const spots = [
        `{"t":{"dtype":"F32","shape":${nested(depth, '')},"data_offsets":[0,0]}}`,
        `{"__metadata__":{"k":${nested(depth, '1', true)}}}`,
        `{"t":${nested(depth, '1', true)}}`,
        nested(depth, '1', true),
      ];
      return ['bomb-deep', rawSafetensors(spots[rng.int(spots.length)])];
    }
    if (choice === 1) {
      // A shape with very many dims, or huge dims with a zero.
      const n = 1000 + rng.int(50_000);
      const shape = rng.next() < 0.5 ? Array(n).fill(1) : [...Array(1 + rng.int(40)).fill(2 ** 53 - 1), 0];
      return ['bomb-huge-shape', rawSafetensors(JSON.stringify({ t: { dtype: 'F32', shape, data_offsets: [0, shape.includes(0) ? 0 : 4] } }), new Uint8Array(shape.includes(0) ? 0 : 4))];
    }
    if (choice === 2) {
      // Very many empty tensors.
      const n = 2000 + rng.int(8000);
      const entries = Array.from({ length: n }, (_, i) => `"t${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`);
      return ['bomb-many-tensors', rawSafetensors(`{${entries.join(',')}}`)];
    }
    if (choice === 3) {
      const long = 'x'.repeat(100_000 + rng.int(400_000));
      return ['bomb-long-name', rawSafetensors(`{"${long}":{"dtype":"${long}","shape":[0],"data_offsets":[0,0]}}`)];
    }
    // A header length just under the cap with no header behind it.
    const out = new Uint8Array(8 + rng.int(1024));
    new DataView(out.buffer).setUint32(0, 99_999_999 - rng.int(1000), true);
    return ['bomb-huge-length', out];
  }
  const choice = rng.int(7);
  const dense = (units: number) => ({ kind: 'dense', config: { units } });
  if (choice === 0) {
    // Many layers (some over the cap), no tensors.
    const n = 1000 + rng.int(14_000);
    return ['bomb-many-layers', modelFile(JSON.stringify({ inputShape: [1], layers: Array.from({ length: n }, () => dense(1)) }))];
  }
  if (choice === 1) {
    // Huge layers, no tensors (25 GB of weights and gradients if built).
    const units = 1024 << rng.int(3);
    const n = 10 + rng.int(300);
    return ['bomb-huge-layers', modelFile(JSON.stringify({ inputShape: [units], layers: Array.from({ length: n }, () => dense(units)) }))];
  }
  if (choice === 2) {
    // A strided convolution whose im2col matrix would be gigabytes, with its small weights present.
    const k = 16 << rng.int(3);
    return ['bomb-im2col', modelFile(JSON.stringify({ inputShape: [1, 4096, 4096], layers: [{ kind: 'conv2d', config: { filters: 1, kernelSize: k, stride: 2 } }] }),
      { '0.weight': zeros([1, 1, k, k]), '0.bias': zeros([1]) })];
  }
  if (choice === 3) {
    const deep = nested(1000 + rng.int(20_000), '1', rng.next() < 0.5);
    const which = rng.int(3);
    const arch = '{"inputShape":[3],"layers":[{"kind":"dense","config":{"units":2}}]}';
    if (which === 0) return ['bomb-deep', modelFile(`{"inputShape":[3],"layers":[{"kind":"dense","config":{"units":${deep}}}]}`)];
    return ['bomb-deep', modelFile(arch, { '0.weight': zeros([2, 3]), '0.bias': zeros([2]) }, which === 1 ? { optimizer: deep } : { training_state: deep })];
  }
  if (choice === 4) {
    // Huge counts and dims in the architecture: input shape, units, kernel sizes.
    const n = Math.trunc(big);
    const archs = [
      { inputShape: [n, n], layers: [{ kind: 'flatten', config: {} }] },
      { inputShape: Array(1000).fill(1), layers: [{ kind: 'relu', config: {} }] },
      { inputShape: [3], layers: [dense(n)] },
      { inputShape: [1, 64, 64], layers: [{ kind: 'conv2d', config: { filters: n, kernelSize: 3 } }] },
      { inputShape: [1, 64, 64], layers: [{ kind: 'max-pool2d', config: { poolSize: n } }] },
    ];
    return ['bomb-huge-dims', modelFile(JSON.stringify(archs[rng.int(archs.length)]))];
  }
  if (choice === 5) {
    // A huge architecture text (a layer list far beyond the caps), built once.
    HUGE_ARCHITECTURE ??= modelFile(JSON.stringify({ inputShape: [1], layers: Array.from({ length: 400_000 }, () => ({ kind: 'relu', config: {} })) }));
    return ['bomb-huge-metadata', HUGE_ARCHITECTURE];
  }
  // A long layer kind and a long bad value: the messages must stay short.
  const long = 'k'.repeat(100_000 + rng.int(400_000));
  return ['bomb-long-name', modelFile(JSON.stringify({ inputShape: [3], layers: [rng.next() < 0.5 ? { kind: long, config: {} } : { kind: 'dense', config: { units: long } }] }))];
}

/** One mutant of `seed`: [strategy name, bytes]. */
function mutate(seed: Uint8Array, rng: Rng, json: boolean, kind: FuzzKind, bombRate: number): [string, Uint8Array] {
  if (bombRate > 0 && rng.next() < bombRate) return bomb(kind, rng);
  const choice = rng.int(json ? 8 : 6);
  if (choice === 0 || choice === 1) {
    // Bit flips biased to the header, where the structure lives.
    if (choice === 0) return ['bitflip', bitFlip(seed, rng)];
    const out = seed.slice();
    const span = Math.min(out.length, json ? 8 + Number(new DataView(out.buffer).getUint32(0, true)) : 32);
    for (let i = 0, n = 1 + rng.int(4); i < n; i++) out[rng.int(Math.max(1, span))] ^= 1 << rng.int(8);
    return ['header-bitflip', out];
  }
  if (choice === 2) return ['truncate', seed.slice(0, rng.int(seed.length))];
  if (choice === 3) {
    const extra = new Uint8Array(1 + rng.int(64));
    for (let i = 0; i < extra.length; i++) extra[i] = rng.int(256);
    return ['append', Uint8Array.from([...seed, ...extra])];
  }
  if (choice === 4) {
    // Huge lengths: the safetensors header length, or an IDX dimension.
    const out = seed.slice();
    const view = new DataView(out.buffer);
    const value = HUGE[rng.int(HUGE.length)];
    if (json) {
      view.setBigUint64(0, BigInt.asUintN(64, BigInt(Math.trunc(Math.min(value, 2 ** 63)))), true);
    } else if (out.length >= 8 && out[0] === 0) {
      const rank = Math.max(1, out[3]);
      view.setUint32(4 + 4 * rng.int(Math.min(rank, (out.length - 4) >> 2)), Math.max(0, Math.min(value, 2 ** 32 - 1)), false);
    } else {
      out[rng.int(out.length)] = 0xff;
    }
    return ['huge-length', out];
  }
  if (choice === 5) {
    // Splice: copy one region over another.
    const out = seed.slice();
    const len = 1 + rng.int(Math.max(1, out.length >> 2));
    const from = rng.int(Math.max(1, out.length - len));
    const to = rng.int(Math.max(1, out.length - len));
    out.copyWithin(to, from, from + len);
    return ['splice', out];
  }
  return mutateHeader(seed, rng);
}

/** Runs the fuzzer; never throws for a bad mutant (those are reported). */
export function runFuzz(options: FuzzOptions): FuzzReport {
  const kinds = options.kinds ?? FUZZ_KINDS;
  const timeLimit = options.caseTimeLimitMs ?? 2000;
  const rssLimit = options.rssLimitBytes ?? 1.5 * 2 ** 30;
  const growthLimit = options.caseRssGrowthLimitBytes ?? 200 * 2 ** 20;
  const bombRate = options.bombRate ?? 1 / 8;
  let maxGrowth = 0;
  const targets = buildTargets();
  const rng = new Rng(options.seed);
  const stats = Object.fromEntries(FUZZ_KINDS.map((k) => [k, { cases: 0, loaded: 0, typedErrors: 0, byMutation: {}, maxMs: 0, maxMsByMutation: {} }])) as Record<FuzzKind, FuzzKindStats>;
  const failures: FuzzFailure[] = [];
  let maxRss = process.memoryUsage.rss();
  const t0 = performance.now();
  const record = (kind: FuzzKind, caseIndex: number, mutation: string, problem: string, bytes: Uint8Array) => {
    failures.push({ kind, caseIndex, mutation, problem });
    if (options.outDir) {
      mkdirSync(options.outDir, { recursive: true });
      writeFileSync(join(options.outDir, `${kind}-${caseIndex}-${mutation}.bin`), bytes);
    }
  };
  for (let c = 0; c < options.cases; c++) {
    const kind = kinds[c % kinds.length];
    const target = targets[kind];
    const seed = target.seeds[rng.int(target.seeds.length)];
    const [mutation, bytes] = mutate(seed, rng, target.json, kind, bombRate);
    const s = stats[kind];
    s.cases++;
    const peakBefore = process.resourceUsage().maxRSS * 1024;
    const start = performance.now();
    try {
      target.load(bytes);
      s.loaded++;
    } catch (err) {
      if (target.isTyped(err)) {
        s.typedErrors++;
        s.byMutation[mutation] = (s.byMutation[mutation] ?? 0) + 1;
      } else {
        record(kind, c, mutation, `untyped ${(err as Error)?.name}: ${(err as Error)?.message}`, bytes);
      }
    }
    const ms = performance.now() - start;
    // maxRSS is the process's peak so far: it catches an allocation that was made and freed within the case.
    const growth = process.resourceUsage().maxRSS * 1024 - peakBefore;
    maxGrowth = Math.max(maxGrowth, growth);
    if (growth > growthLimit) record(kind, c, mutation, `raised peak resident memory by ${(growth / 2 ** 20).toFixed(0)} MB (limit ${(growthLimit / 2 ** 20).toFixed(0)} MB)`, bytes);
    s.maxMs = Math.max(s.maxMs, ms);
    s.maxMsByMutation[mutation] = Math.max(s.maxMsByMutation[mutation] ?? 0, ms);
    if (ms > timeLimit) record(kind, c, mutation, `took ${ms.toFixed(0)} ms (limit ${timeLimit})`, bytes);
    if ((c & 255) === 0) {
      const rss = process.memoryUsage.rss();
      maxRss = Math.max(maxRss, rss);
      if (rss > rssLimit) record(kind, c, mutation, `resident memory ${(rss / 2 ** 20).toFixed(0)} MB over the limit`, bytes);
    }
  }
  return { stats, failures, seconds: (performance.now() - t0) / 1000, maxRssBytes: Math.max(maxRss, process.resourceUsage().maxRSS * 1024), maxCaseRssGrowthBytes: maxGrowth };
}

function parseArgs(argv: string[]): FuzzOptions {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const cases = Number(get('--cases') ?? 10000);
  const seed = Number(get('--seed') ?? 1);
  if (!Number.isSafeInteger(cases) || cases < 1) throw new Error(`--cases must be a positive integer, got ${get('--cases')}`);
  if (!Number.isFinite(seed)) throw new Error(`--seed must be a number, got ${get('--seed')}`);
  const bombRate = Number(get('--bomb-rate') ?? 1 / 8);
  if (!(bombRate >= 0 && bombRate <= 1)) throw new Error(`--bomb-rate must be in [0, 1], got ${get('--bomb-rate')}`);
  const kindsArg = get('--kinds');
  const kinds = kindsArg ? kindsArg.split(',') : undefined;
  for (const k of kinds ?? []) {
    if (!(FUZZ_KINDS as readonly string[]).includes(k)) throw new Error(`--kinds: unknown kind "${k}"; known: ${FUZZ_KINDS.join(', ')}`);
  }
  return { cases, seed, kinds: kinds as FuzzKind[] | undefined, bombRate, outDir: get('--out') };
}

function main(): void {
  const options = parseArgs(process.argv.slice(2));
  const report = runFuzz(options);
  console.log(`fuzz: ${options.cases} cases, seed ${options.seed}, ${report.seconds.toFixed(1)} s, peak RSS ${(report.maxRssBytes / 2 ** 20).toFixed(0)} MB, ` +
    `largest rise in one case ${(report.maxCaseRssGrowthBytes / 2 ** 20).toFixed(0)} MB`);
  for (const kind of FUZZ_KINDS) {
    const s = report.stats[kind];
    if (s.cases === 0) continue;
    const by = Object.entries(s.byMutation).sort().map(([m, n]) => `${m} ${n}`).join(', ');
    const slowest = Object.entries(s.maxMsByMutation).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([m, ms]) => `${m} ${ms.toFixed(0)} ms`).join(', ');
    console.log(`  ${kind.padEnd(12)} cases ${s.cases}, loaded ${s.loaded}, typed errors ${s.typedErrors}, max ${s.maxMs.toFixed(1)} ms  (${by}); slowest: ${slowest}`);
  }
  console.log(`  failures: ${report.failures.length}`);
  for (const f of report.failures.slice(0, 20)) console.log(`    #${f.caseIndex} ${f.kind} ${f.mutation}: ${f.problem}`);
  process.exitCode = report.failures.length > 0 ? 1 : 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
