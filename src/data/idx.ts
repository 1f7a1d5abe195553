// IDX reader: the big-endian format of MNIST / Fashion-MNIST (raw or gzip), validated field by field.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** A decoded IDX array: element type, dimensions and the values (uint8 data stays a Uint8Array). */
export interface IdxArray {
  readonly dtype: 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';
  readonly shape: number[];
  readonly data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

/** Error thrown for a malformed IDX file; the message names the file and the problem. */
export class IdxFormatError extends Error {
  constructor(readonly source: string, problem: string) {
    super(`${source}: ${problem}`);
    this.name = 'IdxFormatError';
  }
}

const TYPES: Record<number, { dtype: IdxArray['dtype']; bytes: number }> = {
  0x08: { dtype: 'uint8', bytes: 1 },
  0x09: { dtype: 'int8', bytes: 1 },
  0x0b: { dtype: 'int16', bytes: 2 },
  0x0c: { dtype: 'int32', bytes: 4 },
  0x0d: { dtype: 'float32', bytes: 4 },
  0x0e: { dtype: 'float64', bytes: 8 },
};

/** The largest element count accepted (guards against a corrupt header asking for a giant allocation). */
export const IDX_MAX_ELEMENTS = 2 ** 31 - 1;

/**
 * Reads an IDX file from a path or from bytes (gzip detected by its magic bytes 1f 8b).
 * Validates the magic, the type code, the dimensions and that the payload length matches exactly.
 */
export function readIdx(source: string | Uint8Array, name?: string): IdxArray {
  const label = name ?? (typeof source === 'string' ? source : '<bytes>');
  let bytes: Uint8Array;
  if (typeof source === 'string') {
    try {
      bytes = readFileSync(source);
    } catch (err) {
      throw new IdxFormatError(label, `cannot read file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  } else {
    bytes = source;
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: IDX_MAX_ELEMENTS });
    } catch (err) {
      throw new IdxFormatError(label, `corrupt gzip data (${(err as Error).message})`);
    }
  }
  if (bytes.length < 4) throw new IdxFormatError(label, `file is ${bytes.length} bytes, too short for an IDX header`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new IdxFormatError(label, `bad magic: first two bytes must be 0, got ${bytes[0]}, ${bytes[1]} (not an IDX file)`);
  }
  const type = TYPES[bytes[2]];
  if (!type) throw new IdxFormatError(label, `unknown IDX type code 0x${bytes[2].toString(16)}`);
  const rank = bytes[3];
  if (rank === 0) throw new IdxFormatError(label, 'IDX rank is 0');
  const headerLen = 4 + 4 * rank;
  if (bytes.length < headerLen) throw new IdxFormatError(label, `truncated header: needs ${headerLen} bytes, file has ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  let count = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    shape.push(d);
    count *= d;
  }
  if (count > IDX_MAX_ELEMENTS) throw new IdxFormatError(label, `dimensions [${shape.join(', ')}] are too large`);
  const expected = headerLen + count * type.bytes;
  if (bytes.length !== expected) {
    const what = bytes.length < expected ? 'truncated' : 'has trailing bytes';
    throw new IdxFormatError(label, `${what}: dimensions [${shape.join(', ')}] need ${expected} bytes, file has ${bytes.length}`);
  }
  const payload = bytes.subarray(headerLen);
  let data: IdxArray['data'];
  if (type.dtype === 'uint8') data = Uint8Array.from(payload);
  else if (type.dtype === 'int8') data = Int8Array.from(payload, (b) => (b << 24) >> 24);
  else {
    const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    if (type.dtype === 'int16') {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getInt16(2 * i, false);
      data = out;
    } else if (type.dtype === 'int32') {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getInt32(4 * i, false);
      data = out;
    } else if (type.dtype === 'float32') {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getFloat32(4 * i, false);
      data = out;
    } else {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getFloat64(8 * i, false);
      data = out;
    }
  }
  return { dtype: type.dtype, shape, data };
}
