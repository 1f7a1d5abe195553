// Files in a web page (browser-safe; also runs in Node where the platform has the piece it needs): bytes
// from an ArrayBuffer, a typed array, a Blob/File, a Response or a URL; IDX, safetensors and model files
// read from those; a model saved to a download (Blob + object URL) or to IndexedDB by name.
import type { Split } from '../data/dataset.js';
import { decodeIdxAsync, IdxFormatError, type IdxArray } from '../data/idx.js';
import type { Sequential } from '../model/sequential.js';
import { Tensor } from '../tensor/tensor.js';
import { decodeModel, encodeModel, type LoadedModel, type SaveModelOptions } from './model-file.js';
import { decodeSafetensors, type SafetensorsContents } from './safetensors.js';

/**
 * Error thrown when bytes cannot be obtained or stored in the page: an unsupported source type, a
 * failed or non-2xx fetch, an unreadable Blob, a missing platform piece (no `document`, no
 * `indexedDB`), or an IndexedDB failure. `source` names what was being read or written.
 */
export class WebIoError extends Error {
  constructor(readonly source: string, problem: string) {
    super(`${source}: ${problem}`);
    this.name = 'WebIoError';
  }
}

/**
 * Where bytes can come from in a page: an `ArrayBuffer`, a typed array or `DataView` (its viewed
 * bytes), a `Blob` (a `File` is one), a fetch `Response`, or a URL (string or `URL`, fetched with the
 * platform's `fetch`, resolved against the page's address).
 */
export type ByteSource = ArrayBuffer | ArrayBufferView | Blob | Response | URL | string;

/** Options of the readers: `name` labels errors (default: the URL, the file's name, or `<bytes>`). */
export interface ReadOptions {
  readonly name?: string;
  /** Passed to `fetch` for a URL source (for example an AbortSignal or credentials). */
  readonly init?: RequestInit;
}

/** A short label for `source` in error messages. */
export function describeSource(source: unknown): string {
  if (typeof source === 'string') return source.length > 200 ? `${source.slice(0, 199)}…` : source;
  if (source instanceof URL) return source.href;
  if (typeof Blob === 'function' && source instanceof Blob) {
    const name = (source as { name?: unknown }).name;
    return typeof name === 'string' && name !== '' ? name : '<blob>';
  }
  if (typeof Response === 'function' && source instanceof Response) return source.url || '<response>';
  return '<bytes>';
}

