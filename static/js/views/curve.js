/**
 * The training cost along the run (GET /api/training): the run's `curve` as a line, each
 * snapshot's own `cost` as a dot, and a cursor at the snapshot on screen.
 *
 * Examples seen go on a log scale (log10(1 + n)): the run's snapshots come thick early,
 * when the cost falls fastest, and thin later. The numbers are the server's; here they
 * only become positions.
 */
import { svgElement as el } from "./dom.js";

const W = 360;
const H = 180;
const PAD = { left: 40, right: 12, top: 12, bottom: 34 };

const count = (n) => n.toLocaleString("en-US");

/** 1000 → "1k", 1000000 → "1M": the axis's round numbers. */
function short(n) {
  if (n >= 1e6) return `${n / 1e6}M`;
  if (n >= 1e3) return `${n / 1e3}k`;
  return String(n);
}

export function createCurve(svg) {
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  let x = () => 0;
  let y = () => 0;
  let cursor = null;
  let marker = null;
  let points = [];

  return {
    /** `run`: {checkpoints: [{examples_seen, cost, …}], curve: [{examples_seen, cost}]}. */
    setRun(run) {
      svg.replaceChildren();
      points = run.checkpoints;
      const all = [...run.curve, ...run.checkpoints];
      const most = Math.max(1, ...all.map((p) => p.examples_seen));
      const top = Math.max(...all.map((p) => p.cost)) || 1;
      const span = Math.log10(1 + most);
      x = (n) => PAD.left + (Math.log10(1 + n) / span) * (W - PAD.left - PAD.right);
      y = (c) => PAD.top + (1 - c / top) * (H - PAD.top - PAD.bottom);

      const axes = el("g", { class: "curve-axes" }, svg);
      el("line", { x1: PAD.left, y1: H - PAD.bottom, x2: W - PAD.right, y2: H - PAD.bottom }, axes);
      el("line", { x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: H - PAD.bottom }, axes);
      const ticks = el("g", { class: "curve-ticks" }, svg);
      const powers = [0];
      for (let p = 10; p <= most; p *= 10) powers.push(p);
      const step = powers.length > 6 ? 2 : 1;     // every other power when they would crowd
      powers.filter((_, i) => i % step === 0 || i === 0).forEach((n) => {
        el("line", { x1: x(n), y1: H - PAD.bottom, x2: x(n), y2: H - PAD.bottom + 4 }, ticks);
        el("text", { x: x(n), y: H - PAD.bottom + 15, "text-anchor": "middle" }, ticks).textContent = short(n);
      });
      [[0, "0"], [top, top.toFixed(2)]].forEach(([c, label]) => {
        el("text", { x: PAD.left - 5, y: y(c) + 4, "text-anchor": "end" }, ticks).textContent = label;
      });
      el("text", { x: (PAD.left + W - PAD.right) / 2, y: H - 3, "text-anchor": "middle", class: "curve-label" }, svg)
        .textContent = "examples seen (log scale)";
      el("text", { x: 10, y: (PAD.top + H - PAD.bottom) / 2, "text-anchor": "middle", class: "curve-label",
        transform: `rotate(-90 10 ${(PAD.top + H - PAD.bottom) / 2})` }, svg).textContent = "cost";

      if (run.curve.length) {
        const d = run.curve.map((p, i) => `${i ? "L" : "M"}${x(p.examples_seen).toFixed(1)},${y(p.cost).toFixed(1)}`).join("");
        el("path", { d, class: "curve-line" }, svg);
      }
      const dots = el("g", { class: "curve-dots" }, svg);
      run.checkpoints.forEach((p) => el("circle", { cx: x(p.examples_seen), cy: y(p.cost), r: 2.5 }, dots));
      cursor = el("line", { class: "curve-cursor", y1: PAD.top, y2: H - PAD.bottom }, svg);
      marker = el("circle", { class: "curve-marker", r: 5 }, svg);

      const first = run.checkpoints[0];
      const last = run.checkpoints[run.checkpoints.length - 1];
      svg.setAttribute("aria-label", `The training cost against examples seen: ${first.cost.toFixed(3)} at the ` +
        `start, ${last.cost.toFixed(3)} after ${count(last.examples_seen)} examples.`);
    },
    /** The cursor at snapshot `id`. */
    setCursor(id) {
      const p = points[id];
      if (!p || !cursor) return;
      cursor.setAttribute("x1", x(p.examples_seen));
      cursor.setAttribute("x2", x(p.examples_seen));
      marker.setAttribute("cx", x(p.examples_seen));
      marker.setAttribute("cy", y(p.cost));
      svg.dataset.cursor = String(id);
    },
  };
}
