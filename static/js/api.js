/**
 * The HTTP API of docs/design.md, and nothing else: fetch, abort, problem+json.
 *
 * Every call resolves to parsed JSON or rejects with an ApiError. Aborted calls reject
 * with the DOMException "AbortError" unchanged, so callers can tell "superseded" from
 * "failed".
 */

export class ApiError extends Error {
  /**
   * @param {string} code   the problem slug ("empty-drawing", ...), or "network" / "http"
   * @param {string} detail a sentence for people
   * @param {number} status HTTP status, 0 when the server was not reached
   */
  constructor(code, detail, status = 0) {
    super(detail);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
  }
}

/** `/docs#problem-empty-drawing` → `empty-drawing`. */
export function problemCode(type) {
  const m = /problem-([a-z0-9-]+)$/.exec(String(type || ""));
  return m ? m[1] : "";
}

async function request(path, { method = "GET", body, signal } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      signal,
      headers: body === undefined ? { Accept: "application/json" }
        : { "Content-Type": "application/json", Accept: "application/json, application/problem+json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch (err) {
    if (err && err.name === "AbortError") throw err;
    throw new ApiError("network", "The server could not be reached. Check the connection and try again.");
  }
  const type = response.headers.get("Content-Type") || "";
  let data = null;
  try {
    data = await response.json();
  } catch (err) {
    if (err && err.name === "AbortError") throw err;
  }
  if (response.ok && data !== null) return data;
  if (type.includes("problem+json") && data) {
    throw new ApiError(problemCode(data.type) || "http", data.detail || data.title || `HTTP ${response.status}`,
      response.status);
  }
  throw new ApiError("http", `The server answered ${response.status} ${response.statusText}.`.trim(),
    response.status);
}

/** POST /api/predict with `{strokes, width, height}` or `{pixels}` (and `checkpoint`: a snapshot answers). */
export function predict(input, signal) {
  return request("/api/predict", { method: "POST", body: input, signal });
}

/**
 * POST /api/explain: the same drawing body as predict, plus the `options` that are set
 * (`target` 0–9, `steps` 0–50, `learning_rate`). The answer is predict's and `target`,
 * `attribution`, `cost`, `nudges`, `top_weights`, `descent` (docs/design.md).
 */
export function explain(input, options = {}, signal) {
  const body = { ...input };
  for (const name of ["target", "steps", "learning_rate"]) {
    if (options[name] !== undefined && options[name] !== null) body[name] = options[name];
  }
  return request("/api/explain", { method: "POST", body, signal });
}

/** GET /api/model: architecture, every layer's weights and biases, the model card. */
export function getModel(signal) {
  return request("/api/model", { signal });
}

/**
 * GET /api/training: the snapshots of the run that made the network
 * (`checkpoints`: id, examples_seen, epoch, cost, test_accuracy) and its cost `curve`.
 */
export function getTraining(signal) {
  return request("/api/training", { signal });
}

/**
 * GET /api/training/<id>: one snapshot's `layers`, as getModel's. `model` (the served
 * weights' sha256) pins the URL to this network, so the browser may keep it for good.
 */
export function getSnapshot(id, model = null, signal) {
  const query = model ? `?model=${encodeURIComponent(model)}` : "";
  return request(`/api/training/${encodeURIComponent(id)}${query}`, { signal });
}

/** GET /api/examples: one real MNIST test digit, of `digit` if given. */
export async function getExample(digit = null, signal) {
  const query = digit === null || digit === "" ? "n=1" : `digit=${encodeURIComponent(digit)}&n=1`;
  const data = await request(`/api/examples?${query}`, { signal });
  if (!data.examples || !data.examples.length) throw new ApiError("http", "No example digit came back.");
  return data.examples[0];
}
