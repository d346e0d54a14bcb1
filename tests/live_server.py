"""The production server as a child process, for the fault, hostile-input and bench scripts.

``Gunicorn`` runs exactly the production command (``gunicorn -c gunicorn.conf.py
"app:create_app()"``) on a free loopback port, with its log going to a file (never to a
pipe nobody reads: gunicorn would block once the pipe's 64 KiB buffer filled up with access
log lines). It knows its worker processes, their memory, and how to stop.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The production command. LIVE_SERVER_CONFIG names another config file, only to try a
#: proposed change to gunicorn.conf.py against these tests before it is made.
CONFIG = os.environ.get("LIVE_SERVER_CONFIG", "gunicorn.conf.py")
APP = "app:create_app()"
COMMAND = ["-m", "gunicorn", "-c", CONFIG, APP]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, timeout: float = 5.0) -> tuple[int, dict, bytes]:
    """Status, headers and body of a GET on a fresh connection (4xx/5xx are answers too)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def post_json(url: str, body, timeout: float = 10.0) -> tuple[int, dict, bytes]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def children(pid: int) -> list[int]:
    """Direct child processes of ``pid`` (gunicorn's workers, for its master)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        return sorted(int(p) for p in text.split())
    except FileNotFoundError:
        pass
    found = []
    for entry in Path("/proc").iterdir():  # kernels without the children file
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def rss_kib(pid: int) -> int:
    """Resident set size of a process in KiB (VmRSS from /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise ValueError(f"no VmRSS for pid {pid}")


class Gunicorn:
    """``with Gunicorn(env={...}) as server:`` → the production server on ``server.url``."""

    def __init__(self, env: dict[str, str] | None = None, port: int | None = None,
                 log_path: Path | None = None, ready_path: str = "/v2/health/ready", app: str = APP):
        self.command = [*COMMAND[:-1], app]  # another app only for bench/cut_short.py
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "PORT": str(self.port), "PYTHONUNBUFFERED": "1", **(env or {})}
        self.ready_path = ready_path
        if log_path is None:
            handle, name = tempfile.mkstemp(prefix="gunicorn-", suffix=".log")
            os.close(handle)
            log_path = Path(name)
            self._own_log = True
        else:
            self._own_log = False
        self.log_path = Path(log_path)
        self.process: subprocess.Popen | None = None

    # --- life cycle ---------------------------------------------------------------------

    def start(self, timeout: float = 60.0) -> "Gunicorn":
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen([sys.executable, *self.command], cwd=ROOT, env=self.env,
                                            stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL)
        self.wait_answering(self.ready_path, timeout)
        return self

    def wait_answering(self, path: str, timeout: float = 60.0, status: int | None = 200) -> None:
        """Until ``path`` answers (with ``status``, if given) and every worker is up."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log()[-3000:]}")
            try:
                code, _, _ = get(self.url + path, timeout=2)
                if (status is None or code == status) and len(self.workers()) >= self.expected_workers:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"gunicorn did not answer {path} within {timeout} s:\n{self.log()[-3000:]}")

    @property
    def expected_workers(self) -> int:
        raw = self.env.get("WEB_CONCURRENCY")
        return int(raw) if raw else 2 * len(os.sched_getaffinity(0))  # gunicorn.conf.py's default

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> tuple[int, float]:
        """Send ``sig`` to the master; its exit code and how long it took to exit (s)."""
        assert self.process is not None
        if self.process.poll() is not None:
            return self.process.returncode, 0.0
        start = time.monotonic()
        self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        return code, time.monotonic() - start

    def __enter__(self) -> "Gunicorn":
        return self.start()

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.stop()
        if self._own_log and exc[0] is None:
            self.log_path.unlink(missing_ok=True)

    # --- looking inside -----------------------------------------------------------------

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def workers(self) -> list[int]:
        return children(self.pid) if self.process and self.process.poll() is None else []

    def worker_rss_kib(self) -> dict[int, int]:
        sizes = {}
        for pid in self.workers():
            try:
                sizes[pid] = rss_kib(pid)
            except (OSError, ValueError):
                pass  # exited between listing and reading
        return sizes

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def worker_timeouts(self) -> int:
        return self.log().count("WORKER TIMEOUT")
