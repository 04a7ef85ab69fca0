// Every mechanism over its thresholds: (relative cost, accuracy) curves, the cheapest setting of each
// within the accuracy floor, and the hardware mapping of the overall choice.
import { useMemo } from 'react';
import { Figure, type Series } from '../../charts/Figure';
import { HardwarePanel } from '../../components/HardwarePanel';
import { pct } from '../../format';
import type { ExitsSweep } from '../../../engine/session';
import type { Mechanism, MechanismSettings } from '../../../engine/exits/replay';
import { ALL_MECHANISMS, MECHANISM_COLOURS, MECHANISM_LABELS, settingText } from './mechanisms';

const TRADE_X = { key: 'cost', label: 'mean MACs relative to the single-exit network', numeric: true };
const TRADE_Y = { label: 'accuracy on the stream', fromZero: false };

export function TradeoffPanel({ sweep, mechanisms, onPlay }: { sweep: ExitsSweep; mechanisms: Mechanism[]; onPlay(setting: MechanismSettings): void }) {
  const shown = useMemo(() => ALL_MECHANISMS.filter((m) => mechanisms.includes(m) && sweep.curves[m]), [mechanisms, sweep]);
  const series: Series[] = useMemo(() => [...shown.map((m) => ({ key: m, label: MECHANISM_LABELS[m], color: MECHANISM_COLOURS[m] })), { key: 'single', label: 'single-exit network', color: '#6e7781' }], [shown]);
  const data = useMemo(() => {
    const rows: Record<string, number | string | null>[] = [];
    for (const m of shown) for (const p of sweep.curves[m] ?? []) rows.push({ cost: p.relativeCost, [m]: p.accuracy, point: `${MECHANISM_LABELS[m]}, ${settingText(p)}` });
    rows.push({ cost: 1, single: sweep.single.accuracy, point: 'single-exit network' });
    return rows;
  }, [sweep, shown]);
  const best = sweep.cheapest.all ?? null;
  const replays = shown.reduce((s, m) => s + (sweep.curves[m]?.length ?? 0), 0);

  return (
    <>
      <section className="card" aria-labelledby="exits-trade-title">
        <h2 id="exits-trade-title">Decision mechanisms: cost against accuracy</h2>
        <p className="muted">
          The single-exit network scores {pct(sweep.single.accuracy)} on this stream at {Math.round(sweep.single.meanMacs).toLocaleString('en')} MACs per frame. Every mechanism over its thresholds ({replays} replays in {sweep.ms.toFixed(0)} ms).
          {best && (
            <>
              {' '}
              Cheapest within {sweep.floorPp} pp: <strong data-testid="exits-best">{MECHANISM_LABELS[best.settings.mechanism]}, {settingText(best)}: {pct(1 - best.relativeCost, 1)} fewer MACs at {pct(best.accuracy)}</strong>.
            </>
          )}
        </p>
        <Figure id="exits-tradeoff" title="Accuracy against relative cost, every mechanism and threshold" kind="scatter" data={data} x={TRADE_X} y={TRADE_Y} series={series} pointLabel="point" connect={shown} height={340} />
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
                <th scope="col">
                  <span className="sr-only">Play</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {shown.map((m) => {
                const p = sweep.cheapest[m];
                return (
                  <tr key={m} className={p && best && p.settings.mechanism === best.settings.mechanism && p.relativeCost === best.relativeCost ? 'current' : undefined}>
                    <th scope="row">
                      <span className="swatch" style={{ background: MECHANISM_COLOURS[m] }} aria-hidden /> {MECHANISM_LABELS[m]}
                    </th>
                    {p ? (
                      <>
                        <td>{settingText(p)}</td>
                        <td className="num">{pct(p.accuracy)}</td>
                        <td className="num">{pct(p.relativeCost, 1)}</td>
                        <td className="num">{pct(1 - p.relativeCost, 1)}</td>
                        <td>{p.exitCounts.join(' · ')}</td>
                        <td>
                          <button type="button" className="link" onClick={() => onPlay(p.settings)} aria-label={`Play the stream with ${MECHANISM_LABELS[m]}, ${settingText(p)}`}>
                            play ▸
                          </button>
                        </td>
                      </>
                    ) : (
                      <td colSpan={6} className="muted">
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
      <HardwarePanel />
    </>
  );
}
