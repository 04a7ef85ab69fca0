import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from './backend/node';
import { Session } from './session';
import { nodeHost } from './host-node';
import { invalidUploads, validUpload } from '../../e2e/fixtures';
import { MODELS_DIR } from './models/io-node';
import { replayToJson } from './exits/replay-file';
import { syntheticReplay } from './exits/testing';
import { artifactsToFiles, modelToArtifacts } from './models/io';
import { kwsNet } from './models/kws-net';

beforeAll(() => initNodeBackend('wasm'));

const asNamedBytes = (files: { name: string; buffer: Buffer }[]) =>
  files.map((f) => ({ name: f.name, bytes: f.buffer.buffer.slice(f.buffer.byteOffset, f.buffer.byteOffset + f.buffer.byteLength) as ArrayBuffer }));

describe('Session', () => {
  it('opens the shipped LeNet and measures the accuracy the zoo script recorded', async () => {
    const session = new Session(nodeHost());
    const summary = await session.open({ kind: 'zoo', name: 'lenet' });
    expect(summary.layers.map((l) => l.name)).toContain('conv2');
    const zoo = JSON.parse(await readFile(`${MODELS_DIR}/zoo.json`, 'utf8'));
    const recorded = zoo.models.find((m: { name: string }) => m.name === 'lenet').test_accuracy;
    const { accuracy, count } = await session.evaluate();
    expect(count).toBe(2000);
    expect(accuracy).toBeGreaterThanOrEqual(0.97);
    expect(Math.abs(accuracy - recorded)).toBeLessThan(0.002);
  });

  it('lets the last of two overlapping opens win, whatever order they finish in', async () => {
    const session = new Session(nodeHost());
    const [first, second] = await Promise.allSettled([session.open({ kind: 'zoo', name: 'resnet' }), session.open({ kind: 'zoo', name: 'lenet' })]);
    expect(second.status).toBe('fulfilled');
    expect(first.status === 'rejected' ? (first.reason as Error).name : 'fulfilled-earlier').toMatch(/SupersededError|fulfilled-earlier/);
    expect(session.current()?.name).toBe('lenet');
  });

  it('keeps the tensor count stable across repeated calls', async () => {
    const session = new Session(nodeHost());
    await session.open({ kind: 'zoo', name: 'lenet' });
    await session.evaluate();
    await session.samples(8);
    const before = session.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      await session.open({ kind: 'zoo', name: 'lenet' });
      await session.evaluate();
      await session.samples(8);
    }
    await session.train({ epochs: 1, batchSize: 64, learningRate: 1e-4, trainLimit: 128 });
    expect(session.memory().numTensors).toBe(before);
  });

  it('trains, and stops promptly when cancelled, keeping usable weights', async () => {
    const session = new Session(nodeHost());
    await session.open({ kind: 'zoo', name: 'lenet' });
    let cancelledAt = 0;
    const result = await session.train({ epochs: 5, batchSize: 32, learningRate: 1e-4 }, (p) => {
      if (p.step >= 5 && !cancelledAt) {
        cancelledAt = performance.now();
        expect(session.cancelTraining()).toBe(true);
      }
    });
    const latency = performance.now() - cancelledAt;
    expect(result.cancelled).toBe(true);
    expect(result.epochsCompleted).toBe(0);
    expect(result.stepsCompleted).toBeLessThan(50);
    expect(result.test.accuracy).toBeGreaterThan(0.9);
    // the final evaluation is included in this latency
    expect(latency).toBeLessThan(3000);
    expect(session.cancelTraining()).toBe(false);
  });

  it('imports a valid model, stores it, and reopens it from storage', async () => {
    const host = nodeHost();
    const session = new Session(host);
    const { meta, summary } = await session.importModel(asNamedBytes(validUpload()));
    expect(summary.source).toEqual({ kind: 'user', id: meta.id });
    expect(meta.params).toBe(61706);
    expect(await session.listUserModels()).toEqual([meta]);
    const again = new Session(host);
    await again.open({ kind: 'user', id: meta.id });
    expect((await again.evaluate()).accuracy).toBeGreaterThanOrEqual(0.97);
    await again.deleteUserModel(meta.id);
    expect(await again.listUserModels()).toEqual([]);
  });

  it('keeps trained weights as a user model that reopens with the same accuracy', async () => {
    const host = nodeHost();
    const session = new Session(host);
    await session.open({ kind: 'zoo', name: 'lenet' });
    await session.train({ epochs: 1, batchSize: 64, learningRate: 5e-3, trainLimit: 256, seed: 9 });
    const trained = await session.evaluate();
    const { meta, summary } = await session.keepCurrentModel('lenet, fine-tuned');
    expect(summary.source).toEqual({ kind: 'user', id: meta.id });
    const again = new Session(host);
    await again.open({ kind: 'user', id: meta.id });
    expect((await again.evaluate()).accuracy).toBe(trained.accuracy);
  });

  it('evaluates multipliers per layer, retrains through them, and leaks nothing', async () => {
    const session = new Session(nodeHost());
    const summary = await session.open({ kind: 'zoo', name: 'lenet' });
    const all = (id: string) => Object.fromEntries(['conv1', 'conv2', 'fc1', 'fc2', 'fc3'].map((n) => [n, id]));
    const exact = await session.evaluateApprox({});
    expect(exact.relativeEnergy).toBeCloseTo(1, 9);
    expect(exact.accuracy).toBe(exact.quantisedAccuracy);
    expect(Math.abs(exact.floatAccuracy - exact.quantisedAccuracy)).toBeLessThanOrEqual(0.01);
    const coarse = await session.evaluateApprox(all('tm-2'));
    // The baselines do not depend on the assignment: measured once, reused.
    expect([coarse.quantisedAccuracy, coarse.floatAccuracy]).toEqual([exact.quantisedAccuracy, exact.floatAccuracy]);
    expect((await session.evaluateApprox(all('tm-2'), { limit: 100 })).count).toBe(100);
    const tensors = session.memory().numTensors;
    await session.evaluateApprox(all('tm-2'));
    expect(session.memory().numTensors).toBe(tensors);
    expect(coarse.relativeEnergy).toBeCloseTo(0.4733, 3);
    expect(coarse.layers.map((l) => l.share).reduce((a, b) => a + b)).toBeCloseTo(1, 6);
    expect(coarse.accuracy).toBeLessThan(coarse.quantisedAccuracy - 0.05);
    // Only the first layer approximate: energy falls by its share of the multiplications.
    const first = await session.evaluateApprox({ conv1: 'tm-2' });
    const conv1Share = summary.layers.find((l) => l.name === 'conv1')!.macs / summary.macs;
    expect(first.relativeEnergy).toBeCloseTo(1 - conv1Share * (1 - 0.4733), 3);
    await session.retrainApprox(all('tm-2'), { epochs: 1, batchSize: 64, learningRate: 1e-3, trainLimit: 512 });
    const retrained = await session.evaluateApprox(all('tm-2'));
    expect(retrained.accuracy).toBeGreaterThan(coarse.accuracy + 0.03);
    await session.evaluateApprox(all('tm-2'));
    // The same kernels are cached again (re-made from the retrained weights): nothing else stays.
    expect(session.memory().numTensors).toBe(tensors);
  });

  it('re-measures BatchNorm through the multipliers before measuring, and leaves the model as it was', async () => {
    const session = new Session(nodeHost());
    const summary = await session.open({ kind: 'zoo', name: 'mobilenet' });
    const all = Object.fromEntries(summary.layers.filter((l) => ['Conv2D', 'DepthwiseConv2D', 'Dense'].includes(l.type)).map((l) => [l.name, 'bam-3-7']));
    const floatBefore = await session.evaluate();
    const kept = await session.evaluateApprox(all, { limit: 300, batchNormSamples: 0 });
    const remeasured = await session.evaluateApprox(all, { limit: 300, batchNormSamples: 256 });
    expect([kept.batchNormSamples, remeasured.batchNormSamples]).toEqual([0, 256]);
    // Against the statistics of exact products the multiplier's shifted channel means read as ruin.
    expect(kept.accuracy).toBeLessThan(remeasured.quantisedAccuracy - 0.2);
    expect(remeasured.accuracy).toBeGreaterThan(remeasured.quantisedAccuracy - 0.03);
    // Exact multipliers everywhere: nothing to re-measure.
    expect((await session.evaluateApprox({}, { limit: 300 })).batchNormSamples).toBe(0);
    const tensors = session.memory().numTensors;
    await session.evaluateApprox(all, { limit: 300, batchNormSamples: 256 });
    expect(session.memory().numTensors).toBe(tensors);
    // The model's own statistics were never touched: float accuracy is unchanged to the digit.
    expect((await session.evaluate()).accuracy).toBe(floatBefore.accuracy);
  });

  it('scores the weights before retraining with BatchNorm measured through the multipliers, as after it', async () => {
    const session = new Session(nodeHost());
    const summary = await session.open({ kind: 'zoo', name: 'mobilenet' });
    const all = Object.fromEntries(summary.layers.filter((l) => ['Conv2D', 'DepthwiseConv2D', 'Dense'].includes(l.type)).map((l) => [l.name, 'bam-3-7']));
    // A rate too small to move anything: before and after must read alike on the held-out digits.
    const { selection } = await session.retrainApprox(all, { epochs: 1, batchSize: 64, learningRate: 1e-12, trainLimit: 128, validationLimit: 300 });
    expect(selection!.samples).toBe(300);
    const [before, after] = selection!.accuracies;
    // With the model's own statistics BAM(3,7) reads below 40 % here (the test above).
    expect(before).toBeGreaterThan(0.9);
    expect(Math.abs(before - after)).toBeLessThanOrEqual(0.01);
  });

  for (const bad of invalidUploads) {
    it(`rejects an upload with ${bad.name}, naming the problem and changing nothing`, async () => {
      const host = nodeHost();
      const session = new Session(host);
      const opened = await session.open({ kind: 'zoo', name: 'lenet' });
      await expect(session.importModel(asNamedBytes(bad.files))).rejects.toThrow(bad.message);
      expect(session.current()).toBe(opened);
      expect(host.storage.map.size).toBe(0);
    });
  }

  it('keeps the last replay for the next visit and replays any setting frame by frame', async () => {
    const host = nodeHost();
    const session = new Session(host);
    const text = JSON.stringify(replayToJson(syntheticReplay(400, 5, 10, 8)));
    const summary = await session.importReplay(text, 'walk.json');
    expect(summary.mechanisms).toContain('feature-difference');
    expect(summary.stats).toHaveLength(4);
    expect(summary.streams).toEqual([{ name: 'stream 1', frames: 400 }]);
    expect(session.exitPictureRange(0, 10)).toBeNull();
    const sweep = session.sweepExits({ steps: 10 });
    const point = sweep.curves.difference![4];
    const trace = session.exitTrace(point.settings);
    expect(trace.accuracy).toBe(point.accuracy);
    expect(trace.meanMacs).toBeCloseTo(point.meanMacs, 9);
    expect(trace.confidence).toHaveLength(400);

    // A bad file changes nothing, here or in storage.
    await expect(session.importReplay('{"classes": 2}', 'bad.json')).rejects.toThrow(/exits/);
    const later = new Session(host);
    expect((await later.restoreExits())?.title).toBe('walk.json');
    expect(later.exitTrace(point.settings).exit).toEqual(trace.exit);
    expect(await new Session(nodeHost()).restoreExits()).toBeNull();
  });

  it('measures accuracy against bits, keeps it for the next visit of that model only, and leaks nothing', async () => {
    const host = nodeHost();
    const session = new Session(host);
    await session.open({ kind: 'zoo', name: 'lenet' });
    await session.evaluate();
    const before = session.memory().numTensors;
    const request = { methods: ['st' as const, 'uniform' as const], bits: [2 as const], epochs: 1, trainLimit: 128, batchSize: 64 };
    const study = await session.quantisationStudy(request);
    expect(study.runs.map((r) => [r.method, r.bits, r.steps])).toEqual([
      ['st', 2, 2],
      ['uniform', 2, 2],
    ]);
    expect(study.trainCount).toBe(128);
    expect(study.testCount).toBe(2000);
    await session.quantisationStudy(request);
    expect(session.memory().numTensors).toBe(before);

    const later = new Session(host);
    await later.open({ kind: 'zoo', name: 'lenet' });
    expect((await later.restoreQuantisation())?.runs.map((r) => r.accuracy)).toEqual(study.runs.map((r) => r.accuracy));
    await later.open({ kind: 'zoo', name: 'resnet' });
    expect(await later.restoreQuantisation()).toBeNull();
  }, 120_000);

  it.each(['ecg', 'radar'])('opens the shipped %s model on its own data and measures what the zoo script recorded', async (name) => {
    const session = new Session(nodeHost());
    const summary = await session.open({ kind: 'zoo', name });
    expect(summary.task).toBe(name);
    const zoo = JSON.parse(await readFile(`${MODELS_DIR}/zoo.json`, 'utf8'));
    const recorded = zoo.models.find((m: { name: string }) => m.name === name).test_accuracy;
    expect(Math.abs((await session.evaluate()).accuracy - recorded)).toBeLessThan(0.002);
    const samples = await session.samples(6);
    expect(samples.display).toBe(name === 'ecg' ? 'waveform' : 'image');
    // Spread over the recording: more than one class among six samples.
    expect(new Set(samples.labels).size).toBeGreaterThan(1);
  });

  it('listens with a keyword model: Sinc pass bands, test clips, scores of one second of audio, no leaks', async () => {
    const session = new Session(nodeHost());
    const files = artifactsToFiles(await modelToArtifacts(kwsNet(3)));
    const { summary } = await session.importModel([
      { name: 'model.json', bytes: new TextEncoder().encode(files.modelJson).buffer as ArrayBuffer },
      { name: 'weights.bin', bytes: files.weights.slice().buffer as ArrayBuffer },
    ]);
    expect(summary.task).toBe('keywords');
    const bands = session.sincBands()!;
    expect(bands.initial).toHaveLength(40);
    // Untrained: the learned bands are still the mel-spaced start.
    bands.learned.forEach((b, i) => expect(b.lowHz).toBeCloseTo(bands.initial[i].lowHz, 1));
    const clip = session.testClip(5);
    expect(clip.samples).toHaveLength(16_000);
    const first = session.classifyAudio(clip.samples);
    const before = session.memory().numTensors;
    for (let i = 0; i < 3; i++) session.classifyAudio(clip.samples);
    expect(session.memory().numTensors).toBe(before);
    expect(first.scores).toHaveLength(12);
    expect(first.scores.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(() => session.classifyAudio(new Float32Array(100))).toThrow(/expected 16000 samples/);
  });
});
