"""Podman and HTTP helpers for the container tests (fixtures live in conftest.py)."""
from __future__ import annotations

import http.client
import json
import os
import shlex
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

READY_TIMEOUT = 60.0


def truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes"}


def tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


class Podman:
    """``podman`` with the environment ``prepare`` printed (STANDIN_IMAGE, BUILDAH_ISOLATION)."""

    def __init__(self, env: dict[str, str]):
        self.env = env

    def run(self, *args: str, check: bool = True, timeout: float = 120,
            input: str | None = None) -> subprocess.CompletedProcess[str]:
        try:
            proc = subprocess.run(["podman", *args], env=self.env, capture_output=True,
                                  text=True, timeout=timeout, input=input)
        except subprocess.TimeoutExpired:
            pytest.fail(f"`podman {shlex.join(args)}` did not finish within {timeout} s")
        if check and proc.returncode != 0:
            pytest.fail(f"`podman {shlex.join(args)}` exited {proc.returncode}:\n"
                        f"{tail(proc.stderr or proc.stdout)}")
        return proc

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(["podman", *args], env=self.env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Container:
    podman: Podman
    id: str
    host: str
    port: int
    port_in_container: int
    removed: bool = field(default=False)

    def request(self, method: str, path: str, body: Any = None,
                timeout: float = 30) -> Response:
        # http.client, not urllib: never route loopback traffic through an HTTP_PROXY.
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            headers = {}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()},
                            resp.read())
        finally:
            conn.close()

    def state(self) -> dict[str, Any]:
        out = self.podman.run("inspect", "--type", "container", "--format",
                              "{{json .State}}", self.id).stdout
        return json.loads(out)

    def logs(self) -> str:
        proc = self.podman.run("logs", self.id, check=False)
        return proc.stdout + proc.stderr

    def exec(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.podman.run("exec", self.id, *cmd, check=check)

    def wait_until(self, path: str, status: int = 200, timeout: float = READY_TIMEOUT) -> float:
        """Poll ``path`` until it answers ``status``; return the seconds it took."""
        start = time.monotonic()
        last = "no answer yet"
        while time.monotonic() - start < timeout:
            try:
                resp = self.request("GET", path, timeout=2)
                if resp.status == status:
                    return time.monotonic() - start
                last = f"{resp.status} {resp.body[:200]!r}"
            except OSError as exc:
                last = repr(exc)
            if not self.state().get("Running"):
                pytest.fail(f"container exited before {path} answered {status}:\n"
                            f"{tail(self.logs())}")
            time.sleep(0.1)
        pytest.fail(f"{path} did not answer {status} within {timeout} s (last: {last}):\n"
                    f"{tail(self.logs())}")

    def remove(self) -> None:
        if not self.removed:
            self.podman.run("rm", "--force", "--time", "0", self.id, check=False)
            self.removed = True


def start_container(podman: Podman, image: str, *, env: dict[str, str] | None = None,
                    port: int = 8000, args: tuple[str, ...] = ()) -> Container:
    """``podman run -d`` with ``port`` published on a free loopback port chosen by podman."""
    cmd = ["run", "--detach", "--name", f"digits-test-{uuid.uuid4().hex[:10]}",
           "--publish", f"127.0.0.1::{port}"]
    for key, value in (env or {}).items():
        cmd += ["--env", f"{key}={value}"]
    cid = podman.run(*cmd, *args, image).stdout.strip().splitlines()[-1]
    mapping = podman.run("port", cid, f"{port}/tcp").stdout.strip().splitlines()[0]
    host, _, host_port = mapping.rpartition(":")
    return Container(podman, cid, host or "127.0.0.1", int(host_port), port)


@dataclass(frozen=True)
class Digits:
    labels: list[int]
    pixels: np.ndarray  # (10, 784) float32 in [0, 1], ink = 1
    images: list[str]   # the same digits as canvas PNG data URLs (280×280, transparent)
