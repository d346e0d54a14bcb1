"""The production image, built from the Dockerfile and run with docker and with podman.

What a deployment relies on: it serves the real model (canvas PNG → the right digit, OIP
infer → [N, 10]), runs as a non-root user on a read-only root filesystem, holds only the
files that run, reports health to the container engine, and on SIGTERM lets the requests
it is serving finish before exiting 0.
"""
from __future__ import annotations

import json
import socket
import threading
import time

import numpy as np
import pytest

from containers import Container, Digits, Engine, Response, start_container, tail

pytestmark = pytest.mark.container

MODEL = "mnist-784-16-16-10"
UID = 10001  # the Dockerfile's USER, and runAsUser in docs/kubernetes.yaml
PROCESS_RUNTIME = ["app.py", "gunicorn.conf.py", "model", "requirements.txt", "server",
                   "static", "templates", "weights"]
NEVER_IN_IMAGE = [".git", ".venv", ".cache", ".ci", "scripts", ".hypothesis", ".pytest_cache",
                  "tests", "bench", "docs", "Dockerfile", ".dockerignore", "test-results"]


def hardened(engine: Engine) -> tuple[str, ...]:
    """Mirrors docs/kubernetes.yaml: read-only root (and no writable /tmp at all, stricter
    than the manifest), no capabilities, no privilege escalation."""
    return (*engine.read_only(), "--cap-drop=ALL", "--security-opt=no-new-privileges")


@pytest.fixture(scope="module")
def server(engine: Engine, image: str):
    """The image as Kubernetes would run it, on a non-default PORT (so PORT must be honoured
    by gunicorn and by the HEALTHCHECK alike)."""
    c = start_container(engine, image, env={"PORT": "8080", "WEB_CONCURRENCY": "2"},
                        port=8080, args=hardened(engine))
    try:
        c.wait_until("/v2/health/ready")
        yield c
    finally:
        c.remove()


def _predict(c: Container, body) -> Response:
    resp = c.request("POST", "/api/predict", body)
    assert resp.status == 200, resp.body[:500]
    return resp


def test_predicts_the_digit_drawn_on_a_canvas(server, digits: Digits, client):
    answers = [_predict(server, {"image": image}).json() for image in digits.images]

    for answer, image in zip(answers, digits.images):
        assert 0 <= answer["digit"] <= 9
        assert len(answer["output"]) == 10
        assert 0.0 <= answer["confidence"] <= 1.0
        # The container runs the same code on the same weights as this checkout.
        expected = client.post("/api/predict", json={"image": image}).get_json()
        assert answer["digit"] == expected["digit"]
        np.testing.assert_allclose(answer["output"], expected["output"], atol=1e-5)
        assert answer["model"]["sha256"] == expected["model"]["sha256"]

    got = [a["digit"] for a in answers]
    correct = sum(g == want for g, want in zip(got, digits.labels))
    # A ~95 %-accurate network on clean MNIST test digits: one miss in ten is plausible,
    # more means the image serves something else (wrong weights, broken preprocessing).
    assert correct >= 9, f"answers {got} for digits {digits.labels}"


def test_oip_infer_answers_n_by_10(server, digits: Digits, client):
    n = len(digits.labels)
    body = {"id": "container-test", "inputs": [{
        "name": "input", "shape": [n, 784], "datatype": "FP32",
        "data": digits.pixels.reshape(-1).round(6).tolist()}]}
    resp = server.request("POST", f"/v2/models/{MODEL}/infer", body)
    assert resp.status == 200, resp.body[:500]
    answer = resp.json()

    assert answer["id"] == "container-test"
    assert answer["model_name"] == MODEL
    outputs = {o["name"]: o for o in answer["outputs"]}
    assert outputs["output"]["shape"] == [n, 10]
    assert outputs["output"]["datatype"] == "FP32"
    activations = np.asarray(outputs["output"]["data"], dtype=np.float64).reshape(n, 10)
    assert ((activations >= 0) & (activations <= 1)).all()
    expected = client.post(f"/v2/models/{MODEL}/infer", json=body).get_json()
    reference = {o["name"]: o for o in expected["outputs"]}["output"]["data"]
    np.testing.assert_allclose(activations.reshape(-1), reference, atol=1e-5)
    correct = int((activations.argmax(axis=1) == np.asarray(digits.labels)).sum())
    assert correct >= 9, activations.argmax(axis=1).tolist()


