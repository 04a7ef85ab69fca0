// Picks the tfjs backend by measuring, not by name: on a laptop GPU WebGL wins by far, with
// software rendering wasm does. cpu is only the last resort.
import * as tf from '@tensorflow/tfjs';
import { prepareHeapKernels } from './heap-kernels';

export type BackendName = 'webgl' | 'wasm' | 'cpu';
export type BackendRequest = 'auto' | BackendName;

export interface BackendProbe {
  name: BackendName;
  ok: boolean;
  /** Median time of the representative workload, after a warm-up run. */
  ms?: number;
  error?: string;
  detail?: string;
}

export interface BackendChoice {
  requested: BackendRequest;
  backend: BackendName;
  probes: BackendProbe[];
  /** Why the request was not honoured, when it was not. */
  note?: string;
}

/** A conv layer and a matmul the size of the studio's models: what training and inference spend time on. */
async function workload(): Promise<void> {
  const out = tf.tidy(() => {
    const x = tf.randomUniform([8, 28, 28, 16], 0, 1, 'float32', 1) as tf.Tensor4D;
    const w = tf.randomUniform([3, 3, 16, 32], -1, 1, 'float32', 2) as tf.Tensor4D;
    const a = tf.randomUniform([256, 256], -1, 1, 'float32', 3) as tf.Tensor2D;
    return tf.add(tf.sum(tf.conv2d(x, w, 1, 'same')), tf.sum(tf.matMul(a, a)));
  });
  await out.data();
  out.dispose();
}

async function detail(name: BackendName): Promise<string | undefined> {
  if (name === 'wasm') return (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) ? 'SIMD, single thread' : 'no SIMD, single thread';
  if (name === 'webgl') {
    const version = tf.env().getNumber('WEBGL_VERSION');
    const renderer = (tf.backend() as unknown as { gpgpu?: { gl?: WebGL2RenderingContext } }).gpgpu?.gl;
    const info = renderer?.getExtension('WEBGL_debug_renderer_info');
    const gpu = info && renderer ? String(renderer.getParameter(info.UNMASKED_RENDERER_WEBGL)) : undefined;
    return [`WebGL ${version}`, gpu].filter(Boolean).join(', ');
  }
  return undefined;
}

export async function probeBackend(name: BackendName, runs = 3): Promise<BackendProbe> {
  try {
    if (!(await tf.setBackend(name))) return { name, ok: false, error: 'failed to initialise' };
    await tf.ready();
    await workload(); // first run compiles shaders / warms caches
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await workload();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return { name, ok: true, ms: times[Math.floor(times.length / 2)], detail: await detail(name) };
  } catch (e) {
    return { name, ok: false, error: (e as Error).message ?? String(e) };
  }
}

/**
 * Initialises the requested backend, or with 'auto' every fast candidate, keeping the fastest.
 * A requested backend that fails to start falls back to 'auto' and says so in `note`.
 */
export async function chooseBackend(requested: BackendRequest, candidates: BackendName[] = ['webgl', 'wasm']): Promise<BackendChoice> {
  if (requested !== 'auto') {
    const probe = await probeBackend(requested);
    if (probe.ok) {
      if (requested === 'wasm') await prepareHeapKernels();
      return { requested, backend: requested, probes: [probe] };
    }
    const fallback = await chooseBackend('auto', candidates.filter((c) => c !== requested));
    return { ...fallback, requested, probes: [probe, ...fallback.probes], note: `${requested} did not start (${probe.error}); using ${fallback.backend}` };
  }
  const probes: BackendProbe[] = [];
  for (const name of candidates) probes.push(await probeBackend(name));
  const working = probes.filter((p) => p.ok).sort((a, b) => a.ms! - b.ms!);
  let backend: BackendName;
  if (working.length > 0) {
    backend = working[0].name;
  } else {
    const cpu = await probeBackend('cpu', 1);
    probes.push(cpu);
    if (!cpu.ok) throw new Error(`no tfjs backend could start: ${probes.map((p) => `${p.name}: ${p.error}`).join('; ')}`);
    backend = 'cpu';
  }
  if (tf.getBackend() !== backend) await tf.setBackend(backend);
  await tf.ready();
  // Backends that lost are dropped so their memory (GL context, wasm heap) is released.
  for (const p of probes) if (p.ok && p.name !== backend) tf.removeBackend(p.name);
  if (backend === 'wasm') await prepareHeapKernels();
  return { requested, backend, probes };
}
