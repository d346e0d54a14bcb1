"""The rest of the page on the real app: CSP hygiene, phone layout, high-DPI canvas,
MNIST examples, looking inside neurons, errors, accessibility, and the screenshot script."""
from __future__ import annotations

import json
import re
import urllib.request

import numpy as np
import pytest

from pen import (DESKTOP, PHONE, PHONE_CONTEXT, REPO, assert_fits_phone, mouse_draw, on_pad, settle, status, touch_draw,
                 verdict_sentence)
from tests.live_server import post_json

pytestmark = pytest.mark.browser

DOCS = REPO / "docs"


def test_the_page_is_served_with_the_strict_csp(live_server):
    with urllib.request.urlopen(live_server + "/") as r:
        csp = r.headers["Content-Security-Policy"]
        html = r.read().decode()
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
    # Nothing inline that the policy would block: no <script> bodies, handlers or style="".
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not re.search(r"\son[a-z]+\s*=", html)
    assert not re.search(r"\sstyle\s*=", html)
    assert "<style" not in html


def test_a_whole_session_has_no_console_errors_or_csp_violations(session):
    """Draw, undo, redo, clear, try an example, inspect neurons: the page stays clean
    (the fixture fails the test on any console error, exception or CSP violation)."""
    page = session.page
    mouse_draw(page, on_pad(page, 7))
    settle(page)
    page.click("#undo")
    page.click("#redo")
    settle(page)
    page.hover("#network .net-layer-2 .neuron >> nth=3")
    page.click("#gallery1 .neuron-tile >> nth=5")
    page.click("#example")
    page.wait_for_selector("#example-result:not(:empty)")
    page.keyboard.press("Escape")
    settle(page)
    assert session.problems() == []


def test_the_csp_listener_does_catch_violations(session):
    """Control for the test above: an inline style attribute is reported."""
    page = session.page
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">x</p>')")
    page.wait_for_function("window.__cspViolations.length > 0")
    assert session.csp_violations()[0]["directive"].startswith("style-src")
    session.page_errors.clear()
    session.console_errors.clear()
    page.evaluate("window.__cspViolations.length = 0")


def test_phone_layout_fits_360px_and_drawing_works(open_session):
    session = open_session(**PHONE_CONTEXT)
    page = session.page
    assert_fits_phone(page, ["#pad", "#undo", "#redo", "#clear", "#example", "#status", "#network", "#steps"],
                      ["#undo", "#redo", "#clear", "#example"])
    # Sharp on a 2× screen: the backing store has two pixels per CSS pixel.
    css, backing = page.evaluate("""() => { const c = document.querySelector('#pad');
        return [c.getBoundingClientRect().width, c.width]; }""")
    assert backing == round(css * 2)
    assert page.evaluate("getComputedStyle(document.querySelector('#pad')).touchAction") == "none"
    touch_draw(page, on_pad(page, 7))
    settle(page)
    assert status(page).startswith("Looks like a 7")
    page.tap("#clear")
    settle(page)
    assert status(page) == ""
    assert_fits_phone(page, [], [])


def test_strokes_are_sent_in_css_pixels_of_the_canvas(page):
    with page.expect_request(lambda r: r.url.endswith("/api/predict")) as info:
        mouse_draw(page, on_pad(page, 1))
    settle(page)
    body = json.loads(info.value.post_data)
    box = page.locator("#pad").bounding_box()
    assert set(body) == {"strokes", "width", "height"}
    assert abs(body["width"] - box["width"]) < 1 and abs(body["height"] - box["height"]) < 1
    xs = [x for s in body["strokes"] for x, _ in s]
    assert 0 <= min(xs) and max(xs) <= body["width"]


