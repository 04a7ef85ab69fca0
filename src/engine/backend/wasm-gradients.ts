// Training support for tfjs-backend-wasm: convolution gradients built from forward kernels.
//
// tfjs-backend-wasm 4.22 ships Conv2D, Conv2DBackpropInput and DepthwiseConv2dNative but no
// Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter or DepthwiseConv2dNativeBackpropInput,
// so training any conv net fails with "Kernel '...' not registered for backend 'wasm'".
//
// Two places need the missing maths:
//  * the gradients of the 'Conv2D' and 'DepthwiseConv2dNative' kernels (what tf.layers uses while
//    training when a conv layer has a non-linear activation, and what depthwiseConv2d always uses);
//  * the custom gradient of tf.fused.conv2d, which tf.layers keeps FUSED during training whenever
//    the activation is linear (every conv -> batchNorm block of the zoo's ResNet / MobileNetV2)
//    and which calls the backprop kernels directly; no registerGradient can reach it.
//
// So registerWasmTrainingGradients():
//  1. registers the three missing kernels for the 'wasm' backend, composed from wasm forward
//     kernels (Conv2D, DepthwiseConv2dNative, Transpose, Reshape, PadV2, Slice, Sum, Reverse,
//     BatchMatMul), and replaces wasm's Conv2DBackpropInput (a plain C++ loop, 3-10x slower than
//     the XNNPACK forward conv the replacement uses) for NHWC;
//  2. overrides the gradients of Conv2D and DepthwiseConv2dNative: where the active backend has
//     the backprop kernels (cpu, webgl, and wasm after step 1) and dilations are 1 they are used
//     exactly like the stock gradient does; otherwise (dilations > 1, which the stock gradients
//     reject, or a backend without those kernels) the same forward-only composition runs as ops;
//  3. overrides the FusedBatchNorm gradient with the stock one minus its tf.tile (broadcast
//     instead), because wasm's Tile made it ~45% of a ResNet / MobileNet training step.
// Other backends keep their kernels; the batch-norm change gives them the same values.
//
// The maths (NHWC; strides s, dilations d, kernel k, forward padding top/left as computed by
// backend_util.computeConv2DInfo, which handles 'same' / 'valid' / explicit numbers / rounding):
//  * filter gradient: correlate the padded input with dy over the batch axis: x as
//    [Cin, H, W, B] conv dy as [outH, outW, B, Cout] ('valid', stride d, dilation s)
//    = [Cin, kh, kw, Cout] (1x1 kernels: one [Cin, N] x [N, Cout] matmul). Depthwise: one image
//    with B*C channels, depthwise with dy as [outH, outW, B*C, M], then sum over B.
//  * input gradient: dy with s-1 zeros between samples, padded by (k-1)*d - top, correlated
//    ('valid', dilation d) with the 180-degree-rotated filter (in/out channels swapped for conv2d;
//    per channel, then summed over the multiplier, for depthwise).
import * as tf from '@tensorflow/tfjs';

type Info = tf.TensorInfo;
type Pair = [number, number];
type PadAttr = tf.Conv2DAttrs['pad'];
type RoundingMode = tf.Conv2DAttrs['dimRoundingMode'];
type Run = (kernelName: string, inputs: Record<string, Info>, attrs: Record<string, unknown>) => Info;

function pair(v: number | number[] | undefined | null): Pair {
  if (v == null) return [1, 1];
  if (typeof v === 'number') return [v, v];
  return [v[0] ?? 1, v[1] ?? v[0] ?? 1];
}

