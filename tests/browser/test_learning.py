""""Watch it learn" on the real page: nothing of it is fetched before the card is opened;
the slider from the first snapshot to the last changes the drawing's answer and the
weight images, with the accuracy of /api/training; keys and Play move it; without a
drawing only weights and accuracy; 360 px.

The app serves the snapshot files beside the shipped weights (the real ones, from
python -m training.train): these tests need them, like tests/test_training_api.py.
"""
from __future__ import annotations

import json
import urllib.request

import pytest

from pen import assert_fits_phone, mouse_draw, on_pad, settle, verdict_sentence

pytestmark = [pytest.mark.browser, pytest.mark.snapshots]


# --- helpers ---------------------------------------------------------------------------------

def get_json(url: str):
    with urllib.request.urlopen(url) as r:
        return json.load(r)


def post_json(url: str, body: dict):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as r:
        return json.load(r)


def open_card(page) -> None:
    page.click("#learn-details > summary")
    page.wait_for_selector("body[data-learn=ready]", state="attached")


def shown(page, k: int) -> None:
    """Until snapshot k is on screen with the newest answer about it."""
    page.wait_for_function(
        """(k) => document.querySelector('#learn-body').dataset.snapshot === String(k)
                  && document.body.dataset.learnAnswerSeq === document.body.dataset.learnSeq""", arg=k)


def weight_images(page) -> list[str]:
    return page.evaluate("() => [...document.querySelectorAll('#learn-weights canvas')].map(c => c.toDataURL())")


def outputs(page) -> list[float]:
    return page.evaluate("() => [...document.querySelectorAll('#learn-outputs li')].map(li => Number(li.dataset.output))")


def checkpoint_bodies(page) -> list[dict]:
    """Every /api/predict body with a checkpoint the page sends from now on."""
    bodies: list[dict] = []

    def seen(request):
        if request.url.endswith("/api/predict"):
            body = json.loads(request.post_data)
            if "checkpoint" in body:
                bodies.append(body)
    page.on("request", seen)
    return bodies


def count(n: int) -> str:
    return f"{n:,}"


# --- tests -----------------------------------------------------------------------------------

def test_nothing_of_the_card_is_fetched_before_it_is_opened(session):
    """The first screen is no heavier for the card: no /api/training*, no learning module,
    until the card is opened. Prints the first load's bytes (Resource Timing)."""
    page = session.page
    page.wait_for_load_state("networkidle")
    first = page.evaluate("""() => performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
        .map(e => [new URL(e.name).pathname, e.transferSize])""")
    names = [name for name, _ in first]
    assert "/api/model" in names and "/static/js/main.js" in names
    assert not [n for n in names if n.startswith("/api/training") or n.endswith(("learn-flow.js", "learning.js", "curve.js"))], names
    print(f"\nfirst load: {len(first)} responses, {sum(size for _, size in first):,} bytes transferred")
    with page.expect_response(lambda r: r.url.endswith("/api/training")) as info:
        open_card(page)
    assert info.value.status == 200
    shown(page, 0)
    later = page.evaluate("() => performance.getEntriesByType('resource').map(e => [new URL(e.name).pathname, e.transferSize])")
    fetched = {name: size for name, size in later[len(first) - 1:]}
    assert {"/static/js/learn-flow.js", "/static/js/views/learning.js", "/static/js/views/curve.js", "/api/training",
            "/api/training/0"} <= set(fetched)
    print("opening the card: " + ", ".join(f"{n} {s:,} B" for n, s in fetched.items()))


def test_the_slider_from_first_to_last_changes_the_answer_and_the_weights(page, live_server):
    run = get_json(live_server + "/api/training")
    last = len(run["checkpoints"]) - 1
    mouse_draw(page, on_pad(page, 3))
    settle(page)
    bodies = checkpoint_bodies(page)
    open_card(page)
    shown(page, 0)
    assert page.get_attribute("#learn-slider", "max") == str(last)
    first_images, first_outputs = weight_images(page), outputs(page)
    record = run["checkpoints"][0]
    assert page.locator("#learn-accuracy").inner_text() == f"{record['test_accuracy'] * 100:.1f}% right on the MNIST test digits"
    assert float(page.get_attribute("#learn-accuracy", "data-value")) == record["test_accuracy"]
    assert page.get_attribute("#learn-curve", "data-cursor") == "0"
    # What the page shows is the server's answer with checkpoint 0 for this very drawing.
    body = bodies[-1]
    assert body["checkpoint"] == 0
    assert first_outputs == post_json(live_server + "/api/predict", body)["output"]

    # Drag the thumb with the mouse from the left end to the right end.
    page.locator("#learn-slider").scroll_into_view_if_needed()
    box = page.locator("#learn-slider").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 2, y)
    page.mouse.down()
    for k in range(1, 21):
        page.mouse.move(box["x"] + 2 + k * (box["width"] - 4) / 20, y)
        page.wait_for_timeout(30)
    page.mouse.up()
    shown(page, last)
    assert page.input_value("#learn-slider") == str(last)
    assert len(bodies) < 20, f"{len(bodies)} predict requests for one drag: not throttled"
    last_images, last_outputs = weight_images(page), outputs(page)
    assert len(last_images) == 16 and all(a != b for a, b in zip(first_images, last_images))
    assert last_outputs != first_outputs
    record = run["checkpoints"][last]
    assert page.locator("#learn-accuracy").inner_text() == f"{record['test_accuracy'] * 100:.1f}% right on the MNIST test digits"
    assert page.get_attribute("#learn-curve", "data-cursor") == str(last)
    assert "This is the network you draw on." in page.locator("#learn-when").inner_text()
    # The last snapshot is the served network: the same ten outputs as without a checkpoint.
    assert bodies[-1]["checkpoint"] == last and bodies[-1]["strokes"] == body["strokes"]
    served = {k: v for k, v in body.items() if k != "checkpoint"}
    assert last_outputs == post_json(live_server + "/api/predict", served)["output"]
    verdict = page.locator("#status").inner_text()      # the served network's: the same answer
    assert page.locator("#learn-live").inner_text() == (
        f"After {count(record['examples_seen'])} examples: {record['test_accuracy'] * 100:.1f}% right on the "
        f"test digits. Your drawing: {verdict}.")
    assert page.locator("#learn-verdict").inner_text() == f"As this snapshot reads your drawing: {verdict}."


