// Replay files: the outputs of every exit on every frame of one or more streams, recorded once (in
// the studio, or anywhere else, e.g. PyTorch) so that decision mechanisms can be replayed on them.
// A bad file is refused with a message that names the place, e.g.
// "streams[0].frames[12].logits[2]: 9 numbers, expected 10 (classes)".
import { z } from 'zod';

export interface ReplayExit {
  name: string;
  /** MACs of the backbone segment that ends at this exit. */
  segmentMacs: number;
  /** MACs of the exit's own branch (0 for the final classifier). */
  branchMacs: number;
}

export interface ReplayFrame {
  label: number;
  /** One row of raw logits per exit, in exit order; the last is the final classifier. */
  logits: number[][];
  /** Optional: global-average-pooled features of one backbone block (feature-difference). */
  features?: number[];
}

export interface ReplayData {
  classes: number;
  exits: ReplayExit[];
  streams: { name?: string; frames: ReplayFrame[] }[];
  /** The exit (0-based) at whose block the frames' features were pooled, when they carry features. */
  featureExit?: number;
}

export class ReplayFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplayFileError';
  }
}

const macs = z.number().finite().nonnegative();
const fileSchema = z.object({
  classes: z.number().int().min(2),
  exits: z
    .array(z.object({ name: z.string().min(1), segment_macs: macs, branch_macs: macs }))
    .min(1),
  feature_exit: z.number().int().min(1).optional(),
  streams: z
    .array(
      z.object({
        name: z.string().optional(),
        frames: z.array(z.object({ label: z.number().int(), logits: z.array(z.array(z.number())), features: z.array(z.number()).min(1).optional() })).min(1),
      }),
    )
    .min(1),
});

const place = (path: PropertyKey[]) => path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');

/** Validates a parsed replay file (snake_case, as written); throws ReplayFileError naming the place. */
export function parseReplay(json: unknown): ReplayData {
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ReplayFileError(`${place(issue.path) || 'the file'}: ${issue.message}`);
  }
  const f = parsed.data;
  const K = f.exits.length;
  if (f.exits[K - 1].branch_macs !== 0) throw new ReplayFileError(`exits[${K - 1}].branch_macs: the final classifier has no branch (expected 0, got ${f.exits[K - 1].branch_macs})`);
  const withFeatures = f.streams[0].frames[0].features !== undefined;
  const dim = f.streams[0].frames[0].features?.length ?? 0;
  if (withFeatures && f.feature_exit === undefined) throw new ReplayFileError('feature_exit: missing (the frames carry features: say at which exit\'s block, 1-based, they were pooled)');
  if (f.feature_exit !== undefined && f.feature_exit > K - 1) throw new ReplayFileError(`feature_exit: ${f.feature_exit} is not an early exit (1–${K - 1})`);
  if (f.feature_exit !== undefined && !withFeatures) throw new ReplayFileError('streams[0].frames[0].features: missing (feature_exit is given)');
  f.streams.forEach((s, si) =>
    s.frames.forEach((fr, fi) => {
      const at = `streams[${si}].frames[${fi}]`;
      if ((fr.features === undefined) === withFeatures) throw new ReplayFileError(`${at}.features: ${withFeatures ? 'missing (every frame carries features or none does)' : 'unexpected (every frame carries features or none does)'}`);
      if (fr.features) {
        if (fr.features.length !== dim) throw new ReplayFileError(`${at}.features: ${fr.features.length} numbers, expected ${dim} (as the first frame)`);
        const badF = fr.features.findIndex((v) => !Number.isFinite(v));
        if (badF >= 0) throw new ReplayFileError(`${at}.features[${badF}]: not a finite number`);
      }
      if (fr.label < 0 || fr.label >= f.classes) throw new ReplayFileError(`${at}.label: ${fr.label} is out of range (classes 0–${f.classes - 1})`);
      if (fr.logits.length !== K) throw new ReplayFileError(`${at}.logits: ${fr.logits.length} rows, expected ${K} (one per exit)`);
      fr.logits.forEach((row, k) => {
        if (row.length !== f.classes) throw new ReplayFileError(`${at}.logits[${k}]: ${row.length} numbers, expected ${f.classes} (classes)`);
        const bad = row.findIndex((v) => !Number.isFinite(v));
        if (bad >= 0) throw new ReplayFileError(`${at}.logits[${k}][${bad}]: not a finite number`);
      });
    }),
  );
  return {
    classes: f.classes,
    exits: f.exits.map((e) => ({ name: e.name, segmentMacs: e.segment_macs, branchMacs: e.branch_macs })),
    streams: f.streams.map((s) => ({ ...(s.name === undefined ? {} : { name: s.name }), frames: s.frames })),
    ...(f.feature_exit === undefined ? {} : { featureExit: f.feature_exit - 1 }),
  };
}

/** Parses replay text; malformed JSON is a ReplayFileError too. */
export function parseReplayText(text: string): ReplayData {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ReplayFileError(`not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  return parseReplay(json);
}

/** The file form of `data` (snake_case). */
export function replayToJson(data: ReplayData): unknown {
  return {
    classes: data.classes,
    exits: data.exits.map((e) => ({ name: e.name, segment_macs: e.segmentMacs, branch_macs: e.branchMacs })),
    ...(data.featureExit === undefined ? {} : { feature_exit: data.featureExit + 1 }),
    streams: data.streams.map((s) => ({ ...(s.name === undefined ? {} : { name: s.name }), frames: s.frames.map((f) => ({ label: f.label, logits: f.logits, ...(f.features ? { features: f.features } : {}) })) })),
  };
}
