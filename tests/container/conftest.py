"""Fixtures for the container tests: an engine, the image built, real digits drawn.

The tests build the real Dockerfile and talk HTTP to the running containers, once through
each engine this machine has (``make test``'s setup, scripts/system-deps, makes sure there
is one):

- ``docker`` when there is a docker command: a Docker engine; Debian's podman-docker shim
  (a ``docker`` that runs podman); or, when the docker command finds no engine but podman
  is installed, the docker command against podman's Docker-compatible API, served for
  this session by ``podman system service`` (what podman-docker's /run/docker.sock link
  does on machines that run it under systemd);
- ``podman`` when podman is installed.

The base image is ``$PYTHON_IMAGE`` (the Dockerfile's default, python:3.12-slim, when
unset): taken from the engine's local images or pulled. If neither works, every container
test fails with one line that says so and what to set. A developer without any engine may
set ``SKIP_CONTAINER_TESTS=1``; that opt-out is refused when ``CI=true``.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from containers import Digits, Engine, tail, truthy
from drawing import canvas_png, data_url

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "weights" / "examples.npz"
DOCKERFILE_BASE = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", (REPO / "Dockerfile").read_text(),
                            re.MULTILINE).group(1)


def base_image() -> str:
    return os.environ.get("PYTHON_IMAGE") or DOCKERFILE_BASE


def engine_names() -> list[str]:
    found = [name for name in ("docker", "podman") if shutil.which(name)]
    # With neither, "podman" still: its fixture then fails and says what to do.
    return found or ["podman"]


def pytest_generate_tests(metafunc):
    """Every test that uses ``engine`` runs once per engine; a module may name the only
    engine its tests are about in ``ENGINES`` (podman kube play)."""
    if "engine" in metafunc.fixturenames:
        names = getattr(metafunc.module, "ENGINES", None) or engine_names()
        metafunc.parametrize("engine", names, indirect=True, scope="session")


USED: list[Engine] = []
CANNOT_RUN: list[str] = []


def pytest_terminal_summary(terminalreporter):
    for e in USED:
        terminalreporter.write_line(f"container engine {e.name}: {e.via}; "
                                    f"base image {base_image()}")
    for line in dict.fromkeys(CANNOT_RUN):  # once each, after the per-test errors
        terminalreporter.write_line(line, red=True, bold=True)


def _cannot_run(why: str) -> None:
    CANNOT_RUN.append(f"CONTAINER TESTS CANNOT RUN: {why}")
    pytest.fail(CANNOT_RUN[-1], pytrace=False)


def _answers(name: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([name, "info"], env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="session")
def engine(request) -> Engine:
    """``docker`` or ``podman`` (the parameter), able to start containers."""
    if truthy("SKIP_CONTAINER_TESTS"):
        if truthy("CI"):
            pytest.fail("SKIP_CONTAINER_TESTS is set but CI=true: the container tests may "
                        "not be skipped in CI")
        pytest.skip("SKIP_CONTAINER_TESTS=1: developer opt-out of the container tests")
    name = request.param
    if not shutil.which(name):
        others = [n for n in ("docker", "podman") if shutil.which(n)]
        if others:  # a module's ENGINES asked for it (podman kube play on a Docker machine)
            pytest.skip(f"needs {name}, which this machine does not have (the other "
                        f"container tests run through {', '.join(others)})")
        _cannot_run("no container engine: neither docker nor podman is installed "
                    "(`make test` installs podman on Debian or Ubuntu)")
    env = dict(os.environ)
    if name == "podman":
        info = _answers("podman", env)
        if info.returncode != 0:
            _cannot_run(f"`podman info` failed (run `make system-deps` as root): "
                        f"{tail(info.stderr, 1)}")
        return _used(Engine("podman", env, via=_version("podman")))

    # The podman-docker shim runs `podman build`, whose default image format drops the
    # HEALTHCHECK; Docker ignores this variable.
    env["BUILDAH_FORMAT"] = "docker"
    info = _answers("docker", env)
    if info.returncode == 0:
        return _used(Engine("docker", env, via=_version("docker", env)))
    if "DOCKER_HOST" in os.environ or not shutil.which("podman"):
        _cannot_run(f"`docker info` failed and there is no podman to serve the Docker API: "
                    f"{tail(info.stderr, 1)}")
    return _docker_on_podman(request, env, info.stderr)


def _docker_on_podman(request, env: dict[str, str], why: str) -> Engine:
    """The docker command against ``podman system service`` on a socket of our own."""
    folder = tempfile.mkdtemp(prefix="digits-docker-api-")
    socket_path = Path(folder) / "podman.sock"
    log = open(Path(folder) / "service.log", "w")
    service = subprocess.Popen(["podman", "system", "service", "--time=0",
                                f"unix://{socket_path}"], stdout=log, stderr=log)

    def stop() -> None:
        service.terminate()
        try:
            service.wait(10)
        except subprocess.TimeoutExpired:
            service.kill()
            service.wait()
        log.close()
        shutil.rmtree(folder, ignore_errors=True)

    request.addfinalizer(stop)
    env["DOCKER_HOST"] = f"unix://{socket_path}"
    deadline = time.monotonic() + 30
    while True:
        info = _answers("docker", env)
        if info.returncode == 0:
            break
        if service.poll() is not None or time.monotonic() > deadline:
            _cannot_run(f"`docker info` found no Docker engine ({tail(why, 1)}) and podman's "
                        f"Docker API did not answer either: {tail(info.stderr, 1)}")
        time.sleep(0.2)
    return _used(Engine("docker", env, via=f"{_version('docker', env)} "
                                      f"(podman system service: {_version('podman')})"))


def _version(name: str, env: dict[str, str] | None = None) -> str:
    """What answers: ``docker version`` names the client and the engine behind it (the
    podman-docker shim does not know that format: its ``--version`` says podman)."""
    if name == "docker":
        fmt = "docker {{.Client.Version}} client, {{.Server.Version}} engine"
        proc = subprocess.run(["docker", "version", "--format", fmt], env=env,
                              capture_output=True, text=True, timeout=60)
        if proc.returncode == 0:
            return proc.stdout.strip()
    proc = subprocess.run([name, "--version"], env=env, capture_output=True, text=True,
                          timeout=60)
    return proc.stdout.strip() or tail(proc.stderr, 1)


def _used(engine: Engine) -> Engine:
    USED.append(engine)
    return engine


@pytest.fixture(scope="session")
def base(engine: Engine) -> str:
    """The base image, on this machine: found among the engine's images or pulled."""
    image = base_image()
    if engine.run("image", "inspect", image, check=False).returncode == 0:
        return image
    pull = engine.run("pull", image, check=False, timeout=600)
    if pull.returncode != 0:
        reason = tail(pull.stderr or pull.stdout, 1)[:200]
        _cannot_run(f"no base image {image} (not local, `{engine.name} pull` failed): set "
                    f"PYTHON_IMAGE to a local Python 3.12 image (make test PYTHON_IMAGE=...); "
                    f"the pull said: {reason}")
    return image


@pytest.fixture(scope="session")
def image(engine: Engine, base: str) -> str:
    """The project's Dockerfile built FROM ``base`` (cached layers make re-runs fast)."""
    tag = os.environ.get("CONTAINER_TEST_IMAGE", "localhost/digits-test") + f"-{engine.name}:latest"
    engine.build(tag, base, str(REPO))
    return tag


@pytest.fixture(scope="session")
def digits() -> Digits:
    """One real MNIST test digit per class, from the committed sample, drawn on a canvas."""
    if not EXAMPLES.is_file():
        pytest.fail(f"{EXAMPLES} is missing: the image and these tests need the committed sample")
    with np.load(EXAMPLES, allow_pickle=False) as npz:
        images, labels = npz["images"], npz["labels"].astype(int)
    picks = []
    for d in range(10):
        where = np.flatnonzero(labels == d)
        if where.size == 0:
            pytest.fail(f"{EXAMPLES} holds no example of the digit {d}")
        picks.append(int(where[0]))
    pixels = images[picks].astype(np.float32) / 255.0
    return Digits(labels=[int(labels[i]) for i in picks], pixels=pixels,
                  images=[data_url(canvas_png(p)) for p in pixels])
