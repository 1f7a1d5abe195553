// A small, safe filter language for runs (no eval): comparisons of dotted paths with string / number
// literals, combined with and / or / not and parentheses, e.g.
//   params.optimizer == 'adam' and metrics.val_accuracy > 0.85
//
// Grammar (lowest precedence first):
//   expr    := and ('or' and)*
//   and     := unary ('and' unary)*
//   unary   := 'not' unary | compare
//   compare := operand (('=='|'!='|'<'|'<='|'>'|'>=') operand)?
//   operand := NUMBER | STRING | 'true' | 'false' | 'null' | PATH | '(' expr ')'
// `&&`, `||` and `!` are accepted as spellings of and / or / not.
import { getPath } from './store.js';

type Token = { kind: 'num'; value: number; pos: number } | { kind: 'str'; value: string; pos: number } | { kind: 'id'; value: string; pos: number } | { kind: 'op'; value: string; pos: number } | { kind: 'end'; pos: number };

/** A parsed expression tree. */
export type WhereNode =
  | { readonly kind: 'literal'; readonly value: string | number | boolean | null }
  | { readonly kind: 'path'; readonly path: string }
  | { readonly kind: 'compare'; readonly op: '==' | '!=' | '<' | '<=' | '>' | '>='; readonly left: WhereNode; readonly right: WhereNode }
  | { readonly kind: 'and' | 'or'; readonly left: WhereNode; readonly right: WhereNode }
  | { readonly kind: 'not'; readonly operand: WhereNode };

/** A malformed expression; the message shows the position with a caret. */
export class WhereSyntaxError extends Error {
  constructor(message: string, source: string, pos: number) {
    super(`${message} at position ${pos + 1}\n  ${source}\n  ${' '.repeat(pos)}^`);
    this.name = 'WhereSyntaxError';
  }
}

const OPERATORS = ['==', '!=', '<=', '>=', '&&', '||', '<', '>', '(', ')', '!', '='];

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      let text = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < src.length) j++;
        text += src[j++];
      }
      if (j >= src.length) throw new WhereSyntaxError('unterminated string', src, i);
      tokens.push({ kind: 'str', value: text, pos: i });
      i = j + 1;
      continue;
    }
    const num = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(src.slice(i));
    if (num && (c !== '-' || tokens.length === 0 || tokens[tokens.length - 1].kind === 'op')) {
      tokens.push({ kind: 'num', value: Number(num[0]), pos: i });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_\-]*(\.[A-Za-z0-9_\-]+)*/.exec(src.slice(i));
    if (id) {
      tokens.push({ kind: 'id', value: id[0], pos: i });
      i += id[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (!op) throw new WhereSyntaxError(`unexpected character ${JSON.stringify(c)}`, src, i);
    if (op === '=') throw new WhereSyntaxError('use == to compare', src, i);
    tokens.push({ kind: 'op', value: op, pos: i });
    i += op.length;
  }
  tokens.push({ kind: 'end', pos: src.length });
  return tokens;
}

/** Parses a filter expression; throws {@link WhereSyntaxError} naming the position. */
export function parseWhere(source: string): WhereNode {
  const tokens = tokenize(source);
  let k = 0;
  const peek = () => tokens[k];
  const isWord = (t: Token, w: string) => t.kind === 'id' && t.value.toLowerCase() === w;
  const isOp = (t: Token, o: string) => t.kind === 'op' && t.value === o;

  const expr = (): WhereNode => {
    let left = and();
    while (isWord(peek(), 'or') || isOp(peek(), '||')) {
      k++;
      left = { kind: 'or', left, right: and() };
    }
    return left;
  };
  const and = (): WhereNode => {
    let left = unary();
    while (isWord(peek(), 'and') || isOp(peek(), '&&')) {
      k++;
      left = { kind: 'and', left, right: unary() };
    }
    return left;
  };
  const unary = (): WhereNode => {
    if (isWord(peek(), 'not') || isOp(peek(), '!')) {
      k++;
      return { kind: 'not', operand: unary() };
    }
    return compare();
  };
  const compare = (): WhereNode => {
    const left = operand();
    const t = peek();
    if (t.kind === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.value)) {
      k++;
      return { kind: 'compare', op: t.value as '==', left, right: operand() };
    }
    return left;
  };
  const operand = (): WhereNode => {
    const t = tokens[k++];
    switch (t.kind) {
      case 'num':
      case 'str':
        return { kind: 'literal', value: t.value };
      case 'id': {
        const w = t.value.toLowerCase();
        if (w === 'true' || w === 'false') return { kind: 'literal', value: w === 'true' };
        if (w === 'null') return { kind: 'literal', value: null };
        if (w === 'and' || w === 'or' || w === 'not') throw new WhereSyntaxError(`expected a value, found "${t.value}"`, source, t.pos);
        return { kind: 'path', path: t.value };
      }
      case 'op':
        if (t.value === '(') {
          const inner = expr();
          const close = tokens[k++];
          if (!isOp(close, ')')) throw new WhereSyntaxError('expected )', source, close.pos);
          return inner;
        }
        throw new WhereSyntaxError(`expected a value, found "${t.value}"`, source, t.pos);
      default:
        throw new WhereSyntaxError('expected a value, found the end', source, t.pos);
    }
  };

  const tree = expr();
  const rest = peek();
  if (rest.kind !== 'end') throw new WhereSyntaxError(`unexpected ${rest.kind === 'op' || rest.kind === 'id' ? `"${rest.value}"` : 'value'}`, source, rest.pos);
  return tree;
}

function value(node: WhereNode, subject: unknown): unknown {
  switch (node.kind) {
    case 'literal':
      return node.value;
    case 'path':
      return getPath(subject, node.path);
    default:
      return evaluateWhere(node, subject);
  }
}

