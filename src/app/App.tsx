import { useEffect } from 'react';
import { useStudio } from './state/store';
import { VIEWS, type View } from './state/settings';
import { useTheme } from './theme';
import { StatusBar } from './components/StatusBar';
import { ModelView } from './views/ModelView';
import { TrainView } from './views/TrainView';
import { SettingsView } from './views/SettingsView';
import { MultipliersView } from './views/MultipliersView';
import { MappingView } from './views/MappingView';
import { QosView } from './views/QosView';
import { ExitsView } from './views/ExitsView';
import { QuantView } from './views/QuantView';

const LABELS: Record<View, string> = { model: 'Model', train: 'Train', multipliers: 'Multipliers', mapping: 'Mapping', qos: 'QoS', exits: 'Exits', quantise: 'Quantise', settings: 'Settings' };

export function App() {
  const theme = useTheme();
  const view = useStudio((s) => s.settings.view);
  const set = useStudio((s) => s.set);

  // Alt+1…8 switch views from anywhere: presenters drive the studio from the keyboard.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!e.altKey) return;
      const index = Number(e.key) - 1;
      if (index >= 0 && index < VIEWS.length) {
        e.preventDefault();
        set('view', VIEWS[index]);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [set]);

  return (
    <div className="shell">
      <header className="topbar">
        <div className="brand">
          <span className="logo" aria-hidden>◢</span> QoS Studio
          <span className="tagline">accuracy ⇄ energy for neural networks on small devices</span>
        </div>
        <nav
          role="tablist"
          aria-label="Views"
          onKeyDown={(e) => {
            // Arrow keys move between tabs, as in every tab list.
            const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
            if (!step) return;
            const next = VIEWS[(VIEWS.indexOf(view) + step + VIEWS.length) % VIEWS.length];
            set('view', next);
            document.getElementById(`tab-${next}`)?.focus();
          }}
        >
          {VIEWS.map((v, i) => (
            <button
              key={v}
              role="tab"
              id={`tab-${v}`}
              aria-selected={view === v}
              aria-controls={`panel-${v}`}
              tabIndex={view === v ? 0 : -1}
              title={`${LABELS[v]} (Alt+${i + 1})`}
              className={view === v ? 'tab active' : 'tab'}
              onClick={() => set('view', v)}
            >
              {LABELS[v]}
            </button>
          ))}
        </nav>
        <ThemeToggle dark={theme === 'dark'} />
      </header>
      <main id={`panel-${view}`} role="tabpanel" aria-labelledby={`tab-${view}`}>
        {view === 'model' && <ModelView />}
        {view === 'train' && <TrainView />}
        {view === 'multipliers' && <MultipliersView />}
        {view === 'mapping' && <MappingView />}
        {view === 'qos' && <QosView />}
        {view === 'exits' && <ExitsView />}
        {view === 'quantise' && <QuantView />}
        {view === 'settings' && <SettingsView />}
      </main>
      <StatusBar />
    </div>
  );
}

function ThemeToggle({ dark }: { dark: boolean }) {
  const set = useStudio((s) => s.set);
  return (
    <button className="icon-button" aria-label={`Switch to ${dark ? 'light' : 'dark'} theme`} onClick={() => set('theme', dark ? 'light' : 'dark')}>
      {dark ? '☀' : '☾'}
    </button>
  );
}
