import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const cli = (...args: string[]) => run(process.execPath, ['bin/qos-studio.js', ...args], { maxBuffer: 1 << 24 });

describe('qos-studio command line', () => {
  it('prints help', async () => {
    const { stdout } = await cli('--help');
    expect(stdout).toContain('models');
    expect(stdout).toContain('train');
  });

  it('lists the zoo as JSON with measured accuracy', async () => {
    const models = JSON.parse((await cli('models')).stdout);
    expect(models.map((m: { name: string }) => m.name)).toContain('lenet');
    expect(models.map((m: { name: string }) => m.name)).toEqual(expect.arrayContaining(['ecg', 'radar']));
    for (const m of models) {
      expect(Object.keys(m)).toEqual(expect.arrayContaining(['name', 'task', 'params', 'macs', 'test_accuracy']));
      expect(['digits', 'ecg', 'radar', 'keywords']).toContain(m.task);
      expect(m.test_accuracy).toBeGreaterThanOrEqual(m.task === 'digits' ? 0.97 : 0.85);
    }
    expect(models.find((m: { name: string }) => m.name === 'lenet')).toMatchObject({ params: 61706, macs: 416520 });
  });

  it('trains and prints test accuracy as JSON', async () => {
    const { stdout } = await cli('train', '--model', 'lenet', '--epochs', '1', '--train-limit', '1024', '--seed', '3');
    const result = JSON.parse(stdout);
    expect(result.epochs).toBe(1);
    expect(result.test_count).toBe(2000);
    // 1,024 digits for one epoch: far better than chance, far from finished.
    expect(result.test_accuracy).toBeGreaterThan(0.3);
    expect(result.history).toHaveLength(1);
  });

  it('fails with a clear message on a bad model name or option', async () => {
    await expect(cli('train', '--model', 'vgg')).rejects.toMatchObject({ stderr: expect.stringContaining('unknown model "vgg"') });
    await expect(cli('train', '--model', 'lenet', '--epochs', 'zero')).rejects.toMatchObject({ stderr: expect.stringContaining('epochs must be a positive whole number') });
  });
});

describe('qos-studio confusion', () => {
  it('measures a zoo model on its own task: the recorded accuracy, and a matrix that adds up', async () => {
    const r = JSON.parse((await cli('confusion', '--model', 'ecg')).stdout);
    const zoo = JSON.parse((await cli('models')).stdout);
    expect(r.task).toBe('ecg');
    expect(r.classes).toEqual(['normal', 'bigeminy']);
    expect(r.confusion_matrix.flat().reduce((a: number, b: number) => a + b, 0)).toBe(r.test_count);
    expect(Math.abs(r.test_accuracy - zoo.find((m: { name: string }) => m.name === 'ecg').test_accuracy)).toBeLessThan(0.002);
  });
});

describe('qos-studio quantise', () => {
  it('quantises activations before every convolution and prints float and quantised accuracy', async () => {
    const r = JSON.parse((await cli('quantise', '--model', 'lenet', '--bits', '4', '--method', 'uniform', '--epochs', '0')).stdout);
    expect(r).toMatchObject({ bits: 4, method: 'uniform' });
    expect(Math.abs(r.float_accuracy - r.accuracy)).toBeLessThan(0.01);
    await expect(cli('quantise', '--model', 'lenet', '--bits', '5')).rejects.toMatchObject({ stderr: expect.stringMatching(/bits/) });
  });
});

