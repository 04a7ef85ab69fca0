import { useEffect, useMemo, useRef, useState } from 'react';
import { useStudio } from '../state/store';
import { Figure } from '../charts/Figure';
import type { MultiplierSummary } from '../../engine/approx/catalogue-store';
import { LOOKUP_BEYOND, lookupBeats } from '../../engine/approx/lookup-threshold';
import { AssignmentPanel } from '../components/AssignmentPanel';
import { NumberField } from '../components/NumberField';

type SortKey = 'name' | 'mae_pct' | 'wce_pct' | 'mre_pct' | 'ep_pct' | 'error_std' | 'float_rank' | 'power';
const COLUMNS: { key: SortKey; label: string; title: string }[] = [
  { key: 'name', label: 'Multiplier', title: 'Name' },
  { key: 'mae_pct', label: 'MAE %', title: 'Mean absolute error, % of 2^16' },
  { key: 'wce_pct', label: 'WCE %', title: 'Worst-case error, % of 2^16' },
  { key: 'mre_pct', label: 'MRE %', title: 'Mean relative error' },
  { key: 'ep_pct', label: 'EP %', title: 'Share of operand pairs with an error' },
  { key: 'error_std', label: 'Error std', title: 'Standard deviation of the error' },
  { key: 'float_rank', label: 'Rank', title: 'Rank-one terms the fast simulation needs (— : looked up directly)' },
  { key: 'power', label: 'Rel. power', title: 'Power relative to the exact multiplier' },
];

const value = (m: MultiplierSummary, key: SortKey): number | string => {
  if (key === 'name') return m.name;
  if (key === 'power') return m.power.relative ?? Infinity;
  if (key === 'float_rank') return m.metrics.float_rank ?? Infinity;
  return m.metrics[key];
};
const num = (v: number, digits = 3) => (v === 0 ? '0' : Math.abs(v) < 0.001 ? v.toExponential(1) : String(Number(v.toPrecision(digits))));

const SERIES_BUILTIN = [{ key: 'builtin', label: 'Built-in (power estimated)', color: '#2563eb' }, { key: 'imported', label: 'Imported (power as given)', color: '#ea580c' }];
const Y = { label: 'Relative power' };

