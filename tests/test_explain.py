"""POST /api/explain: its numbers against finite differences, and its contract.

The derivatives are checked numerically — central differences in float64 on the served
network, never the formulas of model/explain.py — on the exact input the server used.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from model import explain
from model.network import backprop, forward
from server.openapi_parts import EXAMPLE_DRAWING
from tests.drawing import canvas_png, data_url, png_declaring

H = 1e-5  # central-difference step (inputs, activations and weights are all O(1))
SEVEN = EXAMPLE_DRAWING  # the 7 of /docs and of the OpenAPI examples
DIGIT = np.zeros((28, 28))
DIGIT[5:23, 13:16] = 1.0  # a plain "1"
ONE = DIGIT.ravel().tolist()
PREDICT_FIELDS = {"digit", "confidence", "verdict", "uncertain", "runner_up", "output", "activations",
                  "preprocessing", "model"}
EXPLAIN_FIELDS = {"target", "attribution", "cost", "nudges", "top_weights", "descent"}


def sigma(z):
    return 1.0 / (1.0 + np.exp(-z))


def served_input(pixels) -> np.ndarray:
    """What the server feeds the network for {"pixels": pixels}: float32, as float64."""
    return np.asarray(pixels, np.float64).astype(np.float32).astype(np.float64).ravel()


def cost_of(weights, biases, x, target) -> float:
    """The lesson's C = Σ (a_j − y_j)² for one input, straight from the forward pass."""
    a3 = forward(weights, biases, x[None])[-1][0]
    y = np.eye(10)[target]
    return float(((a3 - y) ** 2).sum())


