// Plugins at built-in speed: a Lion optimizer and a GELU layer written only with the public kit (as a
// user would; the GELU is now the built-in 'gelu', which the library writes with that same kit: BaseOptimizer + defineElementwise, Activation + defineElementwise) against the built-in
// adam and tanh, in one run, on 1 thread and on all threads alternately; ratios first. Also Lion as a
// plain TypeScript loop, what a plugin ran before the kit opened. 1.86M parameters (the issue's
// measurement), activations [256, 4096]. Writes bench/results/plugins.json.
// Usage: npx tsx bench/plugins.ts [--quick]
import { BaseOptimizer, createOptimizer, readBaseConfig, Rng, setThreads, availableCores, Gelu, Tanh, Tensor, type Layer, type Param } from 'tensorkit';
import { defineElementwise, heapFloat32 } from 'tensorkit/plugin';
import { header, QUICK, Table, time, writeResults } from './lib/harness.js';

const PARAMS = 1_860_000;
const BATCH = 256;
const FEATURES = QUICK ? 1024 : 4096;

/** Lion (Chen et al. 2023): c = β1·m + (1 − β1)·g; p ← p·(1 − lr·λ) − lr·sign(c); m ← β2·m + (1 − β2)·g. */
const LION_UPDATE = defineElementwise({
  name: 'bench-lion',
  arrays: ['p', 'g', 'm'],
  scalars: ['lr', 'beta1', 'c1', 'beta2', 'c2'],
  body: ({ p, g, m }, { lr, beta1, c1, beta2, c2 }) => ({
    p: p.sub(m.mul(beta1).add(g.mul(c1)).sign().mul(lr)),
    m: m.mul(beta2).add(g.mul(c2)),
  }),
});

class Lion extends BaseOptimizer<'m'> {
  readonly kind = 'lion';
  constructor(private readonly plain: boolean) {
    super({ ...readBaseConfig('lion', { lr: 1e-4 }, 1e-4, true), slots: ['m'] });
  }
  protected update(p: Float32Array, g: Float32Array, slots: Record<'m', Float32Array>): void {
    const [b1, b2] = [0.9, 0.99];
    if (!this.plain) {
      LION_UPDATE.run(p.length, p, g, slots.m, this.lr, b1, 1 - b1, b2, 1 - b2);
      return;
    }
    const m = slots.m;
    for (let i = 0; i < p.length; i++) {
      const c = b1 * m[i] + (1 - b1) * g[i];
      p[i] -= this.lr * Math.sign(c);
      m[i] = b2 * m[i] + (1 - b2) * g[i];
    }
  }
  getConfig(): Record<string, number> {
    return { lr: this.lr };
  }
}

function params(rng: Rng, heap: boolean): Param[] {
  const make = (scale: number): Tensor => {
    const a = heap ? heapFloat32(PARAMS) : new Float32Array(PARAMS);
    for (let i = 0; i < PARAMS; i++) a[i] = scale * (2 * rng.next() - 1);
    return new Tensor(a, [PARAMS]);
  };
  return [{ name: 'w', value: make(1), grad: make(1e-3) }];
}

function layerStep(layer: Layer, x: Tensor, dy: Tensor): () => void {
  return () => {
    layer.forward(x, true);
    layer.backward(dy);
  };
}

const threadCounts = availableCores() > 1 ? [1, availableCores()] : [1];
const headerLine = header(`threads ${threadCounts.join(' and ')}`);
console.log(headerLine);
const rng = new Rng(11);
const cases: { name: string; unit: string; count: number; run: () => void }[] = [];
{
  const adam = createOptimizer('adam', { lr: 1e-4 });
  const p1 = params(rng, true);
  cases.push({ name: 'adam (built-in)', unit: 'param', count: PARAMS, run: () => adam.step(p1) });
  const lion = new Lion(false);
  const p2 = params(rng, true);
  cases.push({ name: 'lion (kit: defineElementwise)', unit: 'param', count: PARAMS, run: () => lion.step(p2) });
  const lionPlain = new Lion(true);
  const p3 = params(rng, false);
  cases.push({ name: 'lion (plain TypeScript loop)', unit: 'param', count: PARAMS, run: () => lionPlain.step(p3) });
  const x = new Tensor(heapFloat32(BATCH * FEATURES), [BATCH, FEATURES]);
  const dy = new Tensor(heapFloat32(BATCH * FEATURES), [BATCH, FEATURES]);
  for (let i = 0; i < x.size; i++) {
    x.data[i] = 6 * rng.next() - 3;
    dy.data[i] = 2 * rng.next() - 1;
  }
  for (const [name, layer] of [['tanh (built-in)', new Tanh()], ['gelu (kit: defineElementwise)', new Gelu()]] as const) {
    layer.build([FEATURES], rng);
    cases.push({ name: `${name} forward+backward`, unit: 'element', count: BATCH * FEATURES, run: layerStep(layer, x, dy) });
    cases.push({ name: `${name} forward`, unit: 'element', count: BATCH * FEATURES, run: () => layer.forward(x, false) });
  }
}

const table = new Table([['case', 44, 'l'], ['threads', 7, 'r'], ['median ms', 10, 'r'], ['min ms', 9, 'r'], ['ns/unit', 9, 'r']]);
const results: Record<string, number> = {};
const rows: Record<string, unknown>[] = [];
// Two alternating rounds; each case keeps its best median.
for (let round = 0; round < 2; round++) {
  for (const threads of threadCounts) {
    setThreads(threads);
    for (const c of cases) {
      const t = await time(c.run, { budgetMs: QUICK ? 300 : 1500 });
      const ns = (t.medianMs * 1e6) / c.count;
      const key = `${c.name} @${threads}`;
      if (results[key] === undefined || ns < results[key]) results[key] = ns;
      if (round === 1) {
        rows.push({ case: c.name, unit: c.unit, threads, medianMs: t.medianMs, minMs: t.minMs, nsPerUnit: results[key] });
        table.row([c.name, String(threads), t.medianMs.toFixed(3), t.minMs.toFixed(3), results[key].toFixed(3)]);
      }
    }
  }
}
const ratios: Record<string, number> = {};
console.log('\nratios (kit plugin / built-in, ns per unit; ≤ 1.2 is the target):');
for (const threads of threadCounts) {
  ratios[`lion/adam @${threads}`] = results[`lion (kit: defineElementwise) @${threads}`] / results[`adam (built-in) @${threads}`];
  ratios[`lion plain loop/adam @${threads}`] = results[`lion (plain TypeScript loop) @${threads}`] / results[`adam (built-in) @${threads}`];
  ratios[`gelu/tanh forward+backward @${threads}`] = results[`gelu (kit: defineElementwise) forward+backward @${threads}`] / results[`tanh (built-in) forward+backward @${threads}`];
  ratios[`gelu/tanh forward @${threads}`] = results[`gelu (kit: defineElementwise) forward @${threads}`] / results[`tanh (built-in) forward @${threads}`];
}
for (const [k, v] of Object.entries(ratios)) console.log(`  ${k.padEnd(40)} ${v.toFixed(2)}`);
writeResults('plugins', headerLine, { ratios, rows });
