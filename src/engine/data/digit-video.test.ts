import { beforeAll, describe, expect, it } from 'vitest';
import { loadDigitsFromDisk } from './digits-node';
import { sliceDigits, type DigitsSlice } from './digits';
import { digitVideo } from './digit-video';

describe('digit video stream', () => {
  let test: DigitsSlice;
  beforeAll(async () => {
    test = sliceDigits(await loadDigitsFromDisk(), 'test');
  });

  it('shows each digit for a geometric dwell of mean about 20 frames, labelled from the test split', () => {
    const v = digitVideo(test, { frames: 20_000, seed: 3 });
    let runs = 1;
    for (let t = 1; t < v.frames; t++) if (v.source[t] !== v.source[t - 1]) runs++;
    const meanDwell = v.frames / runs;
    expect(meanDwell).toBeGreaterThan(18);
    expect(meanDwell).toBeLessThan(22);
    for (let t = 0; t < v.frames; t += 997) expect(v.labels[t]).toBe(test.labels[v.source[t]]);
  });

  it('jitters every frame: consecutive frames of one digit differ, but far less than frames of different digits', () => {
    const v = digitVideo(test, { frames: 400, seed: 5 });
    const size = v.height * v.width;
    const diff = (a: number, b: number) => {
      let d = 0;
      for (let i = 0; i < size; i++) d += Math.abs(v.pixels[a * size + i] - v.pixels[b * size + i]);
      return d / size;
    };
    const same: number[] = [];
    const other: number[] = [];
    for (let t = 1; t < v.frames; t++) (v.source[t] === v.source[t - 1] ? same : other).push(diff(t, t - 1));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(Math.min(...same)).toBeGreaterThan(0);
    expect(other.length).toBeGreaterThan(5);
    expect(mean(same)).toBeLessThan(mean(other));
    expect(v.pixels.every((p) => p >= 0 && p <= 1)).toBe(true);
  });

  it('is the same stream for the same seed and refuses nonsense', () => {
    const a = digitVideo(test, { frames: 50, seed: 9 });
    const b = digitVideo(test, { frames: 50, seed: 9 });
    expect(Array.from(a.pixels)).toEqual(Array.from(b.pixels));
    expect(Array.from(digitVideo(test, { frames: 50, seed: 10 }).source)).not.toEqual(Array.from(a.source));
    expect(() => digitVideo(test, { frames: 0 })).toThrow(/whole number/);
  });
});
