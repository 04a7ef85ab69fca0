// Where `fast` leaves a factorisation for the compiled lookup (fast.ts, lookupIsFaster); a module of its
// own so that the views can say so without importing tfjs.

/**
 * Above this many mapped operands per input channel the compiled direct lookup is faster than the
 * direct stacked convolution: each operand costs 0.64–0.96 of a float layer, the lookup 5.6–11 float
 * layers whatever the table; the break-even lies between 8 and 16 operands by layer (1×1 lowest,
 * 5×5 highest; `npx tsx bench/lookup-or-factors.ts`). Winograd's layers keep the factors.
 */
export const LOOKUP_BEYOND = 10;

/** Whether a factorisation of `mapped` operands per input channel is past LOOKUP_BEYOND (on layers without Winograd). */
export const lookupBeats = (mapped: number): boolean => mapped > LOOKUP_BEYOND;
