import { describe, expect, it } from 'vitest';
import { parseWav, resample, trimSilence } from './keywords-audio';
import { adpcmBytes, decodeAdpcm, encodeAdpcm } from './keywords-codec';
import { backgroundNoise } from './keywords-noise';

const sine = (freq: number, rate: number, n: number, amplitude = 1) =>
  Float32Array.from({ length: n }, (_, i) => amplitude * Math.sin((2 * Math.PI * freq * i) / rate));

/** Amplitude and phase-free fit of a sine at `freq` over x[from, to): √(a² + b²) of the least-squares fit. */
function toneAmplitude(x: Float32Array, freq: number, rate: number, from: number, to: number): number {
  let s = 0;
  let c = 0;
  for (let i = from; i < to; i++) {
    s += x[i] * Math.sin((2 * Math.PI * freq * i) / rate);
    c += x[i] * Math.cos((2 * Math.PI * freq * i) / rate);
  }
  return (2 * Math.hypot(s, c)) / (to - from);
}

function wavBytes(samples: Int16Array, rate: number, { streamed = false, extraChunk = false } = {}): Uint8Array {
  const extra = extraChunk ? 8 + 5 + 1 : 0; // an odd-sized chunk and its pad byte
  const out = new Uint8Array(44 + extra + samples.length * 2);
  const view = new DataView(out.buffer);
  const put = (at: number, s: string) => [...s].forEach((ch, i) => (out[at + i] = ch.charCodeAt(0)));
  put(0, 'RIFF');
  view.setUint32(4, streamed ? 0x7ffff024 : out.length - 8, true);
  put(8, 'WAVEfmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, rate, true);
  view.setUint32(28, rate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  let at = 36;
  if (extraChunk) {
    put(at, 'LIST');
    view.setUint32(at + 4, 5, true);
    at += extra;
  }
  put(at, 'data');
  view.setUint32(at + 4, streamed ? 0x7ffff000 : samples.length * 2, true);
  samples.forEach((v, i) => view.setInt16(at + 8 + 2 * i, v, true));
  return out;
}

describe('keyword audio steps', () => {
  it('reads WAV data past other chunks, and up to the end when a pipe left the size unknown', () => {
    const pcm = Int16Array.from([0, 1000, -1000, 32767, -32768, 5]);
    for (const options of [{}, { streamed: true }, { extraChunk: true }]) {
      const wav = parseWav(wavBytes(pcm, 22050, options));
      expect(wav.sampleRate).toBe(22050);
      expect(Array.from(wav.samples, (v) => Math.round(v * 32768))).toEqual(Array.from(pcm));
    }
    const stereo = wavBytes(pcm, 22050);
    new DataView(stereo.buffer).setUint16(22, 2, true);
    expect(() => parseWav(stereo)).toThrow(/2 channels/);
    expect(() => parseWav(new Uint8Array(20))).toThrow(/not a RIFF/);
  });

  it("resamples 22,050 → 16,000 Hz keeping tones below 7 kHz and removing those above 8 kHz", () => {
    const n = 22050;
    const out = resample(sine(1000, 22050, n), 22050, 16000);
    expect(out.length).toBe(16000);
    // Away from the zero-padded ends, a 1 kHz tone keeps its frequency and amplitude.
    expect(toneAmplitude(out, 1000, 16000, 200, 15800)).toBeCloseTo(1, 2);
    expect(toneAmplitude(out, 1000, 16000, 200, 15800)).toBeGreaterThan(0.995);
    expect(toneAmplitude(resample(sine(6000, 22050, n), 22050, 16000), 6000, 16000, 200, 15800)).toBeGreaterThan(0.99);
    // 9 kHz would fold to 7 kHz: it must be suppressed by ≥ 60 dB, not aliased.
    const folded = resample(sine(9000, 22050, n), 22050, 16000);
    let power = 0;
    for (let i = 200; i < 15800; i++) power += folded[i] ** 2;
    expect(Math.sqrt((2 * power) / 15600)).toBeLessThan(1e-3);
  });

  it('trims silence down to the word plus its margin, ignoring sub-threshold hiss', () => {
    const x = new Float32Array(16000);
    x.set(sine(300, 16000, 4000, 0.5), 6000);
    for (let i = 0; i < x.length; i += 97) x[i] += 0.001; // −54 dB below the word's peak
    const trimmed = trimSilence(x, 16000, -40, 10);
    // 5 ms frames: the word's edges are found to within one frame, then 160 samples are added.
    expect(trimmed.length).toBeGreaterThanOrEqual(4000 + 2 * 160);
    expect(trimmed.length).toBeLessThanOrEqual(4000 + 2 * 160 + 2 * 80);
    expect(trimSilence(new Float32Array(100), 16000).length).toBe(0);
  });

  it('codes speech-like audio in IMA ADPCM at 4 bits a sample and ≥ 20 dB SNR', () => {
    // A gliding, amplitude-modulated tone with harmonics: the sort of signal a formant voice makes.
    const n = 8001;
    const pcm = Int16Array.from({ length: n }, (_, i) => {
      const t = i / 16000;
      const f = 120 + 80 * t;
      const env = Math.sin((Math.PI * i) / n);
      return Math.round(20000 * env * (0.6 * Math.sin(2 * Math.PI * f * t) + 0.3 * Math.sin(2 * Math.PI * 7 * f * t) + 0.1 * Math.sin(2 * Math.PI * 19 * f * t)));
    });
    const coded = encodeAdpcm(pcm);
    expect(coded.length).toBe(adpcmBytes(n));
    expect(coded.length).toBe(4001);
    const decoded = decodeAdpcm(coded, n);
    let signal = 0;
    let error = 0;
    pcm.forEach((v, i) => {
      signal += (v / 32768) ** 2;
      error += (v / 32768 - decoded[i]) ** 2;
    });
    expect(10 * Math.log10(signal / error)).toBeGreaterThan(20);
    expect(() => decodeAdpcm(coded.subarray(0, 100), n)).toThrow(/cannot hold/);
  });

  it('makes seeded noises at unit RMS whose spectra tilt as named', () => {
    const roughness = (x: Float32Array) => {
      let p = 0;
      let d = 0;
      for (let i = 0; i < x.length; i++) {
        p += x[i] * x[i];
        if (i) d += (x[i] - x[i - 1]) ** 2;
      }
      return { rms: Math.sqrt(p / x.length), ratio: d / p };
    };
    const [white, pink, brown, hum] = (['white', 'pink', 'brown', 'hum'] as const).map((t) => backgroundNoise(t, 11, 16000, 16000));
    for (const x of [white, pink, brown, hum]) expect(roughness(x).rms).toBeCloseTo(1, 4);
    // The power of the first difference over the power: 2 for white noise, less the more the spectrum leans to the bass.
    expect(roughness(white).ratio).toBeGreaterThan(1.8);
    expect(roughness(pink).ratio).toBeLessThan(0.6);
    expect(roughness(brown).ratio).toBeLessThan(roughness(pink).ratio / 10);
    expect(toneAmplitude(hum, 50, 16000, 0, 16000) + toneAmplitude(hum, 60, 16000, 0, 16000)).toBeGreaterThan(0.3);
    expect(backgroundNoise('pink', 11, 16000, 16000)).toEqual(pink);
    expect(backgroundNoise('pink', 12, 16000, 16000)).not.toEqual(pink);
  });
});
