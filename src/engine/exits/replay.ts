// Decision mechanisms for early-exit networks on streams, replayed on recorded exit outputs with
// the exact semantics of algorithms.md §4. Everything a mechanism looks at per (frame, exit) —
// softmax confidence, entropy, top-2 margin, argmax — is computed once in `prepareReplay`; a replay
// is then a loop over frames with no allocation, so sweeps over hundreds of thresholds stay fast.
import type { ReplayData } from './replay-file';

export type Mechanism = 'confidence' | 'entropy' | 'margin' | 'patience' | 'difference' | 'temporal-patience';
export const MECHANISMS: Mechanism[] = ['confidence', 'entropy', 'margin', 'patience', 'difference', 'temporal-patience'];

export interface MechanismSettings {
  mechanism: Mechanism;
  /** τ for every mechanism but patience. */
  threshold?: number;
  /** n for patience. */
  patience?: number;
  /** Difference: the exit whose logits are compared (0-based here; the command line counts from 1). */
  exit?: number;
  /** Difference: compare with the logits of the last full inference, or of the previous frame. */
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
  const streams = data.streams.map((s): PreparedStream => {
    const T = s.frames.length;
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
    return { frames: T, labels: Int32Array.from(s.frames, (f) => f.label), logits, argmax, confidence, entropy, margin };
  });
  return { classes: C, exitCount: K, segment, branch, cumulative, segmentsTo, full: segmentsTo[K - 1], streams };
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

export function replay(r: PreparedReplay, settings: MechanismSettings): ReplayOutcome {
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
  const previous = settings.reference === 'previous';

  for (const s of r.streams) {
    frames += s.frames;
    if (mechanism === 'difference') {
      let stored = -1;
      let ref = -1;
      for (let t = 0; t < s.frames; t++) {
        const full = ref < 0 || distance(s, K, C, e, t, ref) >= tau;
        if (full) {
          stored = s.argmax[t * K + K - 1];
          ref = t;
          macs += r.full + r.branch[e];
          counts[K - 1]++;
        } else {
          macs += r.segmentsTo[e] + r.branch[e];
          counts[e]++;
          if (previous) ref = t;
        }
        if (stored === s.labels[t]) correct++;
      }
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
        if (!full) full = distance(s, K, C, m, t, ref) >= tau || s.argmax[t * K + m] !== monitored;
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
        } else {
          macs += r.segmentsTo[m] + r.branch[m];
          counts[m]++;
        }
        if (stored === s.labels[t]) correct++;
      }
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
      macs += at === K - 1 ? r.cumulative[K - 1] : r.cumulative[at];
      counts[at]++;
      if (s.argmax[t * K + at] === s.labels[t]) correct++;
    }
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
