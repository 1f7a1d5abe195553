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

/** A per-step schedule case: lrs[0] right after construction, lrs[s] after the s-th optimizer step. */
interface StepCase { name: string; schedule: string; config: Record<string, unknown>; lr0: number; lrs: number[] }

const REF: { cases: ScheduleCase[]; stepCases: StepCase[] } = JSON.parse(readFileSync(new URL('../reference/schedules.json', import.meta.url), 'utf8'));
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
    expect(() => createSchedule('linear', createOptimizer('sgd'))).toThrow(/unknown schedule "linear"; known: cosine, exponential, reduce-on-plateau, step, warmup/);
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

describe('warmup: per-step schedule vs torch SequentialLR([LinearLR, X]) stepped per batch', () => {
  for (const c of REF.stepCases) {
    it(`${c.name} ${JSON.stringify(c.config)}: lr over ${c.lrs.length - 1} steps`, () => {
      const opt = createOptimizer('adamw', { lr: c.lr0 });
      const sched = createSchedule('warmup', opt, c.config);
      const lrs = [opt.lr];
      for (let s = 1; s < c.lrs.length; s++) {
        expect(sched.stepBatch!()).toBe(opt.lr);
        lrs.push(opt.lr);
      }
      assertClose(lrs, c.lrs, { ...TOL, what: c.name });
      // Epoch ends count epochs and leave the lr alone.
      expect(sched.step()).toBe(lrs[lrs.length - 1]);
      expect(opt.lr).toBe(lrs[lrs.length - 1]);
      expect(sched.epoch).toBe(1);
    });

    it(`${c.name}: stateDict mid-warmup or mid-decay, loaded into a fresh schedule and optimizer, continues exactly`, () => {
      for (const at of [1, Math.floor((c.lrs.length - 1) / 2)]) {
        const opt = createOptimizer('sgd', { lr: c.lr0 });
        const sched = createSchedule('warmup', opt, c.config);
        for (let s = 0; s < at; s++) sched.stepBatch!();
        const opt2 = createOptimizer('sgd', { lr: 7 }); // a different base lr: the state carries the real one
        const sched2 = createSchedule('warmup', opt2, c.config);
        sched2.loadStateDict(sched.stateDict());
        expect(opt2.lr).toBe(opt.lr);
        const lrs = c.lrs.slice(0, at + 1);
        for (let s = at; s < c.lrs.length - 1; s++) lrs.push(sched2.stepBatch!());
        assertClose(lrs, c.lrs, { ...TOL, what: `${c.name} resumed at step ${at}` });
      }
    });
  }

  it('hand-derived: startFactor 0 warms 0 → lr over 4 steps, then cosine over 2 steps holds at etaMin', () => {
    const opt = createOptimizer('sgd', { lr: 0.8 });
    const sched = createSchedule('warmup', opt, { warmupSteps: 4, startFactor: 0, decay: 'cosine', decaySteps: 2, etaMin: 0.1 });
    const lrs = [opt.lr];
    for (let s = 0; s < 8; s++) lrs.push(sched.stepBatch!());
    // 0.8·s/4 for s < 4; then 0.1 + 0.7·(1 + cos(π·d/2))/2 = 0.8, 0.45, 0.1, and held at 0.1.
    assertClose(lrs, [0, 0.2, 0.4, 0.6, 0.8, 0.45, 0.1, 0.1, 0.1], { atol: 1e-15, rtol: 0 });
  });

  it('validates its options, naming the value and what a decay needs', () => {
    const opt = createOptimizer('sgd');
    expect(() => createSchedule('warmup', opt, { warmupSteps: -1 })).toThrow(/warmup: warmupSteps must be an integer in \[0/);
    expect(() => createSchedule('warmup', opt, { startFactor: 1.5 })).toThrow(/warmup: startFactor must be a number in \[0, 1\], got 1.5/);
    expect(() => createSchedule('warmup', opt, { decay: 'exp' })).toThrow(/warmup: decay must be one of constant, linear, cosine, step, got "exp"/);
    expect(() => createSchedule('warmup', opt, { decay: 'cosine' })).toThrow(/warmup: decay 'cosine' needs decaySteps/);
    expect(() => createSchedule('warmup', opt, { decay: 'step' })).toThrow(/warmup: decay 'step' needs stepSize/);
    expect(() => createSchedule('warmup', opt, { decay: 'linear', decaySteps: 5, etaMin: 0.1 })).toThrow(/warmup: etaMin does not apply to decay 'linear'/);
    expect(() => createSchedule('warmup', opt, { warmup: 10 })).toThrow(/warmup: unknown option "warmup"/);
    const sched = createSchedule('warmup', opt, { warmupSteps: 2 });
    expect(() => sched.loadStateDict({ step: 1.5, epoch: 0, baseLr: 0.1 })).toThrow(/warmup.loadStateDict: "step" must be an integer ≥ 0, got 1.5/);
    expect(createSchedule('warmup', opt, { warmupSteps: 3, decay: 'step', stepSize: 2 }).getConfig())
      .toEqual({ warmupSteps: 3, startFactor: 1 / 3, decay: 'step', stepSize: 2, gamma: 0.1 });
  });
});
