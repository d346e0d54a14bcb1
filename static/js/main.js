/**
 * Wiring: drawing surface → API → views. Holds the little state the page has (the
 * request in flight, the last answer, the chosen neuron) and no maths beyond arranging
 * the model's weights into pictures.
 *
 * Hooks for tests and bench/page_latency.py, on document.body.dataset:
 *   seq           the number of the newest request (bumped when one is superseded)
 *   answerSeq     the request whose answer is fully on screen (every view), or at once
 *                 for an empty canvas, a speck or an error; equal to `seq` when settled.
 *                 The performance mark "answer-rendered" {detail: {seq}} is made earlier,
 *                 on the animation frame that first draws the verdict, network and bars.
 *   strokeEndSeq  the request sent when the last stroke ended
 *   model         "ready" once GET /api/model is drawn
 */
import * as api from "./api.js";
import { createDrawing } from "./draw.js";
import { createScheduler } from "./scheduler.js";
import { createGallery } from "./views/gallery.js";
import { createNetwork } from "./views/network.js";
import { explainNeuron } from "./views/neuron-text.js";
import { createNeuronView } from "./views/neuron.js";
import { createOutputs } from "./views/outputs.js";
import { paintInk } from "./views/pixels.js";
import { createPreprocess } from "./views/preprocess.js";
import { composeRows } from "./weights.js";

const THROTTLE_MS = 100;
const $ = (id) => document.getElementById(id);

const pad = $("pad");
const drawing = createDrawing(pad);
const outputs = createOutputs({ status: $("status"), detail: $("detail"), example: $("example-result") });
const preprocess = createPreprocess($("steps"));
const neuronView = createNeuronView($("inspector"));
const network = createNetwork($("network"), { onSelect: select });
const gallery1 = createGallery($("gallery1"), { name: "Hidden layer 1", onSelect: (i) => select(1, i) });
const gallery2 = createGallery($("gallery2"), { name: "Hidden layer 2", onSelect: (i) => select(2, i) });
const alertBox = $("alert");
const exampleView = $("example-view");

let model = null;        // GET /api/model, plus `images`: per layer, 784-value pictures per neuron
let answer = null;       // the answer on screen, or null
let example = null;      // the MNIST example on screen, or null while drawing
let selected = [1, 0];   // [layer, index] shown in the inspector

// --- predictions: at most one request in flight; the newest always wins -----------------

const scheduler = createScheduler({
  predict: (job, signal) => api.predict(job.input, signal),
  onIssue: (n) => { document.body.dataset.seq = String(n); },
  onAnswer: (result, job, mine) => render(result, job.context, mine),
  onError: failed,
  throttleMs: THROTTLE_MS,
});

/** Test and benchmark hook: the request whose answer (or error) is on screen. */
function settled(n) {
  document.body.dataset.answerSeq = String(n);
}

/** Extent of all ink so far, in CSS px: below MIN_EXTENT there is nothing to ask about yet. */
const MIN_EXTENT = 8;
function extent(strokes) {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const s of strokes) for (const [x, y] of s) {
    x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
  }
  return Math.max(x1 - x0, y1 - y0);
}

/** During a stroke: throttled by the scheduler. */
function predictSoon() {
  // The first pixels of a first stroke are a speck: don't ask yet (the end of the
  // stroke always asks, and the server decides what is too small).
  if (extent(drawing.strokes) < MIN_EXTENT) return;
  scheduler.soon(drawingJob);
}

/** Now, superseding anything in flight (end of a stroke, undo, redo). */
function predictNow() {
  scheduler.cancel();
  if (drawing.isEmpty) showEmpty();
  else scheduler.now(drawingJob());
}

function drawingJob() {
  const size = drawing.size;
  const input = {
    strokes: drawing.strokes,
    width: Math.round(size.width * 10) / 10,
    height: Math.round(size.height * 10) / 10,
  };
  return { input, context: { canvas: pad, size, pen: drawing.penWidth } };
}

function failed(err, job, mine) {
  // Mid-stroke, a speck is just the start of a digit: stay quiet until the pen lifts.
  if (err.code === "empty-drawing") {
    if (drawing.isDrawing) forget(); else showNothing();
  }
  else showError(err.message);
  settled(mine);
}

function render(result, context, mine) {
  answer = result;
  alertBox.textContent = "";
  outputs.show(result);
  network.show(result.activations, result.digit);
  if (example) outputs.showExample(example, result);
  describeNetwork(result);
  // The answer's first frame is on screen when this runs (views draw on the same frame);
  // the strip, galleries and inspector follow right after, off the critical path.
  requestAnimationFrame(() => {
    performance.mark("answer-rendered", { detail: { seq: mine } });
    setTimeout(() => {
      if (mine !== scheduler.seq) return; // superseded: the newer answer will draw these
      preprocess.show({ ...context, info: result.preprocessing, input: result.activations.input });
      gallery1.setActivations(result.activations.hidden1);
      gallery2.setActivations(result.activations.hidden2);
      inspect();
      if (model && result.model && result.model.sha256 !== model.sha256) loadModel(); // weights changed under us
      settled(mine);
    });
  });
}

function forget() {
  answer = null;
  network.show(null);
  preprocess.clear();
  gallery1.setActivations(null);
  gallery2.setActivations(null);
  describeNetwork(null);
  inspect();
}

function showEmpty() {
  forget();
  outputs.clear();
  alertBox.textContent = "";
  settled(scheduler.seq);
}

