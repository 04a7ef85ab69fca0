// Writes the WebAssembly text of the Winograd transform kernels from the transform matrices
// (src/engine/approx/winograd-transforms.ts), unrolled over the tile: build-kernels.ts splices it into
// heap-kernels.wat, so that the kernels and the kernel transform in winograd.ts share one definition.
import { programMatrix, type TransformProgram, type WinogradTransforms } from '../src/engine/approx/winograd-transforms';

const splat = (c: number) => `(v128.const f32x4 ${c} ${c} ${c} ${c})`;

/** Σ_i coeffs[i]·terms[i] as f32x4 operations, skipping zeros; the coefficients must be exact in float32. */
function combine(coeffs: number[], terms: string[]): string {
  let e: string | null = null;
  coeffs.forEach((c, i) => {
    if (c === 0) return;
    if (Math.fround(c) !== c) throw new Error(`transform coefficient ${c} is not exact in float32`);
    const x = `(local.get $${terms[i]})`;
    if (e === null) e = c === 1 ? x : c === -1 ? `(f32x4.neg ${x})` : `(f32x4.mul ${x} ${splat(c)})`;
    else e = c === 1 ? `(f32x4.add ${e} ${x})` : c === -1 ? `(f32x4.sub ${e} ${x})` : `(f32x4.add ${e} (f32x4.mul ${x} ${splat(c)}))`;
  });
  return e ?? '(v128.const i32x4 0 0 0 0)';
}

const range = (k: number) => Array.from({ length: k }, (_, i) => i);

/**
 * A 1-D transform of the locals `inputs` into the locals `outputs`, by `program` where given (after
 * checking that it computes `matrix` exactly), else row by row; program temporaries live in `$w_<name>`.
 */
function transform(matrix: number[][], inputs: string[], outputs: string[], program?: TransformProgram): string[] {
  if (!program) return matrix.map((row, o) => `(local.set $${outputs[o]} ${combine(row, inputs)})`);
  const computed = programMatrix(program, inputs.length, outputs.length);
  if (computed.some((row, o) => row.some((v, j) => v !== matrix[o][j]))) throw new Error(`transform program computes ${JSON.stringify(computed)}, not ${JSON.stringify(matrix)}`);
  const local = (name: string) => (/^i\d+$/.test(name) ? inputs[Number(name.slice(1))] : /^o\d+$/.test(name) ? outputs[Number(name.slice(1))] : `w_${name}`);
  return program.map(({ to, sum }) => `(local.set $${local(to)} ${combine(sum.map(([c]) => c), sum.map(([, t]) => local(t)))})`);
}

/** The program's temporaries, as local declarations. */
const temporaries = (program?: TransformProgram) => (program ?? []).filter(({ to }) => !/^o\d+$/.test(to)).map(({ to }) => `    (local $w_${to} v128)`);

/** The tile loops around `body` (images, tile rows, tile columns, `$t` counting tiles). */
function tileLoops(body: string[]): string[] {
  return [
    '    (local.set $b (i32.const 0))',
    '    (block $imagesDone',
    '      (loop $image',
    '        (br_if $imagesDone (i32.ge_u (local.get $b) (local.get $images)))',
    '        (local.set $ty (i32.const 0))',
    '        (block $rowsDone',
    '          (loop $row',
    '            (br_if $rowsDone (i32.ge_u (local.get $ty) (local.get $tilesH)))',
    '            (local.set $tx (i32.const 0))',
    '            (block $colsDone',
    '              (loop $col',
    '                (br_if $colsDone (i32.ge_u (local.get $tx) (local.get $tilesW)))',
    ...body.map((l) => `                ${l}`),
    '                (local.set $t (i32.add (local.get $t) (i32.const 1)))',
    '                (local.set $tx (i32.add (local.get $tx) (i32.const 1)))',
    '                (br $col)))',
    '            (local.set $ty (i32.add (local.get $ty) (i32.const 1)))',
    '            (br $row)))',
    '        (local.set $b (i32.add (local.get $b) (i32.const 1)))',
    '        (br $image))))',
  ];
}

