"""Measure the production image: size, time to ready, memory per worker.

    .venv/bin/python bench/container_metrics.py [--runs 5] [--workers 2] [--no-build] [--base IMAGE]

Builds the Dockerfile with podman FROM $PYTHON_IMAGE (default: the Dockerfile's
python:3.12-slim), as the container tests do (cached layers make it quick), then reports:

- image size added on top of the base image (GOAL <= 100 MB), and the largest layers;
- time from ``podman run`` to the first 200 from /v2/health/ready, polled every 5 ms
  (GOAL <= 1 s), with what the start-up spends it on, measured inside the container;
- memory of each gunicorn process at rest after serving real canvas PNGs: RSS from
  /proc/<pid>/status (GOAL <= 50 MB per worker) and, because preload_app shares the
  master's pages with every worker, PSS and USS from /proc/<pid>/smaps_rollup.

Prints the figures and writes them to bench/results/container_metrics.json.
Needs root and podman (`make system-deps` installs and configures it).
"""
from __future__ import annotations

import argparse
import base64
import http.client
import io
import json
import os
import re
import shlex
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "container_metrics.json"
MB = 1e6
GOALS = {"added_mb": 100.0, "ready_s": 1.0, "worker_rss_mb": 50.0}

# Run inside the container: every gunicorn process with its memory figures.
MEMORY_PROBE = r"""
import json, os
out = []
for pid in sorted(filter(str.isdigit, os.listdir('/proc')), key=int):
    if int(pid) == os.getpid():
        continue
    try:
        cmd = open(f'/proc/{pid}/cmdline', 'rb').read().replace(b'\0', b' ').decode()
        if 'gunicorn' not in cmd:
            continue
        status = dict(l.split(':', 1) for l in open(f'/proc/{pid}/status'))
        rollup = {}
        try:
            for line in open(f'/proc/{pid}/smaps_rollup'):
                parts = line.split()
                if len(parts) >= 3 and parts[-1] == 'kB':
                    rollup[parts[0].rstrip(':')] = int(parts[1])
        except OSError:
            pass
    except OSError:
        continue
    kb = lambda key: int(status[key].split()[0])
    out.append({'pid': int(pid), 'ppid': int(status['PPid']), 'rss_kb': kb('VmRSS'),
                'pss_kb': rollup.get('Pss'),
                'uss_kb': (rollup['Private_Clean'] + rollup['Private_Dirty'])
                          if 'Private_Clean' in rollup else None})
print(json.dumps(out))
"""

# Run inside the container, each in a fresh interpreter: what start-up costs.
IMPORT_PROBE = r"""
import subprocess, sys, time
t = time.perf_counter(); subprocess.run([sys.executable, '-c', 'pass'], check=True)
interpreter = time.perf_counter() - t
t = time.perf_counter()
subprocess.run([sys.executable, '-c', 'import app; app.create_app()'], check=True)
whole = time.perf_counter() - t
t0 = time.perf_counter()
import numpy; t1 = time.perf_counter()
import PIL.Image; t2 = time.perf_counter()
import flask; t3 = time.perf_counter()
import gunicorn.app.wsgiapp; t4 = time.perf_counter()
import app; t5 = time.perf_counter()
app.create_app(); t6 = time.perf_counter()
import json; print(json.dumps({'numpy': t1 - t0, 'PIL.Image': t2 - t1, 'flask': t3 - t2,
    'gunicorn': t4 - t3, 'app module (server, model)': t5 - t4, 'create_app()': t6 - t5,
    'total imports + create_app': t6 - t0, 'python -c pass (interpreter)': interpreter,
    'python -c "create_app()" (whole)': whole}))
"""


