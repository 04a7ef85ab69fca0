import { describe, expect, it } from 'vitest';
import { parseReplay, parseReplayText, replayToJson, ReplayFileError, type ReplayData, type ReplayFrame } from './replay-file';
import { emptyTrace, finalOnly, MECHANISMS, prepareReplay, replay, type MechanismSettings } from './replay';
import { calibrate, paretoFront, sweep } from './sweep';
import { exitStatistics } from './stats';
import { labelByFinalClassifier } from './record';
import { syntheticReplay } from './testing';

// Three exits over three classes. seg = 100, 200, 300; branches 10, 20, 0.
// Early exit at 1: 110; at 2: 330; final: 630. Σ seg = 600.
const EXITS = [
  { name: 'exit1', segmentMacs: 100, branchMacs: 10 },
  { name: 'exit2', segmentMacs: 200, branchMacs: 20 },
  { name: 'final', segmentMacs: 300, branchMacs: 0 },
];
const frame = (label: number, ...logits: number[][]): ReplayFrame => ({ label, logits });
const data = (...streams: ReplayFrame[][]): ReplayData => ({ classes: 3, exits: EXITS, streams: streams.map((frames) => ({ frames })) });
const LOW = [0.1, 0, 0];

describe('per-frame mechanisms', () => {
  const r = prepareReplay(
    data([
      frame(0, [5, 0, 0], [5, 0, 0], [5, 0, 0]), // exit 1 is sure
      frame(1, LOW, [0, 5, 0], [0, 5, 0]), // exit 2 is sure
      frame(0, LOW, [0, 0, 0.1], [0, 0, 3]), // nobody is: the final answers, wrongly
    ]),
  );

  it('confidence stops at the first sure exit and pays for what ran', () => {
    const o = replay(r, { mechanism: 'confidence', threshold: 0.9 });
    expect(o.exitCounts).toEqual([1, 1, 1]);
    expect(o.meanMacs).toBeCloseTo((110 + 330 + 630) / 3, 10);
    expect(o.relativeCost).toBeCloseTo((110 + 330 + 630) / 3 / 600, 10);
    expect(o.accuracy).toBeCloseTo(2 / 3, 10);
    // A threshold nobody reaches: every frame runs to the final classifier with every branch.
    expect(replay(r, { mechanism: 'confidence', threshold: 1.1 })).toMatchObject({ exitCounts: [0, 0, 3], meanMacs: 630 });
  });

  it('entropy fires at low entropy, margin at a wide top-2 gap', () => {
    expect(replay(r, { mechanism: 'entropy', threshold: 0.1 }).exitCounts).toEqual([1, 1, 1]);
    expect(replay(r, { mechanism: 'entropy', threshold: Math.log(3) + 1e-9 }).exitCounts).toEqual([3, 0, 0]);
    expect(replay(r, { mechanism: 'margin', threshold: 0.9 }).exitCounts).toEqual([1, 1, 1]);
    expect(replay(r, { mechanism: 'margin', threshold: 0 }).exitCounts).toEqual([3, 0, 0]);
  });

  it('patience counts agreeing consecutive exits from the second exit on', () => {
    // n = 1: frame 0 agrees at exit 2 (0 = 0) and stops there; frame 1 too (exit 1's argmax of LOW is 0, exit 2 says 1: disagree).
    const one = replay(r, { mechanism: 'patience', patience: 1 });
    expect(one.exitCounts).toEqual([0, 1, 2]);
    expect(one.meanMacs).toBeCloseTo((330 + 630 + 630) / 3, 10);
    // n = 0 fires at the first exit.
    expect(replay(r, { mechanism: 'patience', patience: 0 }).exitCounts).toEqual([3, 0, 0]);
  });

  it('the single-exit network is the reference cost', () => {
    expect(finalOnly(r)).toMatchObject({ relativeCost: 1, meanMacs: 600, exitCounts: [0, 0, 3] });
    expect(finalOnly(r).accuracy).toBeCloseTo(2 / 3, 10);
  });
});

