// Which layers can live with a sloppy multiplier? Learn each layer's noise tolerance, check the
// error model against bit-faithful measurements, map a multiplier to every layer, retrain, and
// compare with single-multiplier baselines and the λ trade-off curve (algorithms.md §2).
import { useMemo, useState } from 'react';
import { Figure, type Series } from '../charts/Figure';
import { NumberField } from '../components/NumberField';
import { pct } from '../format';
import { EXCLUDE_SEPARATOR, excludedIds, LIBRARIES } from '../state/settings';
import { useStudio } from '../state/store';
import type { MappingResult } from '../../engine/noise/mapping';
import { inMappingLibrary } from '../../engine/noise/library-choice';

const PALETTE = ['#0969da', '#cf222e', '#1a7f37', '#bf8700', '#8250df', '#e16f24', '#1b7c83', '#bc4c00', '#6e7781', '#d63384', '#2da44e', '#953800'];
const LIBRARY_LABELS: Record<(typeof LIBRARIES)[number], string> = { builtin: 'Built-in library', imported: 'Imported tables', all: 'Both' };
const PHASES: Record<string, string> = { tolerance: 'Learning noise tolerance', 'error-model': 'Error model', guard: 'Checking the choice', evaluate: 'Evaluating', retrain: 'Retraining', baselines: 'Baselines' };

const SIGMA_SERIES: Series[] = [
  { key: 'sigma', label: 'σ_l (tolerated noise ÷ output std)', color: '#0969da' },
  { key: 'share', label: 'share of multiplications', color: '#bf8700' },
];
const SIGMA_RIGHT = { label: 'share of multiplications', series: ['share'], domain: [0, 'auto'] as ['auto' | number, 'auto' | number] };
const SIGMA_X = { key: 'layer', label: 'layer' };
const SIGMA_Y = { label: 'σ_l', domain: [0, 'auto'] as ['auto' | number, 'auto' | number] };
const ERROR_X = { key: 'predicted', label: 'predicted error std σ̂ (integer output units)', numeric: true, log: true };
const ERROR_Y = { label: 'measured error std', log: true };
const ERROR_SERIES: Series[] = [{ key: 'measured', label: '(layer, multiplier) pair', color: '#8250df' }];
const CHOICE_X = { key: 'layer', label: 'layer' };
const CHOICE_Y = { label: 'relative power of the chosen multiplier', domain: [0, 1] as ['auto' | number, 'auto' | number] };
const TRADE_X = { key: 'energy', label: 'relative multiplication energy', numeric: true };
const TRADE_Y = { label: 'test accuracy', fromZero: false };
const TRADE_SERIES: Series[] = [
  { key: 'sweep', label: 'λ sweep (mapped, not retrained)', color: '#0969da' },
  { key: 'mapping', label: 'this mapping (mapped → retrained)', color: '#1a7f37' },
  { key: 'baseline', label: 'one multiplier everywhere (retrained)', color: '#cf222e' },
  { key: 'exact', label: 'exact multiplier', color: '#6e7781' },
];

const keptLabel = (epoch: number) => (epoch === 0 ? 'before retraining' : `after epoch ${epoch}`);

/** Which weights a retraining kept, and why. */
function selectionText(s: { accuracies: number[]; keptEpoch: number; samples: number }): string {
  const scores = s.accuracies.map((a, i) => `${i === 0 ? 'before' : `epoch ${i}`} ${pct(a)}`).join(', ');
  return `The retraining kept the weights ${keptLabel(s.keptEpoch)}: the best on ${s.samples.toLocaleString('en')} held-out training digits (${scores}).`;
}

