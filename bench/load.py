"""How many people can draw at once on one server?

    .venv/bin/python bench/load.py [--steps 16,32,48,64,96,128] [--duration 10]
        [--mix strokes=0.6,png=0.2,pixels=0.2] [--procs 1] [--env WEB_CONCURRENCY=2 ...]
        [--url http://host:port] [--warmup 3] [--stop-after-failure 2]

Starts the production server (``gunicorn -c gunicorn.conf.py "app:create_app()"``, via
tests/live_server.py) on a loopback port, unless ``--url`` names one already running, and
simulates *drawers*: each has its own keep-alive HTTP/1.1 connection and sends one
``POST /api/predict`` every 100 ms, the page's live-update rate (static/js/main.js,
THROTTLE_MS). The schedule is open loop: a drawer's k-th request is due at
``start + phase + k·100 ms`` whatever happened before, and its latency is measured from
that due time, so a server that falls behind is charged for the wait it caused
(no coordinated omission). A drawer that is late sends at once, back to back, until it
has caught up. Requests still unanswered ``--drain`` seconds after the step count as errors.

What a drawer sends is a mix (``--mix``) of
- ``strokes``: the page's own request, ``{"strokes", "width": 280, "height": 280}`` with
  the drawing so far (1-3 strokes, 30-200 points, as pointer events sample a digit);
- ``png``: a 280×280 RGBA canvas PNG as a data URL, encoded as Chromium's ``toDataURL()``
  encodes a cleared canvas (black ink in the alpha channel; tests/drawing.chromium_png),
  drawn from MNIST test digits;
- ``pixels``: 784 values of an MNIST test digit, what the page posts for an example.

After ``--warmup`` seconds of 16 drawers (not reported), for each step (number of drawers,
``--duration`` seconds each) it reports requests/s (answers per second from the step's start
to its last answer, so a server that falls behind shows it), latency p50/p95/p99/max
(overall and per kind), errors, WORKER TIMEOUT lines in gunicorn's log, and CPU: the
server's per request (master + workers, from /proc), each worker's share of a core (to see
whether the work is spread), the load generator's own (so you can see what it costs), and
the whole machine's. The generator shares the machine's cores with the server (and
anything else running): the figures are for that situation. ``nice -n -10`` in front of the
command gives both priority over other work.

The load generator is asyncio with raw HTTP/1.1 over asyncio streams (no HTTP library):
prebuilt request bytes, a regex on the response head, ``readexactly`` for the body.
``--procs N`` splits the drawers over N processes (each its own event loop).

Writes bench/results/load.json. GOAL: >= 64 drawers with zero errors, no worker timeouts
and p99 < 50 ms.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import multiprocessing
import os
import random
import re
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results" / "load.json"
PERIOD = 0.100            # seconds between a drawer's requests (the page's THROTTLE_MS)
CANVAS = 280              # the page's canvas, CSS pixels
GOAL_DRAWERS, GOAL_P99_MS = 64, 50.0
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)
_CLOSE = re.compile(rb"\r\nconnection:[ \t]*close", re.IGNORECASE)


# --- what drawers send -----------------------------------------------------------------

# Digits as pen paths in a unit box (x right, y down): lists of strokes, each a list of
# (x, y) anchor points; arcs are written as many anchors. Good enough to cost what a real
# drawing costs (points, ink area); recognition is not the point here.
def _arc(cx, cy, rx, ry, a0, a1, n=24):
    return [(cx + rx * math.cos(a), cy + ry * math.sin(a))
            for a in np.linspace(math.radians(a0), math.radians(a1), n)]


DIGIT_PATHS = {
    0: [_arc(0.5, 0.5, 0.32, 0.45, -90, 270, 40)],
    1: [[(0.38, 0.2), (0.55, 0.05), (0.55, 0.95)]],
    2: [_arc(0.5, 0.3, 0.3, 0.25, 200, 360 + 20) + [(0.15, 0.95), (0.85, 0.95)]],
    3: [_arc(0.5, 0.28, 0.3, 0.23, 200, 450) + _arc(0.5, 0.72, 0.33, 0.23, -90, 160)],
    4: [[(0.6, 0.05), (0.12, 0.65), (0.88, 0.65)], [(0.65, 0.35), (0.65, 0.95)]],
    5: [[(0.8, 0.05), (0.25, 0.05), (0.22, 0.45)] + _arc(0.48, 0.68, 0.32, 0.27, -120, 160)],
    6: [[(0.7, 0.05)] + _arc(0.5, 0.68, 0.3, 0.27, 200, 560)],
    7: [[(0.15, 0.07), (0.85, 0.07), (0.4, 0.95)]],
    8: [_arc(0.5, 0.27, 0.25, 0.22, 90, 450) + _arc(0.5, 0.72, 0.3, 0.23, -90, 270)],
    9: [_arc(0.5, 0.3, 0.28, 0.24, 0, 360) + [(0.78, 0.3), (0.7, 0.95)]],
}


def _densify(points, spacing):
    """Points every ``spacing`` pixels along a polyline, as pointer events would sample it."""
    out = [points[0]]
    for (x0, y0), (x1, y1) in zip(points[:-1], points[1:]):
        n = max(1, int(math.hypot(x1 - x0, y1 - y0) / spacing))
        out.extend((x0 + (x1 - x0) * t / n, y0 + (y1 - y0) * t / n) for t in range(1, n + 1))
    return out


def strokes_drawing(rng: random.Random) -> dict:
    """A digit drawn on the 280×280 canvas, maybe not finished yet (the live update)."""
    digit = rng.randrange(10)
    size = rng.uniform(120, 220)
    x0, y0 = rng.uniform(10, CANVAS - size * 0.8), rng.uniform(10, CANVAS - size - 5)
    spacing = rng.uniform(2.0, 5.0)
    strokes = []
    for path in DIGIT_PATHS[digit]:
        pts = [(x0 + size * 0.8 * x + rng.gauss(0, 2), y0 + size * y + rng.gauss(0, 2)) for x, y in path]
        strokes.append([[round(x, 1), round(y, 1)] for x, y in _densify(pts, spacing)])
    total = sum(len(s) for s in strokes)
    keep = max(8, int(total * rng.uniform(0.35, 1.0)))  # the drawing so far
    partial = []
    for s in strokes:
        if keep <= 0:
            break
        partial.append(s[:keep])
        keep -= len(s)
    return {"strokes": partial, "width": CANVAS, "height": CANVAS}


def request_bodies(count: int = 40, seed: int = 0) -> dict[str, list[bytes]]:
    """JSON bodies of each kind: MNIST test digits (png, pixels) and drawn strokes."""
    from training import mnist
    from tests.drawing import canvas_png

    rng = random.Random(seed)
    test = mnist.load().test
    chosen = rng.sample(range(len(test.labels)), count)
    png, pixels = [], []
    for n, i in enumerate(chosen):
        image = test.images[i]
        height = rng.randrange(140, 230)
        at = (rng.randrange(0, CANVAS - height), rng.randrange(0, CANVAS - height))
        data = canvas_png(image, size=CANVAS, height=height, at=at, mode="transparent", encoder="chromium")
        png.append(json.dumps({"image": "data:image/png;base64," + base64.b64encode(data).decode()}).encode())
        pixels.append(json.dumps({"pixels": np.round(image.astype(float), 4).tolist()}).encode())
    strokes = [json.dumps(strokes_drawing(rng), separators=(",", ":")).encode() for _ in range(count)]
    return {"strokes": strokes, "png": png, "pixels": pixels}


def http_post(path: str, host: str, body: bytes) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: bench-load\r\n"
            f"Content-Type: application/json\r\nAccept: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def http_get(path: str, host: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: bench-load\r\n\r\n".encode()


# --- a lean HTTP/1.1 client --------------------------------------------------------------

class Connection:
    """One keep-alive HTTP/1.1 connection over asyncio streams; reconnects when closed."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        """Send one request, return (status, body); raises on a broken connection."""
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        match = _CONTENT_LENGTH.search(head)
        if match is None:
            self.close()
            raise ValueError("response without Content-Length")
        body = await self.reader.readexactly(int(match.group(1)))
        if _CLOSE.search(head):
            self.close()
        return status, body


def good_prediction(status: int, body: bytes) -> bool:
    # Cheap completeness check; a full json.loads per response would cost the generator more.
    # Flask's JSON responses end with a newline.
    return status == 200 and body.startswith(b'{"digit":') and body.endswith((b"}}", b"}}\n"))


# --- one step: N drawers for D seconds ---------------------------------------------------

@dataclass
class StepResult:
    latencies: dict[str, list[float]] = field(default_factory=dict)  # by kind, seconds
    errors: dict[str, int] = field(default_factory=dict)             # by reason
    sent: int = 0
    last_answer: float = 0.0                                         # monotonic
    cpu_seconds: float = 0.0                                         # the generator's own
    start: float = 0.0                                               # monotonic

    def merge(self, other: "StepResult") -> None:
        for k, v in other.latencies.items():
            self.latencies.setdefault(k, []).extend(v)
        for k, v in other.errors.items():
            self.errors[k] = self.errors.get(k, 0) + v
        self.sent += other.sent
        self.last_answer = max(self.last_answer, other.last_answer)
        self.cpu_seconds += other.cpu_seconds


async def _drawers(host: str, port: int, ids: list[int], start: float, duration: float,
                   drain: float, bodies: dict[str, list[bytes]], mix: dict[str, float],
                   seed: int) -> StepResult:
    result = StepResult(latencies={k: [] for k in mix}, start=start)
    kinds, weights = list(mix), list(mix.values())
    requests = {k: [http_post("/api/predict", f"{host}:{port}", b) for b in bodies[k]] for k in kinds}
    end = start + duration
    in_flight: dict[int, str] = {}

    def error(reason: str) -> None:
        result.errors[reason] = result.errors.get(reason, 0) + 1

    async def drawer(i: int) -> None:
        rng = random.Random(seed * 100_003 + i)
        connection = Connection(host, port)
        try:
            await connection.open()
        except OSError:
            error("connect")
            return
        phase = rng.random() * PERIOD
        k = 0
        loop = asyncio.get_running_loop()
        try:
            while True:
                due = start + phase + k * PERIOD
                if due >= end:
                    break
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                kind = rng.choices(kinds, weights)[0]
                request = rng.choice(requests[kind])
                in_flight[i] = kind
                result.sent += 1
                try:
                    status, body = await connection.exchange(request)
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
                    error(f"{type(exc).__name__}")
                    connection.close()
                else:
                    now = loop.time()
                    result.last_answer = max(result.last_answer, now)
                    if good_prediction(status, body):
                        result.latencies[kind].append(now - due)
                    else:
                        error(f"HTTP {status}" if status != 200 else "incomplete body")
                del in_flight[i]
                k += 1
        finally:
            connection.close()

    tasks = [asyncio.create_task(drawer(i)) for i in ids]
    done, pending = await asyncio.wait(tasks, timeout=max(0.0, end + drain - asyncio.get_running_loop().time()))
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)
    for _ in in_flight:
        error(f"no answer within {drain:g} s")
    for task in done:
        if task.exception() is not None:
            error(f"drawer crashed: {task.exception()!r}")
    return result


def _run_share(host, port, ids, start, duration, drain, bodies, mix, seed) -> StepResult:
    before = resource.getrusage(resource.RUSAGE_SELF)
    result = asyncio.run(_drawers(host, port, ids, start, duration, drain, bodies, mix, seed))
    after = resource.getrusage(resource.RUSAGE_SELF)
    result.cpu_seconds = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result


def _share_in_child(conn, *args) -> None:
    conn.send(_run_share(*args))
    conn.close()


def run_step(host: str, port: int, drawers: int, duration: float, drain: float,
             bodies: dict[str, list[bytes]], mix: dict[str, float], procs: int = 1,
             seed: int = 0) -> StepResult:
    """``drawers`` drawers for ``duration`` seconds, split over ``procs`` processes."""
    start = time.monotonic() + 0.5  # CLOCK_MONOTONIC: the same clock in every process
    shares = [list(range(p, drawers, procs)) for p in range(procs)]
    if procs == 1:
        return _run_share(host, port, shares[0], start, duration, drain, bodies, mix, seed)
    context = multiprocessing.get_context("fork")
    pipes, children = [], []
    for ids in shares:
        parent_end, child_end = context.Pipe(duplex=False)
        child = context.Process(target=_share_in_child,
                                args=(child_end, host, port, ids, start, duration, drain, bodies, mix, seed))
        child.start()
        pipes.append(parent_end)
        children.append(child)
    total = StepResult(latencies={k: [] for k in mix}, start=start)
    for pipe, child in zip(pipes, children):
        total.merge(pipe.recv())
        child.join()
    return total


# --- CPU accounting from /proc --------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pids: list[int]) -> float:
    """utime + stime of these processes, seconds (processes that are gone count 0)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / CLOCK_TICKS


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return math.nan
    index = min(len(sorted_values) - 1, max(0, math.ceil(q / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def summarize(drawers: int, duration: float, result: StepResult, extra: dict) -> dict:
    every = sorted(v for values in result.latencies.values() for v in values)
    ok = len(every)
    # Answers per second from the step's start to its last answer: a server that falls
    # behind answers over a longer time than the step lasted.
    span = max(duration, result.last_answer - result.start) if result.last_answer else duration
    row = {
        "drawers": drawers,
        "offered_rps": drawers / PERIOD,
        "sent": result.sent,
        "ok": ok,
        "rps": ok / span,
        "errors": sum(result.errors.values()),
        "error_kinds": result.errors,
        "p50_ms": percentile(every, 50) * 1e3,
        "p95_ms": percentile(every, 95) * 1e3,
        "p99_ms": percentile(every, 99) * 1e3,
        "max_ms": (every[-1] if every else math.nan) * 1e3,
        "by_kind": {k: {"n": len(v), "p50_ms": percentile(sorted(v), 50) * 1e3,
                        "p99_ms": percentile(sorted(v), 99) * 1e3}
                    for k, v in result.latencies.items()},
        "generator_cpu_s": result.cpu_seconds,
        "generator_cpu_ms_per_request": result.cpu_seconds / max(1, result.sent) * 1e3,
        **extra,
    }
    row["held"] = (row["errors"] == 0 and not row.get("worker_timeouts")
                   and row["p99_ms"] < GOAL_P99_MS and ok > 0)
    return row


def parse_mix(text: str) -> dict[str, float]:
    mix = {}
    for part in text.split(","):
        name, _, weight = part.partition("=")
        if name not in ("strokes", "png", "pixels"):
            raise argparse.ArgumentTypeError(f"unknown kind {name!r}")
        mix[name] = float(weight or 1)
    return {k: v for k, v in mix.items() if v > 0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", default="16,32,48,64,96,128",
                        type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per step")
    parser.add_argument("--drain", type=float, default=10.0,
                        help="seconds after a step to wait for answers before counting them lost")
    parser.add_argument("--mix", type=parse_mix, default=parse_mix("strokes=0.6,png=0.2,pixels=0.2"))
    parser.add_argument("--procs", type=int, default=1, help="load generator processes")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="environment for the server we start (e.g. WEB_CONCURRENCY=3)")
    parser.add_argument("--url", help="use this running server instead of starting one")
    parser.add_argument("--stop-after-failure", type=int, default=2,
                        help="stop after this many steps in a row that miss the goal (0: never)")
    parser.add_argument("--warmup", type=float, default=3.0,
                        help="seconds of 16 drawers before the first step, not reported")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    from tests.live_server import Gunicorn

    bodies = request_bodies()
    server = None
    if args.url:
        host_port = args.url.split("//", 1)[-1].rstrip("/")
        host, port = host_port.rsplit(":", 1)[0], int(host_port.rsplit(":", 1)[1])
    else:
        env = dict(item.split("=", 1) for item in args.env)
        server = Gunicorn(env=env, log_path=ROOT / "bench" / "results" / "load-gunicorn.log")
        server.log_path.parent.mkdir(parents=True, exist_ok=True)
        server.start()
        host, port = "127.0.0.1", server.port
    mix_text = ", ".join(f"{k} {v / sum(args.mix.values()):.0%}" for k, v in args.mix.items())
    print(f"server: {args.url or 'gunicorn -c gunicorn.conf.py (production), ' + str(len(server.workers())) + ' workers'}"
          f"{' ' + ' '.join(args.env) if args.env else ''}; {os.cpu_count()} CPUs shared with the "
          f"load generator ({args.procs} process{'es' if args.procs > 1 else ''}); mix: {mix_text}")
    print(f"{'drawers':>7} {'offered':>7} {'req/s':>7} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7} "
          f"{'errors':>6} {'timeouts':>8} {'srv ms/req':>10} {'gen ms/req':>10} {'machine':>7}  held")
    rows, misses = [], 0
    try:
        if args.warmup > 0:  # every worker imports, allocates and fills its caches first
            run_step(host, port, 16, args.warmup, args.drain, bodies, args.mix, args.procs, seed=99)
        for drawers in args.steps:
            timeouts_before = server.worker_timeouts() if server else 0
            pids = ([server.pid] + server.workers()) if server else []
            cpu_before, busy_before = process_cpu(pids), machine_busy()
            per_worker_before = {pid: process_cpu([pid]) for pid in pids[1:]}
            t0 = time.monotonic()
            result = run_step(host, port, drawers, args.duration, args.drain, bodies, args.mix, args.procs)
            elapsed = time.monotonic() - t0
            pids = sorted(set(pids + (server.workers() if server else [])))
            server_cpu = process_cpu(pids) - cpu_before
            busy_after = machine_busy()
            shares = sorted((process_cpu([pid]) - per_worker_before.get(pid, 0.0)) / elapsed
                            for pid in (server.workers() if server else []))
            extra = {
                "worker_cpu": shares,
                "worker_timeouts": (server.worker_timeouts() - timeouts_before) if server else None,
                "server_cpu_s": server_cpu if server else None,
                "server_cpu_ms_per_request": server_cpu / max(1, result.sent) * 1e3 if server else None,
                "machine_busy": (busy_after[0] - busy_before[0]) / max(1, busy_after[1] - busy_before[1]),
                "elapsed_s": elapsed,
            }
            row = summarize(drawers, args.duration, result, extra)
            rows.append(row)
            srv = f"{row['server_cpu_ms_per_request']:.2f}" if server else "-"
            print(f"{drawers:7d} {row['offered_rps']:7.0f} {row['rps']:7.1f} {row['p50_ms']:7.1f} "
                  f"{row['p95_ms']:7.1f} {row['p99_ms']:7.1f} {row['max_ms']:7.0f} {row['errors']:6d} "
                  f"{row['worker_timeouts'] if server else '-':>8} {srv:>10} "
                  f"{row['generator_cpu_ms_per_request']:10.2f} {row['machine_busy']:7.0%}  "
                  f"{'yes' if row['held'] else 'NO'}"
                  + (f"  workers {'/'.join(f'{c:.0%}' for c in row['worker_cpu'])}" if server else "")
                  + (f"  {row['error_kinds']}" if row["errors"] else ""), flush=True)
            misses = 0 if row["held"] else misses + 1
            if args.stop_after_failure and misses >= args.stop_after_failure:
                break
            time.sleep(1.0)  # let keep-alive connections close between steps
    finally:
        if server is not None:
            server.stop()
    for row in rows:
        kinds = ", ".join(f"{k} p50 {v['p50_ms']:.1f} p99 {v['p99_ms']:.1f}" for k, v in row["by_kind"].items())
        print(f"  {row['drawers']:3d} drawers, per kind (ms): {kinds}")
    held = [r["drawers"] for r in rows if r["held"]]
    best = max(held) if held else 0
    print(f"largest step held (0 errors, 0 worker timeouts, p99 < {GOAL_P99_MS:g} ms): {best} drawers; "
          f"GOAL >= {GOAL_DRAWERS}: {'met' if best >= GOAL_DRAWERS else 'NOT met'}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "command": " ".join([Path(sys.executable).name, "bench/load.py", *(argv if argv is not None else sys.argv[1:])]),
        "server_env": args.env, "mix": args.mix, "procs": args.procs, "duration_s": args.duration,
        "cpus": os.cpu_count(), "loadavg_at_end": os.getloadavg(), "steps": rows,
        "largest_step_held": best, "goal_met": best >= GOAL_DRAWERS,
    }, indent=1))
    return 0 if best >= GOAL_DRAWERS else 1


if __name__ == "__main__":
    sys.exit(main())
