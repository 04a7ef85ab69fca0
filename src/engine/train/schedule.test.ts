import { describe, expect, it } from 'vitest';
import { cosineFactor, scheduledRate } from './schedule';

describe('learning-rate schedules', () => {
  it('anneals with a cosine from the full rate to 2 % and never rises', () => {
    expect(cosineFactor(0, 100)).toBe(1);
    expect(cosineFactor(50, 100)).toBeCloseTo(0.51, 10);
    expect(cosineFactor(100, 100)).toBeCloseTo(0.02, 12);
    expect(cosineFactor(250, 100)).toBeCloseTo(0.02, 12);
    const rates = Array.from({ length: 101 }, (_, s) => scheduledRate(1e-3, 'cosine', s, 100));
    for (let s = 1; s < rates.length; s++) expect(rates[s]).toBeLessThan(rates[s - 1]);
  });

  it('keeps the rate when constant', () => {
    expect(scheduledRate(3e-4, 'constant', 0, 10)).toBe(3e-4);
    expect(scheduledRate(3e-4, 'constant', 9, 10)).toBe(3e-4);
  });
});
