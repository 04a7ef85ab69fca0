// A network with several quality-of-service operating points (algorithms.md §3): the weights are
// shared; each point has its own multiplier assignment, its own BatchNorm (γ, β, moving statistics)
// and its own biases in the multiply layers. Switching points re-points the model's variables at
// the point's copies (tf.Variable.assign shares storage), so it copies no data and runs no kernel.
import * as tf from '@tensorflow/tfjs';
import { ApproxSimulation, layerBiasVariable, type LayerMode } from '../approx/simulate';
import { RECALIBRATION_SAMPLES, runBatches, type RetrainResult } from '../approx/retrain';
import type { Batchable } from '../data/tensors';
import { accuracyOf } from '../noise/mapping';
import { crossEntropy } from '../train/loss';
import { scheduledRate, setLearningRate, type Schedule } from '../train/schedule';

/** One of the model's variables that every operating point holds its own copy of. */
interface Slot {
  layer: string;
  variable: tf.LayerVariable;
  trainable: boolean;
}

export interface FinetuneOptions {
  epochs: number;
  batchSize?: number;
  learningRate?: number;
  /** 'cosine' (the default) anneals the rate to 2 % over the run; 'constant' keeps it. */
  schedule?: Schedule;
  seed?: number;
  shouldStop?: () => boolean;
  onProgress?: (p: { epoch: number; step: number; totalSteps: number; loss: number }) => void;
}

export interface ParameterOverhead {
  /** Trainable per-point parameters (γ, β, biases) of the points beyond the first, as % of the model's parameters. */
  trainablePct: number;
  /** The same with the BatchNorm moving statistics counted too. */
  withStatisticsPct: number;
  perPointTrainable: number;
  perPointStatistics: number;
  modelParams: number;
}

let nextId = 0;

export class OperatingPointNetwork {
  private readonly slots: Slot[];
  /** copies[p][i] belongs to slots[i]. */
  private readonly copies: tf.Variable[][];
  private active = -1;
  private readonly id = nextId++;

  /** `sim` is a simulation of `sim.model`, which this object changes (weights, BatchNorm): pass a copy. */
  constructor(
    readonly sim: ApproxSimulation,
    readonly modes: Record<string, LayerMode>[],
  ) {
    const multiply = new Set(sim.multiplyLayers());
    this.slots = [];
    for (const layer of sim.model.layers) {
      const cls = layer.getClassName();
      if (cls === 'BatchNormalization') {
        for (const v of layer.weights) this.slots.push({ layer: layer.name, variable: v, trainable: v.trainable });
      } else if (multiply.has(layer.name)) {
        const bias = layerBiasVariable(layer);
        if (bias) this.slots.push({ layer: layer.name, variable: bias, trainable: true });
      }
    }
    this.copies = modes.map((_, p) =>
      this.slots.map((s, i) => {
        const initial = s.variable.read().clone();
        const v = tf.variable(initial, s.trainable, `qos${this.id}/p${p}/${i}/${s.variable.name}`);
        initial.dispose();
        return v;
      }),
    );
    this.activate(0);
  }

  get points(): number {
    return this.modes.length;
  }

  get activePoint(): number {
    return this.active;
  }

  /** Makes point `p` the model's: its BatchNorm set and biases. Its modes are `modes[p]`. */
  activate(p: number): void {
    if (!(p >= 0 && p < this.points)) throw new Error(`no operating point ${p} (there are ${this.points})`);
    this.slots.forEach((s, i) => s.variable.write(this.copies[p][i]));
    this.active = p;
  }

  /** Remembers the model's current values of the per-point variables as point `p`'s. */
  private capture(p: number): void {
    this.slots.forEach((s, i) => this.copies[p][i].assign(s.variable.read()));
  }

  /** Class probabilities at point `p`. */
  predict(x: tf.Tensor, p: number): tf.Tensor {
    this.activate(p);
    return this.sim.run(x, this.modes[p]);
  }

  async accuracy(p: number, test: Batchable): Promise<number> {
    this.activate(p);
    return accuracyOf(this.sim, this.modes[p], test);
  }

  /** Each point's BatchNorm statistics measured through its own multipliers. */
  async recalibrate(x: tf.Tensor): Promise<void> {
    for (let p = 0; p < this.points; p++) {
      this.activate(p);
      await this.sim.recalibrateBatchNorm(x, this.modes[p]);
      this.capture(p);
    }
  }

