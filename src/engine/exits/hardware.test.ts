import { describe, expect, it } from 'vitest';
import { mapToHardware, type HardwareSpec, type SegmentProfile } from './hardware';

const profile = (name: string, macs: number, branchMacs: number, weightBytes: number, outputBytes: number, layerTypes = ['Conv2D']): SegmentProfile => ({
  name,
  macs,
  weightBytes,
  layerTypes,
  branchMacs,
  branchWeightBytes: branchMacs,
  branchLayerTypes: branchMacs ? ['Dense'] : [],
  outputBytes,
});
// exit 1 (1 M MACs), exit 2 (2 M), final (4 M, with a layer type the MCU lacks).
const PROFILES = [profile('exit 1', 1e6, 1e3, 10_000, 5_000), profile('exit 2', 2e6, 1e3, 20_000, 2_000), profile('final', 4e6, 0, 200_000, 10, ['Conv2D', 'DepthwiseConv2D'])];
const SPEC: HardwareSpec = {
  processors: [
    { name: 'MCU', macsPerSecond: 1e8, memoryBytes: 64_000, unsupported: ['DepthwiseConv2D'], joulesPerMac: 1e-11 },
    { name: 'edge', macsPerSecond: 1e10, memoryBytes: 1e9, unsupported: [], joulesPerMac: 1e-10 },
  ],
  links: [{ bytesPerSecond: 1e6, joulesPerByte: 1e-8 }],
  latencyLimitSeconds: 0.1,
};

describe('mapping exits onto processors', () => {
  const all = mapToHardware(PROFILES, [0.5, 0.3, 0.2], SPEC, 784);

  it('enumerates every contiguous split that ends each processor at an exit', () => {
    expect(all.map((m) => JSON.stringify(m.ranges)).sort()).toEqual(['[[0,0],[1,2]]', '[[0,1],[2,2]]', '[[0,2],null]', '[null,[0,2]]'].sort());
  });

  it('computes latency and energy along each exit’s path, weighted by where frames end', () => {
    const m = all.find((x) => JSON.stringify(x.ranges) === '[[0,1],[2,2]]')!;
    // Exit 1 on the MCU; exit 2 on the MCU; the final on the edge after sending 2,000 bytes.
    const p1 = { s: 1.001e6 / 1e8, j: 1.001e6 * 1e-11 };
    const p2 = { s: p1.s + 2.001e6 / 1e8, j: p1.j + 2.001e6 * 1e-11 };
    const p3 = { s: p2.s + 2000 / 1e6 + 4e6 / 1e10, j: p2.j + 2000 * 1e-8 + 4e6 * 1e-10 };
    expect(m.worstLatencySeconds).toBeCloseTo(p3.s, 12);
    expect(m.meanLatencySeconds).toBeCloseTo(0.5 * p1.s + 0.3 * p2.s + 0.2 * p3.s, 12);
    expect(m.meanJoules).toBeCloseTo(0.5 * p1.j + 0.3 * p2.j + 0.2 * p3.j, 15);
    expect(m.feasible).toBe(true);
  });

  it('refuses unsupported layers, weights that do not fit and latency over the limit, and says so', () => {
    const mcuOnly = all.find((x) => JSON.stringify(x.ranges) === '[[0,2],null]')!;
    expect(mcuOnly.feasible).toBe(false);
    expect(mcuOnly.problems.join(' ')).toMatch(/MCU cannot run DepthwiseConv2D/);
    expect(mcuOnly.problems.join(' ')).toMatch(/MCU needs 232,000 bytes of weights, has 64,000/);
    const slow = mapToHardware(PROFILES, [0.5, 0.3, 0.2], { ...SPEC, latencyLimitSeconds: 0.001 }, 784);
    expect(slow.every((m) => !m.feasible)).toBe(true);
    expect(slow[0].verdict).toBe('no mapping is feasible');
    expect(slow.some((m) => m.problems.some((p) => /worst-case latency .* exceeds 1\.00 ms/.test(p)))).toBe(true);
  });

  it('puts the best feasible mapping first and says why each other one loses', () => {
    expect(all[0].feasible).toBe(true);
    expect(all[0].verdict).toMatch(/^chosen/);
    const feasible = all.filter((m) => m.feasible);
    for (const m of feasible) expect(m.meanJoules).toBeGreaterThanOrEqual(all[0].meanJoules);
    for (const m of all.slice(1)) expect(m.verdict).toMatch(m.feasible ? /more (energy|mean latency)/ : /^infeasible: /);
    // Skipping the MCU sends every raw input over the link: it costs the link on every frame.
    const edgeOnly = all.find((x) => JSON.stringify(x.ranges) === '[null,[0,2]]')!;
    expect(edgeOnly.worstLatencySeconds).toBeCloseTo(784 / 1e6 + 7.002e6 / 1e10, 12);
  });

  it('checks its inputs', () => {
    expect(() => mapToHardware(PROFILES, [1, 0], SPEC)).toThrow(/one per exit/);
    expect(() => mapToHardware(PROFILES, [1, 0, 0], { ...SPEC, links: [] })).toThrow(/links/);
  });
});
