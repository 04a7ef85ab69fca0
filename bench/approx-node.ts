// npm run bench, part 2: the approximate-layer benchmark on Node's wasm backend, as JSON.
import { initNodeBackend } from '../src/engine/backend/node';
import { benchApproxLayer } from './approx-layer';

await initNodeBackend((process.env.BACKEND as 'wasm' | 'cpu') ?? 'wasm');
console.log(JSON.stringify({ where: 'node', ...(await benchApproxLayer(5, (l) => process.stderr.write(`${l} `))) }, null, 2));
