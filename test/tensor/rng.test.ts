import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/tensor/rng.js';

// ---- independent reference: splitmix32 seeding + xoshiro128** in BigInt arithmetic ----------
// Written from the algorithm descriptions (Blackman & Vigna 2018; splitmix32 with the murmur3
// finaliser constants), not from rng.ts's Math.imul code, so the two can disagree.
const M32 = 0xffffffffn;
const mul32 = (a: bigint, b: bigint): bigint => (a * b) & M32;
const rotl32 = (x: bigint, k: bigint): bigint => ((x << k) | (x >> (32n - k))) & M32;

function refSeedWords(seed: number): bigint[] {
  // Non-negative integer seeds below 2^32: the 32-bit state is the seed itself.
  let x = BigInt(seed);
  const words: bigint[] = [];
  for (let i = 0; i < 4; i++) {
    x = (x + 0x9e3779b9n) & M32;
    let z = x;
    z = mul32(z ^ (z >> 16n), 0x85ebca6bn);
    z = mul32(z ^ (z >> 13n), 0xc2b2ae35n);
    words.push(z ^ (z >> 16n));
  }
  return words;
}

function refXoshiro(state: bigint[], count: number): number[] {
  const s = state.slice();
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    out.push(Number(mul32(rotl32(mul32(s[1], 5n), 7n), 9n)));
    const t = (s[1] << 9n) & M32;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl32(s[3], 11n);
  }
  return out;
}

function draws(rng: Rng, count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(rng.nextUint32());
  return out;
}

describe('Rng: the xoshiro128** stream', () => {
  it('xoshiro128** from state [1, 2, 3, 4] gives the hand-derived 11520, 0, 5927040', () => {
    // out₀ = rotl(2·5, 7)·9 = 1280·9 = 11520. Update: t = 2<<9 = 1024, s = [7, 0, 1026, 12288].
    // out₁ = rotl(0·5, 7)·9 = 0. Update: t = 0, s2 = 1026 ^ 7 = 1029, s1 = 0 ^ 1029 = 1029.
    // out₂ = rotl(1029·5, 7)·9 = 5145·128·9 = 5927040 (also the reference C implementation's value).
    expect(refXoshiro([1n, 2n, 3n, 4n], 3)).toEqual([11520, 0, 5927040]);
    const rng = new Rng(0);
    rng.setState({ s: [1, 2, 3, 4], spare: null });
    expect(draws(rng, 3)).toEqual([11520, 0, 5927040]);
  });

  it('matches the BigInt re-implementation (seeding and 1000 outputs) for several seeds', () => {
    for (const seed of [0, 1, 42, 123456789, 0xffffffff]) {
      const rng = new Rng(seed);
      const words = refSeedWords(seed);
      expect(rng.getState().s, `seed ${seed} state`).toEqual(words.map(Number));
      expect(draws(rng, 1000), `seed ${seed} stream`).toEqual(refXoshiro(words, 1000));
    }
  });

  it('seed 42 starts 2837322924, 544945897, 479756282 (recorded after the check above)', () => {
    expect(draws(new Rng(42), 3)).toEqual([2837322924, 544945897, 479756282]);
  });

  it('same seed gives the same stream; different seeds differ', () => {
    expect(draws(new Rng(7), 500)).toEqual(draws(new Rng(7), 500));
    const firsts = new Set<number>();
    for (let seed = 0; seed < 200; seed++) firsts.add(new Rng(seed).nextUint32());
    expect(firsts.size).toBe(200);
  });

  // Regression: seeds outside [0, 2^32) once folded onto the same stream as small integers.
  it('distinct seeds like 0, −1, 0.5 and 1, 2^32 give distinct streams', () => {
    const first = (seed: number): number => new Rng(seed).nextUint32();
    expect(new Set([first(0), first(-1), first(0.5)]).size).toBe(3);
    expect(first(1)).not.toBe(first(2 ** 32));
  });

  it('rejects non-finite or non-number seeds', () => {
    expect(() => new Rng(NaN)).toThrow('Rng seed must be a finite number, got NaN');
    expect(() => new Rng(Infinity)).toThrow(/finite number/);
    expect(() => new Rng('3' as unknown as number)).toThrow(/finite number, got 3/);
  });
});