def test_a_whole_life_on_a_read_only_root_logs_no_errors(engine: Engine, image: str, digits):
    """Start, serve, stop: anything that tries to write outside /dev/shm fails and logs it."""
    c = start_container(engine, image, env={"WEB_CONCURRENCY": "1"}, args=hardened(engine))
    try:
        c.wait_until("/v2/health/ready")
        _predict(c, {"image": digits.images[0]})
        time.sleep(2)  # gunicorn starts some services (its control socket) after booting
        engine.run("stop", "-t", "10", c.id)
        logs = c.logs()
    finally:
        c.remove()
    errors = [line for line in logs.splitlines() if "[ERROR]" in line or "Traceback" in line]
    assert errors == [], "\n".join(errors)
    assert "Booting worker" in logs and "Shutting down" in logs, logs


def test_every_process_runs_as_the_non_root_user(server):
    assert server.exec("id", "-u").stdout.strip() == str(UID)
    # PID 1 is gunicorn's master (exec-form CMD); its workers are its children.
    status = server.exec("python", "-c", (
        "import json, os\n"
        "procs = {}\n"
        "for pid in filter(str.isdigit, os.listdir('/proc')):\n"
        "    try:\n"
        "        cmd = open(f'/proc/{pid}/cmdline', 'rb').read().replace(b'\\0', b' ').decode()\n"
        "        uid = [l.split()[1:] for l in open(f'/proc/{pid}/status') if l.startswith('Uid:')][0]\n"
        "    except OSError:\n"
        "        continue\n"
        "    procs[pid] = {'cmd': cmd, 'uid': uid}\n"
        "print(json.dumps(procs))\n")).stdout
    procs = json.loads(status)

    assert "gunicorn" in procs["1"]["cmd"], procs["1"]
    gunicorns = {pid: p for pid, p in procs.items() if "gunicorn" in p["cmd"]}
    assert len(gunicorns) == 3, gunicorns  # master + WEB_CONCURRENCY=2 workers
    for pid, p in procs.items():
        # real, effective, saved and filesystem uid
        assert p["uid"] == [str(UID)] * 4, (pid, p)


def test_image_holds_what_runs_and_nothing_else(engine: Engine, image: str):
    probe = engine.run(
        "run", "--rm", "--user", "0", "--entrypoint", "python", image, "-c",
        "import importlib.util, json, os, shutil, sys\n"
        "print(json.dumps({\n"
        "  'app': sorted(os.listdir('/app')),\n"
        "  'weights': sorted(os.listdir('/app/weights')),\n"
        "  'compilers': [c for c in ('gcc', 'cc', 'c++', 'make') if shutil.which(c)],\n"
        "  'pip_cache': os.path.exists('/root/.cache/pip'),\n"
        "  'pip_in_venv': importlib.util.find_spec('pip') is not None,\n"
        "  'python': sys.executable,\n"
        "}))\n").stdout
    found = json.loads(probe.strip().splitlines()[-1])

    assert set(PROCESS_RUNTIME) <= set(found["app"]), found["app"]
    assert not set(NEVER_IN_IMAGE) & set(found["app"]), found["app"]
    assert {"mnist-784-16-16-10.npz", "mnist-784-16-16-10.json",
            "examples.npz"} <= set(found["weights"])
    assert found["compilers"] == []
    assert found["pip_cache"] is False
    assert found["python"].startswith("/opt/venv/"), found["python"]
    assert found["pip_in_venv"] is False


