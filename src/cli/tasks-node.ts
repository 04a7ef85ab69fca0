// The data sets for the command line, read from public/data (digits, keywords, the MIT-BIH record)
// or generated from their seeds (ECG, radar).
import * as tf from '@tensorflow/tfjs';
import { loadDigitsFromDisk } from '../engine/data/digits-node';
import { loadKeywordsFromDisk } from '../engine/data/keywords-node';
import { digitsTask, ecgTask, keywordsTask, radarTask, samplesToTensors, taskFitting, type Task, type TaskName } from '../engine/data/tasks';
import { disposeBatchable, modelInputShape } from '../engine/data/tensors';

export async function loadTask(name: TaskName): Promise<Task> {
  switch (name) {
    case 'digits':
      return digitsTask(await loadDigitsFromDisk());
    case 'keywords':
      return keywordsTask(await loadKeywordsFromDisk());
    case 'ecg':
      return ecgTask();
    case 'radar':
      return radarTask();
  }
}

/** The model's own task (zoo models), else the first data set it fits. */
export function taskFor(model: tf.LayersModel, preferred?: string): Promise<Task> {
  return loadTask(taskFitting(model, preferred));
}

/** counts[label][prediction] on the task's test split, in batches. */
export async function confusionMatrix(model: tf.LayersModel, task: Task, batch = 256): Promise<number[][]> {
  const classes = task.classes.length;
  const counts = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  const test = samplesToTensors(task.split('test'), modelInputShape(model), classes);
  try {
    for (let start = 0; start < test.count; start += batch) {
      const size = Math.min(batch, test.count - start);
      const [predicted, labels] = tf.tidy(() => [tf.argMax(model.predict(test.x.slice(start, size)) as tf.Tensor, 1), tf.argMax(test.y.slice(start, size), 1)]);
      const [p, l] = [await predicted.data(), await labels.data()];
      tf.dispose([predicted, labels]);
      for (let i = 0; i < size; i++) counts[l[i]][p[i]]++;
    }
  } finally {
    disposeBatchable(test);
  }
  return counts;
}
