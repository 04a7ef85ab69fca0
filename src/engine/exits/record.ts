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

/**
 * Records every exit's logits on every frame and, for feature-difference, the features of the first
 * exit's block averaged over space (the earliest, cheapest place to watch the input change).
 */
export async function recordReplay(model: tf.LayersModel, augmented: AugmentResult, streams: RecordedStream[], batch = 256): Promise<ReplayData> {
  const taps = augmented.exits.map((e) => ({ layer: e.layer, plan: e.plan }));
  const featureLayer = augmented.exits[0]?.layer;
  const classes = (model.outputs[0].shape[1] as number) ?? 0;
  const out: ReplayData['streams'] = [];
  for (const s of streams) {
    const frames: ReplayFrame[] = [];
    const n = s.x.shape[0];
    for (let start = 0; start < n; start += batch) {
      const size = Math.min(batch, n - start);
      const { rows, pooled } = tf.tidy(() => {
        const xb = s.x.slice(start, size);
        const { features, logits, pooled } = backboneOutputs(model, xb, taps, featureLayer);
        const perExit = augmented.exits.map((e, i) => e.model.predict(features[i]) as tf.Tensor2D);
        return { rows: tf.stack([...perExit, logits], 1), pooled: pooled ?? tf.zeros([0, 0]) }; // [size, exits, classes]
      });
      const values = (await rows.array()) as number[][][];
      const pooledValues = pooled.size > 0 ? ((await pooled.array()) as number[][]) : null;
      rows.dispose();
      pooled.dispose();
      values.forEach((logits, i) => frames.push({ label: s.labels[start + i], logits, ...(pooledValues ? { features: pooledValues[i] } : {}) }));
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
    ...(out.every((s) => s.frames.every((f) => f.features)) ? { featureExit: 0 } : {}),
  };
}

/** For unlabelled recordings: every frame's label becomes the final classifier's answer (accuracy = agreement with it). */
export function labelByFinalClassifier(data: ReplayData): void {
  for (const s of data.streams)
    for (const f of s.frames) {
      const final = f.logits[f.logits.length - 1];
      f.label = final.indexOf(Math.max(...final));
    }
}
