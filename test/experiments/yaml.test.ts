// The YAML subset of sweep configs: a wandb sweep.yaml parses to the same object as its JSON form.
import { describe, expect, it } from 'vitest';
import { parseYaml } from '../../src/experiments/yaml.js';

describe('parseYaml', () => {
  it('parses a wandb-style sweep config with nested maps, block and flow lists, comments and scalars', () => {
    const text = `# sweep over the MLP
name: mlp-bayes
method: bayes
metric:
  name: val_accuracy   # summary key
  goal: maximize
parameters:
  epochs:
    values: [5, 10]
  learning_rate:
    distribution: log_uniform_values
    min: 1e-4
    max: .01
  optimizer:
    values:
      - sgd
      - 'nadam'
      - "adam # not a comment"
  filters:
    values: [[8, 16], [16, 32]]
  pair:
    values:
      - {learning_rate: 0.01, momentum: 0.9}
      - learning_rate: 0.001
        momentum: 0.99
  flag: {value: true}
  nothing: ~
early_terminate: {type: hyperband, min_iter: 1, eta: 3}
`;
    expect(parseYaml(text)).toEqual({
      name: 'mlp-bayes', method: 'bayes', metric: { name: 'val_accuracy', goal: 'maximize' },
      parameters: {
        epochs: { values: [5, 10] },
        learning_rate: { distribution: 'log_uniform_values', min: 1e-4, max: 0.01 },
        optimizer: { values: ['sgd', 'nadam', 'adam # not a comment'] },
        filters: { values: [[8, 16], [16, 32]] },
        pair: { values: [{ learning_rate: 0.01, momentum: 0.9 }, { learning_rate: 0.001, momentum: 0.99 }] },
        flag: { value: true },
        nothing: null,
      },
      early_terminate: { type: 'hyperband', min_iter: 1, eta: 3 },
    });
  });

  it('accepts a list at the same indentation as its key', () => {
    expect(parseYaml('values:\n- 1\n- two\n')).toEqual({ values: [1, 'two'] });
  });

  it('rejects what it does not support, naming the line', () => {
    expect(() => parseYaml('a: 1\n  b: 2\n')).toThrow('YAML line 2: unexpected indentation');
    expect(() => parseYaml('a: &anchor 1\n')).toThrow('YAML line 1: unsupported YAML feature');
    expect(() => parseYaml('a: 1\na: 2\n')).toThrow('YAML line 2: duplicate key "a"');
    expect(() => parseYaml('just text\n')).toThrow('YAML line 1: expected "key: value"');
    expect(() => parseYaml('a: [1, 2\n')).toThrow(/YAML line 1: expected , or \]/);
  });
});
