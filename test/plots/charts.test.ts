// The SVG charts: each renders through vega-lite and the SVG text holds the expected marks, titles and labels.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  learningCurvesFromHistory, meanStd, plotAccuracyVsLearningRate, plotCeVsMse, plotConfusionMatrix, plotLearningCurves,
  plotSeedBands, smoothSeries,
} from '../../src/plots/index.js';
import { loadVega } from '../../src/plots/render.js';
import { countSymbols, legendLabels, markGroup, svgTexts, titles } from './svg.js';

const dir = mkdtempSync(join(tmpdir(), 'tensorkit-plots-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('plot helpers', () => {
  it('smoothSeries is a bias-corrected EMA (hand-derived)', () => {
    // w = 0.5: s1 = .5·1 = .5, /(1−.5) = 1;  s2 = .25 + .5·3 = 1.75, /(1−.25) = 2.3333…;
    // NaN keeps the previous value; s3 = .875 + .5·5 = 3.375, /(1−.125) = 3.857142…
    const s = smoothSeries([1, 3, NaN, 5], 0.5);
    expect(s[0]).toBeCloseTo(1, 12);
    expect(s[1]).toBeCloseTo(7 / 3, 12);
    expect(s[2]).toBeCloseTo(7 / 3, 12);
    expect(s[3]).toBeCloseTo(27 / 7, 12);
    expect(smoothSeries([4, 2], 0)).toEqual([4, 2]);
    expect(() => smoothSeries([1], 1)).toThrow('smoothSeries: weight must be in [0, 1), got 1');
  });

  it('meanStd handles runs of different lengths (population std)', () => {
    const { mean, std, count } = meanStd([[1, 2, 10], [3, 6]]);
    expect(mean).toEqual([2, 4, 10]);
    expect(std).toEqual([1, 2, 0]);
    expect(count).toEqual([2, 2, 1]);
  });

  it('learningCurvesFromHistory places validation points at each epoch end', () => {
    const history = {
      batch: { loss: [4, 3, 2, 1], accuracy: [0.1, 0.2, 0.3, 0.4] },
      epoch: { valLoss: [2.5, 1.5], valAccuracy: [0.25, 0.45] },
    };
    const c = learningCurvesFromHistory(history);
    expect(c.validation).toEqual({ batch: [2, 4], loss: [2.5, 1.5], accuracy: [0.25, 0.45] });
    expect(learningCurvesFromHistory({ ...history, epoch: { valLoss: [NaN, NaN], valAccuracy: [NaN, NaN] } }).validation).toBeUndefined();
  });

  it('names the packages to install when vega is missing', async () => {
    const missing = async (name: string) => {
      throw Object.assign(new Error(`Cannot find package '${name}'`), { code: 'ERR_MODULE_NOT_FOUND' });
    };
    await expect(loadVega(missing)).rejects.toThrow('plots: cannot load "vega": vega and vega-lite (dependencies of tensorkit) are not installed');
    const broken = async () => { throw new Error('boom'); };
    await expect(loadVega(broken)).rejects.toThrow('boom');
  });
});

