// Recording a stream through an early-exit network: every exit's raw logits on every frame, once,
// as a replay (the decision mechanisms are then replayed on it in plain TypeScript).
import * as tf from '@tensorflow/tfjs';
import { yieldToEventLoop } from '../util/yield';
import { backboneOutputs, type AugmentResult } from './augment';
import type { ReplayData, ReplayFrame } from './replay-file';

export interface RecordedStream {
  name: string;
  /** [frames, ...model input shape], values as the model takes them. */
  x: tf.Tensor;
  labels: ArrayLike<number>;
}

export async function recordReplay(model: tf.LayersModel, augmented: AugmentResult, streams: RecordedStream[], batch = 256): Promise<ReplayData> {
  const taps = augmented.exits.map((e) => ({ layer: e.layer, plan: e.plan }));
  const classes = (model.outputs[0].shape[1] as number) ?? 0;
  const out: ReplayData['streams'] = [];
  for (const s of streams) {
    const frames: ReplayFrame[] = [];
    const n = s.x.shape[0];
    for (let start = 0; start < n; start += batch) {
      const size = Math.min(batch, n - start);
      const rows = tf.tidy(() => {
        const xb = s.x.slice(start, size);
        const { features, logits } = backboneOutputs(model, xb, taps);
        const perExit = augmented.exits.map((e, i) => e.model.predict(features[i]) as tf.Tensor2D);
        return tf.stack([...perExit, logits], 1); // [size, exits, classes]
      });
      const values = (await rows.array()) as number[][][];
      rows.dispose();
      values.forEach((logits, i) => frames.push({ label: s.labels[start + i], logits }));
      await yieldToEventLoop();
    }
    out.push({ name: s.name, frames });
  }
  return {
    classes,
    exits: [
      ...augmented.exits.map((e) => ({ name: `exit after ${e.layer}`, segmentMacs: e.segmentMacs, branchMacs: e.branchMacs })),
      { name: 'final', segmentMacs: augmented.finalSegmentMacs, branchMacs: 0 },
    ],
    streams: out,
  };
}
