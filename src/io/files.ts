// The file-path side of io (Node only): safetensors, model files and ONNX read from and written to
// paths. Writes are atomic (see atomic.ts); the byte codecs they wrap are browser-safe.
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import type { Module } from '../model/module.js';
import type { Sequential } from '../model/sequential.js';
import type { Tensor } from '../tensor/tensor.js';
import { writeFileAtomic } from './atomic.js';
import { decodeModel, encodeModel, ModelFileError, trainingStateFromMetadata, type LoadedModel, type SaveModelOptions, type TrainingState } from './model-file.js';
import { encodeOnnx } from './onnx.js';
import { decodeHeader, decodeSafetensors, encodeSafetensors, SAFETENSORS_MAX_HEADER, SafetensorsError, type SafetensorsContents } from './safetensors.js';

/**
 * Writes float32 tensors to a safetensors file, atomically (temporary file, fsync, rename): a crash
 * mid-write leaves any previous file at `path` intact. See {@link encodeSafetensors} for the layout.
 */
export function saveSafetensors(path: string, tensors: Record<string, Tensor>, metadata?: Record<string, string>): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/** Reads a safetensors file and its `__metadata__`; every dtype is converted to float32. Throws {@link SafetensorsError}. */
export function readSafetensors(path: string): SafetensorsContents {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new SafetensorsError(path, `cannot read file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return decodeSafetensors(bytes, path);
}

/**
 * Reads only the `__metadata__` strings of a safetensors file: the 8-byte length and the JSON header,
 * not the tensor data (cheap even for a large file). The header gets the same checks as in
 * {@link decodeSafetensors} except the data offsets. Throws {@link SafetensorsError}.
 */
export function readSafetensorsMetadata(path: string): Record<string, string> {
  const fail = (problem: string): never => {
    throw new SafetensorsError(path, problem);
  };
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    return fail(`cannot read file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    const size = fstatSync(fd).size;
    const head = new Uint8Array(8);
    if (size < 8 || readSync(fd, head, 0, 8, 0) !== 8) fail(`file is ${size} bytes, too short for the 8-byte header length`);
    const view = new DataView(head.buffer);
    const lo = view.getUint32(0, true);
    const hi = view.getUint32(4, true);
    const headerLen = hi * 0x100000000 + lo;
    if (hi !== 0 || headerLen > SAFETENSORS_MAX_HEADER) fail(`header length ${headerLen} exceeds the limit of ${SAFETENSORS_MAX_HEADER} bytes`);
    if (headerLen > size - 8) fail(`header length ${headerLen} runs past the end of the file (${size} bytes)`);
    const header = new Uint8Array(8 + headerLen);
    header.set(head);
    let got = 0;
    while (got < headerLen) {
      const n = readSync(fd, header, 8 + got, headerLen - got, 8 + got);
      if (n === 0) fail(`file ended inside the ${headerLen}-byte header`);
      got += n;
    }
    return decodeHeader(header.subarray(8), fail).metadata;
  } finally {
    closeSync(fd);
  }
}

/** Reads a safetensors file as a record of name → float32 Tensor (for example a PyTorch state dict). */
export function loadSafetensors(path: string): Record<string, Tensor> {
  return readSafetensors(path).tensors;
}

/**
 * Saves a model (and optionally its optimizer and training position) to one file, atomically: the
 * bytes go to a temporary file in the same directory, which is fsynced and renamed over `path`, so
 * a crash or a kill at any moment leaves the previous file at `path` intact. Layout: {@link encodeModel}.
 */
export function saveModel(model: Sequential | Module, path: string, options: SaveModelOptions = {}): void {
  writeFileAtomic(path, encodeModel(model, options));
}

/**
 * Reads a model file written by {@link saveModel}. Throws {@link SafetensorsError} or {@link ModelFileError}.
 * The type parameter names what the file holds (default Sequential; `loadModel<Net>(path)` for a module file).
 */
export function loadModel<M extends Module = Sequential>(path: string): LoadedModel<M> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new ModelFileError(path, `cannot read file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return decodeModel<M>(bytes, path);
}

/**
 * Reads only the training state of a model file written by {@link saveModel}: the header is read,
 * no weights are loaded and nothing is built (cheap for a large file). `undefined` when the file has
 * none. Throws {@link SafetensorsError} or {@link ModelFileError}.
 */
export function readTrainingState(path: string): TrainingState | undefined {
  return trainingStateFromMetadata(readSafetensorsMetadata(path), path);
}

/** Writes {@link encodeOnnx}'s model to `path` (atomically). Load it with any ONNX runtime, e.g. onnxruntime-web. */
export function exportOnnx(model: Sequential | Module, path: string): void {
  writeFileAtomic(path, encodeOnnx(model));
}

