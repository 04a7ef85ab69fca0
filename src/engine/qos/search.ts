// Operating-point search (algorithms.md §3): N quality-of-service points that share K multiplier
// instances. Each (layer, point) is described by how far every multiplier's predicted error exceeds
// the layer's tolerance at that point's scale; k-means groups the (layer, point) pairs into K
// clusters and each cluster gets the cheapest multiplier its centroid tolerates, so the chip needs
// K instances however many points there are.
import { kmeans } from 'ml-kmeans';
import type { Candidate, ErrorPair } from '../noise/mapping';

export interface QosLayer {
  name: string;
  opsShare: number;
  /** Tolerated output error std σ_tol in integer output units (σ·std(Y)). */
  sigmaTol: number;
}

export interface QosSearchOptions {
  /** K: multiplier instances to keep. */
  instances?: number;
  /** One scale per operating point; a larger scale tolerates more error. */
  scales?: number[];
  seed?: number;
}

export interface OperatingPoint {
  scale: number;
  /** Multiplier id per layer. */
  assignment: Record<string, string>;
  /** Σ_l (ops_l/ops)·P_l/P_exact. */
  relativePower: number;
}

export interface QosSearchResult {
  /** Multiplier ids the points use, cheapest first (at most K). */
  instances: string[];
  /** Ordered from most accurate (least error tolerated) to cheapest. */
  points: OperatingPoint[];
  /** Multipliers that fit some (layer, point) and so took part in the clustering. */
  considered: string[];
  /** Per point, the layer-by-layer optimum (each layer's cheapest fitting multiplier), for comparison. */
  perLayerOptimal: { scale: number; relativePower: number; assignment: Record<string, string> }[];
  /** Distinct multipliers the per-layer optima need over all points together. */
  perLayerOptimalInstances: number;
}

export const DEFAULT_SCALES = [0.3, 1, 2];
export const DEFAULT_INSTANCES = 4;

/** Scales for n points: the defaults for three, else spread geometrically over the same range. */
export function defaultScales(points: number): number[] {
  if (!Number.isInteger(points) || points < 1) throw new Error(`the number of operating points must be a whole number ≥ 1 (got ${points})`);
  if (points === 3) return [...DEFAULT_SCALES];
  if (points === 1) return [1];
  const [lo, hi] = [DEFAULT_SCALES[0], DEFAULT_SCALES[DEFAULT_SCALES.length - 1]];
  return Array.from({ length: points }, (_, i) => Number((lo * (hi / lo) ** (i / (points - 1))).toPrecision(3)));
}

/** Ratios above this are "never fits" for every purpose; it keeps k-means away from Infinity. */
const RATIO_CAP = 1e6;

/** 1 + ln r for r ≥ 1: a multiplier far outside the tolerance should not dominate the distances. */
const compress = (r: number) => (r >= 1 ? 1 + Math.log(Math.min(r, RATIO_CAP)) : r);

export function searchOperatingPoints(layers: QosLayer[], pairs: ErrorPair[], candidates: Candidate[], options: QosSearchOptions = {}): QosSearchResult {
  const { instances = DEFAULT_INSTANCES, scales = DEFAULT_SCALES, seed = 1 } = options;
  if (!Number.isInteger(instances) || instances < 1) throw new Error(`the number of multiplier instances must be a whole number ≥ 1 (got ${instances})`);
  if (scales.length === 0 || scales.some((s) => !(s > 0) || !Number.isFinite(s))) throw new Error(`operating-point scales must be positive numbers (got ${scales.join(', ')})`);
  if (layers.length === 0) throw new Error('the model has no multiply layers');
  const exact = candidates.find((c) => c.exact);
  if (!exact) throw new Error('the candidates need the exact multiplier');
  const predicted = new Map(pairs.map((p) => [`${p.layer}\u0000${p.multiplier}`, p.predicted]));
  const sigmaHat = (layer: string, c: Candidate) => {
    if (c.exact) return 0;
    const v = predicted.get(`${layer}\u0000${c.id}`);
    if (v === undefined) throw new Error(`no predicted error for layer ${layer} and multiplier ${c.id}`);
    return v;
  };
  const ratio = (l: QosLayer, c: Candidate, scale: number) => {
    const s = sigmaHat(l.name, c);
    if (s === 0) return 0;
    const tol = scale * l.sigmaTol;
    return tol > 0 ? Math.min(s / tol, RATIO_CAP) : RATIO_CAP;
  };
  // Multipliers that fit nowhere can never be chosen: leave them out of the distances.
  const kept = candidates.filter((c) => layers.some((l) => scales.some((s) => ratio(l, c, s) <= 1)));
  const order = [...scales.keys()].sort((a, b) => scales[a] - scales[b]);
  const rows: { layer: number; point: number; vector: number[] }[] = [];
  for (const p of order) for (const [li, l] of layers.entries()) rows.push({ layer: li, point: p, vector: kept.map((c) => compress(ratio(l, c, scales[p]))) });
  const distinct = new Set(rows.map((r) => r.vector.join(','))).size;
  const k = Math.min(instances, distinct);
  const { clusters, centroids } =
    k === rows.length || k === 1
      ? { clusters: k === 1 ? rows.map(() => 0) : rows.map((_, i) => i), centroids: k === 1 ? [mean(rows.map((r) => r.vector))] : rows.map((r) => r.vector) }
      : kmeans(
          rows.map((r) => r.vector),
          k,
          { seed, initialization: 'kmeans++', maxIterations: 200 },
        );
  // The cheapest multiplier each centroid tolerates (the exact one, ratio 0, always qualifies).
  const byPower = kept.map((c, i) => ({ c, i })).sort((a, b) => a.c.relativePower - b.c.relativePower || a.c.name.localeCompare(b.c.name));
  const choice = centroids.map((centroid) => (byPower.find(({ i }) => centroid[i] <= 1) ?? { c: exact }).c);
  const assignments = scales.map(() => ({}) as Record<string, string>);
  rows.forEach((r, i) => (assignments[r.point][layers[r.layer].name] = choice[clusters[i]].id));
  const power = new Map(candidates.map((c) => [c.id, c.relativePower]));
  const powerOf = (a: Record<string, string>) => layers.reduce((s, l) => s + l.opsShare * power.get(a[l.name])!, 0);
  const points = order.map((p) => ({ scale: scales[p], assignment: assignments[p], relativePower: powerOf(assignments[p]) }));
  const used = new Set(points.flatMap((p) => Object.values(p.assignment)));
  const perLayerOptimal = order.map((p) => {
    const assignment = Object.fromEntries(layers.map((l) => [l.name, (byPower.find(({ c }) => ratio(l, c, scales[p]) <= 1) ?? { c: exact }).c.id]));
    return { scale: scales[p], relativePower: powerOf(assignment), assignment };
  });
  return {
    instances: [...used].sort((a, b) => power.get(a)! - power.get(b)! || a.localeCompare(b)),
    // Most accurate first: by power, dearest first (scales ascending give the same order unless clustering reorders).
    points: [...points].sort((a, b) => b.relativePower - a.relativePower || a.scale - b.scale),
    considered: kept.map((c) => c.id),
    perLayerOptimal,
    perLayerOptimalInstances: new Set(perLayerOptimal.flatMap((p) => Object.values(p.assignment))).size,
  };
}

function mean(vectors: number[][]): number[] {
  return vectors[0].map((_, j) => vectors.reduce((s, v) => s + v[j], 0) / vectors.length);
}