def test_keys_move_the_slider_and_play_walks_through_the_run(page, live_server):
    run = get_json(live_server + "/api/training")
    last = len(run["checkpoints"]) - 1
    open_card(page)
    shown(page, 0)
    page.focus("#learn-slider")
    page.keyboard.press("ArrowRight")
    shown(page, 1)
    record = run["checkpoints"][1]
    assert page.get_attribute("#learn-slider", "aria-valuetext") == \
        f"snapshot 2 of {last + 1}, after {count(record['examples_seen'])} examples"
    assert page.locator("#learn-live").inner_text() == \
        f"After {count(record['examples_seen'])} examples: {record['test_accuracy'] * 100:.1f}% right on the test digits."
    page.keyboard.press("End")
    shown(page, last)
    page.keyboard.press("Home")
    shown(page, 0)
    assert page.locator("#learn-when").inner_text().startswith("Snapshot 1 of")

    # Play (from the keyboard) walks forward one snapshot at a time; Pause stops it.
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.id") == "learn-play"
    page.keyboard.press("Enter")
    assert page.locator("#learn-play").inner_text() == "Pause"
    shown(page, 1)
    shown(page, 2)
    page.keyboard.press("Enter")
    assert page.locator("#learn-play").inner_text() == "Play"
    stopped = page.input_value("#learn-slider")
    page.wait_for_timeout(1500)
    assert page.input_value("#learn-slider") == stopped
    # Played to the end, it stops at the last snapshot; from there, it starts again at the first.
    page.focus("#learn-slider")
    page.keyboard.press("End")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    shown(page, last - 2)
    page.focus("#learn-play")
    page.keyboard.press("Enter")
    shown(page, last)
    page.wait_for_function("() => document.querySelector('#learn-play').textContent === 'Play'")
    assert page.input_value("#learn-slider") == str(last)
    page.keyboard.press("Enter")
    shown(page, 0)
    page.keyboard.press("Enter")
    assert page.locator("#learn-play").inner_text() == "Play"


def test_without_a_drawing_the_weights_and_accuracy_only(page, live_server):
    bodies = checkpoint_bodies(page)
    open_card(page)
    shown(page, 0)
    assert page.is_hidden("#learn-outputs")
    assert page.locator("#learn-verdict").inner_text().startswith("Draw a digit")
    assert len(weight_images(page)) == 16 and page.locator("#learn-accuracy").inner_text()
    assert bodies == []
    # Drawing then asks the snapshot on screen.
    page.evaluate("window.scrollTo(0, 0)")
    mouse_draw(page, on_pad(page, 7))
    settle(page)
    page.wait_for_function("() => !document.querySelector('#learn-outputs').hidden")
    shown(page, 0)
    assert bodies and bodies[-1]["checkpoint"] == 0
    # What the server says of the drawing with snapshot 0, word for word (the untrained
    # network lights no output: the card's rule calls that "not a digit").
    served = post_json(live_server + "/api/predict", bodies[-1])
    assert page.locator("#learn-verdict").inner_text() == f"As this snapshot reads your drawing: {verdict_sentence(served)}."
    # Clearing forgets that answer.
    page.evaluate("window.scrollTo(0, 0)")
    page.click("#clear")
    settle(page)
    shown(page, 0)
    assert page.is_hidden("#learn-outputs")


def test_the_card_fits_360px(phone_seven):
    session = phone_seven
    page = session.page
    page.tap("#learn-details > summary")
    page.wait_for_selector("body[data-learn=ready]", state="attached")
    shown(page, 0)
    assert_fits_phone(page, ["#learn-play", "#learn-slider", "#learn-curve", "#learn-weights", "#learn-outputs",
                             "#learn-when"], ["#learn-play", "#learn-slider", "#learn-details > summary"])
    assert page.locator("#learn-slider").bounding_box()["width"] >= 200
