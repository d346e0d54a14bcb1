"""The production command, for real: gunicorn on a free port, called over HTTP and by
``tritonclient`` (the Open Inference Protocol's own client)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tests.drawing import canvas_png, data_url
from tests.live_server import Gunicorn, post_json

pytestmark = pytest.mark.server
NAME = "mnist-784-16-16-10"


@pytest.fixture(scope="module")
def server():
    with Gunicorn(env={"WEB_CONCURRENCY": "2"}) as server:
        yield server


def post(url: str, body) -> tuple[int, dict, dict]:
    status, headers, raw = post_json(url, body)
    return status, headers, json.loads(raw)


def test_predict_over_http(server, mnist, clear_test_digits):
    url = server.url
    for i in clear_test_digits[:5]:
        png = canvas_png(mnist.test.images[i])
        status, headers, answer = post(url + "/api/predict", {"image": data_url(png)})
        assert status == 200
        assert answer["digit"] == mnist.test.labels[i]
        assert headers["Cache-Control"] == "no-store"
        assert headers.get("Server", "") == "gunicorn"  # no version
        assert "unsafe-inline" not in headers["Content-Security-Policy"]
    status, headers, problem = post(url + "/api/predict", {"pixels": [0.5]})
    assert status == 422 and headers["Content-Type"] == "application/problem+json"


def test_tritonclient(server, mnist, network):
    import tritonclient.http as httpclient

    client = httpclient.InferenceServerClient(url=f"127.0.0.1:{server.port}")
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
        assert result.as_numpy("label").tolist() == network.predict(x).tolist()
        assert result.get_response()["id"] == f"r{binary}"
    # The client's defaults (binary everything, no outputs named) work too.
    tensor = httpclient.InferInput("input", [1, 784], "FP32")
    tensor.set_data_from_numpy(x[:1])
    assert client.infer(NAME, inputs=[tensor]).as_numpy("label").shape == (1,)
    with pytest.raises(Exception, match="unknown model"):
        client.infer("nope", inputs=[tensor])
