/**
 * "Why?": which ink argued for which digit. A toggle paints the server's attribution
 * (`attribution.pixels[i] = xᵢ · ∂(a_for − a_against)/∂xᵢ`) over the 28×28 input the
 * network was fed — blue where the ink pushed toward `for`, red where it pushed toward
 * `against` — and says so in one sentence built from the answer.
 *
 * Computes nothing about digits: the two digits and the 784 numbers are the server's;
 * here they only become colours (how strongly: each pixel against the 95th percentile of
 * the inked ones) and words.
 */
import { html } from "./dom.js";
import { NEGATIVE, POSITIVE, SIDE } from "./pixels.js";

/** Below this fraction of the colour scale a pixel is painted too faintly to mention. */
const VISIBLE = 0.05;

function scaleOf(values) {
  const inked = [];
  for (const v of values) if (v !== 0) inked.push(Math.abs(v));
  if (!inked.length) return 0;
  inked.sort((a, b) => a - b);
  return inked[Math.min(inked.length - 1, Math.floor(0.95 * inked.length))];
}

/**
 * Paint `values` into a 28×28 canvas: transparent where 0, blue +, red −, opaque by size
 * (the square root, so middling pixels still show over white ink; the order is kept).
 */
function paint(canvas, values) {
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(SIDE, SIDE);
  const scale = scaleOf(values) || 1;
  let blue = 0, red = 0;
  for (let i = 0; i < SIDE * SIDE; i++) {
    const t = Math.min(Math.abs(values[i]) / scale, 1);
    if (t >= VISIBLE) values[i] > 0 ? blue++ : red++;
    const [r, g, b] = values[i] >= 0 ? POSITIVE : NEGATIVE;
    image.data.set([r, g, b, Math.round(255 * Math.sqrt(t))], i * 4);
  }
  ctx.putImageData(image, 0, 0);
  return { blue, red };
}

/**
 * The sentence for an /api/explain answer and what was painted (`blue`, `red`: pixels
 * coloured visibly). `for`/`against` are the server's: the answer and its runner-up when
 * the target is the network's own answer, else the target and the answer.
 */
export function whySentence(result, { blue, red }) {
  const f = result.attribution.for, g = result.attribution.against;
  const toward = result.digit === f ? `pushed it to say ${f} rather than ${g}` : `pushed it toward ${f} rather than ${g}`;
  if (!blue && !red) return `No pixel's ink made much difference between ${f} and ${g}.`;
  if (!red) return `Ink on the blue pixels ${toward}; no pixel argued much for ${g}.`;
  if (!blue) return `No pixel argued much for ${f}: ink on the red pixels pushed it toward ${g} rather than ${f}.`;
  return `Ink on the blue pixels ${toward}; ink on the red ones argued for ${g}.`;
}

/**
 * @param {{button: HTMLButtonElement, text: HTMLElement, note: HTMLElement,
 *          frame: HTMLElement}} nodes  `frame` holds the 28×28 input picture to paint over
 * @param {{onToggle: (on: boolean) => void}} actions
 */
export function createWhy({ button, text, note, frame }, { onToggle }) {
  const overlay = html("canvas", { width: SIDE, height: SIDE, className: "why-overlay", hidden: true,
                                   data: { view: "why-overlay" }, attrs: { "aria-hidden": "true" } });
  frame.appendChild(overlay);
  let on = false;

  button.addEventListener("click", () => onToggle(!on));

  function clear() {
    overlay.hidden = true;
    overlay.getContext("2d").clearRect(0, 0, SIDE, SIDE);
    text.textContent = "";
    note.textContent = "";
  }

  return {
    /** Whether the overlay is wanted; what is shown waits for `show`. */
    setOn(value) {
      on = value;
      button.setAttribute("aria-pressed", String(on));
      if (!on) clear();
    },
    setEnabled(enabled) {
      button.disabled = !enabled;
    },
    /**
     * Paint an /api/explain answer; returns the sentence and the overlay as a data: URL
     * (for the network picture), or null when the toggle is off.
     */
    show(result) {
      if (!on) return null;
      const counts = paint(overlay, result.attribution.pixels);
      overlay.hidden = false;
      const f = result.attribution.for, g = result.attribution.against;
      const sentence = whySentence(result, counts);
      text.textContent = sentence;
      note.textContent = `Painted over “Centred by mass”, the 28×28 input: each inked pixel is coloured by ` +
        `its ink × how much more ink there would widen the gap between outputs ${f} and ${g}, ` +
        `x·∂(a${sub(f)} − a${sub(g)})/∂x. Blank pixels say nothing.`;
      return { sentence, url: overlay.toDataURL() };
    },
    /** The drawing changed: what was painted belongs to the old one. */
    clear,
  };
}

const SUBSCRIPTS = "₀₁₂₃₄₅₆₇₈₉";
export const sub = (d) => SUBSCRIPTS[d];
