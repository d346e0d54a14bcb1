""""Watch it learn", the serving side: GET /api/training, GET /api/training/<id>, and
"checkpoint" in /api/predict and /api/explain.

Tests marked ``snapshots`` run against the real snapshot files beside the shipped weights
(``weights/mnist-784-16-16-10.checkpoints.{npz,json}``, written by ``python -m
training.train``) through the app's default paths. The rest build their own files in a
temporary folder: missing, of other weights, or otherwise unusable snapshots.
"""
from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from app import create_app
from model import checkpoints, explain, preprocess
from model.network import ARRAY_NAMES, Network
from server.openapi_parts import EXAMPLE_DRAWING
from tests.conftest import CARD, WEIGHTS

DIGIT = np.zeros((28, 28))
DIGIT[5:23, 13:16] = 1.0  # a plain "1"
ONE = DIGIT.ravel().tolist()
SEVEN = EXAMPLE_DRAWING  # the 7 of /docs and of the OpenAPI examples
SNAPSHOT_NPZ, SNAPSHOT_JSON = checkpoints.paths(WEIGHTS)


@pytest.fixture(scope="module")
def run(card):
    """GET /api/training from the app as it starts by default (the real files)."""
    client = create_app({"TESTING": True}).test_client()
    response = client.get("/api/training")
    assert response.status_code == 200, (
        f"/api/training answered {response.status_code}: {response.get_data(as_text=True)[:400]} "
        f"(these tests need the real snapshots beside the weights: {SNAPSHOT_NPZ.name})")
    return response.get_json()


def post(client, path, body, status=200):
    response = client.post(path, json=body)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    return response.get_json()