describe('Rng: distributions', () => {
  const N = 100_000;

  it('next() lies in [0, 1) and uniform(low, high) in [low, high)', () => {
    const rng = new Rng(1);
    let lo = Infinity;
    let hi = -Infinity;
    let s = 0;
    for (let i = 0; i < N; i++) {
      const u = rng.next();
      lo = Math.min(lo, u);
      hi = Math.max(hi, u);
      s += u;
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    // mean of U[0,1) has sd 1/√(12N) ≈ 0.0009: 5 sd = 0.005
    expect(Math.abs(s / N - 0.5)).toBeLessThan(0.005);
    for (let i = 0; i < 1000; i++) {
      const v = rng.uniform(-3, -2);
      expect(v >= -3 && v < -2).toBe(true);
    }
  });

  it('int(n) stays in range and is unbiased (chi-square over 10^5 draws, n = 10 and 7)', () => {
    const rng = new Rng(2);
    for (const n of [10, 7]) {
      const counts = new Array<number>(n).fill(0);
      let outOfRange = 0;
      for (let i = 0; i < N; i++) {
        const v = rng.int(n);
        if (Number.isInteger(v) && v >= 0 && v < n) counts[v]++;
        else outOfRange++;
      }
      expect(outOfRange).toBe(0);
      const e = N / n;
      const chi2 = counts.reduce((acc, c) => acc + ((c - e) * (c - e)) / e, 0);
      // df = n − 1 ≤ 9: the 99.99% quantile of χ²₉ is ≈ 33.7; a loose bound of 40.
      expect(chi2, `chi-square for n = ${n}`).toBeLessThan(40);
    }
    expect(rng.int(1)).toBe(0);
    expect(rng.int(2 ** 32)).toBeLessThan(2 ** 32);
  });

  it('int(n) rejects n that is not an integer in [1, 2^32]', () => {
    const rng = new Rng(3);
    for (const bad of [0, -1, 1.5, NaN, 2 ** 32 + 1]) {
      expect(() => rng.int(bad)).toThrow(/Rng.int: n must be an integer in \[1, 2\^32\]/);
    }
  });

  it('normal() has mean ≈ 0 and variance ≈ 1 over 10^5 draws', () => {
    const rng = new Rng(4);
    let s = 0;
    let s2 = 0;
    let s4 = 0;
    for (let i = 0; i < N; i++) {
      const z = rng.normal();
      s += z;
      s2 += z * z;
      s4 += z * z * z * z;
    }
    const m = s / N;
    const v = s2 / N - m * m;
    // sd of the sample mean = 1/√N ≈ 0.0032, of the sample variance ≈ √(2/N) ≈ 0.0045: bounds ≈ 6 sd.
    expect(Math.abs(m)).toBeLessThan(0.02);
    expect(Math.abs(v - 1)).toBeLessThan(0.03);
    // fourth moment of N(0,1) is 3 (sd of the estimate ≈ √(96/N) ≈ 0.031)
    expect(Math.abs(s4 / N - 3)).toBeLessThan(0.2);
  });
});

describe('Rng: state, shuffling, fork', () => {
  it('getState/setState round-trips and continues identically, including the cached normal spare', () => {
    const rng = new Rng(5);
    rng.normal(); // leaves the second Box–Muller value cached
    const state = rng.getState();
    expect(state.spare).not.toBeNull();
    const expected = [rng.normal(), rng.normal(), rng.next(), rng.nextUint32(), rng.normal()];
    const other = new Rng(999);
    other.setState(state);
    expect([other.normal(), other.normal(), other.next(), other.nextUint32(), other.normal()]).toEqual(expected);
    // A state with no spare also round-trips (through JSON, as in a checkpoint).
    const fresh = new Rng(6);
    const saved = JSON.parse(JSON.stringify(fresh.getState()));
    expect(saved.spare).toBeNull();
    const a = [fresh.normal(), fresh.next()];
    const restored = new Rng(0);
    restored.setState(saved);
    expect([restored.normal(), restored.next()]).toEqual(a);
  });

  it('setState rejects malformed states', () => {
    const rng = new Rng(0);
    expect(() => rng.setState({ s: [0, 0, 0, 0], spare: null })).toThrow('the all-zero state is invalid');
    const bad = [[1, 2, 3], [1, 2, 3, -1], [1, 2, 3, 2 ** 32], [1, 2, 3, 0.5]];
    for (const s of bad) {
      expect(() => rng.setState({ s: s as [number, number, number, number], spare: null })).toThrow(
        'state.s must be four unsigned 32-bit integers',
      );
    }
  });

  it('permutation(n) is a permutation of 0..n−1 and depends on the seed', () => {
    for (const n of [0, 1, 2, 17, 1000]) {
      const p = new Rng(8).permutation(n);
      expect(p).toBeInstanceOf(Int32Array);
      expect(Array.from(p).sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
    }
    expect(Array.from(new Rng(8).permutation(50))).not.toEqual(Array.from(new Rng(9).permutation(50)));
    expect(() => new Rng(1).permutation(-1)).toThrow();
  });

  it('shuffle works in place on plain arrays and returns them', () => {
    const arr = ['a', 'b', 'c', 'd', 'e'];
    expect(new Rng(10).shuffle(arr)).toBe(arr);
    expect(arr.slice().sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  // Regression: fork() once passed a signed int32 word to setState, so about half of all forks threw.
  it('fork() gives a deterministic independent generator and never throws', () => {
    const parent = new Rng(42);
    for (let i = 0; i < 20; i++) parent.fork();
    const a = new Rng(11).fork();
    const b = new Rng(11).fork();
    expect(draws(a, 10)).toEqual(draws(b, 10));
  });
});
