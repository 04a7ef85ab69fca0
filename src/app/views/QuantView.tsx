// Low-bit activation quantisation (algorithms.md §6): accuracy against activation bits for the
// double-stage Squeeze-and-Threshold quantiser and a uniform baseline, and one layer's learned
// thresholds over the histogram of what reaches them.
import { useEffect, useMemo } from 'react';
import { Figure, type Marker, type Series } from '../charts/Figure';
import { NumberField } from '../components/NumberField';
import { pct } from '../format';
import { runKey, useStudio } from '../state/store';
import type { QuantStudyRun } from '../../engine/quant/study';
import type { Bits, QuantMethod } from '../../engine/quant/quantiser';

const METHODS: { id: QuantMethod; label: string; color: string }[] = [
  { id: 'st', label: 'Squeeze-and-Threshold (reconstructed)', color: '#0969da' },
  { id: 'uniform', label: 'uniform baseline', color: '#cf222e' },
];
const METHOD_NAMES: Record<QuantMethod, string> = { st: 'Squeeze-and-Threshold', uniform: 'uniform' };
const BITS: Bits[] = [1, 2, 3, 4, 8];

// Categories, not a numeric axis: the widths 1, 2, 3, 4, 8 sit evenly, each with its tick.
const BITS_X = { key: 'bits', label: 'activation bits' };
const ACCURACY_Y = { label: 'test accuracy', percent: true, domain: ['auto', 'auto'] as ['auto', 'auto'] };
const BITS_SERIES: Series[] = [...METHODS.map((m) => ({ key: m.id, label: m.label, color: m.color })), { key: 'float', label: 'float model', color: '#6e7781' }];
const HIST_X = { key: 'value', label: 'activation entering the layer', numeric: true };
const HIST_Y = { label: 'values per bin', domain: [0, 'auto'] as [number, 'auto'] };
const HIST_SERIES: Series[] = [{ key: 'count', label: 'activations (128 test samples; exact zeros left out)', color: '#8c959f' }];

const toggle = (list: string, item: string, order: readonly string[]) => {
  const set = new Set(list.split(','));
  if (set.has(item)) set.delete(item);
  else set.add(item);
  return order.filter((o) => set.has(o)).join(',');
};

