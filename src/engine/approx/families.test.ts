import { describe, expect, it } from 'vitest';
import { bam, drum, exactMultiplier, kulkarni, mitchell, perforation, tm, trunc, type FamilyInstance } from './families';
import { multiplierMetrics } from './metrics';

const at = (m: FamilyInstance, a: number, b: number) => m.table.values[a * 256 + b];
// toEqual on two 65,536-entry arrays takes a second; a plain comparison says as much.
const sameTable = (x: FamilyInstance, y: FamilyInstance) => x.table.values.every((v, k) => v === y.table.values[k]);

describe('family generators', () => {
  it('TRUNC(k) drops the partial-product bits with i + j < k', () => {
    expect(at(trunc(1), 1, 1)).toBe(0);
    expect(at(trunc(1), 3, 3)).toBe(8);
    expect(at(trunc(2), 3, 3)).toBe(4);
    // 255·255 less 1·1 + 2·2 + 3·4 + 4·8 for the ten bits below weight 16
    expect(at(trunc(4), 255, 255)).toBe(65025 - 49);
    expect(trunc(4).cost).toEqual({ kind: 'partial-products', keptBits: 54, f: 54 / 64 });
  });

  it('BAM(h, v) drops rows j < h of the second operand and bits with i + j < v', () => {
    // a = 1 sets a_0, b = 2 sets b_1: the bit (0, 1) survives h = 1, the bit (1, 0) does not.
    expect(at(bam(1, 0), 1, 2)).toBe(2);
    expect(at(bam(1, 0), 2, 1)).toBe(0);
    expect(at(bam(2, 0), 255, 255)).toBe(255 * 252);
    expect(sameTable(bam(0, 5), trunc(5))).toBe(true);
    expect(sameTable(bam(2, 0), perforation(0, 2))).toBe(true);
    expect(sameTable(bam(2, 0), perforation(0, 1))).toBe(false);
    // rows j = 0, 1 (16 bits) plus the bits with j ≥ 2 and i + j < 4 (i = 0, 1 at j = 2; i = 0 at j = 3)
    expect(bam(2, 4).cost).toMatchObject({ keptBits: 64 - 16 - 3 });
  });

  it('TM(t) truncates both operands', () => {
    expect(at(tm(2), 7, 7)).toBe(16);
    expect(at(tm(2), 255, 255)).toBe(252 * 252);
    expect(at(tm(2), 3, 200)).toBe(0);
    expect(tm(2).cost).toMatchObject({ keptBits: 36 });
  });

  it('Perforation(j, k) skips k rows of the second operand from row j', () => {
    expect(at(perforation(1, 2), 10, 7)).toBe(10);
    expect(at(perforation(1, 2), 7, 10)).toBe(7 * 8);
    expect(perforation(1, 2).cost).toMatchObject({ keptBits: 48 });
  });

  it('DRUM(k) is exact on small operands and rounds long ones to k unbiased bits', () => {
    const d4 = drum(4);
    for (let a = 0; a < 16; a++) for (let b = 0; b < 16; b++) expect(at(d4, a, b)).toBe(a * b);
    expect(at(d4, 255, 255)).toBe(15 * 15 * 256);
    // 100 = 0b1100100: L = 6, s = 3, m = 12 | 1 = 13
    expect(at(d4, 100, 3)).toBe(13 * 3 * 8);
    expect(d4.cost.kind).toBe('gate-estimate');
  });

  it('Mitchell is 0 for a zero operand and exact when an operand is a power of two', () => {
    const m = mitchell();
    for (let x = 0; x < 256; x++) {
      expect(at(m, 0, x)).toBe(0);
      expect(at(m, x, 0)).toBe(0);
      for (let i = 0; i < 8; i++) {
        expect(at(m, 2 ** i, x)).toBe(2 ** i * x);
        expect(at(m, x, 2 ** i)).toBe(2 ** i * x);
      }
    }
    expect(at(m, 3, 3)).toBe(8);
    expect(at(m, 255, 255)).toBeLessThanOrEqual(65025);
  });

  it('Kulkarni(d) makes 3·3 = 7 in the 2x2 blocks of digit weight below d', () => {
    expect(at(kulkarni(7), 3, 3)).toBe(7);
    expect(at(kulkarni(7), 12, 12)).toBe(7 * 16);
    expect(at(kulkarni(1), 12, 12)).toBe(144);
    // every digit is 3: the error is −2·(1 + 4 + 16 + 64)²
    expect(at(kulkarni(7), 255, 255)).toBe(65025 - 2 * 85 * 85);
    expect(kulkarni(7).cost.f).toBeLessThan(1);
  });

  it('rejects parameters outside the 8x8 array', () => {
    expect(() => trunc(0)).toThrow(RangeError);
    expect(() => perforation(6, 3)).toThrow(/Perforation k must be an integer in 1..2/);
    expect(() => drum(1.5)).toThrow(RangeError);
  });

  it('generate the table once, on first access', () => {
    const m = trunc(3);
    expect(m.table).toBe(m.table);
    expect(exactMultiplier().cost).toEqual({ kind: 'partial-products', keptBits: 64, f: 1 });
  });
});

describe('ranks of the error tables', () => {
  it('stay within the bounds in the notes', () => {
    const rank = (m: FamilyInstance) => multiplierMetrics(m.table).rank;
    for (const m of [trunc(3), trunc(9), bam(2, 6), bam(5, 10), tm(3), perforation(1, 2)]) expect(rank(m), m.name).toBeLessThanOrEqual(8);
    for (const m of [tm(1), tm(4), drum(3), drum(6)]) expect(rank(m), m.name).toBeLessThanOrEqual(2);
    expect(rank(perforation(2, 3))).toBe(1);
    // −2·(Σ_p [a_p = 3]·4^p)(Σ_q [b_q = 3]·4^q) when every block is approximate
    expect(rank(kulkarni(7))).toBe(1);
    for (const d of [2, 4, 6]) expect(rank(kulkarni(d))).toBeLessThanOrEqual(4);
    expect(rank(mitchell())).toBe(127);
  });
});
