import { memo, useMemo } from 'react';
import { useThrottled } from '../hooks';
import { useStudio } from '../state/store';
import { Figure } from '../charts/Figure';
import { duration, pct } from '../format';
import { NumberField } from '../components/NumberField';

export function TrainView() {
  const summary = useStudio((s) => s.summary);
  const settings = useStudio((s) => s.settings);
  const set = useStudio((s) => s.set);
  const training = useStudio((s) => s.training);
  const start = useStudio((s) => s.startTraining);
  const cancel = useStudio((s) => s.cancelTraining);
  const keep = useStudio((s) => s.keepCurrentModel);
  const trainedUnsaved = useStudio((s) => s.trainedUnsaved);
  const ready = useStudio((s) => s.engine.status === 'ready' && !!s.summary && !s.opening);
  const { running, progress, result, error } = training;

  const fraction = progress ? progress.step / progress.totalSteps : 0;

  return (
    <div className="train">
      <section className="card" aria-labelledby="train-title">
        <h2 id="train-title">Train {summary ? summary.title : ''}</h2>
        <p className="muted">
          Trains the open model further on its training set (8,000 digits, or the ECG or radar recordings) in the engine worker (Adam), and measures it on the held-out test set after each epoch. Picking a zoo model again restores its shipped weights; keep what you trained with the button that appears when a run ends.
        </p>
        <form
          className="train-form"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            if (!running) void start();
          }}
        >
          <NumberField label="Epochs" value={settings.epochs} min={1} max={1000} step={1} integer onChange={(v) => set('epochs', v)} disabled={running} />
          <NumberField label="Batch size" value={settings.batchSize} min={1} max={4096} step={1} integer onChange={(v) => set('batchSize', v)} disabled={running} />
          <NumberField label="Learning rate" value={settings.learningRate} min={1e-6} max={1} step="any" onChange={(v) => set('learningRate', v)} disabled={running} />
          <div className="actions">
            <button type="submit" className="primary" disabled={!ready || running}>
              Train
            </button>
            <button type="button" onClick={() => void cancel()} disabled={!running || training.cancelling}>
              {training.cancelling ? 'Cancelling…' : 'Cancel'}
            </button>
          </div>
        </form>
        <div className="progress-row" aria-live="polite">
          <progress max={1} value={fraction} aria-label="Training progress" data-testid="train-progress" />
          <span data-testid="train-status">
            {running && !progress && 'Starting…'}
            {progress && running && `Epoch ${progress.epoch}/${progress.epochs} · batch ${progress.batch}/${progress.batches} · ${Math.round(fraction * 100)} % · ${duration(progress.etaMs)} left`}
            {!running && result && (result.cancelled ? `Cancelled after ${result.stepsCompleted} steps` : result.diverged ? 'Stopped: the loss diverged; the weights from the start of that epoch were restored' : `Done: ${result.epochsCompleted} epoch${result.epochsCompleted === 1 ? '' : 's'} in ${duration(result.elapsedMs)}`)}
          </span>
        </div>
        {result && !running && (
          <p data-testid="train-result">
            Test accuracy now <strong>{pct(result.test.accuracy)}</strong> (loss {result.test.loss.toFixed(4)}).
            {result.cancelled && ' The weights of the last completed step are kept.'}
            {training.stoppedAfterMs !== null && ` Stopped ${Math.round(training.stoppedAfterMs)} ms after Cancel.`}{' '}
            {summary && trainedUnsaved && (
              <button type="button" onClick={() => void keep(`${summary.title}, trained ${new Date().toLocaleString('en-GB', { dateStyle: 'short', timeStyle: 'short' })}`)}>
                Keep these weights as my model
              </button>
            )}
          </p>
        )}
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
      </section>
      <TrainingChart />
    </div>
  );
}

const CHART_SERIES = [
  { key: 'accuracy', label: 'Training accuracy (smoothed)', color: '#16a34a' },
  { key: 'test', label: 'Test accuracy (end of epoch)', color: '#9333ea' },
  { key: 'loss', label: 'Training loss (smoothed)', color: '#dc2626' },
];
const X = { key: 'step', label: 'Step', numeric: true };
const Y = { label: 'Accuracy', percent: true, domain: [0, 1] as [number, number] };
const RIGHT = { label: 'Loss', series: ['loss'] };

/** Training curves stream in: the figure draws its light live plot, twice a second at most. */
const TrainingChart = memo(function TrainingChart() {
  const points = useThrottled(useStudio((s) => s.training.points), 500);
  const data = useMemo(() => points.map((p) => ({ step: p.step, loss: p.loss, accuracy: p.accuracy, test: p.testAccuracy })), [points]);
  return <Figure id="training-curves" title="Training progress" kind="line" data={data} x={X} y={Y} rightAxis={RIGHT} series={CHART_SERIES} live />;
});
