"""GET /metrics, in-process: what each request adds, and that labels stay bounded.

The app here runs without gunicorn, so its metrics live in this process's own registry
(server/metrics.py's fallback); tests/test_metrics_server.py runs the real gunicorn command
with 4 workers and prometheus_client's multiprocess mode. Counters are shared by every app
this process makes, so each test compares a scrape after its requests with one before.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import uuid
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from app import create_app
from model.answer import VERDICTS, Rule, answer
from server import metrics
from server.openapi_parts import EXAMPLE_DRAWING
from tests.drawing import canvas_png, data_url

ROOT = Path(__file__).resolve().parent.parent
MODEL = "mnist-784-16-16-10"
REQUESTS = "digits_http_requests_total"
PREDICTIONS = "digits_predictions_total"


def scrape(client) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples


def labels(pairs: dict[str, str]) -> frozenset:
    return frozenset(pairs.items())


def value(samples, name: str, **pairs: str) -> float:
    return samples.get((name, labels(pairs)), 0.0)


def changes(before, after) -> dict[tuple[str, frozenset], float]:
    """Every sample that moved, and by how much (the scrape's own count left out)."""
    moved = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in before.keys() | after.keys()}
    scrape_count = (REQUESTS, labels({"route": "/metrics", "method": "GET", "status": "200"}))
    assert moved.pop(scrape_count, 0.0) == 1  # the first scrape itself
    return {k: v for k, v in moved.items() if v}


def bar() -> list[float]:
    """A vertical bar: a confident 1."""
    ink = np.zeros((28, 28))
    ink[5:23, 12:16] = 1.0
    return ink.ravel().tolist()


def blob() -> list[float]:
    """A filled square: the network is unsure what it is."""
    return np.pad(np.ones((10, 10)), 9).ravel().tolist()


def test_metrics_is_the_prometheus_text_format(client):
    client.post("/api/predict", json={"pixels": bar()})
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    names = {f.name: f.type for f in text_string_to_metric_families(response.get_data(as_text=True))}
    assert names == {"digits_http_requests": "counter", "digits_predict_duration_seconds": "histogram",
                     "digits_predictions": "counter", "digits_model_loaded": "gauge"}


def test_without_gunicorn_the_metrics_are_this_processs_own():
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        pytest.skip("PROMETHEUS_MULTIPROC_DIR is set in this test process's environment")
    assert metrics.MULTIPROCESS is False


def test_a_prediction_moves_its_counters_by_exactly_one(client):
    before = scrape(client)
    response = client.post("/api/predict", json={"pixels": bar()})
    assert response.status_code == 200 and response.get_json()["uncertain"] is False
    moved = changes(before, scrape(client))
    histogram = {k: v for k, v in moved.items() if k[0].startswith("digits_predict_duration_seconds")}
    assert {k: v for k, v in moved.items() if k not in histogram} == {
        (REQUESTS, labels({"route": "/api/predict", "method": "POST", "status": "200"})): 1,
        (PREDICTIONS, labels({"input": "pixels", "answer": "digit"})): 1,
    }
    assert histogram[("digits_predict_duration_seconds_count", frozenset())] == 1
    assert histogram[("digits_predict_duration_seconds_bucket", labels({"le": "+Inf"}))] == 1
    assert 0 < histogram[("digits_predict_duration_seconds_sum", frozenset())] < 10
    assert all(v == 1 for k, v in histogram.items() if k[0].endswith("_bucket"))


