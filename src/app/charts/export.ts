/**
 * Figure export helpers: turn a live recharts chart into a standalone SVG, a
 * PNG, or CSV, and hand the result to the browser as a download.
 *
 * Pure DOM code (no React, no tfjs). `toCsv` lives in engine/util/csv so that it can be
 * tested without a DOM; it is re-exported here for convenience.
 */

export { toCsv, csvField } from '../../engine/util/csv';
export type { CsvColumn, CsvRow, CsvCell } from '../../engine/util/csv';

const SVG_NS = 'http://www.w3.org/2000/svg';
const XLINK_NS = 'http://www.w3.org/1999/xlink';
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

/** Computed style properties copied from the live chart onto the exported clone. */
const INLINED_PROPERTIES = [
  'fill',
  'stroke',
  'stroke-width',
  'stroke-dasharray',
  'font-family',
  'font-size',
  'font-weight',
  'opacity',
  'fill-opacity',
  'stroke-opacity',
  'text-anchor',
  'dominant-baseline',
  'visibility',
  'display',
] as const;

/** Properties that only matter on text content; not written on shapes to keep files small. */
const TEXT_ONLY = new Set(['font-family', 'font-size', 'font-weight', 'text-anchor', 'dominant-baseline']);
const TEXT_TAGS = new Set(['text', 'tspan', 'textPath']);

export interface FigureSvgOptions {
  title: string;
  series: ReadonlyArray<{ label: string; color: string }>;
}

const FALLBACK_FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif';

/** Find the chart's main <svg class="recharts-surface"> (not a legend icon). */
export function findChartSvg(container: HTMLElement): SVGSVGElement | null {
  const candidates = Array.from(container.querySelectorAll<SVGSVGElement>('svg.recharts-surface')).filter(
    (el) => !el.closest('.recharts-legend-wrapper'),
  );
  if (candidates.length === 0) return null;
  let best = candidates[0]!;
  let bestArea = -1;
  for (const el of candidates) {
    const r = el.getBoundingClientRect();
    const area = r.width * r.height;
    if (area > bestArea) {
      best = el;
      bestArea = area;
    }
  }
  return best;
}

/**
 * Resolve any CSS colour expression (including `var(--x)`) to the concrete
 * colour the browser computes for it in the context of `ctx`.
 */
function resolveColor(value: string, ctx: Element, fallback: string): string {
  const doc = ctx.ownerDocument;
  const probe = doc.createElement('span');
  probe.style.display = 'none';
  probe.style.color = fallback;
  probe.style.color = value;
  (ctx.nodeType === 1 ? ctx : doc.body).appendChild(probe);
  const out = doc.defaultView?.getComputedStyle(probe).color || fallback;
  probe.remove();
  return out;
}

function isTransparent(color: string): boolean {
  const c = color.replace(/\s+/g, '').toLowerCase();
  return c === '' || c === 'transparent' || c === 'rgba(0,0,0,0)' || /^rgba\(.*,0\)$/.test(c) || /\/0\)$/.test(c);
}

/** The background colour the figure is drawn on: nearest opaque ancestor, then --bg, then white. */
function backgroundColor(container: HTMLElement): string {
  const win = container.ownerDocument.defaultView;
  for (let el: Element | null = container; el; el = el.parentElement) {
    const bg = win?.getComputedStyle(el).backgroundColor ?? '';
    if (!isTransparent(bg)) return bg;
  }
  const cssBg = win?.getComputedStyle(container).getPropertyValue('--bg').trim();
  if (cssBg) return resolveColor(cssBg, container, '#ffffff');
  return '#ffffff';
}

/** Replace var(--name, fallback) inside an attribute value with the live custom property value. */
function resolveVarsIn(value: string, live: Element): string {
  const win = live.ownerDocument.defaultView;
  if (!win || !value.includes('var(')) return value;
  const style = win.getComputedStyle(live);
  let out = value;
  // Resolve innermost var() first so that nested fallbacks work.
  for (let guard = 0; guard < 16 && out.includes('var('); guard++) {
    const next = out.replace(/var\(\s*(--[\w-]+)\s*(?:,\s*([^()]*(?:\([^()]*\)[^()]*)*))?\)/, (_m, name: string, fb?: string) => {
      const v = style.getPropertyValue(name).trim();
      return v || (fb ?? '').trim();
    });
    if (next === out) break;
    out = next;
  }
  return out;
}

