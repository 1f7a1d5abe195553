// A small WebAssembly binary encoder: LEB128, the opcodes the elementwise compiler emits (core and
// 128-bit SIMD, numbers from the WebAssembly 2.0 spec), and a one-function module with an imported
// memory. No dependencies: the core library builds its modules at run time without wabt.

/** Core opcodes (one byte each). */
export const OP = {
  block: 0x02,
  loop: 0x03,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  select: 0x1b,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  f32Load: 0x2a,
  f32Store: 0x38,
  i32Const: 0x41,
  f32Const: 0x43,
  i32Eqz: 0x45,
  i32GeU: 0x4f,
  f32Eq: 0x5b,
  f32Lt: 0x5d,
  f32Gt: 0x5e,
  f32Le: 0x5f,
  f32Ge: 0x60,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32And: 0x71,
  i32Or: 0x72,
  i32Xor: 0x73,
  i32Shl: 0x74,
  i32ShrS: 0x75,
  f32Abs: 0x8b,
  f32Neg: 0x8c,
  f32Nearest: 0x90,
  f32Sqrt: 0x91,
  f32Add: 0x92,
  f32Sub: 0x93,
  f32Mul: 0x94,
  f32Div: 0x95,
  f32Min: 0x96,
  f32Max: 0x97,
  f32ConvertI32S: 0xb2,
  i32ReinterpretF32: 0xbc,
  f32ReinterpretI32: 0xbe,
} as const;

/** Prefix of the 128-bit SIMD instructions (`0xFD` then the opcode as unsigned LEB128). */
export const SIMD_PREFIX = 0xfd;

/** SIMD opcodes (after SIMD_PREFIX, LEB128-encoded), as numbered in the SIMD spec's opcode table. */
export const SIMD = {
  v128Load: 0x00,
  v128Store: 0x0b,
  i32x4Splat: 0x11,
  f32x4Splat: 0x13,
  f32x4Eq: 0x41,
  f32x4Lt: 0x43,
  f32x4Gt: 0x44,
  f32x4Le: 0x45,
  f32x4Ge: 0x46,
  v128Not: 0x4d,
  v128And: 0x4e,
  v128Or: 0x50,
  v128Xor: 0x51,
  v128Bitselect: 0x52,
  f32x4Nearest: 0x6a,
  i32x4Shl: 0xab,
  i32x4ShrS: 0xac,
  i32x4Add: 0xae,
  i32x4Sub: 0xb1,
  f32x4Abs: 0xe0,
  f32x4Neg: 0xe1,
  f32x4Sqrt: 0xe3,
  f32x4Add: 0xe4,
  f32x4Sub: 0xe5,
  f32x4Mul: 0xe6,
  f32x4Div: 0xe7,
  f32x4Min: 0xe8,
  f32x4Max: 0xe9,
  f32x4Pmin: 0xea,
  f32x4Pmax: 0xeb,
  f32x4ConvertI32x4S: 0xfa,
} as const;

/** Value types. */
export const TYPE = { i32: 0x7f, f32: 0x7d, v128: 0x7b } as const;
/** A value type byte (TYPE.i32, TYPE.f32, TYPE.v128). */
export type ValType = (typeof TYPE)[keyof typeof TYPE];

/** The empty block type (`block`/`loop` with no result). */
export const BLOCK_EMPTY = 0x40;

/** A growable byte buffer with the LEB128 and IEEE writers the encoder needs. */
export class ByteWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  get length(): number {
    return this.len;
  }

  byte(b: number): this {
    if (this.len === this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.len++] = b & 0xff;
    return this;
  }

  bytes(bs: ArrayLike<number>): this {
    for (let i = 0; i < bs.length; i++) this.byte(bs[i]);
    return this;
  }

  /** Unsigned LEB128 (values 0 … 2³² − 1). */
  u32(v: number): this {
    let x = v >>> 0;
    do {
      let b = x & 0x7f;
      x >>>= 7;
      if (x !== 0) b |= 0x80;
      this.byte(b);
    } while (x !== 0);
    return this;
  }

  /** Signed LEB128 of a 32-bit integer. */
  s32(v: number): this {
    let x = v | 0;
    for (;;) {
      const b = x & 0x7f;
      x >>= 7;
      const done = (x === 0 && (b & 0x40) === 0) || (x === -1 && (b & 0x40) !== 0);
      this.byte(done ? b : b | 0x80);
      if (done) return this;
    }
  }

  /** A float32 constant, little-endian. */
  f32(v: number): this {
    const f = new Float32Array([v]);
    return this.bytes(new Uint8Array(f.buffer));
  }

  /** A length-prefixed UTF-8 name. */
  name(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.u32(b.length).bytes(b);
  }

  /** `op` (one byte). */
  op(code: number): this {
    return this.byte(code);
  }

  /** A SIMD instruction: prefix then its LEB128 opcode. */
  simd(code: number): this {
    return this.byte(SIMD_PREFIX).u32(code);
  }

  /** A memory argument: alignment exponent and offset. */
  memarg(alignLog2: number, offset: number): this {
    return this.u32(alignLog2).u32(offset);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** What `encodeModule` puts in the module. */
export interface ModuleSpec {
  /** Parameter types of the single function (no results). */
  readonly params: readonly ValType[];
  /** Types of the function's locals (after the parameters), in index order. */
  readonly locals: readonly ValType[];
  /** The instruction bytes of the function body, without the final `end`. */
  readonly code: Uint8Array;
  /** The export name of the function. */
  readonly exportName: string;
  /** Import `env.memory` as shared memory (both variants declare min 1, max 65536 pages). */
  readonly shared: boolean;
}

function section(out: ByteWriter, id: number, content: ByteWriter): void {
  out.byte(id).u32(content.length).bytes(content.finish());
}

/**
 * A module with one type, the `env.memory` import (1 … 65536 pages, shared or not), one function and
 * its export. Sections in the spec's order: type (1), import (2), function (3), export (7), code (10).
 */
export function encodeModule(spec: ModuleSpec): Uint8Array {
  const out = new ByteWriter().bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

  const types = new ByteWriter().u32(1).byte(0x60).u32(spec.params.length);
  for (const t of spec.params) types.byte(t);
  types.u32(0); // no results
  section(out, 1, types);

  // memory limits: flag 0x01 = min and max, 0x03 = min, max and shared
  const imports = new ByteWriter().u32(1).name('env').name('memory').byte(0x02)
    .byte(spec.shared ? 0x03 : 0x01).u32(1).u32(65536);
  section(out, 2, imports);

  section(out, 3, new ByteWriter().u32(1).u32(0));

  section(out, 7, new ByteWriter().u32(1).name(spec.exportName).byte(0x00).u32(0));

  // locals as runs of equal types
  const body = new ByteWriter();
  const runs: [number, ValType][] = [];
  for (const t of spec.locals) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last[1] === t) last[0]++;
    else runs.push([1, t]);
  }
  body.u32(runs.length);
  for (const [count, t] of runs) body.u32(count).byte(t);
  body.bytes(spec.code).byte(OP.end);
  const code = new ByteWriter().u32(1).u32(body.length).bytes(body.finish());
  section(out, 10, code);

  return out.finish();
}
