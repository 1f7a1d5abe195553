// `tensorkit sweep`: bad configs rejected naming the key (exit 2), a program sweep with --report, and a real
// `tensorkit train` trial in a child process.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { loadSweepState } from '../../src/experiments/sweep.js';
import { captureIo } from '../util/capture-io.js';

const root = new URL('../..', import.meta.url).pathname;

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo();
  const code = await main(argv, io);
  return { code, out: io.out(), err: io.err() };
}

function writeConfig(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('tensorkit sweep', () => {
  const work = mkdtempSync(join(tmpdir(), 'tk-sweep-cli-'));

  it('rejects bad configs with exit status 2 and the offending key', async () => {
    const cases: [string, string, RegExp][] = [
      ['a.json', JSON.stringify({ method: 'anneal', metric: { name: 'val_accuracy' }, parameters: { epochs: { value: 1 } } }), /sweep config: method: unknown method "anneal"; known: grid, random, bayes/],
      ['b.json', JSON.stringify({ method: 'grid', metric: { name: 'val_accuracy' }, parameters: { batch_size: { values: [] } } }), /sweep config: parameters\.batch_size\.values: is empty/],
      ['c.yaml', 'method: random\nrun_cap: 2\nmetric: {name: val_accuracy}\nparameters:\n  learning_rate: {min: 0.1, max: 0.01}\n', /sweep config: parameters\.learning_rate\.min: min 0\.1 is greater than max 0\.01/],
      ['d.json', JSON.stringify({ method: 'grid', metric: { name: 'val_accuracy' }, parameters: { depth: { values: [1, 2] } } }), /sweep config: parameters\.depth: unknown parameter of the trainer; known: .*learning_rate/],
      ['e.json', JSON.stringify({ method: 'grid', metric: { name: 'val_accuracy' }, parameters: { out: { value: 'x' } } }), /parameters\.out: is set by the sweep itself/],
      ['f.json', '{ "method": ', /f\.json: not valid JSON/],
      // Every value is checked against tensorkit train's option rules before any trial starts.
      ['g.json', JSON.stringify({ method: 'grid', metric: { name: 'val_accuracy' }, parameters: { epochs: { values: [2, -1] } } }), /sweep config: parameters\.epochs\.values\[1\]: invalid value "-1" for -e\/--epochs; an integer >= 1/],
      ['h.yaml', 'method: grid\nmetric: {name: val_accuracy}\nparameters:\n  optimizer: {values: [adam, adamax]}\n', /parameters\.optimizer\.values\[1\]: invalid value "adamax" for -o\/--optimizer; allowed values: sgd, momentum, nag, rmsprop, adam, nadam/],
      ['i.json', '{"method":"random","run_cap":2,"metric":{"name":"val_accuracy"},"parameters":{"learning_rate":{"values":[1e400]}}}', /parameters\.learning_rate\.values\[0\]: must be a finite number, got Infinity/],
      ['j.json', JSON.stringify({ method: 'random', run_cap: 2, metric: { name: 'val_accuracy' }, parameters: { learning_rate: { min: 0, max: 0.1 } } }), /parameters\.learning_rate\.min: invalid value "0" for -lr\/--learning_rate; a number > 0/],
      ['k.json', JSON.stringify({ method: 'grid', metric: { name: 'val_accuracy' }, parameters: { momentum: { values: [0.9, 1] } } }), /parameters\.momentum\.values\[1\]: invalid value "1" for -m\/--momentum; a number >= 0 and < 1/],
      ['l.json', JSON.stringify({ method: 'grid', metric: { name: 'val_accuracy' }, parameters: { pair: { values: [{ learning_rate: 0.1, batch_size: 0 }] } } }), /parameters\.pair\.values\[0\]\.batch_size: invalid value "0" for -b\/--batch_size; an integer >= 1/],
      ['m.json', JSON.stringify({ method: 'grid', metric: { name: 'val_accuracy' }, parameters: { filters: { values: [[8, 16], [8, 0]] } } }), /parameters\.filters\.values\[1\]: invalid value "8,0" for --filters; comma-separated integers >= 1/],
      ['n.json', JSON.stringify({ method: 'grid', metric: { name: 'val_accuracy' }, parameters: { batch_size: { values: ['32'] } } }), /parameters\.batch_size\.values\[0\]: invalid value "32" for -b\/--batch_size; a number, not text/],
      ['o.json', JSON.stringify({ method: 'grid', metric: { name: 'val_accuracy' }, parameters: { augment_flip: { values: [true, 1] } } }), /parameters\.augment_flip\.values\[1\]: invalid value 1 for --augment_flip; true or false/],
    ];
    for (const [file, text, message] of cases) {
      const r = await cli('sweep', writeConfig(work, file, text), '--out', work);
      expect(r.code, file).toBe(2);
      expect(r.err, file).toMatch(message);
      // Nothing started: no sweep folder was made.
      expect(existsSync(join(work, file.replace(/\.\w+$/, ''))), file).toBe(false);
    }
    expect((await cli('sweep')).err).toMatch(/give one sweep config file, got none/);
    expect((await cli('sweep', '--help')).out).toMatch(/usage: tensorkit sweep CONFIG/);
  });

  it('runs a program sweep in parallel processes, prints the best trials and writes the report', async () => {
    const config = writeConfig(work, 'prog.yaml', `name: prog
method: grid
program: ${join(root, 'test/experiments/fake-trainer.ts')}
metric: {name: val_accuracy, goal: maximize}
parameters:
  x: {values: [0.1, 0.3, 0.7]}
  delay: {value: 10}
`);
    const r = await cli('sweep', config, '--out', work, '--parallel', '2', '--threads', '2', '--report');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/sweep prog: grid, metric val_accuracy \(maximize\), 2 at once with 1 thread\(s\) each/);
    expect(r.out).toMatch(/3 finished, 0 stopped early, 0 failed/);
    expect(r.out).toMatch(/best trials by val_accuracy\ntrial\s+val_accuracy\s+epochs\s+status\n[- ]+\nx_0\.3\s+0\.9667\s+3\s+finished/);
    expect(r.out).toContain(`report: ${join(work, 'prog', 'report.html')}`);
    expect(readFileSync(join(work, 'prog', 'report.html'), 'utf8')).toContain('data-chart="pareto"');
    // Running it again resumes a complete sweep: nothing is repeated.
    const again = await cli('sweep', config, '--out', work);
    expect(again.out).not.toMatch(/started/);
    expect(loadSweepState(join(work, 'prog'))?.trials).toHaveLength(3);
  }, 60_000);

  it('runs tensorkit train trials with --quick, the thread budget and the sweep seed', async () => {
    const config = writeConfig(work, 'mlp.json', JSON.stringify({
      name: 'mlp', method: 'grid', metric: { name: 'test_accuracy', goal: 'maximize' },
      parameters: { num_layers: { value: 0 }, batch_size: { values: [100] }, learning_rate: { value: 0.01 } },
    }));
    const r = await cli('sweep', config, '--out', work, '--quick', '--threads', '1', '--seed', '5');
    expect(r.code, r.out + r.err).toBe(0);
    const state = loadSweepState(join(work, 'mlp'))!;
    const dir = join(work, 'mlp', 'runs', state.trials[0].name);
    const params = JSON.parse(readFileSync(join(dir, 'params.json'), 'utf8'));
    expect(params).toMatchObject({ numLayers: 0, batchSize: 100, learningRate: 0.01, quick: true, seed: 5, threads: 1, name: 'nl_0_bs_100_lr_0.01' }); // nothing varies: named by all parameters
    expect(state.trials[0].value).toBe(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')).test_accuracy);
  }, 60_000);
});