/** Copy computed styles from `live` onto `clone` (same shape trees), recursively. */
function inlineStyles(live: Element, clone: Element): void {
  const win = live.ownerDocument.defaultView;
  if (!win) return;
  const cs = win.getComputedStyle(live);
  const isText = TEXT_TAGS.has(live.localName);
  const isRoot = live.localName === 'svg' && !(live.parentElement && live.parentElement.closest('svg'));
  const decls: string[] = [];
  for (const prop of INLINED_PROPERTIES) {
    if (TEXT_ONLY.has(prop) && !isText && !isRoot) continue;
    const v = cs.getPropertyValue(prop).trim();
    if (v === '') continue;
    decls.push(`${prop}:${v.replace(/"/g, "'")}`);
  }
  // Attributes that still reference CSS variables would be meaningless in a standalone file.
  for (const attr of Array.from(clone.attributes)) {
    if (attr.value.includes('var(')) {
      clone.setAttribute(attr.name, resolveVarsIn(attr.value, live));
    }
  }
  if (decls.length > 0) clone.setAttribute('style', decls.join(';'));
  else clone.removeAttribute('style');

  const liveKids = live.children;
  const cloneKids = clone.children;
  const n = Math.min(liveKids.length, cloneKids.length);
  for (let i = 0; i < n; i++) inlineStyles(liveKids[i]!, cloneKids[i]!);
}

let measureCtx: CanvasRenderingContext2D | null | undefined;
function textWidth(text: string, fontSize: number, fontFamily: string, weight = 'normal'): number {
  if (measureCtx === undefined) {
    try {
      measureCtx = document.createElement('canvas').getContext('2d');
    } catch {
      measureCtx = null;
    }
  }
  if (measureCtx) {
    measureCtx.font = `${weight} ${fontSize}px ${fontFamily}`;
    const w = measureCtx.measureText(text).width;
    if (w > 0) return w;
  }
  return text.length * fontSize * 0.6;
}

