import { useEffect } from 'react';
import { useStudio } from './state/store';

/** Applies the chosen theme to <html data-theme>, following the system setting when asked to. */
export function useTheme(): void {
  const theme = useStudio((s) => s.settings.theme);
  useEffect(() => {
    const media = window.matchMedia('(prefers-color-scheme: dark)');
    const apply = () => {
      document.documentElement.dataset.theme = theme === 'system' ? (media.matches ? 'dark' : 'light') : theme;
    };
    apply();
    media.addEventListener('change', apply);
    return () => media.removeEventListener('change', apply);
  }, [theme]);
}
