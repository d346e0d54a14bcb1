/**
 * "Watch it learn": the snapshots of the training run that made the network, one at a
 * time. A slider (native range input: arrows, Home/End, PageUp/PageDown) and a Play/Pause
 * button choose the snapshot; the card shows, for it, the cost curve with a cursor, the
 * test accuracy, where it was in the run, the 16 first-layer weight images, and the ten
 * outputs it gives the drawing on the pad (the server's answer with `checkpoint`).
 *
 * Loaded by learn-flow.js only when the card is first opened. Computes nothing about digits:
 * every number is from GET /api/training, GET /api/training/<id> or /api/predict; here
 * they become words, bars and pixels. Asking is learn-flow.js's: `onPick(id, how)` with `how`
 * "drag" (the slider moved: by a key or a pointer) or "play".
 */
import { createCurve } from "./curve.js";
import { html } from "./dom.js";
import { verdictText } from "./outputs.js";
import { gridCanvas, paintSigned } from "./pixels.js";

/** Time a snapshot stays on screen while playing, once it is drawn. */
const PLAY_MS = 650;

const count = (n) => n.toLocaleString("en-US");
const percent = (x) => `${(x * 100).toFixed(1)}%`;

/** Where in the run a snapshot is, from its examples_seen and epoch. */
export function whereInTheRun({ examples_seen: seen, epoch }) {
  if (seen === 0) return "Before any training: the random weights the run started from";
  const passes = epoch < 1
    ? `${Number((epoch * 100).toPrecision(2))}% of the first pass over the training set`
    : `${epoch.toFixed(1)} passes over the training set`;
  return `After ${count(seen)} training example${seen === 1 ? "" : "s"} (${passes})`;
}

/** What the live region says about a snapshot (and what it makes of the drawing). */
export function sentence(record, answer) {
  const when = record.examples_seen === 0 ? "Before any training" : `After ${count(record.examples_seen)} examples`;
  const text = `${when}: ${percent(record.test_accuracy)} right on the test digits.`;
  return answer ? `${text} Your drawing: ${verdictText(answer)}.` : text;
}

export function createLearning(nodes, { onPick }) {
  const { body, slider, play, when, accuracy, curveSvg, weights, verdict, outputs, live, message } = nodes;
  const curve = createCurve(curveSvg);
  let run = null;
  let playing = false;
  let timer = 0;
  let shown = -1;      // the snapshot on screen
  let lastAnswer = null;  // what it made of the drawing (null: no drawing)

  const tiles = Array.from({ length: 16 }, (_, i) => {
    const canvas = gridCanvas("grid28");
    canvas.dataset.neuron = String(i);
    weights.appendChild(canvas);
    return canvas;
  });
  const rows = Array.from({ length: 10 }, (_, j) => {
    const bar = html("span", { className: "learn-out-bar" });
    const value = html("span", { className: "learn-out-value" });
    const li = html("li", { className: "learn-out", data: { digit: j } },
      html("span", { className: "learn-out-digit", textContent: String(j) }),
      html("span", { className: "learn-out-track", attrs: { "aria-hidden": "true" } }, bar), value);
    outputs.appendChild(li);
    return { li, bar, value };
  });

  function stop() {
    clearTimeout(timer);
    timer = 0;
    if (!playing) return;
    playing = false;
    play.textContent = "Play";
  }

  function valueText(id) {
    const record = run.checkpoints[id];
    return `snapshot ${id + 1} of ${run.checkpoints.length}, ` +
      (record.examples_seen === 0 ? "before any training" : `after ${count(record.examples_seen)} examples`);
  }

  function moved(how) {
    const id = Number(slider.value);
    slider.setAttribute("aria-valuetext", valueText(id));
    onPick(id, how);
  }

  // A key press fires "input" and "change" together, a drag many "input"s then one
  // "change": asking on "input" alone (throttled by learn-flow.js, the newest always sent last)
  // asks once per key and a few times per drag.
  slider.addEventListener("input", () => { stop(); moved("drag"); });
  play.addEventListener("click", () => {
    if (playing) {
      stop();
      if (shown >= 0) live.textContent = sentence(run.checkpoints[shown], lastAnswer);
      return;
    }
    playing = true;
    play.textContent = "Pause";
    const last = run.checkpoints.length - 1;
    if (Number(slider.value) >= last) slider.value = "0";
    moved("play");
  });

  return {
    /** GET /api/training's answer: the slider's range, the curve. */
    setRun(r) {
      run = r;
      slider.min = "0";
      slider.max = String(run.checkpoints.length - 1);
      slider.step = "1";
      slider.setAttribute("aria-valuetext", valueText(Number(slider.value)));
      slider.disabled = false;
      play.disabled = false;
      curve.setRun(run);
      body.hidden = false;
      message.textContent = "";
    },
    /**
     * Snapshot `id` on screen: `layers` from GET /api/training/<id>, `answer` the
     * /api/predict answer with `checkpoint: id` for the drawing on the pad (null: none).
     */
    show({ id, layers, answer }) {
      const record = run.checkpoints[id];
      const last = run.checkpoints.length - 1;
      shown = id;
      lastAnswer = answer;
      body.dataset.snapshot = String(id);
      curve.setCursor(id);
      when.textContent = `Snapshot ${id + 1} of ${last + 1}. ${whereInTheRun(record)}.` +
        (id === last ? " This is the network you draw on." : "");
      accuracy.textContent = `${percent(record.test_accuracy)} right on the MNIST test digits`;
      accuracy.dataset.value = String(record.test_accuracy);
      layers[0].weights.forEach((w, i) => paintSigned(tiles[i], w));
      if (answer) {
        verdict.textContent = `As this snapshot reads your drawing: ${verdictText(answer)}.`;
        rows.forEach(({ li, bar, value }, j) => {
          const a = answer.output[j];
          li.dataset.output = String(a);
          li.classList.toggle("is-answer", j === answer.digit);
          bar.style.width = `${(a * 100).toFixed(1)}%`;
          value.textContent = a.toFixed(2);
        });
        outputs.hidden = false;
      } else {
        verdict.textContent = "Draw a digit (or try an example) to see what each snapshot makes of it.";
        outputs.hidden = true;
      }
      message.textContent = "";
      if (!playing) { live.textContent = sentence(record, answer); return; }
      if (id >= last) { stop(); live.textContent = sentence(record, answer); return; }
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (!playing) return;
        slider.value = String(id + 1);
        moved("play");
      }, PLAY_MS);
    },
    /** The drawing is gone or changing: what a snapshot made of the old one is not shown. */
    forgetAnswer() {
      lastAnswer = null;
      outputs.hidden = true;
      verdict.textContent = "";
    },
    /** Something went wrong: say it in the card; the controls stay as they are. */
    fail(text) {
      stop();
      message.textContent = text;
    },
    /** No training run to show (the server has no snapshots): say why, offer nothing. */
    unavailable(text) {
      stop();
      body.hidden = true;
      message.textContent = text;
    },
  };
}
