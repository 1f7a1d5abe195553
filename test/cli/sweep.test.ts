// `tensorkit sweep`: bad configs rejected naming the key (exit 2), a program sweep with --report, and a real
// `tensorkit train` trial in a child process.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { loadSweepState } from '../../src/experiments/sweep.js';
import { captureIo } from '../util/capture-io.js';
import { REDIS_TESTS, startRedis, type TestRedis } from '../util/redis.js';

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
      ['g.json', JSON.stringify({ method: 'grid', metric: { name: 'val_accuracy' }, parameters: { epochs: { values: [2, -1] } } }), /sweep config: parameters\.epochs\.values\[1\]: invalid value "-1" for -e\/--epochs; an integer in \[1, 10000\]/],
      ['h.yaml', 'method: grid\nmetric: {name: val_accuracy}\nparameters:\n  optimizer: {values: [adam, adamax]}\n', /parameters\.optimizer\.values\[1\]: invalid value "adamax" for -o\/--optimizer; allowed values: sgd, momentum, nag, rmsprop, adam, nadam/],
      ['i.json', '{"method":"random","run_cap":2,"metric":{"name":"val_accuracy"},"parameters":{"learning_rate":{"values":[1e400]}}}', /parameters\.learning_rate\.values\[0\]: must be a finite number, got Infinity/],
      ['j.json', JSON.stringify({ method: 'random', run_cap: 2, metric: { name: 'val_accuracy' }, parameters: { learning_rate: { min: 0, max: 0.1 } } }), /parameters\.learning_rate\.min: invalid value "0" for -lr\/--learning_rate; a number in \(0, 10\]/],
      ['k.json', JSON.stringify({ method: 'grid', metric: { name: 'val_accuracy' }, parameters: { momentum: { values: [0.9, 1] } } }), /parameters\.momentum\.values\[1\]: invalid value "1" for -m\/--momentum; a number in \[0, 1\)/],
      ['l.json', JSON.stringify({ method: 'grid', metric: { name: 'val_accuracy' }, parameters: { pair: { values: [{ learning_rate: 0.1, batch_size: 0 }] } } }), /parameters\.pair\.values\[0\]\.batch_size: invalid value "0" for -b\/--batch_size; an integer in \[1, 65536\]/],
      ['m.json', JSON.stringify({ method: 'grid', metric: { name: 'val_accuracy' }, parameters: { filters: { values: [[8, 16], [8, 0]] } } }), /parameters\.filters\.values\[1\]: invalid value "8,0" for --filters; comma-separated integers in \[1, 4096\], at most 16 of them/],
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

