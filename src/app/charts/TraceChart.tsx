// The stream player's trace: a window of frames around the current one, the quantity the mechanism
// compares with its threshold, the first exit's confidence, and a band that says which exit answered
// each frame (and whether it was right). The threshold line is draggable, by pointer or keyboard:
// every move replays the stream, so the band and the totals follow as it is dragged.
import { memo, useMemo, useRef, useState, type KeyboardEvent, type PointerEvent } from 'react';
import { niceTicks } from './LivePlot';
import { useWidth } from './useWidth';
import { CHART_COLORS } from './Figure';

export interface TraceData {
  exit: Int32Array;
  prediction: Int32Array;
  label: Int32Array;
  value: Float64Array;
  confidence: Float64Array;
  streamStart: Uint8Array;
}

interface Props {
  trace: TraceData;
  exits: number;
  frame: number;
  /** Frames shown at once. */
  window?: number;
  /** Which pane carries the threshold: the compared quantity, or the first exit's confidence. */
  thresholdOn: 'value' | 'confidence';
  /** Label of the compared quantity; null hides its pane (the confidence pane is the compared one). */
  valueLabel: string | null;
  threshold: number;
  /** Whole steps (patience n). */
  integer?: boolean;
  onThreshold(value: number): void;
  onFrame(frame: number): void;
}

/** Colours of the exits in the answer band; the final classifier is the darkest. */
export const EXIT_COLOURS = ['#54aeff', '#8250df', '#1b7c83', '#bf8700', '#d4a72c', '#a475f9'];
export const FINAL_COLOUR = '#57606a';

const M = { top: 8, right: 16, left: 64, bottom: 30 };
const VALUE_H = 140;
const CONF_H = 70;
const GAP = 22;
const BAND_H = 14;

/** Upper end of the value axis: the 99th percentile of what is plotted, so one outlier does not flatten the rest. */
function valueTop(values: Float64Array, threshold: number): number {
  const finite = Array.from(values).filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const p99 = finite.length ? finite[Math.min(finite.length - 1, Math.floor(finite.length * 0.99))] : 1;
  const top = Math.max(p99, Number.isFinite(threshold) ? threshold : 0) * 1.15;
  return top > 0 ? top : 1;
}

