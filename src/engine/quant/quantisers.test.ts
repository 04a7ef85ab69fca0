// The two activation quantisers on their own: codes, ordering, gradients, the freeze.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../backend/node';
import { ALLOWED_BITS, checkBits, type ActivationQuantiser, type Bits } from './quantiser';
import { SqueezeThresholdQuantiser } from './squeeze-threshold';
import { UniformQuantiser } from './uniform';

beforeAll(() => initNodeBackend('wasm'));

const CHANNELS = 3;

/** Calibration data: channel 0 non-negative (ReLU-like), channels 1 and 2 signed and of other scales. */
function calibration(seed = 5): tf.Tensor4D {
  return tf.tidy(() => {
    const n = tf.randomNormal([6, 5, 5, CHANNELS], 0, 1, 'float32', seed);
    return tf.mul(n, tf.tensor1d([1, 2, 0.5])).sub(tf.tensor1d([0, 0.5, -0.2])).maximum(tf.tensor1d([0, -100, -100])) as tf.Tensor4D;
  });
}

/** A ramp from −12 to 12 (beyond every calibrated range) in every channel, as [1, 1, steps, C]. */
function ramp(steps = 1201): tf.Tensor4D {
  return tf.tidy(() => tf.tile(tf.linspace(-12, 12, steps).reshape([1, 1, steps, 1]), [1, 1, 1, CHANNELS]) as tf.Tensor4D);
}

const makers: Record<string, (x: tf.Tensor, bits: Bits) => ActivationQuantiser> = {
  st: (x, bits) => SqueezeThresholdQuantiser.calibrate(x, bits, { seed: 3 }),
  uniform: (x, bits) => UniformQuantiser.calibrate(x, bits, { perChannel: true }),
};

function isSorted(rows: number[][], strict = true): boolean {
  return rows.every((r) => r.every((v, i) => i === 0 || (strict ? v > r[i - 1] : v >= r[i - 1])));
}

describe('bit widths', () => {
  it('allows 1, 2, 3, 4 and 8 bits only', () => {
    for (const b of ALLOWED_BITS) expect(checkBits(b)).toBe(b);
    for (const b of [0, 5, 6, 7, 16, 2.5]) expect(() => checkBits(b)).toThrow(/bits/);
  });
});

for (const [method, make] of Object.entries(makers)) {
  describe(`${method} quantiser`, () => {
    for (const bits of ALLOWED_BITS) {
      it(`${bits}-bit codes are in range, monotone in the input and use every code`, () => {
        const cal = calibration();
        const q = make(cal, bits);
        const x = ramp(bits === 8 ? 6001 : 1201);
        const codes = q.codes(x);
        const values = q.apply(x, false);
        const k = 2 ** bits - 1;
        const c = codes.reshape([-1, CHANNELS]).arraySync() as number[][];
        const v = values.reshape([-1, CHANNELS]).arraySync() as number[][];
        for (let ch = 0; ch < CHANNELS; ch++) {
          const column = c.map((row) => row[ch]);
          const out = v.map((row) => row[ch]);
          expect(Math.min(...column)).toBe(0);
          expect(Math.max(...column)).toBe(k);
          expect(column.every((code, i) => Number.isInteger(code) && (i === 0 || code >= column[i - 1]))).toBe(true);
          expect(out.every((y, i) => i === 0 || y >= out[i - 1])).toBe(true);
          expect(new Set(column).size).toBe(k + 1);
          // As many distinct output levels as codes.
          expect(new Set(out.map((y) => y.toFixed(6))).size).toBe(k + 1);
        }
        tf.dispose([cal, x, codes, values]);
        q.dispose();
      });
    }

    it.each([1, 2] as const)('describes its deployed %i-bit staircase exactly: the level of the number of thresholds exceeded', (bits) => {
      const cal = calibration();
      const q = make(cal, bits);
      // Train a few steps so the staircase is no longer the calibrated uniform one.
      for (let i = 0; i < 3; i++) {
        const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(q.apply(cal, true))) as tf.Scalar, q.trainableVariables());
        tf.train.sgd(0.2).applyGradients(grads);
        tf.dispose([value, ...Object.values(grads)]);
        q.afterStep();
      }
      q.freeze();
      const { thresholds, levels } = q.staircase();
      expect(thresholds.length).toBe(CHANNELS);
      expect(thresholds.every((t) => t.length === 2 ** bits - 1) && levels.every((l) => l.length === 2 ** bits)).toBe(true);
      const x = ramp(601);
      const out = q.apply(x, false).reshape([-1, CHANNELS]).arraySync() as number[][];
      const inputs = x.reshape([-1, CHANNELS]).arraySync() as number[][];
      let worst = 0;
      inputs.forEach((row, i) =>
        row.forEach((v, ch) => {
          // Exactly on a threshold the two rounding conventions may differ: skip those.
          if (thresholds[ch].some((t) => Math.abs(t - v) < 1e-4)) return;
          const code = thresholds[ch].filter((t) => v > t).length;
          worst = Math.max(worst, Math.abs(levels[ch][code] - out[i][ch]));
        }),
      );
      expect(worst).toBeLessThan(1e-4);
      tf.dispose([cal, x]);
      q.dispose();
    });

    it('leaks no tensors across repeated use and frees everything on dispose', () => {
      const cal = calibration();
      const x = ramp();
      const before = tf.memory().numTensors;
      const q = make(cal, 3);
      const held = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) {
        tf.dispose([q.apply(x, false), q.codes(x)]);
        const { value, grads } = tf.variableGrads(() => tf.sum(q.apply(x, true)) as tf.Scalar, q.trainableVariables());
        tf.dispose([value, ...Object.values(grads)]);
        q.afterStep();
        expect(tf.memory().numTensors).toBe(held);
      }
      q.dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([cal, x]);
    });
  });
}

