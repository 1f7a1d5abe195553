// One registry pattern for every pluggable kind (layers, losses, optimizers, initializers).
// Built-ins register through the same public call a user makes.

/** Options for {@link Registry.register}. */
export interface RegisterOptions {
  /** Replace an existing registration of the same name instead of throwing. */
  readonly override?: boolean;
}

/** A name → factory map for one plugin kind. Names are lower-case kebab (`adam`, `xavier-uniform`). */
export interface Registry<F> {
  /** The plugin kind, used in error messages ("optimizer", "layer", …). */
  readonly kind: string;
  /** Registers `factory` under `name`; throws if the name exists unless `{ override: true }`. */
  register(name: string, factory: F, options?: RegisterOptions): void;
  /** Looks up a factory; an unknown name throws listing the known names. */
  get(name: string): F;
  has(name: string): boolean;
  /** Registered names, sorted. */
  names(): string[];
}

const NAME_RE = /^[a-z0-9]+(?:[-_][a-z0-9]+)*$/;

/** Normalises a user-facing name: trims and lower-cases (`'Adam'` → `'adam'`). */
export function normalizeName(name: string): string {
  return name.trim().toLowerCase();
}

/** Creates an empty registry for one plugin kind. */
export function createRegistry<F>(kind: string): Registry<F> {
  const map = new Map<string, F>();
  return {
    kind,
    register(name: string, factory: F, options: RegisterOptions = {}): void {
      if (typeof name !== 'string' || !NAME_RE.test(name)) {
        throw new Error(`${kind} name must be lower-case kebab-case (e.g. "my-${kind}"), got ${JSON.stringify(name)}`);
      }
      if (typeof factory !== 'function') {
        throw new Error(`${kind} "${name}": factory must be a function, got ${typeof factory}`);
      }
      if (map.has(name) && !options.override) {
        throw new Error(`${kind} "${name}" is already registered; pass { override: true } to replace it`);
      }
      map.set(name, factory);
    },
    get(name: string): F {
      const key = typeof name === 'string' ? normalizeName(name) : name;
      const f = map.get(key);
      if (f === undefined) {
        throw new Error(`unknown ${kind} ${JSON.stringify(name)}; known: ${[...map.keys()].sort().join(', ')}`);
      }
      return f;
    },
    has(name: string): boolean {
      return typeof name === 'string' && map.has(normalizeName(name));
    },
    names(): string[] {
      return [...map.keys()].sort();
    },
  };
}
