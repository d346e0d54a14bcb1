/**
 * What the inspector says about one neuron, and which of the model's numbers go with it.
 * The words differ by layer because the pictures mean different things: layer 1's is its
 * own 784 weights, the others' are weights passed back through the layers below.
 */
const ACTIVATIONS = ["hidden1", "hidden2", "output"];

/**
 * @param {object} model    GET /api/model plus `images` (weights.js `neuronImages`)
 * @param {object|null} acts  the answer's activations, or null while nothing is drawn
 * @param {number} layer    1 and 2 are the hidden layers, 3 the output layer
 * @param {number} i        the neuron's index in its layer
 * @returns what views/neuron.js `show` takes
 */
export function explainNeuron(model, acts, layer, i) {
  const common = {
    layer, index: i,
    image: model.images[layer - 1][i],
    input: acts ? acts.input : null,
    activation: acts ? acts[ACTIVATIONS[layer - 1]][i] : null,
    bias: model.layers[layer - 1].biases[i],
  };
  if (layer === 1) {
    return { ...common,
      title: `Hidden layer 1 · neuron ${i + 1}`,
      imageCaption: "its 784 weights",
      lede: "One weight per input pixel. Ink on blue pixels raises its activation, ink on red pixels lowers it; " +
        "the bias sets how much ink it takes to light up.",
      incoming: null };
  }
  if (layer === 2) {
    return { ...common,
      title: `Hidden layer 2 · neuron ${i + 1}`,
      imageCaption: "W2·W1: what it responds to",
      lede: "It sees only the 16 neurons of layer 1. Passing its 16 weights back through layer 1's weights " +
        "shows roughly which pixels it likes (ignoring the sigmoids in between).",
      incoming: { label: "its 16 weights from layer 1 (faded = that neuron is dark now)",
        weights: model.layers[1].weights[i], activations: acts ? acts.hidden1 : null } };
  }
  return { ...common,
    title: `Output neuron ${i}`,
    imageCaption: "W3·W2·W1: its idea of a " + i,
    lede: `Lit when the input looks like a ${i}. Its 16 weights from layer 2, passed back through both ` +
      "hidden layers, give a rough picture of what it looks for (ignoring the sigmoids).",
    incoming: { label: "its 16 weights from layer 2 (faded = that neuron is dark now)",
      weights: model.layers[2].weights[i], activations: acts ? acts.hidden2 : null } };
}
