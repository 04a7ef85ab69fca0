// Direct access to a tensor's storage on the CPU-side backends. dataSync() copies the values out and
// tf.tensor() copies them back in; for a layer output of a few million floats those two copies and
// the extra elementwise op cost more than the arithmetic a host pass does on them. The storage is
// reached through backend internals (the wasm heap offset; the cpu backend's value array), so every
// check that fails returns null and callers keep their copying path.
import * as tf from '@tensorflow/tfjs';

interface WasmBackendInternals {
  dataIdMap: { get(id: object): { id: number; memoryOffset: number; refCount: number } | undefined };
  wasm: { HEAPU8: Uint8Array; cwrap?: (name: string, result: null, args: string[]) => (...args: unknown[]) => void };
}

interface CpuBackendInternals {
  data: { get(id: object): { values?: unknown; refCount: number } | undefined };
}

/**
 * A Float32Array that aliases `t`'s storage, or null when there is none to alias: another backend,
 * another dtype, or storage shared with another tensor (a reshape or clone), which writes would
 * silently change too. Valid only until the next tfjs allocation (the wasm heap may grow and move).
 */
export function writableStorage(t: tf.Tensor): Float32Array | null {
  if (t.dtype !== 'float32') return null;
  const name = tf.getBackend();
  const backend = tf.backend() as unknown;
  try {
    if (name === 'wasm') {
      const b = backend as WasmBackendInternals;
      const info = b.dataIdMap?.get(t.dataId);
      if (!info || info.refCount !== 1 || typeof info.memoryOffset !== 'number') return null;
      return new Float32Array(b.wasm.HEAPU8.buffer, info.memoryOffset, t.size);
    }
    if (name === 'cpu') {
      const info = (backend as CpuBackendInternals).data?.get(t.dataId);
      if (!info || info.refCount !== 1 || !(info.values instanceof Float32Array) || info.values.length !== t.size) return null;
      return info.values;
    }
  } catch {
    return null;
  }
  return null;
}

/**
 * The values of `t` without a copy where the backend allows (a view of the wasm heap, the cpu
 * backend's own array), else dataSync()'s copy. Read-only, and valid only until the next tfjs
 * allocation.
 */
export function readableStorage(t: tf.Tensor): Float32Array {
  if (t.dtype !== 'float32') return Float32Array.from(t.dataSync());
  const offset = heapOffset(t);
  if (offset !== null) return new Float32Array((tf.backend() as unknown as WasmBackendInternals).wasm.HEAPU8.buffer, offset, t.size);
  return t.dataSync() as Float32Array;
}

/**
 * A new float32 tensor whose values `write` fills. On wasm the tensor is allocated uninitialised in
 * the wasm heap (as tfjs kernels allocate their outputs) and written there: no JavaScript array to
 * zero-fill and no copy into the heap. Views taken inside `write` stay valid: it allocates nothing.
 */
export function tensorWrittenBy(shape: number[], write: (out: Float32Array) => void): tf.Tensor {
  const t = uninitialisedTensor(shape);
  if (t) {
    const storage = writableStorage(t);
    if (storage) {
      write(storage);
      return t;
    }
    t.dispose();
  }
  const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
  write(out);
  return tf.tensor(out, shape);
}

/**
 * Where `t`'s values start in the wasm backend's memory (a byte offset, stable while the tensor lives,
 * even when the memory grows), or null on another backend. For compiled kernels that import that memory.
 */
export function heapOffset(t: tf.TensorInfo): number | null {
  if (tf.getBackend() !== 'wasm') return null;
  try {
    const offset = (tf.backend() as unknown as WasmBackendInternals).dataIdMap?.get(t.dataId)?.memoryOffset;
    return typeof offset === 'number' ? offset : null;
  } catch {
    return null;
  }
}

/** An uninitialised float32 tensor in the wasm backend's memory (for a compiled kernel to fill), or null on another backend. */
export function uninitialisedTensor(shape: number[]): tf.Tensor | null {
  if (tf.getBackend() !== 'wasm') return null;
  const backend = tf.backend() as unknown as { makeOutput?: (shape: number[], dtype: 'float32') => tf.TensorInfo };
  return typeof backend.makeOutput === 'function' ? tf.engine().makeTensorFromTensorInfo(backend.makeOutput(shape, 'float32')) : null;
}

type Product = (aId: number, aShape: Uint8Array, aRank: number, bId: number, bShape: Uint8Array, bRank: number, transposeA: number, transposeB: number, outId: number) => void;
const products = new WeakMap<object, Product | null>();

const shapeBytes = (shape: number[]) => new Uint8Array(new Int32Array(shape).buffer);

/**
 * out[0:rows] = a[0:rows]·b for float32 tensors a [≥ rows, k], b [k, n], out [≥ rows, n], by the wasm
 * backend's own matrix-product kernel called on their storage: no tensor is made, so a caller that
 * multiplies many slices reuses one pair of buffers instead of making and freeing two tensors per
 * product (tf.matMul's bookkeeping, and the garbage it leaves, cost more than small products do).
 * False, with nothing written, on another backend or where the kernel cannot be reached.
 */
export function productInto(a: tf.Tensor, rows: number, b: tf.Tensor2D, out: tf.Tensor): boolean {
  if (tf.getBackend() !== 'wasm' || a.dtype !== 'float32' || b.dtype !== 'float32' || out.dtype !== 'float32') return false;
  const [k, n] = b.shape;
  if (a.rank !== 2 || out.rank !== 2 || a.shape[1] !== k || out.shape[1] !== n || a.shape[0] < rows || out.shape[0] < rows) return false;
  try {
    const backend = tf.backend() as unknown as WasmBackendInternals;
    let product = products.get(backend);
    if (product === undefined) {
      product = typeof backend.wasm.cwrap === 'function' ? (backend.wasm.cwrap('BatchMatMul', null, ['number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number']) as Product) : null;
      products.set(backend, product);
    }
    const [ia, ib, io] = [a, b, out].map((t) => backend.dataIdMap.get(t.dataId)?.id);
    if (!product || ia === undefined || ib === undefined || io === undefined) return false;
    product(ia, shapeBytes([1, rows, k]), 3, ib, shapeBytes([1, k, n]), 3, 0, 0, io);
    return true;
  } catch {
    return false;
  }
}
