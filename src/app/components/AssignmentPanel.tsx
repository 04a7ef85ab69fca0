import { useState } from 'react';
import { useStudio } from '../state/store';
import { NumberField } from './NumberField';
import { pct } from '../format';

/** Choose a multiplier per layer of the open model, evaluate it bit-faithfully, retrain through it. */
export function AssignmentPanel() {
  const summary = useStudio((s) => s.summary);
  const list = useStudio((s) => s.multipliers.list);
  const approx = useStudio((s) => s.approx);
  const assign = useStudio((s) => s.assignMultiplier);
  const evaluate = useStudio((s) => s.evaluateAssignment);
  const retrain = useStudio((s) => s.retrainAssignment);
  const cancel = useStudio((s) => s.cancelTraining);
  const [epochs, setEpochs] = useState(1);
  if (!summary || list.length === 0) return null;
  const layers = summary.layers.filter((l) => l.macs > 0);
  const busy = approx.evaluating || approx.retraining;
  const options = list.filter((m) => !m.signed);
  const result = approx.result;

  return (
    <section className="card" aria-labelledby="assign-title" data-testid="assignment-panel">
      <h2 id="assign-title">Assign multipliers to the layers of {summary.title}</h2>
      <p className="muted">
        Every multiply layer runs in 8 bits (activations per tensor, weights per channel), with the chosen multiplier's exact products. Relative energy is Σ (layer's share of multiplications) × (its multiplier's power ÷ exact).
      </p>
      <label className="field inline">
        <span>All layers</span>
        <select aria-label="Multiplier for all layers" disabled={busy} value="" onChange={(e) => e.target.value && assign(null, e.target.value)}>
          <option value="">choose…</option>
          {options.map((m) => (
            <option key={m.id} value={m.id}>
              {m.name}
            </option>
          ))}
        </select>
      </label>
      <div className="table-wrap">
        <table data-testid="assignment-table">
          <thead>
            <tr>
              <th scope="col">Layer</th>
              <th scope="col" className="num">Share of MACs</th>
              <th scope="col">Multiplier</th>
              <th scope="col" className="num">Rel. power</th>
            </tr>
          </thead>
          <tbody>
            {layers.map((l) => {
              const id = approx.assignment[l.name] ?? 'exact';
              const m = list.find((x) => x.id === id);
              return (
                <tr key={l.name}>
                  <th scope="row">{l.name}</th>
                  <td className="num">{pct(l.macs / summary.macs, 1)}</td>
                  <td>
                    <select aria-label={`Multiplier for ${l.name}`} value={id} disabled={busy} onChange={(e) => assign(l.name, e.target.value)}>
                      {options.map((o) => (
                        <option key={o.id} value={o.id}>
                          {o.name}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td className="num">{m?.power.relative == null ? '?' : m.power.relative.toFixed(3)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <div className="actions assign-actions">
        <button type="button" className="primary" disabled={busy} onClick={() => void evaluate()}>
          {approx.evaluating ? 'Evaluating…' : 'Evaluate'}
        </button>
        <NumberField label="Retrain epochs" value={epochs} min={1} max={50} step={1} integer onChange={setEpochs} disabled={busy} />
        <button type="button" disabled={busy} onClick={() => void retrain(epochs)}>
          Retrain through these multipliers
        </button>
        <button type="button" disabled={!approx.retraining} onClick={() => void cancel()}>
          Cancel
        </button>
      </div>
      <p aria-live="polite" data-testid="assignment-status">
        {approx.progress && approx.evaluating && `Evaluating: ${approx.progress.done}/${approx.progress.total} test digits`}
        {approx.retraining && approx.retrainProgress && `Retraining: step ${approx.retrainProgress.step}/${approx.retrainProgress.totalSteps}, loss ${approx.retrainProgress.loss.toFixed(4)}`}
        {approx.retraining && !approx.retrainProgress && 'Retraining: starting…'}
      </p>
      {approx.error && (
        <p className="error" role="alert">
          {approx.error}
        </p>
      )}
      {result && (
        <dl className="stats" data-testid="assignment-result">
          <div>
            <dt>Test accuracy, these multipliers</dt>
            <dd data-testid="approx-accuracy">{pct(result.accuracy)}</dd>
          </div>
          <div>
            <dt>8-bit, exact multiplier</dt>
            <dd>{pct(result.quantisedAccuracy)}</dd>
          </div>
          <div>
            <dt>Float</dt>
            <dd>{pct(result.floatAccuracy)}</dd>
          </div>
          <div>
            <dt>Relative multiplication energy</dt>
            <dd data-testid="approx-energy">{result.relativeEnergy === null ? 'unknown power' : pct(result.relativeEnergy, 1)}</dd>
          </div>
        </dl>
      )}
      {result && result.batchNormSamples > 0 && (
        <p className="muted" data-testid="assignment-batchnorm">
          BatchNorm statistics re-measured through these multipliers on {result.batchNormSamples.toLocaleString('en')} training samples, as a deployed network
          would be calibrated; the model keeps its own.
        </p>
      )}
    </section>
  );
}
