"""CORS in Chromium: a page on another origin (a second loopback port, served by a tiny
http.server here; that page is not ours, so its inline script is fine) calls the app's API.

The app is the production server (tests/live_server.py's Gunicorn) with CORS_ORIGINS naming
one of two such pages. From the listed origin the page's fetch() reads the answer — through a
preflight, with Cross-Origin-Resource-Policy: same-origin on every answer (CORP binds no-cors
requests only) — and the headers it needs: the OIP binary header both ways, and /api/model's
ETag; its no-cors request (what an <img> makes) is what CORP blocks. From the other origin
the same fetch() rejects with a TypeError, and the POST never reaches the app: the
preflight was refused.
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.live_server import Gunicorn, post_json

pytestmark = pytest.mark.browser

MODEL = "mnist-784-16-16-10"

SCRIPT = """
const APP = %(app)s, PIXELS = %(pixels)s;
async function attempt(name, call) {
  try { return [name, {ok: true, ...(await call())}]; }
  catch (e) { return [name, {ok: false, error: e.name, message: e.message}]; }
}
async function predict() {
  const r = await fetch(APP + "/api/predict", {method: "POST", headers: {"Content-Type": "application/json"},
                                               body: JSON.stringify({pixels: PIXELS})});
  const answer = await r.json();
  return {status: r.status, digit: answer.digit};
}
async function problem() {
  const r = await fetch(APP + "/api/predict", {method: "POST", headers: {"Content-Type": "application/json"},
                                               body: JSON.stringify({pixels: [0.5]})});
  return {status: r.status, type: (await r.json()).type};
}
async function binaryInfer() {
  const head = new TextEncoder().encode(JSON.stringify({
    inputs: [{name: "input", shape: [1, 784], datatype: "FP32", parameters: {binary_data_size: 784 * 4}}],
    outputs: [{name: "label", parameters: {binary_data: true}}]}));
  const tensor = new Uint8Array(new Float32Array(PIXELS).buffer);
  const body = new Uint8Array(head.length + tensor.length);
  body.set(head);
  body.set(tensor, head.length);
  const r = await fetch(APP + "/v2/models/%(model)s/infer", {method: "POST", body,
    headers: {"Content-Type": "application/octet-stream", "Inference-Header-Content-Length": String(head.length)}});
  const length = Number(r.headers.get("Inference-Header-Content-Length"));
  const data = await r.arrayBuffer();
  return {status: r.status, headerLength: length, label: Number(new BigInt64Array(data.slice(length))[0])};
}
async function model() {
  const r = await fetch(APP + "/api/model");
  await r.arrayBuffer();
  return {status: r.status, etag: r.headers.get("ETag")};
}
async function noCors() {  // as an <img> or a plain <script> would ask: CORP's business
  const r = await fetch(APP + "/v2/health/live", {mode: "no-cors"});
  return {type: r.type};
}
(async () => {
  const results = [await attempt("predict", predict), await attempt("problem", problem),
                   await attempt("binaryInfer", binaryInfer), await attempt("model", model),
                   await attempt("noCors", noCors)];
  document.body.dataset.results = JSON.stringify(Object.fromEntries(results));
})();
"""


class PageServer:
    """Another site: one HTML page at / on its own loopback port."""

    def __init__(self):
        self.html = b""
        page = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path != "/":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page.html)))
                self.end_headers()
                self.wfile.write(page.html)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, app_url: str, pixels: list[float]) -> None:
        script = SCRIPT % {"app": json.dumps(app_url), "pixels": json.dumps(pixels), "model": MODEL}
        self.html = f"<!doctype html><meta charset=utf-8><title>another site</title><body><script>{script}</script>".encode()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def sites():
    listed, unlisted = PageServer(), PageServer()
    yield listed, unlisted
    listed.close()
    unlisted.close()


@pytest.fixture(scope="module")
def cors_server(sites, tmp_path_factory):
    listed, _ = sites
    log_path = tmp_path_factory.mktemp("cors-server") / "gunicorn.log"
    env = {"WEB_CONCURRENCY": "1", "CORS_ORIGINS": f"https://course.example.org,{listed.origin}"}
    with Gunicorn(env=env, log_path=log_path) as server:
        yield server


@pytest.fixture
def digit(mnist, clear_test_digits):
    i = int(clear_test_digits[0])
    return [round(float(v), 4) for v in mnist.test.images[i]], int(mnist.test.labels[i])


def results_of(browser, site: PageServer) -> tuple[dict, list[str]]:
    """What the page's script found, and what Chromium said on the console."""
    context = browser.new_context()
    try:
        page = context.new_page()
        console: list[str] = []
        page.on("console", lambda m: console.append(m.text))
        page.goto(site.origin + "/")
        page.wait_for_selector("body[data-results]", state="attached", timeout=15_000)
        return json.loads(page.evaluate("document.body.dataset.results")), console
    finally:
        context.close()


def predict_posts(server: Gunicorn) -> int:
    return server.log().count('"POST /api/predict HTTP/1.1"')


def test_a_listed_origin_reads_the_answers(browser, sites, cors_server, digit):
    listed, _ = sites
    pixels, label = digit
    # CORP same-origin is on these answers, and did not stop the cross-origin fetch below.
    status, headers, _ = post_json(cors_server.url + "/api/predict", {"pixels": pixels})
    assert status == 200 and headers["Cross-Origin-Resource-Policy"] == "same-origin"
    listed.serve(cors_server.url, pixels)
    results, console = results_of(browser, listed)
    assert results["predict"] == {"ok": True, "status": 200, "digit": label}
    assert results["problem"] == {"ok": True, "status": 422, "type": "/docs#problem-bad-pixels"}
    binary = results["binaryInfer"]
    assert binary["ok"] and binary["status"] == 200 and binary["headerLength"] > 0, binary
    assert binary["label"] == label
    assert results["model"]["ok"] and results["model"]["etag"], results["model"]
    assert 'OPTIONS /api/predict HTTP/1.1" 204' in cors_server.log()  # the preflight
    # The same origin's no-cors request is what CORP same-origin blocks.
    assert results["noCors"] == {"ok": False, "error": "TypeError", "message": "Failed to fetch"}
    assert any("ERR_BLOCKED_BY_RESPONSE.NotSameOrigin" in line for line in console), console


def test_an_unlisted_origin_is_refused_by_the_browser(browser, sites, cors_server, digit):
    _, unlisted = sites
    pixels, _ = digit
    unlisted.serve(cors_server.url, pixels)
    posts = predict_posts(cors_server)
    results, console = results_of(browser, unlisted)
    for name in ("predict", "problem", "binaryInfer", "model"):
        assert results[name]["ok"] is False and results[name]["error"] == "TypeError", (name, results[name])
    assert any("blocked by CORS policy" in line for line in console), console
    # The JSON POSTs need a preflight; refused, so the app never saw them.
    assert predict_posts(cors_server) == posts
