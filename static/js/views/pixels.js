/**
 * Paint 28×28 grids into canvases. Shared by the views; knows colours, not meaning.
 *
 * Colours follow the lesson: blue for positive weights, red for negative ones, ink as
 * light on dark (MNIST's ink = 1).
 */
import { html } from "./dom.js";

export const SIDE = 28;
export const BACKGROUND = [12, 17, 30];
export const POSITIVE = [77, 163, 255];
export const NEGATIVE = [255, 92, 92];
export const INK = [244, 247, 255];

const mix = (from, to, t) => from.map((c, i) => Math.round(c + (to[i] - c) * t));

/** A canvas whose backing store is one pixel per grid cell; CSS scales it up. */
export function gridCanvas(className = "grid28") {
  return html("canvas", { width: SIDE, height: SIDE, className });
}

function put(canvas, colour) {
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(SIDE, SIDE);
  for (let i = 0; i < SIDE * SIDE; i++) {
    const [r, g, b] = colour(i);
    image.data.set([r, g, b, 255], i * 4);
  }
  ctx.putImageData(image, 0, 0);
}

/** Values in [0, 1] as ink: 0 = background, 1 = white. `null` paints an empty grid. */
export function paintInk(canvas, values) {
  put(canvas, (i) => mix(BACKGROUND, INK, values ? Math.min(Math.max(values[i], 0), 1) : 0));
}

/**
 * Signed values as blue (+) and red (−), scaled so ±`scale` is full colour. The default
 * is the 98th percentile of |value|: a handful of extreme weights would otherwise leave
 * the rest of the picture near black.
 */
export function paintSigned(canvas, values, scale = robustScale(values)) {
  const s = scale || 1;
  put(canvas, (i) => {
    const t = Math.max(-1, Math.min(1, values[i] / s));
    return t >= 0 ? mix(BACKGROUND, POSITIVE, t) : mix(BACKGROUND, NEGATIVE, -t);
  });
}

export function robustScale(values, q = 0.98) {
  const sorted = Array.from(values, Math.abs).sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] || maxAbs(values);
}

export function maxAbs(values) {
  let m = 0;
  for (const v of values) m = Math.max(m, Math.abs(v));
  return m;
}

/** The same picture as a data: URL, for SVG <image> elements (img-src allows data:). */
export function signedDataUrl(values, scale) {
  const canvas = gridCanvas();
  paintSigned(canvas, values, scale);
  return canvas.toDataURL();
}

export function inkDataUrl(values) {
  const canvas = gridCanvas();
  paintInk(canvas, values);
  return canvas.toDataURL();
}

export function rgb([r, g, b]) {
  return `rgb(${r} ${g} ${b})`;
}

export { mix };
