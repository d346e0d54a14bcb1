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

The load generator is asyncio with raw HTTP/1.1 (bench/client.py: no HTTP library between
the clock and the socket); the bodies come from bench/bodies.py.
``--procs N`` splits the drawers over N processes (each its own event loop).

Writes bench/results/load.json. GOAL: >= 64 drawers with zero errors, no worker timeouts
and p99 < 50 ms.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import random
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bodies import request_bodies  # noqa: E402
from bench.client import Connection, good_prediction, http_post, machine_busy, percentile, process_cpu  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "load.json"
PERIOD = 0.100            # seconds between a drawer's requests (the page's THROTTLE_MS)
GOAL_DRAWERS, GOAL_P99_MS = 64, 50.0


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
