// Mapping an early-exit network onto processors in order (e.g. MCU → edge → cloud), algorithms.md
// §4: each processor runs a contiguous stretch of backbone segments ending at an exit, and a frame
// travels only as far as the exit that answers it. Every split is enumerated; a mapping is feasible
// when each processor supports all its layers, its weights fit its memory, and the worst-case
// latency (a frame that goes all the way) is within the limit. Mean latency and energy weigh each
// exit's path by how often frames end there (from a replay).
import type * as tf from '@tensorflow/tfjs';
import { layerMacs } from '../models/macs';
import type { AugmentResult } from './augment';

/** One exit's share of the network: the backbone segment that ends at it, and its branch. */
export interface SegmentProfile {
  name: string;
  macs: number;
  weightBytes: number;
  layerTypes: string[];
  branchMacs: number;
  branchWeightBytes: number;
  branchLayerTypes: string[];
  /** Activations handed to the next processor if the split is here. */
  outputBytes: number;
}

export interface Processor {
  name: string;
  macsPerSecond: number;
  memoryBytes: number;
  /** Layer class names it cannot run (e.g. 'DepthwiseConv2D'). */
  unsupported: string[];
  joulesPerMac: number;
}

/** Link i joins processor i and i + 1. */
export interface Link {
  bytesPerSecond: number;
  joulesPerByte: number;
}

export interface HardwareSpec {
  processors: Processor[];
  links: Link[];
  latencyLimitSeconds: number;
}

export interface HardwareMapping {
  /** For each processor, the exits (0-based, inclusive) it runs, or null when it runs none. */
  ranges: ([number, number] | null)[];
  feasible: boolean;
  /** Why not, when not feasible. */
  problems: string[];
  worstLatencySeconds: number;
  meanLatencySeconds: number;
  meanJoules: number;
  /** How it compares with the chosen mapping. */
  verdict?: string;
}

const weightBytes = (l: tf.layers.Layer, bytesPerWeight: number) => l.countParams() * bytesPerWeight;

/** Bytes of one input sample (what a processor after the sensor's would have to be sent). */
export const inputBytes = (model: tf.LayersModel, bytesPerValue = 1) => (model.inputs[0].shape.slice(1) as number[]).reduce((a, b) => a * b, 1) * bytesPerValue;

/**
 * Per exit: the layers of the backbone segment ending at it (the last one ends at the model's
 * output) and of its branch. Deployed 8-bit: one byte per weight and per activation by default.
 */
export function segmentProfiles(model: tf.LayersModel, augmented: AugmentResult, bytesPerValue = 1): SegmentProfile[] {
  const ends = augmented.exits.map((e) => model.layers.findIndex((l) => l.name === e.layer));
  const profiles: SegmentProfile[] = [];
  let start = 0;
  [...ends, model.layers.length - 1].forEach((end, k) => {
    const layers = model.layers.slice(start, end + 1).filter((l) => l.getClassName() !== 'InputLayer');
    const exit = augmented.exits[k];
    const out = (model.layers[end].outputShape as (number | null)[]).slice(1) as number[];
    profiles.push({
      name: exit ? `exit ${k + 1} (${exit.layer})` : 'final',
      macs: layers.reduce((s, l) => s + layerMacs(l), 0),
      weightBytes: layers.reduce((s, l) => s + weightBytes(l, bytesPerValue), 0),
      layerTypes: [...new Set(layers.map((l) => l.getClassName()))],
      branchMacs: exit ? exit.branchMacs : 0,
      branchWeightBytes: exit ? exit.model.layers.reduce((s, l) => s + weightBytes(l, bytesPerValue), 0) : 0,
      branchLayerTypes: exit ? [...new Set(exit.model.layers.map((l) => l.getClassName()))] : [],
      outputBytes: out.reduce((a, b) => a * b, 1) * bytesPerValue,
    });
    start = end + 1;
  });
  return profiles;
}

/** Every way to give each processor, in order, a contiguous (possibly empty) run of exits covering all. */
function splits(exits: number, processors: number): ([number, number] | null)[][] {
  const out: ([number, number] | null)[][] = [];
  const walk = (p: number, from: number, acc: ([number, number] | null)[]) => {
    if (p === processors - 1) {
      out.push([...acc, from < exits ? [from, exits - 1] : null]);
      return;
    }
    walk(p + 1, from, [...acc, null]);
    for (let end = from; end < exits; end++) walk(p + 1, end + 1, [...acc, [from, end]]);
  };
  walk(0, 0, []);
  return out.filter((s) => s.some((r) => r !== null) && s.flatMap((r) => (r ? [r[1]] : [])).pop() === exits - 1);
}

