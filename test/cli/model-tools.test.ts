import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { Conv2D, Dense, Flatten, ReLU, saveModel, Sequential } from '../../src/index.js';
import { captureIo } from '../util/capture-io.js';

describe('tensorkit summary / export-onnx', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tk-tools-'));
  const path = join(dir, 'model.safetensors');
  const model = new Sequential([new Conv2D({ filters: 4, kernelSize: 3 }), new ReLU(), new Flatten(), new Dense({ units: 10 })], { inputShape: [1, 8, 8] });
  model.compile({ optimizer: 'adam', loss: 'cross-entropy' });
  saveModel(model, path, { optimizer: model.optimizer!, trainingState: { epoch: 3, step: 120 } });

  it('summary prints the layers with FLOPs and what the file holds', async () => {
    const io = captureIo();
    expect(await main(['summary', path], io)).toBe(0);
    // conv: 4·1·3·3 + 4 = 40 params; forward FLOPs 6·6·4·(2·9) + 6·6·4 (bias) = 2736.
    expect(io.out()).toMatch(/conv2d/);
    expect(io.out()).toMatch(/2,736|2736/);
    expect(io.out()).toMatch(/optimizer: adam/);
    expect(io.out()).toMatch(/training position: epoch 3, step 120/);
  });

  it('export-onnx writes an ONNX file', async () => {
    const io = captureIo();
    const out = join(dir, 'model.onnx');
    expect(await main(['export-onnx', path, out], io)).toBe(0);
    expect(existsSync(out)).toBe(true);
    expect(readFileSync(out).length).toBeGreaterThan(1000);
  });

  it('fails cleanly on bad usage and bad files', async () => {
    const io = captureIo();
    expect(await main(['summary'], io)).toBe(2);
    expect(io.err()).toMatch(/expected one model file, got 0 arguments/);
    const bad = join(dir, 'bad.safetensors');
    writeFileSync(bad, 'not a model');
    const io2 = captureIo();
    expect(await main(['summary', bad], io2)).toBe(1);
    expect(io2.err()).toMatch(/bad\.safetensors/);
    const io3 = captureIo();
    expect(await main(['export-onnx', path], io3)).toBe(2);
  });
});
