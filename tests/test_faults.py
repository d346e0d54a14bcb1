"""Faults against the real production server (gunicorn -c gunicorn.conf.py), each on its own
free port: SIGTERM and a SIGKILLed worker under load, bad weights, and slow clients.

No timing assertions beyond generous bounds on "answers at all within N seconds".
"""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import pytest

from tests.conftest import broken_weights
from tests.drawing import canvas_png, data_url
from tests.live_server import Gunicorn, get, post_json

pytestmark = pytest.mark.server

MODEL = "mnist-784-16-16-10"
GRACEFUL_TIMEOUT = 5  # gunicorn.conf.py's default


def digit_pixels() -> list[float]:
    ink = np.zeros((28, 28))
    ink[5:23, 12:16] = 1.0
    return ink.ravel().tolist()


def bodies() -> list[bytes]:
    """A light request and a heavy one (a batch of 32 canvas PNGs, a good fraction of a
    second on this machine), so that some requests are always in flight."""
    rng = np.random.default_rng(0)
    pngs = []
    for _ in range(4):
        ink = np.zeros((28, 28))
        r0, c0 = rng.integers(3, 8, size=2)
        ink[r0:r0 + 18, c0 + 5:c0 + 9] = 1.0
        pngs.append({"image": data_url(canvas_png(ink.ravel()))})
    single = json.dumps(pngs[0]).encode()
    batch = json.dumps({"inputs": (pngs * 8)[:32]}).encode()
    return [single, batch]


@dataclass
class Outcome:
    sent_at: float           # when the request had been written, monotonic
    answered_at: float
    ok: bool                 # 200 with the whole body, parsed
    served_connection: bool  # the server had already answered on this connection
    detail: str = ""


@dataclass
class Load:
    """Client threads, each with its own keep-alive connection, posting back to back."""
    port: int
    threads: int = 8
    outcomes: list[Outcome] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self):
        self._bodies = bodies()
        self._lock = threading.Lock()
        self._workers = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(self.threads)]

    def start(self) -> "Load":
        for t in self._workers:
            t.start()
        return self

    def finish(self) -> list[Outcome]:
        self.stop.set()
        for t in self._workers:
            t.join(30)
        return self.outcomes

    def _run(self, i: int) -> None:
        connection, served = None, False
        n = 0
        while not self.stop.is_set():
            body = self._bodies[(i + n) % len(self._bodies)]
            n += 1
            if connection is None:
                connection, served = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30), False
            sent_at = None
            try:
                connection.request("POST", "/api/predict", body, {"Content-Type": "application/json"})
                sent_at = time.monotonic()
                response = connection.getresponse()
                data = response.read()
                length = int(response.headers.get("Content-Length", -1))
                ok = response.status == 200 and len(data) == length and bool(json.loads(data))
                detail = f"HTTP {response.status}, {len(data)} of {length} bytes"
                if response.will_close:
                    connection.close()
                    connection = None
            except (OSError, http.client.HTTPException, ValueError) as exc:
                ok, detail = False, repr(exc)
                connection.close()
                connection = None
                time.sleep(0.01)
            with self._lock:
                if sent_at is not None:
                    self.outcomes.append(Outcome(sent_at, time.monotonic(), ok, served, detail))
            served = served or ok


# --- SIGTERM during load ---------------------------------------------------------------------

def test_sigterm_under_load_answers_every_accepted_request():
    server = Gunicorn(env={"WEB_CONCURRENCY": "2"}).start()
    load = Load(server.port, threads=8).start()
    try:
        time.sleep(3.0)
        signalled = time.monotonic()
        code, took = server.stop(signal.SIGTERM, timeout=GRACEFUL_TIMEOUT + 25)
    finally:
        outcomes = load.finish()
        server.stop(signal.SIGKILL)
    log = server.log()
    # "Accepted before the signal": written, before the signal, on a connection the server
    # had already answered on (so it had accepted it; connections still in the kernel's
    # backlog at shutdown are refused, which clients see as a failed connect).
    accepted = [o for o in outcomes if o.sent_at < signalled and o.served_connection]
    in_flight = [o for o in accepted if o.answered_at > signalled]
    failed = [o for o in accepted if not o.ok]
    assert len(accepted) >= 8 and in_flight, "the load did not reach the server"
    assert not failed, f"{len(failed)} accepted requests failed: {[o.detail for o in failed[:5]]}"
    assert code == 0, log[-2000:]
    assert took < GRACEFUL_TIMEOUT + 10, f"exit took {took:.1f} s"
    assert "SIGKILL" not in log and "WORKER TIMEOUT" not in log and "Traceback" not in log
    server.log_path.unlink(missing_ok=True)