export function MappingView() {
  const summary = useStudio((s) => s.summary);
  const settings = useStudio((s) => s.settings);
  const set = useStudio((s) => s.set);
  const mapping = useStudio((s) => s.mapping);
  const busyElsewhere = useStudio((s) => s.training.running && s.mapping.job === null);
  const learn = useStudio((s) => s.learnTolerance);
  const map = useStudio((s) => s.mapMultipliers);
  const sweep = useStudio((s) => s.sweepLambda);
  const cancel = useStudio((s) => s.cancelMapping);
  const [lambdas, setLambdas] = useState('0.05, 0.1, 0.2, 0.4, 0.8');
  const lambdaList = lambdas.split(',').map((v) => Number(v.trim()));
  const lambdasValid = lambdaList.length > 0 && lambdaList.every((v) => Number.isFinite(v) && v >= 0);
  const busy = mapping.job !== null || busyElsewhere;
  const result = mapping.result;
  // The latest per-layer tolerances: from a tolerance run, or the ones a mapping learned.
  const tolerances = mapping.tolerance?.layers ?? result?.layers ?? null;

  const sigmaData = useMemo(() => {
    const layers = tolerances ?? (summary?.layers ?? []).filter((l) => l.macs > 0).map((l) => ({ name: l.name, sigma: null as number | null, opsShare: l.macs / summary!.macs }));
    return layers.map((l) => ({ layer: l.name, sigma: mapping.job && mapping.liveSigmas ? (mapping.liveSigmas[l.name] ?? null) : l.sigma, share: l.opsShare }));
  }, [tolerances, mapping.liveSigmas, mapping.job, summary]);

  const errorData = useMemo(
    () => (result?.pairs ?? []).filter((p) => p.predicted > 0 && p.measured > 0).map((p) => ({ predicted: p.predicted, measured: p.measured, pair: `${p.layer} · ${result!.candidates.find((c) => c.id === p.multiplier)?.name ?? p.multiplier}` })),
    [result],
  );

  const colours = useMemo(() => {
    const names = [...new Set((result?.layers ?? []).map((l) => l.multiplierName))];
    return new Map(names.map((n, i) => [n, PALETTE[i % PALETTE.length]]));
  }, [result]);
  const choiceSeries = useMemo<Series[]>(() => [...colours].map(([name, color]) => ({ key: name, label: name, color })), [colours]);
  const choiceData = useMemo(() => (result?.layers ?? []).map((l) => ({ layer: l.name, [l.multiplierName]: l.relativePower })), [result]);

  const tradeData = useMemo(() => {
    const rows: Record<string, number | string | null>[] = (mapping.sweep ?? []).map((p) => ({ energy: p.relativeEnergy, sweep: p.accuracy, point: `λ = ${p.lambda}` }));
    if (result) {
      rows.push({ energy: result.mapped.relativeEnergy, mapping: result.mapped.accuracy, point: `mapped, λ = ${result.lambda}` });
      rows.push({ energy: result.retrained.relativeEnergy, mapping: result.retrained.accuracy, point: `retrained, λ = ${result.lambda}` });
      for (const b of result.baselines) rows.push({ energy: b.relativeEnergy, baseline: b.accuracy, point: `${b.multiplierName} everywhere` });
      rows.push({ energy: 1, exact: result.exact.accuracy, point: 'exact' });
    }
    return rows;
  }, [mapping.sweep, result]);

  const guardText = useMemo(() => {
    if (!result) return '';
    const g = result.guard;
    if (!g) return 'Not checked on held-out digits: every training sample was used for training (or the guard is off), so the choice stands as the error model made it.';
    const name = (id: string) => result.candidates.find((c) => c.id === id)?.name ?? id;
    const head = `Checked before retraining on ${g.samples.toLocaleString('en')} training digits the retraining does not use: exact multiplier ${pct(g.exactAccuracy)}, the choice ${pct(g.chosenAccuracy)}`;
    if (g.steps.length === 0) return `${head}, within the guard of ${(100 * g.budget).toFixed(1)} pp.`;
    const steps = g.steps.map((st) => `${st.layer} ${name(st.from)} → ${name(st.to)} (${pct(st.validationAccuracy)}, energy ${pct(st.relativeEnergy, 1)})`).join('; ');
    return `${head}: more than ${(100 * g.budget).toFixed(1)} pp lost, so layers stepped back to more accurate multipliers, one measured step at a time: ${steps}.`;
  }, [result]);

  if (!summary) return <p className="muted">Open a model first.</p>;

  return (
    <div className="mapping" data-testid="mapping-view">
      <section className="card" aria-labelledby="tolerance-title">
        <h2 id="tolerance-title">Noise tolerance of {summary.title}</h2>
        <p className="muted">
          During training every multiply layer's output gets Gaussian noise of std σ_l × std(output); σ_l is learned by backpropagation against a reward λ·Σ (share of multiplications)·min(|σ_l|, 0.5). Layers that tolerate more noise can take a sloppier multiplier. The model stays as it is: all this runs on a copy.
        </p>
        <div className="train-form">
          <NumberField label="λ (noise reward)" value={settings.lambda} min={0} max={100} step="any" disabled={busy} onChange={(v) => set('lambda', v)} />
          <NumberField label="Tolerance epochs" value={settings.toleranceEpochs} min={1} max={100} step={1} integer disabled={busy} onChange={(v) => set('toleranceEpochs', v)} />
          <NumberField label="Retrain epochs" value={settings.retrainEpochs} min={0} max={100} step={1} integer disabled={busy} onChange={(v) => set('retrainEpochs', v)} />
          <NumberField label="Training samples" value={settings.mappingDigits} min={64} max={8000} step={1} integer disabled={busy} onChange={(v) => set('mappingDigits', v)} />
          <NumberField label="Guard (pp lost before retraining)" value={settings.mappingGuard} min={0} max={100} step="any" disabled={busy} onChange={(v) => set('mappingGuard', v)} />
          <label className="field">
            <span>Multipliers</span>
            <select aria-label="Multipliers to map from" value={settings.library} disabled={busy} onChange={(e) => set('library', e.target.value as (typeof LIBRARIES)[number])}>
              {LIBRARIES.map((l) => (
                <option key={l} value={l}>
                  {LIBRARY_LABELS[l]}
                </option>
              ))}
            </select>
          </label>
        </div>
        <LeaveOut disabled={busy} />
        <div className="actions">
          <button type="button" disabled={busy} onClick={() => void learn()}>
            Learn tolerance
          </button>
          <button type="button" className="primary" disabled={busy} onClick={() => void map()}>
            Map multipliers
          </button>
          <button type="button" disabled={mapping.job === null || mapping.cancelling} onClick={() => void cancel()}>
            {mapping.cancelling ? 'Cancelling…' : 'Cancel'}
          </button>
        </div>
        <div className="progress-row" aria-live="polite" data-testid="mapping-status">
          {mapping.job && (
            <>
              <progress max={1} value={mapping.progress?.fraction ?? 0} aria-label="Progress of the phase" />
              <span>
                {mapping.progress ? `${PHASES[mapping.progress.phase] ?? mapping.progress.phase}: ${mapping.progress.detail}` : 'starting…'}
              </span>
            </>
          )}
          {busyElsewhere && <span className="muted">The engine is busy training; mapping waits until it is done.</span>}
        </div>
        {mapping.error && (
          <p className="error" role="alert">
            {mapping.error}
          </p>
        )}
        <Figure id="noise-tolerance" title="Learned noise tolerance per layer" kind="bar" data={sigmaData} x={SIGMA_X} y={SIGMA_Y} series={SIGMA_SERIES} rightAxis={SIGMA_RIGHT} height={240} />
        {tolerances && (
          <div className="table-wrap">
            <table data-testid="tolerance-table">
              <thead>
                <tr>
                  <th scope="col">Layer</th>
                  <th scope="col" className="num">Share of MACs</th>
                  <th scope="col" className="num">σ_l</th>
                  <th scope="col" className="num">std(Y), integer units</th>
                  <th scope="col" className="num">σ_tol = σ_l·std(Y)</th>
                </tr>
              </thead>
              <tbody>
                {tolerances.map((l) => (
                  <tr key={l.name}>
                    <th scope="row">{l.name}</th>
                    <td className="num">{pct(l.opsShare, 1)}</td>
                    <td className="num">{l.sigma.toFixed(3)}</td>
                    <td className="num">{Math.round(l.outputStd).toLocaleString('en')}</td>
                    <td className="num">{Math.round(l.sigmaTol).toLocaleString('en')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      {result && (
        <>
          <section className="card" aria-labelledby="error-model-title">
            <h2 id="error-model-title">Error model: predicted against measured</h2>
            <p className="muted">
              For every layer and multiplier, the output error std predicted from operand histograms alone (512 sampled receptive fields, the weight histogram, fan-in) against the error measured product by product at the same places.{' '}
              <strong data-testid="error-correlation">Correlation {result.correlation.toFixed(3)}</strong>
              {result.correlation >= 0.9 ? ': the prediction can be trusted to rank multipliers here.' : ': below 0.9, treat the choices with care.'}
            </p>
            <Figure id="error-model" title={`Predicted vs measured error std (r = ${result.correlation.toFixed(3)})`} kind="scatter" data={errorData} x={ERROR_X} y={ERROR_Y} series={ERROR_SERIES} pointLabel="pair" diagonal height={300} />
          </section>

          <section className="card" aria-labelledby="mapping-result-title">
            <h2 id="mapping-result-title">Chosen multipliers</h2>
            <dl className="stats" data-testid="mapping-result">
              <div>
                <dt>8-bit, exact multiplier</dt>
                <dd data-testid="mapping-exact">{pct(result.exact.accuracy)}</dd>
              </div>
              <div>
                <dt>Mapped (energy {pct(result.mapped.relativeEnergy, 1)})</dt>
                <dd data-testid="mapping-mapped">{pct(result.mapped.accuracy)}</dd>
              </div>
              <div>
                <dt>Retrained (energy {pct(result.retrained.relativeEnergy, 1)})</dt>
                <dd data-testid="mapping-retrained">{pct(result.retrained.accuracy)}</dd>
              </div>
              <div>
                <dt>Multiplication energy saved</dt>
                <dd data-testid="mapping-saving">{pct(1 - result.retrained.relativeEnergy, 1)}</dd>
              </div>
            </dl>
            <p className="muted" data-testid="mapping-guard">
              {guardText}
            </p>
            {result.retrained.selection && (
              <p className="muted" data-testid="mapping-selection">
                {selectionText(result.retrained.selection)}
              </p>
            )}
            <Figure id="mapping-choice" title="Relative power of each layer's multiplier" kind="bar" stacked data={choiceData} x={CHOICE_X} y={CHOICE_Y} series={choiceSeries} height={240} />
            <div className="table-wrap">
              <table data-testid="mapping-table">
                <thead>
                  <tr>
                    <th scope="col">Layer</th>
                    <th scope="col" className="num">Share of MACs</th>
                    <th scope="col">Multiplier</th>
                    <th scope="col" className="num">Rel. power</th>
                    <th scope="col" className="num">σ_tol</th>
                    <th scope="col" className="num">Predicted σ̂</th>
                    <th scope="col" className="num">Measured σ</th>
                  </tr>
                </thead>
                <tbody>
                  {result.layers.map((l) => (
                    <tr key={l.name}>
                      <th scope="row">{l.name}</th>
                      <td className="num">{pct(l.opsShare, 1)}</td>
                      <td>
                        <span className="swatch" style={{ background: colours.get(l.multiplierName) }} aria-hidden /> {l.multiplierName}
                      </td>
                      <td className="num">{l.relativePower.toFixed(3)}</td>
                      <td className="num">{Math.round(l.sigmaTol).toLocaleString('en')}</td>
                      <td className="num">{Math.round(l.predicted).toLocaleString('en')}</td>
                      <td className="num">{Math.round(l.measured).toLocaleString('en')}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <h3>Against one multiplier for every layer</h3>
            {result.baselines.length === 0 ? (
              <p className="muted">No baseline was run (cancelled, or none was needed).</p>
            ) : (
              <div className="table-wrap">
                <table data-testid="baseline-table">
                  <thead>
                    <tr>
                      <th scope="col">Baseline</th>
                      <th scope="col">Multiplier</th>
                      <th scope="col" className="num">Rel. energy</th>
                      <th scope="col" className="num">Accuracy, mapped</th>
                      <th scope="col" className="num">Accuracy, retrained</th>
                      <th scope="col">Weights kept</th>
                    </tr>
                  </thead>
                  <tbody>
                    {result.baselines.map((b) => (
                      <tr key={b.kind}>
                        <th scope="row">{b.kind === 'same-energy' ? 'same energy' : 'same accuracy'}</th>
                        <td>{b.multiplierName}</td>
                        <td className="num">{pct(b.relativeEnergy, 1)}</td>
                        <td className="num">{pct(b.accuracyBefore)}</td>
                        <td className="num">{pct(b.accuracy)}</td>
                        <td>{b.selection ? keptLabel(b.selection.keptEpoch) : 'last epoch'}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
            {result.baselineSearch && <BaselineSearch search={result.baselineSearch} />}
          </section>
        </>
      )}

      <section className="card" aria-labelledby="tradeoff-title">
        <h2 id="tradeoff-title">The trade-off: λ sweep</h2>
        <p className="muted">Each λ learns tolerances afresh and maps multipliers (no retraining): a larger λ buys more noise, so cheaper multipliers and lower accuracy.</p>
        <div className="train-form">
          <label className="field">
            <span>λ values</span>
            <input aria-label="λ values, comma-separated" value={lambdas} disabled={busy} aria-invalid={!lambdasValid} onChange={(e) => setLambdas(e.target.value)} />
            {!lambdasValid && <small className="error">numbers ≥ 0, separated by commas</small>}
          </label>
          <button type="button" disabled={busy || !lambdasValid} onClick={() => void sweep(lambdaList)}>
            Run λ sweep
          </button>
        </div>
        {tradeData.length > 0 && <Figure id="lambda-sweep" title="Accuracy against relative multiplication energy" kind="scatter" data={tradeData} x={TRADE_X} y={TRADE_Y} series={TRADE_SERIES} pointLabel="point" connect={['sweep', 'mapping']} height={300} />}
      </section>
    </div>
  );
}

/** Every single multiplier the same-accuracy search looked at, so its "cheapest" can be checked. */
function BaselineSearch({ search }: { search: NonNullable<MappingResult['baselineSearch']> }) {
  const retrained = new Map(search.retrained.map((b) => [b.multiplier, b]));
  return (
    <details data-testid="baseline-search">
      <summary>
        How the same-accuracy baseline was searched: {search.probes.length} single multipliers probed, {search.retrained.length} retrained
      </summary>
      <p className="muted">
        Cheapest first, each multiplier in every layer is scored before retraining on the first {search.probeSamples.toLocaleString('en')} test digits; those within{' '}
        {Math.round(100 * search.margin)} pp of the mapping&apos;s retrained accuracy are retrained (at most {search.maxRetrained}) until one reaches it.
      </p>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Multiplier</th>
              <th scope="col" className="num">Rel. energy</th>
              <th scope="col" className="num">Probe accuracy</th>
              <th scope="col" className="num">Retrained</th>
            </tr>
          </thead>
          <tbody>
            {search.probes.map((p) => (
              <tr key={p.multiplier}>
                <th scope="row">{p.multiplierName}</th>
                <td className="num">{pct(p.relativeEnergy, 1)}</td>
                <td className="num">{pct(p.accuracy)}</td>
                <td className="num">{retrained.has(p.multiplier) ? pct(retrained.get(p.multiplier)!.accuracy) : p.withinReach ? 'not needed' : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}

/**
 * Multipliers the mapping (and the QoS view's instances) may not take: a design the target hardware
 * lacks, or one left out to compare libraries. Kept in the settings and the share link.
 */
function LeaveOut({ disabled }: { disabled: boolean }) {
  const settings = useStudio((s) => s.settings);
  const set = useStudio((s) => s.set);
  const multipliers = useStudio((s) => s.multipliers);
  const load = useStudio((s) => s.loadMultipliers);
  const excluded = excludedIds(settings);
  const inLibrary = multipliers.list.filter((m) => m.id !== 'exact' && inMappingLibrary(m, settings.library));
  const toggle = (id: string, leaveOut: boolean) => {
    const next = leaveOut ? [...excluded, id] : excluded.filter((x) => x !== id);
    set('mappingExclude', next.join(EXCLUDE_SEPARATOR));
  };
  return (
    <details className="leave-out" data-testid="mapping-exclude" onToggle={(e) => (e.currentTarget.open ? void load() : undefined)}>
      <summary>
        Leave out multipliers{excluded.length > 0 ? `: ${excluded.length} left out` : ''}
      </summary>
      <p className="muted">Ticked multipliers are never chosen, here or for the QoS view&apos;s instances. The exact multiplier always stays.</p>
      {multipliers.status === 'loading' && <p className="muted">Listing multipliers…</p>}
      {multipliers.status === 'error' && <p className="error">{multipliers.error}</p>}
      <fieldset className="leave-out-list" disabled={disabled}>
        <legend className="sr-only">Multipliers to leave out</legend>
        {inLibrary.map((m) => (
          <label key={m.id} className="check">
            <input type="checkbox" checked={excluded.includes(m.id)} onChange={(e) => toggle(m.id, e.target.checked)} /> {m.name}
          </label>
        ))}
      </fieldset>
      {excluded.length > 0 && (
        <button type="button" disabled={disabled} onClick={() => set('mappingExclude', '')}>
          Leave none out
        </button>
      )}
    </details>
  );
}