describe('Squeeze-and-Threshold', () => {
  it('gives thresholds, levels and the attention gradients; levels get exactly the per-code sums', () => {
    const cal = calibration();
    const q = SqueezeThresholdQuantiser.calibrate(cal, 2, { seed: 3 });
    const p = q.parameters();
    expect(p.attention).not.toBeNull();
    const x = tf.tidy(() => tf.add(calibration(9), tf.randomNormal([6, 5, 5, CHANNELS], 0, 0.1, 'float32', 2)));
    const weights = tf.randomNormal([6, 5, 5, CHANNELS], 0, 1, 'float32', 4);
    const named = { th0: p.thresholdBase, gaps: p.thresholdGaps!, steps: p.levelSteps, w2: p.attention!.w2, b2: p.attention!.b2 };
    const loss = () => tf.sum(tf.mul(q.apply(x, true), weights)) as tf.Scalar;
    const { value, grads } = tf.variableGrads(loss, Object.values(named));
    for (const [role, v] of Object.entries(named)) {
      const g = grads[v.name];
      expect(g, role).toBeDefined();
      expect(tf.max(tf.abs(g)).dataSync()[0], `${role} gradient`).toBeGreaterThan(1e-6);
    }
    tf.dispose([value, ...Object.values(grads)]);

    // Loss = sum of outputs, thresholds frozen: each level's gradient is the number of activations
    // mapped to it, so d sum / d log-step_j = exp(log-step_j) · #(codes > j).
    q.freeze();
    const codes = q.codes(x).reshape([-1, CHANNELS]).arraySync() as number[][];
    const counts = Array.from({ length: CHANNELS }, (_, c) => [0, 1, 2, 3].map((k) => codes.filter((r) => r[c] === k).length));
    const { grads: g2, value: v2 } = tf.variableGrads(() => tf.sum(q.apply(x, true)) as tf.Scalar, [p.levelSteps]);
    tf.dispose(v2);
    const steps = tf.exp(p.levelSteps).arraySync() as number[][];
    const gSteps = g2[p.levelSteps.name].arraySync() as number[][];
    for (let c = 0; c < CHANNELS; c++) {
      for (let j = 0; j < 3; j++) {
        const above = counts[c].slice(j + 1).reduce((a, b) => a + b, 0);
        expect(gSteps[c][j]).toBeCloseTo(steps[c][j] * above, 3);
      }
    }
    tf.dispose([...Object.values(g2), cal, x, weights]);
    q.dispose();
  });

  it('pushes thresholds the right way: raising one lowers a sum of outputs', () => {
    const cal = calibration();
    const q = SqueezeThresholdQuantiser.calibrate(cal, 3, { attention: false });
    const p = q.parameters();
    // Gradient with respect to the thresholds themselves, through the relaxation.
    const x = calibration(11);
    const g = tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.sum(q.apply(x, true)) as tf.Scalar, [p.thresholdBase]);
      return grads[p.thresholdBase.name];
    });
    // τ_0 moves every threshold (the others are τ_0 plus gaps): the sum can only fall.
    const values = g.dataSync();
    expect(values.every((v) => v <= 0)).toBe(true);
    expect(Math.min(...values)).toBeLessThan(0);
    tf.dispose([x, g, cal]);
    q.dispose();
  });

  it('keeps thresholds and levels sorted under aggressive training, and the inference thresholds too', () => {
    const cal = calibration();
    const q = SqueezeThresholdQuantiser.calibrate(cal, 3, { seed: 7 });
    const x = calibration(13);
    const target = tf.randomNormal(x.shape, 0, 3, 'float32', 17);
    const optimizer = tf.train.adam(0.2);
    for (let i = 0; i < 25; i++) {
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(tf.sub(q.apply(x, true), target))) as tf.Scalar, q.trainableVariables());
        optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
        value.dispose();
      });
      q.afterStep();
    }
    const check = () => {
      const th = q.thresholds();
      const lv = q.levels();
      const running = q.inferenceThresholds();
      expect(isSorted(th.arraySync() as number[][])).toBe(true);
      expect(isSorted(lv.arraySync() as number[][])).toBe(true);
      expect(isSorted(running.arraySync() as number[][], false)).toBe(true);
      tf.dispose([th, lv, running]);
    };
    check();
    // The attention has moved off its neutral start, so training thresholds differ from inference ones.
    const gain = q.gain(x);
    expect(tf.max(tf.abs(tf.sub(gain, 1))).dataSync()[0]).toBeGreaterThan(1e-3);
    q.freeze();
    // Frozen: training runs exactly what inference runs (no attention, fixed thresholds).
    const a = q.apply(x, true);
    const b = q.apply(x, false);
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBe(0);
    // Only the levels keep training.
    const levelNames = [q.parameters().levelBase, q.parameters().levelSteps].filter((v) => v !== null).map((v) => v!.name);
    expect(q.trainableVariables().map((v) => v.name).sort()).toEqual(levelNames.sort());
    check();
    tf.dispose([cal, x, target, gain, a, b]);
    optimizer.dispose();
    q.dispose();
  });

  it('averages the effective thresholds τ / a over batches for inference', () => {
    const cal = calibration();
    const q = SqueezeThresholdQuantiser.calibrate(cal, 2, { seed: 1 });
    const x = calibration(21);
    // Perturb the attention so the gain differs from 1 per sample.
    const att = q.parameters().attention!;
    att.b2.assign(tf.tensor1d([0.5, -0.5, 1]));
    const gain = q.gain(x);
    tf.dispose(q.apply(x, true));
    q.afterStep(); // first step: bias correction makes the average this batch's value
    const th = q.thresholds().arraySync() as number[][];
    const g = gain.arraySync() as number[][];
    const running = q.inferenceThresholds().arraySync() as number[][];
    for (let c = 0; c < CHANNELS; c++) {
      for (let j = 0; j < 3; j++) {
        const expected = g.reduce((s, row) => s + th[c][j] / row[c], 0) / g.length;
        expect(running[c][j]).toBeCloseTo(expected, 4);
      }
    }
    tf.dispose([cal, x, gain]);
    q.dispose();
  });
});

describe('uniform baseline', () => {
  it('learns its range: gradient to the width from clipped values and the LSQ term, none to x outside', () => {
    const x = tf.tensor4d([-10, 0.3, 0.7, 50], [1, 1, 4, 1]);
    const q1 = UniformQuantiser.calibrate(tf.tensor4d([0, 1, 2, 3], [1, 1, 4, 1]), 2, { tail: 0 });
    const dx = tf.grad((v: tf.Tensor) => tf.sum(q1.apply(v, true)))(x).dataSync();
    expect(Array.from(dx)).toEqual([0, 1, 1, 0]);
    const { grads, value } = tf.variableGrads(() => tf.sum(q1.apply(x, true)) as tf.Scalar, q1.trainableVariables());
    expect(Object.values(grads)[0].dataSync()[0]).toBeGreaterThan(0);
    tf.dispose([x, value, ...Object.values(grads)]);
    q1.dispose();
  });
});
