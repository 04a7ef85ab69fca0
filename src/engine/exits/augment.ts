// Augmenting a trained model with early exits (algorithms.md §4, after peax): an exit candidate
// after each compute block (a point every path through the network passes, whose feature map feeds
// the next block) except the last before the classifier head. Each branch is a pooling step that
// shrinks large maps, an optional 1×1 convolution when channels are many, then a copy of the head's
// structure with fresh weights (hidden dense units ÷ 4, at least 16). The backbone stays frozen:
// features are computed once, and each branch trains alone with early stopping; branches no better
// than chance are dropped.
import * as tf from '@tensorflow/tfjs';
import type { Batchable } from '../data/tensors';
import { runGraph } from '../models/graph';
import { layerMacs } from '../models/macs';
import { mulberry32, shuffleInPlace } from '../util/random';
import { yieldToEventLoop } from '../util/yield';

export interface ExitCandidate {
  /** The backbone layer whose output the exit reads. */
  layer: string;
  /** Its output per sample: [H, W, C]. */
  shape: [number, number, number];
  /** MACs of the backbone from the input through this layer. */
  macsTo: number;
}

const MULTIPLY = new Set(['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'Dense']);
const HEAD_START = new Set(['Flatten', 'GlobalAveragePooling2D', 'GlobalMaxPooling2D']);
const POOLING = new Set(['MaxPooling2D', 'AveragePooling2D']);

interface NodeLike {
  inboundLayers: tf.layers.Layer[];
}
const inbound = (l: tf.layers.Layer) => ((l as unknown as { inboundNodes: NodeLike[] }).inboundNodes[0]?.inboundLayers ?? []).map((x) => x.name);

/** Where the model's classifier head starts: its first Flatten / global pooling layer. */
export function headStart(model: tf.LayersModel): number {
  const i = model.layers.findIndex((l) => HEAD_START.has(l.getClassName()));
  if (i < 0) throw new Error('the model has no Flatten or global pooling layer before its classifier: no head structure to copy for the exits');
  return i;
}

export function exitCandidates(model: tf.LayersModel): ExitCandidate[] {
  const layers = model.layers;
  const index = new Map(layers.map((l, i) => [l.name, i]));
  const lastUse = layers.map(() => -1);
  layers.forEach((l, i) => inbound(l).forEach((name) => (lastUse[index.get(name)!] = Math.max(lastUse[index.get(name)!], i))));
  const head = headStart(model);
  const found: ExitCandidate[] = [];
  let macs = 0;
  for (let i = 0; i < head; i++) {
    macs += layerMacs(layers[i]);
    const shape = (layers[i].outputShape as (number | null)[]).slice(1);
    if (shape.length !== 3 || i + 1 >= layers.length || layers[i].getClassName() === 'InputLayer') continue;
    // A cut: no earlier tensor is still needed after this layer.
    let cut = true;
    for (let j = 0; j < i && cut; j++) if (lastUse[j] > i) cut = false;
    const next = layers[i + 1].getClassName();
    if (!cut || !(MULTIPLY.has(next) || HEAD_START.has(next))) continue;
    // A block ends where a residual sum closes, where the next block's skip starts (the output
    // feeds two layers), at a pooling step, or just before the head; not between the layers of one block.
    const cls = layers[i].getClassName();
    const fanOut = layers.filter((l) => inbound(l).includes(layers[i].name)).length;
    // Dropout right after a pooling step still ends that block (it is the identity at inference).
    const pooled = POOLING.has(cls) || (cls === 'Dropout' && i > 0 && POOLING.has(layers[i - 1].getClassName()));
    if (cls === 'Add' || fanOut > 1 || pooled || HEAD_START.has(next)) found.push({ layer: layers[i].name, shape: shape as [number, number, number], macsTo: macs });
  }
  // The last one feeds the head directly: an exit there would be the final classifier again.
  return found.slice(0, -1);
}

/** The head's dense layers' units, in order (the last is the class count). */
function headUnits(model: tf.LayersModel): { pooling: 'flatten' | 'gap'; units: number[] } {
  const head = model.layers.slice(headStart(model));
  const pooling = head[0].getClassName() === 'Flatten' ? 'flatten' : 'gap';
  const units = head.filter((l) => l.getClassName() === 'Dense').map((l) => (l.getConfig() as { units: number }).units);
  if (units.length === 0) throw new Error('the classifier head has no dense layer');
  return { pooling, units };
}

export interface BranchPlan {
  /**
   * Average pooling [height, width] that shrinks the map before anything trainable ([1, 1]: none).
   * Per axis: a 1-D signal's map ([1, T, C], e.g. 994 steps of audio features) is long in time only.
   */
  pool: [number, number];
  /** 1×1 convolution filters when the map has many channels (0: none). */
  squeeze: number;
  pooling: 'flatten' | 'gap';
  /** Dense units, the last being the classes. */
  units: number[];
}

/**
 * Maps larger than this along an axis are pooled down along it first. A 1-D map ([1, T, C], a signal
 * over time) keeps as many positions as a 2-D map may (MAX_SIDE²): pooling a 2 s ECG to 7 steps cost
 * its second exit 5 pp.
 */
const MAX_SIDE = 7;
const MANY_CHANNELS = 64;

export function planBranch(candidate: ExitCandidate, model: tf.LayersModel): BranchPlan {
  const [h, w, c] = candidate.shape;
  const head = headUnits(model);
  const classes = head.units[head.units.length - 1];
  const shrink = (side: number) => (side > MAX_SIDE ? Math.ceil(side / MAX_SIDE) : 1);
  return {
    pool: h === 1 ? [1, w > MAX_SIDE * MAX_SIDE ? Math.ceil(w / (MAX_SIDE * MAX_SIDE)) : 1] : [shrink(h), shrink(w)],
    squeeze: c > MANY_CHANNELS ? 32 : 0,
    pooling: head.pooling,
    units: [...head.units.slice(0, -1).map((u) => Math.max(16, Math.floor(u / 4))), classes],
  };
}

/** The frozen part of a branch: applied once when features are cached. */
export function branchPrefix(x: tf.Tensor4D, plan: BranchPlan): tf.Tensor4D {
  return plan.pool[0] > 1 || plan.pool[1] > 1 ? tf.avgPool(x, plan.pool, plan.pool, 'same') : x;
}

/** The trainable part of a branch, on pooled features; its output is raw logits. */
export function branchModel(inputShape: number[], plan: BranchPlan, seed: number): tf.Sequential {
  const m = tf.sequential();
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed + k });
  if (plan.squeeze) m.add(tf.layers.conv2d({ inputShape, filters: plan.squeeze, kernelSize: 1, activation: 'relu', kernelInitializer: init(0) }));
  const first = plan.squeeze ? {} : { inputShape };
  m.add(plan.pooling === 'flatten' ? tf.layers.flatten(first) : tf.layers.globalAveragePooling2d(first));
  plan.units.forEach((units, i) => m.add(tf.layers.dense({ units, activation: i === plan.units.length - 1 ? 'linear' : 'relu', kernelInitializer: init(i + 1) })));
  return m;
}

