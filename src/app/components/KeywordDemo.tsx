// The keyword model listening live: the microphone (or test clips played aloud) scored four times a
// second, the top class and every class's score shown as they change; and the Sinc filters' pass
// bands as they started and as trained.
import { useEffect, useMemo, useRef, useState } from 'react';
import { Figure, type Series } from '../charts/Figure';
import { pct } from '../format';
import { useStudio } from '../state/store';
import { openListener, type Listener } from '../audio/listen';

const SCORE_EVERY_MS = 250;

export function KeywordDemo() {
  const summary = useStudio((s) => s.summary)!;
  const keywords = useStudio((s) => s.keywords);
  const classify = useStudio((s) => s.classifyAudio);
  const testClip = useStudio((s) => s.testClip);
  const [mode, setMode] = useState<'off' | 'microphone' | 'clips'>('off');
  const [problem, setProblem] = useState<string | null>(null);
  const [clip, setClip] = useState<{ index: number; label: number } | null>(null);
  const listener = useRef<Listener | null>(null);
  const timer = useRef<number | null>(null);

  const stop = async () => {
    if (timer.current !== null) window.clearInterval(timer.current);
    timer.current = null;
    const l = listener.current;
    listener.current = null;
    setMode('off');
    await l?.close();
  };
  useEffect(() => () => void stop(), []);

  const scoreLive = (on: boolean) => {
    if (timer.current !== null) window.clearInterval(timer.current);
    timer.current = on
      ? window.setInterval(() => {
          if (listener.current) void classify(listener.current.lastSecond());
        }, SCORE_EVERY_MS)
      : null;
  };

  const start = async (source: 'microphone' | 'clips') => {
    await stop();
    setProblem(null);
    try {
      listener.current = await openListener(source);
    } catch (e) {
      setProblem(e instanceof Error ? e.message : String(e));
      return null;
    }
    setMode(source);
    // The microphone is scored all the time; clips while they play.
    scoreLive(source === 'microphone');
    return listener.current;
  };

  const playClip = async () => {
    const l = mode === 'clips' && listener.current ? listener.current : await start('clips');
    if (!l) return;
    const index = (clip?.index ?? -1) + 1;
    const c = await testClip(index);
    setClip({ index, label: c.label });
    scoreLive(true);
    await l.play(c.samples, c.sampleRate);
    scoreLive(false);
    // The clip itself, exactly: the answer that stays on screen once it has played.
    void classify(Float32Array.from(c.samples));
  };

  const scores = keywords.scores;
  const top = scores ? scores.indexOf(Math.max(...scores)) : -1;
  return (
    <section className="card keyword-demo" aria-labelledby="kws-demo-title">
      <h3 id="kws-demo-title">Live keyword demo</h3>
      <p className="muted small">
        The model was trained on <strong>synthetic speech</strong> (espeak-ng voices), so real voices are a harder test than its held-out figure suggests. Listen through the microphone, or play the held-out test clips one after another; the last second of sound is scored four times a second.
      </p>
      <div className="actions">
        <button type="button" className={mode === 'microphone' ? 'primary' : undefined} onClick={() => void (mode === 'microphone' ? stop() : start('microphone'))}>
          {mode === 'microphone' ? 'Stop listening' : 'Listen (microphone)'}
        </button>
        <button type="button" onClick={() => void playClip()}>
          Play the next test clip
        </button>
        {mode === 'clips' && (
          <button type="button" onClick={() => void stop()}>
            Stop
          </button>
        )}
      </div>
      {(problem || keywords.error) && (
        <p className="error" role="alert">
          {problem ?? keywords.error}
        </p>
      )}
      <div className="kws-now" aria-live="polite" data-testid="kws-prediction" data-updates={keywords.updates}>
        {scores ? (
          <>
            <span className="kws-word">{summary.classes[top]}</span> <span className="muted">{pct(scores[top], 1)}</span>
            {clip && mode === 'clips' && <span className="muted small"> · clip {clip.index + 1} is “{summary.classes[clip.label]}”</span>}
            {keywords.ms !== null && <span className="muted small"> · scored in {keywords.ms.toFixed(0)} ms</span>}
          </>
        ) : (
          <span className="muted">{mode === 'off' ? 'Not listening.' : 'Listening…'}</span>
        )}
      </div>
      {scores && (
        <ol className="kws-scores" aria-label="Score of every class" data-testid="kws-scores">
          {summary.classes.map((c, i) => (
            <li key={c} className={i === top ? 'top' : undefined}>
              <span className="kws-class">{c}</span>
              <span className="kws-bar" style={{ width: `${Math.max(scores[i] * 100, 0.5)}%` }} />
              <span className="kws-value">{pct(scores[i], 1)}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

const BAND_X = { key: 'filter', label: 'Sinc filter', numeric: true };
const BAND_Y = { label: 'frequency, Hz' };
const BAND_SERIES: Series[] = [
  { key: 'initialLow', label: 'initial f₁', color: '#8c959f' },
  { key: 'initialHigh', label: 'initial f₂', color: '#57606a' },
  { key: 'learnedLow', label: 'learned f₁', color: '#0969da' },
  { key: 'learnedHigh', label: 'learned f₂', color: '#cf222e' },
];

/** Each Sinc filter's pass band [f₁, f₂], at the mel-spaced start and as trained. */
export function SincBands() {
  const bands = useStudio((s) => s.keywords.bands);
  const load = useStudio((s) => s.loadSincBands);
  const summary = useStudio((s) => s.summary);
  const trained = useStudio((s) => s.training.result);
  useEffect(() => {
    void load();
  }, [load, summary, trained]);
  const data = useMemo(
    () => (bands ? bands.initial.map((b, i) => ({ filter: i + 1, initialLow: b.lowHz, initialHigh: b.highHz, learnedLow: bands.learned[i].lowHz, learnedHigh: bands.learned[i].highHz })) : []),
    [bands],
  );
  if (!bands) return null;
  const moved = bands.learned.reduce((m, b, i) => Math.max(m, Math.abs(b.lowHz - bands.initial[i].lowHz), Math.abs(b.highHz - bands.initial[i].highHz)), 0);
  return (
    <section className="card" aria-labelledby="sinc-title">
      <h3 id="sinc-title">Sinc filters of {bands.layer}</h3>
      <p className="muted small" data-testid="sinc-moved">
        {bands.learned.length} band-pass filters, each learning only its two cut-offs; they started mel-spaced. Training moved a cut-off by up to {moved.toFixed(0)} Hz.
      </p>
      <Figure id="sinc-bands" title="Pass band of each Sinc filter, initial and learned" kind="line" data={data} x={BAND_X} y={BAND_Y} series={BAND_SERIES} height={260} />
    </section>
  );
}
