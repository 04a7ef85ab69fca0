// Quality-of-service operating points (algorithms.md §3): a few multiplier instances shared by
// several accuracy/energy levels, and the slider that moves the running network between them.
import { useEffect, useMemo, useState } from 'react';
import { Figure, type Series } from '../charts/Figure';
import { DigitStrip } from '../components/DigitStrip';
import { NumberField } from '../components/NumberField';
import { QosDemo } from '../components/QosDemo';
import { pct } from '../format';
import { parseScales, useStudio } from '../state/store';
import { excludedIds } from '../state/settings';
import type { QosResult } from '../../engine/qos/build';

/** One colour per instance, cheapest first; readable on light and dark backgrounds. */
export const INSTANCE_COLOURS = ['#cf222e', '#bf8700', '#8250df', '#1b7c83', '#e16f24', '#0969da', '#d63384', '#2da44e'];
const EXACT_COLOUR = '#6e7781';
const PHASES: Record<string, string> = { tolerance: 'Learning noise tolerance', 'error-model': 'Error model', search: 'Searching operating points', evaluate: 'Evaluating points', finetune: 'Fine-tuning all points' };

const PARETO_X = { key: 'power', label: 'relative multiplication power', numeric: true };
const PARETO_Y = { label: 'test accuracy', fromZero: false };
const PARETO_SERIES: Series[] = [
  { key: 'points', label: 'operating points (fine-tuned)', color: '#0969da' },
  { key: 'current', label: 'current point', color: '#cf222e' },
  { key: 'before', label: 'before fine-tuning', color: '#8c959f' },
  { key: 'mapping', label: 'single-point mapping (Mapping view)', color: '#1a7f37' },
  { key: 'sweep', label: 'λ sweep (Mapping view)', color: '#bf8700' },
  { key: 'exact', label: 'exact multiplier', color: EXACT_COLOUR },
];

export const instanceColour = (result: QosResult, id: string) => {
  const i = result.instances.findIndex((m) => m.id === id);
  return id === 'exact' ? EXACT_COLOUR : INSTANCE_COLOURS[i % INSTANCE_COLOURS.length];
};

