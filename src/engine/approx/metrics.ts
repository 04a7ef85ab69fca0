// Error metrics of a multiplier table (EvoApproxLib's definitions) and the low-rank factorisation of
// its error table that the fast simulation uses (notes/algorithms.md §1).
import { svd as decompose, type Svd } from './svd';
import { errorTable, operandOf, TABLE_SIZE, type MultiplierTable, type UnsignedMultiplierTable } from './table';

/**
 * E = AM − exact product over all 65,536 operand pairs (unsigned a, b in 0..255; for a signed table
 * x, w in -128..127). MAE% and WCE% are relative to 2^16 for signed tables too, so the figures of a
 * signed table and of the unsigned one it was made from compare directly.
 */
export interface ErrorStatistics {
  mae_pct: number;
  wce_pct: number;
  /** Worst-case relative error over pairs whose exact product is not 0 (EvoApprox's WCRE%). */
  wcre_pct: number;
  /** Mean of |E|/|exact| over pairs whose exact product is not 0. */
  mre_pct: number;
  ep_pct: number;
  mse: number;
  error_mean: number;
  /** Population standard deviation of E. */
  error_std: number;
}

export interface MultiplierMetrics extends ErrorStatistics {
  /** Numerical rank of E (numpy's matrix_rank tolerance: s_max·256·eps). */
  rank: number;
  /**
   * Smallest R whose float32 rank-R factorisation (see factorise) reproduces every entry of E to
   * within 0.5, i.e. exactly after rounding each entry; null when even R = 256 does not.
   */
  exact_rank: number | null;
  /**
   * Smallest R whose factorisation is exact to float rounding (every entry within FLOAT_TOLERANCE):
   * the rank the fast layers use. null when float32 factors cannot get there: such tables are
   * simulated by direct lookup.
   */
  float_rank: number | null;
}

export interface Factorisation {
  /** u[r][i]: first-operand map of term r, indexed by the operand's byte code. */
  u: Float32Array[];
  /** v[r][j]: second-operand map of term r, indexed by the operand's byte code. */
  v: Float32Array[];
  /** max |Σ_r u[r][i]·v[r][j] − E[i][j]| with every product and sum rounded to float32. */
  maxAbsResidual: number;
  /** ‖E − E_R‖_F / ‖E‖_F of the rank-R truncation (0 for an exact table): what a truncated rank leaves out. */
  relativeResidual: number;
}

const FULL_SCALE = 2 ** 16;

export function errorStatistics(t: MultiplierTable): ErrorStatistics {
  const e = errorTable(t);
  let sumAbs = 0;
  let maxAbs = 0;
  let nonZero = 0;
  let sum = 0;
  let sumSq = 0;
  let sumRel = 0;
  let maxRel = 0;
  let relCount = 0;
  for (let i = 0; i < 256; i++) {
    const x = operandOf(t.signed, i);
    for (let j = 0; j < 256; j++) {
      const err = e[i * 256 + j];
      const abs = Math.abs(err);
      sumAbs += abs;
      if (abs > maxAbs) maxAbs = abs;
      if (err !== 0) nonZero++;
      sum += err;
      sumSq += err * err;
      const exact = Math.abs(x * operandOf(t.signed, j));
      if (exact !== 0) {
        const rel = abs / exact;
        sumRel += rel;
        if (rel > maxRel) maxRel = rel;
        relCount++;
      }
    }
  }
  const mean = sum / TABLE_SIZE;
  const mse = sumSq / TABLE_SIZE;
  return {
    mae_pct: (100 * sumAbs) / TABLE_SIZE / FULL_SCALE,
    wce_pct: (100 * maxAbs) / FULL_SCALE,
    wcre_pct: 100 * maxRel,
    mre_pct: (100 * sumRel) / relCount,
    ep_pct: (100 * nonZero) / TABLE_SIZE,
    mse,
    error_mean: mean,
    error_std: Math.sqrt(Math.max(0, mse - mean * mean)),
  };
}

interface ErrorSvd extends Svd {
  error: Int32Array;
}

// A 256x256 SVD of a high-rank table takes up to about a second; tables are treated as immutable, so
// one decomposition per table serves metrics and factorisations alike.
const svdCache = new WeakMap<Int32Array, ErrorSvd>();

function errorSvd(t: MultiplierTable): ErrorSvd {
  const cached = svdCache.get(t.values);
  if (cached) return cached;
  const error = errorTable(t);
  const result = { error, ...decompose(error, 256, 256) };
  svdCache.set(t.values, result);
  return result;
}

/** numpy's matrix_rank: singular values above s_max·max(m, n)·eps. */
function numericalRank(values: Float64Array): number {
  const tolerance = (values[0] ?? 0) * 256 * Number.EPSILON;
  return values.filter((s) => s > tolerance).length;
}