def test_a_batch_counts_each_input_by_its_kind(client):
    strokes = EXAMPLE_DRAWING
    image = {"image": data_url(canvas_png(np.array(bar())))}
    before = scrape(client)
    response = client.post("/api/predict", json={"inputs": [image, strokes, {"pixels": bar()}, {"pixels": blob()}]})
    assert response.status_code == 200
    said = Counter((p["preprocessing"]["source"], p["verdict"]) for p in response.get_json()["predictions"])
    assert sum(n for (source, _), n in said.items() if source == "pixels") == 2
    assert len({verdict for source, verdict in said if source == "pixels"}) == 2
    moved = changes(before, scrape(client))
    assert moved[(REQUESTS, labels({"route": "/api/predict", "method": "POST", "status": "200"}))] == 1
    assert {(dict(k[1])["input"], dict(k[1])["answer"]): v for k, v in moved.items() if k[0] == PREDICTIONS} == said


def test_errors_are_counted_by_status_and_predict_nothing(client):
    before = scrape(client)
    assert client.post("/api/predict", json={"pixels": [0.5]}).status_code == 422
    assert client.post("/api/predict", data="{", content_type="application/json").status_code == 400
    assert client.get("/api/predict").status_code == 405
    moved = changes(before, scrape(client))
    assert moved[(REQUESTS, labels({"route": "/api/predict", "method": "POST", "status": "422"}))] == 1
    assert moved[(REQUESTS, labels({"route": "/api/predict", "method": "POST", "status": "400"}))] == 1
    # A method the route does not take matches no rule.
    assert moved[(REQUESTS, labels({"route": "(unmatched)", "method": "GET", "status": "405"}))] == 1
    assert not [k for k in moved if k[0] == PREDICTIONS]
    assert moved[("digits_predict_duration_seconds_count", frozenset())] == 2  # any status


def test_a_404_adds_no_label_value_per_path(client):
    token = uuid.uuid4().hex
    before = scrape(client)
    for path in (f"/{token}", f"/api/{token}", f"/v2/{token}/x", f"/api/predict/{token}"):
        assert client.get(path).status_code == 404
    assert client.open("/api/predict", method="BREW").status_code == 405
    after = scrape(client)
    moved = changes(before, after)
    assert moved == {
        (REQUESTS, labels({"route": "(unmatched)", "method": "GET", "status": "404"})): 4,
        (REQUESTS, labels({"route": "(unmatched)", "method": "other", "status": "405"})): 1,
    }
    assert token not in client.get("/metrics").get_data(as_text=True)


def test_the_route_label_is_the_url_rule(client):
    before = scrape(client)
    assert client.get(f"/v2/models/{MODEL}").status_code == 200
    assert client.get("/v2/models/another-name").status_code == 404  # the rule matched; the model did not
    assert client.get(f"/v2/models/{MODEL}/versions/1/ready").status_code == 200
    assert client.get("/static/js/main.js").status_code == 200
    moved = changes(before, scrape(client))
    assert moved == {
        (REQUESTS, labels({"route": "/v2/models/<name>", "method": "GET", "status": "200"})): 1,
        (REQUESTS, labels({"route": "/v2/models/<name>", "method": "GET", "status": "404"})): 1,
        (REQUESTS, labels({"route": "/v2/models/<name>/versions/<version>/ready", "method": "GET",
                              "status": "200"})): 1,
        (REQUESTS, labels({"route": "/static/<path:filename>", "method": "GET", "status": "200"})): 1,
    }


def test_oip_infer_counts_each_row_as_a_tensor_prediction(client):
    before = scrape(client)
    response = client.post(f"/v2/models/{MODEL}/infer", json={"inputs": [
        {"name": "input", "datatype": "FP32", "shape": [2, 784], "data": bar() + blob()}]})
    assert response.status_code == 200
    verdicts = next(o["data"] for o in response.get_json()["outputs"] if o["name"] == "verdict")
    assert len(set(verdicts)) == 2
    moved = changes(before, scrape(client))
    assert moved == {
        (REQUESTS, labels({"route": "/v2/models/<name>/infer", "method": "POST", "status": "200"})): 1,
        **{(PREDICTIONS, labels({"input": "tensor", "answer": v})): 1 for v in verdicts},
    }


