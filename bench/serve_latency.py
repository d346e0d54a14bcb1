"""What a prediction and an explanation cost over HTTP, next to the framework's floor.

    .venv/bin/python bench/serve_latency.py [--requests 1000] [--seconds 6] [--clients 8]
        [--input png|strokes|pixels] [--env WEB_CONCURRENCY=2 ...] [--profile]
        [--cut-short-after base64|decode]

Starts the production server (``gunicorn -c gunicorn.conf.py "app:create_app()"`` on a
loopback port, via tests/live_server.py) and, from this separate client process, sends

- ``POST /api/predict`` with a 280×280 canvas PNG: MNIST test digits on a cleared canvas,
  encoded by real Chromium's ``toDataURL()`` (tests/data/chromium-canvas/),
- ``POST /api/explain`` with the same drawings, ``steps`` 0 (attribution, cost, nudges, top
  weights) and ``steps`` 50 (plus fifty steps of gradient descent), and
- ``GET /v2/health/live`` on the same server: the floor, what any request costs
  (HTTP parsing, Flask routing, a tiny JSON answer);

first sequentially on one keep-alive connection (``--requests`` of each, interleaved in
blocks of 50 so all see the same machine), then from ``--clients`` concurrent keep-alive
connections, closed loop, ``--seconds`` per route in alternating half-second slices
(other work on a shared machine comes and goes on that scale; every route must see it).
Reports p50/p99 latency, requests/s and errors, and the ratios of the p50s. GOALS: predict
p50 within 3.0× the floor's p50 for a canvas PNG, 2.5× for strokes or pixels, and explain (steps 0) within 2× predict's, in both phases;
explain with 50 steps under 25 ms p50 sequentially (one request at a time: with 8 clients
on 2 cores a p50 is mostly the queue); zero errors.

``--cut-short-after STAGE`` serves bench/cut_short.py's app instead: the same server, but
a canvas PNG's preprocessing stops after STAGE (``base64``: data URL and PNG header;
``decode``: Pillow's decode too) and answers with a fixed drawing's. The ratio then is
what the rest of the request costs, the part of the goal no later stage can win back;
no goal is judged, and the results go to serve_latency-cut-short-STAGE.json.

``--profile`` also profiles the predict handler in this process (cProfile over the WSGI
app, no HTTP) and prints where the time goes.

The client is asyncio with raw HTTP/1.1 (bench/client.py's Connection). Client and server
share the machine's cores; the figures are for that. Writes bench/results/serve_latency.json.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.client import Connection, good_prediction, http_get, http_post, percentile, process_cpu  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "serve_latency.json"
# predict p50 / floor p50, by input: a canvas PNG is decoded by Pillow (a simpler house, #9)
GOAL_RATIO = {"png": 3.0, "strokes": 2.5, "pixels": 2.5}
GOAL_EXPLAIN_RATIO = 2.0  # explain (steps 0) p50 / predict p50
GOAL_EXPLAIN50_MS = 25.0  # explain (steps 50) p50, sequential
SLICE = 0.5  # seconds: the concurrent phase alternates endpoints this often


def canvas_drawings() -> list[dict]:
    """The 20 canvases in tests/data/chromium-canvas/: MNIST test digits put on a cleared
    280×280 canvas and encoded by real Chromium's ``toDataURL()``, as a page would send them."""
    from tests.chromium_canvases import OUT
    from tests.drawing import data_url

    return [{"image": data_url(path.read_bytes())} for path in sorted(OUT.glob("[0-9]*.png"))]


def drawings(kind: str) -> list[dict]:
    """``png``: canvas PNGs (the service issue's case); ``strokes``/``pixels``: bench/bodies.py's."""
    if kind == "png":
        return canvas_drawings()
    from bench.bodies import request_bodies
    return [json.loads(body) for body in request_bodies()[kind]]


def route_requests(kind: str, host: str) -> dict[str, list[bytes]]:
    """The raw HTTP requests of every measured route, the same drawings for each."""
    def posts(path: str, **options) -> list[bytes]:
        return [http_post(path, host, json.dumps({**d, **options}).encode()) for d in drawings(kind)]

    return {"predict": posts("/api/predict"), "explain0": posts("/api/explain"),
            "explain50": posts("/api/explain", steps=50), "floor": [http_get("/v2/health/live", host)]}


