"""`make run` and the production server's own account of where it listens.

`make run` names the address to open before anything else; gunicorn's "Listening at" line
names the bound address (with reuse_port the master had no socket and printed nothing, see
gunicorn.conf.py's on_starting); and a second server on a port already served is refused
instead of silently sharing its connections.
"""
from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.live_server import ROOT, Gunicorn, free_port, get

pytestmark = pytest.mark.server

VENV = Path(sys.prefix)


def test_the_listening_line_names_the_bound_address():
    with Gunicorn(env={"WEB_CONCURRENCY": "1"}) as server:
        log = server.log()
    assert f"Listening at: http://0.0.0.0:{server.port} ({server.pid})" in log, log


def test_a_second_server_on_a_served_port_is_refused():
    with Gunicorn(env={"WEB_CONCURRENCY": "2"}) as first:
        second = subprocess.run(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:create_app()"],
            cwd=ROOT, env={**first.env, "WEB_CONCURRENCY": "1"}, capture_output=True,
            text=True, timeout=60)
        answers = [get(first.url + "/v2/health/live")[0] for _ in range(40)]
        log = first.log()
    assert second.returncode != 0, second.stdout + second.stderr
    assert f"Connection in use: ('0.0.0.0', {first.port})" in second.stdout + second.stderr
    assert answers == [200] * 40
    assert "Booting worker" in log and "Traceback" not in log


def test_make_run_shows_the_url_first_and_serves_the_page():
    port = free_port()
    # -o: this environment is set up already; make must not rebuild it.
    cmd = ["make", "--no-print-directory", "run", f"PORT={port}", f"VENV={VENV}",
           "-o", f"{VENV}/.runtime"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True,
                            env={**os.environ, "WEB_CONCURRENCY": "1", "PYTHONUNBUFFERED": "1"})
    lines: list[str] = []
    try:
        selector = selectors.DefaultSelector()
        selector.register(proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + 60
        while not any("Booting worker" in line for line in lines):
            assert time.monotonic() < deadline, "\n".join(lines)
            assert proc.poll() is None, "\n".join(lines + [proc.stdout.read()])
            if selector.select(timeout=1):
                lines.append(proc.stdout.readline().rstrip("\n"))
        url = f"http://localhost:{port}"
        assert lines[0].startswith(f"Draw a Digit: {url}"), lines
        listening = [line for line in lines if "Listening at:" in line]
        assert listening and re.search(rf"Listening at: http://0\.0\.0\.0:{port} \(\d+\)$",
                                       listening[0]), lines
        deadline = time.monotonic() + 30
        while True:
            try:
                status, headers, body = get(url + "/")
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert status == 200 and headers["Content-Type"].startswith("text/html")
        assert b"<canvas" in body
    finally:
        # Ctrl-C in a terminal: SIGINT to make and gunicorn alike.
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
