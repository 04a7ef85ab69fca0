// The stream player: frames play one after another under one mechanism setting; at each frame the
// exit that answered, what it cost, the quantity compared with the threshold, and the running
// accuracy and operations saved. Dragging the threshold on the trace replays the whole stream.
import { useEffect, useMemo, useState, type KeyboardEvent } from 'react';
import { EXIT_COLOURS, FINAL_COLOUR, TraceChart } from '../../charts/TraceChart';
import { DigitCanvas } from '../../components/DigitStrip';
import { ExitStrip } from '../../components/ExitStrip';
import { NumberField } from '../../components/NumberField';
import { pct } from '../../format';
import { useStudio } from '../../state/store';
import type { ExitsSummary, ExitsSweep } from '../../../engine/session';
import type { Mechanism, MechanismSettings } from '../../../engine/exits/replay';
import { COMPARED, MECHANISM_LABELS } from './mechanisms';

const SPEEDS = [2, 5, 10, 25, 50];

export function StreamPanel({ summary, sweep }: { summary: ExitsSummary; sweep: ExitsSweep | null }) {
  const stream = useStudio((s) => s.exits.stream);
  const ready = useStudio((s) => s.exits.ready);
  const restoring = useStudio((s) => s.exits.restoring);
  const setSetting = useStudio((s) => s.setStreamSetting);
  const setFrame = useStudio((s) => s.setStreamFrame);
  const loadPictures = useStudio((s) => s.loadStreamPictures);
  const [playing, setPlaying] = useState(false);
  const [fps, setFps] = useState(10);
  const { setting, trace, frame } = stream;
  const K = summary.exits.length;
  const className = (c: number) => summary.classNames?.[c] ?? String(c);
  const frames = trace?.exit.length ?? summary.frames;

  // Playback advances the store's frame; it stops at the end.
  useEffect(() => {
    if (!playing || !trace) return;
    const id = window.setInterval(() => {
      const at = useStudio.getState().exits.stream.frame;
      if (at >= trace.exit.length - 1) setPlaying(false);
      else setFrame(at + 1);
    }, 1000 / fps);
    return () => window.clearInterval(id);
  }, [playing, fps, trace, setFrame]);

  useEffect(() => {
    if (summary.pictures) void loadPictures(frame);
  }, [frame, summary.pictures, loadPictures, ready]);

  // Running totals up to each frame, so any position reads them at once.
  const totals = useMemo(() => {
    if (!trace) return null;
    const n = trace.exit.length;
    const correct = new Float64Array(n);
    const cost = new Float64Array(n);
    for (let t = 0, c = 0, m = 0; t < n; t++) {
      c += trace.prediction[t] === trace.label[t] ? 1 : 0;
      m += trace.cost[t];
      correct[t] = c;
      cost[t] = m;
    }
    return { correct, cost };
  }, [trace]);

  const mechanism = setting.mechanism;
  const threshold = mechanism === 'patience' ? (setting.patience ?? 1) : (setting.threshold ?? Infinity);
  const change = (next: Partial<MechanismSettings>) => void setSetting({ ...setting, ...next });
  const chooseMechanism = (m: Mechanism) => {
    // Start each mechanism from its cheapest setting within the floor, when there is one.
    const best = sweep?.cheapest[m]?.settings;
    if (best) return void setSetting(best);
    void setSetting(m === 'patience' ? { mechanism: m, patience: 1 } : { mechanism: m, threshold: m === 'confidence' || m === 'margin' ? 0.9 : 1, ...(m === 'difference' ? { exit: 0, reference: 'last-full' } : {}) });
  };

  const onKey = (e: KeyboardEvent) => {
    if ((e.target as HTMLElement).closest('input, select, [role="slider"]')) return;
    if (e.key === ' ' || e.key === 'k') {
      e.preventDefault();
      setPlaying((p) => !p);
    } else if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      e.preventDefault();
      setPlaying(false);
      setFrame(frame + (e.key === 'ArrowRight' ? 1 : -1));
    }
  };

  if (!ready)
    return (
      <section className="card" aria-labelledby="stream-title">
        <h2 id="stream-title">Stream</h2>
        {stream.error ? (
          <p className="error" role="alert">
            {stream.error}
          </p>
        ) : (
          <p className="muted">{restoring ? 'Bringing the recorded stream back…' : 'Build the exits or load a replay file to play its stream.'}</p>
        )}
      </section>
    );

  const t = Math.min(frame, frames - 1);
  const answered = trace ? trace.exit[t] : K - 1;
  const right = trace ? trace.prediction[t] === trace.label[t] : false;
  const pictures = stream.pictures;
  const pictureAt = pictures && summary.pictures ? t - pictures.start : -1;
  const size = pictures ? pictures.height * pictures.width : 0;
  const hasPicture = pictures !== null && pictureAt >= 0 && (pictureAt + 1) * size <= pictures.pixels.length;
  const valueLabel = mechanism === 'confidence' ? null : COMPARED[mechanism];
  const value = trace ? (mechanism === 'confidence' ? trace.confidence[t] : trace.value[t]) : NaN;
  const savedSoFar = totals && trace ? 1 - totals.cost[t] / ((t + 1) * trace.full) : 0;

  return (
    <section className="card stream" aria-labelledby="stream-title" onKeyDown={onKey}>
      <h2 id="stream-title">Stream: {summary.streams.map((s) => s.name).join(', ')}</h2>
      <div className="train-form stream-controls">
        <label className="field">
          <span>Mechanism</span>
          <select value={mechanism} onChange={(e) => chooseMechanism(e.target.value as Mechanism)} aria-label="Mechanism">
            {summary.mechanisms.map((m) => (
              <option key={m} value={m}>
                {MECHANISM_LABELS[m]}
              </option>
            ))}
          </select>
        </label>
        {mechanism === 'patience' ? (
          <NumberField label="Patience n" value={setting.patience ?? 1} min={0} max={Math.max(K - 1, 1)} step={1} integer onChange={(v) => change({ patience: v })} />
        ) : (
          <NumberField label="Threshold τ" value={Number.isFinite(threshold) ? Number(threshold.toPrecision(4)) : threshold} min={0} max={1e9} step="any" onChange={(v) => change({ threshold: v })} />
        )}
        {mechanism === 'difference' && (
          <label className="field">
            <span>Watched exit</span>
            <select value={setting.exit ?? 0} onChange={(e) => change({ exit: Number(e.target.value) })} aria-label="Watched exit">
              {summary.exits.slice(0, -1).map((x, k) => (
                <option key={x.name} value={k}>
                  exit {k + 1}
                </option>
              ))}
            </select>
          </label>
        )}
        {(mechanism === 'difference' || mechanism === 'feature-difference') && (
          <label className="field">
            <span>Reference</span>
            <select value={setting.reference ?? 'last-full'} onChange={(e) => change({ reference: e.target.value as 'last-full' | 'previous' })} aria-label="Reference">
              <option value="last-full">last full inference</option>
              <option value="previous">previous frame</option>
            </select>
          </label>
        )}
      </div>

      <div className="player" role="group" aria-label="Player">
        <button type="button" className="icon" onClick={() => (setPlaying(false), setFrame(0))} aria-label="First frame" title="First frame">
          <Icon d="M3 2h2v12H3zM14 2v12L6 8z" />
        </button>
        <button type="button" className="icon" onClick={() => (setPlaying(false), setFrame(t - 1))} aria-label="Previous frame" title="Previous frame (←)">
          <Icon d="M12 2v12L4 8z" />
        </button>
        <button type="button" className="icon primary" onClick={() => setPlaying((p) => !p)} aria-label={playing ? 'Pause' : 'Play'} title="Play or pause (space)">
          <Icon d={playing ? 'M3 2h4v12H3zM9 2h4v12H9z' : 'M4 2v12l10-6z'} />
        </button>
        <button type="button" className="icon" onClick={() => (setPlaying(false), setFrame(t + 1))} aria-label="Next frame" title="Next frame (→)">
          <Icon d="M4 2v12l8-6z" />
        </button>
        <label className="field inline">
          <span>Speed</span>
          <select value={fps} onChange={(e) => setFps(Number(e.target.value))} aria-label="Speed">
            {SPEEDS.map((s) => (
              <option key={s} value={s}>
                {s} frames/s
              </option>
            ))}
          </select>
        </label>
        <input type="range" min={0} max={frames - 1} value={t} onChange={(e) => (setPlaying(false), setFrame(Number(e.target.value)))} aria-label="Frame" className="player-range" />
        <span className="mono" data-testid="stream-position">
          frame {(t + 1).toLocaleString('en')} / {frames.toLocaleString('en')}
        </span>
      </div>

      {stream.error && (
        <p className="error" role="alert">
          {stream.error}
        </p>
      )}
      {trace && totals && (
        <>
          <div className="stream-now">
            {summary.pictures && (
              <div className="stream-picture">{hasPicture ? <DigitCanvas pixels={pictures!.pixels.subarray(pictureAt * size, (pictureAt + 1) * size)} height={pictures!.height} width={pictures!.width} label="The current frame" testId="stream-picture" /> : <div className="picture-placeholder" />}</div>
            )}
            <dl className="stats stream-stats" data-testid="stream-frame">
              <div>
                <dt>Label / prediction</dt>
                <dd className={right ? 'notice' : 'error'}>
                  {className(trace.label[t])} / {className(trace.prediction[t])} {right ? '✓' : '✗'}
                </dd>
              </div>
              <div>
                <dt>Answered at</dt>
                <dd data-testid="stream-answered">{answered === K - 1 ? 'full inference' : `exit ${answered + 1}`}</dd>
              </div>
              <div>
                <dt>This frame’s MACs</dt>
                <dd>{pct(trace.cost[t] / trace.full, 1)}</dd>
              </div>
              <div>
                <dt>Compared value</dt>
                <dd>{Number.isFinite(value) ? Number(value.toPrecision(3)) : '—'}</dd>
              </div>
              <div>
                <dt>Accuracy so far</dt>
                <dd data-testid="stream-accuracy">{pct(totals.correct[t] / (t + 1))}</dd>
              </div>
              <div>
                <dt>Operations saved so far</dt>
                <dd data-testid="stream-saved">{pct(savedSoFar, 1)}</dd>
              </div>
            </dl>
          </div>
          <ExitStrip exits={summary.exits.map((e, k) => ({ ...e, accuracy: summary.stats[k].accuracy }))} answered={answered} ran={answered} />
          <TraceChart
            trace={trace}
            exits={K}
            frame={t}
            thresholdOn={mechanism === 'confidence' ? 'confidence' : 'value'}
            valueLabel={valueLabel}
            threshold={threshold}
            integer={mechanism === 'patience'}
            onThreshold={(v) => change(mechanism === 'patience' ? { patience: v } : { threshold: v })}
            onFrame={(f) => (setPlaying(false), setFrame(f))}
          />
          <ul className="legend" aria-label="Which exit answered">
            {summary.exits.map((e, k) => (
              <li key={e.name}>
                <span className="swatch" style={{ background: k === K - 1 ? FINAL_COLOUR : EXIT_COLOURS[k % EXIT_COLOURS.length] }} aria-hidden /> {k === K - 1 ? 'full inference' : `exit ${k + 1}`}
              </li>
            ))}
            <li>
              <span className="swatch" style={{ background: '#cf222e' }} aria-hidden /> wrong answer
            </li>
          </ul>
          <p className="muted small" data-testid="stream-totals">
            Whole stream with {MECHANISM_LABELS[mechanism]}: {pct(trace.accuracy)} accuracy at {pct(trace.meanMacs / trace.full, 1)} of the single-exit network’s MACs ({pct(1 - trace.meanMacs / trace.full, 1)} saved). Drag the dashed line, or focus it and use the arrow keys, to change the threshold; space plays and pauses, ← → step.
          </p>
        </>
      )}
    </section>
  );
}

/** Player glyphs drawn, not typed: symbol fonts differ from machine to machine. */
function Icon({ d }: { d: string }) {
  return (
    <svg width="14" height="14" viewBox="0 0 16 16" aria-hidden="true" style={{ display: 'block' }}>
      <path d={d} fill="currentColor" />
    </svg>
  );
}
