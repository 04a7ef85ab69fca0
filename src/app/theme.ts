import { useEffect, useSyncExternalStore } from 'react';
import { useStudio } from './state/store';

const media = () => window.matchMedia('(prefers-color-scheme: dark)');
const subscribe = (onChange: () => void) => {
  const m = media();
  m.addEventListener('change', onChange);
  return () => m.removeEventListener('change', onChange);
};

/** Applies the chosen theme to <html data-theme>, following the system when asked to; returns the theme in effect. */
export function useTheme(): 'light' | 'dark' {
  const theme = useStudio((s) => s.settings.theme);
  const systemDark = useSyncExternalStore(subscribe, () => media().matches);
  const resolved = theme === 'system' ? (systemDark ? 'dark' : 'light') : theme;
  useEffect(() => {
    document.documentElement.dataset.theme = resolved;
  }, [resolved]);
  return resolved;
}
