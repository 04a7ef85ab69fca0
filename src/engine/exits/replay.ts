// Decision mechanisms for early-exit networks on streams, replayed on recorded exit outputs with
// the exact semantics of algorithms.md §4. Everything a mechanism looks at per (frame, exit) —
// softmax confidence, entropy, top-2 margin, argmax — is computed once in `prepareReplay`; a replay
// is then a loop over frames with no allocation, so sweeps over hundreds of thresholds stay fast.
import type { ReplayData } from './replay-file';

export type Mechanism = 'confidence' | 'entropy' | 'margin' | 'patience' | 'difference' | 'temporal-patience' | 'feature-difference';
export const MECHANISMS: Mechanism[] = ['confidence', 'entropy', 'margin', 'patience', 'difference', 'temporal-patience', 'feature-difference'];

/** The mechanisms a replay can evaluate: feature-difference needs recorded features. */
export function availableMechanisms(r: PreparedReplay): Mechanism[] {
  return MECHANISMS.filter((m) => m !== 'feature-difference' || r.featureDim > 0);
}

export interface MechanismSettings {
  mechanism: Mechanism;
  /** τ for every mechanism but patience. */
  threshold?: number;
  /** n for patience. */
  patience?: number;
  /** Difference: the exit whose logits are compared (0-based here; the command line counts from 1). Feature-difference always uses the recorded features' exit. */
  exit?: number;
  /** Difference and feature-difference: compare with the last full inference, or with the previous frame. */
  reference?: 'last-full' | 'previous';
}

export interface ReplayOutcome {
  accuracy: number;
  meanMacs: number;
  /** meanMacs ÷ Σ_j seg_j (the single-exit network's cost). */
  relativeCost: number;
  /** Frames answered at each exit; full inferences count at the final one. */
  exitCounts: number[];
  frames: number;
}

export interface PreparedStream {
  frames: number;
  labels: Int32Array;
  /** [frame][exit][class], raw logits. */
  logits: Float64Array;
  /** [frame][exit] */
  argmax: Int32Array;
  confidence: Float64Array;
  entropy: Float64Array;
  margin: Float64Array;
  /** [frame][featureDim]: pooled features of one block, when recorded. */
  features: Float64Array | null;
}

/**
 * What happened at every frame of a replay (all streams one after the other): which exit answered,
 * with what, at what cost, and the quantity the mechanism compared with its threshold.
 */
export interface ReplayTrace {
  exit: Int32Array;
  prediction: Int32Array;
  label: Int32Array;
  cost: Float64Array;
  /**
   * Distance to the reference for difference, feature-difference and temporal-patience (NaN where
   * none is compared: a stream's first frame, or temporal-patience monitoring the final exit);
   * the first exit's statistic for confidence, entropy and margin; the agreement counter where
   * patience stopped.
   */
  value: Float64Array;
  /** 1 where a new stream starts. */
  streamStart: Uint8Array;
}

export function emptyTrace(frames: number): ReplayTrace {
  return { exit: new Int32Array(frames), prediction: new Int32Array(frames), label: new Int32Array(frames), cost: new Float64Array(frames), value: new Float64Array(frames), streamStart: new Uint8Array(frames) };
}

export interface PreparedReplay {
  classes: number;
  exitCount: number;
  segment: Float64Array;
  branch: Float64Array;
  /** Σ_{j≤k} (seg_j + br_j): an early exit at k. */
  cumulative: Float64Array;
  /** Σ_{j≤k} seg_j. */
  segmentsTo: Float64Array;
  /** Σ_j seg_j: the single-exit network. */
  full: number;
  streams: PreparedStream[];
  /** Length of the recorded feature vectors (0: none) and the exit at whose block they were pooled. */
  featureDim: number;
  featureExit: number;
}

