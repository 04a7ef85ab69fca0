import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../backend/node';
import { loadDigitsFromDisk } from '../data/digits-node';
import { sliceDigits } from '../data/digits';
import { digitVideo } from '../data/digit-video';
import { disposeBatchable, modelInputShape, sliceToTensors, type Batchable } from '../data/tensors';
import { loadShippedModel } from '../models/io-node';
import { ecgNet } from '../models/ecg-net';
import { kwsNet } from '../models/kws-net';
import { describeLayers, totalMacs } from '../models/macs';
import { augmentWithExits, branchPrefix, exitCandidates, planBranch, type AugmentResult } from './augment';
import { recordReplay } from './record';
import { segmentProfiles } from './hardware';
import { finalOnly, prepareReplay, replay } from './replay';
import { parseReplay, replayToJson } from './replay-file';

beforeAll(() => initNodeBackend('wasm'));

describe('exit candidates', () => {
  it('finds a point after each block where every path meets, except the last before the head', async () => {
    const names = async (m: string) => {
      const model = await loadShippedModel(m);
      const c = exitCandidates(model);
      const total = totalMacs(describeLayers(model));
      for (let i = 1; i < c.length; i++) expect(c[i].macsTo).toBeGreaterThan(c[i - 1].macsTo);
      expect(c[c.length - 1].macsTo).toBeLessThan(total);
      model.dispose();
      return c.map((x) => x.layer);
    };
    expect(await names('lenet')).toEqual(['pool1']);
    // The keyword model's blocks end in pooling then dropout: the dropout is where each block ends.
    const kws = exitCandidates(kwsNet(1)).map((x) => x.layer);
    expect(kws).toEqual(['sinc_pool', 'block1_drop', 'block2_drop', 'block3_drop', 'block4_drop']);
    // Inside a residual block the skip connection crosses: no candidate there.
    expect(await names('resnet')).toEqual(['stem_relu', 'block1_relu', 'block2_relu']);
    expect(await names('mobilenet')).toEqual(['stem_relu6', 'ir1_add', 'ir2_project_bn', 'ir3_add', 'ir4_project_bn', 'ir5_add']);
  });
});

describe('exit branches', () => {
  it('pool a long 1-D map along time to at most 49 steps before caching its features, and a 2-D map along both axes to 7 × 7', async () => {
    const kws = kwsNet(1);
    const [first] = exitCandidates(kws);
    expect(first.shape).toEqual([1, 994, 40]);
    const plan = planBranch(first, kws);
    // 994 steps of 40 features per clip would be cached whole (160 kB a clip) without this.
    expect(plan.pool).toEqual([1, 21]);
    const x = tf.ones([2, 1, 994, 40]) as tf.Tensor4D;
    const pooled = branchPrefix(x, plan);
    expect(pooled.shape).toEqual([2, 1, 48, 40]);
    expect(tf.max(tf.abs(tf.sub(pooled, 1))).dataSync()[0]).toBeLessThan(1e-6);
    tf.dispose([x, pooled]);
    kws.dispose();
    // An ECG window's first map, 128 steps: pooled by 3 to 43, not to 7.
    const ecg = ecgNet(1);
    const [ecgFirst] = exitCandidates(ecg);
    expect(ecgFirst.shape[0]).toBe(1);
    expect(planBranch(ecgFirst, ecg).pool).toEqual([1, Math.ceil(ecgFirst.shape[1] / 49)]);
    ecg.dispose();
    const mobilenet = await loadShippedModel('mobilenet');
    const [stem] = exitCandidates(mobilenet);
    expect(planBranch(stem, mobilenet).pool).toEqual([Math.ceil(stem.shape[0] / 7), Math.ceil(stem.shape[1] / 7)]);
    mobilenet.dispose();
  });
});

