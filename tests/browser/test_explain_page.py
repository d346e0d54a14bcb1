""""Why did it say that?" on the real page: the attribution overlay, the cost and its ten
terms for the digit you meant, the nudges and the weights a step changes most, gradient
steps on a what-if copy, Reset, sharing a drawing by link, keys only, and 360 px."""
from __future__ import annotations

import base64
import json
import re
import urllib.request

import pytest

from pen import assert_fits_phone, mouse_draw, on_pad, settle, status
from strokes import european_one, place

pytestmark = pytest.mark.browser


# --- helpers ---------------------------------------------------------------------------------

def settle_explain(page) -> None:
    """Wait until the newest /api/explain answer is on screen, its steps walked through."""
    page.wait_for_function(
        "() => document.body.dataset.explainSeq !== undefined"
        " && document.body.dataset.explainAnswerSeq === document.body.dataset.explainSeq")


def back_to_the_pad(page) -> None:
    """Scroll to the top, where the pad is: the explanation's controls are further down."""
    page.evaluate("window.scrollTo(0, 0)")


def draw_one_with_a_flag(page) -> None:
    """A 1 written with a flag: the network takes it for a 7 (see strokes.european_one)."""
    back_to_the_pad(page)
    box = page.locator("#pad").bounding_box()
    mouse_draw(page, place(european_one(), box["x"] + 0.2 * box["width"], box["y"] + 0.12 * box["height"],
                           0.75 * box["height"]))
    settle(page)