describe('charts', () => {
  it('learning curves: loss and accuracy panels with train, smoothed and validation series', async () => {
    const dest = join(dir, 'curves.svg');
    const svg = await plotLearningCurves(dest, {
      trainLoss: [2.3, 1.9, 1.2, 1.0, 0.8, 0.7],
      trainAccuracy: [0.1, 0.3, 0.5, 0.6, 0.7, 0.75],
      validation: { batch: [3, 6], loss: [1.1, 0.75], accuracy: [0.55, 0.72] },
    }, { smoothing: 0.6, title: 'Run 1' });
    expect(readFileSync(dest, 'utf8')).toBe(svg);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(titles(svg, 'title-text')).toEqual(['Run 1']);
    expect(titles(svg, 'axis-title')).toEqual(expect.arrayContaining(['Batch', 'Loss', 'Accuracy']));
    expect(legendLabels(svg)).toEqual(['train', 'train (smoothed)', 'validation']);
    // Two panels × (raw, smoothed) training lines + one validation line each.
    expect((svg.match(/aria-roledescription="line mark"/g) ?? []).length).toBe(6);
    expect(svg).toContain('Batch: 6; Loss: 0.75; series: validation');
  });

  it('learning curves without accuracy or validation: one loss panel, one series', async () => {
    const svg = await plotLearningCurves(join(dir, 'loss.svg'), { trainLoss: [1, 0.5, NaN, 0.25] });
    expect(titles(svg, 'axis-title')).toEqual(['Batch', 'Loss']);
    expect(legendLabels(svg)).toEqual(['train']);
  });

  it('confusion matrix: classes² cells, each labelled with its count and row percentage', async () => {
    const names = ['cat', 'dog', 'bird', 'fish'];
    const m = [[5, 1, 0, 0], [2, 7, 1, 0], [0, 0, 9, 1], [0, 3, 0, 1]];
    const svg = await plotConfusionMatrix(join(dir, 'cm.svg'), m, names);
    expect(countSymbols(markGroup(svg, 'cells_marks'))).toBe(16);
    const labels = svgTexts(markGroup(svg, 'labels_marks'));
    expect(labels).toHaveLength(16);
    // Row "dog": 2 + 7 + 1 + 0 = 10 → 20.0%, 70.0%, 10.0%, 0.0%.
    expect(labels.slice(4, 8)).toEqual(['2\n20.0%', '7\n70.0%', '1\n10.0%', '0\n0.0%']);
    expect(titles(svg, 'axis-title')).toEqual(expect.arrayContaining(['Predicted class', 'True class']));
    const axisLabels = [...svg.matchAll(/<g class="mark-text role-axis-label"[^>]*>([\s\S]*?)<\/g>/g)].flatMap((g) => svgTexts(g[1]));
    for (const n of names) expect(axisLabels.filter((t) => t === n)).toHaveLength(2);
    await expect(plotConfusionMatrix(join(dir, 'bad.svg'), [[1, 2]], ['a', 'b'])).rejects.toThrow('plotConfusionMatrix: matrix must be 2×2 for 2 class names, got 1×2');
  });

  it('accuracy vs learning rate: log x axis with decade ticks', async () => {
    const lrs = [1e-5, 1e-4, 1e-3, 1e-2, 5e-2];
    const svg = await plotAccuracyVsLearningRate(join(dir, 'lr.svg'), lrs.map((lr, i) => ({ lr, accuracy: [0.2, 0.6, 0.9, 0.95, 0.5][i], series: 'test' })));
    expect(titles(svg, 'axis-title')).toEqual(expect.arrayContaining(['Learning rate', 'Accuracy']));
    const ticks = [...svg.matchAll(/<g class="mark-text role-axis-label"[^>]*>([\s\S]*?)<\/g>/g)].flatMap((g) => svgTexts(g[1]));
    expect(ticks.slice(0, 5)).toEqual(['1e-5', '1e-4', '1e-3', '1e-2', '1e-1']); // decades only, then the y labels
    expect((svg.match(/aria-roledescription="point"/g) ?? []).length).toBe(5);
    expect(legendLabels(svg)).toEqual(['test']);
    await expect(plotAccuracyVsLearningRate(join(dir, 'x.svg'), [{ lr: 0, accuracy: 1 }])).rejects.toThrow('learning rates must be positive');
  });

  it('seed bands: one band and one mean line per series, with the mean ± std numbers', async () => {
    const svg = await plotSeedBands(join(dir, 'bands.svg'), [
      { name: 'lr 1e-3', runs: [[1, 0.8, 0.6], [1.2, 0.6, 0.4]] },
      { name: 'lr 1e-2', runs: [[0.9, 0.5, 0.3], [0.9, 0.5, 0.3]] },
    ], { yTitle: 'Training loss' });
    expect((svg.match(/aria-roledescription="area mark"/g) ?? []).length).toBe(2);
    expect(countSymbols(markGroup(svg, 'bands_marks'))).toBe(1);
    expect(titles(svg, 'axis-title')).toEqual(expect.arrayContaining(['Epoch', 'Training loss']));
    expect(legendLabels(svg)).toEqual(['lr 1e-2', 'lr 1e-3']);
    // Epoch 1 of "lr 1e-3": mean 1.1, std 0.1 → band from 1 to 1.2.
    expect(svg).toContain('Epoch: 1; Training loss: 1; hi: 1.2; series: lr 1e-3');
  });

  it('CE vs MSE: accuracy and log-loss panels with both loss functions in the legend', async () => {
    const svg = await plotCeVsMse(join(dir, 'ce-mse.svg'), {
      crossEntropy: { loss: [0.5, 0.4, 0.35], accuracy: [0.8, 0.84, 0.86] },
      squaredError: { loss: [0.05, 0.04, 0.035], accuracy: [0.78, 0.82, 0.85] },
    });
    expect(titles(svg, 'title-text')).toEqual(['Cross-entropy vs squared error']);
    expect(titles(svg, 'axis-title')).toEqual(expect.arrayContaining(['Epoch', 'Accuracy', 'Training loss (own units, log)']));
    expect(legendLabels(svg)).toEqual(['cross-entropy', 'squared error']);
    expect((svg.match(/aria-roledescription="line mark"/g) ?? []).length).toBe(4);
  });
});
