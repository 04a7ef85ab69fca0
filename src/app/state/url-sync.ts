// Keeps the share link (URL hash) and the store in step: a link reopens the same view.
import { settingsFromHash, settingsToHash } from './settings';
import { useStudio } from './store';

export function bindUrlHash(): void {
  const fromLink = settingsFromHash(window.location.hash);
  if (Object.keys(fromLink).length > 0) useStudio.getState().applySettings(fromLink);
  const write = () => {
    const hash = settingsToHash(useStudio.getState().settings);
    if (hash !== window.location.hash) history.replaceState(null, '', hash);
  };
  write();
  useStudio.subscribe((s, prev) => {
    if (s.settings !== prev.settings) write();
  });
  window.addEventListener('hashchange', () => useStudio.getState().applySettings(settingsFromHash(window.location.hash)));
}