/** The body of a response, or a {@link WebIoError} naming its status. */
async function responseBytes(response: Response, name: string): Promise<Uint8Array> {
  if (!response.ok) throw new WebIoError(name, `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
  try {
    return new Uint8Array(await response.arrayBuffer());
  } catch (err) {
    throw new WebIoError(name, `reading the response body failed (${(err as Error).message})`);
  }
}

/**
 * The bytes of `source` (see {@link ByteSource}). An `ArrayBuffer` or view is returned as a view of
 * the same memory (no copy); a Blob, Response or URL is read whole. Throws {@link WebIoError} for an
 * unsupported source, a network failure or a non-2xx status (the message names the URL and status).
 */
export async function readBytes(source: ByteSource, options: ReadOptions = {}): Promise<Uint8Array> {
  const name = options.name ?? describeSource(source);
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (typeof SharedArrayBuffer === 'function' && (source as unknown) instanceof SharedArrayBuffer) return new Uint8Array(source as unknown as SharedArrayBuffer);
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  if (typeof Blob === 'function' && source instanceof Blob) {
    try {
      return new Uint8Array(await source.arrayBuffer());
    } catch (err) {
      throw new WebIoError(name, `reading the file failed (${(err as Error).message})`);
    }
  }
  if (typeof Response === 'function' && source instanceof Response) return responseBytes(source, name);
  if (typeof source === 'string' || source instanceof URL) {
    if (typeof fetch !== 'function') throw new WebIoError(name, 'this platform has no fetch() to load a URL');
    let response: Response;
    try {
      response = await fetch(source, options.init);
    } catch (err) {
      throw new WebIoError(name, `fetch failed (${(err as Error).message})`);
    }
    return responseBytes(response, name);
  }
  const what = source === null ? 'null' : typeof source === 'object' ? (source as object).constructor?.name ?? 'object' : typeof source;
  throw new WebIoError(name, `cannot read bytes from ${what}: pass an ArrayBuffer, a typed array, a Blob/File, a Response or a URL`);
}

/** An IDX file (raw or gzipped) from any {@link ByteSource}; throws {@link WebIoError} or {@link IdxFormatError}. */
export async function loadIdxFrom(source: ByteSource, options: ReadOptions = {}): Promise<IdxArray> {
  const name = options.name ?? describeSource(source);
  return decodeIdxAsync(await readBytes(source, { ...options, name }), name);
}

/** Options of {@link loadIdxSplit}. */
export interface IdxSplitOptions extends ReadOptions {
  /** Keep only the first `limit` examples (an integer ≥ 1; default all). */
  readonly limit?: number;
}

/**
 * An image-classification split from two IDX files, as the Node dataset loader makes it: uint8
 * images `[N, H, W]` become float32 `[N, 1, H, W]` scaled to [0, 1] (value / 255), uint8 labels
 * `[N]` become float32 class ids. Both files are read in parallel. Throws {@link IdxFormatError}
 * naming the file when the types or counts do not fit, {@link WebIoError} when a file cannot be read.
 */
export async function loadIdxSplit(images: ByteSource, labels: ByteSource, options: IdxSplitOptions = {}): Promise<Split> {
  const limit = options.limit;
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) throw new RangeError(`loadIdxSplit: limit must be an integer ≥ 1, got ${limit}`);
  const imageName = describeSource(images);
  const labelName = describeSource(labels);
  const [img, lbl] = await Promise.all([
    loadIdxFrom(images, { init: options.init, name: imageName }),
    loadIdxFrom(labels, { init: options.init, name: labelName }),
  ]);
  if (img.dtype !== 'uint8' || img.shape.length !== 3) throw new IdxFormatError(imageName, `expected uint8 images [N, H, W], got ${img.dtype} [${img.shape.join(', ')}]`);
  if (lbl.dtype !== 'uint8' || lbl.shape.length !== 1) throw new IdxFormatError(labelName, `expected uint8 labels [N], got ${lbl.dtype} [${lbl.shape.join(', ')}]`);
  if (lbl.shape[0] !== img.shape[0]) throw new IdxFormatError(labelName, `${lbl.shape[0]} labels for ${img.shape[0]} images in ${imageName}`);
  const n = Math.min(img.shape[0], limit ?? Infinity);
  const [, height, width] = img.shape;
  const per = height * width;
  const pixels = new Float32Array(n * per);
  const src = img.data;
  for (let i = 0; i < n * per; i++) pixels[i] = src[i] / 255;
  const ids = new Float32Array(n);
  for (let i = 0; i < n; i++) ids[i] = lbl.data[i];
  return { images: new Tensor(pixels, [n, 1, height, width]), labels: new Tensor(ids, [n]) };
}

/** A safetensors file from any {@link ByteSource}; throws {@link WebIoError} or `SafetensorsError`. */
export async function loadSafetensorsFrom(source: ByteSource, options: ReadOptions = {}): Promise<SafetensorsContents> {
  const name = options.name ?? describeSource(source);
  return decodeSafetensors(await readBytes(source, { ...options, name }), name);
}

/**
 * A tensorkit model file (architecture, weights, optionally optimizer and training state) from any
 * {@link ByteSource}; see `decodeModel`. Throws {@link WebIoError}, `SafetensorsError` or `ModelFileError`.
 */
export async function loadModelFrom(source: ByteSource, options: ReadOptions = {}): Promise<LoadedModel> {
  const name = options.name ?? describeSource(source);
  return decodeModel(await readBytes(source, { ...options, name }), name);
}

/** The MIME type given to model-file Blobs (a model file is a safetensors file). */
export const MODEL_MIME_TYPE = 'application/octet-stream';

/** A model file (see `encodeModel`) as a Blob, ready for a download link or an upload. */
export function modelToBlob(model: Sequential, options: SaveModelOptions = {}): Blob {
  if (typeof Blob !== 'function') throw new WebIoError('<model>', 'this platform has no Blob');
  return new Blob([encodeModel(model, options) as Uint8Array<ArrayBuffer>], { type: MODEL_MIME_TYPE });
}

/** The part of a page's `document` a download needs (declared here: the core compiles without DOM types). */
interface DownloadDocument {
  createElement(tag: 'a'): { href: string; download: string; rel: string; style: { display: string }; click(): void; remove(): void };
  body: { appendChild(node: unknown): unknown } | null;
}

/**
 * Offers `data` (a Blob, or bytes) to the user as a file download named `filename`: an object URL on
 * a hidden link, clicked, then revoked. Needs a page (`document`); in a worker, send the bytes to the
 * page and call it there. Throws {@link WebIoError} without a `document` or for an empty file name.
 */
export function downloadBytes(data: Blob | Uint8Array, filename: string): void {
  if (typeof filename !== 'string' || filename.trim() === '' || /[/\\]/.test(filename)) {
    throw new WebIoError('<download>', `filename must be a non-empty name without / or \\, got ${JSON.stringify(filename)}`);
  }
  const doc = (globalThis as { document?: DownloadDocument }).document;
  if (doc === undefined || doc.body === null) throw new WebIoError(filename, 'a download needs a page (document.body); in a worker, post the bytes to the page and download there');
  const blob = data instanceof Uint8Array ? new Blob([data as Uint8Array<ArrayBuffer>], { type: MODEL_MIME_TYPE }) : data;
  const url = URL.createObjectURL(blob);
  const link = doc.createElement('a');
  link.href = url;
  link.download = filename;
  link.rel = 'noopener';
  link.style.display = 'none';
  doc.body.appendChild(link);
  try {
    link.click();
  } finally {
    link.remove();
    // The click has handed the URL to the download machinery; revoking on the next task is safe.
    setTimeout(() => URL.revokeObjectURL(url), 0);
  }
}

/** Saves `model` as a model file download named `filename` (default `model.safetensors`); see {@link downloadBytes}. */
export function downloadModel(model: Sequential, filename = 'model.safetensors', options: SaveModelOptions = {}): void {
  downloadBytes(modelToBlob(model, options), filename);
}

// ---------------------------------------------------------------------------------------------------
// IndexedDB: one object store of model files keyed by name. The structural types below are the few
// pieces used (the core compiles without DOM types); every request is wrapped into a promise.

interface IdbRequest<T> {
  result: T;
  error: { name: string; message: string } | null;
  onsuccess: (() => void) | null;
  onerror: ((event: { preventDefault(): void }) => void) | null;
}
interface IdbOpenRequest extends IdbRequest<IdbDatabase> {
  onupgradeneeded: (() => void) | null;
  onblocked: (() => void) | null;
}
interface IdbStore {
  put(value: unknown): IdbRequest<unknown>;
  get(key: string): IdbRequest<unknown>;
  getAll(): IdbRequest<unknown[]>;
  delete(key: string): IdbRequest<undefined>;
  count(key: string): IdbRequest<number>;
}
interface IdbTransaction {
  objectStore(name: string): IdbStore;
  oncomplete: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
  error: { name: string; message: string } | null;
}
interface IdbDatabase {
  objectStoreNames: { contains(name: string): boolean };
  createObjectStore(name: string, options: { keyPath: string }): unknown;
  transaction(store: string, mode: 'readonly' | 'readwrite'): IdbTransaction;
  close(): void;
}
interface IdbFactory {
  open(name: string, version: number): IdbOpenRequest;
}

/** The IndexedDB database used unless an option names another. */
export const INDEXEDDB_DATABASE = 'tensorkit';
/** The object store holding the model files. */
const MODEL_STORE = 'models';
/** The longest model name accepted (names are keys shown in lists, not documents). */
export const INDEXEDDB_MAX_NAME = 200;

/** Options of the IndexedDB functions. */
export interface IndexedDbOptions {
  /** Database name (default {@link INDEXEDDB_DATABASE}). */
  readonly database?: string;
}

/** One saved model as {@link listIndexedDbModels} reports it. */
export interface StoredModelInfo {
  readonly name: string;
  /** Size of the model file in bytes. */
  readonly bytes: number;
  /** When it was saved, as an ISO 8601 string. */
  readonly savedAt: string;
}

/** The record stored per model. */
interface StoredModel extends StoredModelInfo {
  readonly data: Uint8Array;
}

function checkName(name: unknown, what: string): string {
  if (typeof name !== 'string' || name.trim() === '' || name.length > INDEXEDDB_MAX_NAME) {
    throw new WebIoError(`IndexedDB ${what}`, `model name must be a non-empty string of at most ${INDEXEDDB_MAX_NAME} characters, got ${typeof name === 'string' ? JSON.stringify(name.slice(0, 40)) : typeof name}`);
  }
  return name;
}

function request<T>(req: IdbRequest<T>, label: string): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = (event) => {
      // Handled here: without preventDefault the failure would also abort the transaction loudly.
      event.preventDefault();
      reject(new WebIoError(label, `IndexedDB request failed (${req.error?.name ?? 'Error'}: ${req.error?.message ?? 'unknown'})`));
    };
  });
}

async function openDatabase(options: IndexedDbOptions, label: string): Promise<IdbDatabase> {
  const factory = (globalThis as { indexedDB?: IdbFactory }).indexedDB;
  if (factory === undefined) throw new WebIoError(label, 'this platform has no IndexedDB (a browser page or worker has one; Node does not)');
  const database = options.database ?? INDEXEDDB_DATABASE;
  if (typeof database !== 'string' || database === '') throw new WebIoError(label, `database must be a non-empty string, got ${JSON.stringify(database)}`);
  let req: IdbOpenRequest;
  try {
    req = factory.open(database, 1);
  } catch (err) {
    throw new WebIoError(label, `cannot open IndexedDB database "${database}" (${(err as Error).message})`);
  }
  req.onupgradeneeded = () => {
    if (!req.result.objectStoreNames.contains(MODEL_STORE)) req.result.createObjectStore(MODEL_STORE, { keyPath: 'name' });
  };
  // Another tab holding an older version open delays the upgrade; say so rather than wait silently.
  const blocked = new Promise<never>((_, reject) => {
    req.onblocked = () => reject(new WebIoError(label, `IndexedDB database "${database}" is blocked by another open tab; close it and retry`));
  });
  return Promise.race([request(req, `${label} (database "${database}")`), blocked]);
}

/** Runs `body` in one transaction on the model store and resolves when the transaction has committed. */
async function withStore<T>(options: IndexedDbOptions, mode: 'readonly' | 'readwrite', label: string, body: (store: IdbStore) => Promise<T>): Promise<T> {
  const db = await openDatabase(options, label);
  try {
    const tx = db.transaction(MODEL_STORE, mode);
    const done = new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onabort = () => reject(new WebIoError(label, `IndexedDB transaction aborted (${tx.error?.name ?? 'AbortError'}: ${tx.error?.message ?? 'no reason given'})`));
    });
    const [result] = await Promise.all([body(tx.objectStore(MODEL_STORE)), done]);
    return result;
  } finally {
    db.close();
  }
}

/**
 * Saves `model` (and, with `options.optimizer` / `trainingState`, what `encodeModel` saves beside it)
 * in IndexedDB under `name`, replacing a model saved under that name. Resolves with the stored entry.
 * Throws {@link WebIoError} without IndexedDB, for a bad name or when the write fails (quota).
 */
export async function saveModelToIndexedDb(name: string, model: Sequential, options: SaveModelOptions & IndexedDbOptions = {}): Promise<StoredModelInfo> {
  const label = `IndexedDB save "${checkName(name, 'save')}"`;
  const data = encodeModel(model, options);
  const record: StoredModel = { name, bytes: data.length, savedAt: new Date().toISOString(), data };
  await withStore(options, 'readwrite', label, (store) => request(store.put(record), label));
  return { name: record.name, bytes: record.bytes, savedAt: record.savedAt };
}

/** The model-file bytes saved under `name`; throws {@link WebIoError} naming the saved models when there is none. */
export async function readIndexedDbModel(name: string, options: IndexedDbOptions = {}): Promise<Uint8Array> {
  const label = `IndexedDB model "${checkName(name, 'load')}"`;
  const found = await withStore(options, 'readonly', label, async (store) => {
    const record = (await request(store.get(name), label)) as StoredModel | undefined;
    if (record !== undefined) return record;
    const all = (await request(store.getAll(), label)) as StoredModel[];
    return all.map((r) => r.name);
  });
  if (Array.isArray(found)) {
    const known = found.length === 0 ? 'none is saved' : `saved: ${found.slice(0, 20).map((n) => JSON.stringify(n)).join(', ')}${found.length > 20 ? ', …' : ''}`;
    throw new WebIoError(label, `no model saved under this name (${known})`);
  }
  if (!(found.data instanceof Uint8Array)) throw new WebIoError(label, 'the stored entry holds no model-file bytes (written by something else?)');
  return found.data;
}

/** Loads the model saved under `name` (see `decodeModel`); throws {@link WebIoError} when there is none. */
export async function loadModelFromIndexedDb(name: string, options: IndexedDbOptions = {}): Promise<LoadedModel> {
  const bytes = await readIndexedDbModel(name, options);
  return decodeModel(bytes, `IndexedDB model "${name}"`);
}

/** The models saved in IndexedDB, sorted by name (an empty list when none is). */
export async function listIndexedDbModels(options: IndexedDbOptions = {}): Promise<StoredModelInfo[]> {
  const label = 'IndexedDB list';
  const all = await withStore(options, 'readonly', label, async (store) => (await request(store.getAll(), label)) as StoredModel[]);
  return all
    .map((r) => ({ name: r.name, bytes: r.bytes, savedAt: r.savedAt }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Deletes the model saved under `name`; resolves true when one was deleted, false when none was saved. */
export async function deleteIndexedDbModel(name: string, options: IndexedDbOptions = {}): Promise<boolean> {
  const label = `IndexedDB delete "${checkName(name, 'delete')}"`;
  return withStore(options, 'readwrite', label, async (store) => {
    const existed = (await request(store.count(name), label)) > 0;
    if (existed) await request(store.delete(name), label);
    return existed;
  });
}
