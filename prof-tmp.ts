import { WinogradConv } from './src/tensor/winograd.js';
import { heapFloat32 } from './src/runtime/heap.js';
import { setThreads } from './src/runtime/workers.js';
import { gemm } from './src/tensor/gemm.js';
import { WINOGRAD_FILTER, WINOGRAD_INPUT, WINOGRAD_OUTPUT, WINOGRAD_PACK } from './src/runtime/winograd-kernels.js';
setThreads(1);
const B = 32, C = 16, O = 16, H = 26;
for (const m of [2, 4] as const) {
  const e = new WinogradConv(B, C, O, H, H, 0, 0, m) as any;
  const x = heapFloat32(B * C * H * H).map(() => Math.random());
  const w = heapFloat32(O * C * 9).map(() => Math.random());
  const y = heapFloat32(B * O * 24 * 24);
  const t = (f: () => void) => { for (let i = 0; i < 5; i++) f(); let best = 1e9; for (let i = 0; i < 60; i++) { const t0 = performance.now(); f(); best = Math.min(best, performance.now() - t0); } return best.toFixed(3); };
  const a = m + 2, a2 = a * a, tiles = e.tilesH * e.tilesW, G = e.group;
  console.log('m', m, 'group', G, 'total', t(() => e.run(y, x, w, false, null, false)),
    'pack', t(() => WINOGRAD_PACK.runPlanes(G * 4, 1, e.xb, x, C, H, H, 0, 0, e.Hp, e.Wp, 0)),
    'input', t(() => WINOGRAD_INPUT.runPlanes(G * e.tilesH, 1, e.V, e.xb, e.scratch, m, 4, e.tilesH, e.tilesW, e.Hp, e.Wp, e.vSlot, 16)),
    'gemms', t(() => { for (let q = 0; q < a2; q++) gemm(e.mViews[q], e.vViews[q], e.uViews[q], G * tiles, 16, 16); }),
    'output', t(() => WINOGRAD_OUTPUT.runPlanes(G * e.tilesH, 1, y, e.M, e.biasPad, e.scratch, m, O, e.tilesH, e.tilesW, 24, 24, e.mSlot, 16, 0, 0)),
    'filter', t(() => WINOGRAD_FILTER.runPlanes(C * 4, 1, e.U, w, m, C, O, C * 9, 9, 0, e.uSlot, 16)));
}
