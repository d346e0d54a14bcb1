/**
 * "Why did it say that?": the Why? colours, "What did you mean?", the cost and nudges, and
 * the what-if copy's gradient steps — everything /api/explain says about the settled
 * drawing. Its own module so that main.js stays wiring: this flow has its own requests
 * (a scheduler of its own, so explaining never fights predict), its own state and its own
 * announcements, and main.js only tells it when the drawing settled or changed.
 *
 * `state` is the page's one state object. Read here: `settled` (main.js's: the drawing
 * whose answer is on screen, as sent, or null), `answer` and `model`. Written here, and
 * only here: `explanation`, `why`, `target`, `steps`, `shownStep` (documented in main.js).
 * Hooks: `explainSeq`, `explainAnswerSeq`.
 */
import * as api from "./api.js";
import { createScheduler } from "./scheduler.js";
import { createCost } from "./views/cost.js";
import { createNudges } from "./views/nudges.js";
import { createTarget } from "./views/target.js";
import { createWhatIf } from "./views/whatif.js";
import { createWhy } from "./views/why.js";

/** The most gradient steps /api/explain takes (its `steps` option, 0–50). */
const MAX_STEPS = 50;

/**
 * @param nodes  the flow's elements: `why` {button, text, note, frame}, `targets`, `cost`,
 *   `nudges` {text, list}, `whatIf` {step, ten, reset, text}, `lesson`, `empty`, `live`
 * @param network  the network view, shared with main.js: this flow paints only its overlay,
 *   nudges, highlights and what-if copy
 * @param alert  says what went wrong in the page's alert region
 */
