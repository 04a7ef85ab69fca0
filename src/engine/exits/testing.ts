// Synthetic replays for tests and benchmarks: a stream whose class holds for a while (a new one with
// probability 0.05 per frame), each deeper exit surer of it, logits with uniform noise.
import { mulberry32 } from '../util/random';
import type { ReplayData, ReplayFrame } from './replay-file';

/** With `features` > 0, every frame also carries that many block features that follow the class. */
export function syntheticReplay(frames: number, seed: number, classes = 10, features = 0): ReplayData {
  const random = mulberry32(seed);
  const exits = [
    { name: 'exit1', segmentMacs: 1000, branchMacs: 100 },
    { name: 'exit2', segmentMacs: 2000, branchMacs: 150 },
    { name: 'exit3', segmentMacs: 2000, branchMacs: 150 },
    { name: 'final', segmentMacs: 5000, branchMacs: 0 },
  ];
  let label = 0;
  const out: ReplayFrame[] = [];
  for (let t = 0; t < frames; t++) {
    if (random() < 0.05) label = Math.floor(random() * classes);
    const logits = exits.map((_, k) => Array.from({ length: classes }, (_, c) => (c === label ? 1 + k : 0) + (random() - 0.5) * 3));
    out.push(features > 0 ? { label, logits, features: Array.from({ length: features }, (_, i) => (i % classes === label ? 2 : 0) + (random() - 0.5)) } : { label, logits });
  }
  return { classes, exits, streams: [{ frames: out }], ...(features > 0 ? { featureExit: 0 } : {}) };
}
