;; Host passes of the approximate and noisy layers, run inside the tfjs wasm backend's own memory
;; (imported, not copied): the layer's tensors are read and written where they lie. Compiled to
;; heap-kernels.wasm.ts by `npm run build:kernels`; a test checks that the two agree.
;; Arithmetic is the JavaScript passes' own, in float64 where they compute in doubles, so both give
;; bit-identical results and either may run.
(module
  (import "env" "memory" (memory 0))

  ;; Quantise `pixels`·`channels` float32 activations at `src`, code = clamp(trunc(x·inv + shift), 0, 255)
  ;; (quantiseActivations' formula; trunc is floor on the unclamped range), and write each code's row of
  ;; `blocks` floats from `map` (rows of `stride` floats) to `dst`. When `summed`, each pixel ends with
  ;; one more float, Σ code + sumOffset. With `vector` the rows are copied as whole 16-byte vectors
  ;; (stride a multiple of 4): each copy may write up to stride − blocks floats past its row, which the
  ;; following writes cover, so the caller runs the last pixels with `vector` = 0. Returns the end of
  ;; what was written.
  (func (export "stack")
    (param $src i32) (param $pixels i32) (param $channels i32) (param $inv f64) (param $shift f64)
    (param $map i32) (param $stride i32) (param $blocks i32) (param $summed i32) (param $sumOffset f32)
    (param $dst i32) (param $vector i32) (result i32)
    (local $j i32) (local $code i32) (local $sum i32) (local $row i32) (local $q i32)
    (local $rowBytes i32) (local $blockBytes i32)
    (local.set $rowBytes (i32.shl (local.get $stride) (i32.const 2)))
    (local.set $blockBytes (i32.shl (local.get $blocks) (i32.const 2)))
    (block $done
      (loop $pixel
        (br_if $done (i32.eqz (local.get $pixels)))
        (local.set $sum (i32.const 0))
        (local.set $j (local.get $channels))
        (loop $channel
          (local.set $code
            (i32.trunc_sat_f64_s
              (f64.add
                (f64.mul (f64.promote_f32 (f32.load (local.get $src))) (local.get $inv))
                (local.get $shift))))
          (local.set $code (select (i32.const 0) (local.get $code) (i32.lt_s (local.get $code) (i32.const 0))))
          (local.set $code (select (i32.const 255) (local.get $code) (i32.gt_s (local.get $code) (i32.const 255))))
          (local.set $sum (i32.add (local.get $sum) (local.get $code)))
          (local.set $row (i32.add (local.get $map) (i32.mul (local.get $code) (local.get $rowBytes))))
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
            (f32.store (local.get $dst) (f32.add (f32.convert_i32_s (local.get $sum)) (local.get $sumOffset)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 4)))))
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
)
