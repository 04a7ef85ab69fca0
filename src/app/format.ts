export const pct = (x: number, digits = 2) => `${(x * 100).toFixed(digits)} %`;
export const int = (x: number) => x.toLocaleString('en');
export const compact = (x: number) =>
  x >= 1e6 ? `${(x / 1e6).toFixed(x >= 1e7 ? 1 : 2)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(x >= 1e4 ? 0 : 1)} k` : String(x);
export const shape = (s: (number | null)[]) => `[${s.map((d) => (d === null ? '?' : d)).join(', ')}]`;

export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${String(s % 60).padStart(2, '0')} s`;
}
