// The host passes of the approximate and noisy layers as WebAssembly (heap-kernels.wat) that imports
// the tfjs wasm backend's own memory, so it reads and writes tensors where they lie: operand stacking
// (each code's row of mapped operands copied with 16-byte vector moves), the noise pass and its
// moments, the direct lookup, and the Winograd transforms. Stacking, noise, moments and lookup
// compute what their JavaScript passes compute, bit for bit (heap-kernels.test.ts), and callers keep those passes for when there is
// no kernel: another backend, a backend built with shared memory (threads), no SIMD, or a view that
// does not lie in the backend's memory.
import * as tf from '@tensorflow/tfjs';
import { HEAP_KERNELS_WASM } from './heap-kernels.wasm';

interface KernelExports {
  stack(src: number, pixels: number, channels: number, inv: number, shift: number, map: number, stride: number, blocks: number, summed: number, dst: number, vector: number, pad: number): number;
  winograd_input(src: number, images: number, h: number, w: number, k: number, padT: number, padL: number, tilesH: number, tilesW: number, dsts: number, tmp: number): void;
  quantise_rows(src: number, n: number, inv: number, shift: number, dst: number): void;
  lookup_conv(rows: number, b: number, h: number, w: number, c: number, kh: number, kw: number, sh: number, sw: number, top: number, left: number, outH: number, outW: number, zxRow: number, weights: number, cout: number, table: number, params: number, patch: number, acc: number, dst: number): void;
  lookup_depthwise(rows: number, b: number, h: number, w: number, c: number, kh: number, kw: number, sh: number, sw: number, top: number, left: number, outH: number, outW: number, zxRow: number, weights: number, table: number, params: number, dst: number): void;
  winograd_output(srcs: number, images: number, outH: number, outW: number, o: number, op: number, tilesH: number, tilesW: number, bias: number, act: number, dst: number): void;
  moments(ptr: number, n: number): [number, number];
  noise(ptr: number, pairs: number, scale: number, clamp: number, cap: number, state: number, table: number): number;
}

interface EmscriptenModule {
  _malloc(bytes: number): number;
  asm?: Record<string, unknown>;
}

/** Widest operand row the stacking scratch holds: R + 1 terms for R up to the lookup limit, rounded up to a vector. */
const MAX_STRIDE = 32;

/** Floats per row of the operand map in the kernels' scratch: the copied block, the two summed columns, whole vectors. */
const rowStride = (blocks: number, summed: boolean) => Math.ceil((blocks + (summed ? 2 : 0)) / 4) * 4;

/** The kernels of the last wasm backend module seen (a new backend is a new module and memory). */
let cached: { module: EmscriptenModule; kernels: HeapKernels | null } | null = null;
let enabled = true;
/** Compiled ahead by prepareHeapKernels: a browser's main thread refuses to compile a module this size synchronously. */
let compiled: WebAssembly.Module | null = null;

const kernelBytes = () => Uint8Array.from(atob(HEAP_KERNELS_WASM), (c) => c.charCodeAt(0));

const backendModule = (): EmscriptenModule | null => (tf.getBackend() === 'wasm' ? ((tf.backend() as unknown as { wasm?: EmscriptenModule }).wasm ?? null) : null);

/** The module's memory: the one WebAssembly.Memory among its exports (named `memory`, but not promised to stay so). */
const memoryOf = (module: EmscriptenModule) => Object.values(module.asm ?? {}).find((v): v is WebAssembly.Memory => v instanceof WebAssembly.Memory) ?? null;

/** Compiles and binds the kernels asynchronously, where synchronous compilation is not allowed. Call after choosing the backend. */
export async function prepareHeapKernels(): Promise<void> {
  try {
    compiled ??= await WebAssembly.compile(kernelBytes());
  } catch {
    return;
  }
  const module = backendModule();
  const memory = module && memoryOf(module);
  // A null cached by an earlier synchronous try (refused on a main thread) is retried here.
  if (!module || !memory || (cached?.module === module && cached.kernels)) return;
  try {
    const instance = await WebAssembly.instantiate(compiled, { env: { memory } });
    cached = { module, kernels: HeapKernels.bind(module, memory, instance) };
  } catch {
    // heapKernels() tries again synchronously, and otherwise the JavaScript passes run.
  }
}

