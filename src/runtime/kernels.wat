;; kernels.wat: the WebAssembly SIMD (f32x4) kernels of the runtime. Hand-written; assembled by
;; scripts/build-wasm.mjs into kernels-wasm.generated.ts. First the single-precision gemm behind `gemm`:
;; packing of op(a) / op(b) blocks into register-tile panels, a 4×8 micro-kernel, the macro-kernel
;; that walks one packed block with it, and the cache-block loop nest (`gemm`) that drives them over
;; one thread's share of the output (gemm-plan.ts splits the shares; arena.ts owns the memory layout).
;; After them, SIMD elementwise kernels over arrays in the same memory (optimizer updates, activations,
;; Conv2D's per-chunk passes, max pooling, partial sums). Each elementwise export is declared once in
;; kernel-table.ts with its TypeScript twin, which the tests hold it to bit for bit.
;;
;; Conventions
;; - The memory is imported (`env.memory`) and, in the variant the thread pool uses, shared: the
;;   calling thread and every worker instantiate this module over the same memory, each with its own
;;   workspace (edge tile + packed panels), and run `gemm` on disjoint blocks of C.
;; - Every pointer is a byte address in that memory; every stride and size is in elements.
;; - A matrix view X is given by a pointer to X[0, 0] and element strides (rs, cs): X[r, c] lives at
;;   ptr + 4·(r·rs + c·cs). So op(a) = a[m×k] is (rs, cs) = (k, 1) and op(a) = aᵀ of a[k×m] is (1, m):
;;   all four transA/transB combinations pack into the same panel layout, the kernel never sees them.
;; - Packed A (an mc×kc block of op(a)): panels of MR = 4 rows; element (i, p) of panel ip at
;;   ip·4·kc + p·4 + i (floats). Rows past mc are zero.
;; - Packed B (a kc×nc block of op(b)): panels of NR = 8 columns; element (p, j) of panel jp at
;;   jp·8·kc + p·8 + j (floats). Columns past nc are zero.
;;
;; Numerics: each output element is a float32 sum over p in increasing order (mul then add, each
;; rounded: no fused multiply-add in this variant), started from zero in every KC-deep block and added
;; to C once per block; edge tiles run the same micro-kernel into a scratch tile and merge with the
;; same single add. The order depends on KC alone, not on where an element sits in the MC / NC blocks
;; or in a thread's share, so results are bit-for-bit reproducible for any split of C.
;; The build script derives a relaxed-SIMD variant by rewriting each
;;   (f32x4.add (local.get $acc) (f32x4.mul (local.get $x) (local.get $y)))
;; into (f32x4.relaxed_madd (local.get $x) (local.get $y) (local.get $acc)); keep that exact shape.
;; It also derives an unshared-memory variant (for engines without SharedArrayBuffer) by dropping
;; the `shared` keyword of the memory import; keep that on the import line.
(module
  ;; At most 65536 pages (4 GiB, all of wasm32); a shared memory must declare its maximum.
  (import "env" "memory" (memory 1 65536 shared))

  ;; Cache-block sizes of the loop nest, in elements (see WASM_GEMM_MC in gemm-plan.ts, which checks
  ;; its copies against these): an MC×KC block of op(a) and a KC×NC panel of op(b) per step.
  (global $MC (export "MC") i32 (i32.const 96))
  (global $KC (export "KC") i32 (i32.const 256))
  (global $NC (export "NC") i32 (i32.const 1024))

  ;; Grows the memory to at least `pages` 64 KiB pages. Returns 1 on success, 0 if it cannot grow.
  (func (export "ensure") (param $pages i32) (result i32)
    (local $have i32)
    (local.set $have (memory.size))
    (if (i32.le_u (local.get $pages) (local.get $have))
      (then (return (i32.const 1))))
    (i32.ne (memory.grow (i32.sub (local.get $pages) (local.get $have))) (i32.const -1)))

  ;; Copies `bytes` bytes from src to dst (regions may overlap): memory.copy, a native memmove. The
  ;; library uses it instead of TypedArray copyWithin / fill on this memory, which engines run as
  ;; element-wise relaxed-atomic loops on a shared buffer (measured 18–25× slower in Node 20).
  (func (export "copy") (param $dst i32) (param $src i32) (param $bytes i32)
    (memory.copy (local.get $dst) (local.get $src) (local.get $bytes)))

  ;; Stores the 32-bit pattern `bits` into `count` consecutive words at dst (4-byte aligned):
  ;; memory.fill when the pattern is zero, else four lanes per store.
  (func (export "fill") (param $dst i32) (param $bits i32) (param $count i32)
    (local $end i32) (local $vec v128)
    (if (i32.eqz (local.get $bits))
      (then
        (memory.fill (local.get $dst) (i32.const 0) (i32.shl (local.get $count) (i32.const 2)))
        (return)))
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $count) (i32.const 2))))
    (local.set $vec (i32x4.splat (local.get $bits)))
    (block $done
      (loop $vecs
        (br_if $done (i32.gt_u (i32.add (local.get $dst) (i32.const 16)) (local.get $end)))
        (v128.store (local.get $dst) (local.get $vec))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (br $vecs)))
    (block $tail
      (loop $words
        (br_if $tail (i32.ge_u (local.get $dst) (local.get $end)))
        (i32.store (local.get $dst) (local.get $bits))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (br $words))))

  ;; Packs the mc×kc view (src; rs, cs) of op(a) into 4-row panels at dst (layout above).
  (func $pack_a
    (param $dst i32) (param $src i32) (param $rs i32) (param $cs i32) (param $mc i32) (param $kc i32)
    (local $i i32) (local $rows i32) (local $s i32) (local $p i32) (local $ii i32) (local $d i32) (local $r i32)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $rs (i32.shl (local.get $rs) (i32.const 2)))
    (local.set $cs (i32.shl (local.get $cs) (i32.const 2)))
    (block $done
      (loop $panel
        (br_if $done (i32.ge_u (local.get $i) (local.get $mc)))
        (local.set $rows (i32.sub (local.get $mc) (local.get $i)))
        (if (i32.gt_u (local.get $rows) (i32.const 4)) (then (local.set $rows (i32.const 4))))
        (local.set $s (i32.add (local.get $src) (i32.mul (local.get $i) (local.get $rs))))
        (if (i32.and (i32.eq (local.get $rows) (i32.const 4)) (i32.eq (local.get $rs) (i32.const 4)))
          (then
            ;; op(a) = aᵀ: the 4 values of one depth step are contiguous, copy them as one vector.
            (local.set $p (local.get $kc))
            (loop $step
              (v128.store (local.get $dst) (v128.load (local.get $s)))
              (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
              (local.set $s (i32.add (local.get $s) (local.get $cs)))
              (br_if $step (local.tee $p (i32.sub (local.get $p) (i32.const 1))))))
          (else (if (i32.and (i32.eq (local.get $rows) (i32.const 4)) (i32.eq (local.get $cs) (i32.const 4)))
          (then
            ;; op(a) = a: four depth steps of each row are contiguous; load them as one vector per
            ;; row and transpose the 4×4 block in registers (four steps of the panel), then the last
            ;; kc mod 4 steps one value at a time.
            (local.set $p (local.get $kc))
            (block $quads
              (loop $quad
                (br_if $quads (i32.lt_u (local.get $p) (i32.const 4)))
                (local.set $r0 (v128.load (local.get $s)))
                (local.set $r1 (v128.load (i32.add (local.get $s) (local.get $rs))))
                (local.set $r2 (v128.load (i32.add (local.get $s) (i32.shl (local.get $rs) (i32.const 1)))))
                (local.set $r3 (v128.load (i32.add (local.get $s) (i32.mul (local.get $rs) (i32.const 3)))))
                (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
                (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1)))
                (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))
                (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r2) (local.get $r3)))
                (local.set $r0 (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
                (local.set $r1 (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
                (local.set $r2 (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
                (local.set $r3 (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
                (v128.store (local.get $dst) (local.get $r0))
                (v128.store offset=16 (local.get $dst) (local.get $r1))
                (v128.store offset=32 (local.get $dst) (local.get $r2))
                (v128.store offset=48 (local.get $dst) (local.get $r3))
                (local.set $dst (i32.add (local.get $dst) (i32.const 64)))
                (local.set $s (i32.add (local.get $s) (i32.const 16)))
                (local.set $p (i32.sub (local.get $p) (i32.const 4)))
                (br $quad)))
            (block $steps
              (loop $step1
                (br_if $steps (i32.eqz (local.get $p)))
                (f32.store (local.get $dst) (f32.load (local.get $s)))
                (f32.store offset=4 (local.get $dst) (f32.load (i32.add (local.get $s) (local.get $rs))))
                (f32.store offset=8 (local.get $dst) (f32.load (i32.add (local.get $s) (i32.shl (local.get $rs) (i32.const 1)))))
                (f32.store offset=12 (local.get $dst) (f32.load (i32.add (local.get $s) (i32.mul (local.get $rs) (i32.const 3)))))
                (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
                (local.set $s (i32.add (local.get $s) (i32.const 4)))
                (local.set $p (i32.sub (local.get $p) (i32.const 1)))
                (br $step1))))
          (else
            ;; Row by row (contiguous reads for op(a) = a), zero rows past mc.
            (local.set $ii (i32.const 0))
            (loop $row
              (local.set $d (i32.add (local.get $dst) (i32.shl (local.get $ii) (i32.const 2))))
              (local.set $p (local.get $kc))
              (if (i32.lt_u (local.get $ii) (local.get $rows))
                (then
                  (local.set $r (i32.add (local.get $s) (i32.mul (local.get $ii) (local.get $rs))))
                  (loop $copy
                    (f32.store (local.get $d) (f32.load (local.get $r)))
                    (local.set $d (i32.add (local.get $d) (i32.const 16)))
                    (local.set $r (i32.add (local.get $r) (local.get $cs)))
                    (br_if $copy (local.tee $p (i32.sub (local.get $p) (i32.const 1))))))
                (else
                  (loop $zero
                    (f32.store (local.get $d) (f32.const 0))
                    (local.set $d (i32.add (local.get $d) (i32.const 16)))
                    (br_if $zero (local.tee $p (i32.sub (local.get $p) (i32.const 1)))))))
              (br_if $row (i32.lt_u (local.tee $ii (i32.add (local.get $ii) (i32.const 1))) (i32.const 4))))
            (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $kc) (i32.const 4))))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $panel))))

  ;; Packs the kc×nc view (src; rs, cs) of op(b) into 8-column panels at dst (layout above).
  (func $pack_b
    (param $dst i32) (param $src i32) (param $rs i32) (param $cs i32) (param $nc i32) (param $kc i32)
    (local $j i32) (local $cols i32) (local $s i32) (local $p i32) (local $jj i32) (local $d i32) (local $r i32)
    (local $o0 i32) (local $o1 i32) (local $o2 i32) (local $o3 i32) (local $o4 i32) (local $o5 i32) (local $o6 i32) (local $o7 i32)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128) (local $c4 v128) (local $c5 v128) (local $c6 v128) (local $c7 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $rs (i32.shl (local.get $rs) (i32.const 2)))
    (local.set $cs (i32.shl (local.get $cs) (i32.const 2)))
    (block $done
      (loop $panel
        (br_if $done (i32.ge_u (local.get $j) (local.get $nc)))
        (local.set $cols (i32.sub (local.get $nc) (local.get $j)))
        (if (i32.gt_u (local.get $cols) (i32.const 8)) (then (local.set $cols (i32.const 8))))
        (local.set $s (i32.add (local.get $src) (i32.mul (local.get $j) (local.get $cs))))
        (if (i32.and (i32.eq (local.get $cols) (i32.const 8)) (i32.eq (local.get $cs) (i32.const 4)))
          (then
            ;; op(b) = b: the 8 values of one depth step are contiguous, copy them as two vectors.
            (local.set $p (local.get $kc))
            (loop $step
              (v128.store (local.get $dst) (v128.load (local.get $s)))
              (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $s)))
              (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
              (local.set $s (i32.add (local.get $s) (local.get $rs)))
              (br_if $step (local.tee $p (i32.sub (local.get $p) (i32.const 1))))))
          (else (if (i32.and (i32.eq (local.get $cols) (i32.const 8)) (i32.eq (local.get $rs) (i32.const 4)))
          (then
            ;; op(b) = bᵀ: four depth steps of each column are contiguous; one vector per column,
            ;; two 4×4 transposes in registers give four steps of the panel; then the last kc mod 4
            ;; steps one value at a time. Column offsets o1…o7 = j·cs.
            (local.set $o1 (i32.mul (local.get $cs) (i32.const 1)))
            (local.set $o2 (i32.mul (local.get $cs) (i32.const 2)))
            (local.set $o3 (i32.mul (local.get $cs) (i32.const 3)))
            (local.set $o4 (i32.mul (local.get $cs) (i32.const 4)))
            (local.set $o5 (i32.mul (local.get $cs) (i32.const 5)))
            (local.set $o6 (i32.mul (local.get $cs) (i32.const 6)))
            (local.set $o7 (i32.mul (local.get $cs) (i32.const 7)))
            (local.set $p (local.get $kc))
            (block $quads
              (loop $quad
                (br_if $quads (i32.lt_u (local.get $p) (i32.const 4)))
                (local.set $c0 (v128.load (i32.add (local.get $s) (local.get $o0))))
                (local.set $c1 (v128.load (i32.add (local.get $s) (local.get $o1))))
                (local.set $c2 (v128.load (i32.add (local.get $s) (local.get $o2))))
                (local.set $c3 (v128.load (i32.add (local.get $s) (local.get $o3))))
                (local.set $c4 (v128.load (i32.add (local.get $s) (local.get $o4))))
                (local.set $c5 (v128.load (i32.add (local.get $s) (local.get $o5))))
                (local.set $c6 (v128.load (i32.add (local.get $s) (local.get $o6))))
                (local.set $c7 (v128.load (i32.add (local.get $s) (local.get $o7))))
                (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $c0) (local.get $c1)))
                (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $c0) (local.get $c1)))
                (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $c2) (local.get $c3)))
                (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $c2) (local.get $c3)))
                (local.set $c0 (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
                (local.set $c1 (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
                (local.set $c2 (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
                (local.set $c3 (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
                (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $c4) (local.get $c5)))
                (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $c4) (local.get $c5)))
                (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $c6) (local.get $c7)))
                (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $c6) (local.get $c7)))
                (local.set $c4 (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
                (local.set $c5 (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
                (local.set $c6 (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
                (local.set $c7 (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
                (v128.store (local.get $dst) (local.get $c0))
                (v128.store offset=16 (local.get $dst) (local.get $c4))
                (v128.store offset=32 (local.get $dst) (local.get $c1))
                (v128.store offset=48 (local.get $dst) (local.get $c5))
                (v128.store offset=64 (local.get $dst) (local.get $c2))
                (v128.store offset=80 (local.get $dst) (local.get $c6))
                (v128.store offset=96 (local.get $dst) (local.get $c3))
                (v128.store offset=112 (local.get $dst) (local.get $c7))
                (local.set $dst (i32.add (local.get $dst) (i32.const 128)))
                (local.set $s (i32.add (local.get $s) (i32.const 16)))
                (local.set $p (i32.sub (local.get $p) (i32.const 4)))
                (br $quad)))
            (block $steps
              (loop $step1
                (br_if $steps (i32.eqz (local.get $p)))
                (f32.store offset=0 (local.get $dst) (f32.load (i32.add (local.get $s) (local.get $o0))))
                (f32.store offset=4 (local.get $dst) (f32.load (i32.add (local.get $s) (local.get $o1))))
                (f32.store offset=8 (local.get $dst) (f32.load (i32.add (local.get $s) (local.get $o2))))
                (f32.store offset=12 (local.get $dst) (f32.load (i32.add (local.get $s) (local.get $o3))))
                (f32.store offset=16 (local.get $dst) (f32.load (i32.add (local.get $s) (local.get $o4))))
                (f32.store offset=20 (local.get $dst) (f32.load (i32.add (local.get $s) (local.get $o5))))
                (f32.store offset=24 (local.get $dst) (f32.load (i32.add (local.get $s) (local.get $o6))))
                (f32.store offset=28 (local.get $dst) (f32.load (i32.add (local.get $s) (local.get $o7))))
                (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
                (local.set $s (i32.add (local.get $s) (i32.const 4)))
                (local.set $p (i32.sub (local.get $p) (i32.const 1)))
                (br $step1))))
          (else
            ;; Column by column (contiguous reads for op(b) = bᵀ), zero columns past nc.
            (local.set $jj (i32.const 0))
            (loop $col
              (local.set $d (i32.add (local.get $dst) (i32.shl (local.get $jj) (i32.const 2))))
              (local.set $p (local.get $kc))
              (if (i32.lt_u (local.get $jj) (local.get $cols))
                (then
                  (local.set $r (i32.add (local.get $s) (i32.mul (local.get $jj) (local.get $cs))))
                  (loop $copy
                    (f32.store (local.get $d) (f32.load (local.get $r)))
                    (local.set $d (i32.add (local.get $d) (i32.const 32)))
                    (local.set $r (i32.add (local.get $r) (local.get $rs)))
                    (br_if $copy (local.tee $p (i32.sub (local.get $p) (i32.const 1))))))
                (else
                  (loop $zero
                    (f32.store (local.get $d) (f32.const 0))
                    (local.set $d (i32.add (local.get $d) (i32.const 32)))
                    (br_if $zero (local.tee $p (i32.sub (local.get $p) (i32.const 1)))))))
              (br_if $col (i32.lt_u (local.tee $jj (i32.add (local.get $jj) (i32.const 1))) (i32.const 8))))
            (local.set $dst (i32.add (local.get $dst) (i32.mul (local.get $kc) (i32.const 32))))))))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $panel))))

  ;; The micro-kernel: C[4×8 at c, row stride ldc bytes] (+)= A panel (kc×4 at pa) · B panel (kc×8 at pb).
  ;; Eight f32x4 accumulators ($cI0 = row I, columns 0-3; $cI1 = columns 4-7); kc ≥ 1. Why 4×8: V8
  ;; issues a step's loads (2 of B, 4 broadcasts of A) before its arithmetic, so 8 accumulators + 6
  ;; loaded values + 1 product fill the 15 allocatable xmm registers of x64. A 6×8 tile needs 21 and
  ;; spills accumulators to the stack on every step: 15 vs 48 GFLOP/s for the macro-kernel in L2.
  (func $micro (param $kc i32) (param $pa i32) (param $pb i32) (param $c i32) (param $ldc i32) (param $overwrite i32)
    (local $a v128) (local $b0 v128) (local $b1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (loop $k
      (local.set $b0 (v128.load (local.get $pb)))
      (local.set $b1 (v128.load offset=16 (local.get $pb)))
      (local.set $a (v128.load32_splat (local.get $pa)))
      (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $a) (local.get $b0))))
      (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $a) (local.get $b1))))
      (local.set $a (v128.load32_splat offset=4 (local.get $pa)))
      (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $a) (local.get $b0))))
      (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $a) (local.get $b1))))
      (local.set $a (v128.load32_splat offset=8 (local.get $pa)))
      (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $a) (local.get $b0))))
      (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $a) (local.get $b1))))
      (local.set $a (v128.load32_splat offset=12 (local.get $pa)))
      (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $a) (local.get $b0))))
      (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $a) (local.get $b1))))
      (local.set $pa (i32.add (local.get $pa) (i32.const 16)))
      (local.set $pb (i32.add (local.get $pb) (i32.const 32)))
      (br_if $k (local.tee $kc (i32.sub (local.get $kc) (i32.const 1)))))
    ;; Row i of C at c + i·ldc: add what is there unless overwriting, then store.
    (if (i32.eqz (local.get $overwrite))
      (then
        (local.set $c00 (f32x4.add (v128.load (local.get $c)) (local.get $c00)))
        (local.set $c01 (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c01)))
        (local.set $c10 (f32x4.add (v128.load (i32.add (local.get $c) (i32.mul (local.get $ldc) (i32.const 1)))) (local.get $c10)))
        (local.set $c11 (f32x4.add (v128.load offset=16 (i32.add (local.get $c) (i32.mul (local.get $ldc) (i32.const 1)))) (local.get $c11)))
        (local.set $c20 (f32x4.add (v128.load (i32.add (local.get $c) (i32.mul (local.get $ldc) (i32.const 2)))) (local.get $c20)))
        (local.set $c21 (f32x4.add (v128.load offset=16 (i32.add (local.get $c) (i32.mul (local.get $ldc) (i32.const 2)))) (local.get $c21)))
        (local.set $c30 (f32x4.add (v128.load (i32.add (local.get $c) (i32.mul (local.get $ldc) (i32.const 3)))) (local.get $c30)))
        (local.set $c31 (f32x4.add (v128.load offset=16 (i32.add (local.get $c) (i32.mul (local.get $ldc) (i32.const 3)))) (local.get $c31)))))
    (v128.store (local.get $c) (local.get $c00))
    (v128.store offset=16 (local.get $c) (local.get $c01))
    (v128.store (i32.add (local.get $c) (i32.mul (local.get $ldc) (i32.const 1))) (local.get $c10))
    (v128.store offset=16 (i32.add (local.get $c) (i32.mul (local.get $ldc) (i32.const 1))) (local.get $c11))
    (v128.store (i32.add (local.get $c) (i32.mul (local.get $ldc) (i32.const 2))) (local.get $c20))
    (v128.store offset=16 (i32.add (local.get $c) (i32.mul (local.get $ldc) (i32.const 2))) (local.get $c21))
    (v128.store (i32.add (local.get $c) (i32.mul (local.get $ldc) (i32.const 3))) (local.get $c30))
    (v128.store offset=16 (i32.add (local.get $c) (i32.mul (local.get $ldc) (i32.const 3))) (local.get $c31)))

  ;; The macro-kernel: C[mc×nc at c, row stride ldc elements] (+)= packed A block (mc×kc at pa) ·
  ;; packed B block (kc×nc at pb). B micro-panels in the outer loop (each stays in L1 while the A
  ;; block streams from L2). Edge tiles run the full 4×8 tile into the 128-byte scratch tile at
  ;; $tile (the calling thread's own), then only their valid mr×nr corner is merged into C.
  (func $macro
    (param $kc i32) (param $mc i32) (param $nc i32) (param $pa i32) (param $pb i32)
    (param $c i32) (param $ldc i32) (param $overwrite i32) (param $tile i32)
    (local $jr i32) (local $ir i32) (local $mr i32) (local $nr i32) (local $a i32) (local $ct i32)
    (local $i i32) (local $j i32) (local $src i32) (local $dst i32) (local $v f32)
    (local.set $ldc (i32.shl (local.get $ldc) (i32.const 2)))
    (block $jdone
      (loop $jloop
        (br_if $jdone (i32.ge_u (local.get $jr) (local.get $nc)))
        (local.set $nr (i32.sub (local.get $nc) (local.get $jr)))
        (if (i32.gt_u (local.get $nr) (i32.const 8)) (then (local.set $nr (i32.const 8))))
        (local.set $a (local.get $pa))
        (local.set $ct (i32.add (local.get $c) (i32.shl (local.get $jr) (i32.const 2))))
        (local.set $ir (i32.const 0))
        (block $idone
          (loop $iloop
            (br_if $idone (i32.ge_u (local.get $ir) (local.get $mc)))
            (local.set $mr (i32.sub (local.get $mc) (local.get $ir)))
            (if (i32.gt_u (local.get $mr) (i32.const 4)) (then (local.set $mr (i32.const 4))))
            (if (i32.and (i32.eq (local.get $mr) (i32.const 4)) (i32.eq (local.get $nr) (i32.const 8)))
              (then (call $micro (local.get $kc) (local.get $a) (local.get $pb) (local.get $ct) (local.get $ldc) (local.get $overwrite)))
              (else
                (call $micro (local.get $kc) (local.get $a) (local.get $pb) (local.get $tile) (i32.const 32) (i32.const 1))
                ;; tile[i, j] at $tile + 4·(8i + j) → C row i at ct + i·ldc
                (local.set $i (i32.const 0))
                (loop $mrow
                  (local.set $src (i32.add (local.get $tile) (i32.shl (local.get $i) (i32.const 5))))
                  (local.set $dst (i32.add (local.get $ct) (i32.mul (local.get $i) (local.get $ldc))))
                  (local.set $j (local.get $nr))
                  (loop $mcol
                    (local.set $v (f32.load (local.get $src)))
                    (if (i32.eqz (local.get $overwrite))
                      (then (local.set $v (f32.add (f32.load (local.get $dst)) (local.get $v)))))
                    (f32.store (local.get $dst) (local.get $v))
                    (local.set $src (i32.add (local.get $src) (i32.const 4)))
                    (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
                    (br_if $mcol (local.tee $j (i32.sub (local.get $j) (i32.const 1)))))
                  (br_if $mrow (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $mr))))))
            (local.set $a (i32.add (local.get $a) (i32.shl (local.get $kc) (i32.const 4))))
            (local.set $ct (i32.add (local.get $ct) (i32.shl (local.get $ldc) (i32.const 2))))
            (local.set $ir (i32.add (local.get $ir) (i32.const 4)))
            (br $iloop)))
        (local.set $pb (i32.add (local.get $pb) (i32.shl (local.get $kc) (i32.const 5))))
        (local.set $jr (i32.add (local.get $jr) (i32.const 8)))
        (br $jloop))))
;; The loop nest over cache blocks: C[m×n at c, row stride ldc] (+)= op(a)[m×k] · op(b)[k×n], with
  ;; op(a) the view (a; aRs, aCs) and op(b) the view (b; bRs, bCs); m, n, k ≥ 1. Overwrites C unless
  ;; $accumulate. $work is this thread's workspace (see WORKSPACE_BYTES in gemm-plan.ts): the edge
  ;; tile at work, the packed A block at work + 256 (MC·KC floats), the packed B panel after it
  ;; (KC·NC floats). A thread's share of a larger product is the same call on a sub-block of C.
  (func (export "gemm")
    (param $m i32) (param $n i32) (param $k i32)
    (param $a i32) (param $aRs i32) (param $aCs i32)
    (param $b i32) (param $bRs i32) (param $bCs i32)
    (param $c i32) (param $ldc i32) (param $accumulate i32) (param $work i32)
    (local $pa i32) (local $pb i32) (local $jc i32) (local $nc i32) (local $pc i32) (local $kc i32)
    (local $ic i32) (local $mc i32) (local $overwrite i32)
    (local.set $pa (i32.add (local.get $work) (i32.const 256)))
    (local.set $pb (i32.add (local.get $pa) (i32.shl (i32.mul (global.get $MC) (global.get $KC)) (i32.const 2))))
    (block $jdone
      (loop $jloop
        (br_if $jdone (i32.ge_u (local.get $jc) (local.get $n)))
        (local.set $nc (i32.sub (local.get $n) (local.get $jc)))
        (if (i32.gt_u (local.get $nc) (global.get $NC)) (then (local.set $nc (global.get $NC))))
        (local.set $pc (i32.const 0))
        (block $pdone
          (loop $ploop
            (br_if $pdone (i32.ge_u (local.get $pc) (local.get $k)))
            (local.set $kc (i32.sub (local.get $k) (local.get $pc)))
            (if (i32.gt_u (local.get $kc) (global.get $KC)) (then (local.set $kc (global.get $KC))))
            ;; The first depth block overwrites C unless accumulating; later ones add to it.
            (local.set $overwrite (i32.and (i32.eqz (local.get $pc)) (i32.eqz (local.get $accumulate))))
            (call $pack_b (local.get $pb)
              (i32.add (local.get $b) (i32.shl (i32.add (i32.mul (local.get $pc) (local.get $bRs))
                                                        (i32.mul (local.get $jc) (local.get $bCs))) (i32.const 2)))
              (local.get $bRs) (local.get $bCs) (local.get $nc) (local.get $kc))
            (local.set $ic (i32.const 0))
            (block $idone
              (loop $iloop
                (br_if $idone (i32.ge_u (local.get $ic) (local.get $m)))
                (local.set $mc (i32.sub (local.get $m) (local.get $ic)))
                (if (i32.gt_u (local.get $mc) (global.get $MC)) (then (local.set $mc (global.get $MC))))
                (call $pack_a (local.get $pa)
                  (i32.add (local.get $a) (i32.shl (i32.add (i32.mul (local.get $ic) (local.get $aRs))
                                                            (i32.mul (local.get $pc) (local.get $aCs))) (i32.const 2)))
                  (local.get $aRs) (local.get $aCs) (local.get $mc) (local.get $kc))
                (call $macro (local.get $kc) (local.get $mc) (local.get $nc) (local.get $pa) (local.get $pb)
                  (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $ic) (local.get $ldc)) (local.get $jc)) (i32.const 2)))
                  (local.get $ldc) (local.get $overwrite) (local.get $work))
                (local.set $ic (i32.add (local.get $ic) (global.get $MC)))
                (br $iloop)))
            (local.set $pc (i32.add (local.get $pc) (global.get $KC)))
            (br $ploop)))
        (local.set $jc (i32.add (local.get $jc) (global.get $NC)))
        (br $jloop))))

  ;; ---- Elementwise kernels: the optimizer updates and tanh over n consecutive floats (byte
  ;; addresses). Each is declared in the kernel table (kernel-table.ts), whose dispatch calls it on
  ;; ranges of arrays in this memory (rangeTask in tasks.ts, on every thread) with the signature
  ;; (arrays…, n, scalars…). Float32 arithmetic, every operation rounded in the order written and no
  ;; fused multiply-add, so the TypeScript twins (twins.ts; the same operations, each rounded
  ;; with Math.fround) give the same bits on arrays outside this memory. The products are written as
  ;; (f32x4.add (f32x4.mul …) (local.get …)), not the shape the build's relaxed-SIMD rewrite matches.
  ;; Four lanes at a time, then one float at a time for the last n mod 4.

  ;; SGD: p ← p − lr·g.
  (func (export "sgd") (param $p i32) (param $g i32) (param $n i32) (param $lr f32)
    (local $end i32) (local $vlr v128)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vlr (f32x4.splat (local.get $lr)))
    (block $done
      (loop $vec
        (br_if $done (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $end)))
        (v128.store (local.get $p)
          (f32x4.sub (v128.load (local.get $p)) (f32x4.mul (local.get $vlr) (v128.load (local.get $g)))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $g (i32.add (local.get $g) (i32.const 16)))
        (br $vec)))
    (block $tail
      (loop $one
        (br_if $tail (i32.ge_u (local.get $p) (local.get $end)))
        (f32.store (local.get $p)
          (f32.sub (f32.load (local.get $p)) (f32.mul (local.get $lr) (f32.load (local.get $g)))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $g (i32.add (local.get $g) (i32.const 4)))
        (br $one))))

  ;; Heavy-ball momentum (PyTorch's form): b ← μ·b + g; p ← p − lr·b.
  (func (export "momentum") (param $p i32) (param $g i32) (param $b i32) (param $n i32) (param $lr f32) (param $mu f32)
    (local $end i32) (local $vlr v128) (local $vmu v128) (local $vb v128) (local $sb f32)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vlr (f32x4.splat (local.get $lr)))
    (local.set $vmu (f32x4.splat (local.get $mu)))
    (block $done
      (loop $vec
        (br_if $done (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $end)))
        (local.set $vb (f32x4.add (f32x4.mul (local.get $vmu) (v128.load (local.get $b))) (v128.load (local.get $g))))
        (v128.store (local.get $b) (local.get $vb))
        (v128.store (local.get $p)
          (f32x4.sub (v128.load (local.get $p)) (f32x4.mul (local.get $vlr) (local.get $vb))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $g (i32.add (local.get $g) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (br $vec)))
    (block $tail
      (loop $one
        (br_if $tail (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $sb (f32.add (f32.mul (local.get $mu) (f32.load (local.get $b))) (f32.load (local.get $g))))
        (f32.store (local.get $b) (local.get $sb))
        (f32.store (local.get $p) (f32.sub (f32.load (local.get $p)) (f32.mul (local.get $lr) (local.get $sb))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $g (i32.add (local.get $g) (i32.const 4)))
        (local.set $b (i32.add (local.get $b) (i32.const 4)))
        (br $one))))

  ;; Adam: m ← β1·m + c1·g; v ← β2·v + (c2·g)·g; p ← p − (stepSize·m) / (√v·invSqrtBc2 + ε), with
  ;; c1 = 1 − β1 and c2 = 1 − β2 rounded to float32 by the caller.
  (func (export "adam")
    (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $n i32)
    (param $b1 f32) (param $b2 f32) (param $c1 f32) (param $c2 f32) (param $eps f32) (param $step f32) (param $inv f32)
    (local $end i32) (local $gv v128) (local $mv v128) (local $vv v128)
    (local $vb1 v128) (local $vb2 v128) (local $vc1 v128) (local $vc2 v128) (local $veps v128) (local $vstep v128) (local $vinv v128)
    (local $gs f32) (local $ms f32) (local $vs f32)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vb1 (f32x4.splat (local.get $b1)))
    (local.set $vb2 (f32x4.splat (local.get $b2)))
    (local.set $vc1 (f32x4.splat (local.get $c1)))
    (local.set $vc2 (f32x4.splat (local.get $c2)))
    (local.set $veps (f32x4.splat (local.get $eps)))
    (local.set $vstep (f32x4.splat (local.get $step)))
    (local.set $vinv (f32x4.splat (local.get $inv)))
    (block $done
      (loop $vec
        (br_if $done (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $end)))
        (local.set $gv (v128.load (local.get $g)))
        (local.set $mv (f32x4.add (f32x4.mul (local.get $vb1) (v128.load (local.get $m))) (f32x4.mul (local.get $vc1) (local.get $gv))))
        (local.set $vv (f32x4.add (f32x4.mul (local.get $vb2) (v128.load (local.get $v)))
                                  (f32x4.mul (f32x4.mul (local.get $vc2) (local.get $gv)) (local.get $gv))))
        (v128.store (local.get $m) (local.get $mv))
        (v128.store (local.get $v) (local.get $vv))
        (v128.store (local.get $p)
          (f32x4.sub (v128.load (local.get $p))
            (f32x4.div (f32x4.mul (local.get $vstep) (local.get $mv))
                       (f32x4.add (f32x4.mul (f32x4.sqrt (local.get $vv)) (local.get $vinv)) (local.get $veps)))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $g (i32.add (local.get $g) (i32.const 16)))
        (local.set $m (i32.add (local.get $m) (i32.const 16)))
        (local.set $v (i32.add (local.get $v) (i32.const 16)))
        (br $vec)))
    (block $tail
      (loop $one
        (br_if $tail (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $gs (f32.load (local.get $g)))
        (local.set $ms (f32.add (f32.mul (local.get $b1) (f32.load (local.get $m))) (f32.mul (local.get $c1) (local.get $gs))))
        (local.set $vs (f32.add (f32.mul (local.get $b2) (f32.load (local.get $v)))
                                (f32.mul (f32.mul (local.get $c2) (local.get $gs)) (local.get $gs))))
        (f32.store (local.get $m) (local.get $ms))
        (f32.store (local.get $v) (local.get $vs))
        (f32.store (local.get $p)
          (f32.sub (f32.load (local.get $p))
            (f32.div (f32.mul (local.get $step) (local.get $ms))
                     (f32.add (f32.mul (f32.sqrt (local.get $vs)) (local.get $inv)) (local.get $eps)))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $g (i32.add (local.get $g) (i32.const 4)))
        (local.set $m (i32.add (local.get $m) (i32.const 4)))
        (local.set $v (i32.add (local.get $v) (i32.const 4)))
        (br $one))))

  ;; y ← tanh x over n floats (y may be x), two at a time in float64 lanes: sign(x)·u/(u + 2)
  ;; with u = expm1(2|x|), |x| clamped to 10 (tanh 10 rounds to 1 in float32; a NaN passes through).
  ;; expm1(y) = 2ⁿ·expm1(r) + (2ⁿ − 1) with n = round(y/ln 2) and r = y − n·ln 2 (ln 2 split in two so
  ;; n·LN2_HI is exact), |r| ≤ 0.35: expm1(r) by its Taylor series to r¹² (truncation < 2e-14
  ;; relative). 2ⁿ from its exponent bits (n + 1023) << 52, n read from the low bits of y/ln 2 + 1.5·2⁵².
  ;; The float64 result is within about 1e-13 of tanh x, so rounding it to float32 gives Math.tanh's
  ;; float32 value bar ties closer than that to a float32 midpoint (none in 5·10⁶ values checked).
  ;; The constants live in locals, set once before the loop.
  (func (export "tanh") (param $y i32) (param $x i32) (param $n i32)
    (local $end i32) (local $last i32) (local $v v128) (local $ax v128) (local $t v128) (local $nf v128) (local $nm v128) (local $r v128) (local $q v128) (local $two v128) (local $u v128)
    (local $ten v128) (local $log2e v128) (local $ln2hi v128) (local $ln2lo v128) (local $one v128) (local $magic v128) (local $bias v128) (local $sign v128) (local $twov v128) (local $k0 v128) (local $k1 v128) (local $k2 v128) (local $k3 v128) (local $k4 v128) (local $k5 v128) (local $k6 v128) (local $k7 v128) (local $k8 v128) (local $k9 v128) (local $k10 v128)
    (local.set $ten (f64x2.splat (f64.const 10)))
    (local.set $log2e (f64x2.splat (f64.const 1.4426950408889634)))
    (local.set $ln2hi (f64x2.splat (f64.const 0x1.62e42fee00000p-1)))
    (local.set $ln2lo (f64x2.splat (f64.const 0x1.a39ef35793c76p-33)))
    (local.set $one (f64x2.splat (f64.const 1)))
    (local.set $twov (f64x2.splat (f64.const 2)))
    (local.set $magic (f64x2.splat (f64.const 6755399441055744)))
    (local.set $bias (i64x2.splat (i64.const 1023)))
    (local.set $sign (v128.const i64x2 0x8000000000000000 0x8000000000000000))
    (local.set $k0 (f64x2.splat (f64.const 2.08767569878681e-09)))
    (local.set $k1 (f64x2.splat (f64.const 2.505210838544172e-08)))
    (local.set $k2 (f64x2.splat (f64.const 2.755731922398589e-07)))
    (local.set $k3 (f64x2.splat (f64.const 2.7557319223985893e-06)))
    (local.set $k4 (f64x2.splat (f64.const 2.48015873015873e-05)))
    (local.set $k5 (f64x2.splat (f64.const 0.0001984126984126984)))
    (local.set $k6 (f64x2.splat (f64.const 0.001388888888888889)))
    (local.set $k7 (f64x2.splat (f64.const 0.008333333333333333)))
    (local.set $k8 (f64x2.splat (f64.const 0.041666666666666664)))
    (local.set $k9 (f64x2.splat (f64.const 0.16666666666666666)))
    (local.set $k10 (f64x2.splat (f64.const 0.5)))
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $pair
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        ;; Two floats (one when only one is left: the second lane is then 0 and not stored).
        (local.set $last (i32.gt_u (i32.add (local.get $x) (i32.const 8)) (local.get $end)))
        (if (local.get $last)
          (then (local.set $v (f64x2.promote_low_f32x4 (v128.load32_zero (local.get $x)))))
          (else (local.set $v (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $x))))))
        (local.set $ax (f64x2.min (f64x2.abs (local.get $v)) (local.get $ten)))
        (local.set $t (f64x2.add (local.get $ax) (local.get $ax)))
        ;; n = round(t·log₂e): adding 1.5·2⁵² rounds to an integer (to even) and leaves n in the low bits
        (local.set $nm (f64x2.add (f64x2.mul (local.get $t) (local.get $log2e)) (local.get $magic)))
        (local.set $nf (f64x2.sub (local.get $nm) (local.get $magic)))
        (local.set $r (f64x2.sub (f64x2.sub (local.get $t) (f64x2.mul (local.get $nf) (local.get $ln2hi)))
                                 (f64x2.mul (local.get $nf) (local.get $ln2lo))))
        ;; q = expm1(r) = r·(1 + r·(1/2! + r·(1/3! + … + r/12!))) by Horner: k0 … k10 = 1/12! … 1/2!
        (local.set $q (local.get $k0))
        (local.set $q (f64x2.add (f64x2.mul (local.get $q) (local.get $r)) (local.get $k1)))
        (local.set $q (f64x2.add (f64x2.mul (local.get $q) (local.get $r)) (local.get $k2)))
        (local.set $q (f64x2.add (f64x2.mul (local.get $q) (local.get $r)) (local.get $k3)))
        (local.set $q (f64x2.add (f64x2.mul (local.get $q) (local.get $r)) (local.get $k4)))
        (local.set $q (f64x2.add (f64x2.mul (local.get $q) (local.get $r)) (local.get $k5)))
        (local.set $q (f64x2.add (f64x2.mul (local.get $q) (local.get $r)) (local.get $k6)))
        (local.set $q (f64x2.add (f64x2.mul (local.get $q) (local.get $r)) (local.get $k7)))
        (local.set $q (f64x2.add (f64x2.mul (local.get $q) (local.get $r)) (local.get $k8)))
        (local.set $q (f64x2.add (f64x2.mul (local.get $q) (local.get $r)) (local.get $k9)))
        (local.set $q (f64x2.add (f64x2.mul (local.get $q) (local.get $r)) (local.get $k10)))
        (local.set $q (f64x2.add (f64x2.mul (local.get $q) (local.get $r)) (local.get $one)))
        (local.set $q (f64x2.mul (local.get $r) (local.get $q)))
        ;; 2ⁿ: n + 1.5·2⁵² holds n in its low mantissa bits; (bits − bits(1.5·2⁵²) + 1023) << 52.
        (local.set $two (i64x2.shl
          (i64x2.add (i64x2.sub (local.get $nm) (local.get $magic)) (local.get $bias))
          (i32.const 52)))
        (local.set $u (f64x2.add (f64x2.mul (local.get $two) (local.get $q)) (f64x2.sub (local.get $two) (local.get $one))))
        ;; u / (u + 2) ≥ 0, with x's sign bit, rounded to float32.
        (local.set $v (f32x4.demote_f64x2_zero
          (v128.or (f64x2.div (local.get $u) (f64x2.add (local.get $u) (local.get $twov)))
                   (v128.and (local.get $v) (local.get $sign)))))
        (if (local.get $last)
          (then (v128.store32_lane 0 (local.get $y) (local.get $v)))
          (else (v128.store64_lane 0 (local.get $y) (local.get $v))))
        (local.set $x (i32.add (local.get $x) (i32.const 8)))
        (local.set $y (i32.add (local.get $y) (i32.const 8)))
        (br $pair))))

;; y ← 1 / (1 + e^(−x)) over n floats (y may be x), two at a time in float64 lanes, with the
  ;; TypeScript layer's form: e = e^(−|x|), then 1 / (1 + e) for x ≥ 0 and e / (1 + e) below; |x|
  ;; clamped to 104 (e^(−104) rounds to 0 in float32; a NaN passes through). e^t for t = −|x| as in
  ;; tanh above (n = round(t/ln 2), r = t − n·ln 2, expm1(r) to r¹²), e = 2ⁿ + 2ⁿ·expm1(r). Equal to the
  ;; TypeScript kernel's float32 value (Math.exp in doubles) on the checked sweeps.
  (func (export "sigmoid") (param $y i32) (param $x i32) (param $n i32)
    (local $end i32) (local $last i32) (local $v v128) (local $ax v128) (local $t v128) (local $nf v128) (local $nm v128) (local $r v128) (local $q v128) (local $two v128) (local $zero v128)
    (local $cap v128) (local $e v128) (local $log2e v128) (local $ln2hi v128) (local $ln2lo v128) (local $one v128) (local $magic v128) (local $bias v128) (local $k0 v128) (local $k1 v128) (local $k2 v128) (local $k3 v128) (local $k4 v128) (local $k5 v128) (local $k6 v128) (local $k7 v128) (local $k8 v128) (local $k9 v128) (local $k10 v128)
    (local.set $cap (f64x2.splat (f64.const 104)))
    (local.set $log2e (f64x2.splat (f64.const 1.4426950408889634)))
    (local.set $ln2hi (f64x2.splat (f64.const 0x1.62e42fee00000p-1)))
    (local.set $ln2lo (f64x2.splat (f64.const 0x1.a39ef35793c76p-33)))
    (local.set $one (f64x2.splat (f64.const 1)))
    (local.set $magic (f64x2.splat (f64.const 6755399441055744)))
    (local.set $bias (i64x2.splat (i64.const 1023)))
    (local.set $k0 (f64x2.splat (f64.const 2.08767569878681e-09)))
    (local.set $k1 (f64x2.splat (f64.const 2.505210838544172e-08)))
    (local.set $k2 (f64x2.splat (f64.const 2.755731922398589e-07)))
    (local.set $k3 (f64x2.splat (f64.const 2.7557319223985893e-06)))
    (local.set $k4 (f64x2.splat (f64.const 2.48015873015873e-05)))
    (local.set $k5 (f64x2.splat (f64.const 0.0001984126984126984)))
    (local.set $k6 (f64x2.splat (f64.const 0.001388888888888889)))
    (local.set $k7 (f64x2.splat (f64.const 0.008333333333333333)))
    (local.set $k8 (f64x2.splat (f64.const 0.041666666666666664)))
    (local.set $k9 (f64x2.splat (f64.const 0.16666666666666666)))
    (local.set $k10 (f64x2.splat (f64.const 0.5)))
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $pair
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        ;; Two floats (one when only one is left: the second lane is then 0 and not stored).
        (local.set $last (i32.gt_u (i32.add (local.get $x) (i32.const 8)) (local.get $end)))
        (if (local.get $last)
          (then (local.set $v (f64x2.promote_low_f32x4 (v128.load32_zero (local.get $x)))))
          (else (local.set $v (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $x))))))
        (local.set $ax (f64x2.min (f64x2.abs (local.get $v)) (local.get $cap)))
        (local.set $t (f64x2.neg (local.get $ax)))
        ;; n = round(t·log₂e): adding 1.5·2⁵² rounds to an integer (to even) and leaves n in the low bits
        (local.set $nm (f64x2.add (f64x2.mul (local.get $t) (local.get $log2e)) (local.get $magic)))
        (local.set $nf (f64x2.sub (local.get $nm) (local.get $magic)))
        (local.set $r (f64x2.sub (f64x2.sub (local.get $t) (f64x2.mul (local.get $nf) (local.get $ln2hi)))
                                 (f64x2.mul (local.get $nf) (local.get $ln2lo))))
        ;; q = expm1(r) = r·(1 + r·(1/2! + r·(1/3! + … + r/12!))) by Horner: k0 … k10 = 1/12! … 1/2!
        (local.set $q (local.get $k0))
        (local.set $q (f64x2.add (f64x2.mul (local.get $q) (local.get $r)) (local.get $k1)))
        (local.set $q (f64x2.add (f64x2.mul (local.get $q) (local.get $r)) (local.get $k2)))
        (local.set $q (f64x2.add (f64x2.mul (local.get $q) (local.get $r)) (local.get $k3)))
        (local.set $q (f64x2.add (f64x2.mul (local.get $q) (local.get $r)) (local.get $k4)))
        (local.set $q (f64x2.add (f64x2.mul (local.get $q) (local.get $r)) (local.get $k5)))
        (local.set $q (f64x2.add (f64x2.mul (local.get $q) (local.get $r)) (local.get $k6)))
        (local.set $q (f64x2.add (f64x2.mul (local.get $q) (local.get $r)) (local.get $k7)))
        (local.set $q (f64x2.add (f64x2.mul (local.get $q) (local.get $r)) (local.get $k8)))
        (local.set $q (f64x2.add (f64x2.mul (local.get $q) (local.get $r)) (local.get $k9)))
        (local.set $q (f64x2.add (f64x2.mul (local.get $q) (local.get $r)) (local.get $k10)))
        (local.set $q (f64x2.add (f64x2.mul (local.get $q) (local.get $r)) (local.get $one)))
        (local.set $q (f64x2.mul (local.get $r) (local.get $q)))
        ;; 2ⁿ: n + 1.5·2⁵² holds n in its low mantissa bits; (bits − bits(1.5·2⁵²) + 1023) << 52.
        (local.set $two (i64x2.shl
          (i64x2.add (i64x2.sub (local.get $nm) (local.get $magic)) (local.get $bias))
          (i32.const 52)))
        ;; e = e^(−|x|) = 2ⁿ + 2ⁿ·expm1(r) (no cancellation for the tiny values of large |x|)
        (local.set $e (f64x2.add (local.get $two) (f64x2.mul (local.get $two) (local.get $q))))
        ;; 1 / (1 + e) where x ≥ 0 (−0 too), e / (1 + e) elsewhere (NaN: e is NaN), rounded to float32.
        (local.set $v (f32x4.demote_f64x2_zero
          (f64x2.div (v128.bitselect (local.get $one) (local.get $e) (f64x2.ge (local.get $v) (local.get $zero)))
                     (f64x2.add (local.get $one) (local.get $e)))))
        (if (local.get $last)
          (then (v128.store32_lane 0 (local.get $y) (local.get $v)))
          (else (v128.store64_lane 0 (local.get $y) (local.get $v))))
        (local.set $x (i32.add (local.get $x) (i32.const 8)))
        (local.set $y (i32.add (local.get $y) (i32.const 8)))
        (br $pair))))

  ;; ---- Conv2D's per-chunk passes over activations (conv-tasks.ts, convForwardTask / convBackwardTask).

  ;; Forward store: dst[r·cols + c] = src[r·stride + c] + bias for r < rows, c < cols (dst, src byte
  ;; addresses; stride in floats), through a ReLU when relu ≠ 0: +0 for v ≤ 0, v itself elsewhere (NaN
  ;; passes through, as torch.relu), like the relu export.
  ;; The float32 add is the TypeScript store's (a float32 sum rounded once), so the bits match it.
  (func (export "biasRows")
    (param $dst i32) (param $src i32) (param $stride i32) (param $rows i32) (param $cols i32) (param $bias f32) (param $relu i32)
    (local $vb v128) (local $v v128) (local $zero v128) (local $s i32) (local $end i32) (local $x f32)
    (local.set $vb (f32x4.splat (local.get $bias)))
    (local.set $stride (i32.shl (local.get $stride) (i32.const 2)))
    (block $done
      (loop $row
        (br_if $done (i32.eqz (local.get $rows)))
        (local.set $s (local.get $src))
        (local.set $end (i32.add (local.get $src) (i32.shl (local.get $cols) (i32.const 2))))
        (block $vecs
          (loop $vec
            (br_if $vecs (i32.gt_u (i32.add (local.get $s) (i32.const 16)) (local.get $end)))
            (local.set $v (f32x4.add (v128.load (local.get $s)) (local.get $vb)))
            (if (local.get $relu)
              (then (local.set $v (v128.andnot (local.get $v) (f32x4.le (local.get $v) (local.get $zero))))))
            (v128.store (local.get $dst) (local.get $v))
            (local.set $s (i32.add (local.get $s) (i32.const 16)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
            (br $vec)))
        (block $tail
          (loop $one
            (br_if $tail (i32.ge_u (local.get $s) (local.get $end)))
            (local.set $x (f32.add (f32.load (local.get $s)) (local.get $bias)))
            (if (local.get $relu)
              (then (local.set $x (select (f32.const 0) (local.get $x) (f32.le (local.get $x) (f32.const 0))))))
            (f32.store (local.get $dst) (local.get $x))
            (local.set $s (i32.add (local.get $s) (i32.const 4)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
            (br $one)))
        (local.set $src (i32.add (local.get $src) (local.get $stride)))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $row))))

  ;; Backward load: dst[r·stride + c] = src[r·cols + c], or, when mask ≠ 0, +0 where y[r·cols + c] ≤ 0 and
  ;; that elsewhere (a NaN y passes dy, as torch's threshold_backward; the bits of reluBackward);
  ;; returns the float64 sum of the values written: per row, lanes 0-1 and 2-3 of each vector into two
  ;; float64x2 sums and the tail into a scalar, combined as ((s₀ + s₁) + (s₂ + s₃)) + tail, rows added in order. A fixed order, so the
  ;; sum depends on the data and (rows, cols) alone.
  (func (export "maskRows")
    (param $dst i32) (param $stride i32) (param $src i32) (param $y i32) (param $rows i32) (param $cols i32) (param $mask i32)
    (result f64)
    (local $v v128) (local $zero v128) (local $a0 v128) (local $a1 v128) (local $s i32) (local $end i32) (local $d i32)
    (local $x f32) (local $tail f64) (local $total f64)
    (local.set $stride (i32.shl (local.get $stride) (i32.const 2)))
    (block $done
      (loop $row
        (br_if $done (i32.eqz (local.get $rows)))
        (local.set $a0 (local.get $zero))
        (local.set $a1 (local.get $zero))
        (local.set $tail (f64.const 0))
        (local.set $d (local.get $dst))
        (local.set $end (i32.add (local.get $src) (i32.shl (local.get $cols) (i32.const 2))))
        (block $vecs
          (loop $vec
            (br_if $vecs (i32.gt_u (i32.add (local.get $src) (i32.const 16)) (local.get $end)))
            (local.set $v (v128.load (local.get $src)))
            (if (local.get $mask)
              (then (local.set $v (v128.andnot (local.get $v) (f32x4.le (v128.load (local.get $y)) (local.get $zero))))))
            (v128.store (local.get $d) (local.get $v))
            (local.set $a0 (f64x2.add (local.get $a0) (f64x2.promote_low_f32x4 (local.get $v))))
            (local.set $a1 (f64x2.add (local.get $a1)
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
            (local.set $src (i32.add (local.get $src) (i32.const 16)))
            (local.set $y (i32.add (local.get $y) (i32.const 16)))
            (local.set $d (i32.add (local.get $d) (i32.const 16)))
            (br $vec)))
        (block $tailDone
          (loop $one
            (br_if $tailDone (i32.ge_u (local.get $src) (local.get $end)))
            (local.set $x (f32.load (local.get $src)))
            (if (local.get $mask)
              (then (local.set $x (select (f32.const 0) (local.get $x) (f32.le (f32.load (local.get $y)) (f32.const 0))))))
            (f32.store (local.get $d) (local.get $x))
            (local.set $tail (f64.add (local.get $tail) (f64.promote_f32 (local.get $x))))
            (local.set $src (i32.add (local.get $src) (i32.const 4)))
            (local.set $y (i32.add (local.get $y) (i32.const 4)))
            (local.set $d (i32.add (local.get $d) (i32.const 4)))
            (br $one)))
        (local.set $total (f64.add (local.get $total)
          (f64.add
            (f64.add
              (f64.add (f64x2.extract_lane 0 (local.get $a0)) (f64x2.extract_lane 1 (local.get $a0)))
              (f64.add (f64x2.extract_lane 0 (local.get $a1)) (f64x2.extract_lane 1 (local.get $a1))))
            (local.get $tail))))
        (local.set $dst (i32.add (local.get $dst) (local.get $stride)))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $row)))
    (local.get $total))

  ;; ---- 2×2, stride-2 max pooling over planes [p0, p1) (twins.ts maxPool2 and its and its
  ;; backward; the same bits): plane p of x at x + 4·p·H·W, of out / argmax at + 4·p·outH·outW;
  ;; argmax is the flat index of the window's winner counted from x. The winner is the first maximum
  ;; in scan order (a b / c d), a NaN beating every number and a later NaN an earlier one:
  ;; top = b if b > a or b is NaN, else a; bottom likewise from c, d; then bottom if it is > top or
  ;; NaN, else top. Four windows at a time (even / odd lanes of two 8-float loads per row), then
  ;; one at a time for the last outW mod 4.
  (func (export "maxPool2")
    (param $out i32) (param $am i32) (param $x i32) (param $p0 i32) (param $p1 i32)
    (param $H i32) (param $W i32) (param $outH i32) (param $outW i32)
    (local $p i32) (local $oh i32) (local $ow i32) (local $rel i32) (local $top i32) (local $o i32) (local $m i32)
    (local $va v128) (local $vb v128) (local $vc v128) (local $vd v128) (local $t0 v128) (local $t1 v128)
    (local $ia v128) (local $ib v128) (local $ic v128) (local $id v128) (local $sel v128) (local $steps v128)
    (local $vw v128) (local $one v128)
    (local $a f32) (local $b f32) (local $c f32) (local $d f32) (local $ja i32) (local $jc i32)
    (local.set $steps (v128.const i32x4 0 2 4 6))
    (local.set $vw (i32x4.splat (local.get $W)))
    (local.set $one (i32x4.splat (i32.const 1)))
    (local.set $p (local.get $p0))
    (block $planes
      (loop $plane
        (br_if $planes (i32.ge_u (local.get $p) (local.get $p1)))
        (local.set $oh (i32.const 0))
        (local.set $o (i32.mul (local.get $p) (i32.mul (local.get $outH) (local.get $outW))))
        (block $rows
          (loop $row
            (br_if $rows (i32.ge_u (local.get $oh) (local.get $outH)))
            ;; index (from x) of the top-left of window (oh, 0)
            (local.set $rel (i32.add (i32.mul (local.get $p) (i32.mul (local.get $H) (local.get $W)))
                                     (i32.mul (i32.shl (local.get $oh) (i32.const 1)) (local.get $W))))
            (local.set $ow (i32.const 0))
            (block $quads
              (loop $quad
                (br_if $quads (i32.gt_u (i32.add (local.get $ow) (i32.const 4)) (local.get $outW)))
                (local.set $top (i32.add (local.get $x) (i32.shl (i32.add (local.get $rel) (i32.shl (local.get $ow) (i32.const 1))) (i32.const 2))))
                (local.set $t0 (v128.load (local.get $top)))
                (local.set $t1 (v128.load offset=16 (local.get $top)))
                (local.set $va (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $t0) (local.get $t1)))
                (local.set $vb (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $t0) (local.get $t1)))
                (local.set $top (i32.add (local.get $top) (i32.shl (local.get $W) (i32.const 2))))
                (local.set $t0 (v128.load (local.get $top)))
                (local.set $t1 (v128.load offset=16 (local.get $top)))
                (local.set $vc (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $t0) (local.get $t1)))
                (local.set $vd (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $t0) (local.get $t1)))
                (local.set $ia (i32x4.add (i32x4.splat (i32.add (local.get $rel) (i32.shl (local.get $ow) (i32.const 1)))) (local.get $steps)))
                (local.set $ib (i32x4.add (local.get $ia) (local.get $one)))
                (local.set $ic (i32x4.add (local.get $ia) (local.get $vw)))
                (local.set $id (i32x4.add (local.get $ic) (local.get $one)))
                ;; top pair → (va, ia), bottom pair → (vc, ic), then the winner → (va, ia)
                (local.set $sel (v128.or (f32x4.gt (local.get $vb) (local.get $va)) (f32x4.ne (local.get $vb) (local.get $vb))))
                (local.set $va (v128.bitselect (local.get $vb) (local.get $va) (local.get $sel)))
                (local.set $ia (v128.bitselect (local.get $ib) (local.get $ia) (local.get $sel)))
                (local.set $sel (v128.or (f32x4.gt (local.get $vd) (local.get $vc)) (f32x4.ne (local.get $vd) (local.get $vd))))
                (local.set $vc (v128.bitselect (local.get $vd) (local.get $vc) (local.get $sel)))
                (local.set $ic (v128.bitselect (local.get $id) (local.get $ic) (local.get $sel)))
                (local.set $sel (v128.or (f32x4.gt (local.get $vc) (local.get $va)) (f32x4.ne (local.get $vc) (local.get $vc))))
                (v128.store (i32.add (local.get $out) (i32.shl (i32.add (local.get $o) (local.get $ow)) (i32.const 2)))
                  (v128.bitselect (local.get $vc) (local.get $va) (local.get $sel)))
                (v128.store (i32.add (local.get $am) (i32.shl (i32.add (local.get $o) (local.get $ow)) (i32.const 2)))
                  (v128.bitselect (local.get $ic) (local.get $ia) (local.get $sel)))
                (local.set $ow (i32.add (local.get $ow) (i32.const 4)))
                (br $quad)))
            (block $singles
              (loop $single
                (br_if $singles (i32.ge_u (local.get $ow) (local.get $outW)))
                (local.set $ja (i32.add (local.get $rel) (i32.shl (local.get $ow) (i32.const 1))))
                (local.set $jc (i32.add (local.get $ja) (local.get $W)))
                (local.set $a (f32.load (i32.add (local.get $x) (i32.shl (local.get $ja) (i32.const 2)))))
                (local.set $b (f32.load offset=4 (i32.add (local.get $x) (i32.shl (local.get $ja) (i32.const 2)))))
                (local.set $c (f32.load (i32.add (local.get $x) (i32.shl (local.get $jc) (i32.const 2)))))
                (local.set $d (f32.load offset=4 (i32.add (local.get $x) (i32.shl (local.get $jc) (i32.const 2)))))
                (if (i32.or (f32.gt (local.get $b) (local.get $a)) (f32.ne (local.get $b) (local.get $b)))
                  (then (local.set $a (local.get $b)) (local.set $ja (i32.add (local.get $ja) (i32.const 1)))))
                (if (i32.or (f32.gt (local.get $d) (local.get $c)) (f32.ne (local.get $d) (local.get $d)))
                  (then (local.set $c (local.get $d)) (local.set $jc (i32.add (local.get $jc) (i32.const 1)))))
                (if (i32.or (f32.gt (local.get $c) (local.get $a)) (f32.ne (local.get $c) (local.get $c)))
                  (then (local.set $a (local.get $c)) (local.set $ja (local.get $jc))))
                (f32.store (i32.add (local.get $out) (i32.shl (i32.add (local.get $o) (local.get $ow)) (i32.const 2))) (local.get $a))
                (i32.store (i32.add (local.get $am) (i32.shl (i32.add (local.get $o) (local.get $ow)) (i32.const 2))) (local.get $ja))
                (local.set $ow (i32.add (local.get $ow) (i32.const 1)))
                (br $single)))
            (local.set $o (i32.add (local.get $o) (local.get $outW)))
            (local.set $oh (i32.add (local.get $oh) (i32.const 1)))
            (br $row)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $plane))))

  ;; Backward of maxPool2 for planes [p0, p1): zeroes each dx plane, then dx[argmax] = 0 + dy for
  ;; each window (+0 for a −0 gradient, as the general path adds dy onto a zero).
  (func (export "maxPool2Backward")
    (param $dx i32) (param $dy i32) (param $am i32) (param $p0 i32) (param $p1 i32)
    (param $H i32) (param $W i32) (param $outH i32) (param $outW i32)
    (local $hw i32) (local $ohw i32) (local $i i32) (local $end i32)
    (local.set $hw (i32.mul (local.get $H) (local.get $W)))
    (local.set $ohw (i32.mul (local.get $outH) (local.get $outW)))
    (memory.fill (i32.add (local.get $dx) (i32.shl (i32.mul (local.get $p0) (local.get $hw)) (i32.const 2)))
      (i32.const 0) (i32.shl (i32.mul (i32.sub (local.get $p1) (local.get $p0)) (local.get $hw)) (i32.const 2)))
    (local.set $i (i32.shl (i32.mul (local.get $p0) (local.get $ohw)) (i32.const 2)))
    (local.set $end (i32.shl (i32.mul (local.get $p1) (local.get $ohw)) (i32.const 2)))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (f32.store (i32.add (local.get $dx) (i32.shl (i32.load (i32.add (local.get $am) (local.get $i))) (i32.const 2)))
          (f32.add (f32.const 0) (f32.load (i32.add (local.get $dy) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $each))))

  ;; Sum of per-chunk partials: dst[i] += parts[c·stride + i] for c = 0 … count − 1 in that order,
  ;; i < n (dst, parts byte addresses; stride in floats). Each element gets the float32 adds of the
  ;; TypeScript loop it replaces, in the same order, so the same bits; partial by partial, so dst stays
  ;; in cache while the partials stream past.
  (func (export "addParts") (param $dst i32) (param $parts i32) (param $n i32) (param $count i32) (param $stride i32)
    (local $d i32) (local $s i32) (local $end i32)
    (local.set $stride (i32.shl (local.get $stride) (i32.const 2)))
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $part
        (br_if $done (i32.eqz (local.get $count)))
        (local.set $d (local.get $dst))
        (local.set $s (local.get $parts))
        (block $vecs
          (loop $vec
            (br_if $vecs (i32.gt_u (i32.add (local.get $d) (i32.const 16)) (local.get $end)))
            (v128.store (local.get $d) (f32x4.add (v128.load (local.get $d)) (v128.load (local.get $s))))
            (local.set $d (i32.add (local.get $d) (i32.const 16)))
            (local.set $s (i32.add (local.get $s) (i32.const 16)))
            (br $vec)))
        (block $tail
          (loop $one
            (br_if $tail (i32.ge_u (local.get $d) (local.get $end)))
            (f32.store (local.get $d) (f32.add (f32.load (local.get $d)) (f32.load (local.get $s))))
            (local.set $d (i32.add (local.get $d) (i32.const 4)))
            (local.set $s (i32.add (local.get $s) (i32.const 4)))
            (br $one)))
        (local.set $parts (i32.add (local.get $parts) (local.get $stride)))
        (local.set $count (i32.sub (local.get $count) (i32.const 1)))
        (br $part))))

  ;; ---- The other optimizer updates (nag, rmsprop with and without momentum, nadam) and the weight
  ;; decay passes, in the same float32 discipline as sgd / momentum / adam above (twins.ts has
  ;; their TypeScript twins, held to the same bits by the tests).

  ;; Nesterov momentum (PyTorch's form): b ← μ·b + g; p ← p − lr·(μ·b + g).
  (func (export "nag") (param $p i32) (param $g i32) (param $b i32) (param $n i32) (param $lr f32) (param $mu f32)
    (local $end i32) (local $vlr v128) (local $vmu v128) (local $Vg v128) (local $Vb v128) (local $Sg f32) (local $Sb f32)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vlr (f32x4.splat (local.get $lr)))
    (local.set $vmu (f32x4.splat (local.get $mu)))
    (block $done
      (loop $vec
        (br_if $done (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $end)))
        (local.set $Vg (v128.load (local.get $g)))
        (local.set $Vb (f32x4.add (f32x4.mul (local.get $vmu) (v128.load (local.get $b))) (local.get $Vg)))
        (v128.store (local.get $b) (local.get $Vb))
        (v128.store (local.get $p) (f32x4.sub (v128.load (local.get $p)) (f32x4.mul (local.get $vlr) (f32x4.add (f32x4.mul (local.get $vmu) (local.get $Vb)) (local.get $Vg)))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $g (i32.add (local.get $g) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (br $vec)))
    (block $tail
      (loop $one
        (br_if $tail (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $Sg (f32.load (local.get $g)))
        (local.set $Sb (f32.add (f32.mul (local.get $mu) (f32.load (local.get $b))) (local.get $Sg)))
        (f32.store (local.get $b) (local.get $Sb))
        (f32.store (local.get $p) (f32.sub (f32.load (local.get $p)) (f32.mul (local.get $lr) (f32.add (f32.mul (local.get $mu) (local.get $Sb)) (local.get $Sg)))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $g (i32.add (local.get $g) (i32.const 4)))
        (local.set $b (i32.add (local.get $b) (i32.const 4)))
        (br $one))))

  ;; RMSProp: v ← β·v + (c·g)·g; p ← p − (lr·g) / (√v + ε), with c = 1 − β rounded to float32 by the caller.
  (func (export "rmsprop") (param $p i32) (param $g i32) (param $v i32) (param $n i32) (param $lr f32) (param $beta f32) (param $c f32) (param $eps f32)
    (local $end i32) (local $vlr v128) (local $vbeta v128) (local $vc v128) (local $veps v128) (local $Vg v128) (local $Vv v128) (local $Sg f32) (local $Sv f32)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vlr (f32x4.splat (local.get $lr)))
    (local.set $vbeta (f32x4.splat (local.get $beta)))
    (local.set $vc (f32x4.splat (local.get $c)))
    (local.set $veps (f32x4.splat (local.get $eps)))
    (block $done
      (loop $vec
        (br_if $done (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $end)))
        (local.set $Vg (v128.load (local.get $g)))
        (local.set $Vv (f32x4.add (f32x4.mul (local.get $vbeta) (v128.load (local.get $v))) (f32x4.mul (f32x4.mul (local.get $vc) (local.get $Vg)) (local.get $Vg))))
        (v128.store (local.get $v) (local.get $Vv))
        (v128.store (local.get $p) (f32x4.sub (v128.load (local.get $p)) (f32x4.div (f32x4.mul (local.get $vlr) (local.get $Vg)) (f32x4.add (f32x4.sqrt (local.get $Vv)) (local.get $veps)))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $g (i32.add (local.get $g) (i32.const 16)))
        (local.set $v (i32.add (local.get $v) (i32.const 16)))
        (br $vec)))
    (block $tail
      (loop $one
        (br_if $tail (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $Sg (f32.load (local.get $g)))
        (local.set $Sv (f32.add (f32.mul (local.get $beta) (f32.load (local.get $v))) (f32.mul (f32.mul (local.get $c) (local.get $Sg)) (local.get $Sg))))
        (f32.store (local.get $v) (local.get $Sv))
        (f32.store (local.get $p) (f32.sub (f32.load (local.get $p)) (f32.div (f32.mul (local.get $lr) (local.get $Sg)) (f32.add (f32.sqrt (local.get $Sv)) (local.get $eps)))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $g (i32.add (local.get $g) (i32.const 4)))
        (local.set $v (i32.add (local.get $v) (i32.const 4)))
        (br $one))))

  ;; RMSProp with momentum: v as in rmsprop; b ← μ·b + g / (√v + ε); p ← p − lr·b.
  (func (export "rmspropMomentum") (param $p i32) (param $g i32) (param $v i32) (param $b i32) (param $n i32) (param $lr f32) (param $beta f32) (param $c f32) (param $eps f32) (param $mu f32)
    (local $end i32) (local $vlr v128) (local $vbeta v128) (local $vc v128) (local $veps v128) (local $vmu v128) (local $Vg v128) (local $Vv v128) (local $Vb v128) (local $Sg f32) (local $Sv f32) (local $Sb f32)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vlr (f32x4.splat (local.get $lr)))
    (local.set $vbeta (f32x4.splat (local.get $beta)))
    (local.set $vc (f32x4.splat (local.get $c)))
    (local.set $veps (f32x4.splat (local.get $eps)))
    (local.set $vmu (f32x4.splat (local.get $mu)))
    (block $done
      (loop $vec
        (br_if $done (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $end)))
        (local.set $Vg (v128.load (local.get $g)))
        (local.set $Vv (f32x4.add (f32x4.mul (local.get $vbeta) (v128.load (local.get $v))) (f32x4.mul (f32x4.mul (local.get $vc) (local.get $Vg)) (local.get $Vg))))
        (v128.store (local.get $v) (local.get $Vv))
        (local.set $Vb (f32x4.add (f32x4.mul (local.get $vmu) (v128.load (local.get $b))) (f32x4.div (local.get $Vg) (f32x4.add (f32x4.sqrt (local.get $Vv)) (local.get $veps)))))
        (v128.store (local.get $b) (local.get $Vb))
        (v128.store (local.get $p) (f32x4.sub (v128.load (local.get $p)) (f32x4.mul (local.get $vlr) (local.get $Vb))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $g (i32.add (local.get $g) (i32.const 16)))
        (local.set $v (i32.add (local.get $v) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (br $vec)))
    (block $tail
      (loop $one
        (br_if $tail (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $Sg (f32.load (local.get $g)))
        (local.set $Sv (f32.add (f32.mul (local.get $beta) (f32.load (local.get $v))) (f32.mul (f32.mul (local.get $c) (local.get $Sg)) (local.get $Sg))))
        (f32.store (local.get $v) (local.get $Sv))
        (local.set $Sb (f32.add (f32.mul (local.get $mu) (f32.load (local.get $b))) (f32.div (local.get $Sg) (f32.add (f32.sqrt (local.get $Sv)) (local.get $eps)))))
        (f32.store (local.get $b) (local.get $Sb))
        (f32.store (local.get $p) (f32.sub (f32.load (local.get $p)) (f32.mul (local.get $lr) (local.get $Sb))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $g (i32.add (local.get $g) (i32.const 4)))
        (local.set $v (i32.add (local.get $v) (i32.const 4)))
        (local.set $b (i32.add (local.get $b) (i32.const 4)))
        (br $one))))

  ;; NAdam: m ← β1·m + c1·g; v ← β2·v + (c2·g)·g; p ← p − (cg·g + cm·m) / (√v·invSqrtBc2 + ε),
  ;; with c1 = 1 − β1, c2 = 1 − β2 rounded to float32 by the caller.
  (func (export "nadam") (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $n i32) (param $b1 f32) (param $b2 f32) (param $c1 f32) (param $c2 f32) (param $eps f32) (param $inv f32) (param $cg f32) (param $cm f32)
    (local $end i32) (local $vb1 v128) (local $vb2 v128) (local $vc1 v128) (local $vc2 v128) (local $veps v128) (local $vinv v128) (local $vcg v128) (local $vcm v128) (local $Vg v128) (local $Vm v128) (local $Vv v128) (local $Sg f32) (local $Sm f32) (local $Sv f32)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vb1 (f32x4.splat (local.get $b1)))
    (local.set $vb2 (f32x4.splat (local.get $b2)))
    (local.set $vc1 (f32x4.splat (local.get $c1)))
    (local.set $vc2 (f32x4.splat (local.get $c2)))
    (local.set $veps (f32x4.splat (local.get $eps)))
    (local.set $vinv (f32x4.splat (local.get $inv)))
    (local.set $vcg (f32x4.splat (local.get $cg)))
    (local.set $vcm (f32x4.splat (local.get $cm)))
    (block $done
      (loop $vec
        (br_if $done (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $end)))
        (local.set $Vg (v128.load (local.get $g)))
        (local.set $Vm (f32x4.add (f32x4.mul (local.get $vb1) (v128.load (local.get $m))) (f32x4.mul (local.get $vc1) (local.get $Vg))))
        (local.set $Vv (f32x4.add (f32x4.mul (local.get $vb2) (v128.load (local.get $v))) (f32x4.mul (f32x4.mul (local.get $vc2) (local.get $Vg)) (local.get $Vg))))
        (v128.store (local.get $m) (local.get $Vm))
        (v128.store (local.get $v) (local.get $Vv))
        (v128.store (local.get $p) (f32x4.sub (v128.load (local.get $p)) (f32x4.div (f32x4.add (f32x4.mul (local.get $vcg) (local.get $Vg)) (f32x4.mul (local.get $vcm) (local.get $Vm))) (f32x4.add (f32x4.mul (f32x4.sqrt (local.get $Vv)) (local.get $vinv)) (local.get $veps)))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $g (i32.add (local.get $g) (i32.const 16)))
        (local.set $m (i32.add (local.get $m) (i32.const 16)))
        (local.set $v (i32.add (local.get $v) (i32.const 16)))
        (br $vec)))
    (block $tail
      (loop $one
        (br_if $tail (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $Sg (f32.load (local.get $g)))
        (local.set $Sm (f32.add (f32.mul (local.get $b1) (f32.load (local.get $m))) (f32.mul (local.get $c1) (local.get $Sg))))
        (local.set $Sv (f32.add (f32.mul (local.get $b2) (f32.load (local.get $v))) (f32.mul (f32.mul (local.get $c2) (local.get $Sg)) (local.get $Sg))))
        (f32.store (local.get $m) (local.get $Sm))
        (f32.store (local.get $v) (local.get $Sv))
        (f32.store (local.get $p) (f32.sub (f32.load (local.get $p)) (f32.div (f32.add (f32.mul (local.get $cg) (local.get $Sg)) (f32.mul (local.get $cm) (local.get $Sm))) (f32.add (f32.mul (f32.sqrt (local.get $Sv)) (local.get $inv)) (local.get $eps)))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $g (i32.add (local.get $g) (i32.const 4)))
        (local.set $m (i32.add (local.get $m) (i32.const 4)))
        (local.set $v (i32.add (local.get $v) (i32.const 4)))
        (br $one))))

  ;; Coupled weight decay: d ← g + decay·p.
  (func (export "decay") (param $d i32) (param $g i32) (param $p i32) (param $n i32) (param $decay f32)
    (local $end i32) (local $vdecay v128)
    (local.set $end (i32.add (local.get $d) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vdecay (f32x4.splat (local.get $decay)))
    (block $done
      (loop $vec
        (br_if $done (i32.gt_u (i32.add (local.get $d) (i32.const 16)) (local.get $end)))
        (v128.store (local.get $d) (f32x4.add (v128.load (local.get $g)) (f32x4.mul (local.get $vdecay) (v128.load (local.get $p)))))
        (local.set $d (i32.add (local.get $d) (i32.const 16)))
        (local.set $g (i32.add (local.get $g) (i32.const 16)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $vec)))
    (block $tail
      (loop $one
        (br_if $tail (i32.ge_u (local.get $d) (local.get $end)))
        (f32.store (local.get $d) (f32.add (f32.load (local.get $g)) (f32.mul (local.get $decay) (f32.load (local.get $p)))))
        (local.set $d (i32.add (local.get $d) (i32.const 4)))
        (local.set $g (i32.add (local.get $g) (i32.const 4)))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $one))))

  ;; Decoupled weight decay: p ← p·shrink.
  (func (export "shrink") (param $p i32) (param $n i32) (param $shrink f32)
    (local $end i32) (local $vshrink v128)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vshrink (f32x4.splat (local.get $shrink)))
    (block $done
      (loop $vec
        (br_if $done (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $end)))
        (v128.store (local.get $p) (f32x4.mul (v128.load (local.get $p)) (local.get $vshrink)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $vec)))
    (block $tail
      (loop $one
        (br_if $tail (i32.ge_u (local.get $p) (local.get $end)))
        (f32.store (local.get $p) (f32.mul (f32.load (local.get $p)) (local.get $shrink)))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $one))))

  ;; ---- ReLU and its backward (twins.ts relu / reluBackward; the same bits):
  ;; out = +0 where x ≤ 0, else x (NaN passes through with its bits, as torch.relu = clamp_min(x, 0));
  ;; dx = +0 where x ≤ 0, else dy (a NaN x passes dy: torch's threshold_backward is x ≤ 0 ? 0 : dy) —
  ;; the comparison's mask cleared from the bits (andnot). Four lanes at a time, then one float at a time.
  (func (export "relu") (param $out i32) (param $x i32) (param $n i32)
    (local $end i32) (local $v v128) (local $zero v128) (local $s f32)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $vec
        (br_if $done (i32.gt_u (i32.add (local.get $out) (i32.const 16)) (local.get $end)))
        (local.set $v (v128.load (local.get $x)))
        (v128.store (local.get $out) (v128.andnot (local.get $v) (f32x4.le (local.get $v) (local.get $zero))))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (br $vec)))
    (block $tail
      (loop $one
        (br_if $tail (i32.ge_u (local.get $out) (local.get $end)))
        (local.set $s (f32.load (local.get $x)))
        (f32.store (local.get $out) (select (f32.const 0) (local.get $s) (f32.le (local.get $s) (f32.const 0))))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (br $one))))

  (func (export "reluBackward") (param $dx i32) (param $dy i32) (param $x i32) (param $n i32)
    (local $end i32) (local $zero v128)
    (local.set $end (i32.add (local.get $dx) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $vec
        (br_if $done (i32.gt_u (i32.add (local.get $dx) (i32.const 16)) (local.get $end)))
        (v128.store (local.get $dx) (v128.andnot (v128.load (local.get $dy)) (f32x4.le (v128.load (local.get $x)) (local.get $zero))))
        (local.set $dx (i32.add (local.get $dx) (i32.const 16)))
        (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (br $vec)))
    (block $tail
      (loop $one
        (br_if $tail (i32.ge_u (local.get $dx) (local.get $end)))
        (i32.store (local.get $dx)
          (select (i32.const 0) (i32.load (local.get $dy)) (f32.le (f32.load (local.get $x)) (f32.const 0))))
        (local.set $dx (i32.add (local.get $dx) (i32.const 4)))
        (local.set $dy (i32.add (local.get $dy) (i32.const 4)))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (br $one))))

  ;; ---- Thin convolution: Conv2D with few input channels (the first conv of a network), stride 1, as a
  ;; direct convolution, f32x4 along the output row. Each output is Σ over the taps (c, i, j), in that
  ;; order, of x[c, oh + i − padH, ow + j − padW]·w[c, i, j] (float32, each product and sum rounded),
  ;; rows outside the image skipped, columns outside it read as 0 (zero padding: a product 0·w, which
  ;; leaves the sum as it is for finite w, as the sum never is −0), so a SIMD lane does exactly the adds
  ;; of the scalar code. twins.ts (thinConvTwin, thinConvGradTwin) holds the same bits.
  ;; No multiply-add is written as (add acc (mul a b)) over locals: the relaxed build must not fuse them.

  ;; One output (oh, ow) of one image x (byte address of its [C, H, W]) and filter w (of its [C, kH, kW]).
  (func $thinPoint (param $x i32) (param $w i32) (param $oh i32) (param $ow i32)
    (param $C i32) (param $H i32) (param $W i32) (param $kH i32) (param $kW i32) (param $padH i32) (param $padW i32)
    (result f32)
    (local $acc f32) (local $c i32) (local $i i32) (local $j i32) (local $ih i32) (local $iw i32) (local $wAt i32)
    (local.set $wAt (local.get $w))
    (block $cs
      (loop $cl
        (br_if $cs (i32.ge_u (local.get $c) (local.get $C)))
        (local.set $i (i32.const 0))
        (block $is
          (loop $il
            (br_if $is (i32.ge_u (local.get $i) (local.get $kH)))
            (local.set $ih (i32.sub (i32.add (local.get $oh) (local.get $i)) (local.get $padH)))
            ;; unsigned compare: a negative row is out too
            (if (i32.lt_u (local.get $ih) (local.get $H))
              (then
                (local.set $j (i32.const 0))
                (block $js
                  (loop $jl
                    (br_if $js (i32.ge_u (local.get $j) (local.get $kW)))
                    (local.set $iw (i32.sub (i32.add (local.get $ow) (local.get $j)) (local.get $padW)))
                    (local.set $acc (f32.add (local.get $acc)
                      (f32.mul
                        (if (result f32) (i32.lt_u (local.get $iw) (local.get $W))
                          (then
                            (f32.load (i32.add (local.get $x) (i32.shl
                              (i32.add (i32.mul (i32.add (i32.mul (local.get $c) (local.get $H)) (local.get $ih)) (local.get $W)) (local.get $iw))
                              (i32.const 2)))))
                          (else (f32.const 0)))
                        (f32.load (i32.add (local.get $wAt) (i32.shl (local.get $j) (i32.const 2)))))))
                    (local.set $j (i32.add (local.get $j) (i32.const 1)))
                    (br $jl)))))
            (local.set $wAt (i32.add (local.get $wAt) (i32.shl (local.get $kW) (i32.const 2))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $il)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $cl)))
    (local.get $acc))

  ;; Columns s … s + 3 of an image row (byte address `row`, W ≥ 4 columns), those outside [0, W) as 0:
  ;; one in-row load at the clamped column, its lanes moved into place by a swizzle (index ≥ 16 gives 0).
  (func $thinBorderLoad (param $row i32) (param $s i32) (param $W i32) (result v128)
    (local $base i32) (local $sv v128) (local $valid v128) (local $idx v128)
    (local.set $base (local.get $s))
    (if (i32.lt_s (local.get $base) (i32.const 0)) (then (local.set $base (i32.const 0))))
    (if (i32.gt_s (local.get $base) (i32.sub (local.get $W) (i32.const 4))) (then (local.set $base (i32.sub (local.get $W) (i32.const 4)))))
    (local.set $sv (i32x4.add (i32x4.splat (local.get $s)) (v128.const i32x4 0 1 2 3)))
    (local.set $valid (v128.and
      (i32x4.ge_s (local.get $sv) (v128.const i32x4 0 0 0 0))
      (i32x4.lt_s (local.get $sv) (i32x4.splat (local.get $W)))))
    ;; lane l takes bytes 4k … 4k + 3 of the load, k = s + l − base
    (local.set $idx (i32x4.add
      (i32x4.mul (i32x4.shl (i32x4.sub (local.get $sv) (i32x4.splat (local.get $base))) (i32.const 2)) (v128.const i32x4 0x01010101 0x01010101 0x01010101 0x01010101))
      (v128.const i32x4 0x03020100 0x03020100 0x03020100 0x03020100)))
    (i8x16.swizzle
      (v128.load (i32.add (local.get $row) (i32.shl (local.get $base) (i32.const 2))))
      (v128.bitselect (local.get $idx) (v128.const i32x4 -1 -1 -1 -1) (local.get $valid))))

  ;; Outputs (oh, ow … ow + 3) of one filter, every column tap inside the image (padW ≤ ow,
  ;; ow + 3 + kW − 1 − padW < W).
  (func $thinQuad (param $x i32) (param $w i32) (param $oh i32) (param $ow i32)
    (param $C i32) (param $H i32) (param $W i32) (param $kH i32) (param $kW i32) (param $padH i32) (param $padW i32)
   
    (result v128)
    (local $xv v128) (local $rowStart i32) (local $acc v128) (local $c i32) (local $i i32) (local $j i32) (local $ih i32) (local $row i32) (local $wAt i32) (local $kW4 i32)
    (local.set $wAt (local.get $w))
    (local.set $kW4 (i32.shl (local.get $kW) (i32.const 2)))
    (block $cs
      (loop $cl
        (br_if $cs (i32.ge_u (local.get $c) (local.get $C)))
        (local.set $i (i32.const 0))
        (block $is
          (loop $il
            (br_if $is (i32.ge_u (local.get $i) (local.get $kH)))
            (local.set $ih (i32.sub (i32.add (local.get $oh) (local.get $i)) (local.get $padH)))
            (if (i32.lt_u (local.get $ih) (local.get $H))
              (then
                (local.set $rowStart (i32.add (local.get $x) (i32.shl
                  (i32.mul (i32.add (i32.mul (local.get $c) (local.get $H)) (local.get $ih)) (local.get $W))
                  (i32.const 2))))
                (local.set $row (i32.add (local.get $rowStart) (i32.shl (i32.sub (local.get $ow) (local.get $padW)) (i32.const 2))))
                (local.set $j (i32.const 0))
                (block $js
                  (loop $jl
                    (br_if $js (i32.ge_u (local.get $j) (local.get $kW4)))
                    (local.set $xv (v128.load (i32.add (local.get $row) (local.get $j))))
                    (local.set $acc (f32x4.add (local.get $acc)
                      (f32x4.mul (v128.load32_splat (i32.add (local.get $wAt) (local.get $j))) (local.get $xv))))
                    (local.set $j (i32.add (local.get $j) (i32.const 4)))
                    (br $jl)))))
            (local.set $wAt (i32.add (local.get $wAt) (local.get $kW4)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $il)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $cl)))
    (local.get $acc))

  ;; The same with the column taps outside the image read as 0 ($thinBorderLoad).
  (func $thinQuadBorder (param $x i32) (param $w i32) (param $oh i32) (param $ow i32)
    (param $C i32) (param $H i32) (param $W i32) (param $kH i32) (param $kW i32) (param $padH i32) (param $padW i32)
   
    (result v128)
    (local $xv v128) (local $rowStart i32) (local $acc v128) (local $c i32) (local $i i32) (local $j i32) (local $ih i32) (local $row i32) (local $wAt i32) (local $kW4 i32)
    (local.set $wAt (local.get $w))
    (local.set $kW4 (i32.shl (local.get $kW) (i32.const 2)))
    (block $cs
      (loop $cl
        (br_if $cs (i32.ge_u (local.get $c) (local.get $C)))
        (local.set $i (i32.const 0))
        (block $is
          (loop $il
            (br_if $is (i32.ge_u (local.get $i) (local.get $kH)))
            (local.set $ih (i32.sub (i32.add (local.get $oh) (local.get $i)) (local.get $padH)))
            (if (i32.lt_u (local.get $ih) (local.get $H))
              (then
                (local.set $rowStart (i32.add (local.get $x) (i32.shl
                  (i32.mul (i32.add (i32.mul (local.get $c) (local.get $H)) (local.get $ih)) (local.get $W))
                  (i32.const 2))))
                (local.set $row (i32.add (local.get $rowStart) (i32.shl (i32.sub (local.get $ow) (local.get $padW)) (i32.const 2))))
                (local.set $j (i32.const 0))
                (block $js
                  (loop $jl
                    (br_if $js (i32.ge_u (local.get $j) (local.get $kW4)))
                    (local.set $xv (call $thinBorderLoad (local.get $rowStart)
                      (i32.add (i32.sub (local.get $ow) (local.get $padW)) (i32.shr_u (local.get $j) (i32.const 2))) (local.get $W)))
                    (local.set $acc (f32x4.add (local.get $acc)
                      (f32x4.mul (v128.load32_splat (i32.add (local.get $wAt) (local.get $j))) (local.get $xv))))
                    (local.set $j (i32.add (local.get $j) (i32.const 4)))
                    (br $jl)))))
            (local.set $wAt (i32.add (local.get $wAt) (local.get $kW4)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $il)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $cl)))
    (local.get $acc))

  ;; Stores a quad of outputs plus the bias, through a ReLU (+0 where ≤ 0, a NaN passing) when relu = 1.
  (func $thinStoreQuad (param $at i32) (param $v v128) (param $bias f32) (param $relu i32)
    (local.set $v (f32x4.add (local.get $v) (f32x4.splat (local.get $bias))))
    (if (local.get $relu)
      (then (local.set $v (v128.andnot (local.get $v) (f32x4.le (local.get $v) (v128.const f32x4 0 0 0 0))))))
    (v128.store (local.get $at) (local.get $v)))

  ;; Stores one output plus the bias, through a ReLU when relu = 1.
  (func $thinStorePoint (param $at i32) (param $s f32) (param $bias f32) (param $relu i32)
    (local.set $s (f32.add (local.get $s) (local.get $bias)))
    (if (i32.and (local.get $relu) (f32.le (local.get $s) (f32.const 0)))
      (then (local.set $s (f32.const 0))))
    (f32.store (local.get $at) (local.get $s)))

  ;; Four filters' quads at once ($thinQuad's adds for each, one x load per tap for the four): filter
  ;; f's kernel at w + f·wStep bytes, its output quad stored at y + f·yStep bytes (bias at bias + 4f).
  (func $thinQuad4 (param $x i32) (param $w i32) (param $oh i32) (param $ow i32)
    (param $C i32) (param $H i32) (param $W i32) (param $kH i32) (param $kW i32) (param $padH i32) (param $padW i32)
    (param $y i32) (param $yStep i32) (param $wStep i32) (param $bias i32) (param $relu i32)
    (local $rowStart i32) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $xv v128)
    (local $c i32) (local $i i32) (local $j i32) (local $ih i32) (local $row i32) (local $wAt i32) (local $kW4 i32)
    (local.set $wAt (local.get $w))
    (local.set $kW4 (i32.shl (local.get $kW) (i32.const 2)))
    (block $cs
      (loop $cl
        (br_if $cs (i32.ge_u (local.get $c) (local.get $C)))
        (local.set $i (i32.const 0))
        (block $is
          (loop $il
            (br_if $is (i32.ge_u (local.get $i) (local.get $kH)))
            (local.set $ih (i32.sub (i32.add (local.get $oh) (local.get $i)) (local.get $padH)))
            (if (i32.lt_u (local.get $ih) (local.get $H))
              (then
                (local.set $rowStart (i32.add (local.get $x) (i32.shl
                  (i32.mul (i32.add (i32.mul (local.get $c) (local.get $H)) (local.get $ih)) (local.get $W))
                  (i32.const 2))))
                (local.set $row (i32.add (local.get $rowStart) (i32.shl (i32.sub (local.get $ow) (local.get $padW)) (i32.const 2))))
                (local.set $j (i32.const 0))
                (block $js
                  (loop $jl
                    (br_if $js (i32.ge_u (local.get $j) (local.get $kW4)))
                    (local.set $xv (v128.load (i32.add (local.get $row) (local.get $j))))
                    (local.set $a0 (f32x4.add (local.get $a0)
                      (f32x4.mul (v128.load32_splat (i32.add (local.get $wAt) (local.get $j))) (local.get $xv))))
                    (local.set $a1 (f32x4.add (local.get $a1)
                      (f32x4.mul (v128.load32_splat (i32.add (i32.add (local.get $wAt) (local.get $wStep)) (local.get $j))) (local.get $xv))))
                    (local.set $a2 (f32x4.add (local.get $a2)
                      (f32x4.mul (v128.load32_splat (i32.add (i32.add (local.get $wAt) (i32.shl (local.get $wStep) (i32.const 1))) (local.get $j))) (local.get $xv))))
                    (local.set $a3 (f32x4.add (local.get $a3)
                      (f32x4.mul (v128.load32_splat (i32.add (i32.add (local.get $wAt) (i32.mul (local.get $wStep) (i32.const 3))) (local.get $j))) (local.get $xv))))
                    (local.set $j (i32.add (local.get $j) (i32.const 4)))
                    (br $jl)))))
            (local.set $wAt (i32.add (local.get $wAt) (local.get $kW4)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $il)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $cl)))
    (call $thinStoreQuad (local.get $y) (local.get $a0) (f32.load (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (local.get $y) (local.get $yStep)) (local.get $a1) (f32.load offset=4 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (local.get $y) (i32.shl (local.get $yStep) (i32.const 1))) (local.get $a2) (f32.load offset=8 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (local.get $y) (i32.mul (local.get $yStep) (i32.const 3))) (local.get $a3) (f32.load offset=12 (local.get $bias)) (local.get $relu)))

  ;; The same with the column taps outside the image read as 0 ($thinBorderLoad).
  (func $thinQuad4Border (param $x i32) (param $w i32) (param $oh i32) (param $ow i32)
    (param $C i32) (param $H i32) (param $W i32) (param $kH i32) (param $kW i32) (param $padH i32) (param $padW i32)
    (param $y i32) (param $yStep i32) (param $wStep i32) (param $bias i32) (param $relu i32)
    (local $rowStart i32) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $xv v128)
    (local $c i32) (local $i i32) (local $j i32) (local $ih i32) (local $row i32) (local $wAt i32) (local $kW4 i32)
    (local.set $wAt (local.get $w))
    (local.set $kW4 (i32.shl (local.get $kW) (i32.const 2)))
    (block $cs
      (loop $cl
        (br_if $cs (i32.ge_u (local.get $c) (local.get $C)))
        (local.set $i (i32.const 0))
        (block $is
          (loop $il
            (br_if $is (i32.ge_u (local.get $i) (local.get $kH)))
            (local.set $ih (i32.sub (i32.add (local.get $oh) (local.get $i)) (local.get $padH)))
            (if (i32.lt_u (local.get $ih) (local.get $H))
              (then
                (local.set $rowStart (i32.add (local.get $x) (i32.shl
                  (i32.mul (i32.add (i32.mul (local.get $c) (local.get $H)) (local.get $ih)) (local.get $W))
                  (i32.const 2))))
                (local.set $row (i32.add (local.get $rowStart) (i32.shl (i32.sub (local.get $ow) (local.get $padW)) (i32.const 2))))
                (local.set $j (i32.const 0))
                (block $js
                  (loop $jl
                    (br_if $js (i32.ge_u (local.get $j) (local.get $kW4)))
                    (local.set $xv (call $thinBorderLoad (local.get $rowStart)
                      (i32.add (i32.sub (local.get $ow) (local.get $padW)) (i32.shr_u (local.get $j) (i32.const 2))) (local.get $W)))
                    (local.set $a0 (f32x4.add (local.get $a0)
                      (f32x4.mul (v128.load32_splat (i32.add (local.get $wAt) (local.get $j))) (local.get $xv))))
                    (local.set $a1 (f32x4.add (local.get $a1)
                      (f32x4.mul (v128.load32_splat (i32.add (i32.add (local.get $wAt) (local.get $wStep)) (local.get $j))) (local.get $xv))))
                    (local.set $a2 (f32x4.add (local.get $a2)
                      (f32x4.mul (v128.load32_splat (i32.add (i32.add (local.get $wAt) (i32.shl (local.get $wStep) (i32.const 1))) (local.get $j))) (local.get $xv))))
                    (local.set $a3 (f32x4.add (local.get $a3)
                      (f32x4.mul (v128.load32_splat (i32.add (i32.add (local.get $wAt) (i32.mul (local.get $wStep) (i32.const 3))) (local.get $j))) (local.get $xv))))
                    (local.set $j (i32.add (local.get $j) (i32.const 4)))
                    (br $jl)))))
            (local.set $wAt (i32.add (local.get $wAt) (local.get $kW4)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $il)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $cl)))
    (call $thinStoreQuad (local.get $y) (local.get $a0) (f32.load (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (local.get $y) (local.get $yStep)) (local.get $a1) (f32.load offset=4 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (local.get $y) (i32.shl (local.get $yStep) (i32.const 1))) (local.get $a2) (f32.load offset=8 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (local.get $y) (i32.mul (local.get $yStep) (i32.const 3))) (local.get $a3) (f32.load offset=12 (local.get $bias)) (local.get $relu)))

  ;; A 3×3 filter's whole output plane (y, byte address of [outH, outW]): channel by channel with the
  ;; nine weights held in registers, the quads' partial sums kept in y between channels (each output
  ;; still gets its taps' adds in (c, i, j) order), plus the bias (and ReLU) at the last channel; the
  ;; columns past the last whole quad, point by point over all channels. W ≥ 4 and outW ≥ 4.
  ;; The clamped column base of $thinBorderLoad for columns s … s + 3 of a row of W ≥ 4.
  (func $thinBorderBase (param $s i32) (param $W i32) (result i32)
    (if (i32.lt_s (local.get $s) (i32.const 0)) (then (return (i32.const 0))))
    (if (i32.gt_s (local.get $s) (i32.sub (local.get $W) (i32.const 4))) (then (return (i32.sub (local.get $W) (i32.const 4)))))
    (local.get $s))

  ;; The swizzle index of $thinBorderLoad for columns s … s + 3 (lanes outside [0, W) get 0).
  (func $thinBorderIndex (param $s i32) (param $W i32) (result v128)
    (local $sv v128) (local $valid v128)
    (local.set $sv (i32x4.add (i32x4.splat (local.get $s)) (v128.const i32x4 0 1 2 3)))
    (local.set $valid (v128.and
      (i32x4.ge_s (local.get $sv) (v128.const i32x4 0 0 0 0))
      (i32x4.lt_s (local.get $sv) (i32x4.splat (local.get $W)))))
    (v128.bitselect
      (i32x4.add
        (i32x4.mul (i32x4.shl (i32x4.sub (local.get $sv) (i32x4.splat (call $thinBorderBase (local.get $s) (local.get $W)))) (i32.const 2))
                   (v128.const i32x4 0x01010101 0x01010101 0x01010101 0x01010101))
        (v128.const i32x4 0x03020100 0x03020100 0x03020100 0x03020100))
      (v128.const i32x4 -1 -1 -1 -1) (local.get $valid)))

  ;; The first n (1 … 3) floats at `at` in the low lanes, the others 0.
  (func $thinLoadPart (param $at i32) (param $n i32) (result v128)
    (local $v v128)
    (local.set $v (f32x4.replace_lane 0 (v128.const f32x4 0 0 0 0) (f32.load (local.get $at))))
    (if (i32.gt_s (local.get $n) (i32.const 1)) (then (local.set $v (f32x4.replace_lane 1 (local.get $v) (f32.load offset=4 (local.get $at))))))
    (if (i32.gt_s (local.get $n) (i32.const 2)) (then (local.set $v (f32x4.replace_lane 2 (local.get $v) (f32.load offset=8 (local.get $at))))))
    (local.get $v))

  ;; Stores the low n (1 … 3) lanes of v at `at`.
  (func $thinStorePart (param $at i32) (param $v v128) (param $n i32)
    (f32.store (local.get $at) (f32x4.extract_lane 0 (local.get $v)))
    (if (i32.gt_s (local.get $n) (i32.const 1)) (then (f32.store offset=4 (local.get $at) (f32x4.extract_lane 1 (local.get $v)))))
    (if (i32.gt_s (local.get $n) (i32.const 2)) (then (f32.store offset=8 (local.get $at) (f32x4.extract_lane 2 (local.get $v))))))

  ;; A quad plus the bias, through a ReLU (+0 where ≤ 0, a NaN passing) when relu = 1.
  (func $thinFinish (param $v v128) (param $bias f32) (param $relu i32) (result v128)
    (local.set $v (f32x4.add (local.get $v) (f32x4.splat (local.get $bias))))
    (if (local.get $relu)
      (then (local.set $v (v128.andnot (local.get $v) (f32x4.le (local.get $v) (v128.const f32x4 0 0 0 0))))))
    (local.get $v))

  (func $thinPlane3 (param $x i32) (param $w i32) (param $y i32)
    (param $C i32) (param $H i32) (param $W i32) (param $padH i32) (param $padW i32) (param $outH i32) (param $outW i32)
    (param $bias f32) (param $relu i32)
    (local $c i32) (local $oh i32) (local $q i32) (local $nq i32) (local $end i32) (local $xc i32) (local $wc i32) (local $yRow i32)
    (local $acc v128) (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $w3 v128) (local $w4 v128) (local $w5 v128)
    (local $w6 v128) (local $w7 v128) (local $w8 v128)
    (local $s0 i32) (local $s1 i32) (local $s2 i32) (local $r0 i32) (local $r1 i32) (local $r2 i32) (local $v0 i32) (local $v1 i32) (local $v2 i32)
    (local $rem i32) (local $b0 i32) (local $b1 i32) (local $b2 i32) (local $i0 v128) (local $i1 v128) (local $i2 v128)
    (local $last i32) (local $ow i32) (local $g0 v128) (local $g1 v128) (local $g2 v128) (local $g3 v128)
    (local.set $end (i32.add (i32.sub (local.get $W) (i32.const 3)) (local.get $padW)))
    ;; quads cover the row, the last one partial when outW is not a multiple of 4 (a border quad)
    (local.set $nq (i32.and (i32.add (local.get $outW) (i32.const 3)) (i32.const -4)))
    (block $cs (loop $cl
      (br_if $cs (i32.ge_u (local.get $c) (local.get $C)))
      (local.set $xc (i32.add (local.get $x) (i32.shl (i32.mul (local.get $c) (i32.mul (local.get $H) (local.get $W))) (i32.const 2))))
      (local.set $wc (i32.add (local.get $w) (i32.mul (local.get $c) (i32.const 36))))
      (local.set $w0 (v128.load32_splat offset=0 (local.get $wc)))
      (local.set $w1 (v128.load32_splat offset=4 (local.get $wc)))
      (local.set $w2 (v128.load32_splat offset=8 (local.get $wc)))
      (local.set $w3 (v128.load32_splat offset=12 (local.get $wc)))
      (local.set $w4 (v128.load32_splat offset=16 (local.get $wc)))
      (local.set $w5 (v128.load32_splat offset=20 (local.get $wc)))
      (local.set $w6 (v128.load32_splat offset=24 (local.get $wc)))
      (local.set $w7 (v128.load32_splat offset=28 (local.get $wc)))
      (local.set $w8 (v128.load32_splat offset=32 (local.get $wc)))
      (local.set $last (i32.eq (local.get $c) (i32.sub (local.get $C) (i32.const 1))))
      (local.set $oh (i32.const 0))
      (block $rs (loop $rl
        (br_if $rs (i32.ge_u (local.get $oh) (local.get $outH)))
        (local.set $s0 (i32.add (local.get $xc) (i32.shl (i32.mul (i32.add (i32.sub (local.get $oh) (local.get $padH)) (i32.const 0)) (local.get $W)) (i32.const 2))))
        (local.set $r0 (i32.sub (local.get $s0) (i32.shl (local.get $padW) (i32.const 2))))
        (local.set $v0 (i32.lt_u (i32.add (i32.sub (local.get $oh) (local.get $padH)) (i32.const 0)) (local.get $H)))
        (local.set $s1 (i32.add (local.get $xc) (i32.shl (i32.mul (i32.add (i32.sub (local.get $oh) (local.get $padH)) (i32.const 1)) (local.get $W)) (i32.const 2))))
        (local.set $r1 (i32.sub (local.get $s1) (i32.shl (local.get $padW) (i32.const 2))))
        (local.set $v1 (i32.lt_u (i32.add (i32.sub (local.get $oh) (local.get $padH)) (i32.const 1)) (local.get $H)))
        (local.set $s2 (i32.add (local.get $xc) (i32.shl (i32.mul (i32.add (i32.sub (local.get $oh) (local.get $padH)) (i32.const 2)) (local.get $W)) (i32.const 2))))
        (local.set $r2 (i32.sub (local.get $s2) (i32.shl (local.get $padW) (i32.const 2))))
        (local.set $v2 (i32.lt_u (i32.add (i32.sub (local.get $oh) (local.get $padH)) (i32.const 2)) (local.get $H)))
        (local.set $yRow (i32.add (local.get $y) (i32.shl (i32.mul (local.get $oh) (local.get $outW)) (i32.const 2))))
        (local.set $q (i32.const 0))
        (block $qs (loop $ql
          (br_if $qs (i32.ge_s (local.get $q) (local.get $nq)))
          ;; four inner quads at once: four independent chains of adds in flight
          (if (i32.and (i32.and (i32.le_s (i32.add (local.get $q) (i32.const 16)) (local.get $nq)) (i32.ge_s (local.get $q) (local.get $padW)))
                       (i32.le_s (i32.add (local.get $q) (i32.const 15)) (local.get $end)))
            (then
              (local.set $g0 (if (result v128) (local.get $c) (then (v128.load offset=0 (i32.add (local.get $yRow) (i32.shl (local.get $q) (i32.const 2))))) (else (v128.const f32x4 0 0 0 0))))
              (local.set $g1 (if (result v128) (local.get $c) (then (v128.load offset=16 (i32.add (local.get $yRow) (i32.shl (local.get $q) (i32.const 2))))) (else (v128.const f32x4 0 0 0 0))))
              (local.set $g2 (if (result v128) (local.get $c) (then (v128.load offset=32 (i32.add (local.get $yRow) (i32.shl (local.get $q) (i32.const 2))))) (else (v128.const f32x4 0 0 0 0))))
              (local.set $g3 (if (result v128) (local.get $c) (then (v128.load offset=48 (i32.add (local.get $yRow) (i32.shl (local.get $q) (i32.const 2))))) (else (v128.const f32x4 0 0 0 0))))
              (if (local.get $v0) (then
                (local.set $g0 (f32x4.add (local.get $g0) (f32x4.mul (v128.load offset=0 (i32.add (local.get $r0) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w0))))
                (local.set $g1 (f32x4.add (local.get $g1) (f32x4.mul (v128.load offset=16 (i32.add (local.get $r0) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w0))))
                (local.set $g2 (f32x4.add (local.get $g2) (f32x4.mul (v128.load offset=32 (i32.add (local.get $r0) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w0))))
                (local.set $g3 (f32x4.add (local.get $g3) (f32x4.mul (v128.load offset=48 (i32.add (local.get $r0) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w0))))
                (local.set $g0 (f32x4.add (local.get $g0) (f32x4.mul (v128.load offset=4 (i32.add (local.get $r0) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w1))))
                (local.set $g1 (f32x4.add (local.get $g1) (f32x4.mul (v128.load offset=20 (i32.add (local.get $r0) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w1))))
                (local.set $g2 (f32x4.add (local.get $g2) (f32x4.mul (v128.load offset=36 (i32.add (local.get $r0) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w1))))
                (local.set $g3 (f32x4.add (local.get $g3) (f32x4.mul (v128.load offset=52 (i32.add (local.get $r0) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w1))))
                (local.set $g0 (f32x4.add (local.get $g0) (f32x4.mul (v128.load offset=8 (i32.add (local.get $r0) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w2))))
                (local.set $g1 (f32x4.add (local.get $g1) (f32x4.mul (v128.load offset=24 (i32.add (local.get $r0) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w2))))
                (local.set $g2 (f32x4.add (local.get $g2) (f32x4.mul (v128.load offset=40 (i32.add (local.get $r0) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w2))))
                (local.set $g3 (f32x4.add (local.get $g3) (f32x4.mul (v128.load offset=56 (i32.add (local.get $r0) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w2))))))
              (if (local.get $v1) (then
                (local.set $g0 (f32x4.add (local.get $g0) (f32x4.mul (v128.load offset=0 (i32.add (local.get $r1) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w3))))
                (local.set $g1 (f32x4.add (local.get $g1) (f32x4.mul (v128.load offset=16 (i32.add (local.get $r1) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w3))))
                (local.set $g2 (f32x4.add (local.get $g2) (f32x4.mul (v128.load offset=32 (i32.add (local.get $r1) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w3))))
                (local.set $g3 (f32x4.add (local.get $g3) (f32x4.mul (v128.load offset=48 (i32.add (local.get $r1) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w3))))
                (local.set $g0 (f32x4.add (local.get $g0) (f32x4.mul (v128.load offset=4 (i32.add (local.get $r1) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w4))))
                (local.set $g1 (f32x4.add (local.get $g1) (f32x4.mul (v128.load offset=20 (i32.add (local.get $r1) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w4))))
                (local.set $g2 (f32x4.add (local.get $g2) (f32x4.mul (v128.load offset=36 (i32.add (local.get $r1) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w4))))
                (local.set $g3 (f32x4.add (local.get $g3) (f32x4.mul (v128.load offset=52 (i32.add (local.get $r1) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w4))))
                (local.set $g0 (f32x4.add (local.get $g0) (f32x4.mul (v128.load offset=8 (i32.add (local.get $r1) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w5))))
                (local.set $g1 (f32x4.add (local.get $g1) (f32x4.mul (v128.load offset=24 (i32.add (local.get $r1) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w5))))
                (local.set $g2 (f32x4.add (local.get $g2) (f32x4.mul (v128.load offset=40 (i32.add (local.get $r1) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w5))))
                (local.set $g3 (f32x4.add (local.get $g3) (f32x4.mul (v128.load offset=56 (i32.add (local.get $r1) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w5))))))
              (if (local.get $v2) (then
                (local.set $g0 (f32x4.add (local.get $g0) (f32x4.mul (v128.load offset=0 (i32.add (local.get $r2) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w6))))
                (local.set $g1 (f32x4.add (local.get $g1) (f32x4.mul (v128.load offset=16 (i32.add (local.get $r2) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w6))))
                (local.set $g2 (f32x4.add (local.get $g2) (f32x4.mul (v128.load offset=32 (i32.add (local.get $r2) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w6))))
                (local.set $g3 (f32x4.add (local.get $g3) (f32x4.mul (v128.load offset=48 (i32.add (local.get $r2) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w6))))
                (local.set $g0 (f32x4.add (local.get $g0) (f32x4.mul (v128.load offset=4 (i32.add (local.get $r2) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w7))))
                (local.set $g1 (f32x4.add (local.get $g1) (f32x4.mul (v128.load offset=20 (i32.add (local.get $r2) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w7))))
                (local.set $g2 (f32x4.add (local.get $g2) (f32x4.mul (v128.load offset=36 (i32.add (local.get $r2) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w7))))
                (local.set $g3 (f32x4.add (local.get $g3) (f32x4.mul (v128.load offset=52 (i32.add (local.get $r2) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w7))))
                (local.set $g0 (f32x4.add (local.get $g0) (f32x4.mul (v128.load offset=8 (i32.add (local.get $r2) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w8))))
                (local.set $g1 (f32x4.add (local.get $g1) (f32x4.mul (v128.load offset=24 (i32.add (local.get $r2) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w8))))
                (local.set $g2 (f32x4.add (local.get $g2) (f32x4.mul (v128.load offset=40 (i32.add (local.get $r2) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w8))))
                (local.set $g3 (f32x4.add (local.get $g3) (f32x4.mul (v128.load offset=56 (i32.add (local.get $r2) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w8))))))
              (if (local.get $last)
                (then (call $thinStoreQuad (i32.add (i32.add (local.get $yRow) (i32.shl (local.get $q) (i32.const 2))) (i32.const 0)) (local.get $g0) (local.get $bias) (local.get $relu)))
                (else (v128.store offset=0 (i32.add (local.get $yRow) (i32.shl (local.get $q) (i32.const 2))) (local.get $g0))))
              (if (local.get $last)
                (then (call $thinStoreQuad (i32.add (i32.add (local.get $yRow) (i32.shl (local.get $q) (i32.const 2))) (i32.const 16)) (local.get $g1) (local.get $bias) (local.get $relu)))
                (else (v128.store offset=16 (i32.add (local.get $yRow) (i32.shl (local.get $q) (i32.const 2))) (local.get $g1))))
              (if (local.get $last)
                (then (call $thinStoreQuad (i32.add (i32.add (local.get $yRow) (i32.shl (local.get $q) (i32.const 2))) (i32.const 32)) (local.get $g2) (local.get $bias) (local.get $relu)))
                (else (v128.store offset=32 (i32.add (local.get $yRow) (i32.shl (local.get $q) (i32.const 2))) (local.get $g2))))
              (if (local.get $last)
                (then (call $thinStoreQuad (i32.add (i32.add (local.get $yRow) (i32.shl (local.get $q) (i32.const 2))) (i32.const 48)) (local.get $g3) (local.get $bias) (local.get $relu)))
                (else (v128.store offset=48 (i32.add (local.get $yRow) (i32.shl (local.get $q) (i32.const 2))) (local.get $g3))))
              (local.set $q (i32.add (local.get $q) (i32.const 16)))
              (br $ql)))
          (local.set $rem (i32.sub (local.get $outW) (local.get $q)))
          (local.set $acc (v128.const f32x4 0 0 0 0))
          (if (local.get $c)
            (then
              (if (i32.ge_s (local.get $rem) (i32.const 4))
                (then (local.set $acc (v128.load (i32.add (local.get $yRow) (i32.shl (local.get $q) (i32.const 2))))))
                (else (local.set $acc (call $thinLoadPart (i32.add (local.get $yRow) (i32.shl (local.get $q) (i32.const 2))) (local.get $rem)))))))
          (if (i32.or (i32.lt_s (local.get $q) (local.get $padW)) (i32.gt_s (i32.add (local.get $q) (i32.const 3)) (local.get $end)))
            (then
              (local.set $b0 (i32.shl (call $thinBorderBase (i32.add (i32.sub (local.get $q) (local.get $padW)) (i32.const 0)) (local.get $W)) (i32.const 2)))
              (local.set $i0 (call $thinBorderIndex (i32.add (i32.sub (local.get $q) (local.get $padW)) (i32.const 0)) (local.get $W)))
              (local.set $b1 (i32.shl (call $thinBorderBase (i32.add (i32.sub (local.get $q) (local.get $padW)) (i32.const 1)) (local.get $W)) (i32.const 2)))
              (local.set $i1 (call $thinBorderIndex (i32.add (i32.sub (local.get $q) (local.get $padW)) (i32.const 1)) (local.get $W)))
              (local.set $b2 (i32.shl (call $thinBorderBase (i32.add (i32.sub (local.get $q) (local.get $padW)) (i32.const 2)) (local.get $W)) (i32.const 2)))
              (local.set $i2 (call $thinBorderIndex (i32.add (i32.sub (local.get $q) (local.get $padW)) (i32.const 2)) (local.get $W)))
            (if (local.get $v0) (then
              (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (i8x16.swizzle (v128.load (i32.add (local.get $s0) (local.get $b0))) (local.get $i0)) (local.get $w0))))
              (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (i8x16.swizzle (v128.load (i32.add (local.get $s0) (local.get $b1))) (local.get $i1)) (local.get $w1))))
              (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (i8x16.swizzle (v128.load (i32.add (local.get $s0) (local.get $b2))) (local.get $i2)) (local.get $w2))))))
            (if (local.get $v1) (then
              (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (i8x16.swizzle (v128.load (i32.add (local.get $s1) (local.get $b0))) (local.get $i0)) (local.get $w3))))
              (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (i8x16.swizzle (v128.load (i32.add (local.get $s1) (local.get $b1))) (local.get $i1)) (local.get $w4))))
              (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (i8x16.swizzle (v128.load (i32.add (local.get $s1) (local.get $b2))) (local.get $i2)) (local.get $w5))))))
            (if (local.get $v2) (then
              (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (i8x16.swizzle (v128.load (i32.add (local.get $s2) (local.get $b0))) (local.get $i0)) (local.get $w6))))
              (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (i8x16.swizzle (v128.load (i32.add (local.get $s2) (local.get $b1))) (local.get $i1)) (local.get $w7))))
              (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (i8x16.swizzle (v128.load (i32.add (local.get $s2) (local.get $b2))) (local.get $i2)) (local.get $w8)))))))
            (else
            (if (local.get $v0) (then
              (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load offset=0 (i32.add (local.get $r0) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w0))))
              (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load offset=4 (i32.add (local.get $r0) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w1))))
              (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load offset=8 (i32.add (local.get $r0) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w2))))))
            (if (local.get $v1) (then
              (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load offset=0 (i32.add (local.get $r1) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w3))))
              (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load offset=4 (i32.add (local.get $r1) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w4))))
              (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load offset=8 (i32.add (local.get $r1) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w5))))))
            (if (local.get $v2) (then
              (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load offset=0 (i32.add (local.get $r2) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w6))))
              (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load offset=4 (i32.add (local.get $r2) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w7))))
              (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load offset=8 (i32.add (local.get $r2) (i32.shl (local.get $q) (i32.const 2)))) (local.get $w8))))))))
          (if (local.get $last)
            (then (local.set $acc (call $thinFinish (local.get $acc) (local.get $bias) (local.get $relu)))))
          (if (i32.ge_s (local.get $rem) (i32.const 4))
            (then (v128.store (i32.add (local.get $yRow) (i32.shl (local.get $q) (i32.const 2))) (local.get $acc)))
            (else (call $thinStorePart (i32.add (local.get $yRow) (i32.shl (local.get $q) (i32.const 2))) (local.get $acc) (local.get $rem))))
          (local.set $q (i32.add (local.get $q) (i32.const 4)))
          (br $ql)))
        (local.set $oh (i32.add (local.get $oh) (i32.const 1)))
        (br $rl)))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (br $cl)))
    ;; the columns past the last whole quad
    (local.set $oh (i32.const 0))
    (block $rs2 (loop $rl2
      (br_if $rs2 (i32.ge_u (local.get $oh) (local.get $outH)))
      (local.set $ow (local.get $nq))
      (block $ps (loop $pl
        (br_if $ps (i32.ge_u (local.get $ow) (local.get $outW)))
        (call $thinStorePoint
          (i32.add (local.get $y) (i32.shl (i32.add (i32.mul (local.get $oh) (local.get $outW)) (local.get $ow)) (i32.const 2)))
          (call $thinPoint (local.get $x) (local.get $w) (local.get $oh) (local.get $ow)
            (local.get $C) (local.get $H) (local.get $W) (i32.const 3) (i32.const 3) (local.get $padH) (local.get $padW))
          (local.get $bias) (local.get $relu))
        (local.set $ow (i32.add (local.get $ow) (i32.const 1)))
        (br $pl)))
      (local.set $oh (i32.add (local.get $oh) (i32.const 1)))
      (br $rl2))))

  ;; Interior runs of the thin convolution, register-blocked: one call computes nf filters (1 … 4) × R
  ;; outputs of one row, R = 4·Q (Q quads), every tap inside the image, so 2·nf … 4·nf independent add
  ;; chains share each x load. x: byte address of x[b, 0, oh − padH, ow − padW]; w: of w[o0]; filter f's
  ;; kernel at w + f·wStep, its outputs at y + f·yStep (bias at bias + 4f). Per output, the same adds in
  ;; the same order as $thinPoint (each sum is written mul-first, outside the shape the relaxed build
  ;; rewrites into a fused multiply-add). Generated per (nf, Q): the accumulators must be locals.
  ;; 1 filter × 16 outputs (4 quads) of one row, every tap inside the image: 4 independent
  ;; add chains, 4 x loads and 1 weight splat per tap (see $thinRuns).
  (func $thinRun16x1 (param $x i32) (param $w i32) (param $C i32) (param $kH i32) (param $kW i32)
    (param $chanStep i32) (param $rowStep i32) (param $y i32) (param $yStep i32) (param $wStep i32) (param $bias i32) (param $relu i32)
    (local $a00 v128) (local $a01 v128) (local $a02 v128) (local $a03 v128) (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128) (local $ws v128)
    (local $c i32) (local $i i32) (local $j i32) (local $row i32) (local $xc i32) (local $wAt i32) (local $kW4 i32)
    (local.set $kW4 (i32.shl (local.get $kW) (i32.const 2)))
    (local.set $wAt (local.get $w))
    (local.set $xc (local.get $x))
    (block $cs (loop $cl
      (br_if $cs (i32.ge_u (local.get $c) (local.get $C)))
      (local.set $row (local.get $xc))
      (local.set $i (i32.const 0))
      (block $is (loop $il
        (br_if $is (i32.ge_u (local.get $i) (local.get $kH)))
        (local.set $j (i32.const 0))
        (block $js (loop $jl
          (br_if $js (i32.ge_u (local.get $j) (local.get $kW4)))
          (local.set $x0 (v128.load (i32.add (local.get $row) (local.get $j))))
          (local.set $x1 (v128.load offset=16 (i32.add (local.get $row) (local.get $j))))
          (local.set $x2 (v128.load offset=32 (i32.add (local.get $row) (local.get $j))))
          (local.set $x3 (v128.load offset=48 (i32.add (local.get $row) (local.get $j))))
          (local.set $ws (v128.load32_splat (i32.add (local.get $wAt) (local.get $j))))
          (local.set $a00 (f32x4.add (f32x4.mul (local.get $x0) (local.get $ws)) (local.get $a00)))
          (local.set $a01 (f32x4.add (f32x4.mul (local.get $x1) (local.get $ws)) (local.get $a01)))
          (local.set $a02 (f32x4.add (f32x4.mul (local.get $x2) (local.get $ws)) (local.get $a02)))
          (local.set $a03 (f32x4.add (f32x4.mul (local.get $x3) (local.get $ws)) (local.get $a03)))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $jl)))
        (local.set $row (i32.add (local.get $row) (local.get $rowStep)))
        (local.set $wAt (i32.add (local.get $wAt) (local.get $kW4)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $il)))
      (local.set $xc (i32.add (local.get $xc) (local.get $chanStep)))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (br $cl)))
    (call $thinStoreQuad (local.get $y) (local.get $a00) (f32.load offset=0 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (local.get $y) (i32.const 16)) (local.get $a01) (f32.load offset=0 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (local.get $y) (i32.const 32)) (local.get $a02) (f32.load offset=0 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (local.get $y) (i32.const 48)) (local.get $a03) (f32.load offset=0 (local.get $bias)) (local.get $relu)))

  ;; 2 filters × 16 outputs (4 quads) of one row, every tap inside the image: 8 independent
  ;; add chains, 4 x loads and 2 weight splats per tap (see $thinRuns).
  (func $thinRun16x2 (param $x i32) (param $w i32) (param $C i32) (param $kH i32) (param $kW i32)
    (param $chanStep i32) (param $rowStep i32) (param $y i32) (param $yStep i32) (param $wStep i32) (param $bias i32) (param $relu i32)
    (local $a00 v128) (local $a01 v128) (local $a02 v128) (local $a03 v128) (local $a10 v128) (local $a11 v128) (local $a12 v128) (local $a13 v128) (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128) (local $ws v128)
    (local $c i32) (local $i i32) (local $j i32) (local $row i32) (local $xc i32) (local $wAt i32) (local $kW4 i32)
    (local.set $kW4 (i32.shl (local.get $kW) (i32.const 2)))
    (local.set $wAt (local.get $w))
    (local.set $xc (local.get $x))
    (block $cs (loop $cl
      (br_if $cs (i32.ge_u (local.get $c) (local.get $C)))
      (local.set $row (local.get $xc))
      (local.set $i (i32.const 0))
      (block $is (loop $il
        (br_if $is (i32.ge_u (local.get $i) (local.get $kH)))
        (local.set $j (i32.const 0))
        (block $js (loop $jl
          (br_if $js (i32.ge_u (local.get $j) (local.get $kW4)))
          (local.set $x0 (v128.load (i32.add (local.get $row) (local.get $j))))
          (local.set $x1 (v128.load offset=16 (i32.add (local.get $row) (local.get $j))))
          (local.set $x2 (v128.load offset=32 (i32.add (local.get $row) (local.get $j))))
          (local.set $x3 (v128.load offset=48 (i32.add (local.get $row) (local.get $j))))
          (local.set $ws (v128.load32_splat (i32.add (local.get $wAt) (local.get $j))))
          (local.set $a00 (f32x4.add (f32x4.mul (local.get $x0) (local.get $ws)) (local.get $a00)))
          (local.set $a01 (f32x4.add (f32x4.mul (local.get $x1) (local.get $ws)) (local.get $a01)))
          (local.set $a02 (f32x4.add (f32x4.mul (local.get $x2) (local.get $ws)) (local.get $a02)))
          (local.set $a03 (f32x4.add (f32x4.mul (local.get $x3) (local.get $ws)) (local.get $a03)))
          (local.set $ws (v128.load32_splat (i32.add (i32.add (local.get $wAt) (local.get $wStep)) (local.get $j))))
          (local.set $a10 (f32x4.add (f32x4.mul (local.get $x0) (local.get $ws)) (local.get $a10)))
          (local.set $a11 (f32x4.add (f32x4.mul (local.get $x1) (local.get $ws)) (local.get $a11)))
          (local.set $a12 (f32x4.add (f32x4.mul (local.get $x2) (local.get $ws)) (local.get $a12)))
          (local.set $a13 (f32x4.add (f32x4.mul (local.get $x3) (local.get $ws)) (local.get $a13)))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $jl)))
        (local.set $row (i32.add (local.get $row) (local.get $rowStep)))
        (local.set $wAt (i32.add (local.get $wAt) (local.get $kW4)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $il)))
      (local.set $xc (i32.add (local.get $xc) (local.get $chanStep)))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (br $cl)))
    (call $thinStoreQuad (local.get $y) (local.get $a00) (f32.load offset=0 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (local.get $y) (i32.const 16)) (local.get $a01) (f32.load offset=0 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (local.get $y) (i32.const 32)) (local.get $a02) (f32.load offset=0 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (local.get $y) (i32.const 48)) (local.get $a03) (f32.load offset=0 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (local.get $y) (local.get $yStep)) (local.get $a10) (f32.load offset=4 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (i32.add (local.get $y) (local.get $yStep)) (i32.const 16)) (local.get $a11) (f32.load offset=4 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (i32.add (local.get $y) (local.get $yStep)) (i32.const 32)) (local.get $a12) (f32.load offset=4 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (i32.add (local.get $y) (local.get $yStep)) (i32.const 48)) (local.get $a13) (f32.load offset=4 (local.get $bias)) (local.get $relu)))

  ;; 3 filters × 12 outputs (3 quads) of one row, every tap inside the image: 9 independent
  ;; add chains, 3 x loads and 3 weight splats per tap (see $thinRuns).
  (func $thinRun12x3 (param $x i32) (param $w i32) (param $C i32) (param $kH i32) (param $kW i32)
    (param $chanStep i32) (param $rowStep i32) (param $y i32) (param $yStep i32) (param $wStep i32) (param $bias i32) (param $relu i32)
    (local $a00 v128) (local $a01 v128) (local $a02 v128) (local $a10 v128) (local $a11 v128) (local $a12 v128) (local $a20 v128) (local $a21 v128) (local $a22 v128) (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $ws v128)
    (local $c i32) (local $i i32) (local $j i32) (local $row i32) (local $xc i32) (local $wAt i32) (local $kW4 i32)
    (local.set $kW4 (i32.shl (local.get $kW) (i32.const 2)))
    (local.set $wAt (local.get $w))
    (local.set $xc (local.get $x))
    (block $cs (loop $cl
      (br_if $cs (i32.ge_u (local.get $c) (local.get $C)))
      (local.set $row (local.get $xc))
      (local.set $i (i32.const 0))
      (block $is (loop $il
        (br_if $is (i32.ge_u (local.get $i) (local.get $kH)))
        (local.set $j (i32.const 0))
        (block $js (loop $jl
          (br_if $js (i32.ge_u (local.get $j) (local.get $kW4)))
          (local.set $x0 (v128.load (i32.add (local.get $row) (local.get $j))))
          (local.set $x1 (v128.load offset=16 (i32.add (local.get $row) (local.get $j))))
          (local.set $x2 (v128.load offset=32 (i32.add (local.get $row) (local.get $j))))
          (local.set $ws (v128.load32_splat (i32.add (local.get $wAt) (local.get $j))))
          (local.set $a00 (f32x4.add (f32x4.mul (local.get $x0) (local.get $ws)) (local.get $a00)))
          (local.set $a01 (f32x4.add (f32x4.mul (local.get $x1) (local.get $ws)) (local.get $a01)))
          (local.set $a02 (f32x4.add (f32x4.mul (local.get $x2) (local.get $ws)) (local.get $a02)))
          (local.set $ws (v128.load32_splat (i32.add (i32.add (local.get $wAt) (local.get $wStep)) (local.get $j))))
          (local.set $a10 (f32x4.add (f32x4.mul (local.get $x0) (local.get $ws)) (local.get $a10)))
          (local.set $a11 (f32x4.add (f32x4.mul (local.get $x1) (local.get $ws)) (local.get $a11)))
          (local.set $a12 (f32x4.add (f32x4.mul (local.get $x2) (local.get $ws)) (local.get $a12)))
          (local.set $ws (v128.load32_splat (i32.add (i32.add (local.get $wAt) (i32.mul (local.get $wStep) (i32.const 2))) (local.get $j))))
          (local.set $a20 (f32x4.add (f32x4.mul (local.get $x0) (local.get $ws)) (local.get $a20)))
          (local.set $a21 (f32x4.add (f32x4.mul (local.get $x1) (local.get $ws)) (local.get $a21)))
          (local.set $a22 (f32x4.add (f32x4.mul (local.get $x2) (local.get $ws)) (local.get $a22)))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $jl)))
        (local.set $row (i32.add (local.get $row) (local.get $rowStep)))
        (local.set $wAt (i32.add (local.get $wAt) (local.get $kW4)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $il)))
      (local.set $xc (i32.add (local.get $xc) (local.get $chanStep)))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (br $cl)))
    (call $thinStoreQuad (local.get $y) (local.get $a00) (f32.load offset=0 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (local.get $y) (i32.const 16)) (local.get $a01) (f32.load offset=0 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (local.get $y) (i32.const 32)) (local.get $a02) (f32.load offset=0 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (local.get $y) (local.get $yStep)) (local.get $a10) (f32.load offset=4 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (i32.add (local.get $y) (local.get $yStep)) (i32.const 16)) (local.get $a11) (f32.load offset=4 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (i32.add (local.get $y) (local.get $yStep)) (i32.const 32)) (local.get $a12) (f32.load offset=4 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (local.get $y) (i32.mul (local.get $yStep) (i32.const 2))) (local.get $a20) (f32.load offset=8 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (i32.add (local.get $y) (i32.mul (local.get $yStep) (i32.const 2))) (i32.const 16)) (local.get $a21) (f32.load offset=8 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (i32.add (local.get $y) (i32.mul (local.get $yStep) (i32.const 2))) (i32.const 32)) (local.get $a22) (f32.load offset=8 (local.get $bias)) (local.get $relu)))

  ;; 1 filter × 8 outputs (2 quads) of one row, every tap inside the image: 2 independent
  ;; add chains, 2 x loads and 1 weight splat per tap (see $thinRuns).
  (func $thinRun8x1 (param $x i32) (param $w i32) (param $C i32) (param $kH i32) (param $kW i32)
    (param $chanStep i32) (param $rowStep i32) (param $y i32) (param $yStep i32) (param $wStep i32) (param $bias i32) (param $relu i32)
    (local $a00 v128) (local $a01 v128) (local $x0 v128) (local $x1 v128) (local $ws v128)
    (local $c i32) (local $i i32) (local $j i32) (local $row i32) (local $xc i32) (local $wAt i32) (local $kW4 i32)
    (local.set $kW4 (i32.shl (local.get $kW) (i32.const 2)))
    (local.set $wAt (local.get $w))
    (local.set $xc (local.get $x))
    (block $cs (loop $cl
      (br_if $cs (i32.ge_u (local.get $c) (local.get $C)))
      (local.set $row (local.get $xc))
      (local.set $i (i32.const 0))
      (block $is (loop $il
        (br_if $is (i32.ge_u (local.get $i) (local.get $kH)))
        (local.set $j (i32.const 0))
        (block $js (loop $jl
          (br_if $js (i32.ge_u (local.get $j) (local.get $kW4)))
          (local.set $x0 (v128.load (i32.add (local.get $row) (local.get $j))))
          (local.set $x1 (v128.load offset=16 (i32.add (local.get $row) (local.get $j))))
          (local.set $ws (v128.load32_splat (i32.add (local.get $wAt) (local.get $j))))
          (local.set $a00 (f32x4.add (f32x4.mul (local.get $x0) (local.get $ws)) (local.get $a00)))
          (local.set $a01 (f32x4.add (f32x4.mul (local.get $x1) (local.get $ws)) (local.get $a01)))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $jl)))
        (local.set $row (i32.add (local.get $row) (local.get $rowStep)))
        (local.set $wAt (i32.add (local.get $wAt) (local.get $kW4)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $il)))
      (local.set $xc (i32.add (local.get $xc) (local.get $chanStep)))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (br $cl)))
    (call $thinStoreQuad (local.get $y) (local.get $a00) (f32.load offset=0 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (local.get $y) (i32.const 16)) (local.get $a01) (f32.load offset=0 (local.get $bias)) (local.get $relu)))

  ;; 2 filters × 8 outputs (2 quads) of one row, every tap inside the image: 4 independent
  ;; add chains, 2 x loads and 2 weight splats per tap (see $thinRuns).
  (func $thinRun8x2 (param $x i32) (param $w i32) (param $C i32) (param $kH i32) (param $kW i32)
    (param $chanStep i32) (param $rowStep i32) (param $y i32) (param $yStep i32) (param $wStep i32) (param $bias i32) (param $relu i32)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128) (local $x0 v128) (local $x1 v128) (local $ws v128)
    (local $c i32) (local $i i32) (local $j i32) (local $row i32) (local $xc i32) (local $wAt i32) (local $kW4 i32)
    (local.set $kW4 (i32.shl (local.get $kW) (i32.const 2)))
    (local.set $wAt (local.get $w))
    (local.set $xc (local.get $x))
    (block $cs (loop $cl
      (br_if $cs (i32.ge_u (local.get $c) (local.get $C)))
      (local.set $row (local.get $xc))
      (local.set $i (i32.const 0))
      (block $is (loop $il
        (br_if $is (i32.ge_u (local.get $i) (local.get $kH)))
        (local.set $j (i32.const 0))
        (block $js (loop $jl
          (br_if $js (i32.ge_u (local.get $j) (local.get $kW4)))
          (local.set $x0 (v128.load (i32.add (local.get $row) (local.get $j))))
          (local.set $x1 (v128.load offset=16 (i32.add (local.get $row) (local.get $j))))
          (local.set $ws (v128.load32_splat (i32.add (local.get $wAt) (local.get $j))))
          (local.set $a00 (f32x4.add (f32x4.mul (local.get $x0) (local.get $ws)) (local.get $a00)))
          (local.set $a01 (f32x4.add (f32x4.mul (local.get $x1) (local.get $ws)) (local.get $a01)))
          (local.set $ws (v128.load32_splat (i32.add (i32.add (local.get $wAt) (local.get $wStep)) (local.get $j))))
          (local.set $a10 (f32x4.add (f32x4.mul (local.get $x0) (local.get $ws)) (local.get $a10)))
          (local.set $a11 (f32x4.add (f32x4.mul (local.get $x1) (local.get $ws)) (local.get $a11)))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $jl)))
        (local.set $row (i32.add (local.get $row) (local.get $rowStep)))
        (local.set $wAt (i32.add (local.get $wAt) (local.get $kW4)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $il)))
      (local.set $xc (i32.add (local.get $xc) (local.get $chanStep)))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (br $cl)))
    (call $thinStoreQuad (local.get $y) (local.get $a00) (f32.load offset=0 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (local.get $y) (i32.const 16)) (local.get $a01) (f32.load offset=0 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (local.get $y) (local.get $yStep)) (local.get $a10) (f32.load offset=4 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (i32.add (local.get $y) (local.get $yStep)) (i32.const 16)) (local.get $a11) (f32.load offset=4 (local.get $bias)) (local.get $relu)))

  ;; 3 filters × 8 outputs (2 quads) of one row, every tap inside the image: 6 independent
  ;; add chains, 2 x loads and 3 weight splats per tap (see $thinRuns).
  (func $thinRun8x3 (param $x i32) (param $w i32) (param $C i32) (param $kH i32) (param $kW i32)
    (param $chanStep i32) (param $rowStep i32) (param $y i32) (param $yStep i32) (param $wStep i32) (param $bias i32) (param $relu i32)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128) (local $a20 v128) (local $a21 v128) (local $x0 v128) (local $x1 v128) (local $ws v128)
    (local $c i32) (local $i i32) (local $j i32) (local $row i32) (local $xc i32) (local $wAt i32) (local $kW4 i32)
    (local.set $kW4 (i32.shl (local.get $kW) (i32.const 2)))
    (local.set $wAt (local.get $w))
    (local.set $xc (local.get $x))
    (block $cs (loop $cl
      (br_if $cs (i32.ge_u (local.get $c) (local.get $C)))
      (local.set $row (local.get $xc))
      (local.set $i (i32.const 0))
      (block $is (loop $il
        (br_if $is (i32.ge_u (local.get $i) (local.get $kH)))
        (local.set $j (i32.const 0))
        (block $js (loop $jl
          (br_if $js (i32.ge_u (local.get $j) (local.get $kW4)))
          (local.set $x0 (v128.load (i32.add (local.get $row) (local.get $j))))
          (local.set $x1 (v128.load offset=16 (i32.add (local.get $row) (local.get $j))))
          (local.set $ws (v128.load32_splat (i32.add (local.get $wAt) (local.get $j))))
          (local.set $a00 (f32x4.add (f32x4.mul (local.get $x0) (local.get $ws)) (local.get $a00)))
          (local.set $a01 (f32x4.add (f32x4.mul (local.get $x1) (local.get $ws)) (local.get $a01)))
          (local.set $ws (v128.load32_splat (i32.add (i32.add (local.get $wAt) (local.get $wStep)) (local.get $j))))
          (local.set $a10 (f32x4.add (f32x4.mul (local.get $x0) (local.get $ws)) (local.get $a10)))
          (local.set $a11 (f32x4.add (f32x4.mul (local.get $x1) (local.get $ws)) (local.get $a11)))
          (local.set $ws (v128.load32_splat (i32.add (i32.add (local.get $wAt) (i32.mul (local.get $wStep) (i32.const 2))) (local.get $j))))
          (local.set $a20 (f32x4.add (f32x4.mul (local.get $x0) (local.get $ws)) (local.get $a20)))
          (local.set $a21 (f32x4.add (f32x4.mul (local.get $x1) (local.get $ws)) (local.get $a21)))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $jl)))
        (local.set $row (i32.add (local.get $row) (local.get $rowStep)))
        (local.set $wAt (i32.add (local.get $wAt) (local.get $kW4)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $il)))
      (local.set $xc (i32.add (local.get $xc) (local.get $chanStep)))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (br $cl)))
    (call $thinStoreQuad (local.get $y) (local.get $a00) (f32.load offset=0 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (local.get $y) (i32.const 16)) (local.get $a01) (f32.load offset=0 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (local.get $y) (local.get $yStep)) (local.get $a10) (f32.load offset=4 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (i32.add (local.get $y) (local.get $yStep)) (i32.const 16)) (local.get $a11) (f32.load offset=4 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (local.get $y) (i32.mul (local.get $yStep) (i32.const 2))) (local.get $a20) (f32.load offset=8 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (i32.add (local.get $y) (i32.mul (local.get $yStep) (i32.const 2))) (i32.const 16)) (local.get $a21) (f32.load offset=8 (local.get $bias)) (local.get $relu)))

  ;; 4 filters × 8 outputs (2 quads) of one row, every tap inside the image: 8 independent
  ;; add chains, 2 x loads and 4 weight splats per tap (see $thinRuns).
  (func $thinRun8x4 (param $x i32) (param $w i32) (param $C i32) (param $kH i32) (param $kW i32)
    (param $chanStep i32) (param $rowStep i32) (param $y i32) (param $yStep i32) (param $wStep i32) (param $bias i32) (param $relu i32)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128) (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128) (local $x0 v128) (local $x1 v128) (local $ws v128)
    (local $c i32) (local $i i32) (local $j i32) (local $row i32) (local $xc i32) (local $wAt i32) (local $kW4 i32)
    (local.set $kW4 (i32.shl (local.get $kW) (i32.const 2)))
    (local.set $wAt (local.get $w))
    (local.set $xc (local.get $x))
    (block $cs (loop $cl
      (br_if $cs (i32.ge_u (local.get $c) (local.get $C)))
      (local.set $row (local.get $xc))
      (local.set $i (i32.const 0))
      (block $is (loop $il
        (br_if $is (i32.ge_u (local.get $i) (local.get $kH)))
        (local.set $j (i32.const 0))
        (block $js (loop $jl
          (br_if $js (i32.ge_u (local.get $j) (local.get $kW4)))
          (local.set $x0 (v128.load (i32.add (local.get $row) (local.get $j))))
          (local.set $x1 (v128.load offset=16 (i32.add (local.get $row) (local.get $j))))
          (local.set $ws (v128.load32_splat (i32.add (local.get $wAt) (local.get $j))))
          (local.set $a00 (f32x4.add (f32x4.mul (local.get $x0) (local.get $ws)) (local.get $a00)))
          (local.set $a01 (f32x4.add (f32x4.mul (local.get $x1) (local.get $ws)) (local.get $a01)))
          (local.set $ws (v128.load32_splat (i32.add (i32.add (local.get $wAt) (local.get $wStep)) (local.get $j))))
          (local.set $a10 (f32x4.add (f32x4.mul (local.get $x0) (local.get $ws)) (local.get $a10)))
          (local.set $a11 (f32x4.add (f32x4.mul (local.get $x1) (local.get $ws)) (local.get $a11)))
          (local.set $ws (v128.load32_splat (i32.add (i32.add (local.get $wAt) (i32.mul (local.get $wStep) (i32.const 2))) (local.get $j))))
          (local.set $a20 (f32x4.add (f32x4.mul (local.get $x0) (local.get $ws)) (local.get $a20)))
          (local.set $a21 (f32x4.add (f32x4.mul (local.get $x1) (local.get $ws)) (local.get $a21)))
          (local.set $ws (v128.load32_splat (i32.add (i32.add (local.get $wAt) (i32.mul (local.get $wStep) (i32.const 3))) (local.get $j))))
          (local.set $a30 (f32x4.add (f32x4.mul (local.get $x0) (local.get $ws)) (local.get $a30)))
          (local.set $a31 (f32x4.add (f32x4.mul (local.get $x1) (local.get $ws)) (local.get $a31)))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $jl)))
        (local.set $row (i32.add (local.get $row) (local.get $rowStep)))
        (local.set $wAt (i32.add (local.get $wAt) (local.get $kW4)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $il)))
      (local.set $xc (i32.add (local.get $xc) (local.get $chanStep)))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (br $cl)))
    (call $thinStoreQuad (local.get $y) (local.get $a00) (f32.load offset=0 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (local.get $y) (i32.const 16)) (local.get $a01) (f32.load offset=0 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (local.get $y) (local.get $yStep)) (local.get $a10) (f32.load offset=4 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (i32.add (local.get $y) (local.get $yStep)) (i32.const 16)) (local.get $a11) (f32.load offset=4 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (local.get $y) (i32.mul (local.get $yStep) (i32.const 2))) (local.get $a20) (f32.load offset=8 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (i32.add (local.get $y) (i32.mul (local.get $yStep) (i32.const 2))) (i32.const 16)) (local.get $a21) (f32.load offset=8 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (local.get $y) (i32.mul (local.get $yStep) (i32.const 3))) (local.get $a30) (f32.load offset=12 (local.get $bias)) (local.get $relu))
    (call $thinStoreQuad (i32.add (i32.add (local.get $y) (i32.mul (local.get $yStep) (i32.const 3))) (i32.const 16)) (local.get $a31) (f32.load offset=12 (local.get $bias)) (local.get $relu)))

  ;; One interior run of nf filters at output column ow of a row (x: byte address of x[b, 0, oh − padH, 0],
  ;; y: of y[b, o0, oh, 0]): the longest run of $thinRun… whose columns [r, r + R) are all inside, r =
  ;; min(ow, outW − R) (only the 8-output run is shifted left to end the row: it rewrites a few outputs,
  ;; same bits).
  ;; Returns the column after the run, or −1 when no run fits at ow (then the caller takes a quad).
  (func $thinRuns (param $nf i32) (param $ow i32) (param $x i32) (param $w i32) (param $C i32) (param $H i32) (param $W i32)
    (param $kH i32) (param $kW i32) (param $padW i32) (param $outW i32) (param $y i32) (param $yStep i32) (param $wStep i32)
    (param $bias i32) (param $relu i32) (result i32)
    (local $r i32) (local $end i32) (local $R i32) (local $xAt i32) (local $chanStep i32) (local $rowStep i32)
    (local.set $end (i32.add (i32.sub (local.get $W) (local.get $kW)) (local.get $padW)))
    (local.set $chanStep (i32.shl (i32.mul (local.get $H) (local.get $W)) (i32.const 2)))
    (local.set $rowStep (i32.shl (local.get $W) (i32.const 2)))
    ;; the long run first (16 outputs for 1 or 2 filters, 12 for 3), then 8
    (local.set $R (select (i32.const 16) (select (i32.const 12) (i32.const 8) (i32.eq (local.get $nf) (i32.const 3)))
      (i32.le_s (local.get $nf) (i32.const 2))))
    ;; a long run only where it needs no shift (shifted, it would recompute up to R − 1 outputs)
    (if (i32.gt_s (i32.add (local.get $ow) (local.get $R)) (local.get $outW)) (then (local.set $R (i32.const 8))))
    (block $done (loop $try
      (local.set $r (i32.sub (local.get $outW) (local.get $R)))
      (if (i32.gt_s (local.get $r) (local.get $ow)) (then (local.set $r (local.get $ow))))
      (if (i32.and (i32.ge_s (local.get $r) (local.get $padW)) (i32.le_s (i32.add (local.get $r) (i32.sub (local.get $R) (i32.const 1))) (local.get $end)))
        (then (br $done)))
      (if (i32.gt_s (local.get $R) (i32.const 8)) (then (local.set $R (i32.const 8)) (br $try)))
      (return (i32.const -1))))
    (local.set $xAt (i32.add (local.get $x) (i32.shl (i32.sub (local.get $r) (local.get $padW)) (i32.const 2))))
    (if (i32.eq (local.get $R) (i32.const 8))
      (then
        (block $n1 (block $n2 (block $n3 (block $n4
          (br_table $n1 $n1 $n2 $n3 $n4 (local.get $nf)))
          (call $thinRun8x4 (local.get $xAt) (local.get $w) (local.get $C) (local.get $kH) (local.get $kW) (local.get $chanStep)
          (local.get $rowStep) (i32.add (local.get $y) (i32.shl (local.get $r) (i32.const 2))) (local.get $yStep) (local.get $wStep) (local.get $bias) (local.get $relu))
          (return (i32.add (local.get $r) (i32.const 8))))
          (call $thinRun8x3 (local.get $xAt) (local.get $w) (local.get $C) (local.get $kH) (local.get $kW) (local.get $chanStep)
          (local.get $rowStep) (i32.add (local.get $y) (i32.shl (local.get $r) (i32.const 2))) (local.get $yStep) (local.get $wStep) (local.get $bias) (local.get $relu))
          (return (i32.add (local.get $r) (i32.const 8))))
          (call $thinRun8x2 (local.get $xAt) (local.get $w) (local.get $C) (local.get $kH) (local.get $kW) (local.get $chanStep)
          (local.get $rowStep) (i32.add (local.get $y) (i32.shl (local.get $r) (i32.const 2))) (local.get $yStep) (local.get $wStep) (local.get $bias) (local.get $relu))
          (return (i32.add (local.get $r) (i32.const 8))))
        (call $thinRun8x1 (local.get $xAt) (local.get $w) (local.get $C) (local.get $kH) (local.get $kW) (local.get $chanStep)
          (local.get $rowStep) (i32.add (local.get $y) (i32.shl (local.get $r) (i32.const 2))) (local.get $yStep) (local.get $wStep) (local.get $bias) (local.get $relu))
        (return (i32.add (local.get $r) (i32.const 8)))))
    (block $m1 (block $m2 (block $m3
      (br_table $m1 $m1 $m2 $m3 (local.get $nf)))
      (call $thinRun12x3 (local.get $xAt) (local.get $w) (local.get $C) (local.get $kH) (local.get $kW) (local.get $chanStep)
          (local.get $rowStep) (i32.add (local.get $y) (i32.shl (local.get $r) (i32.const 2))) (local.get $yStep) (local.get $wStep) (local.get $bias) (local.get $relu))
      (return (i32.add (local.get $r) (i32.const 12))))
      (call $thinRun16x2 (local.get $xAt) (local.get $w) (local.get $C) (local.get $kH) (local.get $kW) (local.get $chanStep)
          (local.get $rowStep) (i32.add (local.get $y) (i32.shl (local.get $r) (i32.const 2))) (local.get $yStep) (local.get $wStep) (local.get $bias) (local.get $relu))
      (return (i32.add (local.get $r) (i32.const 16))))
    (call $thinRun16x1 (local.get $xAt) (local.get $w) (local.get $C) (local.get $kH) (local.get $kW) (local.get $chanStep)
          (local.get $rowStep) (i32.add (local.get $y) (i32.shl (local.get $r) (i32.const 2))) (local.get $yStep) (local.get $wStep) (local.get $bias) (local.get $relu))
    (i32.add (local.get $r) (i32.const 16)))

  ;; y[b, o] = conv(x[b], w[o]) + bias[o] (then +0 where ≤ 0 if relu = 1, a NaN passing) for the planes
  ;; p = b·⌈F/4⌉ + blk in [p0, p1), a plane being image b's filters 4·blk … min(F, 4·blk + 4) − 1.
  ;; x [batch, C, H, W], w [F, C, kH, kW], y [batch, F, outH, outW], bias [F] (zeros when the layer has
  ;; none). Rows run in quads, the last one shifted left to end the row (it rewrites a few outputs with
  ;; the same bits), point by point only when the row or image is narrower than 4; a block of four
  ;; filters shares each x load ($thinQuad4).
  (func (export "thinConv")
    (param $y i32) (param $x i32) (param $w i32) (param $bias i32) (param $p0 i32) (param $p1 i32)
    (param $C i32) (param $H i32) (param $W i32) (param $kH i32) (param $kW i32) (param $padH i32) (param $padW i32)
    (param $outH i32) (param $outW i32) (param $F i32) (param $relu i32)
    (local $p i32) (local $o i32) (local $o0 i32) (local $o1 i32) (local $blocks i32) (local $b i32) (local $xImg i32)
    (local $wO i32) (local $yRow i32) (local $bo f32)
    (local $oh i32) (local $ow i32) (local $end i32) (local $q i32) (local $plane i32) (local $wStep i32) (local $border i32)
    (local $rowIn i32) (local $r8 i32) (local $nf i32)
    ;; the last output column whose every tap is inside (may be < padW: then no quads)
    (local.set $end (i32.add (i32.sub (local.get $W) (local.get $kW)) (local.get $padW)))
    (local.set $blocks (i32.shr_u (i32.add (local.get $F) (i32.const 3)) (i32.const 2)))
    (local.set $plane (i32.shl (i32.mul (local.get $outH) (local.get $outW)) (i32.const 2)))
    (local.set $wStep (i32.shl (i32.mul (local.get $C) (i32.mul (local.get $kH) (local.get $kW))) (i32.const 2)))
    (local.set $p (local.get $p0))
    (block $planes
      (loop $planeLoop
        (br_if $planes (i32.ge_u (local.get $p) (local.get $p1)))
        (local.set $b (i32.div_u (local.get $p) (local.get $blocks)))
        (local.set $o0 (i32.shl (i32.rem_u (local.get $p) (local.get $blocks)) (i32.const 2)))
        (local.set $o1 (i32.add (local.get $o0) (i32.const 4)))
        (if (i32.gt_u (local.get $o1) (local.get $F)) (then (local.set $o1 (local.get $F))))
        (local.set $xImg (i32.add (local.get $x) (i32.shl
          (i32.mul (local.get $b) (i32.mul (local.get $C) (i32.mul (local.get $H) (local.get $W))))
          (i32.const 2))))
        (local.set $oh (i32.const 0))
        (local.set $nf (i32.sub (local.get $o1) (local.get $o0)))
        (if (i32.and (i32.and (i32.and (i32.eq (local.get $kH) (i32.const 3)) (i32.eq (local.get $kW) (i32.const 3)))
                              (i32.and (i32.ge_s (local.get $W) (i32.const 4)) (i32.ge_s (local.get $outW) (i32.const 4))))
                     (i32.or (i32.eq (local.get $nf) (i32.const 1)) (i32.lt_s (local.get $outW) (i32.const 8))))
          (then
            ;; 3×3 kernels, one filter in the block or rows narrower than 8: filter by filter ($thinPlane3);
            ;; the general loop below then finds no rows
            (local.set $oh (local.get $outH))
            (local.set $o (local.get $o0))
            (block $fs3 (loop $fl3
              (br_if $fs3 (i32.ge_u (local.get $o) (local.get $o1)))
              (call $thinPlane3 (local.get $xImg) (i32.add (local.get $w) (i32.mul (local.get $o) (local.get $wStep)))
                (i32.add (local.get $y) (i32.mul (i32.add (i32.mul (local.get $b) (local.get $F)) (local.get $o)) (local.get $plane)))
                (local.get $C) (local.get $H) (local.get $W) (local.get $padH) (local.get $padW) (local.get $outH) (local.get $outW)
                (f32.load (i32.add (local.get $bias) (i32.shl (local.get $o) (i32.const 2)))) (local.get $relu))
              (local.set $o (i32.add (local.get $o) (i32.const 1)))
              (br $fl3)))))
        (block $rows
          (loop $row
            (br_if $rows (i32.ge_u (local.get $oh) (local.get $outH)))
            ;; row oh of filter o0's output plane
            (local.set $yRow (i32.add (local.get $y) (i32.add
              (i32.mul (i32.add (i32.mul (local.get $b) (local.get $F)) (local.get $o0)) (local.get $plane))
              (i32.shl (i32.mul (local.get $oh) (local.get $outW)) (i32.const 2)))))
            (local.set $ow (i32.const 0))
            ;; rowIn: every row tap of output row oh is inside the image
            (local.set $rowIn (i32.and (i32.ge_s (local.get $oh) (local.get $padH))
              (i32.le_s (i32.add (i32.sub (local.get $oh) (local.get $padH)) (local.get $kH)) (local.get $H))))
            (block $cols
              (loop $col
                (br_if $cols (i32.ge_s (local.get $ow) (local.get $outW)))
                ;; Interior runs of up to 16 outputs ($thinRuns); the rest by quads and points below.
                (if (local.get $rowIn)
                  (then
                    (local.set $r8 (call $thinRuns (local.get $nf) (local.get $ow)
                      (i32.add (local.get $xImg) (i32.shl (i32.mul (i32.sub (local.get $oh) (local.get $padH)) (local.get $W)) (i32.const 2)))
                      (i32.add (local.get $w) (i32.mul (local.get $o0) (local.get $wStep)))
                      (local.get $C) (local.get $H) (local.get $W) (local.get $kH) (local.get $kW) (local.get $padW) (local.get $outW)
                      (local.get $yRow) (local.get $plane) (local.get $wStep) (i32.add (local.get $bias) (i32.shl (local.get $o0) (i32.const 2)))
                      (local.get $relu)))
                    (if (i32.ge_s (local.get $r8) (i32.const 0))
                      (then
                        (local.set $ow (local.get $r8))
                        (br $col)))))
                ;; q = where the quad covering ow starts (the last one shifted to end the row), or −1 when the
                ;; row or the image is narrower than 4 (point by point); border: a column tap falls outside
                (local.set $q (i32.const -1))
                (if (i32.and (i32.ge_s (local.get $outW) (i32.const 4)) (i32.ge_s (local.get $W) (i32.const 4)))
                  (then
                    (local.set $q (local.get $ow))
                    (if (i32.gt_s (i32.add (local.get $ow) (i32.const 4)) (local.get $outW))
                      (then (local.set $q (i32.sub (local.get $outW) (i32.const 4)))))
                    (local.set $border (i32.or (i32.lt_s (local.get $q) (local.get $padW))
                                               (i32.gt_s (i32.add (local.get $q) (i32.const 3)) (local.get $end))))))
                (if (i32.ge_s (local.get $q) (i32.const 0))
                  (then
                    (if (i32.eq (i32.sub (local.get $o1) (local.get $o0)) (i32.const 4))
                      (then
                        (if (local.get $border)
                          (then (call $thinQuad4Border (local.get $xImg)
                          (i32.add (local.get $w) (i32.mul (local.get $o0) (local.get $wStep)))
                          (local.get $oh) (local.get $q)
                          (local.get $C) (local.get $H) (local.get $W) (local.get $kH) (local.get $kW) (local.get $padH) (local.get $padW)
                          (i32.add (local.get $yRow) (i32.shl (local.get $q) (i32.const 2))) (local.get $plane) (local.get $wStep)
                          (i32.add (local.get $bias) (i32.shl (local.get $o0) (i32.const 2))) (local.get $relu)))
                          (else (call $thinQuad4 (local.get $xImg)
                          (i32.add (local.get $w) (i32.mul (local.get $o0) (local.get $wStep)))
                          (local.get $oh) (local.get $q)
                          (local.get $C) (local.get $H) (local.get $W) (local.get $kH) (local.get $kW) (local.get $padH) (local.get $padW)
                          (i32.add (local.get $yRow) (i32.shl (local.get $q) (i32.const 2))) (local.get $plane) (local.get $wStep)
                          (i32.add (local.get $bias) (i32.shl (local.get $o0) (i32.const 2))) (local.get $relu)))))
                      (else
                        (local.set $o (local.get $o0))
                        (block $fs
                          (loop $fl
                            (br_if $fs (i32.ge_u (local.get $o) (local.get $o1)))
                            (call $thinStoreQuad
                              (i32.add (i32.add (local.get $yRow) (i32.mul (i32.sub (local.get $o) (local.get $o0)) (local.get $plane)))
                                       (i32.shl (local.get $q) (i32.const 2)))
                              (if (result v128) (local.get $border)
                                (then (call $thinQuadBorder (local.get $xImg) (i32.add (local.get $w) (i32.mul (local.get $o) (local.get $wStep)))
                                (local.get $oh) (local.get $q)
                                (local.get $C) (local.get $H) (local.get $W) (local.get $kH) (local.get $kW) (local.get $padH) (local.get $padW)))
                                (else (call $thinQuad (local.get $xImg) (i32.add (local.get $w) (i32.mul (local.get $o) (local.get $wStep)))
                                (local.get $oh) (local.get $q)
                                (local.get $C) (local.get $H) (local.get $W) (local.get $kH) (local.get $kW) (local.get $padH) (local.get $padW))))
                              (f32.load (i32.add (local.get $bias) (i32.shl (local.get $o) (i32.const 2)))) (local.get $relu))
                            (local.set $o (i32.add (local.get $o) (i32.const 1)))
                            (br $fl)))))
                    (local.set $ow (i32.add (local.get $q) (i32.const 4))))
                  (else
                    (local.set $o (local.get $o0))
                    (block $ps
                      (loop $pl
                        (br_if $ps (i32.ge_u (local.get $o) (local.get $o1)))
                        (call $thinStorePoint
                          (i32.add (i32.add (local.get $yRow) (i32.mul (i32.sub (local.get $o) (local.get $o0)) (local.get $plane)))
                                   (i32.shl (local.get $ow) (i32.const 2)))
                          (call $thinPoint (local.get $xImg) (i32.add (local.get $w) (i32.mul (local.get $o) (local.get $wStep)))
                            (local.get $oh) (local.get $ow)
                            (local.get $C) (local.get $H) (local.get $W) (local.get $kH) (local.get $kW) (local.get $padH) (local.get $padW))
                          (f32.load (i32.add (local.get $bias) (i32.shl (local.get $o) (i32.const 2)))) (local.get $relu))
                        (local.set $o (i32.add (local.get $o) (i32.const 1)))
                        (br $pl)))
                    (local.set $ow (i32.add (local.get $ow) (i32.const 1)))))
                (br $col)))
            (local.set $oh (i32.add (local.get $oh) (i32.const 1)))
            (br $row)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $planeLoop))))

  ;; Lanes l0 … l3 of a float32 sum, then a scalar tail: ((l0 + l1) + (l2 + l3)) + tail.
  (func $thinSum (param $v v128) (param $tail f32) (result f32)
    (f32.add
      (f32.add
        (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
        (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v))))
      (local.get $tail)))

  ;; Weight and bias gradient partials of the thin convolution for the planes p = chunk·F + o in [p0, p1):
  ;; chunk = images [chunk·G, min(batch, chunk·G + G)). dW[p·C·kH·kW + (c·kH + i)·kW + j] = Σ over the
  ;; chunk's images b, rows oh and columns ow (those whose tap is inside) of dy[b, o, oh, ow]·x[b, c,
  ;; oh + i − padH, ow + j − padW], and db[p] = Σ dy[b, o] over the chunk: in 4 lanes (columns in quads
  ;; from the first valid one) plus a scalar tail (the columns left), summed by $thinSum.
  (func (export "thinConvGrad")
    (param $dW i32) (param $db i32) (param $dy i32) (param $x i32) (param $p0 i32) (param $p1 i32)
    (param $C i32) (param $H i32) (param $W i32) (param $kH i32) (param $kW i32) (param $padH i32) (param $padW i32)
    (param $outH i32) (param $outW i32) (param $F i32) (param $batch i32) (param $G i32)
    (local $p i32) (local $o i32) (local $b i32) (local $b0 i32) (local $b1 i32) (local $c i32) (local $i i32) (local $j i32)
    (local $oh i32) (local $ohLo i32) (local $ohHi i32) (local $owLo i32) (local $owHi i32) (local $ow i32)
    (local $acc v128) (local $tail f32) (local $dyRow i32) (local $xRow i32) (local $k i32) (local $n i32) (local $dWAt i32)
    (local.set $n (i32.mul (local.get $outH) (local.get $outW)))
    (local.set $p (local.get $p0))
    (block $planes
      (loop $plane
        (br_if $planes (i32.ge_u (local.get $p) (local.get $p1)))
        (local.set $o (i32.rem_u (local.get $p) (local.get $F)))
        (local.set $b0 (i32.mul (i32.div_u (local.get $p) (local.get $F)) (local.get $G)))
        (local.set $b1 (i32.add (local.get $b0) (local.get $G)))
        (if (i32.gt_u (local.get $b1) (local.get $batch)) (then (local.set $b1 (local.get $batch))))
        ;; db: the chunk's dy planes, each in quads then a tail
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $tail (f32.const 0))
        (local.set $b (local.get $b0))
        (block $dbImages
          (loop $dbImage
            (br_if $dbImages (i32.ge_u (local.get $b) (local.get $b1)))
            (local.set $dyRow (i32.add (local.get $dy) (i32.shl
              (i32.mul (i32.add (i32.mul (local.get $b) (local.get $F)) (local.get $o)) (local.get $n)) (i32.const 2))))
            (local.set $k (i32.const 0))
            (block $quads
              (loop $quad
                (br_if $quads (i32.gt_u (i32.add (local.get $k) (i32.const 4)) (local.get $n)))
                (local.set $acc (f32x4.add (local.get $acc) (v128.load (i32.add (local.get $dyRow) (i32.shl (local.get $k) (i32.const 2))))))
                (local.set $k (i32.add (local.get $k) (i32.const 4)))
                (br $quad)))
            (block $ones
              (loop $one
                (br_if $ones (i32.ge_u (local.get $k) (local.get $n)))
                (local.set $tail (f32.add (local.get $tail) (f32.load (i32.add (local.get $dyRow) (i32.shl (local.get $k) (i32.const 2))))))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (br $one)))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br $dbImage)))
        (f32.store (i32.add (local.get $db) (i32.shl (local.get $p) (i32.const 2))) (call $thinSum (local.get $acc) (local.get $tail)))
        ;; dW, tap by tap
        (local.set $dWAt (i32.add (local.get $dW) (i32.shl
          (i32.mul (local.get $p) (i32.mul (local.get $C) (i32.mul (local.get $kH) (local.get $kW)))) (i32.const 2))))
        (local.set $c (i32.const 0))
        (block $cs
          (loop $cl
            (br_if $cs (i32.ge_u (local.get $c) (local.get $C)))
            (local.set $i (i32.const 0))
            (block $is
              (loop $il
                (br_if $is (i32.ge_u (local.get $i) (local.get $kH)))
                ;; rows oh with 0 ≤ oh + i − padH < H
                (local.set $ohLo (i32.sub (local.get $padH) (local.get $i)))
                (if (i32.lt_s (local.get $ohLo) (i32.const 0)) (then (local.set $ohLo (i32.const 0))))
                (local.set $ohHi (i32.sub (i32.add (local.get $H) (local.get $padH)) (local.get $i)))
                (if (i32.gt_s (local.get $ohHi) (local.get $outH)) (then (local.set $ohHi (local.get $outH))))
                (local.set $j (i32.const 0))
                (block $js
                  (loop $jl
                    (br_if $js (i32.ge_u (local.get $j) (local.get $kW)))
                    (local.set $owLo (i32.sub (local.get $padW) (local.get $j)))
                    (if (i32.lt_s (local.get $owLo) (i32.const 0)) (then (local.set $owLo (i32.const 0))))
                    (local.set $owHi (i32.sub (i32.add (local.get $W) (local.get $padW)) (local.get $j)))
                    (if (i32.gt_s (local.get $owHi) (local.get $outW)) (then (local.set $owHi (local.get $outW))))
                    (local.set $acc (v128.const f32x4 0 0 0 0))
                    (local.set $tail (f32.const 0))
                    (local.set $b (local.get $b0))
                    (block $images
                      (loop $image
                        (br_if $images (i32.ge_u (local.get $b) (local.get $b1)))
                        (local.set $oh (local.get $ohLo))
                        (block $rows
                          (loop $row
                            (br_if $rows (i32.ge_s (local.get $oh) (local.get $ohHi)))
                            (local.set $dyRow (i32.add (local.get $dy) (i32.shl
                              (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $F)) (local.get $o)) (local.get $outH)) (local.get $oh)) (local.get $outW))
                              (i32.const 2))))
                            ;; x at column ow − padW + j of row oh + i − padH, as a row base indexed by ow
                            (local.set $xRow (i32.add (local.get $x) (i32.shl
                              (i32.add
                                (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $C)) (local.get $c)) (local.get $H))
                                                  (i32.sub (i32.add (local.get $oh) (local.get $i)) (local.get $padH)))
                                         (local.get $W))
                                (i32.sub (local.get $j) (local.get $padW)))
                              (i32.const 2))))
                            (local.set $ow (local.get $owLo))
                            (block $quads2
                              (loop $quad2
                                (br_if $quads2 (i32.gt_s (i32.add (local.get $ow) (i32.const 4)) (local.get $owHi)))
                                (local.set $acc (f32x4.add (local.get $acc)
                                  (f32x4.mul (v128.load (i32.add (local.get $dyRow) (i32.shl (local.get $ow) (i32.const 2))))
                                             (v128.load (i32.add (local.get $xRow) (i32.shl (local.get $ow) (i32.const 2)))))))
                                (local.set $ow (i32.add (local.get $ow) (i32.const 4)))
                                (br $quad2)))
                            (block $ones2
                              (loop $one2
                                (br_if $ones2 (i32.ge_s (local.get $ow) (local.get $owHi)))
                                (local.set $tail (f32.add (local.get $tail)
                                  (f32.mul (f32.load (i32.add (local.get $dyRow) (i32.shl (local.get $ow) (i32.const 2))))
                                           (f32.load (i32.add (local.get $xRow) (i32.shl (local.get $ow) (i32.const 2)))))))
                                (local.set $ow (i32.add (local.get $ow) (i32.const 1)))
                                (br $one2)))
                            (local.set $oh (i32.add (local.get $oh) (i32.const 1)))
                            (br $row)))
                        (local.set $b (i32.add (local.get $b) (i32.const 1)))
                        (br $image)))
                    (f32.store (local.get $dWAt) (call $thinSum (local.get $acc) (local.get $tail)))
                    (local.set $dWAt (i32.add (local.get $dWAt) (i32.const 4)))
                    (local.set $j (i32.add (local.get $j) (i32.const 1)))
                    (br $jl)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $il)))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $cl)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $plane))))

  ;; ---- Winograd convolution F(m×m, 3×3), m = 2 or 4 (α = m + 2), for 3×3 stride-1 convolutions
  ;; (tensor/winograd.ts). Lanes are 4 channels. The input is first packed into xb[image, block of 4
  ;; channels, Hp, Wp, 4] (zero border, so every tile reads whole: no bounds checks); the input
  ;; transform writes V[t, tile, C4] (t < α², one slot per t), the filter transform U[t, C4, O4], and the
  ;; products are the α² plain gemms M[t] = V[t]·U[t] with M[t, tile, O4]; the output transform then
  ;; writes y in NCHW. Each 2-D transform is its 1-D transform along columns then along rows, through
  ;; the destination's own slots (in place: a 1-D helper loads all its inputs before it stores).
  ;; Every value is one f32 operation rounded as written (constants are v128.const, never locals, so
  ;; the relaxed build fuses nothing here); twins in runtime/winograd-kernels.ts hold the same bits.

  ;; Bᵀd for F(2,3): 4 vectors at s + i·ss → 4 at d + i·ds.
  (func $wgBt4 (param $s i32) (param $ss i32) (param $d i32) (param $ds i32)
    (local $d0 v128) (local $d1 v128) (local $d2 v128) (local $d3 v128)
    (local.set $d0 (v128.load (local.get $s)))
    (local.set $d1 (v128.load (i32.add (local.get $s) (local.get $ss))))
    (local.set $d2 (v128.load (i32.add (local.get $s) (i32.shl (local.get $ss) (i32.const 1)))))
    (local.set $d3 (v128.load (i32.add (local.get $s) (i32.mul (local.get $ss) (i32.const 3)))))
    (v128.store (local.get $d) (f32x4.sub (local.get $d0) (local.get $d2)))
    (v128.store (i32.add (local.get $d) (local.get $ds)) (f32x4.add (local.get $d1) (local.get $d2)))
    (v128.store (i32.add (local.get $d) (i32.shl (local.get $ds) (i32.const 1))) (f32x4.sub (local.get $d2) (local.get $d1)))
    (v128.store (i32.add (local.get $d) (i32.mul (local.get $ds) (i32.const 3))) (f32x4.sub (local.get $d1) (local.get $d3))))

  ;; Bᵀd for F(4,3): 6 vectors → 6.
  (func $wgBt6 (param $s i32) (param $ss i32) (param $d i32) (param $ds i32)
    (local $d0 v128) (local $d1 v128) (local $d2 v128) (local $d3 v128) (local $d4 v128) (local $d5 v128)
    (local $a v128) (local $b v128)
    (local.set $d0 (v128.load (local.get $s)))
    (local.set $d1 (v128.load (i32.add (local.get $s) (local.get $ss))))
    (local.set $d2 (v128.load (i32.add (local.get $s) (i32.shl (local.get $ss) (i32.const 1)))))
    (local.set $d3 (v128.load (i32.add (local.get $s) (i32.mul (local.get $ss) (i32.const 3)))))
    (local.set $d4 (v128.load (i32.add (local.get $s) (i32.shl (local.get $ss) (i32.const 2)))))
    (local.set $d5 (v128.load (i32.add (local.get $s) (i32.mul (local.get $ss) (i32.const 5)))))
    (v128.store (local.get $d)
      (f32x4.add (f32x4.sub (f32x4.mul (local.get $d0) (v128.const f32x4 4 4 4 4)) (f32x4.mul (local.get $d2) (v128.const f32x4 5 5 5 5))) (local.get $d4)))
    (v128.store (i32.add (local.get $d) (local.get $ds))
      (f32x4.sub (f32x4.add (local.get $d3) (local.get $d4)) (f32x4.mul (f32x4.add (local.get $d1) (local.get $d2)) (v128.const f32x4 4 4 4 4))))
    (v128.store (i32.add (local.get $d) (i32.shl (local.get $ds) (i32.const 1)))
      (f32x4.add (f32x4.sub (local.get $d4) (local.get $d3)) (f32x4.mul (f32x4.sub (local.get $d1) (local.get $d2)) (v128.const f32x4 4 4 4 4))))
    (local.set $a (f32x4.sub (local.get $d4) (local.get $d2)))
    (local.set $b (f32x4.mul (f32x4.sub (local.get $d3) (local.get $d1)) (v128.const f32x4 2 2 2 2)))
    (v128.store (i32.add (local.get $d) (i32.mul (local.get $ds) (i32.const 3))) (f32x4.add (local.get $a) (local.get $b)))
    (v128.store (i32.add (local.get $d) (i32.shl (local.get $ds) (i32.const 2))) (f32x4.sub (local.get $a) (local.get $b)))
    (v128.store (i32.add (local.get $d) (i32.mul (local.get $ds) (i32.const 5)))
      (f32x4.add (f32x4.sub (f32x4.mul (local.get $d1) (v128.const f32x4 4 4 4 4)) (f32x4.mul (local.get $d3) (v128.const f32x4 5 5 5 5))) (local.get $d5))))

  ;; Gg for F(2,3): 3 vectors → 4.
  (func $wgG4 (param $s i32) (param $ss i32) (param $d i32) (param $ds i32)
    (local $g0 v128) (local $g1 v128) (local $g2 v128) (local $a v128)
    (local.set $g0 (v128.load (local.get $s)))
    (local.set $g1 (v128.load (i32.add (local.get $s) (local.get $ss))))
    (local.set $g2 (v128.load (i32.add (local.get $s) (i32.shl (local.get $ss) (i32.const 1)))))
    (local.set $a (f32x4.add (local.get $g0) (local.get $g2)))
    (v128.store (local.get $d) (local.get $g0))
    (v128.store (i32.add (local.get $d) (local.get $ds)) (f32x4.mul (f32x4.add (local.get $a) (local.get $g1)) (v128.const f32x4 0.5 0.5 0.5 0.5)))
    (v128.store (i32.add (local.get $d) (i32.shl (local.get $ds) (i32.const 1))) (f32x4.mul (f32x4.sub (local.get $a) (local.get $g1)) (v128.const f32x4 0.5 0.5 0.5 0.5)))
    (v128.store (i32.add (local.get $d) (i32.mul (local.get $ds) (i32.const 3))) (local.get $g2)))

  ;; Gg for F(4,3): 3 vectors → 6 (constants are the float32 roundings of 1/4, −1/6, 1/24, 1/6, 1/12).
  (func $wgG6 (param $s i32) (param $ss i32) (param $d i32) (param $ds i32)
    (local $g0 v128) (local $g1 v128) (local $g2 v128) (local $a v128) (local $c v128) (local $e v128)
    (local.set $g0 (v128.load (local.get $s)))
    (local.set $g1 (v128.load (i32.add (local.get $s) (local.get $ss))))
    (local.set $g2 (v128.load (i32.add (local.get $s) (i32.shl (local.get $ss) (i32.const 1)))))
    (local.set $a (f32x4.add (local.get $g0) (local.get $g2)))
    (local.set $c (f32x4.add (f32x4.mul (local.get $g0) (v128.const f32x4 0x1.555556p-5 0x1.555556p-5 0x1.555556p-5 0x1.555556p-5))
                             (f32x4.mul (local.get $g2) (v128.const f32x4 0x1.555556p-3 0x1.555556p-3 0x1.555556p-3 0x1.555556p-3))))
    (local.set $e (f32x4.mul (local.get $g1) (v128.const f32x4 0x1.555556p-4 0x1.555556p-4 0x1.555556p-4 0x1.555556p-4)))
    (v128.store (local.get $d) (f32x4.mul (local.get $g0) (v128.const f32x4 0.25 0.25 0.25 0.25)))
    (v128.store (i32.add (local.get $d) (local.get $ds))
      (f32x4.mul (f32x4.add (local.get $a) (local.get $g1)) (v128.const f32x4 -0x1.555556p-3 -0x1.555556p-3 -0x1.555556p-3 -0x1.555556p-3)))
    (v128.store (i32.add (local.get $d) (i32.shl (local.get $ds) (i32.const 1)))
      (f32x4.mul (f32x4.sub (local.get $a) (local.get $g1)) (v128.const f32x4 -0x1.555556p-3 -0x1.555556p-3 -0x1.555556p-3 -0x1.555556p-3)))
    (v128.store (i32.add (local.get $d) (i32.mul (local.get $ds) (i32.const 3))) (f32x4.add (local.get $c) (local.get $e)))
    (v128.store (i32.add (local.get $d) (i32.shl (local.get $ds) (i32.const 2))) (f32x4.sub (local.get $c) (local.get $e)))
    (v128.store (i32.add (local.get $d) (i32.mul (local.get $ds) (i32.const 5))) (local.get $g2)))

  ;; Aᵀm for F(2,3): 4 vectors → 2.
  (func $wgAt4 (param $s i32) (param $ss i32) (param $d i32) (param $ds i32)
    (local $m0 v128) (local $m1 v128) (local $m2 v128) (local $m3 v128)
    (local.set $m0 (v128.load (local.get $s)))
    (local.set $m1 (v128.load (i32.add (local.get $s) (local.get $ss))))
    (local.set $m2 (v128.load (i32.add (local.get $s) (i32.shl (local.get $ss) (i32.const 1)))))
    (local.set $m3 (v128.load (i32.add (local.get $s) (i32.mul (local.get $ss) (i32.const 3)))))
    (v128.store (local.get $d) (f32x4.add (f32x4.add (local.get $m0) (local.get $m1)) (local.get $m2)))
    (v128.store (i32.add (local.get $d) (local.get $ds)) (f32x4.sub (f32x4.sub (local.get $m1) (local.get $m2)) (local.get $m3))))

  ;; Aᵀm for F(4,3): 6 vectors → 4.
  (func $wgAt6 (param $s i32) (param $ss i32) (param $d i32) (param $ds i32)
    (local $m0 v128) (local $m5 v128) (local $s12 v128) (local $d12 v128) (local $s34 v128) (local $d34 v128)
    (local $m1 v128) (local $m2 v128) (local $m3 v128) (local $m4 v128)
    (local.set $m0 (v128.load (local.get $s)))
    (local.set $m1 (v128.load (i32.add (local.get $s) (local.get $ss))))
    (local.set $m2 (v128.load (i32.add (local.get $s) (i32.shl (local.get $ss) (i32.const 1)))))
    (local.set $m3 (v128.load (i32.add (local.get $s) (i32.mul (local.get $ss) (i32.const 3)))))
    (local.set $m4 (v128.load (i32.add (local.get $s) (i32.shl (local.get $ss) (i32.const 2)))))
    (local.set $m5 (v128.load (i32.add (local.get $s) (i32.mul (local.get $ss) (i32.const 5)))))
    (local.set $s12 (f32x4.add (local.get $m1) (local.get $m2)))
    (local.set $d12 (f32x4.sub (local.get $m1) (local.get $m2)))
    (local.set $s34 (f32x4.add (local.get $m3) (local.get $m4)))
    (local.set $d34 (f32x4.sub (local.get $m3) (local.get $m4)))
    (v128.store (local.get $d) (f32x4.add (f32x4.add (local.get $m0) (local.get $s12)) (local.get $s34)))
    (v128.store (i32.add (local.get $d) (local.get $ds))
      (f32x4.add (local.get $d12) (f32x4.mul (local.get $d34) (v128.const f32x4 2 2 2 2))))
    (v128.store (i32.add (local.get $d) (i32.shl (local.get $ds) (i32.const 1)))
      (f32x4.add (local.get $s12) (f32x4.mul (local.get $s34) (v128.const f32x4 4 4 4 4))))
    (v128.store (i32.add (local.get $d) (i32.mul (local.get $ds) (i32.const 3)))
      (f32x4.add (f32x4.add (local.get $d12) (f32x4.mul (local.get $d34) (v128.const f32x4 8 8 8 8))) (local.get $m5))))

  ;; 4×4 transpose: vectors r_i at s + i·ss (i < 4) → (r_0[j], r_1[j], r_2[j], r_3[j]) at d + j·ds.
  (func $wgT4 (param $s i32) (param $ss i32) (param $d i32) (param $ds i32)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $r0 (v128.load (local.get $s)))
    (local.set $r1 (v128.load (i32.add (local.get $s) (local.get $ss))))
    (local.set $r2 (v128.load (i32.add (local.get $s) (i32.shl (local.get $ss) (i32.const 1)))))
    (local.set $r3 (v128.load (i32.add (local.get $s) (i32.mul (local.get $ss) (i32.const 3)))))
    (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
    (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1)))
    (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))
    (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r2) (local.get $r3)))
    (v128.store (local.get $d) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
    (v128.store (i32.add (local.get $d) (local.get $ds)) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
    (v128.store (i32.add (local.get $d) (i32.shl (local.get $ds) (i32.const 1))) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
    (v128.store (i32.add (local.get $d) (i32.mul (local.get $ds) (i32.const 3))) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3))))

  ;; winogradPack(xb, x, lo, hi, C, H, W, padH, padW, Hp, Wp, b0): planes (image gi, channel block cb)
  ;; [lo, hi), ⌈C/4⌉ per image: xb[gi, cb, h + padH, w + padW, l] = x[b0 + gi, 4·cb + l, h, w] for
  ;; 4·cb + l < C. Nothing else of xb is written (border and missing channels stay 0).
  (func (export "winogradPack")
    (param $xb i32) (param $x i32) (param $p0 i32) (param $p1 i32) (param $C i32) (param $H i32) (param $W i32)
    (param $padH i32) (param $padW i32) (param $Hp i32) (param $Wp i32) (param $b0 i32)
    (local $p i32) (local $blocks i32) (local $gi i32) (local $c i32) (local $cEnd i32) (local $src i32) (local $dst i32)
    (local $rowEnd i32) (local $h i32) (local $plane i32) (local $w i32) (local $at i32)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $blocks (i32.shr_u (i32.add (local.get $C) (i32.const 3)) (i32.const 2)))
    (local.set $plane (i32.shl (i32.mul (local.get $H) (local.get $W)) (i32.const 2)))
    (local.set $p (local.get $p0))
    (block $planes
      (loop $planeLoop
        (br_if $planes (i32.ge_u (local.get $p) (local.get $p1)))
        (local.set $gi (i32.div_u (local.get $p) (local.get $blocks)))
        (local.set $c (i32.shl (i32.rem_u (local.get $p) (local.get $blocks)) (i32.const 2)))
        (local.set $cEnd (i32.add (local.get $c) (i32.const 4)))
        (if (i32.gt_u (local.get $cEnd) (local.get $C)) (then (local.set $cEnd (local.get $C))))
        (if (i32.eq (i32.sub (local.get $cEnd) (local.get $c)) (i32.const 4))
          (then
            ;; a full block: 4 pixels of the 4 channels per step, through a 4×4 transpose
            (local.set $src (i32.add (local.get $x) (i32.mul (local.get $plane)
              (i32.add (i32.mul (i32.add (local.get $b0) (local.get $gi)) (local.get $C)) (local.get $c)))))
            (local.set $dst (i32.add (local.get $xb)
              (i32.shl (i32.add (i32.mul (i32.add (i32.mul (local.get $p) (local.get $Hp)) (local.get $padH)) (local.get $Wp)) (local.get $padW))
                       (i32.const 4))))
            (local.set $h (i32.const 0))
            (block $qrows
              (loop $qrow
                (br_if $qrows (i32.ge_u (local.get $h) (local.get $H)))
                (local.set $w (i32.const 0))
                (block $quads
                  (loop $quad
                    (br_if $quads (i32.gt_u (i32.add (local.get $w) (i32.const 4)) (local.get $W)))
                    (local.set $at (i32.add (local.get $src) (i32.shl (local.get $w) (i32.const 2))))
                    (local.set $r0 (v128.load (local.get $at)))
                    (local.set $r1 (v128.load (i32.add (local.get $at) (local.get $plane))))
                    (local.set $r2 (v128.load (i32.add (local.get $at) (i32.shl (local.get $plane) (i32.const 1)))))
                    (local.set $r3 (v128.load (i32.add (local.get $at) (i32.mul (local.get $plane) (i32.const 3)))))
                    (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
                    (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1)))
                    (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))
                    (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r2) (local.get $r3)))
                    (local.set $at (i32.add (local.get $dst) (i32.shl (local.get $w) (i32.const 4))))
                    (v128.store (local.get $at) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
                    (v128.store offset=16 (local.get $at) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
                    (v128.store offset=32 (local.get $at) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
                    (v128.store offset=48 (local.get $at) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
                    (local.set $w (i32.add (local.get $w) (i32.const 4)))
                    (br $quad)))
                (block $singles
                  (loop $single
                    (br_if $singles (i32.ge_u (local.get $w) (local.get $W)))
                    (local.set $at (i32.add (local.get $src) (i32.shl (local.get $w) (i32.const 2))))
                    (local.set $r0 (f32x4.replace_lane 0 (local.get $r0) (f32.load (local.get $at))))
                    (local.set $r0 (f32x4.replace_lane 1 (local.get $r0) (f32.load (i32.add (local.get $at) (local.get $plane)))))
                    (local.set $r0 (f32x4.replace_lane 2 (local.get $r0) (f32.load (i32.add (local.get $at) (i32.shl (local.get $plane) (i32.const 1))))))
                    (local.set $r0 (f32x4.replace_lane 3 (local.get $r0) (f32.load (i32.add (local.get $at) (i32.mul (local.get $plane) (i32.const 3))))))
                    (v128.store (i32.add (local.get $dst) (i32.shl (local.get $w) (i32.const 4))) (local.get $r0))
                    (local.set $w (i32.add (local.get $w) (i32.const 1)))
                    (br $single)))
                (local.set $src (i32.add (local.get $src) (i32.shl (local.get $W) (i32.const 2))))
                (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $Wp) (i32.const 4))))
                (local.set $h (i32.add (local.get $h) (i32.const 1)))
                (br $qrow)))
            (local.set $c (local.get $cEnd))))
        (block $chans
          (loop $chan
            (br_if $chans (i32.ge_u (local.get $c) (local.get $cEnd)))
            (local.set $src (i32.add (local.get $x) (i32.mul (local.get $plane)
              (i32.add (i32.mul (i32.add (local.get $b0) (local.get $gi)) (local.get $C)) (local.get $c)))))
            ;; xb[p, padH, padW, c mod 4]
            (local.set $dst (i32.add (local.get $xb) (i32.add (i32.shl (i32.and (local.get $c) (i32.const 3)) (i32.const 2))
              (i32.shl (i32.add (i32.mul (i32.add (i32.mul (local.get $p) (local.get $Hp)) (local.get $padH)) (local.get $Wp)) (local.get $padW))
                       (i32.const 4)))))
            (local.set $h (i32.const 0))
            (block $rows
              (loop $row
                (br_if $rows (i32.ge_u (local.get $h) (local.get $H)))
                (local.set $rowEnd (i32.add (local.get $src) (i32.shl (local.get $W) (i32.const 2))))
                (block $cols
                  (loop $col
                    (br_if $cols (i32.ge_u (local.get $src) (local.get $rowEnd)))
                    (f32.store (i32.add (local.get $dst) (i32.shl (i32.sub (local.get $src) (i32.sub (local.get $rowEnd) (i32.shl (local.get $W) (i32.const 2)))) (i32.const 2)))
                      (f32.load (local.get $src)))
                    (local.set $src (i32.add (local.get $src) (i32.const 4)))
                    (br $col)))
                (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $Wp) (i32.const 4))))
                (local.set $h (i32.add (local.get $h) (i32.const 1)))
                (br $row)))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $chan)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $planeLoop))))

  ;; winogradInput(V, xb, S, lo, hi, m, blocks, tilesH, tilesW, Hp, Wp, slot, C4): planes (image gi,
  ;; tile row th) [lo, hi), tilesH per image: for every tile (th, tw) and channel block cb,
  ;; V[t, tile, 4·cb…] (t = k·α + l; slot = floats per t) = (Bᵀ d B)[k, l] of the α×α patch
  ;; d = xb[gi, cb, th·m …, tw·m …], tile = (gi·tilesH + th)·tilesW + tw. The column pass goes to the
  ;; plane's own α²·4 floats of S (cache-hot; V's slots lie far apart), the row pass from S to V.
  (func (export "winogradInput")
    (param $V i32) (param $xb i32) (param $S i32) (param $p0 i32) (param $p1 i32) (param $m i32) (param $blocks i32)
    (param $tilesH i32) (param $tilesW i32) (param $Hp i32) (param $Wp i32) (param $slot i32) (param $C4 i32)
    (local $p i32) (local $gi i32) (local $th i32) (local $tw i32) (local $cb i32) (local $src i32) (local $dst i32) (local $a i32)
    (local $s i32) (local $rowStride i32) (local $slotB i32) (local $sp i32) (local $aB i32)
    (local.set $a (i32.add (local.get $m) (i32.const 2)))
    (local.set $aB (i32.shl (local.get $a) (i32.const 4)))
    (local.set $rowStride (i32.shl (local.get $Wp) (i32.const 4)))
    (local.set $slotB (i32.shl (local.get $slot) (i32.const 2)))
    (local.set $p (local.get $p0))
    (block $planes
      (loop $planeLoop
        (br_if $planes (i32.ge_u (local.get $p) (local.get $p1)))
        (local.set $gi (i32.div_u (local.get $p) (local.get $tilesH)))
        (local.set $th (i32.rem_u (local.get $p) (local.get $tilesH)))
        (local.set $sp (i32.add (local.get $S) (i32.mul (local.get $p) (i32.mul (local.get $a) (local.get $aB)))))
        (local.set $tw (i32.const 0))
        (block $tiles
          (loop $tileLoop
            (br_if $tiles (i32.ge_u (local.get $tw) (local.get $tilesW)))
            (local.set $cb (i32.const 0))
            (block $cbs
              (loop $cbLoop
                (br_if $cbs (i32.ge_u (local.get $cb) (local.get $blocks)))
                (local.set $src (i32.add (local.get $xb) (i32.shl
                  (i32.add (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $gi) (local.get $blocks)) (local.get $cb)) (local.get $Hp))
                                             (i32.mul (local.get $th) (local.get $m))) (local.get $Wp))
                           (i32.mul (local.get $tw) (local.get $m)))
                  (i32.const 4))))
                (local.set $dst (i32.add (local.get $V) (i32.shl
                  (i32.add (i32.mul (i32.add (i32.mul (local.get $p) (local.get $tilesW)) (local.get $tw)) (local.get $C4)) (i32.shl (local.get $cb) (i32.const 2)))
                  (i32.const 2))))
                ;; columns: d[·, s] → S[k·α + s]
                (local.set $s (i32.const 0))
                (block $cols
                  (loop $col
                    (br_if $cols (i32.ge_u (local.get $s) (local.get $a)))
                    (if (i32.eq (local.get $m) (i32.const 2))
                      (then (call $wgBt4 (i32.add (local.get $src) (i32.shl (local.get $s) (i32.const 4))) (local.get $rowStride)
                                         (i32.add (local.get $sp) (i32.shl (local.get $s) (i32.const 4))) (local.get $aB)))
                      (else (call $wgBt6 (i32.add (local.get $src) (i32.shl (local.get $s) (i32.const 4))) (local.get $rowStride)
                                         (i32.add (local.get $sp) (i32.shl (local.get $s) (i32.const 4))) (local.get $aB))))
                    (local.set $s (i32.add (local.get $s) (i32.const 1)))
                    (br $col)))
                ;; rows: S[k·α + ·] → V[k·α + ·]
                (local.set $s (i32.const 0))
                (block $krows
                  (loop $krow
                    (br_if $krows (i32.ge_u (local.get $s) (local.get $a)))
                    (if (i32.eq (local.get $m) (i32.const 2))
                      (then (call $wgBt4 (i32.add (local.get $sp) (i32.mul (local.get $s) (local.get $aB))) (i32.const 16)
                                         (i32.add (local.get $dst) (i32.mul (i32.mul (local.get $s) (local.get $a)) (local.get $slotB))) (local.get $slotB)))
                      (else (call $wgBt6 (i32.add (local.get $sp) (i32.mul (local.get $s) (local.get $aB))) (i32.const 16)
                                         (i32.add (local.get $dst) (i32.mul (i32.mul (local.get $s) (local.get $a)) (local.get $slotB))) (local.get $slotB))))
                    (local.set $s (i32.add (local.get $s) (i32.const 1)))
                    (br $krow)))
                (local.set $cb (i32.add (local.get $cb) (i32.const 1)))
                (br $cbLoop)))
            (local.set $tw (i32.add (local.get $tw) (i32.const 1)))
            (br $tileLoop)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $planeLoop))))

  ;; winogradFilter(U, w, lo, hi, m, C, O, sO, sC, flip, slot, O4): planes (c, ob) [lo, hi), ⌈O/4⌉ per
  ;; input channel: U[t, c, 4·ob…] (slot floats per t) = (G g Gᵀ)[k, l] of the 3×3 filters
  ;; g[o][i][j] = w[o·sO + c·sC + r] with r = i·3 + j, or 8 − r when flip = 1 (lanes o ≥ O read 0).
  (func (export "winogradFilter")
    (param $U i32) (param $w i32) (param $p0 i32) (param $p1 i32) (param $m i32) (param $C i32) (param $O i32)
    (param $sO i32) (param $sC i32) (param $flip i32) (param $slot i32) (param $O4 i32)
    (local $p i32) (local $blocks i32) (local $c i32) (local $o0 i32) (local $dst i32) (local $a i32) (local $slotB i32)
    (local $r i32) (local $tap i32) (local $q i32) (local $v v128) (local $s i32) (local $at i32)
    (local.set $a (i32.add (local.get $m) (i32.const 2)))
    (local.set $slotB (i32.shl (local.get $slot) (i32.const 2)))
    (local.set $blocks (i32.shr_u (i32.add (local.get $O) (i32.const 3)) (i32.const 2)))
    (local.set $p (local.get $p0))
    (block $planes
      (loop $planeLoop
        (br_if $planes (i32.ge_u (local.get $p) (local.get $p1)))
        (local.set $c (i32.div_u (local.get $p) (local.get $blocks)))
        (local.set $o0 (i32.shl (i32.rem_u (local.get $p) (local.get $blocks)) (i32.const 2)))
        (local.set $dst (i32.add (local.get $U) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $O4)) (local.get $o0)) (i32.const 2))))
        ;; g[i][j] (4 filters) → U[i·α + j]
        (local.set $r (i32.const 0))
        (block $taps
          (loop $tapLoop
            (br_if $taps (i32.ge_u (local.get $r) (i32.const 9)))
            (local.set $tap (select (i32.sub (i32.const 8) (local.get $r)) (local.get $r) (local.get $flip)))
            (local.set $v (v128.const i32x4 0 0 0 0))
            (local.set $q (i32.const 0))
            (block $lanes
              (loop $lane
                (br_if $lanes (i32.or (i32.ge_u (local.get $q) (i32.const 4)) (i32.ge_u (i32.add (local.get $o0) (local.get $q)) (local.get $O))))
                (local.set $at (i32.add (local.get $w) (i32.shl (i32.add (i32.add
                  (i32.mul (i32.add (local.get $o0) (local.get $q)) (local.get $sO)) (i32.mul (local.get $c) (local.get $sC))) (local.get $tap)) (i32.const 2))))
                (if (i32.eqz (local.get $q)) (then (local.set $v (f32x4.replace_lane 0 (local.get $v) (f32.load (local.get $at))))))
                (if (i32.eq (local.get $q) (i32.const 1)) (then (local.set $v (f32x4.replace_lane 1 (local.get $v) (f32.load (local.get $at))))))
                (if (i32.eq (local.get $q) (i32.const 2)) (then (local.set $v (f32x4.replace_lane 2 (local.get $v) (f32.load (local.get $at))))))
                (if (i32.eq (local.get $q) (i32.const 3)) (then (local.set $v (f32x4.replace_lane 3 (local.get $v) (f32.load (local.get $at))))))
                (local.set $q (i32.add (local.get $q) (i32.const 1)))
                (br $lane)))
            (v128.store (i32.add (local.get $dst) (i32.mul (local.get $slotB)
              (i32.add (i32.mul (i32.div_u (local.get $r) (i32.const 3)) (local.get $a)) (i32.rem_u (local.get $r) (i32.const 3)))))
              (local.get $v))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $tapLoop)))
        ;; columns j: U[i·α + j], i < 3 → U[k·α + j], k < α; then rows k in place
        (local.set $s (i32.const 0))
        (block $cols
          (loop $col
            (br_if $cols (i32.ge_u (local.get $s) (i32.const 3)))
            (if (i32.eq (local.get $m) (i32.const 2))
              (then (call $wgG4 (i32.add (local.get $dst) (i32.mul (local.get $s) (local.get $slotB))) (i32.mul (local.get $a) (local.get $slotB))
                                (i32.add (local.get $dst) (i32.mul (local.get $s) (local.get $slotB))) (i32.mul (local.get $a) (local.get $slotB))))
              (else (call $wgG6 (i32.add (local.get $dst) (i32.mul (local.get $s) (local.get $slotB))) (i32.mul (local.get $a) (local.get $slotB))
                                (i32.add (local.get $dst) (i32.mul (local.get $s) (local.get $slotB))) (i32.mul (local.get $a) (local.get $slotB)))))
            (local.set $s (i32.add (local.get $s) (i32.const 1)))
            (br $col)))
        (local.set $s (i32.const 0))
        (block $krows
          (loop $krow
            (br_if $krows (i32.ge_u (local.get $s) (local.get $a)))
            (if (i32.eq (local.get $m) (i32.const 2))
              (then (call $wgG4 (i32.add (local.get $dst) (i32.mul (i32.mul (local.get $s) (local.get $a)) (local.get $slotB))) (local.get $slotB)
                                (i32.add (local.get $dst) (i32.mul (i32.mul (local.get $s) (local.get $a)) (local.get $slotB))) (local.get $slotB)))
              (else (call $wgG6 (i32.add (local.get $dst) (i32.mul (i32.mul (local.get $s) (local.get $a)) (local.get $slotB))) (local.get $slotB)
                                (i32.add (local.get $dst) (i32.mul (i32.mul (local.get $s) (local.get $a)) (local.get $slotB))) (local.get $slotB))))
            (local.set $s (i32.add (local.get $s) (i32.const 1)))
            (br $krow)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $planeLoop))))

  ;; winogradOutput(y, M, bias, S, lo, hi, m, O, tilesH, tilesW, outH, outW, slot, O4, relu, b0):
  ;; planes (image gi, tile row th) [lo, hi), tilesH per image: for every tile and block of 4 filters,
  ;; Y = Aᵀ M A over M[t, tile, 4·ob…] (the column pass into the plane's α²·4 floats of S, the row pass
  ;; in place there), then y[b0 + gi, o, th·m + k, tw·m + l] = Y[k, l] + bias[o] (through a ReLU when
  ;; relu = 1: +0 for v ≤ 0, so NaN passes) for the positions inside outH × outW and o < O. bias has O4 floats.
  (func (export "winogradOutput")
    (param $y i32) (param $M i32) (param $bias i32) (param $S i32) (param $p0 i32) (param $p1 i32) (param $m i32) (param $O i32)
    (param $tilesH i32) (param $tilesW i32) (param $outH i32) (param $outW i32) (param $slot i32) (param $O4 i32)
    (param $relu i32) (param $b0 i32)
    (local $p i32) (local $blocks i32) (local $gi i32) (local $th i32) (local $ob i32) (local $o0 i32) (local $lanes i32) (local $tw i32)
    (local $src i32) (local $a i32) (local $aB i32) (local $slotB i32) (local $s i32) (local $k i32) (local $l i32) (local $wc i32)
    (local $bv v128) (local $v v128) (local $zero v128) (local $plane i32) (local $yAt i32) (local $kEnd i32) (local $lEnd i32) (local $sp i32)
    (local.set $a (i32.add (local.get $m) (i32.const 2)))
    (local.set $aB (i32.shl (local.get $a) (i32.const 4)))
    (local.set $slotB (i32.shl (local.get $slot) (i32.const 2)))
    (local.set $blocks (i32.shr_u (i32.add (local.get $O) (i32.const 3)) (i32.const 2)))
    (local.set $plane (i32.shl (i32.mul (local.get $outH) (local.get $outW)) (i32.const 2)))
    (local.set $p (local.get $p0))
    (block $planes
      (loop $planeLoop
        (br_if $planes (i32.ge_u (local.get $p) (local.get $p1)))
        (local.set $gi (i32.div_u (local.get $p) (local.get $tilesH)))
        (local.set $th (i32.rem_u (local.get $p) (local.get $tilesH)))
        (local.set $sp (i32.add (local.get $S) (i32.mul (local.get $p) (i32.mul (local.get $a) (local.get $aB)))))
        (local.set $kEnd (i32.sub (local.get $outH) (i32.mul (local.get $th) (local.get $m))))
        (if (i32.gt_s (local.get $kEnd) (local.get $m)) (then (local.set $kEnd (local.get $m))))
        (local.set $tw (i32.const 0))
        (block $tiles
          (loop $tileLoop
            (br_if $tiles (i32.ge_u (local.get $tw) (local.get $tilesW)))
            (local.set $lEnd (i32.sub (local.get $outW) (i32.mul (local.get $tw) (local.get $m))))
            (if (i32.gt_s (local.get $lEnd) (local.get $m)) (then (local.set $lEnd (local.get $m))))
            (local.set $ob (i32.const 0))
            (block $obs
              (loop $obLoop
                (br_if $obs (i32.ge_u (local.get $ob) (local.get $blocks)))
                (local.set $o0 (i32.shl (local.get $ob) (i32.const 2)))
                (local.set $lanes (i32.sub (local.get $O) (local.get $o0)))
                (if (i32.gt_u (local.get $lanes) (i32.const 4)) (then (local.set $lanes (i32.const 4))))
                (local.set $bv (v128.load (i32.add (local.get $bias) (i32.shl (local.get $o0) (i32.const 2)))))
                ;; y[b0 + gi, o0, th·m, tw·m]
                (local.set $yAt (i32.add (i32.add (local.get $y) (i32.mul (local.get $plane)
                  (i32.add (i32.mul (i32.add (local.get $b0) (local.get $gi)) (local.get $O)) (local.get $o0))))
                  (i32.shl (i32.add (i32.mul (i32.mul (local.get $th) (local.get $m)) (local.get $outW)) (i32.mul (local.get $tw) (local.get $m))) (i32.const 2))))
                (local.set $src (i32.add (local.get $M) (i32.shl
                  (i32.add (i32.mul (i32.add (i32.mul (local.get $p) (local.get $tilesW)) (local.get $tw)) (local.get $O4)) (local.get $o0))
                  (i32.const 2))))
                ;; columns: M[(·)·α + s] → S[k·α + s], k < m
                (local.set $s (i32.const 0))
                (block $cols
                  (loop $col
                    (br_if $cols (i32.ge_u (local.get $s) (local.get $a)))
                    (if (i32.eq (local.get $m) (i32.const 2))
                      (then (call $wgAt4 (i32.add (local.get $src) (i32.mul (local.get $s) (local.get $slotB))) (i32.mul (local.get $a) (local.get $slotB))
                                         (i32.add (local.get $sp) (i32.shl (local.get $s) (i32.const 4))) (local.get $aB)))
                      (else (call $wgAt6 (i32.add (local.get $src) (i32.mul (local.get $s) (local.get $slotB))) (i32.mul (local.get $a) (local.get $slotB))
                                         (i32.add (local.get $sp) (i32.shl (local.get $s) (i32.const 4))) (local.get $aB))))
                    (local.set $s (i32.add (local.get $s) (i32.const 1)))
                    (br $col)))
                (local.set $k (i32.const 0))
                (block $krows
                  (loop $krow
                    (br_if $krows (i32.ge_u (local.get $k) (local.get $kEnd)))
                    (if (i32.eq (local.get $m) (i32.const 2))
                      (then (call $wgAt4 (i32.add (local.get $sp) (i32.mul (local.get $k) (local.get $aB))) (i32.const 16)
                                         (i32.add (local.get $sp) (i32.mul (local.get $k) (local.get $aB))) (i32.const 16)))
                      (else (call $wgAt6 (i32.add (local.get $sp) (i32.mul (local.get $k) (local.get $aB))) (i32.const 16)
                                         (i32.add (local.get $sp) (i32.mul (local.get $k) (local.get $aB))) (i32.const 16))))
                    (if (i32.and (i32.eq (local.get $lEnd) (i32.const 4)) (i32.eq (local.get $lanes) (i32.const 4)))
                      (then
                        ;; a whole row of 4 outputs and 4 filters: bias (and ReLU) in place in S, then a 4×4
                        ;; transpose into the 4 filters' rows of y (the same values as the scalar stores below)
                        (local.set $l (i32.const 0))
                        (block $qs
                          (loop $qLoop
                            (br_if $qs (i32.ge_s (local.get $l) (i32.const 4)))
                            (local.set $wc (i32.add (local.get $sp) (i32.add (i32.mul (local.get $k) (local.get $aB)) (i32.shl (local.get $l) (i32.const 4)))))
                            (local.set $v (f32x4.add (v128.load (local.get $wc)) (local.get $bv)))
                            (if (local.get $relu) (then (local.set $v (v128.andnot (local.get $v) (f32x4.le (local.get $v) (local.get $zero))))))
                            (v128.store (local.get $wc) (local.get $v))
                            (local.set $l (i32.add (local.get $l) (i32.const 1)))
                            (br $qLoop)))
                        (call $wgT4 (i32.add (local.get $sp) (i32.mul (local.get $k) (local.get $aB))) (i32.const 16)
                                    (i32.add (local.get $yAt) (i32.shl (i32.mul (local.get $k) (local.get $outW)) (i32.const 2))) (local.get $plane)))
                      (else
                      (local.set $l (i32.const 0))
                      (block $ls
                        (loop $lLoop
                          (br_if $ls (i32.ge_s (local.get $l) (local.get $lEnd)))
                          (local.set $v (f32x4.add (v128.load (i32.add (local.get $sp) (i32.add (i32.mul (local.get $k) (local.get $aB)) (i32.shl (local.get $l) (i32.const 4)))))
                                                   (local.get $bv)))
                          (if (local.get $relu) (then (local.set $v (v128.andnot (local.get $v) (f32x4.le (local.get $v) (local.get $zero))))))
                          (local.set $wc (i32.add (local.get $yAt) (i32.shl (i32.add (i32.mul (local.get $k) (local.get $outW)) (local.get $l)) (i32.const 2))))
                          (f32.store (local.get $wc) (f32x4.extract_lane 0 (local.get $v)))
                          (if (i32.gt_u (local.get $lanes) (i32.const 1)) (then
                            (f32.store (i32.add (local.get $wc) (local.get $plane)) (f32x4.extract_lane 1 (local.get $v)))
                            (if (i32.gt_u (local.get $lanes) (i32.const 2)) (then
                              (f32.store (i32.add (local.get $wc) (i32.shl (local.get $plane) (i32.const 1))) (f32x4.extract_lane 2 (local.get $v)))
                              (if (i32.gt_u (local.get $lanes) (i32.const 3)) (then
                                (f32.store (i32.add (local.get $wc) (i32.mul (local.get $plane) (i32.const 3))) (f32x4.extract_lane 3 (local.get $v)))))))))
                          (local.set $l (i32.add (local.get $l) (i32.const 1)))
                          (br $lLoop)))))
                    (local.set $k (i32.add (local.get $k) (i32.const 1)))
                    (br $krow)))
                (local.set $ob (i32.add (local.get $ob) (i32.const 1)))
                (br $obLoop)))
            (local.set $tw (i32.add (local.get $tw) (i32.const 1)))
            (br $tileLoop)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $planeLoop))))

  ;; ---- Winograd dL/dW (the adjoints of the output and filter transforms; tensor/winograd.ts).

  ;; A·v for F(2,3) (the adjoint of Aᵀ): 2 vectors at s + i·ss → 4 at d + i·ds (loads first: may run in place).
  (func $wgA4 (param $s i32) (param $ss i32) (param $d i32) (param $ds i32)
    (local $v0 v128) (local $v1 v128)
    (local.set $v0 (v128.load (local.get $s)))
    (local.set $v1 (v128.load (i32.add (local.get $s) (local.get $ss))))
    (v128.store (local.get $d) (local.get $v0))
    (v128.store (i32.add (local.get $d) (local.get $ds)) (f32x4.add (local.get $v0) (local.get $v1)))
    (v128.store (i32.add (local.get $d) (i32.shl (local.get $ds) (i32.const 1))) (f32x4.sub (local.get $v0) (local.get $v1)))
    (v128.store (i32.add (local.get $d) (i32.mul (local.get $ds) (i32.const 3))) (f32x4.neg (local.get $v1))))

  ;; A·v for F(4,3): 4 vectors → 6.
  (func $wgA6 (param $s i32) (param $ss i32) (param $d i32) (param $ds i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $e v128) (local $o v128) (local $e4 v128) (local $o4 v128)
    (local.set $v0 (v128.load (local.get $s)))
    (local.set $v1 (v128.load (i32.add (local.get $s) (local.get $ss))))
    (local.set $v2 (v128.load (i32.add (local.get $s) (i32.shl (local.get $ss) (i32.const 1)))))
    (local.set $v3 (v128.load (i32.add (local.get $s) (i32.mul (local.get $ss) (i32.const 3)))))
    (local.set $e (f32x4.add (local.get $v0) (local.get $v2)))
    (local.set $o (f32x4.add (local.get $v1) (local.get $v3)))
    (local.set $e4 (f32x4.add (local.get $v0) (f32x4.mul (local.get $v2) (v128.const f32x4 4 4 4 4))))
    (local.set $o4 (f32x4.mul (f32x4.add (local.get $v1) (f32x4.mul (local.get $v3) (v128.const f32x4 4 4 4 4))) (v128.const f32x4 2 2 2 2)))
    (v128.store (local.get $d) (local.get $v0))
    (v128.store (i32.add (local.get $d) (local.get $ds)) (f32x4.add (local.get $e) (local.get $o)))
    (v128.store (i32.add (local.get $d) (i32.shl (local.get $ds) (i32.const 1))) (f32x4.sub (local.get $e) (local.get $o)))
    (v128.store (i32.add (local.get $d) (i32.mul (local.get $ds) (i32.const 3))) (f32x4.add (local.get $e4) (local.get $o4)))
    (v128.store (i32.add (local.get $d) (i32.shl (local.get $ds) (i32.const 2))) (f32x4.sub (local.get $e4) (local.get $o4)))
    (v128.store (i32.add (local.get $d) (i32.mul (local.get $ds) (i32.const 5))) (local.get $v3)))

  ;; Gᵀu for F(2,3) (the adjoint of G): 4 vectors at s + i·ss → 3 at the same places.
  (func $wgGt4 (param $s i32) (param $ss i32)
    (local $u0 v128) (local $u1 v128) (local $u2 v128) (local $u3 v128) (local $h v128)
    (local.set $u0 (v128.load (local.get $s)))
    (local.set $u1 (v128.load (i32.add (local.get $s) (local.get $ss))))
    (local.set $u2 (v128.load (i32.add (local.get $s) (i32.shl (local.get $ss) (i32.const 1)))))
    (local.set $u3 (v128.load (i32.add (local.get $s) (i32.mul (local.get $ss) (i32.const 3)))))
    (local.set $h (f32x4.mul (f32x4.add (local.get $u1) (local.get $u2)) (v128.const f32x4 0.5 0.5 0.5 0.5)))
    (v128.store (local.get $s) (f32x4.add (local.get $u0) (local.get $h)))
    (v128.store (i32.add (local.get $s) (local.get $ss)) (f32x4.mul (f32x4.sub (local.get $u1) (local.get $u2)) (v128.const f32x4 0.5 0.5 0.5 0.5)))
    (v128.store (i32.add (local.get $s) (i32.shl (local.get $ss) (i32.const 1))) (f32x4.add (local.get $h) (local.get $u3))))

  ;; Gᵀu for F(4,3): 6 vectors → 3 (constants: float32 1/4, 1/24, 1/6, 1/12 as in $wgG6).
  (func $wgGt6 (param $s i32) (param $ss i32)
    (local $u0 v128) (local $u5 v128) (local $s12 v128) (local $d12 v128) (local $s34 v128) (local $d34 v128)
    (local $u1 v128) (local $u2 v128) (local $u3 v128) (local $u4 v128)
    (local.set $u0 (v128.load (local.get $s)))
    (local.set $u1 (v128.load (i32.add (local.get $s) (local.get $ss))))
    (local.set $u2 (v128.load (i32.add (local.get $s) (i32.shl (local.get $ss) (i32.const 1)))))
    (local.set $u3 (v128.load (i32.add (local.get $s) (i32.mul (local.get $ss) (i32.const 3)))))
    (local.set $u4 (v128.load (i32.add (local.get $s) (i32.shl (local.get $ss) (i32.const 2)))))
    (local.set $u5 (v128.load (i32.add (local.get $s) (i32.mul (local.get $ss) (i32.const 5)))))
    (local.set $s12 (f32x4.add (local.get $u1) (local.get $u2)))
    (local.set $d12 (f32x4.sub (local.get $u1) (local.get $u2)))
    (local.set $s34 (f32x4.add (local.get $u3) (local.get $u4)))
    (local.set $d34 (f32x4.sub (local.get $u3) (local.get $u4)))
    (v128.store (local.get $s)
      (f32x4.add (f32x4.mul (local.get $u0) (v128.const f32x4 0.25 0.25 0.25 0.25))
                 (f32x4.sub (f32x4.mul (local.get $s34) (v128.const f32x4 0x1.555556p-5 0x1.555556p-5 0x1.555556p-5 0x1.555556p-5))
                            (f32x4.mul (local.get $s12) (v128.const f32x4 0x1.555556p-3 0x1.555556p-3 0x1.555556p-3 0x1.555556p-3)))))
    (v128.store (i32.add (local.get $s) (local.get $ss))
      (f32x4.sub (f32x4.mul (local.get $d34) (v128.const f32x4 0x1.555556p-4 0x1.555556p-4 0x1.555556p-4 0x1.555556p-4))
                 (f32x4.mul (local.get $d12) (v128.const f32x4 0x1.555556p-3 0x1.555556p-3 0x1.555556p-3 0x1.555556p-3))))
    (v128.store (i32.add (local.get $s) (i32.shl (local.get $ss) (i32.const 1)))
      (f32x4.add (f32x4.mul (f32x4.sub (local.get $s34) (local.get $s12)) (v128.const f32x4 0x1.555556p-3 0x1.555556p-3 0x1.555556p-3 0x1.555556p-3))
                 (local.get $u5))))

  ;; winogradOutputGrad(M, dy, S, lo, hi, m, O, tilesH, tilesW, outH, outW, slot, O4, b0): planes (image
  ;; gi, tile row th) [lo, hi), tilesH per image: for every tile and block of 4 filters, the m×m block
  ;; of dy[b0 + gi, 4·ob…, th·m …, tw·m …] (zero outside outH × outW and for o ≥ O) goes to the
  ;; plane's α²·4 floats of S, the column pass A·(·) runs in place there, and the row pass writes
  ;; M[t, tile, 4·ob…] = (A dY Aᵀ)[k, l] (t = k·α + l), tile = (gi·tilesH + th)·tilesW + tw.
  (func (export "winogradOutputGrad")
    (param $M i32) (param $dy i32) (param $S i32) (param $p0 i32) (param $p1 i32) (param $m i32) (param $O i32)
    (param $tilesH i32) (param $tilesW i32) (param $outH i32) (param $outW i32) (param $slot i32) (param $O4 i32) (param $b0 i32)
    (local $p i32) (local $blocks i32) (local $gi i32) (local $th i32) (local $ob i32) (local $o0 i32) (local $lanes i32) (local $tw i32)
    (local $dst i32) (local $a i32) (local $aB i32) (local $slotB i32) (local $s i32) (local $k i32) (local $l i32) (local $wc i32)
    (local $v v128) (local $plane i32) (local $yAt i32) (local $kEnd i32) (local $lEnd i32) (local $sp i32)
    (local.set $a (i32.add (local.get $m) (i32.const 2)))
    (local.set $aB (i32.shl (local.get $a) (i32.const 4)))
    (local.set $slotB (i32.shl (local.get $slot) (i32.const 2)))
    (local.set $blocks (i32.shr_u (i32.add (local.get $O) (i32.const 3)) (i32.const 2)))
    (local.set $plane (i32.shl (i32.mul (local.get $outH) (local.get $outW)) (i32.const 2)))
    (local.set $p (local.get $p0))
    (block $planes
      (loop $planeLoop
        (br_if $planes (i32.ge_u (local.get $p) (local.get $p1)))
        (local.set $gi (i32.div_u (local.get $p) (local.get $tilesH)))
        (local.set $th (i32.rem_u (local.get $p) (local.get $tilesH)))
        (local.set $sp (i32.add (local.get $S) (i32.mul (local.get $p) (i32.mul (local.get $a) (local.get $aB)))))
        (local.set $kEnd (i32.sub (local.get $outH) (i32.mul (local.get $th) (local.get $m))))
        (if (i32.gt_s (local.get $kEnd) (local.get $m)) (then (local.set $kEnd (local.get $m))))
        (local.set $tw (i32.const 0))
        (block $tiles
          (loop $tileLoop
            (br_if $tiles (i32.ge_u (local.get $tw) (local.get $tilesW)))
            (local.set $lEnd (i32.sub (local.get $outW) (i32.mul (local.get $tw) (local.get $m))))
            (if (i32.gt_s (local.get $lEnd) (local.get $m)) (then (local.set $lEnd (local.get $m))))
            (local.set $ob (i32.const 0))
            (block $obs
              (loop $obLoop
                (br_if $obs (i32.ge_u (local.get $ob) (local.get $blocks)))
                (local.set $o0 (i32.shl (local.get $ob) (i32.const 2)))
                (local.set $lanes (i32.sub (local.get $O) (local.get $o0)))
                (if (i32.gt_u (local.get $lanes) (i32.const 4)) (then (local.set $lanes (i32.const 4))))
                ;; dy[b0 + gi, o0, th·m, tw·m]
                (local.set $yAt (i32.add (i32.add (local.get $dy) (i32.mul (local.get $plane)
                  (i32.add (i32.mul (i32.add (local.get $b0) (local.get $gi)) (local.get $O)) (local.get $o0))))
                  (i32.shl (i32.add (i32.mul (i32.mul (local.get $th) (local.get $m)) (local.get $outW)) (i32.mul (local.get $tw) (local.get $m))) (i32.const 2))))
                (local.set $dst (i32.add (local.get $M) (i32.shl
                  (i32.add (i32.mul (i32.add (i32.mul (local.get $p) (local.get $tilesW)) (local.get $tw)) (local.get $O4)) (local.get $o0))
                  (i32.const 2))))
                ;; gather: S[k·α + l] = dY[k, l] (4 filters), k, l < m
                (local.set $k (i32.const 0))
                (block $gks
                  (loop $gk
                    (br_if $gks (i32.ge_u (local.get $k) (local.get $m)))
                    (if (i32.and (i32.lt_s (local.get $k) (local.get $kEnd))
                                 (i32.and (i32.eq (local.get $lEnd) (i32.const 4)) (i32.eq (local.get $lanes) (i32.const 4))))
                      (then
                        ;; a whole row of 4 pixels of 4 filters: a 4×4 transpose (the values of the scalar loads below)
                        (call $wgT4 (i32.add (local.get $yAt) (i32.shl (i32.mul (local.get $k) (local.get $outW)) (i32.const 2))) (local.get $plane)
                                    (i32.add (local.get $sp) (i32.mul (local.get $k) (local.get $aB))) (i32.const 16)))
                      (else
                      (local.set $l (i32.const 0))
                      (block $gls
                        (loop $gl
                          (br_if $gls (i32.ge_u (local.get $l) (local.get $m)))
                          (local.set $v (v128.const i32x4 0 0 0 0))
                          (if (i32.and (i32.lt_s (local.get $k) (local.get $kEnd)) (i32.lt_s (local.get $l) (local.get $lEnd)))
                            (then
                              (local.set $wc (i32.add (local.get $yAt) (i32.shl (i32.add (i32.mul (local.get $k) (local.get $outW)) (local.get $l)) (i32.const 2))))
                              (local.set $v (f32x4.replace_lane 0 (local.get $v) (f32.load (local.get $wc))))
                              (if (i32.gt_u (local.get $lanes) (i32.const 1)) (then
                                (local.set $v (f32x4.replace_lane 1 (local.get $v) (f32.load (i32.add (local.get $wc) (local.get $plane)))))
                                (if (i32.gt_u (local.get $lanes) (i32.const 2)) (then
                                  (local.set $v (f32x4.replace_lane 2 (local.get $v) (f32.load (i32.add (local.get $wc) (i32.shl (local.get $plane) (i32.const 1))))))
                                  (if (i32.gt_u (local.get $lanes) (i32.const 3)) (then
                                    (local.set $v (f32x4.replace_lane 3 (local.get $v) (f32.load (i32.add (local.get $wc) (i32.mul (local.get $plane) (i32.const 3))))))))))))))
                          (v128.store (i32.add (local.get $sp) (i32.add (i32.mul (local.get $k) (local.get $aB)) (i32.shl (local.get $l) (i32.const 4)))) (local.get $v))
                          (local.set $l (i32.add (local.get $l) (i32.const 1)))
                          (br $gl)))))
                    (local.set $k (i32.add (local.get $k) (i32.const 1)))
                    (br $gk)))
                ;; columns l < m: S[k·α + l], k < m → k < α, in place
                (local.set $s (i32.const 0))
                (block $cols
                  (loop $col
                    (br_if $cols (i32.ge_u (local.get $s) (local.get $m)))
                    (if (i32.eq (local.get $m) (i32.const 2))
                      (then (call $wgA4 (i32.add (local.get $sp) (i32.shl (local.get $s) (i32.const 4))) (local.get $aB)
                                        (i32.add (local.get $sp) (i32.shl (local.get $s) (i32.const 4))) (local.get $aB)))
                      (else (call $wgA6 (i32.add (local.get $sp) (i32.shl (local.get $s) (i32.const 4))) (local.get $aB)
                                        (i32.add (local.get $sp) (i32.shl (local.get $s) (i32.const 4))) (local.get $aB))))
                    (local.set $s (i32.add (local.get $s) (i32.const 1)))
                    (br $col)))
                ;; rows k < α: S[k·α + l], l < m → M[k·α + l], l < α
                (local.set $s (i32.const 0))
                (block $krows
                  (loop $krow
                    (br_if $krows (i32.ge_u (local.get $s) (local.get $a)))
                    (if (i32.eq (local.get $m) (i32.const 2))
                      (then (call $wgA4 (i32.add (local.get $sp) (i32.mul (local.get $s) (local.get $aB))) (i32.const 16)
                                        (i32.add (local.get $dst) (i32.mul (i32.mul (local.get $s) (local.get $a)) (local.get $slotB))) (local.get $slotB)))
                      (else (call $wgA6 (i32.add (local.get $sp) (i32.mul (local.get $s) (local.get $aB))) (i32.const 16)
                                        (i32.add (local.get $dst) (i32.mul (i32.mul (local.get $s) (local.get $a)) (local.get $slotB))) (local.get $slotB))))
                    (local.set $s (i32.add (local.get $s) (i32.const 1)))
                    (br $krow)))
                (local.set $ob (i32.add (local.get $ob) (i32.const 1)))
                (br $obLoop)))
            (local.set $tw (i32.add (local.get $tw) (i32.const 1)))
            (br $tileLoop)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $planeLoop))))

  ;; winogradFilterGrad(dW, dU, lo, hi, m, C, O, slot, O4): planes (c, ob) [lo, hi), ⌈O/4⌉ per input
  ;; channel: Gᵀ dU G in place over dU[t, c, 4·ob…] (columns j < α then rows i < 3), then
  ;; dW[o, c, i, j] += the result[i, j] for o < O (dW is [O, C, 3, 3]).
  (func (export "winogradFilterGrad")
    (param $dW i32) (param $dU i32) (param $p0 i32) (param $p1 i32) (param $m i32) (param $C i32) (param $O i32)
    (param $slot i32) (param $O4 i32)
    (local $p i32) (local $blocks i32) (local $c i32) (local $o0 i32) (local $src i32) (local $a i32) (local $slotB i32)
    (local $s i32) (local $r i32) (local $lanes i32) (local $v v128) (local $at i32) (local $cs i32)
    (local.set $a (i32.add (local.get $m) (i32.const 2)))
    (local.set $slotB (i32.shl (local.get $slot) (i32.const 2)))
    (local.set $blocks (i32.shr_u (i32.add (local.get $O) (i32.const 3)) (i32.const 2)))
    (local.set $cs (i32.mul (local.get $C) (i32.const 36)))
    (local.set $p (local.get $p0))
    (block $planes
      (loop $planeLoop
        (br_if $planes (i32.ge_u (local.get $p) (local.get $p1)))
        (local.set $c (i32.div_u (local.get $p) (local.get $blocks)))
        (local.set $o0 (i32.shl (i32.rem_u (local.get $p) (local.get $blocks)) (i32.const 2)))
        (local.set $lanes (i32.sub (local.get $O) (local.get $o0)))
        (if (i32.gt_u (local.get $lanes) (i32.const 4)) (then (local.set $lanes (i32.const 4))))
        (local.set $src (i32.add (local.get $dU) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $O4)) (local.get $o0)) (i32.const 2))))
        (local.set $s (i32.const 0))
        (block $cols
          (loop $col
            (br_if $cols (i32.ge_u (local.get $s) (local.get $a)))
            (if (i32.eq (local.get $m) (i32.const 2))
              (then (call $wgGt4 (i32.add (local.get $src) (i32.mul (local.get $s) (local.get $slotB))) (i32.mul (local.get $a) (local.get $slotB))))
              (else (call $wgGt6 (i32.add (local.get $src) (i32.mul (local.get $s) (local.get $slotB))) (i32.mul (local.get $a) (local.get $slotB)))))
            (local.set $s (i32.add (local.get $s) (i32.const 1)))
            (br $col)))
        (local.set $s (i32.const 0))
        (block $rows
          (loop $row
            (br_if $rows (i32.ge_u (local.get $s) (i32.const 3)))
            (if (i32.eq (local.get $m) (i32.const 2))
              (then (call $wgGt4 (i32.add (local.get $src) (i32.mul (i32.mul (local.get $s) (local.get $a)) (local.get $slotB))) (local.get $slotB)))
              (else (call $wgGt6 (i32.add (local.get $src) (i32.mul (i32.mul (local.get $s) (local.get $a)) (local.get $slotB))) (local.get $slotB))))
            (local.set $s (i32.add (local.get $s) (i32.const 1)))
            (br $row)))
        ;; taps r = i·3 + j: dW[(o0 + q)·C·9 + c·9 + r] += dU[(i·α + j)·slot + q]
        (local.set $r (i32.const 0))
        (block $taps
          (loop $tapLoop
            (br_if $taps (i32.ge_u (local.get $r) (i32.const 9)))
            (local.set $v (v128.load (i32.add (local.get $src) (i32.mul (local.get $slotB)
              (i32.add (i32.mul (i32.div_u (local.get $r) (i32.const 3)) (local.get $a)) (i32.rem_u (local.get $r) (i32.const 3)))))))
            (local.set $at (i32.add (local.get $dW) (i32.shl (i32.add (i32.mul (i32.add (i32.mul (local.get $o0) (local.get $C)) (local.get $c)) (i32.const 9)) (local.get $r)) (i32.const 2))))
            (f32.store (local.get $at) (f32.add (f32.load (local.get $at)) (f32x4.extract_lane 0 (local.get $v))))
            (if (i32.gt_u (local.get $lanes) (i32.const 1)) (then
              (local.set $at (i32.add (local.get $at) (local.get $cs)))
              (f32.store (local.get $at) (f32.add (f32.load (local.get $at)) (f32x4.extract_lane 1 (local.get $v))))
              (if (i32.gt_u (local.get $lanes) (i32.const 2)) (then
                (local.set $at (i32.add (local.get $at) (local.get $cs)))
                (f32.store (local.get $at) (f32.add (f32.load (local.get $at)) (f32x4.extract_lane 2 (local.get $v))))
                (if (i32.gt_u (local.get $lanes) (i32.const 3)) (then
                  (local.set $at (i32.add (local.get $at) (local.get $cs)))
                  (f32.store (local.get $at) (f32.add (f32.load (local.get $at)) (f32x4.extract_lane 3 (local.get $v))))))))))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $tapLoop)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $planeLoop))))
)