/**
 * All mappings of `profiles` onto `spec`, each with its feasibility, latencies and energy;
 * `rates[k]` is the share of frames answered at exit k. The best feasible mapping (least mean
 * energy, then least mean latency) comes first; every other one says why it loses.
 */
export function mapToHardware(profiles: SegmentProfile[], rates: number[], spec: HardwareSpec, inputBytes = 0): HardwareMapping[] {
  const K = profiles.length;
  const P = spec.processors.length;
  if (rates.length !== K) throw new Error(`termination rates: ${rates.length} given, expected ${K} (one per exit)`);
  if (spec.links.length !== P - 1) throw new Error(`links: ${spec.links.length} given, expected ${P - 1} between ${P} processors`);
  const total = rates.reduce((a, b) => a + b, 0);
  const share = rates.map((r) => r / (total || 1));
  const mappings: HardwareMapping[] = splits(K, P).map((ranges) => {
    const owner = new Array<number>(K);
    ranges.forEach((r, p) => {
      if (r) for (let k = r[0]; k <= r[1]; k++) owner[k] = p;
    });
    const problems: string[] = [];
    ranges.forEach((r, p) => {
      if (!r) return;
      const proc = spec.processors[p];
      const mine = profiles.slice(r[0], r[1] + 1);
      const types = new Set(mine.flatMap((s) => [...s.layerTypes, ...s.branchLayerTypes]));
      const refused = proc.unsupported.filter((t) => types.has(t));
      if (refused.length) problems.push(`${proc.name} cannot run ${refused.join(', ')}`);
      const bytes = mine.reduce((s, x) => s + x.weightBytes + x.branchWeightBytes, 0);
      if (bytes > proc.memoryBytes) problems.push(`${proc.name} needs ${bytes.toLocaleString('en')} bytes of weights, has ${proc.memoryBytes.toLocaleString('en')}`);
    });
    // A frame answered at exit k ran segments and branches 0..k (the final has no branch) and
    // crossed every link between the first processor and exit k's.
    const path = (k: number) => {
      let seconds = 0;
      let joules = 0;
      // The sensor sits at the first processor: skipping it means sending the input on.
      for (let l = 0; l < owner[0]; l++) {
        seconds += inputBytes / spec.links[l].bytesPerSecond;
        joules += inputBytes * spec.links[l].joulesPerByte;
      }
      for (let j = 0; j <= k; j++) {
        const proc = spec.processors[owner[j]];
        const macs = profiles[j].macs + (j < K - 1 ? profiles[j].branchMacs : 0);
        seconds += macs / proc.macsPerSecond;
        joules += macs * proc.joulesPerMac;
        if (j < k && owner[j + 1] !== owner[j])
          for (let l = owner[j]; l < owner[j + 1]; l++) {
            seconds += profiles[j].outputBytes / spec.links[l].bytesPerSecond;
            joules += profiles[j].outputBytes * spec.links[l].joulesPerByte;
          }
      }
      return { seconds, joules };
    };
    const paths = profiles.map((_, k) => path(k));
    const worst = paths[K - 1].seconds;
    if (worst > spec.latencyLimitSeconds) problems.push(`worst-case latency ${(worst * 1000).toFixed(2)} ms exceeds ${(spec.latencyLimitSeconds * 1000).toFixed(2)} ms`);
    return {
      ranges,
      feasible: problems.length === 0,
      problems,
      worstLatencySeconds: worst,
      meanLatencySeconds: paths.reduce((s, p, k) => s + share[k] * p.seconds, 0),
      meanJoules: paths.reduce((s, p, k) => s + share[k] * p.joules, 0),
    };
  });
  mappings.sort((a, b) => Number(b.feasible) - Number(a.feasible) || a.meanJoules - b.meanJoules || a.meanLatencySeconds - b.meanLatencySeconds);
  const best = mappings[0];
  for (const m of mappings.slice(1)) {
    m.verdict = !m.feasible
      ? `infeasible: ${m.problems.join('; ')}`
      : m.meanJoules > best.meanJoules
        ? `${((m.meanJoules / best.meanJoules - 1) * 100).toFixed(1)} % more energy per frame`
        : `same energy, ${((m.meanLatencySeconds / best.meanLatencySeconds - 1) * 100).toFixed(1)} % more mean latency`;
  }
  if (best) best.verdict = best.feasible ? 'chosen: least mean energy among the feasible mappings' : 'no mapping is feasible';
  return mappings;
}
