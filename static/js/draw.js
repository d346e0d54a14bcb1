/**
 * The drawing surface: a list of strokes, undo/redo stacks, pointer handling, rendering.
 *
 * A stroke is an array of [x, y] points in CSS pixels of the canvas. The module knows
 * nothing about the network: it emits events and lets the wiring module decide what to
 * do with them.
 *
 * Events (EventTarget, `detail` = the surface):
 *   "strokestart"  a pointer went down and a stroke began
 *   "strokemove"   the stroke in progress grew
 *   "strokeend"    the stroke is finished and recorded (undoable)
 *   "change"       undo, redo, clear or load changed the strokes
 */

/** Points closer than this (CSS px) to the previous one add nothing but payload. */
const MIN_STEP = 1.5;

export function createDrawing(canvas, { inkColor = "#f4f7ff", lineWidthRatio = 1 / 15 } = {}) {
  const events = new EventTarget();
  const ctx = canvas.getContext("2d");
  let strokes = [];          // finished strokes
  let current = null;        // the stroke being drawn, or null
  let activePointer = null;  // one pointer draws at a time; a second finger is ignored
  const done = [];           // actions that can be undone: {kind: "stroke"|"clear"|"load", ...}
  const undone = [];         // actions that can be redone
  let size = { width: 0, height: 0 };
  let frame = 0;

  const emit = (type) => events.dispatchEvent(new CustomEvent(type, { detail: surface }));

  function point(event) {
    const rect = canvas.getBoundingClientRect();
    const sx = size.width / (rect.width || 1);
    const sy = size.height / (rect.height || 1);
    const x = Math.min(Math.max((event.clientX - rect.left) * sx, 0), size.width);
    const y = Math.min(Math.max((event.clientY - rect.top) * sy, 0), size.height);
    return [Math.round(x * 10) / 10, Math.round(y * 10) / 10];
  }

  function addPoint(p) {
    const last = current[current.length - 1];
    if (Math.hypot(p[0] - last[0], p[1] - last[1]) >= MIN_STEP) current.push(p);
  }

  function onPointerDown(event) {
    if (activePointer !== null) return;
    if (event.pointerType === "mouse" && event.button !== 0) return;
    event.preventDefault();
    activePointer = event.pointerId;
    canvas.setPointerCapture(event.pointerId);
    current = [point(event)];
    render();
    emit("strokestart");
  }

  function onPointerMove(event) {
    if (event.pointerId !== activePointer) return;
    event.preventDefault();
    const n = current.length;
    // Coalesced events keep fast strokes smooth on high-rate pens and touch screens.
    const batch = typeof event.getCoalescedEvents === "function" ? event.getCoalescedEvents() : [];
    for (const e of batch.length ? batch : [event]) addPoint(point(e));
    if (current.length !== n) {
      requestRender();
      emit("strokemove");
    }
  }

  function onPointerUp(event) {
    if (event.pointerId !== activePointer) return;
    if (event.type === "pointerup") addPoint(point(event));
    activePointer = null;
    const stroke = current;
    current = null;
    strokes.push(stroke);
    record({ kind: "stroke", stroke });
    render();
    emit("strokeend");
  }

  function record(action) {
    done.push(action);
    undone.length = 0;
  }

  function apply(action) {
    if (action.kind === "stroke") strokes.push(action.stroke);
    else if (action.kind === "load") strokes = action.loaded.slice();
    else strokes = [];
  }

  function revert(action) {
    if (action.kind === "stroke") strokes.pop();
    else strokes = action.strokes.slice();
  }

  function requestRender() {
    if (!frame) frame = requestAnimationFrame(() => { frame = 0; render(); });
  }

  /** Quadratic curves through the midpoints: smooth without lagging behind the pen. */
  function trace(stroke) {
    const [x0, y0] = stroke[0];
    ctx.beginPath();
    if (stroke.length === 1) {
      ctx.arc(x0, y0, ctx.lineWidth / 2, 0, 2 * Math.PI);
      ctx.fillStyle = inkColor;
      ctx.fill();
      return;
    }
    ctx.moveTo(x0, y0);
    for (let i = 1; i < stroke.length - 1; i++) {
      const [x, y] = stroke[i];
      const [nx, ny] = stroke[i + 1];
      ctx.quadraticCurveTo(x, y, (x + nx) / 2, (y + ny) / 2);
    }
    const [xn, yn] = stroke[stroke.length - 1];
    ctx.lineTo(xn, yn);
    ctx.stroke();
  }

  function render() {
    const dpr = canvas.width / (size.width || 1);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.lineWidth = surface.penWidth;
    ctx.strokeStyle = inkColor;
    for (const s of strokes) trace(s);
    if (current) trace(current);
  }

  /** Match the backing store to the CSS size × devicePixelRatio; keep strokes in place. */
  function resize() {
    const rect = canvas.getBoundingClientRect();
    if (!rect.width || !rect.height) return;
    const dpr = window.devicePixelRatio || 1;
    const old = size;
    size = { width: rect.width, height: rect.height };
    canvas.width = Math.round(rect.width * dpr);
    canvas.height = Math.round(rect.height * dpr);
    if (old.width && (old.width !== size.width || old.height !== size.height)) {
      const fx = size.width / old.width, fy = size.height / old.height;
      // The same stroke arrays are shared by `strokes` and the undo/redo actions:
      // gather each once so nothing is scaled twice.
      const all = new Set(strokes);
      if (current) all.add(current);
      for (const a of [...done, ...undone]) {
        if (a.kind === "stroke") all.add(a.stroke);
        else a.strokes.forEach((s) => all.add(s));
        if (a.kind === "load") a.loaded.forEach((s) => all.add(s));
      }
      for (const s of all) for (const p of s) { p[0] *= fx; p[1] *= fy; }
    }
    render();
  }

  /** Undo and redo: take the newest action off one stack, (re)play it, keep it on the other. */
  function move(from, to, play) {
    const action = from.pop();
    play(action);
    to.push(action);
    render();
    emit("change");
    return true;
  }

  const surface = {
    events,
    /** Every stroke, including the one being drawn (copies: callers may serialize them). */
    get strokes() { return (current ? [...strokes, current] : strokes).map((s) => s.map((p) => [p[0], p[1]])); },
    get size() { return { ...size }; },
    /** The pen's width in CSS px (the ink reaches half of it beyond the points). */
    get penWidth() { return Math.max(size.width * lineWidthRatio, 4); },
    /** The longer side of the box around all ink so far (its centre lines), in CSS px. */
    get extent() {
      let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      for (const s of current ? [...strokes, current] : strokes) for (const [x, y] of s) {
        x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
      }
      return Math.max(x1 - x0, y1 - y0);
    },
    get isEmpty() { return strokes.length === 0 && !current; },
    get isDrawing() { return current !== null; },
    get canUndo() { return done.length > 0 && !current; },
    get canRedo() { return undone.length > 0 && !current; },
    undo() { return surface.canUndo && move(done, undone, revert); },
    redo() { return surface.canRedo && move(undone, done, apply); },
    /** Clearing is itself undoable, so a slip of the Esc key costs nothing. */
    clear() {
      if (current || strokes.length === 0) return false;
      record({ kind: "clear", strokes: strokes.slice() });
      strokes = [];
      render();
      emit("change");
      return true;
    },
    /** Replace every stroke with `list` (CSS px of this canvas), undoably: a shared link. */
    load(list) {
      if (current) return false;
      const loaded = list.map((s) => s.map((p) => [p[0], p[1]]));
      record({ kind: "load", strokes: strokes.slice(), loaded });
      strokes = loaded.slice();
      render();
      emit("change");
      return true;
    },
  };

  canvas.addEventListener("pointerdown", onPointerDown);
  canvas.addEventListener("pointermove", onPointerMove);
  canvas.addEventListener("pointerup", onPointerUp);
  canvas.addEventListener("pointercancel", onPointerUp);
  new ResizeObserver(resize).observe(canvas);
  // A zoom or a move to another screen changes devicePixelRatio without resizing.
  const watchDpr = () => {
    matchMedia(`(resolution: ${window.devicePixelRatio}dppx)`)
      .addEventListener("change", () => { resize(); watchDpr(); }, { once: true });
  };
  watchDpr();
  resize();
  return surface;
}
