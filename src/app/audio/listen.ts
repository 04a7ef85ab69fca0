// Live audio for the keyword demo: the microphone (or a clip played aloud) into an AudioContext
// running at 16 kHz, whose AnalyserNode always holds the last 1.024 s. Reading its buffer a few
// times a second gives the last second of sound without a worklet or any copying on the audio thread.
export const RATE = 16_000;
export const SECOND = 16_000;

export interface Listener {
  /** The last second of audio (a fresh array each call). */
  lastSecond(): Float32Array;
  /** Plays samples aloud through the same path, resolving when they have played. */
  play(samples: Float32Array, sampleRate: number): Promise<void>;
  /** Root-mean-square level of the last second, for a level meter. */
  level(): number;
  close(): Promise<void>;
}

export async function openListener(source: 'microphone' | 'clips'): Promise<Listener> {
  const context = new AudioContext({ sampleRate: RATE });
  const analyser = context.createAnalyser();
  analyser.fftSize = 16_384;
  let stream: MediaStream | null = null;
  if (source === 'microphone') {
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
    } catch (e) {
      await context.close();
      throw new Error(`the microphone is not available: ${e instanceof Error ? e.message : String(e)}`);
    }
    context.createMediaStreamSource(stream).connect(analyser);
  }
  const buffer = new Float32Array(analyser.fftSize);
  const read = () => {
    analyser.getFloatTimeDomainData(buffer);
    return buffer.slice(buffer.length - SECOND);
  };
  return {
    lastSecond: read,
    level() {
      const s = read();
      let sum = 0;
      for (const v of s) sum += v * v;
      return Math.sqrt(sum / s.length);
    },
    async play(samples, sampleRate) {
      if (context.state === 'suspended') await context.resume();
      const audio = context.createBuffer(1, samples.length, sampleRate);
      audio.copyToChannel(Float32Array.from(samples), 0);
      const node = context.createBufferSource();
      node.buffer = audio;
      node.connect(analyser);
      node.connect(context.destination);
      await new Promise<void>((resolve) => {
        node.onended = () => resolve();
        node.start();
      });
    },
    async close() {
      stream?.getTracks().forEach((t) => t.stop());
      await context.close();
    },
  };
}
