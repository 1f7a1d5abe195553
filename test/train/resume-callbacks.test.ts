// Resuming with every shipped callback: a training child process is SIGKILLed at a random step with
// EarlyStopping, Checkpoint, CsvLogger, the progress reporter and a ReduceOnPlateau schedule active,
// then resumed from its last checkpoint. The resumed run must end where the uninterrupted one does:
// same stopping epoch, same weights, predictions, CSV rows, best checkpoint and progress lines.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel, Rng, type FitPosition, type Sequential } from '../../src/index.js';
import { runUntilKilled } from '../util/kill-child.js';
import { callbacksFor, compileFresh, fitOptions, lastCheckpoint, makeData, makeModel, type Run } from './resume-callbacks-setup.js';

const { x, y } = makeData();

/** The CSV without its `seconds` column (wall-clock time differs between runs). */
function withoutSeconds(path: string): string[] {
  const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
  const col = lines[0].split(',').indexOf('seconds');
  return lines.map((l) => (col < 0 ? l : l.split(',').filter((_, i) => i !== col).join(',')));
}

/** Progress lines without eta and epoch seconds, keyed by epoch/batch so a resumed run's tail can be matched. */
function progressLines(run: Run): string[] {
  return run.progress.map((l) => l.replace(/ eta \S+/, '').replace(/ [0-9.]+s loss/, ' loss').trimEnd());
}

function weights(model: Sequential): number[][] {
  return Object.values(model.stateDict()).map((t) => Array.from(t.data));
}

async function uninterrupted(dir: string): Promise<{ model: Sequential; run: Run }> {
  const model = makeModel();
  compileFresh(model);
  const run = callbacksFor(model, dir);
  await model.fit(x, y, fitOptions(run));
  return { model, run };
}

/** Runs the child in `dir` and SIGKILLs it once it reports step `killAfter`; returns the last step it reported. */
function killedRun(dir: string, killAfter: number): Promise<number> {
  return runUntilKilled(new URL('./resume-callbacks-child.ts', import.meta.url).pathname, [dir], /^step (\d+)$/, killAfter);
}

describe('resume with EarlyStopping, Checkpoint, CsvLogger, progress and ReduceOnPlateau', () => {
  it('a run SIGKILLed at a random step resumes to the same stopping epoch, weights, predictions, CSV rows, best file and progress, bit for bit', async () => {
    const refDir = mkdtempSync(join(tmpdir(), 'tk-es-ref-'));
    const ref = await uninterrupted(refDir);
    // Early stopping really ends the run, well before its 60 epochs.
    expect(ref.run.early.stoppedEpoch).toBeGreaterThan(3);
    expect(ref.run.early.stoppedEpoch).toBeLessThan(59);
    expect(ref.run.early.restored).toBe(true);
    const totalSteps = (withoutSeconds(join(refDir, 'batch.csv')).length - 1);
    // Any step from the second checkpoint up to the last one: mid-epoch, epoch ends, after the stop.
    const killAfter = 6 + new Rng(Date.now() % 100000).int(totalSteps - 6);
    const dir = mkdtempSync(join(tmpdir(), 'tk-es-kill-'));
    const lastReported = await killedRun(dir, killAfter);
    expect(lastReported).toBeGreaterThanOrEqual(killAfter);

    const loaded = loadModel(lastCheckpoint(dir));
    const position = loaded.trainingState as unknown as FitPosition;
    expect(position.callbacks?.earlyStopping).toBeDefined();
    const model = loaded.model;
    model.compile({ optimizer: loaded.optimizer!, loss: 'cross-entropy' });
    const run = callbacksFor(model, dir);
    await model.fit(x, y, { ...fitOptions(run), resumeFrom: position });

    const at = `killed after step ${lastReported}, resumed at epoch ${position.epoch + 1} batch ${position.batch}`;
    expect([run.early.stoppedEpoch, run.early.bestEpoch], at).toEqual([ref.run.early.stoppedEpoch, ref.run.early.bestEpoch]);
    expect(weights(model), at).toEqual(weights(ref.model));
    expect(Array.from(model.predict(x).data), at).toEqual(Array.from(ref.model.predict(x).data));
    expect(withoutSeconds(join(dir, 'epoch.csv')), at).toEqual(withoutSeconds(join(refDir, 'epoch.csv')));
    expect(withoutSeconds(join(dir, 'batch.csv')), at).toEqual(withoutSeconds(join(refDir, 'batch.csv')));
    const best = (d: string): number[][] => weights(loadModel(join(d, 'ckpt', 'best.safetensors')).model);
    expect(best(dir), at).toEqual(best(refDir));
    // The resumed reporter's lines are the uninterrupted one's last lines (running means included).
    const mine = progressLines(run);
    const theirs = progressLines(ref.run);
    expect(theirs.slice(theirs.length - mine.length), at).toEqual(mine);
  }, 120_000);
});
