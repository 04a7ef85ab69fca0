// Demo mode for talks: a battery or workload trace picks the operating point frame by frame while
// a stream of digits is classified at that point; a presenter can override it from the keyboard.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Figure, type Series } from '../charts/Figure';
import { DigitStrip } from './DigitStrip';
import { pct } from '../format';
import { useStudio } from '../state/store';
import type { QosResult } from '../../engine/qos/build';
import type { PointPredictions } from '../../engine/session';

export type Trace = 'battery' | 'workload';
const TRACES: Record<Trace, { label: string; level: (frame: number) => number; describe: string }> = {
  battery: { label: 'Battery draining', level: (f) => 1 - (f % 80) / 80, describe: 'battery charge: drains over 80 frames, then recharges' },
  workload: { label: 'Workload', level: (f) => 0.5 + 0.5 * Math.cos((2 * Math.PI * f) / 40), describe: 'spare compute budget: rises and falls every 40 frames' },
};
/** Frames classified per second. */
const FRAME_MS = 500;
const KEPT_FRAMES = 80;
/** Test digits the stream plays (after the slider's own examples). */
const STREAM_START = 12;
const STREAM_LENGTH = 988;

/** Full budget → the most accurate point (0), none → the cheapest. */
export const pointForLevel = (level: number, points: number) => Math.min(points - 1, Math.max(0, Math.floor((1 - level) * points)));

interface Frame {
  frame: number;
  level: number;
  point: number;
  power: number;
  correct: boolean;
}

const SERIES: Series[] = [
  { key: 'level', label: 'trace level', color: '#8c959f' },
  { key: 'power', label: 'relative power of the point in use', color: '#0969da' },
];
const X = { key: 'frame', label: 'frame', numeric: true };
const Y = { label: 'fraction', domain: [0, 1] as [number, number] };

export function QosDemo({ result, ready }: { result: QosResult; ready: boolean }) {
  const classify = useStudio((s) => s.classifyAtPoint);
  const [trace, setTrace] = useState<Trace>('battery');
  const [running, setRunning] = useState(false);
  const [manual, setManual] = useState<number | null>(null);
  const [frames, setFrames] = useState<Frame[]>([]);
  const [totals, setTotals] = useState({ frames: 0, correct: 0, power: 0 });
  const [last, setLast] = useState<PointPredictions | null>(null);
  const [error, setError] = useState<string | null>(null);
  const next = useRef(0);
  const inFlight = useRef(false);
  const n = result.points.length;

  const step = useCallback(async () => {
    if (inFlight.current) return;
    inFlight.current = true;
    const frame = next.current++;
    const level = TRACES[trace].level(frame);
    const point = manual ?? pointForLevel(level, n);
    try {
      const p = await classify(point, [STREAM_START + (frame % STREAM_LENGTH)]);
      const correct = p.predictions[0] === p.labels[0];
      const power = result.points[point].relativePower;
      setLast(p);
      setFrames((f) => [...f.slice(-(KEPT_FRAMES - 1)), { frame, level, point, power, correct }]);
      setTotals((t) => ({ frames: t.frames + 1, correct: t.correct + (correct ? 1 : 0), power: t.power + power }));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      setRunning(false);
    } finally {
      inFlight.current = false;
    }
  }, [trace, manual, n, classify, result]);

  useEffect(() => {
    if (!running || !ready) return;
    const timer = setInterval(() => void step(), FRAME_MS);
    return () => clearInterval(timer);
  }, [running, ready, step]);

  // Presenter keys, page-wide while the demo is on: a clicker sends Page Up / Page Down.
  useEffect(() => {
    if (!running && frames.length === 0) return;
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      if (target && ['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName)) return;
      const current = manual ?? frames[frames.length - 1]?.point ?? 0;
      if (e.key === 'PageUp' || e.key === '+') setManual(Math.max(0, current - 1));
      else if (e.key === 'PageDown' || e.key === '-') setManual(Math.min(n - 1, current + 1));
      else if (e.key === 'a' || e.key === 'A') setManual(null);
      else if (e.key === 'p' || e.key === 'P') setRunning((r) => !r);
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [running, frames, manual, n]);

  const reset = () => {
    setRunning(false);
    setFrames([]);
    setTotals({ frames: 0, correct: 0, power: 0 });
    setLast(null);
    setManual(null);
    setError(null);
    next.current = 0;
  };

  const data = useMemo(() => frames.map((f) => ({ frame: f.frame, level: f.level, power: f.power })), [frames]);
  const current = frames[frames.length - 1];

  return (
    <section className="card" aria-labelledby="qos-demo-title" data-testid="qos-demo">
      <h2 id="qos-demo-title">Demo: the network adapts as it runs</h2>
      <p className="muted">
        A stream of test digits is classified twice a second at the point the trace asks for ({TRACES[trace].describe}). Keys while it runs: <kbd>Page Up</kbd>/<kbd>+</kbd> more accurate, <kbd>Page Down</kbd>/<kbd>−</kbd> cheaper, <kbd>A</kbd> back to the trace, <kbd>P</kbd> pause.
      </p>
      <div className="actions">
        <label className="field inline">
          <span>Trace</span>
          <select aria-label="Trace driving the operating point" value={trace} onChange={(e) => setTrace(e.target.value as Trace)}>
            {Object.entries(TRACES).map(([k, t]) => (
              <option key={k} value={k}>
                {t.label}
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="primary" disabled={!ready} onClick={() => setRunning((r) => !r)}>
          {running ? 'Pause demo' : frames.length ? 'Resume demo' : 'Start demo'}
        </button>
        <button type="button" disabled={frames.length === 0} onClick={reset}>
          Reset
        </button>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <dl className="stats" data-testid="qos-demo-readout" aria-live="polite">
        <div>
          <dt>Frames</dt>
          <dd data-testid="qos-demo-frames">{totals.frames}</dd>
        </div>
        <div>
          <dt>Point in use</dt>
          <dd data-testid="qos-demo-point">
            {current ? `${current.point + 1} of ${n}` : '—'} <span className="small muted">{manual === null ? '(trace)' : '(presenter)'}</span>
          </dd>
        </div>
        <div>
          <dt>Accuracy on the stream</dt>
          <dd data-testid="qos-demo-accuracy">{totals.frames ? pct(totals.correct / totals.frames, 1) : '—'}</dd>
        </div>
        <div>
          <dt>Mean relative power</dt>
          <dd data-testid="qos-demo-power">{totals.frames ? pct(totals.power / totals.frames, 1) : '—'}</dd>
          <dd className="small muted">always most accurate: {pct(result.points[0].relativePower, 1)}</dd>
        </div>
      </dl>
      {last && <DigitStrip samples={{ count: 1, height: last.height, width: last.width, pixels: last.pixels, display: last.display, labels: last.labels, predictions: last.predictions, confidences: last.confidences }} />}
      {data.length > 1 && <Figure id="qos-demo-trace" title="Trace and the power of the point in use" kind="line" data={data} x={X} y={Y} series={SERIES} height={200} live={running} />}
    </section>
  );
}