# --- a worker killed with SIGKILL during load -----------------------------------------------------

def test_a_killed_worker_is_replaced_and_health_recovers():
    with Gunicorn(env={"WEB_CONCURRENCY": "2"}) as server:
        probes: list[tuple[float, bool]] = []
        stop = threading.Event()

        def probe():
            while not stop.is_set():
                try:
                    ok = get(server.url + "/v2/health/ready", timeout=5)[0] == 200
                except OSError:
                    ok = False
                probes.append((time.monotonic(), ok))
                time.sleep(0.1)

        prober = threading.Thread(target=probe, daemon=True)
        prober.start()
        load = Load(server.port, threads=6).start()
        try:
            time.sleep(1.5)
            victim = server.workers()[0]
            killed = time.monotonic()
            os.kill(victim, signal.SIGKILL)
            deadline = killed + 30
            while time.monotonic() < deadline:
                workers = server.workers()
                if victim not in workers and len(workers) == 2:
                    break
                time.sleep(0.05)
            replaced = time.monotonic()
            workers = server.workers()
            assert victim not in workers and len(workers) == 2, f"not replaced: {workers}"
            server.wait_answering("/v2/health/ready", timeout=30)
            time.sleep(2.0)
        finally:
            outcomes = load.finish()
            stop.set()
            prober.join(10)
        # After the replacement, fresh connections all succeed.
        for _ in range(20):
            status, _, body = post_json(server.url + "/api/predict", {"pixels": digit_pixels()})
            assert status == 200 and json.loads(body)["digit"] in range(10)
        # Requests written after the new worker is up, on connections that had been
        # answered, all succeed (stale connections to the dead worker fail once, at the kill).
        late = [o for o in outcomes if o.sent_at > replaced + 0.5 and o.served_connection]
        assert late and all(o.ok for o in late), [o.detail for o in late if not o.ok][:5]
        # Health stays green or recovers within seconds.
        assert probes and probes[-1][1]
        longest, start = 0.0, None
        for t, ok in probes:
            if not ok and start is None:
                start = t
            elif ok and start is not None:
                longest, start = max(longest, t - start), None
        assert longest < 10.0, f"health was red for {longest:.1f} s"
        assert server.worker_timeouts() == 0
        assert "Booting worker" in server.log()


# --- weights missing, truncated, wrong shape, or not matching the model card --------------------

@pytest.mark.parametrize("kind,reason", [("missing", "does not exist"),
                                         ("truncated", "not a readable .npz"),
                                         ("wrong shape", "w2 has shape"),
                                         ("sha256 mismatch", "but the model card")])
