// Sweep configurations in the wandb sweep-config shape, validated with errors that name the offending
// key (`parameters.learning_rate.min`), and read from JSON or YAML files.
import { readFileSync } from 'node:fs';
import { parseYaml } from './yaml.js';

/** Search methods. */
export const SWEEP_METHODS = ['grid', 'random', 'bayes'] as const;
/** Parameter distributions (wandb names). */
export const DISTRIBUTIONS = ['constant', 'categorical', 'uniform', 'int_uniform', 'q_uniform', 'log_uniform_values', 'normal', 'q_normal'] as const;

export type SweepMethod = (typeof SWEEP_METHODS)[number];
export type Distribution = (typeof DISTRIBUTIONS)[number];

/**
 * One parameter after validation. `values` for categorical/constant (any JSON values; a plain-object
 * value is spread into the trial's parameters, so `{ learning_rate: 0.01, momentum: 0.9 }` sets a pair),
 * `min`/`max` for the uniform kinds (for `log_uniform_values` the bounds are the values themselves,
 * > 0), `mu`/`sigma` for normal, `q` for the quantized kinds.
 */
export interface ParameterSpec {
  readonly distribution: Distribution;
  readonly values?: readonly unknown[];
  readonly min?: number;
  readonly max?: number;
  readonly mu?: number;
  readonly sigma?: number;
  readonly q?: number;
}

/** Hyperband early termination (see hyperband.ts for the exact rule). */
export interface HyperbandConfig {
  readonly type: 'hyperband';
  /** First rung, in epochs. */
  readonly min_iter: number;
  /** Rung spacing and keep fraction 1/eta (default 3). */
  readonly eta: number;
  /** Last rung (default: unbounded). */
  readonly max_iter?: number;
}

/** A validated sweep configuration. */
export interface SweepConfig {
  readonly name?: string;
  readonly method: SweepMethod;
  readonly metric: { readonly name: string; readonly goal: 'maximize' | 'minimize' };
  readonly parameters: Readonly<Record<string, ParameterSpec>>;
  /** Most trials to run (grid: default all combinations; random/bayes: required unless given on the command line). */
  readonly run_cap?: number;
  readonly early_terminate?: HyperbandConfig;
  /** Seed of the search (suggestions). Default 0. */
  readonly seed?: number;
  /** A script run per trial instead of `tensorkit train` (see sweep.ts). */
  readonly program?: string;
  /** Bayes: random trials before the model is used (default 10). */
  readonly startup_trials?: number;
}

/** A bad sweep configuration; `key` is the dotted path of the offending entry. */
export class SweepConfigError extends Error {
  readonly key: string;
  constructor(key: string, message: string) {
    super(`sweep config: ${key}: ${message}`);
    this.name = 'SweepConfigError';
    this.key = key;
  }
}

const TOP_KEYS = ['name', 'description', 'method', 'metric', 'parameters', 'run_cap', 'early_terminate', 'seed', 'program', 'startup_trials', 'project', 'entity'];
const PARAM_KEYS = ['distribution', 'values', 'value', 'min', 'max', 'mu', 'sigma', 'q', 'probabilities'];

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A value for messages: numbers as numbers (JSON would print Infinity as null), the rest as JSON. */
function show(v: unknown): string {
  return typeof v === 'number' ? (Number.isFinite(v) ? String(v) : `${v} (a literal such as 1e400 overflows a double)`) : JSON.stringify(v);
}

/** Throws if a value (or a nested list / object entry) holds a number that is not finite. */
function checkFinite(v: unknown, key: string): void {
  if (typeof v === 'number' && !Number.isFinite(v)) throw new SweepConfigError(key, `must be a finite number, got ${show(v)}`);
  if (Array.isArray(v)) v.forEach((x, i) => checkFinite(x, `${key}[${i}]`));
  else if (isObject(v)) for (const [k, x] of Object.entries(v)) checkFinite(x, `${key}.${k}`);
}

function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) throw new SweepConfigError(where ? `${where}.${k}` : k, `unknown key; allowed keys: ${allowed.join(', ')}`);
  }
}

