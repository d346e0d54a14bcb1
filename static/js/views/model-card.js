/**
 * What the page says about the network it runs: the accuracy badge in the header and
 * the facts line under "How this works", from GET /api/model and its model card.
 */
export function createModelCard({ badge, facts }) {
  return {
    show(model) {
      const card = model.card || {};
      const acc = Number(card.test_accuracy);
      const matrix = card.confusion_matrix;
      // The confusion matrix counts every test digit: the badge says how many were tried.
      const tested = Array.isArray(matrix) ? matrix.flat().reduce((s, x) => s + x, 0) : 10000;
      if (Number.isFinite(acc)) {
        const pct = (acc <= 1 ? acc * 100 : acc).toFixed(1);
        badge.textContent = `${pct}% right on ${tested.toLocaleString("en-US")} MNIST test digits`;
        badge.hidden = false;
      }
      const params = model.architecture && model.architecture.parameters;
      facts.textContent = `Model ${model.name}: ${params ? params.toLocaleString("en-US") : "13,002"} parameters, ` +
        `weights sha256 ${String(model.sha256).slice(0, 12)}…` +
        (Number.isFinite(acc) ? `, ${badge.textContent} (never seen in training).` : ".");
    },
  };
}
