;; sgemm.wat: the WebAssembly SIMD (f32x4) single-precision gemm kernel behind `gemm` (see gemm-wasm.ts).
;; Hand-written; assembled by scripts/build-wasm.mjs into sgemm-wasm.generated.ts. Three pieces:
;; packing of op(a) / op(b) blocks into register-tile panels, a 4×8 micro-kernel, and the macro-kernel
;; that walks one packed block with it. The JS driver owns the cache-block loops and the memory layout.
;;
;; Conventions
;; - Every pointer is a byte address in this module's memory; every stride and size is in elements.
;; - Bytes [0, 256) are reserved: [0, 128) is the scratch tile the edge tiles are computed into.
;; - A matrix view X is given by a pointer to X[0, 0] and element strides (rs, cs): X[r, c] lives at
;;   ptr + 4·(r·rs + c·cs). So op(a) = a[m×k] is (rs, cs) = (k, 1) and op(a) = aᵀ of a[k×m] is (1, m):
;;   all four transA/transB combinations pack into the same panel layout, the kernel never sees them.
;; - Packed A (an mc×kc block of op(a)): panels of MR = 4 rows; element (i, p) of panel ip at
;;   ip·4·kc + p·4 + i (floats). Rows past mc are zero.
;; - Packed B (a kc×nc block of op(b)): panels of NR = 8 columns; element (p, j) of panel jp at
;;   jp·8·kc + p·8 + j (floats). Columns past nc are zero.
;;
;; Numerics: each output element is a float32 sum over p in increasing order (mul then add, each
;; rounded: no fused multiply-add in this variant), added to C once per depth block. The order is
;; fixed by the block sizes alone, so results are bit-for-bit reproducible.
;; The build script derives a relaxed-SIMD variant by rewriting each
;;   (f32x4.add (local.get $acc) (f32x4.mul (local.get $x) (local.get $y)))
;; into (f32x4.relaxed_madd (local.get $x) (local.get $y) (local.get $acc)); keep that exact shape.
(module
  (memory (export "memory") 1)

  ;; Grows the memory to at least `pages` 64 KiB pages. Returns 1 on success, 0 if it cannot grow.
  (func (export "ensure") (param $pages i32) (result i32)
    (local $have i32)
    (local.set $have (memory.size))
    (if (i32.le_u (local.get $pages) (local.get $have))
      (then (return (i32.const 1))))
    (i32.ne (memory.grow (i32.sub (local.get $pages) (local.get $have))) (i32.const -1)))

  ;; Packs the mc×kc view (src; rs, cs) of op(a) into 4-row panels at dst (layout above).
  (func (export "pack_a")
    (param $dst i32) (param $src i32) (param $rs i32) (param $cs i32) (param $mc i32) (param $kc i32)
    (local $i i32) (local $rows i32) (local $s i32) (local $p i32) (local $ii i32) (local $d i32) (local $r i32)
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
            (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $kc) (i32.const 4))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $panel))))

  ;; Packs the kc×nc view (src; rs, cs) of op(b) into 8-column panels at dst (layout above).
  (func (export "pack_b")
    (param $dst i32) (param $src i32) (param $rs i32) (param $cs i32) (param $nc i32) (param $kc i32)
    (local $j i32) (local $cols i32) (local $s i32) (local $p i32) (local $jj i32) (local $d i32) (local $r i32)
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
            (local.set $dst (i32.add (local.get $dst) (i32.mul (local.get $kc) (i32.const 32))))))
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
  ;; block streams from L2). Edge tiles run the full 4×8 tile into the scratch tile at byte 0, then
  ;; only their valid mr×nr corner is merged into C.
  (func (export "macro")
    (param $kc i32) (param $mc i32) (param $nc i32) (param $pa i32) (param $pb i32)
    (param $c i32) (param $ldc i32) (param $overwrite i32)
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
                (call $micro (local.get $kc) (local.get $a) (local.get $pb) (i32.const 0) (i32.const 32) (i32.const 1))
                ;; tile[i, j] at 4·(8i + j) → C row i at ct + i·ldc
                (local.set $i (i32.const 0))
                (loop $mrow
                  (local.set $src (i32.shl (local.get $i) (i32.const 5)))
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
)