def post(client, **body):
    response = client.post("/api/explain", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()


@pytest.fixture(scope="module")
def wrong(mnist, network):
    """Indices of MNIST test digits the served network gets wrong."""
    return np.flatnonzero(network.predict(mnist.test.images) != mnist.test.labels)


# --- the numbers, against finite differences ----------------------------------------


@pytest.mark.parametrize("case", ["own answer", "other target"])
def test_attribution_is_input_times_the_gap_gradient(client, network, mnist, wrong, case):
    i = int(wrong[0])
    x = served_input(mnist.test.images[i])
    body = {"pixels": mnist.test.images[i].tolist()}
    if case == "other target":
        body["target"] = int(mnist.test.labels[i])
    answer = post(client, **body)
    f, g = answer["attribution"]["for"], answer["attribution"]["against"]
    if case == "own answer":
        assert (f, g) == (answer["digit"], answer["runner_up"])
    else:
        assert (f, g) == (answer["target"], answer["digit"]) and f != g
    served = np.array(answer["attribution"]["pixels"])
    assert served.shape == (784,)
    rng = np.random.default_rng(0)
    sample = np.concatenate([rng.choice(np.flatnonzero(x > 0), 40, replace=False),
                             rng.choice(np.flatnonzero(x == 0), 5, replace=False)])
    shifted = np.repeat(x[None], 2 * len(sample), axis=0)
    shifted[np.arange(len(sample)), sample] += H
    shifted[len(sample) + np.arange(len(sample)), sample] -= H
    out = network.forward(shifted)[-1]
    gap = out[:, f] - out[:, g]
    numeric = x[sample] * (gap[:len(sample)] - gap[len(sample):]) / (2 * H)
    scale = np.abs(served).max()
    assert scale > 1e-3
    np.testing.assert_allclose(served[sample], numeric, rtol=1e-4, atol=1e-7 * scale)
    assert (served[x == 0] == 0).all()


def test_nudges_are_minus_the_cost_gradient_of_each_layer(client, network, mnist, wrong):
    i = int(wrong[1])
    x, target = served_input(mnist.test.images[i]), int(mnist.test.labels[i])
    answer = post(client, pixels=mnist.test.images[i].tolist(), target=target)
    (w1, w2, w3), (b1, b2, b3) = network.weights, network.biases
    a1 = sigma(w1 @ x + b1)
    a2 = sigma(w2 @ a1 + b2)
    y = np.eye(10)[target]
    downstream = {  # the cost as a function of one layer's activations
        "hidden1": lambda a: ((sigma(w3 @ sigma(w2 @ a + b2) + b3) - y) ** 2).sum(),
        "hidden2": lambda a: ((sigma(w3 @ a + b3) - y) ** 2).sum(),
        "output": lambda a: ((a - y) ** 2).sum(),
    }
    at = {"hidden1": a1, "hidden2": a2, "output": sigma(w3 @ a2 + b3)}
    assert answer["cost"] == pytest.approx(downstream["output"](at["output"]), rel=1e-5)
    for layer, cost in downstream.items():
        a = at[layer]
        numeric = []
        for j in range(len(a)):
            step = np.zeros_like(a)
            step[j] = H
            numeric.append(-(cost(a + step) - cost(a - step)) / (2 * H))
        served = answer["nudges"][layer]
        assert len(served) == len(a)
        np.testing.assert_allclose(served, numeric, rtol=1e-4, atol=1e-7, err_msg=layer)


def test_top_weights_have_the_largest_cost_gradients(client, network, mnist, wrong):
    i = int(wrong[2])
    x, target = served_input(mnist.test.images[i]), int(mnist.test.labels[i])
    answer = post(client, pixels=mnist.test.images[i].tolist(), target=target)
    top = answer["top_weights"]
    assert len(top) == 10
    weights = [np.array(w) for w in network.weights]

    def numeric(layer, to, from_):
        w = weights[layer - 1]
        kept = w[to, from_]
        costs = []
        for sign in (1, -1):
            w[to, from_] = kept + sign * H
            costs.append(cost_of(weights, network.biases, x, target))
        w[to, from_] = kept
        return (costs[0] - costs[1]) / (2 * H)

    for t in top:
        assert t["weight"] == pytest.approx(network.weights[t["layer"] - 1][t["to"], t["from"]], abs=1e-6)
        assert t["gradient"] == pytest.approx(numeric(t["layer"], t["to"], t["from"]), rel=1e-4, abs=1e-9)
    sizes = [abs(t["gradient"]) for t in top]
    assert sizes == sorted(sizes, reverse=True)
    assert len({(t["layer"], t["to"], t["from"]) for t in top}) == 10
    # No other weight's numeric gradient beats the tenth: every weight of layers 2 and 3,
    # and a sample of layer 1's (those on inked pixels, where layer 1's gradients live).
    rng = np.random.default_rng(1)
    inked = np.flatnonzero(x > 0)
    others = [(2, to, fr) for to in range(16) for fr in range(16)] + \
             [(3, to, fr) for to in range(10) for fr in range(16)] + \
             [(1, int(to), int(fr)) for to, fr in zip(rng.integers(0, 16, 300), rng.choice(inked, 300))]
    tenth = sizes[-1]
    chosen = {(t["layer"], t["to"], t["from"]) for t in top}
    for layer, to, fr in set(others) - chosen:
        assert abs(numeric(layer, to, fr)) <= tenth * (1 + 1e-4) + 1e-12, (layer, to, fr)


def test_one_descent_step_is_a_step_down_the_numeric_gradient(client, network, mnist, wrong):
    i = int(wrong[3])
    x, target = served_input(mnist.test.images[i]), int(mnist.test.labels[i])
    answer = post(client, pixels=mnist.test.images[i].tolist(), target=target, steps=1)
    eta = answer["descent"]["learning_rate"]
    assert eta == explain.DEFAULT_LEARNING_RATE
    params = [np.array(p) for p in network.weights + network.biases]
    weights, biases = params[:3], params[3:]
    stepped = []
    for p in params:  # every one of the 13,002 weights and biases, by central differences
        grad = np.empty_like(p)
        for idx in np.ndindex(p.shape):
            kept = p[idx]
            p[idx] = kept + H
            up = cost_of(weights, biases, x, target)
            p[idx] = kept - H
            down = cost_of(weights, biases, x, target)
            p[idx] = kept
            grad[idx] = (up - down) / (2 * H)
        stepped.append(p - eta * grad)
    output = forward(stepped[:3], stepped[3:], x[None])[-1][0]
    (first,) = answer["descent"]["steps"]
    assert first["step"] == 1
    assert np.abs(output - np.array(answer["output"])).max() > 1e-2  # the step moved something
    np.testing.assert_allclose(first["output"], output, atol=2e-6)
    assert first["cost"] == pytest.approx(((output - np.eye(10)[target]) ** 2).sum(), rel=1e-5)
    assert first["digit"] == int(np.argmax(output))


def test_descent_follows_the_weights_not_a_shortcut_error(network, mnist, wrong):
    """model.explain.descend tracks W1 x instead of W1; it equals descent on all the weights."""
    x, target = mnist.test.images[int(wrong[4])].astype(np.float64), int(mnist.test.labels[int(wrong[4])])
    for eta in (explain.DEFAULT_LEARNING_RATE, 3.0):
        weights, biases = list(network.weights), list(network.biases)
        y = np.eye(10)[target]
        descent = explain.descend(network, x, target, eta, 20)
        for output, c, digit in zip(descent.outputs, descent.costs, descent.digits):
            activations = forward(weights, biases, x[None])
            a3 = activations[-1]
            grad_w, grad_b = backprop(weights, activations, 2 * (a3 - y) * a3 * (1 - a3))
            weights = [w - eta * g for w, g in zip(weights, grad_w)]
            biases = [b - eta * g for b, g in zip(biases, grad_b)]
            expected = forward(weights, biases, x[None])[-1][0]
            np.testing.assert_allclose(output, expected, atol=1e-12)
            assert c == pytest.approx(((expected - y) ** 2).sum(), abs=1e-12)
            assert digit == np.argmax(expected)


def test_ten_default_steps_teach_the_network_a_digit_it_got_wrong(client, mnist, wrong):
    flipped = []
    for i in wrong[:10]:
        target = int(mnist.test.labels[i])
        answer = post(client, pixels=mnist.test.images[i].tolist(), target=target, steps=10)
        assert answer["digit"] != target
        steps = answer["descent"]["steps"]
        assert [s["step"] for s in steps] == list(range(1, 11))
        if steps[-1]["digit"] == target and int(np.argmax(steps[-1]["output"])) == target:
            flipped.append(int(i))
        assert steps[-1]["cost"] < answer["cost"]
    assert flipped, "10 steps at the default learning rate taught none of 10 wrong digits"


# --- the contract -------------------------------------------------------------------


def with_one(**options):
    return {"json": {"pixels": ONE, **options}}


BAD_REQUESTS = [
    # (id, request kwargs, status, problem code)
    ("batch form", {"json": {"inputs": [{"pixels": ONE}]}}, 400, "invalid-request"),
    ("JSON array", {"json": [ONE]}, 400, "invalid-request"),
    ("options only", {"json": {"target": 3}}, 400, "invalid-request"),
    ("two kinds", {"json": {"pixels": ONE, "image": data_url(canvas_png(DIGIT.ravel()))}}, 400, "invalid-request"),
    ("unknown field", with_one(colour="red"), 400, "invalid-request"),
    ("misspelt option", with_one(step=3), 400, "invalid-request"),
    ("invalid JSON", {"data": "{", "content_type": "application/json"}, 400, "malformed-json"),
    ("text/plain", {"data": "{}", "content_type": "text/plain"}, 415, "unsupported-media-type"),
    ("bad base64", {"json": {"image": "data:image/png;base64,@@"}}, 400, "bad-base64"),
    ("decompression bomb", {"json": {"image": data_url(png_declaring(20000, 20000))}}, 413, "image-too-large"),
    ("body over the limit", {"data": b" " * (2 * 1024 * 1024 + 1), "content_type": "application/json"},
     413, "payload-too-large"),
    ("empty pixels", {"json": {"pixels": [0.0] * 784}}, 422, "empty-drawing"),
    ("783 pixels", {"json": {"pixels": [0.5] * 783, "target": 3}}, 422, "bad-pixels"),
    ("bad strokes", {"json": {"strokes": "M 0 0", "steps": 2}}, 422, "bad-strokes"),
    ("target 10", with_one(target=10), 422, "invalid-option"),
    ("target -1", with_one(target=-1), 422, "invalid-option"),
    ("target 2.5", with_one(target=2.5), 422, "invalid-option"),
    ("target text", with_one(target="3"), 422, "invalid-option"),
    ("target true", with_one(target=True), 422, "invalid-option"),
    ("target null", with_one(target=None), 422, "invalid-option"),
    ("target list", with_one(target=[3]), 422, "invalid-option"),
    ("target huge", with_one(target=10 ** 30), 422, "invalid-option"),
    ("steps 51", with_one(steps=51), 422, "invalid-option"),
    ("steps -1", with_one(steps=-1), 422, "invalid-option"),
    ("steps 1.5", with_one(steps=1.5), 422, "invalid-option"),
    ("steps text", with_one(steps="10"), 422, "invalid-option"),
    ("steps false", with_one(steps=False), 422, "invalid-option"),
    ("learning rate 0", with_one(learning_rate=0), 422, "invalid-option"),
    ("learning rate -0.1", with_one(learning_rate=-0.1), 422, "invalid-option"),
    ("learning rate 10.5", with_one(learning_rate=10.5), 422, "invalid-option"),
    ("learning rate text", with_one(learning_rate="0.1"), 422, "invalid-option"),
    ("learning rate true", with_one(learning_rate=True), 422, "invalid-option"),
    ("learning rate object", with_one(learning_rate={"value": 1}), 422, "invalid-option"),
    ("learning rate 1e400", {"data": json.dumps({"pixels": ONE})[:-1] + ', "learning_rate": 1e400}',
                             "content_type": "application/json"}, 422, "invalid-option"),
    ("NaN learning rate", {"data": json.dumps({"pixels": ONE})[:-1] + ', "learning_rate": NaN}',
                           "content_type": "application/json"}, 400, "malformed-json"),
]


@pytest.mark.parametrize("kwargs,status,code", [b[1:] for b in BAD_REQUESTS], ids=[b[0] for b in BAD_REQUESTS])
def test_bad_requests_get_a_problem(client, kwargs, status, code):
    response = client.post("/api/explain", **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["type"] == f"/docs#problem-{code}" and problem["status"] == status
    assert problem["title"] and problem["detail"] and "Traceback" not in problem["detail"]
    if code == "invalid-option":  # the detail names the option and what it must be
        body = kwargs.get("json") or {"learning_rate": None}
        (option,) = set(body) & {"target", "steps", "learning_rate"}
        assert f'"{option}" must be' in problem["detail"]
    assert client.post("/api/explain", json={"pixels": ONE}).status_code == 200


def test_get_is_not_allowed(client):
    response = client.get("/api/explain")
    assert response.status_code == 405 and response.get_json()["type"] == "/docs#problem-method-not-allowed"


def check_explanation(answer, predicted):
    """Everything /api/predict said, plus the explanation's fields, in their shapes."""
    assert set(answer) == set(predicted) | EXPLAIN_FIELDS
    assert {k: answer[k] for k in predicted} == predicted
    assert set(answer["attribution"]) == {"for", "against", "pixels"}
    assert len(answer["attribution"]["pixels"]) == 784
    assert {k: len(v) for k, v in answer["nudges"].items()} == {"output": 10, "hidden2": 16, "hidden1": 16}
    assert 0 <= answer["cost"] <= 10
    for t in answer["top_weights"]:
        assert set(t) == {"layer", "to", "from", "weight", "gradient"}
        rows, columns = [(16, 784), (16, 16), (10, 16)][t["layer"] - 1]
        assert 0 <= t["to"] < rows and 0 <= t["from"] < columns
    assert set(answer["descent"]) == {"learning_rate", "steps"}


@pytest.mark.parametrize("kind", ["image", "strokes", "pixels"])
def test_each_input_kind(client, mnist, clear_test_digits, kind):
    if kind == "image":
        drawing = {"image": data_url(canvas_png(mnist.test.images[clear_test_digits[0]]))}
    elif kind == "strokes":
        drawing = SEVEN
    else:
        drawing = {"pixels": mnist.test.images[clear_test_digits[1]].tolist()}
    predicted = client.post("/api/predict", json=drawing).get_json()
    assert set(predicted) == PREDICT_FIELDS
    answer = post(client, **drawing, steps=3)
    check_explanation(answer, predicted)
    assert answer["preprocessing"]["source"] == kind
    assert len(answer["descent"]["steps"]) == 3


def test_default_target_is_the_networks_answer(client):
    answer = post(client, **SEVEN)
    assert answer["target"] == answer["digit"] == 7
    assert answer["attribution"]["for"] == 7 and answer["attribution"]["against"] == answer["runner_up"]
    nudges = answer["nudges"]["output"]  # the answer wants up, every other output down
    assert nudges[7] > 0 and all(n <= 0 for j, n in enumerate(nudges) if j != 7)


def test_another_target_flips_for_and_against(client):
    answer = post(client, **SEVEN, target=1)
    assert answer["target"] == 1 and answer["digit"] == 7
    assert (answer["attribution"]["for"], answer["attribution"]["against"]) == (1, 7)
    assert answer["nudges"]["output"][1] > 0 > answer["nudges"]["output"][7]
    assert post(client, **SEVEN, target=1.0)["target"] == 1  # a whole number written as 1.0


def test_no_steps_by_default(client):
    answer = post(client, pixels=ONE)
    assert answer["descent"] == {"learning_rate": explain.DEFAULT_LEARNING_RATE, "steps": []}
    assert post(client, pixels=ONE, steps=0)["descent"]["steps"] == []
    assert post(client, pixels=ONE, learning_rate=10)["descent"]["learning_rate"] == 10


def test_descent_never_changes_the_served_network(app, client, network, mnist, wrong):
    drawing = {"pixels": mnist.test.images[int(wrong[0])].tolist()}
    before = client.post("/api/predict", json=drawing).get_json()
    answer = post(client, **drawing, target=int(mnist.test.labels[int(wrong[0])]), steps=50, learning_rate=10)
    assert len(answer["descent"]["steps"]) == 50
    assert answer["descent"]["steps"][-1]["output"] != before["output"]
    after = client.post("/api/predict", json=drawing).get_json()
    assert after == before
    served = app.extensions["digits"].network
    for mine, loaded in zip(served.weights + served.biases, network.weights + network.biases):
        np.testing.assert_array_equal(mine, loaded)


def test_significant_digits():
    from server.explain import significant
    values = significant(np.array([1.23456789e-7, -9876.54321, 0.0, 1e-310, 123456789.0, 0.999999951]))
    assert values == [1.23457e-07, -9876.54, 0.0, 0.0, 123457000.0, 1.0]
    assert significant(2.0) == 2.0


def test_docs_explain_the_route(client):
    docs = client.get("/docs").get_data(as_text=True)
    assert 'id="explain"' in docs and "/api/explain" in docs
    assert f"default {explain.DEFAULT_LEARNING_RATE}" in docs
    spec = client.get("/openapi.json").get_json()
    assert spec["paths"]["/api/explain"]["post"]["operationId"] == "explain"
