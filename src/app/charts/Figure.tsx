/**
 * The one chart wrapper used by every view: a titled <figure> with a recharts
 * bar or line chart, legend, tooltip, axis labels, and SVG / PNG / CSV export.
 *
 * Colours of axes, grid and text come from the CSS variables --fg, --muted,
 * --grid and --bg (with fallbacks) so charts follow the light/dark theme.
 */
import { memo, useCallback, useMemo, useRef, useState, type CSSProperties } from 'react';
import {
  Bar,
  BarChart,
  CartesianGrid,
  Line,
  LineChart,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { LivePlot } from './LivePlot';
import { ScatterPlot } from './ScatterPlot';
import { downloadBlob, figureToSvg, svgToPngBlob, toCsv } from './export';

export interface Series {
  key: string;
  label: string;
  color: string;
}

type DomainEnd = number | 'auto';

export interface FigureProps {
  /** Stable id, used for data-testid="figure-<id>" and export file names. */
  id: string;
  title: string;
  /** bar: one bar per x category; line: numeric or categorical x; scatter: numeric x, points only. */
  kind: 'bar' | 'line' | 'scatter';
  data: Array<Record<string, number | string | null>>;
  x: { key: string; label: string; numeric?: boolean; log?: boolean };
  /** percent: values are fractions (0..1) shown as percentages. */
  y: { label: string; domain?: [DomainEnd, DomainEnd]; percent?: boolean; log?: boolean; fromZero?: boolean };
  /** One per plotted field; each gets a legend entry. */
  series: Series[];
  /** Chart height in px; default 260. */
  height?: number;
  /** Optional second y axis (on the right) for the named series, e.g. loss vs accuracy. */
  rightAxis?: { label: string; series: string[]; domain?: [DomainEnd, DomainEnd] };
  /** Data is streaming in: draw with the light live plot instead of the full chart (line charts). */
  live?: boolean;
  /** Scatter only: the row field that names a point, the selected one, and what a click selects. */
  pointLabel?: string;
  selected?: string | null;
  onSelect?: (label: string) => void;
  /** Scatter only: the line y = x, and series whose points are joined in order of x. */
  diagonal?: boolean;
  connect?: string[];
  /** Bar only: series stack in one bar per category (one coloured bar per layer, say). */
  stacked?: boolean;
  /** Line only: draw each series as a staircase (a histogram: one row per bin's left edge). */
  step?: boolean;
  /** Line only, numeric x: families of vertical lines (thresholds, say), each with a legend entry; CSV rows of their own. */
  markers?: Marker[];
}

export interface Marker {
  key: string;
  label: string;
  color: string;
  values: number[];
  dashed?: boolean;
}

/** Most points a line chart draws; longer data is downsampled evenly. */
export const MAX_LINE_POINTS = 1000;

export const CHART_COLORS = {
  fg: 'var(--fg, #1f2328)',
  muted: 'var(--muted, #656d76)',
  grid: 'var(--grid, #d0d7de)',
  bg: 'var(--bg, #ffffff)',
} as const;

/** Keep at most `max` rows, evenly spaced, always including the first and last. */
export function downsample<T>(rows: ReadonlyArray<T>, max = MAX_LINE_POINTS): T[] {
  if (rows.length <= max || max < 2) return rows.slice();
  const out: T[] = [];
  const step = (rows.length - 1) / (max - 1);
  for (let i = 0; i < max; i++) out.push(rows[Math.round(i * step)]!);
  return out;
}

function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2);
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(4)));
}

function formatPercent(v: number): string {
  const p = v * 100;
  return `${Number(p.toFixed(Math.abs(p) < 10 ? 2 : 1))}%`;
}

const tickStyle = { fill: CHART_COLORS.muted, fontSize: 12 };
const axisLabelStyle: CSSProperties = { fill: CHART_COLORS.fg, fontSize: 12, textAnchor: 'middle' };

const buttonStyle: CSSProperties = {
  font: 'inherit',
  fontSize: 12,
  lineHeight: 1.2,
  padding: '2px 8px',
  color: CHART_COLORS.fg,
  background: 'transparent',
  border: `1px solid ${CHART_COLORS.grid}`,
  borderRadius: 4,
  cursor: 'pointer',
};

type ExportKind = 'SVG' | 'PNG' | 'CSV';

/**
 * Memoised: a recharts redraw costs tens of milliseconds on a slow laptop, so the figure redraws only
 * when its props change (callers keep series/axis objects stable).
 */