function showNothing() {
  forget();
  outputs.showNothing();
  alertBox.textContent = "";
}

function showError(message) {
  alertBox.textContent = message;
}

function describeNetwork(result) {
  $("network").setAttribute("aria-label", result
    ? `The network: output ${result.digit} is the brightest at ${result.output[result.digit].toFixed(2)}, ` +
      `output ${result.runner_up} next at ${result.output[result.runner_up].toFixed(2)}.`
    : "The network: 784 inputs, two hidden layers of 16 neurons, 10 outputs. Nothing drawn yet.");
}

// --- the drawing surface -------------------------------------------------------------

function leaveExample() {
  if (!example) return;
  example = null;
  exampleView.hidden = true;
  outputs.clearExample();
}

function syncButtons() {
  $("undo").disabled = !drawing.canUndo;
  $("redo").disabled = !drawing.canRedo;
  $("clear").disabled = (drawing.isEmpty && !example) || drawing.isDrawing;
  $("pad-hint").hidden = !drawing.isEmpty || Boolean(example);
}

drawing.events.addEventListener("strokestart", () => {
  if (example) { leaveExample(); scheduler.cancel(); }
  syncButtons();
});
drawing.events.addEventListener("strokemove", predictSoon);
drawing.events.addEventListener("strokeend", () => {
  syncButtons();
  predictNow();
  document.body.dataset.strokeEndSeq = String(scheduler.seq);
});
drawing.events.addEventListener("change", () => {
  leaveExample();
  syncButtons();
  predictNow();
});

$("undo").addEventListener("click", () => drawing.undo());
$("redo").addEventListener("click", () => drawing.redo());
$("clear").addEventListener("click", clear);

/** Clear the drawing (undoable), or put away the MNIST example on show. */
function clear() {
  if (example && drawing.isEmpty) {
    leaveExample();
    scheduler.cancel();
    showEmpty();
    syncButtons();
  } else drawing.clear();
}

document.addEventListener("keydown", (event) => {
  if (event.target instanceof HTMLElement && event.target.closest("input, select, textarea")) return;
  const mod = event.ctrlKey || event.metaKey;
  const key = event.key.toLowerCase();
  let handled = true;
  if (mod && key === "z" && !event.shiftKey) drawing.undo();
  else if ((mod && key === "z" && event.shiftKey) || (event.ctrlKey && key === "y")) drawing.redo();
  else if (key === "escape" && !mod) clear();
  else handled = false;
  if (handled) event.preventDefault();
});

// --- MNIST examples ------------------------------------------------------------------

$("example").addEventListener("click", async () => {
  const button = $("example");
  button.disabled = true;
  try {
    const ex = await api.getExample($("example-digit").value || null);
    drawing.clear();                         // undoable: Undo brings the drawing back
    scheduler.cancel();
    example = ex;
    paintInk(exampleView, ex.pixels);
    exampleView.hidden = false;
    syncButtons();
    outputs.clearExample();
    await scheduler.now({ input: { pixels: ex.pixels }, context: { pixels: ex.pixels } });
  } catch (err) {
    if (err.name !== "AbortError") showError(err.message);
  } finally {
    button.disabled = false;
  }
});

// --- the model and the neuron inspector ----------------------------------------------

function select(layer, index) {
  selected = [layer, index];
  network.select(layer, index);
  gallery1.select(layer === 1 ? index : -1);
  gallery2.select(layer === 2 ? index : -1);
  inspect();
}

function inspect() {
  if (!model) return;
  neuronView.show(explainNeuron(model, answer ? answer.activations : null, ...selected));
}

function describeModel(m) {
  const card = m.card || {};
  const acc = Number(card.test_accuracy);
  const matrix = card.confusion_matrix;
  const tested = Array.isArray(matrix) ? matrix.flat().reduce((s, x) => s + x, 0) : 10000;
  const badge = $("accuracy");
  if (Number.isFinite(acc)) {
    const pct = (acc <= 1 ? acc * 100 : acc).toFixed(1);
    badge.textContent = `${pct}% right on ${tested.toLocaleString("en-US")} MNIST test digits`;
    badge.hidden = false;
  }
  const params = m.architecture && m.architecture.parameters;
  $("model-facts").textContent = `Model ${m.name}: ${params ? params.toLocaleString("en-US") : "13,002"} parameters, ` +
    `weights sha256 ${String(m.sha256).slice(0, 12)}…` +
    (Number.isFinite(acc) ? `, ${badge.textContent} (never seen in training).` : ".");
}

async function loadModel() {
  try {
    const m = await api.getModel();
    const [l1, l2, l3] = m.layers;
    const w21 = composeRows(l2.weights, l1.weights);
    m.images = [l1.weights, w21, composeRows(l3.weights, w21)];
    model = m;
    network.setModel(m.layers);
    gallery1.setImages(m.images[0]);
    gallery2.setImages(m.images[1]);
    if (answer) {
      gallery1.setActivations(answer.activations.hidden1);
      gallery2.setActivations(answer.activations.hidden2);
    }
    describeModel(m);
    select(...selected);
    document.body.dataset.model = "ready";
  } catch (err) {
    showError(`The network's weights could not be loaded: ${err.message}`);
  }
}

document.body.dataset.seq = String(scheduler.seq);
settled(scheduler.seq);
syncButtons();
outputs.clear();
preprocess.clear();
loadModel();
document.body.dataset.ready = "true";
