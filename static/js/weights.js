/**
 * Arranging the model's weights into pictures (display only, no inference).
 *
 * `composeRows(A, B)` is the matrix product A·B with rows = neurons: for layer 2,
 * `composeRows(W2, W1)` gives each neuron's 784-value picture in input space. It skips
 * the sigmoids, which is why the page calls it "roughly what it responds to".
 */
export function composeRows(a, b) {
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
