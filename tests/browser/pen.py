"""Drive the page like a person: draw on the canvas with a mouse or a finger, wait for
the answer, read what the page says. Used by the browser tests and bench/page_latency.py."""
from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from strokes import place

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
#: A phone's browser context: 360 px wide, touch, 2× pixels.
PHONE_CONTEXT = {"viewport": PHONE, "has_touch": True, "is_mobile": True, "device_scale_factor": 2}


def pad_box(page: Page) -> dict:
    return page.locator("#pad").bounding_box()


def on_pad(page: Page, digit: int, fx: float = 0.2, fy: float = 0.12, fsize: float = 0.75):
    """The strokes of `digit` on the canvas: top-left at (fx, fy) of the canvas, `fsize` of its height."""
    box = pad_box(page)
    return place(digit, box["x"] + fx * box["width"], box["y"] + fy * box["height"], fsize * box["height"])


def mouse_draw(page: Page, strokes) -> None:
    for stroke in strokes:
        page.mouse.move(*stroke[0])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(x, y)
        page.mouse.up()


def touch_draw(page: Page, strokes) -> None:
    """Real touch input through the DevTools protocol (the page sees pointerType "touch")."""
    cdp = page.context.new_cdp_session(page)
    for stroke in strokes:
        kinds = ["touchStart"] + ["touchMove"] * (len(stroke) - 1)
        for kind, (x, y) in zip(kinds, stroke):
            cdp.send("Input.dispatchTouchEvent",
                     {"type": kind, "touchPoints": [{"x": x, "y": y, "id": 1, "radiusX": 4, "radiusY": 4}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def settle(page: Page) -> None:
    """Wait until the newest request's answer (or the empty state) is on screen."""
    page.wait_for_function(
        "() => document.body.dataset.seq !== undefined"
        " && document.body.dataset.answerSeq === document.body.dataset.seq")


def status(page: Page) -> str:
    return page.locator("[role=status]").inner_text().strip()


def network_label(page: Page) -> str:
    return page.locator("#network").get_attribute("aria-label")


def assert_fits_phone(page: Page, inside: list[str], touch_targets: list[str]) -> None:
    """No sideways scrolling at 360 px; each of ``inside`` within the screen's width; each of
    ``touch_targets`` at least 44 px tall."""
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    for selector in inside:
        box = page.locator(selector).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], selector
    for selector in touch_targets:
        assert page.locator(selector).bounding_box()["height"] >= 44, f"{selector}: touch target under 44 px"


def verdict_sentence(answer: dict) -> str:
    """What the page says of a /api/predict answer (static/js/views/outputs.js), from the
    server's verdict."""
    if answer["verdict"] == "not-a-digit":
        return "That doesn't look like a digit"
    if answer["verdict"] == "unsure":
        return f"Maybe a {answer['digit']} — or a {answer['runner_up']}"
    return f"Looks like a {answer['digit']} ({min(round(answer['confidence'] * 100), 99)}%)"
