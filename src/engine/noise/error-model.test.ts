import { describe, expect, it } from 'vitest';
import { builtinCatalogue, findMultiplier } from '../approx/catalogue';
import { quantiseWeights } from '../approx/quantise';
import { referenceConv } from '../approx/reference';
import { exactTable } from '../approx/table';
import { mulberry32 } from '../util/random';
import { measureErrorStd, predictErrorStd, sampledErrors, sampleLayer, type LayerOperandSource } from './error-model';
import { correlation, errorModelPairs } from './mapping';
import { readEvoApproxFiles } from '../approx/evoapprox-fixtures';
import { importMultipliers } from '../approx/import';

function source(depthwise: boolean, seed: number, skew = 1): LayerOperandSource {
  const r = mulberry32(seed);
  const inputShape: [number, number, number, number] = [8, 10, 10, depthwise ? 6 : 4];
  const kernelShape: [number, number, number, number] = depthwise ? [3, 3, 6, 1] : [3, 3, 4, 5];
  // ReLU-like activations: many codes at the zero point, the rest spread (skewed towards small).
  const inputCodes = Int32Array.from({ length: inputShape.reduce((a, b) => a * b) }, () => (r() < 0.4 ? 0 : Math.floor(255 * r() ** skew)));
  const { codes, q } = quantiseWeights(Float32Array.from({ length: kernelShape.reduce((a, b) => a * b) }, () => r() * 2 - 1), depthwise ? 6 : 5, true);
  return { name: depthwise ? 'dw' : 'conv', depthwise, window: { kh: 3, kw: 3, strides: [1, 1], padding: 'same' }, kernelShape, weightCodes: codes, weightQ: q, inputCodes, inputShape, inputZeroPoint: 0 };
}

const table = (id: string) => findMultiplier(builtinCatalogue(), id).table.values;

describe('error model', () => {
  it('predicts and measures zero error for the exact multiplier', () => {
    const s = sampleLayer(source(false, 1));
    expect(predictErrorStd(s, exactTable().values)).toBe(0);
    expect(measureErrorStd(s, exactTable().values)).toBe(0);
    expect(s.outputStd).toBeGreaterThan(0);
  });

  it('a constant error is a bias, not noise: zero std predicted and measured', () => {
    const t = Int32Array.from(exactTable().values, (v) => v + 5);
    const s = sampleLayer(source(false, 2));
    expect(predictErrorStd(s, t)).toBeLessThan(1e-4);
    expect(measureErrorStd(s, t)).toBeCloseTo(0, 6);
  });

  for (const depthwise of [false, true]) {
    it(`measures exactly what the per-product reference layer computes there (${depthwise ? 'depthwise' : 'conv'})`, () => {
      const src = source(depthwise, 3);
      const t = table('bam-3-7');
      const unit = { scale: new Float32Array(src.weightQ.scale.length).fill(1), zeroPoint: src.weightQ.zeroPoint };
      const x = { codes: Int32Array.from(src.inputCodes), shape: src.inputShape, scale: 1, zeroPoint: 0 };
      const w = { codes: src.weightCodes, shape: src.kernelShape, q: unit };
      const approx = referenceConv(x, w, src.window, t, depthwise);
      const exact = referenceConv(x, w, src.window, exactTable().values, depthwise);
      const s = sampleLayer(src, 64, 9);
      const errors = sampledErrors(s, t);
      const [, H, W, C] = approx.shape;
      let o = 0;
      for (let f = 0; f < 64; f++) {
        const [b, oy, ox] = s.positions.subarray(f * 4, f * 4 + 4);
        for (const c of s.fieldChannels.subarray(f * s.perField, (f + 1) * s.perField)) {
          const at = ((b * H + oy) * W + ox) * C + c;
          expect(errors[o++]).toBe(approx.values[at] - exact.values[at]);
        }
      }
      expect(o).toBe(s.outputs);
    });
  }

  it('predicts the measured std within 25 % for independent-looking errors, conv and depthwise', () => {
    for (const depthwise of [false, true]) {
      const s = sampleLayer(source(depthwise, 4, 2), 512, 5);
      for (const id of ['trunc-6', 'bam-3-7', 'drum-4', 'mitchell']) {
        const p = predictErrorStd(s, table(id));
        const m = measureErrorStd(s, table(id));
        expect(p / m, `${depthwise ? 'depthwise' : 'conv'} ${id}: predicted ${p}, measured ${m}`).toBeGreaterThan(0.75);
        expect(p / m).toBeLessThan(1.33);
      }
    }
  });

  it('ranks all built-in and EvoApprox multipliers by error: correlation ≥ 0.9 on a layer', () => {
    const entries = [...builtinCatalogue(), ...importMultipliers(readEvoApproxFiles()).map((m) => ({ id: m.id, name: m.name, family: 'imported', table: m.table, power: { relative: null, source: 'user' } }))];
    const candidates = entries.map((e) => ({ id: e.id, name: e.name, relativePower: 1, powerSource: 'x', table: e.table.values, entry: e, exact: e.id === 'exact' }));
    const pairs = errorModelPairs([sampleLayer(source(false, 6, 2))], candidates);
    expect(pairs).toHaveLength(entries.length);
    expect(correlation(pairs)).toBeGreaterThan(0.9);
  });
});
