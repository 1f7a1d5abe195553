// io/web.ts in Node: bytes from every source kind (ArrayBuffer, views, Blob/File, Response, a URL on a
// local HTTP server), the vendored Fashion-MNIST read through them, model files and safetensors from
// Blobs, and the typed errors (bad source, HTTP status, no document, no IndexedDB). IndexedDB itself is
// exercised in Chromium by test/browser/demo.test.ts.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tk from '../../src/browser.js';
import { locateDataset, readIdx } from '../../src/node.js';

const dataDir = locateDataset('fashion-mnist');
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const name = (req.url ?? '').slice(1);
    if (name === 'broken') {
      res.writeHead(500, 'Boom').end();
      return;
    }
    if (!/^t10k-(images|labels)-idx\d-ubyte\.gz$/.test(name)) {
      res.writeHead(404, 'Not Found').end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(readFileSync(join(dataDir, name)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('readBytes', () => {
  const bytes = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);

  it('reads ArrayBuffers and views without copying, and Blobs, Files and Responses whole', async () => {
    expect(await tk.readBytes(bytes)).toBe(bytes);
    const fromBuffer = await tk.readBytes(bytes.buffer);
    expect(fromBuffer.buffer).toBe(bytes.buffer);
    expect(Array.from(fromBuffer)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // A view's own bytes, not its whole buffer: offset 2, 4 bytes.
    expect(Array.from(await tk.readBytes(new DataView(bytes.buffer, 2, 4)))).toEqual([3, 4, 5, 6]);
    expect(Array.from(await tk.readBytes(new Uint16Array(bytes.buffer, 4, 2)))).toEqual([5, 6, 7, 8]);
    expect(Array.from(await tk.readBytes(new Blob([bytes.subarray(1, 3)])))).toEqual([2, 3]);
    expect(Array.from(await tk.readBytes(new File([bytes], 'x.bin')))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(await tk.readBytes(new Response(bytes)))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('fetches URLs (string or URL) and names the URL and status when the server says no', async () => {
    const labels = await tk.readBytes(`${base}t10k-labels-idx1-ubyte.gz`);
    expect(Array.from(labels)).toEqual(Array.from(readFileSync(join(dataDir, 't10k-labels-idx1-ubyte.gz'))));
    expect((await tk.readBytes(new URL('t10k-labels-idx1-ubyte.gz', base))).length).toBe(labels.length);
    await expect(tk.readBytes(`${base}missing.gz`)).rejects.toThrow(new tk.WebIoError(`${base}missing.gz`, 'HTTP 404 Not Found'));
    await expect(tk.readBytes(`${base}broken`)).rejects.toThrow(`${base}broken: HTTP 500 Boom`);
    const refused = `http://127.0.0.1:1/nothing-listens-here`;
    await expect(tk.readBytes(refused)).rejects.toThrow(/^http:\/\/127\.0\.0\.1:1\/nothing-listens-here: fetch failed/);
    await expect(tk.readBytes(refused)).rejects.toBeInstanceOf(tk.WebIoError);
  });

  it('rejects what is not a byte source with a typed error saying what to pass', async () => {
    for (const bad of [42, null, { length: 3 }, [1, 2, 3]]) {
      const err = await tk.readBytes(bad as unknown as tk.ByteSource).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(tk.WebIoError);
      expect((err as Error).message).toMatch(/cannot read bytes from (number|null|Object|Array): pass an ArrayBuffer, a typed array, a Blob\/File, a Response or a URL$/);
    }
    await expect(tk.readBytes(new Uint8Array(0), { name: 'given.bin' })).resolves.toHaveLength(0);
  });
});

describe('IDX, safetensors and model files from web sources', () => {
  it('loadIdxSplit reads the gzipped test split over HTTP exactly as the Node loader reads it from disk', async () => {
    const split = await tk.loadIdxSplit(`${base}t10k-images-idx3-ubyte.gz`, `${base}t10k-labels-idx1-ubyte.gz`, { limit: 500 });
    // Node's dataset loader scales the same way (src/data/datasets.ts): v / 255, labels as floats.
    const images = readIdx(join(dataDir, 't10k-images-idx3-ubyte.gz'));
    const labels = readIdx(join(dataDir, 't10k-labels-idx1-ubyte.gz'));
    expect(split.images.shape).toEqual([500, 1, 28, 28]);
    expect(split.labels.shape).toEqual([500]);
    expect(split.images.data).toEqual(Float32Array.from(images.data.subarray(0, 500 * 784), (v) => v / 255));
    expect(split.labels.data).toEqual(Float32Array.from(labels.data.subarray(0, 500)));
    // Hand check: pixel value v is stored as v / 255; the first label of the test set is 9 (ankle boot).
    expect(split.labels.data[0]).toBe(9);
    const raw = await tk.loadIdxFrom(new Blob([readFileSync(join(dataDir, 't10k-images-idx3-ubyte.gz'))]));
    expect(raw.shape).toEqual([10000, 28, 28]);
    expect(raw.data[300]).toBeGreaterThan(0);
    expect(split.images.data[300]).toBe(Math.fround(raw.data[300] / 255));
  });

  it('loadIdxSplit names the file whose type or count is wrong, and checks the limit', async () => {
    await expect(tk.loadIdxSplit(`${base}t10k-labels-idx1-ubyte.gz`, `${base}t10k-labels-idx1-ubyte.gz`)).rejects.toThrow(
      `${base}t10k-labels-idx1-ubyte.gz: expected uint8 images [N, H, W], got uint8 [10000]`,
    );
    const fewLabels = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2, 3, 4]);
    await expect(tk.loadIdxSplit(`${base}t10k-images-idx3-ubyte.gz`, new File([fewLabels], 'few.idx'))).rejects.toThrow(
      `few.idx: 2 labels for 10000 images in ${base}t10k-images-idx3-ubyte.gz`,
    );
    await expect(tk.loadIdxSplit(fewLabels, fewLabels, { limit: 0 })).rejects.toThrow('loadIdxSplit: limit must be an integer ≥ 1, got 0');
    await expect(tk.loadIdxSplit(`${base}nope`, fewLabels)).rejects.toThrow(`${base}nope: HTTP 404`);
  });

  it('loadModelFrom and loadSafetensorsFrom read a Blob made by modelToBlob: same predictions, same tensors', async () => {
    const model = new tk.Sequential([new tk.Dense({ units: 5 }), new tk.ReLU(), new tk.Dense({ units: 3 })], { inputShape: [4], seed: 2 });
    const blob = tk.modelToBlob(model);
    expect(blob.type).toBe(tk.MODEL_MIME_TYPE);
    expect(blob.size).toBe(tk.encodeModel(model).length);
    const x = tk.randn([6, 4], new tk.Rng(5));
    const { model: loaded } = await tk.loadModelFrom(new File([blob], 'm.safetensors'));
    expect(loaded.predict(x).data).toEqual(model.predict(x).data);
    const { tensors } = await tk.loadSafetensorsFrom(blob);
    expect(Object.keys(tensors)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(tensors['2.weight'].data).toEqual(model.stateDict()['2.weight'].data);
    // Errors of the decoders name the file they came from.
    await expect(tk.loadModelFrom(new File([new Uint8Array(4)], 'short.safetensors'))).rejects.toThrow(/^short\.safetensors: /);
    await expect(tk.loadModelFrom(new File([new Uint8Array(4)], 'short.safetensors'))).rejects.toBeInstanceOf(tk.SafetensorsError);
  });
});

describe('downloads and IndexedDB outside a page', () => {
  const model = new tk.Sequential([new tk.Dense({ units: 2 })], { inputShape: [3], seed: 1 });

  it('a download needs a document and a plain file name', () => {
    expect(() => tk.downloadModel(model, 'net.safetensors')).toThrow(new tk.WebIoError('net.safetensors', 'a download needs a page (document.body); in a worker, post the bytes to the page and download there'));
    expect(() => tk.downloadBytes(new Uint8Array(1), '')).toThrow('<download>: filename must be a non-empty name without / or \\, got ""');
    expect(() => tk.downloadBytes(new Uint8Array(1), '../x')).toThrow(/filename must be a non-empty name without/);
  });

  it('a download clicks a link to an object URL of the bytes, then removes the link', async () => {
    const clicked: { href: string; download: string; bytes: Promise<ArrayBuffer> }[] = [];
    const appended: unknown[] = [];
    const g = globalThis as { document?: unknown };
    g.document = {
      body: { appendChild: (node: unknown) => appended.push(node) },
      createElement: () => {
        const link = {
          href: '', download: '', rel: '', style: { display: '' }, removed: false,
          click() {
            // Node can resolve blob: URLs, so the test reads back what the link points at.
            clicked.push({ href: link.href, download: link.download, bytes: fetch(link.href).then((r) => r.arrayBuffer()) });
          },
          remove() {
            link.removed = true;
          },
        };
        return link;
      },
    };
    try {
      tk.downloadModel(model, 'net.safetensors');
    } finally {
      delete g.document;
    }
    expect(clicked).toHaveLength(1);
    expect(clicked[0].download).toBe('net.safetensors');
    expect(clicked[0].href).toMatch(/^blob:/);
    expect(new Uint8Array(await clicked[0].bytes)).toEqual(tk.encodeModel(model));
    expect((appended[0] as { removed: boolean }).removed).toBe(true);
  });

  it('IndexedDB functions say there is none, and check names before anything else', async () => {
    await expect(tk.listIndexedDbModels()).rejects.toThrow('IndexedDB list: this platform has no IndexedDB (a browser page or worker has one; Node does not)');
    await expect(tk.saveModelToIndexedDb('a', model)).rejects.toBeInstanceOf(tk.WebIoError);
    await expect(tk.loadModelFromIndexedDb('')).rejects.toThrow('IndexedDB load: model name must be a non-empty string of at most 200 characters, got ""');
    await expect(tk.deleteIndexedDbModel('x'.repeat(201))).rejects.toThrow(/model name must be a non-empty string of at most 200 characters/);
  });
});