/** MACs of one inference through a branch (pooling counts nothing, as everywhere). */
export const branchMacs = (m: tf.LayersModel) => m.layers.reduce((s, l) => s + layerMacs(l), 0);

/**
 * The backbone's outputs at `layers` (after each plan's pooling) and the final classifier's raw
 * logits (its softmax left out), for a batch.
 */
/**
 * The final logits and each tap's branch input; with `pool`, also that layer's own output averaged
 * over space ([batch, channels]): the block features that feature-difference compares.
 */
export function backboneOutputs(model: tf.LayersModel, x: tf.Tensor, taps: { layer: string; plan: BranchPlan }[], pool?: string): { features: tf.Tensor4D[]; logits: tf.Tensor2D; pooled?: tf.Tensor2D } {
  return tf.tidy(() => {
    const found = new Map<string, tf.Tensor4D>();
    let pooled = null as tf.Tensor2D | null;
    const byLayer = new Map(taps.map((t) => [t.layer, t.plan]));
    const last = model.layers[model.layers.length - 1];
    // A hook sees each layer's input: a tap is taken where its layer's output is consumed (and kept
    // past runGraph's own scope; this scope returns it).
    const logits = runGraph(model, x, (layer, input) => {
      for (const name of inbound(layer)) if (byLayer.has(name) && !found.has(name)) found.set(name, tf.keep(branchPrefix(input as tf.Tensor4D, byLayer.get(name)!)));
      if (pool !== undefined && pooled === null && inbound(layer).includes(pool)) {
        const t = input as tf.Tensor;
        pooled = tf.keep(t.rank === 4 ? tf.mean(t, [1, 2]) : t.reshape([t.shape[0], -1])) as tf.Tensor2D;
      }
      if (layer === last && layer.getClassName() === 'Dense') {
        const [kernel, bias] = layer.getWeights();
        const z = tf.matMul(input as tf.Tensor2D, kernel as tf.Tensor2D);
        return bias ? tf.add(z, bias) : z;
      }
      return null;
    });
    // Kept tensors belong to no scope: clones do (this one), so callers' tidy scopes free them.
    const features = taps.map((t) => {
      const kept = found.get(t.layer)!;
      const owned = tf.clone(kept);
      kept.dispose();
      return owned;
    });
    const owned = pooled ? tf.clone(pooled) : undefined;
    pooled?.dispose();
    return { features, logits: logits as tf.Tensor2D, ...(owned ? { pooled: owned } : {}) };
  });
}

export interface TrainedExit {
  layer: string;
  plan: BranchPlan;
  model: tf.Sequential;
  segmentMacs: number;
  branchMacs: number;
  /** Test accuracy of the exit on its own. */
  accuracy: number;
  epochs: number;
}

export interface AugmentOptions {
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  seed?: number;
  /** An exit must beat chance by this much to be kept. */
  minGain?: number;
  shouldStop?: () => boolean;
  onProgress?: (p: { exit: number; exits: number; epoch: number; loss: number }) => void;
}

