/**
 * The verdict in words: the live status line ("Looks like a 7 (97%)"), a detail line
 * with the numbers behind it, for an MNIST example whether the network was right, and
 * the alert when something went wrong.
 *
 * Handed the server's answer; the verdict is the server's (`verdict`: "digit", "unsure" or
 * "not-a-digit", with `runner_up`), never re-derived here.
 */

/** Sigmoid outputs never reach 1: "100%" would claim a certainty the network cannot have. */
const percent = (x) => `${Math.min(Math.round(x * 100), 99)}%`;

/** The sentence announced to screen readers and shown as the headline. */
export function verdictText(answer) {
  if (answer.verdict === "not-a-digit") return "That doesn't look like a digit";
  if (answer.verdict === "unsure") return `Maybe a ${answer.digit} — or a ${answer.runner_up}`;
  return `Looks like a ${answer.digit} (${percent(answer.confidence)})`;
}

/** The numbers behind the verdict, in one sentence. */
function detailText(answer) {
  const out = answer.output;
  const at = (d) => `output ${d} at ${out[d].toFixed(2)}`;
  if (answer.verdict === "not-a-digit") {
    return `No output neuron lights up: the strongest is ${at(answer.digit)}. ` +
      "The network was taught to answer no on all ten for scribbles, noise and letters.";
  }
  if (answer.verdict === "unsure") return `The network is not sure: ${at(answer.digit)}, ${at(answer.runner_up)}.`;
  return `Output neuron ${answer.digit} is the brightest at ${out[answer.digit].toFixed(2)}; ` +
    `next is ${answer.runner_up} at ${out[answer.runner_up].toFixed(2)}.`;
}

/**
 * @param {{status: HTMLElement, detail: HTMLElement, example: HTMLElement, alert: HTMLElement}} nodes
 *   status is the role="status" region: it holds exactly the verdict or nothing;
 *   alert is the role="alert" region, for what went wrong, emptied by the next verdict.
 */
export function createOutputs({ status, detail, example, alert: alertBox }) {
  function set(node, text, state = "") {
    if (node.textContent !== text) node.textContent = text;
    node.dataset.state = state;
  }

  return {
    show(answer) {
      alertBox.textContent = "";
      set(status, verdictText(answer), answer.verdict);
      set(detail, detailText(answer));
    },
    /** A speck or a dot: said quietly, it is not an error. */
    showNothing() {
      alertBox.textContent = "";
      set(status, "Nothing to recognize yet", "nothing");
      set(detail, "Keep drawing: a digit needs a few strokes of ink.");
    },
    clear() {
      alertBox.textContent = "";
      set(status, "");
      set(detail, "Draw a digit from 0 to 9 in the box. The network answers as you draw.");
      set(example, "");
    },
    /** `label` is MNIST's; `answer.digit` is the network's. */
    showExample(ex, answer) {
      const which = `MNIST test digit #${ex.index}, labelled ${ex.label}`;
      const [said, state] =
        answer.verdict === "not-a-digit" ? [`did not take it for a digit (its strongest output is ${answer.digit})`, "wrong"]
        : answer.digit === ex.label ? ["got it right", "right"]
        : [`got it wrong (it said ${answer.digit})`, "wrong"];
      set(example, `${which}: the network ${said}.`, state);
    },
    clearExample() {
      set(example, "");
    },
    /** A sentence saying what went wrong (the server's problem detail, or ours). */
    alert(message) {
      alertBox.textContent = message;
    },
  };
}