function inputKernel({ m, n, BT, points }: WinogradTransforms, program?: TransformProgram): string {
  const cells = range(n).flatMap((i) => range(n).map((j) => [i, j] as const));
  const L: string[] = [
    `  ;; Winograd F(${m}×${m}, 3×3), input side: for every ${n}×${n} tile of the (zero-padded) stacked operands, at`,
    `  ;; stride ${m}, V = Bᵀ·d·B per channel (points ${points.join(', ')}, ∞), written to ${n * n} matrices [tiles, K]`,
    `  ;; (addresses in the ${n * n} words at \`dsts\`), one per position of the transform. \`src\` is`,
    '  ;; [images, H, W, K], K a multiple of 4; pixels outside the image read as 0 (the stacked operands',
    `  ;; are 0 at the input's zero point). The column pass goes through ${n * n * 16} bytes of scratch at \`tmp\`:`,
    `  ;; ${n * n} vectors held at once would not fit in registers.`,
    '  (func (export "winograd_input")',
    '    (param $src i32) (param $images i32) (param $H i32) (param $W i32) (param $K i32)',
    '    (param $padT i32) (param $padL i32) (param $tilesH i32) (param $tilesW i32) (param $dsts i32) (param $tmp i32)',
    '    (local $b i32) (local $ty i32) (local $tx i32) (local $t i32) (local $c i32) (local $kBytes i32)',
    '    (local $y i32) (local $x i32) (local $out i32)',
    ...cells.map(([i, j]) => `    (local $a${i}${j} i32)`),
    ...range(n).map((i) => `    (local $e${i} v128)`),
    ...range(n).map((i) => `    (local $r${i} v128)`),
    ...temporaries(program),
    ...range(n * n).map((k) => `    (local $o${k} i32)`),
    '    (local.set $kBytes (i32.shl (local.get $K) (i32.const 2)))',
    ...range(n * n).map((k) => `    (local.set $o${k} (i32.load offset=${4 * k} (local.get $dsts)))`),
  ];
  const body: string[] = [`;; Address of each of the tile's ${n * n} pixels, −1 outside the image.`];
  for (const [i, j] of cells)
    body.push(
      `(local.set $y (i32.sub (i32.add (i32.mul (local.get $ty) (i32.const ${m})) (i32.const ${i})) (local.get $padT)))`,
      `(local.set $x (i32.sub (i32.add (i32.mul (local.get $tx) (i32.const ${m})) (i32.const ${j})) (local.get $padL)))`,
      `(local.set $a${i}${j}`,
      '  (select',
      '    (i32.add (local.get $src) (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $H)) (local.get $y)) (local.get $W)) (local.get $x)) (local.get $kBytes)))',
      '    (i32.const -1)',
      '    (i32.and (i32.lt_u (local.get $y) (local.get $H)) (i32.lt_u (local.get $x) (local.get $W)))))',
    );
  body.push('(local.set $c (i32.const 0))', '(block $chansDone', '  (loop $chan', '    (br_if $chansDone (i32.ge_u (local.get $c) (local.get $kBytes)))');
  const chan: string[] = [];
  const e = range(n).map((i) => `e${i}`);
  const res = range(n).map((i) => `r${i}`);
  // Columns: Bᵀ·d, column by column, into tmp (row r, column j at (r·n + j)·16).
  for (const j of range(n)) {
    for (const i of range(n))
      chan.push(`(local.set $e${i} (if (result v128) (i32.ge_s (local.get $a${i}${j}) (i32.const 0)) (then (v128.load (i32.add (local.get $a${i}${j}) (local.get $c)))) (else (v128.const i32x4 0 0 0 0))))`);
    chan.push(...transform(BT, e, res, program));
    for (const r of range(n)) chan.push(`(v128.store offset=${(r * n + j) * 16} (local.get $tmp) (local.get $r${r}))`);
  }
  // Rows: (Bᵀ·d)·B, row by row, into the matrices.
  chan.push('(local.set $out (i32.add (i32.mul (local.get $t) (local.get $kBytes)) (local.get $c)))');
  for (const r of range(n)) {
    for (const j of range(n)) chan.push(`(local.set $e${j} (v128.load offset=${(r * n + j) * 16} (local.get $tmp)))`);
    chan.push(...transform(BT, e, res, program));
    for (const s of range(n)) chan.push(`(v128.store (i32.add (local.get $o${r * n + s}) (local.get $out)) (local.get $r${s}))`);
  }
  chan.push('(local.set $c (i32.add (local.get $c) (i32.const 16)))', '(br $chan)))');
  body.push(...chan.map((l) => `    ${l}`));
  return [...L, ...tileLoops(body)].join('\n');
}