  /**
   * Shared-parameter fine-tuning: every step runs each point (straight-through through its
   * multipliers), averages the gradients, and takes ONE Adam step over the shared weights and every
   * point's own γ, β and biases.
   */
  async finetune(data: Batchable, options: FinetuneOptions): Promise<{ steps: number; cancelled: boolean; losses: number[] }> {
    const { epochs, batchSize = 64, learningRate = 1e-4, schedule = 'cosine', seed = 1, shouldStop = () => false, onProgress } = options;
    const perPoint = new Set(this.slots.map((s) => (s.variable.read() as tf.Variable).name));
    const shared = this.sim.model.trainableWeights.map((w) => w.read() as tf.Variable).filter((v) => !perPoint.has(v.name));
    const trainableSlots = this.slots.flatMap((s, i) => (s.trainable ? [i] : []));
    const optimizer = tf.train.adam(learningRate);
    const n = this.points;
    let run: RetrainResult;
    try {
      run = await runBatches(this.sim, data, { epochs, batchSize, seed, shouldStop, onProgress }, (xb, yb, at) => {
        setLearningRate(optimizer, scheduledRate(learningRate, schedule, at.step, at.totalSteps));
        const gradients: tf.NamedTensorMap = {};
        let total = tf.scalar(0);
        for (let p = 0; p < n; p++) {
          this.activate(p);
          const own = trainableSlots.map((i) => this.slots[i].variable.read() as tf.Variable);
          const { value, grads } = tf.variableGrads(() => crossEntropy(this.sim.runForTraining(xb, this.modes[p]), yb), [...shared, ...own]);
          for (const v of shared) gradients[v.name] = gradients[v.name] ? tf.add(gradients[v.name], grads[v.name]) : grads[v.name];
          // The point's own parameters: the average's share of its gradient, on its copies.
          trainableSlots.forEach((i, j) => (gradients[this.copies[p][i].name] = tf.div(grads[own[j].name], n)));
          total = tf.add(total, value);
        }
        for (const v of shared) gradients[v.name] = tf.div(gradients[v.name], n);
        optimizer.applyGradients(Object.entries(gradients).map(([name, tensor]) => ({ name, tensor })));
        return tf.div(total, n) as tf.Scalar;
      });
    } finally {
      optimizer.dispose();
    }
    const step = run.stepsCompleted;
    // Training mode moved the model's moving statistics, not the points': measure each afresh.
    if (step > 0) {
      const x = data.x.slice(0, Math.min(RECALIBRATION_SAMPLES, data.count));
      try {
        await this.recalibrate(x);
      } finally {
        x.dispose();
      }
    } else {
      this.activate(Math.max(this.active, 0));
    }
    return { steps: step, cancelled: run.cancelled, losses: run.losses };
  }

  parameterOverhead(): ParameterOverhead {
    const size = (s: Slot) => s.variable.shape.reduce((a: number, b) => a * (b ?? 1), 1);
    const perPointTrainable = this.slots.filter((s) => s.trainable).reduce((a, s) => a + size(s), 0);
    const perPointStatistics = this.slots.filter((s) => !s.trainable).reduce((a, s) => a + size(s), 0);
    const modelParams = this.sim.model.countParams();
    const extra = this.points - 1;
    return {
      trainablePct: (100 * extra * perPointTrainable) / modelParams,
      withStatisticsPct: (100 * extra * (perPointTrainable + perPointStatistics)) / modelParams,
      perPointTrainable,
      perPointStatistics,
      modelParams,
    };
  }

  /** Every point's own values, by slot: for saving the network between visits. */
  async exportPoints(): Promise<Float32Array[][]> {
    return Promise.all(this.copies.map((vars) => Promise.all(vars.map(async (v) => Float32Array.from(await v.data())))));
  }

  importPoints(values: Float32Array[][]): void {
    if (values.length !== this.points || values.some((vs) => vs.length !== this.slots.length)) throw new Error('saved operating points do not match this network');
    values.forEach((vs, p) => vs.forEach((v, i) => tf.tidy(() => this.copies[p][i].assign(tf.tensor(v, this.copies[p][i].shape)))));
    this.activate(Math.max(this.active, 0));
  }

  /** Disposes the per-point copies and the simulation (not the model). */
  dispose(): void {
    // The model's variables may share storage with a copy: give them their own before it goes.
    for (const s of this.slots) {
      const own = tf.clone(s.variable.read());
      s.variable.write(own);
      own.dispose();
    }
    tf.dispose(this.copies.flat());
    this.sim.dispose();
  }
}
