import { Conv2D } from './src/layers/conv2d.js';
import { setConvAlgorithm } from './src/tensor/winograd.js';
import { Rng } from './src/tensor/rng.js';
import { Tensor } from './src/tensor/tensor.js';
function run(alg: any, cfg: any) {
  setConvAlgorithm(alg);
  const rng = new Rng(3);
  const l = new Conv2D({ filters: cfg.O, kernelSize: 3, padding: cfg.p });
  l.build([cfg.C, cfg.H, cfg.W], rng);
  const x = new Float32Array(cfg.B * cfg.C * cfg.H * cfg.W); for (let i = 0; i < x.length; i++) x[i] = rng.uniform(-1, 1);
  const y = l.forward(new Tensor(x, [cfg.B, cfg.C, cfg.H, cfg.W]), true);
  const dy = new Float32Array(y.size); for (let i = 0; i < dy.length; i++) dy[i] = rng.uniform(-1, 1);
  const dx = l.backward(new Tensor(dy, y.shape));
  return { y: Float32Array.from(y.data), dx: Float32Array.from(dx.data), dw: Float32Array.from(l.params()[0].grad.data) };
}
for (const cfg of [{B:1,C:1,O:1,H:5,W:5,p:0},{B:3,C:17,O:5,H:7,W:33,p:1},{B:2,C:3,O:17,H:2,W:1,p:2},{B:32,C:16,O:16,H:26,W:26,p:0}]) {
  const ref = run('im2col', cfg);
  for (const alg of ['winograd2','winograd4']) {
    const r = run(alg, cfg);
    const err = (a: Float32Array, b: Float32Array) => { let m = 0, s = 0; for (let i = 0; i < a.length; i++) { m = Math.max(m, Math.abs(a[i]-b[i])); s = Math.max(s, Math.abs(b[i])); } return m / s; };
    console.log(JSON.stringify(cfg), alg, 'y', err(r.y, ref.y).toExponential(2), 'dx', err(r.dx, ref.dx).toExponential(2), 'dw', err(r.dw, ref.dw).toExponential(2));
  }
}