function outputKernel({ m, n, AT }: WinogradTransforms): string {
  const cells = range(n).flatMap((i) => range(n).map((j) => [i, j] as const));
  const L: string[] = [
    `  ;; Winograd F(${m}×${m}, 3×3), output side: Y = Aᵀ·M·A for every tile from the ${n * n} products [tiles, Op]`,
    `  ;; (addresses in the ${n * n} words at \`srcs\`), plus \`bias\` (Op floats), then \`act\` (0 none, 1 ReLU,`,
    `  ;; 2 ReLU6), written to \`dst\` [images, outH, outW, O] where each of the ${m}×${m} outputs lies inside the`,
    '  ;; output. Op is O rounded up to a multiple of 4; the last group of an O that is not is stored lane',
    '  ;; by lane.',
    '  (func (export "winograd_output")',
    '    (param $srcs i32) (param $images i32) (param $outH i32) (param $outW i32) (param $O i32) (param $Op i32)',
    '    (param $tilesH i32) (param $tilesW i32) (param $bias i32) (param $act i32) (param $dst i32)',
    '    (local $b i32) (local $ty i32) (local $tx i32) (local $t i32) (local $c i32) (local $opBytes i32) (local $oBytes i32)',
    '    (local $in i32) (local $y i32) (local $x i32) (local $addr i32) (local $lanes i32) (local $bv v128) (local $v v128)',
    ...range(n * n).map((k) => `    (local $p${k} i32)`),
    ...cells.map(([i, j]) => `    (local $m${i}${j} v128)`),
    ...range(m).flatMap((i) => range(n).map((j) => `    (local $s${i}${j} v128)`)),
    '    (local.set $opBytes (i32.shl (local.get $Op) (i32.const 2)))',
    '    (local.set $oBytes (i32.shl (local.get $O) (i32.const 2)))',
    ...range(n * n).map((k) => `    (local.set $p${k} (i32.load offset=${4 * k} (local.get $srcs)))`),
  ];
  const chan: string[] = ['(local.set $in (i32.add (i32.mul (local.get $t) (local.get $opBytes)) (local.get $c)))'];
  for (const [i, j] of cells) chan.push(`(local.set $m${i}${j} (v128.load (i32.add (local.get $p${i * n + j}) (local.get $in))))`);
  for (const r of range(m))
    for (const j of range(n))
      chan.push(
        `(local.set $s${r}${j} ${combine(
          AT[r],
          range(n).map((i) => `m${i}${j}`),
        )})`,
      );
  chan.push('(local.set $bv (v128.load (i32.add (local.get $bias) (local.get $c))))', '(local.set $lanes (i32.shr_u (i32.sub (local.get $oBytes) (local.get $c)) (i32.const 2)))');
  for (const r of range(m))
    for (const s of range(m))
      chan.push(
        `(local.set $y (i32.add (i32.mul (local.get $ty) (i32.const ${m})) (i32.const ${r})))`,
        `(local.set $x (i32.add (i32.mul (local.get $tx) (i32.const ${m})) (i32.const ${s})))`,
        '(if (i32.and (i32.lt_u (local.get $y) (local.get $outH)) (i32.lt_u (local.get $x) (local.get $outW)))',
        '  (then',
        `    (local.set $v (f32x4.add ${combine(
          AT[s],
          range(n).map((j) => `s${r}${j}`),
        )} (local.get $bv)))`,
        '    (if (i32.eq (local.get $act) (i32.const 1)) (then (local.set $v (f32x4.max (local.get $v) (v128.const f32x4 0 0 0 0)))))',
        '    (if (i32.eq (local.get $act) (i32.const 2)) (then (local.set $v (f32x4.min (f32x4.max (local.get $v) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 6 6 6 6)))))',
        '    (local.set $addr (i32.add (i32.add (local.get $dst) (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $outH)) (local.get $y)) (local.get $outW)) (local.get $x)) (local.get $oBytes))) (local.get $c)))',
        '    (if (i32.ge_u (local.get $lanes) (i32.const 4))',
        '      (then (v128.store (local.get $addr) (local.get $v)))',
        '      (else',
        '        (v128.store32_lane 0 (local.get $addr) (local.get $v))',
        '        (if (i32.ge_u (local.get $lanes) (i32.const 2)) (then (v128.store32_lane offset=4 1 (local.get $addr) (local.get $v))))',
        '        (if (i32.ge_u (local.get $lanes) (i32.const 3)) (then (v128.store32_lane offset=8 2 (local.get $addr) (local.get $v))))))))',
      );
  chan.push('(local.set $c (i32.add (local.get $c) (i32.const 16)))', '(br $chan)))');
  const body = ['(local.set $c (i32.const 0))', '(block $chansDone', '  (loop $chan', '    (br_if $chansDone (i32.ge_u (local.get $c) (local.get $oBytes)))', ...chan.map((l) => `    ${l}`)];
  return [...L, ...tileLoops(body)].join('\n');
}

/** Both kernels, `winograd_input` (Bᵀ by `inputProgram` where given) and `winograd_output`, as module fields. */
export const winogradWat = (t: WinogradTransforms, inputProgram?: TransformProgram): string => `${inputKernel(t, inputProgram)}\n\n${outputKernel(t)}\n`;
