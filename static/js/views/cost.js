/**
 * The lesson's cost of one example, C = Σⱼ (aⱼ − yⱼ)², for the digit the person meant:
 * the total the server computed (`cost`, or a descent step's `cost`) and its ten terms,
 * each drawn as the output aⱼ beside its wanted value yⱼ.
 *
 * The terms are the formula applied to the ten outputs the server sent with that cost
 * (y = 1 for the target, 0 for the rest): arithmetic for display, nothing re-derived.
 */
import { html } from "./dom.js";
import { sub } from "./why.js";

const fmt = (x) => x.toFixed(3);

export function createCost(root) {
  const value = root.querySelector("[data-cost=value]");
  const caption = root.querySelector("[data-cost=caption]");
  const list = root.querySelector("[data-cost=terms]");
  const hidden = { "aria-hidden": "true" };
  const cells = Array.from({ length: 10 }, (_, j) => {
    const said = html("span", { className: "visually-hidden" });
    const bar = html("span", { className: "term-bar" });
    const want = html("span", { className: "term-want" });
    const number = html("span", { className: "term-value", attrs: hidden });
    const li = html("li", { className: "term", data: { digit: j } }, said,
      html("span", { className: "term-digit", textContent: String(j), attrs: hidden }),
      html("span", { className: "term-track", attrs: hidden }, bar, want), number);
    list.appendChild(li);
    return { li, said, bar, want, number };
  });

  return {
    /**
     * @param {{cost: number, output: number[], target: number, label: string}} what
     *   `output` is the ten activations that cost was measured on; `label` says whose
     *   (the served network, or the what-if copy after some steps).
     */
    show({ cost, output, target, label }) {
      root.hidden = false;
      value.textContent = fmt(cost);
      value.dataset.value = String(cost);
      caption.textContent = label;
      cells.forEach(({ li, said, bar, want, number }, j) => {
        const a = output[j], y = j === target ? 1 : 0;
        const term = (a - y) ** 2;
        li.dataset.term = String(term);
        li.classList.toggle("is-target", j === target);
        bar.style.height = `${Math.round(a * 100)}%`;
        want.style.bottom = `${y * 100}%`;
        number.textContent = fmt(term);
        said.textContent = `digit ${j}: a${sub(j)} = ${a.toFixed(3)}, y${sub(j)} = ${y}, ` +
          `(a${sub(j)} − y${sub(j)})² = ${fmt(term)}`;
      });
    },
    hide() {
      root.hidden = true;
    },
  };
}