/** The handful of forward kernels the gradients are built from; `run` decides how they execute. */
class Ops {
  constructor(private readonly run: Run) {}
  transpose(x: Info, perm: number[]): Info {
    return this.run('Transpose', { x }, { perm });
  }
  reshape(x: Info, shape: number[]): Info {
    return this.run('Reshape', { x }, { shape });
  }
  pad(x: Info, paddings: Array<[number, number]>): Info {
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }
  slice(x: Info, begin: number[], size: number[]): Info {
    return this.run('Slice', { x }, { begin, size });
  }
  sum(x: Info, axis: number): Info {
    return this.run('Sum', { x }, { axis: [axis], keepDims: false });
  }
  reverse(x: Info, dims: number[]): Info {
    return this.run('Reverse', { x }, { dims });
  }
  /** 'valid' NHWC convolution. */
  conv2d(x: Info, filter: Info, strides: Pair, dilations: Pair): Info {
    return this.run('Conv2D', { x, filter }, { strides, pad: 'valid', dataFormat: 'NHWC', dilations });
  }
  /** 'valid' NHWC depthwise convolution. */
  depthwise(x: Info, filter: Info, strides: Pair, dilations: Pair): Info {
    return this.run(
      'DepthwiseConv2dNative',
      { x, filter },
      { strides, pad: 'valid', dataFormat: 'NHWC', dilations },
    );
  }
  matMul(a: Info, b: Info): Info {
    return this.run('BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
  }

  /** Pads (positive amounts) or crops (negative amounts) the spatial axes of an NHWC tensor. */
  padOrCrop(x: Info, top: number, bottom: number, left: number, right: number): Info {
    const [b, h, w, c] = x.shape;
    let y = x;
    const [ct, cb, cl, cr] = [top, bottom, left, right].map((v) => Math.max(0, -v));
    if (ct || cb || cl || cr) y = this.slice(y, [0, ct, cl, 0], [b, h - ct - cb, w - cl - cr, c]);
    const [pt, pb, pl, pr] = [top, bottom, left, right].map((v) => Math.max(0, v));
    if (pt || pb || pl || pr) y = this.pad(y, [[0, 0], [pt, pb], [pl, pr], [0, 0]]);
    return y;
  }

  /** Inserts s-1 zeros after every row / column: [B,H,W,C] -> [B,H*sh,W*sw,C]. */
  zeroStuff(x: Info, sh: number, sw: number): Info {
    if (sh === 1 && sw === 1) return x;
    const [b, h, w, c] = x.shape;
    const six = this.reshape(x, [b, h, 1, w, 1, c]);
    const padded = this.pad(six, [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
    return this.reshape(padded, [b, h * sh, w * sw, c]);
  }
}

interface Geometry {
  strides: Pair;
  dilations: Pair;
  /** Padding before the first row / column, exactly as the forward kernel applied it. */
  top: number;
  left: number;
  kh: number;
  kw: number;
  outH: number;
  outW: number;
}

function geometry(
  xShape: number[],
  filterShape: number[],
  strides: number | number[],
  dilations: number | number[] | undefined | null,
  pad: PadAttr,
  dimRoundingMode: RoundingMode,
  depthwise: boolean,
): Geometry {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    pair(strides),
    pair(dilations),
    pad,
    dimRoundingMode,
    depthwise,
    'channelsLast',
  );
  return {
    strides: [info.strideHeight, info.strideWidth],
    dilations: [info.dilationHeight, info.dilationWidth],
    top: info.padInfo.top,
    left: info.padInfo.left,
    kh: info.filterHeight,
    kw: info.filterWidth,
    outH: info.outHeight,
    outW: info.outWidth,
  };
}

/**
 * x padded as the forward pass saw it, cropped / extended to exactly the rows and columns the
 * output reads: [B, (outH-1)*sh + (kh-1)*dh + 1, (outW-1)*sw + (kw-1)*dw + 1, C].
 */
function forwardWindow(ops: Ops, x: Info, g: Geometry): Info {
  const [, h, w] = x.shape;
  const extentH = (g.outH - 1) * g.strides[0] + (g.kh - 1) * g.dilations[0] + 1;
  const extentW = (g.outW - 1) * g.strides[1] + (g.kw - 1) * g.dilations[1] + 1;
  return ops.padOrCrop(x, g.top, extentH - g.top - h, g.left, extentW - g.left - w);
}

/**
 * dy prepared for the "full" correlation that yields dx: zeros between samples (stride), padded
 * by (k-1)*d - top before and extended / cropped after so that a 'valid' correlation with the
 * k-tap, d-dilated filter gives exactly inH x inW.
 */
function fullCorrelationInput(ops: Ops, dy: Info, xShape: number[], g: Geometry): Info {
  const stuffed = ops.zeroStuff(dy, g.strides[0], g.strides[1]);
  const [, lh, lw] = stuffed.shape;
  const spanH = (g.kh - 1) * g.dilations[0];
  const spanW = (g.kw - 1) * g.dilations[1];
  const beforeH = spanH - g.top;
  const beforeW = spanW - g.left;
  return ops.padOrCrop(stuffed, beforeH, xShape[1] + spanH - beforeH - lh, beforeW, xShape[2] + spanW - beforeW - lw);
}

interface ConvParams {
  strides: number | number[];
  pad: PadAttr;
  dilations?: number | number[] | null;
  dimRoundingMode?: RoundingMode;
}

/** d(loss)/d(filter) of conv2d: [kh, kw, Cin, Cout]. */
function conv2dFilterGrad(ops: Ops, x: Info, dy: Info, filterShape: number[], p: ConvParams): Info {
  const g = geometry(x.shape, filterShape, p.strides, p.dilations, p.pad, p.dimRoundingMode, false);
  const [b, , , cin] = x.shape;
  const cout = filterShape[3];
  if (g.kh === 1 && g.kw === 1) return pointwiseFilterGrad(ops, x, dy, g, b, cin, cout);
  const xw = forwardWindow(ops, x, g); // [B, eH, eW, Cin]
  const xT = ops.transpose(xw, [3, 1, 2, 0]); // [Cin, eH, eW, B]: batch becomes the channel axis
  const dyT = ops.transpose(dy, [1, 2, 0, 3]); // [outH, outW, B, Cout]
  const out = ops.conv2d(xT, dyT, g.dilations, g.strides); // [Cin, kh, kw, Cout]
  return ops.transpose(out, [1, 2, 0, 3]);
}

/** 1x1 kernels: a plain [Cin, N] x [N, Cout] product (wasm runs it far faster than a conv). */
function pointwiseFilterGrad(ops: Ops, x: Info, dy: Info, g: Geometry, b: number, cin: number, cout: number): Info {
  const [sh, sw] = g.strides;
  // Output i reads padded row i*s: pad / crop the padded input to outH*s x outW*s, keep every s-th.
  let xs = ops.padOrCrop(x, g.top, g.outH * sh - g.top - x.shape[1], g.left, g.outW * sw - g.left - x.shape[2]);
  if (sh > 1 || sw > 1) {
    xs = ops.reshape(xs, [b * g.outH, sh, g.outW, sw * cin]);
    xs = ops.slice(xs, [0, 0, 0, 0], [b * g.outH, 1, g.outW, cin]);
  }
  const n = b * g.outH * g.outW;
  const x2 = ops.reshape(xs, [n, cin]);
  const dy2 = ops.reshape(dy, [n, cout]);
  // Transpose whichever operand has fewer channels (wasm's transposed matmul is slow).
  const out =
    cin <= cout
      ? ops.matMul(ops.transpose(x2, [1, 0]), dy2)
      : ops.transpose(ops.matMul(ops.transpose(dy2, [1, 0]), x2), [1, 0]);
  return ops.reshape(out, [1, 1, cin, cout]);
}

/** d(loss)/d(x) of conv2d: full correlation of the zero-stuffed dy with the rotated filter. */
function conv2dInputGrad(ops: Ops, xShape: number[], dy: Info, filter: Info, p: ConvParams): Info {
  const g = geometry(xShape, filter.shape, p.strides, p.dilations, p.pad, p.dimRoundingMode, false);
  const [kh, kw] = filter.shape;
  // 180-degree rotation, in/out channels swapped: [kh, kw, Cout, Cin].
  const rotated =
    kh === 1 && kw === 1 ? ops.transpose(filter, [0, 1, 3, 2]) : ops.transpose(ops.reverse(filter, [0, 1]), [0, 1, 3, 2]);
  return ops.conv2d(fullCorrelationInput(ops, dy, xShape, g), rotated, [1, 1], g.dilations);
}

/** d(loss)/d(filter) of depthwiseConv2d: [kh, kw, C, M]. */
function depthwiseFilterGrad(ops: Ops, x: Info, dy: Info, filterShape: number[], p: ConvParams): Info {
  const g = geometry(x.shape, filterShape, p.strides, p.dilations, p.pad, p.dimRoundingMode, true);
  const [b, , , c] = x.shape;
  const m = filterShape[3];
  const xw = forwardWindow(ops, x, g); // [B, eH, eW, C]
  const [, eh, ew] = xw.shape;
  // One image whose channels are the (batch, channel) pairs, correlated with dy as the filter.
  const xT = ops.reshape(ops.transpose(xw, [1, 2, 0, 3]), [1, eh, ew, b * c]);
  const dyT =
    m === 1
      ? ops.reshape(ops.transpose(dy, [1, 2, 0, 3]), [g.outH, g.outW, b * c, 1])
      : ops.reshape(
          ops.transpose(ops.reshape(dy, [b, g.outH, g.outW, c, m]), [1, 2, 0, 3, 4]),
          [g.outH, g.outW, b * c, m],
        );
  const out = ops.depthwise(xT, dyT, g.dilations, g.strides); // [1, kh, kw, B*C*M]
  const summed = ops.sum(ops.reshape(out, [g.kh, g.kw, b, c * m]), 2); // [kh, kw, C*M]
  return ops.reshape(summed, [g.kh, g.kw, c, m]);
}

/** d(loss)/d(x) of depthwiseConv2d: xShape. */
function depthwiseInputGrad(ops: Ops, xShape: number[], dy: Info, filter: Info, p: ConvParams): Info {
  const g = geometry(xShape, filter.shape, p.strides, p.dilations, p.pad, p.dimRoundingMode, true);
  const [kh, kw, c, m] = filter.shape;
  // Output channel c*M + m came from filter[:, :, c, m]: flatten the filter the same way.
  const rotated = ops.reshape(ops.reverse(filter, [0, 1]), [kh, kw, c * m, 1]);
  const full = ops.depthwise(fullCorrelationInput(ops, dy, xShape, g), rotated, [1, 1], g.dilations);
  if (m === 1) return full;
  return ops.sum(ops.reshape(full, [xShape[0], xShape[1], xShape[2], c, m]), 4);
}

// ---------------------------------------------------------------------------------------------
// Checks shared by kernels and gradients.

function checkNhwc(what: string, dataFormat: unknown): void {
  if (dataFormat != null && dataFormat !== 'NHWC') {
    throw new Error(`${what}: only dataFormat 'NHWC' is supported, got '${String(dataFormat)}'.`);
  }
}

function checkStridesOrDilationsOne(what: string, strides: unknown, dilations: unknown): void {
  const s = pair(strides as number | number[]);
  const d = pair(dilations as number | number[]);
  if (!(s[0] === 1 && s[1] === 1) && !(d[0] === 1 && d[1] === 1)) {
    throw new Error(`${what}: strides > 1 together with dilations > 1 are not supported (strides ${s}, dilations ${d}).`);
  }
}

function dilationsAreOne(dilations: unknown): boolean {
  const d = pair(dilations as number | number[]);
  return d[0] === 1 && d[1] === 1;
}

// ---------------------------------------------------------------------------------------------
// 1. Kernels for the wasm backend, composed from wasm kernels.

const WASM = 'wasm';

/**
 * Runs `body` with Ops that call the backend's kernel functions directly (as backends compose
 * kernels internally), then releases every intermediate except the result.
 */
function composeKernels(backend: tf.KernelBackend, body: (ops: Ops) => Info): Info {
  const created: Info[] = [];
  const run: Run = (kernelName, inputs, attrs) => {
    const kernel = tf.getKernel(kernelName, WASM);
    if (kernel == null) throw new Error(`Kernel '${kernelName}' not registered for backend '${WASM}'.`);
    const out = kernel.kernelFunc({ inputs, attrs: attrs as tf.NamedAttrMap, backend }) as Info;
    created.push(out);
    return out;
  };
  const ops = new Ops(run);
  let result: Info | null = null;
  try {
    result = body(ops);
    // Never hand an input back as a fresh output (the engine would own it twice).
    if (!created.includes(result)) result = run('Identity', { x: result }, {});
    return result;
  } finally {
    for (const info of created) if (info !== result) backend.disposeData(info.dataId);
  }
}

const wasmKernels: tf.KernelConfig[] = [
  {
    kernelName: tf.Conv2DBackpropFilter,
    backendName: WASM,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { x, dy } = inputs as { x: Info; dy: Info };
      const a = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
      checkNhwc('wasm Conv2DBackpropFilter', a.dataFormat);
      return composeKernels(backend as tf.KernelBackend, (ops) =>
        conv2dFilterGrad(ops, x, dy, a.filterShape, { ...a, dilations: 1 }),
      );
    },
  },
  {
    kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
    backendName: WASM,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { x, dy } = inputs as { x: Info; dy: Info };
      const a = attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
      checkStridesOrDilationsOne('wasm DepthwiseConv2dNativeBackpropFilter', a.strides, a.dilations);
      return composeKernels(backend as tf.KernelBackend, (ops) => depthwiseFilterGrad(ops, x, dy, a.filterShape, a));
    },
  },
  {
    kernelName: tf.DepthwiseConv2dNativeBackpropInput,
    backendName: WASM,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { dy, filter } = inputs as { dy: Info; filter: Info };
      const a = attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
      checkStridesOrDilationsOne('wasm DepthwiseConv2dNativeBackpropInput', a.strides, a.dilations);
      return composeKernels(backend as tf.KernelBackend, (ops) => depthwiseInputGrad(ops, a.inputShape, dy, filter, a));
    },
  },
];

