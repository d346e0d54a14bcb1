"""The production command, for real: gunicorn on a free port, called over HTTP and by
``tritonclient`` (the Open Inference Protocol's own client)."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from tests.drawing import canvas_png, data_url

pytestmark = pytest.mark.server
ROOT = Path(__file__).resolve().parent.parent
NAME = "mnist-784-16-16-10"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/v2/health/ready", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError("gunicorn did not become ready")


@pytest.fixture(scope="module")
def server():
    port = free_port()
    env = {**os.environ, "PORT": str(port), "WEB_CONCURRENCY": "2"}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:create_app()"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process)
        yield url, port, process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def post_json(url: str, body) -> tuple[int, dict, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, dict(r.headers), json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read())


def test_predict_over_http(server, mnist, clear_test_digits):
    url, _, _ = server
    for i in clear_test_digits[:5]:
        png = canvas_png(mnist.test.images[i])
        status, headers, answer = post_json(url + "/api/predict", {"image": data_url(png)})
        assert status == 200
        assert answer["digit"] == mnist.test.labels[i]
        assert headers["Cache-Control"] == "no-store"
        assert headers.get("Server", "") == "gunicorn"  # no version
        assert "unsafe-inline" not in headers["Content-Security-Policy"]
    status, headers, problem = post_json(url + "/api/predict", {"pixels": [0.5]})
    assert status == 422 and headers["Content-Type"] == "application/problem+json"


def test_tritonclient(server, mnist, network):
    import tritonclient.http as httpclient

    _, port, _ = server
    client = httpclient.InferenceServerClient(url=f"127.0.0.1:{port}")
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready(NAME)
    metadata = client.get_model_metadata(NAME)
    assert metadata["inputs"][0]["shape"] == [-1, 784]
    x = mnist.test.images[:4].astype(np.float32)
    for binary in (True, False):
        tensor = httpclient.InferInput("input", list(x.shape), "FP32")
        tensor.set_data_from_numpy(x, binary_data=binary)
        outputs = [httpclient.InferRequestedOutput("output", binary_data=binary),
                   httpclient.InferRequestedOutput("label", binary_data=binary)]
        result = client.infer(NAME, inputs=[tensor], outputs=outputs, request_id=f"r{binary}")
        np.testing.assert_allclose(result.as_numpy("output"), network.forward(x)[-1], atol=1e-6)
        assert result.as_numpy("label").tolist() == mnist.test.labels[:4].tolist() or \
            result.as_numpy("label").tolist() == network.predict(x).tolist()
        assert result.get_response()["id"] == f"r{binary}"
    # The client's defaults (binary everything, no outputs named) work too.
    tensor = httpclient.InferInput("input", [1, 784], "FP32")
    tensor.set_data_from_numpy(x[:1])
    assert client.infer(NAME, inputs=[tensor]).as_numpy("label").shape == (1,)
    with pytest.raises(Exception, match="unknown model"):
        client.infer("nope", inputs=[tensor])