export function QosView() {
  const summary = useStudio((s) => s.summary);
  const settings = useStudio((s) => s.settings);
  const leftOut = excludedIds(settings).length;
  const set = useStudio((s) => s.set);
  const qos = useStudio((s) => s.qos);
  const mapping = useStudio((s) => s.mapping);
  const busyElsewhere = useStudio((s) => s.training.running && !s.qos.building);
  const build = useStudio((s) => s.buildOperatingPoints);
  const cancel = useStudio((s) => s.cancelOperatingPoints);
  const restore = useStudio((s) => s.restoreOperatingPoints);
  const remove = useStudio((s) => s.deleteOperatingPoints);
  const select = useStudio((s) => s.selectOperatingPoint);
  const [scalesText, setScalesText] = useState(settings.qosScales);
  useEffect(() => setScalesText(settings.qosScales), [settings.qosScales]);
  const scales = parseScales(scalesText);
  const scalesValid = scales.length >= 1 && scales.length <= 8 && scales.every((v) => Number.isFinite(v) && v > 0);
  const busy = qos.building || busyElsewhere;
  const result = qos.model === settings.model ? qos.result : null;

  // The network lives in the worker: after a reload it comes back from the browser's storage.
  useEffect(() => {
    if (summary && result && !qos.ready && !qos.restoring && !qos.building && !qos.error) void restore();
  }, [summary, result, qos.ready, qos.restoring, qos.building, qos.error, restore]);

  const point = result ? result.points[Math.min(qos.point, result.points.length - 1)] : null;

  const paretoData = useMemo(() => {
    if (!result) return [];
    const rows: Record<string, number | string | null>[] = result.points.map((p, i) => ({ power: p.relativePower, points: p.accuracyAfter, point: `point ${i + 1} (scale ${p.scale})` }));
    for (const [i, p] of result.points.entries()) rows.push({ power: p.relativePower, before: p.accuracyBefore, point: `point ${i + 1} before fine-tuning` });
    if (point) rows.push({ power: point.relativePower, current: point.accuracyAfter, point: 'current point' });
    if (mapping.model === settings.model && mapping.result) rows.push({ power: mapping.result.retrained.relativeEnergy, mapping: mapping.result.retrained.accuracy, point: `mapping, λ = ${mapping.result.lambda}` });
    if (mapping.model === settings.model) for (const p of mapping.sweep ?? []) rows.push({ power: p.relativeEnergy, sweep: p.accuracy, point: `λ = ${p.lambda}` });
    rows.push({ power: 1, exact: result.exactAccuracy, point: 'exact' });
    return rows;
  }, [result, point, mapping, settings.model]);

  if (!summary) return <p className="muted">Open a model first.</p>;

  return (
    <div className="qos" data-testid="qos-view">
      <section className="card" aria-labelledby="qos-build-title">
        <h2 id="qos-build-title">Operating points for {summary.title}</h2>
        <p className="muted">
          K multiplier instances are shared by every point: each layer's tolerated noise (learned as in the Mapping view, with its λ, epochs, digits and library) is scaled per point, the (layer, point) pairs are clustered into K groups, and each group takes the cheapest multiplier its centre tolerates. Then all points are fine-tuned together: weights shared, BatchNorm and biases per point. Switching points swaps only those.
        </p>
        {leftOut > 0 && (
          <p className="muted" data-testid="qos-excluded">
            {leftOut === 1 ? 'One multiplier is' : `${leftOut} multipliers are`} left out (Mapping view, “Leave out multipliers”).
          </p>
        )}
        <div className="train-form">
          <NumberField label="Instances K" value={settings.qosInstances} min={1} max={16} step={1} integer disabled={busy} onChange={(v) => set('qosInstances', v)} />
          <label className="field">
            <span>Tolerance scale per point</span>
            <input
              aria-label="Tolerance scale per point, comma-separated"
              value={scalesText}
              disabled={busy}
              aria-invalid={!scalesValid}
              onChange={(e) => {
                setScalesText(e.target.value);
                const v = parseScales(e.target.value);
                if (v.length >= 1 && v.length <= 8 && v.every((x) => Number.isFinite(x) && x > 0)) set('qosScales', e.target.value);
              }}
            />
            {!scalesValid && <small className="error">1 to 8 positive numbers, separated by commas</small>}
          </label>
          <NumberField label="Fine-tune epochs" value={settings.qosFinetuneEpochs} min={0} max={20} step={1} integer disabled={busy} onChange={(v) => set('qosFinetuneEpochs', v)} />
        </div>
        <div className="actions">
          <button type="button" className="primary" disabled={busy || !scalesValid} onClick={() => void build()}>
            Build operating points
          </button>
          <button type="button" disabled={!qos.building || qos.cancelling} onClick={() => void cancel()}>
            {qos.cancelling ? 'Cancelling…' : 'Cancel'}
          </button>
          {result && (
            <button type="button" disabled={busy} onClick={() => void remove()}>
              Forget these points
            </button>
          )}
        </div>
        <div className="progress-row" aria-live="polite" data-testid="qos-status">
          {qos.building && (
            <>
              <progress max={1} value={qos.progress?.fraction ?? 0} aria-label="Progress of the phase" />
              <span>{qos.progress ? `${PHASES[qos.progress.phase] ?? qos.progress.phase}: ${qos.progress.detail}` : 'starting…'}</span>
            </>
          )}
          {qos.restoring && <span className="muted">Restoring the network from this browser’s storage…</span>}
          {busyElsewhere && <span className="muted">The engine is busy with another job; building waits until it is done.</span>}
        </div>
        {qos.error && (
          <p className="error" role="alert">
            {qos.error}
          </p>
        )}
        {qos.notice && (
          <p className="muted" role="status" data-testid="qos-notice">
            {qos.notice}
          </p>
        )}
      </section>

      {result && point && (
        <>
          <section className="card qos-live" aria-labelledby="qos-slider-title">
            <h2 id="qos-slider-title">The QoS slider</h2>
            <div className="qos-slider">
              <label htmlFor="qos-point">Operating point</label>
              <input
                id="qos-point"
                type="range"
                min={0}
                max={result.points.length - 1}
                step={1}
                value={qos.point}
                disabled={!qos.ready}
                aria-valuetext={`point ${qos.point + 1} of ${result.points.length}: ${pct(point.relativePower, 1)} power, ${pct(point.accuracyAfter)} accuracy`}
                onChange={(e) => void select(Number(e.target.value))}
              />
              <div className="qos-ticks" aria-hidden>
                <span>most accurate</span>
                <span>cheapest</span>
              </div>
            </div>
            <dl className="stats" data-testid="qos-readout">
              <div>
                <dt>Point</dt>
                <dd data-testid="qos-point-label">
                  {qos.point + 1} of {result.points.length} <span className="muted small">(scale {point.scale})</span>
                </dd>
              </div>
              <div>
                <dt>Test accuracy (fine-tuned)</dt>
                <dd data-testid="qos-accuracy">{pct(point.accuracyAfter)}</dd>
              </div>
              <div>
                <dt>Relative multiplication power</dt>
                <dd data-testid="qos-power">{pct(point.relativePower, 1)}</dd>
              </div>
              <div>
                <dt>Slider to predictions</dt>
                <dd data-testid="qos-latency" data-ms={qos.lastSwitchMs ?? undefined}>{qos.lastSwitchMs === null ? '—' : `${qos.lastSwitchMs.toFixed(0)} ms`}</dd>
                {qos.predictions && (
                  <dd className="small muted">
                    switch {qos.predictions.switchMs.toFixed(2)} ms, inference {qos.predictions.inferenceMs.toFixed(0)} ms
                  </dd>
                )}
              </div>
            </dl>
            <LayerStrip result={result} point={qos.point} />
            {qos.predictions && qos.predictions.point === qos.point && (
              <DigitStrip
                samples={{ count: qos.predictions.labels.length, height: qos.predictions.height, width: qos.predictions.width, pixels: qos.predictions.pixels, display: qos.predictions.display, labels: qos.predictions.labels, predictions: qos.predictions.predictions, confidences: qos.predictions.confidences }}
              />
            )}
          </section>

          <section className="card" aria-labelledby="qos-pareto-title">
            <h2 id="qos-pareto-title">Accuracy against power</h2>
            <Figure id="qos-pareto" title="Operating points: test accuracy against relative multiplication power" kind="scatter" data={paretoData} x={PARETO_X} y={PARETO_Y} series={PARETO_SERIES} pointLabel="point" connect={['points']} height={300} />
            <div className="table-wrap">
              <table data-testid="qos-points-table">
                <thead>
                  <tr>
                    <th scope="col">Point</th>
                    <th scope="col" className="num">Scale</th>
                    <th scope="col" className="num">Rel. power</th>
                    <th scope="col" className="num">Accuracy before fine-tuning</th>
                    <th scope="col" className="num">Accuracy after</th>
                    <th scope="col" className="num">Per-layer optimum, rel. power</th>
                  </tr>
                </thead>
                <tbody>
                  {result.points.map((p, i) => (
                    <tr key={i} aria-current={i === qos.point ? 'true' : undefined} className={i === qos.point ? 'current' : undefined}>
                      <th scope="row">{i + 1}</th>
                      <td className="num">{p.scale}</td>
                      <td className="num">{pct(p.relativePower, 1)}</td>
                      <td className="num">{pct(p.accuracyBefore)}</td>
                      <td className="num">{pct(p.accuracyAfter)}</td>
                      <td className="num">{pct(result.perLayerOptimal.find((o) => o.scale === p.scale)?.relativePower ?? NaN, 1)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <p data-testid="qos-hardware">
              The chip needs <strong>{result.instances.length}</strong> multiplier instance{result.instances.length === 1 ? '' : 's'} for all {result.points.length} points; giving every layer its own cheapest fitting multiplier at every point would need <strong>{result.perLayerOptimalInstances}</strong>. Per-point parameters (BatchNorm γ, β and biases) add{' '}
              <strong>{result.overhead.trainablePct.toFixed(2)} %</strong> to the model's {result.overhead.modelParams.toLocaleString('en')} parameters ({result.overhead.withStatisticsPct.toFixed(2)} % with the BatchNorm moving statistics). The exact 8-bit model scores {pct(result.exactAccuracy)}.
            </p>
          </section>

          <QosDemo result={result} ready={qos.ready} />
        </>
      )}
    </div>
  );
}

/** Each multiply layer as a block as wide as its share of multiplications, coloured by instance. */
function LayerStrip({ result, point }: { result: QosResult; point: number }) {
  const assignment = result.points[point].assignment;
  const names = new Map(result.instances.map((m) => [m.id, m.name]));
  return (
    <figure className="layer-strip-figure">
      <figcaption>Multiplier of each layer at this point (width: share of multiplications)</figcaption>
      <ol className="layer-strip" data-testid="qos-strip">
        {result.layers.map((l) => {
          const id = assignment[l.name];
          const name = names.get(id) ?? (id === 'exact' ? 'exact' : id);
          return (
            <li key={l.name} style={{ flexGrow: Math.max(l.opsShare, 0.01), background: instanceColour(result, id) }} title={`${l.name}: ${name} (${pct(l.opsShare, 1)} of multiplications)`} data-multiplier={id}>
              <span className="sr-only">
                {l.name}: {name}
              </span>
            </li>
          );
        })}
      </ol>
      <ul className="legend" aria-label="Multiplier instances">
        {result.instances.map((m) => (
          <li key={m.id}>
            <span className="swatch" style={{ background: instanceColour(result, m.id) }} aria-hidden /> {m.name} <span className="muted">({m.relativePower.toFixed(3)})</span>
          </li>
        ))}
      </ul>
    </figure>
  );
}
