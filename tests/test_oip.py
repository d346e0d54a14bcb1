"""Open Inference Protocol v2 routes, JSON and binary tensor forms."""
import json

import numpy as np
import pytest

NAME = "mnist-784-16-16-10"
INFER = f"/v2/models/{NAME}/infer"


def infer_body(x, **extra):
    x = np.asarray(x, dtype=np.float32)
    return {"inputs": [{"name": "input", "shape": list(x.shape), "datatype": "FP32",
                        "data": x.ravel().tolist()}], **extra}


def test_server_metadata_and_health(client):
    meta = client.get("/v2").get_json()
    assert meta["name"] and meta["version"] and "binary_tensor_data" in meta["extensions"]
    assert client.get("/v2/health/live").status_code == 200
    assert client.get("/v2/health/ready").get_json() == {"ready": True}


@pytest.mark.parametrize("path", [f"/v2/models/{NAME}", f"/v2/models/{NAME}/versions/1"])
def test_model_metadata(client, path):
    meta = client.get(path).get_json()
    assert meta["name"] == NAME
    assert meta["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 784]}]
    assert {o["name"]: (o["datatype"], o["shape"]) for o in meta["outputs"]} == \
        {"output": ("FP32", [-1, 10]), "label": ("INT64", [-1]), "verdict": ("BYTES", [-1])}
    assert client.get(path + "/ready").status_code == 200


@pytest.mark.parametrize("path", ["/v2/models/other", "/v2/models/other/ready",
                                  f"/v2/models/{NAME}/versions/2", f"/v2/models/{NAME}/versions/2/ready"])
def test_unknown_models_are_404(client, path):
    response = client.get(path)
    assert response.status_code == 404 and "error" in response.get_json()


def test_infer_json(client, mnist, network):
    x = mnist.test.images[:5]
    response = client.post(INFER, json=infer_body(x, id="req-42"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == "req-42" and body["model_name"] == NAME
    outputs = {o["name"]: o for o in body["outputs"]}
    assert outputs["output"]["shape"] == [5, 10] and outputs["output"]["datatype"] == "FP32"
    assert outputs["label"]["shape"] == [5] and outputs["label"]["datatype"] == "INT64"
    expected = network.forward(x)[-1]
    np.testing.assert_allclose(np.reshape(outputs["output"]["data"], (5, 10)), expected, atol=1e-6)
    assert outputs["label"]["data"] == np.argmax(expected, axis=1).tolist()
    assert outputs["verdict"]["shape"] == [5] and outputs["verdict"]["datatype"] == "BYTES"
    assert outputs["verdict"]["data"] == [client.post("/api/predict", json={"pixels": row.tolist()}).get_json()["verdict"]
                                          for row in x]


def test_infer_nested_data_and_chosen_outputs(client, mnist):
    x = mnist.test.images[:2]
    body = infer_body(x, outputs=[{"name": "label"}])
    body["inputs"][0]["data"] = x.tolist()
    answer = client.post(INFER, json=body).get_json()
    assert [o["name"] for o in answer["outputs"]] == ["label"]
    assert "id" not in answer


def bytes_elements(raw: bytes) -> list[str]:
    """A BYTES tensor in the binary extension's layout: 4-byte little-endian length, then bytes."""
    found, offset = [], 0
    while offset < len(raw):
        n = int.from_bytes(raw[offset:offset + 4], "little")
        found.append(raw[offset + 4:offset + 4 + n].decode())
        offset += 4 + n
    return found


def test_infer_binary_tensor_extension(client, mnist, network):
    x = np.concatenate([mnist.test.images[:3], np.random.default_rng(0).random((1, 784))]).astype("<f4")
    head = json.dumps({"inputs": [{"name": "input", "shape": [4, 784], "datatype": "FP32",
                                   "parameters": {"binary_data_size": x.nbytes}}],
                       "parameters": {"binary_data_output": True}}).encode()
    response = client.post(f"/v2/models/{NAME}/versions/1/infer", data=head + x.tobytes(),
                           content_type="application/octet-stream",
                           headers={"Inference-Header-Content-Length": str(len(head))})
    assert response.status_code == 200
    n = int(response.headers["Inference-Header-Content-Length"])
    meta = json.loads(response.data[:n])
    binary = response.data[n:]
    offset, tensors = 0, {}
    for out in meta["outputs"]:
        size = out["parameters"]["binary_data_size"]
        raw = binary[offset:offset + size]
        if out["datatype"] == "BYTES":
            tensors[out["name"]] = bytes_elements(raw)
        else:
            dtype = "<f4" if out["datatype"] == "FP32" else "<i8"
            tensors[out["name"]] = np.frombuffer(raw, dtype).reshape(out["shape"])
        offset += size
    assert offset == len(binary)
    np.testing.assert_allclose(tensors["output"], network.forward(x)[-1], atol=1e-6)
    assert tensors["label"].tolist() == network.predict(x).tolist()
    json_form = client.post(INFER, json=infer_body(x)).get_json()
    assert tensors["verdict"] == next(o["data"] for o in json_form["outputs"] if o["name"] == "verdict")
    assert tensors["verdict"][3] == "not-a-digit"  # the noise


def _set(body, **changes):
    body["inputs"][0].update(changes)
    return body


OK = np.zeros((1, 784))
BAD_INFER = [
    ("no inputs", {"id": "x"}, 400),
    ("two inputs", {"inputs": [infer_body(OK)["inputs"][0]] * 2}, 400),
    ("wrong name", _set(infer_body(OK), name="image"), 400),
    ("FP64", _set(infer_body(OK), datatype="FP64"), 400),
    ("shape 28x28", _set(infer_body(OK), shape=[1, 28, 28]), 400),
    ("shape mismatch", _set(infer_body(OK), shape=[2, 784]), 400),
    ("strings", _set(infer_body(OK), data=["0"] * 784), 400),
    ("booleans", _set(infer_body(OK), data=[False] * 784), 400),
    ("out of range", _set(infer_body(OK), data=[3.0] * 784), 400),
    ("id not a string", {**infer_body(OK), "id": 7}, 400),
    ("unknown output", infer_body(OK, outputs=[{"name": "logits"}]), 400),
    ("output name an object", infer_body(OK, outputs=[{"name": {}}]), 400),
    ("output name a list", infer_body(OK, outputs=[{"name": ["output"]}]), 400),
    ("batch of 65", infer_body(np.zeros((65, 784))), 413),
    ("not an object", [1, 2], 400),
]


@pytest.mark.parametrize("body,status", [b[1:] for b in BAD_INFER], ids=[b[0] for b in BAD_INFER])
def test_bad_infer_requests(client, body, status):
    response = client.post(INFER, json=body)
    assert response.status_code == status
    assert set(response.get_json()) == {"error"}


@pytest.mark.parametrize("data,headers,content_type,status", [
    (b"{", {}, "application/json", 400),
    (b"{}", {}, "text/plain", 415),
    (b"{}xx", {"Inference-Header-Content-Length": "99"}, "application/octet-stream", 400),
    (b'{"inputs": [{"name": "input", "shape": [1, 784], "datatype": "FP32", '
     b'"parameters": {"binary_data_size": 3136}}]}' + b"\0" * 10,
     {"Inference-Header-Content-Length": "103"}, "application/octet-stream", 400),
])
def test_bad_infer_bodies(client, data, headers, content_type, status):
    response = client.post(INFER, data=data, headers=headers, content_type=content_type)
    assert response.status_code == status
    assert "error" in response.get_json()