def good(path: str, status: int, body: bytes) -> bool:
    if status != 200:
        return False
    if path != "floor":  # an explanation starts as a prediction does, and ends like one
        return good_prediction(status, body)
    return body.rstrip(b"\n") == b'{"live":true}'


async def timed(connection: Connection, path: str, request: bytes, result: dict) -> None:
    """One exchange: its time into ``result["times"]`` if the answer is right, else an error."""
    t = time.perf_counter()
    try:
        status, body = await connection.exchange(request)
        ok = good(path, status, body)
    except (OSError, asyncio.IncompleteReadError, ValueError):
        ok = False
        connection.close()
    if ok:
        result["times"].append(time.perf_counter() - t)
    else:
        result["errors"] += 1


async def sequential(host: str, port: int, requests: dict[str, list[bytes]], n: int) -> dict:
    connection = Connection(host, port)
    await connection.open()
    results = {k: {"times": [], "errors": 0} for k in requests}
    for k, reqs in requests.items():  # warm up every route
        for i in range(50):
            await connection.exchange(reqs[i % len(reqs)])
    block = 50
    for start in range(0, n, block):
        for k, reqs in requests.items():
            for i in range(start, min(n, start + block)):
                await timed(connection, k, reqs[i % len(reqs)], results[k])
    connection.close()
    for r in results.values():
        r["seconds"] = sum(r["times"])
    return results


async def concurrent(host: str, port: int, requests: dict[str, list[bytes]], clients: int,
                     seconds: float) -> dict:
    connections = [Connection(host, port) for _ in range(clients)]
    for c in connections:
        await c.open()
    results = {k: {"times": [], "errors": 0, "seconds": 0.0} for k in requests}

    async def client(c: Connection, k: str, reqs: list[bytes], until: float, offset: int) -> None:
        i = offset
        while time.perf_counter() < until:
            await timed(c, k, reqs[i % len(reqs)], results[k])
            i += 1

    slices = max(2, round(seconds / SLICE))
    for _ in range(slices):  # alternate often, so every route sees the same machine
        for k, reqs in requests.items():
            started = time.perf_counter()
            until = started + seconds / slices
            await asyncio.gather(*(client(c, k, reqs, until, j) for j, c in enumerate(connections)))
            results[k]["seconds"] += time.perf_counter() - started
    for c in connections:
        c.close()
    return results


def summary(result: dict) -> dict:
    times = sorted(result["times"])
    return {"requests": len(times), "errors": result["errors"],
            "p50_ms": percentile(times, 50) * 1e3, "p99_ms": percentile(times, 99) * 1e3,
            "rps": len(times) / result["seconds"] if result["seconds"] else math.nan}


