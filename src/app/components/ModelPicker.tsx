import { useStudio } from '../state/store';
import { compact, pct } from '../format';

export function ModelPicker() {
  const zoo = useStudio((s) => s.zoo);
  const userModels = useStudio((s) => s.userModels);
  const selected = useStudio((s) => s.settings.model);
  const opening = useStudio((s) => s.opening);
  const set = useStudio((s) => s.set);
  const remove = useStudio((s) => s.deleteUserModel);
  // The worker refuses to swap models under a running training job; say so before a click does.
  const training = useStudio((s) => s.training.running);

  return (
    <section className="card" aria-labelledby="zoo-title">
      <h3 id="zoo-title">Models</h3>
      {training && <p className="muted small">Training is running: models can be switched when it ends.</p>}
      <ul className="model-list" role="listbox" aria-label="Models" aria-busy={opening}>
        {zoo.map((m) => (
          <li key={m.name} role="option" aria-selected={selected === m.name}>
            <button className={selected === m.name ? 'model-item active' : 'model-item'} data-testid={`pick-${m.name}`} disabled={training} onClick={() => set('model', m.name)}>
              <span className="model-title">{m.title}</span>
              <span className="model-meta">
                {m.task} · {compact(m.params)} params · {compact(m.macs)} MACs · {pct(m.test_accuracy, 1)}
              </span>
            </button>
          </li>
        ))}
        {userModels.map((m) => (
          <li key={m.id} role="option" aria-selected={selected === `user:${m.id}`} className="user-model">
            <button className={selected === `user:${m.id}` ? 'model-item active' : 'model-item'} data-testid="pick-user-model" disabled={training} onClick={() => set('model', `user:${m.id}`)}>
              <span className="model-title">{m.name}</span>
              <span className="model-meta">
                yours · {compact(m.params)} params · {compact(m.macs)} MACs
              </span>
            </button>
            <button className="icon-button small" aria-label={`Remove ${m.name} from this browser`} onClick={() => void remove(m.id)}>
              ✕
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
