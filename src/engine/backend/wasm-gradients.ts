// Training gradients for convolutions that only use forward kernels.
//
// tfjs-backend-wasm 4.22 ships Conv2D / Conv2DBackpropInput / DepthwiseConv2dNative but no
// Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter or DepthwiseConv2dNativeBackpropInput,
// so the stock gradients of 'Conv2D' and 'DepthwiseConv2dNative' throw "Kernel ... not registered
// for backend 'wasm'" as soon as a conv net is trained. The gradients registered here express the
// same maths with kernels that every backend has (Conv2D, Conv2DBackpropInput,
// DepthwiseConv2dNative, Transpose, Reshape, PadV2, Slice, Reverse, Sum), so overriding them
// globally is safe for webgl and cpu as well.
//
// Layers run fused convolutions unfused while recording gradients, so these two kernels cover
// conv2d / depthwiseConv2d / separableConv2d layers during training. NHWC only (what tf.layers
// uses); dilations > 1 are supported together with stride 1 (tfjs forbids stride > 1 with them).
import * as tf from '@tensorflow/tfjs';

type Pair = [number, number];
type PadAttr = tf.Conv2DAttrs['pad'];
type RoundingMode = tf.Conv2DAttrs['dimRoundingMode'];

function pair(v: number | number[] | undefined | null): Pair {
  if (v == null) return [1, 1];
  if (typeof v === 'number') return [v, v];
  return [v[0] ?? 1, v[1] ?? v[0] ?? 1];
}

/** Pads (positive amounts) or crops (negative amounts) the two spatial axes of an NHWC tensor. */
function padOrCrop(x: tf.Tensor4D, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  let y = x;
  const ct = Math.max(0, -top);
  const cb = Math.max(0, -bottom);
  const cl = Math.max(0, -left);
  const cr = Math.max(0, -right);
  if (ct || cb || cl || cr) y = tf.slice(y, [0, ct, cl, 0], [b, h - ct - cb, w - cl - cr, c]);
  const pt = Math.max(0, top);
  const pb = Math.max(0, bottom);
  const pl = Math.max(0, left);
  const pr = Math.max(0, right);
  if (pt || pb || pl || pr) y = tf.pad(y, [[0, 0], [pt, pb], [pl, pr], [0, 0]]);
  return y;
}

/**
 * Inserts (s - 1) zeros after every row / column of an NHWC tensor: [B,H,W,C] -> [B,H*sh,W*sw,C].
 * (The trailing zeros are harmless; callers crop to the extent they need.)
 */