def default_base() -> str:
    """$PYTHON_IMAGE, else the Dockerfile's own default (what `make test` builds from)."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    return os.environ.get("PYTHON_IMAGE") or re.search(
        r"^ARG PYTHON_IMAGE=(\S+)$", dockerfile, re.MULTILINE).group(1)


def podman(env, *args, check=True, timeout=900) -> str:
    proc = subprocess.run(["podman", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        sys.exit(f"podman {shlex.join(args)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    return proc.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str, timeout: float = 1.0) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


def post(port: int, path: str, body: dict) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def canvas_images() -> list[str]:
    """The committed MNIST sample drawn on 280×280 transparent canvases, as data URLs."""
    with np.load(ROOT / "weights" / "examples.npz", allow_pickle=False) as npz:
        images = npz["images"][:20]
    urls = []
    for pixels in images:
        alpha = Image.fromarray(pixels.reshape(28, 28).astype(np.uint8)).resize(
            (200, 200), Image.Resampling.BILINEAR)
        canvas = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
        layer = Image.new("L", (280, 280), 0)
        layer.paste(alpha, (40, 40))
        canvas.putalpha(layer)
        buf = io.BytesIO()
        canvas.save(buf, "PNG")
        urls.append("data:image/png;base64," + base64.b64encode(buf.getvalue()).decode())
    return urls


def run(env, image: str, workers: int) -> tuple[str, int, float, float]:
    """Start a container; return (id, host port, seconds until `podman run` returned,
    seconds until /v2/health/ready answered 200), both from just before `podman run`."""
    port = free_port()
    t0 = time.perf_counter()
    cid = podman(env, "run", "--detach", "--publish", f"127.0.0.1:{port}:8000",
                 "--env", f"WEB_CONCURRENCY={workers}", "--read-only", "--cap-drop=ALL",
                 "--security-opt=no-new-privileges", image).strip().splitlines()[-1]
    t_started = time.perf_counter() - t0
    while True:
        try:
            if get(port, "/v2/health/ready", timeout=0.5) == 200:
                return cid, port, t_started, time.perf_counter() - t0
        except OSError:
            pass
        if time.perf_counter() - t0 > 60:
            podman(env, "rm", "-f", cid, check=False)
            sys.exit("the container was not ready within 60 s")
        time.sleep(0.005)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", default="localhost/digits-bench:latest")
    parser.add_argument("--runs", type=int, default=5, help="start-ups to time")
    parser.add_argument("--workers", type=int, default=2, help="WEB_CONCURRENCY")
    parser.add_argument("--requests", type=int, default=200, help="warm-up predictions")
    parser.add_argument("--batches", type=int, default=10, help="warm-up batches of 64")
    parser.add_argument("--no-build", action="store_true", help="use --image as it is")
    parser.add_argument("--base", default=default_base(),
                        help="base image (default: $PYTHON_IMAGE, else the Dockerfile's)")
    args = parser.parse_args()

    env = dict(os.environ)
    base = args.base
    if not args.no_build:
        t = time.perf_counter()
        podman(env, "build", "--format", "docker", "--build-arg", f"PYTHON_IMAGE={base}",
               "--tag", args.image, str(ROOT))
        print(f"built {args.image} in {time.perf_counter() - t:.1f} s (cached layers reused)")

    # --- size ---------------------------------------------------------------------------
    size = int(podman(env, "image", "inspect", "--format", "{{.Size}}", args.image))
    base_size = int(podman(env, "image", "inspect", "--format", "{{.Size}}", base))
    added = (size - base_size) / MB
    history = json.loads(podman(env, "history", "--format", "json", args.image))
    layers = sorted(((h.get("size", 0), h.get("CreatedBy", "")) for h in history
                     if h.get("size", 0) > 0), reverse=True)
    print(f"\nimage size: {size / MB:.1f} MB, base {base_size / MB:.1f} MB, "
          f"added {added:.1f} MB (GOAL <= {GOALS['added_mb']:.0f} MB)")
    for layer_size, created_by in layers[:4]:
        what = created_by.replace("/bin/sh -c ", "").replace("#(nop) ", "")
        print(f"  {layer_size / MB:7.1f} MB  {what[:90]}")

    # --- time to ready ------------------------------------------------------------------
    started, ready, cids = [], [], []
    try:
        for _ in range(args.runs):
            cid, port, t_started, t_ready = run(env, args.image, args.workers)
            cids.append(cid)
            started.append(t_started)
            ready.append(t_ready)
            podman(env, "rm", "-f", "--time", "0", cid, check=False)
            cids.pop()
        print(f"\npodman run -> ready ({args.runs} runs, WEB_CONCURRENCY={args.workers}): "
              f"median {statistics.median(ready):.2f} s, min {min(ready):.2f}, "
              f"max {max(ready):.2f} (GOAL <= {GOALS['ready_s']:.1f} s)")
        print(f"  of which `podman run -d` itself returned after: median "
              f"{statistics.median(started):.2f} s (container create + start, not our code)")

        # One container kept for the breakdown and the memory figures.
        cid, port, _, _ = run(env, args.image, args.workers)
        cids.append(cid)
        breakdowns = [json.loads(podman(env, "exec", cid, "python", "-c", IMPORT_PROBE))
                      for _ in range(3)]
        breakdown = {k: statistics.median(b[k] for b in breakdowns) for k in breakdowns[0]}
        print("  start-up inside the container (median of 3 fresh interpreters):")
        for k, v in breakdown.items():
            print(f"    {k:34s} {v * 1000:7.1f} ms")

        # --- memory ---------------------------------------------------------------------
        at_boot = json.loads(podman(env, "exec", cid, "python", "-c", MEMORY_PROBE))
        images = canvas_images()
        statuses = [post(port, "/api/predict", {"image": images[i % len(images)]})
                    for i in range(args.requests)]
        time.sleep(1.0)
        after_singles = json.loads(podman(env, "exec", cid, "python", "-c", MEMORY_PROBE))
        # The largest requests too (a batch of 64), so "at rest" includes their high-water mark.
        statuses += [post(port, "/api/predict",
                          {"inputs": [{"image": images[j % len(images)]} for j in range(64)]})
                     for _ in range(args.batches)]
        bad = [s for s in statuses if s != 200]
        if bad:
            sys.exit(f"warm-up predictions failed: {bad[:5]}")
        time.sleep(1.0)
        at_rest = json.loads(podman(env, "exec", cid, "python", "-c", MEMORY_PROBE))
        cgroup = podman(env, "exec", cid, "cat", "/sys/fs/cgroup/memory.current",
                        check=False).strip()
    finally:
        for cid in cids:
            podman(env, "rm", "-f", "--time", "0", cid, check=False)

    def show(label: str, procs: list[dict]) -> list[dict]:
        print(f"\nmemory {label}:")
        for p in procs:
            role = "master" if p["pid"] == 1 else "worker"
            pss = f"{p['pss_kb'] / 1024:6.1f}" if p["pss_kb"] is not None else "   n/a"
            uss = f"{p['uss_kb'] / 1024:6.1f}" if p["uss_kb"] is not None else "   n/a"
            print(f"  pid {p['pid']:>3} {role:6s}  RSS {p['rss_kb'] / 1024:6.1f} MiB  "
                  f"PSS {pss} MiB  USS {uss} MiB")
        return [p for p in procs if p["ppid"] == 1]

    show("after start-up", at_boot)
    singles = show(f"at rest after {args.requests} canvas predictions", after_singles)
    workers = show(f"at rest after {args.requests} canvas predictions and {args.batches} "
                   "batches of 64", at_rest)
    print(f"  worst worker after single predictions: RSS "
          f"{max(p['rss_kb'] for p in singles) / 1024:.1f} MiB = "
          f"{max(p['rss_kb'] for p in singles) * 1024 / MB:.1f} MB")
    worst_rss = max(p["rss_kb"] for p in workers) / 1024
    worst_pss = max(p["pss_kb"] or 0 for p in workers) / 1024
    worst_uss = max(p["uss_kb"] or 0 for p in workers) / 1024
    print(f"  worst worker after the batches too: RSS {worst_rss:.1f} MiB = {worst_rss * 2**20 / MB:.1f} MB "
          f"(GOAL <= {GOALS['worker_rss_mb']:.0f} MB); PSS {worst_pss:.1f} MiB, "
          f"USS {worst_uss:.1f} MiB (RSS counts the pages shared with the master in full)")
    if cgroup.isdigit():
        print(f"  whole container (cgroup memory.current): {int(cgroup) / 2**20:.1f} MiB")

    figures = {
        "image": args.image, "base": base, "image_bytes": size, "base_bytes": base_size,
        "added_mb": round(added, 2), "ready_s": [round(x, 3) for x in ready],
        "ready_median_s": round(statistics.median(ready), 3),
        "podman_run_returned_s": [round(x, 3) for x in started],
        "startup_breakdown_s": {k: round(v, 4) for k, v in breakdown.items()},
        "workers": args.workers, "memory_at_boot": at_boot,
        "memory_after_single_predictions": after_singles, "memory_at_rest": at_rest,
        "worst_worker_rss_mib": round(worst_rss, 1),
        "worst_worker_pss_mib": round(worst_pss, 1), "worst_worker_uss_mib": round(worst_uss, 1),
        "container_memory_current_bytes": int(cgroup) if cgroup.isdigit() else None,
        "goals": GOALS,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