describe('difference detection', () => {
  // Exit 1's logits drift by 0.5, then 0.7; the final classifier says 0, 1, 2.
  const stream = [frame(0, [0, 0, 0], LOW, [3, 0, 0]), frame(0, [0.5, 0, 0], LOW, [0, 3, 0]), frame(2, [1.2, 0, 0], LOW, [0, 0, 3])];
  const r = prepareReplay(data(stream, stream));

  it('last-full: compares with the last full inference, stored label in between', () => {
    const o = replay(r, { mechanism: 'difference', threshold: 1, exit: 0, reference: 'last-full' });
    // Per stream: full (600 + 10), stored (100 + 10), full (d = 1.2 from frame 0). Each stream restarts full.
    expect(o.exitCounts).toEqual([2, 0, 4]);
    expect(o.meanMacs).toBeCloseTo((610 + 110 + 610) / 3, 10);
    // Predictions 0 (final of frame 0), 0 (stored), 2 (final of frame 2): all right.
    expect(o.accuracy).toBe(1);
  });

  it('previous: the reference follows every frame, so a slow drift is never caught', () => {
    const o = replay(r, { mechanism: 'difference', threshold: 1, exit: 0, reference: 'previous' });
    expect(o.exitCounts).toEqual([4, 0, 2]);
    expect(o.meanMacs).toBeCloseTo((610 + 110 + 110) / 3, 10);
    expect(o.accuracy).toBeCloseTo(2 / 3, 10);
  });

  it('refuses an exit that does not exist or a missing threshold', () => {
    expect(() => replay(r, { mechanism: 'difference', threshold: 1, exit: 3 })).toThrow(/exit 4 does not exist/);
    expect(() => replay(r, { mechanism: 'confidence' })).toThrow(/needs a threshold/);
    expect(() => replay(r, { mechanism: 'patience', patience: -1 })).toThrow(/whole number/);
  });
});

describe('temporal patience', () => {
  it('monitors the earliest exit that agreed with the last full inference', () => {
    const r = prepareReplay(
      data([
        frame(1, [2, 0, 0], [0, 2, 0], [0, 3, 0]), // full: final 1; exit 1 says 0, exit 2 says 1 → monitor exit 2
        frame(1, [2, 0, 0], [0, 2.5, 0], [0, 3, 0]), // exit 2 moved 0.5 and still says 1 → stored 1 at 300 + 20
        frame(2, [0, 0, 2], [0, 0, 2], [0, 0, 3]), // exit 2 now says 2 → full: final 2; exit 1 agrees → monitor exit 1
        frame(2, [0, 0, 2.2], [0, 0, 2], [0, 0, 3]), // exit 1 moved 0.2, same class → stored 2 at 100 + 10
      ]),
    );
    const o = replay(r, { mechanism: 'temporal-patience', threshold: 1 });
    expect(o.exitCounts).toEqual([1, 1, 2]);
    // A full inference runs every branch: 600 + 10 + 20.
    expect(o.meanMacs).toBeCloseTo((630 + 320 + 630 + 110) / 4, 10);
    expect(o.accuracy).toBe(1);
  });

  it('runs every frame in full when no early exit agrees with the final classifier', () => {
    const r = prepareReplay(data([frame(2, [3, 0, 0], [3, 0, 0], [0, 0, 3]), frame(2, [3, 0, 0], [3, 0, 0], [0, 0, 3])]));
    expect(replay(r, { mechanism: 'temporal-patience', threshold: 100 }).exitCounts).toEqual([0, 0, 2]);
  });
});

describe('feature difference', () => {
  // Features pooled at exit 1's block (D = 2); they move 0.5, then 2 from the first frame.
  const withFeatures = (reference: 'last-full' | 'previous') => {
    const frames = [
      { ...frame(0, LOW, LOW, [3, 0, 0]), features: [0, 0] },
      { ...frame(0, LOW, LOW, [0, 3, 0]), features: [0.5, 0] },
      { ...frame(2, LOW, LOW, [0, 0, 3]), features: [2, 0] },
    ];
    return replay(prepareReplay({ classes: 3, exits: EXITS, streams: [{ frames }], featureExit: 0 }), { mechanism: 'feature-difference', threshold: 1, reference });
  };

  it('compares pooled block features, pays the backbone to that block and D for the distance, no branch', () => {
    const o = withFeatures('last-full');
    expect(o.exitCounts).toEqual([1, 0, 2]);
    expect(o.meanMacs).toBeCloseTo((602 + 102 + 602) / 3, 10);
    expect(o.accuracy).toBe(1);
    // Following the previous frame, the step of 1.5 is still caught.
    expect(withFeatures('previous').exitCounts).toEqual([1, 0, 2]);
  });

  it('is offered only when features were recorded', () => {
    const plain = prepareReplay(syntheticReplay(50, 2));
    expect(() => replay(plain, { mechanism: 'feature-difference', threshold: 1 })).toThrow(/needs recorded features/);
    expect(Object.keys(sweep(plain, { steps: 5 }))).not.toContain('feature-difference');
    const rich = prepareReplay(syntheticReplay(50, 2, 10, 16));
    expect(sweep(rich, { steps: 5 })['feature-difference']!.length).toBeGreaterThan(2);
  });
});

