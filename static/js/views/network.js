/**
 * The network picture: input image, two hidden layers lit by their activations, the ten
 * outputs with bars, and the strongest connections coloured by the sign of their weight.
 *
 * Handed the model's weights once (`setModel`) and an answer's activations as they come
 * (`show`); computes nothing about digits, only what to draw and how strongly.
 *
 * Which connections are drawn: all 784×16 + 16×16 + 16×10 would be a grey blur, so
 *  - input → hidden 1 is shown as each neuron's 28×28 weight image beside it;
 *  - hidden 1 → hidden 2 and hidden 2 → output keep, per receiving neuron, the TOP_K
 *    incoming connections with the largest |w·a| (what actually pushed it now), or the
 *    largest |w| while nothing is drawn. Opacity and width follow that magnitude.
 *
 * Handed an /api/explain answer, it also shows backpropagation: beside every neuron a ▲
 * or ▼ for the way it "wants" to be nudged (`nudges`, −∂C/∂a; sized against the largest
 * in its layer), and in violet the weights the cost is most sensitive to (`top_weights`:
 * a line for layers 2 and 3, a ring around the receiving neuron for layer 1, whose
 * weights are pixels). For a what-if copy it shows the copy's ten outputs in the bars and
 * output neurons; the hidden layers keep showing the served network (the copy's hidden
 * activations are not sent).
 */
import { svgElement as el } from "./dom.js";
import { createTween } from "./tween.js";
import { NEGATIVE, POSITIVE, mix, rgb, inkDataUrl, signedDataUrl } from "./pixels.js";

const TOP_K = 3;
const NEURON_OFF = [30, 39, 61];
const NEURON_ON = [255, 255, 255];
const POSITIVE_CSS = rgb(POSITIVE);
const NEGATIVE_CSS = rgb(NEGATIVE);

const LAYOUTS = {
  full: {
    viewBox: [780, 470], input: { x: 6, y: 160, size: 150 }, thumb: { x: 230, size: 20 },
    columns: [276, 450, 612], radius: [9, 9, 12], bar: { x: 648, width: 86 }, value: 778,
    heads: [[81, "input 28×28"], [258, "hidden 1"], [450, "hidden 2"], [650, "output"]],
  },
  compact: {
    viewBox: [360, 470], input: null, thumb: null,
    columns: [38, 144, 238], radius: [8, 8, 11], bar: { x: 272, width: 52 }, value: 358,
    heads: [[38, "hidden 1"], [144, "hidden 2"], [294, "output"]],
  },
};
const TOP = 52;
const BOTTOM = 448;

const ys = (n, top = TOP, bottom = BOTTOM) =>
  Array.from({ length: n }, (_, i) => (n === 1 ? (top + bottom) / 2 : top + (i * (bottom - top)) / (n - 1)));

/** What a screen reader hears for the picture: the two strongest outputs. */
function describe(result, whatIf) {
  if (result && whatIf) {
    return `The what-if copy after ${whatIf.steps} step${whatIf.steps === 1 ? "" : "s"}: output ${whatIf.digit} ` +
      `is the brightest at ${whatIf.output[whatIf.digit].toFixed(2)}. The hidden layers show the served network.`;
  }
  return result
    ? `The network: output ${result.digit} is the brightest at ${result.output[result.digit].toFixed(2)}, ` +
      `output ${result.runner_up} next at ${result.output[result.runner_up].toFixed(2)}.`
    : "The network: 784 inputs, two hidden layers of 16 neurons, 10 outputs. Nothing drawn yet.";
}

/** A triangle centred on (x, y), half as wide as `s`: pointing up, or down. */
function triangle(x, y, s, up) {
  const h = up ? -1 : 1;
  return `M${(x).toFixed(1)},${(y + h * s).toFixed(1)}L${(x + s).toFixed(1)},${(y - h * s * 0.8).toFixed(1)}` +
    `L${(x - s).toFixed(1)},${(y - h * s * 0.8).toFixed(1)}Z`;
}

const MARK_MAX = 5.5;     // half-size of the largest nudge mark, viewBox units
const MARK_MIN = 1.5;

