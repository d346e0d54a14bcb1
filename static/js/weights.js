/**
 * Arranging the model's weights into pictures (display only, no inference).
 *
 * `neuronImages(layers)` gives every neuron a 784-value picture in input space: layer 1's
 * own weights, W2·W1 for layer 2, W3·W2·W1 for the outputs. The products skip the
 * sigmoids, which is why the page calls them "roughly what it responds to".
 */

/** The matrix product A·B, rows = neurons of the next layer. */
function composeRows(a, b) {
  const cols = b[0].length;
  return a.map((row) => {
    const out = new Float64Array(cols);
    row.forEach((w, k) => {
      const bk = b[k];
      for (let c = 0; c < cols; c++) out[c] += w * bk[c];
    });
    return Array.from(out);
  });
}

/** `layers` as in GET /api/model: [{weights, biases}] × 3 → per layer, one picture per neuron. */
export function neuronImages([l1, l2, l3]) {
  const w21 = composeRows(l2.weights, l1.weights);
  return [l1.weights, w21, composeRows(l3.weights, w21)];
}
