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
  yLog?: boolean;
  /** Start the y axis at 0 (default) or fit it to the data. */
  yFromZero?: boolean;
  /** Draw the line y = x (predicted against measured, say). */
  diagonal?: boolean;
  /** Series whose points are joined in order of x. */
  connect?: string[];
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

export const ScatterPlot = memo(function ScatterPlot({ data, xKey, xLabel, xLog, yLabel, yLog, yFromZero = true, diagonal, connect, series, height, labelKey, selected, onSelect }: Props) {
  const [box, width] = useWidth();

  const m = { top: 10, right: 24, bottom: 44, left: 72 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const xs = data.map((d) => Number(d[xKey])).filter((v) => Number.isFinite(v) && (!xLog || v > 0));
  const ys = data.flatMap((d) => series.map((s) => d[s.key]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v) && (!yLog || v > 0)));
  const xLo = xs.length ? Math.min(...xs) : xLog ? 0.001 : 0;
  const xHi = xs.length ? Math.max(...xs) : 1;
  const [x0, x1] = xLog ? [10 ** Math.floor(Math.log10(xLo)), 10 ** Math.ceil(Math.log10(xHi))] : [Math.min(0, xLo), xHi === xLo ? xLo + 1 : xHi];
  const yLo = ys.length ? Math.min(...ys) : 0;
  const yHi = ys.length ? Math.max(...ys) : 1;
  const pad = (yHi - yLo) * 0.08 || Math.abs(yHi) * 0.05 || 1;
  const [y0, y1] = yLog ? [10 ** Math.floor(Math.log10(yLo || 1)), 10 ** Math.ceil(Math.log10(yHi || 10))] : yFromZero ? [0, Math.max(1, yHi)] : [yLo - pad, yHi + pad];
  const fx = (v: number) => (xLog ? Math.log10(v) : v);
  const fy = (v: number) => (yLog ? Math.log10(v) : v);
  const sx = (v: number) => m.left + ((fx(v) - fx(x0)) / (fx(x1) - fx(x0))) * w;
  const sy = (v: number) => m.top + h - ((fy(v) - fy(y0)) / (fy(y1) - fy(y0))) * h;
  const lo = Math.max(x0, y0);
  const hi = Math.min(x1, y1);
  const tick = { fontSize: 12, fill: 'var(--muted, #656d76)' };
  const label = { fontSize: 12, fill: 'var(--fg, #1f2328)', textAnchor: 'middle' as const };

  return (
    <div ref={box} style={{ width: '100%', height }}>
      <svg className="recharts-surface figure-scatter" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${yLabel} against ${xLabel}`}>
        {(yLog ? logTicks(y0, y1) : niceTicks(y0, y1)).map((t) => (
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
          {yLog ? ' (log scale)' : ''}
        </text>
        {diagonal && hi > lo && <line className="scatter-diagonal" x1={sx(lo)} y1={sy(lo)} x2={sx(hi)} y2={sy(hi)} stroke="var(--muted, #656d76)" strokeDasharray="6 4" />}
        {series
          .filter((s) => connect?.includes(s.key))
          .map((s) => {
            const points = data
              .filter((d) => typeof d[s.key] === 'number' && Number.isFinite(Number(d[xKey])))
              .map((d) => [Number(d[xKey]), d[s.key] as number])
              .sort((a, b) => a[0] - b[0]);
            return <polyline key={`line-${s.key}`} points={points.map(([x, y]) => `${sx(x)},${sy(y)}`).join(' ')} fill="none" stroke={s.color} strokeWidth={2} />;
          })}
        {series.map((s) =>
          data.map((d, i) => {
            const x = Number(d[xKey]);
            const y = d[s.key];
            if (typeof y !== 'number' || !Number.isFinite(x) || (xLog && x <= 0) || (yLog && y <= 0)) return null;
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
