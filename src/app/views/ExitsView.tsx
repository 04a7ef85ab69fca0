// Early exits on streams (algorithms.md §4): augment the open model with exits and record a digit
// video through them, or load a replay recorded anywhere; then every decision mechanism over its
// thresholds, the Pareto front, and the cheapest setting of each within the accuracy floor.
import { useMemo, useRef } from 'react';
import { Figure, type Series } from '../charts/Figure';
import { HardwarePanel } from '../components/HardwarePanel';
import { NumberField } from '../components/NumberField';
import { pct } from '../format';
import { useStudio } from '../state/store';
import type { Mechanism } from '../../engine/exits/replay';
import type { SweepPoint } from '../../engine/exits/sweep';

const MECHANISM_LABELS: Record<Mechanism, string> = {
  confidence: 'confidence',
  entropy: 'entropy',
  margin: 'margin',
  patience: 'patience (PABEE)',
  difference: 'difference detection',
  'temporal-patience': 'temporal patience',
};
const COLOURS: Record<Mechanism, string> = { confidence: '#0969da', entropy: '#8250df', margin: '#1b7c83', patience: '#bf8700', difference: '#cf222e', 'temporal-patience': '#1a7f37' };
const MECHANISMS = Object.keys(MECHANISM_LABELS) as Mechanism[];
const TRADE_X = { key: 'cost', label: 'mean MACs relative to the single-exit network', numeric: true };
const TRADE_Y = { label: 'accuracy on the stream', fromZero: false };
const TRADE_SERIES: Series[] = [...MECHANISMS.map((m) => ({ key: m, label: MECHANISM_LABELS[m], color: COLOURS[m] })), { key: 'single', label: 'single-exit network', color: '#6e7781' }];

