// Where the compiled direct lookup beats the factorised layer: layers Winograd does not compute (5×5,
// strided 3×3, 1×1) on 256 digits, each with tables of few and of many mapped operands per channel,
// by both ways; ratios to the float layer, each the median over pairs with float runs beside it.
// LOOKUP_BEYOND in src/engine/approx/fast.ts is read off this. `npx tsx bench/lookup-or-factors.ts`.
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../src/engine/backend/node';
import { builtinCatalogue, findMultiplier, simMultiplier, type CatalogueEntry } from '../src/engine/approx/catalogue';
import { readEvoApproxFiles } from '../src/engine/approx/evoapprox-fixtures';
import { mappedPerChannel } from '../src/engine/approx/fast';
import { importMultipliers } from '../src/engine/approx/import';
import { ApproxSimulation, type Method } from '../src/engine/approx/simulate';
import { middle, timeOnce as once } from './timing';

await initNodeBackend('wasm');
const entries: CatalogueEntry[] = [
  ...builtinCatalogue(),
  ...importMultipliers(readEvoApproxFiles()).map((m) => ({ id: m.id, name: m.name, family: 'imported', table: m.table, power: { relative: null, source: 'user' } })),
];

const layers = [
  { layer: '5x5, 6 -> 16, 14x14', size: 14, cin: 6, cout: 16, kernel: 5, strides: 1 },
  { layer: '3x3 stride 2, 16 -> 32, 28x28', size: 28, cin: 16, cout: 32, kernel: 3, strides: 2 },
  { layer: '1x1, 32 -> 64, 14x14', size: 14, cin: 32, cout: 64, kernel: 1, strides: 1 },
];
const tables = ['BAM(1,6)', 'TRUNC(8)', 'mul8u_GS2', 'mul8u_150Q', 'mul8u_2AC', 'mul8u_14VP', 'mul8u_KEM', 'mul8u_JV3'];
const results = [];
for (const l of layers) {
  const input = tf.input({ shape: [l.size, l.size, l.cin] });
  const conv = tf.layers.conv2d({ filters: l.cout, kernelSize: l.kernel, strides: l.strides, padding: 'same', activation: 'relu', name: 'conv', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) });
  const model = tf.model({ inputs: input, outputs: conv.apply(input) as tf.SymbolicTensor });
  const x = tf.randomUniform([256, l.size, l.size, l.cin], 0, 1, 'float32', 7);
  const sim = ApproxSimulation.calibrate(model, x);
  const float = () => sim.run(x, { conv: { kind: 'float' } });
  const ratio = async (method: Method, m: ReturnType<typeof simMultiplier>) => {
    const f = () => sim.run(x, { conv: { kind: 'approx', multiplier: m } }, method);
    await once(f);
    const ratios: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = await once(float);
      const t = await once(f);
      ratios.push((2 * t) / (before + (await once(float))));
    }
    return middle(ratios);
  };
  const rows = [];
  for (const name of tables) {
    const m = simMultiplier(findMultiplier(entries, name));
    if (!m.factors) continue;
    const factors = await ratio('factors', m);
    const lookup = await ratio('lookup', m);
    rows.push({ multiplier: name, form: m.factors.form ?? 'error', mapped_per_channel: mappedPerChannel(m.factors), factors_ratio_to_float: factors, lookup_ratio_to_float: lookup, faster: factors <= lookup ? 'factors' : 'lookup' });
    process.stderr.write(`${l.layer} ${name} `);
  }
  results.push({ ...l, rows });
  sim.dispose();
  model.dispose();
  x.dispose();
}
console.log(JSON.stringify({ backend: tf.getBackend(), batch: 256, layers: results }, null, 2));