export interface AugmentResult {
  exits: TrainedExit[];
  dropped: { layer: string; accuracy: number }[];
  finalAccuracy: number;
  finalSegmentMacs: number;
  cancelled: boolean;
}

/** Features of a whole set, in batches: [per tap] plus final logits. */
async function cachedOutputs(model: tf.LayersModel, x: tf.Tensor, taps: { layer: string; plan: BranchPlan }[], batch = 256) {
  const parts: tf.Tensor4D[][] = taps.map(() => []);
  const logits: tf.Tensor2D[] = [];
  for (let start = 0; start < x.shape[0]; start += batch) {
    const size = Math.min(batch, x.shape[0] - start);
    const xb = x.slice(start, size);
    const out = backboneOutputs(model, xb, taps);
    xb.dispose();
    out.features.forEach((f, i) => parts[i].push(f));
    logits.push(out.logits);
    await yieldToEventLoop();
  }
  const joined = parts.map((p) => {
    const t = tf.concat(p) as tf.Tensor4D;
    tf.dispose(p);
    return t;
  });
  const l = tf.concat(logits) as tf.Tensor2D;
  tf.dispose(logits);
  return { features: joined, logits: l };
}

const accuracyOf = (logits: tf.Tensor, y: tf.Tensor) => tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(y, 1)), 'float32')).dataSync()[0]);

/** Trains an exit branch at every candidate of `model` (left unchanged) and keeps the useful ones. */
export async function augmentWithExits(model: tf.LayersModel, train: Batchable, test: Batchable, options: AugmentOptions = {}): Promise<AugmentResult> {
  const { epochs = 7, batchSize = 64, learningRate = 1e-3, seed = 1, minGain = 0.05, shouldStop = () => false, onProgress } = options;
  const candidates = exitCandidates(model);
  const taps = candidates.map((c) => ({ layer: c.layer, plan: planBranch(c, model) }));
  const total = model.layers.reduce((s, l) => s + layerMacs(l), 0);
  const classes = train.y.shape[1];
  // One seeded order for every branch, so the same seed trains the same exits.
  const order = tf.tensor1d(shuffleInPlace(Array.from({ length: train.count }, (_, i) => i), mulberry32(seed)), 'int32');
  const shuffledX = tf.gather(train.x, order);
  const trainLabels = tf.gather(train.y, order);
  order.dispose();
  const trainOut = await cachedOutputs(model, shuffledX, taps);
  shuffledX.dispose();
  const testOut = await cachedOutputs(model, test.x, taps);
  const exits: TrainedExit[] = [];
  const dropped: AugmentResult['dropped'] = [];
  let cancelled = false;
  try {
    for (const [i, c] of candidates.entries()) {
      if (shouldStop()) {
        cancelled = true;
        break;
      }
      const plan = taps[i].plan;
      const branch = branchModel(trainOut.features[i].shape.slice(1), plan, seed + 100 * i);
      branch.compile({ optimizer: tf.train.adam(learningRate), loss: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.losses.softmaxCrossEntropy(yTrue, yPred) });
      let ran = 0;
      await branch.fit(trainOut.features[i], trainLabels, {
        epochs,
        batchSize,
        validationSplit: 0.1,
        // fit's own shuffling draws from Math.random: the order is fixed (and seeded) above instead.
        shuffle: false,
        verbose: 0,
        callbacks: [
          tf.callbacks.earlyStopping({ monitor: 'val_loss', patience: 1 }),
          new tf.CustomCallback({
            onEpochEnd: async (epoch, logs) => {
              ran = epoch + 1;
              onProgress?.({ exit: i + 1, exits: candidates.length, epoch: epoch + 1, loss: logs?.loss ?? NaN });
              if (shouldStop()) {
                cancelled = true;
                branch.stopTraining = true;
              }
            },
          }),
        ],
      });
      // Adam's moment estimates are not needed once the branch is trained.
      branch.optimizer.dispose();
      const accuracy = tf.tidy(() => accuracyOf(branch.predict(testOut.features[i]) as tf.Tensor, test.y));
      if (accuracy <= 1 / classes + minGain) {
        dropped.push({ layer: c.layer, accuracy });
        branch.dispose();
        continue;
      }
      exits.push({ layer: c.layer, plan, model: branch, segmentMacs: 0, branchMacs: branchMacs(branch), accuracy, epochs: ran });
    }
    // Segments between consecutive kept exits.
    let before = 0;
    for (const e of exits) {
      const macsTo = candidates.find((c) => c.layer === e.layer)!.macsTo;
      e.segmentMacs = macsTo - before;
      before = macsTo;
    }
    return { exits, dropped, finalAccuracy: accuracyOf(testOut.logits, test.y), finalSegmentMacs: total - before, cancelled };
  } finally {
    tf.dispose([...trainOut.features, trainOut.logits, ...testOut.features, testOut.logits, trainLabels]);
  }
}