export function prepareReplay(data: ReplayData): PreparedReplay {
  const K = data.exits.length;
  const C = data.classes;
  const segment = Float64Array.from(data.exits, (e) => e.segmentMacs);
  const branch = Float64Array.from(data.exits, (e) => e.branchMacs);
  const cumulative = new Float64Array(K);
  const segmentsTo = new Float64Array(K);
  for (let k = 0, acc = 0, seg = 0; k < K; k++) {
    acc += segment[k] + branch[k];
    seg += segment[k];
    cumulative[k] = acc;
    segmentsTo[k] = seg;
  }
  const D = data.featureExit === undefined ? 0 : (data.streams[0]?.frames[0]?.features?.length ?? 0);
  const streams = data.streams.map((s): PreparedStream => {
    const T = s.frames.length;
    const features = D > 0 ? new Float64Array(T * D) : null;
    if (features) s.frames.forEach((f, t) => features.set(f.features as number[], t * D));
    const logits = new Float64Array(T * K * C);
    const argmax = new Int32Array(T * K);
    const confidence = new Float64Array(T * K);
    const entropy = new Float64Array(T * K);
    const margin = new Float64Array(T * K);
    const p = new Float64Array(C);
    s.frames.forEach((f, t) => {
      for (let k = 0; k < K; k++) {
        const row = f.logits[k];
        const base = (t * K + k) * C;
        let best = 0;
        let max = -Infinity;
        for (let c = 0; c < C; c++) {
          logits[base + c] = row[c];
          if (row[c] > max) {
            max = row[c];
            best = c;
          }
        }
        // Softmax shifted by the maximum: no overflow for large logits.
        let sum = 0;
        for (let c = 0; c < C; c++) sum += p[c] = Math.exp(row[c] - max);
        let h = 0;
        let top1 = 0;
        let top2 = 0;
        for (let c = 0; c < C; c++) {
          const q = p[c] / sum;
          if (q > 0) h -= q * Math.log(q);
          if (q > top1) {
            top2 = top1;
            top1 = q;
          } else if (q > top2) top2 = q;
        }
        argmax[t * K + k] = best;
        confidence[t * K + k] = top1;
        entropy[t * K + k] = h;
        margin[t * K + k] = top1 - top2;
      }
    });
    return { frames: T, labels: Int32Array.from(s.frames, (f) => f.label), logits, argmax, confidence, entropy, margin, features };
  });
  return { classes: C, exitCount: K, segment, branch, cumulative, segmentsTo, full: segmentsTo[K - 1], streams, featureDim: D, featureExit: D > 0 ? (data.featureExit as number) : -1 };
}

/** ‖o_k(t) − o_k(u)‖₂ over the logits of exit k. */
function distance(s: PreparedStream, K: number, C: number, k: number, t: number, u: number): number {
  const a = (t * K + k) * C;
  const b = (u * K + k) * C;
  let d = 0;
  for (let c = 0; c < C; c++) {
    const x = s.logits[a + c] - s.logits[b + c];
    d += x * x;
  }
  return Math.sqrt(d);
}

/** ‖f(t) − f(u)‖₂ over the recorded features. */
function featureDistance(f: Float64Array, D: number, t: number, u: number): number {
  let d = 0;
  for (let i = 0, a = t * D, b = u * D; i < D; i++) {
    const x = f[a + i] - f[b + i];
    d += x * x;
  }
  return Math.sqrt(d);
}

