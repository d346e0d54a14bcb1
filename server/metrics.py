"""Prometheus metrics at ``GET /metrics`` (the text exposition format, version 0.0.4).

Under gunicorn every worker is a process of its own: a counter kept in one worker's
memory would hold only that worker's share, and a scrape would see whichever worker
answered it. prometheus_client's *multiprocess mode* is the fix: every process writes its
values to memory-mapped files in ``PROMETHEUS_MULTIPROC_DIR``, and a scrape adds up the
files of every process — those of workers that have died too, so counts never go
backwards when a worker is replaced. prometheus_client chooses its mode when it is first
imported, so ``gunicorn.conf.py`` sets the directory before the app (and with it this
module) is imported, empties it at start, and tells prometheus_client when a worker
exits. Without that variable (the tests' in-process app, ``flask run``) the metrics live
in this process's own registry.

The metrics (README, "Metrics"):

- ``digits_http_requests_total{route, method, status}``: every answer the app gave. ``route``
  is the URL rule that matched (``/v2/models/<name>/infer``), never the path that was
  asked for, and ``(unmatched)`` when no rule did, so no request can add a label value;
  ``method`` is one of the standard methods or ``other``.
- ``digits_predict_duration_seconds``: a histogram of the time ``POST /api/predict`` took,
  from the routed request to the finished response, errors included.
- ``digits_predictions_total{input, answer}``: inputs the network answered, by kind
  (``image``, ``strokes``, ``pixels``; ``tensor`` for an Open Inference Protocol ``infer``
  row) and by answer: the answer's ``verdict`` when it has one, otherwise ``digit`` (a
  digit named with confidence) or ``unsure`` (its ``uncertain`` flag).
- ``digits_model_loaded``: 1 when the network is loaded, 0 when not (``/v2/health/ready``
  says why). Not a multiprocess gauge: it is read from the answering process's state when
  scraped. With ``preload_app`` the model is loaded once, in the master, and every worker
  serves that same copy, so any worker's answer is every worker's; a gauge written to
  files would instead need each worker to write it and a rule to combine them.
"""
from __future__ import annotations

import os
import time
from typing import Iterable

from flask import Blueprint, Flask, Response, request
from prometheus_client import (CollectorRegistry, Counter, Histogram, disable_created_metrics,
                               generate_latest, values)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector

from model.answer import Answer
from server.state import current_state

bp = Blueprint("metrics", __name__)

#: prometheus_client's own decision, taken when it was imported (PROMETHEUS_MULTIPROC_DIR set).
MULTIPROCESS: bool = getattr(values.ValueClass, "_multiprocess", False)
if MULTIPROCESS:
    # gunicorn.conf.py makes it; `flask run` with the variable set may point anywhere.
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

# The same series in both modes: multiprocess mode has no *_created samples, so neither do we.
disable_created_metrics()

UNMATCHED = "(unmatched)"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: /api/predict takes 1–5 ms on a quiet server; the buckets resolve that range finely and
#: still say how far a saturated server (tens of ms to seconds) has fallen behind.
PREDICT_BUCKETS = (0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_STARTED = "digits.metrics.started"  # request.environ key: when the routed request began

#: This process's own registry, exposed only outside multiprocess mode (in multiprocess mode
#: the files are the truth, and exposing this too would report one worker twice).
REGISTRY = CollectorRegistry()
REQUESTS = Counter("digits_http_requests", "HTTP requests answered, by route (the URL rule that "
                   "matched, or (unmatched)), method and status code.",
                   ["route", "method", "status"], registry=REGISTRY)
PREDICT_SECONDS = Histogram("digits_predict_duration_seconds", "Time to answer POST /api/predict "
                            "(any status), from the routed request to the finished response.",
                            buckets=PREDICT_BUCKETS, registry=REGISTRY)
PREDICTIONS = Counter("digits_predictions", "Inputs the network answered, by input kind (image, "
                      "strokes, pixels; tensor for OIP infer) and answer (the verdict: digit, unsure, "
                      "not-a-digit).", ["input", "answer"], registry=REGISTRY)


def count_predictions(kind: str, said: Iterable[Answer]) -> None:
    """Count answered inputs of one ``kind`` (a fixed word from the code, never input) by verdict."""
    for one in said:
        PREDICTIONS.labels(kind, one.verdict).inc()


class _ModelLoaded:
    """``digits_model_loaded``, from the state of the process answering the scrape."""

    def collect(self):
        gauge = GaugeMetricFamily("digits_model_loaded", "1 when the network is loaded and "
                                  "predictions are served, 0 when not (/v2/health/ready says why).")
        gauge.add_metric([], 1.0 if current_state().ready else 0.0)
        yield gauge


class _Exposed:
    """What one scrape reports: every process's files (or this process's registry) and
    the model gauge."""

    def collect(self):
        yield from (MultiProcessCollector(None) if MULTIPROCESS else REGISTRY).collect()
        yield from _ModelLoaded().collect()


@bp.get("/metrics")
def metrics():
    return Response(generate_latest(_Exposed()), content_type=CONTENT_TYPE_PLAIN_0_0_4,
                    headers={"Cache-Control": "no-store"})


def _start_clock() -> None:
    request.environ[_STARTED] = time.perf_counter()


def _count(response: Response) -> Response:
    rule = request.url_rule
    method = request.method if request.method in METHODS else "other"
    REQUESTS.labels(rule.rule if rule is not None else UNMATCHED, method, str(response.status_code)).inc()
    if request.endpoint == "api.predict" and _STARTED in request.environ:
        PREDICT_SECONDS.observe(time.perf_counter() - request.environ[_STARTED])
    return response


def register(app: Flask) -> None:
    """Register first, so the clock starts before other hooks run and the count is taken
    after every other ``after_request`` hook (Flask runs those in reverse order)."""
    app.before_request(_start_clock)
    app.after_request(_count)
    app.register_blueprint(bp)
