"""Container engine and HTTP helpers for the container tests (fixtures live in conftest.py).

The same tests run through ``docker`` and through ``podman`` (see conftest.py): ``Engine``
holds the few places where their command lines differ.
"""
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


class Engine:
    """``docker`` or ``podman``, run with ``env``; ``via`` says what answers (for reports)."""

    def __init__(self, name: str, env: dict[str, str], via: str = ""):
        self.name = name
        self.env = env
        self.via = via or name

    def __repr__(self) -> str:
        return f"Engine({self.name!r}, via {self.via!r})"

    def run(self, *args: str, check: bool = True, timeout: float = 120,
            input: str | None = None) -> subprocess.CompletedProcess[str]:
        try:
            proc = subprocess.run([self.name, *args], env=self.env, capture_output=True,
                                  text=True, timeout=timeout, input=input)
        except subprocess.TimeoutExpired:
            pytest.fail(f"`{self.name} {shlex.join(args)}` did not finish within {timeout} s")
        if check and proc.returncode != 0:
            pytest.fail(f"`{self.name} {shlex.join(args)}` exited {proc.returncode}:\n"
                        f"{tail(proc.stderr or proc.stdout)}")
        return proc

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([self.name, *args], env=self.env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def build(self, tag: str, base: str, context: str) -> None:
        # podman's default (OCI) image format has no place for HEALTHCHECK: ask for Docker's.
        # Docker builds nothing else; the podman-docker shim reads BUILDAH_FORMAT (conftest).
        fmt = ["--format", "docker"] if self.name == "podman" else []
        self.run("build", *fmt, "--build-arg", f"PYTHON_IMAGE={base}", "--tag", tag, context,
                 timeout=900)

    def read_only(self) -> tuple[str, ...]:
        """A read-only root filesystem and nothing writable besides /dev/shm: podman would
        also mount tmpfs on /tmp, /var/tmp and /run unless told not to; Docker mounts none."""
        return ("--read-only", "--read-only-tmpfs=false") if self.name == "podman" else ("--read-only",)

    def remove(self, cid: str) -> None:
        # podman's `rm --force` first waits out the stop timeout; Docker's kills at once.
        # Checked: a container left behind is a failure, not a footnote.
        wait = ("--time", "0") if self.name == "podman" else ()
        self.run("rm", "--force", *wait, cid)

    def healthcheck(self, cid: str) -> subprocess.CompletedProcess[str]:
        """Run the image's HEALTHCHECK in the container now, as the engine would."""
        if self.name == "podman":
            return self.run("healthcheck", "run", cid, check=False)
        # Docker has no `healthcheck run`: its daemon execs the configured test itself, on its
        # schedule (first after --interval, 15 s). The same command, exec'd now:
        image = json.loads(self.run("inspect", "--type", "container", "--format",
                                    "{{json .Config.Healthcheck}}", cid).stdout)
        test = (image or {}).get("Test") or []
        if not test or test[0] not in ("CMD", "CMD-SHELL"):
            pytest.fail(f"container {cid[:12]} has no HEALTHCHECK command: {image!r}")
        cmd = test[1:] if test[0] == "CMD" else ["/bin/sh", "-c", test[1]]
        return self.run("exec", cid, *cmd, check=False)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Container:
    engine: Engine
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
        out = self.engine.run("inspect", "--type", "container", "--format",
                              "{{json .State}}", self.id).stdout
        return json.loads(out)

    def logs(self) -> str:
        proc = self.engine.run("logs", self.id, check=False)
        return proc.stdout + proc.stderr

    def exec(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.engine.run("exec", self.id, *cmd, check=check)

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
            self.engine.remove(self.id)
            self.removed = True


def start_container(engine: Engine, image: str, *, env: dict[str, str] | None = None,
                    port: int = 8000, args: tuple[str, ...] = ()) -> Container:
    """``run --detach`` with ``port`` published on a free loopback port the engine chooses."""
    cmd = ["run", "--detach", "--name", f"digits-test-{uuid.uuid4().hex[:10]}",
           "--publish", f"127.0.0.1::{port}"]
    for key, value in (env or {}).items():
        cmd += ["--env", f"{key}={value}"]
    cid = engine.run(*cmd, *args, image).stdout.strip().splitlines()[-1]
    mapping = engine.run("port", cid, f"{port}/tcp").stdout.strip().splitlines()[0]
    host, _, host_port = mapping.rpartition(":")
    return Container(engine, cid, host or "127.0.0.1", int(host_port), port)


@dataclass(frozen=True)
class Digits:
    labels: list[int]
    pixels: np.ndarray  # (10, 784) float32 in [0, 1], ink = 1
    images: list[str]   # the same digits as canvas PNG data URLs (280×280, transparent)