def test_bad_weights_keep_the_real_server_up_but_not_ready(tmp_path, kind, reason):
    weights = broken_weights(tmp_path, kind)
    with Gunicorn(env={"WEB_CONCURRENCY": "2", "WEIGHTS_PATH": str(weights)},
                  ready_path="/v2/health/live") as server:
        workers = server.workers()
        status, _, body = get(server.url + "/v2/health/ready")
        assert status == 503
        answer = json.loads(body)
        assert answer["ready"] is False and reason in answer["reason"]
        assert get(server.url + "/v2/health/live")[0] == 200
        for request in ({"pixels": digit_pixels()}, {"inputs": [{"pixels": digit_pixels()}]}):
            status, headers, body = post_json(server.url + "/api/predict", request)
            assert status == 503 and headers["Content-Type"] == "application/problem+json"
            assert json.loads(body)["type"] == "/docs#problem-not-ready"
        assert get(server.url + "/api/model")[0] == 503
        assert get(server.url + f"/v2/models/{MODEL}/ready")[0] == 503
        status, _, body = post_json(server.url + f"/v2/models/{MODEL}/infer", {
            "inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 784], "data": digit_pixels()}]})
        assert status == 503 and "error" in json.loads(body)
        time.sleep(1.0)
        assert server.process.poll() is None and server.workers() == workers, "workers crashed"
        lines = [line for line in server.log().splitlines() if "not ready" in line]
        assert len(lines) == 1 and reason in lines[0], lines
        assert "Traceback" not in server.log()


# --- slow clients do not starve the health routes ----------------------------------------------

SLOW_SECONDS = 15.0  # longer than server/worker.py's HEAD_TIMEOUT (10 s), with room to spare


def test_slow_clients_do_not_starve_health():
    """50 slow connections: 20 send their headers a byte a second (slowloris), 20 connect
    and say nothing, 10 send headers and then a body that stalls. Meanwhile the health
    routes and a prediction must keep answering, and the server must eventually cut the
    slow connections off rather than hold them forever."""
    with Gunicorn(env={"WEB_CONCURRENCY": "2"}) as server:
        slow: list[socket.socket] = []
        closed_by_server: set[int] = set()
        try:
            for i in range(50):
                s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
                if i < 20:
                    s.sendall(b"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                elif i >= 40:
                    s.sendall(b"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"pix")
                s.setblocking(False)
                slow.append(s)

            stop = threading.Event()

            def dribble():
                n = 0
                while not stop.wait(1.0):
                    for i, s in enumerate(slow[:20]):
                        if i in closed_by_server:
                            continue
                        try:
                            s.send(b"X-Slow-%d: %d\r\n" % (n, n) if n % 2 else b"X")
                        except OSError:
                            closed_by_server.add(i)
                    n += 1

            dribbler = threading.Thread(target=dribble, daemon=True)
            dribbler.start()
            started = time.monotonic()
            probes = []
            while time.monotonic() - started < SLOW_SECONDS:
                for path in ("/v2/health/live", "/v2/health/ready"):
                    t = time.monotonic()
                    try:
                        status = get(server.url + path, timeout=5)[0]
                    except OSError as exc:
                        status = repr(exc)
                    probes.append((path, status, time.monotonic() - t))
                try:
                    status = post_json(server.url + "/api/predict", {"pixels": digit_pixels()}, timeout=5)[0]
                except OSError as exc:
                    status = repr(exc)
                probes.append(("/api/predict", status, 0.0))
                time.sleep(0.5)
            stop.set()
            dribbler.join(5)
            bad = [p for p in probes if p[1] != 200]
            assert not bad, f"{len(bad)} of {len(probes)} probes failed while slow clients hung on: {bad[:5]}"
            # Every slow connection has been cut off by now (not held open forever).
            for i, s in enumerate(slow):
                if i in closed_by_server:
                    continue
                try:
                    data = s.recv(65536)
                except BlockingIOError:
                    data = None
                except OSError:
                    data = b""
                if data is not None and (data == b"" or data.startswith(b"HTTP/1.1 408")):
                    closed_by_server.add(i)
            assert len(closed_by_server) == len(slow), (
                f"{len(slow) - len(closed_by_server)} of {len(slow)} slow connections are still held "
                f"after {SLOW_SECONDS:g} s")
        finally:
            for s in slow:
                s.close()


def test_a_client_waiting_for_100_continue_gets_it():
    """curl and others send ``Expect: 100-continue`` and hold the body back until the
    server says to go on: the server must say so, not wait for the body."""
    with Gunicorn(env={"WEB_CONCURRENCY": "2"}) as server:
        body = json.dumps({"pixels": digit_pixels()}).encode()
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
            s.sendall(b"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                      b"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n" % len(body))
            assert s.recv(64).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
            s.sendall(body)
            answer = b""
            while b'"model"' not in answer:
                chunk = s.recv(65536)
                assert chunk, answer[:300]
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 200 ")


def test_the_head_first_worker_knows_when_a_request_is_complete():
    from server import worker
    complete = worker.request_complete
    assert complete(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert not complete(b"GET / HTTP/1.1\r\nHost: x\r\n")            # head not finished
    assert complete(b"GET / HTTP/1.1\nHost: x\n\n")                    # bare LF: the parser decides
    assert not complete(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab")
    assert complete(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nabcde")
    assert complete(b"POST / HTTP/1.1\r\ncontent-length: 5\r\nExpect: 100-continue\r\n\r\n")
    assert complete(b"POST / HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % (worker.BUFFER_BODY + 1))
    assert complete(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert not complete(b"POST / HTTP/1.1\r\nX-Content-Length: 0\r\nContent-Length: 3\r\n\r\n")
    assert complete(b"G" * worker.MAX_HEAD)                            # too long: the parser refuses it


def test_the_gthread_internals_the_worker_builds_on_are_still_there():
    """server/worker.py names every gunicorn internal it uses; an upgrade that moves one fails here
    first, with its name (the slow-client test above shows what it would break)."""
    import inspect

    from gunicorn.workers import gthread

    from server import worker

    source = inspect.getsource(gthread)
    missing = []
    for owner, names in worker.GTHREAD_INTERNALS.items():
        for name in names:
            if owner == "module":
                found = hasattr(gthread, name)
            else:
                found = hasattr(getattr(gthread, owner), name) or f"self.{name} =" in source
            if not found:
                missing.append(f"{owner}.{name}")
    assert not missing, f"gunicorn's gthread no longer has {missing}: update server/worker.py"
