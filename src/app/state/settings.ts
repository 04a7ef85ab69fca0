// The user-visible settings as one typed table: it alone drives persistence, the share link (URL
// hash) and migration between versions of the stored state.
import { z } from 'zod';

export const VIEWS = ['model', 'train', 'multipliers', 'mapping', 'qos', 'exits', 'quantise', 'settings'] as const;
export type View = (typeof VIEWS)[number];
export const BACKENDS = ['auto', 'webgl', 'wasm', 'cpu'] as const;
export const THEMES = ['system', 'light', 'dark'] as const;
export const LIBRARIES = ['builtin', 'imported', 'all'] as const;

export const settingsSchema = z.object({
  view: z.enum(VIEWS).catch('model'),
  /** A zoo model name, or `user:<id>` for a model kept in this browser. */
  model: z.string().min(1).catch('lenet'),
  epochs: z.coerce.number().int().min(1).max(1000).catch(1),
  batchSize: z.coerce.number().int().min(1).max(4096).catch(64),
  learningRate: z.coerce.number().positive().max(1).catch(0.001),
  backend: z.enum(BACKENDS).catch('auto'),
  theme: z.enum(THEMES).catch('system'),
  /** Noise tolerance and mapping (algorithms.md §2). */
  lambda: z.coerce.number().min(0).max(100).catch(0.2),
  toleranceEpochs: z.coerce.number().int().min(1).max(100).catch(2),
  retrainEpochs: z.coerce.number().int().min(0).max(100).catch(1),
  mappingDigits: z.coerce.number().int().min(64).max(8000).catch(2000),
  /** Percentage points the choice may lose on held-out training digits before layers step back (0: off). */
  mappingGuard: z.coerce.number().min(0).max(100).catch(5),
  library: z.enum(LIBRARIES).catch('builtin'),
  /** Multiplier ids the mapping and the operating points leave out, joined by `|` (names may hold commas). */
  mappingExclude: z.string().max(4000).catch(''),
  /** Operating points (algorithms.md §3): K shared instances, one tolerance scale per point. */
  qosInstances: z.coerce.number().int().min(1).max(16).catch(4),
  qosScales: z
    .string()
    .regex(/^\s*\d*\.?\d+(\s*,\s*\d*\.?\d+)*\s*$/)
    .refine((v) => v.split(',').every((x) => Number(x) > 0))
    .catch('0.3, 1, 2'),
  qosFinetuneEpochs: z.coerce.number().int().min(0).max(20).catch(1),
  /** Early exits (algorithms.md §4): digit-video frames recorded, epochs per branch. */
  exitFrames: z.coerce.number().int().min(10).max(20000).catch(2000),
  exitEpochs: z.coerce.number().int().min(1).max(50).catch(7),
  exitStream: z.enum(['recording', 'mitbih']).catch('recording'),
  /** Activation quantisation (algorithms.md §6): methods and bit widths compared, fine-tuning per run. */
  quantMethods: z.string().regex(/^(st|uniform)(,(st|uniform))*$/).catch('st,uniform'),
  quantBits: z.string().regex(/^[12348](,[12348])*$/).catch('1,2,3,4,8'),
  quantEpochs: z.coerce.number().int().min(0).max(20).catch(1),
  quantSamples: z.coerce.number().int().min(64).max(8000).catch(2000),
});
export type Settings = z.infer<typeof settingsSchema>;

export const EXCLUDE_SEPARATOR = '|';
/** The ids in `mappingExclude`. */
export const excludedIds = (s: Pick<Settings, 'mappingExclude'>) => s.mappingExclude.split(EXCLUDE_SEPARATOR).filter((id) => id.length > 0);

export const DEFAULT_SETTINGS: Settings = settingsSchema.parse({});

/** Settings that travel in the share link, with their short hash keys. */
const URL_KEYS = { view: 'view', model: 'model', epochs: 'epochs', batchSize: 'batch', learningRate: 'lr', lambda: 'lambda', toleranceEpochs: 'tepochs', retrainEpochs: 'repochs', mappingDigits: 'digits', mappingGuard: 'guard', library: 'library', mappingExclude: 'exclude', qosInstances: 'k', qosScales: 'scales', qosFinetuneEpochs: 'fepochs', exitFrames: 'frames', exitEpochs: 'xepochs', exitStream: 'xstream', quantMethods: 'qmethods', quantBits: 'qbits', quantEpochs: 'qepochs', quantSamples: 'qsamples' } as const satisfies Partial<Record<keyof Settings, string>>;

export function settingsToHash(s: Settings): string {
  const params = new URLSearchParams();
  for (const [field, key] of Object.entries(URL_KEYS) as [keyof typeof URL_KEYS, string][]) {
    // A model kept only in this browser cannot be opened from a link elsewhere.
    if (field === 'model' && s.model.startsWith('user:')) continue;
    params.set(key, String(s[field]));
  }
  return '#' + params.toString();
}

/** Reads the share link's settings; absent or invalid entries are left out, not defaulted. */
export function settingsFromHash(hash: string): Partial<Settings> {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const out: Partial<Settings> = {};
  const shape = settingsSchema.shape;
  for (const [field, key] of Object.entries(URL_KEYS) as [keyof typeof URL_KEYS, string][]) {
    const raw = params.get(key);
    if (raw === null) continue;
    const parsed = shape[field].removeCatch().safeParse(raw);
    if (parsed.success) (out as Record<string, unknown>)[field] = parsed.data;
  }
  return out;
}

export const STATE_VERSION = 2;

/**
 * Brings stored state from any earlier version to the current one. Version 1 kept the learning
 * rate as `lr` and the model as `modelName`; anything unreadable falls back to defaults field by field.
 */
export function migrateSettings(stored: unknown, version: number): Settings {
  const raw = { ...((stored as { settings?: Record<string, unknown> } | null)?.settings ?? {}) };
  if (version < 2) {
    if ('lr' in raw && !('learningRate' in raw)) raw.learningRate = raw.lr;
    if ('modelName' in raw && !('model' in raw)) raw.model = raw.modelName;
    delete raw.lr;
    delete raw.modelName;
  }
  return settingsSchema.parse(raw);
}
