// examples/custom-layer.ts: a Mish layer written with the plugin kit. Checked three ways — hand-derived
// values, finite differences of its own forward, PyTorch 1.13 references (test/reference/mish.py) —
// on heap buffers (the compiled SIMD kernels) and ordinary arrays (their twins), and the example's
// quick run trains with it by name beside the built-in GELU and writes its report.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLayer, layerNames, Rng, Tensor } from 'tensorkit';
import { heapFloat32, isHeapArray } from 'tensorkit/plugin';
import { Mish, MISH_BACKWARD, MISH_FORWARD, main } from '../../examples/custom-layer.js';

const reference = JSON.parse(readFileSync(new URL('../reference/mish.json', import.meta.url), 'utf8')) as {
  x: number[]; w: number[]; float32: { y: number[]; grad: number[] }; float64: { y: number[]; grad: number[] };
};

function mishOf(x: Float32Array, w: Float32Array): { y: Float32Array; dx: Float32Array } {
  const layer = new Mish();
  layer.build([x.length], new Rng(0));
  const y = layer.forward(new Tensor(Float32Array.from(x), [1, x.length]), true);
  const dx = layer.backward(new Tensor(Float32Array.from(w), [1, x.length]));
  return { y: Float32Array.from(y.data), dx: Float32Array.from(dx.data) };
}

describe('examples/custom-layer: Mish', () => {
  it('is registered by name and keeps its buffers in the shared heap (so the SIMD kernels run)', () => {
    expect(layerNames()).toContain('mish');
    const layer = createLayer('mish');
    expect(layer).toBeInstanceOf(Mish);
    layer.build([5], new Rng(0));
    expect(isHeapArray(layer.forward(new Tensor(new Float32Array(5), [1, 5]), false).data)).toBe(true);
  });

  it('matches hand-derived values: mish(x) = x·tanh(sp(x)), mish′(x) = t + x·(1 − t²)·σ(x)', () => {
    // sp(0) = ln 2, tanh(ln 2) = 3/5, so mish(0) = 0 and mish′(0) = 0.6.
    // sp(1) = 1.3132616875, t = 0.8650983883: mish(1) = 0.8650983883, mish′(1) = t + (1 − t²)·σ(1) = 1.0490362201.
    // sp(−1) = 0.3132616875, t = 0.3034014614: mish(−1) = −0.3034014614, mish′(−1) = t − (1 − t²)·σ(−1) = 0.0592167559.
    const x = Float32Array.from([0, 1, -1]);
    const { y, dx } = mishOf(x, new Float32Array(3).fill(1));
    const want = [0, 0.8650983883, -0.3034014614];
    const wantGrad = [0.6, 1.0490362201, 0.0592167559];
    for (let i = 0; i < 3; i++) {
      expect(Math.abs(y[i] - want[i]), `y at ${x[i]}`).toBeLessThan(1e-6);
      expect(Math.abs(dx[i] - wantGrad[i]), `dx at ${x[i]}`).toBeLessThan(1e-6);
    }
  });

  it('its gradient equals central differences of its own forward (h = 1e-2, smooth everywhere)', () => {
    const rng = new Rng(3);
    const n = 200;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = 10 * rng.next() - 5;
    const { dx } = mishOf(x, new Float32Array(n).fill(1));
    const h = 1e-2;
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const up = mishOf(Float32Array.of(x[i] + h), Float32Array.of(1)).y[0];
      const down = mishOf(Float32Array.of(x[i] - h), Float32Array.of(1)).y[0];
      const numeric = (up - down) / (2 * h);
      worst = Math.max(worst, Math.abs(dx[i] - numeric) / Math.max(1, Math.abs(dx[i]), Math.abs(numeric)));
    }
    expect(worst).toBeLessThan(1e-3); // a 0.5% gradient error would show as ≥ 5e-3 near |dx| = 1
  });

  it('matches PyTorch 1.13 F.mish (float32 values and gradients, up to |x| = 30) within 2e-6, on heap and ordinary arrays', () => {
    const x = Float32Array.from(reference.x);
    const w = Float32Array.from(reference.w);
    const { y, dx } = mishOf(x, w);
    for (let i = 0; i < x.length; i++) {
      expect(Math.abs(y[i] - reference.float32.y[i]), `y at ${x[i]}`).toBeLessThan(2e-6 * Math.max(1, Math.abs(reference.float32.y[i])));
      expect(Math.abs(dx[i] - reference.float32.grad[i]), `dx at ${x[i]}`).toBeLessThan(2e-6 * Math.max(1, Math.abs(reference.float32.grad[i])));
    }
    // The twins (ordinary arrays) give the kernels' bits.
    const yHeap = heapFloat32(x.length);
    const yPlain = new Float32Array(x.length);
    const xHeap = heapFloat32(x.length);
    xHeap.set(x);
    MISH_FORWARD.run(x.length, yHeap, xHeap);
    MISH_FORWARD.run(x.length, yPlain, x);
    expect(Array.from(yPlain)).toEqual(Array.from(yHeap));
    const dxHeap = heapFloat32(x.length);
    const dxPlain = new Float32Array(x.length);
    const wHeap = heapFloat32(x.length);
    wHeap.set(w);
    MISH_BACKWARD.run(x.length, dxHeap, wHeap, xHeap);
    MISH_BACKWARD.run(x.length, dxPlain, w, x);
    expect(Array.from(dxPlain)).toEqual(Array.from(dxHeap));
  });

  it('the quick run trains with mish and the built-in gelu and writes results.json and report.html', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tk-custom-layer-'));
    try {
      const result = await main({ epochs: 1, seed: 0, out, quick: true }) as { runs: { activation: string; testAccuracy: number }[] };
      expect(result.runs.map((r) => r.activation)).toEqual(['mish', 'gelu']);
      for (const r of result.runs) expect(r.testAccuracy).toBeGreaterThan(0.4); // chance is 0.1
      expect(existsSync(join(out, 'report.html'))).toBe(true);
      expect(existsSync(join(out, 'curves-mish.svg'))).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
