// Model files for upload tests, made from the shipped LeNet files: one valid set and one set per
// way a user's files can be wrong.
import { readFileSync } from 'node:fs';
import path from 'node:path';

const dir = path.resolve('public/models/lenet');
export const modelJson = readFileSync(path.join(dir, 'model.json'), 'utf8');
export const weights = readFileSync(path.join(dir, 'weights.bin'));

export interface UploadFile {
  name: string;
  mimeType: string;
  buffer: Buffer;
}

const json = (text: string, name = 'model.json'): UploadFile => ({ name, mimeType: 'application/json', buffer: Buffer.from(text) });
const bin = (buffer: Buffer, name = 'weights.bin'): UploadFile => ({ name, mimeType: 'application/octet-stream', buffer });

export const validUpload = (): UploadFile[] => [json(modelJson, 'model.json'), bin(weights)];

function editTopology(edit: (layers: { class_name: string; config: Record<string, unknown> }[]) => void): string {
  const parsed = JSON.parse(modelJson);
  edit(parsed.modelTopology.config.layers);
  return JSON.stringify(parsed);
}

/** A valid model for 100 inputs: loads fine, but cannot take 28×28 digits. */
const wideDense = {
  format: 'layers-model',
  modelTopology: {
    class_name: 'Sequential',
    config: { name: 'wide', layers: [{ class_name: 'Dense', config: { name: 'dense', units: 10, activation: 'softmax', use_bias: true, batch_input_shape: [null, 100], dtype: 'float32' } }] },
  },
  weightsManifest: [{ paths: ['wide.bin'], weights: [{ name: 'dense/kernel', shape: [100, 10], dtype: 'float32' }, { name: 'dense/bias', shape: [10], dtype: 'float32' }] }],
};

/** Each case: the files and the words the error must contain. */
export const invalidUploads: { name: string; files: UploadFile[]; message: RegExp }[] = [
  { name: 'not JSON', files: [json('this is not { json'), bin(weights)], message: /model\.json is not JSON/ },
  { name: 'missing weight file', files: [json(modelJson)], message: /weight file "weights\.bin" named in model\.json is missing/ },
  { name: 'short weight file', files: [json(modelJson), bin(weights.subarray(0, weights.length - 100))], message: /hold \d+ bytes; model\.json needs \d+/ },
  {
    name: 'unsupported layer',
    files: [json(editTopology((layers) => (layers[1].class_name = 'FancyPooling2D'))), bin(weights)],
    message: /unsupported layer type "FancyPooling2D"/,
  },
  {
    name: 'input shape that does not fit',
    files: [json(JSON.stringify(wideDense)), bin(Buffer.alloc(101 * 10 * 4), 'wide.bin')],
    message: /input shape \[100\] does not fit the data set's \[28, 28, 1\]/,
  },
];
