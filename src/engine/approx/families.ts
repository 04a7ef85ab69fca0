// Classic approximate-multiplier families, generated bit by bit as defined in notes/algorithms.md §1.
import { tableFromFunction, type UnsignedMultiplierTable } from './table';

export type FamilyName = 'exact' | 'trunc' | 'bam' | 'tm' | 'perforation' | 'drum' | 'mitchell' | 'kulkarni';

/**
 * What a design keeps of the exact 8x8 array multiplier, the basis of its power estimate.
 * - partial-products: the design deletes bits of the 64-bit partial-product array; f = keptBits / 64.
 * - gate-estimate: the design is not a subset of the array; f = gateEquivalents / GE of the exact
 *   array, from the cell model below. An estimate, never a measurement.
 */
export type HardwareCost =
  | { kind: 'partial-products'; keptBits: number; f: number }
  | { kind: 'gate-estimate'; gateEquivalents: number; f: number; formula: string };

export interface FamilyInstance {
  family: FamilyName;
  params: Record<string, number>;
  name: string;
  cost: HardwareCost;
  /** Generated on first access (a few milliseconds), then kept. */
  readonly table: UnsignedMultiplierTable;
}

function instance(
  family: FamilyName,
  params: Record<string, number>,
  name: string,
  product: (a: number, b: number) => number,
  cost: HardwareCost,
): FamilyInstance {
  let table: UnsignedMultiplierTable | undefined;
  return {
    family,
    params,
    name,
    cost,
    get table() {
      return (table ??= tableFromFunction(name, product));
    },
  };
}

const BITS = 8;
const PP_BITS = BITS * BITS;

