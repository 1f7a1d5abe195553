// The --where filter language: precedence, literals, missing paths, numeric strings, and syntax errors with positions.
import { describe, expect, it } from 'vitest';
import { compileWhere, parseWhere, resolveRunName, WhereNameError, WhereSyntaxError } from '../../src/experiments/where.js';

const run = { name: 'a', params: { optimizer: 'adam', lr: 0.001, batch: '32', nested: { act: 'relu' } }, metrics: { val_accuracy: 0.87, status: 'finished' } };

describe('where expressions', () => {
  it('evaluates the issue example and its variations', () => {
    expect(compileWhere("params.optimizer == 'adam' and metrics.val_accuracy > 0.85")(run)).toBe(true);
    expect(compileWhere("params.optimizer == 'adam' and metrics.val_accuracy > 0.9")(run)).toBe(false);
    expect(compileWhere('params.optimizer == "sgd" or metrics.val_accuracy >= 0.87')(run)).toBe(true);
    expect(compileWhere("not params.optimizer != 'adam'")(run)).toBe(true);
    expect(compileWhere("params.nested.act == 'relu' && !(params.lr < 1e-4)")(run)).toBe(true);
  });

  it('binds and tighter than or, and parentheses override it', () => {
    // false and false or true = (false and false) or true = true; false and (false or true) = false.
    expect(compileWhere("name == 'x' and name == 'y' or name == 'a'")(run)).toBe(true);
    expect(compileWhere("name == 'x' and (name == 'y' or name == 'a')")(run)).toBe(false);
    expect(parseWhere('a == 1 or b == 2 and c == 3')).toMatchObject({ kind: 'or', right: { kind: 'and' } });
  });

  it('compares numeric strings as numbers, strings lexicographically, and missing paths as unequal', () => {
    expect(compileWhere('params.batch == 32')(run)).toBe(true);
    expect(compileWhere('params.batch < 100')(run)).toBe(true); // numerically, although '32' > '100' as text
    expect(compileWhere("metrics.status < 'g'")(run)).toBe(true);
    expect(compileWhere('params.missing == 1')(run)).toBe(false);
    expect(compileWhere('params.missing != 1')(run)).toBe(true);
    expect(compileWhere('params.missing > 0 or params.missing <= 0')(run)).toBe(false);
    expect(compileWhere('params.lr == -0.001')({ params: { lr: -0.001 } })).toBe(true);
  });

  it('rejects bad syntax naming the position, and never evaluates code', () => {
    const bad = (src: string, message: RegExp) => {
      expect(() => parseWhere(src)).toThrow(WhereSyntaxError);
      expect(() => parseWhere(src)).toThrow(message);
    };
    bad("params.optimizer = 'adam'", /use == to compare at position 18/);
    bad('metrics.val_accuracy >', /expected a value, found the end at position 23/);
    bad("(a == 1", /expected \) at position 8/);
    bad("a == 'x", /unterminated string at position 6/);
    bad('a == 1 b', /unexpected "b" at position 8/);
    bad('process.exit(1)', /unexpected "\(" at position 13/);
    bad('a == 1 and', /expected a value, found the end/);
  });
});

describe('bare names in run expressions (resolveRunName)', () => {
  const known = { params: new Set(['optimizer', 'learningRate', 'resolved', 'resolved.loss', 'lr']), metrics: new Set(['val_accuracy', 'status', 'lr']) };
  const resolve = (p: string) => resolveRunName(p, known);

  it('places a bare name in params or metrics, exactly or ignoring case, _ and -', () => {
    expect(resolve('optimizer')).toBe('params.optimizer');
    expect(resolve('val_accuracy')).toBe('metrics.val_accuracy');
    expect(resolve('learning_rate')).toBe('params.learningRate');
    expect(resolve('LEARNING-RATE')).toBe('params.learningRate');
    expect(resolve('resolved.loss')).toBe('params.resolved.loss');
    for (const full of ['params.x', 'metrics.y', 'summary.z', 'env.node', 'name']) expect(resolve(full)).toBe(full);
  });

  it('rejects ambiguous and unknown names, listing the known ones', () => {
    expect(() => resolve('lr')).toThrow(new WhereNameError('"lr" is ambiguous: it could be params.lr or metrics.lr; write the full path'));
    expect(() => resolve('optimiser')).toThrow(/unknown name "optimiser"; known names — params: learningRate, lr, optimizer, resolved, resolved\.loss; metrics: lr, status, val_accuracy/);
  });

  it('compileWhere resolves every path of the expression before evaluating', () => {
    const keep = compileWhere("optimizer == 'adam' and (val_accuracy > 0.8 or not status == 'finished')", resolve);
    expect(keep({ params: { optimizer: 'adam' }, metrics: { val_accuracy: 0.9, status: 'finished' } })).toBe(true);
    expect(keep({ params: { optimizer: 'adam' }, metrics: { val_accuracy: 0.5, status: 'finished' } })).toBe(false);
    expect(keep({ params: { optimizer: 'sgd' }, metrics: { val_accuracy: 0.9, status: 'running' } })).toBe(false);
    // Without a resolver a bare name is a top-level path (matches nothing in a run subject).
    expect(compileWhere("optimizer == 'adam'")({ params: { optimizer: 'adam' } })).toBe(false);
  });
});
