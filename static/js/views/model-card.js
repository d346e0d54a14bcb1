/**
 * What the page says about the network it runs: the accuracy badge in the header and
 * the facts line under "How this works", from GET /api/model and its model card.
 */
/** What the card measured of the verdict rule, on data no choice saw ("" without it). */
function declines(verdict) {
  const measured = verdict && verdict.measured;
  const digits = measured && measured.mnist_test;
  const others = measured && measured.heldout_all;
  if (!digits || !others) return "";
  const pct = (x) => `${(x * 100).toFixed(1)}%`;
  return ` It declines ${pct(others.declined)} of ${others.n.toLocaleString("en-US")} held-out scribbles, ` +
    `noise, letters and other non-digits (unsure or not a digit), and ${pct(digits.declined)} of the real test digits.`;
}

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
      facts.textContent = `Model ${model.name}: ${model.architecture.parameters.toLocaleString("en-US")} parameters, ` +
        `weights sha256 ${String(model.sha256).slice(0, 12)}…` +
        (Number.isFinite(acc) ? `, ${badge.textContent} (never seen in training).` : ".") +
        declines(card.verdict);
    },
  };
}
