/**
 * A row of neuron buttons, each showing the neuron's 28×28 picture and how lit it is.
 * One tab stop per gallery; arrow keys move between neurons (roving tabindex).
 * Hover, focus and click all choose a neuron: the caller decides what that shows.
 */
import { html } from "./dom.js";
import { gridCanvas, paintSigned } from "./pixels.js";

export function createGallery(root, { name, onSelect }) {
  let buttons = [];
  let current = 0;

  function focusAt(i) {
    buttons[current].tabIndex = -1;
    current = (i + buttons.length) % buttons.length;
    buttons[current].tabIndex = 0;
    buttons[current].focus();
  }

  return {
    /** `images`: one array of 784 signed values per neuron. */
    setImages(images) {
      root.replaceChildren();
      buttons = images.map((values, i) => {
        const canvas = gridCanvas("grid28");
        paintSigned(canvas, values);
        const button = html("button", {
          type: "button", className: "neuron-tile", tabIndex: i === current ? 0 : -1, data: { index: i },
          attrs: { "aria-label": `${name}, neuron ${i + 1}`, "aria-pressed": "false" },
        }, canvas, html("span", { className: "tile-label", textContent: String(i + 1) }),
        html("span", { className: "tile-meter" }, html("span")));
        button.addEventListener("click", () => onSelect(i));
        button.addEventListener("focus", () => onSelect(i));
        button.addEventListener("pointerenter", (e) => { if (e.pointerType === "mouse") onSelect(i); });
        button.addEventListener("keydown", (e) => {
          const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[e.key];
          if (step) { e.preventDefault(); focusAt(current + step); }
          else if (e.key === "Home") { e.preventDefault(); focusAt(0); }
          else if (e.key === "End") { e.preventDefault(); focusAt(buttons.length - 1); }
        });
        return button;
      });
      root.append(...buttons);
    },
    /** Activations in [0, 1] (or null): the small meter under each tile. */
    setActivations(acts) {
      buttons.forEach((b, i) => {
        const a = acts ? acts[i] : 0;
        b.querySelector(".tile-meter span").style.width = `${Math.round(a * 100)}%`;
        b.title = acts ? `activation ${a.toFixed(2)}` : "";
      });
    },
    select(i) {
      buttons.forEach((b, j) => {
        b.setAttribute("aria-pressed", String(i === j));
        if (i === j) { b.tabIndex = 0; current = j; } else b.tabIndex = -1;
      });
    },
  };
}
