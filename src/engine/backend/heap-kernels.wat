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
  ;; `blocks` floats from `map` (rows of `stride` floats) to `dst`. The next `sums` floats of the row
  ;; (0, 1 or 2) are summed over the pixel's channels in float64 instead, and each pixel ends with those
  ;; sums, rounded to float32. With `vector` the rows are copied as whole 16-byte vectors
  ;; (stride a multiple of 4): each copy may write up to stride − blocks floats past its row, which the
  ;; following writes cover, so the caller runs the last pixels with `vector` = 0. Each pixel then
  ;; ends with `pad` zeros (rows padded to whole vectors for the Winograd kernels). Returns the end of
  ;; what was written.
  (func (export "stack")
    (param $src i32) (param $pixels i32) (param $channels i32) (param $inv f64) (param $shift f64)
    (param $map i32) (param $stride i32) (param $blocks i32) (param $sums i32)
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
          (if (local.get $sums)
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
        (if (local.get $sums)
          (then
            (f32.store (local.get $dst) (f32.demote_f64 (local.get $sum0)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 4)))))
        (if (i32.ge_u (local.get $sums) (i32.const 2))
          (then
            (f32.store (local.get $dst) (f32.demote_f64 (local.get $sum1)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 4)))))
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

  ;; Winograd F(2×2, 3×3), input side: for every 4×4 tile of the (zero-padded) stacked operands, at
  ;; stride 2, V = Bᵀ·d·B per channel, written to 16 matrices [tiles, K] (addresses in the 16 words at
  ;; `dsts`), one per position of the 4×4 transform. `src` is [images, H, W, K], K a multiple of 4;
  ;; pixels outside the image read as 0 (the stacked operands are 0 at the input's zero point).
  (func (export "winograd_input")
    (param $src i32) (param $images i32) (param $H i32) (param $W i32) (param $K i32)
    (param $padT i32) (param $padL i32) (param $tilesH i32) (param $tilesW i32) (param $dsts i32)
    (local $b i32) (local $ty i32) (local $tx i32) (local $t i32) (local $c i32) (local $kBytes i32)
    (local $y i32) (local $x i32) (local $out i32)
    (local $a00 i32)
    (local $a01 i32)
    (local $a02 i32)
    (local $a03 i32)
    (local $a10 i32)
    (local $a11 i32)
    (local $a12 i32)
    (local $a13 i32)
    (local $a20 i32)
    (local $a21 i32)
    (local $a22 i32)
    (local $a23 i32)
    (local $a30 i32)
    (local $a31 i32)
    (local $a32 i32)
    (local $a33 i32)
    (local $d00 v128)
    (local $d01 v128)
    (local $d02 v128)
    (local $d03 v128)
    (local $d10 v128)
    (local $d11 v128)
    (local $d12 v128)
    (local $d13 v128)
    (local $d20 v128)
    (local $d21 v128)
    (local $d22 v128)
    (local $d23 v128)
    (local $d30 v128)
    (local $d31 v128)
    (local $d32 v128)
    (local $d33 v128)
    (local $r00 v128)
    (local $r01 v128)
    (local $r02 v128)
    (local $r03 v128)
    (local $r10 v128)
    (local $r11 v128)
    (local $r12 v128)
    (local $r13 v128)
    (local $r20 v128)
    (local $r21 v128)
    (local $r22 v128)
    (local $r23 v128)
    (local $r30 v128)
    (local $r31 v128)
    (local $r32 v128)
    (local $r33 v128)
    (local $o0 i32)
    (local $o1 i32)
    (local $o2 i32)
    (local $o3 i32)
    (local $o4 i32)
    (local $o5 i32)
    (local $o6 i32)
    (local $o7 i32)
    (local $o8 i32)
    (local $o9 i32)
    (local $o10 i32)
    (local $o11 i32)
    (local $o12 i32)
    (local $o13 i32)
    (local $o14 i32)
    (local $o15 i32)
    (local.set $kBytes (i32.shl (local.get $K) (i32.const 2)))
    (local.set $o0 (i32.load offset=0 (local.get $dsts)))
    (local.set $o1 (i32.load offset=4 (local.get $dsts)))
    (local.set $o2 (i32.load offset=8 (local.get $dsts)))
    (local.set $o3 (i32.load offset=12 (local.get $dsts)))
    (local.set $o4 (i32.load offset=16 (local.get $dsts)))
    (local.set $o5 (i32.load offset=20 (local.get $dsts)))
    (local.set $o6 (i32.load offset=24 (local.get $dsts)))
    (local.set $o7 (i32.load offset=28 (local.get $dsts)))
    (local.set $o8 (i32.load offset=32 (local.get $dsts)))
    (local.set $o9 (i32.load offset=36 (local.get $dsts)))
    (local.set $o10 (i32.load offset=40 (local.get $dsts)))
    (local.set $o11 (i32.load offset=44 (local.get $dsts)))
    (local.set $o12 (i32.load offset=48 (local.get $dsts)))
    (local.set $o13 (i32.load offset=52 (local.get $dsts)))
    (local.set $o14 (i32.load offset=56 (local.get $dsts)))
    (local.set $o15 (i32.load offset=60 (local.get $dsts)))
    (local.set $b (i32.const 0))
    (block $imagesDone
      (loop $image
        (br_if $imagesDone (i32.ge_u (local.get $b) (local.get $images)))
        (local.set $ty (i32.const 0))
        (block $rowsDone
          (loop $row
            (br_if $rowsDone (i32.ge_u (local.get $ty) (local.get $tilesH)))
            (local.set $tx (i32.const 0))
            (block $colsDone
              (loop $col
                (br_if $colsDone (i32.ge_u (local.get $tx) (local.get $tilesW)))
                ;; Address of each of the tile's 16 pixels, −1 outside the image.
                (local.set $y (i32.sub (i32.add (i32.shl (local.get $ty) (i32.const 1)) (i32.const 0)) (local.get $padT)))
                (local.set $x (i32.sub (i32.add (i32.shl (local.get $tx) (i32.const 1)) (i32.const 0)) (local.get $padL)))
                (local.set $a00
                  (select
                    (i32.add (local.get $src) (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $H)) (local.get $y)) (local.get $W)) (local.get $x)) (local.get $kBytes)))
                    (i32.const -1)
                    (i32.and (i32.lt_u (local.get $y) (local.get $H)) (i32.lt_u (local.get $x) (local.get $W)))))
                (local.set $y (i32.sub (i32.add (i32.shl (local.get $ty) (i32.const 1)) (i32.const 0)) (local.get $padT)))
                (local.set $x (i32.sub (i32.add (i32.shl (local.get $tx) (i32.const 1)) (i32.const 1)) (local.get $padL)))
                (local.set $a01
                  (select
                    (i32.add (local.get $src) (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $H)) (local.get $y)) (local.get $W)) (local.get $x)) (local.get $kBytes)))
                    (i32.const -1)
                    (i32.and (i32.lt_u (local.get $y) (local.get $H)) (i32.lt_u (local.get $x) (local.get $W)))))
                (local.set $y (i32.sub (i32.add (i32.shl (local.get $ty) (i32.const 1)) (i32.const 0)) (local.get $padT)))
                (local.set $x (i32.sub (i32.add (i32.shl (local.get $tx) (i32.const 1)) (i32.const 2)) (local.get $padL)))
                (local.set $a02
                  (select
                    (i32.add (local.get $src) (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $H)) (local.get $y)) (local.get $W)) (local.get $x)) (local.get $kBytes)))
                    (i32.const -1)
                    (i32.and (i32.lt_u (local.get $y) (local.get $H)) (i32.lt_u (local.get $x) (local.get $W)))))
                (local.set $y (i32.sub (i32.add (i32.shl (local.get $ty) (i32.const 1)) (i32.const 0)) (local.get $padT)))
                (local.set $x (i32.sub (i32.add (i32.shl (local.get $tx) (i32.const 1)) (i32.const 3)) (local.get $padL)))
                (local.set $a03
                  (select
                    (i32.add (local.get $src) (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $H)) (local.get $y)) (local.get $W)) (local.get $x)) (local.get $kBytes)))
                    (i32.const -1)
                    (i32.and (i32.lt_u (local.get $y) (local.get $H)) (i32.lt_u (local.get $x) (local.get $W)))))
                (local.set $y (i32.sub (i32.add (i32.shl (local.get $ty) (i32.const 1)) (i32.const 1)) (local.get $padT)))
                (local.set $x (i32.sub (i32.add (i32.shl (local.get $tx) (i32.const 1)) (i32.const 0)) (local.get $padL)))
                (local.set $a10
                  (select
                    (i32.add (local.get $src) (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $H)) (local.get $y)) (local.get $W)) (local.get $x)) (local.get $kBytes)))
                    (i32.const -1)
                    (i32.and (i32.lt_u (local.get $y) (local.get $H)) (i32.lt_u (local.get $x) (local.get $W)))))
                (local.set $y (i32.sub (i32.add (i32.shl (local.get $ty) (i32.const 1)) (i32.const 1)) (local.get $padT)))
                (local.set $x (i32.sub (i32.add (i32.shl (local.get $tx) (i32.const 1)) (i32.const 1)) (local.get $padL)))
                (local.set $a11
                  (select
                    (i32.add (local.get $src) (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $H)) (local.get $y)) (local.get $W)) (local.get $x)) (local.get $kBytes)))
                    (i32.const -1)
                    (i32.and (i32.lt_u (local.get $y) (local.get $H)) (i32.lt_u (local.get $x) (local.get $W)))))
                (local.set $y (i32.sub (i32.add (i32.shl (local.get $ty) (i32.const 1)) (i32.const 1)) (local.get $padT)))
                (local.set $x (i32.sub (i32.add (i32.shl (local.get $tx) (i32.const 1)) (i32.const 2)) (local.get $padL)))
                (local.set $a12
                  (select
                    (i32.add (local.get $src) (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $H)) (local.get $y)) (local.get $W)) (local.get $x)) (local.get $kBytes)))
                    (i32.const -1)
                    (i32.and (i32.lt_u (local.get $y) (local.get $H)) (i32.lt_u (local.get $x) (local.get $W)))))
                (local.set $y (i32.sub (i32.add (i32.shl (local.get $ty) (i32.const 1)) (i32.const 1)) (local.get $padT)))
                (local.set $x (i32.sub (i32.add (i32.shl (local.get $tx) (i32.const 1)) (i32.const 3)) (local.get $padL)))
                (local.set $a13
                  (select
                    (i32.add (local.get $src) (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $H)) (local.get $y)) (local.get $W)) (local.get $x)) (local.get $kBytes)))
                    (i32.const -1)
                    (i32.and (i32.lt_u (local.get $y) (local.get $H)) (i32.lt_u (local.get $x) (local.get $W)))))
                (local.set $y (i32.sub (i32.add (i32.shl (local.get $ty) (i32.const 1)) (i32.const 2)) (local.get $padT)))
                (local.set $x (i32.sub (i32.add (i32.shl (local.get $tx) (i32.const 1)) (i32.const 0)) (local.get $padL)))
                (local.set $a20
                  (select
                    (i32.add (local.get $src) (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $H)) (local.get $y)) (local.get $W)) (local.get $x)) (local.get $kBytes)))
                    (i32.const -1)
                    (i32.and (i32.lt_u (local.get $y) (local.get $H)) (i32.lt_u (local.get $x) (local.get $W)))))
                (local.set $y (i32.sub (i32.add (i32.shl (local.get $ty) (i32.const 1)) (i32.const 2)) (local.get $padT)))
                (local.set $x (i32.sub (i32.add (i32.shl (local.get $tx) (i32.const 1)) (i32.const 1)) (local.get $padL)))
                (local.set $a21
                  (select
                    (i32.add (local.get $src) (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $H)) (local.get $y)) (local.get $W)) (local.get $x)) (local.get $kBytes)))
                    (i32.const -1)
                    (i32.and (i32.lt_u (local.get $y) (local.get $H)) (i32.lt_u (local.get $x) (local.get $W)))))
                (local.set $y (i32.sub (i32.add (i32.shl (local.get $ty) (i32.const 1)) (i32.const 2)) (local.get $padT)))
                (local.set $x (i32.sub (i32.add (i32.shl (local.get $tx) (i32.const 1)) (i32.const 2)) (local.get $padL)))
                (local.set $a22
                  (select
                    (i32.add (local.get $src) (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $H)) (local.get $y)) (local.get $W)) (local.get $x)) (local.get $kBytes)))
                    (i32.const -1)
                    (i32.and (i32.lt_u (local.get $y) (local.get $H)) (i32.lt_u (local.get $x) (local.get $W)))))
                (local.set $y (i32.sub (i32.add (i32.shl (local.get $ty) (i32.const 1)) (i32.const 2)) (local.get $padT)))
                (local.set $x (i32.sub (i32.add (i32.shl (local.get $tx) (i32.const 1)) (i32.const 3)) (local.get $padL)))
                (local.set $a23
                  (select
                    (i32.add (local.get $src) (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $H)) (local.get $y)) (local.get $W)) (local.get $x)) (local.get $kBytes)))
                    (i32.const -1)
                    (i32.and (i32.lt_u (local.get $y) (local.get $H)) (i32.lt_u (local.get $x) (local.get $W)))))
                (local.set $y (i32.sub (i32.add (i32.shl (local.get $ty) (i32.const 1)) (i32.const 3)) (local.get $padT)))
                (local.set $x (i32.sub (i32.add (i32.shl (local.get $tx) (i32.const 1)) (i32.const 0)) (local.get $padL)))
                (local.set $a30
                  (select
                    (i32.add (local.get $src) (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $H)) (local.get $y)) (local.get $W)) (local.get $x)) (local.get $kBytes)))
                    (i32.const -1)
                    (i32.and (i32.lt_u (local.get $y) (local.get $H)) (i32.lt_u (local.get $x) (local.get $W)))))
                (local.set $y (i32.sub (i32.add (i32.shl (local.get $ty) (i32.const 1)) (i32.const 3)) (local.get $padT)))
                (local.set $x (i32.sub (i32.add (i32.shl (local.get $tx) (i32.const 1)) (i32.const 1)) (local.get $padL)))
                (local.set $a31
                  (select
                    (i32.add (local.get $src) (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $H)) (local.get $y)) (local.get $W)) (local.get $x)) (local.get $kBytes)))
                    (i32.const -1)
                    (i32.and (i32.lt_u (local.get $y) (local.get $H)) (i32.lt_u (local.get $x) (local.get $W)))))
                (local.set $y (i32.sub (i32.add (i32.shl (local.get $ty) (i32.const 1)) (i32.const 3)) (local.get $padT)))
                (local.set $x (i32.sub (i32.add (i32.shl (local.get $tx) (i32.const 1)) (i32.const 2)) (local.get $padL)))
                (local.set $a32
                  (select
                    (i32.add (local.get $src) (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $H)) (local.get $y)) (local.get $W)) (local.get $x)) (local.get $kBytes)))
                    (i32.const -1)
                    (i32.and (i32.lt_u (local.get $y) (local.get $H)) (i32.lt_u (local.get $x) (local.get $W)))))
                (local.set $y (i32.sub (i32.add (i32.shl (local.get $ty) (i32.const 1)) (i32.const 3)) (local.get $padT)))
                (local.set $x (i32.sub (i32.add (i32.shl (local.get $tx) (i32.const 1)) (i32.const 3)) (local.get $padL)))
                (local.set $a33
                  (select
                    (i32.add (local.get $src) (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $H)) (local.get $y)) (local.get $W)) (local.get $x)) (local.get $kBytes)))
                    (i32.const -1)
                    (i32.and (i32.lt_u (local.get $y) (local.get $H)) (i32.lt_u (local.get $x) (local.get $W)))))
                (local.set $c (i32.const 0))
                (block $chansDone
                  (loop $chan
                    (br_if $chansDone (i32.ge_u (local.get $c) (local.get $kBytes)))
                    (local.set $d00 (if (result v128) (i32.ge_s (local.get $a00) (i32.const 0)) (then (v128.load (i32.add (local.get $a00) (local.get $c)))) (else (v128.const i32x4 0 0 0 0))))
                    (local.set $d01 (if (result v128) (i32.ge_s (local.get $a01) (i32.const 0)) (then (v128.load (i32.add (local.get $a01) (local.get $c)))) (else (v128.const i32x4 0 0 0 0))))
                    (local.set $d02 (if (result v128) (i32.ge_s (local.get $a02) (i32.const 0)) (then (v128.load (i32.add (local.get $a02) (local.get $c)))) (else (v128.const i32x4 0 0 0 0))))
                    (local.set $d03 (if (result v128) (i32.ge_s (local.get $a03) (i32.const 0)) (then (v128.load (i32.add (local.get $a03) (local.get $c)))) (else (v128.const i32x4 0 0 0 0))))
                    (local.set $d10 (if (result v128) (i32.ge_s (local.get $a10) (i32.const 0)) (then (v128.load (i32.add (local.get $a10) (local.get $c)))) (else (v128.const i32x4 0 0 0 0))))
                    (local.set $d11 (if (result v128) (i32.ge_s (local.get $a11) (i32.const 0)) (then (v128.load (i32.add (local.get $a11) (local.get $c)))) (else (v128.const i32x4 0 0 0 0))))
                    (local.set $d12 (if (result v128) (i32.ge_s (local.get $a12) (i32.const 0)) (then (v128.load (i32.add (local.get $a12) (local.get $c)))) (else (v128.const i32x4 0 0 0 0))))
                    (local.set $d13 (if (result v128) (i32.ge_s (local.get $a13) (i32.const 0)) (then (v128.load (i32.add (local.get $a13) (local.get $c)))) (else (v128.const i32x4 0 0 0 0))))
                    (local.set $d20 (if (result v128) (i32.ge_s (local.get $a20) (i32.const 0)) (then (v128.load (i32.add (local.get $a20) (local.get $c)))) (else (v128.const i32x4 0 0 0 0))))
                    (local.set $d21 (if (result v128) (i32.ge_s (local.get $a21) (i32.const 0)) (then (v128.load (i32.add (local.get $a21) (local.get $c)))) (else (v128.const i32x4 0 0 0 0))))
                    (local.set $d22 (if (result v128) (i32.ge_s (local.get $a22) (i32.const 0)) (then (v128.load (i32.add (local.get $a22) (local.get $c)))) (else (v128.const i32x4 0 0 0 0))))
                    (local.set $d23 (if (result v128) (i32.ge_s (local.get $a23) (i32.const 0)) (then (v128.load (i32.add (local.get $a23) (local.get $c)))) (else (v128.const i32x4 0 0 0 0))))
                    (local.set $d30 (if (result v128) (i32.ge_s (local.get $a30) (i32.const 0)) (then (v128.load (i32.add (local.get $a30) (local.get $c)))) (else (v128.const i32x4 0 0 0 0))))
                    (local.set $d31 (if (result v128) (i32.ge_s (local.get $a31) (i32.const 0)) (then (v128.load (i32.add (local.get $a31) (local.get $c)))) (else (v128.const i32x4 0 0 0 0))))
                    (local.set $d32 (if (result v128) (i32.ge_s (local.get $a32) (i32.const 0)) (then (v128.load (i32.add (local.get $a32) (local.get $c)))) (else (v128.const i32x4 0 0 0 0))))
                    (local.set $d33 (if (result v128) (i32.ge_s (local.get $a33) (i32.const 0)) (then (v128.load (i32.add (local.get $a33) (local.get $c)))) (else (v128.const i32x4 0 0 0 0))))
                    (local.set $r00 (f32x4.sub (local.get $d00) (local.get $d20)))
                    (local.set $r10 (f32x4.add (local.get $d10) (local.get $d20)))
                    (local.set $r20 (f32x4.sub (local.get $d20) (local.get $d10)))
                    (local.set $r30 (f32x4.sub (local.get $d10) (local.get $d30)))
                    (local.set $r01 (f32x4.sub (local.get $d01) (local.get $d21)))
                    (local.set $r11 (f32x4.add (local.get $d11) (local.get $d21)))
                    (local.set $r21 (f32x4.sub (local.get $d21) (local.get $d11)))
                    (local.set $r31 (f32x4.sub (local.get $d11) (local.get $d31)))
                    (local.set $r02 (f32x4.sub (local.get $d02) (local.get $d22)))
                    (local.set $r12 (f32x4.add (local.get $d12) (local.get $d22)))
                    (local.set $r22 (f32x4.sub (local.get $d22) (local.get $d12)))
                    (local.set $r32 (f32x4.sub (local.get $d12) (local.get $d32)))
                    (local.set $r03 (f32x4.sub (local.get $d03) (local.get $d23)))
                    (local.set $r13 (f32x4.add (local.get $d13) (local.get $d23)))
                    (local.set $r23 (f32x4.sub (local.get $d23) (local.get $d13)))
                    (local.set $r33 (f32x4.sub (local.get $d13) (local.get $d33)))
                    (local.set $out (i32.add (i32.mul (local.get $t) (local.get $kBytes)) (local.get $c)))
                    (v128.store (i32.add (local.get $o0) (local.get $out)) (f32x4.sub (local.get $r00) (local.get $r02)))
                    (v128.store (i32.add (local.get $o1) (local.get $out)) (f32x4.add (local.get $r01) (local.get $r02)))
                    (v128.store (i32.add (local.get $o2) (local.get $out)) (f32x4.sub (local.get $r02) (local.get $r01)))
                    (v128.store (i32.add (local.get $o3) (local.get $out)) (f32x4.sub (local.get $r01) (local.get $r03)))
                    (v128.store (i32.add (local.get $o4) (local.get $out)) (f32x4.sub (local.get $r10) (local.get $r12)))
                    (v128.store (i32.add (local.get $o5) (local.get $out)) (f32x4.add (local.get $r11) (local.get $r12)))
                    (v128.store (i32.add (local.get $o6) (local.get $out)) (f32x4.sub (local.get $r12) (local.get $r11)))
                    (v128.store (i32.add (local.get $o7) (local.get $out)) (f32x4.sub (local.get $r11) (local.get $r13)))
                    (v128.store (i32.add (local.get $o8) (local.get $out)) (f32x4.sub (local.get $r20) (local.get $r22)))
                    (v128.store (i32.add (local.get $o9) (local.get $out)) (f32x4.add (local.get $r21) (local.get $r22)))
                    (v128.store (i32.add (local.get $o10) (local.get $out)) (f32x4.sub (local.get $r22) (local.get $r21)))
                    (v128.store (i32.add (local.get $o11) (local.get $out)) (f32x4.sub (local.get $r21) (local.get $r23)))
                    (v128.store (i32.add (local.get $o12) (local.get $out)) (f32x4.sub (local.get $r30) (local.get $r32)))
                    (v128.store (i32.add (local.get $o13) (local.get $out)) (f32x4.add (local.get $r31) (local.get $r32)))
                    (v128.store (i32.add (local.get $o14) (local.get $out)) (f32x4.sub (local.get $r32) (local.get $r31)))
                    (v128.store (i32.add (local.get $o15) (local.get $out)) (f32x4.sub (local.get $r31) (local.get $r33)))
                    (local.set $c (i32.add (local.get $c) (i32.const 16)))
                    (br $chan)))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (local.set $tx (i32.add (local.get $tx) (i32.const 1)))
                (br $col)))
            (local.set $ty (i32.add (local.get $ty) (i32.const 1)))
            (br $row)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $image))))