def assert_example_result(page, example: dict, answer: dict) -> None:
    """The status says what the server answered for the example's pixels, and the line below
    it whether that was MNIST's label (static/js/views/outputs.js, showExample)."""
    assert status(page) == verdict_sentence(answer)
    result = page.locator("#example-result")
    text = result.inner_text()
    assert f"#{example['index']}" in text and f"labelled {example['label']}" in text
    if answer["verdict"] == "not-a-digit":
        assert f"did not take it for a digit (its strongest output is {answer['digit']})" in text
        assert result.get_attribute("data-state") == "wrong"
    elif answer["digit"] == example["label"]:
        assert "got it right" in text and result.get_attribute("data-state") == "right"
    else:
        assert f"got it wrong (it said {answer['digit']})" in text and result.get_attribute("data-state") == "wrong"


@pytest.mark.parametrize("digit", ["3", ""])
def test_example_shows_a_real_mnist_digit_and_says_right_or_wrong(page, digit):
    page.select_option("#example-digit", digit)
    with page.expect_response(lambda r: "/api/examples" in r.url) as info, \
            page.expect_response(lambda r: r.url.endswith("/api/predict")) as answered:
        page.click("#example")
    example = info.value.json()["examples"][0]
    answer = answered.value.json()
    assert answer["activations"]["input"] == example["pixels"]  # the network was fed exactly the example
    page.wait_for_selector("#example-result:not(:empty)")
    settle(page)
    if digit:
        assert example["label"] == int(digit)
    assert_example_result(page, example, answer)
    assert page.is_visible("#example-view")
    # Drawing replaces the example.
    mouse_draw(page, on_pad(page, 1))
    settle(page)
    assert not page.is_visible("#example-view")
    assert page.locator("#example-result").inner_text() == ""
    assert status(page).startswith("Looks like a 1")


def test_an_example_the_network_does_not_take_for_a_digit_is_said_so(page, live_server):
    """About 3 % of MNIST's test digits get the verdict "not a digit"; the random example button
    meets one only now and then, so this test serves one the server itself declines."""
    pool = np.load(REPO / "weights" / "examples.npz")
    pixels = [np.round(row / 255, 4).tolist() for row in pool["images"]]
    verdicts = []
    for start in range(0, len(pixels), 50):  # batches of 50 ≤ MAX_BATCH (64, app.py)
        code, _, body = post_json(live_server + "/api/predict",
                                  {"inputs": [{"pixels": p} for p in pixels[start:start + 50]]})
        assert code == 200
        verdicts += [a["verdict"] for a in json.loads(body)["predictions"]]
        if "not-a-digit" in verdicts:
            break
    assert "not-a-digit" in verdicts, "the network declines none of the example digits"
    i = verdicts.index("not-a-digit")
    example = {"label": int(pool["labels"][i]), "index": int(pool["indices"][i]), "pixels": pixels[i]}
    page.route("**/api/examples*", lambda route: route.fulfill(json={"examples": [example]}))
    with page.expect_response(lambda r: r.url.endswith("/api/predict")) as answered:
        page.click("#example")
    answer = answered.value.json()
    assert answer["verdict"] == "not-a-digit"
    page.wait_for_selector("#example-result:not(:empty)")
    settle(page)
    assert_example_result(page, example, answer)
    assert page.locator("[role=status]").get_attribute("data-state") == "not-a-digit"


def test_clear_puts_an_example_away(page):
    page.click("#example")
    page.wait_for_selector("#example-result:not(:empty)")
    settle(page)
    assert page.is_enabled("#clear")
    page.click("#clear")
    settle(page)
    assert not page.is_visible("#example-view")
    assert status(page) == "" and page.locator("#example-result").inner_text() == ""
    assert "Nothing drawn yet" in page.get_attribute("#network", "aria-label")


def test_undo_after_an_example_brings_the_drawing_back(page):
    mouse_draw(page, on_pad(page, 7))
    settle(page)
    drawn = status(page)
    page.click("#example")
    page.wait_for_selector("#example-result:not(:empty)")
    settle(page)
    page.click("#undo")
    settle(page)
    assert status(page) == drawn
    assert not page.is_visible("#example-view")


