// Suggesting trial parameters: grid enumeration, random sampling from the priors, and a tree-structured
// Parzen estimator (TPE, Bergstra et al. 2011) for `bayes`, handling categorical and log-scale parameters.
import { Rng } from '../tensor/rng.js';
import type { ParameterSpec, SweepConfig } from './sweep-config.js';

/** Parameters of one trial, by sweep-parameter name (object values not yet spread, see {@link expandParams}). */
export type TrialParams = Record<string, unknown>;

/** A finished trial as the search sees it. */
export interface Observation {
  readonly params: TrialParams;
  /** The metric (its goal is applied by the caller: TPE minimizes `loss`). */
  readonly loss: number;
}

/** The Rng of trial `index` of a sweep seeded `seed`: independent of how many trials ran before. */
export function trialRng(seed: number, index: number): Rng {
  return new Rng((Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0);
}

/** Values of a grid parameter (its list, or the integers of an int_uniform range). */
function gridValues(spec: ParameterSpec): readonly unknown[] {
  if (spec.values) return spec.values;
  const out: number[] = [];
  for (let v = spec.min as number; v <= (spec.max as number); v++) out.push(v);
  return out;
}

/** Grid point `index` (mixed radix; the last parameter varies fastest), or null past the end. */
export function gridPoint(config: SweepConfig, index: number): TrialParams | null {
  const names = Object.keys(config.parameters);
  const lists = names.map((n) => gridValues(config.parameters[n]));
  const picks = new Array<unknown>(names.length);
  let rest = index;
  for (let i = names.length - 1; i >= 0; i--) {
    picks[i] = lists[i][rest % lists[i].length];
    rest = Math.floor(rest / lists[i].length);
  }
  if (rest !== 0) return null;
  const out: TrialParams = {};
  names.forEach((name, i) => (out[name] = picks[i]));
  return out;
}

function quantize(v: number, q: number): number {
  return Number((Math.round(v / q) * q).toPrecision(12));
}

/** Maps an internal (search-space) value back: exp for log scale, rounding for int / q kinds. */
function fromInternal(spec: ParameterSpec, x: number): number {
  switch (spec.distribution) {
    case 'log_uniform_values':
      return Math.min(spec.max as number, Math.max(spec.min as number, Math.exp(x)));
    case 'int_uniform':
      return Math.min(spec.max as number, Math.max(spec.min as number, Math.round(x)));
    case 'q_uniform':
      return Math.min(spec.max as number, Math.max(spec.min as number, quantize(x, spec.q as number)));
    case 'q_normal':
      return quantize(x, spec.q as number);
    default:
      return x;
  }
}

/** Search-space bounds of a numeric parameter (log for log_uniform_values; infinite for normal). */
function bounds(spec: ParameterSpec): [number, number] {
  if (spec.distribution === 'log_uniform_values') return [Math.log(spec.min as number), Math.log(spec.max as number)];
  if (spec.distribution === 'normal' || spec.distribution === 'q_normal') return [-Infinity, Infinity];
  // Integers own the interval ±0.5 around them, so the end values are as likely as the inner ones.
  if (spec.distribution === 'int_uniform') return [(spec.min as number) - 0.5, (spec.max as number) + 0.5];
  return [spec.min as number, spec.max as number];
}

function toInternal(spec: ParameterSpec, v: number): number {
  return spec.distribution === 'log_uniform_values' ? Math.log(v) : v;
}

/** Draws one value from a parameter's prior. */
export function samplePrior(spec: ParameterSpec, rng: Rng): unknown {
  if (spec.values) return spec.values[rng.int(spec.values.length)];
  if (spec.distribution === 'normal' || spec.distribution === 'q_normal') return fromInternal(spec, (spec.mu as number) + (spec.sigma as number) * rng.normal());
  const [lo, hi] = bounds(spec);
  return fromInternal(spec, rng.uniform(lo, hi));
}

/** A random trial: every parameter drawn from its prior with {@link trialRng}. */
export function randomPoint(config: SweepConfig, seed: number, index: number): TrialParams {
  const rng = trialRng(seed, index);
  const out: TrialParams = {};
  for (const [name, spec] of Object.entries(config.parameters)) out[name] = samplePrior(spec, rng);
  return out;
}

// ---- TPE ----

/** Standard normal CDF through erf (Abramowitz–Stegun 7.1.26, |error| < 1.5e-7). */
function normalCdf(z: number): number {
  if (z === Infinity) return 1;
  if (z === -Infinity) return 0;
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/** A 1-d Parzen estimator: equal-weight Gaussians truncated to [lo, hi]. */
interface Parzen {
  readonly mus: number[];
  readonly sigmas: number[];
  readonly lo: number;
  readonly hi: number;
}

/**
 * Builds the estimator of `points` (search space) plus one prior component (the middle of the range
 * with σ = range, or the normal prior). Each point's σ is the larger gap to its sorted neighbours
 * (hyperopt's rule), clipped to [range / min(100, n + 1), range].
 */
function parzen(spec: ParameterSpec, points: readonly number[]): Parzen {
  const [lo, hi] = bounds(spec);
  const prior = Number.isFinite(lo) ? { mu: (lo + hi) / 2, sigma: hi - lo } : { mu: spec.mu as number, sigma: spec.sigma as number };
  const range = Number.isFinite(lo) ? hi - lo : 4 * (spec.sigma as number);
  const all = [...points, prior.mu].sort((a, b) => a - b);
  const minSigma = range / Math.min(100, points.length + 1);
  const mus: number[] = [];
  const sigmas: number[] = [];
  for (const p of points) {
    const i = all.indexOf(p);
    const left = i > 0 ? p - all[i - 1] : 0;
    const right = i < all.length - 1 ? all[i + 1] - p : 0;
    mus.push(p);
    sigmas.push(Math.min(range, Math.max(minSigma, left, right)));
  }
  mus.push(prior.mu);
  sigmas.push(prior.sigma);
  return { mus, sigmas, lo, hi };
}

function parzenLogPdf(est: Parzen, x: number): number {
  let sum = 0;
  for (let i = 0; i < est.mus.length; i++) {
    const s = est.sigmas[i];
    const z = (x - est.mus[i]) / s;
    const mass = normalCdf((est.hi - est.mus[i]) / s) - normalCdf((est.lo - est.mus[i]) / s);
    sum += Math.exp(-0.5 * z * z) / (s * Math.sqrt(2 * Math.PI) * Math.max(mass, 1e-12));
  }
  return Math.log(sum / est.mus.length + 1e-300);
}

function parzenSample(est: Parzen, rng: Rng): number {
  const i = rng.int(est.mus.length);
  for (let tries = 0; tries < 32; tries++) {
    const x = est.mus[i] + est.sigmas[i] * rng.normal();
    if (x >= est.lo && x <= est.hi) return x;
  }
  return Math.min(est.hi, Math.max(est.lo, est.mus[i]));
}

/** Options of {@link tpePoint}. */
export interface TpeOptions {
  /** Fraction of the observations that form the "good" density l(x) (default 0.25, at most 25 points). */
  readonly gamma?: number;
  /** Candidates drawn from l(x); the one with the highest l/g ratio is suggested (default 24). */
  readonly candidates?: number;
  /**
   * Configurations already run or running. Candidates equal to one of them are passed over (on a
   * discrete space TPE otherwise keeps re-proposing its incumbent, and with a fixed training seed each
   * repeat is an exact, wasted copy); only when l(x) and then the prior yield nothing new is a repeat
   * returned.
   */
  readonly exclude?: readonly TrialParams[];
}

/** A configuration's identity: its values in the config's parameter order. */
function paramsKey(config: SweepConfig, params: TrialParams): string {
  return JSON.stringify(Object.keys(config.parameters).map((name) => params[name] ?? null));
}

/**
 * One TPE suggestion. The observations are split into the best ⌈γ·n⌉ (l) and the rest (g); each
 * parameter gets a density per group: categorical (and `values` lists) by smoothed counts
 * (count + 1 per value), numeric ones by {@link parzen} in search space (log space for
 * log_uniform_values, so small learning rates are as reachable as large ones). Candidates are drawn
 * from l parameter by parameter, and the candidate maximizing Σ log l(xᵢ) − log g(xᵢ) is returned.
 * `loss` is minimized. Deterministic for a given `rng` and observation list.
 */
export function tpePoint(config: SweepConfig, observations: readonly Observation[], rng: Rng, options: TpeOptions = {}): TrialParams {
  const gamma = options.gamma ?? 0.25;
  const nCandidates = options.candidates ?? 24;
  const sorted = observations.filter((o) => Number.isFinite(o.loss)).sort((a, b) => a.loss - b.loss);
  if (sorted.length < 2) {
    const out: TrialParams = {};
    for (const [name, spec] of Object.entries(config.parameters)) out[name] = samplePrior(spec, rng);
    return out;
  }
  const nGood = Math.min(25, Math.max(1, Math.ceil(gamma * sorted.length)));
  const good = sorted.slice(0, nGood);
  const bad = sorted.slice(nGood);

  type Model = { sample(): unknown; score(v: unknown): number };
  const models: [string, Model][] = [];
  for (const [name, spec] of Object.entries(config.parameters)) {
    if (spec.values) {
      const values = spec.values;
      const key = (v: unknown) => JSON.stringify(v);
      const keys = values.map(key);
      const weights = (group: readonly Observation[]) => {
        const w = values.map(() => 1);
        for (const o of group) {
          const i = keys.indexOf(key(o.params[name]));
          if (i >= 0) w[i] += 1;
        }
        const total = w.reduce((a, b) => a + b, 0);
        return w.map((x) => x / total);
      };
      const wl = weights(good);
      const wg = weights(bad);
      models.push([name, {
        sample() {
          let u = rng.next();
          for (let i = 0; i < wl.length; i++) {
            u -= wl[i];
            if (u < 0) return values[i];
          }
          return values[values.length - 1];
        },
        score(v) {
          const i = keys.indexOf(key(v));
          return Math.log(wl[i]) - Math.log(wg[i]);
        },
      }]);
    } else {
      const internal = (group: readonly Observation[]) => group.map((o) => toInternal(spec, Number(o.params[name]))).filter(Number.isFinite);
      const l = parzen(spec, internal(good));
      const g = parzen(spec, internal(bad));
      models.push([name, {
        sample: () => parzenSample(l, rng),
        score: (x) => parzenLogPdf(l, x as number) - parzenLogPdf(g, x as number),
      }]);
    }
  }
  const seen = new Set((options.exclude ?? []).map((p) => paramsKey(config, p)));
  const finish = (raw: TrialParams): TrialParams => {
    const out: TrialParams = {};
    for (const [name, spec] of Object.entries(config.parameters)) out[name] = spec.values ? raw[name] : fromInternal(spec, raw[name] as number);
    return out;
  };
  let best: TrialParams | null = null;
  let bestScore = -Infinity;
  let repeat: TrialParams | null = null;
  let repeatScore = -Infinity;
  // nCandidates new configurations, drawing at most 8× as many when most of l(x) has been run.
  for (let drawn = 0, fresh = 0; fresh < nCandidates && drawn < 8 * nCandidates; drawn++) {
    const raw: TrialParams = {};
    let score = 0;
    for (const [name, model] of models) {
      const v = model.sample();
      raw[name] = v;
      score += model.score(v);
    }
    const point = finish(raw);
    if (seen.size > 0 && seen.has(paramsKey(config, point))) {
      if (score > repeatScore) {
        repeatScore = score;
        repeat = point;
      }
      continue;
    }
    fresh++;
    if (score > bestScore) {
      bestScore = score;
      best = point;
    }
  }
  if (best !== null) return best;
  // l(x) is exhausted: a new configuration from the prior if there is one, else the best repeat.
  for (let tries = 0; tries < 256; tries++) {
    const point: TrialParams = {};
    for (const [name, spec] of Object.entries(config.parameters)) point[name] = samplePrior(spec, rng);
    if (!seen.has(paramsKey(config, point))) return point;
  }
  return repeat as TrialParams;
}

/**
 * Trial parameters as the trainer gets them: a plain-object value (a `values` entry such as
 * `{ learning_rate: 0.01, momentum: 0.9 }`) is spread into the result in place of its sweep parameter.
 */
export function expandParams(params: TrialParams): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, v);
    else out[k] = v;
  }
  return out;
}
