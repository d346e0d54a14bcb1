/**
 * Look inside one neuron: what it looks for in input space (a 28×28 of weights, blue +,
 * red −), what of that the current input supplies (weights × input), and its numbers.
 *
 * Handed everything: the 784 values to show, the input, the server's activation.
 */
import { html } from "./dom.js";
import { gridCanvas, maxAbs, paintInk, paintSigned, rgb, NEGATIVE, POSITIVE } from "./pixels.js";

export function createNeuronView(root) {
  const title = root.querySelector("[data-neuron=title]");
  const lede = root.querySelector("[data-neuron=lede]");
  const numbers = root.querySelector("[data-neuron=numbers]");
  const weightsBox = root.querySelector("[data-neuron=weights]");
  const productBox = root.querySelector("[data-neuron=product]");
  const weightsCap = root.querySelector("[data-neuron=weights-caption]");
  const productCap = root.querySelector("[data-neuron=product-caption]");
  const incomingBox = root.querySelector("[data-neuron=incoming]");

  const weightsCanvas = gridCanvas("grid28 big");
  weightsCanvas.setAttribute("role", "img");
  weightsCanvas.dataset.view = "neuron-weights";
  const productCanvas = gridCanvas("grid28 big");
  productCanvas.setAttribute("role", "img");
  weightsBox.appendChild(weightsCanvas);
  productBox.appendChild(productCanvas);

  function paintIncoming(incoming) {
    incomingBox.replaceChildren();
    incomingBox.hidden = !incoming;
    if (!incoming) return;
    const max = maxAbs(incoming.weights) || 1;
    const row = html("div", { className: "incoming-bars", attrs: { role: "img", "aria-label": `${incoming.label}: ` +
      incoming.weights.map((w, i) => `${i + 1}: ${w.toFixed(2)}`).join(", ") } });
    incoming.weights.forEach((w, i) => {
      const bar = html("span", { className: "incoming-bar", title: `from neuron ${i + 1}: weight ${w.toFixed(2)}` });
      // Heights and colours come from data, so they are set through the CSSOM (CSP-safe).
      bar.style.height = `${Math.max(4, (Math.abs(w) / max) * 100)}%`;
      bar.style.background = rgb(w >= 0 ? POSITIVE : NEGATIVE);
      bar.style.opacity = String(0.35 + 0.65 * (incoming.activations ? incoming.activations[i] : 1));
      row.appendChild(bar);
    });
    incomingBox.append(html("p", { className: "incoming-label", textContent: incoming.label }), row);
  }

  return {
    /**
     * @param {object} n
     * @param {string} n.title        "Hidden layer 1 · neuron 5"
     * @param {string} n.lede         one sentence on what the picture means
     * @param {number[]} n.image      784 signed values: the neuron's view of input space
     * @param {string} n.imageCaption
     * @param {number[]|null} n.input the 28×28 the network was fed, or null
     * @param {number|null} n.activation from the server
     * @param {number} n.bias
     * @param {{label: string, weights: number[], activations?: number[]}|null} n.incoming
     */
    show(n) {
      root.hidden = false;
      root.dataset.layer = n.layer;
      root.dataset.index = n.index;
      title.textContent = n.title;
      lede.textContent = n.lede;
      paintSigned(weightsCanvas, n.image);
      weightsCanvas.setAttribute("aria-label", `${n.imageCaption} of ${n.title}, blue positive, red negative`);
      weightsCap.textContent = n.imageCaption;
      if (n.input) {
        const product = n.image.map((w, i) => w * n.input[i]);
        // Its own scale: most of the product is zero (no ink), so use the largest values.
        paintSigned(productCanvas, product, maxAbs(product) * 0.8);
        productCap.textContent = "× your input: what lights it now";
        productCanvas.setAttribute("aria-label", `${n.imageCaption} multiplied by the current input`);
      } else {
        paintInk(productCanvas, null);
        productCap.textContent = "× your input (draw something)";
        productCanvas.setAttribute("aria-label", "nothing drawn yet");
      }
      const act = n.activation === null ? "—" : n.activation.toFixed(2);
      numbers.textContent = `activation ${act} · bias ${n.bias.toFixed(2)}`;
      paintIncoming(n.incoming);
    },
  };
}