export const TraceChart = memo(function TraceChart({ trace, exits, frame, window: size = 160, thresholdOn, valueLabel, threshold, integer, onThreshold, onFrame }: Props) {
  const [box, width] = useWidth(720, 320);
  const frames = trace.exit.length;
  const start = Math.max(0, Math.min(frames - size, frame - Math.floor(size * 0.75)));
  const end = Math.min(frames, start + size);
  const plotW = width - M.left - M.right;
  const x = (t: number) => M.left + ((t - start + 0.5) / size) * plotW;
  const showValue = valueLabel !== null;
  const valueY0 = M.top;
  const confY0 = showValue ? valueY0 + VALUE_H + GAP : M.top;
  const bandY = confY0 + CONF_H + GAP;
  const height = bandY + BAND_H + M.bottom;

  // The value axis is fixed while dragging, so the line stays under the pointer.
  const dragging = useRef(false);
  const [frozenTop, setFrozenTop] = useState<number | null>(null);
  const computedTop = useMemo(() => (integer ? Math.max(exits - 1, 1) : valueTop(trace.value, threshold)), [trace.value, threshold, integer, exits]);
  const top = frozenTop ?? computedTop;
  const yValue = (v: number) => valueY0 + VALUE_H - (Math.min(Math.max(v, 0), top) / top) * VALUE_H;
  const yConf = (v: number) => confY0 + CONF_H - v * CONF_H;

  const onValuePane = thresholdOn === 'value';
  const paneTop = onValuePane ? valueY0 : confY0;
  const paneH = onValuePane ? VALUE_H : CONF_H;
  const paneMax = onValuePane ? top : 1;
  const thresholdY = Number.isFinite(threshold) ? (onValuePane ? yValue(threshold) : yConf(Math.min(Math.max(threshold, 0), 1))) : paneTop;

  const toValue = (clientY: number, svg: SVGSVGElement) => {
    const rect = svg.getBoundingClientRect();
    const y = clientY - rect.top;
    const v = ((paneTop + paneH - y) / paneH) * paneMax;
    const clamped = Math.min(Math.max(v, 0), paneMax);
    return integer ? Math.round(clamped) : Number(clamped.toPrecision(3));
  };

  const path = (values: Float64Array, y: (v: number) => number) => {
    let d = '';
    let pen = false;
    for (let t = start; t < end; t++) {
      const v = values[t];
      if (!Number.isFinite(v)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${x(t).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    }
    return d;
  };

  const step = integer ? 1 : paneMax / 100;
  const onKey = (e: KeyboardEvent) => {
    const base = Number.isFinite(threshold) ? threshold : paneMax;
    const delta = { ArrowUp: step, ArrowRight: step, ArrowDown: -step, ArrowLeft: -step, PageUp: step * 10, PageDown: -step * 10 }[e.key];
    if (delta === undefined) return;
    e.preventDefault();
    const next = Math.min(Math.max(base + delta, 0), paneMax);
    onThreshold(integer ? Math.round(next) : Number(next.toPrecision(3)));
  };

  const onDown = (e: PointerEvent<SVGGElement>) => {
    dragging.current = true;
    setFrozenTop(top);
    (e.currentTarget as Element).setPointerCapture(e.pointerId);
    e.preventDefault();
  };
  const onMove = (e: PointerEvent<SVGGElement>) => {
    if (!dragging.current) return;
    const svg = (e.currentTarget as SVGGElement).ownerSVGElement;
    if (svg) onThreshold(toValue(e.clientY, svg));
  };
  const onUp = () => {
    dragging.current = false;
    setFrozenTop(null);
  };

  const ticks = niceTicks(0, top, 4);
  const frameTicks = niceTicks(start, end - 1, 6).filter((t) => Number.isInteger(t));
  const labelChanges: number[] = [];
  for (let t = Math.max(start, 1); t < end; t++) if (trace.label[t] !== trace.label[t - 1] || trace.streamStart[t]) labelChanges.push(t);
  const cell = plotW / size;
  const shown = Number.isFinite(threshold) ? String(Number(threshold.toPrecision(3))) : '∞';

  return (
    <div ref={box} className="trace-chart" data-testid="stream-trace">
      <svg width={width} height={height} role="img" aria-label={`Trace of frames ${start + 1} to ${end}`} style={{ display: 'block', color: CHART_COLORS.fg }}>
        {labelChanges.map((t) => (
          <line key={`l${t}`} x1={x(t) - cell / 2} x2={x(t) - cell / 2} y1={M.top} y2={bandY + BAND_H} stroke={CHART_COLORS.grid} strokeDasharray="2 3" />
        ))}
        {showValue && (
          <g>
            {ticks.map((v) => (
              <g key={v}>
                <line x1={M.left} x2={width - M.right} y1={yValue(v)} y2={yValue(v)} stroke={CHART_COLORS.grid} strokeWidth={0.5} />
                <text x={M.left - 6} y={yValue(v) + 4} textAnchor="end" fontSize={11} fill={CHART_COLORS.muted}>
                  {Number(v.toPrecision(3))}
                </text>
              </g>
            ))}
            <text x={M.left + 4} y={valueY0 + 11} fontSize={11} fill={CHART_COLORS.muted}>
              {valueLabel}
            </text>
            <path d={path(trace.value, yValue)} fill="none" stroke="#8250df" strokeWidth={1.6} data-testid="trace-value" />
          </g>
        )}
        <g>
          {[0, 0.5, 1].map((v) => (
            <g key={v}>
              <line x1={M.left} x2={width - M.right} y1={yConf(v)} y2={yConf(v)} stroke={CHART_COLORS.grid} strokeWidth={0.5} />
              <text x={M.left - 6} y={yConf(v) + 4} textAnchor="end" fontSize={11} fill={CHART_COLORS.muted}>
                {v}
              </text>
            </g>
          ))}
          <text x={M.left + 4} y={confY0 + 11} fontSize={11} fill={CHART_COLORS.muted}>
            confidence of exit 1
          </text>
          <path d={path(trace.confidence, yConf)} fill="none" stroke="#0969da" strokeWidth={1.4} data-testid="trace-confidence" />
        </g>
        {/* Which exit answered each frame; a red tick under wrong answers. */}
        <g aria-hidden>
          {Array.from({ length: end - start }, (_, i) => {
            const t = start + i;
            const k = trace.exit[t];
            const wrong = trace.prediction[t] !== trace.label[t];
            return (
              <g key={t}>
                <rect x={x(t) - cell / 2} y={bandY} width={Math.max(cell - 0.5, 0.5)} height={BAND_H} fill={k === exits - 1 ? FINAL_COLOUR : EXIT_COLOURS[k % EXIT_COLOURS.length]} />
                {wrong && <rect x={x(t) - cell / 2} y={bandY + BAND_H + 2} width={Math.max(cell - 0.5, 1)} height={4} fill="#cf222e" />}
              </g>
            );
          })}
        </g>
        {frameTicks.map((t) => (
          <text key={`f${t}`} x={x(t)} y={height - 8} textAnchor="middle" fontSize={11} fill={CHART_COLORS.muted}>
            {t + 1}
          </text>
        ))}
        {/* Clicking anywhere in the plot moves the player there. */}
        <rect
          x={M.left}
          y={M.top}
          width={plotW}
          height={bandY + BAND_H - M.top}
          fill="transparent"
          onClick={(e) => {
            const rect = (e.currentTarget.ownerSVGElement as SVGSVGElement).getBoundingClientRect();
            onFrame(start + Math.floor(((e.clientX - rect.left - M.left) / plotW) * size));
          }}
        />
        <line x1={x(frame)} x2={x(frame)} y1={M.top} y2={bandY + BAND_H} stroke={CHART_COLORS.fg} strokeWidth={1.2} data-testid="trace-cursor" />
        <g
          role="slider"
          tabIndex={0}
          aria-label={integer ? 'Patience n' : 'Threshold τ'}
          aria-valuemin={0}
          aria-valuemax={Number(paneMax.toPrecision(3))}
          aria-valuenow={Number.isFinite(threshold) ? threshold : paneMax}
          aria-valuetext={integer ? `n = ${shown}` : `τ = ${shown}`}
          className="trace-threshold"
          style={{ cursor: 'ns-resize', touchAction: 'none' }}
          onKeyDown={onKey}
          onPointerDown={onDown}
          onPointerMove={onMove}
          onPointerUp={onUp}
          onPointerCancel={onUp}
          data-testid="trace-threshold"
        >
          <line x1={M.left} x2={width - M.right} y1={thresholdY} y2={thresholdY} stroke="transparent" strokeWidth={14} />
          <line x1={M.left} x2={width - M.right} y1={thresholdY} y2={thresholdY} stroke="#bf8700" strokeWidth={2} strokeDasharray="6 3" />
          <rect x={width - M.right - 62} y={thresholdY - 9} width={60} height={18} rx={3} fill="#bf8700" />
          <text x={width - M.right - 32} y={thresholdY + 4} textAnchor="middle" fontSize={11} fill="#ffffff">
            {integer ? 'n' : 'τ'} = {shown}
          </text>
        </g>
      </svg>
    </div>
  );
});
