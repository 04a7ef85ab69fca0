import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../backend/node';
import { runGraph } from './graph';
import { KWS_CLASSES, KWS_SAMPLES, KWS_SAMPLE_RATE, kwsNet, kwsParameterCount } from './kws-net';
import type { SincConv } from './sinc-conv';

beforeAll(() => initNodeBackend('wasm'));

/** Two tones (300 Hz: class 0, 2000 Hz: class 1) with random phases. */
function twoTones(count: number): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const labels = Array.from({ length: count }, (_, i) => i % 2);
  const samples = labels.flatMap((c, i) => Array.from({ length: KWS_SAMPLES }, (_, t) => 0.3 * Math.sin((2 * Math.PI * (c ? 2000 : 300) * t) / KWS_SAMPLE_RATE + i)));
  return tf.tidy(() => ({ x: tf.tensor4d(samples, [count, 1, KWS_SAMPLES, 1]), y: tf.oneHot(tf.tensor1d(labels, 'int32'), KWS_CLASSES).toFloat() as tf.Tensor2D }));
}

describe('kwsNet', () => {
  it('maps one second of audio to 12 class probabilities with 62,488 parameters', () => {
    const model = kwsNet(1);
    const counts = kwsParameterCount();
    console.log(`kwsNet parameters: ${model.countParams()} (trainable ${counts.trainable}; ungrouped pointwise would be ${counts.ungroupedTotal})`);
    expect(model.countParams()).toBe(counts.total);
    expect(counts).toEqual({ total: 62_488, trainable: 60_788, ungroupedTotal: 123_724 });
    expect(model.trainableWeights.reduce((s, w) => s + tf.util.sizeFromShape(w.shape as number[]), 0)).toBe(counts.trainable);
    expect(model.inputs[0].shape).toEqual([null, 1, KWS_SAMPLES, 1]);
    expect(model.inputLayers[0].name).toBe('audio');
    // Every weight layer but the Sinc front end is one the studio's analyses know.
    const weighted = model.layers.filter((l) => l.countParams() > 0).map((l) => l.getClassName());
    expect(new Set(weighted)).toEqual(new Set(['SincConv', 'BatchNormalization', 'DepthwiseConv2D', 'Conv2D', 'Dense']));
    expect(model.getLayer('block3_pw_g3').getWeights()[0].shape).toEqual([1, 1, 54, 54]);
    const x = tf.randomNormal([3, 1, KWS_SAMPLES, 1], 0, 0.1, 'float32', 2);
    const p = model.predict(x) as tf.Tensor;
    expect(p.shape).toEqual([3, KWS_CLASSES]);
    for (const s of tf.tidy(() => tf.sum(p, 1).arraySync() as number[])) expect(s).toBeCloseTo(1, 5);
    tf.dispose([x, p]);
    model.dispose();
  });

  it('is built from its seed', () => {
    const [a, b, c] = [kwsNet(7), kwsNet(7), kwsNet(8)];
    const weights = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));
    expect(weights(a)).toEqual(weights(b));
    expect(weights(a)).not.toEqual(weights(c));
    [a, b, c].forEach((m) => m.dispose());
  });

  it('runs layer by layer in the studio graph runner exactly as predict()', () => {
    const model = kwsNet(1);
    const x = tf.randomNormal([2, 1, KWS_SAMPLES, 1], 0, 0.1, 'float32', 4);
    const [a, b] = [model.predict(x) as tf.Tensor, runGraph(model, x)];
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBe(0);
    tf.dispose([x, a, b]);
    model.dispose();
  });

  it('sends gradients to every trainable weight, the cut-offs included, and learns two tones on wasm', async () => {
    expect(tf.getBackend()).toBe('wasm');
    const model = kwsNet(3);
    const { x, y } = twoTones(8);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, tf.log(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, vars);
    for (const v of vars) {
      const norm = tf.tidy(() => tf.norm(grads[v.name]).dataSync()[0]);
      expect(norm, v.name).toBeGreaterThan(0);
      expect(Number.isFinite(norm), v.name).toBe(true);
    }
    tf.dispose([value, ...Object.values(grads)]);

    const sinc = model.getLayer('sinc') as SincConv;
    const before = sinc.passBands();
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
    const history = await model.fit(x, y, { epochs: 4, batchSize: 8, verbose: 0 });
    const losses = history.history.loss as number[];
    // Below ln 2 only if the two tones are told apart (equal odds for both would give ln 2).
    expect(losses[losses.length - 1]).toBeLessThan(0.3);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
    expect(sinc.passBands()).not.toEqual(before);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('saves and loads through tf.io with identical predictions and pass bands', async () => {
    const model = kwsNet(5);
    const sinc = model.getLayer('sinc') as SincConv;
    // Move the cut-offs off their initial values, so the check sees loaded weights, not a rebuilt layer.
    tf.tidy(() => {
      const [low, band] = sinc.getWeights();
      sinc.setWeights([tf.mul(low, 1.1), tf.add(band, 30)]);
    });
    let saved: tf.io.ModelArtifacts | null = null;
    await model.save(tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    expect(loaded.layers.map((l) => l.getClassName())).toEqual(model.layers.map((l) => l.getClassName()));
    expect((loaded.getLayer('sinc') as SincConv).passBands()).toEqual(sinc.passBands());
    const x = tf.randomNormal([2, 1, KWS_SAMPLES, 1], 0, 0.1, 'float32', 9);
    const [a, b] = [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([x, a, b]);
    model.dispose();
    loaded.dispose();
  });

  it('leaves no tensors behind across repeated predictions', () => {
    const model = kwsNet(1);
    const x = tf.randomNormal([2, 1, KWS_SAMPLES, 1], 0, 0.1, 'float32', 1);
    tf.dispose(model.predict(x) as tf.Tensor);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.dispose(model.predict(x) as tf.Tensor);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(x);
    model.dispose();
  });
});
