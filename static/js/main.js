/**
 * Wiring: drawing surface → scheduler → API → views. Holds the little state the page has
 * (the last answer, the example on show, the chosen neuron); requests belong to the
 * scheduler, pixels to the views.
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
import { createExampleView } from "./views/example.js";
import { createGallery } from "./views/gallery.js";
import { createModelCard } from "./views/model-card.js";
import { createNetwork } from "./views/network.js";
import { explainNeuron } from "./views/neuron-text.js";
import { createNeuronView } from "./views/neuron.js";
import { createOutputs } from "./views/outputs.js";
import { createPreprocess } from "./views/preprocess.js";
import { createToolbar } from "./views/toolbar.js";
import { composeRows } from "./weights.js";

const THROTTLE_MS = 100;
const $ = (id) => document.getElementById(id);
const hooks = document.body.dataset;

const pad = $("pad");
const drawing = createDrawing(pad);
const outputs = createOutputs({ status: $("status"), detail: $("detail"), example: $("example-result"), alert: $("alert") });
const preprocess = createPreprocess($("steps"));
const neuronView = createNeuronView($("inspector"));
const network = createNetwork($("network"), { onSelect: select });
const gallery1 = createGallery($("gallery1"), { name: "Hidden layer 1", onSelect: (i) => select(1, i) });
const gallery2 = createGallery($("gallery2"), { name: "Hidden layer 2", onSelect: (i) => select(2, i) });
const exampleView = createExampleView($("example-view"));
const modelCard = createModelCard({ badge: $("accuracy"), facts: $("model-facts") });
const toolbar = createToolbar({ undo: $("undo"), redo: $("redo"), clear: $("clear"), hint: $("pad-hint") },
  { undo: () => drawing.undo(), redo: () => drawing.redo(), clear });

let model = null;        // GET /api/model, plus `images`: per layer, 784-value pictures per neuron
let answer = null;       // the answer on screen, or null
let example = null;      // the MNIST example on screen, or null while drawing
let selected = [1, 0];   // [layer, index] shown in the inspector

const scheduler = createScheduler({
  predict: (job, signal) => api.predict(job.input, signal),
  onIssue: (n) => { hooks.seq = String(n); },
  onAnswer: render,
  onError: failed,
  throttleMs: THROTTLE_MS,
});

// --- answers to views ------------------------------------------------------------------

function render(result, job, mine) {
  answer = result;
  outputs.show(result);
  network.show(result);
  if (example) outputs.showExample(example, result);
  // The answer's first frame is on screen when this runs (views draw on the same frame);
  // the strip, galleries and inspector follow right after, off the critical path.
  requestAnimationFrame(() => {
    performance.mark("answer-rendered", { detail: { seq: mine } });
    setTimeout(() => {
      if (mine !== scheduler.seq) return; // superseded: the newer answer will draw these
      preprocess.show({ ...job.context, info: result.preprocessing, input: result.activations.input });
      lightGalleries(result.activations);
      inspect();
      if (model && result.model && result.model.sha256 !== model.sha256) loadModel(); // weights changed under us
      hooks.answerSeq = String(mine);
    });
  });
}

function failed(err, job, mine) {
  // Mid-stroke, a speck is just the start of a digit: stay quiet until the pen lifts.
  if (err.code === "empty-drawing") {
    if (drawing.isDrawing) forget(); else showNothing();
  }
  else outputs.alert(err.message);
  hooks.answerSeq = String(mine);
}

function forget() {
  answer = null;
  network.show(null);
  preprocess.clear();
  lightGalleries(null);
  inspect();
}

function showEmpty() {
  forget();
  outputs.clear();
  hooks.answerSeq = String(scheduler.seq);
}

function showNothing() {
  forget();
  outputs.showNothing();
}

function lightGalleries(activations) {
  gallery1.setActivations(activations ? activations.hidden1 : null);
  gallery2.setActivations(activations ? activations.hidden2 : null);
}

// --- drawing to requests -----------------------------------------------------------------

function drawingJob() {
  const size = drawing.size;
  const input = {
    strokes: drawing.strokes,
    width: Math.round(size.width * 10) / 10,
    height: Math.round(size.height * 10) / 10,
  };
  return { input, context: { canvas: pad, size, pen: drawing.penWidth } };
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

/** Now, superseding anything in flight (end of a stroke, undo, redo, clear). */
function predictNow() {
  scheduler.cancel();
  if (drawing.isEmpty) showEmpty();
  else scheduler.now(drawingJob());
}

function leaveExample() {
  if (!example) return;
  example = null;
  exampleView.hide();
  outputs.clearExample();
}

function syncToolbar() {
  const empty = drawing.isEmpty && !example;
  toolbar.sync({ canUndo: drawing.canUndo, canRedo: drawing.canRedo, canClear: !empty && !drawing.isDrawing, empty });
}

drawing.events.addEventListener("strokestart", () => {
  if (example) { leaveExample(); scheduler.cancel(); }
  syncToolbar();
});
drawing.events.addEventListener("strokemove", () => {
  // The first pixels of a first stroke are a speck: don't ask yet (the end of the
  // stroke always asks, and the server decides what is too small).
  if (extent(drawing.strokes) >= MIN_EXTENT) scheduler.soon(drawingJob);
});
drawing.events.addEventListener("strokeend", () => {
  syncToolbar();
  predictNow();
  hooks.strokeEndSeq = String(scheduler.seq);
});
drawing.events.addEventListener("change", () => {
  leaveExample();
  syncToolbar();
  predictNow();
});

/** Clear the drawing (undoable), or put away the MNIST example on show. */
function clear() {
  if (example && drawing.isEmpty) {
    leaveExample();
    scheduler.cancel();
    showEmpty();
    syncToolbar();
  } else drawing.clear();
}

// --- MNIST examples ------------------------------------------------------------------

$("example").addEventListener("click", async () => {
  const button = $("example");
  button.disabled = true;
  try {
    const ex = await api.getExample($("example-digit").value || null);
    drawing.clear();                         // undoable: Undo brings the drawing back
    scheduler.cancel();
    example = ex;
    exampleView.show(ex.pixels);
    syncToolbar();
    outputs.clearExample();
    await scheduler.now({ input: { pixels: ex.pixels }, context: { pixels: ex.pixels } });
  } catch (err) {
    if (err.name !== "AbortError") outputs.alert(err.message);
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
    if (answer) lightGalleries(answer.activations);
    modelCard.show(m);
    select(...selected);
    hooks.model = "ready";
  } catch (err) {
    outputs.alert(`The network's weights could not be loaded: ${err.message}`);
  }
}

hooks.seq = String(scheduler.seq);
hooks.answerSeq = String(scheduler.seq);
syncToolbar();
outputs.clear();
preprocess.clear();
loadModel();
hooks.ready = "true";
