// What each exit does on its own on the replayed stream: how often it is right, and how sure it is
// when right and when wrong — the overlap of those two confidence histograms is what limits every
// confidence threshold.
import type { PreparedReplay } from './replay';

export interface ExitStreamStats {
  /** Share of frames whose argmax at this exit equals the label. */
  accuracy: number;
  /** Frames per confidence bin (max softmax, bins of equal width over [0, 1]), right and wrong apart. */
  correct: number[];
  wrong: number[];
}

export function exitStatistics(r: PreparedReplay, bins = 20): ExitStreamStats[] {
  const K = r.exitCount;
  return Array.from({ length: K }, (_, k) => {
    const correct = new Array<number>(bins).fill(0);
    const wrong = new Array<number>(bins).fill(0);
    let right = 0;
    let frames = 0;
    for (const s of r.streams)
      for (let t = 0; t < s.frames; t++) {
        const i = t * K + k;
        const bin = Math.min(bins - 1, Math.floor(s.confidence[i] * bins));
        frames++;
        if (s.argmax[i] === s.labels[t]) {
          right++;
          correct[bin]++;
        } else wrong[bin]++;
      }
    return { accuracy: right / frames, correct, wrong };
  });
}
