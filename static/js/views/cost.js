/**
 * The lesson's cost of one example, C = Σⱼ (aⱼ − yⱼ)², for the digit the person meant:
 * the total the server computed (`cost`, or a descent step's `cost`) and its ten terms,
 * each drawn as the output aⱼ beside its wanted value yⱼ.
 *
 * The terms are the formula applied to the ten outputs the server sent with that cost
 * (y = 1 for the target, 0 for the rest): arithmetic for display, nothing re-derived.
 */
import { sub } from "./why.js";

const fmt = (x) => x.toFixed(3);

export function createCost(root) {
  const value = root.querySelector("[data-cost=value]");
  const caption = root.querySelector("[data-cost=caption]");
  const list = root.querySelector("[data-cost=terms]");
  const cells = Array.from({ length: 10 }, (_, j) => {
    const li = document.createElement("li");
    li.className = "term";
    li.dataset.digit = String(j);
    const said = document.createElement("span");
    said.className = "visually-hidden";
    const digit = document.createElement("span");
    digit.className = "term-digit";
    digit.setAttribute("aria-hidden", "true");
    digit.textContent = String(j);
    const track = document.createElement("span");
    track.className = "term-track";
    track.setAttribute("aria-hidden", "true");
    const bar = document.createElement("span");
    bar.className = "term-bar";
    const want = document.createElement("span");
    want.className = "term-want";
    track.append(bar, want);
    const number = document.createElement("span");
    number.className = "term-value";
    number.setAttribute("aria-hidden", "true");
    li.append(said, digit, track, number);
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
