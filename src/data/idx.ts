// IDX decoding from bytes: the big-endian format of MNIST / Fashion-MNIST, validated field by field.
// Raw bytes decode synchronously; gzip goes through `decodeIdxAsync` (the platform's DecompressionStream,
// output capped at the size the header declares). Reading paths, with Node's zlib, is in idx-file.ts.

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

/** IDX type codes (the third magic byte) → element type and size. */
export const IDX_TYPES: Record<number, { dtype: IdxArray['dtype']; bytes: number }> = {
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
export const DEFLATE_MAX_RATIO = 1032;

/** True when `bytes` start with the gzip magic 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Decodes an uncompressed IDX file held in memory. Validates the magic, the type code, the
 * dimensions and that the payload length matches exactly; `name` labels errors (default `<bytes>`).
 * Gzip bytes throw {@link IdxFormatError} pointing at {@link decodeIdxAsync} (or, in Node, `readIdx`).
 */
export function decodeIdx(bytes: Uint8Array, name = '<bytes>'): IdxArray {
  if (isGzip(bytes)) throw new IdxFormatError(name, 'is gzip-compressed: decode it with decodeIdxAsync (or readIdx in Node)');
  return decodeRawIdx(bytes, name);
}

/** {@link decodeIdx} without the gzip check (the bytes are already decompressed). */
export function decodeRawIdx(bytes: Uint8Array, label: string): IdxArray {
  if (bytes.length < 4) throw new IdxFormatError(label, `file is ${bytes.length} bytes, too short for an IDX header`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new IdxFormatError(label, `bad magic: first two bytes must be 0, got ${bytes[0]}, ${bytes[1]} (not an IDX file)`);
  }
  const type = IDX_TYPES[bytes[2]];
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
 * Decodes an IDX file held in memory, raw or gzip-compressed (detected by its magic bytes 1f 8b), in
 * a browser or in Node: gzip goes through the platform's `DecompressionStream`, read chunk by chunk.
 * One gzip member is what `gzip` writes and every MNIST mirror serves. Concatenated members depend on
 * the engine's stream: where it reads only the first (Node 24 here), what follows is refused as
 * trailing data; where it reads them all (Node 22), they are decoded whole. Never dropped silently
 * (Node's `readIdx` always reads them).
 * The header is checked as soon as it is out, and decompression stops with an error the moment the
 * output passes the size the dimensions declare, so a gzip bomb costs at most that much memory.
 * Throws {@link IdxFormatError} naming `name` (default `<bytes>`).
 */
export async function decodeIdxAsync(bytes: Uint8Array, name = '<bytes>'): Promise<IdxArray> {
  if (!isGzip(bytes)) return decodeRawIdx(bytes, name);
  const fail = (problem: string): never => {
    throw new IdxFormatError(name, problem);
  };
  if (typeof DecompressionStream !== 'function') fail('is gzip-compressed, and this platform has no DecompressionStream');
  // Copied so the stream owns its input (the caller's buffer may be shared or later reused).
  const input = new Blob([bytes.slice()]).stream().pipeThrough(new DecompressionStream('gzip'));
  const reader = input.getReader();
  const chunks: Uint8Array[] = [];
  let got = 0;
  let expected = -1; // the declared total size once the header is out (-2: the header is invalid)
  let dims = '';
  try {
    for (;;) {
      let step: Awaited<ReturnType<typeof reader.read>>;
      try {
        step = await reader.read();
      } catch (err) {
        return fail(`corrupt gzip data (${(err as Error).message})`);
      }
      if (step.done) break;
      chunks.push(step.value);
      got += step.value.length;
      if (expected === -1) {
        const head = concat(chunks, got);
        expected = declaredIdxSize(head, bytes.length, fail);
        if (expected >= 0) dims = `[${idxDims(head).join(', ')}]`;
      }
      if (expected === -2) break; // not an IDX header: decodeRawIdx says what is wrong with it
      if (expected >= 0 && got > expected) {
        fail(`has trailing bytes: dimensions ${dims} need ${expected} bytes, the gzip data holds more`);
      }
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
  return decodeRawIdx(concat(chunks, got), name);
}

/**
 * The total size (header + payload) an IDX header declares, from the first decompressed bytes; -1
 * while the header is still incomplete, -2 when its first four bytes are not an IDX start.
 */
function declaredIdxSize(head: Uint8Array, gzipBytes: number, fail: (problem: string) => never): number {
  if (head.length < 4) return -1;
  const type = IDX_TYPES[head[2]];
  if (head[0] !== 0 || head[1] !== 0 || type === undefined || head[3] === 0) return -2;
  const headerLen = 4 + 4 * head[3];
  if (head.length < headerLen) return -1;
  const dims = idxDims(head);
  let count = 1;
  for (const d of dims) count *= d;
  const expected = headerLen + count * type.bytes;
  if (count > IDX_MAX_ELEMENTS || expected > IDX_MAX_BYTES) {
    fail(`dimensions [${dims.join(', ')}] are too large (limits: ${IDX_MAX_ELEMENTS} elements, ${IDX_MAX_BYTES} bytes)`);
  }
  if (expected > gzipBytes * DEFLATE_MAX_RATIO) {
    fail(`truncated: dimensions [${dims.join(', ')}] need ${expected} bytes, more than ${gzipBytes} gzip bytes can hold`);
  }
  return expected;
}

/** The dimensions in a complete IDX header (big-endian u32s after the 4 magic bytes). */
function idxDims(head: Uint8Array): number[] {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < head[3]; i++) dims.push(view.getUint32(4 + 4 * i, false));
  return dims;
}

/** The first `total` bytes of `chunks` as one array (the only chunk itself when there is one). */
function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
