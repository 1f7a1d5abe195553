// A small argv parser for the tensorkit commands. node:util's parseArgs cannot take multi-letter
// single-dash flags such as `-lr` or `-w_d`, which the assignment's train.py uses, so this one matches
// every spelling exactly as declared: `-lr 0.1`, `-lr=0.1`, `--learning_rate 0.1`, `--learning_rate=0.1`,
// and the kebab-case long form `--learning-rate`. Choice values match ignoring case and `-` vs `_`.

/** Value kinds: text, integer, number, one of a set of names, an on/off switch, or a comma list of integers. */
export type OptionType = 'string' | 'int' | 'number' | 'choice' | 'flag' | 'int-list';

/** One command-line option. */
export interface OptionSpec {
  /** Key in the parsed result (camelCase). */
  readonly key: string;
  /** Long spelling without dashes (`learning_rate` → `--learning_rate`; `--learning-rate` is accepted too). */
  readonly long: string;
  /** Short spelling without the dash (`lr` → `-lr`); may be several letters. */
  readonly short?: string;
  readonly type: OptionType;
  /**
   * For `'choice'`: the allowed names, as shown; matched ignoring case and treating `-` and `_` alike
   * (`cross-entropy` = `cross_entropy`). A function is called at validation time (for registries).
   */
  readonly choices?: readonly string[] | (() => readonly string[]);
  /** Default value (`undefined`: unset). */
  readonly default?: string | number | boolean | readonly number[];
  /** Numeric bounds for `'int'`, `'number'` and `'int-list'` entries. */
  readonly min?: number;
  readonly minExclusive?: boolean;
  readonly max?: number;
  readonly maxExclusive?: boolean;
  /** For `'int-list'`: most entries allowed. */
  readonly maxItems?: number;
  /** Placeholder in the help (default from the type). */
  readonly metavar?: string;
  /** Help text (one or more lines). */
  readonly help: string;
}

/** A bad command line: the message names the option, the value and what is allowed. Exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Parsed values by key; `given` holds the keys that appeared on the command line. */
export interface ParsedArgs {
  readonly values: Record<string, unknown>;
  readonly given: ReadonlySet<string>;
}

/** Raw option values as strings (flags as `true`), before conversion; the help switch is reported separately. */
export interface ScannedArgs {
  readonly raw: Map<string, string | true>;
  readonly help: boolean;
}

function spelling(spec: OptionSpec): string {
  return spec.short ? `-${spec.short}/--${spec.long}` : `--${spec.long}`;
}

/** The kebab-case long form of a snake_case long spelling (`learning_rate` → `learning-rate`). */
export function kebabLong(long: string): string {
  return long.replace(/_/g, '-');
}

/** A choice value in comparable form: lower case, `_` read as `-`. */
export function choiceKey(value: string): string {
  return value.toLowerCase().replace(/_/g, '-');
}

/**
 * Splits argv into option values (strings; flags `true`). Each option may appear once; the value is
 * the next token even when it starts with `-` (so `-lr -1` reaches validation and is rejected there
 * with the range). `-h`/`--help` anywhere sets `help`. Unknown options and stray positionals throw.
 */
export function scanArgs(argv: readonly string[], specs: readonly OptionSpec[]): ScannedArgs {
  const byName = new Map<string, OptionSpec>();
  for (const s of specs) {
    byName.set(`--${s.long}`, s);
    byName.set(`--${kebabLong(s.long)}`, s);
    if (s.short) byName.set(`-${s.short}`, s);
  }
  const raw = new Map<string, string | true>();
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === '-h' || token === '--help') {
      help = true;
      continue;
    }
    if (!token.startsWith('-') || token === '-' || token === '--') {
      throw new UsageError(`unexpected argument ${JSON.stringify(token)}; options start with - or --`);
    }
    const eq = token.indexOf('=');
    const name = eq > 0 ? token.slice(0, eq) : token;
    const spec = byName.get(name);
    if (!spec) throw new UsageError(`unknown option ${name}${suggest(name, byName)}; see --help for the list`);
    if (raw.has(spec.key)) throw new UsageError(`option ${spelling(spec)} is given more than once`);
    if (spec.type === 'flag') {
      if (eq > 0) {
        const v = token.slice(eq + 1).toLowerCase();
        if (v !== 'true' && v !== 'false') throw new UsageError(`option ${spelling(spec)} is a switch: give it alone, or =true / =false, got ${JSON.stringify(token.slice(eq + 1))}`);
        raw.set(spec.key, v === 'true' ? true : 'false');
      } else raw.set(spec.key, true);
      continue;
    }
    let value: string;
    if (eq > 0) value = token.slice(eq + 1);
    else {
      if (i + 1 >= argv.length) throw new UsageError(`option ${spelling(spec)} needs a value${describeAllowed(spec)}`);
      value = argv[++i];
    }
    raw.set(spec.key, value);
  }
  return { raw, help };
}