export const Figure = memo(function Figure(props: FigureProps) {
  const { id, title, kind, data, x, y, series, height = 260, rightAxis, live = false, pointLabel, selected, onSelect, diagonal, connect, stacked, step, markers } = props;
  const chartRef = useRef<HTMLDivElement>(null);
  const [status, setStatus] = useState('');

  const legend = useMemo(() => legendOf(series, markers), [series, markers]);
  const rightKeys = useMemo(() => new Set(rightAxis?.series ?? []), [rightAxis]);
  const hasRight = rightAxis !== undefined && series.some((s) => rightKeys.has(s.key));
  const plotted = useMemo(() => (kind === 'line' ? downsample(data) : data), [kind, data]);

  const leftFmt = y.percent ? formatPercent : formatNumber;
  const seriesByKey = useMemo(() => new Map(series.map((s) => [s.key, s])), [series]);
  const seriesIndex = useMemo(() => new Map(series.map((s, i) => [s.key, i])), [series]);

  const exportAs = useCallback(
    async (what: ExportKind) => {
      setStatus('');
      try {
        if (what === 'CSV') {
          const marked = markers ?? [];
          const columns = [{ key: x.key, label: x.label }, ...series.map((s) => ({ key: s.key, label: s.label })), ...marked.map((m) => ({ key: m.key, label: m.label }))];
          // Each marker is a row of its own: its position, and its number within its family.
          const rows = [...data, ...marked.flatMap((m) => m.values.map((v, i) => ({ [x.key]: v, [m.key]: i + 1 })))];
          downloadBlob(new Blob([toCsv(rows, columns)], { type: 'text/csv;charset=utf-8' }), `${id}.csv`);
          return;
        }
        const el = chartRef.current;
        if (!el) throw new Error('chart is not mounted');
        const svg = figureToSvg(el, { title, series: legend });
        if (what === 'SVG') {
          downloadBlob(new Blob([svg], { type: 'image/svg+xml;charset=utf-8' }), `${id}.svg`);
        } else {
          downloadBlob(await svgToPngBlob(svg, 2), `${id}.png`);
        }
      } catch (err) {
        console.error(`Export of figure "${id}" as ${what} failed`, err);
        setStatus(`${what} export failed`);
      }
    },
    [data, id, series, markers, legend, title, x.key, x.label],
  );

  const margin = { top: 10, right: hasRight ? 8 : 24, bottom: 0, left: 8 };

  // Per-layer axes are long: every category keeps its label, slanted when they would not fit side by side.
  const slanted = !(kind === 'line' && x.numeric) && plotted.length > 8;
  const xAxis = (
    <XAxis
      interval={slanted ? 0 : 'preserveEnd'}
      angle={slanted ? -35 : 0}
      textAnchor={slanted ? 'end' : 'middle'}
      dataKey={x.key}
      type={kind === 'line' && x.numeric ? 'number' : 'category'}
      domain={kind === 'line' && x.numeric ? ['dataMin', 'dataMax'] : undefined}
      tick={tickStyle}
      tickFormatter={(v: unknown) => (typeof v === 'number' ? formatNumber(v) : String(v))}
      stroke={CHART_COLORS.muted}
      tickLine={{ stroke: CHART_COLORS.muted }}
      height={slanted ? 84 : 44}
      label={{ value: x.label, position: 'insideBottom', offset: 0, style: axisLabelStyle }}
    />
  );
  const yAxes = (
    <>
      <YAxis
        yAxisId="left"
        domain={y.domain ?? ['auto', 'auto']}
        tick={tickStyle}
        tickFormatter={(v: unknown) => (typeof v === 'number' ? leftFmt(v) : String(v))}
        stroke={CHART_COLORS.muted}
        tickLine={{ stroke: CHART_COLORS.muted }}
        width={64}
        label={{ value: y.label, angle: -90, position: 'insideLeft', offset: 4, style: axisLabelStyle }}
      />
      {hasRight && (
        <YAxis
          yAxisId="right"
          orientation="right"
          domain={rightAxis.domain ?? ['auto', 'auto']}
          tick={tickStyle}
          tickFormatter={(v: unknown) => (typeof v === 'number' ? formatNumber(v) : String(v))}
          stroke={CHART_COLORS.muted}
          tickLine={{ stroke: CHART_COLORS.muted }}
          width={64}
          label={{ value: rightAxis.label, angle: 90, position: 'insideRight', offset: 4, style: axisLabelStyle }}
        />
      )}
    </>
  );
  const common = (
    <>
      <CartesianGrid stroke={CHART_COLORS.grid} strokeDasharray="3 3" />
      {xAxis}
      {yAxes}
      <Tooltip
        isAnimationActive={false}
        contentStyle={{
          background: CHART_COLORS.bg,
          border: `1px solid ${CHART_COLORS.grid}`,
          color: CHART_COLORS.fg,
          fontSize: 12,
        }}
        labelStyle={{ color: CHART_COLORS.fg }}
        itemSorter={(item) => seriesIndex.get(String(item.dataKey)) ?? 0}
        cursor={kind === 'bar' ? { fill: CHART_COLORS.grid, fillOpacity: 0.3 } : { stroke: CHART_COLORS.muted }}
        labelFormatter={(label) =>
          `${x.label}: ${typeof label === 'number' ? formatNumber(label) : String(label ?? '')}`
        }
        formatter={(value, name, item) => {
          const key = typeof item?.dataKey === 'string' ? item.dataKey : '';
          const onRight = rightKeys.has(key);
          const text =
            typeof value === 'number' ? (onRight || !y.percent ? formatNumber(value) : formatPercent(value)) : value;
          return [text, seriesByKey.get(key)?.label ?? name];
        }}
      />
    </>
  );

  const axisFor = (key: string) => (hasRight && rightKeys.has(key) ? 'right' : 'left');

  return (
    <figure
      className="figure"
      data-testid={`figure-${id}`}
      style={{
        margin: 0,
        display: 'grid',
        gridTemplateColumns: 'minmax(0, 1fr) auto',
        alignItems: 'center',
        gap: '4px 8px',
        color: CHART_COLORS.fg,
      }}
    >
      <figcaption className="figure-title" style={{ fontWeight: 600, fontSize: 14, minWidth: 0 }}>
        {title}
      </figcaption>
      <div className="figure-toolbar" style={{ display: 'flex', gap: 4, alignItems: 'center' }}>
        <span role="status" className="figure-status" style={{ fontSize: 12, color: CHART_COLORS.fg }}>
          {status}
        </span>
        {(['SVG', 'PNG', 'CSV'] as const).map((what) => (
          <button
            key={what}
            type="button"
            className="figure-export"
            aria-label={`Export ${title} as ${what}`}
            title={`Download ${id}.${what.toLowerCase()}`}
            style={buttonStyle}
            onClick={() => void exportAs(what)}
          >
            {what}
          </button>
        ))}
      </div>
      <div ref={chartRef} className="figure-chart" style={{ gridColumn: '1 / -1', minWidth: 0, color: CHART_COLORS.fg }}>
        {kind === 'scatter' ? (
          <ScatterPlot data={data} xKey={x.key} xLabel={x.label} xLog={x.log} yLabel={y.label} yLog={y.log} yFromZero={y.fromZero} diagonal={diagonal} connect={connect} series={series} height={height} labelKey={pointLabel} selected={selected} onSelect={onSelect} />
        ) : live && kind === 'line' ? (
          <LivePlot data={plotted} xKey={x.key} xLabel={x.label} yLabel={y.label} percent={y.percent} yDomain={y.domain} right={rightAxis} series={series} height={height} />
        ) : (
        <ResponsiveContainer width="100%" height={height}>
          {kind === 'bar' ? (
            <BarChart data={plotted} margin={margin}>
              {common}
              {series.map((s) => (
                <Bar
                  key={s.key}
                  dataKey={s.key}
                  name={s.label}
                  fill={s.color}
                  stackId={stacked ? 'stack' : undefined}
                  yAxisId={axisFor(s.key)}
                  isAnimationActive={false}
                />
              ))}
            </BarChart>
          ) : (
            <LineChart data={plotted} margin={margin}>
              {common}
              {series.map((s) => (
                <Line
                  key={s.key}
                  type={step ? 'stepAfter' : 'linear'}
                  dataKey={s.key}
                  name={s.label}
                  stroke={s.color}
                  strokeWidth={2}
                  dot={false}
                  activeDot={{ r: 3 }}
                  yAxisId={axisFor(s.key)}
                  isAnimationActive={false}
                />
              ))}
              {markers?.flatMap((m) =>
                m.values.map((v, i) => <ReferenceLine key={`${m.key}-${i}`} x={v} yAxisId="left" stroke={m.color} strokeWidth={1.5} strokeDasharray={m.dashed ? '4 3' : undefined} ifOverflow="extendDomain" className={`marker marker-${m.key}`} />),
              )}
            </LineChart>
          )}
        </ResponsiveContainer>
        )}
      </div>
      <FigureLegend series={legend} />
    </figure>
  );
});

const legendOf = (series: Series[], markers: Marker[] | undefined) => [...series, ...(markers ?? []).map((m) => ({ key: m.key, label: m.label, color: m.color }))];

/**
 * The legend is plain HTML outside the chart: recharts' own legend measures itself on every redraw,
 * forcing a layout each time, and the SVG export draws its own legend anyway.
 */
const FigureLegend = memo(function FigureLegend({ series }: { series: Array<{ key: string; label: string; color: string }> }) {
  return (
    <ul className="figure-legend-html" style={{ gridColumn: '1 / -1', display: 'flex', flexWrap: 'wrap', justifyContent: 'center', gap: '4px 16px', listStyle: 'none', margin: 0, padding: 0, fontSize: 12, color: CHART_COLORS.fg }}>
      {series.map((s) => (
        <li key={s.key} style={{ display: 'inline-flex', alignItems: 'center', gap: 6 }}>
          <svg width="14" height="10" aria-hidden="true">
            <rect width="14" height="10" rx="2" fill={s.color} />
          </svg>
          {s.label}
        </li>
      ))}
    </ul>
  );
});

export default Figure;
