// Hyperband-style early termination for sweeps (asynchronous successive halving, as wandb's
// `early_terminate: {type: hyperband}` applies it to runs that report a metric per epoch).
import type { HyperbandConfig } from './sweep-config.js';

/**
 * The rule. Rungs sit at epochs r_k = min_iter · eta^k (k = 0, 1, …, rounded to integers, up to
 * max_iter when given). When a trial finishes epoch r_k its metric joins the values recorded at that
 * rung by every trial of the sweep so far (including itself; the record is kept in the sweep state,
 * so it survives a resume). The trial continues only if its value ranks within the best
 * ⌈count / eta⌉ of that rung (ties kept; "best" follows the metric's goal); otherwise it is stopped.
 * The first trial to reach a rung therefore always continues, and later ones must be in the top
 * 1/eta of everything seen there. A missing or NaN metric at a rung counts as the worst value.
 */
export class Hyperband {
  readonly rungs: readonly number[];
  private readonly eta: number;
  private readonly maximize: boolean;
  /** Recorded values: rung epoch → trial index → value (JSON-friendly, kept in the sweep state). */
  readonly records: Record<string, Record<string, number | null>>;

  constructor(config: HyperbandConfig, goal: 'maximize' | 'minimize', records: Record<string, Record<string, number | null>> = {}, maxEpochs = 10_000) {
    this.eta = config.eta;
    this.maximize = goal === 'maximize';
    const limit = Math.min(config.max_iter ?? maxEpochs, maxEpochs);
    const rungs: number[] = [];
    for (let r = config.min_iter; r <= limit; r *= config.eta) {
      const epoch = Math.round(r);
      if (rungs[rungs.length - 1] !== epoch) rungs.push(epoch);
    }
    this.rungs = rungs;
    this.records = records;
  }

  /** True if `epoch` (1-based) is a rung. */
  isRung(epoch: number): boolean {
    return this.rungs.includes(epoch);
  }

  /** Forgets what `trial` recorded (it is being run again after an interrupted sweep). */
  forget(trial: number): void {
    for (const rung of Object.values(this.records)) delete rung[String(trial)];
  }

  /**
   * Records `value` of trial number `trial` at rung `epoch` (a repeated report replaces it) and returns whether the trial should continue (see the class
   * comment for the rule). Epochs that are not rungs always continue and record nothing.
   */
  report(epoch: number, value: number, trial: number): boolean {
    if (!this.isRung(epoch)) return true;
    const worst = this.maximize ? -Infinity : Infinity;
    const v = Number.isFinite(value) ? value : worst;
    const rung = (this.records[String(epoch)] ??= {});
    rung[String(trial)] = Number.isFinite(v) ? v : null;
    const list = Object.values(rung).map((x) => (x === null ? worst : x));
    const keep = Math.ceil(list.length / this.eta);
    const sorted = [...list].sort((a, b) => (this.maximize ? b - a : a - b));
    const cutoff = sorted[keep - 1];
    return this.maximize ? v >= cutoff : v <= cutoff;
  }
}
