// Build a zoo model from its seed and train it on its task: the zoo script and `qos-studio train`.
import * as tf from '@tensorflow/tfjs';
import type { Digits } from '../data/digits';
import { digitsTask, samplesToTensors, type Task } from '../data/tasks';
import { disposeBatchable, modelInputShape } from '../data/tensors';
import { settleBatchNorm } from './settle';
import { train, type TrainOptions, type TrainResult } from './train';

/**
 * Trains on the task's training split and tests on its test split. With `settle`, BatchNorm
 * statistics are measured afresh afterwards and the test accuracy is the one after.
 */
export async function trainOnTask(model: tf.LayersModel, task: Task, options: TrainOptions & { trainLimit?: number; settle?: boolean; beforeSettling?: () => Promise<void> }): Promise<TrainResult> {
  const shape = modelInputShape(model);
  const trainSet = samplesToTensors(task.split('train', options.trainLimit), shape, task.classes.length);
  const testSet = samplesToTensors(task.split('test'), shape, task.classes.length);
  try {
    const result = await train(model, trainSet, testSet, options);
    if (!options.settle) return result;
    await options.beforeSettling?.();
    const accuracy = await settleBatchNorm(model, trainSet, testSet);
    return { ...result, test: { ...result.test, accuracy } };
  } finally {
    disposeBatchable(trainSet);
    disposeBatchable(testSet);
  }
}

export function trainOnDigits(model: tf.LayersModel, digits: Digits, options: TrainOptions & { trainLimit?: number }): Promise<TrainResult> {
  return trainOnTask(model, digitsTask(digits), options);
}
