// The early-exit network as a strip: one box per backbone segment, widths by its MACs, an exit
// hanging under each segment's end. During playback the segments that ran fill in and the exit that
// answered is ringed, so the cost of every decision is visible at a glance.
import { compact, pct } from '../format';

export interface StripExit {
  name: string;
  segmentMacs: number;
  branchMacs: number;
  accuracy: number | null;
}

interface Props {
  exits: StripExit[];
  /** Playback: the exit that answered and the deepest segment that ran (0-based). */
  answered?: number;
  ran?: number;
  /** Clicking an exit selects it (the histogram follows). */
  selected?: number;
  onSelect?: (exit: number) => void;
}

export function ExitStrip({ exits, answered, ran, selected, onSelect }: Props) {
  const total = exits.reduce((s, e) => s + e.segmentMacs, 0) || 1;
  return (
    <ol className="exit-strip" aria-label="The network: backbone segments with their exits" data-testid="exit-strip">
      {exits.map((e, k) => {
        const final = k === exits.length - 1;
        const label = final ? 'final classifier' : `exit ${k + 1}`;
        const state = [ran !== undefined && k <= ran ? 'ran' : '', answered === k ? 'answered' : '', selected === k ? 'selected' : ''].filter(Boolean).join(' ');
        return (
          <li key={e.name} className={`exit-seg ${state}`} style={{ flexGrow: Math.max(e.segmentMacs / total, 0.04) }}>
            <div className="exit-block" title={`${e.name}: segment of ${e.segmentMacs.toLocaleString('en')} MACs`}>
              <span>{compact(e.segmentMacs)}</span>
            </div>
            <button type="button" className="exit-head" aria-pressed={selected === k} disabled={!onSelect} onClick={() => onSelect?.(k)} title={`${e.name}${e.branchMacs ? `, branch ${e.branchMacs.toLocaleString('en')} MACs` : ''}`}>
              {label}
              {e.accuracy !== null && <small>{pct(e.accuracy)}</small>}
              {answered === k && <span className="sr-only"> (answered this frame)</span>}
            </button>
          </li>
        );
      })}
    </ol>
  );
}