/** A number for numeric-looking values (so `'0.1'` from a CSV-ish param compares with 0.1). */
function asNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

/**
 * Evaluates a parsed expression against `subject` (e.g. `{ name, params, metrics, env }`). Missing
 * paths are `undefined`: every comparison with them is false except `!=`. Ordering compares numbers
 * numerically (numeric strings count as numbers) and strings lexicographically; mixed kinds are false.
 */
export function evaluateWhere(node: WhereNode, subject: unknown): boolean {
  switch (node.kind) {
    case 'and':
      return evaluateWhere(node.left, subject) && evaluateWhere(node.right, subject);
    case 'or':
      return evaluateWhere(node.left, subject) || evaluateWhere(node.right, subject);
    case 'not':
      return !evaluateWhere(node.operand, subject);
    case 'compare': {
      const a = value(node.left, subject);
      const b = value(node.right, subject);
      const na = asNumber(a);
      const nb = asNumber(b);
      const both = na !== undefined && nb !== undefined;
      if (node.op === '==' || node.op === '!=') {
        const eq = both ? na === nb : a === undefined || b === undefined ? false : JSON.stringify(a) === JSON.stringify(b);
        return node.op === '==' ? eq : !eq;
      }
      let cmp: number;
      if (both) cmp = na - nb;
      else if (typeof a === 'string' && typeof b === 'string') cmp = a < b ? -1 : a > b ? 1 : 0;
      else return false;
      if (Number.isNaN(cmp)) return false;
      return node.op === '<' ? cmp < 0 : node.op === '<=' ? cmp <= 0 : node.op === '>' ? cmp > 0 : cmp >= 0;
    }
    case 'literal':
      return Boolean(node.value);
    case 'path': {
      const v = getPath(subject, node.path);
      return v !== undefined && v !== null && v !== false && v !== 0 && v !== '';
    }
  }
}

/** A name in an expression that {@link resolveRunName} cannot place; the message lists the known names. */
export class WhereNameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WhereNameError';
  }
}

/** Every path of a tree, in order. */
export function wherePaths(node: WhereNode, out: string[] = []): string[] {
  switch (node.kind) {
    case 'path':
      out.push(node.path);
      break;
    case 'compare':
    case 'and':
    case 'or':
      wherePaths(node.left, out);
      wherePaths(node.right, out);
      break;
    case 'not':
      wherePaths(node.operand, out);
      break;
    default:
      break;
  }
  return out;
}

/** The tree with every path replaced by `resolve(path)`. */
export function mapWherePaths(node: WhereNode, resolve: (path: string) => string): WhereNode {
  switch (node.kind) {
    case 'path':
      return { kind: 'path', path: resolve(node.path) };
    case 'compare':
      return { kind: 'compare', op: node.op, left: mapWherePaths(node.left, resolve), right: mapWherePaths(node.right, resolve) };
    case 'and':
    case 'or':
      return { kind: node.kind, left: mapWherePaths(node.left, resolve), right: mapWherePaths(node.right, resolve) };
    case 'not':
      return { kind: 'not', operand: mapWherePaths(node.operand, resolve) };
    default:
      return node;
  }
}

/** Top-level names of a run subject that a path may start with. */
export const RUN_ROOTS = ['name', 'params', 'metrics', 'summary', 'env'] as const;

/** A name in comparable form: lower case without `_` and `-` (`learning_rate` = `learningRate`). */
function looseKey(name: string): string {
  return name.toLowerCase().replace(/[-_]/g, '');
}

/**
 * Resolves a bare name of a run expression against the names the runs have: a path starting with
 * `name`, `params.`, `metrics.`, `summary.` or `env.` stays as it is; `optimizer` becomes
 * `params.optimizer` and `val_accuracy` becomes `metrics.val_accuracy` (summary.json). Names match
 * exactly first, then ignoring case, `_` and `-` (`learning_rate` finds `params.learningRate`).
 * A name found in both params and metrics, or in neither, throws {@link WhereNameError} listing the
 * known names. `params` and `metrics` are the dotted keys present in at least one run.
 */
export function resolveRunName(path: string, known: { readonly params: ReadonlySet<string>; readonly metrics: ReadonlySet<string> }): string {
  const head = path.split('.')[0];
  if ((RUN_ROOTS as readonly string[]).includes(head)) return path;
  const find = (keys: ReadonlySet<string>): string[] => {
    if (keys.has(path)) return [path];
    return [...keys].filter((k) => looseKey(k) === looseKey(path));
  };
  const hits = [...find(known.params).map((k) => `params.${k}`), ...find(known.metrics).map((k) => `metrics.${k}`)];
  if (hits.length === 1) return hits[0];
  if (hits.length > 1) throw new WhereNameError(`"${path}" is ambiguous: it could be ${hits.join(' or ')}; write the full path`);
  const list = (prefix: string, keys: ReadonlySet<string>) => {
    const all = [...keys].sort();
    return `${prefix}: ${all.length === 0 ? '(none)' : all.slice(0, 60).join(', ')}${all.length > 60 ? ', …' : ''}`;
  };
  throw new WhereNameError(`unknown name "${path}"; known names — ${list('params', known.params)}; ${list('metrics', known.metrics)}`);
}

/**
 * Parses `source` once and returns a predicate over subjects. With `resolve`, every path of the
 * expression is first passed through it (e.g. {@link resolveRunName}), which may throw for unknown names.
 */
export function compileWhere(source: string, resolve?: (path: string) => string): (subject: unknown) => boolean {
  const parsed = parseWhere(source);
  const tree = resolve === undefined ? parsed : mapWherePaths(parsed, resolve);
  return (subject) => evaluateWhere(tree, subject);
}
