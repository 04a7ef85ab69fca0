// Why F(4×4, 3×3) runs on the points 0, ±1, −½, 2 with the product form centred: the Winograd
// convolution emulated in float32 (every transform step and every product-sum rounded as the kernels
// and tfjs' matrix products round them, sums in channel order) against the per-product reference, for
// every table with factors, on the agreement test's 16-channel layer and a 64-channel one. Variants:
// tile and points, product form centred or not, and the products' accumulation in float64 (to show
// where the error comes from). Prints the largest |error| / max |reference| per variant as JSON.
// `npx tsx bench/winograd-emulation.ts` (a few minutes).
import { initNodeBackend } from '../src/engine/backend/node';
import { builtinCatalogue, simMultiplier, type CatalogueEntry } from '../src/engine/approx/catalogue';
import { readEvoApproxFiles } from '../src/engine/approx/evoapprox-fixtures';
import { disposeKernel, prepareKernel, type PreparedKernel } from '../src/engine/approx/fast';
import { importMultipliers } from '../src/engine/approx/import';
import { quantiseWeights } from '../src/engine/approx/quantise';
import { referenceConv, type QuantisedInput, type QuantisedKernel } from '../src/engine/approx/reference';
import { toomCook, type WinogradTransforms } from '../src/engine/approx/winograd-transforms';
import { mulberry32 } from '../src/engine/util/random';

await initNodeBackend('wasm');
const f32 = Math.fround;
const entries: CatalogueEntry[] = [
  ...builtinCatalogue(),
  ...importMultipliers(readEvoApproxFiles()).map((m) => ({ id: m.id, name: m.name, family: 'imported', table: m.table, power: { relative: null, source: 'user' } })),
];

/** Stacked operands [H·W, K] and weights [3·3, K, O] of one convolution. */
interface Stacked {
  K: number;
  operands: Float32Array;
  weights: Float32Array;
  offset: Float32Array;
}

/** The stacked convolution as the engine builds it (centred product form). */
function engineForm(k: PreparedKernel, x: QuantisedInput): Stacked {
  const [, , K, O] = k.stacked.shape;
  const [, H, W, C] = x.shape;
  const operands = new Float32Array(H * W * K);
  for (let p = 0; p < H * W; p++) {
    let s0 = 0;
    let s1 = 0;
    for (let c = 0; c < C; c++) {
      const code = x.codes[p * C + c];
      for (let b = 0; b < k.blocks; b++) operands[p * K + c * k.blocks + b] = k.operandMap[code * k.blocks + b];
      if (k.sumMap) {
        s0 += k.sumMap[code * 2];
        s1 += k.sumMap[code * 2 + 1];
      }
    }
    if (k.sumMap) [operands[p * K + C * k.blocks], operands[p * K + C * k.blocks + 1]] = [s0, s1];
  }
  return { K, operands, weights: k.stacked.dataSync() as Float32Array, offset: k.offset ? (k.offset.dataSync() as Float32Array) : new Float32Array(O) };
}

/** The product form before centring: weights q_r[w]·s and one summed channel Σ(x − z_x) with weight −z_w·s. */
function uncentredForm(k: PreparedKernel, x: QuantisedInput, w: QuantisedKernel, v: Float32Array[]): Stacked {
  const centred = engineForm(k, x);
  if (!k.sumMap) return centred;
  const [, , C, O] = w.shape;
  const R = k.blocks;
  const K = C * R + 1;
  const [, H, W] = x.shape;
  const operands = new Float32Array(H * W * K);
  for (let p = 0; p < H * W; p++) {
    operands.set(centred.operands.subarray(p * centred.K, p * centred.K + C * R), p * K);
    operands[p * K + C * R] = centred.operands[p * centred.K + C * R];
  }
  const weights = new Float32Array(9 * K * O);
  for (let t = 0; t < 9; t++)
    for (let o = 0; o < O; o++) {
      const s = (w.q.scale.length === 1 ? w.q.scale[0] : w.q.scale[o]) * x.scale;
      const zw = w.q.zeroPoint.length === 1 ? w.q.zeroPoint[0] : w.q.zeroPoint[o];
      for (let c = 0; c < C; c++) for (let r = 0; r < R; r++) weights[(t * K + c * R + r) * O + o] = v[r][w.codes[(t * C + c) * O + o]] * s;
      weights[(t * K + C * R) * O + o] = -zw * s;
    }
  return { K, operands, weights, offset: centred.offset };
}

