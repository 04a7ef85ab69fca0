// Each exit on its own: what it costs, how often it is right on the test set and on the stream, and
// how sure it is when right and when wrong. Where those two histograms overlap, no confidence
// threshold separates good early answers from bad ones.
import { useMemo, useState } from 'react';
import { Figure, type Series } from '../../charts/Figure';
import { ExitStrip } from '../../components/ExitStrip';
import { pct } from '../../format';
import type { ExitsSummary } from '../../../engine/session';

const HIST_X = { key: 'confidence', label: 'confidence (max softmax) on the stream' };
const HIST_Y = { label: 'frames' };
const HIST_SERIES: Series[] = [
  { key: 'correct', label: 'right', color: '#1a7f37' },
  { key: 'wrong', label: 'wrong', color: '#cf222e' },
];

export function ExitsPanel({ summary }: { summary: ExitsSummary }) {
  const [chosen, setChosen] = useState(0);
  const exit = Math.min(chosen, summary.exits.length - 1);
  const stats = summary.stats[exit];
  const histogram = useMemo(() => {
    const bins = stats.correct.length;
    return stats.correct.map((c, i) => ({ confidence: `${(i / bins).toFixed(2)}–${((i + 1) / bins).toFixed(2)}`, correct: c, wrong: stats.wrong[i] }));
  }, [stats]);
  const stripExits = summary.exits.map((e, k) => ({ ...e, accuracy: summary.stats[k].accuracy }));
  const name = exit === summary.exits.length - 1 ? 'the final classifier' : `exit ${exit + 1}`;

  return (
    <section className="card" aria-labelledby="exits-summary-title">
      <h2 id="exits-summary-title">
        Exits of {summary.title} <span className="muted small">({summary.frames.toLocaleString('en')} frames{summary.source === 'file' ? ', from a file' : `, ${summary.streams.map((s) => s.name).join(', ')}`})</span>
      </h2>
      {summary.labelsFrom && (
        <p className="notice-warn" data-testid="exits-unlabelled">
          This recording has no labels: every frame is labelled with the full network’s answer, so accuracies here and in the other views are agreement with the single-exit network.
        </p>
      )}
      <p className="muted small">Boxes are backbone segments, as wide as their MACs; the exits hang under them with their accuracy on the stream. Choose an exit to see its confidence.</p>
      <ExitStrip exits={stripExits} selected={exit} onSelect={setChosen} />
      <div className="table-wrap">
        <table data-testid="exits-table">
          <thead>
            <tr>
              <th scope="col">Exit</th>
              <th scope="col" className="num">Segment MACs</th>
              <th scope="col" className="num">Branch MACs</th>
              <th scope="col" className="num">MACs to answer here</th>
              <th scope="col" className="num">Test accuracy</th>
              <th scope="col" className="num">Stream accuracy</th>
            </tr>
          </thead>
          <tbody>
            {summary.exits.map((e, i, all) => {
              const upTo = all.slice(0, i + 1).reduce((s, x) => s + x.segmentMacs + x.branchMacs, 0);
              return (
                <tr key={e.name} className={i === exit ? 'current' : undefined}>
                  <th scope="row">{e.name}</th>
                  <td className="num">{e.segmentMacs.toLocaleString('en')}</td>
                  <td className="num">{e.branchMacs.toLocaleString('en')}</td>
                  <td className="num">{upTo.toLocaleString('en')}</td>
                  <td className="num">{e.testAccuracy === null ? '—' : pct(e.testAccuracy)}</td>
                  <td className="num">{pct(summary.stats[i].accuracy)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {summary.dropped.length > 0 && <p className="muted">Dropped (no better than chance): {summary.dropped.map((d) => `${d.layer} (${pct(d.testAccuracy)})`).join(', ')}.</p>}
      <Figure id={`exit-${exit + 1}-confidence`} title={`Confidence of ${name} on the stream, right and wrong answers`} kind="bar" stacked data={histogram} x={HIST_X} y={HIST_Y} series={HIST_SERIES} height={240} />
    </section>
  );
}
