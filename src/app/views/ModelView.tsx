import { KeywordDemo, SincBands } from '../components/KeywordDemo';
import { useMemo } from 'react';
import { useStudio } from '../state/store';
import { Figure } from '../charts/Figure';
import { ModelPicker } from '../components/ModelPicker';
import { ModelImport } from '../components/ModelImport';
import { DigitStrip } from '../components/DigitStrip';
import { compact, int, pct, shape } from '../format';

export function ModelView() {
  return (
    <div className="split">
      <aside className="sidebar">
        <ModelPicker />
        <ModelImport />
      </aside>
      <ModelDetail />
    </div>
  );
}

function ModelDetail() {
  const summary = useStudio((s) => s.summary);
  const evaluation = useStudio((s) => s.evaluation);
  const evaluating = useStudio((s) => s.evaluating);
  const samples = useStudio((s) => s.samples);
  const error = useStudio((s) => s.modelError);
  const engine = useStudio((s) => s.engine);
  const trainedUnsaved = useStudio((s) => s.trainedUnsaved);

  const share = useMemo(
    () => (summary ? summary.layers.filter((l) => l.macs > 0).map((l) => ({ layer: l.name, share: l.macs / summary.macs, macs: l.macs })) : []),
    [summary],
  );

  if (!summary) {
    return (
      <section className="detail" aria-busy="true">
        {error && <p className="error" role="alert">{error}</p>}
        <p className="muted">{engine.status === 'error' ? engine.error : 'Opening the model…'}</p>
      </section>
    );
  }
  return (
    <section className="detail" aria-labelledby="model-title">
      {error && (
        <p className="error" role="alert" data-testid="model-error">
          {error}
        </p>
      )}
      <h2 id="model-title" data-testid="model-title">
        {summary.title}
      </h2>
      <p className="muted">{summary.description}</p>
      {trainedUnsaved && (
        <p className="notice-warn" role="status" data-testid="trained-unsaved">
          These weights were changed by training in this session and are not kept yet: keep them from the Train view, or pick the model again to restore its stored weights.
        </p>
      )}
      <dl className="stats">
        <div>
          <dt>Test accuracy (measured here)</dt>
          <dd data-testid="test-accuracy">{evaluation ? pct(evaluation.accuracy) : evaluating ? 'measuring…' : '—'}</dd>
          {evaluation && <dd className="muted small">{int(evaluation.count)} held-out {summary.taskTitle}</dd>}
        </div>
        <div>
          <dt>Parameters</dt>
          <dd>{int(summary.params)}</dd>
        </div>
        <div>
          <dt>Multiply-accumulates / inference</dt>
          <dd data-testid="total-macs">{int(summary.macs)}</dd>
        </div>
        <div>
          <dt>Layers</dt>
          <dd>{summary.layers.length}</dd>
        </div>
      </dl>
      {samples && <DigitStrip samples={samples} />}
      {summary.task === 'keywords' && (
        <>
          <KeywordDemo />
          <SincBands />
        </>
      )}
      <Figure
        id={`mac-share-${summary.name}`}
        title="Share of multiplications per layer"
        kind="bar"
        data={share}
        x={{ key: 'layer', label: 'Layer' }}
        y={{ label: 'Share of MACs', percent: true }}
        series={[{ key: 'share', label: 'Share of multiply-accumulates', color: '#2563eb' }]}
      />
      <LayerTable />
    </section>
  );
}

function LayerTable() {
  const summary = useStudio((s) => s.summary)!;
  return (
    <div className="table-wrap">
      <table className="layers" data-testid="layer-table">
        <caption>Layers of {summary.title}</caption>
        <thead>
          <tr>
            <th scope="col">Layer</th>
            <th scope="col">Type</th>
            <th scope="col">Output shape</th>
            <th scope="col" className="num">Parameters</th>
            <th scope="col" className="num">MACs / inference</th>
            <th scope="col" className="num">Share</th>
          </tr>
        </thead>
        <tbody>
          {summary.layers.map((l) => (
            <tr key={l.name} className={l.macs > 0 ? 'compute' : undefined}>
              <th scope="row">{l.name}</th>
              <td>{l.type}</td>
              <td className="mono">{shape(l.outputShape)}</td>
              <td className="num">{int(l.params)}</td>
              <td className="num">{l.macs ? int(l.macs) : ''}</td>
              <td className="num">
                {l.macs > 0 && (
                  <span className="share">
                    <span className="bar" style={{ width: `${(l.macs / summary.macs) * 100}%` }} />
                    {pct(l.macs / summary.macs, 1)}
                  </span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row">Total</th>
            <td />
            <td />
            <td className="num">{int(summary.params)}</td>
            <td className="num">{compact(summary.macs)}</td>
            <td />
          </tr>
        </tfoot>
      </table>
    </div>
  );
}
