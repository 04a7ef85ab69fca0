// Audio steps of the keyword generator: read espeak-ng's WAV, bring it to 16 kHz, cut the silence
// around the word. Pure functions, so tests check them without espeak-ng installed.

export interface PcmAudio {
  sampleRate: number;
  /** Mono samples in [-1, 1). */
  samples: Float32Array;
}

/**
 * Reads a 16-bit PCM mono RIFF/WAVE file chunk by chunk (a `fmt ` chunk need not be 16 bytes, and
 * other chunks may sit in between). espeak-ng writing to a pipe cannot seek back, so its data chunk
 * claims ~2 GiB: a size past the end of the file means "up to the end".
 */
export function parseWav(bytes: Uint8Array): PcmAudio {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw new Error('not a RIFF/WAVE file');
  let format: { channels: number; sampleRate: number; bits: number; code: number } | null = null;
  for (let at = 12; at + 8 <= bytes.length; ) {
    const id = tag(at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      if (size < 16) throw new Error(`WAV fmt chunk of ${size} bytes is too short`);
      format = {
        code: view.getUint16(body, true),
        channels: view.getUint16(body + 2, true),
        sampleRate: view.getUint32(body + 4, true),
        bits: view.getUint16(body + 14, true),
      };
    } else if (id === 'data') {
      if (!format) throw new Error('WAV data chunk comes before its fmt chunk');
      if (format.code !== 1 || format.bits !== 16 || format.channels !== 1) {
        throw new Error(`WAV is format ${format.code}, ${format.bits}-bit, ${format.channels} channels; expected 16-bit PCM mono`);
      }
      const end = Math.min(body + size, bytes.length);
      const samples = new Float32Array((end - body) >> 1);
      for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(body + 2 * i, true) / 32768;
      return { sampleRate: format.sampleRate, samples };
    }
    at = body + size + (size & 1); // chunks are padded to even sizes
  }
  throw new Error('WAV file has no data chunk');
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** Zeroth-order modified Bessel function of the first kind, for the Kaiser window. */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 50 && term > 1e-12 * sum; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
  }
  return sum;
}

/**
 * Polyphase windowed-sinc resampler (Kaiser, β = 8: about 80 dB stopband). The low-pass sits at
 * 0.95 of the lower Nyquist frequency, so what espeak-ng puts between 8 and 11 kHz does not
 * fold back into the band a 16 kHz model sees. Samples outside the input count as zero.
 */
export function resample(input: Float32Array, fromRate: number, toRate: number, halfTaps = 64): Float32Array {
  if (fromRate === toRate) return input.slice();
  const g = gcd(fromRate, toRate);
  const up = toRate / g;
  const down = fromRate / g;
  // Cut-off in cycles per input sample; when upsampling the input's own Nyquist limit applies.
  const cutoff = (0.95 * Math.min(fromRate, toRate)) / 2 / fromRate;
  const width = 2 * halfTaps;
  const beta = 8;
  const i0beta = besselI0(beta);
  // One set of taps per output phase: output n sits at input time n·down/up, whose fraction repeats every `up` outputs.
  const phases = new Float32Array(up * width);
  for (let p = 0; p < up; p++) {
    const frac = ((p * down) % up) / up;
    let sum = 0;
    for (let k = 0; k < width; k++) {
      const x = k - halfTaps + 1 - frac; // distance from the output instant, in input samples
      const r = x / halfTaps;
      const window = Math.abs(r) >= 1 ? 0 : besselI0(beta * Math.sqrt(1 - r * r)) / i0beta;
      const sinc = x === 0 ? 1 : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x) / (2 * cutoff);
      const tap = sinc * window;
      phases[p * width + k] = tap;
      sum += tap;
    }
    // Unit gain at DC for every phase, or the phase pattern would ripple at up/down of the rate.
    for (let k = 0; k < width; k++) phases[p * width + k] /= sum;
  }
  const out = new Float32Array(Math.floor((input.length * up) / down));
  for (let n = 0; n < out.length; n++) {
    const base = Math.floor((n * down) / up) - halfTaps + 1;
    const taps = (n % up) * width;
    let acc = 0;
    const k0 = Math.max(0, -base);
    const k1 = Math.min(width, input.length - base);
    for (let k = k0; k < k1; k++) acc += phases[taps + k] * input[base + k];
    out[n] = acc;
  }
  return out;
}

/**
 * The part of `samples` from the first to the last 5 ms frame whose peak comes within `floorDb`
 * of the loudest sample, widened by `marginMs` on each side. Frames rather than single samples, so
 * one stray click does not stretch the word.
 */
export function trimSilence(samples: Float32Array, sampleRate: number, floorDb = -40, marginMs = 10): Float32Array {
  let peak = 0;
  for (const v of samples) peak = Math.max(peak, Math.abs(v));
  if (peak === 0) return samples.subarray(0, 0);
  const threshold = peak * 10 ** (floorDb / 20);
  const frame = Math.max(1, Math.round(sampleRate * 0.005));
  let first = -1;
  let last = -1;
  for (let start = 0; start < samples.length; start += frame) {
    let framePeak = 0;
    for (let i = start; i < Math.min(start + frame, samples.length); i++) framePeak = Math.max(framePeak, Math.abs(samples[i]));
    if (framePeak >= threshold) {
      if (first < 0) first = start;
      last = Math.min(start + frame, samples.length);
    }
  }
  const margin = Math.round((sampleRate * marginMs) / 1000);
  return samples.subarray(Math.max(0, first - margin), Math.min(samples.length, last + margin));
}