describe('per-frame traces', () => {
  const r = prepareReplay({ ...syntheticReplay(600, 7, 10, 12), streams: [syntheticReplay(300, 7, 10, 12).streams[0], syntheticReplay(300, 8, 10, 12).streams[0]] });
  const settings: MechanismSettings[] = MECHANISMS.map((mechanism) => (mechanism === 'patience' ? { mechanism, patience: 1 } : { mechanism, threshold: mechanism === 'confidence' ? 0.6 : mechanism === 'margin' ? 0.3 : mechanism === 'entropy' ? 1 : 2.5 }));

  it.each(settings)('$mechanism: the trace adds up to the outcome', (s) => {
    const trace = emptyTrace(600);
    const o = replay(r, s, trace);
    expect(replay(r, s)).toEqual(o);
    expect(trace.cost.reduce((a, b) => a + b, 0) / 600).toBeCloseTo(o.meanMacs, 6);
    const counts = new Array<number>(r.exitCount).fill(0);
    trace.exit.forEach((k) => counts[k]++);
    expect(counts).toEqual(o.exitCounts);
    expect(trace.prediction.filter((p, i) => p === trace.label[i]).length / 600).toBeCloseTo(o.accuracy, 12);
    expect([...trace.streamStart.keys()].filter((i) => trace.streamStart[i])).toEqual([0, 300]);
  });

  it('difference: the distance compared at each frame, none at a stream start', () => {
    const trace = emptyTrace(600);
    replay(r, { mechanism: 'difference', threshold: 2.5, exit: 1 }, trace);
    expect(Number.isNaN(trace.value[0]) && Number.isNaN(trace.value[300])).toBe(true);
    // A frame answered early was closer than τ to its reference; a full one (not a start) was not.
    for (let i = 1; i < 600; i++) if (i !== 300) expect(trace.exit[i] === 1 ? trace.value[i] < 2.5 : trace.value[i] >= 2.5).toBe(true);
  });

  it('refuses a trace too short for the replay', () => {
    expect(() => replay(r, { mechanism: 'confidence', threshold: 0.5 }, emptyTrace(599))).toThrow(/too few frames/);
  });
});

describe('threshold sweeps', () => {
  const r = prepareReplay(syntheticReplay(2000, 4));

  it('sweeps every mechanism over quantile thresholds; cost falls as confidence thresholds fall', () => {
    const curves = sweep(r, { steps: 30 });
    expect(Object.keys(curves).sort()).toEqual(['confidence', 'difference', 'entropy', 'margin', 'patience', 'temporal-patience']);
    const conf = curves.confidence!;
    expect(conf.length).toBeGreaterThan(10);
    for (let i = 1; i < conf.length; i++) expect(conf[i].relativeCost).toBeGreaterThanOrEqual(conf[i - 1].relativeCost - 1e-12);
    for (const points of Object.values(curves))
      for (const p of points) {
        expect(p.exitCounts.reduce((a, b) => a + b, 0)).toBe(2000);
        expect(p.accuracy).toBeGreaterThanOrEqual(0);
        expect(p.accuracy).toBeLessThanOrEqual(1);
      }
    // An infinite difference threshold never runs in full after the first frame.
    const last = curves.difference!.at(-1)!;
    expect(last.exitCounts[3]).toBe(1);
  });

  it('keeps the Pareto front and calibrates against a floor and a cap', () => {
    const all = Object.values(sweep(r, { steps: 20 })).flat();
    const front = paretoFront(all);
    for (const p of all) expect(front.some((f) => f.relativeCost <= p.relativeCost && f.accuracy >= p.accuracy)).toBe(true);
    for (let i = 1; i < front.length; i++) {
      expect(front[i].relativeCost).toBeGreaterThanOrEqual(front[i - 1].relativeCost);
      expect(front[i].accuracy).toBeGreaterThan(front[i - 1].accuracy);
    }
    const floor = finalOnly(r).accuracy - 0.02;
    const c = calibrate(all, { accuracyFloor: floor, costCap: 0.5 });
    expect(c.cheapestAbove!.accuracy).toBeGreaterThanOrEqual(floor);
    expect(all.filter((p) => p.accuracy >= floor).every((p) => p.relativeCost >= c.cheapestAbove!.relativeCost)).toBe(true);
    expect(c.mostAccurateUnder!.relativeCost).toBeLessThanOrEqual(0.5);
    expect(all.filter((p) => p.relativeCost <= 0.5).every((p) => p.accuracy <= c.mostAccurateUnder!.accuracy)).toBe(true);
    expect(front).toContain(c.bestRatio);
  });
});