function zeroStuff(x: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  if (sh === 1 && sw === 1) return x;
  const [b, h, w, c] = x.shape;
  const six = tf.reshape(x, [b, h, 1, w, 1, c]);
  const padded = tf.pad(six, [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
  return tf.reshape(padded, [b, h * sh, w * sw, c]);
}

interface Geometry {
  strides: Pair;
  dilations: Pair;
  /** Padding before the first row / column, exactly as the forward kernel used it. */
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
    strides as [number, number] | number,
    (dilations ?? 1) as [number, number] | number,
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
 * x padded exactly as the forward pass saw it and cropped / extended to the rows and columns the
 * output actually reads: [B, (outH-1)*sh + (kh-1)*dh + 1, (outW-1)*sw + (kw-1)*dw + 1, C].
 */
function forwardWindow(x: tf.Tensor4D, g: Geometry): tf.Tensor4D {
  const [, h, w] = x.shape;
  const extentH = (g.outH - 1) * g.strides[0] + (g.kh - 1) * g.dilations[0] + 1;
  const extentW = (g.outW - 1) * g.strides[1] + (g.kw - 1) * g.dilations[1] + 1;
  return padOrCrop(x, g.top, extentH - g.top - h, g.left, extentW - g.left - w);
}

/**
 * Turns dy [B,outH,outW,C] into the input of the "full" correlation that yields dx: dy with
 * (s-1) zeros between samples, padded by (k-1)*d - padBefore and extended / cropped so that a
 * 'valid' correlation with a k-tap, d-dilated filter gives exactly inH x inW.
 */
function fullCorrelationInput(dy: tf.Tensor4D, xShape: number[], g: Geometry): tf.Tensor4D {
  const stuffed = zeroStuff(dy, g.strides[0], g.strides[1]);
  const [, lh, lw] = stuffed.shape;
  const spanH = (g.kh - 1) * g.dilations[0];
  const spanW = (g.kw - 1) * g.dilations[1];
  const beforeH = spanH - g.top;
  const beforeW = spanW - g.left;
  const afterH = xShape[1] + spanH - beforeH - lh;
  const afterW = xShape[2] + spanW - beforeW - lw;
  return padOrCrop(stuffed, beforeH, afterH, beforeW, afterW);
}

/** d(loss)/d(filter) of conv2d, NHWC: returns [kh, kw, Cin, Cout]. */
export function conv2dFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: number[],
  strides: number | number[],
  pad: PadAttr,
  dilations: number | number[] = 1,
  dimRoundingMode?: RoundingMode,
): tf.Tensor4D {
  return tf.tidy(() => {
    const g = geometry(x.shape, filterShape, strides, dilations, pad, dimRoundingMode, false);
    const xw = forwardWindow(x, g); // [B, eH, eW, Cin]
    // Correlate over the batch: "images" are input channels, "channels" are batch entries.
    const xT = tf.transpose(xw, [3, 1, 2, 0]); // [Cin, eH, eW, B]
    const dyT = tf.transpose(dy, [1, 2, 0, 3]); // [outH, outW, B, Cout]
    const out = tf.conv2d(xT, dyT, g.dilations, 'valid', 'NHWC', g.strides); // [Cin, kh, kw, Cout]
    return tf.transpose(out, [1, 2, 0, 3]);
  });
}

/** d(loss)/d(x) of conv2d, NHWC: returns xShape. */
export function conv2dInputGrad(
  xShape: number[],
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  strides: number | number[],
  pad: PadAttr,
  dilations: number | number[] = 1,
  dimRoundingMode?: RoundingMode,
): tf.Tensor4D {
  return tf.tidy(() => {
    const g = geometry(xShape, filter.shape, strides, dilations, pad, dimRoundingMode, false);
    if (g.dilations[0] === 1 && g.dilations[1] === 1) {
      // Conv2DBackpropInput exists on every backend (including wasm).
      return tf.conv2dTranspose(
        dy,
        filter,
        xShape as [number, number, number, number],
        g.strides,
        pad as 'same' | 'valid' | number | tf.backend_util.ExplicitPadding,
        dimRoundingMode,
      );
    }
    // Dilated filter (stride is then 1): full correlation with the rotated, transposed filter.
    const rotated = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]); // [kh, kw, Cout, Cin]
    return tf.conv2d(fullCorrelationInput(dy, xShape, g), rotated, 1, 'valid', 'NHWC', g.dilations);
  });
}

/** d(loss)/d(filter) of depthwiseConv2d, NHWC: returns [kh, kw, C, M]. */
export function depthwiseFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: number[],
  strides: number | number[],
  pad: PadAttr,
  dilations: number | number[] = 1,
  dimRoundingMode?: RoundingMode,
): tf.Tensor4D {
  return tf.tidy(() => {
    const g = geometry(x.shape, filterShape, strides, dilations, pad, dimRoundingMode, true);
    const [b, , , c] = x.shape;
    const m = filterShape[3];
    const xw = forwardWindow(x, g); // [B, eH, eW, C]
    const [, eh, ew] = xw.shape;
    // One "image" whose channels are (batch, channel) pairs, correlated with dy as the filter.
    const xT: tf.Tensor4D = tf.reshape(tf.transpose(xw, [1, 2, 0, 3]), [1, eh, ew, b * c]);
    const dyT: tf.Tensor4D =
      m === 1
        ? tf.reshape(tf.transpose(dy, [1, 2, 0, 3]), [g.outH, g.outW, b * c, 1])
        : tf.reshape(
            tf.transpose(tf.reshape(dy, [b, g.outH, g.outW, c, m]), [1, 2, 0, 3, 4]),
            [g.outH, g.outW, b * c, m],
          );
    const out = tf.depthwiseConv2d(xT, dyT, g.dilations, 'valid', 'NHWC', g.strides); // [1,kh,kw,B*C*M]
    const summed = tf.sum(tf.reshape(out, [g.kh, g.kw, b, c * m]), 2); // [kh, kw, C*M]
    return tf.reshape(summed, [g.kh, g.kw, c, m]);
  });
}

