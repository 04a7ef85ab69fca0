// Threshold sweeps: every mechanism over a grid of thresholds spread by the quantiles of the
// statistic it compares (so every step changes some decision), the (relative cost, accuracy)
// curves, their Pareto front, and the calibrated choices a user picks from.
import { quantileSorted } from 'simple-statistics';
import { availableMechanisms, replay, type Mechanism, type MechanismSettings, type PreparedReplay, type ReplayOutcome } from './replay';

export interface SweepPoint extends ReplayOutcome {
  settings: MechanismSettings;
}

export interface SweepOptions {
  /** Thresholds per threshold mechanism. */
  steps?: number;
  mechanisms?: Mechanism[];
  /** Difference: the exit compared (0-based) and the reference. */
  exit?: number;
  reference?: 'last-full' | 'previous';
}

export interface Calibration {
  /** Pareto point with the most accuracy per unit of relative cost. */
  bestRatio: SweepPoint | null;
  /** Cheapest point whose accuracy is at least the floor. */
  cheapestAbove: SweepPoint | null;
  /** Most accurate point whose relative cost is at most the cap. */
  mostAccurateUnder: SweepPoint | null;
}

/** Values of a statistic over (frame, exit) for the exits that can fire: the grid follows them. */
function statistic(r: PreparedReplay, pick: (s: PreparedReplay['streams'][number], i: number) => number, exits: number[]): number[] {
  const out: number[] = [];
  const K = r.exitCount;
  for (const s of r.streams) for (let t = 0; t < s.frames; t++) for (const k of exits) out.push(pick(s, t * K + k));
  return out;
}

/** Distances between consecutive frames' logits at the given exits: the range DD/TP thresholds live in. */
function frameDistances(r: PreparedReplay, exits: number[]): number[] {
  const out: number[] = [];
  const K = r.exitCount;
  const C = r.classes;
  for (const s of r.streams)
    for (let t = 1; t < s.frames; t++)
      for (const k of exits) {
        let d = 0;
        for (let c = 0; c < C; c++) {
          const x = s.logits[(t * K + k) * C + c] - s.logits[((t - 1) * K + k) * C + c];
          d += x * x;
        }
        out.push(Math.sqrt(d));
      }
  return out;
}

/** Distances between consecutive frames' recorded block features. */
function featureDistances(r: PreparedReplay): number[] {
  const out: number[] = [];
  const D = r.featureDim;
  for (const s of r.streams) {
    const f = s.features as Float64Array;
    for (let t = 1; t < s.frames; t++) {
      let d = 0;
      for (let i = 0; i < D; i++) {
        const x = f[t * D + i] - f[(t - 1) * D + i];
        d += x * x;
      }
      out.push(Math.sqrt(d));
    }
  }
  return out;
}

/** `steps` thresholds at evenly spaced quantiles of `values` (deduplicated, ascending). */
export function quantileGrid(values: number[], steps: number): number[] {
  if (values.length === 0) return [];
  const sorted = Array.from(Float64Array.from(values).sort());
  const grid = new Set<number>();
  for (let i = 0; i < steps; i++) grid.add(quantileSorted(sorted, steps === 1 ? 0.5 : i / (steps - 1)));
  return [...grid].sort((a, b) => a - b);
}

export function thresholdsFor(r: PreparedReplay, mechanism: Mechanism, steps: number, exit = 0): MechanismSettings[] {
  const early = Array.from({ length: r.exitCount - 1 }, (_, k) => k);
  switch (mechanism) {
    case 'confidence':
      return quantileGrid(statistic(r, (s, i) => s.confidence[i], early), steps).map((threshold) => ({ mechanism, threshold }));
    case 'entropy':
      return quantileGrid(statistic(r, (s, i) => s.entropy[i], early), steps).map((threshold) => ({ mechanism, threshold }));
    case 'margin':
      return quantileGrid(statistic(r, (s, i) => s.margin[i], early), steps).map((threshold) => ({ mechanism, threshold }));
    case 'patience':
      return Array.from({ length: Math.max(r.exitCount - 1, 1) }, (_, n) => ({ mechanism, patience: n }));
    case 'difference':
      return [...quantileGrid(frameDistances(r, [exit]), steps), Infinity].map((threshold) => ({ mechanism, threshold, exit }));
    case 'temporal-patience':
      return [...quantileGrid(frameDistances(r, early.length ? early : [r.exitCount - 1]), steps), Infinity].map((threshold) => ({ mechanism, threshold }));
    case 'feature-difference':
      return r.featureDim > 0 ? [...quantileGrid(featureDistances(r), steps), Infinity].map((threshold) => ({ mechanism, threshold })) : [];
  }
}

/** Curves for the mechanisms asked for that the replay can evaluate (feature-difference needs features). */
export function sweep(r: PreparedReplay, options: SweepOptions = {}): Partial<Record<Mechanism, SweepPoint[]>> {
  const { steps = 100, mechanisms = availableMechanisms(r), exit = 0, reference = 'last-full' } = options;
  const out: Partial<Record<Mechanism, SweepPoint[]>> = {};
  for (const m of mechanisms) {
    if (!availableMechanisms(r).includes(m)) continue;
    out[m] = thresholdsFor(r, m, steps, exit).map((settings) => {
      const s = m === 'difference' || m === 'feature-difference' ? { ...settings, reference } : settings;
      return { ...replay(r, s), settings: s };
    });
  }
  return out;
}

/** Points no other point beats on both cost (lower) and accuracy (higher), cheapest first. */
export function paretoFront<T extends { relativeCost: number; accuracy: number }>(points: T[]): T[] {
  const sorted = [...points].sort((a, b) => a.relativeCost - b.relativeCost || b.accuracy - a.accuracy);
  const front: T[] = [];
  let best = -Infinity;
  for (const p of sorted) {
    if (p.accuracy > best) {
      front.push(p);
      best = p.accuracy;
    }
  }
  return front;
}

export function calibrate(points: SweepPoint[], { accuracyFloor, costCap }: { accuracyFloor: number; costCap: number }): Calibration {
  const front = paretoFront(points);
  const above = front.filter((p) => p.accuracy >= accuracyFloor);
  const under = front.filter((p) => p.relativeCost <= costCap);
  return {
    bestRatio: front.reduce<SweepPoint | null>((b, p) => (!b || p.accuracy / p.relativeCost > b.accuracy / b.relativeCost ? p : b), null),
    cheapestAbove: above[0] ?? null,
    mostAccurateUnder: under[under.length - 1] ?? null,
  };
}
