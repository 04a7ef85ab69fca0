// Window geometry shared by the fast and the reference approximate layers: both must pad and stride
// exactly as tfjs does for the float layer they replace.

export type Padding = 'same' | 'valid';

export interface Window {
  kh: number;
  kw: number;
  strides: [number, number];
  padding: Padding;
}

export interface Placement {
  outH: number;
  outW: number;
  top: number;
  bottom: number;
  left: number;
  right: number;
}

function axis(size: number, k: number, stride: number, padding: Padding) {
  if (padding === 'valid') return { out: Math.floor((size - k) / stride) + 1, before: 0, after: 0 };
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + k - size, 0);
  return { out, before: Math.floor(total / 2), after: total - Math.floor(total / 2) };
}

export function place(h: number, w: number, win: Window): Placement {
  const y = axis(h, win.kh, win.strides[0], win.padding);
  const x = axis(w, win.kw, win.strides[1], win.padding);
  return { outH: y.out, outW: x.out, top: y.before, bottom: y.after, left: x.before, right: x.after };
}
