import { useEffect, useRef } from 'react';
import type { SampleBatch } from '../../engine/session';

/** Test digits with the open model's prediction; wrong ones are marked. */
export function DigitStrip({ samples }: { samples: SampleBatch }) {
  return (
    <ol className="digits" aria-label="Predictions on test digits" data-testid="digit-strip">
      {samples.labels.map((label, i) => {
        const predicted = samples.predictions[i];
        const ok = predicted === label;
        return (
          <li key={i} className={ok ? 'digit ok' : 'digit wrong'} title={`label ${label}, predicted ${predicted} (${(samples.confidences[i] * 100).toFixed(1)} %)`}>
            <DigitCanvas pixels={samples.pixels.subarray(i * samples.height * samples.width, (i + 1) * samples.height * samples.width)} height={samples.height} width={samples.width} />
            <span className="digit-label">
              {predicted}
              {!ok && <span className="sr-only"> (label {label})</span>}
            </span>
          </li>
        );
      })}
    </ol>
  );
}

function DigitCanvas({ pixels, height, width }: { pixels: Uint8Array; height: number; width: number }) {
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
  return <canvas ref={ref} width={width} height={height} aria-hidden />;
}