// ---------------------------------------------------------------------------------------------
// 2. Gradient overrides.

function hasKernels(...kernelNames: string[]): boolean {
  const backendName = tf.getBackend();
  return kernelNames.every((k) => tf.getKernel(k, backendName) != null);
}

/** Forward-only composition as ordinary (taped, tidied) ops on the active backend. */
function composeOps(body: (ops: Ops) => Info): tf.Tensor {
  return tf.tidy(() => {
    const ops = new Ops((kernelName, inputs, attrs) =>
      tf.engine().runKernel(kernelName, inputs as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor,
    );
    return body(ops) as tf.Tensor;
  });
}

function runKernel(kernelName: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>): tf.Tensor {
  return tf.engine().runKernel(kernelName, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;
}

const conv2DGradConfig: tf.GradConfig = {
  kernelName: tf.Conv2D,
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const dy4 = dy as tf.Tensor4D;
    const a = attrs as unknown as tf.Conv2DAttrs;
    const { strides, pad, dataFormat, dimRoundingMode } = a;
    if (dilationsAreOne(a.dilations) && hasKernels(tf.Conv2DBackpropInput, tf.Conv2DBackpropFilter)) {
      // Same as tfjs' own gradient (which also handles NCHW where the backend does).
      return {
        x: () =>
          runKernel(tf.Conv2DBackpropInput, { dy: dy4, filter }, { strides, pad, dataFormat, dimRoundingMode, inputShape: x.shape }),
        filter: () =>
          runKernel(tf.Conv2DBackpropFilter, { x, dy: dy4 }, { strides, pad, dataFormat, dimRoundingMode, filterShape: filter.shape }),
      };
    }
    checkNhwc('Gradient of conv2D', dataFormat);
    checkStridesOrDilationsOne('Gradient of conv2D', strides, a.dilations);
    return {
      x: () => composeOps((ops) => conv2dInputGrad(ops, x.shape, dy4, filter, a)),
      filter: () => composeOps((ops) => conv2dFilterGrad(ops, x, dy4, filter.shape, a)),
    };
  },
};

const depthwiseConv2dNativeGradConfig: tf.GradConfig = {
  kernelName: tf.DepthwiseConv2dNative,
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const dy4 = dy as tf.Tensor4D;
    const a = attrs as unknown as tf.DepthwiseConv2dNativeAttrs;
    const { strides, pad, dilations, dimRoundingMode } = a;
    if (x.rank !== 4 || filter.rank !== 4 || x.shape[3] !== filter.shape[2]) {
      throw new Error(
        `Gradient of depthwiseConv2dNative: expected x [B,H,W,C] and filter [kh,kw,C,M], got ${x.shape} and ${filter.shape}.`,
      );
    }
    checkNhwc('Gradient of depthwiseConv2dNative', a.dataFormat);
    checkStridesOrDilationsOne('Gradient of depthwiseConv2dNative', strides, dilations);
    const $dilations = dilations ?? 1;
    if (
      dilationsAreOne(dilations) &&
      hasKernels(tf.DepthwiseConv2dNativeBackpropInput, tf.DepthwiseConv2dNativeBackpropFilter)
    ) {
      return {
        x: () =>
          runKernel(
            tf.DepthwiseConv2dNativeBackpropInput,
            { dy: dy4, filter },
            { strides, pad, dilations: $dilations, dimRoundingMode, inputShape: x.shape },
          ),
        filter: () =>
          runKernel(
            tf.DepthwiseConv2dNativeBackpropFilter,
            { x, dy: dy4 },
            { strides, pad, dilations: $dilations, dimRoundingMode, filterShape: filter.shape },
          ),
      };
    }
    return {
      x: () => composeOps((ops) => depthwiseInputGrad(ops, x.shape, dy4, filter, a)),
      filter: () => composeOps((ops) => depthwiseFilterGrad(ops, x, dy4, filter.shape, a)),
    };
  },
};