def page_colours() -> dict[str, list[int]]:
    """The page's colours as static/js/views/pixels.js declares them (`export const NAME = [r, g, b];`)."""
    source = (REPO / "static" / "js" / "views" / "pixels.js").read_text()
    return {name: json.loads(rgb) for name, rgb in re.findall(r"export const (\w+) = (\[[\d, ]+\]);", source)}


def weights_picture(page) -> list[list[int]]:
    """RGB of the 28×28 weight picture in the inspector."""
    return page.evaluate("""() => {
        const c = document.querySelector('[data-view=neuron-weights]');
        const d = c.getContext('2d').getImageData(0, 0, 28, 28).data;
        const out = [];
        for (let i = 0; i < 784; i++) out.push([d[4*i], d[4*i+1], d[4*i+2]]);
        return out;
    }""")


def test_hovering_a_first_layer_neuron_shows_its_784_weights(page, live_server):
    with urllib.request.urlopen(live_server + "/api/model") as r:
        weights = json.load(r)["layers"][0]["weights"]
    mouse_draw(page, on_pad(page, 4))
    settle(page)
    page.hover("#network .net-layer-1 .neuron >> nth=5")
    assert page.locator("#inspector h3").inner_text() == "Hidden layer 1 · neuron 6"
    canvas = page.locator("[data-view=neuron-weights]")
    assert canvas.is_visible()
    assert canvas.evaluate("c => [c.width, c.height]") == [28, 28]
    assert canvas.bounding_box()["width"] >= 100
    # The picture is this neuron's real weights, every pixel: blue where positive, red where
    # negative, on one scale for both signs (the 98th percentile of |w|, static/js/views/pixels.js
    # robustScale), so the strongest 2 % are fully coloured and the rest in proportion.
    w = weights[5]
    pixels = weights_picture(page)
    colour = page_colours()
    scale = sorted(abs(v) for v in w)[min(783, int(0.98 * 784))] or max(abs(v) for v in w)
    for i, v in enumerate(w):
        t = max(-1.0, min(1.0, v / scale))
        end = colour["POSITIVE"] if t >= 0 else colour["NEGATIVE"]
        want = [c0 + (c1 - c0) * abs(t) for c0, c1 in zip(colour["BACKGROUND"], end)]
        assert all(abs(got - x) <= 0.5 + 1e-9 for got, x in zip(pixels[i], want)), f"weight {v:.4f} drawn as {pixels[i]}"
    assert "activation" in page.locator("#inspector .numbers").inner_text()
    assert page.get_attribute("#gallery1 .neuron-tile >> nth=5", "aria-pressed") == "true"


def test_second_layer_and_output_neurons_can_be_inspected(page):
    page.hover("#network .net-layer-2 .neuron >> nth=2")
    assert page.locator("#inspector h3").inner_text() == "Hidden layer 2 · neuron 3"
    assert page.locator("#inspector .incoming-bar").count() == 16
    assert "W2·W1" in page.locator("[data-neuron=weights-caption]").inner_text()
    page.click("#network .net-layer-3 .neuron >> nth=7")
    assert page.locator("#inspector h3").inner_text() == "Output neuron 7"


def test_neuron_galleries_work_from_the_keyboard(page):
    assert page.locator("#gallery1 .neuron-tile").count() == 16
    assert page.locator("#gallery2 .neuron-tile").count() == 16
    page.focus("#gallery1 .neuron-tile >> nth=0")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.locator("#inspector h3").inner_text() == "Hidden layer 1 · neuron 3"
    assert page.evaluate("document.activeElement.dataset.index") == "2"
    # one tab stop per gallery (roving tabindex)
    assert page.locator("#gallery1 .neuron-tile[tabindex='0']").count() == 1
    page.focus("#gallery2 .neuron-tile >> nth=0")
    page.keyboard.press("End")
    assert page.locator("#inspector h3").inner_text() == "Hidden layer 2 · neuron 16"