/**
 * @param {SVGSVGElement} svg
 * @param {{onSelect?: (layer: number, index: number) => void, note?: HTMLElement}} options
 *   layer 1 and 2 are the hidden layers, 3 the output layer; `note` says what the
 *   backpropagation marks and a what-if copy mean while they are on show
 */
export function createNetwork(svg, { onSelect = () => {}, note = null } = {}) {
  let model = null;       // {w2: 16×16, w3: 10×16, thumbs: [16 data URLs]}
  let answer = null;      // {input, hidden1, hidden2, output, digit}
  let shown = null;       // the answer as the server sent it (for the picture's label and verdict)
  let layoutName = null;
  let parts = null;       // the SVG elements of the current layout
  let selected = null;    // [layer, index]
  let nudges = null;      // {hidden1, hidden2, output}: −∂C/∂a from /api/explain, or null
  let grads = null;       // top_weights from /api/explain, or null
  let whatIf = null;      // {output, digit, steps}: the what-if copy's answer, or null
  let overlay = null;     // data: URL painted over the input image (the "Why?" colours), or null
  const tween = createTween(draw, 150);

  function build() {
    const L = LAYOUTS[layoutName];
    svg.replaceChildren();
    svg.setAttribute("viewBox", `0 0 ${L.viewBox[0]} ${L.viewBox[1]}`);
    const heads = el("g", { class: "net-heads" }, svg);
    const headTexts = L.heads.map(([x, label]) => {
      const t = el("text", { x, y: 20, "text-anchor": "middle" }, heads);
      t.textContent = label;
      return t;
    });

    const y1 = ys(16), y2 = ys(16), y3 = ys(10, TOP + 10, BOTTOM - 10);
    const [x1, x2, x3] = L.columns;
    const [r1, r2, r3] = L.radius;
    const p = { fan: [], links12: [], links23: [], neurons: [[], [], []], bars: [], values: [], digits: [],
      outputHead: headTexts[headTexts.length - 1], marks: [[], [], []], gradLines: [], gradRings: [] };

    if (L.input) {
      const { x, y, size } = L.input;
      const fan = el("g", { class: "net-fan" }, svg);
      for (let j = 0; j < 16; j++) {
        for (const f of [0.15, 0.5, 0.85]) {
          p.fan.push([j, el("line", { x1: x + size, y1: y + size * f, x2: L.thumb.x, y2: y1[j] }, fan)]);
        }
      }
      el("rect", { x: x - 1, y: y - 1, width: size + 2, height: size + 2, class: "net-frame" }, svg);
      p.input = el("image", { x, y, width: size, height: size, class: "pixelated", preserveAspectRatio: "none" }, svg);
      p.overlay = el("image", { x, y, width: size, height: size, class: "pixelated net-why",
        preserveAspectRatio: "none", visibility: "hidden" }, svg);
      el("text", { x: x + size / 2, y: y + size + 22, "text-anchor": "middle", class: "net-note" }, svg)
        .textContent = "784 inputs";
      el("text", { x: x + size / 2, y: y + size + 40, "text-anchor": "middle", class: "net-note" }, svg)
        .textContent = "what the network is fed";
    }

    const links = el("g", { class: "net-links" }, svg);
    for (let j = 0; j < 16; j++) for (let i = 0; i < 16; i++) {
      p.links12.push(el("line", { x1: x1 + r1, y1: y1[i], x2: x2 - r2, y2: y2[j] }, links));
    }
    for (let k = 0; k < 10; k++) for (let j = 0; j < 16; j++) {
      p.links23.push(el("line", { x1: x2 + r2, y1: y2[j], x2: x3 - r3, y2: y3[k] }, links));
    }

    const gradGroup = el("g", { class: "net-grads" }, svg);
    for (let k = 0; k < 10; k++) p.gradLines.push(el("line", { visibility: "hidden" }, gradGroup));
    for (let i = 0; i < 16; i++) {
      p.gradRings.push(el("circle", { cx: x1, cy: y1[i], r: r1 + 3, class: "net-grad-ring", visibility: "hidden" }, gradGroup));
    }

    p.ring = el("circle", { r: 0, class: "net-selected" }, svg);
    const layers = [[x1, y1, r1, 16], [x2, y2, r2, 16], [x3, y3, r3, 10]];
    layers.forEach(([x, yy, r, n], l) => {
      const g = el("g", { class: `net-layer net-layer-${l + 1}` }, svg);
      for (let i = 0; i < n; i++) {
        const node = el("g", { class: "neuron", "data-layer": l + 1, "data-index": i }, g);
        if (l === 0 && L.thumb) {
          const t = L.thumb;
          // One target from the weight picture to the neuron: no dead gap between them.
          el("rect", { x: t.x - 2, y: yy[i] - t.size / 2 - 2, width: x + r + 7 - t.x, height: t.size + 4,
            class: "hit" }, node);
          el("rect", { x: t.x - 1, y: yy[i] - t.size / 2 - 1, width: t.size + 2, height: t.size + 2,
            class: "net-thumb-frame" }, node);
          node.thumb = el("image", { x: t.x, y: yy[i] - t.size / 2, width: t.size, height: t.size,
            preserveAspectRatio: "none", class: "net-thumb" }, node);
        }
        el("circle", { cx: x, cy: yy[i], r: r + 5, class: "hit" }, node);
        const circle = el("circle", { cx: x, cy: yy[i], r, class: "body" }, node);
        el("title", {}, node).textContent = l < 2 ? `Hidden layer ${l + 1}, neuron ${i + 1}` : `Output ${i}`;
        p.neurons[l].push(circle);
        node.addEventListener("pointerenter", (e) => { if (e.pointerType === "mouse") onSelect(l + 1, i); });
        node.addEventListener("click", () => onSelect(l + 1, i));
      }
    });

    const outs = el("g", { class: "net-outputs" }, svg);
    for (let k = 0; k < 10; k++) {
      p.digits.push(Object.assign(el("text", { x: x3 + r3 + 8, y: y3[k] + 6, class: "net-digit" }, outs),
        { textContent: String(k) }));
      el("rect", { x: L.bar.x, y: y3[k] - 5, width: L.bar.width, height: 10, rx: 3, class: "net-track" }, outs);
      p.bars.push(el("rect", { x: L.bar.x, y: y3[k] - 5, width: 0, height: 10, rx: 3, class: "net-bar" }, outs));
      p.values.push(el("text", { x: L.value, y: y3[k] + 5, "text-anchor": "end", class: "net-value" }, outs));
    }
    p.positions = layers.map(([x, yy, r]) => yy.map((y) => [x, y, r]));
    const marks = el("g", { class: "net-nudges" }, svg);
    p.positions.forEach((column, l) => column.forEach(() => {
      const mark = el("path", { visibility: "hidden" }, marks);
      mark.tip = el("title", {}, mark);
      p.marks[l].push(mark);
    }));
    parts = p;
    paintInput();
    paintThumbs();
    paintNudges();
    paintGrads();
    paintWhatIf();
    placeRing();
    draw(tweenValues(), true);
    if (answer) tween(tweenValues());
  }

  function paintInput() {
    if (parts && parts.input) parts.input.setAttribute("href", inkDataUrl(answer ? answer.input : null));
    paintOverlay();
  }

  function paintOverlay() {
    if (!parts || !parts.overlay) return;
    if (overlay) parts.overlay.setAttribute("href", overlay);
    parts.overlay.setAttribute("visibility", overlay ? "visible" : "hidden");
  }

  const LAYER_KEYS = ["hidden1", "hidden2", "output"];
  const NAMES = ["Hidden layer 1, neuron", "Hidden layer 2, neuron", "Output"];

  function paintNudges() {
    if (!parts) return;
    parts.marks.forEach((column, l) => {
      const values = nudges ? nudges[LAYER_KEYS[l]] : null;
      const max = values ? Math.max(1e-12, ...values.map(Math.abs)) : 1;
      column.forEach((mark, i) => {
        if (!values) { mark.setAttribute("visibility", "hidden"); return; }
        const v = values[i];
        const [x, y, r] = parts.positions[l][i];
        const size = MARK_MIN + (MARK_MAX - MARK_MIN) * (Math.abs(v) / max);
        mark.setAttribute("d", triangle(x - r - MARK_MAX - 3, y, size, v >= 0));
        mark.setAttribute("class", v >= 0 ? "nudge up" : "nudge down");
        mark.setAttribute("visibility", "visible");
        mark.tip.textContent = `${NAMES[l]} ${l < 2 ? i + 1 : i} wants to go ${v >= 0 ? "up" : "down"}: ` +
          `−∂C/∂a = ${v.toPrecision(3)}`;
      });
    });
  }

  function paintGrads() {
    if (!parts) return;
    const list = grads || [];
    const max = Math.max(1e-12, ...list.map((w) => Math.abs(w.gradient)));
    const ringed = new Set();
    parts.gradLines.forEach((line, k) => {
      const w = list[k];
      if (!w || w.layer === 1) {
        line.setAttribute("visibility", "hidden");
        if (w) ringed.add(w.to);
        return;
      }
      const [xa, ya, ra] = parts.positions[w.layer - 2][w.from];
      const [xb, yb, rb] = parts.positions[w.layer - 1][w.to];
      Object.entries({ x1: xa + ra, y1: ya, x2: xb - rb, y2: yb }).forEach(([name, v]) => line.setAttribute(name, v));
      line.setAttribute("stroke-width", (1.2 + 2.6 * Math.abs(w.gradient) / max).toFixed(1));
      line.setAttribute("visibility", "visible");
    });
    parts.gradRings.forEach((ring, i) => ring.setAttribute("visibility", ringed.has(i) ? "visible" : "hidden"));
  }

  function paintWhatIf() {
    if (!parts) return;
    svg.classList.toggle("is-whatif", whatIf !== null);
    parts.outputHead.textContent = whatIf ? "what-if copy" : "output";
  }

  /** The strongest output of a "not a digit" answer is still marked, but not in the answer's colour. */
  function paintVerdict() {
    svg.classList.toggle("is-not-a-digit", !whatIf && shown?.verdict === "not-a-digit");
  }

  function paintNote() {
    if (!note) return;
    const said = [];
    if (nudges) {
      said.push("▲ ▼ beside each neuron: which way it wants to be nudged for the digit you meant " +
        "(−∂C/∂a, at the served weights).");
    }
    if (grads) said.push("Violet: the 10 weights the first step of gradient descent changes most.");
    if (whatIf) {
      said.push(`Bars and output neurons: the what-if copy after ${whatIf.steps} step${whatIf.steps === 1 ? "" : "s"}; ` +
        "everything else: the served network.");
    }
    note.textContent = said.join(" ");
    note.hidden = said.length === 0;
  }

  function paintThumbs() {
    if (!parts || !model) return;
    parts.neurons[0].forEach((c, i) => {
      const thumb = c.parentNode.thumb;
      if (thumb) thumb.setAttribute("href", model.thumbs[i]);
    });
  }

  function placeRing() {
    if (!parts) return;
    if (!selected) { parts.ring.setAttribute("r", 0); return; }
    const [x, y, r] = parts.positions[selected[0] - 1][selected[1]];
    Object.entries({ cx: x, cy: y, r: r + 4 }).forEach(([k, v]) => parts.ring.setAttribute(k, v));
  }

  function tweenValues() {
    if (!answer) return new Array(42).fill(0);
    return [...answer.hidden1, ...answer.hidden2, ...(whatIf ? whatIf.output : answer.output)];
  }

  /** Per receiving neuron, its TOP_K strongest incoming links; returns [index, magnitude, sign]. */
  function strongest(w, a) {
    const picks = [];
    w.forEach((row, j) => {
      const scored = row.map((wji, i) => [j * row.length + i, Math.abs(a ? wji * a[i] : wji), Math.sign(wji)]);
      scored.sort((p, q) => q[1] - p[1]);
      picks.push(...scored.slice(0, TOP_K));
    });
    return picks;
  }

  /** Set an attribute only when it changes: most lines keep their look from frame to frame. */
  function set(node, name, value) {
    const key = `_${name}`;
    if (node[key] !== value) { node[key] = value; node.setAttribute(name, value); }
  }

  function paintLinks(lines, w, a, emphasize) {
    const opacity = new Array(lines.length).fill("0");
    if (w) {
      const picks = strongest(w, a);
      const max = Math.max(1e-9, ...picks.map((p) => p[1]));
      const idle = !a;
      for (const [index, magnitude, sign] of picks) {
        const s = magnitude / max;
        const target = Math.floor(index / w[0].length);
        const boost = emphasize === null || emphasize === target ? 1 : 0.45;
        set(lines[index], "stroke", sign >= 0 ? POSITIVE_CSS : NEGATIVE_CSS);
        set(lines[index], "stroke-width", (0.6 + (idle ? 1.2 : 2.8) * s).toFixed(1));
        opacity[index] = ((idle ? 0.3 : 0.15 + 0.85 * s) * boost).toFixed(2);
      }
    }
    lines.forEach((line, i) => set(line, "stroke-opacity", opacity[i]));
  }

  function draw(values) {
    if (!parts) return;
    const h1 = values.slice(0, 16), h2 = values.slice(16, 32), out = values.slice(32, 42);
    const live = answer !== null;
    [h1, h2, out].forEach((acts, l) => parts.neurons[l].forEach((c, i) => {
      set(c, "fill", rgb(mix(NEURON_OFF, NEURON_ON, acts[i])));
    }));
    parts.fan.forEach(([j, line]) => set(line, "stroke-opacity", (0.06 + 0.3 * h1[j]).toFixed(2)));
    const winner = live ? (whatIf ? whatIf.digit : answer.digit) : null;
    paintLinks(parts.links12, model && model.w2, live ? h1 : null, null);
    // The lines are the served weights: they lead into the served network's answer.
    paintLinks(parts.links23, model && model.w3, live ? h2 : null, live ? answer.digit : null);
    const barWidth = LAYOUTS[layoutName].bar.width;
    out.forEach((a, k) => {
      set(parts.bars[k], "width", (barWidth * a).toFixed(1));
      const text = live ? a.toFixed(2) : "";
      if (parts.values[k].textContent !== text) parts.values[k].textContent = text;
      const win = k === winner;
      for (const node of [parts.bars[k], parts.digits[k], parts.neurons[2][k]]) node.classList.toggle("winner", win);
    });
  }

  function chooseLayout() {
    const width = svg.parentElement.getBoundingClientRect().width;
    const name = width && width < 560 ? "compact" : "full";
    if (name !== layoutName) { layoutName = name; build(); }
  }

  new ResizeObserver(chooseLayout).observe(svg.parentElement);
  chooseLayout();

  return {
    /** `layers` as in GET /api/model: [{weights, biases}] × 3. */
    setModel(layers) {
      model = {
        w2: layers[1].weights,
        w3: layers[2].weights,
        thumbs: layers[0].weights.map((row) => signedDataUrl(row)),
      };
      paintThumbs();
      draw(tweenValues(), true);
    },
    /** An answer from /api/predict, or null for an empty canvas. */
    show(result) {
      answer = result ? { ...result.activations, digit: result.digit } : null;
      shown = result;
      paintInput();
      paintVerdict();
      tween(tweenValues());
      svg.setAttribute("aria-label", describe(result, whatIf));
    },
    /** The "Why?" colours as a data: URL to lay over the input image, or null. */
    setOverlay(url) {
      overlay = url;
      paintOverlay();
    },
    /** `nudges` of an /api/explain answer ({hidden1, hidden2, output}), or null. */
    setNudges(values) {
      nudges = values;
      paintNudges();
      paintNote();
    },
    /** `top_weights` of an /api/explain answer, or null. */
    setHighlights(list) {
      grads = list;
      paintGrads();
      paintNote();
    },
    /** The what-if copy's answer after `steps` steps ({output, digit, steps}), or null: the served one. */
    setWhatIf(copy) {
      whatIf = copy;
      paintWhatIf();
      paintVerdict();
      paintNote();
      tween(tweenValues());
      svg.setAttribute("aria-label", describe(shown, whatIf));
    },
    select(layer, index) {
      selected = layer ? [layer, index] : null;
      placeRing();
    },
  };
}
