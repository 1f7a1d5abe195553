// The heap past 2 GiB: byte addresses above 2³¹ must stay unsigned on the JavaScript side (views,
// descriptors, task arguments), so kernels, gemm and the conv engine work on arrays there, on one
// thread and on two. Runs in a child process (it grows a WebAssembly memory to ~2.4 GiB).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;
const SRC = (file: string): string => JSON.stringify(`${ROOT}src/${file}`);

describe('the shared heap past 2 GiB', () => {
  it('runs kernels, gemm and Conv2D on arrays whose addresses are above 2³¹, with the bits of ordinary arrays', () => {
    const script = `
      const { heapFloat32, heapStats } = await import(${SRC('runtime/heap.ts')});
      const { SGD, ADAM } = await import(${SRC('runtime/kernel-table.ts')});
      const { setThreads } = await import(${SRC('runtime/workers.ts')});
      const { gemm } = await import(${SRC('tensor/gemm.ts')});
      const { Conv2D } = await import(${SRC('layers/index.ts')});
      const { Rng } = await import(${SRC('tensor/rng.ts')});
      const { Tensor } = await import(${SRC('tensor/tensor.ts')});
      const filler = heapFloat32(540 * 1024 * 1024); // 2.16 GB: what follows lives above 2^31
      const out = [];
      for (const threads of [1, 2]) {
        setThreads(threads);
        const n = 300000;
        const p = heapFloat32(n), g = heapFloat32(n), m = heapFloat32(n), v = heapFloat32(n);
        out.push(p.byteOffset > 2 ** 31);
        for (let i = 0; i < n; i++) { p[i] = Math.sin(i); g[i] = Math.cos(i) * 1e-2; }
        const [pp, gp, mp, vp] = [Float32Array.from(p), Float32Array.from(g), new Float32Array(n), new Float32Array(n)];
        SGD.run(n, p, g, 0.1); SGD.run(n, pp, gp, 0.1);
        ADAM.run(n, p, g, m, v, 0.9, 0.999, 0.1, 0.001, 1e-8, 0.01, 1.5);
        ADAM.run(n, pp, gp, mp, vp, 0.9, 0.999, 0.1, 0.001, 1e-8, 0.01, 1.5);
        out.push(p.every((x, i) => Object.is(x, pp[i])) && m.every((x, i) => Object.is(x, mp[i])));
        const [M, N, K] = [64, 200, 300];
        const a = heapFloat32(M * K), b = heapFloat32(K * N), c = heapFloat32(M * N);
        for (let i = 0; i < a.length; i++) a[i] = Math.sin(i);
        for (let i = 0; i < b.length; i++) b[i] = Math.cos(i);
        gemm(c, a, b, M, N, K);
        const cp = gemm(new Float32Array(M * N), Float32Array.from(a), Float32Array.from(b), M, N, K);
        out.push(c.every((x, i) => Object.is(x, cp[i])));
        const conv = new Conv2D({ filters: 8, kernelSize: 3, padding: 1 });
        conv.build([3, 12, 12], new Rng(1));
        const x = new Tensor(Float32Array.from({ length: 4 * 3 * 144 }, (_, i) => Math.sin(i)), [4, 3, 12, 12]);
        const y = Float32Array.from(conv.forward(x, true).data);
        const dy = new Tensor(Float32Array.from({ length: y.length }, (_, i) => Math.cos(i)), [4, 8, 12, 12]);
        const dx = Float32Array.from(conv.backward(dy).data);
        out.push(conv.params()[0].value.data.byteOffset > 2 ** 31, y.every(Number.isFinite), dx.every(Number.isFinite));
        out.push(JSON.stringify([y[0], y[y.length - 1], dx[0], dx[dx.length - 1]].map((v) => Math.round(v * 1e5))));
      }
      out.push(filler.length > 0, heapStats().arenaBytes > 2 ** 31);
      console.log(JSON.stringify(out));
    `;
    const result = spawnSync(process.execPath, ['--no-warnings', '--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, TENSORKIT_THREADS: '2' },
    });
    expect(result.status, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout.trim()) as unknown[];
    // [above, kernels equal, gemm equal, conv params above, y finite, dx finite, summary] per thread count, then filler and arena.
    expect(out.slice(0, 6)).toEqual([true, true, true, true, true, true]);
    expect(out.slice(7, 13)).toEqual([true, true, true, true, true, true]);
    expect(out[6]).toBe(out[13]); // the conv's bits do not depend on the thread count
    expect(out.slice(14)).toEqual([true, true]);
  }, 180_000);
});