/**
 * tfjs' FusedBatchNorm gradient materialises rsqrt(variance) at the full input size with tf.tile
 * before multiplying; wasm's Tile kernel is so slow that this alone was ~45% of a training step of
 * the zoo's BatchNorm nets (e.g. 170 ms for one [64,14,14,96] tile). This is the same gradient,
 * term for term and in the same order, with broadcasting in place of the tile.
 */
const fusedBatchNormGradConfig: tf.GradConfig = {
  kernelName: tf.FusedBatchNorm,
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy, saved, attrs) => {
    const { varianceEpsilon } = attrs as unknown as tf.FusedBatchNormAttrs;
    const [x, mean, variance, scale] = saved;
    const dyT = dy as tf.Tensor;
    const scaleValue = scale == null ? tf.scalar(1) : scale;
    const reductionAxes = tf.broadcast_util.getReductionAxes(mean.shape, x.shape);
    const reduce = (t: tf.Tensor) => (mean.rank === 1 ? tf.sum(t, reductionAxes) : t);
    const xMinusMean = tf.sub(x, mean);
    const dyTimesScaleValue = tf.mul(dyT, scaleValue);
    const oneOverSqrtVariance = tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));
    const minusHalfRCube = tf.mul(
      tf.mul(tf.mul(oneOverSqrtVariance, oneOverSqrtVariance), oneOverSqrtVariance),
      tf.scalar(-0.5),
    );
    return {
      x: () => tf.reshape(tf.mul(tf.mul(dyT, oneOverSqrtVariance), scaleValue), x.shape),
      mean: () => tf.reshape(reduce(tf.mul(tf.mul(oneOverSqrtVariance, tf.scalar(-1)), dyTimesScaleValue)), mean.shape),
      variance: () => tf.reshape(reduce(tf.mul(tf.mul(minusHalfRCube, xMinusMean), dyTimesScaleValue)), mean.shape),
      scale: () => tf.reshape(reduce(tf.mul(dyT, tf.mul(xMinusMean, oneOverSqrtVariance))), mean.shape),
      offset: () => tf.reshape(reduce(dyT), mean.shape),
    };
  },
};