export function QuantView() {
  const summary = useStudio((s) => s.summary);
  const settings = useStudio((s) => s.settings);
  const set = useStudio((s) => s.set);
  const quant = useStudio((s) => s.quant);
  const busyElsewhere = useStudio((s) => s.training.running && !s.quant.running);
  const run = useStudio((s) => s.runQuantisation);
  const cancel = useStudio((s) => s.cancelQuantisation);
  const restore = useStudio((s) => s.restoreQuantisation);
  const pickLayer = useStudio((s) => s.pickQuantLayer);
  const busy = quant.running || busyElsewhere;
  const study = quant.model === settings.model ? quant.study : null;
  const methods = settings.quantMethods.split(',') as QuantMethod[];
  const bits = settings.quantBits.split(',').map(Number) as Bits[];

  // Minutes of fine-tuning are kept per model in the browser's storage.
  useEffect(() => {
    if (summary && quant.checked !== settings.model) void restore();
  }, [summary, quant.checked, settings.model, restore]);

  const bitsData = useMemo(() => {
    if (!study) return [];
    const widths = [...new Set(study.runs.map((r) => r.bits))].sort((a, b) => a - b);
    return widths.map((b) => {
      const row: Record<string, number | null> = { bits: b, float: study.floatAccuracy };
      for (const m of METHODS) row[m.id] = study.runs.find((r) => r.method === m.id && r.bits === b)?.accuracy ?? null;
      return row;
    });
  }, [study]);

  const shown: QuantStudyRun | null = study ? (study.runs.find((r) => runKey(r) === quant.pick.run) ?? study.runs[0]) : null;
  const layer = shown ? (shown.layers.find((l) => l.layer === quant.pick.layer) ?? shown.layers[0]) : null;
  const channel = layer ? Math.min(quant.pick.channel, layer.channels - 1) : 0;

  const picture = useMemo(() => {
    if (!layer) return null;
    const h = layer.histograms[channel];
    const row = Math.min(channel, layer.thresholds.length - 1);
    const width = (h.hi - h.lo) / h.counts.length;
    // A staircase: each bin's left edge, and the right edge of the last one.
    const data = [...h.counts.map((count, i) => ({ value: h.lo + i * width, count })), { value: h.hi, count: h.counts[h.counts.length - 1] }];
    const markers: Marker[] = [
      { key: 'threshold', label: `thresholds (${layer.thresholds[row].length})`, color: '#cf222e', values: layer.thresholds[row] },
      // 256 levels at 8 bits would cover the plot: levels are drawn up to 4 bits.
      ...(layer.levels[row].length <= 16 ? [{ key: 'level', label: `output levels (${layer.levels[row].length})`, color: '#2da44e', values: layer.levels[row], dashed: true }] : []),
    ];
    return { data, markers, zeros: h.zeros / h.total, shared: layer.thresholds.length === 1 && layer.channels > 1 };
  }, [layer, channel]);

  if (!summary) return <p className="muted">Open a model first.</p>;
  const p = quant.progress;

  return (
    <div className="quant" data-testid="quant-view">
      <section className="card" aria-labelledby="quant-title">
        <h2 id="quant-title">Low-bit activations for {summary.title}</h2>
        <p className="muted">
          A b-bit quantiser goes in front of every convolution; each run quantises a copy of the model, calibrates it on training data and fine-tunes weights and quantisers together (straight-through), then measures the test set. <strong>Squeeze-and-Threshold</strong> learns 2<sup>b</sup> − 1 thresholds and 2<sup>b</sup> levels per channel, with a squeeze-and-attention stage while training only; it is <em>reconstructed from the paper's abstract</em> where the abstract says no more (src/engine/quant/squeeze-threshold.ts). The <strong>uniform</strong> baseline learns one clipping range per tensor. The open model itself stays as it is.
        </p>
        <div className="train-form">
          <fieldset className="checks" disabled={busy}>
            <legend>Methods</legend>
            {METHODS.map((m) => (
              <label key={m.id} className="check">
                <input type="checkbox" checked={methods.includes(m.id)} disabled={methods.length === 1 && methods.includes(m.id)} onChange={() => set('quantMethods', toggle(settings.quantMethods, m.id, METHODS.map((x) => x.id)))} /> {METHOD_NAMES[m.id]}
              </label>
            ))}
          </fieldset>
          <fieldset className="checks" disabled={busy}>
            <legend>Activation bits</legend>
            {BITS.map((b) => (
              <label key={b} className="check">
                <input type="checkbox" aria-label={`${b} bit${b > 1 ? 's' : ''}`} checked={bits.includes(b)} disabled={bits.length === 1 && bits.includes(b)} onChange={() => set('quantBits', toggle(settings.quantBits, String(b), BITS.map(String)))} /> {b}
              </label>
            ))}
          </fieldset>
          <NumberField label="Fine-tune epochs" value={settings.quantEpochs} min={0} max={20} step={1} integer disabled={busy} onChange={(v) => set('quantEpochs', v)} />
          <NumberField label="Training samples" value={settings.quantSamples} min={64} max={8000} step={1} integer disabled={busy} onChange={(v) => set('quantSamples', v)} />
        </div>
        <div className="actions">
          <button type="button" className="primary" disabled={busy} onClick={() => void run()}>
            Quantise {methods.length * bits.length === 1 ? 'once' : `${methods.length * bits.length} ways`}
          </button>
          <button type="button" disabled={!quant.running || quant.cancelling} onClick={() => void cancel()}>
            {quant.cancelling ? 'Cancelling…' : 'Cancel'}
          </button>
        </div>
        <div className="progress-row" aria-live="polite" data-testid="quant-status">
          {quant.running && (
            <>
              <progress max={1} value={p ? (p.run + (p.totalSteps ? p.step / p.totalSteps : 0)) / p.runs : 0} aria-label="Progress of the runs" />
              <span>{p ? `Run ${p.run + 1} of ${p.runs}: ${METHOD_NAMES[p.method]}, ${p.bits} bit${p.bits > 1 ? 's' : ''}${p.totalSteps ? ` — step ${p.step} of ${p.totalSteps}` : ' — calibrating'}` : 'starting…'}</span>
            </>
          )}
          {busyElsewhere && <span className="muted">The engine is busy with another job; quantisation waits until it is done.</span>}
          {quant.restoring && <span className="muted">Looking for earlier results…</span>}
        </div>
        {quant.notice && <p className="muted" role="status">{quant.notice}</p>}
        {quant.error && (
          <p className="error" role="alert">
            {quant.error}
          </p>
        )}
      </section>

      {study && (
        <section className="card" aria-labelledby="quant-bits-title">
          <h2 id="quant-bits-title">Accuracy against activation bits</h2>
          <p className="muted">
            {study.runs.length === 1 ? '1 run' : `${study.runs.length} runs`}
            {study.epochs === 0 ? ', calibrated on training samples without fine-tuning' : `, ${study.runs.length === 1 ? '' : 'each '}fine-tuned ${study.epochs} epoch${study.epochs === 1 ? '' : 's'} on ${study.trainCount.toLocaleString('en')} training samples`}; accuracy on {study.testCount.toLocaleString('en')} test samples. Float model: <strong data-testid="quant-float">{pct(study.floatAccuracy)}</strong>.
          </p>
          <Figure id="quant-bits" title={`${summary.title}: test accuracy against activation bits`} kind="line" data={bitsData} x={BITS_X} y={ACCURACY_Y} series={BITS_SERIES} height={280} />
          <div className="table-wrap">
            <table data-testid="quant-table">
              <thead>
                <tr>
                  <th scope="col">Method</th>
                  <th scope="col" className="num">Bits</th>
                  <th scope="col" className="num">Calibrated</th>
                  <th scope="col" className="num">Fine-tuned</th>
                  <th scope="col" className="num">Δ to float</th>
                  <th scope="col" className="num">Steps</th>
                  <th scope="col" className="num">Time</th>
                </tr>
              </thead>
              <tbody>
                {study.runs.map((r) => {
                  const delta = (r.accuracy - study.floatAccuracy) * 100;
                  return (
                    <tr key={runKey(r)} className={runKey(r) === (shown && runKey(shown)) ? 'selected' : undefined}>
                      <th scope="row">{METHOD_NAMES[r.method]}</th>
                      <td className="num">{r.bits}</td>
                      <td className="num">{pct(r.calibratedAccuracy)}</td>
                      <td className="num">{pct(r.accuracy)}</td>
                      <td className={delta < -1 ? 'num bad' : 'num'}>{`${delta >= 0 ? '+' : '−'}${Math.abs(delta).toFixed(2)} pp`}</td>
                      <td className="num">{r.steps}</td>
                      <td className="num">{r.seconds.toFixed(1)} s</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </section>
      )}

      {study && shown && layer && picture && (
        <section className="card" aria-labelledby="quant-layer-title">
          <h2 id="quant-layer-title">Thresholds of one layer</h2>
          <p className="muted">
            What reaches the quantiser in front of a layer (in the quantised, fine-tuned network, over 128 test samples) and the staircase it applies: an input above the j-th threshold gets at least level j. {picture.shared ? 'The uniform baseline shares one staircase across all channels.' : ''}
          </p>
          <div className="train-form">
            <label className="field">
              <span>Run</span>
              <select aria-label="Run" value={runKey(shown)} onChange={(e) => pickLayer({ run: e.target.value })}>
                {study.runs.map((r) => (
                  <option key={runKey(r)} value={runKey(r)}>
                    {METHOD_NAMES[r.method]}, {r.bits} bit{r.bits > 1 ? 's' : ''}
                  </option>
                ))}
              </select>
            </label>
            <label className="field">
              <span>Layer</span>
              <select aria-label="Layer" value={layer.layer} onChange={(e) => pickLayer({ layer: e.target.value, channel: 0 })}>
                {shown.layers.map((l) => (
                  <option key={l.layer} value={l.layer}>
                    {l.layer} ({l.type}, {l.channels} channel{l.channels > 1 ? 's' : ''})
                  </option>
                ))}
              </select>
            </label>
            <NumberField label={`Channel (0–${layer.channels - 1})`} value={channel} min={0} max={layer.channels - 1} step={1} integer onChange={(v) => pickLayer({ channel: v })} />
          </div>
          <p className="small muted" data-testid="quant-zeros">
            {pct(picture.zeros, 1)} of this channel's values are exactly 0{layer.signed ? '' : ' (after a ReLU)'}: they take the lowest level and are not drawn.
          </p>
          <div data-testid="quant-thresholds" data-thresholds={picture.markers[0].values.length}>
            <Figure
              id="quant-thresholds"
              title={`${layer.layer}, channel ${channel}: ${METHOD_NAMES[shown.method]} at ${shown.bits} bit${shown.bits > 1 ? 's' : ''}`}
              kind="line"
              step
              data={picture.data}
              x={HIST_X}
              y={HIST_Y}
              series={HIST_SERIES}
              markers={picture.markers}
              height={280}
            />
          </div>
        </section>
      )}
    </div>
  );
}
