// Config merging and validation shared by every factory: errors name the option, the bad value and what is allowed.

/** Constraints for {@link readNumber}. */
export interface NumberRule {
  /** Inclusive lower bound unless `minExclusive`. */
  readonly min?: number;
  readonly minExclusive?: boolean;
  /** Inclusive upper bound unless `maxExclusive`. */
  readonly max?: number;
  readonly maxExclusive?: boolean;
  readonly integer?: boolean;
}

function describeRange(rule: NumberRule): string {
  const lo = rule.min === undefined ? '(-inf' : `${rule.minExclusive ? '(' : '['}${rule.min}`;
  const hi = rule.max === undefined ? 'inf)' : `${rule.max}${rule.maxExclusive ? ')' : ']'}`;
  return `${rule.integer ? 'an integer' : 'a number'} in ${lo}, ${hi}`;
}

/** A config value for an error message: JSON, except numbers (JSON would print NaN and ±Infinity as `null`) and `undefined`. */
function describeValue(value: unknown): string {
  return typeof value === 'number' ? String(value) : JSON.stringify(value) ?? String(value);
}

/**
 * Reads `config[key]`, falling back to `fallback`, and checks it: throws
 * `"<owner>: <key> must be a number in [0, 1), got 1.2"` on a bad value.
 */
export function readNumber(
  owner: string, config: Record<string, unknown>, key: string, fallback: number, rule: NumberRule = {},
): number {
  const raw = config[key];
  const v = raw === undefined ? fallback : raw;
  const bad = (): never => {
    throw new Error(`${owner}: ${key} must be ${describeRange(rule)}, got ${describeValue(raw)}`);
  };
  if (typeof v !== 'number' || !Number.isFinite(v)) bad();
  const n = v as number;
  if (rule.integer && !Number.isInteger(n)) bad();
  if (rule.min !== undefined && (rule.minExclusive ? n <= rule.min : n < rule.min)) bad();
  if (rule.max !== undefined && (rule.maxExclusive ? n >= rule.max : n > rule.max)) bad();
  return n;
}

/** Reads a boolean option (default `fallback`), throwing on anything that is not a boolean. */
export function readBoolean(owner: string, config: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const raw = config[key];
  if (raw === undefined) return fallback;
  if (typeof raw !== 'boolean') throw new Error(`${owner}: ${key} must be true or false, got ${describeValue(raw)}`);
  return raw;
}

/** Reads a string option restricted to `allowed` (default `fallback`). */
export function readChoice<T extends string>(
  owner: string, config: Record<string, unknown>, key: string, fallback: T, allowed: readonly T[],
): T {
  const raw = config[key];
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !allowed.includes(raw as T)) {
    throw new Error(`${owner}: ${key} must be one of ${allowed.join(', ')}, got ${describeValue(raw)}`);
  }
  return raw as T;
}

/** Reads a positive integer or a pair of them (`3` → `[3, 3]`, `[3, 5]` → `[3, 5]`). */
export function readPair(
  owner: string, config: Record<string, unknown>, key: string, fallback: number | readonly [number, number] | undefined,
  rule: NumberRule = { min: 1, integer: true },
): [number, number] {
  const raw = config[key] === undefined ? fallback : config[key];
  if (raw === undefined) throw new Error(`${owner}: ${key} is required`);
  const pair = typeof raw === 'number' ? [raw, raw] : raw;
  if (!Array.isArray(pair) || pair.length !== 2) {
    throw new Error(`${owner}: ${key} must be ${describeRange(rule)} or a pair of them, got ${describeValue(raw)}`);
  }
  const a = readNumber(owner, { [key]: pair[0] }, key, 0, rule);
  const b = readNumber(owner, { [key]: pair[1] }, key, 0, rule);
  return [a, b];
}

/** Throws if `config` has keys outside `known`, naming them and the known ones (catches typos like `lerning_rate`). */
export function checkKeys(owner: string, config: Record<string, unknown>, known: readonly string[]): void {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new Error(`${owner}: config must be an object, got ${JSON.stringify(config)}`);
  }
  for (const key of Object.keys(config)) {
    if (!known.includes(key)) throw new Error(`${owner}: unknown option "${key}"; known options: ${known.join(', ')}`);
  }
}
