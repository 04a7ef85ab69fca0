// Build a zoo model from its seed and train it on the digit split: the zoo script and `qos-studio train`.
import * as tf from '@tensorflow/tfjs';
import type { Digits } from '../data/digits';
import { sliceDigits } from '../data/digits';
import { disposeBatchable, modelInputShape, sliceToTensors } from '../data/tensors';
import { train, type TrainOptions, type TrainResult } from './train';

export async function trainOnDigits(model: tf.LayersModel, digits: Digits, options: TrainOptions & { trainLimit?: number }): Promise<TrainResult> {
  const shape = modelInputShape(model);
  const trainSet = sliceToTensors(sliceDigits(digits, 'train', options.trainLimit), shape, digits.manifest.classes.length);
  const testSet = sliceToTensors(sliceDigits(digits, 'test'), shape, digits.manifest.classes.length);
  try {
    return await train(model, trainSet, testSet, options);
  } finally {
    disposeBatchable(trainSet);
    disposeBatchable(testSet);
  }
}
