"""Page latency: from the end of a stroke (pointerup) to the output bars showing the answer.

Drives Debian's Chromium with Playwright against the real app (gunicorn, the repo's
gunicorn.conf.py, one worker, on loopback) or against --url. For each of N strokes it
clears the canvas, draws a one-stroke digit with the mouse, and reads in the page:

    t0  a capture-phase `pointerup` listener on window (runs before the page's own)
    t1  the performance mark "answer-rendered" that static/js/main.js makes on the
        animation frame that first draws the answer to the stroke-end request
        (document.body.dataset.strokeEndSeq)

and the Resource Timing entry of that request (fetch start → response end). Prints the
median, p90, min and max of t1 − t0, of the fetch, and of the rest (page work + frame).

    .venv/bin/python bench/page_latency.py            # 20 strokes, goal: median < 50 ms
    .venv/bin/python bench/page_latency.py --strokes 40 --url http://127.0.0.1:8000
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "browser"))

from playwright.sync_api import sync_playwright  # noqa: E402

from pen import CHROMIUM, CHROMIUM_ARGS, on_pad  # noqa: E402

ONE_STROKE_DIGITS = [0, 1, 2, 3, 7]
GOAL_MS = 50.0

PROBE = """() => {
    window.__up = null;
    performance.setResourceTimingBufferSize(100000);
    window.addEventListener('pointerup', () => { window.__up = performance.now(); }, { capture: true });
}"""

MEASURE = """() => {
    const seq = Number(document.body.dataset.strokeEndSeq);
    const mark = performance.getEntriesByName('answer-rendered').filter(m => m.detail.seq === seq).pop();
    const fetches = performance.getEntriesByType('resource').filter(e => e.name.endsWith('/api/predict'));
    const last = fetches.filter(e => e.startTime >= window.__up - 1).shift();
    return { total: mark.startTime - window.__up, fetch: last.responseEnd - last.startTime };
}"""


@contextmanager
def app_server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PORT": str(port), "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "4",
           "LOG_LEVEL": "warning"}
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                             "--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null",
                             "app:create_app()"], cwd=REPO, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/api/model", timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None:
                    raise SystemExit(f"the app exited with {proc.returncode}")
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def summary(name: str, values: list[float]) -> str:
    v = sorted(values)
    p90 = v[min(len(v) - 1, int(0.9 * len(v)))]
    return (f"{name:<24} median {statistics.median(v):6.1f} ms   p90 {p90:6.1f}   "
            f"min {v[0]:6.1f}   max {v[-1]:6.1f}")


def run(base: str, strokes: int) -> dict[str, list[float]]:
    results = {"total": [], "fetch": [], "page": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(base + "/")
        page.wait_for_selector("body[data-model=ready]", state="attached")
        page.evaluate(PROBE)
        for i in range(strokes + 2):  # the first two warm up connections and JIT
            page.keyboard.press("Escape")
            page.evaluate("performance.clearResourceTimings(); performance.clearMarks('answer-rendered')")
            digit = ONE_STROKE_DIGITS[i % len(ONE_STROKE_DIGITS)]
            stroke = on_pad(page, digit, 0.15 + 0.05 * (i % 3), 0.1 + 0.04 * (i % 4), 0.7)[0]
            page.mouse.move(*stroke[0])
            page.mouse.down()
            for x, y in stroke[1:]:
                page.mouse.move(x, y)
            before = page.evaluate("Number(document.body.dataset.strokeEndSeq || 0)")
            page.mouse.up()
            page.wait_for_function(
                "b => Number(document.body.dataset.strokeEndSeq) > b"
                " && document.body.dataset.answerSeq === document.body.dataset.strokeEndSeq", arg=before)
            m = page.evaluate(MEASURE)
            if i >= 2:
                results["total"].append(m["total"])
                results["fetch"].append(m["fetch"])
                results["page"].append(m["total"] - m["fetch"])
        browser.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strokes", type=int, default=20)
    parser.add_argument("--url", help="an already running app (default: start gunicorn on loopback)")
    args = parser.parse_args()
    if args.url:
        results = run(args.url.rstrip("/"), args.strokes)
    else:
        with app_server() as base:
            results = run(base, args.strokes)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"page latency over {len(results['total'])} strokes (load average {load:.2f}, {os.cpu_count()} CPUs)")
    print(summary("pointerup → bars drawn", results["total"]))
    print(summary("  of which the fetch", results["fetch"]))
    print(summary("  the rest (page+frame)", results["page"]))
    median = statistics.median(results["total"])
    verdict = "meets" if median < GOAL_MS else "MISSES"
    print(f"goal: median under {GOAL_MS:.0f} ms on loopback — {verdict} it ({median:.1f} ms)")


if __name__ == "__main__":
    main()