def test_the_preprocessing_strip_shows_the_four_steps(page):
    mouse_draw(page, on_pad(page, 1, 0.6, 0.5, 0.35))  # small, in a corner
    settle(page)
    captions = page.locator("#steps figcaption strong").all_inner_texts()
    assert captions == ["1. Your drawing", "2. Cropped to the ink", "3. Fitted into 20×20", "4. Centred by mass"]
    notes = page.locator("#steps figcaption span").all_inner_texts()
    assert "inside the 20×20 box" in notes[2] and "moved" in notes[3]
    # Panel 4 is the very input the network was fed: the ink sits around the centre.
    ink = page.evaluate("""() => {
        const c = document.querySelectorAll('#steps canvas')[3];
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let m = 0, sx = 0;
        for (let i = 0; i < c.width * c.height; i++) { const v = d[4*i]; if (v > 120) { m++; sx += i % c.width; } }
        return [m, sx / m / c.width];
    }""")
    assert ink[0] > 0 and 0.35 < ink[1] < 0.65


def test_network_failure_is_an_alert(session):
    page = session.page
    session.allow(r"net::ERR_FAILED|Failed to load resource")
    page.route("**/api/predict", lambda route: route.abort("failed"))
    mouse_draw(page, on_pad(page, 7))
    settle(page)
    assert "could not be reached" in page.locator("[role=alert]").inner_text()
    page.unroute("**/api/predict")
    page.click("#undo")
    page.click("#redo")
    settle(page)
    assert page.locator("[role=alert]").inner_text() == ""
    assert status(page).startswith("Looks like a 7")


def test_a_client_error_from_the_server_is_an_alert(session):
    """Over the server's stroke limit: its problem detail is shown as an alert."""
    page = session.page
    session.allow(r"status of 422")
    box = page.locator("#pad").bounding_box()
    # 101 dots spread over the canvas: more strokes than the server accepts (100).
    for i in range(101):
        page.mouse.click(box["x"] + 20 + (i % 11) * 25, box["y"] + 20 + (i // 11) * 25)
    settle(page)
    alert = page.locator("[role=alert]").inner_text()
    assert "strokes" in alert and "100" in alert


def test_accessible_names_focus_and_headline(page):
    assert page.get_attribute("#pad", "aria-label") == "Draw a digit here"
    assert page.get_attribute("#pad", "role") == "img"
    for name in ["Undo", "Redo", "Clear", "Try an example"]:
        assert page.get_by_role("button", name=name).count() == 1
    assert page.locator("[role=alert]").count() == 1
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    facts = page.locator("#accuracy").inner_text()
    assert re.fullmatch(r"\d{2}\.\d% right on 10,000 MNIST test digits", facts)
    about = page.locator(".about").inner_text()
    assert "13,002" in about and "σ" in about


def test_reduced_motion_still_shows_the_answer(open_session):
    session = open_session(reduced_motion="reduce")
    page = session.page
    mouse_draw(page, on_pad(page, 1))
    settle(page)
    assert status(page).startswith("Looks like a 1")
    width = page.locator("#network .net-bar.winner").get_attribute("width")
    assert float(width) > 10


def test_the_screenshot_script_draws_and_takes_both_pictures(browser, live_server, tmp_path):
    """docs/screenshots.py, which makes the README's pictures, into a temporary folder
    (so a test run never changes the committed ones)."""
    import importlib.util
    from PIL import Image

    spec = importlib.util.spec_from_file_location("screenshots", DOCS / "screenshots.py")
    screenshots = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(screenshots)
    paths = screenshots.take(live_server, tmp_path, browser)

    assert [p.name for p in paths] == ["screenshot-desktop.png", "screenshot-phone.png"]
    sizes = [Image.open(p).size for p in paths]
    assert sizes == [(DESKTOP["width"], DESKTOP["height"]),
                     (2 * PHONE["width"], 2 * PHONE["height"])]
    for path in paths:
        assert path.stat().st_size > 20_000  # a drawn page, not a blank one