/**
 * wasm's own Conv2DBackpropInput is a plain C++ loop, 3-10x slower than expressing the same
 * maths as an XNNPACK forward convolution (measured on training-sized shapes), so the NHWC case
 * is replaced; anything else (NCHW) still goes to the original kernel.
 */
function replaceWasmConv2DBackpropInput(): void {
  const original = tf.getKernel(tf.Conv2DBackpropInput, WASM);
  const replacement: tf.KernelConfig = {
    kernelName: tf.Conv2DBackpropInput,
    backendName: WASM,
    // Keep the original usable (its setup binds the C++ function) for the cases handed back to it.
    setupFunc: original?.setupFunc,
    disposeFunc: original?.disposeFunc,
    kernelFunc: (args) => {
      const { dy, filter } = args.inputs as { dy: Info; filter: Info };
      const a = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
      if (a.dataFormat === 'NCHW' && original != null) return original.kernelFunc(args);
      checkNhwc('wasm Conv2DBackpropInput', a.dataFormat);
      return composeKernels(args.backend as tf.KernelBackend, (ops) =>
        conv2dInputGrad(ops, a.inputShape, dy, filter, { ...a, dilations: 1 }),
      );
    },
  };
  if (original != null) tf.unregisterKernel(tf.Conv2DBackpropInput, WASM);
  tf.registerKernel(replacement);
}