def profile_predict(n: int = 300) -> str:
    """cProfile of the predict handler through the WSGI app, in this process."""
    import cProfile
    import io
    import pstats

    from werkzeug.test import EnvironBuilder

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from app import create_app

    app = create_app()
    bodies = [json.dumps(d).encode() for d in canvas_drawings()]

    def call(i):
        environ = EnvironBuilder(path="/api/predict", method="POST", data=bodies[i % len(bodies)],
                                 content_type="application/json").get_environ()
        return b"".join(app.wsgi_app(environ, lambda *a: None))

    for i in range(30):
        call(i)
    t = time.perf_counter()
    for i in range(n):
        call(i)
    per_call = (time.perf_counter() - t) / n * 1e3
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(n):
        call(i)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(18)
    return f"in-process WSGI predict (canvas PNG): {per_call:.2f} ms per call\n" + out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000, help="sequential requests per endpoint")
    parser.add_argument("--seconds", type=float, default=6.0, help="concurrent phase, per endpoint")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--input", choices=["png", "strokes", "pixels"], default="png",
                        help="what the predictions send (default: a 280×280 canvas PNG)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--cut-short-after", choices=["base64", "decode"],
                        help="a PNG's preprocessing stops after this stage (bench/cut_short.py)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    from tests.live_server import APP, Gunicorn

    env = dict(item.split("=", 1) for item in args.env)
    app = APP
    if args.cut_short_after:
        if args.input != "png":
            parser.error("--cut-short-after cuts a PNG's preprocessing short: it needs --input png")
        env["CUT_SHORT_AFTER"] = args.cut_short_after
        app = "bench.cut_short:create_app()"
        if args.out == RESULTS:
            args.out = RESULTS.with_name(f"serve_latency-cut-short-{args.cut_short_after}.json")
    log = ROOT / "bench" / "results" / "serve_latency-gunicorn.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    server = Gunicorn(env=env, log_path=log, app=app).start()
    host = f"127.0.0.1:{server.port}"
    requests = route_requests(args.input, host)
    rows = {}
    try:
        pids = [server.pid] + server.workers()
        cpu0 = process_cpu(pids)
        seq = asyncio.run(sequential("127.0.0.1", server.port, requests, args.requests))
        conc = asyncio.run(concurrent("127.0.0.1", server.port, requests, args.clients, args.seconds))
        cpu = process_cpu(pids) - cpu0
        timeouts = server.worker_timeouts()
    finally:
        server.stop()
    for phase, result in (("sequential", seq), (f"{args.clients} clients", conc)):
        row = rows[phase] = {k: summary(v) for k, v in result.items()}
        row["p50_ratio"] = row["predict"]["p50_ms"] / row["floor"]["p50_ms"]
        row["explain_p50_ratio"] = row["explain0"]["p50_ms"] / row["predict"]["p50_ms"]
    labels = {"predict": f"POST /api/predict ({args.input})", "explain0": "POST /api/explain steps 0",
              "explain50": "POST /api/explain steps 50", "floor": "GET /v2/health/live"}
    if args.cut_short_after:
        print(f"NOT the product: a PNG's preprocessing stops after {args.cut_short_after} (bench/cut_short.py)")
    print(f"gunicorn -c gunicorn.conf.py on loopback, {len(pids) - 1} workers"
          f"{' ' + ' '.join(args.env) if args.env else ''}; client in this process; "
          f"{os.cpu_count()} CPUs shared; load average {os.getloadavg()[0]:.1f}")
    print(f"{'phase':<12} {'route':<28} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8}")
    for phase, row in rows.items():
        for k, label in labels.items():
            r = row[k]
            print(f"{phase:<12} {label:<28} {r['requests']:8d} {r['errors']:6d} {r['p50_ms']:8.2f} "
                  f"{r['p99_ms']:8.2f} {r['rps']:8.0f}")
        print(f"{'':<12} predict p50 / floor p50 = {row['p50_ratio']:.2f}× (GOAL <= {GOAL_RATIO[args.input]}×)")
        print(f"{'':<12} explain (steps 0) p50 / predict p50 = {row['explain_p50_ratio']:.2f}× "
              f"(GOAL <= {GOAL_EXPLAIN_RATIO}×)")
    steps50 = rows["sequential"]["explain50"]["p50_ms"]
    print(f"{'':<12} explain (steps 50) p50, sequential = {steps50:.2f} ms (GOAL < {GOAL_EXPLAIN50_MS:g} ms)")
    errors = sum(r[k]["errors"] for r in rows.values() for k in labels)
    met = (all(r["p50_ratio"] <= GOAL_RATIO[args.input] and r["explain_p50_ratio"] <= GOAL_EXPLAIN_RATIO
               for r in rows.values()) and steps50 < GOAL_EXPLAIN50_MS and errors == 0)
    verdict = "not judged (cut short)" if args.cut_short_after else "met" if met else "NOT met"
    print(f"server CPU over the run: {cpu:.1f} s; worker timeouts: {timeouts}; GOAL {verdict}")
    profile = profile_predict() if args.profile else None
    if profile:
        print(profile)
    args.out.write_text(json.dumps({
        "command": " ".join(["bench/serve_latency.py", *(argv if argv is not None else sys.argv[1:])]),
        "input": args.input, "cut_short_after": args.cut_short_after, "workers": len(pids) - 1, "env": args.env,
        "loadavg": os.getloadavg(), "phases": rows, "errors": errors, "worker_timeouts": timeouts,
        "goal_met": None if args.cut_short_after else met, "profile": profile,
    }, indent=1))
    return 0 if met or args.cut_short_after else 1


if __name__ == "__main__":
    sys.exit(main())
