// The seeded random number generator: the only source of randomness in tensorkit.
// Algorithm: xoshiro128** (Blackman & Vigna, 2018), seeded through splitmix32; normals by Box–Muller.

/** Serializable Rng state (for checkpoints): the four xoshiro words and the cached Box–Muller spare. */
export interface RngState {
  readonly s: [number, number, number, number];
  readonly spare: number | null;
}

/** splitmix32's state, module-level so that (re)seeding allocates nothing. */
let splitmixState = 0;

function splitmix32(): number {
  splitmixState = (splitmixState + 0x9e3779b9) | 0;
  let z = splitmixState;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * Seeded pseudo-random generator (xoshiro128**, period 2^128 − 1). Same seed ⇒ same stream on
 * every platform: the arithmetic is 32-bit integer math (`Math.imul`, shifts).
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number;
  private hasSpare: boolean;

  /**
   * @param seed any finite number. Integers in [0, 2^32) are the splitmix32 state as-is (one stream
   * each); other values (negative, ≥ 2^32, fractional) are hashed through their float64 bits.
   */
  constructor(seed = 0) {
    this.s0 = 0;
    this.s1 = 0;
    this.s2 = 0;
    this.s3 = 0;
    this.spare = 0;
    this.hasSpare = false;
    this.reseed(seed);
  }

  /** Restarts the stream in place exactly as `new Rng(seed)` would (allocates nothing). */
  reseed(seed: number): void {
    if (typeof seed !== 'number' || !Number.isFinite(seed)) {
      throw new Error(`Rng seed must be a finite number, got ${String(seed)}`);
    }
    splitmixState = seedWord(seed) | 0;
    this.s0 = splitmix32();
    this.s1 = splitmix32();
    this.s2 = splitmix32();
    this.s3 = splitmix32();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
    this.spare = 0;
    this.hasSpare = false;
  }

  /** Next raw 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform float in [0, 1) with 32 random bits. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform float in [low, high). */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.next();
  }

  /** Uniform integer in [0, n) without modulo bias. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 4294967296) throw new Error(`Rng.int: n must be an integer in [1, 2^32], got ${n}`);
    const limit = 4294967296 - (4294967296 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /** Standard normal sample (Box–Muller; the second value of each pair is cached). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    let u = this.next();
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * v;
    this.spare = r * Math.sin(theta);
    this.hasSpare = true;
    return r * Math.cos(theta);
  }

  /** Fisher–Yates shuffle of `arr` in place; returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(arr: T): T {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = arr[i];
      arr[i] = arr[j];
      arr[j] = tmp;
    }
    return arr;
  }

  /** A permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  /** An independent generator derived from this one (advances this one by four draws). */
  fork(): Rng {
    const r = new Rng(0);
    r.setState({ s: [this.nextUint32(), this.nextUint32(), this.nextUint32(), (this.nextUint32() | 1) >>> 0], spare: null });
    return r;
  }

  getState(): RngState {
    return { s: [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0], spare: this.hasSpare ? this.spare : null };
  }

  setState(state: RngState): void {
    const s = state?.s;
    if (!Array.isArray(s) || s.length !== 4 || s.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff)) {
      throw new Error('Rng.setState: state.s must be four unsigned 32-bit integers');
    }
    if ((s[0] | s[1] | s[2] | s[3]) === 0) throw new Error('Rng.setState: the all-zero state is invalid');
    this.s0 = s[0] | 0;
    this.s1 = s[1] | 0;
    this.s2 = s[2] | 0;
    this.s3 = s[3] | 0;
    this.hasSpare = state.spare !== null && state.spare !== undefined;
    this.spare = this.hasSpare ? Number(state.spare) : 0;
  }
}

/** The murmur3 32-bit finaliser: a bijective avalanche mix. */
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const SEED_BITS = new DataView(new ArrayBuffer(8));

/** The 32-bit splitmix state for a seed (see the Rng constructor). */
function seedWord(seed: number): number {
  if (Number.isInteger(seed) && seed >= 0 && seed < 4294967296) return seed >>> 0;
  SEED_BITS.setFloat64(0, seed === 0 ? 0 : seed);
  return (SEED_BITS.getUint32(4) ^ fmix32(SEED_BITS.getUint32(0) ^ 0x9e3779b9)) >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
