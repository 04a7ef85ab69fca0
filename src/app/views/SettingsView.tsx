import { useStudio } from '../state/store';
import { BACKENDS, THEMES } from '../state/settings';

const BACKEND_LABELS: Record<(typeof BACKENDS)[number], string> = {
  auto: 'Automatic: measure WebGL and wasm, keep the faster',
  webgl: 'WebGL (GPU)',
  wasm: 'WebAssembly (SIMD)',
  cpu: 'Plain JavaScript (slowest)',
};

export function SettingsView() {
  const settings = useStudio((s) => s.settings);
  const set = useStudio((s) => s.set);
  const engine = useStudio((s) => s.engine);
  const reset = useStudio((s) => s.resetStudio);
  return (
    <div className="settings">
      <section className="card" aria-labelledby="backend-title">
        <h2 id="backend-title">Compute backend</h2>
        <fieldset>
          <legend>Backend for the engine worker</legend>
          {BACKENDS.map((b) => (
            <label key={b} className="radio">
              <input type="radio" name="backend" value={b} checked={settings.backend === b} onChange={() => set('backend', b)} />
              {BACKEND_LABELS[b]}
            </label>
          ))}
        </fieldset>
        <p className="muted">Changing it restarts the engine worker; the open model is reloaded.</p>
        {engine.choice && (
          <table className="probes" data-testid="probe-table">
            <caption>Measured at start: a 3×3 convolution on 8×28×28×16 and a 256² matrix product (median of 3 after a warm-up)</caption>
            <thead>
              <tr>
                <th scope="col">Backend</th>
                <th scope="col">Started</th>
                <th scope="col" className="num">Time</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {engine.choice.probes.map((p) => (
                <tr key={p.name} className={p.name === engine.choice!.backend ? 'chosen' : undefined} data-testid={`probe-${p.name}`} data-ok={p.ok}>
                  <th scope="row">
                    {p.name}
                    {p.name === engine.choice!.backend ? ' (in use)' : ''}
                  </th>
                  <td>{p.ok ? 'yes' : 'no'}</td>
                  <td className="num">{p.ms !== undefined ? `${p.ms.toFixed(1)} ms` : '—'}</td>
                  <td>{p.ok ? p.detail ?? '' : p.error}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section className="card" aria-labelledby="look-title">
        <h2 id="look-title">Appearance</h2>
        <fieldset>
          <legend>Theme</legend>
          {THEMES.map((t) => (
            <label key={t} className="radio">
              <input type="radio" name="theme" value={t} checked={settings.theme === t} onChange={() => set('theme', t)} />
              {t === 'system' ? 'Follow the system' : t === 'light' ? 'Light' : 'Dark'}
            </label>
          ))}
        </fieldset>
      </section>
      <section className="card" aria-labelledby="reset-title">
        <h2 id="reset-title">Stored state</h2>
        <p className="muted">Settings are kept in this browser and in the page address, so a link reopens the same view. Your models are kept in IndexedDB until you remove them.</p>
        <button type="button" onClick={reset}>
          Reset settings
        </button>
      </section>
    </div>
  );
}
