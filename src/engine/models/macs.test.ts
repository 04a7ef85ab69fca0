import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../backend/node';
import { describeLayers, layerMacs, totalMacs } from './macs';
import { ZOO } from './zoo';
import { TASK_SHAPES } from '../data/tasks';

beforeAll(() => initNodeBackend('cpu'));

const single = (layer: tf.layers.Layer, inputShape: number[]) => {
  tf.sequential({ layers: [tf.layers.inputLayer({ inputShape }), layer] });
  return layerMacs(layer);
};

describe('MAC counting', () => {
  it('counts a same-padded convolution as H·W·Cout·k²·Cin', () => {
    expect(single(tf.layers.conv2d({ filters: 6, kernelSize: 5, padding: 'same' }), [28, 28, 1])).toBe(28 * 28 * 6 * 25 * 1);
  });
  it('counts a strided valid convolution on its output size', () => {
    // (10-3)/2+1 = 4 outputs per side
    expect(single(tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2 }), [10, 10, 4])).toBe(4 * 4 * 8 * 9 * 4);
  });
  it('counts a non-square kernel', () => {
    expect(single(tf.layers.conv2d({ filters: 2, kernelSize: [1, 3], padding: 'same' }), [5, 7, 3])).toBe(5 * 7 * 2 * 3 * 3);
  });
  it('counts a depthwise convolution once per output element and kernel tap', () => {
    expect(single(tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same' }), [14, 14, 32])).toBe(7 * 7 * 32 * 9);
    expect(single(tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same' }), [6, 6, 4])).toBe(6 * 6 * 8 * 9);
  });
  it('counts a dense layer as inputs × units', () => {
    expect(single(tf.layers.dense({ units: 120 }), [400])).toBe(48_000);
  });
  it('gives parameter-free layers zero MACs', () => {
    expect(single(tf.layers.maxPooling2d({ poolSize: 2 }), [28, 28, 6])).toBe(0);
    expect(single(tf.layers.batchNormalization({}), [28, 28, 6])).toBe(0);
  });
  it('sums LeNet-5 to its textbook count', () => {
    const model = ZOO[0].build(1);
    const layers = describeLayers(model);
    expect(layers.map((l) => l.name)).toEqual(['conv1', 'pool1', 'conv2', 'pool2', 'flatten', 'fc1', 'fc2', 'fc3']);
    expect(totalMacs(layers)).toBe(117_600 + 240_000 + 48_000 + 10_080 + 840);
    expect(layers.reduce((s, l) => s + l.params, 0)).toBe(model.countParams());
    model.dispose();
  });
  it('builds every zoo model with its task’s classes and counted multiplications', () => {
    for (const entry of ZOO) {
      const model = entry.build(1);
      expect(model.outputs[0].shape).toEqual([null, TASK_SHAPES[entry.task].classes]);
      expect(model.inputs[0].shape.slice(1)).toEqual(TASK_SHAPES[entry.task].sampleShape);
      const layers = describeLayers(model);
      expect(totalMacs(layers)).toBeGreaterThan(100_000);
      if (entry.name !== 'lenet') expect(layers.some((l) => l.type === 'BatchNormalization')).toBe(true);
      if (entry.name === 'mobilenet') expect(layers.some((l) => l.type === 'DepthwiseConv2D')).toBe(true);
      model.dispose();
    }
  });
});

describe('Sinc filters', () => {
  it('count one kernel-long window per output element', () => {
    const model = ZOO.find((e) => e.name === 'kws')!.build(1);
    const sinc = describeLayers(model).find((l) => l.name === 'sinc')!;
    // 40 filters × 1,988 outputs × 101 taps.
    expect(sinc.macs).toBe(40 * 1988 * 101);
    model.dispose();
  });
});