def check_problem(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["type"] == f"/docs#problem-{code}" and problem["status"] == status
    assert problem["title"] and problem["detail"] and "Traceback" not in problem["detail"]
    return problem


# --- GET /api/training ----------------------------------------------------------------------

@pytest.mark.snapshots
def test_the_list_of_snapshots(client, run, card):
    assert set(run) == {"checkpoints", "curve"}
    snaps = run["checkpoints"]
    assert len(snaps) >= 16, "the training run keeps at least 16 snapshots"
    assert [s["id"] for s in snaps] == list(range(len(snaps)))
    for s in snaps:
        assert set(s) == {"id", "examples_seen", "epoch", "cost", "test_accuracy"}
        assert isinstance(s["examples_seen"], int) and s["examples_seen"] >= 0
        assert 0 <= s["test_accuracy"] <= 1 and s["cost"] >= 0 and s["epoch"] >= 0
    seen = [s["examples_seen"] for s in snaps]
    assert seen == sorted(seen) and seen[0] == 0, "from the initial weights on, in training order"
    # The last snapshot is the shipped network: the model card's accuracy is its accuracy.
    assert snaps[-1]["test_accuracy"] == pytest.approx(card["test_accuracy"], abs=1e-4)
    assert snaps[0]["test_accuracy"] < 0.3, "the initial random weights are about as good as a guess"
    for point in run["curve"]:
        assert set(point) == {"examples_seen", "cost"}
        assert isinstance(point["examples_seen"], int) and point["cost"] >= 0
    # The very numbers of the metadata file.
    meta = json.loads(SNAPSHOT_JSON.read_text())
    assert meta["model_sha256"] == card["sha256"]
    for s, record in zip(snaps, meta["snapshots"]):
        assert s == {k: record[k] for k in s}


@pytest.mark.snapshots
def test_each_recorded_accuracy_is_the_served_forward_pass(client, app, run, snapshots, mnist):
    """Every snapshot's test_accuracy is what Network.forward gives on MNIST test with that
    snapshot's weights, as loaded by model.checkpoints — and those are the weights served."""
    networks, meta = snapshots
    run_served = app.extensions["digits"].run
    served = [run_served.network(k) for k in range(run_served.count)]
    assert len(networks) == len(served) == len(run["checkpoints"]) == meta["count"]
    for net, mine, record in zip(networks, served, run["checkpoints"]):
        for a, b in zip(net.weights + net.biases, mine.weights + mine.biases):
            np.testing.assert_array_equal(a, b)
        output = net.forward(mnist.test.images)[-1]
        accuracy = float((np.argmax(output, axis=1) == mnist.test.labels).mean())
        assert record["test_accuracy"] == pytest.approx(accuracy, abs=5e-6), record["id"]


@pytest.mark.snapshots
def test_the_list_is_cacheable(client):
    first = client.get("/api/training")
    etag = first.headers["ETag"]
    assert etag.startswith('"') and first.headers["Cache-Control"] == "public, max-age=300, must-revalidate"
    again = client.get("/api/training", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    assert client.get("/api/training", headers={"If-None-Match": '"other"'}).status_code == 200


# --- GET /api/training/<id> ----------------------------------------------------------------

@pytest.mark.snapshots
def test_every_snapshot_has_its_weights_in_the_model_layout(client, app, run):
    model = client.get("/api/model").get_json()
    loaded = app.extensions["digits"].run
    networks = [loaded.network(k) for k in range(loaded.count)]
    for record, net in zip(run["checkpoints"], networks):
        response = client.get(f"/api/training/{record['id']}")
        assert response.status_code == 200 and response.mimetype == "application/json"
        doc = response.get_json()
        assert set(doc) == {"id", "examples_seen", "layers"}
        assert (doc["id"], doc["examples_seen"]) == (record["id"], record["examples_seen"])
        assert [(len(layer["weights"]), len(layer["weights"][0]), len(layer["biases"]))
                for layer in doc["layers"]] == [(16, 784, 16), (16, 16, 16), (10, 16, 10)]
        for layer, w, b in zip(doc["layers"], net.weights, net.biases):  # rounded as /api/model
            assert layer["weights"] == np.round(w, 6).tolist() and layer["biases"] == np.round(b, 6).tolist()
    # The last snapshot is the served network, in the same numbers /api/model gives.
    assert client.get(f"/api/training/{len(networks) - 1}").get_json()["layers"] == model["layers"]
    assert client.get("/api/training/0").get_json()["layers"] != model["layers"]


@pytest.mark.snapshots
def test_a_snapshot_is_cacheable_and_immutable_when_pinned_to_the_model(client, card):
    plain = client.get("/api/training/1")
    etag = plain.headers["ETag"]
    assert plain.headers["Cache-Control"] == "public, max-age=300, must-revalidate"
    pinned = client.get(f"/api/training/1?model={card['sha256']}")
    assert pinned.status_code == 200 and pinned.data == plain.data and pinned.headers["ETag"] == etag
    assert pinned.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    for url in ("/api/training/1", f"/api/training/1?model={card['sha256']}"):
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    assert client.get("/api/training/2").headers["ETag"] != etag
    assert client.get("/api/training/1", headers={"If-None-Match": '"other"'}).status_code == 200


@pytest.mark.snapshots
@pytest.mark.parametrize("path", [
    "LAST+1", "1000000", "99999999999999999999", "-1", "-0", "+1", "01", "00", "1.0", "1e1", "0x1",
    "one", "%201", "1%20", "%EF%BC%91",  # a full-width digit one: int() would take it
])
def test_unknown_snapshot_ids_are_404(client, run, path):
    path = path.replace("LAST+1", str(len(run["checkpoints"])))
    problem = check_problem(client.get(f"/api/training/{path}"), 404, "unknown-checkpoint")
    assert f"the ids are 0 to {len(run['checkpoints']) - 1}" in problem["detail"]


@pytest.mark.snapshots
def test_a_snapshot_of_another_model_is_404(client):
    problem = check_problem(client.get("/api/training/0?model=" + "0" * 64), 404, "unknown-checkpoint")
    assert "ask GET /api/model" in problem["detail"]
    check_problem(client.get("/api/training/0?model="), 404, "unknown-checkpoint")


def test_only_get(client):
    for path in ("/api/training", "/api/training/0"):
        check_problem(client.post(path, json={}), 405, "method-not-allowed")


# --- "checkpoint" in /api/predict and /api/explain ------------------------------------------

@pytest.mark.snapshots
def test_the_last_snapshot_answers_exactly_as_the_served_network(client, run, mnist):
    last = run["checkpoints"][-1]
    for drawing in ({"pixels": ONE}, SEVEN, {"pixels": mnist.test.images[0].tolist()}):
        served = post(client, "/api/predict", drawing)
        answer = post(client, "/api/predict", {**drawing, "checkpoint": last["id"]})
        assert answer["model"] == {**served["model"], "checkpoint": {"id": last["id"],
                                                                     "examples_seen": last["examples_seen"]}}
        assert {k: v for k, v in answer.items() if k != "model"} == \
               {k: v for k, v in served.items() if k != "model"}
        assert "checkpoint" not in served["model"]


@pytest.mark.snapshots
def test_the_first_snapshot_answers_as_its_own_weights(client, app, run):
    first = app.extensions["digits"].run.network(0)
    served = post(client, "/api/predict", SEVEN)
    answer = post(client, "/api/predict", {**SEVEN, "checkpoint": 0})
    assert answer["model"]["checkpoint"] == {"id": 0, "examples_seen": run["checkpoints"][0]["examples_seen"]}
    assert answer["output"] != served["output"]
    assert answer["activations"]["input"] == served["activations"]["input"]  # the same drawing
    x = preprocess.from_strokes(SEVEN["strokes"], SEVEN["width"], SEVEN["height"]).pixels  # what was fed
    _, a1, a2, a3 = first.forward(x)
    np.testing.assert_allclose(answer["activations"]["hidden1"], a1, atol=2e-6)
    np.testing.assert_allclose(answer["activations"]["hidden2"], a2, atol=2e-6)
    np.testing.assert_allclose(answer["output"], a3, atol=2e-6)
    assert answer["digit"] == int(np.argmax(answer["output"]))
    # Written as 0.0 it is the same snapshot (as explain's whole-number options).
    assert post(client, "/api/predict", {**SEVEN, "checkpoint": 0.0}) == answer


@pytest.mark.snapshots
def test_a_batch_is_answered_by_one_snapshot(client, run, mnist):
    k = len(run["checkpoints"]) // 2
    items = [{"pixels": mnist.test.images[i].tolist()} for i in range(3)] + [SEVEN]
    batch = post(client, "/api/predict", {"inputs": items, "checkpoint": k})["predictions"]
    assert len(batch) == 4
    for item, answer in zip(items, batch):
        assert answer == post(client, "/api/predict", {**item, "checkpoint": k})
        assert answer["model"]["checkpoint"]["id"] == k
    served = post(client, "/api/predict", {"inputs": items})["predictions"]
    assert all("checkpoint" not in a["model"] for a in served)


@pytest.mark.snapshots
def test_explain_starts_from_the_snapshot(client, app, run, mnist):
    k = len(run["checkpoints"]) // 2
    net = app.extensions["digits"].run.network(k)
    drawing = {"pixels": mnist.test.images[7].tolist()}
    target = int(mnist.test.labels[7])
    answer = post(client, "/api/explain", {**drawing, "checkpoint": k, "target": target, "steps": 3})
    predicted = post(client, "/api/predict", {**drawing, "checkpoint": k})
    assert {key: answer[key] for key in predicted} == predicted  # the snapshot's prediction
    served = post(client, "/api/explain", {**drawing, "target": target, "steps": 3})
    assert answer["nudges"] != served["nudges"] and answer["descent"] != served["descent"]
    x = np.asarray(drawing["pixels"], np.float64).astype(np.float32).astype(np.float64)  # what was fed
    lesson = explain.lesson(net, x, target)
    assert answer["cost"] == pytest.approx(lesson.cost, rel=1e-5)
    np.testing.assert_allclose(answer["nudges"]["output"], lesson.nudges[2], rtol=1e-5, atol=1e-9)
    descent = explain.descend(net, x, target, explain.DEFAULT_LEARNING_RATE, 3)
    for step, output in zip(answer["descent"]["steps"], descent.outputs):
        np.testing.assert_allclose(step["output"], output, atol=2e-6)


def bad_checkpoints(count: int):
    return [("-1", -1), ("count", count), ("huge", 10 ** 30), ("2.5", 2.5), ("text", "3"), ("true", True),
            ("false", False), ("null", None), ("list", [3]), ("object", {"id": 3})]


@pytest.mark.snapshots
@pytest.mark.parametrize("where", ["predict", "batch", "explain"])
def test_bad_checkpoint_values_are_422_saying_what_to_fix(client, run, where):
    count = len(run["checkpoints"])
    for name, value in bad_checkpoints(count):
        if where == "batch":
            body, path = {"inputs": [{"pixels": ONE}], "checkpoint": value}, "/api/predict"
        else:
            body, path = {"pixels": ONE, "checkpoint": value}, f"/api/{'explain' if where == 'explain' else 'predict'}"
        problem = check_problem(client.post(path, json=body), 422, "invalid-checkpoint")
        assert problem["detail"].startswith(f'"checkpoint" must be a whole number from 0 to {count - 1}'), name
        assert "leave it out for the served network" in problem["detail"]
    assert post(client, "/api/predict", {"pixels": ONE, "checkpoint": count - 1})["model"]["checkpoint"]["id"] == count - 1


def test_a_checkpoint_inside_a_batch_input_is_400(client):
    problem = check_problem(client.post("/api/predict", json={"inputs": [{"pixels": ONE}, {"pixels": ONE, "checkpoint": 0}]}),
                            400, "invalid-request")
    assert problem["detail"].startswith('inputs[1]: "checkpoint" goes once, beside "inputs"')
    check_problem(client.post("/api/predict", json={"inputs": [{"pixels": ONE}], "checkpoints": 0}), 400, "invalid-request")


# --- snapshots missing or not of the served network: predictions go on, /api/training says why --

def write_run(directory: Path, networks: list[Network], model_sha256: str, curve=None,
              edit=lambda meta: None, edit_arrays=lambda arrays: None) -> Path:
    """Snapshot files in model/checkpoints.py's format, for tests: ``networks`` in order."""
    npz, meta_path = checkpoints.paths(directory / WEIGHTS.name)
    arrays = {name: np.stack([n.to_arrays()[name] for n in networks]).astype(np.float32) for name in ARRAY_NAMES}
    edit_arrays(arrays)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    npz.write_bytes(buffer.getvalue())
    meta = {"model_sha256": model_sha256, "sha256": hashlib.sha256(buffer.getvalue()).hexdigest(),
            "count": len(networks), "convention": "test files",
            "snapshots": [{"id": i, "step": i, "examples_seen": 100 * i, "epoch": i / 10, "cost": 2.0 / (i + 1),
                           "test_accuracy": 0.1 + 0.8 * i / len(networks), "calibration": {"a": 1, "b": 0}}
                          for i in range(len(networks))],
            "curve": curve if curve is not None else {"examples_seen": [50, 150], "cost": [1.5, 0.8]}}
    edit(meta)
    meta_path.write_text(json.dumps(meta))
    return npz


def served_network() -> Network:
    return Network.load(WEIGHTS)


def sha256() -> str:
    return json.loads(CARD.read_text())["sha256"]


def test_snapshot_files_anywhere_through_the_setting(tmp_path):
    """CHECKPOINTS_PATH points at any <name>.checkpoints.npz; the curve is read as columns
    (what the training run writes) or records, and served as records."""
    start = Network.random(np.random.default_rng(0))
    for curve in ({"examples_seen": [50, 150], "cost": [1.5, 0.8], "what": "columns"},
                  [{"examples_seen": 50, "cost": 1.5}, {"examples_seen": 150, "cost": 0.8}]):
        path = write_run(tmp_path, [start, served_network()], sha256(), curve)
        client = create_app({"TESTING": True, "CHECKPOINTS_PATH": str(path)}).test_client()
        run = client.get("/api/training").get_json()
        assert run["curve"] == [{"examples_seen": 50, "cost": 1.5}, {"examples_seen": 150, "cost": 0.8}]
        assert [c["id"] for c in run["checkpoints"]] == [0, 1]
        assert run["checkpoints"][1] == {"id": 1, "examples_seen": 100, "epoch": 0.1, "cost": 1.0,
                                         "test_accuracy": 0.5}
        assert post(client, "/api/predict", {"pixels": ONE, "checkpoint": 1})["model"]["checkpoint"] == \
               {"id": 1, "examples_seen": 100}


def other_network() -> Network:
    served = served_network()
    return Network(served.weights, (served.biases[0] + 1e-3,) + served.biases[1:])


def metadata_a_list(directory: Path) -> Path:
    npz = write_run(directory, [served_network()], sha256())
    checkpoints.paths(directory / WEIGHTS.name)[1].write_text("[]")
    return npz


FAULTS = [
    # (id, how the files are made (or not), what the reason says)
    ("missing", lambda d: d / "nothing.checkpoints.npz", "does not exist"),
    ("another name", lambda d: d / "snapshots.npz", "is not named <name>.checkpoints.npz"),
    ("wrong model_sha256", lambda d: write_run(d, [other_network(), served_network()], "0" * 64),
     "belong to weights with sha256 " + "0" * 64),
    ("last is not the served network", lambda d: write_run(d, [served_network(), other_network()], sha256()),
     "is not the served network"),
    ("npz changed", lambda d: write_run(d, [served_network()], sha256(), edit=lambda m: m.update(sha256="1" * 64)),
     "does not match the sha256"),
    ("accuracy as a percentage", lambda d: write_run(d, [served_network()], sha256(),
                                                     edit=lambda m: m["snapshots"][0].update(test_accuracy=96.6)),
     "test_accuracy is 96.6, not a fraction in [0, 1]"),
    ("ids out of order", lambda d: write_run(d, [other_network(), served_network()], sha256(),
                                             edit=lambda m: m["snapshots"][0].update(id=1)),
     "the ids must be 0, 1, … in order"),
    ("metadata a list", lambda d: metadata_a_list(d), "does not have the layout"),
    ("a snapshot not finite", lambda d: write_run(d, [other_network(), served_network()], sha256(),
                                                  edit_arrays=lambda a: a["w1"][0].__setitem__((0, 0), np.nan)),
     "not finite numbers"),
]


@pytest.mark.parametrize("make,reason", [f[1:] for f in FAULTS], ids=[f[0] for f in FAULTS])
def test_unusable_snapshots_leave_predictions_working(tmp_path, caplog, make, reason):
    path = make(tmp_path)
    with caplog.at_level("WARNING"):
        app = create_app({"TESTING": True, "CHECKPOINTS_PATH": str(path)})
    said = [r.getMessage() for r in caplog.records if r.levelname in ("WARNING", "ERROR")]
    assert len(said) == 1 and reason in said[0], said
    client = app.test_client()
    assert client.get("/v2/health/ready").status_code == 200
    assert post(client, "/api/predict", {"pixels": ONE})["digit"] == 1
    assert post(client, "/api/explain", {"pixels": ONE})["digit"] == 1
    for path in ("/api/training", "/api/training/0", "/api/training/x"):
        problem = check_problem(client.get(path), 503, "training-unavailable")
        assert reason in problem["detail"]
    for route, body in (("/api/predict", {"pixels": ONE, "checkpoint": 0}),
                        ("/api/predict", {"inputs": [{"pixels": ONE}], "checkpoint": 0}),
                        ("/api/explain", {"pixels": ONE, "checkpoint": 0})):
        problem = check_problem(client.post(route, json=body), 503, "training-unavailable")
        assert reason in problem["detail"] and 'Leave "checkpoint" out' in problem["detail"]
    spec = client.get("/openapi.json").get_json()
    assert "maximum" not in spec["components"]["schemas"]["Snapshot"]["properties"]["id"]


@pytest.mark.snapshots
def test_a_copy_of_the_real_snapshots_claiming_other_weights_is_refused(tmp_path):
    npz, meta_path = checkpoints.paths(tmp_path / WEIGHTS.name)
    shutil.copy(SNAPSHOT_NPZ, npz)
    meta = json.loads(SNAPSHOT_JSON.read_text())
    meta["model_sha256"] = "f" * 64
    meta_path.write_text(json.dumps(meta))
    client = create_app({"TESTING": True, "CHECKPOINTS_PATH": str(npz)}).test_client()
    check_problem(client.get("/api/training"), 503, "training-unavailable")
    assert client.post("/api/predict", json={"pixels": ONE}).status_code == 200


# --- the documents ----------------------------------------------------------------------------

@pytest.mark.snapshots
def test_openapi_and_docs_describe_the_routes(client, run, card):
    spec = client.get("/openapi.json").get_json()
    last = len(run["checkpoints"]) - 1
    assert spec["paths"]["/api/training"]["get"]["operationId"] == "training"
    operation = spec["paths"]["/api/training/{id}"]["get"]
    (id_param, model_param) = operation["parameters"]
    assert id_param["schema"] == {"type": "integer", "minimum": 0, "maximum": last}
    assert model_param["schema"] == {"type": "string", "const": card["sha256"]}
    schemas = spec["components"]["schemas"]
    for request in schemas["PredictRequest"]["oneOf"] + schemas["ExplainRequest"]["oneOf"]:
        assert request["properties"]["checkpoint"]["maximum"] == last
    assert schemas["BatchRequest"]["properties"]["checkpoint"]["maximum"] == last
    docs = client.get("/docs").get_data(as_text=True)
    assert 'id="training"' in docs and "curl -s http://localhost:8000/api/training" in docs
    assert '"checkpoint": 0' in docs
