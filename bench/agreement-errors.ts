// How close the fast 3×3 stride-1 layers come to the per-product reference: for each layer, the
// largest |fast − reference| / max |reference| over all 70 tables (built-in and EvoApprox), as JSON.
// The agreement test holds these to 10⁻⁵; this shows the margin, on its layers and on longer sums
// (32 and 64 input channels). `npx tsx bench/agreement-errors.ts` (about a minute).
import { initNodeBackend } from '../src/engine/backend/node';
import { builtinCatalogue, simMultiplier, type CatalogueEntry } from '../src/engine/approx/catalogue';
import { readEvoApproxFiles } from '../src/engine/approx/evoapprox-fixtures';
import { disposeKernel, fastConv, prepareKernel } from '../src/engine/approx/fast';
import { importMultipliers } from '../src/engine/approx/import';
import { quantiseWeights } from '../src/engine/approx/quantise';
import { referenceConv, type QuantisedInput, type QuantisedKernel } from '../src/engine/approx/reference';
import { mulberry32 } from '../src/engine/util/random';
import type { Window } from '../src/engine/approx/geometry';
await initNodeBackend('wasm');
const entries: CatalogueEntry[] = [...builtinCatalogue(), ...importMultipliers(readEvoApproxFiles()).map((m) => ({ id: m.id, name: m.name, family: 'imported', table: m.table, power: { relative: null, source: 'user' } }))];
function input(shape: [number, number, number, number], seed: number, zp = 17): QuantisedInput {
  const r = mulberry32(seed);
  return { codes: Int32Array.from({ length: shape.reduce((a, b) => a * b) }, () => Math.floor(r() * 256)), shape, scale: 0.01, zeroPoint: zp };
}
function kernel(shape: [number, number, number, number], channels: number, seed: number, perChannel = true): QuantisedKernel {
  const r = mulberry32(seed);
  const { codes, q } = quantiseWeights(Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => r() * 2 - 0.9), channels, perChannel);
  return { codes, shape, q };
}
const s3 = (padding: 'same' | 'valid'): Window => ({ kh: 3, kw: 3, strides: [1, 1], padding });
const layers = [
  { name: 'same 7x9x5 (2 images)', x: input([2, 7, 9, 5], 7), w: kernel([3, 3, 5, 6], 6, 8), win: s3('same') },
  { name: 'valid 8x7x3', x: input([1, 8, 7, 3], 9), w: kernel([3, 3, 3, 5], 5, 10), win: s3('valid') },
  { name: 'same 10x10x16', x: input([1, 10, 10, 16], 11), w: kernel([3, 3, 16, 8], 8, 12), win: s3('same') },
  { name: 'same 10x10x32', x: input([1, 10, 10, 32], 41), w: kernel([3, 3, 32, 8], 8, 42), win: s3('same') },
  { name: 'same 9x11x32, z_x 0, per-tensor weights', x: input([1, 9, 11, 32], 51, 0), w: kernel([3, 3, 32, 12], 12, 52, false), win: s3('same') },
  { name: 'same 8x8x64', x: input([1, 8, 8, 64], 61), w: kernel([3, 3, 64, 8], 8, 62), win: s3('same') },
];
const rows: { layer: string; largest_relative_error: number; multiplier: string; form: string }[] = [];
for (const l of layers) {
  let worst = { v: 0, id: '', form: '' };
  for (const e of entries) {
    const m = simMultiplier(e);
    if (!m.factors) continue;
    const ref = referenceConv(l.x, l.w, l.win, m.table, false).values;
    const k = prepareKernel(l.w, m.factors, false, l.x);
    const y = fastConv(l.x, k, l.win);
    const got = y.dataSync() as Float32Array;
    y.dispose(); disposeKernel(k);
    const maxAbs = ref.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
    const d = got.reduce((a, v, i) => Math.max(a, Math.abs(v - ref[i])), 0) / maxAbs;
    if (d > worst.v) worst = { v: d, id: e.name, form: k.form };
  }
  rows.push({ layer: l.name, largest_relative_error: worst.v, multiplier: worst.id, form: worst.form });
}
console.log(JSON.stringify({ backend: 'wasm', bound: 1e-5, layers: rows }, null, 2));
