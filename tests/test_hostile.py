"""Hostile input against the real server: tests/hostile_catalogue.py, sent over raw sockets
to the production gunicorn.

Each entry must get its documented 4xx/5xx-free answer (a problem document under /api/,
the OIP error object under /v2, or gunicorn's own refusal for broken HTTP), the next
normal request must succeed, and over the whole catalogue the workers' resident memory
must stay bounded (measured from /proc, not timed).
"""
from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass

import numpy as np
import pytest

from tests.hostile_catalogue import Hostile, catalogue
from tests.live_server import Gunicorn, post_json

pytestmark = pytest.mark.server

MEMORY_BOUND_KIB = 50 * 1024   # per worker, over the whole catalogue
# Characters. A problem says what to fix; it may quote a path (at most gunicorn's 4094-byte
# request line) but must not echo megabytes of input back.
DETAIL_LIMIT = 5000
NORMAL = np.zeros((28, 28))
NORMAL[5:23, 12:16] = 1.0


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def exchange(port: int, raw: bytes, timeout: float = 60.0) -> Answer:
    """Send ``raw`` on a new connection and read one response.

    The request is written from a thread while the answer is read, because the server
    may answer (413, 400) and stop reading long before a large body is sent.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        def send():
            try:
                sock.sendall(raw)
            except OSError:
                pass  # the server answered and closed early: what we read decides
        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        data = b""
        head_end = -1
        length = None
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
            if head_end < 0:
                head_end = data.find(b"\r\n\r\n")
                if head_end >= 0:
                    for line in data[:head_end].split(b"\r\n")[1:]:
                        name, _, value = line.partition(b":")
                        if name.strip().lower() == b"content-length":
                            length = int(value.strip())
            if head_end >= 0 and length is not None and len(data) >= head_end + 4 + length:
                break
        sender.join(timeout)
    if head_end < 0:
        raise AssertionError(f"no HTTP response (got {data[:200]!r})")
    lines = data[:head_end].decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Answer(int(lines[0].split()[1]), headers, data[head_end + 4:])


@pytest.fixture(scope="module")
def server():
    with Gunicorn(env={"WEB_CONCURRENCY": "2"}) as server:
        yield server


def normal_request_succeeds(server: Gunicorn) -> bool:
    status, _, body = post_json(server.url + "/api/predict", {"pixels": NORMAL.ravel().tolist()})
    return status == 200 and json.loads(body)["digit"] in range(10)


def check(entry: Hostile, answer: Answer) -> None:
    assert answer.status == entry.status, f"{entry.name}: {answer.status} {answer.body[:300]!r}"
    kind, _, code = entry.answer.partition(":")
    content_type = answer.headers.get("content-type", "")
    if kind == "problem":
        assert content_type == "application/problem+json", content_type
        problem = json.loads(answer.body)
        assert problem["type"] == f"/docs#problem-{code}"
        assert problem["status"] == entry.status
        assert problem["title"] and problem["detail"]
        assert "Traceback" not in problem["detail"]
        assert len(problem["detail"]) <= DETAIL_LIMIT, f"detail is {len(problem['detail'])} characters"
    elif kind == "oip":
        assert content_type == "application/json", content_type
        error = json.loads(answer.body)
        assert set(error) == {"error"} and error["error"]
        assert len(error["error"]) <= DETAIL_LIMIT
    else:
        assert kind == "gunicorn"
        assert answer.headers.get("connection", "").lower() == "close"
        assert b"Traceback" not in answer.body


def test_the_catalogue_is_big_enough():
    entries = catalogue()
    assert len(entries) >= 40
    assert len({e.name for e in entries}) == len(entries)
    assert all(400 <= e.status < 600 and e.status != 500 for e in entries)


@pytest.mark.parametrize("entry", catalogue(), ids=[e.name for e in catalogue()])
def test_hostile_request(server, entry):
    check(entry, exchange(server.port, entry.raw))
    assert normal_request_succeeds(server), "the next normal request failed"


def test_memory_stays_bounded_over_the_catalogue(server):
    # Every worker has served something before the baseline (imports, first allocations).
    for _ in range(8):
        assert normal_request_succeeds(server)
    workers = server.workers()
    before = server.worker_rss_kib()
    for entry in catalogue():
        exchange(server.port, entry.raw)
    assert normal_request_succeeds(server)
    after = server.worker_rss_kib()
    assert server.workers() == workers, "a worker died or was replaced during the catalogue"
    growth = {pid: after[pid] - before[pid] for pid in workers}
    assert max(growth.values()) < MEMORY_BOUND_KIB, f"RSS growth per worker (KiB): {growth}"
    assert server.worker_timeouts() == 0
    assert "Traceback" not in server.log()
