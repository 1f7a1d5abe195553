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

/** Parses `source` once and returns a predicate over subjects. */
export function compileWhere(source: string): (subject: unknown) => boolean {
  const tree = parseWhere(source);
  return (subject) => evaluateWhere(tree, subject);
}
