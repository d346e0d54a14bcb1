"""The README's pictures, from the real page: docs/screenshot-desktop.png and -phone.png.

    .venv/bin/python docs/screenshots.py                     # start the app, rewrite docs/*.png
    .venv/bin/python docs/screenshots.py --url http://127.0.0.1:8000 --out /tmp/shots

Without --url it starts the production server (gunicorn with the repo's gunicorn.conf.py,
one worker, a free loopback port). Debian's Chromium, driven by Playwright, then draws a 4
with the mouse on a 1280×800 desktop page (hovering a hidden neuron, then moving away) and
a 7 with a finger on a 360×740 phone page at 2× pixel density, waits for each answer to be
on screen and takes the pictures. It refuses to take them of a page that logged an error,
broke its CSP, or does not show the model card's accuracy.

Run it again whenever the page changes; tests/browser/test_page.py runs it into a
temporary folder, so it keeps working.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
for path in (REPO, REPO / "tests" / "browser"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

from pen import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE_CONTEXT, mouse_draw, on_pad, settle, touch_draw  # noqa: E402

CARD = REPO / "weights" / "mnist-784-16-16-10.json"
NAMES = ("screenshot-desktop.png", "screenshot-phone.png")


class PageProblem(RuntimeError):
    pass


def _open(browser, base_url: str, **context_options) -> tuple[Page, list[str]]:
    context = browser.new_context(**context_options)
    context.add_init_script(path=str(REPO / "tests" / "browser" / "csp_listener.js"))
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.goto(base_url.rstrip("/") + "/")
    page.wait_for_selector("body[data-model=ready]", state="attached")
    return page, problems


def _check(page: Page, problems: list[str], accuracy: str) -> None:
    problems = problems + [f"CSP: {v}" for v in page.evaluate("window.__cspViolations || []")]
    if problems:
        raise PageProblem("the page logged errors or broke its CSP:\n" + "\n".join(problems))
    badge = page.locator("#accuracy").inner_text()
    if not badge.startswith(accuracy):
        raise PageProblem(f"the page says {badge!r}, the model card {accuracy}")


def take(base_url: str, out: Path = DOCS, browser: Browser | None = None) -> list[Path]:
    """Draw on the page at ``base_url`` and write the two pictures into ``out``, with
    ``browser`` (a Playwright Chromium) or Debian's Chromium launched for the purpose."""
    if browser is None:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                return take(base_url, out, browser)
            finally:
                browser.close()

    out.mkdir(parents=True, exist_ok=True)
    accuracy = f"{json.loads(CARD.read_text())['test_accuracy'] * 100:.1f}% right"
    paths = [out / name for name in NAMES]

    desktop, problems = _open(browser, base_url, viewport=DESKTOP)
    mouse_draw(desktop, on_pad(desktop, 4, 0.22, 0.14, 0.72))
    settle(desktop)
    desktop.hover("#network .net-layer-1 .neuron >> nth=4")
    desktop.mouse.move(5, 5)
    desktop.wait_for_timeout(300)  # let the 150 ms transitions finish
    _check(desktop, problems, accuracy)
    if desktop.evaluate("document.documentElement.scrollWidth") > DESKTOP["width"]:
        raise PageProblem("the desktop page scrolls sideways")
    desktop.screenshot(path=str(paths[0]))
    desktop.context.close()

    phone, problems = _open(browser, base_url, **PHONE_CONTEXT)
    touch_draw(phone, on_pad(phone, 7, 0.22, 0.14, 0.72))
    settle(phone)
    phone.wait_for_timeout(300)
    _check(phone, problems, accuracy)
    phone.screenshot(path=str(paths[1]))
    phone.context.close()
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running app (default: start one)")
    parser.add_argument("--out", type=Path, default=DOCS, help="folder (default: docs/)")
    args = parser.parse_args(argv)
    if args.url:
        paths = take(args.url, args.out)
    else:
        from tests.live_server import Gunicorn
        with Gunicorn(env={"WEB_CONCURRENCY": "1"}) as server:
            server.wait_answering("/api/model")
            paths = take(server.url, args.out)
    for path in paths:
        print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
