// IDX files from paths (Node only): reads the file and inflates gzip with Node's zlib synchronously, a
// gzip stream decompressed only as far as its header first, then to exactly the declared size.
import { readFileSync } from 'node:fs';
import { constants, gunzipSync } from 'node:zlib';
import { decodeRawIdx, DEFLATE_MAX_RATIO, IDX_MAX_BYTES, IDX_MAX_ELEMENTS, IDX_TYPES, IdxFormatError, isGzip, type IdxArray } from './idx.js';

/** Output cap of each header probe (see {@link gunzipHead}). */
const PROBE_LIMIT = 1 << 20;

/**
 * Reads an IDX file from a path or from bytes (gzip detected by its magic bytes 1f 8b), synchronously.
 * Validates the magic, the type code, the dimensions and that the payload length matches exactly.
 * In a browser use `decodeIdx` / `decodeIdxAsync`.
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
  if (isGzip(bytes)) bytes = gunzipIdx(bytes, label);
  return decodeRawIdx(bytes, label);
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
  if (head4.length < 4 || head4[0] !== 0 || head4[1] !== 0 || IDX_TYPES[head4[2]] === undefined || head4[3] === 0) {
    // Not a valid IDX start: readIdx reports exactly what is wrong from these first bytes.
    return head4;
  }
  const type = IDX_TYPES[head4[2]];
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
