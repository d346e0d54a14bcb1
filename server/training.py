"""``GET /api/training`` and ``GET /api/training/<id>``: the training run that made the
served network, as snapshots ("watch it learn").

``/api/training`` lists the snapshots (``id``, ``examples_seen``, ``epoch``, ``cost``,
``test_accuracy``) and the finer cost curve; ``/api/training/<id>`` gives one snapshot's
weights and biases in /api/model's layout. Predictions from a snapshot are
``/api/predict`` and ``/api/explain`` with ``"checkpoint": id``.

Caching: the list revalidates like /api/model (its ETag, 5 minutes). A snapshot's body
depends only on the snapshot file and the id, but the plain URL names neither the
weights nor the run, so it too revalidates (a redeploy with new weights changes it).
``?model=<sha256 of the served weights>`` pins the URL to this network: then the answer is
``immutable`` for a year, and any other sha256 is a 404 — a page can never be shown a
snapshot of another network from its cache.
"""
from __future__ import annotations

import re

from flask import Blueprint, Response, request

from server.api import ready_state
from server.errors import Problem
from server.json_provider import dumps_bytes
from server.state import Run, State, snapshot_document, snapshot_etag

bp = Blueprint("training", __name__)

#: An id as the API writes it: no sign, no leading zeros, no decimals.
PLAIN_ID = re.compile(r"(?:0|[1-9][0-9]{0,8})")
REVALIDATE = "public, max-age=300, must-revalidate"
IMMUTABLE = "public, max-age=31536000, immutable"


def run_state() -> tuple[State, Run]:
    s = ready_state()
    if s.run is None:
        raise Problem("training-unavailable", f"The training run's snapshots are not served: {s.run_reason}.")
    return s, s.run


def _cached(body: bytes | None, etag: str, cache_control: str) -> Response:
    headers = {"ETag": f'"{etag}"', "Cache-Control": cache_control}
    if request.if_none_match.contains(etag):
        return Response(status=304, headers=headers)
    return Response(body, mimetype="application/json", headers=headers)


@bp.get("/api/training")
def training():
    s, _ = run_state()
    return _cached(s.training_json, s.training_etag, REVALIDATE)


@bp.get("/api/training/<id>")
def snapshot(id: str):
    s, run = run_state()
    k = int(id) if PLAIN_ID.fullmatch(id) else -1
    if not 0 <= k < run.count:
        shown = id if len(id) <= 20 else id[:17] + "..."
        raise Problem("unknown-checkpoint", f"There is no snapshot {shown!r}: the ids are 0 to "
                      f"{run.count - 1}, written plainly (see GET /api/training).")
    pinned = request.args.get("model")
    if pinned is not None and pinned != s.sha256:
        shown = pinned if len(pinned) <= 70 else pinned[:67] + "..."
        raise Problem("unknown-checkpoint", f"This server's snapshots belong to the weights with sha256 "
                      f"{s.sha256}, not {shown!r}: ask GET /api/model for the served sha256.")
    etag = snapshot_etag(run, k)
    if request.if_none_match.contains(etag):
        return _cached(None, etag, IMMUTABLE if pinned else REVALIDATE)
    body = s.snapshot_json.get(k)
    if body is None:  # encoded on first use: most processes never serve most snapshots
        body = s.snapshot_json[k] = dumps_bytes(snapshot_document(run, k))
    return _cached(body, etag, IMMUTABLE if pinned else REVALIDATE)
