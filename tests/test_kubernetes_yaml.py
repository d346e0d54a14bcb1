"""docs/kubernetes.yaml agrees with the real app, gunicorn.conf.py and the Dockerfile.

A manifest is only text until a cluster rejects it or, worse, accepts it and probes a
route that does not exist. These tests read it the way Kubernetes would and ask the
real app (in-process) the questions the kubelet will ask.
"""
from __future__ import annotations

import os
import re
import runpy
from pathlib import Path

import pytest
import yaml

from app import create_app

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "docs" / "kubernetes.yaml"
DOCKERFILE = ROOT / "Dockerfile"
GUNICORN_CONF = ROOT / "gunicorn.conf.py"
WORKLOADS = ["Deployment", "InferenceService"]
# (workload, probe, the route it must ask): readiness follows the model, liveness only
# the process, so a missing model takes a pod out of the Service without restarting it.
PROBES = [
    ("Deployment", "startupProbe", "/v2/health/live"),
    ("Deployment", "readinessProbe", "/v2/health/ready"),
    ("Deployment", "livenessProbe", "/v2/health/live"),
    ("InferenceService", "readinessProbe", "/v2/health/ready"),
    ("InferenceService", "livenessProbe", "/v2/health/live"),
]


@pytest.fixture(scope="module")
def documents() -> list[dict]:
    return [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]


def document(documents: list[dict], kind: str) -> dict:
    found = [d for d in documents if d["kind"] == kind]
    assert len(found) == 1, f"expected one {kind} in {MANIFEST.name}, found {len(found)}"
    return found[0]


def pod_spec(documents: list[dict], kind: str) -> dict:
    doc = document(documents, kind)
    # A KServe predictor inlines the PodSpec.
    return doc["spec"]["template"]["spec"] if kind == "Deployment" else doc["spec"]["predictor"]


def container(documents: list[dict], kind: str) -> dict:
    containers = pod_spec(documents, kind)["containers"]
    assert len(containers) == 1
    return containers[0]


def env(c: dict) -> dict[str, str]:
    return {e["name"]: e["value"] for e in c.get("env", [])}