/** Largest |Winograd − reference| over the layer ('same' padding), as a share of max |reference|. */
function emulate(t: WinogradTransforms, st: Stacked, x: QuantisedInput, O: number, ref: Float32Array, accumulate64: boolean): number {
  const { n, m: tile, AT, G, BT } = t;
  const [, H, W] = x.shape;
  const { K, operands, weights } = st;
  const U = new Float32Array(n * n * K * O);
  for (let c = 0; c < K; c++)
    for (let o = 0; o < O; o++)
      for (let a = 0; a < n; a++)
        for (let b = 0; b < n; b++) {
          let s = 0;
          for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) s += G[a][i] * G[b][j] * weights[((i * 3 + j) * K + c) * O + o];
          U[((a * n + b) * K + c) * O + o] = s;
        }
  const maxAbs = ref.reduce((acc, v) => Math.max(acc, Math.abs(v)), 0);
  let worst = 0;
  for (let ty = 0; ty * tile < H; ty++)
    for (let tx = 0; tx * tile < W; tx++) {
      const M = new Float64Array(n * n * O);
      for (let c = 0; c < K; c++) {
        const d = (i: number, j: number) => {
          const y = ty * tile + i - 1;
          const xx = tx * tile + j - 1;
          return y >= 0 && xx >= 0 && y < H && xx < W ? operands[(y * W + xx) * K + c] : 0;
        };
        const cols = Array.from({ length: n }, (_, a) => Array.from({ length: n }, (_, j) => BT[a].reduce((s, coef, i) => (coef ? f32(s + f32(coef * d(i, j))) : s), 0)));
        for (let a = 0; a < n; a++)
          for (let b = 0; b < n; b++) {
            const v = BT[b].reduce((s, coef, j) => (coef ? f32(s + f32(coef * cols[a][j])) : s), 0);
            for (let o = 0; o < O; o++) {
              const i = (a * n + b) * O + o;
              const p = f32(v * U[((a * n + b) * K + c) * O + o]);
              M[i] = accumulate64 ? M[i] + p : f32(M[i] + p);
            }
          }
      }
      for (let o = 0; o < O; o++) {
        const rows = Array.from({ length: tile }, (_, a) => Array.from({ length: n }, (_, j) => AT[a].reduce((s, coef, i) => (coef ? f32(s + f32(coef * M[(i * n + j) * O + o])) : s), 0)));
        for (let a = 0; a < tile; a++)
          for (let b = 0; b < tile; b++) {
            const y = ty * tile + a;
            const xx = tx * tile + b;
            if (y >= H || xx >= W) continue;
            const out = f32(AT[b].reduce((s, coef, j) => (coef ? f32(s + f32(coef * rows[a][j])) : s), 0) + st.offset[o]);
            worst = Math.max(worst, Math.abs(out - ref[(y * W + xx) * O + o]));
          }
      }
    }
  return worst / maxAbs;
}

function layer(size: number, C: number, O: number, seed: number) {
  const r = mulberry32(seed);
  const x: QuantisedInput = { codes: Int32Array.from({ length: size * size * C }, () => Math.floor(r() * 256)), shape: [1, size, size, C], scale: 0.01, zeroPoint: 17 };
  const rw = mulberry32(seed + 1);
  const { codes, q } = quantiseWeights(Float32Array.from({ length: 9 * C * O }, () => rw() * 2 - 0.9), O, true);
  return { x, w: { codes, shape: [3, 3, C, O], q } as QuantisedKernel, O };
}

const variants = [
  { variant: 'F(2x2) 0,±1; uncentred', points: [0, 1, -1], tile: 2, centred: false, accumulate64: false },
  { variant: 'F(2x2) 0,±1; centred', points: [0, 1, -1], tile: 2, centred: true, accumulate64: false },
  { variant: "F(4x4) Lavin's 0,±1,±2; uncentred", points: [0, 1, -1, 2, -2], tile: 4, centred: false, accumulate64: false },
  { variant: "F(4x4) Lavin's 0,±1,±2; uncentred; products summed in float64", points: [0, 1, -1, 2, -2], tile: 4, centred: false, accumulate64: true },
  { variant: "F(4x4) Lavin's 0,±1,±2; centred", points: [0, 1, -1, 2, -2], tile: 4, centred: true, accumulate64: false },
  { variant: 'F(4x4) 0,±1,−½,2; uncentred', points: [0, 1, -1, -0.5, 2], tile: 4, centred: false, accumulate64: false },
  { variant: 'F(4x4) 0,±1,−½,2; centred (what runs)', points: [0, 1, -1, -0.5, 2], tile: 4, centred: true, accumulate64: false },
];
const layers = [
  { layer: '10x10, 16 -> 8 (the agreement test)', ...layer(10, 16, 8, 11) },
  { layer: '8x8, 64 -> 8', ...layer(8, 64, 8, 61) },
];
const results = [];
for (const l of layers) {
  const worst = variants.map(() => ({ error: 0, multiplier: '' }));
  for (const e of entries) {
    const m = simMultiplier(e);
    if (!m.factors) continue;
    const ref = referenceConv(l.x, l.w, { kh: 3, kw: 3, strides: [1, 1], padding: 'same' }, m.table, false).values;
    const k = prepareKernel(l.w, m.factors, false, l.x);
    const forms = { centred: engineForm(k, l.x), uncentred: uncentredForm(k, l.x, l.w, m.factors.v) };
    variants.forEach((v, i) => {
      const error = emulate(toomCook(v.points, v.tile, 3), v.centred ? forms.centred : forms.uncentred, l.x, l.O, ref, v.accumulate64);
      if (error > worst[i].error) worst[i] = { error, multiplier: e.name };
    });
    disposeKernel(k);
  }
  results.push({ layer: l.layer, variants: variants.map((v, i) => ({ variant: v.variant, largest_relative_error: worst[i].error, multiplier: worst[i].multiplier })) });
  process.stderr.write(`${l.layer} `);
}
console.log(JSON.stringify({ tables: entries.length, bound: 1e-5, layers: results }, null, 2));