def test_image_config(engine: Engine, image: str):
    (inspected,) = json.loads(engine.run("image", "inspect", image).stdout)
    config = inspected["Config"]
    env = dict(item.split("=", 1) for item in config["Env"])

    assert config["Cmd"] == ["gunicorn", "-c", "gunicorn.conf.py", "app:create_app()"]
    assert not config.get("Entrypoint"), "an entrypoint wrapper would sit between SIGTERM and gunicorn"
    assert config["User"] == f"{UID}:{UID}"  # numeric, so runAsNonRoot can verify it
    assert "8000/tcp" in config["ExposedPorts"]
    assert config["StopSignal"] in ("SIGTERM", "15")
    assert env["PORT"] == "8000"
    for key in ("PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "OPENBLAS_NUM_THREADS",
                "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        assert env[key] == "1", key
    # The HEALTHCHECK, as the engine gives it to a container made from the image (podman's
    # `image inspect` has it beside Config, Docker's inside; podman 4.3's Docker-compatible
    # API leaves it out of `image inspect` altogether, but not out of the container).
    cid = engine.run("create", image).stdout.strip().splitlines()[-1]
    try:
        healthcheck = json.loads(engine.run("inspect", "--type", "container", "--format",
                                            "{{json .Config.Healthcheck}}", cid).stdout)
    finally:
        engine.remove(cid)
    assert healthcheck and "/v2/health/ready" in " ".join(healthcheck["Test"])


def test_healthcheck_passes_when_ready(engine: Engine, server):
    check = engine.healthcheck(server.id)
    assert check.returncode == 0, check.stdout + check.stderr


def test_healthcheck_fails_when_the_model_is_not_loaded(engine: Engine, image: str):
    c = start_container(engine, image, env={"WEIGHTS_PATH": "/app/weights/missing.npz",
                                            "WEB_CONCURRENCY": "1"})
    try:
        c.wait_until("/v2/health/live")
        ready = c.request("GET", "/v2/health/ready")
        assert ready.status == 503, ready.body[:300]
        check = engine.healthcheck(c.id)
        assert check.returncode != 0, "HEALTHCHECK reported healthy for a server with no model"
    finally:
        c.remove()


def _held_request(c: Container, body: bytes) -> socket.socket:
    """Open a POST /api/predict and stop after the headers, once the server has answered
    ``100 Continue``: gunicorn sends that from the worker that took the request, so from
    here on the request is in flight inside a worker."""
    sock = socket.create_connection((c.host, c.port), timeout=20)
    sock.sendall((f"POST /api/predict HTTP/1.1\r\nHost: {c.host}\r\n"
                  "Content-Type: application/json\r\n"
                  f"Content-Length: {len(body)}\r\n"
                  "Expect: 100-continue\r\nConnection: close\r\n\r\n").encode())
    interim = b""
    while b"\r\n\r\n" not in interim:
        chunk = sock.recv(1024)
        if not chunk:
            raise AssertionError(f"connection closed before 100 Continue: {interim!r}")
        interim += chunk
    assert interim.startswith(b"HTTP/1.1 100"), interim
    return sock


def _finish(sock: socket.socket, body: bytes) -> tuple[int, bytes]:
    sock.sendall(body)
    raw = b""
    while chunk := sock.recv(65536):
        raw += chunk
    sock.close()
    head, _, payload = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in head.lower():
        payload = _unchunk(payload)
    return status, payload


def _unchunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, data = out + data[:size], data[size + 2:]
    return out


def test_sigterm_lets_in_flight_requests_finish(engine: Engine, image: str, digits: Digits):
    # Default PORT: this also checks the image's EXPOSE 8000 / PORT default agree.
    c = start_container(engine, image, env={"WEB_CONCURRENCY": "2"}, args=hardened(engine))
    try:
        c.wait_until("/v2/health/ready")
        batch = {"inputs": [{"image": digits.images[i % 10]} for i in range(64)]}
        expected = [digits.labels[i % 10] for i in range(64)]
        body = json.dumps(batch).encode()
        # Each is proven to be inside a worker by its 100 Continue (2 workers × 4 threads
        # could take 8), so none waits in the listen backlog that SIGTERM closes.
        held = [_held_request(c, body) for _ in range(4)]

        started = time.monotonic()
        stop = engine.popen("stop", "-t", "10", c.id)
        deadline = started + 5
        while "Handling signal: term" not in c.logs():
            assert time.monotonic() < deadline, f"SIGTERM never reached gunicorn:\n{c.logs()}"
            time.sleep(0.05)

        # Only now, with the server shutting down, do the requests send their bodies.
        results: list[tuple[int, bytes] | BaseException] = [None] * len(held)  # type: ignore

        def finish(i: int) -> None:
            try:
                results[i] = _finish(held[i], body)
            except BaseException as exc:  # reported below
                results[i] = exc

        threads = [threading.Thread(target=finish, args=(i,)) for i in range(len(held))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        stop_out, stop_err = stop.communicate(timeout=30)
        elapsed = time.monotonic() - started

        for result in results:
            assert not isinstance(result, BaseException), repr(result)
            status, payload = result
            assert status == 200, payload[:300]
            predictions = json.loads(payload)["predictions"]
            got = [p["digit"] for p in predictions]
            assert len(got) == 64
            assert sum(g == e for g, e in zip(got, expected)) >= 57, got

        assert stop.returncode == 0, stop_err
        state = c.state()
        assert not state["Running"]
        # Exit 0 means gunicorn shut down by itself: had it outlived `-t 10`, the engine
        # would have sent SIGKILL and the exit code would be 137.
        assert state["ExitCode"] == 0, (state, elapsed, tail(c.logs(), 20))
        assert elapsed < 10, elapsed
    finally:
        c.remove()