describe('replay files', () => {
  const good = replayToJson(syntheticReplay(5, 1)) as { exits: { branch_macs: number }[]; streams: { frames: { label: number; logits: number[][] }[] }[] };
  const edit = (f: (j: typeof good) => void) => {
    const j = structuredClone(good);
    f(j);
    return j;
  };

  it('round-trips through the file form', () => {
    const back = parseReplayText(JSON.stringify(good));
    expect(replayToJson(back)).toEqual(good);
  });

  it('names the place of every kind of mistake', () => {
    const fails = (j: unknown, message: RegExp) => {
      expect(() => parseReplay(j)).toThrow(ReplayFileError);
      expect(() => parseReplay(j)).toThrow(message);
    };
    fails(edit((j) => j.streams[0].frames[3].logits[2].pop()), /^streams\[0\]\.frames\[3\]\.logits\[2\]: 9 numbers, expected 10/);
    fails(edit((j) => j.streams[0].frames[1].logits.pop()), /^streams\[0\]\.frames\[1\]\.logits: 3 rows, expected 4/);
    fails(edit((j) => (j.streams[0].frames[2].label = 10)), /^streams\[0\]\.frames\[2\]\.label: 10 is out of range/);
    fails(edit((j) => (j.streams[0].frames[0].logits[1][4] = NaN)), /^streams\[0\]\.frames\[0\]\.logits\[1\]\[4\]/);
    fails(edit((j) => (j.exits[3].branch_macs = 5)), /^exits\[3\]\.branch_macs: the final classifier has no branch/);
    fails(edit((j) => delete (j as Partial<typeof j>).streams), /^streams:/);
    const rich = replayToJson(syntheticReplay(4, 1, 10, 6)) as { feature_exit?: number; streams: { frames: { features?: number[] }[] }[] };
    expect(replayToJson(parseReplay(rich))).toEqual(rich);
    const editRich = (f: (j: typeof rich) => void) => {
      const j = structuredClone(rich);
      f(j);
      return j;
    };
    fails(editRich((j) => delete j.feature_exit), /^feature_exit: missing/);
    fails(editRich((j) => (j.feature_exit = 4)), /^feature_exit: 4 is not an early exit \(1–3\)/);
    fails(editRich((j) => j.streams[0].frames[2].features!.pop()), /^streams\[0\]\.frames\[2\]\.features: 5 numbers, expected 6/);
    fails(editRich((j) => delete j.streams[0].frames[1].features), /^streams\[0\]\.frames\[1\]\.features: missing/);
    expect(() => parseReplayText('{"classes": 10,')).toThrow(/not valid JSON/);
  });
});

describe('exit statistics', () => {
  it('splits each exit’s confidences into right and wrong frames', () => {
    const r = prepareReplay(
      data([
        frame(0, [5, 0, 0], [5, 0, 0], [5, 0, 0]),
        frame(1, LOW, [0, 5, 0], [0, 5, 0]),
        frame(0, LOW, [0, 0, 0.1], [0, 0, 3]),
      ]),
    );
    const stats = exitStatistics(r, 10);
    expect(stats.map((s) => s.accuracy)).toEqual([2 / 3, 2 / 3, 2 / 3]);
    // Exit 1: sure and right (bin 9), unsure and right and wrong (LOW ≈ 0.35: bin 3).
    expect(stats[0].correct).toEqual([0, 0, 0, 1, 0, 0, 0, 0, 0, 1]);
    expect(stats[0].wrong).toEqual([0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    expect(stats[2].wrong.reduce((a, b) => a + b, 0)).toBe(1);
  });
});

describe('unlabelled recordings', () => {
  it('take the final classifier’s answers as labels: the single-exit network agrees with itself', () => {
    const d = syntheticReplay(200, 9);
    for (const f of d.streams[0].frames) f.label = 0;
    labelByFinalClassifier(d);
    const r = prepareReplay(d);
    expect(finalOnly(r).accuracy).toBe(1);
    // Early exits are then scored by agreement with it.
    expect(replay(r, { mechanism: 'confidence', threshold: 0 }).accuracy).toBeLessThan(1);
  });
});