;; Winograd F(2×2, 3×3), output side: Y = Aᵀ·M·A for every tile from the 16 products [tiles, Op]
  ;; (addresses in the 16 words at `srcs`), plus `bias` (Op floats), then `act` (0 none, 1 ReLU,
  ;; 2 ReLU6), written to `dst` [images, outH, outW, O] where the 2×2 block lies inside the output.
  ;; Op is O rounded up to a multiple of 4; the last group of an O that is not is stored lane by lane.
  (func (export "winograd_output")
    (param $srcs i32) (param $images i32) (param $outH i32) (param $outW i32) (param $O i32) (param $Op i32)
    (param $tilesH i32) (param $tilesW i32) (param $bias i32) (param $act i32) (param $dst i32)
    (local $b i32) (local $ty i32) (local $tx i32) (local $t i32) (local $c i32) (local $opBytes i32) (local $oBytes i32)
    (local $in i32) (local $y i32) (local $x i32) (local $addr i32) (local $lanes i32) (local $bv v128) (local $v v128)
    (local $p0 i32)
    (local $p1 i32)
    (local $p2 i32)
    (local $p3 i32)
    (local $p4 i32)
    (local $p5 i32)
    (local $p6 i32)
    (local $p7 i32)
    (local $p8 i32)
    (local $p9 i32)
    (local $p10 i32)
    (local $p11 i32)
    (local $p12 i32)
    (local $p13 i32)
    (local $p14 i32)
    (local $p15 i32)
    (local $m00 v128)
    (local $m01 v128)
    (local $m02 v128)
    (local $m03 v128)
    (local $m10 v128)
    (local $m11 v128)
    (local $m12 v128)
    (local $m13 v128)
    (local $m20 v128)
    (local $m21 v128)
    (local $m22 v128)
    (local $m23 v128)
    (local $m30 v128)
    (local $m31 v128)
    (local $m32 v128)
    (local $m33 v128)
    (local $s00 v128)
    (local $s01 v128)
    (local $s02 v128)
    (local $s03 v128)
    (local $s10 v128)
    (local $s11 v128)
    (local $s12 v128)
    (local $s13 v128)
    (local $y00 v128)
    (local $y01 v128)
    (local $y10 v128)
    (local $y11 v128)
    (local.set $opBytes (i32.shl (local.get $Op) (i32.const 2)))
    (local.set $oBytes (i32.shl (local.get $O) (i32.const 2)))
    (local.set $p0 (i32.load offset=0 (local.get $srcs)))
    (local.set $p1 (i32.load offset=4 (local.get $srcs)))
    (local.set $p2 (i32.load offset=8 (local.get $srcs)))
    (local.set $p3 (i32.load offset=12 (local.get $srcs)))
    (local.set $p4 (i32.load offset=16 (local.get $srcs)))
    (local.set $p5 (i32.load offset=20 (local.get $srcs)))
    (local.set $p6 (i32.load offset=24 (local.get $srcs)))
    (local.set $p7 (i32.load offset=28 (local.get $srcs)))
    (local.set $p8 (i32.load offset=32 (local.get $srcs)))
    (local.set $p9 (i32.load offset=36 (local.get $srcs)))
    (local.set $p10 (i32.load offset=40 (local.get $srcs)))
    (local.set $p11 (i32.load offset=44 (local.get $srcs)))
    (local.set $p12 (i32.load offset=48 (local.get $srcs)))
    (local.set $p13 (i32.load offset=52 (local.get $srcs)))
    (local.set $p14 (i32.load offset=56 (local.get $srcs)))
    (local.set $p15 (i32.load offset=60 (local.get $srcs)))
    (local.set $b (i32.const 0))
    (block $imagesDone
      (loop $image
        (br_if $imagesDone (i32.ge_u (local.get $b) (local.get $images)))
        (local.set $ty (i32.const 0))
        (block $rowsDone
          (loop $row
            (br_if $rowsDone (i32.ge_u (local.get $ty) (local.get $tilesH)))
            (local.set $tx (i32.const 0))
            (block $colsDone
              (loop $col
                (br_if $colsDone (i32.ge_u (local.get $tx) (local.get $tilesW)))
                (local.set $c (i32.const 0))
                (block $chansDone
                  (loop $chan
                    (br_if $chansDone (i32.ge_u (local.get $c) (local.get $oBytes)))
                    (local.set $in (i32.add (i32.mul (local.get $t) (local.get $opBytes)) (local.get $c)))
                    (local.set $m00 (v128.load (i32.add (local.get $p0) (local.get $in))))
                    (local.set $m01 (v128.load (i32.add (local.get $p1) (local.get $in))))
                    (local.set $m02 (v128.load (i32.add (local.get $p2) (local.get $in))))
                    (local.set $m03 (v128.load (i32.add (local.get $p3) (local.get $in))))
                    (local.set $m10 (v128.load (i32.add (local.get $p4) (local.get $in))))
                    (local.set $m11 (v128.load (i32.add (local.get $p5) (local.get $in))))
                    (local.set $m12 (v128.load (i32.add (local.get $p6) (local.get $in))))
                    (local.set $m13 (v128.load (i32.add (local.get $p7) (local.get $in))))
                    (local.set $m20 (v128.load (i32.add (local.get $p8) (local.get $in))))
                    (local.set $m21 (v128.load (i32.add (local.get $p9) (local.get $in))))
                    (local.set $m22 (v128.load (i32.add (local.get $p10) (local.get $in))))
                    (local.set $m23 (v128.load (i32.add (local.get $p11) (local.get $in))))
                    (local.set $m30 (v128.load (i32.add (local.get $p12) (local.get $in))))
                    (local.set $m31 (v128.load (i32.add (local.get $p13) (local.get $in))))
                    (local.set $m32 (v128.load (i32.add (local.get $p14) (local.get $in))))
                    (local.set $m33 (v128.load (i32.add (local.get $p15) (local.get $in))))
                    (local.set $s00 (f32x4.add (f32x4.add (local.get $m00) (local.get $m10)) (local.get $m20)))
                    (local.set $s10 (f32x4.sub (f32x4.sub (local.get $m10) (local.get $m20)) (local.get $m30)))
                    (local.set $s01 (f32x4.add (f32x4.add (local.get $m01) (local.get $m11)) (local.get $m21)))
                    (local.set $s11 (f32x4.sub (f32x4.sub (local.get $m11) (local.get $m21)) (local.get $m31)))
                    (local.set $s02 (f32x4.add (f32x4.add (local.get $m02) (local.get $m12)) (local.get $m22)))
                    (local.set $s12 (f32x4.sub (f32x4.sub (local.get $m12) (local.get $m22)) (local.get $m32)))
                    (local.set $s03 (f32x4.add (f32x4.add (local.get $m03) (local.get $m13)) (local.get $m23)))
                    (local.set $s13 (f32x4.sub (f32x4.sub (local.get $m13) (local.get $m23)) (local.get $m33)))
                    (local.set $bv (v128.load (i32.add (local.get $bias) (local.get $c))))
                    (local.set $y00 (f32x4.add (f32x4.add (f32x4.add (local.get $s00) (local.get $s01)) (local.get $s02)) (local.get $bv)))
                    (local.set $y01 (f32x4.add (f32x4.sub (f32x4.sub (local.get $s01) (local.get $s02)) (local.get $s03)) (local.get $bv)))
                    (local.set $y10 (f32x4.add (f32x4.add (f32x4.add (local.get $s10) (local.get $s11)) (local.get $s12)) (local.get $bv)))
                    (local.set $y11 (f32x4.add (f32x4.sub (f32x4.sub (local.get $s11) (local.get $s12)) (local.get $s13)) (local.get $bv)))
                    (local.set $lanes (i32.shr_u (i32.sub (local.get $oBytes) (local.get $c)) (i32.const 2)))
                    (local.set $y (i32.add (i32.shl (local.get $ty) (i32.const 1)) (i32.const 0)))
                    (local.set $x (i32.add (i32.shl (local.get $tx) (i32.const 1)) (i32.const 0)))
                    (if (i32.and (i32.lt_u (local.get $y) (local.get $outH)) (i32.lt_u (local.get $x) (local.get $outW)))
                      (then
                        (local.set $v (local.get $y00))
                        (if (i32.eq (local.get $act) (i32.const 1)) (then (local.set $v (f32x4.max (local.get $v) (v128.const f32x4 0 0 0 0)))))
                        (if (i32.eq (local.get $act) (i32.const 2)) (then (local.set $v (f32x4.min (f32x4.max (local.get $v) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 6 6 6 6)))))
                        (local.set $addr (i32.add (i32.add (local.get $dst) (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $outH)) (local.get $y)) (local.get $outW)) (local.get $x)) (local.get $oBytes))) (local.get $c)))
                        (if (i32.ge_u (local.get $lanes) (i32.const 4))
                          (then (v128.store (local.get $addr) (local.get $v)))
                          (else
                            (v128.store32_lane 0 (local.get $addr) (local.get $v))
                            (if (i32.ge_u (local.get $lanes) (i32.const 2)) (then (v128.store32_lane offset=4 1 (local.get $addr) (local.get $v))))
                            (if (i32.ge_u (local.get $lanes) (i32.const 3)) (then (v128.store32_lane offset=8 2 (local.get $addr) (local.get $v))))))))
                    (local.set $y (i32.add (i32.shl (local.get $ty) (i32.const 1)) (i32.const 0)))
                    (local.set $x (i32.add (i32.shl (local.get $tx) (i32.const 1)) (i32.const 1)))
                    (if (i32.and (i32.lt_u (local.get $y) (local.get $outH)) (i32.lt_u (local.get $x) (local.get $outW)))
                      (then
                        (local.set $v (local.get $y01))
                        (if (i32.eq (local.get $act) (i32.const 1)) (then (local.set $v (f32x4.max (local.get $v) (v128.const f32x4 0 0 0 0)))))
                        (if (i32.eq (local.get $act) (i32.const 2)) (then (local.set $v (f32x4.min (f32x4.max (local.get $v) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 6 6 6 6)))))
                        (local.set $addr (i32.add (i32.add (local.get $dst) (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $outH)) (local.get $y)) (local.get $outW)) (local.get $x)) (local.get $oBytes))) (local.get $c)))
                        (if (i32.ge_u (local.get $lanes) (i32.const 4))
                          (then (v128.store (local.get $addr) (local.get $v)))
                          (else
                            (v128.store32_lane 0 (local.get $addr) (local.get $v))
                            (if (i32.ge_u (local.get $lanes) (i32.const 2)) (then (v128.store32_lane offset=4 1 (local.get $addr) (local.get $v))))
                            (if (i32.ge_u (local.get $lanes) (i32.const 3)) (then (v128.store32_lane offset=8 2 (local.get $addr) (local.get $v))))))))
                    (local.set $y (i32.add (i32.shl (local.get $ty) (i32.const 1)) (i32.const 1)))
                    (local.set $x (i32.add (i32.shl (local.get $tx) (i32.const 1)) (i32.const 0)))
                    (if (i32.and (i32.lt_u (local.get $y) (local.get $outH)) (i32.lt_u (local.get $x) (local.get $outW)))
                      (then
                        (local.set $v (local.get $y10))
                        (if (i32.eq (local.get $act) (i32.const 1)) (then (local.set $v (f32x4.max (local.get $v) (v128.const f32x4 0 0 0 0)))))
                        (if (i32.eq (local.get $act) (i32.const 2)) (then (local.set $v (f32x4.min (f32x4.max (local.get $v) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 6 6 6 6)))))
                        (local.set $addr (i32.add (i32.add (local.get $dst) (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $outH)) (local.get $y)) (local.get $outW)) (local.get $x)) (local.get $oBytes))) (local.get $c)))
                        (if (i32.ge_u (local.get $lanes) (i32.const 4))
                          (then (v128.store (local.get $addr) (local.get $v)))
                          (else
                            (v128.store32_lane 0 (local.get $addr) (local.get $v))
                            (if (i32.ge_u (local.get $lanes) (i32.const 2)) (then (v128.store32_lane offset=4 1 (local.get $addr) (local.get $v))))
                            (if (i32.ge_u (local.get $lanes) (i32.const 3)) (then (v128.store32_lane offset=8 2 (local.get $addr) (local.get $v))))))))
                    (local.set $y (i32.add (i32.shl (local.get $ty) (i32.const 1)) (i32.const 1)))
                    (local.set $x (i32.add (i32.shl (local.get $tx) (i32.const 1)) (i32.const 1)))
                    (if (i32.and (i32.lt_u (local.get $y) (local.get $outH)) (i32.lt_u (local.get $x) (local.get $outW)))
                      (then
                        (local.set $v (local.get $y11))
                        (if (i32.eq (local.get $act) (i32.const 1)) (then (local.set $v (f32x4.max (local.get $v) (v128.const f32x4 0 0 0 0)))))
                        (if (i32.eq (local.get $act) (i32.const 2)) (then (local.set $v (f32x4.min (f32x4.max (local.get $v) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 6 6 6 6)))))
                        (local.set $addr (i32.add (i32.add (local.get $dst) (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $outH)) (local.get $y)) (local.get $outW)) (local.get $x)) (local.get $oBytes))) (local.get $c)))
                        (if (i32.ge_u (local.get $lanes) (i32.const 4))
                          (then (v128.store (local.get $addr) (local.get $v)))
                          (else
                            (v128.store32_lane 0 (local.get $addr) (local.get $v))
                            (if (i32.ge_u (local.get $lanes) (i32.const 2)) (then (v128.store32_lane offset=4 1 (local.get $addr) (local.get $v))))
                            (if (i32.ge_u (local.get $lanes) (i32.const 3)) (then (v128.store32_lane offset=8 2 (local.get $addr) (local.get $v))))))))
                    (local.set $c (i32.add (local.get $c) (i32.const 16)))
                    (br $chan)))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (local.set $tx (i32.add (local.get $tx) (i32.const 1)))
                (br $col)))
            (local.set $ty (i32.add (local.get $ty) (i32.const 1)))
            (br $row)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $image))))

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