/** Replays one mechanism setting; with `trace` (sized for every frame of every stream) it also records each frame's decision. */
export function replay(r: PreparedReplay, settings: MechanismSettings, trace?: ReplayTrace): ReplayOutcome {
  const K = r.exitCount;
  const C = r.classes;
  const counts = new Array<number>(K).fill(0);
  let correct = 0;
  let macs = 0;
  let frames = 0;
  const { mechanism } = settings;
  const tau = settings.threshold ?? NaN;
  // ±Infinity is allowed: 'never' and 'always' are the ends of every sweep.
  if (mechanism !== 'patience' && Number.isNaN(tau)) throw new Error(`${mechanism} needs a threshold`);
  const n = settings.patience ?? NaN;
  if (mechanism === 'patience' && !(Number.isInteger(n) && n >= 0)) throw new Error('patience needs a whole number n ≥ 0');
  const e = settings.exit ?? 0;
  if (mechanism === 'difference' && !(Number.isInteger(e) && e >= 0 && e < K)) throw new Error(`difference: exit ${e + 1} does not exist (1–${K})`);
  if (mechanism === 'feature-difference' && r.featureDim === 0) throw new Error('feature-difference needs recorded features: this replay has none');
  const previous = settings.reference === 'previous';
  let offset = 0;
  const note = (t: number, exit: number, prediction: number, cost: number, value: number, label: number) => {
    if (!trace) return;
    const i = offset + t;
    trace.exit[i] = exit;
    trace.prediction[i] = prediction;
    trace.label[i] = label;
    trace.cost[i] = cost;
    trace.value[i] = value;
    trace.streamStart[i] = t === 0 ? 1 : 0;
  };

  for (const s of r.streams) {
    if (trace && trace.exit.length < offset + s.frames) throw new Error('trace: too few frames for this replay');
    frames += s.frames;
    if (mechanism === 'difference' || mechanism === 'feature-difference') {
      // Feature-difference watches pooled block features; its distance costs D MACs on every frame.
      const byFeatures = mechanism === 'feature-difference';
      const at = byFeatures ? r.featureExit : e;
      const D = r.featureDim;
      const extra = byFeatures ? D : r.branch[e];
      let stored = -1;
      let ref = -1;
      for (let t = 0; t < s.frames; t++) {
        const d = ref < 0 ? NaN : byFeatures ? featureDistance(s.features as Float64Array, D, t, ref) : distance(s, K, C, e, t, ref);
        const full = ref < 0 || d >= tau;
        let cost: number;
        if (full) {
          stored = s.argmax[t * K + K - 1];
          ref = t;
          cost = r.full + extra;
          counts[K - 1]++;
        } else {
          cost = r.segmentsTo[at] + extra;
          counts[at]++;
          if (previous) ref = t;
        }
        macs += cost;
        if (stored === s.labels[t]) correct++;
        note(t, full ? K - 1 : at, stored, cost, d, s.labels[t]);
      }
      offset += s.frames;
      continue;
    }
    if (mechanism === 'temporal-patience') {
      let stored = -1;
      let m = K - 1;
      let ref = -1;
      let monitored = -1;
      // A full inference evaluates every exit's branch, to choose the exit to monitor.
      const fullCost = r.full + r.cumulative[K - 1] - r.segmentsTo[K - 1];
      for (let t = 0; t < s.frames; t++) {
        let full = ref < 0 || m === K - 1;
        const d = full ? NaN : distance(s, K, C, m, t, ref);
        if (!full) full = d >= tau || s.argmax[t * K + m] !== monitored;
        const watched = m;
        if (full) {
          stored = s.argmax[t * K + K - 1];
          m = K - 1;
          for (let k = 0; k < K - 1; k++)
            if (s.argmax[t * K + k] === stored) {
              m = k;
              break;
            }
          ref = t;
          monitored = s.argmax[t * K + m];
          macs += fullCost;
          counts[K - 1]++;
          note(t, K - 1, stored, fullCost, d, s.labels[t]);
        } else {
          macs += r.segmentsTo[m] + r.branch[m];
          counts[m]++;
          note(t, watched, stored, r.segmentsTo[m] + r.branch[m], d, s.labels[t]);
        }
        if (stored === s.labels[t]) correct++;
      }
      offset += s.frames;
      continue;
    }
    // Per-frame mechanisms: evaluate exits in order and stop at the first that fires.
    for (let t = 0; t < s.frames; t++) {
      let at = K - 1;
      let c = 0;
      for (let k = 0; k < K - 1; k++) {
        const i = t * K + k;
        let fires: boolean;
        if (mechanism === 'confidence') fires = s.confidence[i] >= tau;
        else if (mechanism === 'entropy') fires = s.entropy[i] <= tau;
        else if (mechanism === 'margin') fires = s.margin[i] >= tau;
        else {
          if (k >= 1) c = s.argmax[i] === s.argmax[i - 1] ? c + 1 : 0;
          fires = c >= n;
        }
        if (fires) {
          at = k;
          break;
        }
      }
      macs += r.cumulative[at];
      counts[at]++;
      if (s.argmax[t * K + at] === s.labels[t]) correct++;
      if (trace) {
        const i = t * K;
        const value = mechanism === 'confidence' ? s.confidence[i] : mechanism === 'entropy' ? s.entropy[i] : mechanism === 'margin' ? s.margin[i] : c;
        note(t, at, s.argmax[i + at], r.cumulative[at], value, s.labels[t]);
      }
    }
    offset += s.frames;
  }
  const meanMacs = macs / frames;
  return { accuracy: correct / frames, meanMacs, relativeCost: meanMacs / r.full, exitCounts: counts, frames };
}

/** The single-exit network (every frame through the whole backbone to the final classifier). */
export function finalOnly(r: PreparedReplay): ReplayOutcome {
  let correct = 0;
  let frames = 0;
  const K = r.exitCount;
  for (const s of r.streams) {
    frames += s.frames;
    for (let t = 0; t < s.frames; t++) if (s.argmax[t * K + K - 1] === s.labels[t]) correct++;
  }
  const counts = new Array<number>(K).fill(0);
  counts[K - 1] = frames;
  return { accuracy: correct / frames, meanMacs: r.full, relativeCost: 1, exitCounts: counts, frames };
}
