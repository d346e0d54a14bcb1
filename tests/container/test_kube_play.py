"""docs/kubernetes.yaml's Deployment, run for real: ``podman kube play`` of it, with one
replica of the image these tests built, until its readiness route answers and it
recognizes a digit.

What podman 4.3 makes of the manifest (so what this does and does not prove): it runs the
pod with the manifest's user, read-only root, dropped capabilities, environment, memory
and CPU limits and /tmp volume (checked below). It does not run startup or readiness
probes, nor preStop hooks; it turns the livenessProbe into a container HEALTHCHECK that
calls `curl` (absent from the image) on port 0 (it does not resolve the named port), which
nothing runs without systemd. So the readiness route is asked here, from outside, the way
the kubelet would ask it.

Left as it is, podman would publish the containerPort on the host's port 8000 (all
addresses); this test gives the pod a free loopback hostPort instead, and also asks the
pod's own address on podman's bridge network.
"""
from __future__ import annotations

import http.client
import json
import time
import uuid
from pathlib import Path

import pytest
import yaml

from containers import Digits, Engine, tail
from tests.live_server import free_port

pytestmark = pytest.mark.container

ENGINES = ["podman"]  # `kube play` is podman's (conftest.py's pytest_generate_tests)
MANIFEST = Path(__file__).resolve().parents[2] / "docs" / "kubernetes.yaml"
UID = 10001


def ask(host: str, port: int, method: str, path: str, body=None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=data,
                     headers={"Content-Type": "application/json"} if data else {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


@pytest.fixture
def played(engine: Engine, image: str, tmp_path):
    """The Deployment, as the manifest has it but for: a unique name, one replica, the
    image built here, a loopback hostPort and a unique name for the /tmp volume."""
    (deployment,) = [d for d in yaml.safe_load_all(MANIFEST.read_text())
                     if d and d["kind"] == "Deployment"]
    name = f"digits-kubetest-{uuid.uuid4().hex[:8]}"
    deployment["metadata"]["name"] = name
    deployment["spec"]["replicas"] = 1
    pod = deployment["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    c["image"] = image
    host_port = free_port()
    (port,) = c["ports"]
    port.update(hostPort=host_port, hostIP="127.0.0.1")
    for volume in pod.get("volumes", []):
        old = volume["name"]
        volume["name"] = f"{name}-{old}"
        for mount in c.get("volumeMounts", []):
            if mount["name"] == old:
                mount["name"] = volume["name"]
    path = tmp_path / "deployment.yaml"
    path.write_text(yaml.safe_dump(deployment))

    engine.run("kube", "play", str(path), timeout=180)
    try:
        yield {"name": name, "pod": f"{name}-pod-0", "container": f"{name}-pod-0-{c['name']}",
               "host_port": host_port, "spec": c}
    finally:
        engine.run("kube", "down", str(path), timeout=120)
    left = engine.run("ps", "--all", "--filter", f"name={name}", "--format", "{{.Names}}").stdout
    assert left.strip() == "", f"kube down left containers behind: {left}"


def test_the_deployment_plays_gets_ready_and_recognizes_a_digit(engine: Engine, played,
                                                                 digits: Digits, client):
    spec = played["spec"]
    ready_path = spec["readinessProbe"]["httpGet"]["path"]
    container_port = spec["ports"][0]["containerPort"]
    inspected = json.loads(engine.run("inspect", "--type", "container",
                                      played["container"]).stdout)[0]
    networks = inspected["NetworkSettings"]["Networks"]
    pod_ip = next(n["IPAddress"] for n in networks.values() if n.get("IPAddress"))

    # Ready, as the readiness probe would find it, through the hostPort.
    deadline = time.monotonic() + 60
    last = "no answer yet"
    while True:
        try:
            status, body = ask("127.0.0.1", played["host_port"], "GET", ready_path)
            if status == 200:
                break
            last = f"{status} {body[:200]!r}"
        except OSError as exc:
            last = repr(exc)
        if time.monotonic() > deadline:
            logs = engine.run("logs", played["container"], check=False)
            pytest.fail(f"{ready_path} did not answer 200 within 60 s (last: {last}):\n"
                        f"{tail(logs.stdout + logs.stderr)}")
        time.sleep(0.2)

    # A prediction, through the hostPort and straight to the pod's address.
    expected = client.post("/api/predict", json={"image": digits.images[7]}).get_json()
    for host, port in (("127.0.0.1", played["host_port"]), (pod_ip, container_port)):
        status, body = ask(host, port, "POST", "/api/predict", {"image": digits.images[7]})
        assert status == 200, (host, port, body[:300])
        answer = json.loads(body)
        assert answer["digit"] == expected["digit"] == digits.labels[7], (host, answer["digit"])

    # The pod podman made runs the way the manifest says.
    host = inspected["HostConfig"]
    env = dict(item.split("=", 1) for item in inspected["Config"]["Env"])
    manifest_env = {e["name"]: e["value"] for e in spec["env"]}
    assert manifest_env.items() <= env.items()
    assert engine.run("exec", played["container"], "id", "-u").stdout.strip() == str(UID)
    assert host["ReadonlyRootfs"] is True
    assert not inspected["EffectiveCaps"]  # capabilities: drop: ["ALL"]
    assert host["Memory"] == 256 * 2**20  # limits.memory: 256Mi
    assert host["NanoCpus"] == 2 * 10**9  # limits.cpu: "2"
    assert any(m["Destination"] == "/tmp" for m in inspected["Mounts"])
    gunicorns = engine.run("exec", played["container"], "python", "-c",
                           "import os; print(sum(b'gunicorn' in open(f'/proc/{p}/cmdline', 'rb').read()"
                           " for p in os.listdir('/proc') if p.isdigit() and int(p) != os.getpid()))"
                           ).stdout.strip()
    assert int(gunicorns) == 1 + int(manifest_env["WEB_CONCURRENCY"])  # master + workers