def dockerfile(instruction: str) -> list[str]:
    """Arguments of every ``instruction`` line of the Dockerfile (continuations joined)."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    return [line.split(None, 1)[1] for line in text.splitlines()
            if line.upper().startswith(instruction + " ")]


def gunicorn_settings(monkeypatch, **environ: str) -> dict:
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    # The file sets variables for the server it starts (PROMETHEUS_MULTIPROC_DIR, ...): keep
    # them out of this process, and remove the metrics directory it made, as gunicorn would.
    monkeypatch.setattr(os, "environ", dict(os.environ))
    settings = runpy.run_path(str(GUNICORN_CONF))
    settings["on_exit"](None)
    return settings


def cpu(quantity: str) -> float:
    return float(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


def memory(quantity: str) -> int:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "K": 10**3, "M": 10**6, "G": 10**9}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return int(float(quantity[: -len(suffix)]) * factor)
    return int(quantity)


def test_manifest_holds_a_deployment_its_service_autoscaler_budget_and_an_inference_service(documents):
    assert [(d["apiVersion"], d["kind"]) for d in documents] == [
        ("apps/v1", "Deployment"), ("v1", "Service"),
        ("autoscaling/v2", "HorizontalPodAutoscaler"), ("policy/v1", "PodDisruptionBudget"),
        ("serving.kserve.io/v1beta1", "InferenceService")]
    assert container(documents, "InferenceService")["image"] == \
        container(documents, "Deployment")["image"]


@pytest.mark.parametrize("kind, probe, path", PROBES)
def test_probe_asks_the_route_that_answers_it(documents, client, kind, probe, path):
    c = container(documents, kind)
    http_get = c[probe]["httpGet"]
    assert http_get["path"] == path
    # The probe's port is the serving port: by name, by number, or (Knative) implied.
    port = http_get.get("port")
    names = {p.get("name") for p in c["ports"]} | {p["containerPort"] for p in c["ports"]}
    assert port is None or port in names, port
    assert client.get(path).status_code == 200


def test_readiness_fails_and_liveness_holds_without_a_model(documents, tmp_path):
    app = create_app({"TESTING": True, "WEIGHTS_PATH": str(tmp_path / "missing.npz")})
    client = app.test_client()
    for kind, probe, path in PROBES:
        expected = 503 if probe == "readinessProbe" else 200
        got = client.get(container(documents, kind)[probe]["httpGet"]["path"]).status_code
        assert got == expected, (kind, probe, got)


def test_the_image_healthcheck_asks_the_readiness_route(documents):
    (healthcheck,) = dockerfile("HEALTHCHECK")
    path = container(documents, "Deployment")["readinessProbe"]["httpGet"]["path"]
    assert f"'{path}'" in healthcheck


@pytest.mark.parametrize("kind", WORKLOADS)
def test_one_port_everywhere(documents, monkeypatch, kind):
    c = container(documents, kind)
    (port,) = [p["containerPort"] for p in c["ports"]]
    assert env(c)["PORT"] == str(port)
    assert dockerfile("EXPOSE") == [str(port)]
    settings = gunicorn_settings(monkeypatch, PORT=env(c)["PORT"])
    assert settings["bind"] == f"0.0.0.0:{port}"


def test_service_reaches_the_deployments_pods(documents):
    deployment, service = document(documents, "Deployment"), document(documents, "Service")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert service["spec"]["selector"].items() <= labels.items()
    c = container(documents, "Deployment")
    ports = {p.get("name") for p in c["ports"]} | {p["containerPort"] for p in c["ports"]}
    for p in service["spec"]["ports"]:
        assert p["targetPort"] in ports


@pytest.mark.parametrize("kind", WORKLOADS)
def test_runs_as_the_images_non_root_user(documents, kind):
    pod = pod_spec(documents, kind).get("securityContext", {})
    ctx = {**pod, **container(documents, kind)["securityContext"]}  # container wins
    (user,) = dockerfile("USER")
    uid = int(user.split(":")[0])
    assert uid != 0
    assert ctx["runAsNonRoot"] is True
    assert ctx["runAsUser"] == uid
    assert ctx["allowPrivilegeEscalation"] is False
    assert ctx["readOnlyRootFilesystem"] is True
    assert "ALL" in ctx["capabilities"]["drop"]
    assert ctx["seccompProfile"]["type"] == "RuntimeDefault"


@pytest.mark.parametrize("kind", WORKLOADS)
def test_read_only_root_leaves_gunicorn_somewhere_to_write(documents, monkeypatch, kind):
    mounts = {m["mountPath"] for m in container(documents, kind).get("volumeMounts", [])}
    worker_tmp_dir = gunicorn_settings(monkeypatch).get("worker_tmp_dir")
    # Heartbeat files go to worker_tmp_dir, else to the temp dir (/tmp).
    writable = mounts | {"/dev/shm"}  # every container runtime gives a pod a /dev/shm tmpfs
    assert (worker_tmp_dir or "/tmp") in writable, (worker_tmp_dir, mounts)


@pytest.mark.parametrize("kind", WORKLOADS)
def test_resources_are_requested_and_limited(documents, kind):
    resources = container(documents, kind)["resources"]
    requests, limits = resources["requests"], resources["limits"]
    assert 0 < cpu(requests["cpu"]) <= cpu(limits["cpu"])
    assert 0 < memory(requests["memory"]) <= memory(limits["memory"])
    # gunicorn counts the node's CPUs, so the worker count must be set to fit the limit:
    # two per CPU, as gunicorn.conf.py's default does with the CPUs it can see.
    workers = int(env(container(documents, kind))["WEB_CONCURRENCY"])
    assert 1 <= workers <= max(1, 2 * cpu(limits["cpu"]))


def test_grace_period_covers_the_pre_stop_pause_and_gunicorns_drain(documents, monkeypatch):
    spec = pod_spec(documents, "Deployment")
    c = container(documents, "Deployment")
    pre_stop = c["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    settings = gunicorn_settings(monkeypatch, **{k: v for k, v in env(c).items()
                                                 if k == "GRACEFUL_TIMEOUT"})
    assert spec["terminationGracePeriodSeconds"] > int(pre_stop[1]) + settings["graceful_timeout"]


def test_inference_service_speaks_the_open_inference_protocol(documents, client):
    c = container(documents, "InferenceService")
    assert c["name"] == "kserve-container"
    assert env(c)["PROTOCOL"] == "v2"
    assert [p["name"] for p in c["ports"]] == ["http1"]
    assert client.get("/v2").status_code == 200
    assert client.get("/v2/models/mnist-784-16-16-10/ready").status_code == 200


def cpu_target(documents, kind: str) -> tuple[float, float, float]:
    """(target, request, limit) in cores: the autoscaler's utilisation is a share of the
    CPU *request*, so this is the CPU a pod uses on average when more pods are added."""
    resources = container(documents, kind)["resources"]
    if kind == "Deployment":
        (metric,) = document(documents, "HorizontalPodAutoscaler")["spec"]["metrics"]
        percent = metric["resource"]["target"]["averageUtilization"]
    else:
        percent = document(documents, kind)["spec"]["predictor"]["scaleTarget"]
    request = cpu(resources["requests"]["cpu"])
    return percent / 100 * request, request, cpu(resources["limits"]["cpu"])


def test_the_autoscaler_scales_the_deployment_on_cpu(documents):
    deployment = document(documents, "Deployment")
    hpa = document(documents, "HorizontalPodAutoscaler")["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": deployment["apiVersion"],
                                     "kind": "Deployment",
                                     "name": deployment["metadata"]["name"]}
    # A count in the Deployment would be reset by every `kubectl apply`, fighting the HPA.
    assert "replicas" not in deployment["spec"]
    assert 2 <= hpa["minReplicas"] <= hpa["maxReplicas"]
    (metric,) = hpa["metrics"]
    assert metric["type"] == "Resource" and metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"]["type"] == "Utilization"
    target, request, limit = cpu_target(documents, "Deployment")
    # Steady state within what the pod asked for, and room above it for the minute it
    # takes new pods to come: the load bench held 1.8x the target within 2 CPUs.
    assert 0 < target <= request
    assert limit >= 1.8 * target


def test_the_disruption_budget_keeps_one_pod_serving(documents):
    deployment = document(documents, "Deployment")
    pdb = document(documents, "PodDisruptionBudget")["spec"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert pdb["selector"]["matchLabels"].items() <= labels.items()
    min_replicas = document(documents, "HorizontalPodAutoscaler")["spec"]["minReplicas"]
    if "maxUnavailable" in pdb:
        may_go = pdb["maxUnavailable"]
    else:
        may_go = min_replicas - pdb["minAvailable"]
    # A drain can always proceed (a budget allowing nothing blocks it forever), and with
    # the fewest pods the HPA keeps, one still serves while another is evicted.
    assert 1 <= may_go < min_replicas


def test_kserve_scales_on_the_same_cpu_target(documents):
    isvc = document(documents, "InferenceService")
    predictor = isvc["spec"]["predictor"]
    assert 2 <= predictor["minReplicas"] <= predictor["maxReplicas"]
    assert predictor["scaleMetric"] == "cpu"
    # Knative's default autoscaler (KPA) knows concurrency and rps only.
    assert isvc["metadata"]["annotations"]["autoscaling.knative.dev/class"] == \
        "hpa.autoscaling.knative.dev"
    target, request, limit = cpu_target(documents, "InferenceService")
    assert target == cpu_target(documents, "Deployment")[0]
    assert 0 < target <= request <= limit
