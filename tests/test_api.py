"""Contract tests for every route, with the Flask test client."""
from __future__ import annotations

import io
from collections import Counter
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from app import create_app
from model import preprocess
from tests.conftest import broken_weights
from tests.drawing import canvas_png, data_url, png_declaring

# --- bad requests: each with its status and problem type --------------------------


def encoded(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


DIGIT = np.zeros((28, 28))
DIGIT[5:23, 13:16] = 1.0  # a plain "1"
BLANK = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
SPECK = BLANK.copy()
SPECK.putpixel((140, 140), (0, 0, 0, 255))
GOOD_PNG = canvas_png(DIGIT.ravel())


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


BAD_REQUESTS = [
    # (id, method, path, request kwargs, status, problem code)
    ("text/plain", "post", "/api/predict", {"data": "{}", "content_type": "text/plain"}, 415, "unsupported-media-type"),
    ("no content type", "post", "/api/predict", {"data": "{}"}, 415, "unsupported-media-type"),
    ("form data", "post", "/api/predict", {"data": {"pixels": "1"}}, 415, "unsupported-media-type"),
    ("invalid JSON", "post", "/api/predict", {"data": "{", "content_type": "application/json"}, 400, "malformed-json"),
    ("NaN literal", "post", "/api/predict", {"data": '{"pixels": [NaN]}', "content_type": "application/json"}, 400, "malformed-json"),
    ("Infinity literal", "post", "/api/predict", {"data": '{"pixels": [Infinity]}', "content_type": "application/json"}, 400, "malformed-json"),
    ("not UTF-8", "post", "/api/predict", {"data": b'{"image": "\xff\xfe"}', "content_type": "application/json"}, 400, "malformed-json"),
    ("deeply nested", "post", "/api/predict", {"data": nested(100_000), "content_type": "application/json"}, 400, "malformed-json"),
    ("pixel beyond 64-bit integers", "post", "/api/predict", {"data": '{"pixels": [' + "1" * 30 + ', 0]}', "content_type": "application/json"},
     422, "bad-pixels"),
    ("lone surrogate as the image", "post", "/api/predict", {"data": '{"image": "\\ud800"}', "content_type": "application/json"},
     400, "bad-base64"),
    ("JSON array", "post", "/api/predict", {"json": []}, 400, "invalid-request"),
    ("JSON string", "post", "/api/predict", {"json": "7"}, 400, "invalid-request"),
    ("empty object", "post", "/api/predict", {"json": {}}, 400, "invalid-request"),
    ("two kinds", "post", "/api/predict", {"json": {"pixels": [0] * 784, "image": data_url(GOOD_PNG)}}, 400, "invalid-request"),
    ("unknown field", "post", "/api/predict", {"json": {"pixels": [0] * 784, "colour": "red"}}, 400, "invalid-request"),
    ("image not a string", "post", "/api/predict", {"json": {"image": 123}}, 400, "invalid-request"),
    ("bad base64", "post", "/api/predict", {"json": {"image": "data:image/png;base64,@@not base64@@"}}, 400, "bad-base64"),
    ("JPEG as PNG", "post", "/api/predict", {"json": {"image": data_url(encoded(BLANK.convert("RGB"), "JPEG"))}}, 415, "not-png"),
    ("GIF as PNG", "post", "/api/predict", {"json": {"image": data_url(encoded(BLANK, "GIF"))}}, 415, "not-png"),
    ("SVG as PNG", "post", "/api/predict", {"json": {"image": data_url(b"<svg xmlns='http://www.w3.org/2000/svg'/>")}}, 415, "not-png"),
    ("truncated PNG", "post", "/api/predict", {"json": {"image": data_url(GOOD_PNG[: len(GOOD_PNG) // 2])}}, 400, "corrupt-image"),
    ("decompression bomb", "post", "/api/predict", {"json": {"image": data_url(png_declaring(20000, 20000))}}, 413, "image-too-large"),
    ("blank canvas", "post", "/api/predict", {"json": {"image": data_url(encoded(BLANK, "PNG"))}}, 422, "empty-drawing"),
    ("speck", "post", "/api/predict", {"json": {"image": data_url(encoded(SPECK, "PNG"))}}, 422, "empty-drawing"),
    ("783 pixels", "post", "/api/predict", {"json": {"pixels": [0.5] * 783}}, 422, "bad-pixels"),
    ("pixel above 1", "post", "/api/predict", {"json": {"pixels": [2.0] * 784}}, 422, "bad-pixels"),
    ("pixel strings", "post", "/api/predict", {"json": {"pixels": ["0.5"] * 784}}, 422, "bad-pixels"),
    ("pixels not a list", "post", "/api/predict", {"json": {"pixels": 0.5}}, 422, "bad-pixels"),
    ("empty pixels", "post", "/api/predict", {"json": {"pixels": [0.0] * 784}}, 422, "empty-drawing"),
    ("strokes not a list", "post", "/api/predict", {"json": {"strokes": "M 0 0 L 10 10"}}, 422, "bad-strokes"),
    ("stroke point of text", "post", "/api/predict", {"json": {"strokes": [[["a", "b"]]]}}, 422, "bad-strokes"),
    ("negative width", "post", "/api/predict", {"json": {"strokes": [[[1, 1], [1, 100]]], "width": -5, "height": 280}}, 422, "bad-strokes"),
    ("empty batch", "post", "/api/predict", {"json": {"inputs": []}}, 400, "invalid-request"),
    ("batch with extra key", "post", "/api/predict", {"json": {"inputs": [{"pixels": DIGIT.ravel().tolist()}], "x": 1}}, 400, "invalid-request"),
    ("batch of 65", "post", "/api/predict", {"json": {"inputs": [{"pixels": DIGIT.ravel().tolist()}] * 65}}, 413, "batch-too-large"),
    ("batch with a bad input", "post", "/api/predict", {"json": {"inputs": [{"pixels": DIGIT.ravel().tolist()}, {"pixels": [1]}]}}, 422, "bad-pixels"),
    ("body over the limit", "post", "/api/predict", {"data": b" " * (2 * 1024 * 1024 + 1), "content_type": "application/json"}, 413, "payload-too-large"),
    ("GET predict", "get", "/api/predict", {}, 405, "method-not-allowed"),
    ("unknown route", "get", "/api/nothing-here", {}, 404, "not-found"),
    ("POST model", "post", "/api/model", {"json": {}}, 405, "method-not-allowed"),
    ("digit 10", "get", "/api/examples?digit=10", {}, 400, "invalid-query"),
    ("digit text", "get", "/api/examples?digit=seven", {}, 400, "invalid-query"),
    ("n zero", "get", "/api/examples?n=0", {}, 400, "invalid-query"),
    ("n too many", "get", "/api/examples?n=21", {}, 400, "invalid-query"),
    ("n with underscore", "get", "/api/examples?n=1_0", {}, 400, "invalid-query"),
]


@pytest.mark.parametrize("method,path,kwargs,status,code", [b[1:] for b in BAD_REQUESTS],
                         ids=[b[0] for b in BAD_REQUESTS])
def test_bad_requests_get_a_problem(client, method, path, kwargs, status, code):
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["type"] == f"/docs#problem-{code}"
    assert problem["status"] == status
    assert problem["title"] and problem["detail"]
    assert "Traceback" not in problem["detail"]
    # and the next normal request still works
    assert client.post("/api/predict", json={"pixels": DIGIT.ravel().tolist()}).status_code == 200


JSON_DOCUMENTS = [
    b'{"a": 1, "a": 2}', b"-0", b"-0.0", b"1E2", b"1e-400", b"[1.5e-320]", b"1e400", b"12345678901234567890",
    b"-9223372036854775809", b"18446744073709551616", b"0.1", b"[]", b"{}", b'""', b"null", b"true",
    b' \t\r\n[1 , 2 ]\n', b'"\\u00e9\\ud83d\\ude00\\/\\b\\f\\n\\r\\t"', '"é😀"'.encode(), b'"\\ud800"',
    b'"\\udc00\\ud800"', b"\xef\xbb\xbf{}", '{"a": 1}'.encode("utf-16"), '[1]'.encode("utf-32-le"), b"NaN",
    b"[Infinity]", b"[-Infinity]", b"01", b"1.", b".5", b"+1", b"[1,]", b'{"a":1,}', b"'a'", b'"\x01"', b"[1] x",
    b"", b" ", b"\xff", b'"\xed\xa0\x80"', b"[" * 2000 + b"]" * 2000, b"[" * 100 + b"]" * 100,
]


@pytest.mark.parametrize("document", JSON_DOCUMENTS, ids=range(len(JSON_DOCUMENTS)))
def test_request_json_is_read_as_json_reads_it(app, document):
    """Request bodies are read as strict JSON: exactly what json accepts (no NaN or Infinity),
    with the same values; the rest is refused as malformed JSON."""
    import json

    from server.api import json_body
    from server.errors import Problem

    def reject_constant(name):
        raise ValueError(name)

    def read():
        with app.test_request_context("/api/predict", method="POST", data=document,
                                      content_type="application/json"):
            return json_body()

    try:
        expected = json.loads(document, parse_constant=reject_constant)
    except (ValueError, RecursionError):
        with pytest.raises(Problem) as caught:
            read()
        assert caught.value.code == "malformed-json"
        return
    assert repr(read()) == repr(expected)


def test_a_bad_input_in_a_batch_is_named(client):
    response = client.post("/api/predict", json={"inputs": [{"pixels": DIGIT.ravel().tolist()},
                                                            {"pixels": [1]}]})
    assert response.get_json()["detail"].startswith("inputs[1]: ")


def test_chunked_body_over_the_limit_is_413():
    app = create_app({"TESTING": True, "MAX_CONTENT_LENGTH": 1000})

    body = b'{"pixels": [' + b"0.5, " * 500 + b"0.5]}"
    # A chunked body has no Content-Length: the limit must hold while reading the stream.
    response = app.test_client().post(
        "/api/predict", input_stream=io.BytesIO(body), content_type="application/json",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413
    assert response.get_json()["type"] == "/docs#problem-payload-too-large"


# --- /api/predict ------------------------------------------------------------------


def check_prediction(answer, card):
    assert set(answer) == {"digit", "confidence", "verdict", "uncertain", "runner_up", "output",
                           "activations", "preprocessing", "model"}
    output = np.array(answer["output"])
    assert output.shape == (10,) and ((0 <= output) & (output <= 1)).all()
    assert answer["digit"] == int(np.argmax(output))
    assert answer["confidence"] == pytest.approx(output.max(), abs=1e-6)
    assert answer["runner_up"] == int(np.argsort(output)[-2])
    assert answer["verdict"] == said(output, card).verdict
    assert answer["uncertain"] == (answer["verdict"] != "digit")
    sizes = {k: len(v) for k, v in answer["activations"].items()}
    assert sizes == {"input": 784, "hidden1": 16, "hidden2": 16, "output": 10}
    assert answer["activations"]["output"] == answer["output"]
    assert answer["model"] == {"name": card["name"], "sha256": card["sha256"]}


def test_predict_pixels_matches_the_network(client, mnist, network, card):
    for i in range(5):
        pixels = mnist.test.images[i]
        response = client.post("/api/predict", json={"pixels": pixels.tolist()})
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
        answer = response.get_json()
        check_prediction(answer, card)
        a0, a1, a2, a3 = network.forward(pixels)
        np.testing.assert_allclose(answer["output"], a3, atol=1e-6)
        np.testing.assert_allclose(answer["activations"]["hidden1"], a1, atol=1e-6)
        np.testing.assert_allclose(answer["activations"]["hidden2"], a2, atol=1e-6)
        np.testing.assert_allclose(answer["activations"]["input"], pixels, atol=1e-4)
        assert answer["preprocessing"]["source"] == "pixels"


def test_activations_are_the_rounded_values(client, network):
    """The inputs in an answer are np.round(x, 4) of what the network was fed, the other
    activations np.round(a, 6), whatever the values (edges of rounding, 0, 1, tiny ones)."""
    rng = np.random.default_rng(0)
    edges = np.array([0.0, 1.0, 5e-5, 4.9999e-5, 0.99995, 0.99994, 0.12345, 0.5, 1e-8, 0.3], np.float32)
    for pixels in (rng.random(784, dtype=np.float32), np.resize(edges, 784),
                   rng.choice([0.0, 1.0, 0.25], 784).astype(np.float32)):
        answer = client.post("/api/predict", json={"pixels": pixels.tolist()}).get_json()
        activations = answer["activations"]
        assert activations["input"] == np.round(pixels.astype(np.float64), 4).tolist()
        _, a1, a2, a3 = network.forward(pixels[None])
        for name, a in (("hidden1", a1), ("hidden2", a2), ("output", a3)):
            assert activations[name] == np.round(a[0].astype(np.float64), 6).tolist()
        assert answer["output"] == activations["output"]
        assert answer["confidence"] == max(answer["output"])


def test_a_batch_answer_is_valid_json_with_every_prediction(client, mnist, card):
    inputs = [{"pixels": mnist.test.images[i].tolist()} for i in range(3)]
    response = client.post("/api/predict", json={"inputs": inputs})
    assert response.status_code == 200 and response.mimetype == "application/json"
    answers = response.get_json()["predictions"]
    assert len(answers) == 3
    for i, answer in enumerate(answers):
        check_prediction(answer, card)
        assert answer == client.post("/api/predict", json=inputs[i]).get_json()


def test_predict_28_rows_of_28(client, mnist):
    pixels = mnist.test.images[0]
    flat = client.post("/api/predict", json={"pixels": pixels.tolist()}).get_json()
    rows = client.post("/api/predict", json={"pixels": pixels.reshape(28, 28).tolist()}).get_json()
    assert rows["output"] == flat["output"]


@pytest.mark.parametrize("mode", ["transparent", "white", "black"])
def test_predict_canvas_png(client, mnist, network, clear_test_digits, card, mode):
    for i in clear_test_digits[:8]:
        png = canvas_png(mnist.test.images[i], mode=mode)
        answer = client.post("/api/predict", json={"image": data_url(png)}).get_json()
        check_prediction(answer, card)
        assert answer["digit"] == mnist.test.labels[i]
        assert answer["preprocessing"]["source"] == "image"
        # What the network saw is exactly what preprocessing made of the PNG.
        expected = preprocess.from_png(png).pixels
        np.testing.assert_allclose(answer["activations"]["input"], expected, atol=1e-4)


def test_predict_strokes(client, card):
    seven = [[[60, 50], [220, 50], [120, 250]]]
    answer = client.post("/api/predict", json={"strokes": seven, "width": 280, "height": 280}).get_json()
    check_prediction(answer, card)
    assert answer["digit"] == 7
    assert answer["preprocessing"]["source"] == "strokes"


def test_batch(client, mnist, card):
    items = [{"pixels": mnist.test.images[i].tolist()} for i in range(3)]
    items.append({"image": data_url(canvas_png(mnist.test.images[3]))})
    response = client.post("/api/predict", json={"inputs": items})
    assert response.status_code == 200
    predictions = response.get_json()["predictions"]
    assert len(predictions) == 4
    for i, answer in enumerate(predictions):
        check_prediction(answer, card)
        single = client.post("/api/predict", json=items[i]).get_json()
        assert answer["output"] == single["output"]


def said(output, card):
    """The card's rule, written out here from the card's words (not model.answer's code)."""
    t = card["verdict"]["thresholds"]
    ranked = sorted(output)
    winner, second = ranked[-1], ranked[-2]
    odds = (lambda a: a / (1 - a) if a < 1 else float("inf")) if t["odds"] else (lambda a: a)
    if winner < t["min_confidence"]:
        verdict = "not-a-digit"
    elif odds(second) >= t["max_ratio"] * odds(winner):
        verdict = "unsure"
    else:
        verdict = "digit"
    return SimpleNamespace(verdict=verdict)


def test_verdicts_follow_the_cards_rule(client, mnist, card):
    counts = Counter()
    for i in range(300):
        answer = client.post("/api/predict", json={"pixels": mnist.test.images[i].tolist()}).get_json()
        assert answer["verdict"] == said(answer["output"], card).verdict
        counts[answer["verdict"]] += 1
    # Most MNIST digits are named; a few are not: the verdict is neither always on nor off.
    assert counts["digit"] > 0.9 * 300 and counts["digit"] < 300


NOISE = np.random.default_rng(0).random((40, 784))


def test_noise_is_not_a_digit(client):
    """The chapter-2 experiment: random pixels are mostly declined, and every answer says why."""
    body = {"inputs": [{"pixels": x.tolist()} for x in NOISE]}
    answers = client.post("/api/predict", json=body).get_json()["predictions"]
    verdicts = Counter(a["verdict"] for a in answers)
    assert verdicts["not-a-digit"] >= 0.75 * len(NOISE), verdicts


@pytest.mark.parametrize("setting, value, verdict", [
    ("UNCERTAIN_MIN_CONFIDENCE", 1.1, "not-a-digit"),   # nothing is ever strong enough
    ("UNCERTAIN_MIN_CONFIDENCE", "0", "digit"),         # from the environment: a string
    ("UNCERTAIN_MAX_RATIO", 0.0, "unsure"),             # every runner-up competes
])
def test_settings_override_the_cards_thresholds(mnist, setting, value, verdict):
    app = create_app({"TESTING": True, setting: value})
    answer = app.test_client().post("/api/predict", json={"pixels": mnist.test.images[0].tolist()}).get_json()
    assert answer["verdict"] == verdict
    assert answer["uncertain"] == (verdict != "digit")


# --- /api/model, /api/examples ------------------------------------------------------


def test_model_has_every_weight_and_the_card(client, network, card):
    response = client.get("/api/model")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["architecture"]["sizes"] == [784, 16, 16, 10]
    assert doc["architecture"]["parameters"] == 13_002
    assert doc["architecture"]["activation"] == "sigmoid"
    assert doc["card"] == card and doc["sha256"] == card["sha256"]
    for layer, w, b in zip(doc["layers"], network.weights, network.biases):
        np.testing.assert_allclose(layer["weights"], w, atol=1e-6)
        np.testing.assert_allclose(layer["biases"], b, atol=1e-6)


def test_model_is_cacheable(client):
    first = client.get("/api/model")
    etag = first.headers["ETag"]
    assert etag and "max-age" in first.headers["Cache-Control"]
    again = client.get("/api/model", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert client.get("/api/model", headers={"If-None-Match": '"other"'}).status_code == 200


def test_examples_are_real_mnist_test_digits(client, mnist):
    for digit in (0, 4, 9):
        response = client.get(f"/api/examples?digit={digit}&n=3")
        assert response.status_code == 200
        examples = response.get_json()["examples"]
        assert len(examples) == 3
        for ex in examples:
            assert ex["label"] == digit == mnist.test.labels[ex["index"]]
            np.testing.assert_allclose(ex["pixels"], mnist.test.images[ex["index"]], atol=3e-3)
    default = client.get("/api/examples").get_json()["examples"]
    assert len(default) == 1


@pytest.mark.parametrize("examples", ["missing", "float images"])
def test_examples_unavailable_is_503(tmp_path, examples):
    path = tmp_path / "examples.npz"
    if examples == "float images":  # not what the training writes: refused, not misread
        np.savez(path, images=np.ones((3, 784), np.float32), labels=np.arange(3), indices=np.arange(3))
    app = create_app({"TESTING": True, "EXAMPLES_PATH": str(path)})
    response = app.test_client().get("/api/examples")
    assert response.status_code == 503
    assert response.get_json()["type"] == "/docs#problem-examples-unavailable"


# --- pages, docs, headers ------------------------------------------------------------


def test_pages_and_docs(client, app):
    page = client.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    docs = client.get("/docs").get_data(as_text=True)
    assert "curl" in docs and "/openapi.json" in docs
    from server.errors import PROBLEMS
    for code in PROBLEMS:  # every problem type links to its explanation
        assert f'id="problem-{code}"' in docs


@pytest.mark.parametrize("path", ["/", "/docs", "/api/model", "/openapi.json", "/v2/health/ready",
                                  "/api/nothing", "/static/css/docs.css"])
def test_security_headers_everywhere(client, path):
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "Server" not in headers or "/" not in headers["Server"]


# --- not ready: bad weights never serve ----------------------------------------------


@pytest.mark.parametrize("kind,reason", [("missing", "does not exist"),
                                         ("truncated", "not a readable .npz"),
                                         ("wrong shape", "w2 has shape"),
                                         ("sha256 mismatch", "but the model card"),
                                         ("verdict not a rule", "its verdict is not an answer rule"),
                                         ("threshold not a number", "min_confidence must be a finite number")])
def test_bad_weights_mean_not_ready(tmp_path, caplog, kind, reason):
    with caplog.at_level("ERROR"):
        app = create_app({"TESTING": True, "WEIGHTS_PATH": str(broken_weights(tmp_path, kind))})
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and reason in errors[0].getMessage()
    client = app.test_client()
    assert client.get("/v2/health/live").status_code == 200
    ready = client.get("/v2/health/ready")
    assert ready.status_code == 503 and reason in ready.get_json()["reason"]
    predict = client.post("/api/predict", json={"pixels": DIGIT.ravel().tolist()})
    assert predict.status_code == 503
    assert predict.get_json()["type"] == "/docs#problem-not-ready"
    assert client.get("/api/model").status_code == 503
    name = "mnist-784-16-16-10"
    assert client.get(f"/v2/models/{name}/ready").status_code == 503
    infer = client.post(f"/v2/models/{name}/infer", json={"inputs": []})
    assert infer.status_code == 503 and "error" in infer.get_json()


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("MAX_BATCH", "3")
    monkeypatch.setenv("UNCERTAIN_MAX_RATIO", "0.25")
    app = create_app({"TESTING": True})
    assert app.config["MAX_BATCH"] == 3 and app.extensions["digits"].rule.max_ratio == 0.25
    monkeypatch.setenv("MAX_BATCH", "many")
    with pytest.raises(ValueError, match="MAX_BATCH"):
        create_app({"TESTING": True})
    monkeypatch.setenv("MAX_BATCH", "3")
    for bad in ("half", "nan", "-1"):  # no number, or none the rule can compare with
        monkeypatch.setenv("UNCERTAIN_MAX_RATIO", bad)
        with pytest.raises(ValueError, match="UNCERTAIN_MAX_RATIO"):
            create_app({"TESTING": True})
