// One convolution layer the size of LeNet's second (3×3, 16 → 32 channels, ReLU) on a batch of 256
// 28×28 inputs, run through the simulation in every mode, in one run on one backend: time per batch
// and the ratio to the float layer. Shared by the Node and the Chromium benchmark.
import * as tf from '@tensorflow/tfjs';
import { builtinCatalogue, findMultiplier, simMultiplier } from '../src/engine/approx/catalogue';
import { mappedPerChannel } from '../src/engine/approx/fast';
import { multiplierMetrics } from '../src/engine/approx/metrics';
import { setWinogradEnabled } from '../src/engine/approx/winograd';
import { heapKernels, setHeapKernelsEnabled } from '../src/engine/backend/heap-kernels';
import { ApproxSimulation, type LayerMode, type Method } from '../src/engine/approx/simulate';
import type { UnsignedMultiplierTable } from '../src/engine/approx/table';
import { median, middle, timeOnce as once } from './timing';

const [B, H, W, C, O] = [256, 28, 28, 16, 32];

export interface LayerBenchResult {
  backend: string;
  /** Whether the host passes ran as the compiled kernels (heap-kernels.wat) rather than JavaScript; with them the 3×3 layer's convolution runs by Winograd F(4×4, 3×3). */
  host_kernels: boolean;
  layer: { batch: number; size: number; in: number; out: number; kernel: number; macs_per_batch: number };
  modes: Record<string, { ms_per_batch: number; ratio_to_float: number; float_ms_adjacent?: number; multiplier?: string; rank?: number | null; form?: string; conv_input_channels?: number; convolution?: string; lookup?: string }>;
  targets: Record<string, { value: number; target: string; met: boolean }>;
}

