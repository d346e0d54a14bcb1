"""Fixtures for the container tests: podman prepared, the image built, real digits drawn.

The tests build the real Dockerfile with podman (no Docker engine on these machines)
against the stand-in for ``python:3.12-slim`` that ``../shared/container/prepare``
builds, then talk HTTP to the running containers.

In CI they must run: if podman cannot, every test errors loudly. A developer without
podman may set ``SKIP_CONTAINER_TESTS=1``; that opt-out is refused when ``CI=true``.
"""
from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import numpy as np
import pytest

from containers import Digits, Podman, tail, truthy
from drawing import canvas_png, data_url

REPO = Path(__file__).resolve().parents[2]
PREPARE = REPO.parent / "shared" / "container" / "prepare"
IMAGE = os.environ.get("CONTAINER_TEST_IMAGE", "localhost/digits-test:latest")
EXAMPLES = REPO / "weights" / "examples.npz"


@pytest.fixture(scope="session")
def podman() -> Podman:
    """podman, with the environment ``eval "$(../shared/container/prepare)"`` would set."""
    if truthy("SKIP_CONTAINER_TESTS"):
        if truthy("CI"):
            pytest.fail("SKIP_CONTAINER_TESTS is set but CI=true: the container tests may "
                        "not be skipped in CI")
        pytest.skip("SKIP_CONTAINER_TESTS=1: developer opt-out of the container tests")
    if not PREPARE.is_file():
        pytest.fail(f"CONTAINER TESTS CANNOT RUN: {PREPARE} is missing (it installs podman "
                    "and builds the python:3.12-slim stand-in)")
    try:
        proc = subprocess.run(["bash", str(PREPARE)], cwd=REPO, capture_output=True,
                              text=True, timeout=900)
    except subprocess.TimeoutExpired:
        pytest.fail(f"CONTAINER TESTS CANNOT RUN: {PREPARE} did not finish within 15 min")
    if proc.returncode != 0:
        pytest.fail(f"CONTAINER TESTS CANNOT RUN: {PREPARE} exited {proc.returncode} "
                    f"(it needs root):\n{tail(proc.stderr)}")
    env = dict(os.environ)
    for line in proc.stdout.splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            key, _, value = words[1].partition("=")
            env[key] = value
    if "STANDIN_IMAGE" not in env:
        pytest.fail(f"CONTAINER TESTS CANNOT RUN: {PREPARE} printed no STANDIN_IMAGE:\n"
                    f"{proc.stdout}")
    p = Podman(env)
    info = p.run("info", "--format", "{{.Host.OCIRuntime.Name}}", check=False)
    if info.returncode != 0:
        pytest.fail(f"CONTAINER TESTS CANNOT RUN: `podman info` failed:\n{tail(info.stderr)}")
    return p


@pytest.fixture(scope="session")
def image(podman: Podman) -> str:
    """The project's Dockerfile built against the stand-in base (cached layers make re-runs fast)."""
    podman.run("build", "--format", "docker",
               "--build-arg", f"PYTHON_IMAGE={podman.env['STANDIN_IMAGE']}",
               "--tag", IMAGE, str(REPO), timeout=900)
    return IMAGE


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
