import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backend/node';
import { loadDigitsFromDisk } from './digits-node';
import { sliceDigits } from './digits';
import { sliceToTensors } from './tensors';
import { digitsTask, ecgTask, pictures, radarTask, samplesToTensors, sampleSize } from './tasks';

beforeAll(() => initNodeBackend('wasm'));

describe('tasks', () => {
  it('digits give exactly the tensors the digit loader gives', async () => {
    const digits = await loadDigitsFromDisk();
    const task = digitsTask(digits);
    const a = samplesToTensors(task.split('test', 64), [28, 28, 1], 10);
    const b = sliceToTensors(sliceDigits(digits, 'test', 64), [28, 28, 1], 10);
    expect(await a.x.data()).toEqual(await b.x.data());
    expect(await a.y.data()).toEqual(await b.y.data());
    tf.dispose([a.x, a.y, b.x, b.y]);
    const stream = task.stream(50, 3);
    expect(stream.count).toBe(50);
    expect(stream.values.length).toBe(50 * 784);
  });

  it.each([
    ['ecg', ecgTask, 2, [1, 256, 1]],
    ['radar', radarTask, 6, [32, 32, 1]],
  ] as const)('%s: seeded recordings, every class in the test split, streams of the asked length', (_, make, classes, shape) => {
    const [a, b] = [make(), make()];
    expect(a.classes).toHaveLength(classes);
    expect(a.sampleShape).toEqual(shape);
    const test = a.split('test');
    expect(Array.from(test.values.subarray(0, 500))).toEqual(Array.from(b.split('test').values.subarray(0, 500)));
    expect(new Set(test.labels).size).toBe(classes);
    expect(test.values.length).toBe(test.count * sampleSize(a));
    // A limit takes the head of the same recording.
    const head = a.split('test', 10);
    expect(head.count).toBe(10);
    expect(Array.from(head.labels)).toEqual(Array.from(test.labels.subarray(0, 10)));
    const stream = a.stream(300, 1);
    expect(stream.count).toBe(300);
    expect(stream.labels).toHaveLength(300);
    // Pictures fill the byte range: waveforms per sample, images on the data's own scale.
    const p = pictures(a, test, [0, 5]);
    expect(p.pixels.length).toBe(2 * sampleSize(a));
    expect(Math.max(...p.pixels)).toBeGreaterThan(128);
  });
});