/** d(loss)/d(x) of depthwiseConv2d, NHWC: returns xShape. */
export function depthwiseInputGrad(
  xShape: number[],
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  strides: number | number[],
  pad: PadAttr,
  dilations: number | number[] = 1,
  dimRoundingMode?: RoundingMode,
): tf.Tensor4D {
  return tf.tidy(() => {
    const g = geometry(xShape, filter.shape, strides, dilations, pad, dimRoundingMode, true);
    const [kh, kw, c, m] = filter.shape;
    // Output channel c*M + m was produced by filter[:, :, c, m]; flatten the filter the same way.
    const rotated: tf.Tensor4D = tf.reshape(tf.reverse(filter, [0, 1]), [kh, kw, c * m, 1]);
    const full = tf.depthwiseConv2d(fullCorrelationInput(dy, xShape, g), rotated, 1, 'valid', 'NHWC', g.dilations);
    if (m === 1) return full;
    const [b, h, w] = xShape;
    return tf.sum(tf.reshape(full, [b, h, w, c, m]), 4);
  });
}

function assertNhwc(kernel: string, dataFormat: string | undefined): void {
  if (dataFormat != null && dataFormat !== 'NHWC') {
    throw new Error(`Gradient of ${kernel}: only dataFormat 'NHWC' is supported, got '${dataFormat}'.`);
  }
}

function assertStridesOrDilationsOne(kernel: string, strides: Pair, dilations: Pair): void {
  if (!(strides.every((s) => s === 1) || dilations.every((d) => d === 1))) {
    throw new Error(
      `Gradient of ${kernel}: strides > 1 together with dilations > 1 are not supported ` +
        `(strides ${strides}, dilations ${dilations}).`,
    );
  }
}

const conv2DGradConfig: tf.GradConfig = {
  kernelName: tf.Conv2D,
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs?: tf.NamedAttrMap) => {
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as unknown as tf.Conv2DAttrs;
    assertNhwc('conv2D', dataFormat);
    assertStridesOrDilationsOne('conv2D', pair(strides), pair(dilations));
    const dy4 = dy as tf.Tensor4D;
    return {
      x: () => conv2dInputGrad(x.shape, dy4, filter, strides, pad, dilations ?? 1, dimRoundingMode),
      filter: () => conv2dFilterGrad(x, dy4, filter.shape, strides, pad, dilations ?? 1, dimRoundingMode),
    };
  },
};

const depthwiseConv2dNativeGradConfig: tf.GradConfig = {
  kernelName: tf.DepthwiseConv2dNative,
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs?: tf.NamedAttrMap) => {
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const { strides, pad, dilations, dimRoundingMode } = attrs as unknown as tf.DepthwiseConv2dNativeAttrs;
    const dataFormat = (attrs as { dataFormat?: string } | undefined)?.dataFormat;
    assertNhwc('depthwiseConv2dNative', dataFormat);
    if (x.rank !== 4 || filter.rank !== 4 || x.shape[3] !== filter.shape[2]) {
      throw new Error(
        `Gradient of depthwiseConv2dNative: expected x [B,H,W,C] and filter [kh,kw,C,M], ` +
          `got ${x.shape} and ${filter.shape}.`,
      );
    }
    assertStridesOrDilationsOne('depthwiseConv2dNative', pair(strides), pair(dilations));
    const dy4 = dy as tf.Tensor4D;
    return {
      x: () => depthwiseInputGrad(x.shape, dy4, filter, strides, pad, dilations ?? 1, dimRoundingMode),
      filter: () => depthwiseFilterGrad(x, dy4, filter.shape, strides, pad, dilations ?? 1, dimRoundingMode),
    };
  },
};

let registered = false;

/**
 * Replaces the gradients of Conv2D and DepthwiseConv2dNative with forward-kernel-only versions so
 * that conv nets train on the wasm backend. Idempotent; safe on every backend.
 */
export function registerWasmTrainingGradients(): void {
  if (registered) return;
  tf.registerGradient(conv2DGradConfig);
  tf.registerGradient(depthwiseConv2dNativeGradConfig);
  registered = true;
}
