// IDX reader: the big-endian format of MNIST / Fashion-MNIST (raw or gzip), validated field by field;
// a gzip stream is decompressed only as far as its header first, then to exactly the declared size.
import { readFileSync } from 'node:fs';
import { constants, gunzipSync } from 'node:zlib';

/** A decoded IDX array: element type, dimensions and the values (uint8 data stays a Uint8Array). */
export interface IdxArray {
  readonly dtype: 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';
  readonly shape: number[];
  readonly data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

/** Error thrown for a malformed IDX file; the message names the file and the problem (cut to 300 characters). */
export class IdxFormatError extends Error {
  constructor(readonly source: string, problem: string) {
    super(`${source}: ${problem.length > 300 ? `${problem.slice(0, 299)}…` : problem}`);
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
/** The largest decoded file (header + payload) accepted, in bytes: 2 GiB − 1. */
export const IDX_MAX_BYTES = 2 ** 31 - 1;
/** Deflate's best ratio is 1032:1, so a gzip stream of n bytes never inflates past this many times n. */
const DEFLATE_MAX_RATIO = 1032;
/** Output cap of each header probe (see {@link gunzipHead}). */
const PROBE_LIMIT = 1 << 20;

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
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipIdx(bytes, label);
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
  const expected = headerLen + count * type.bytes;
  if (count > IDX_MAX_ELEMENTS || expected > IDX_MAX_BYTES) {
    throw new IdxFormatError(label, `dimensions [${shape.join(', ')}] are too large (limits: ${IDX_MAX_ELEMENTS} elements, ${IDX_MAX_BYTES} bytes)`);
  }
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

/**
 * Decompresses a gzipped IDX file within a bound set by its own header: the header is inflated
 * first ({@link gunzipHead}), then the whole stream with its output capped at the size the
 * dimensions declare, so a gzip bomb costs at most that much memory. More data than declared, or
 * anything after the gzip stream, is an error.
 */
function gunzipIdx(gz: Uint8Array, label: string): Uint8Array {
  const fail = (problem: string): never => {
    throw new IdxFormatError(label, problem);
  };
  const head4 = gunzipHead(gz, 4, fail);
  if (head4.length < 4 || head4[0] !== 0 || head4[1] !== 0 || TYPES[head4[2]] === undefined || head4[3] === 0) {
    // Not a valid IDX start: readIdx reports exactly what is wrong from these first bytes.
    return head4;
  }
  const type = TYPES[head4[2]];
  const headerLen = 4 + 4 * head4[3];
  const head = gunzipHead(gz, headerLen, fail);
  if (head.length < headerLen) return head;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  let count = 1;
  const dims: number[] = [];
  for (let i = 0; i < head4[3]; i++) {
    dims.push(view.getUint32(4 + 4 * i, false));
    count *= dims[i];
  }
  const expected = headerLen + count * type.bytes;
  if (count > IDX_MAX_ELEMENTS || expected > IDX_MAX_BYTES) {
    fail(`dimensions [${dims.join(', ')}] are too large (limits: ${IDX_MAX_ELEMENTS} elements, ${IDX_MAX_BYTES} bytes)`);
  }
  if (expected > gz.length * DEFLATE_MAX_RATIO) {
    fail(`truncated: dimensions [${dims.join(', ')}] need ${expected} bytes, more than ${gz.length} gzip bytes can hold`);
  }
  try {
    return gunzipSync(gz, { maxOutputLength: expected });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      return fail(`has trailing bytes: dimensions [${dims.join(', ')}] need ${expected} bytes, the gzip data holds more`);
    }
    return fail(`corrupt gzip data (${(err as Error).message})`);
  }
}

/**
 * The first `need` decompressed bytes of a gzip stream (or all of it, if shorter), inflating only
 * prefixes of the compressed bytes (a cut stream is not an error under Z_SYNC_FLUSH) with each
 * output capped at {@link PROBE_LIMIT}: prefixes grow 4× until enough comes out; if one overshoots
 * the cap (a bomb right after the header), a bisection finds a prefix in between, which exists
 * because one compressed byte adds at most a few kilobytes of output.
 */
function gunzipHead(gz: Uint8Array, need: number, fail: (problem: string) => never): Uint8Array {
  const inflate = (len: number): Uint8Array | null => {
    try {
      return gunzipSync(gz.subarray(0, len), { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: PROBE_LIMIT });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return null;
      return fail(`corrupt gzip data (${(err as Error).message})`);
    }
  };
  let short = 0; // a prefix length known to give fewer than `need` bytes
  let len = Math.min(gz.length, 256);
  let over = -1; // a prefix length known to give more than PROBE_LIMIT bytes
  for (;;) {
    const out = inflate(len);
    if (out === null) {
      over = len;
      break;
    }
    if (out.length >= need || len === gz.length) return out;
    short = len;
    len = Math.min(gz.length, len * 4);
  }
  while (over - short > 1) {
    const mid = short + Math.floor((over - short) / 2);
    const out = inflate(mid);
    if (out === null) over = mid;
    else if (out.length >= need) return out;
    else short = mid;
  }
  return fail('corrupt gzip data (the header cannot be decompressed on its own)');
}