let registered = false;

/**
 * Makes conv nets (conv2d, depthwise / separable conv2d, fused or not, with batch norm) trainable,
 * and reasonably fast, on the wasm backend: registers the backprop kernels wasm lacks (built from
 * its forward kernels), replaces its slow Conv2DBackpropInput, overrides the Conv2D /
 * DepthwiseConv2dNative gradients (native backprop kernels where the active backend has them,
 * forward-only composition otherwise, which also adds dilation support) and the FusedBatchNorm
 * gradient (no tf.tile). Idempotent. Call it after '@tensorflow/tfjs-backend-wasm' has been
 * imported (that import registers the wasm kernels), before or after backends are set.
 */
export function registerWasmTrainingGradients(): void {
  if (registered) return;
  registered = true;
  for (const config of wasmKernels) {
    if (tf.getKernel(config.kernelName, WASM) == null) tf.registerKernel(config);
  }
  replaceWasmConv2DBackpropInput();
  tf.registerGradient(conv2DGradConfig);
  tf.registerGradient(depthwiseConv2dNativeGradConfig);
  tf.registerGradient(fusedBatchNormGradConfig);
}

/** Exposed for tests and benchmarks: the forward-only formulations run as plain ops. */
export const forwardOnlyGradients = {
  conv2dFilter: (x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: number[], p: ConvParams) =>
    composeOps((ops) => conv2dFilterGrad(ops, x, dy, filterShape, p)) as tf.Tensor4D,
  conv2dInput: (xShape: number[], dy: tf.Tensor4D, filter: tf.Tensor4D, p: ConvParams) =>
    composeOps((ops) => conv2dInputGrad(ops, xShape, dy, filter, p)) as tf.Tensor4D,
  depthwiseFilter: (x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: number[], p: ConvParams) =>
    composeOps((ops) => depthwiseFilterGrad(ops, x, dy, filterShape, p)) as tf.Tensor4D,
  depthwiseInput: (xShape: number[], dy: tf.Tensor4D, filter: tf.Tensor4D, p: ConvParams) =>
    composeOps((ops) => depthwiseInputGrad(ops, xShape, dy, filter, p)) as tf.Tensor4D,
};