def ask_api(live_server: str, body: dict) -> dict:
    """POST /api/explain from the test itself, for comparison with what the page shows."""
    request = urllib.request.Request(live_server + "/api/explain", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as r:
        return json.load(r)


def explain_body(request) -> dict:
    return json.loads(request.post_data)


def predict_bodies(page) -> list[dict]:
    """Every /api/predict body the page sends from now on (the last: the settled drawing)."""
    bodies: list[dict] = []
    page.on("request", lambda r: r.url.endswith("/api/predict") and bodies.append(json.loads(r.post_data)))
    return bodies


def bar_values(page) -> list[float]:
    """The ten output bars as drawn (width / track width)."""
    return page.evaluate("""() => {
        const tracks = [...document.querySelectorAll('#network .net-track')];
        return [...document.querySelectorAll('#network .net-bar')].map((b, k) =>
            Number(b.getAttribute('width')) / Number(tracks[k].getAttribute('width')));
    }""")


def wait_for_bars(page, output: list[float]) -> None:
    """Until the bars have finished moving to `output` (the tween takes 150 ms)."""
    page.wait_for_function("""(want) => {
        const tracks = [...document.querySelectorAll('#network .net-track')];
        return [...document.querySelectorAll('#network .net-bar')].every((b, k) =>
            Math.abs(Number(b.getAttribute('width')) / Number(tracks[k].getAttribute('width')) - want[k]) < 0.01);
    }""", arg=output)


def overlay_pixels(page) -> list[list[int]]:
    """RGBA of the 28×28 "Why?" overlay over the strip's last panel."""
    return page.evaluate("""() => {
        const c = document.querySelector('[data-view=why-overlay]');
        const d = c.getContext('2d').getImageData(0, 0, 28, 28).data;
        const out = [];
        for (let i = 0; i < 784; i++) out.push([d[4*i], d[4*i+1], d[4*i+2], d[4*i+3]]);
        return out;
    }""")


def is_blue(p) -> bool:
    return p[3] > 40 and p[2] > p[0] + 60


def is_red(p) -> bool:
    return p[3] > 40 and p[0] > p[2] + 60


# The fragment format of static/js/share.js, written again from its description: a link
# this makes must open on the page, so the format is what the module says it is.

def varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def zigzag(n: int) -> int:
    return 2 * n if n >= 0 else -2 * n - 1


def fragment(strokes, width: float, height: float, version: int = 1) -> str:
    data = bytearray([version]) + varint(round(width * 10)) + varint(round(height * 10)) + varint(len(strokes))
    px = py = 0
    for stroke in strokes:
        data += varint(len(stroke))
        for x, y in stroke:
            qx, qy = round(x * 10), round(y * 10)
            data += varint(zigzag(qx - px)) + varint(zigzag(qy - py))
            px, py = qx, qy
    return "strokes=" + base64.urlsafe_b64encode(bytes(data)).decode().rstrip("=")


# --- Why? ------------------------------------------------------------------------------------

def test_why_paints_which_ink_argued_for_which_digit(page):
    mouse_draw(page, on_pad(page, 4))
    settle(page)
    assert page.is_hidden("[data-view=why-overlay]")
    with page.expect_response(lambda r: r.url.endswith("/api/explain")) as info:
        page.click("#why")
    answer = info.value.json()
    settle_explain(page)
    assert page.get_attribute("#why", "aria-pressed") == "true"
    f, g = answer["attribution"]["for"], answer["attribution"]["against"]
    # Without a chosen digit, the answer against its runner-up.
    assert (f, g) == (answer["digit"], answer["runner_up"])

    assert page.is_visible("[data-view=why-overlay]")
    pixels = overlay_pixels(page)
    blue = [i for i, p in enumerate(pixels) if is_blue(p)]
    red = [i for i, p in enumerate(pixels) if is_red(p)]
    assert blue and red, f"{len(blue)} blue and {len(red)} red pixels"
    # Painted where the server says: its strongest pixel each way, in its colour; blank
    # input (x = 0) unpainted.
    attribution = answer["attribution"]["pixels"]
    top, bottom = max(range(784), key=attribution.__getitem__), min(range(784), key=attribution.__getitem__)
    assert is_blue(pixels[top]) and is_red(pixels[bottom])
    blank = [i for i, x in enumerate(answer["activations"]["input"]) if x == 0]
    assert all(pixels[i][3] == 0 for i in blank)
    # The overlay lies exactly over the 28×28 the network was fed.
    panel, over = (page.locator(s).bounding_box() for s in ("#steps canvas >> nth=3", "[data-view=why-overlay]"))
    assert all(abs(panel[k] - over[k]) < 0.5 for k in ("x", "y", "width", "height"))
    # ... and over the network picture's input image too (desktop layout).
    assert page.get_attribute("#network .net-why", "visibility") == "visible"

    sentence = page.locator("#why-text").inner_text()
    assert f"to say {f} rather than {g}" in sentence and f"argued for {g}" in sentence
    assert page.locator("#explain-live").inner_text() == sentence

    page.click("#why")
    assert page.get_attribute("#why", "aria-pressed") == "false"
    assert page.is_hidden("[data-view=why-overlay]") and page.locator("#why-text").inner_text() == ""


def test_why_stays_on_and_follows_the_next_drawing(page):
    mouse_draw(page, on_pad(page, 4)[:1])
    settle(page)
    page.click("#why")
    settle_explain(page)
    first = overlay_pixels(page)
    back_to_the_pad(page)
    with page.expect_response(lambda r: r.url.endswith("/api/explain")) as info:
        mouse_draw(page, on_pad(page, 4)[1:])
        settle(page)
    settle_explain(page)
    answer = info.value.json()
    assert overlay_pixels(page) != first
    assert f"rather than {answer['attribution']['against']}" in page.locator("#why-text").inner_text()


def test_a_late_explanation_of_an_old_drawing_is_dropped(page):
    """Hold the first explanation back until the drawing has changed and the newer one is
    shown, then let it in: it must not replace the newer one."""
    page.evaluate("""() => {
        const real = window.fetch;
        let n = 0;
        window.fetch = (url, opts) => {
            if (!String(url).endsWith('/api/explain') || n++ > 0) return real(url, opts);
            const answer = real(url, { ...opts, signal: undefined });   // deaf to the page's abort
            return new Promise(resolve => { window.__release = () => resolve(answer); });
        };
    }""")
    mouse_draw(page, on_pad(page, 4)[:1])
    settle(page)
    page.click("#why")                   # its answer is held back
    back_to_the_pad(page)
    mouse_draw(page, on_pad(page, 4)[1:])
    settle(page)
    settle_explain(page)
    shown = (page.locator("#why-text").inner_text(), overlay_pixels(page))
    assert shown[0]
    page.evaluate("window.__release()")
    page.wait_for_timeout(300)
    assert (page.locator("#why-text").inner_text(), overlay_pixels(page)) == shown


# --- What did you mean? -----------------------------------------------------------------------

def test_choosing_a_digit_shows_the_cost_and_its_ten_terms(page, live_server):
    mouse_draw(page, on_pad(page, 7))
    settle(page)
    assert page.is_hidden("#lesson")
    with page.expect_request(lambda r: r.url.endswith("/api/explain")) as info:
        page.check("input[name=target][value='3']")
    settle_explain(page)
    body = explain_body(info.value)
    assert body["target"] == 3 and body["steps"] == 0 and "strokes" in body
    api = ask_api(live_server, body)           # the same strokes, asked by the test itself

    assert page.is_visible("#lesson")
    shown = page.locator("[data-cost=value]")
    assert float(shown.get_attribute("data-value")) == api["cost"]
    assert shown.inner_text() == f"{api['cost']:.3f}"
    assert "Σ" in page.locator(".cost-formula").inner_text()
    terms = page.locator("[data-cost=terms] li")
    assert terms.count() == 10
    expected = [(a - (1 if j == 3 else 0)) ** 2 for j, a in enumerate(api["output"])]
    for j in range(10):
        term = terms.nth(j)
        assert float(term.get_attribute("data-term")) == pytest.approx(expected[j], abs=1e-12)
        assert term.locator(".term-value").inner_text() == f"{expected[j]:.3f}"
    assert sum(expected) == pytest.approx(api["cost"], rel=1e-4)
    assert "is-target" in terms.nth(3).get_attribute("class")

    # The nudges beside every neuron: ▲ for the digit meant, ▼ for the answer.
    marks = page.locator("#network .nudge[visibility=visible]")
    assert marks.count() == 16 + 16 + 10
    outputs = page.locator("#network .net-nudges path")
    assert "up" in outputs.nth(32 + 3).get_attribute("class")
    assert "down" in outputs.nth(32 + 7).get_attribute("class")
    nudge_text = page.locator("#nudge-text").inner_text()
    assert f"Output 3 wants to go up (+{api['nudges']['output'][3]:.3g}" in nudge_text

    # The ten weights a step changes most: listed with the server's numbers, and marked.
    assert page.is_hidden("#top-weights")
    page.click(".top-details summary")
    items = page.locator("#top-weights li")
    assert items.count() == 10 and items.first.is_visible()
    for k, w in enumerate(api["top_weights"]):
        assert f"Layer {w['layer']}:" in items.nth(k).inner_text()
    lines = [w for w in api["top_weights"] if w["layer"] > 1]
    rings = {w["to"] for w in api["top_weights"] if w["layer"] == 1}
    assert page.locator("#network .net-grads line[visibility=visible]").count() == len(lines)
    assert page.locator("#network .net-grad-ring[visibility=visible]").count() == len(rings)
    assert "You meant 3" in page.locator("#explain-live").inner_text()


def test_ten_steps_make_the_meant_digit_win_and_reset_restores_the_served_answer(page, live_server):
    draw_one_with_a_flag(page)
    served = status(page)
    assert served.startswith("Looks like a 7")  # the network takes it for a 7
    page.check("input[name=target][value='1']")
    settle_explain(page)
    before = bar_values(page)
    assert max(range(10), key=before.__getitem__) == 7
    # The invitation to step counts the served model's parameters, as GET /api/model gives them.
    model = json.loads(urllib.request.urlopen(live_server + "/api/model").read())
    assert f"moves each of its {model['architecture']['parameters']:,} weights and biases" in \
        page.locator("#whatif-text").inner_text()
    # Every step's cost, as it comes on screen.
    page.evaluate("""() => {
        window.__costs = [];
        new MutationObserver(() => window.__costs.push(document.querySelector('[data-cost=value]').dataset.value))
            .observe(document.querySelector('[data-cost=value]'), { childList: true, characterData: true, subtree: true });
    }""")
    with page.expect_response(lambda r: r.url.endswith("/api/explain")) as info:
        page.click("#step-10")
    answer = info.value.json()
    settle_explain(page)
    steps = answer["descent"]["steps"]
    assert [s["step"] for s in steps] == list(range(1, 11))
    assert [float(c) for c in page.evaluate("window.__costs")] == [s["cost"] for s in steps], "not step by step"

    final = steps[-1]
    assert final["digit"] == 1
    wait_for_bars(page, final["output"])
    bars = bar_values(page)
    assert max(range(10), key=bars.__getitem__) == 1
    assert "winner" in page.locator("#network .net-bar >> nth=1").get_attribute("class")
    assert page.locator("#network .net-heads text >> nth=-1").text_content().lower() == "what-if copy"
    text = page.locator("#whatif-text").inner_text()
    assert "After 10 steps" in text and "the what-if copy says 1" in text
    assert "Only this copy changed" in text and "still says 7" in text
    assert float(page.get_attribute("[data-cost=value]", "data-value")) == final["cost"]
    assert status(page) == served                # the verdict is the served network's

    page.click("#step-reset")
    settle_explain(page)
    wait_for_bars(page, answer["output"])
    assert max(range(10), key=bar_values(page).__getitem__) == 7
    assert float(page.get_attribute("[data-cost=value]", "data-value")) == answer["cost"]
    assert page.locator("#network .net-heads text >> nth=-1").text_content().lower() == "output"
    assert "Back to the served weights: the network says 7" in page.locator("#whatif-text").inner_text()
    # The served weights never moved: predict answers as before.
    assert ask_api(live_server, {k: v for k, v in explain_body(info.value.request).items()
                                 if k not in ("target", "steps")})["output"] == answer["output"]


def test_drawing_again_resets_the_what_if(page):
    draw_one_with_a_flag(page)
    page.click("#why")
    page.check("input[name=target][value='1']")
    settle_explain(page)
    page.click("#step-1")
    settle_explain(page)
    assert "After 1 step" in page.locator("#whatif-text").inner_text()
    back_to_the_pad(page)
    page.click("#undo")
    settle(page)
    assert page.locator("input[name=target]:checked").count() == 0
    assert page.is_hidden("#lesson")
    assert page.locator("#whatif-text").inner_text() == ""
    assert page.locator("#network .nudge[visibility=visible]").count() == 0
    assert page.is_disabled("#step-1")
    assert page.get_attribute("#why", "aria-pressed") == "true"   # a view the person chose stays
    # An example resets too, and can be explained like a drawing.
    draw_one_with_a_flag(page)
    page.check("input[name=target][value='4']")
    settle_explain(page)
    page.click("#example")
    page.wait_for_selector("#example-result:not(:empty)")
    settle(page)
    settle_explain(page)
    assert page.locator("input[name=target]:checked").count() == 0
    assert page.locator("#why-text").inner_text() != ""
    assert page.is_disabled("#copy-link")      # an MNIST example has no strokes to share


# --- keyboard ---------------------------------------------------------------------------------

def test_why_the_digits_and_the_steps_work_with_keys_only(page):
    draw_one_with_a_flag(page)
    page.focus("#why")
    page.keyboard.press("Enter")
    settle_explain(page)
    assert page.get_attribute("#why", "aria-pressed") == "true"
    page.keyboard.press("Tab")                 # into the radio group: one tab stop
    assert page.evaluate("document.activeElement.name") == "target"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    settle_explain(page)
    chosen = page.evaluate("document.activeElement.value")
    assert page.locator("input[name=target]:checked").get_attribute("value") == chosen
    assert f"You meant {chosen}" in page.locator("#explain-live").inner_text()
    page.keyboard.press("Tab")                 # the list of the ten weights opens with a key too
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
    page.keyboard.press("Enter")
    assert page.is_visible("#top-weights li >> nth=0")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "step-1"
    page.keyboard.press("Enter")
    settle_explain(page)
    assert "After 1 step " in page.locator("#whatif-text").inner_text()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "step-10"
    page.keyboard.press("Space")
    settle_explain(page)
    assert "After 11 steps" in page.locator("#whatif-text").inner_text()
    assert "After 11 steps" in page.locator("#explain-live").inner_text()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "step-reset"
    page.keyboard.press("Enter")
    settle_explain(page)
    assert "Back to the served weights" in page.locator("#explain-live").inner_text()
    assert page.evaluate("document.activeElement.id") == "step-reset"   # still there to press again


# --- sharing ----------------------------------------------------------------------------------

def test_a_copied_link_opens_the_same_strokes_and_the_same_answer(open_session):
    a = open_session(permissions=["clipboard-read", "clipboard-write"])
    sent = predict_bodies(a.page)
    mouse_draw(a.page, on_pad(a.page, 4))
    settle(a.page)
    drawn = sent[-1]
    answer_a = (status(a.page), a.page.get_attribute("#network", "aria-label"))
    a.page.click("#copy-link")
    a.page.wait_for_selector("#share-message:not(:empty)")
    link = a.page.input_value("#share-link")
    assert "Link copied" in a.page.locator("#share-message").inner_text()
    assert a.page.evaluate("navigator.clipboard.readText()") == link
    value = link.split("#", 1)[1]
    assert value.startswith("strokes=") and re.fullmatch(r"[A-Za-z0-9_-]+", value[len("strokes="):])
    assert len(value) < 4096, f"{len(value)} characters for one digit"
    assert value == fragment(drawn["strokes"], drawn["width"], drawn["height"]), "not the documented format"

    for fresh in (True, False):               # a new document, and the hash changing under a loaded one
        b = open_session()
        if fresh:
            b.page.goto("about:blank")
        sent_b = predict_bodies(b.page)
        b.page.goto(link)
        b.page.wait_for_selector("body[data-model=ready]", state="attached")
        b.page.wait_for_function("() => document.body.dataset.strokeEndSeq !== undefined || "
                                 "Number(document.body.dataset.seq) > 0")
        settle(b.page)
        assert sent_b == [drawn]               # the very strokes, on the same canvas, asked once
        assert (status(b.page), b.page.get_attribute("#network", "aria-label")) == answer_a
        assert "Drawn from the link" in b.page.locator("#share-message").inner_text()
        b.page.click("#undo")                  # the link's drawing is undoable like any other
        settle(b.page)
        assert status(b.page) == ""


def test_without_a_clipboard_the_link_is_in_a_field(page):
    page.evaluate("""() => { navigator.clipboard.writeText =
        () => Promise.reject(new DOMException('Write permission denied.', 'NotAllowedError')); }""")
    assert page.is_disabled("#copy-link")      # nothing drawn, nothing to share
    mouse_draw(page, on_pad(page, 7))
    settle(page)
    page.click("#copy-link")
    page.wait_for_selector("#share-message:not(:empty)")
    assert "Copy the link from the field below" in page.locator("#share-message").inner_text()
    assert page.is_visible("#share-link")
    assert "#strokes=" in page.input_value("#share-link")
    assert page.locator("[role=alert]").inner_text() == ""
    mouse_draw(page, on_pad(page, 1, 0.1, 0.1, 0.3))   # a new stroke: that link was for the old drawing
    settle(page)
    assert page.is_hidden("#share-link") and page.locator("#share-message").inner_text() == ""


BAD = {
    "garbage": "strokes=!!not*base64",
    "cut short": "strokes=A",
    "too big": "strokes=" + "A" * 70_000,
    "version 2": fragment([[(10, 10), (100, 100)]], 330, 330, version=2),
    "off the canvas": fragment([[(10, 10), (400, 100)]], 330, 330),
    "no strokes": fragment([], 330, 330),
    "bytes left over": fragment([[(10, 10), (100, 100)]], 330, 330) + "AAAA",
}


def test_a_bad_link_is_ignored_with_a_quiet_message(open_session, live_server):
    session = open_session()
    page = session.page
    for name, value in BAD.items():
        page.goto("about:blank")
        page.goto(live_server + "/#" + value)
        page.wait_for_selector("body[data-model=ready]", state="attached")
        message = page.locator("#share-message").inner_text()
        assert "could not be read" in message, name
        assert page.locator("[role=alert]").inner_text() == "", name
        assert status(page) == "" and page.is_visible("#pad-hint"), name
    # A fragment that is no drawing's link (the skip link's #draw) is nobody's business.
    page.goto("about:blank")
    page.goto(live_server + "/#draw")
    page.wait_for_selector("body[data-model=ready]", state="attached")
    assert page.locator("#share-message").inner_text() == ""
    assert session.problems() == []


# --- phone ------------------------------------------------------------------------------------

def test_everything_fits_360px(phone_seven):
    session = phone_seven
    page = session.page
    page.tap("#why")
    page.tap(".target >> nth=3")
    settle_explain(page)
    page.tap("#step-10")
    settle_explain(page)
    page.tap(".top-details summary")
    page.tap("#copy-link")
    page.wait_for_selector("#share-message:not(:empty)")
    assert page.is_visible("#top-weights li >> nth=9")
    assert_fits_phone(page, ["#why", "#targets", "#cost", "#top-weights", "#step-1", "#step-10", "#step-reset",
                             "#whatif-text", "#copy-link", "#share-link", "#steps"],
                      [".target-face >> nth=0", "#why", ".top-details summary", "#step-1", "#step-reset", "#copy-link"])
