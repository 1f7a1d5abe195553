// safetensors encode/decode (https://github.com/huggingface/safetensors): the byte-level codec, which
// validates every header field of a hostile file before touching its data. Paths are in files.ts (Node).
import { formatShape, shapeSize, Tensor } from '../tensor/tensor.js';
import { clipText, describeValue, exceedsDepth, MAX_JSON_DEPTH } from './untrusted.js';

/**
 * Error thrown for a malformed or unreadable safetensors file; the message names the file and the
 * problem, cut to 300 characters (`MAX_PROBLEM_LENGTH`) (a hostile file cannot make it long).
 */
export class SafetensorsError extends Error {
  readonly problem: string;
  constructor(readonly source: string, problem: string) {
    const clipped = clipText(problem);
    super(`${source}: ${clipped}`);
    this.name = 'SafetensorsError';
    this.problem = clipped;
  }
}

/** The largest JSON header accepted, in bytes (the reference implementation's cap, 100 MB). */
export const SAFETENSORS_MAX_HEADER = 100_000_000;

/** Element size in bytes of every safetensors dtype this reader converts to float32. */
const DTYPE_BYTES: Readonly<Record<string, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2,
  I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
};

/** A dtype of the safetensors format that tensorkit reads (all are converted to float32). */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U64' | 'U32' | 'U16' | 'U8' | 'BOOL';

/** The result of {@link decodeSafetensors}: tensors in file order and the `__metadata__` strings. */
export interface SafetensorsContents {
  readonly tensors: Record<string, Tensor>;
  readonly metadata: Record<string, string>;
  /** The dtype each tensor had in the file, before the conversion to float32. */
  readonly dtypes: Record<string, SafetensorsDtype>;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const METADATA_KEY = '__metadata__';
const ENTRY_KEYS = ['dtype', 'shape', 'data_offsets'];

/**
 * Serialises float32 tensors to safetensors bytes: an 8-byte little-endian header length, the JSON
 * header padded with spaces to a multiple of 8, then every tensor's data (F32, little-endian,
 * row-major) back to back in the order given. `metadata` becomes `__metadata__` (strings only).
 */
export function encodeSafetensors(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Uint8Array {
  const entries: [string, unknown][] = [];
  if (metadata !== undefined) {
    if (metadata === null || typeof metadata !== 'object') throw new TypeError('encodeSafetensors: metadata must be an object of strings');
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new TypeError(`encodeSafetensors: metadata "${k}" must be a string, got ${typeof v}`);
    }
    entries.push([METADATA_KEY, { ...metadata }]);
  }
  const names = Object.keys(tensors);
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    if (name.length === 0 || name === METADATA_KEY) throw new TypeError(`encodeSafetensors: invalid tensor name ${describeValue(name)}`);
    if (!(t instanceof Tensor)) throw new TypeError(`encodeSafetensors: "${name}" is not a Tensor`);
    entries.push([name, { dtype: 'F32', shape: t.shape.slice(), data_offsets: [offset, offset + 4 * t.size] }]);
    offset += 4 * t.size;
  }
  // Object.fromEntries defines own properties, so a tensor named "__proto__" is stored, not swallowed.
  const json = new TextEncoder().encode(JSON.stringify(Object.fromEntries(entries)));
  const headerLen = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLen + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLen % 0x100000000, true);
  view.setUint32(4, Math.floor(headerLen / 0x100000000), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  let pos = 8 + headerLen;
  for (const name of names) {
    const data = tensors[name].data;
    if (LITTLE_ENDIAN) {
      out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), pos);
    } else {
      for (let i = 0; i < data.length; i++) view.setFloat32(pos + 4 * i, data[i], true);
    }
    pos += data.byteLength;
  }
  return out;
}

/**
 * Parses safetensors bytes, converting every tensor to float32. Validates, in order: the header
 * length (≤ {@link SAFETENSORS_MAX_HEADER} and inside the buffer), UTF-8 and JSON syntax, nesting at
 * most 64 levels deep, no duplicate keys, a top-level object, `__metadata__` of strings, each entry's keys, dtype, shape
 * (non-negative integers) and offsets, that shape × dtype size equals the byte range, and that the
 * ranges, sorted, tile the data region exactly (no gap, no overlap, nothing after). Throws a
 * {@link SafetensorsError} naming `source` and the problem; nothing is allocated beyond the
 * validated tensors.
 */
