// Learning-rate schedules against torch.optim.lr_scheduler reference sequences (test/reference/schedules.json).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CosineSchedule, createOptimizer, createSchedule, registerSchedule, scheduleNames, StepSchedule, type Schedule,
} from '../../src/optimizers/index.js';
import { assertClose } from '../util/assert-close.js';

interface ScheduleCase {
  name: string;
  schedule: string;
  config: Record<string, unknown>;
  lr0: number;
  metrics: number[] | null;
  /** lrs[0]: right after construction; lrs[e]: after the e-th step. */
  lrs: number[];
}

const REF: { cases: ScheduleCase[] } = JSON.parse(readFileSync(new URL('../reference/schedules.json', import.meta.url), 'utf8'));
// torch's Step/Exponential/Cosine schedulers are recursive (lr·gamma each time), ours are closed
// forms: both double precision, so they agree to rounding.
const TOL = { atol: 1e-12, rtol: 1e-9 };

function replay(c: ScheduleCase, optimizerName: string): number[] {
  const opt = createOptimizer(optimizerName, { lr: c.lr0 });
  const sched = createSchedule(c.schedule, opt, c.config);
  const lrs = [opt.lr];
  for (let e = 0; e < c.lrs.length - 1; e++) {
    const returned = sched.step(c.metrics?.[e]);
    expect(returned).toBe(opt.lr);
    expect(sched.lr).toBe(opt.lr);
    lrs.push(opt.lr);
  }
  expect(sched.epoch).toBe(c.lrs.length - 1);
  return lrs;
}

describe('learning-rate schedules vs torch.optim.lr_scheduler', () => {
  for (const c of REF.cases) {
    it(`${c.name} ${JSON.stringify(c.config)}: lr sequence over ${c.lrs.length - 1} epochs`, () => {
      assertClose(replay(c, 'sgd'), c.lrs, { ...TOL, what: c.name });
    });
  }

  it('work with every optimizer (they only write optimizer.lr)', () => {
    const c = REF.cases.find((x) => x.name === 'cosine')!;
    for (const name of ['momentum', 'nag', 'rmsprop', 'adam', 'nadam']) {
      assertClose(replay(c, name), c.lrs, { ...TOL, what: `${name} + cosine` });
    }
  });

  for (const c of REF.cases) {
    it(`${c.name}: stateDict after half the epochs, load into a fresh schedule + optimizer, continue == uninterrupted`, () => {
      const half = Math.floor((c.lrs.length - 1) / 2);
      const opt = createOptimizer('adam', { lr: c.lr0 });
      const sched = createSchedule(c.schedule, opt, c.config);
      for (let e = 0; e < half; e++) sched.step(c.metrics?.[e]);
      const state = sched.stateDict();

      const opt2 = createOptimizer('adam', { lr: 0.5 }); // the wrong lr: loading must restore it
      const sched2: Schedule = createSchedule(c.schedule, opt2, c.config);
      sched2.loadStateDict(state);
      expect(opt2.lr).toBe(opt.lr);
      expect(sched2.epoch).toBe(half);
      const lrs = c.lrs.slice(0, half + 1);
      for (let e = half; e < c.lrs.length - 1; e++) lrs.push(sched2.step(c.metrics?.[e]));
      assertClose(lrs, c.lrs, { ...TOL, what: `${c.name} resumed` });
    });
  }
});

describe('schedule construction', () => {
  it('registers the built-ins and rejects unknown names with the known list', () => {
    expect(scheduleNames()).toEqual(expect.arrayContaining(['cosine', 'exponential', 'reduce-on-plateau', 'step']));
    expect(() => createSchedule('linear', createOptimizer('sgd'))).toThrow(/unknown schedule "linear"; known: cosine, exponential, reduce-on-plateau, step/);
    expect(() => registerSchedule('step', (o) => new StepSchedule(o))).toThrow('schedule "step" is already registered');
  });

  it('validates options, naming the bad value', () => {
    const opt = createOptimizer('sgd');
    expect(() => createSchedule('step', opt, { stepSize: 0 })).toThrow('step: stepSize must be an integer in [1, inf), got 0');
    expect(() => createSchedule('exponential', opt, { gamma: 1.5 })).toThrow('exponential: gamma must be a number in (0, 1], got 1.5');
    expect(() => createSchedule('cosine', opt, {})).toThrow('cosine: tMax (the number of epochs to anneal over) is required');
    expect(() => new CosineSchedule(opt, { tMax: 5, etaMin: -1 })).toThrow('cosine: etaMin must be a number in [0, inf), got -1');
    expect(() => createSchedule('reduce-on-plateau', opt, { mode: 'up' })).toThrow('reduce-on-plateau: mode must be one of min, max, got "up"');
    expect(() => createSchedule('reduce-on-plateau', opt, { factor: 1 })).toThrow('reduce-on-plateau: factor must be a number in (0, 1), got 1');
    expect(() => createSchedule('step', opt, { step_size: 3 })).toThrow('step: unknown option "step_size"; known options: stepSize, gamma');
  });

  it('reduce-on-plateau needs the metric; loadStateDict names a bad field', () => {
    const sched = createSchedule('reduce-on-plateau', createOptimizer('sgd'));
    expect(() => sched.step()).toThrow("reduce-on-plateau: step(metric) needs the epoch's metric as a number, got undefined");
    expect(() => sched.loadStateDict({ epoch: 1, lr: 0.1, best: 1, badEpochs: 0.5, cooldownLeft: 0 }))
      .toThrow('reduce-on-plateau.loadStateDict: "badEpochs" must be an integer ≥ 0, got 0.5');
    expect(() => createSchedule('step', createOptimizer('sgd')).loadStateDict({ epoch: 2 }))
      .toThrow('step.loadStateDict: "baseLr" must be a number ≥ 0, got undefined');
  });
});
