// Argument parsing shared by the examples: the common flags, validated numbers, and run-when-executed.
// Flags are kebab-case (`--batch-size`); the `tensorkit train` spellings of the same settings work too
// (`-lr`, `--learning_rate`, `--learning-rate`, `-e`, `-b`, `-m`, and any `--snake_case` form).
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

/** A bad command-line value; when run as a script the message is printed and the exit status is 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Flags every example takes. */
export const COMMON_FLAGS = {
  out: { type: 'string' },
  data: { type: 'string' },
  seed: { type: 'string', default: '0' },
  quick: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies FlagSpec;

/** Values of the common flags. */
export interface CommonArgs {
  /** Output folder (default `out/<example>`). */
  readonly out: string;
  /** Dataset directory (default: the vendored copy). */
  readonly data?: string;
  readonly seed: number;
  /** A seconds-long slice instead of the full assignment. */
  readonly quick: boolean;
}

/** An example's own flags, in node:util parseArgs form. */
export type FlagSpec = Readonly<Record<string, { readonly type: 'string' | 'boolean'; readonly default?: string | boolean; readonly short?: string }>>;

/** Parsed values of `F`: booleans, strings with a default, or optional strings. */
export type FlagValues<F extends FlagSpec> = {
  [K in keyof F]: F[K] extends { type: 'boolean' } ? boolean : F[K] extends { default: string } ? string : string | undefined;
};

/** `tensorkit train` spellings of settings the examples share, and the example flag each one means. */
export const TRAIN_ALIASES: Readonly<Record<string, string>> = {
  '-lr': 'lr', '--learning-rate': 'lr', '--learning_rate': 'lr',
  '-e': 'epochs', '-b': 'batch-size', '-m': 'momentum',
};

/**
 * Rewrites the `tensorkit train` spellings in `argv` to an example's own long flags: the aliases of
 * {@link TRAIN_ALIASES} and `--snake_case` → `--snake-case`, each only when the example declares the
 * target flag (so unknown flags still fail, naming what was typed). `=value` forms are kept.
 */
export function normalizeArgv(argv: readonly string[], flags: readonly string[]): string[] {
  const declared = new Set(flags);
  return argv.map((token) => {
    if (!token.startsWith('-')) return token;
    const eq = token.indexOf('=');
    const name = eq > 0 ? token.slice(0, eq) : token;
    const rest = eq > 0 ? token.slice(eq) : '';
    const alias = TRAIN_ALIASES[name];
    if (alias !== undefined && declared.has(alias)) return `--${alias}${rest}`;
    if (name.startsWith('--') && name.includes('_')) {
      const kebab = name.slice(2).replace(/_/g, '-');
      if (declared.has(kebab)) return `--${kebab}${rest}`;
    }
    return token;
  });
}

/** Parses `argv` with the common flags plus `flags`; unknown flags and bad values throw a {@link UsageError}. */
export function parseExampleArgs<const F extends FlagSpec>(example: string, argv: readonly string[], flags: F): { values: FlagValues<F>; common: CommonArgs; help: boolean } {
  try {
    const options = { ...COMMON_FLAGS, ...flags };
    const { values } = parseArgs({ args: normalizeArgv(argv, Object.keys(options)), options, strict: true, allowPositionals: false });
    const v = values as Record<string, string | boolean | undefined>;
    const common: CommonArgs = {
      out: typeof v.out === 'string' ? v.out : `out/${example}`,
      data: typeof v.data === 'string' ? v.data : undefined,
      seed: readInt('seed', String(v.seed), 0),
      quick: v.quick === true,
    };
    return { values: v as FlagValues<F>, common, help: v.help === true };
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${example}: ${(err as Error).message}`);
  }
}

/** An integer flag `>= min`. */
export function readInt(flag: string, value: string, min = 1): number {
  const v = Number(value);
  if (value.trim() === '' || !Number.isInteger(v) || v < min) throw new UsageError(`--${flag} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  return v;
}

/** A positive finite number flag. */
export function readPositive(flag: string, value: string): number {
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v) || v <= 0) throw new UsageError(`--${flag} must be a positive number, got ${JSON.stringify(value)}`);
  return v;
}

/** A number flag in [min, max]. */
export function readRange(flag: string, value: string, min: number, max: number): number {
  const v = Number(value);
  if (value.trim() === '' || !(v >= min && v <= max)) throw new UsageError(`--${flag} must be a number in [${min}, ${max}], got ${JSON.stringify(value)}`);
  return v;
}

/** A comma-separated list, each item read by `read`. */
export function readList<T>(flag: string, value: string, read: (flag: string, item: string) => T): T[] {
  const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new UsageError(`--${flag} must be a comma-separated list, got ${JSON.stringify(value)}`);
  return items.map((item) => read(flag, item));
}

/**
 * Runs `main(process.argv.slice(2))` when `moduleUrl` is the script node was started with (so tests
 * can import the example). A {@link UsageError} exits with status 2, any other error with 1.
 */
export async function runIfMain(moduleUrl: string, main: (argv: string[]) => Promise<unknown>): Promise<void> {
  if (process.argv[1] === undefined || moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  try {
    await main(process.argv.slice(2));
  } catch (err) {
    console.error(err instanceof UsageError ? err.message : err);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  }
}
