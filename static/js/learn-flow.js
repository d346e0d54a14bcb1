/**
 * "Watch it learn": the training run's snapshots, one at a time, and what each makes of
 * the settled drawing. Its own module so that main.js stays wiring: the card has its own
 * requests (a scheduler of its own, throttled while the slider moves) and its own state.
 * main.js imports it, and it views/learning.js (and curve.js), only when the card is first
 * opened, when it asks GET /api/training: the first screen carries none of the card.
 *
 * `state` is the page's one state object. Read here: `model` (its sha256 pins the
 * snapshots) and `settled` (main.js's: the drawing whose answer is on screen, or null).
 * Written here, and only here: `run`, `snapshot` (documented in main.js).
 * Hooks: `learn`, `learnSeq`, `learnAnswerSeq`.
 */
import * as api from "./api.js";
import { createScheduler } from "./scheduler.js";
import { html } from "./views/dom.js";

/** Adds the card's stylesheet and waits for it, so the card never shows unstyled. */
function stylesheet(href) {
  return new Promise((resolve, reject) => {
    const link = html("link", { rel: "stylesheet", href: String(href) });
    link.addEventListener("load", resolve);
    link.addEventListener("error", () => reject(new Error("its stylesheet could not be loaded")));
    document.head.appendChild(link);
  });
}

/**
 * @param nodes  `details` (the card's <details>) and the nodes views/learning.js is handed
 * @param alert  says what went wrong while the card's own view could not be loaded
 */
export function createLearnFlow({ details, ...viewNodes }, { state, hooks, alert }) {
  let learning = null; // views/learning.js's view, once the card has been opened
  let opening = false;
  let styled = null;   // the stylesheet's load, once (a retry after a failed import adds no second <link>)

  // One snapshot at a time: its weights and, when there is a settled drawing, that
  // snapshot's answer to it. Newest wins; throttled while the slider is dragged.
  const learner = createScheduler({
    predict: askSnapshot,
    onIssue: (n) => { hooks.learnSeq = String(n); },
    onAnswer: learned,
    onError: learnFailed,
    throttleMs: 150,
  });

  details.addEventListener("toggle", open);
  open(); // made when the card was first opened: that toggle has been and gone

  /** The first time the card is opened (and again after a failure): the view, then the run. */
  async function open() {
    if (!details.open || state.run || opening) return;
    opening = true;
    try {
      if (!learning) {
        styled ??= stylesheet(new URL("../css/learn.css", import.meta.url)).catch((err) => { styled = null; throw err; });
        await styled;
        const { createLearning } = await import("./views/learning.js");
        learning = createLearning(viewNodes, { onPick: pick });
      }
      state.run = await api.getTraining();
    } catch (err) {
      const text = `The training run cannot be shown: ${err.message}`;
      if (learning) learning.unavailable(text); else alert(text);
      hooks.learn = "unavailable";
      return;
    } finally {
      opening = false;
    }
    learning.setRun(state.run);
    hooks.learn = "ready";
    pick(state.snapshot, "settle");
  }

  /** `how`: "drag" when the slider moves (throttled, the newest sent last), else at once. */
  function pick(id, how) {
    state.snapshot = id;
    const job = () => ({ id, model: state.model ? state.model.sha256 : null, input: state.settled });
    if (how === "drag") learner.soon(job);
    else learner.now(job());
  }

  async function askSnapshot(job, signal) {
    const [snapshot, answer] = await Promise.all([
      api.getSnapshot(job.id, job.model, signal),
      job.input ? api.predict({ ...job.input, checkpoint: job.id }, signal) : null,
    ]);
    return { snapshot, answer };
  }

  function learned(result, job, mine) {
    learning.show({ id: job.id, layers: result.snapshot.layers, answer: result.answer });
    hooks.learnAnswerSeq = String(mine);
  }

  function learnFailed(err, job, mine) {
    learning.fail(`Snapshot ${job.id + 1} could not be loaded: ${err.message}`);
    hooks.learnAnswerSeq = String(mine);
  }

  /** Ask again for the snapshot on screen: the drawing it reads has changed (or gone). */
  function relearn() {
    if (state.run) pick(state.snapshot, "settle");
  }

  return {
    /** A drawing's answer is on screen (`state.settled` is set): the snapshot reads it. */
    settled: relearn,
    /** The drawing changed or is gone: what the snapshot made of the old one leaves the card. */
    forget() {
      if (learning) learning.forgetAnswer();
      relearn();
    },
  };
}
