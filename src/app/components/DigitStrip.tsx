import { useEffect, useRef } from 'react';
import { useStudio } from '../state/store';
import type { SampleBatch } from '../../engine/session';

/** Test samples (digits, radar maps, ECG windows) with the open model's prediction; wrong ones are marked. */
export function DigitStrip({ samples }: { samples: SampleBatch }) {
  const classes = useStudio((s) => s.summary?.classes);
  const name = (c: number) => classes?.[c] ?? String(c);
  const size = samples.height * samples.width;
  return (
    <ol className={`digits ${samples.display}`} aria-label="Predictions on test samples" data-testid="digit-strip">
      {samples.labels.map((label, i) => {
        const predicted = samples.predictions[i];
        const ok = predicted === label;
        const pixels = samples.pixels.subarray(i * size, (i + 1) * size);
        return (
          <li key={i} className={ok ? 'digit ok' : 'digit wrong'} title={`label ${name(label)}, predicted ${name(predicted)} (${(samples.confidences[i] * 100).toFixed(1)} %)`}>
            {samples.display === 'waveform' ? <Waveform values={pixels} /> : <DigitCanvas pixels={pixels} height={samples.height} width={samples.width} />}
            <span className="digit-label">
              {name(predicted)}
              {!ok && <span className="sr-only"> (label {name(label)})</span>}
            </span>
          </li>
        );
      })}
    </ol>
  );
}

/** 0–255 grey pixels on a canvas, drawn at their own resolution (CSS scales them up). */
export function DigitCanvas({ pixels, height, width, label, testId }: { pixels: Uint8Array; height: number; width: number; label?: string; testId?: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    const image = ctx.createImageData(width, height);
    pixels.forEach((v, i) => {
      image.data.set([v, v, v, 255], i * 4);
    });
    ctx.putImageData(image, 0, 0);
  }, [pixels, height, width]);
  return label ? <canvas ref={ref} width={width} height={height} role="img" aria-label={label} data-testid={testId} /> : <canvas ref={ref} width={width} height={height} aria-hidden />;
}

/** A waveform scaled into 0–255 (per sample), drawn as a line; long ones (audio) as their min/max envelope. */
function Waveform({ values }: { values: Uint8Array }) {
  const w = 96;
  const h = 42;
  const y = (v: number) => (h - 2 - (v / 255) * (h - 4)).toFixed(1);
  const buckets = Math.min(values.length, 192);
  const per = values.length / buckets;
  const coords: string[] = [];
  for (let b = 0; b < buckets; b++) {
    const slice = values.subarray(Math.floor(b * per), Math.max(Math.floor((b + 1) * per), Math.floor(b * per) + 1));
    const x = ((b / Math.max(buckets - 1, 1)) * w).toFixed(1);
    if (slice.length === 1) coords.push(`${x},${y(slice[0])}`);
    else coords.push(`${x},${y(Math.min(...slice))}`, `${x},${y(Math.max(...slice))}`);
  }
  const points = coords.join(' ');
  return (
    <svg className="waveform" width={w} height={h} viewBox={`0 0 ${w} ${h}`} aria-hidden>
      <polyline points={points} fill="none" stroke="currentColor" strokeWidth={1} />
    </svg>
  );
}
