// Scatter of one value against another, with an optional logarithmic x axis: error metrics span
// four decades. Plain SVG (no measurement), clickable points, the same export path as every Figure.
import { memo } from 'react';
import { useWidth } from './useWidth';
import { niceTicks } from './LivePlot';
import type { Series } from './Figure';

interface Props {
  data: Array<Record<string, number | string | null>>;
  xKey: string;
  xLabel: string;
  xLog?: boolean;
  yLabel: string;
  series: Series[];
  height: number;
  /** Row field naming each point (tooltip, click). */
  labelKey?: string;
  selected?: string | null;
  onSelect?: (label: string) => void;
}

function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) ticks.push(10 ** e);
  return ticks;
}

const fmt = (v: number) => (v >= 1000 || (v > 0 && v < 0.01) ? v.toExponential(0) : String(Number(v.toPrecision(3))));

export const ScatterPlot = memo(function ScatterPlot({ data, xKey, xLabel, xLog, yLabel, series, height, labelKey, selected, onSelect }: Props) {
  const [box, width] = useWidth();

  const m = { top: 10, right: 24, bottom: 44, left: 72 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const xs = data.map((d) => Number(d[xKey])).filter((v) => Number.isFinite(v) && (!xLog || v > 0));
  const ys = data.flatMap((d) => series.map((s) => d[s.key]).filter((v): v is number => typeof v === 'number'));
  const xLo = xs.length ? Math.min(...xs) : xLog ? 0.001 : 0;
  const xHi = xs.length ? Math.max(...xs) : 1;
  const [x0, x1] = xLog ? [10 ** Math.floor(Math.log10(xLo)), 10 ** Math.ceil(Math.log10(xHi))] : [Math.min(0, xLo), xHi === xLo ? xLo + 1 : xHi];
  const [y0, y1] = [0, Math.max(1, ...ys)];
  const fx = (v: number) => (xLog ? Math.log10(v) : v);
  const sx = (v: number) => m.left + ((fx(v) - fx(x0)) / (fx(x1) - fx(x0))) * w;
  const sy = (v: number) => m.top + h - ((v - y0) / (y1 - y0)) * h;
  const tick = { fontSize: 12, fill: 'var(--muted, #656d76)' };
  const label = { fontSize: 12, fill: 'var(--fg, #1f2328)', textAnchor: 'middle' as const };

  return (
    <div ref={box} style={{ width: '100%', height }}>
      <svg className="recharts-surface figure-scatter" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${yLabel} against ${xLabel}`}>
        {niceTicks(y0, y1).map((t) => (
          <g key={`y${t}`}>
            <line x1={m.left} x2={m.left + w} y1={sy(t)} y2={sy(t)} stroke="var(--grid, #d0d7de)" strokeDasharray="3 3" />
            <text x={m.left - 8} y={sy(t)} dy="0.32em" textAnchor="end" {...tick}>
              {fmt(t)}
            </text>
          </g>
        ))}
        {(xLog ? logTicks(x0, x1) : niceTicks(x0, x1, 6)).map((t) => (
          <g key={`x${t}`}>
            <line x1={sx(t)} x2={sx(t)} y1={m.top} y2={m.top + h} stroke="var(--grid, #d0d7de)" strokeDasharray="3 3" />
            <text x={sx(t)} y={m.top + h + 18} textAnchor="middle" {...tick}>
              {fmt(t)}
            </text>
          </g>
        ))}
        <line x1={m.left} x2={m.left + w} y1={m.top + h} y2={m.top + h} stroke="var(--muted, #656d76)" />
        <line x1={m.left} x2={m.left} y1={m.top} y2={m.top + h} stroke="var(--muted, #656d76)" />
        <text x={m.left + w / 2} y={height - 4} {...label}>
          {xLabel}
          {xLog ? ' (log scale)' : ''}
        </text>
        <text transform={`translate(16 ${m.top + h / 2}) rotate(-90)`} {...label}>
          {yLabel}
        </text>
        {series.map((s) =>
          data.map((d, i) => {
            const x = Number(d[xKey]);
            const y = d[s.key];
            if (typeof y !== 'number' || !Number.isFinite(x) || (xLog && x <= 0)) return null;
            const name = labelKey ? String(d[labelKey]) : '';
            const isSelected = selected != null && name === selected;
            return (
              <circle
                key={`${s.key}-${i}`}
                className="scatter-point"
                cx={sx(x)}
                cy={sy(y)}
                r={isSelected ? 7 : 5}
                fill={s.color}
                fillOpacity={0.8}
                stroke={isSelected ? 'var(--fg, #1f2328)' : 'none'}
                strokeWidth={2}
                style={{ cursor: onSelect ? 'pointer' : undefined }}
                onClick={() => onSelect?.(name)}
              >
                <title>{`${name}: ${xLabel} ${fmt(x)}, ${yLabel} ${fmt(y)}`}</title>
              </circle>
            );
          }),
        )}
      </svg>
    </div>
  );
});