describe.skipIf(!REDIS_TESTS)('tensorkit sweep --queue, sweep status, sweep pull, agent (command shapes)', () => {
  const work = mkdtempSync(join(tmpdir(), 'tk-sweep-queue-cli-'));
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('registers a validated sweep and prints its id alone on the last line; status lists every trial', async () => {
    const config = writeConfig(work, 'reg.json', JSON.stringify({ method: 'grid', metric: { name: 'val_accuracy' }, parameters: { learning_rate: { values: [0.1, 0.01] }, epochs: { value: 1 } } }));
    const r = await cli('sweep', config, '--queue', redis.url, '--quick');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    const id = lines[lines.length - 1];
    expect(id).toMatch(/^reg-\d{8}T\d{4}-[0-9a-f]{4}$/);
    expect(r.out).toContain(`tensorkit agent ${id} --queue ${redis.url}`);
    const st = await cli('sweep', 'status', id, '--queue', redis.url, '--json');
    expect(st.code).toBe(0);
    const json = JSON.parse(st.out);
    expect(json).toMatchObject({ id, method: 'grid', total: 2, finished: false, counts: { queued: 2, running: 0, finished: 0, stopped: 0, failed: 0 } });
    expect(json.trials.map((t: { state: string; params: unknown; name: string }) => [t.state, t.params, t.name])).toEqual([
      ['queued', { learning_rate: 0.1, epochs: 1 }, 'lr_0.1'], ['queued', { learning_rate: 0.01, epochs: 1 }, 'lr_0.01'],
    ]);
    const text = await cli('sweep', 'status', id, '--queue', redis.url);
    expect(text.out).toMatch(/0 finished, 0 stopped, 0 failed, 0 running, 2 queued of 2/);
    expect(text.out).toMatch(/1\s+lr_0\.1\s+queued/);
    // Pull of a sweep with nothing started writes an empty sweep folder.
    const pulled = await cli('sweep', 'pull', id, '--queue', redis.url, '--out', join(work, 'pulled'));
    expect(pulled.out).toMatch(/0 of 2 trials/);
    expect(loadSweepState(join(work, 'pulled'))?.trials).toEqual([]);
  });

  it('rejects bad URLs, missing options and unknown sweeps with clear messages', async () => {
    const config = writeConfig(work, 'ok.json', JSON.stringify({ method: 'grid', metric: { name: 'val_accuracy' }, parameters: { epochs: { value: 1 } } }));
    const bad = await cli('sweep', config, '--queue', 'http://127.0.0.1:1');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--queue: http:\/\/127\.0\.0\.1:1: unsupported scheme http; expected redis:\/\/ or rediss:\/\//);
    // An invalid config is refused before Redis is asked anything.
    const invalid = writeConfig(work, 'bad.json', JSON.stringify({ method: 'grid', metric: { name: 'val_accuracy' }, parameters: { epochs: { values: [0] } } }));
    expect((await cli('sweep', invalid, '--queue', 'redis://127.0.0.1:1')).err).toMatch(/parameters\.epochs\.values\[0\]: invalid value "0"/);
    expect((await cli('sweep', 'status', 'x')).err).toMatch(/--queue URL is required/);
    expect((await cli('sweep', 'pull', 'x', '--queue', redis.url)).err).toMatch(/--out DIR is required/);
    const unknown = await cli('sweep', 'status', 'no-such-sweep', '--queue', redis.url);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/no sweep "no-such-sweep" is registered on this Redis/);
    expect((await cli('sweep', 'status', '../etc', '--queue', redis.url)).err).toMatch(/sweep id: must match/);
    const agent = await cli('agent', 'no-such-sweep', '--queue', redis.url);
    expect(agent.code).toBe(1);
    expect(agent.err).toMatch(/tensorkit agent: .*no sweep "no-such-sweep"/);
    expect((await cli('agent')).err).toMatch(/give one sweep id, got none/);
    expect((await cli('agent', 'x')).err).toMatch(/--queue URL is required/);
    expect((await cli('agent', '--help')).out).toMatch(/usage: tensorkit agent SWEEP_ID --queue URL \[--count N\] \[--threads T\]/);
    // A program sweep runs only on agents that name the same script.
    const prog = writeConfig(work, 'prog.json', JSON.stringify({ method: 'grid', program: 'test/experiments/fake-trainer.ts', metric: { name: 'val_accuracy' }, parameters: { x: { value: 1 } } }));
    const reg = await cli('sweep', prog, '--queue', redis.url);
    const id = reg.out.trimEnd().split('\n').pop() as string;
    const refused = await cli('agent', id, '--queue', redis.url, '--program', 'other.ts');
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/runs the program ".*test\/experiments\/fake-trainer\.ts"; an agent runs a program only when started with --program naming that same script/);
  });
});

describe.skipIf(!REDIS_TESTS)('tensorkit sweep --queue with a password', () => {
  it('accepts redis://:password@host and reports refused credentials', async () => {
    const redis = await startRedis({ password: 's3cret/x' });
    try {
      const work = mkdtempSync(join(tmpdir(), 'tk-sweep-pw-'));
      const config = writeConfig(work, 'pw.json', JSON.stringify({ method: 'grid', metric: { name: 'val_accuracy' }, parameters: { epochs: { values: [1, 2] } } }));
      expect(redis.url).toMatch(/^redis:\/\/:s3cret%2Fx@127\.0\.0\.1:\d+$/);
      const r = await cli('sweep', config, '--queue', redis.url);
      expect(r.code).toBe(0);
      expect(r.out).not.toContain('s3cret');
      const id = r.out.trimEnd().split('\n').pop() as string;
      expect(JSON.parse((await cli('sweep', 'status', id, '--queue', redis.url, '--json')).out).total).toBe(2);
      const wrong = await cli('sweep', 'status', id, '--queue', `redis://:nope@127.0.0.1:${redis.port}`);
      expect(wrong.code).toBe(1);
      expect(wrong.err).toMatch(/Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ refused the credentials: WRONGPASS/);
      const none = await cli('sweep', 'status', id, '--queue', `redis://127.0.0.1:${redis.port}`);
      expect(none.code).toBe(1);
      expect(none.err).toMatch(/NOAUTH/);
    } finally {
      await redis.stop();
    }
  });
});
