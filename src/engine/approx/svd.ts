// Singular value decomposition: QR with column pivoting, then one-sided (Hestenes) Jacobi rotations
// on the transposed triangular factor (Drmač–Veselić preconditioning: few sweeps).
// Not ml-matrix: its 6.15.1 SingularValueDecomposition never returns on some error tables (EvoApprox
// 125K, EXZ, JQQ, Y48, perforation and Kulkarni designs; mljs/matrix#70, the QR sweep has no
// iteration bound), which would freeze the studio on an import. Here every loop is bounded.

export interface Svd {
  /** Singular values, largest first, min(m, n) of them. */
  values: Float64Array;
  /** Left singular vectors, u[r] of length m, matching values[r]; all zero where values[r] is 0. */
  u: Float64Array[];
  /** Right singular vectors, v[r] of length n, matching values[r]; all zero where values[r] is 0. */
  v: Float64Array[];
}

const MAX_SWEEPS = 60;

function dot(x: Float64Array, y: Float64Array, from = 0): number {
  let s = 0;
  for (let i = from; i < x.length; i++) s += x[i] * y[i];
  return s;
}

/** [x, y] ← [c·x − s·y, s·x + c·y] */
function rotate(x: Float64Array, y: Float64Array, c: number, s: number): void {
  for (let i = 0; i < x.length; i++) {
    const xi = x[i];
    const yi = y[i];
    x[i] = c * xi - s * yi;
    y[i] = s * xi + c * yi;
  }
}

const unitVectors = (count: number, length: number) =>
  Array.from({ length: count }, (_, j) => {
    const e = new Float64Array(length);
    e[j] = 1;
    return e;
  });

interface PivotedQr {
  /** First r columns of Q (length m each). */
  q: Float64Array[];
  /** Rows of R in the original column order: rows[i][j] = (Qᵀ·A)[i][j], i < r. */
  rows: Float64Array[];
}

/**
 * Householder QR with column pivoting, stopped once every remaining column is below `negligible`
 * (squared norm): what is left then cannot move a singular value above the rank tolerance.
 */
function pivotedQr(cols: Float64Array[], m: number, negligible: number): PivotedQr {
  const n = cols.length;
  const order = Array.from({ length: n }, (_, j) => j);
  const reflectors: Float64Array[] = [];
  for (let k = 0; k < Math.min(m, n); k++) {
    let pivot = k;
    let best = -1;
    for (let j = k; j < n; j++) {
      const norm2 = dot(cols[j], cols[j], k);
      if (norm2 > best) [best, pivot] = [norm2, j];
    }
    if (best <= negligible) break;
    [cols[k], cols[pivot]] = [cols[pivot], cols[k]];
    [order[k], order[pivot]] = [order[pivot], order[k]];
    const x = cols[k];
    const alpha = x[k] >= 0 ? -Math.sqrt(best) : Math.sqrt(best);
    const v = new Float64Array(m);
    for (let i = k; i < m; i++) v[i] = x[i];
    v[k] -= alpha;
    const vv = dot(v, v, k);
    for (let j = k + 1; j < n; j++) {
      const tau = (2 * dot(v, cols[j], k)) / vv;
      for (let i = k; i < m; i++) cols[j][i] -= tau * v[i];
    }
    x.fill(0, k);
    x[k] = alpha;
    reflectors.push(v);
  }
  const r = reflectors.length;
  // Q·e_i = H_0·H_1·…·H_{r−1}·e_i
  const q = unitVectors(r, m);
  for (const e of q) {
    for (let k = r - 1; k >= 0; k--) {
      const v = reflectors[k];
      const tau = (2 * dot(v, e, k)) / dot(v, v, k);
      for (let i = k; i < m; i++) e[i] -= tau * v[i];
    }
  }
  const rows = Array.from({ length: r }, (_, i) => {
    const row = new Float64Array(n);
    for (let k = 0; k < n; k++) row[order[k]] = cols[k][i];
    return row;
  });
  return { q, rows };
}

/** Rotates `cols` until they are mutually orthogonal, applying the same rotations to `companions`. */
function jacobi(cols: Float64Array[], companions: Float64Array[], negligible: number): void {
  const count = cols.length;
  const tolerance = Math.max(cols[0]?.length ?? 0, count) * Number.EPSILON;
  const norm2 = new Float64Array(count);
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    for (let j = 0; j < count; j++) norm2[j] = dot(cols[j], cols[j]);
    let rotated = false;
    for (let p = 0; p < count - 1; p++) {
      for (let q = p + 1; q < count; q++) {
        const app = norm2[p];
        const aqq = norm2[q];
        if (app <= negligible || aqq <= negligible) continue;
        const apq = dot(cols[p], cols[q]);
        if (Math.abs(apq) <= tolerance * Math.sqrt(app * aqq)) continue;
        rotated = true;
        const zeta = (aqq - app) / (2 * apq);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        rotate(cols[p], cols[q], c, s);
        rotate(companions[p], companions[q], c, s);
        norm2[p] = app - t * apq;
        norm2[q] = aqq + t * apq;
      }
    }
    if (!rotated) return;
  }
}

/** SVD of the row-major m x n matrix `a`: a = Σ_r values[r]·u[r]·v[r]ᵀ. */
export function svd(a: ArrayLike<number>, m: number, n: number): Svd {
  if (a.length !== m * n) throw new RangeError(`svd: ${a.length} entries for a ${m}x${n} matrix`);
  const cols = Array.from({ length: n }, (_, j) => Float64Array.from({ length: m }, (_, i) => a[i * n + j]));
  const frobenius2 = cols.reduce((sum, c) => sum + dot(c, c), 0);
  // Below this (squared) norm a column cannot move any singular value past the rank tolerance
  // s_max·max(m, n)·eps, so it is dropped rather than rotated against rounding noise.
  const negligible = (Number.EPSILON * Number.EPSILON * frobenius2) / 16;
  // A = Q·R; Rᵀ·W = V·Σ by Jacobi, so A = (Q·W)·Σ·Vᵀ.
  const { q, rows } = pivotedQr(cols, m, negligible);
  const w = unitVectors(rows.length, rows.length);
  jacobi(rows, w, negligible);
  const sigma = rows.map((row) => Math.sqrt(dot(row, row)));
  const order = sigma.map((_, j) => j).sort((x, y) => sigma[y] - sigma[x]);
  const k = Math.min(m, n);
  const values = new Float64Array(k);
  const u = Array.from({ length: k }, () => new Float64Array(m));
  const v = Array.from({ length: k }, () => new Float64Array(n));
  order.forEach((j, r) => {
    if (sigma[j] === 0) return;
    values[r] = sigma[j];
    for (let i = 0; i < n; i++) v[r][i] = rows[j][i] / sigma[j];
    // column j of Q·W
    for (let l = 0; l < q.length; l++) {
      const weight = w[j][l];
      for (let i = 0; i < m; i++) u[r][i] += q[l][i] * weight;
    }
  });
  return { values, u, v };
}
