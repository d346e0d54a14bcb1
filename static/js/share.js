/**
 * A drawing in a link: its strokes in the URL fragment, `#strokes=<base64url>`.
 *
 * No DOM and no network: `encode` turns `{strokes, width, height}` (CSS px of the canvas,
 * as draw.js keeps them) into the fragment's value, `decode` turns a value back or throws
 * a ShareError saying what is wrong, and `fit` moves decoded strokes onto a canvas of
 * another size. The fragment never reaches the server (browsers do not send it).
 *
 * The bytes (then base64url without padding), every number an unsigned LEB128 varint:
 *
 *   1                       format version
 *   W, H                    the canvas, in tenths of a CSS pixel
 *   S                       the number of strokes
 *   per stroke: N, then N points as zigzag-coded (dx, dy) in tenths of a pixel from the
 *   point before (the first point of the first stroke from (0, 0)).
 *
 * draw.js already rounds points to a tenth of a pixel, so a link redraws the very same
 * strokes on a canvas of the same size. A pen moves a few pixels between points, so most
 * deltas fit in one byte: a digit of ~150 points is about 400 bytes, ~550 characters.
 */

export const PREFIX = "strokes=";
const VERSION = 1;
/** The server's own limits (model/preprocess/limits.py): a link never holds more. */
export const MAX_STROKES = 100;
export const MAX_POINTS = 10_000;
/** Characters of base64url: 10,000 points at up to ~4 bytes a point, with room to spare. */
export const MAX_CHARS = 64 * 1024;
const MAX_SIDE = 100_000;       // tenths of a CSS px: 10,000 px, far beyond any screen
const MAX_VARINT_BYTES = 4;     // 28 bits: every honest number here is far smaller

export class ShareError extends Error {
  constructor(message) {
    super(message);
    this.name = "ShareError";
  }
}

const tenths = (v) => Math.round(v * 10);
const zigzag = (n) => (n >= 0 ? 2 * n : -2 * n - 1);
const unzigzag = (z) => (z % 2 === 0 ? z / 2 : -(z + 1) / 2);

function pushVarint(out, n) {
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

function toBase64url(bytes) {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.slice(i, i + 0x8000));
  }
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64url(text) {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new ShareError("it holds characters a link's drawing never has");
  if (text.length % 4 === 1) throw new ShareError("it was cut short");
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  let binary;
  try {
    binary = atob(padded);
  } catch {
    throw new ShareError("it is not base64url");
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** `{strokes, width, height}` → the fragment's value (without `#strokes=`). */
export function encode({ strokes, width, height }) {
  const W = tenths(width), H = tenths(height);
  const out = [VERSION];
  pushVarint(out, W);
  pushVarint(out, H);
  pushVarint(out, strokes.length);
  let px = 0, py = 0;
  for (const stroke of strokes) {
    pushVarint(out, stroke.length);
    for (const [x, y] of stroke) {
      // Points stay on the canvas (draw.js clamps them): keep a resize's rounding there too.
      const qx = Math.min(Math.max(tenths(x), 0), W), qy = Math.min(Math.max(tenths(y), 0), H);
      pushVarint(out, zigzag(qx - px));
      pushVarint(out, zigzag(qy - py));
      px = qx;
      py = qy;
    }
  }
  return toBase64url(Uint8Array.from(out));
}

/**
 * The fragment's value → `{strokes, width, height}` in CSS px, or a ShareError whose
 * message completes "The link's drawing could not be read: …".
 */
export function decode(text) {
  if (text.length > MAX_CHARS) throw new ShareError(`it is longer than ${MAX_CHARS.toLocaleString("en-US")} characters`);
  const bytes = fromBase64url(text);
  let at = 0;
  const varint = () => {
    let value = 0, scale = 1;
    for (let k = 0; k < MAX_VARINT_BYTES; k++) {
      if (at >= bytes.length) throw new ShareError("it ends in the middle of a number");
      const b = bytes[at++];
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 0x80;
    }
    throw new ShareError("it holds a number far too large");
  };
  if (bytes.length === 0) throw new ShareError("it is empty");
  const version = bytes[at++];
  if (version !== VERSION) throw new ShareError(`it is in format ${version}, this page reads format ${VERSION}`);
  const W = varint(), H = varint();
  if (!(W > 0 && H > 0 && W <= MAX_SIDE && H <= MAX_SIDE)) throw new ShareError("its canvas size is impossible");
  const count = varint();
  if (count < 1 || count > MAX_STROKES) throw new ShareError(`it has ${count} strokes (1 to ${MAX_STROKES} make a drawing)`);
  const strokes = [];
  let px = 0, py = 0, total = 0;
  for (let s = 0; s < count; s++) {
    const n = varint();
    total += n;
    if (n < 1) throw new ShareError("it has a stroke without points");
    if (total > MAX_POINTS) throw new ShareError(`it has more than ${MAX_POINTS.toLocaleString("en-US")} points`);
    const stroke = [];
    for (let i = 0; i < n; i++) {
      px += unzigzag(varint());
      py += unzigzag(varint());
      if (px < 0 || py < 0 || px > W || py > H) throw new ShareError("a point lies outside its canvas");
      stroke.push([px / 10, py / 10]);
    }
    strokes.push(stroke);
  }
  if (at !== bytes.length) throw new ShareError("it has bytes left over after the last stroke");
  return { strokes, width: W / 10, height: H / 10 };
}

/** A decoded drawing moved onto a canvas of `size` {width, height}: scaled, a tenth of a px. */
export function fit({ strokes, width, height }, size) {
  if (Math.abs(size.width - width) < 0.05 && Math.abs(size.height - height) < 0.05) return strokes;
  const fx = size.width / width, fy = size.height / height;
  return strokes.map((s) => s.map(([x, y]) => [Math.round(x * fx * 10) / 10, Math.round(y * fy * 10) / 10]));
}

/** `location.hash` → the fragment's value when it is a drawing's link, else null. */
export function drawingIn(hash) {
  const text = String(hash || "").replace(/^#/, "");
  return text.startsWith(PREFIX) ? text.slice(PREFIX.length) : null;
}

/** The address of this page with `drawing` in its fragment. */
export function linkTo(drawing, where = window.location) {
  return `${where.origin}${where.pathname}#${PREFIX}${encode(drawing)}`;
}