describe('qos-studio multipliers, lut-stats, evaluate', () => {
  it('lists the built-in library with metrics, ranks and estimated power', async () => {
    const rows = JSON.parse((await cli('multipliers')).stdout);
    expect(rows.length).toBeGreaterThanOrEqual(28);
    const exact = rows.find((r: { id: string }) => r.id === 'exact');
    expect(exact).toMatchObject({ mae_pct: 0, wce_pct: 0, rank: 0, relative_power: 1, power_source: 'estimate', fast_form: 'error', fast_terms: 0 });
    // The simulation's form: TM(2) is one product of mapped operands, TRUNC(2) keeps a·b, Mitchell is looked up.
    expect(rows.find((r: { id: string }) => r.id === 'tm-2')).toMatchObject({ float_rank: 2, fast_form: 'product', fast_terms: 1 });
    expect(rows.find((r: { id: string }) => r.id === 'trunc-2')).toMatchObject({ fast_form: 'error', fast_terms: 2 });
    expect(rows.find((r: { id: string }) => r.id === 'mitchell')).toMatchObject({ fast_form: 'lookup', fast_terms: 0 });
    const maes = rows.map((r: { mae_pct: number }) => r.mae_pct).filter((m: number) => m > 0);
    expect(Math.min(...maes)).toBeLessThan(0.002);
    expect(Math.max(...maes)).toBeGreaterThan(3);
    for (const key of ['mae_pct', 'wce_pct', 'mre_pct', 'ep_pct', 'mse', 'error_mean', 'error_std', 'rank', 'exact_rank', 'relative_power', 'power_formula']) {
      expect(Object.keys(rows[1])).toContain(key);
    }
    const csv = (await cli('multipliers', '--format', 'csv')).stdout.trim().split(/\r?\n/);
    expect(csv[0].split(',')).toEqual(expect.arrayContaining(['id', 'mae_pct', 'rank', 'relative_power']));
    expect(csv).toHaveLength(rows.length + 1);
  });

  it('measures a table file, and names what is wrong with a bad one', async () => {
    const stats = JSON.parse((await cli('lut-stats', '../shared/evoapprox/mul8u_1JFF.bin')).stdout);
    expect(stats).toMatchObject({ mae_pct: 0, wce_pct: 0, mre_pct: 0, ep_pct: 0, mse: 0, error_mean: 0, error_std: 0, rank: 0 });
    await expect(cli('lut-stats', 'package.json')).rejects.toMatchObject({ stderr: expect.stringContaining('is not a 256x256 table') });
  });

  it('evaluates a model on a multiplier, the fast path agreeing with the per-product reference', async () => {
    const run = async (method: string) => JSON.parse((await cli('evaluate', '--model', 'lenet', '--multiplier', 'TM(2)', '--assign', 'fc3=exact', '--method', method, '--limit', '40')).stdout);
    const [fast, reference] = await Promise.all([run('fast'), run('reference')]);
    expect(fast.accuracy).toBe(reference.accuracy);
    expect(fast.test_count).toBe(40);
    expect(fast.layers.find((l: { name: string }) => l.name === 'fc3').multiplier).toBe('exact');
    expect(fast.relative_energy).toBeGreaterThan(0.4);
    expect(fast.relative_energy).toBeLessThan(0.6);
    expect(Object.keys(fast)).toEqual(expect.arrayContaining(['accuracy', 'relative_energy', 'float_accuracy', 'quantised_accuracy']));
    await expect(cli('evaluate', '--model', 'lenet', '--method', 'nope', '--limit', '8')).rejects.toMatchObject({ stderr: expect.stringContaining('method must be fast, factors, lookup or reference') });
  });

  it('evaluates a 16-term table by factors everywhere, or fast (its 5×5 layers by lookup), both agreeing with the reference', async () => {
    const run = async (method: string) => JSON.parse((await cli('evaluate', '--model', 'lenet', '--multiplier', '../shared/evoapprox/mul8u_JV3.bin', '--method', method, '--limit', '40')).stdout);
    const [fast, factors, reference] = await Promise.all([run('fast'), run('factors'), run('reference')]);
    expect(factors.method).toBe('factors');
    expect(fast.accuracy).toBe(reference.accuracy);
    expect(factors.accuracy).toBe(reference.accuracy);
  });

  it('retrains through the multipliers when asked and evaluates again', async () => {
    const r = JSON.parse((await cli('evaluate', '--model', 'lenet', '--multiplier', 'tm-2', '--limit', '300', '--retrain-epochs', '1', '--train-limit', '512', '--retrain-lr', '0.001')).stdout);
    expect(r.batchnorm_remeasured_on).toBe(0);
    expect(r.retrained).toMatchObject({ epochs: 1, steps: 8, learning_rate: 0.001, train_limit: 512 });
    expect(r.retrained.accuracy).toBeGreaterThan(r.accuracy + 0.02);
    // Digits 512–1,511 of the training split, never trained on here, chose between before and after.
    expect(r.retrained.selection).toMatchObject({ validation_samples: 1000, kept_epoch: 1 });
    expect(r.retrained.selection.validation_accuracies).toHaveLength(2);
    await expect(cli('evaluate', '--model', 'lenet', '--multiplier', 'tm-2', '--retrain-epochs', '1', '--retrain-lr', 'fast')).rejects.toMatchObject({ stderr: expect.stringContaining('--retrain-lr') });
  });

  it('maps multipliers per layer and prints the JSON the issue fixes, with the held-out check and the kept epoch', async () => {
    const args = ['map', '--model', 'lenet', '--epochs', '1', '--train-limit', '512', '--retrain-epochs', '1', '--no-baselines'];
    const r = JSON.parse((await cli(...args)).stdout);
    expect(Object.keys(r)).toEqual(expect.arrayContaining(['exact', 'mapped', 'retrained', 'baselines', 'layers']));
    expect(r.exact.accuracy).toBeGreaterThan(0.95);
    expect(r.mapped.relative_energy).toBeLessThan(0.9);
    expect(r.retrained.relative_energy).toBe(r.mapped.relative_energy);
    expect(r.baselines).toEqual([]);
    expect(r.layers.map((l: { name: string }) => l.name)).toEqual(['conv1', 'conv2', 'fc1', 'fc2', 'fc3']);
    expect(r.guard).toMatchObject({ budget_pp: 5, validation_samples: 1000 });
    expect(r.retrained.selection.validation_accuracies).toHaveLength(2);
    const off = JSON.parse((await cli(...args, '--validation-limit', '0')).stdout);
    expect(off.guard).toBeNull();
    expect(off.retrained.selection).toBeNull();
    await expect(cli(...args, '--guard', '-1')).rejects.toMatchObject({ stderr: expect.stringContaining('guard') });
  });

  it('maps without the excluded multipliers and lists how the same-accuracy baseline was searched', async () => {
    const args = ['map', '--model', 'lenet', '--epochs', '1', '--train-limit', '512', '--retrain-epochs', '1', '--lambda', '0.5'];
    const r = JSON.parse((await cli(...args, '--exclude', 'TRUNC(7)', '--exclude', 'bam-2-6')).stdout);
    expect(r.excluded).toEqual(['TRUNC(7)', 'bam-2-6']);
    const all = JSON.parse((await cli('multipliers')).stdout).map((m: { id: string }) => m.id);
    expect(r.candidates).toEqual(expect.arrayContaining(all.filter((id: string) => id !== 'trunc-7' && id !== 'bam-2-6')));
    expect(r.candidates).toHaveLength(all.length - 2);
    const probed = r.baseline_search.probes.map((p: { multiplier: string }) => p.multiplier);
    for (const id of ['trunc-7', 'bam-2-6']) {
      expect(r.layers.map((l: { multiplier: string }) => l.multiplier)).not.toContain(id);
      expect(probed).not.toContain(id);
    }
    // Cheapest first; every one retrained was probed within reach, and the reported one is among them.
    const energies = r.baseline_search.probes.map((p: { relative_energy: number }) => p.relative_energy);
    expect(energies).toEqual([...energies].sort((a, b) => a - b));
    const hopeful = r.baseline_search.probes.filter((p: { within_reach: boolean }) => p.within_reach).map((p: { multiplier: string }) => p.multiplier);
    const retrained = r.baseline_search.retrained.map((b: { multiplier: string }) => b.multiplier);
    expect(hopeful.slice(0, retrained.length)).toEqual(retrained);
    expect(retrained.length).toBeGreaterThan(0);
    expect(retrained.length).toBeLessThanOrEqual(r.baseline_search.most_retrained);
    for (const p of r.baseline_search.probes) expect(p.within_reach).toBe(p.accuracy_before_retraining >= r.retrained.accuracy - r.baseline_search.within_reach_pp / 100);
    const same = r.baselines.find((b: { kind: string }) => b.kind === 'same-accuracy');
    if (same) expect(retrained).toContain(same.multiplier);
    await expect(cli(...args, '--no-baselines', '--exclude', 'TRUNC(77)')).rejects.toMatchObject({ stderr: expect.stringContaining('no multiplier "TRUNC(77)"') });
    await expect(cli(...args, '--no-baselines', '--exclude', 'exact')).rejects.toMatchObject({ stderr: expect.stringContaining('cannot be left out') });
  });

  it('builds operating points without the excluded multipliers', async () => {
    const args = ['qos', '--model', 'lenet', '--train-limit', '256', '--epochs', '1', '--finetune-epochs', '0', '--test-limit', '200'];
    const first = JSON.parse((await cli(...args)).stdout);
    const excluded: string[] = first.instances;
    const again = JSON.parse((await cli(...args, ...excluded.flatMap((id) => ['--exclude', id]))).stdout);
    expect(again.excluded).toEqual(excluded);
    expect(again.instances).toHaveLength(excluded.length);
    for (const id of again.instances) expect(excluded).not.toContain(id);
    for (const p of again.per_layer_optimal) for (const id of Object.values(p.assignment)) expect(excluded).not.toContain(id);
  });

  it('re-measures BatchNorm through the multipliers unless told to keep the model\'s own statistics', async () => {
    const run = async (samples: string) => JSON.parse((await cli('evaluate', '--model', 'mobilenet', '--multiplier', 'BAM(3,7)', '--limit', '200', '--batchnorm-samples', samples)).stdout);
    const [kept, remeasured] = await Promise.all([run('0'), run('256')]);
    expect([kept.batchnorm_remeasured_on, remeasured.batchnorm_remeasured_on]).toEqual([0, 256]);
    expect(remeasured.accuracy).toBeGreaterThan(kept.accuracy + 0.2);
  });

  it('truncates a high-rank multiplier to a chosen rank, reporting the residual, fast agreeing with reference', async () => {
    const run = async (rank: string, method: string) =>
      JSON.parse((await cli('evaluate', '--model', 'lenet', '--multiplier', 'mitchell', '--rank', rank, '--method', method, '--limit', '24')).stdout);
    const [r1, r8, r8ref] = await Promise.all([run('1', 'fast'), run('8', 'fast'), run('8', 'reference')]);
    expect(r8.accuracy).toBe(r8ref.accuracy);
    expect(r1.layers[0]).toMatchObject({ truncated_rank: 1 });
    expect(r8.layers[0].residual_relative).toBeLessThan(r1.layers[0].residual_relative);
    expect(r8.layers[0].residual_max_abs).toBeGreaterThan(0);
  });

  it('replays and sweeps decision mechanisms on a replay file, and names the place of a mistake', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'replay-'));
    const file = path.join(dir, 'stream.json');
    // Exit 1 drifts slowly; the final classifier says 0, 0, 2.
    const frames = [
      { label: 0, logits: [[0, 0, 0], [3, 0, 0]] },
      { label: 0, logits: [[0.5, 0, 0], [3, 0, 0]] },
      { label: 2, logits: [[1.2, 0, 0], [0, 0, 3]] },
    ];
    await writeFile(file, JSON.stringify({ classes: 3, exits: [{ name: 'exit1', segment_macs: 100, branch_macs: 10 }, { name: 'final', segment_macs: 500, branch_macs: 0 }], streams: [{ frames }] }));
    const r = JSON.parse((await cli('exits', 'replay', '--input', file, '--mechanism', 'difference', '--threshold', '1', '--exit', '1')).stdout);
    expect(r).toMatchObject({ accuracy: 1, exit_counts: [1, 2] });
    expect(r.mean_macs).toBeCloseTo((610 + 110 + 610) / 3, 6);
    expect(r.relative_cost).toBeCloseTo(r.mean_macs / 600, 9);
    const s = JSON.parse((await cli('exits', 'sweep', '--input', file, '--steps', '5')).stdout);
    expect(Object.keys(s.curves).sort()).toEqual(['confidence', 'difference', 'entropy', 'margin', 'patience', 'temporal-patience']);
    expect(s.pareto_front.length).toBeGreaterThan(0);
    expect(s.single_exit).toMatchObject({ accuracy: 1, mean_macs: 600 });
    await writeFile(file, JSON.stringify({ classes: 3, exits: [{ name: 'final', segment_macs: 500, branch_macs: 0 }], streams: [{ frames: [{ label: 0, logits: [[1, 2]] }] }] }));
    await expect(cli('exits', 'replay', '--input', file, '--mechanism', 'confidence', '--threshold', '0.9')).rejects.toMatchObject({ stderr: expect.stringContaining('streams[0].frames[0].logits[0]: 2 numbers, expected 3') });
    await expect(cli('exits', 'replay', '--input', file, '--mechanism', 'confidence')).rejects.toMatchObject({ stderr: expect.stringContaining('confidence needs --threshold T') });
  }, 60_000);

  it('exports a digit-video replay through a model augmented with exits', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'export-'));
    const file = path.join(dir, 'lenet.json');
    const r = JSON.parse((await cli('exits', 'export', '--model', 'lenet', '--frames', '120', '--epochs', '5', '--train-limit', '2000', '--output', file)).stdout);
    expect(r.exits.map((e: { layer: string }) => e.layer)).toEqual(['pool1']);
    expect(r.exits[0].test_accuracy).toBeGreaterThan(0.5);
    expect(r.final.test_accuracy).toBeGreaterThan(0.95);
    // A low confidence threshold lets the early exit answer most frames: cheaper than the whole network.
    const replayed = JSON.parse((await cli('exits', 'replay', '--input', file, '--mechanism', 'confidence', '--threshold', '0.3')).stdout);
    expect(replayed.frames).toBe(120);
    expect(replayed.exit_counts.reduce((a: number, b: number) => a + b, 0)).toBe(120);
    expect(replayed.relative_cost).toBeLessThan(1);
  }, 120_000);

  // Each sensor model is trained from its seed by the export itself; both are then replayed.
  it.each([
    { stream: 'ecg', frames: 100, limit: 1200, candidates: ['pool1', 'pool2', 'pool3'], minAccuracy: 0.9, mechanism: ['difference', '--threshold', '1'] },
    { stream: 'radar', frames: 60, limit: 1500, candidates: ['pool1', 'pool2'], minAccuracy: 0.4, mechanism: ['temporal-patience', '--threshold', '1'] },
  ])('trains the $stream model from its seed and exports its stream as a replay', async ({ stream, frames, limit, candidates, minAccuracy, mechanism }) => {
    const dir = await mkdtemp(path.join(tmpdir(), `${stream}-`));
    const file = path.join(dir, `${stream}.json`);
    const r = JSON.parse((await cli('exits', 'export', '--model', stream, '--stream', stream, '--frames', String(frames), '--epochs', '2', '--train-limit', String(limit), '--output', file)).stdout);
    const model = r[`${stream}_model`];
    expect(model.params).toBeGreaterThan(10_000);
    expect(model.test_accuracy).toBeGreaterThan(minAccuracy);
    // A candidate after each pooling step but the last, which feeds the head.
    expect([...r.exits, ...r.dropped].map((e: { layer: string }) => e.layer).sort()).toEqual(candidates);
    expect(r.exits.length).toBeGreaterThan(0);
    expect(r.frames).toBe(frames);
    const replayed = JSON.parse((await cli('exits', 'replay', '--input', file, '--mechanism', ...mechanism)).stdout);
    expect(replayed.frames).toBe(frames);
    expect(replayed.exit_counts.reduce((a: number, b: number) => a + b, 0)).toBe(frames);
  }, 180_000);
});
