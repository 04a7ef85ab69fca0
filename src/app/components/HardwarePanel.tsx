// The hardware-mapping panel of the Exits view: processors in order and the links between them,
// editable in everyday units; every split of the network over them, the chosen one first and why
// each other loses.
import { useEffect, useState } from 'react';
import { useStudio } from '../state/store';
import type { HardwareSpec } from '../../engine/exits/hardware';

/** Field ↔ display unit: what the table shows is value × scale. */
const PROCESSOR_FIELDS = [
  { key: 'macsPerSecond', label: 'M MAC/s', scale: 1e-6 },
  { key: 'memoryBytes', label: 'memory, KB', scale: 1 / 1024 },
  { key: 'joulesPerMac', label: 'pJ / MAC', scale: 1e12 },
] as const;
const LINK_FIELDS = [
  { key: 'bytesPerSecond', label: 'kB/s', scale: 1e-3 },
  { key: 'joulesPerByte', label: 'nJ / byte', scale: 1e9 },
] as const;

const show = (v: number) => String(Number(v.toPrecision(6)));
const ms = (s: number) => `${(s * 1000).toFixed(2)} ms`;
const energy = (j: number) => (j >= 1e-3 ? `${(j * 1e3).toFixed(2)} mJ` : j >= 1e-6 ? `${(j * 1e6).toFixed(2)} µJ` : `${(j * 1e9).toFixed(2)} nJ`);

export function HardwarePanel() {
  const exits = useStudio((s) => s.exits);
  const map = useStudio((s) => s.mapExits);
  const [draft, setDraft] = useState<HardwareSpec>(exits.hardwareSpec);
  const [invalid, setInvalid] = useState<string | null>(null);
  useEffect(() => setDraft(exits.hardwareSpec), [exits.hardwareSpec]);
  // A new replay: map it onto the current processors straight away.
  useEffect(() => {
    if (exits.sweep && !exits.hardware && !exits.hardwareError) void map(exits.hardwareSpec);
  }, [exits.sweep, exits.hardware, exits.hardwareError, exits.hardwareSpec, map]);

  const number = (text: string, scale: number, what: string, apply: (v: number) => void) => {
    const v = Number(text);
    if (!(v > 0) || !Number.isFinite(v)) setInvalid(`${what}: enter a positive number`);
    else setInvalid(null);
    apply(v / scale);
  };
  const names = draft.processors.map((p) => p.name);
  const result = exits.hardware;

  return (
    <section className="card" aria-labelledby="hardware-title" data-testid="hardware-panel">
      <h2 id="hardware-title">Hardware mapping</h2>
      <p className="muted">
        Processors in order, each running a stretch of the network that ends at an exit; a frame goes only as far as the exit that answers it. Termination rates come from the cheapest mechanism setting above{result ? ` (${result.setting})` : ''}. The figures below are examples: edit them to your devices.
      </p>
      <div className="table-wrap">
        <table data-testid="hardware-processors">
          <thead>
            <tr>
              <th scope="col">Processor</th>
              {PROCESSOR_FIELDS.map((f) => (
                <th key={f.key} scope="col" className="num">
                  {f.label}
                </th>
              ))}
              <th scope="col">Cannot run (layer types)</th>
            </tr>
          </thead>
          <tbody>
            {draft.processors.map((p, i) => (
              <tr key={i}>
                <th scope="row">{p.name}</th>
                {PROCESSOR_FIELDS.map((f) => (
                  <td key={f.key} className="num">
                    <input
                      aria-label={`${p.name} ${f.label}`}
                      defaultValue={show(p[f.key] * f.scale)}
                      key={`${i}-${f.key}-${exits.hardwareSpec.processors[i]?.[f.key]}`}
                      onChange={(e) => number(e.target.value, f.scale, `${p.name} ${f.label}`, (v) => setDraft((d) => ({ ...d, processors: d.processors.map((q, j) => (j === i ? { ...q, [f.key]: v } : q)) })))}
                    />
                  </td>
                ))}
                <td>
                  <input
                    aria-label={`${p.name} cannot run`}
                    defaultValue={p.unsupported.join(', ')}
                    placeholder="e.g. DepthwiseConv2D"
                    onChange={(e) => {
                      const unsupported = e.target.value.split(',').map((t) => t.trim()).filter(Boolean);
                      setDraft((d) => ({ ...d, processors: d.processors.map((q, j) => (j === i ? { ...q, unsupported } : q)) }));
                    }}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="train-form">
        {draft.links.map((l, i) =>
          LINK_FIELDS.map((f) => (
            <label key={`${i}-${f.key}`} className="field">
              <span>
                {names[i]} → {names[i + 1]}, {f.label}
              </span>
              <input aria-label={`${names[i]} to ${names[i + 1]} ${f.label}`} defaultValue={show(l[f.key] * f.scale)} onChange={(e) => number(e.target.value, f.scale, `link ${names[i]} → ${names[i + 1]}`, (v) => setDraft((d) => ({ ...d, links: d.links.map((m, j) => (j === i ? { ...m, [f.key]: v } : m)) })))} />
            </label>
          )),
        )}
        <label className="field">
          <span>Latency limit, ms</span>
          <input aria-label="Latency limit, ms" defaultValue={show(draft.latencyLimitSeconds * 1000)} onChange={(e) => number(e.target.value, 1000, 'latency limit', (v) => setDraft((d) => ({ ...d, latencyLimitSeconds: v })))} />
        </label>
      </div>
      <div className="actions">
        <button type="button" disabled={invalid !== null || !exits.sweep} onClick={() => void map(draft)}>
          Map onto these processors
        </button>
        {invalid && <small className="error">{invalid}</small>}
      </div>
      {exits.hardwareError && (
        <p className="error" role="alert">
          {exits.hardwareError}
        </p>
      )}
      {result && (
        <>
          {!result.complete && <p className="muted">From a replay file: only MACs are known, so memory, layer support and transfer sizes are not checked.</p>}
          <div className="table-wrap">
            <table data-testid="hardware-mappings">
              <thead>
                <tr>
                  <th scope="col">Split</th>
                  <th scope="col" className="num">Worst-case latency</th>
                  <th scope="col" className="num">Mean latency</th>
                  <th scope="col" className="num">Energy per frame</th>
                  <th scope="col">Verdict</th>
                </tr>
              </thead>
              <tbody>
                {result.mappings.map((m, i) => (
                  <tr key={i} className={i === 0 && m.feasible ? 'current' : undefined}>
                    <th scope="row">{m.ranges.map((r, p) => (r ? `${names[p]}: ${r[0] === r[1] ? `exit ${r[0] + 1}` : `exits ${r[0] + 1}–${r[1] + 1}`}` : null)).filter(Boolean).join(' · ')}</th>
                    <td className="num">{ms(m.worstLatencySeconds)}</td>
                    <td className="num">{ms(m.meanLatencySeconds)}</td>
                    <td className="num">{energy(m.meanJoules)}</td>
                    <td>{m.verdict}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
