// How the exit views name and colour the decision mechanisms (algorithms.md §4).
import type { Mechanism, MechanismSettings } from '../../../engine/exits/replay';
import type { SweepPoint } from '../../../engine/exits/sweep';

export const MECHANISM_LABELS: Record<Mechanism, string> = {
  confidence: 'confidence',
  entropy: 'entropy',
  margin: 'margin',
  patience: 'patience (PABEE)',
  difference: 'difference detection',
  'temporal-patience': 'temporal patience',
  'feature-difference': 'feature difference',
};

export const MECHANISM_COLOURS: Record<Mechanism, string> = {
  confidence: '#0969da',
  entropy: '#8250df',
  margin: '#1b7c83',
  patience: '#bf8700',
  difference: '#cf222e',
  'temporal-patience': '#1a7f37',
  'feature-difference': '#bc4c00',
};

export const ALL_MECHANISMS = Object.keys(MECHANISM_LABELS) as Mechanism[];

/** What the mechanism compares with its threshold, as the stream trace plots it. */
export const COMPARED: Record<Mechanism, string> = {
  confidence: 'confidence of exit 1 (fires at ≥ τ)',
  entropy: 'entropy at exit 1 (fires at ≤ τ)',
  margin: 'top-2 margin at exit 1 (fires at ≥ τ)',
  patience: 'agreeing exits in a row where it stopped (fires at ≥ n)',
  difference: 'distance of the watched exit’s logits to the reference (full inference at ≥ τ)',
  'temporal-patience': 'distance of the monitored exit’s logits to the reference (full inference at ≥ τ)',
  'feature-difference': 'distance of the block features to the reference (full inference at ≥ τ)',
};

/** "τ = 0.42", "n = 2", "τ = ∞" (an infinite threshold is stored as null once persisted). */
export function settingText(p: SweepPoint | { settings: MechanismSettings }): string {
  if (p.settings.mechanism === 'patience') return `n = ${p.settings.patience}`;
  const t = p.settings.threshold;
  return `τ = ${t === null || t === undefined || !Number.isFinite(t) ? '∞' : Number(t.toPrecision(3))}`;
}
