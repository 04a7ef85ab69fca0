// A deliberately small line plot for data that streams in (training curves): no text measurement,
// no layout reads, a handful of SVG nodes, so each redraw costs well under a frame even on a slow
// laptop with a busy worker. When the stream ends the Figure switches back to its full chart.
import { memo } from 'react';
import { useWidth } from './useWidth';
import type { Series } from './Figure';

interface Props {
  data: Array<Record<string, number | string | null>>;
  xKey: string;
  xLabel: string;
  yLabel: string;
  percent?: boolean;
  yDomain?: [number | 'auto', number | 'auto'];
  right?: { label: string; series: string[] };
  series: Series[];
  height: number;
}

/** Round tick steps (1, 2, 5 × 10^k) covering [lo, hi] with about `count` ticks. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

const fmt = (v: number, percent?: boolean) => (percent ? `${Math.round(v * 100)}%` : Math.abs(v) >= 1000 ? v.toExponential(1) : String(Number(v.toPrecision(3))));

function extent(values: number[], domain?: [number | 'auto', number | 'auto']): [number, number] {
  let lo = domain && domain[0] !== 'auto' ? domain[0] : Math.min(...values);
  let hi = domain && domain[1] !== 'auto' ? domain[1] : Math.max(...values);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = [0, 1];
  if (hi === lo) hi = lo + 1;
  return [lo, hi];
}

export const LivePlot = memo(function LivePlot({ data, xKey, xLabel, yLabel, percent, yDomain, right, series, height }: Props) {
  const [box, width] = useWidth();

  const rightKeys = new Set(right?.series ?? []);
  const m = { top: 10, right: right ? 64 : 24, bottom: 44, left: 72 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const xs = data.map((d) => Number(d[xKey]));
  const [x0, x1] = extent(xs.length ? xs : [0, 1]);
  const valuesOf = (keys: string[]) => data.flatMap((d) => keys.map((k) => d[k]).filter((v): v is number => typeof v === 'number'));
  const leftKeys = series.filter((s) => !rightKeys.has(s.key)).map((s) => s.key);
  const [l0, l1] = extent(valuesOf(leftKeys), yDomain);
  const [r0, r1] = extent(valuesOf([...rightKeys]), [0, 'auto']);
  const sx = (v: number) => m.left + ((v - x0) / (x1 - x0)) * w;
  const sy = (v: number, onRight: boolean) => m.top + h - ((v - (onRight ? r0 : l0)) / ((onRight ? r1 : l1) - (onRight ? r0 : l0))) * h;
  const tick = { fontSize: 12, fill: 'var(--muted, #656d76)' };
  const label = { fontSize: 12, fill: 'var(--fg, #1f2328)', textAnchor: 'middle' as const };

  return (
    <div ref={box} style={{ width: '100%', height }}>
      <svg className="recharts-surface figure-live" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${yLabel} against ${xLabel}, updating live`}>
        {niceTicks(l0, l1).map((t) => (
          <g key={`l${t}`}>
            <line x1={m.left} x2={m.left + w} y1={sy(t, false)} y2={sy(t, false)} stroke="var(--grid, #d0d7de)" strokeDasharray="3 3" />
            <text x={m.left - 8} y={sy(t, false)} dy="0.32em" textAnchor="end" {...tick}>
              {fmt(t, percent)}
            </text>
          </g>
        ))}
        {right &&
          niceTicks(r0, r1).map((t) => (
            <text key={`r${t}`} x={m.left + w + 8} y={sy(t, true)} dy="0.32em" textAnchor="start" {...tick}>
              {fmt(t)}
            </text>
          ))}
        {niceTicks(x0, x1, 6).map((t) => (
          <text key={`x${t}`} x={sx(t)} y={m.top + h + 18} textAnchor="middle" {...tick}>
            {fmt(t)}
          </text>
        ))}
        <line x1={m.left} x2={m.left + w} y1={m.top + h} y2={m.top + h} stroke="var(--muted, #656d76)" />
        <line x1={m.left} x2={m.left} y1={m.top} y2={m.top + h} stroke="var(--muted, #656d76)" />
        <text x={m.left + w / 2} y={height - 4} {...label}>
          {xLabel}
        </text>
        <text transform={`translate(16 ${m.top + h / 2}) rotate(-90)`} {...label}>
          {yLabel}
        </text>
        {right && (
          <text transform={`translate(${width - 12} ${m.top + h / 2}) rotate(90)`} {...label}>
            {right.label}
          </text>
        )}
        {series.map((s) => {
          const onRight = rightKeys.has(s.key);
          const points = data
            .filter((d) => typeof d[s.key] === 'number')
            .map((d) => `${sx(Number(d[xKey])).toFixed(1)},${sy(d[s.key] as number, onRight).toFixed(1)}`)
            .join(' ');
          const present = data.filter((d) => typeof d[s.key] === 'number');
          return (
            <g key={s.key}>
              <polyline className="recharts-line-curve" points={points} fill="none" stroke={s.color} strokeWidth={2} />
              {/* Sparse series (one value per epoch) get markers: a line alone hides where the values are. */}
              {present.length < data.length / 3 &&
                present.map((d, i) => <circle key={i} cx={sx(Number(d[xKey]))} cy={sy(d[s.key] as number, onRight)} r={3.5} fill={s.color} />)}
            </g>
          );
        })}
      </svg>
    </div>
  );
});
