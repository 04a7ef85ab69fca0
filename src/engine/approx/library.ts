// The studio's built-in multipliers: classic families spread from MAE% ≈ 0.0002 to ≈ 4.
import { bam, drum, exactMultiplier, kulkarni, mitchell, perforation, tm, trunc, type FamilyInstance, type FamilyName } from './families';
import type { UnsignedMultiplierTable } from './table';

export interface PowerEstimate {
  /** Power relative to the exact 8x8 multiplier. */
  relative: number;
  source: 'estimate';
  formula: string;
}

export interface LibraryMultiplier {
  id: string;
  name: string;
  family: FamilyName;
  params: Record<string, number>;
  readonly table: UnsignedMultiplierTable;
  power: PowerEstimate;
}

const PP_EXPONENT = 1.3;

function powerOf(instance: FamilyInstance): PowerEstimate {
  const { cost } = instance;
  if (cost.kind === 'partial-products') {
    return {
      relative: cost.f ** PP_EXPONENT,
      source: 'estimate',
      formula:
        `P/P_exact ≈ f^${PP_EXPONENT}, f = share of partial-product bits kept = ${cost.keptBits}/64; ` +
        'fitted on EvoApprox truncated and broken-array circuits',
    };
  }
  return { relative: cost.f, source: 'estimate', formula: cost.formula };
}

function entry(instance: FamilyInstance): LibraryMultiplier {
  const id = [instance.family, ...Object.values(instance.params)].join('-');
  return {
    id,
    name: instance.name,
    family: instance.family,
    params: instance.params,
    get table() {
      return instance.table;
    },
    power: powerOf(instance),
  };
}

/**
 * About 30 designs ordered roughly by MAE%. DRUM(6) and DRUM(7) are left out: at 8 bits their
 * leading-one detectors and shifters cost more than they save (gate estimate above 1).
 */
export function builtinLibrary(): LibraryMultiplier[] {
  return [
    exactMultiplier(),
    kulkarni(1),
    trunc(1),
    kulkarni(2),
    trunc(2),
    trunc(3),
    kulkarni(3),
    trunc(4),
    trunc(5),
    kulkarni(4),
    perforation(0, 1),
    trunc(6),
    tm(1),
    bam(1, 6),
    kulkarni(5),
    trunc(7),
    bam(1, 7),
    bam(2, 6),
    bam(2, 7),
    tm(2),
    kulkarni(6),
    trunc(8),
    drum(5),
    bam(2, 8),
    bam(3, 7),
    mitchell(),
    tm(3),
    trunc(9),
    kulkarni(7),
    drum(4),
    bam(4, 8),
    trunc(10),
    drum(3),
    bam(5, 10),
  ].map(entry);
}
