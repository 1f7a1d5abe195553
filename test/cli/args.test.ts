import { describe, expect, it } from 'vitest';
import { formatOptions, parseArgs, UsageError, type OptionSpec } from '../../src/cli/args.js';

const SPECS: OptionSpec[] = [
  { key: 'lr', long: 'learning_rate', short: 'lr', type: 'number', min: 0, minExclusive: true, default: 0.1, help: 'learning rate' },
  { key: 'wd', long: 'weight_decay', short: 'w_d', type: 'number', min: 0, default: 0, help: 'decay' },
  { key: 'n', long: 'num', type: 'int', min: 1, max: 5, help: 'count' },
  { key: 'act', long: 'activation', short: 'a', type: 'choice', choices: ['identity', 'ReLU'], default: 'ReLU', help: 'act' },
  { key: 'list', long: 'filters', type: 'int-list', min: 1, default: [8, 8], help: 'filters' },
  { key: 'quick', long: 'quick', type: 'flag', help: 'quick' },
];

function usage(argv: string[]): string {
  try {
    parseArgs(argv, SPECS);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`expected a UsageError for ${argv.join(' ')}`);
}

describe('parseArgs', () => {
  it('takes multi-letter single-dash flags, long flags and = forms', () => {
    const a = parseArgs(['-lr', '0.5', '-w_d=0.01', '--num', '3', '-a', 'identity', '--filters=4,8,16', '--quick'], SPECS);
    expect(a.values).toEqual({ lr: 0.5, wd: 0.01, n: 3, act: 'identity', list: [4, 8, 16], quick: true });
    expect([...a.given].sort()).toEqual(['act', 'list', 'lr', 'n', 'quick', 'wd']);
    const b = parseArgs(['--learning_rate=2e-3', '--weight_decay', '0'], SPECS);
    expect(b.values).toMatchObject({ lr: 0.002, wd: 0, n: undefined, act: 'ReLU', list: [8, 8], quick: false });
  });

  it('matches choices case-insensitively and returns the canonical spelling', () => {
    expect(parseArgs(['-a', 'relu'], SPECS).values.act).toBe('ReLU');
  });

  it('accepts the kebab-case long form and - or _ in choice values', () => {
    const specs: OptionSpec[] = [...SPECS, { key: 'loss', long: 'loss_name', type: 'choice', choices: ['cross_entropy', 'fashion-mnist'], help: 'l' }];
    const a = parseArgs(['--learning-rate', '0.5', '--weight-decay=0.1', '--loss-name', 'cross-entropy'], specs);
    expect(a.values).toMatchObject({ lr: 0.5, wd: 0.1, loss: 'cross_entropy' });
    expect(parseArgs(['--loss_name', 'FASHION_MNIST'], specs).values.loss).toBe('fashion-mnist');
    expect(() => parseArgs(['--loss_name', 'crossentropy'], specs)).toThrow(/allowed values: cross_entropy, fashion-mnist/);
  });

  it('limits int lists to maxItems and shows ranges in the help', () => {
    const specs: OptionSpec[] = [{ key: 'f', long: 'filters', type: 'int-list', min: 1, max: 64, maxItems: 3, help: 'f' }];
    expect(parseArgs(['--filters', '1,2,3'], specs).values.f).toEqual([1, 2, 3]);
    expect(() => parseArgs(['--filters', '1,2,3,4'], specs)).toThrow('invalid value "1,2,3,4" for --filters; comma-separated integers in [1, 64], at most 3 of them');
    expect(formatOptions(specs)).toMatch(/range: \[1, 64\], at most 3 values/);
    expect(formatOptions(SPECS)).toMatch(/range: \(0, ∞\)/);
    expect(formatOptions(SPECS)).toMatch(/range: \[1, 5\]/);
  });

  it('reports help anywhere', () => {
    expect(parseArgs(['-lr', '1', '--help'], SPECS).help).toBe(true);
    expect(parseArgs(['-h'], SPECS).help).toBe(true);
  });

  it('rejects unknown options (with a suggestion), repeats, stray words and missing values', () => {
    expect(usage(['-lrr', '1'])).toMatch(/unknown option -lrr \(did you mean -lr\?\)/);
    expect(usage(['--bogus'])).toMatch(/unknown option --bogus/);
    expect(usage(['-lr', '1', '--learning_rate', '2'])).toMatch(/-lr\/--learning_rate is given more than once/);
    expect(usage(['train'])).toMatch(/unexpected argument "train"/);
    expect(usage(['-a'])).toMatch(/-a\/--activation needs a value; allowed values: identity, ReLU/);
  });

  it('rejects bad values naming the option and what is allowed', () => {
    expect(usage(['-lr', '0'])).toBe('invalid value "0" for -lr/--learning_rate; a number in (0, ∞)');
    expect(usage(['-lr', 'fast'])).toMatch(/a number in \(0, ∞\)/);
    expect(usage(['-lr', '-1'])).toMatch(/invalid value "-1"/);
    expect(usage(['--num', '2.5'])).toBe('invalid value "2.5" for --num; an integer in [1, 5]');
    expect(usage(['--num', '6'])).toMatch(/in \[1, 5\]/);
    expect(usage(['-a', 'gelu'])).toBe('invalid value "gelu" for -a/--activation; allowed values: identity, ReLU');
    expect(usage(['--filters', '4,x'])).toMatch(/comma-separated integers in \[1, ∞\)/);
    expect(usage(['--quick=maybe'])).toMatch(/is a switch/);
  });

  it('formats a help table with spellings, allowed values and defaults', () => {
    const text = formatOptions(SPECS);
    expect(text).toMatch(/-lr, --learning_rate X\s+learning rate/);
    expect(text).toMatch(/one of: identity, ReLU/);
    expect(text).toMatch(/default: 8,8/);
  });
});
