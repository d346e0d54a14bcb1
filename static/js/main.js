/**
 * Wiring: drawing surface → scheduler → API → views. The page's state is the one `state`
 * object below; requests belong to the scheduler, pixels to the views.
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
import { neuronImages } from "./weights.js";

const THROTTLE_MS = 100;
/** Below this extent (CSS px) a first stroke is a speck: the server would only say 422. */
const MIN_EXTENT = 8;
const $ = (id) => document.getElementById(id);
const hooks = document.body.dataset;

const state = {
  model: null,       // GET /api/model plus `images` (weights.js neuronImages)
  answer: null,      // the answer on screen, or null
  example: null,     // the MNIST example on screen, or null while drawing
  selected: [1, 0],  // [layer, index] shown in the inspector
};

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

const scheduler = createScheduler({
  predict: (job, signal) => api.predict(job.input, signal),
  onIssue: (n) => { hooks.seq = String(n); },
  onAnswer: render,
  onError: failed,
  throttleMs: THROTTLE_MS,
});

// --- answers to views ------------------------------------------------------------------

function render(result, job, mine) {
  state.answer = result;
  outputs.show(result);
  network.show(result);
  if (state.example) outputs.showExample(state.example, result);
  // The answer's first frame is on screen when this runs (views draw on the same frame);
  // the strip, galleries and inspector follow right after, off the critical path.
  requestAnimationFrame(() => {
    performance.mark("answer-rendered", { detail: { seq: mine } });
    setTimeout(() => {
      if (mine !== scheduler.seq) return; // superseded: the newer answer will draw these
      preprocess.show({ ...job.context, info: result.preprocessing, input: result.activations.input });
      lightGalleries(result.activations);
      inspect();
      // Weights changed under us (a redeploy between requests): show the ones that answered.
      if (state.model && result.model && result.model.sha256 !== state.model.sha256) loadModel();
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
  state.answer = null;
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

/** Now, superseding anything in flight (end of a stroke, undo, redo, clear). */
function predictNow() {
  scheduler.cancel();
  if (drawing.isEmpty) showEmpty();
  else scheduler.now(drawingJob());
}

function leaveExample() {
  if (!state.example) return;
  state.example = null;
  exampleView.hide();
  outputs.clearExample();
}

function syncToolbar() {
  const empty = drawing.isEmpty && !state.example;
  toolbar.sync({ canUndo: drawing.canUndo, canRedo: drawing.canRedo, canClear: !empty && !drawing.isDrawing, empty });
}

drawing.events.addEventListener("strokestart", () => {
  if (state.example) { leaveExample(); scheduler.cancel(); }
  syncToolbar();
});
drawing.events.addEventListener("strokemove", () => {
  // The end of the stroke always asks, and the server decides what is too small.
  if (drawing.extent >= MIN_EXTENT) scheduler.soon(drawingJob);
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
  if (state.example && drawing.isEmpty) {
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
    state.example = ex;
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
  state.selected = [layer, index];
  network.select(layer, index);
  gallery1.select(layer === 1 ? index : -1);
  gallery2.select(layer === 2 ? index : -1);
  inspect();
}

function inspect() {
  if (!state.model) return;
  neuronView.show(explainNeuron(state.model, state.answer ? state.answer.activations : null, ...state.selected));
}

async function loadModel() {
  try {
    const m = await api.getModel();
    state.model = { ...m, images: neuronImages(m.layers) };
    network.setModel(m.layers);
    gallery1.setImages(state.model.images[0]);
    gallery2.setImages(state.model.images[1]);
    if (state.answer) lightGalleries(state.answer.activations);
    modelCard.show(m);
    select(...state.selected);
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