/** Term r of the factorisation in float32: u_r = √s_r·U[:,r], v_r = √s_r·V[:,r]. */
function term(svd: ErrorSvd, r: number): [Float32Array, Float32Array] {
  const scale = Math.sqrt(svd.values[r]);
  return [Float32Array.from(svd.u[r], (x) => x * scale), Float32Array.from(svd.v[r], (x) => x * scale)];
}

/** Adds one term to a float32 running sum, in the order a float32 kernel would, and returns the max residual. */
function accumulate(acc: Float64Array, u: Float32Array, v: Float32Array, error: Int32Array): number {
  let worst = 0;
  for (let i = 0; i < 256; i++) {
    const ui = u[i];
    for (let j = 0; j < 256; j++) {
      const k = i * 256 + j;
      acc[k] = Math.fround(acc[k] + Math.fround(ui * v[j]));
      const residual = Math.abs(acc[k] - error[k]);
      if (residual > worst) worst = residual;
    }
  }
  return worst;
}

const maxAbs = (values: Int32Array) => values.reduce((m, x) => Math.max(m, Math.abs(x)), 0);

/** Rank-R factorisation of E with float32 factors, E ≈ Σ_r u_r·v_rᵀ (exact when R ≥ exact_rank). */
export function factorise(t: MultiplierTable, R: number): Factorisation {
  if (!Number.isInteger(R) || R < 0 || R > 256) throw new RangeError(`rank must be an integer in 0..256, got ${R}`);
  const svd = errorSvd(t);
  const acc = new Float64Array(TABLE_SIZE);
  const u: Float32Array[] = [];
  const v: Float32Array[] = [];
  let maxAbsResidual = maxAbs(svd.error);
  for (let r = 0; r < R; r++) {
    const [ur, vr] = term(svd, r);
    u.push(ur);
    v.push(vr);
    maxAbsResidual = accumulate(acc, ur, vr, svd.error);
  }
  const energy = (values: Float64Array) => values.reduce((sum, x) => sum + x * x, 0);
  const total = energy(svd.values);
  const relativeResidual = total > 0 ? Math.sqrt(energy(svd.values.subarray(R)) / total) : 0;
  return { u, v, maxAbsResidual, relativeResidual };
}

/**
 * How close every entry of the float32 reconstruction must come to the integer error for the fast
 * layers to use it. Rounding each entry (< 0.5, `exact_rank`) is not enough there: they sum K
 * reconstructed products without rounding, so a 0.45 residual would add up over a receptive field.
 * At the true rank the residual is float32 rounding of the factors, about 1e-3.
 */
export const FLOAT_TOLERANCE = 1 / 64;

/** Smallest ranks reaching the rounding (0.5) and the float (FLOAT_TOLERANCE) criteria. */
function exactRanks(svd: ErrorSvd): { exact: number | null; float: number | null } {
  if (maxAbs(svd.error) === 0) return { exact: 0, float: 0 };
  const acc = new Float64Array(TABLE_SIZE);
  let exact: number | null = null;
  for (let r = 0; r < svd.values.length; r++) {
    const [u, v] = term(svd, r);
    const residual = accumulate(acc, u, v, svd.error);
    if (exact === null && residual < 0.5) exact = r + 1;
    if (residual < FLOAT_TOLERANCE) return { exact, float: r + 1 };
  }
  return { exact, float: null };
}

// The product table itself, AM = Σ_r p_r[a]·q_r[b], can need fewer terms than a·b plus the error's:
// for operand-truncating designs (TM, DRUM) AM is one product of mapped operands, rank 1, while their
// error has rank 2. Decomposed only on demand (the simulation's choice of form), never for metrics.
const productSvdCache = new WeakMap<Int32Array, ErrorSvd>();

/**
 * The product table's float-exact factorisation, AM ≈ Σ_r p_r·q_rᵀ with every entry within
 * FLOAT_TOLERANCE, at the smallest rank that gets there (searched up to `maxRank`); null above it.
 */
export function factoriseProduct(t: UnsignedMultiplierTable, maxRank: number): { u: Float32Array[]; v: Float32Array[] } | null {
  let svd = productSvdCache.get(t.values);
  if (!svd) {
    svd = { error: t.values, ...decompose(t.values, 256, 256) };
    productSvdCache.set(t.values, svd);
  }
  if (maxAbs(svd.error) === 0) return { u: [], v: [] };
  const acc = new Float64Array(TABLE_SIZE);
  const u: Float32Array[] = [];
  const v: Float32Array[] = [];
  for (let r = 0; r < Math.min(maxRank, svd.values.length); r++) {
    const [ur, vr] = term(svd, r);
    u.push(ur);
    v.push(vr);
    if (accumulate(acc, ur, vr, svd.error) < FLOAT_TOLERANCE) return { u, v };
  }
  return null;
}

export function multiplierMetrics(t: MultiplierTable): MultiplierMetrics {
  const svd = errorSvd(t);
  const ranks = exactRanks(svd);
  return { ...errorStatistics(t), rank: numericalRank(svd.values), exact_rank: ranks.exact, float_rank: ranks.float };
}