/** "τ = 0.42", "n = 2", "τ = ∞" (an infinite threshold is stored as null once persisted). */
export function settingText(p: SweepPoint): string {
  if (p.settings.mechanism === 'patience') return `n = ${p.settings.patience}`;
  const t = p.settings.threshold;
  return `τ = ${t === null || t === undefined || !Number.isFinite(t) ? '∞' : Number(t.toPrecision(3))}`;
}

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

  const tradeData = useMemo(() => {
    if (!sweep) return [];
    const rows: Record<string, number | string | null>[] = [];
    for (const m of MECHANISMS) for (const p of sweep.curves[m] ?? []) rows.push({ cost: p.relativeCost, [m]: p.accuracy, point: `${MECHANISM_LABELS[m]}, ${settingText(p)}` });
    rows.push({ cost: 1, single: sweep.single.accuracy, point: 'single-exit network' });
    return rows;
  }, [sweep]);

  if (!summary) return <p className="muted">Open a model first.</p>;
  const best = sweep?.cheapest.all ?? null;

  return (
    <div className="exits" data-testid="exits-view">
      <section className="card" aria-labelledby="exits-build-title">
        <h2 id="exits-build-title">Early exits for {summary.title}</h2>
        <p className="muted">
          An exit after every block of the network (where every path meets), each a small copy of the classifier head trained on the frozen network's features; useless ones are dropped. A digit video — test digits held for about 20 frames each, every frame shifted, dimmed and noisy — is then recorded through every exit once, and each decision mechanism is replayed over a hundred thresholds. Or load a replay file recorded anywhere (JSON: classes, exits with segment and branch MACs, streams of frames with a label and one row of logits per exit).
        </p>
        <div className="train-form">
          <NumberField label="Video frames" value={settings.exitFrames} min={10} max={20000} step={1} integer disabled={busy} onChange={(v) => set('exitFrames', v)} />
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
        <section className="card" aria-labelledby="exits-summary-title">
          <h2 id="exits-summary-title">
            Exits of {exits.summary.title} <span className="muted small">({exits.summary.frames.toLocaleString('en')} frames{exits.summary.source === 'file' ? ', from a file' : ', digit video'})</span>
          </h2>
          <div className="table-wrap">
            <table data-testid="exits-table">
              <thead>
                <tr>
                  <th scope="col">Exit</th>
                  <th scope="col" className="num">Segment MACs</th>
                  <th scope="col" className="num">Branch MACs</th>
                  <th scope="col" className="num">MACs to answer here</th>
                  <th scope="col" className="num">Test accuracy</th>
                </tr>
              </thead>
              <tbody>
                {exits.summary.exits.map((e, i, all) => {
                  const upTo = all.slice(0, i + 1).reduce((s, x) => s + x.segmentMacs + x.branchMacs, 0);
                  return (
                    <tr key={e.name}>
                      <th scope="row">{e.name}</th>
                      <td className="num">{e.segmentMacs.toLocaleString('en')}</td>
                      <td className="num">{e.branchMacs.toLocaleString('en')}</td>
                      <td className="num">{upTo.toLocaleString('en')}</td>
                      <td className="num">{e.testAccuracy === null ? '—' : pct(e.testAccuracy)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          {exits.summary.dropped.length > 0 && <p className="muted">Dropped (no better than chance): {exits.summary.dropped.map((d) => `${d.layer} (${pct(d.testAccuracy)})`).join(', ')}.</p>}
        </section>
      )}

      {sweep && (
        <section className="card" aria-labelledby="exits-trade-title">
          <h2 id="exits-trade-title">Decision mechanisms: cost against accuracy</h2>
          <p className="muted">
            The single-exit network scores {pct(sweep.single.accuracy)} on this stream at {Math.round(sweep.single.meanMacs).toLocaleString('en')} MACs per frame. Every mechanism over its thresholds ({Object.values(sweep.curves).reduce((s, c) => s + c.length, 0)} replays in {sweep.ms.toFixed(0)} ms).
            {best && (
              <>
                {' '}
                Cheapest within {sweep.floorPp} pp: <strong data-testid="exits-best">{MECHANISM_LABELS[best.settings.mechanism]}, {settingText(best)}: {pct(1 - best.relativeCost, 1)} fewer MACs at {pct(best.accuracy)}</strong>.
              </>
            )}
          </p>
          <Figure id="exits-tradeoff" title="Accuracy against relative cost, every mechanism and threshold" kind="scatter" data={tradeData} x={TRADE_X} y={TRADE_Y} series={TRADE_SERIES} pointLabel="point" connect={MECHANISMS} height={340} />
          <div className="table-wrap">
            <table data-testid="exits-choices">
              <thead>
                <tr>
                  <th scope="col">Mechanism</th>
                  <th scope="col">Cheapest setting within {sweep.floorPp} pp</th>
                  <th scope="col" className="num">Accuracy</th>
                  <th scope="col" className="num">Relative MACs</th>
                  <th scope="col" className="num">Saved</th>
                  <th scope="col">Frames answered per exit</th>
                </tr>
              </thead>
              <tbody>
                {MECHANISMS.map((m) => {
                  const p = sweep.cheapest[m];
                  return (
                    <tr key={m} className={p && best && p.settings.mechanism === best.settings.mechanism && p.relativeCost === best.relativeCost ? 'current' : undefined}>
                      <th scope="row">
                        <span className="swatch" style={{ background: COLOURS[m] }} aria-hidden /> {MECHANISM_LABELS[m]}
                      </th>
                      {p ? (
                        <>
                          <td>{settingText(p)}</td>
                          <td className="num">{pct(p.accuracy)}</td>
                          <td className="num">{pct(p.relativeCost, 1)}</td>
                          <td className="num">{pct(1 - p.relativeCost, 1)}</td>
                          <td>{p.exitCounts.join(' · ')}</td>
                        </>
                      ) : (
                        <td colSpan={5} className="muted">
                          no setting within {sweep.floorPp} pp
                        </td>
                      )}
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </section>
      )}
      {sweep && <HardwarePanel />}
    </div>
  );
}
