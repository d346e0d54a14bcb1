/**
 * Backpropagation in words: which way the neurons "want" to be nudged (the server's
 * `nudges` = −∂C/∂a), and the ten weights the cost is most sensitive to (`top_weights`,
 * largest |∂C/∂w| first), listed with their numbers. The network picture marks the same
 * things (views/network.js); this is the readable, exact version of it.
 *
 * Picks only what to mention (the largest wishes); every number is the server's.
 */
import { html } from "./dom.js";

const LAYER_NAMES = { hidden1: "hidden layer 1", hidden2: "hidden layer 2" };

/** A signed number with a real minus sign, 3 significant digits. */
export function signed(x) {
  const text = Math.abs(x).toPrecision(3).replace(/e([+-])(\d+)$/, (_, s, d) => `e${s === "-" ? "−" : ""}${d}`);
  return `${x < 0 ? "−" : "+"}${text}`;
}

const plain = (x) => signed(x).replace(/^\+/, "");

function strongest(values) {
  let best = 0;
  values.forEach((v, i) => { if (Math.abs(v) > Math.abs(values[best])) best = i; });
  return best;
}

const way = (v) => (v >= 0 ? "up" : "down");

/** "Output 7 wants to go up (+1.86) …": the largest wishes, layer by layer. */
export function nudgeSentence(result) {
  const out = result.nudges.output;
  const t = result.target;
  let down = -1;
  out.forEach((v, j) => { if (j !== t && (down < 0 || v < out[down])) down = j; });
  const parts = [`Output ${t} wants to go ${way(out[t])} (${signed(out[t])})` +
    (down >= 0 ? `, and output ${down} ${way(out[down])} the most of the other nine (${signed(out[down])}).` : ".")];
  const back = ["hidden2", "hidden1"].map((name) => {
    const v = result.nudges[name];
    const i = strongest(v);
    return `in ${LAYER_NAMES[name]}, neuron ${i + 1} ${way(v[i])} (${signed(v[i])})`;
  });
  parts.push(`Passed back through the weights, the strongest wishes are ${back.join("; ")}.`);
  return parts.join(" ");
}

/** Where a weight runs, in the page's own names (hidden neurons from 1, outputs by digit). */
export function weightName({ layer, to, from }) {
  if (layer === 1) {
    return `pixel (row ${Math.floor(from / 28) + 1}, column ${(from % 28) + 1}) → hidden 1 neuron ${to + 1}`;
  }
  if (layer === 2) return `hidden 1 neuron ${from + 1} → hidden 2 neuron ${to + 1}`;
  return `hidden 2 neuron ${from + 1} → output ${to}`;
}

export function createNudges({ text, list }) {
  return {
    show(result) {
      text.textContent = nudgeSentence(result);
      list.replaceChildren(...result.top_weights.map((w) => {
        // W ← W − η ∂C/∂W: a step moves each weight against its gradient.
        const numbers = `w = ${plain(w.weight)}, ∂C/∂w = ${plain(w.gradient)}: ` +
          `a step ${w.gradient < 0 ? "raises" : "lowers"} it`;
        return html("li", { data: { layer: w.layer } },
          html("span", { className: "tw-where", textContent: `Layer ${w.layer}: ${weightName(w)}` }),
          html("span", { className: "tw-numbers", textContent: numbers }));
      }));
    },
    clear() {
      text.textContent = "";
      list.replaceChildren();
    },
  };
}