export async function benchApproxLayer(runs = 5, log: (line: string) => void = () => {}): Promise<LayerBenchResult> {
  const input = tf.input({ shape: [H, W, C] });
  const conv = tf.layers.conv2d({ filters: O, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) });
  const model = tf.model({ inputs: input, outputs: conv.apply(input) as tf.SymbolicTensor });
  const x = tf.randomUniform([B, H, W, C], 0, 1, 'float32', 7);
  const sim = ApproxSimulation.calibrate(model, x);
  const runFloat = () => sim.run(x, { conv: { kind: 'float' } });
  // Each timing is paired with a float run right next to it and the ratio taken per pair: on a
  // shared machine the speed drifts by tens of percent within a minute.
  const paired = async (f: () => tf.Tensor, n = runs) => {
    await once(f);
    await once(runFloat);
    const times: number[] = [];
    const ratios: number[] = [];
    const floats: number[] = [];
    for (let i = 0; i < n; i++) {
      const before = await once(runFloat);
      const t = await once(f);
      const after = await once(runFloat);
      times.push(t);
      floats.push((before + after) / 2);
      ratios.push((2 * t) / (before + after));
    }
    return { ms: middle(times), ratio: middle(ratios), floatMs: middle(floats) };
  };
  const catalogue = builtinCatalogue();
  const hostKernels = heapKernels() !== null;
  const designs: { key: string; id: string; method: Method; runs?: number }[] = [
    { key: 'approx_rank1', id: 'trunc-1', method: 'fast' },
    { key: 'approx_rank2', id: 'tm-2', method: 'fast' },
    // A rank-2 error whose product table has rank 3: the error form's worst case at rank 2.
    { key: 'approx_rank2_error_form', id: 'trunc-2', method: 'fast' },
    { key: 'approx_rank8', id: 'trunc-8', method: 'fast' },
    { key: 'lookup', id: 'mitchell', method: 'fast' },
    { key: 'lookup_rank2_table', id: 'tm-2', method: 'lookup' },
    { key: 'reference', id: 'tm-2', method: 'reference', runs: 1 },
  ];
  log('float');
  // Through the same graph runner as every other mode (model.predict would split the batch).
  const float = await median(runs, () => once(runFloat));
  const modes: LayerBenchResult['modes'] = { float: { ms_per_batch: float, ratio_to_float: 1 } };
  // float_ms_adjacent: the float runs this mode was paired with, to see where they drifted from `float`.
  const record = (key: string, m: { ms: number; ratio: number; floatMs: number }, extra: object = {}) => (modes[key] = { ms_per_batch: m.ms, ratio_to_float: m.ratio, float_ms_adjacent: m.floatMs, ...extra });
  log('quantised');
  record('quantised', await paired(() => sim.run(x, { conv: { kind: 'exact' } })));
  for (const d of designs) {
    log(d.key);
    const entry = findMultiplier(catalogue, d.id)!;
    const m = simMultiplier(entry);
    const rank = multiplierMetrics(entry.table as UnsignedMultiplierTable).float_rank;
    const mode: LayerMode = { kind: 'approx', multiplier: m };
    // What the stacked convolution reads per batch: C mapped operands each, and the product form's two summed channels.
    const form = d.method !== 'fast' || !m.factors ? 'lookup' : (m.factors.form ?? 'error');
    const channels = form === 'lookup' ? C : C * mappedPerChannel(m.factors!) + (form === 'product' ? 2 : 0);
    record(d.key, await paired(() => sim.run(x, { conv: mode }, d.method), d.runs), { multiplier: entry.name, rank, form, conv_input_channels: channels, ...(form === 'lookup' ? { lookup: hostKernels ? 'compiled kernel' : 'typed-array loop' } : { convolution: hostKernels ? 'winograd' : 'direct' }) });
  }
  // What the rank-8 layer cannot go below: one plain convolution over as many input channels as its
  // stacked operands have.
  log('stacked_conv_rank8');
  const wideChannels = modes.approx_rank8.conv_input_channels!;
  const wide = tf.randomUniform([B, H, W, wideChannels], 0, 1, 'float32', 8) as tf.Tensor4D;
  const wideKernel = tf.randomUniform([3, 3, wideChannels, O], -1, 1, 'float32', 9) as tf.Tensor4D;
  record('stacked_conv_rank8', await paired(() => tf.fused.conv2d({ x: wide, filter: wideKernel, strides: 1, pad: 'same', activation: 'relu' })), { conv_input_channels: wideChannels });
  tf.dispose([wide, wideKernel]);
  log('noise');
  const noiseMode: LayerMode = { kind: 'noise', relStd: 0.1 };
  record('noise', await paired(() => sim.run(x, { conv: noiseMode })));
  // What the compiled kernels gain: the rank-8 layer by the direct convolution (operands stacked by
  // the compiled kernel), then with the host passes in JavaScript as well, and noise mode likewise.
  if (hostKernels) {
    const rank8 = simMultiplier(findMultiplier(catalogue, 'trunc-8')!);
    const rank8Mode: Record<string, LayerMode> = { conv: { kind: 'approx', multiplier: rank8 } };
    setWinogradEnabled(false);
    log('approx_rank8_direct_conv');
    record('approx_rank8_direct_conv', await paired(() => sim.run(x, rank8Mode)), { multiplier: 'TRUNC(8)' });
    setHeapKernelsEnabled(false);
    log('approx_rank8_js_passes');
    record('approx_rank8_js_passes', await paired(() => sim.run(x, rank8Mode)), { multiplier: 'TRUNC(8)' });
    setWinogradEnabled(true);
    log('lookup_js_loop');
    const mitchell = simMultiplier(findMultiplier(catalogue, 'mitchell')!);
    record('lookup_js_loop', await paired(() => sim.run(x, { conv: { kind: 'approx', multiplier: mitchell } }), 3), { multiplier: 'Mitchell', lookup: 'typed-array loop' });
    log('noise_js_passes');
    record('noise_js_passes', await paired(() => sim.run(x, { conv: noiseMode })));
    setHeapKernelsEnabled(true);
  }
  sim.dispose();
  model.dispose();
  x.dispose();
  // The best direct lookup this backend has: the compiled kernel where it runs.
  const lookup = Math.min(modes.lookup.ratio_to_float, modes.lookup_rank2_table.ratio_to_float);
  const loop = modes.lookup_js_loop?.ratio_to_float ?? lookup;
  const target = (value: number, limit: number, text: string) => ({ value, target: text, met: value <= limit });
  return {
    backend: tf.getBackend(),
    host_kernels: hostKernels,
    layer: { batch: B, size: H, in: C, out: O, kernel: 3, macs_per_batch: B * H * W * 9 * C * O },
    modes,
    targets: {
      rank1_ratio: target(modes.approx_rank1.ratio_to_float, 3, '≤ 3× float'),
      rank2_ratio: target(modes.approx_rank2.ratio_to_float, 3, '≤ 3× float'),
      rank2_error_form_ratio: target(modes.approx_rank2_error_form.ratio_to_float, 3, '≤ 3× float'),
      rank8_ratio: target(modes.approx_rank8.ratio_to_float, 6, '≤ 6× float'),
      rank8_vs_lookup: target(modes.approx_rank8.ratio_to_float / lookup, 1 / 3, '≥ 3× faster than the best direct lookup (value: time ratio)'),
      rank2_vs_lookup: target(Math.max(modes.approx_rank2.ratio_to_float, modes.approx_rank2_error_form.ratio_to_float) / lookup, 1 / 3, '≥ 3× faster than the best direct lookup, rank ≤ 2 (value: time ratio)'),
      rank8_vs_typed_array_lookup: target(modes.approx_rank8.ratio_to_float / loop, 1 / 3, '≥ 3× faster than the typed-array lookup loop (value: time ratio)'),
      noise_ratio: target(modes.noise.ratio_to_float, 1.3, '≤ 1.3× float'),
    },
  };
}