describe('augmenting a model with exits and recording a stream', () => {
  let model: tf.LayersModel;
  let train: Batchable;
  let test: Batchable;
  let result: AugmentResult;

  beforeAll(async () => {
    const digits = await loadDigitsFromDisk();
    model = await loadShippedModel('mobilenet');
    const shape = modelInputShape(model);
    train = sliceToTensors(sliceDigits(digits, 'train', 1500), shape);
    test = sliceToTensors(sliceDigits(digits, 'test', 500), shape);
  }, 60_000);
  afterAll(() => {
    for (const e of result?.exits ?? []) e.model.dispose();
    model.dispose();
    disposeBatchable(train);
    disposeBatchable(test);
  });

  it('trains each branch on frozen features, keeps the useful ones, and leaves the backbone as it was', async () => {
    const weights = model.getWeights().map((w) => Array.from(w.dataSync().slice(0, 8)));
    const tensors = tf.memory().numTensors;
    result = await augmentWithExits(model, train, test, { epochs: 2 });
    expect(result.exits.length + result.dropped.length).toBe(6);
    expect(result.exits.length).toBeGreaterThanOrEqual(3);
    for (const e of result.exits) {
      expect(e.accuracy).toBeGreaterThan(0.15);
      expect(e.branchMacs).toBeGreaterThan(0);
      expect(e.branchMacs).toBeLessThan(result.finalSegmentMacs);
    }
    // Deeper exits see more of the network.
    expect(result.exits[result.exits.length - 1].accuracy).toBeGreaterThan(result.exits[0].accuracy);
    expect(result.finalAccuracy).toBeGreaterThan(0.95);
    const segments = result.exits.reduce((s, e) => s + e.segmentMacs, 0) + result.finalSegmentMacs;
    expect(segments).toBe(totalMacs(describeLayers(model)));
    expect(model.getWeights().map((w) => Array.from(w.dataSync().slice(0, 8)))).toEqual(weights);
    // Only the branches' own weights remain.
    const branchTensors = result.exits.reduce((s, e) => s + e.model.weights.length, 0);
    expect(tf.memory().numTensors).toBe(tensors + branchTensors);
  }, 240_000);

  it('profiles each exit’s segment and branch for the hardware mapping', () => {
    const profiles = segmentProfiles(model, result);
    expect(profiles).toHaveLength(result.exits.length + 1);
    expect(profiles.reduce((s, p) => s + p.macs, 0)).toBe(totalMacs(describeLayers(model)));
    profiles.slice(0, -1).forEach((p, k) => expect(p.macs).toBe(result.exits[k].segmentMacs));
    // 8-bit: one byte per weight.
    expect(profiles.reduce((s, p) => s + p.weightBytes, 0)).toBe(model.countParams());
    profiles.slice(0, -1).forEach((p, k) => expect(p.branchWeightBytes).toBe(result.exits[k].model.countParams()));
    expect(profiles[profiles.length - 1].outputBytes).toBe(10);
    expect(profiles.flatMap((p) => p.layerTypes)).toContain('DepthwiseConv2D');
  });

  it('records a digit video through every exit as a replay whose final exit is the model itself', async () => {
    const digits = await loadDigitsFromDisk();
    const video = digitVideo(sliceDigits(digits, 'test'), { frames: 300, seed: 2 });
    const x = tf.tensor4d(video.pixels, [video.frames, video.height, video.width, 1]);
    const tensors = tf.memory().numTensors;
    const data = await recordReplay(model, result, [{ name: 'digit video', x, labels: video.labels }]);
    expect(tf.memory().numTensors).toBe(tensors);
    // The file form validates.
    const back = parseReplay(JSON.parse(JSON.stringify(replayToJson(data))));
    expect(back.exits).toHaveLength(result.exits.length + 1);
    expect(back.streams[0].frames).toHaveLength(300);
    // The last row is the model's own prediction (its logits before softmax).
    const predicted = tf.tidy(() => Array.from(tf.argMax(model.predict(x) as tf.Tensor, 1).dataSync()));
    const r = prepareReplay(back);
    const K = r.exitCount;
    expect(Array.from({ length: 300 }, (_, t) => r.streams[0].argmax[t * K + K - 1])).toEqual(predicted);
    const single = finalOnly(r);
    expect(single.accuracy).toBeGreaterThan(0.8);
    // On a correlated stream, difference detection answers most frames early.
    const dd = replay(r, { mechanism: 'difference', threshold: 4, exit: 0, reference: 'last-full' });
    expect(dd.relativeCost).toBeLessThan(1);
    x.dispose();
  }, 120_000);
});