function num(obj: Record<string, unknown>, key: string, where: string): number | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new SweepConfigError(`${where}.${key}`, `must be a finite number, got ${show(v)}`);
  return v;
}

function positiveInt(v: unknown, key: string, min = 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new SweepConfigError(key, `must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return v;
}

/** Validates one parameter entry; infers the distribution as wandb does when it is not given. */
export function validateParameter(raw: unknown, where: string): ParameterSpec {
  if (!isObject(raw)) throw new SweepConfigError(where, `must be an object such as { values: [...] } or { min, max }, got ${JSON.stringify(raw)}`);
  checkKeys(raw, PARAM_KEYS, where);
  if (raw.value !== undefined && raw.values !== undefined) throw new SweepConfigError(where, 'give value or values, not both');
  let dist = raw.distribution as Distribution | undefined;
  if (dist !== undefined && !(DISTRIBUTIONS as readonly string[]).includes(dist)) {
    throw new SweepConfigError(`${where}.distribution`, `unknown distribution ${JSON.stringify(dist)}; known: ${DISTRIBUTIONS.join(', ')}`);
  }
  const min = num(raw, 'min', where);
  const max = num(raw, 'max', where);
  const mu = num(raw, 'mu', where);
  const sigma = num(raw, 'sigma', where);
  const q = num(raw, 'q', where);
  if (dist === undefined) {
    if (raw.value !== undefined) dist = 'constant';
    else if (raw.values !== undefined) dist = 'categorical';
    else if (min !== undefined && max !== undefined) dist = Number.isInteger(min) && Number.isInteger(max) ? 'int_uniform' : 'uniform';
    else throw new SweepConfigError(where, 'needs values, value, or min and max (or a distribution)');
  }
  switch (dist) {
    case 'constant':
      checkFinite(raw.value ?? raw.values, `${where}.value`);
      // A validated config (values of one entry) validates again to itself.
      if (raw.value === undefined && Array.isArray(raw.values) && raw.values.length === 1) return { distribution: 'constant', values: raw.values };
      if (raw.value === undefined) throw new SweepConfigError(`${where}.value`, 'is required for a constant');
      return { distribution: 'constant', values: [raw.value] };
    case 'categorical': {
      const values = raw.values;
      if (!Array.isArray(values)) throw new SweepConfigError(`${where}.values`, `must be a list, got ${JSON.stringify(values)}`);
      if (values.length === 0) throw new SweepConfigError(`${where}.values`, 'is empty; give at least one value');
      checkFinite(values, `${where}.values`);
      return { distribution: 'categorical', values };
    }
    case 'uniform':
    case 'int_uniform':
    case 'q_uniform':
    case 'log_uniform_values': {
      if (min === undefined) throw new SweepConfigError(`${where}.min`, `is required for ${dist}`);
      if (max === undefined) throw new SweepConfigError(`${where}.max`, `is required for ${dist}`);
      if (min > max) throw new SweepConfigError(`${where}.min`, `min ${min} is greater than max ${max}`);
      if (dist === 'int_uniform' && !(Number.isInteger(min) && Number.isInteger(max))) throw new SweepConfigError(`${where}.min`, `int_uniform needs integer bounds, got ${min}..${max}`);
      if (dist === 'log_uniform_values' && min <= 0) throw new SweepConfigError(`${where}.min`, `log_uniform_values needs bounds > 0, got ${min}`);
      if (dist === 'q_uniform' && q !== undefined && q <= 0) throw new SweepConfigError(`${where}.q`, `must be > 0, got ${q}`);
      return { distribution: dist, min, max, ...(dist === 'q_uniform' ? { q: q ?? 1 } : {}) };
    }
    case 'normal':
    case 'q_normal': {
      const s = sigma ?? 1;
      if (!(s > 0)) throw new SweepConfigError(`${where}.sigma`, `must be > 0, got ${s}`);
      if (q !== undefined && q <= 0) throw new SweepConfigError(`${where}.q`, `must be > 0, got ${q}`);
      return { distribution: dist, mu: mu ?? 0, sigma: s, ...(dist === 'q_normal' ? { q: q ?? 1 } : {}) };
    }
  }
}

/** Options of {@link validateSweepConfig}. */
export interface ValidateOptions {
  /** Parameter names the trainer accepts; others are rejected naming the parameter. */
  readonly knownParameters?: readonly string[];
  /** Parameter names the sweep sets itself (rejected with that reason). */
  readonly reservedParameters?: readonly string[];
  /**
   * The trainer's rule for one value of parameter `name`: throws an error naming the value and what
   * is allowed. Called up front for every value a parameter can take: each `values` entry (each key
   * of an object entry), a constant, both ends of a range; a normal distribution reaches any number,
   * so it is checked at ±Number.MAX_VALUE.
   */
  readonly checkValue?: (name: string, value: unknown) => void;
}

/** Runs `options.checkValue` on every value `spec` can produce; errors name the entry. */
function checkValues(name: string, spec: ParameterSpec, where: string, options: ValidateOptions): void {
  const check = options.checkValue;
  if (!check) return;
  const run = (param: string, value: unknown, key: string, note = '') => {
    try {
      check(param, value);
    } catch (err) {
      throw new SweepConfigError(key, `${note}${(err as Error).message}`);
    }
  };
  if (spec.values) {
    spec.values.forEach((v, i) => {
      const key = spec.distribution === 'constant' ? `${where}.value` : `${where}.values[${i}]`;
      if (isObject(v)) for (const [k, x] of Object.entries(v)) run(k, x, `${key}.${k}`);
      else run(name, v, key);
    });
    return;
  }
  if (spec.distribution === 'normal' || spec.distribution === 'q_normal') {
    const note = `a ${spec.distribution} distribution reaches any number, use a bounded one: `;
    run(name, -Number.MAX_VALUE, `${where}.distribution`, note);
    run(name, Number.MAX_VALUE, `${where}.distribution`, note);
    return;
  }
  run(name, spec.min, `${where}.min`);
  run(name, spec.max, `${where}.max`);
}

/** Validates a parsed config (JSON/YAML object); throws {@link SweepConfigError} naming the key. */
export function validateSweepConfig(raw: unknown, options: ValidateOptions = {}): SweepConfig {
  if (!isObject(raw)) throw new SweepConfigError('(top level)', 'must be an object');
  checkKeys(raw, TOP_KEYS, '');
  const method = raw.method;
  if (typeof method !== 'string' || !(SWEEP_METHODS as readonly string[]).includes(method)) {
    throw new SweepConfigError('method', `unknown method ${JSON.stringify(method)}; known: ${SWEEP_METHODS.join(', ')}`);
  }
  const metricRaw = raw.metric;
  if (!isObject(metricRaw)) throw new SweepConfigError('metric', 'is required: { name: val_accuracy, goal: maximize }');
  checkKeys(metricRaw, ['name', 'goal', 'target'], 'metric');
  if (typeof metricRaw.name !== 'string' || metricRaw.name === '') throw new SweepConfigError('metric.name', `must be a metric name, got ${JSON.stringify(metricRaw.name)}`);
  const goal = metricRaw.goal ?? 'maximize';
  if (goal !== 'maximize' && goal !== 'minimize') throw new SweepConfigError('metric.goal', `must be maximize or minimize, got ${JSON.stringify(goal)}`);
  if (!isObject(raw.parameters) || Object.keys(raw.parameters).length === 0) throw new SweepConfigError('parameters', 'must be a non-empty object of parameter entries');
  const parameters: Record<string, ParameterSpec> = {};
  for (const [name, entry] of Object.entries(raw.parameters)) {
    const where = `parameters.${name}`;
    if (options.reservedParameters?.includes(name)) throw new SweepConfigError(where, 'is set by the sweep itself and cannot be swept');
    const spec = validateParameter(entry, where);
    // A group (every value an object, e.g. { learning_rate, momentum } pairs) may have any name: its keys are checked instead.
    const group = spec.values !== undefined && spec.values.every(isObject);
    if (options.knownParameters && !group && !options.knownParameters.includes(name)) {
      throw new SweepConfigError(where, `unknown parameter of the trainer; known: ${options.knownParameters.join(', ')}`);
    }
    if (options.knownParameters && spec.values) {
      spec.values.forEach((v, i) => {
        if (!isObject(v)) return;
        for (const k of Object.keys(v)) {
          if (!options.knownParameters!.includes(k)) throw new SweepConfigError(`${where}.values[${i}].${k}`, `unknown parameter of the trainer; known: ${options.knownParameters!.join(', ')}`);
        }
      });
    }
    checkValues(name, spec, where, options);
    if (method === 'grid' && spec.values === undefined && spec.distribution !== 'int_uniform') {
      throw new SweepConfigError(where, `grid search needs values (or an int_uniform range), got distribution ${spec.distribution}`);
    }
    parameters[name] = spec;
  }
  const config: { -readonly [K in keyof SweepConfig]: SweepConfig[K] } = { method: method as SweepMethod, metric: { name: metricRaw.name, goal }, parameters };
  if (raw.name !== undefined) {
    if (typeof raw.name !== 'string' || !/^[A-Za-z0-9._-]+$/.test(raw.name)) throw new SweepConfigError('name', `must be a folder-safe name ([A-Za-z0-9._-]), got ${JSON.stringify(raw.name)}`);
    config.name = raw.name;
  }
  if (raw.run_cap !== undefined) config.run_cap = positiveInt(raw.run_cap, 'run_cap');
  if (raw.seed !== undefined) config.seed = positiveInt(raw.seed, 'seed', 0);
  if (raw.startup_trials !== undefined) config.startup_trials = positiveInt(raw.startup_trials, 'startup_trials');
  if (raw.program !== undefined) {
    if (typeof raw.program !== 'string' || raw.program === '') throw new SweepConfigError('program', `must be a script path, got ${JSON.stringify(raw.program)}`);
    config.program = raw.program;
  }
  if (raw.early_terminate !== undefined) {
    const et = raw.early_terminate;
    if (!isObject(et)) throw new SweepConfigError('early_terminate', 'must be { type: hyperband, min_iter, eta }');
    checkKeys(et, ['type', 'min_iter', 'eta', 'max_iter', 's'], 'early_terminate');
    if (et.type !== 'hyperband') throw new SweepConfigError('early_terminate.type', `unknown type ${JSON.stringify(et.type)}; known: hyperband`);
    const minIter = positiveInt(et.min_iter ?? 1, 'early_terminate.min_iter');
    const eta = et.eta ?? 3;
    if (typeof eta !== 'number' || !(eta > 1)) throw new SweepConfigError('early_terminate.eta', `must be a number > 1, got ${JSON.stringify(eta)}`);
    const hb: HyperbandConfig = { type: 'hyperband', min_iter: minIter, eta, ...(et.max_iter !== undefined ? { max_iter: positiveInt(et.max_iter, 'early_terminate.max_iter') } : {}) };
    if (hb.max_iter !== undefined && hb.max_iter < minIter) throw new SweepConfigError('early_terminate.max_iter', `max_iter ${hb.max_iter} is below min_iter ${minIter}`);
    config.early_terminate = hb;
  }
  return config;
}

/** Reads a sweep config file: `.json` as JSON, `.yaml`/`.yml` with the YAML subset of yaml.ts. Not validated. */
export function readSweepConfigFile(path: string): unknown {
  const text = readFileSync(path, 'utf8');
  if (/\.ya?ml$/i.test(path)) {
    try {
      return parseYaml(text);
    } catch (err) {
      throw new Error(`${path}: ${(err as Error).message}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: not valid JSON: ${(err as Error).message}`);
  }
}

/** Number of grid points (product of value counts; int_uniform counts max - min + 1). */
export function gridSize(config: SweepConfig): number {
  let n = 1;
  for (const spec of Object.values(config.parameters)) n *= spec.values ? spec.values.length : (spec.max as number) - (spec.min as number) + 1;
  return n;
}
