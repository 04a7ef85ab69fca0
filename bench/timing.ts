import type * as tf from '@tensorflow/tfjs';

/** Median wall time of `runs` calls after one warm-up call (first calls compile and allocate). */
export async function median(runs: number, f: () => Promise<unknown>): Promise<number> {
  await f();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await f();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

/** The middle value (the upper of the two middle ones for an even count). */
export const middle = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Wall time of one call of `f`, until its output's values are ready; the output is disposed. */
export async function timeOnce(f: () => tf.Tensor): Promise<number> {
  const t0 = performance.now();
  const y = f();
  await y.data();
  y.dispose();
  return performance.now() - t0;
}
