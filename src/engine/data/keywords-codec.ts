// IMA ADPCM, 4 bits a sample: half the bytes of 8-bit µ-law, whose output gzip barely shrinks
// (measured: 95 % left on espeak-ng speech), so twice the utterances fit the size budget. The
// codec noise (≈ 20 dB below the speech; the generator records the measured figure) sits under the
// 5–30 dB SNR noise the loader adds anyway. Each utterance is coded on its own from a zero state.

const STEPS = Int16Array.from([
  7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 19, 21, 23, 25, 28, 31, 34, 37, 41, 45, 50, 55, 60, 66, 73, 80, 88, 97, 107, 118, 130,
  143, 157, 173, 190, 209, 230, 253, 279, 307, 337, 371, 408, 449, 494, 544, 598, 658, 724, 796, 876, 963, 1060, 1166, 1282,
  1411, 1552, 1707, 1878, 2066, 2272, 2499, 2749, 3024, 3327, 3660, 4026, 4428, 4871, 5358, 5894, 6484, 7132, 7845, 8630, 9493,
  10442, 11487, 12635, 13899, 15289, 16818, 18500, 20350, 22385, 24623, 27086, 29794, 32767,
]);
const INDEX_SHIFT = [-1, -1, -1, -1, 2, 4, 6, 8];

/** Bytes that hold `samples` nibbles. */
export const adpcmBytes = (samples: number) => (samples + 1) >> 1;

interface State {
  predicted: number;
  index: number;
}

/** Applies one code to the state exactly as the decoder does; the encoder calls it too, so both stay in step. */
function step(state: State, code: number): number {
  const size = STEPS[state.index];
  let diff = size >> 3;
  if (code & 4) diff += size;
  if (code & 2) diff += size >> 1;
  if (code & 1) diff += size >> 2;
  const next = state.predicted + (code & 8 ? -diff : diff);
  state.predicted = Math.max(-32768, Math.min(32767, next));
  state.index = Math.max(0, Math.min(88, state.index + INDEX_SHIFT[code & 7]));
  return state.predicted;
}

/** Encodes 16-bit samples; nibbles low first, as in WAV's IMA ADPCM. */
export function encodeAdpcm(samples: Int16Array): Uint8Array {
  const out = new Uint8Array(adpcmBytes(samples.length));
  const state: State = { predicted: 0, index: 0 };
  for (let i = 0; i < samples.length; i++) {
    const size = STEPS[state.index];
    let diff = samples[i] - state.predicted;
    let code = 0;
    if (diff < 0) {
      code = 8;
      diff = -diff;
    }
    if (diff >= size) {
      code |= 4;
      diff -= size;
    }
    if (diff >= size >> 1) {
      code |= 2;
      diff -= size >> 1;
    }
    if (diff >= size >> 2) code |= 1;
    step(state, code);
    out[i >> 1] |= i & 1 ? code << 4 : code;
  }
  return out;
}

/** Decodes `count` samples to floats in [-1, 1) into `out` (allocated when absent). */
export function decodeAdpcm(bytes: Uint8Array, count: number, out = new Float32Array(count)): Float32Array {
  if (bytes.length < adpcmBytes(count)) throw new Error(`ADPCM block of ${bytes.length} bytes cannot hold ${count} samples`);
  const state: State = { predicted: 0, index: 0 };
  for (let i = 0; i < count; i++) {
    const byte = bytes[i >> 1];
    out[i] = step(state, i & 1 ? byte >> 4 : byte & 15) / 32768;
  }
  return out;
}