/** Turns the kernels off (or back on): for tests and benchmarks that time or check the JavaScript passes. */
export function setHeapKernelsEnabled(on: boolean): void {
  enabled = on;
}

/**
 * The kernels bound to the active wasm backend's memory, or null where they cannot run. Call it
 * before taking views of tensors: the first call allocates the kernels' scratch in that memory, which
 * may grow it and detach earlier views.
 */
export function heapKernels(): HeapKernels | null {
  if (!enabled) return null;
  const module = backendModule();
  if (!module) return null;
  if (cached?.module !== module) {
    const memory = memoryOf(module);
    cached = { module, kernels: memory && HeapKernels.create(module, memory) };
  }
  return cached.kernels;
}

export class HeapKernels {
  private constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly exports: KernelExports,
    /** MAX_STRIDE·256 floats for the operand map of the layer being stacked. */
    private readonly scratch: number,
    /** The 65,536 Gaussian quantiles, copied in on first use. */
    private readonly quantiles: number,
    /** 36 addresses: the Winograd kernels' matrices. */
    private readonly addresses: number,
    private quantilesWritten = false,
  ) {}

  static create(module: EmscriptenModule, memory: WebAssembly.Memory): HeapKernels | null {
    try {
      const instance = new WebAssembly.Instance(compiled ?? new WebAssembly.Module(kernelBytes()), { env: { memory } });
      return HeapKernels.bind(module, memory, instance);
    } catch {
      return null;
    }
  }

  static bind(module: EmscriptenModule, memory: WebAssembly.Memory, instance: WebAssembly.Instance): HeapKernels | null {
    // A threaded build shares its memory, and importing it would need a module declared so.
    if (typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer) return null;
    const scratch = module._malloc(MAX_STRIDE * 256 * 4);
    const quantiles = module._malloc(65536 * 4);
    const addresses = module._malloc(36 * 4);
    if (!scratch || !quantiles || !addresses) return null;
    return new HeapKernels(memory, instance.exports as unknown as KernelExports, scratch, quantiles, addresses);
  }

  /** Whether `stack` takes rows of this many mapped operands (with `summed`, two summed ones as well). */
  stacks(blocks: number, summed = false): boolean {
    return rowStride(blocks, summed) <= MAX_STRIDE;
  }

  private onHeap(...views: Float32Array[]): boolean {
    return views.every((v) => v.buffer === this.memory.buffer);
  }

  /**
   * Quantises `src` (pixels of `channels` floats) with code = clamp(⌊x·inv + shift⌋, 0, 255) and
   * writes each code's row of `blocks` floats from `map` (256 rows) to `dst`; then, with `sums`
   * (256 rows of 2 floats), the two columns of the codes' rows summed over the pixel's channels
   * (in float64, rounded once); then `pad` zeros. False, with nothing written, when it cannot run here.
   */
  stack(src: Float32Array, dst: Float32Array, channels: number, inv: number, shift: number, map: Float32Array, blocks: number, sums: Float32Array | null, pad = 0): boolean {
    const stride = rowStride(blocks, !!sums);
    if (stride > MAX_STRIDE || !this.onHeap(src, dst) || src.length % channels !== 0) return false;
    const pixels = src.length / channels;
    const width = channels * blocks + (sums ? 2 : 0) + pad;
    if (dst.length !== pixels * width) return false;
    const rows = new Float32Array(this.memory.buffer, this.scratch, 256 * stride);
    for (let code = 0; code < 256; code++) {
      rows.set(map.subarray(code * blocks, (code + 1) * blocks), code * stride);
      if (sums) rows.set(sums.subarray(code * 2, code * 2 + 2), code * stride + blocks);
    }
    // A vector copy writes up to 3 floats past its row; the last pixels are copied float by float so
    // that nothing lands past `dst`.
    const tail = Math.min(pixels, Math.ceil(3 / width));
    const args = [channels, inv, shift, this.scratch, stride, blocks, sums ? 1 : 0] as const;
    const next = this.exports.stack(src.byteOffset, pixels - tail, ...args, dst.byteOffset, 1, pad);
    this.exports.stack(src.byteOffset + (pixels - tail) * channels * 4, tail, ...args, next, 0, pad);
    return true;
  }

  /**
   * Winograd F(4×4, 3×3) input transform of `images` images [h, w, k] at address `src` (k a multiple
   * of 4) into the 36 matrices [tiles, k] at `dsts`. Addresses are byte offsets in the backend's memory.
   */
  winogradInput(src: number, images: number, h: number, w: number, k: number, padT: number, padL: number, tilesH: number, tilesW: number, dsts: number[]): void {
    new Int32Array(this.memory.buffer, this.addresses, dsts.length).set(dsts);
    // The column pass uses the stacking scratch, free once the operands are stacked.
    this.exports.winograd_input(src, images, h, w, k, padT, padL, tilesH, tilesW, this.addresses, this.scratch);
  }

  /** Activation codes of the float32 values at `src`, quantised as `stack` does, written to `dst` as table-row byte offsets (code·1024). */
  quantiseRows(src: number, n: number, inv: number, shift: number, dst: number): void {
    this.exports.quantise_rows(src, n, inv, shift, dst);
  }

  /** The direct lookup convolution (see lookup_conv in heap-kernels.wat); addresses are byte offsets in the backend's memory. */
  lookupConv(...args: Parameters<KernelExports['lookup_conv']>): void {
    this.exports.lookup_conv(...args);
  }

  /** The depthwise direct lookup (see lookup_depthwise in heap-kernels.wat). */
  lookupDepthwise(...args: Parameters<KernelExports['lookup_depthwise']>): void {
    this.exports.lookup_depthwise(...args);
  }

  /** The backend's memory as it is now, for views taken after the last allocation. */
  get buffer(): ArrayBuffer {
    return this.memory.buffer as ArrayBuffer;
  }

  /** Winograd F(4×4, 3×3) output transform of the 36 products [tiles, op] at `srcs`, plus bias and activation (0 none, 1 ReLU, 2 ReLU6), into `dst`. */
  winogradOutput(srcs: number[], images: number, outH: number, outW: number, o: number, op: number, tilesH: number, tilesW: number, bias: number, act: number, dst: number): void {
    new Int32Array(this.memory.buffer, this.addresses, srcs.length).set(srcs);
    this.exports.winograd_output(this.addresses, images, outH, outW, o, op, tilesH, tilesW, bias, act, dst);
  }

  /** Σ v and Σ v² in float64, summed as `moments` in noise/inject.ts sums them; null when it cannot run here. */
  moments(values: Float32Array): { sum: number; squares: number } | null {
    if (!this.onHeap(values)) return null;
    const [sum, squares] = this.exports.moments(values.byteOffset, values.length);
    return { sum, squares };
  }

  /**
   * values[i] += quantiles[index]·scale over the first ⌊n/2⌋ pairs, indices from the xorshift32
   * stream at `state` as GaussianSource draws them, clamped to [0, cap] unless cap is null. Returns
   * the stream's state after, or null (nothing written) when it cannot run here.
   */
  addNoisePairs(values: Float32Array, scale: number, cap: number | null, state: number, quantiles: Float32Array): number | null {
    if (!this.onHeap(values)) return null;
    if (!this.quantilesWritten) {
      new Float32Array(this.memory.buffer, this.quantiles, 65536).set(quantiles);
      this.quantilesWritten = true;
    }
    return this.exports.noise(values.byteOffset, values.length >> 1, scale, cap === null ? 0 : 1, cap ?? 0, state, this.quantiles);
  }
}
