/**
 * The preprocessing strip: drawing → cropped to the ink → fitted into 20×20 → centred by
 * mass in 28×28. Everything here is drawn from what the server reported
 * (`preprocessing.bbox`, `shift`, `fitted_size`, `center_of_mass`) and the 28×28 it
 * actually fed the network; the page does no preprocessing of its own.
 */
import { html } from "./dom.js";
import { BACKGROUND, SIDE, gridCanvas, paintInk, rgb } from "./pixels.js";

const PX = 224;           // backing-store size of each panel (sharp up to ~112 CSS px at 2×)
const CELL = PX / SIDE;   // one 28-grid pixel in panel pixels
const ACCENT = "#ffc857";
const GUIDE = "rgba(154, 178, 220, 0.75)";

const STEPS = [
  ["Your drawing", "as drawn on the canvas"],
  ["Cropped to the ink", "the box around every stroke"],
  ["Fitted into 20×20", "longer side scaled to 20 pixels"],
  ["Centred by mass", "in 28×28: what the network sees"],
];

const fmt = (x) => (x >= 0 ? "+" : "−") + Math.abs(x).toFixed(1);

export function createPreprocess(container) {
  const panels = STEPS.map(([title, note], i) => {
    const canvas = html("canvas", { width: PX, height: PX,
                                    attrs: { role: "img", "aria-label": `${title}: nothing drawn yet` } });
    const small = html("span", { textContent: note });
    const frame = html("div", { className: "step-frame" }, canvas);
    container.appendChild(html("figure", { className: "step" }, frame,
      html("figcaption", {}, html("strong", { textContent: `${i + 1}. ${title}` }), small)));
    return { canvas, frame, ctx: canvas.getContext("2d"), small, title, note };
  });
  const grid = gridCanvas();

  function blank(panel) {
    panel.ctx.fillStyle = rgb(BACKGROUND);
    panel.ctx.fillRect(0, 0, PX, PX);
  }

  function describe(panel, text, label) {
    panel.small.textContent = text;
    panel.canvas.setAttribute("aria-label", `${panel.title}: ${label || text}`);
  }

  /** The 28×28 `values`, moved by (dx, dy) grid pixels, nearest-neighbour so cells stay crisp. */
  function drawGrid(panel, values, dx = 0, dy = 0) {
    blank(panel);
    paintInk(grid, values);
    panel.ctx.imageSmoothingEnabled = false;
    panel.ctx.drawImage(grid, dx * CELL, dy * CELL, PX, PX);
  }

  function box(panel, x, y, w, h, colour, dashed = true) {
    const ctx = panel.ctx;
    ctx.save();
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2;
    ctx.setLineDash(dashed ? [6, 5] : []);
    ctx.strokeRect(x, y, w, h);
    ctx.restore();
  }

  function cross(panel, x, y, colour) {
    const ctx = panel.ctx;
    ctx.save();
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(x - 9, y); ctx.lineTo(x + 9, y);
    ctx.moveTo(x, y - 9); ctx.lineTo(x, y + 9);
    ctx.stroke();
    ctx.beginPath();
    ctx.arc(x, y, 4, 0, 2 * Math.PI);
    ctx.fillStyle = colour;
    ctx.fill();
    ctx.restore();
  }

  /** Draw `source` (a canvas with CSS size `css`) cropped to `rect`, fitted into the panel. */
  function drawCanvas(panel, source, css, rect) {
    blank(panel);
    const k = source.width / css.width;
    const [x0, y0, x1, y1] = rect;
    const w = Math.max(x1 - x0, 1), h = Math.max(y1 - y0, 1);
    const fit = (PX * 0.9) / Math.max(w, h);
    panel.ctx.imageSmoothingEnabled = true;
    panel.ctx.drawImage(source, x0 * k, y0 * k, w * k, h * k,
      (PX - w * fit) / 2, (PX - h * fit) / 2, w * fit, h * fit);
    return { fit, ox: (PX - w * fit) / 2 - x0 * fit, oy: (PX - h * fit) / 2 - y0 * fit };
  }

  function clear() {
    panels.forEach((p, i) => { blank(p); describe(p, STEPS[i][1], "nothing drawn yet"); });
  }

  return {
    /** The frame around the last panel, the 28×28 input itself: other views paint over it. */
    inputFrame: panels[3].frame,
    clear,
    /**
     * @param {{canvas?: HTMLCanvasElement, size?: {width, height}, pixels?: number[],
     *          info: object, input: number[]}} what
     *   `canvas`+`size` for a drawing; `pixels` (784) for an MNIST example.
     */
    show({ canvas, size, pen = 0, pixels, info, input }) {
      const [p1, p2, p3, p4] = panels;
      const shift = info.shift || [0, 0];
      if (canvas && info.bbox) {
        // bbox is the pen's centre line; our ink reaches half a pen width further.
        const r = pen / 2 + 1;
        const [x0, y0, x1, y1] = info.bbox;
        const whole = drawCanvas(p1, canvas, size, [0, 0, size.width, size.height]);
        box(p1, (x0 - r) * whole.fit + whole.ox, (y0 - r) * whole.fit + whole.oy,
          (x1 - x0 + 2 * r) * whole.fit, (y1 - y0 + 2 * r) * whole.fit, ACCENT);
        describe(p1, `${Math.round(size.width)}×${Math.round(size.height)} px canvas, ink boxed`);
        drawCanvas(p2, canvas, size, [x0 - r, y0 - r, x1 + r, y1 + r]);
        describe(p2, `${Math.round(x1 - x0 + 2 * r)}×${Math.round(y1 - y0 + 2 * r)} px of ink`);
      } else {
        drawGrid(p1, pixels || input);
        describe(p1, "an MNIST test digit, 28×28");
        drawGrid(p2, pixels || input);
        describe(p2, "MNIST digits come already cropped");
      }
      // centre_of_mass is in index coordinates: pixel c's centre is at c + 0.5 on the panel.
      const com = info.center_of_mass || [SIDE / 2, SIDE / 2];
      // Undo the centring shift: what the fitted 20×20 looked like before it moved.
      drawGrid(p3, input, -shift[0], -shift[1]);
      box(p3, 4 * CELL, 4 * CELL, 20 * CELL, 20 * CELL, GUIDE);
      const fitted = info.fitted_size;
      describe(p3, info.source === "pixels" ? "MNIST digits come already fitted"
        : fitted ? `${Math.round(fitted[0])}×${Math.round(fitted[1])} inside the 20×20 box` : "the 20×20 box outlined",
      "the 28×28 input before centring, with the 20×20 box outlined and its centre of mass marked");
      cross(p3, (com[0] + 0.5 - shift[0]) * CELL, (com[1] + 0.5 - shift[1]) * CELL, ACCENT);
      drawGrid(p4, input);
      const c = (SIDE / 2) * CELL;
      const ctx = p4.ctx;
      ctx.save();
      ctx.strokeStyle = GUIDE;
      ctx.setLineDash([4, 5]);
      ctx.beginPath();
      ctx.moveTo(c + CELL / 2, 0); ctx.lineTo(c + CELL / 2, PX);
      ctx.moveTo(0, c + CELL / 2); ctx.lineTo(PX, c + CELL / 2);
      ctx.stroke();
      ctx.restore();
      cross(p4, (com[0] + 0.5) * CELL, (com[1] + 0.5) * CELL, ACCENT);
      describe(p4, info.source === "pixels" ? "exactly as MNIST made it"
        : `moved ${fmt(shift[0])}, ${fmt(shift[1])} px: centre of mass to the middle`,
      "the 28×28 input the network was fed, centre of mass at the centre");
    },
  };
}
