// Early exits on streams (algorithms.md §4): augment the open model with exits and record a digit
// video through them, or load a replay recorded anywhere; then three views of it: the exits
// themselves, the stream played frame by frame under one mechanism, and every mechanism's trade-off.
import { useEffect, useRef, type KeyboardEvent } from 'react';
import { NumberField } from '../components/NumberField';
import { useStudio, type ExitsTab } from '../state/store';
import { ExitsPanel } from './exits/ExitsPanel';
import { StreamPanel } from './exits/StreamPanel';
import { TradeoffPanel } from './exits/TradeoffPanel';


/** What the recorded stream is, per data set. */
const STREAMS: Record<string, string> = {
  digits: 'a digit video: test digits held for about 20 frames each, every frame shifted, dimmed and noisy',
  ecg: 'windows 0.25 s apart over an ECG recording the model never saw',
  radar: 'range-Doppler maps of a gesture recording the model never saw',
};

const TABS: { id: ExitsTab; label: string }[] = [
  { id: 'exits', label: 'Each exit' },
  { id: 'stream', label: 'Stream' },
  { id: 'tradeoff', label: 'Trade-off' },
];

export function ExitsView() {
  const summary = useStudio((s) => s.summary);
  const settings = useStudio((s) => s.settings);
  const set = useStudio((s) => s.set);
  const exits = useStudio((s) => s.exits);
  const busyElsewhere = useStudio((s) => s.training.running && !s.exits.building);
  const build = useStudio((s) => s.buildExits);
  const cancel = useStudio((s) => s.cancelExits);
  const importFile = useStudio((s) => s.importReplayFile);
  const fileInput = useRef<HTMLInputElement>(null);
  const busy = exits.building || busyElsewhere;
  const sweep = exits.sweep;
  const tab = useStudio((s) => s.exits.tab);
  const setTab = useStudio((s) => s.setExitsTab);
  const restore = useStudio((s) => s.restoreExits);
  const play = useStudio((s) => s.setStreamSetting);

  // After a reload the results are in the store but the replay is in storage: bring it back.
  useEffect(() => {
    if (exits.summary && !exits.ready) void restore();
  }, [exits.summary, exits.ready, restore]);

  if (!summary) return <p className="muted">Open a model first.</p>;
  return (
    <div className="exits" data-testid="exits-view">
      <section className="card" aria-labelledby="exits-build-title">
        <h2 id="exits-build-title">Early exits for {summary.title}</h2>
        <p className="muted">
          An exit after every block of the network (where every path meets), each a small copy of the classifier head trained on the frozen network's features; useless ones are dropped. A stream is then recorded through every exit once ({STREAMS[summary.task]}), and each decision mechanism is replayed over a hundred thresholds. Or load a replay file recorded anywhere (JSON: classes, exits with segment and branch MACs, streams of frames with a label and one row of logits per exit).
        </p>
        <div className="train-form">
          {summary.task === 'ecg' && (
            <label className="field">
              <span>Stream</span>
              <select value={settings.exitStream} disabled={busy} onChange={(e) => set('exitStream', e.target.value as 'recording' | 'mitbih')} aria-label="Stream">
                <option value="recording">synthetic ECG recording (labelled)</option>
                <option value="mitbih">MIT-BIH record 208, real, unlabelled (5 min)</option>
              </select>
            </label>
          )}
          <NumberField label="Stream frames" value={settings.exitFrames} min={10} max={20000} step={1} integer disabled={busy} onChange={(v) => set('exitFrames', v)} />
          <NumberField label="Epochs per exit" value={settings.exitEpochs} min={1} max={50} step={1} integer disabled={busy} onChange={(v) => set('exitEpochs', v)} />
        </div>
        <div className="actions">
          <button type="button" className="primary" disabled={busy} onClick={() => void build()}>
            Build exits and record
          </button>
          <button type="button" disabled={!exits.building || exits.cancelling} onClick={() => void cancel()}>
            {exits.cancelling ? 'Cancelling…' : 'Cancel'}
          </button>
          <button type="button" disabled={busy} onClick={() => fileInput.current?.click()}>
            Load replay file…
          </button>
          <input
            ref={fileInput}
            type="file"
            accept=".json,application/json"
            aria-label="Replay file"
            hidden
            onChange={async (e) => {
              const file = e.target.files?.[0];
              e.target.value = '';
              if (file) await importFile(file.name, await file.text());
            }}
          />
        </div>
        <div className="progress-row" aria-live="polite" data-testid="exits-status">
          {exits.building && (
            <>
              <progress max={1} value={exits.progress ? (exits.progress.exit - 1) / exits.progress.exits : 0} aria-label="Exits trained" />
              <span>{exits.progress ? `Training exit ${exits.progress.exit} of ${exits.progress.exits}: epoch ${exits.progress.epoch}, loss ${exits.progress.loss.toFixed(3)}` : 'Computing the network’s features…'}</span>
            </>
          )}
          {busyElsewhere && <span className="muted">The engine is busy with another job.</span>}
        </div>
        {exits.error && (
          <p className="error" role="alert">
            {exits.error}
          </p>
        )}
      </section>

      {exits.summary && (
        <>
          <div
            role="tablist"
            aria-label="Exit views"
            className="subtabs"
            onKeyDown={(e: KeyboardEvent) => {
              const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
              if (!step) return;
              const next = TABS[(TABS.findIndex((t) => t.id === tab) + step + TABS.length) % TABS.length].id;
              setTab(next);
              document.getElementById(`exits-tab-${next}`)?.focus();
            }}
          >
            {TABS.map((t) => (
              <button key={t.id} type="button" role="tab" id={`exits-tab-${t.id}`} aria-selected={tab === t.id} aria-controls={`exits-panel-${t.id}`} tabIndex={tab === t.id ? 0 : -1} className={tab === t.id ? 'tab active' : 'tab'} onClick={() => setTab(t.id)}>
                {t.label}
              </button>
            ))}
          </div>
          <div role="tabpanel" id={`exits-panel-${tab}`} aria-labelledby={`exits-tab-${tab}`}>
            {tab === 'exits' && <ExitsPanel summary={exits.summary} />}
            {tab === 'stream' && <StreamPanel summary={exits.summary} sweep={sweep} />}
            {tab === 'tradeoff' && sweep && (
              <TradeoffPanel
                sweep={sweep}
                mechanisms={exits.summary.mechanisms}
                onPlay={(setting) => {
                  void play(setting);
                  setTab('stream');
                }}
              />
            )}
          </div>
        </>
      )}
    </div>
  );
}
