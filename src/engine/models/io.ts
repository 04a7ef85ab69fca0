// tfjs LayersModel files (model.json + weight .bin shards) to and from in-memory artifacts, with
// validation that names what is wrong. Used for shipped models, uploads and IndexedDB storage.
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';

const weightSpec = z.object({
  name: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  dtype: z.enum(['float32', 'int32', 'bool', 'string', 'complex64']),
  quantization: z
    .object({ dtype: z.enum(['uint8', 'uint16', 'float16']), scale: z.number().optional(), min: z.number().optional() })
    .passthrough()
    .optional(),
}).passthrough();

const modelJsonSchema = z.object({
  modelTopology: z.record(z.string(), z.unknown()),
  weightsManifest: z.array(z.object({ paths: z.array(z.string()).min(1), weights: z.array(weightSpec) })),
  format: z.string().optional(),
  generatedBy: z.string().optional(),
  convertedBy: z.string().nullable().optional(),
}).passthrough();

export class ModelFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFileError';
  }
}

export interface NamedBytes {
  name: string;
  bytes: ArrayBuffer;
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

function specBytes(spec: z.infer<typeof weightSpec>): number {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const size = BYTES[dtype];
  if (size === undefined) throw new ModelFileError(`weight "${spec.name}" has dtype ${dtype}, which the studio cannot read`);
  return n * size;
}

const baseName = (p: string) => p.split('/').pop() ?? p;

/** Parses model.json text and its weight files into artifacts, checking every shard is there and long enough. */
export function artifactsFromFiles(modelJsonText: string, weightFiles: NamedBytes[]): tf.io.ModelArtifacts {
  let raw: unknown;
  try {
    raw = JSON.parse(modelJsonText);
  } catch (e) {
    throw new ModelFileError(`model.json is not JSON: ${(e as Error).message}`);
  }
  const parsed = modelJsonSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.join('.') || 'top level';
    throw new ModelFileError(`model.json is not a tfjs LayersModel file: ${where}: ${issue.message}`);
  }
  const json = parsed.data;
  if (json.format && json.format !== 'layers-model') {
    throw new ModelFileError(`model.json has format "${json.format}"; the studio loads tfjs LayersModels ("layers-model")`);
  }
  const byName = new Map(weightFiles.map((f) => [baseName(f.name), f.bytes]));
  const chunks: Uint8Array[] = [];
  const specs: tf.io.WeightsManifestEntry[] = [];
  for (const group of json.weightsManifest) {
    const need = group.weights.reduce((s, w) => s + specBytes(w), 0);
    const shards = group.paths.map((p) => {
      const bytes = byName.get(baseName(p));
      if (!bytes) throw new ModelFileError(`weight file "${baseName(p)}" named in model.json is missing: add it next to model.json`);
      return new Uint8Array(bytes);
    });
    const have = shards.reduce((s, b) => s + b.length, 0);
    if (have < need) {
      throw new ModelFileError(`weight file${shards.length > 1 ? 's' : ''} ${group.paths.map(baseName).join(', ')} hold ${have} bytes; model.json needs ${need}: the file is short or from another model`);
    }
    // Shards hold exactly the group's weights; trailing bytes beyond `need` would shift later groups.
    const joined = new Uint8Array(need);
    let offset = 0;
    for (const shard of shards) {
      const take = Math.min(shard.length, need - offset);
      joined.set(shard.subarray(0, take), offset);
      offset += take;
    }
    chunks.push(joined);
    specs.push(...(group.weights as tf.io.WeightsManifestEntry[]));
  }
  const total = chunks.reduce((s, c) => s + c.length, 0);
  const weightData = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    weightData.set(c, at);
    at += c.length;
  }
  return {
    modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
    weightSpecs: specs,
    weightData: weightData.buffer,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy ?? undefined,
  };
}

/** Serialises artifacts into model.json text and one weights.bin, the layout the studio ships. */
export function artifactsToFiles(artifacts: tf.io.ModelArtifacts, weightsFile = 'weights.bin'): { modelJson: string; weights: Uint8Array } {
  const data = artifacts.weightData;
  const weights = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(tf.io.concatenateArrayBuffers(data as ArrayBuffer[]));
  const modelJson = JSON.stringify({
    modelTopology: artifacts.modelTopology,
    format: 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: 'qos-studio',
    weightsManifest: [{ paths: [weightsFile], weights: artifacts.weightSpecs }],
  });
  return { modelJson, weights };
}

export async function modelToArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let captured: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!captured) throw new Error('model.save produced no artifacts');
  return captured;
}

/** Loads artifacts as a LayersModel; unknown layer classes become a message naming the layer. */
export async function modelFromArtifacts(artifacts: tf.io.ModelArtifacts): Promise<tf.LayersModel> {
  try {
    return await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    const unknown = /Unknown layer: (\w+)/.exec(msg);
    if (unknown) throw new ModelFileError(`unsupported layer type "${unknown[1]}": the studio runs tfjs built-in layers only`);
    throw new ModelFileError(`the model cannot be built: ${msg.split('\n')[0]}`);
  }
}

export interface InputSpec {
  shape: number[];
  classes: number;
}

/** Checks a model fits a data set: per-sample input with the same number of values, one output per class. */
export function checkFitsData(model: tf.LayersModel, data: InputSpec): void {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new ModelFileError(`the model has ${model.inputs.length} inputs and ${model.outputs.length} outputs; the studio needs one of each`);
  }
  const inShape = model.inputs[0].shape.slice(1);
  const want = data.shape.reduce((a, b) => a * b, 1);
  const have = inShape.reduce<number>((a, b) => a * (b ?? NaN), 1);
  if (have !== want) {
    throw new ModelFileError(`input shape [${inShape.map((d) => d ?? '?').join(', ')}] does not fit the data set's [${data.shape.join(', ')}] samples`);
  }
  const out = model.outputs[0].shape;
  if (out.length !== 2 || out[1] !== data.classes) {
    throw new ModelFileError(`output shape [${out.map((d) => d ?? '?').join(', ')}] does not fit ${data.classes} classes`);
  }
}
