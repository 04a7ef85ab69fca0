import { useStudio } from '../state/store';
import { pct } from '../format';

export function StatusBar() {
  const engine = useStudio((s) => s.engine);
  const summary = useStudio((s) => s.summary);
  const evaluation = useStudio((s) => s.evaluation);
  const training = useStudio((s) => s.training.running);
  const choice = engine.choice;
  const probe = choice?.probes.find((p) => p.name === choice.backend);
  return (
    <footer className="statusbar" aria-label="Status">
      <span data-testid="engine-status" data-backend={choice?.backend ?? ''} data-status={engine.status}>
        <span className={`dot ${engine.status}`} aria-hidden />
        {engine.status === 'starting' && 'Engine starting: measuring backends…'}
        {engine.status === 'error' && `Engine failed: ${engine.error}`}
        {engine.status === 'ready' && choice && (
          <>
            Backend <strong data-testid="backend-name">{choice.backend}</strong>
            {probe?.detail ? ` (${probe.detail})` : ''} in a Web Worker
            {choice.requested === 'auto' ? ', chosen by measurement' : ', set in Settings'}
          </>
        )}
      </span>
      {choice?.note && <span className="warn">{choice.note}</span>}
      <span className="spacer" />
      {training && <span>Training…</span>}
      {summary && (
        <span data-testid="status-model" data-evaluated={evaluation ? 'yes' : 'no'}>
          {summary.title}
          {evaluation ? ` · ${pct(evaluation.accuracy)} on ${evaluation.count.toLocaleString('en')} test ${summary.taskTitle}` : ''}
        </span>
      )}
    </footer>
  );
}