/** Closest known spelling by edit distance (≤ 2), as " (did you mean --x?)". */
function suggest(name: string, known: Map<string, OptionSpec>): string {
  let best = '';
  let bestD = 3;
  for (const k of known.keys()) {
    const d = editDistance(name, k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best ? ` (did you mean ${best}?)` : '';
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/** The allowed values of a choice option, resolved. */
export function choicesOf(spec: OptionSpec): readonly string[] {
  const c = spec.choices;
  return typeof c === 'function' ? c() : (c ?? []);
}

/**
 * The allowed range of a numeric option in interval notation, e.g. `[1, 65536]` or `(0, 10]`; `''`
 * for non-numeric options. Shown in the help and in the error of a value outside it.
 */
export function rangeOf(spec: OptionSpec): string {
  if (spec.type !== 'int' && spec.type !== 'number' && spec.type !== 'int-list') return '';
  if (spec.min === undefined && spec.max === undefined) return '';
  const lo = spec.min === undefined ? '(-∞' : `${spec.minExclusive ? '(' : '['}${spec.min}`;
  const hi = spec.max === undefined ? '∞)' : `${spec.max}${spec.maxExclusive ? ')' : ']'}`;
  return `${lo}, ${hi}`;
}

function describeAllowed(spec: OptionSpec): string {
  switch (spec.type) {
    case 'choice':
      return `; allowed values: ${choicesOf(spec).join(', ')}`;
    case 'int':
      return `; an integer${rangeOf(spec) ? ` in ${rangeOf(spec)}` : ''}`;
    case 'number':
      return `; a number${rangeOf(spec) ? ` in ${rangeOf(spec)}` : ''}`;
    case 'int-list':
      return `; comma-separated integers${rangeOf(spec) ? ` in ${rangeOf(spec)}` : ''}${spec.maxItems !== undefined ? `, at most ${spec.maxItems} of them` : ''}`;
    default:
      return '';
  }
}

function inRange(spec: OptionSpec, n: number): boolean {
  if (spec.min !== undefined && (spec.minExclusive ? n <= spec.min : n < spec.min)) return false;
  if (spec.max !== undefined && (spec.maxExclusive ? n >= spec.max : n > spec.max)) return false;
  return true;
}

/** Converts and validates one raw value; throws a UsageError naming the option, the value and what is allowed. */
export function convertValue(spec: OptionSpec, value: string | true): unknown {
  const bad = (): never => {
    throw new UsageError(`invalid value ${JSON.stringify(value)} for ${spelling(spec)}${describeAllowed(spec)}`);
  };
  if (spec.type === 'flag') return value === true;
  const text = value as string;
  switch (spec.type) {
    case 'string':
      if (text === '') bad();
      return text;
    case 'choice': {
      const allowed = choicesOf(spec);
      const hit = allowed.find((c) => c === text) ?? allowed.find((c) => choiceKey(c) === choiceKey(text));
      if (hit === undefined) bad();
      return hit;
    }
    case 'int': {
      const n = /^[+-]?\d+$/.test(text.trim()) ? Number(text) : NaN;
      if (!Number.isSafeInteger(n) || !inRange(spec, n)) bad();
      return n;
    }
    case 'number': {
      const n = text.trim() === '' ? NaN : Number(text);
      if (!Number.isFinite(n) || !inRange(spec, n)) bad();
      return n;
    }
    case 'int-list': {
      const parts = text.split(',').map((s) => s.trim());
      const list = parts.map((s) => (/^[+-]?\d+$/.test(s) ? Number(s) : NaN));
      if (list.length === 0 || list.some((n) => !Number.isSafeInteger(n) || !inRange(spec, n))) bad();
      if (spec.maxItems !== undefined && list.length > spec.maxItems) bad();
      return list;
    }
    default:
      return bad();
  }
}

/** Converts every scanned value and fills defaults. */
export function convertArgs(scanned: ScannedArgs, specs: readonly OptionSpec[]): ParsedArgs {
  const values: Record<string, unknown> = {};
  const given = new Set<string>();
  for (const spec of specs) {
    const raw = scanned.raw.get(spec.key);
    if (raw === undefined) {
      values[spec.key] = Array.isArray(spec.default) ? spec.default.slice() : spec.type === 'flag' ? (spec.default ?? false) : spec.default;
    } else {
      values[spec.key] = spec.type === 'flag' ? raw === true : convertValue(spec, raw);
      given.add(spec.key);
    }
  }
  return { values, given };
}

/** `scanArgs` then `convertArgs`. */
export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[]): ParsedArgs & { help: boolean } {
  const scanned = scanArgs(argv, specs);
  return { ...convertArgs(scanned, specs), help: scanned.help };
}

/**
 * The option table of a help text: spellings, value placeholder, help lines, allowed values, the
 * range of numeric options and the default. Long options are shown in their declared (snake_case)
 * form; the kebab-case form is accepted as well.
 */
export function formatOptions(specs: readonly OptionSpec[]): string {
  const heads = specs.map((s) => {
    const meta = s.type === 'flag' ? '' : ` ${s.metavar ?? (s.type === 'choice' ? 'NAME' : s.type === 'int-list' ? 'N,N,...' : s.type === 'string' ? 'TEXT' : s.type === 'int' ? 'N' : 'X')}`;
    return `  ${s.short ? `-${s.short}, ` : ''}--${s.long}${meta}`;
  });
  let longest = 0;
  for (const h of heads) longest = Math.max(longest, h.length);
  const width = Math.min(40, longest + 2);
  const lines: string[] = [];
  specs.forEach((s, i) => {
    const text = s.help.split('\n');
    if (s.type === 'choice') text.push(`one of: ${choicesOf(s).join(', ')}`);
    const range = rangeOf(s);
    if (range) text.push(`range: ${range}${s.maxItems !== undefined ? `, at most ${s.maxItems} values` : ''}`);
    if (s.default !== undefined && s.type !== 'flag') text.push(`default: ${Array.isArray(s.default) ? s.default.join(',') : String(s.default)}`);
    const head = heads[i];
    if (head.length + 1 > width) {
      lines.push(head);
      for (const t of text) lines.push(`${' '.repeat(width)}${t}`);
    } else {
      lines.push(`${head.padEnd(width)}${text[0]}`);
      for (const t of text.slice(1)) lines.push(`${' '.repeat(width)}${t}`);
    }
  });
  return lines.join('\n');
}
