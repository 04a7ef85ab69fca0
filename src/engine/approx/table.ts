// 8x8 multipliers as 256x256 lookup tables, the form every EvoApprox/TFApprox circuit ships in.

export const TABLE_SIZE = 65536;

/** Unsigned operand codes a, b in 0..255; values[a*256 + b] is the circuit's product. */
export interface UnsignedMultiplierTable {
  name: string;
  signed: false;
  values: Int32Array;
}

/**
 * Signed operands x, w in -128..127, stored in two's-complement byte order (TFApprox's layout):
 * values[(x & 255)*256 + (w & 255)] is the product, so row 128 holds x = -128.
 */
export interface SignedMultiplierTable {
  name: string;
  signed: true;
  values: Int32Array;
}

export type MultiplierTable = UnsignedMultiplierTable | SignedMultiplierTable;

/** Operand value of a byte code: itself when unsigned, the two's-complement value when signed. */
export const operandOf = (signed: boolean, code: number): number => (signed && code >= 128 ? code - 256 : code);

export function tableFromFunction(name: string, product: (a: number, b: number) => number): UnsignedMultiplierTable {
  const values = new Int32Array(TABLE_SIZE);
  for (let a = 0; a < 256; a++) for (let b = 0; b < 256; b++) values[a * 256 + b] = product(a, b);
  return { name, signed: false, values };
}

export const exactTable = (): UnsignedMultiplierTable => tableFromFunction('exact', (a, b) => a * b);

/** E = AM − exact product, in the table's own index order (byte codes of both operands). */
export function errorTable(t: MultiplierTable): Int32Array {
  const e = new Int32Array(TABLE_SIZE);
  for (let i = 0; i < 256; i++) {
    const x = operandOf(t.signed, i);
    for (let j = 0; j < 256; j++) e[i * 256 + j] = t.values[i * 256 + j] - x * operandOf(t.signed, j);
  }
  return e;
}

/**
 * Signed product from an unsigned table in sign-magnitude form: AM_s(x,w) = sgn(x)·sgn(w)·AM(|x|,|w|).
 * Valid for |x|, |w| ≤ 255 (any int8 and also 9-bit sign-magnitude operands); no range check here
 * because it sits in inner loops.
 */
export function signMagnitude(t: UnsignedMultiplierTable, x: number, w: number): number {
  // sgn(0) = 0 even for circuits whose AM(0, b) is not 0: the notes' formula, not a sign-bit XOR.
  if (x === 0 || w === 0) return 0;
  const p = t.values[Math.abs(x) * 256 + Math.abs(w)];
  return (x < 0) !== (w < 0) ? -p : p;
}

/** The signed table (x, w in -128..127) that sign-magnitude use of `t` amounts to. */
export function signMagnitudeTable(t: UnsignedMultiplierTable): SignedMultiplierTable {
  const values = new Int32Array(TABLE_SIZE);
  for (let i = 0; i < 256; i++) {
    for (let j = 0; j < 256; j++) values[i * 256 + j] = signMagnitude(t, operandOf(true, i), operandOf(true, j));
  }
  return { name: `${t.name}_sm`, signed: true, values };
}