export function MultipliersView() {
  const state = useStudio((s) => s.multipliers);
  const load = useStudio((s) => s.loadMultipliers);
  const select = useStudio((s) => s.selectMultiplier);
  const ready = useStudio((s) => s.engine.status === 'ready');
  const [sort, setSort] = useState<{ key: SortKey; up: boolean }>({ key: 'mae_pct', up: true });
  const [axis, setAxis] = useState<'mae_pct' | 'error_std'>('mae_pct');

  useEffect(() => {
    if (ready) void load();
  }, [ready, load]);

  const rows = useMemo(() => {
    const sorted = [...state.list].sort((a, b) => {
      const [x, y] = [value(a, sort.key), value(b, sort.key)];
      const c = typeof x === 'string' ? x.localeCompare(String(y)) : (x as number) - (y as number);
      return sort.up ? c : -c;
    });
    return sorted;
  }, [state.list, sort]);

  const points = useMemo(
    () =>
      state.list.map((m) => ({
        name: m.name,
        x: m.metrics[axis],
        builtin: m.family !== 'imported' ? m.power.relative : null,
        imported: m.family === 'imported' ? m.power.relative : null,
      })),
    [state.list, axis],
  );
  const selected = state.list.find((m) => m.id === state.selected) ?? null;
  const xAxis = useMemo(() => ({ key: 'x', label: axis === 'mae_pct' ? 'MAE %' : 'Error std', numeric: true, log: true }), [axis]);

  return (
    <div className="multipliers">
      <section className="card" aria-labelledby="mult-title">
        <h2 id="mult-title">Approximate multipliers</h2>
        <p className="muted">
          8×8 unsigned multipliers as 256×256 product tables. Built-in designs are generated bit by bit; their power is an <strong>estimate</strong> (formula in each row's tooltip). Imported tables carry the power you give or their metrics file gives.
        </p>
        {state.status === 'loading' && (
          <p role="status" data-testid="multipliers-loading">
            Measuring error tables… {state.progress ? `${state.progress.done}/${state.progress.total}` : ''}
          </p>
        )}
        {state.error && <p className="error" role="alert">{state.error}</p>}
        <MultiplierImport />
      </section>
      {state.list.length > 0 && (
        <>
          <div className="scatter-controls">
            <label>
              Error axis{' '}
              <select value={axis} onChange={(e) => setAxis(e.target.value as 'mae_pct' | 'error_std')} aria-label="Error measure on the x axis">
                <option value="mae_pct">MAE %</option>
                <option value="error_std">Error std</option>
              </select>
            </label>
          </div>
          <Figure
            id="multipliers-power-error"
            title="Relative power against error"
            kind="scatter"
            data={points}
            x={xAxis}
            y={Y}
            series={SERIES_BUILTIN}
            height={300}
            pointLabel="name"
            selected={selected?.name ?? null}
            onSelect={(name) => void select(state.list.find((m) => m.name === name)?.id ?? null)}
          />
          <div className="mult-split">
            <div className="table-wrap">
              <table data-testid="multiplier-table">
                <caption>{state.list.length} multipliers; click a column to sort, a row to see its error table</caption>
                <thead>
                  <tr>
                    {COLUMNS.map((c) => (
                      <th key={c.key} scope="col" className={c.key === 'name' ? undefined : 'num'} title={c.title} aria-sort={sort.key === c.key ? (sort.up ? 'ascending' : 'descending') : 'none'}>
                        <button type="button" className="sort" onClick={() => setSort((s) => ({ key: c.key, up: s.key === c.key ? !s.up : true }))}>
                          {c.label}
                          {sort.key === c.key ? (sort.up ? ' ▲' : ' ▼') : ''}
                        </button>
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {rows.map((m) => (
                    <tr key={m.id} className={m.id === state.selected ? 'chosen' : undefined} data-testid="multiplier-row" data-id={m.id}>
                      <th scope="row">
                        <button type="button" className="link" onClick={() => void select(m.id)} aria-pressed={m.id === state.selected}>
                          {m.name}
                        </button>
                      </th>
                      <td className="num">{num(m.metrics.mae_pct)}</td>
                      <td className="num">{num(m.metrics.wce_pct)}</td>
                      <td className="num">{num(m.metrics.mre_pct)}</td>
                      <td className="num">{num(m.metrics.ep_pct)}</td>
                      <td className="num">{num(m.metrics.error_std)}</td>
                      <td className="num">{m.metrics.float_rank ?? '—'}</td>
                      <td className="num" title={m.power.formula ?? m.power.source}>
                        {m.power.relative === null ? '?' : num(m.power.relative)} <span className="muted small">{m.power.source}</span>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {selected && <MultiplierDetail m={selected} table={state.errorTable} />}
          </div>
          <AssignmentPanel />
        </>
      )}
    </div>
  );
}

function MultiplierDetail({ m, table }: { m: MultiplierSummary; table: Int32Array | null }) {
  const remove = useStudio((s) => s.removeMultiplier);
  return (
    <section className="card detail-card" aria-labelledby="mult-detail" data-testid="multiplier-detail">
      <h3 id="mult-detail">{m.name}</h3>
      <p className="muted small">Error E = AM(a, b) − a·b over all 65,536 operand pairs; rows a (first operand), columns b.</p>
      {table ? <ErrorHeatMap table={table} /> : <p className="muted">Loading the error table…</p>}
      <dl className="metric-list">
        <dt>MSE</dt>
        <dd>{num(m.metrics.mse, 5)}</dd>
        <dt>Error mean</dt>
        <dd>{num(m.metrics.error_mean, 4)}</dd>
        <dt>Rank of E</dt>
        <dd>{m.metrics.rank}</dd>
        <dt title="Smallest number of rank-one terms that reproduces every product after rounding it to an integer">Rank exact after rounding</dt>
        <dd>{m.metrics.exact_rank ?? '—'}</dd>
        <dt title="Smallest number of terms exact to float rounding: what a layer's long sums need, and what the fast simulation uses">Rank exact to float rounding</dt>
        <dd data-testid="float-rank">{m.metrics.float_rank ?? '— (direct lookup)'}</dd>
        <dt>Power</dt>
        <dd>{m.power.relative === null ? 'unknown' : `${num(m.power.relative)} × exact (${m.power.source})`}</dd>
      </dl>
      {m.power.formula && <p className="muted small">{m.power.formula}</p>}
      <TruncatedRank m={m} />
      {m.family === 'imported' && (
        <button type="button" onClick={() => void remove(m.id)}>
          Remove {m.name}
        </button>
      )}
    </section>
  );
}

/** 256×256 error table, blue below zero, red above, white at zero; scaled to the largest |E|. */
function ErrorHeatMap({ table }: { table: Int32Array }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const max = useMemo(() => table.reduce((a, v) => Math.max(a, Math.abs(v)), 0), [table]);
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    const image = ctx.createImageData(256, 256);
    for (let i = 0; i < table.length; i++) {
      const t = max === 0 ? 0 : table[i] / max;
      const fade = Math.round(255 * (1 - Math.abs(t)));
      const rgb = t >= 0 ? [255, fade, fade] : [fade, fade, 255];
      image.data.set([...rgb, 255], i * 4);
    }
    ctx.putImageData(image, 0, 0);
  }, [table, max]);
  return (
    <figure className="heatmap">
      <canvas ref={ref} width={256} height={256} data-testid="error-heatmap" aria-label="Error table heat map" />
      <figcaption className="small">
        <span className="swatch neg" /> −{max.toLocaleString('en')} <span className="swatch zero" /> 0 <span className="swatch pos" /> +{max.toLocaleString('en')}
      </figcaption>
    </figure>
  );
}

function MultiplierImport() {
  const importFiles = useStudio((s) => s.importMultiplierFiles);
  const { importing, importError, importNotice } = useStudio((s) => s.multipliers);
  const input = useRef<HTMLInputElement>(null);
  return (
    <div className="mult-import">
      <button type="button" onClick={() => input.current?.click()} disabled={importing}>
        {importing ? 'Importing…' : 'Import tables…'}
      </button>
      <span className="muted small"> TFApprox/EvoApprox .bin (65,536 little-endian uint16), with an optional metrics .csv (name, power_mw)</span>
      <input
        ref={input}
        type="file"
        multiple
        hidden
        accept=".bin,.csv"
        data-testid="multiplier-files"
        aria-label="Multiplier table files"
        onChange={async (e) => {
          const files = e.target.files;
          if (!files?.length) return;
          await importFiles(await Promise.all(Array.from(files, async (f) => ({ name: f.name, bytes: await f.arrayBuffer() }))));
          e.target.value = '';
        }}
      />
      {importError && (
        <p className="error" role="alert" data-testid="multiplier-import-error">
          {importError}
        </p>
      )}
      {importNotice && !importError && (
        <p className="notice" role="status">
          {importNotice}
        </p>
      )}
    </div>
  );
}

const longFactorisation = ` With more than ${LOOKUP_BEYOND} mapped operands per channel the compiled direct lookup is the faster of the two on wasm wherever Winograd does not compute the layer (5×5, strided, 1×1, dense): those layers look the products up instead.`;

/**
 * High-rank tables run by direct lookup, exactly and slowly; a truncated factorisation is fast but
 * approximates the circuit, so its residual is shown next to the choice.
 */
function TruncatedRank({ m }: { m: MultiplierSummary }) {
  const chosen = useStudio((s) => s.multipliers.ranks[m.id]);
  const setRank = useStudio((s) => s.setTruncatedRank);
  const simulation = useStudio((s) => (s.multipliers.selected === m.id ? s.multipliers.simulation : null));
  const floatRank = m.metrics.float_rank;
  const terms = (n: number) => `${n} rank-one term${n === 1 ? '' : 's'}`;
  if (simulation?.form === 'product') {
    return (
      <p className="small" data-testid="simulation-mode">
        Simulated exactly as one convolution in product form: the product table itself has {terms(simulation.terms)} (its error needs {floatRank}), so each input
        channel becomes {simulation.terms} mapped operand{simulation.terms === 1 ? '' : 's'}, plus two summed channels that carry the zero-point term.
        {lookupBeats(simulation.terms) && longFactorisation}
      </p>
    );
  }
  if (floatRank !== null && floatRank <= 16 && simulation === null) {
    return <p className="small muted" data-testid="simulation-mode">Simulated exactly by a factorised convolution ({terms(floatRank)} of the error at most)…</p>;
  }
  if (floatRank !== null && floatRank <= 16) {
    return (
      <p className="small" data-testid="simulation-mode">
        Simulated exactly as one convolution over a·b and {terms(floatRank)} of the error: each input channel becomes {floatRank + 1} mapped operand{floatRank === 0 ? '' : 's'}.
        {lookupBeats(floatRank + 1) && longFactorisation}
      </p>
    );
  }
  return (
    <div className="truncate" data-testid="simulation-mode">
      <p className="small">
        Exact factorisation needs {floatRank ?? 'more than 256'} terms: simulated by direct lookup{chosen ? `, or as chosen below with ${chosen.rank} terms` : ''}.
      </p>
      <NumberField label="Simulate with a truncated rank (0 = direct lookup)" value={chosen?.rank ?? 0} min={0} max={64} step={1} integer onChange={(r) => void setRank(m.id, r === 0 ? null : r)} />
      {chosen?.residual && (
        <p className="small" data-testid="truncation-residual">
          Rank {chosen.rank} leaves {(chosen.residual.relative * 100).toFixed(1)} % of the error out (largest per product: {chosen.residual.maxAbs.toFixed(1)}): an approximation of this circuit.
        </p>
      )}
    </div>
  );
}