export function createExplainFlow(nodes, { state, hooks, network, alert }) {
  const why = createWhy(nodes.why, { onToggle: toggleWhy });
  const target = createTarget(nodes.targets, { onChoose: choose });
  const cost = createCost(nodes.cost);
  const nudges = createNudges(nodes.nudges);
  const whatIf = createWhatIf(nodes.whatIf, { onSteps: takeSteps, onReset: resetSteps });

  // Explanations ask only about a settled drawing (never mid-stroke) or when the person
  // acts; the newest wins, and a new drawing cancels whatever is on its way.
  const explainer = createScheduler({
    predict: (job, signal) => api.explain(job.input, job.options, signal),
    onIssue: (n) => { hooks.explainSeq = String(n); },
    onAnswer: explained,
    onError: explainFailed,
  });

  function sync() {
    const ready = state.settled !== null;
    why.setEnabled(ready);
    target.setEnabled(ready);
    target.markAnswer(ready && state.answer ? state.answer.digit : null);
    nodes.empty.hidden = ready;
    whatIf.sync({ target: state.target, steps: state.steps, max: MAX_STEPS, enabled: ready });
  }

  function explainNow(reason) {
    if (!state.settled) return;
    explainer.now({ input: state.settled, options: { target: state.target, steps: state.steps }, reason });
  }

  function announce(text) {
    nodes.live.textContent = text;
  }

  function toggleWhy(on) {
    state.why = on;
    why.setOn(on);
    if (!on) network.setOverlay(null);
    else if (state.explanation) paintWhy(state.explanation, true);
    else explainNow("why");
  }

  function paintWhy(result, say) {
    const shown = why.show(result);
    network.setOverlay(shown ? shown.url : null);
    if (shown && say) announce(shown.sentence);
  }

  function choose(digit) {
    whatIf.stop();
    Object.assign(state, { target: digit, steps: 0, shownStep: 0 });
    network.setWhatIf(null);
    sync();
    explainNow("target");
  }

  function takeSteps(n) {
    if (state.target === null) return;
    state.steps = Math.min(MAX_STEPS, state.steps + n);
    sync();
    explainNow("steps");
  }

  /** Nothing more of the explanation on screen arrives or plays: the request on its way is
   * cancelled (and the hook counts it settled), the what-if steps stop walking. */
  function halt() {
    explainer.cancel();
    hooks.explainAnswerSeq = String(explainer.seq);
    whatIf.stop();
  }

  function resetSteps() {
    halt();
    Object.assign(state, { steps: 0, shownStep: 0 });
    const result = state.explanation;
    if (result) showStep(result, null);
    const text = result ? `Back to the served weights: the network says ${result.digit}` +
      (state.target !== null ? `, and the cost for ${state.target} is ${result.cost.toFixed(3)}.` : ".") : "";
    whatIf.say(text);
    announce(text);
    sync();
  }

  /** A descent step (or null: the served network) on the picture and in the cost. */
  function showStep(result, step) {
    state.shownStep = step ? step.step : 0;
    network.setWhatIf(step ? { output: step.output, digit: step.digit, steps: step.step } : null);
    if (state.target === null) return;
    cost.show(step
      ? { cost: step.cost, output: step.output, target: state.target,
        label: `Measured on the what-if copy after ${step.step} step${step.step === 1 ? "" : "s"}.` }
      : { cost: result.cost, output: result.output, target: state.target,
        label: "Measured on the served network: its weights, as everyone gets them." });
  }

  function whatIfSentence(result) {
    const steps = result.descent.steps;
    if (state.target === null) return "";
    if (!steps.length) {
      // The count is the served model's (GET /api/model); before that has arrived, no count.
      const params = state.model?.architecture?.parameters;
      const count = params ? `${params.toLocaleString("en-US")} ` : "";
      return `Take a step: a copy of the network moves each of its ${count}weights and biases a little downhill ` +
        `on this cost (W ← W − η ∂C/∂W, η = ${result.descent.learning_rate}), then reads your drawing again.`;
    }
    const last = steps[steps.length - 1];
    const n = last.step;
    const says = last.digit === state.target ? `says ${last.digit}, the digit you meant` : `still says ${last.digit}`;
    return `After ${n} step${n === 1 ? "" : "s"} on this drawing alone, the what-if copy ${says} ` +
      `(output ${last.digit} at ${last.output[last.digit].toFixed(2)}); the cost went from ${result.cost.toFixed(3)} ` +
      `to ${last.cost.toFixed(3)}. Only this copy changed: the network everyone shares still says ${result.digit}, ` +
      `its weights untouched.` + (n >= MAX_STEPS ? ` ${MAX_STEPS} steps is as far as the copy goes here.` : "");
  }

  function explained(result, job, mine) {
    state.explanation = result;
    if (state.why) paintWhy(result, job.reason === "why");
    const done = () => {
      const sentence = whatIfSentence(result);
      whatIf.say(sentence);
      if (job.reason === "steps") announce(sentence);
      hooks.explainAnswerSeq = String(mine);
    };
    if (state.target === null) { done(); return; }
    nodes.lesson.hidden = false;
    nudges.show(result);
    network.setNudges(result.nudges);
    network.setHighlights(result.top_weights);
    if (job.reason === "target") {
      announce(`You meant ${state.target}: the cost of this drawing is ${result.cost.toFixed(3)}. ` +
        `Output ${state.target} wants to go up; the marks on the network show how every neuron wants to be nudged.`);
    }
    const steps = result.descent.steps;
    if (steps.length === 0) { showStep(result, null); done(); return; }
    // Walk through the steps not yet on screen (a request for more starts where it is).
    const from = state.shownStep <= steps.length ? state.shownStep : 0;
    if (from === steps.length) { showStep(result, steps[from - 1]); done(); return; }
    whatIf.play(steps, from, (step) => showStep(result, step), done);
  }

  function explainFailed(err, job, mine) {
    alert(`The network's explanation could not be loaded: ${err.message}`);
    hooks.explainAnswerSeq = String(mine);
  }

  return {
    /** The drawing's answer is on screen (`state.settled` is set): Why? paints it if on. */
    settled() {
      sync();
      if (state.why) explainNow("settled");
    },
    /** The drawing changed or is gone: everything explained about the old one goes; Why? stays on. */
    forget() {
      halt();
      Object.assign(state, { explanation: null, target: null, steps: 0, shownStep: 0 });
      why.clear();
      target.set(null);
      network.setOverlay(null);
      network.setNudges(null);
      network.setHighlights(null);
      network.setWhatIf(null);
      nudges.clear();
      nodes.lesson.hidden = true;
      whatIf.say("");
      sync();
    },
  };
}
