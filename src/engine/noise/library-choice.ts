// Which multipliers a mapping may choose from. Pure: the studio's "Leave out" list (UI thread) and
// the session (worker) must agree on what a library holds.

/** 'builtin', 'imported', 'all', or a list of multiplier ids. */
export type MappingLibrary = 'builtin' | 'imported' | 'all' | string[];

/** Whether a multiplier belongs to `library`; the exact multiplier counts as built-in. */
export function inMappingLibrary(m: { id: string; family: string }, library: MappingLibrary): boolean {
  if (Array.isArray(library)) return library.includes(m.id);
  return library === 'all' || (library === 'builtin') === (m.family !== 'imported');
}
