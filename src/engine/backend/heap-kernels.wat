;; Host passes of the approximate and noisy layers, run inside the tfjs wasm backend's own memory
;; (imported, not copied): the layer's tensors are read and written where they lie. Compiled to
;; heap-kernels.wasm.ts by `npm run build:kernels`; a test checks that the two agree.
;; stack, moments and noise compute what the JavaScript passes compute, in float64 where those
;; compute in doubles, so both give bit-identical results and either may run. The Winograd transforms
;; have no JavaScript twin; they are checked against the per-product reference.
(module
  (import "env" "memory" (memory 0))

  ;; Quantise `pixels`·`channels` float32 activations at `src`, code = clamp(trunc(x·inv + shift), 0, 255)
  ;; (quantiseActivations' formula; trunc is floor on the unclamped range), and write each code's row of
  ;; `blocks` floats from `map` (rows of `stride` floats) to `dst`. With `summed`, the next two floats of
  ;; the row are summed over the pixel's channels in float64 instead, and each pixel ends with the two
  ;; sums, rounded to float32. With `vector` the rows are copied as whole 16-byte vectors
  ;; (stride a multiple of 4): each copy may write up to 3 floats past its row, which the
  ;; following writes cover, so the caller runs the last pixels with `vector` = 0. Each pixel then
  ;; ends with `pad` zeros (rows padded to whole vectors for the Winograd kernels). Returns the end of
  ;; what was written.
  (func (export "stack")
    (param $src i32) (param $pixels i32) (param $channels i32) (param $inv f64) (param $shift f64)
    (param $map i32) (param $stride i32) (param $blocks i32) (param $summed i32)
    (param $dst i32) (param $vector i32) (param $pad i32) (result i32)
    (local $j i32) (local $z i32) (local $code i32) (local $sum0 f64) (local $sum1 f64) (local $row i32) (local $q i32)
    (local $rowBytes i32) (local $blockBytes i32)
    (local.set $rowBytes (i32.shl (local.get $stride) (i32.const 2)))
    (local.set $blockBytes (i32.shl (local.get $blocks) (i32.const 2)))
    (block $done
      (loop $pixel
        (br_if $done (i32.eqz (local.get $pixels)))
        (local.set $sum0 (f64.const 0))
        (local.set $sum1 (f64.const 0))
        (local.set $j (local.get $channels))
        (loop $channel
          (local.set $code
            (i32.trunc_sat_f64_s
              (f64.add
                (f64.mul (f64.promote_f32 (f32.load (local.get $src))) (local.get $inv))
                (local.get $shift))))
          (local.set $code (select (i32.const 0) (local.get $code) (i32.lt_s (local.get $code) (i32.const 0))))
          (local.set $code (select (i32.const 255) (local.get $code) (i32.gt_s (local.get $code) (i32.const 255))))
          (local.set $row (i32.add (local.get $map) (i32.mul (local.get $code) (local.get $rowBytes))))
          (if (local.get $summed)
            (then
              (local.set $sum0 (f64.add (local.get $sum0) (f64.promote_f32 (f32.load (i32.add (local.get $row) (local.get $blockBytes))))))
              (local.set $sum1 (f64.add (local.get $sum1) (f64.promote_f32 (f32.load offset=4 (i32.add (local.get $row) (local.get $blockBytes))))))))
          (local.set $q (i32.const 0))
          (if (local.get $vector)
            (then
              (loop $copy
                (v128.store (i32.add (local.get $dst) (local.get $q)) (v128.load (i32.add (local.get $row) (local.get $q))))
                (local.set $q (i32.add (local.get $q) (i32.const 16)))
                (br_if $copy (i32.lt_u (local.get $q) (local.get $blockBytes)))))
            (else
              (loop $copy1
                (f32.store (i32.add (local.get $dst) (local.get $q)) (f32.load (i32.add (local.get $row) (local.get $q))))
                (local.set $q (i32.add (local.get $q) (i32.const 4)))
                (br_if $copy1 (i32.lt_u (local.get $q) (local.get $blockBytes))))))
          (local.set $dst (i32.add (local.get $dst) (local.get $blockBytes)))
          (local.set $src (i32.add (local.get $src) (i32.const 4)))
          (local.set $j (i32.sub (local.get $j) (i32.const 1)))
          (br_if $channel (local.get $j)))
        (if (local.get $summed)
          (then
            (f32.store (local.get $dst) (f32.demote_f64 (local.get $sum0)))
            (f32.store offset=4 (local.get $dst) (f32.demote_f64 (local.get $sum1)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 8)))))
        (local.set $z (local.get $pad))
        (block $padded
          (loop $zero
            (br_if $padded (i32.eqz (local.get $z)))
            (f32.store (local.get $dst) (f32.const 0))
            (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
            (local.set $z (i32.sub (local.get $z) (i32.const 1)))
            (br $zero)))
        (local.set $pixels (i32.sub (local.get $pixels) (i32.const 1)))
        (br $pixel)))
    (local.get $dst))

  ;; Σ v and Σ v² over `n` float32 values at `ptr` in float64, in four running sums as in JavaScript.
  (func (export "moments") (param $ptr i32) (param $n i32) (result f64 f64)
    (local $end i32) (local $v v128) (local $lo v128) (local $hi v128)
    (local $s0 v128) (local $s1 v128) (local $q0 v128) (local $q1 v128) (local $sum f64) (local $sq f64) (local $x f64)
    (local.set $end (i32.add (local.get $ptr) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $quad
        (br_if $done (i32.ge_u (local.get $ptr) (local.get $end)))
        (local.set $v (v128.load (local.get $ptr)))
        (local.set $lo (f64x2.promote_low_f32x4 (local.get $v)))
        (local.set $hi (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
        (local.set $s0 (f64x2.add (local.get $s0) (local.get $lo)))
        (local.set $s1 (f64x2.add (local.get $s1) (local.get $hi)))
        (local.set $q0 (f64x2.add (local.get $q0) (f64x2.mul (local.get $lo) (local.get $lo))))
        (local.set $q1 (f64x2.add (local.get $q1) (f64x2.mul (local.get $hi) (local.get $hi))))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 16)))
        (br $quad)))
    ;; Tail into the first accumulator, then the four summed in order, as moments() in JavaScript.
    (local.set $sum (f64x2.extract_lane 0 (local.get $s0)))
    (local.set $sq (f64x2.extract_lane 0 (local.get $q0)))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
    (block $tail
      (loop $one
        (br_if $tail (i32.ge_u (local.get $ptr) (local.get $end)))
        (local.set $x (f64.promote_f32 (f32.load (local.get $ptr))))
        (local.set $sum (f64.add (local.get $sum) (local.get $x)))
        (local.set $sq (f64.add (local.get $sq) (f64.mul (local.get $x) (local.get $x))))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 4)))
        (br $one)))
    (local.set $sum (f64.add (f64.add (f64.add (local.get $sum) (f64x2.extract_lane 1 (local.get $s0))) (f64x2.extract_lane 0 (local.get $s1))) (f64x2.extract_lane 1 (local.get $s1))))
    (local.set $sq (f64.add (f64.add (f64.add (local.get $sq) (f64x2.extract_lane 1 (local.get $q0))) (f64x2.extract_lane 0 (local.get $q1))) (f64x2.extract_lane 1 (local.get $q1))))
    (local.get $sum)
    (local.get $sq))

  ;; values[i] += table[index]·scale for `pairs` pairs of float32 values at `ptr`, two indices per
  ;; xorshift32 step (low half, then high half), as GaussianSource.addScaled; then with `clamp` the
  ;; result is clamped to [0, cap] as ½(a + |a|) and min(·, cap). Returns the generator's state.
  (func (export "noise")
    (param $ptr i32) (param $pairs i32) (param $scale f64) (param $clamp i32) (param $cap f64)
    (param $state i32) (param $table i32) (result i32)
    (local $a f64) (local $b f64)
    (block $done
      (loop $pair
        (br_if $done (i32.eqz (local.get $pairs)))
        (local.set $state (i32.xor (local.get $state) (i32.shl (local.get $state) (i32.const 13))))
        (local.set $state (i32.xor (local.get $state) (i32.shr_u (local.get $state) (i32.const 17))))
        (local.set $state (i32.xor (local.get $state) (i32.shl (local.get $state) (i32.const 5))))
        (local.set $a
          (f64.add
            (f64.promote_f32 (f32.load (local.get $ptr)))
            (f64.mul
              (f64.promote_f32 (f32.load (i32.add (local.get $table) (i32.shl (i32.and (local.get $state) (i32.const 0xffff)) (i32.const 2)))))
              (local.get $scale))))
        (local.set $b
          (f64.add
            (f64.promote_f32 (f32.load offset=4 (local.get $ptr)))
            (f64.mul
              (f64.promote_f32 (f32.load (i32.add (local.get $table) (i32.shl (i32.shr_u (local.get $state) (i32.const 16)) (i32.const 2)))))
              (local.get $scale))))
        (if (local.get $clamp)
          (then
            (local.set $a (f64.min (f64.mul (f64.const 0.5) (f64.add (local.get $a) (f64.abs (local.get $a)))) (local.get $cap)))
            (local.set $b (f64.min (f64.mul (f64.const 0.5) (f64.add (local.get $b) (f64.abs (local.get $b)))) (local.get $cap)))))
        (f32.store (local.get $ptr) (f32.demote_f64 (local.get $a)))
        (f32.store offset=4 (local.get $ptr) (f32.demote_f64 (local.get $b)))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 8)))
        (local.set $pairs (i32.sub (local.get $pairs) (i32.const 1)))
        (br $pair)))
    (local.get $state))

  ;; The Winograd transforms, winograd_input and winograd_output, are written from the transform
  ;; matrices by scripts/winograd-wat.ts and spliced in here by scripts/build-kernels.ts.
  ;; @winograd-kernels

  ;; Activation codes for the lookup kernel: clamp(trunc(x·inv + shift), 0, 255), as `stack` quantises,
  ;; stored as the byte offset of the code's row in a 256×256 table of 32-bit products (code·1024).
  (func (export "quantise_rows") (param $src i32) (param $n i32) (param $inv f64) (param $shift f64) (param $dst i32)
    (local $code i32) (local $end i32)
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (local.set $code
          (i32.trunc_sat_f64_s
            (f64.add (f64.mul (f64.promote_f32 (f32.load (local.get $src))) (local.get $inv)) (local.get $shift))))
        (local.set $code (select (i32.const 0) (local.get $code) (i32.lt_s (local.get $code) (i32.const 0))))
        (local.set $code (select (i32.const 255) (local.get $code) (i32.gt_s (local.get $code) (i32.const 255))))
        (i32.store (local.get $dst) (i32.shl (local.get $code) (i32.const 10)))
        (local.set $src (i32.add (local.get $src) (i32.const 4)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (br $each))))

  ;; Direct lookup convolution: every product read from `table` (65,536 int32, first operand major).
  ;; `rows` holds the activations as table-row byte offsets [B, H, W, C]; `weights` the weight codes as
  ;; byte offsets [kh·kw·C][cout]; padding reads the zero point's row `zxRow`. Per output channel,
  ;; `params` holds float64 scale, z_w and the constant −z_x·Σw + K·z_x·z_w, and the output is
  ;; scale·(Σ AM − z_w·Σx + constant). `patch` (K words) and `acc` (cout words) are scratch.
  (func (export "lookup_conv")
    (param $rows i32) (param $B i32) (param $H i32) (param $W i32) (param $C i32)
    (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32) (param $top i32) (param $left i32)
    (param $outH i32) (param $outW i32) (param $zxRow i32) (param $weights i32) (param $cout i32)
    (param $table i32) (param $params i32) (param $patch i32) (param $acc i32) (param $dst i32)
    (local $b i32) (local $oy i32) (local $ox i32) (local $i i32) (local $j i32) (local $c i32)
    (local $iy i32) (local $ix i32) (local $inside i32) (local $base i32) (local $p i32) (local $K i32)
    (local $t i32) (local $row i32) (local $sumX i32) (local $wp i32) (local $ap i32) (local $aend i32)
    (local $co i32) (local $cBytes i32) (local $coutBytes i32)
    (local.set $K (i32.mul (i32.mul (local.get $kh) (local.get $kw)) (local.get $C)))
    (local.set $cBytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $coutBytes (i32.shl (local.get $cout) (i32.const 2)))
    (local.set $aend (i32.add (local.get $acc) (local.get $coutBytes)))
    (local.set $b (i32.const 0))
    (block $imagesDone
      (loop $image
        (br_if $imagesDone (i32.ge_u (local.get $b) (local.get $B)))
        (local.set $oy (i32.const 0))
        (block $rowsDone
          (loop $outRow
            (br_if $rowsDone (i32.ge_u (local.get $oy) (local.get $outH)))
            (local.set $ox (i32.const 0))
            (block $colsDone
              (loop $outCol
                (br_if $colsDone (i32.ge_u (local.get $ox) (local.get $outW)))
                ;; The patch's table rows, [tap][channel].
                (local.set $p (local.get $patch))
                (local.set $i (i32.const 0))
                (loop $ki
                  (local.set $iy (i32.sub (i32.add (i32.mul (local.get $oy) (local.get $sh)) (local.get $i)) (local.get $top)))
                  (local.set $j (i32.const 0))
                  (loop $kj
                    (local.set $ix (i32.sub (i32.add (i32.mul (local.get $ox) (local.get $sw)) (local.get $j)) (local.get $left)))
                    (local.set $inside (i32.and (i32.lt_u (local.get $iy) (local.get $H)) (i32.lt_u (local.get $ix) (local.get $W))))
                    (local.set $base (i32.add (local.get $rows) (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $H)) (local.get $iy)) (local.get $W)) (local.get $ix)) (local.get $cBytes))))
                    (local.set $c (i32.const 0))
                    (block $chansDone
                      (loop $chan
                        (br_if $chansDone (i32.ge_u (local.get $c) (local.get $cBytes)))
                        (i32.store (local.get $p)
                          (if (result i32) (local.get $inside) (then (i32.load (i32.add (local.get $base) (local.get $c)))) (else (local.get $zxRow))))
                        (local.set $p (i32.add (local.get $p) (i32.const 4)))
                        (local.set $c (i32.add (local.get $c) (i32.const 4)))
                        (br $chan)))
                    (local.set $j (i32.add (local.get $j) (i32.const 1)))
                    (br_if $kj (i32.lt_u (local.get $j) (local.get $kw))))
                  (local.set $i (i32.add (local.get $i) (i32.const 1)))
                  (br_if $ki (i32.lt_u (local.get $i) (local.get $kh))))
                ;; Σ over the patch of every product, per output channel.
                (memory.fill (local.get $acc) (i32.const 0) (local.get $coutBytes))
                (local.set $sumX (i32.const 0))
                (local.set $wp (local.get $weights))
                (local.set $t (i32.const 0))
                (block $tapsDone
                  (loop $tap
                    (br_if $tapsDone (i32.ge_u (local.get $t) (local.get $K)))
                    (local.set $row (i32.load (i32.add (local.get $patch) (i32.shl (local.get $t) (i32.const 2)))))
                    (local.set $sumX (i32.add (local.get $sumX) (i32.shr_u (local.get $row) (i32.const 10))))
                    (local.set $row (i32.add (local.get $row) (local.get $table)))
                    (local.set $ap (local.get $acc))
                    (loop $product
                      (i32.store (local.get $ap)
                        (i32.add (i32.load (local.get $ap)) (i32.load (i32.add (local.get $row) (i32.load (local.get $wp))))))
                      (local.set $wp (i32.add (local.get $wp) (i32.const 4)))
                      (local.set $ap (i32.add (local.get $ap) (i32.const 4)))
                      (br_if $product (i32.lt_u (local.get $ap) (local.get $aend))))
                    (local.set $t (i32.add (local.get $t) (i32.const 1)))
                    (br $tap)))
                (local.set $co (i32.const 0))
                (local.set $ap (local.get $acc))
                (local.set $p (local.get $params))
                (block $outDone
                  (loop $out
                    (br_if $outDone (i32.ge_u (local.get $co) (local.get $cout)))
                    (f32.store (local.get $dst)
                      (f32.demote_f64
                        (f64.mul (f64.load (local.get $p))
                          (f64.add
                            (f64.sub (f64.convert_i32_s (i32.load (local.get $ap))) (f64.mul (f64.load offset=8 (local.get $p)) (f64.convert_i32_s (local.get $sumX))))
                            (f64.load offset=16 (local.get $p))))))
                    (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
                    (local.set $ap (i32.add (local.get $ap) (i32.const 4)))
                    (local.set $p (i32.add (local.get $p) (i32.const 24)))
                    (local.set $co (i32.add (local.get $co) (i32.const 1)))
                    (br $out)))
                (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
                (br $outCol)))
            (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
            (br $outRow)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $image))))

  ;; Direct lookup, depthwise: as lookup_conv with one input channel per output channel; `weights` are
  ;; [C][kh·kw] byte offsets and the constant in `params` uses K = kh·kw.
  (func (export "lookup_depthwise")
    (param $rows i32) (param $B i32) (param $H i32) (param $W i32) (param $C i32)
    (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32) (param $top i32) (param $left i32)
    (param $outH i32) (param $outW i32) (param $zxRow i32) (param $weights i32)
    (param $table i32) (param $params i32) (param $dst i32)
    (local $b i32) (local $oy i32) (local $ox i32) (local $i i32) (local $j i32) (local $c i32)
    (local $iy i32) (local $ix i32) (local $row i32) (local $am i32) (local $sumX i32) (local $wp i32) (local $p i32)
    (local.set $b (i32.const 0))
    (block $imagesDone
      (loop $image
        (br_if $imagesDone (i32.ge_u (local.get $b) (local.get $B)))
        (local.set $oy (i32.const 0))
        (block $rowsDone
          (loop $outRow
            (br_if $rowsDone (i32.ge_u (local.get $oy) (local.get $outH)))
            (local.set $ox (i32.const 0))
            (block $colsDone
              (loop $outCol
                (br_if $colsDone (i32.ge_u (local.get $ox) (local.get $outW)))
                (local.set $c (i32.const 0))
                (local.set $wp (local.get $weights))
                (local.set $p (local.get $params))
                (block $chansDone
                  (loop $chan
                    (br_if $chansDone (i32.ge_u (local.get $c) (local.get $C)))
                    (local.set $am (i32.const 0))
                    (local.set $sumX (i32.const 0))
                    (local.set $i (i32.const 0))
                    (loop $ki
                      (local.set $iy (i32.sub (i32.add (i32.mul (local.get $oy) (local.get $sh)) (local.get $i)) (local.get $top)))
                      (local.set $j (i32.const 0))
                      (loop $kj
                        (local.set $ix (i32.sub (i32.add (i32.mul (local.get $ox) (local.get $sw)) (local.get $j)) (local.get $left)))
                        (local.set $row
                          (if (result i32) (i32.and (i32.lt_u (local.get $iy) (local.get $H)) (i32.lt_u (local.get $ix) (local.get $W)))
                            (then (i32.load (i32.add (local.get $rows) (i32.shl (i32.add (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $H)) (local.get $iy)) (local.get $W)) (local.get $ix)) (local.get $C)) (local.get $c)) (i32.const 2)))))
                            (else (local.get $zxRow))))
                        (local.set $sumX (i32.add (local.get $sumX) (i32.shr_u (local.get $row) (i32.const 10))))
                        (local.set $am (i32.add (local.get $am) (i32.load (i32.add (i32.add (local.get $table) (local.get $row)) (i32.load (local.get $wp))))))
                        (local.set $wp (i32.add (local.get $wp) (i32.const 4)))
                        (local.set $j (i32.add (local.get $j) (i32.const 1)))
                        (br_if $kj (i32.lt_u (local.get $j) (local.get $kw))))
                      (local.set $i (i32.add (local.get $i) (i32.const 1)))
                      (br_if $ki (i32.lt_u (local.get $i) (local.get $kh))))
                    (f32.store (local.get $dst)
                      (f32.demote_f64
                        (f64.mul (f64.load (local.get $p))
                          (f64.add
                            (f64.sub (f64.convert_i32_s (local.get $am)) (f64.mul (f64.load offset=8 (local.get $p)) (f64.convert_i32_s (local.get $sumX))))
                            (f64.load offset=16 (local.get $p))))))
                    (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
                    (local.set $p (i32.add (local.get $p) (i32.const 24)))
                    (local.set $c (i32.add (local.get $c) (i32.const 1)))
                    (br $chan)))
                (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
                (br $outCol)))
            (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
            (br $outRow)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $image))))
)