function svgEl<K extends keyof SVGElementTagNameMap>(doc: Document, tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const el = doc.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/**
 * Produce a standalone SVG document for the recharts chart inside `container`:
 * computed styles inlined, a title on top, a legend drawn in SVG below the
 * plot, and an opaque background. Returns the serialized XML (with declaration).
 */
export function figureToSvg(container: HTMLElement, opts: FigureSvgOptions): string {
  const live = findChartSvg(container);
  if (!live) throw new Error('figureToSvg: no recharts chart found in container');
  const doc = container.ownerDocument;
  const win = doc.defaultView;

  const rect = live.getBoundingClientRect();
  const chartW = Math.round(Number(live.getAttribute('width')) || rect.width || live.clientWidth || 600);
  const fullH = Math.round(Number(live.getAttribute('height')) || rect.height || live.clientHeight || 300);
  // recharts reserves space at the bottom of its svg for its HTML legend; our own
  // SVG legend replaces it, so crop that empty band off the plot.
  let chartH = fullH;
  const htmlLegend = live.parentElement?.querySelector('.recharts-legend-wrapper');
  if (htmlLegend && rect.height > 0) {
    const lr = htmlLegend.getBoundingClientRect();
    const top = lr.top - rect.top;
    if (lr.height > 0 && top > rect.height / 2 && top < rect.height) {
      chartH = Math.max(1, Math.round((top * fullH) / rect.height));
    }
  }
  const liveViewBox = live.getAttribute('viewBox');

  const containerStyle = win?.getComputedStyle(container);
  const fontFamily = (containerStyle?.fontFamily || '').trim() || FALLBACK_FONT;
  const fg = resolveColor(containerStyle?.getPropertyValue('--fg').trim() || containerStyle?.color || '#1f2328', container, '#1f2328');
  const bg = backgroundColor(container);

  const clone = live.cloneNode(true) as SVGSVGElement;
  inlineStyles(live, clone);

  // Strip interactive-only attributes that make no sense in a file.
  clone.removeAttribute('tabindex');
  clone.removeAttribute('role');
  clone.removeAttribute('class');

  // Layout of the enlarged canvas.
  const pad = 12;
  const titleSize = 15;
  const titleH = opts.title ? titleSize + pad * 2 : pad;
  const legendSize = 12;
  const swatch = 10;
  const itemGap = 18;
  const rowH = legendSize + 8;
  const items = opts.series.map((s) => ({
    ...s,
    w: swatch + 6 + textWidth(s.label, legendSize, fontFamily),
  }));
  const rows: Array<typeof items> = [];
  const maxRow = Math.max(40, chartW - pad * 2);
  let cur: typeof items = [];
  let curW = 0;
  for (const it of items) {
    const add = (cur.length ? itemGap : 0) + it.w;
    if (cur.length && curW + add > maxRow) {
      rows.push(cur);
      cur = [];
      curW = 0;
    }
    curW += (cur.length ? itemGap : 0) + it.w;
    cur.push(it);
  }
  if (cur.length) rows.push(cur);
  const legendH = rows.length ? rows.length * rowH + pad : 0;
  const totalW = chartW;
  const totalH = titleH + chartH + legendH + pad / 2;

  // Move the chart's content into a translated group below the title.
  const plot = svgEl(doc, 'g', { class: 'figure-plot', transform: `translate(0,${titleH})` });
  const defs: Element[] = [];
  while (clone.firstChild) {
    const child = clone.firstChild;
    if (child.nodeType === 1 && (child as Element).localName === 'defs') defs.push(child as Element);
    plot.appendChild(child);
  }
  for (const d of defs) clone.appendChild(d);
  if (liveViewBox) {
    // Map the chart's own viewBox onto its pixel box inside the group.
    const [vx, vy, vw, vh] = liveViewBox.split(/[\s,]+/).map(Number);
    if (vw && vh && [vx, vy].every((v) => Number.isFinite(v))) {
      plot.setAttribute(
        'transform',
        `translate(0,${titleH}) scale(${chartW / vw},${fullH / vh}) translate(${-vx!},${-vy!})`,
      );
    }
  }

  clone.setAttributeNS(XMLNS_NS, 'xmlns', SVG_NS);
  clone.setAttributeNS(XMLNS_NS, 'xmlns:xlink', XLINK_NS);
  clone.setAttribute('version', '1.1');
  clone.setAttribute('width', String(totalW));
  clone.setAttribute('height', String(totalH));
  clone.setAttribute('viewBox', `0 0 ${totalW} ${totalH}`);
  clone.setAttribute('style', `font-family:${fontFamily.replace(/"/g, "'")};background:${bg}`);

  clone.appendChild(svgEl(doc, 'rect', { class: 'figure-background', x: 0, y: 0, width: totalW, height: totalH, fill: bg }));

  if (opts.title) {
    const t = svgEl(doc, 'text', {
      class: 'figure-title',
      x: pad,
      y: pad + titleSize * 0.85,
      fill: fg,
      'font-size': titleSize,
      'font-weight': 600,
      'font-family': fontFamily,
    });
    t.textContent = opts.title;
    clone.appendChild(t);
  }

  clone.appendChild(plot);

  if (rows.length) {
    const legend = svgEl(doc, 'g', { class: 'figure-legend', transform: `translate(0,${titleH + chartH + pad / 2})` });
    rows.forEach((row, r) => {
      const rowW = row.reduce((acc, it, i) => acc + it.w + (i ? itemGap : 0), 0);
      let x = Math.max(pad, (totalW - rowW) / 2);
      const y = r * rowH;
      for (const it of row) {
        const item = svgEl(doc, 'g', { class: 'figure-legend-item' });
        item.appendChild(
          svgEl(doc, 'rect', {
            x,
            y: y + (rowH - swatch) / 2,
            width: swatch,
            height: swatch,
            rx: 2,
            fill: resolveColor(it.color, container, '#888888'),
          }),
        );
        const label = svgEl(doc, 'text', {
          x: x + swatch + 6,
          y: y + rowH / 2,
          fill: fg,
          'font-size': legendSize,
          'font-family': fontFamily,
          'dominant-baseline': 'central',
        });
        label.textContent = it.label;
        item.appendChild(label);
        legend.appendChild(item);
        x += it.w + itemGap;
      }
    });
    clone.appendChild(legend);
  }

  const xml = new XMLSerializer().serializeToString(clone);
  return `<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n${xml}`;
}

/** Read the pixel size an SVG document declares (width/height, else viewBox). */
function svgSize(svg: string): { width: number; height: number } | null {
  try {
    const parsed = new DOMParser().parseFromString(svg, 'image/svg+xml');
    const root = parsed.documentElement;
    const w = parseFloat(root.getAttribute('width') || '');
    const h = parseFloat(root.getAttribute('height') || '');
    if (w > 0 && h > 0) return { width: w, height: h };
    const vb = (root.getAttribute('viewBox') || '').split(/[\s,]+/).map(Number);
    if (vb.length === 4 && vb[2]! > 0 && vb[3]! > 0) return { width: vb[2]!, height: vb[3]! };
  } catch {
    /* fall through */
  }
  return null;
}

/** Rasterise an SVG document to a PNG blob at `scale`x its declared size. */
export function svgToPngBlob(svg: string, scale = 2): Promise<Blob> {
  return new Promise<Blob>((resolve, reject) => {
    const size = svgSize(svg);
    const img = new Image();
    img.decoding = 'async';
    img.onload = () => {
      try {
        const w = size?.width ?? img.naturalWidth;
        const h = size?.height ?? img.naturalHeight;
        if (!(w > 0 && h > 0)) throw new Error('svgToPngBlob: image has no size');
        const canvas = document.createElement('canvas');
        canvas.width = Math.round(w * scale);
        canvas.height = Math.round(h * scale);
        const ctx = canvas.getContext('2d');
        if (!ctx) throw new Error('svgToPngBlob: no 2d canvas context');
        ctx.setTransform(scale, 0, 0, scale, 0, 0);
        ctx.drawImage(img, 0, 0, w, h);
        canvas.toBlob((blob) => {
          if (blob) resolve(blob);
          else reject(new Error('svgToPngBlob: canvas.toBlob returned null'));
        }, 'image/png');
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    };
    img.onerror = () => reject(new Error('svgToPngBlob: the SVG could not be loaded as an image'));
    // A data: URL (rather than a blob: URL) keeps the canvas untainted in every browser.
    img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
  });
}

/** Offer `blob` to the user as a download named `filename`. */
export function downloadBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  a.style.display = 'none';
  document.body.appendChild(a);
  try {
    a.click();
  } finally {
    a.remove();
    // Revoke after the click has been handled; revoking synchronously can cancel the download.
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
}