export function decodeSafetensors(bytes: Uint8Array, source = '<bytes>'): SafetensorsContents {
  const fail = (problem: string): never => {
    throw new SafetensorsError(source, problem);
  };
  if (!(bytes instanceof Uint8Array)) fail('input must be a Uint8Array');
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, too short for the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  const headerLen = hi * 0x100000000 + lo;
  if (hi !== 0 || headerLen > SAFETENSORS_MAX_HEADER) fail(`header length ${headerLen} exceeds the limit of ${SAFETENSORS_MAX_HEADER} bytes`);
  if (headerLen > bytes.length - 8) fail(`header length ${headerLen} runs past the end of the file (${bytes.length} bytes)`);
  const { entries, metadata } = decodeHeader(bytes.subarray(8, 8 + headerLen), fail);
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const infos: { name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, entry] of entries) {
    const where = `tensor ${describeValue(name)}`;
    if (name.length === 0) fail('a tensor has an empty name');
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) fail(`${where}: entry must be an object { dtype, shape, data_offsets }`);
    const e = entry as Record<string, unknown>;
    for (const k of Object.keys(e)) if (!ENTRY_KEYS.includes(k)) fail(`${where}: unknown field ${describeValue(k)}`);
    const dtype = e.dtype;
    if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, dtype)) {
      fail(`${where}: unsupported dtype ${describeValue(dtype)}; supported: ${Object.keys(DTYPE_BYTES).join(', ')}`);
    }
    const shape = e.shape;
    if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      fail(`${where}: shape must be an array of non-negative integers, got ${describeValue(shape)}`);
    }
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || offsets.some((o) => !Number.isSafeInteger(o) || o < 0)) {
      fail(`${where}: data_offsets must be [begin, end] with non-negative integers, got ${describeValue(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataLen) fail(`${where}: data_offsets [${begin}, ${end}] lie outside the ${dataLen}-byte data region`);
    // Compare the byte count without overflow: the product is checked against the range step by step.
    const span = end - begin;
    let needed = DTYPE_BYTES[dtype as string];
    for (const d of shape as number[]) {
      needed *= d;
      if (needed > span) break;
    }
    if ((shape as number[]).includes(0)) needed = 0;
    if (needed !== span) {
      fail(`${where}: shape ${formatShape(shape as number[])} of ${dtype} needs ${needed > span ? `more than ${span}` : needed} bytes but data_offsets span ${span}`);
    }
    // With a 0 among the dims, the others cost no bytes, but their product must still be countable.
    if (!Number.isSafeInteger(shapeSize(shape as number[]))) fail(`${where}: shape ${describeValue(shape)} has an uncountable number of elements`);
    infos.push({ name, dtype: dtype as SafetensorsDtype, shape: (shape as number[]).slice(), begin, end });
  }
  const sorted = infos.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const info of sorted) {
    if (info.begin < cursor) fail(`tensor ${describeValue(info.name)}: data_offsets [${info.begin}, ${info.end}] overlap the previous tensor (which ends at ${cursor})`);
    if (info.begin > cursor) fail(`tensor ${describeValue(info.name)}: data_offsets start at ${info.begin}, leaving a gap after byte ${cursor}`);
    cursor = info.end;
  }
  if (cursor !== dataLen) fail(`tensors cover ${cursor} bytes but the data region has ${dataLen} (trailing bytes)`);

  const tensors: [string, Tensor][] = [];
  const dtypes: [string, SafetensorsDtype][] = [];
  for (const info of infos) {
    const data = convertToFloat32(bytes, dataStart + info.begin, info.end - info.begin, info.dtype);
    tensors.push([info.name, new Tensor(data, info.shape)]);
    dtypes.push([info.name, info.dtype]);
  }
  return { tensors: Object.fromEntries(tensors), metadata, dtypes: Object.fromEntries(dtypes) };
}

/**
 * Parses and checks the JSON header (UTF-8, syntax, nesting depth, no duplicate keys, a top-level
 * object, `__metadata__` of strings); returns the tensor entries in file order and the metadata.
 */
export function decodeHeader(headerBytes: Uint8Array, fail: (problem: string) => never): { entries: [string, unknown][]; metadata: Record<string, string> } {
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    fail('header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    fail(`header is not valid JSON (${(err as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('header must be a JSON object');
  if (exceedsDepth(header, MAX_JSON_DEPTH)) fail(`header JSON nests deeper than ${MAX_JSON_DEPTH} levels`);
  const duplicate = findDuplicateKey(text);
  if (duplicate !== null) fail(`header has the key ${describeValue(duplicate)} twice`);
  const record = header as Record<string, unknown>;
  const entries: [string, unknown][] = [];
  const metadata: [string, string][] = [];
  for (const name of Object.keys(record)) {
    const entry = record[name];
    if (name !== METADATA_KEY) {
      entries.push([name, entry]);
      continue;
    }
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) fail('__metadata__ must be an object of strings');
    for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
      if (typeof v !== 'string') fail(`__metadata__ ${describeValue(k)} must be a string, got ${describeValue(v)}`);
      metadata.push([k, v as string]);
    }
  }
  // Object.fromEntries defines own properties, so a key named "__proto__" is kept as data.
  return { entries, metadata: Object.fromEntries(metadata) };
}

/** Decodes `length` bytes at `offset` holding little-endian `dtype` elements into a new Float32Array. */
function convertToFloat32(bytes: Uint8Array, offset: number, length: number, dtype: SafetensorsDtype): Float32Array {
  const n = length / DTYPE_BYTES[dtype];
  const out = new Float32Array(n);
  if (dtype === 'F32' && LITTLE_ENDIAN) {
    // A byte copy also fixes alignment: the data region need not start on a 4-byte boundary.
    new Uint8Array(out.buffer).set(bytes.subarray(offset, offset + length));
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, length);
  switch (dtype) {
    case 'F32': for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true); break;
    case 'F64': for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true); break;
    case 'F16': for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(2 * i, true)); break;
    case 'BF16': for (let i = 0; i < n; i++) out[i] = bfloat16ToFloat(view.getUint16(2 * i, true)); break;
    case 'I64': for (let i = 0; i < n; i++) out[i] = Number(view.getBigInt64(8 * i, true)); break;
    case 'U64': for (let i = 0; i < n; i++) out[i] = Number(view.getBigUint64(8 * i, true)); break;
    case 'I32': for (let i = 0; i < n; i++) out[i] = view.getInt32(4 * i, true); break;
    case 'U32': for (let i = 0; i < n; i++) out[i] = view.getUint32(4 * i, true); break;
    case 'I16': for (let i = 0; i < n; i++) out[i] = view.getInt16(2 * i, true); break;
    case 'U16': for (let i = 0; i < n; i++) out[i] = view.getUint16(2 * i, true); break;
    case 'I8': for (let i = 0; i < n; i++) out[i] = view.getInt8(i); break;
    case 'U8': for (let i = 0; i < n; i++) out[i] = view.getUint8(i); break;
    case 'BOOL': for (let i = 0; i < n; i++) out[i] = view.getUint8(i) === 0 ? 0 : 1; break;
  }
  return out;
}

/** IEEE 754 binary16 bits → number (subnormals, infinities and NaN included). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const BF16_BITS = new Uint32Array(1);
const BF16_FLOAT = new Float32Array(BF16_BITS.buffer);

/** bfloat16 bits → number: the upper half of a float32. */
export function bfloat16ToFloat(b: number): number {
  BF16_BITS[0] = b << 16;
  return BF16_FLOAT[0];
}

/**
 * Scans syntactically valid JSON for an object with a repeated key (JSON.parse silently keeps the
 * last one, which would let two header entries disagree). Returns the first repeated key or null.
 * Iterative, so deep nesting cannot overflow the stack.
 */
function findDuplicateKey(text: string): string | null {
  // One frame per open container: the keys seen so far (null for arrays) and whether a key comes next.
  const keys: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */) {
      keys.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      keys.push(null);
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      keys.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = keys.length > 0 && keys[keys.length - 1] !== null;
    } else if (c === 0x22 /* " */) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      if (expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        const seen = keys[keys.length - 1] as Set<string>;
        if (seen.has(key)) return key;
        seen.add(key);
        expectKey = false;
      }
      i = j;
    }
  }
  return null;
}