def test_the_answer_label_is_the_verdict(client):
    output = np.zeros(10)
    output[3] = 0.95
    labelled = []
    for second, verdict in ((0.0, "digit"), (0.9, "unsure")):
        output[5] = second
        said = answer(output, Rule())
        assert said.verdict == verdict
        labelled.append(said)
    labelled.append(answer(np.full(10, 0.01), Rule()))
    before = scrape(client)
    metrics.count_predictions("pixels", labelled)
    assert changes(before, scrape(client)) == {
        (PREDICTIONS, labels({"input": "pixels", "answer": v})): 1 for v in VERDICTS}


def test_model_loaded_follows_the_model(client, tmp_path):
    assert value(scrape(client), "digits_model_loaded") == 1
    broken = create_app({"TESTING": True, "WEIGHTS_PATH": str(tmp_path / "missing.npz")}).test_client()
    assert value(scrape(broken), "digits_model_loaded") == 0


def test_kubernetes_pods_ask_prometheus_to_scrape_metrics(client):
    """docs/kubernetes.yaml's pod template carries the prometheus.io annotations, and they
    point at the serving port and a route that answers."""
    (deployment,) = [d for d in yaml.safe_load_all((ROOT / "docs" / "kubernetes.yaml").read_text())
                     if d and d["kind"] == "Deployment"]
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(container["ports"][0]["containerPort"])
    response = client.get(annotations["prometheus.io/path"])
    assert response.status_code == 200 and response.mimetype == "text/plain"


# --- gunicorn.conf.py's metrics directory -------------------------------------------------------

BASE = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()  # as gunicorn.conf.py says
CONF_PROBE = """
import json, os, runpy, sys
settings = runpy.run_path("gunicorn.conf.py")
first = os.environ["PROMETHEUS_MULTIPROC_DIR"]
print(json.dumps({"pid": os.getpid(), "dir": first, "files": sorted(os.listdir(first))}))
if sys.argv[1] == "reload":  # gunicorn reads the file again on SIGHUP
    open(os.path.join(first, "counter_1.db"), "wb").close()
    settings = runpy.run_path("gunicorn.conf.py")
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == first and os.listdir(first) == ["counter_1.db"]
settings["on_exit"](None)
print(json.dumps({"exists": os.path.isdir(first)}))
"""


def run_conf(env: dict[str, str], mode: str = "once") -> tuple[dict, dict]:
    clean = {k: v for k, v in os.environ.items() if k not in ("PROMETHEUS_MULTIPROC_DIR", "DIGITS_METRICS_PID")}
    run = subprocess.run([sys.executable, "-c", CONF_PROBE, mode], cwd=ROOT, env={**clean, **env},
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    first, last = run.stdout.splitlines()
    return json.loads(first), json.loads(last)


def test_the_default_metrics_dir_is_the_masters_own_and_goes_with_it():
    started, ended = run_conf({})
    assert started["dir"] == os.path.join(BASE, f"digits-metrics-{started['pid']}")
    assert started["files"] == [] and ended == {"exists": False}


def test_a_metrics_dir_from_the_environment_is_emptied_and_kept(tmp_path):
    (tmp_path / "counter_123.db").write_bytes(b"stale")
    (tmp_path / "histogram_123.db").write_bytes(b"stale")
    (tmp_path / "README").write_text("not ours")
    started, ended = run_conf({"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)})
    assert started["dir"] == str(tmp_path) and started["files"] == ["README"]
    assert ended == {"exists": True}


def test_a_server_started_by_a_server_makes_its_own_metrics_dir():
    parent = os.path.join(BASE, "digits-metrics-1")
    started, ended = run_conf({"PROMETHEUS_MULTIPROC_DIR": parent, "DIGITS_METRICS_PID": "1"})
    assert started["dir"].endswith(f"digits-metrics-{started['pid']}")
    assert ended == {"exists": False}


def test_a_reload_keeps_the_counts():
    run_conf({}, mode="reload")
