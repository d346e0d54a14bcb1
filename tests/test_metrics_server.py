"""GET /metrics under the real production command (gunicorn -c gunicorn.conf.py) with 4
workers: every worker's requests are counted, whichever worker answers the scrape, and a
worker killed with SIGKILL takes none of its counts with it.

Which worker served a request is read from prometheus_client's own per-process files in
the metrics directory (``counter_<pid>.db``), the very files /metrics adds up: nothing is
added to the product to tell workers apart.
"""
from __future__ import annotations

import json
import os
import signal
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from tests.live_server import Gunicorn, get, post_json

pytestmark = pytest.mark.server

N = 40            # predictions, each on a fresh connection: the kernel spreads them over the workers
SCRAPES = 12      # scrapes, each on a fresh connection too
PREDICT = {"route": "/api/predict", "method": "POST", "status": "200"}
BASE = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()  # gunicorn.conf.py's


def pixels(i: int) -> list[float]:
    ink = np.zeros((28, 28))
    ink[5:23, 10 + i % 5:14 + i % 5] = 1.0
    return ink.ravel().tolist()


def scrape(url: str) -> dict[tuple[str, frozenset], float]:
    status, headers, body = get(url + "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(body.decode())
            for s in family.samples}


def total(samples, name: str, **labels: str) -> float:
    """The sum over the samples of ``name`` whose labels include ``labels``."""
    return sum(v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= ls)


def per_process(directory: Path, name: str, **labels: str) -> Counter:
    """pid → the value of counter ``name`` (samples with ``labels``) in that process's file."""
    found: Counter = Counter()
    for path in directory.glob("counter_*.db"):
        pid = int(path.stem.split("_")[1])
        for key, value, _, _ in MmapedDict.read_all_values_from_file(str(path)):
            _, sample, sample_labels, _ = json.loads(key)
            if sample == name and labels.items() <= sample_labels.items():
                found[pid] += value
    return +found


def predict(url: str, count: int, offset: int = 0) -> Counter:
    said: Counter = Counter()
    for i in range(offset, offset + count):
        status, _, body = post_json(url + "/api/predict", {"pixels": pixels(i)})
        assert status == 200, body[:300]
        said["unsure" if json.loads(body)["uncertain"] else "digit"] += 1
    return said


def test_every_worker_is_counted_and_a_killed_worker_keeps_its_counts():
    # An empty PROMETHEUS_MULTIPROC_DIR is "not set": the server makes its default directory.
    with Gunicorn(env={"WEB_CONCURRENCY": "4", "PROMETHEUS_MULTIPROC_DIR": ""}) as server:
        directory = Path(BASE) / f"digits-metrics-{server.pid}"
        assert directory.is_dir()
        workers = set(server.workers())
        assert len(workers) == 4

        said = predict(server.url, N)
        served = per_process(directory, "digits_predictions_total")
        assert sum(served.values()) == N
        assert set(served) <= workers and len(served) >= 2, f"predictions by worker pid: {dict(served)}"

        for _ in range(SCRAPES):
            samples = scrape(server.url)
            assert total(samples, "digits_predictions_total") == N
            assert total(samples, "digits_predictions_total", input="pixels", answer="digit") == said["digit"]
            assert total(samples, "digits_http_requests_total", **PREDICT) == N
            assert total(samples, "digits_predict_duration_seconds_count") == N
            assert total(samples, "digits_model_loaded") == 1
        scraped_by = per_process(directory, "digits_http_requests_total", route="/metrics")
        assert sum(scraped_by.values()) == SCRAPES and len(scraped_by) >= 2, dict(scraped_by)

        # A worker that served predictions dies without a chance to say anything.
        victim = max(served, key=served.get)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (victim in server.workers() or len(server.workers()) < 4):
            time.sleep(0.05)
        assert victim not in server.workers() and len(server.workers()) == 4
        server.wait_answering("/v2/health/ready")

        for _ in range(SCRAPES):
            samples = scrape(server.url)
            assert total(samples, "digits_predictions_total") == N
            assert total(samples, "digits_http_requests_total", **PREDICT) == N
        said += predict(server.url, 10, offset=N)
        for _ in range(4):
            samples = scrape(server.url)
            assert total(samples, "digits_predictions_total") == N + 10
            assert total(samples, "digits_predictions_total", answer="digit") == said["digit"]
            assert total(samples, "digits_predict_duration_seconds_count") == N + 10
        assert per_process(directory, "digits_predictions_total")[victim] == served[victim]
        assert "Traceback" not in server.log()
    assert not directory.exists(), "the default metrics directory outlived the server"


def test_a_server_starts_from_zero_in_a_directory_from_the_environment(tmp_path):
    stale = MmapedDict(str(tmp_path / "counter_99999.db"))  # what a previous server left behind
    stale.write_value(json.dumps(["digits_predictions", "digits_predictions_total",
                                  {"input": "pixels", "answer": "digit"}, "left over"]), 7.0, 0.0)
    stale.close()
    with Gunicorn(env={"WEB_CONCURRENCY": "2", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}) as server:
        assert not (tmp_path / "counter_99999.db").exists()
        assert total(scrape(server.url), "digits_predictions_total") == 0
        predict(server.url, 3)
        assert total(scrape(server.url), "digits_predictions_total") == 3
    assert tmp_path.is_dir()  # the operator's directory stays