function checkInt(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in ${min}..${max}, got ${value}`);
  }
}

function popcount(x: number): number {
  let n = 0;
  for (; x; x &= x - 1) n++;
  return n;
}

/** Σ over kept (i, j) of a_i·b_j·2^(i+j); a_i is bit i of the first operand, b_j bit j of the second. */
function partialProductInstance(
  family: FamilyName,
  params: Record<string, number>,
  name: string,
  keep: (i: number, j: number) => boolean,
): FamilyInstance {
  // Row j of the array is a·b_j·2^j restricted to the kept bits i of a: a mask per row.
  const rowMasks = Array.from({ length: BITS }, (_, j) => {
    let mask = 0;
    for (let i = 0; i < BITS; i++) if (keep(i, j)) mask |= 1 << i;
    return mask;
  });
  const keptBits = rowMasks.reduce((n, mask) => n + popcount(mask), 0);
  const product = (a: number, b: number) => {
    let p = 0;
    for (let j = 0; j < BITS; j++) if ((b >> j) & 1) p += (a & rowMasks[j]) << j;
    return p;
  };
  return instance(family, params, name, product, { kind: 'partial-products', keptBits, f: keptBits / PP_BITS });
}

export const exactMultiplier = (): FamilyInstance => partialProductInstance('exact', {}, 'exact', () => true);

/** TRUNC(k): keep bits with i + j ≥ k. */
export function trunc(k: number): FamilyInstance {
  checkInt('TRUNC k', k, 1, 2 * BITS - 1);
  return partialProductInstance('trunc', { k }, `TRUNC(${k})`, (i, j) => i + j >= k);
}

/** BAM(h, v), broken array: keep bits with j ≥ h (j indexes the second operand b) and i + j ≥ v. */
export function bam(h: number, v: number): FamilyInstance {
  checkInt('BAM h', h, 0, BITS - 1);
  checkInt('BAM v', v, 0, 2 * BITS - 2);
  return partialProductInstance('bam', { h, v }, `BAM(${h},${v})`, (i, j) => j >= h && i + j >= v);
}

/** TM(t), operand truncation: (a & ~(2^t−1))·(b & ~(2^t−1)), i.e. keep bits with i ≥ t and j ≥ t. */
export function tm(t: number): FamilyInstance {
  checkInt('TM t', t, 1, BITS - 1);
  return partialProductInstance('tm', { t }, `TM(${t})`, (i, j) => i >= t && j >= t);
}

/** Perforation(j, k): a·(b & ~(((1<<k)−1)<<j)), i.e. the k partial-product rows of b bits j..j+k−1 are skipped. */
export function perforation(j: number, k: number): FamilyInstance {
  checkInt('Perforation j', j, 0, BITS - 1);
  checkInt('Perforation k', k, 1, BITS - j);
  return partialProductInstance('perforation', { j, k }, `Perforation(${j},${k})`, (_i, jb) => jb < j || jb >= j + k);
}

// Gate-equivalent (GE) cell model for designs that are not subsets of the partial-product array.
// Cell areas of the Nangate 45 nm library in NAND2 equivalents; power taken as proportional to area.
const GE = { and2: 1.33, or2: 1.33, ha: 3.33, fa: 5.33, mux2: 2.33 };
/** n x n array multiplier: n² AND gates, n(n−2) full adders, n half adders. */
const arrayGe = (n: number) => n * n * GE.and2 + n * (n - 2) * GE.fa + n * GE.ha;
/** Leading-one detector with position encoder over n bits: a priority chain of n AND and n OR gates. */
const lodGe = (n: number) => n * (GE.and2 + GE.or2);
/** Barrel shifter producing `width` bits from `positions` possible shift amounts. */
const shifterGe = (width: number, positions: number) => width * Math.ceil(Math.log2(positions)) * GE.mux2;
const EXACT_GE = arrayGe(BITS);
const GE_MODEL =
  'GE cells (NAND2 = 1): AND2 1.33, OR2 1.33, HA 3.33, FA 5.33, MUX2 2.33; array(n) = n²·AND2 + n(n−2)·FA + n·HA; ' +
  'LOD(n) = n·(AND2 + OR2); shifter(w, p) = w·⌈log2 p⌉·MUX2; f = GE / array(8) (= 368 GE); P/P_exact ≈ f';

function gateEstimate(gateEquivalents: number, formula: string): HardwareCost {
  return { kind: 'gate-estimate', gateEquivalents, f: gateEquivalents / EXACT_GE, formula: `${formula}; ${GE_MODEL}` };
}

/** Position of the leading one of x > 0. */
const leadingOne = (x: number) => 31 - Math.clz32(x);

/**
 * DRUM(k): an operand x < 2^k stays exact; otherwise, with L its leading-one position and s = L−k+1,
 * it becomes m = (x >> s) | 1 (the OR unbiases the dropped bits); product = (m_a·m_b) << (s_a + s_b).
 */
export function drum(k: number): FamilyInstance {
  checkInt('DRUM k', k, 2, BITS - 1);
  const reduce = (x: number): [number, number] => {
    if (x < 2 ** k) return [x, 0];
    const s = leadingOne(x) - k + 1;
    return [(x >> s) | 1, s];
  };
  const product = (a: number, b: number) => {
    const [ma, sa] = reduce(a);
    const [mb, sb] = reduce(b);
    return ma * mb * 2 ** (sa + sb);
  };
  const ge = 2 * lodGe(BITS) + 2 * shifterGe(k, BITS - k + 1) + arrayGe(k) + shifterGe(2 * BITS, 2 * (BITS - k) + 1) + 3 * GE.fa;
  const formula = 'DRUM(k): 2·LOD(8) + 2·shifter(k, 9−k) + array(k) + shifter(16, 2(8−k)+1) + 3·FA (shift sum)';
  return instance('drum', { k }, `DRUM(${k})`, product, gateEstimate(ge, formula));
}

/**
 * Mitchell's logarithmic multiplier: k_a, k_b leading-one positions, t = (a << k_b) + (b << k_a);
 * t − 2^(k_a+k_b) when t < 3·2^(k_a+k_b) (mantissa sum below 1), else 2t − 2^(k_a+k_b+2); 0 for a zero operand.
 * Integer-exact: t = 2^(k_a+k_b)·(2 + x + y) for mantissas x, y.
 */
export function mitchell(): FamilyInstance {
  const product = (a: number, b: number) => {
    if (a === 0 || b === 0) return 0;
    const ka = leadingOne(a);
    const kb = leadingOne(b);
    const t = a * 2 ** kb + b * 2 ** ka;
    const unit = 2 ** (ka + kb);
    return t < 3 * unit ? t - unit : 2 * t - 4 * unit;
  };
  const ge = 2 * lodGe(BITS) + 2 * shifterGe(BITS - 1, BITS) + 10 * GE.fa + shifterGe(2 * BITS, 2 * BITS - 1);
  const formula = 'Mitchell: 2·LOD(8) + 2·shifter(7, 8) (mantissas) + 10·FA (3+7-bit log sum) + shifter(16, 15) (antilog)';
  return instance('mitchell', {}, 'Mitchell', product, gateEstimate(ge, formula));
}

const EXACT_BLOCK_GE = 4 * GE.and2 + 2 * GE.ha;
const KULKARNI_BLOCK_GE = 4 * GE.and2 + GE.or2;

/**
 * Kulkarni(d): the 8x8 product built recursively from 2x2 blocks with exact adders (2x2 → 4x4 → 8x8),
 * which flattens to Σ_{p,q} B(a_p, b_q)·4^(p+q) over the 2-bit digits a_p, b_q (p, q in 0..3).
 * Blocks with p + q < d use Kulkarni's approximate 2x2 block (3·3 = 7, every other product exact);
 * the others are exact. d = 7 approximates all 16 blocks (the original design).
 */
export function kulkarni(d: number): FamilyInstance {
  checkInt('Kulkarni d', d, 1, 7);
  // The approximate block errs only on 3·3 (7 instead of 9), so each such digit pair costs 2·4^(p+q).
  const product = (a: number, b: number) => {
    let p = a * b;
    for (let pa = 0; pa < 4; pa++) {
      for (let qb = 0; pa + qb < d && qb < 4; qb++) {
        if (((a >> (2 * pa)) & 3) === 3 && ((b >> (2 * qb)) & 3) === 3) p -= 2 * 4 ** (pa + qb);
      }
    }
    return p;
  };
  let approxBlocks = 0;
  for (let pa = 0; pa < 4; pa++) for (let qb = 0; qb < 4; qb++) if (pa + qb < d) approxBlocks++;
  const ge = EXACT_GE - approxBlocks * (EXACT_BLOCK_GE - KULKARNI_BLOCK_GE);
  const formula = `Kulkarni(d): array(8) − n_d·(exact 2x2 block − Kulkarni block), exact block = 4·AND2 + 2·HA, Kulkarni block = 4·AND2 + OR2, n_d = ${approxBlocks} blocks`;
  return instance('kulkarni', { d }, `Kulkarni(${d})`, product, gateEstimate(ge, formula));
}
