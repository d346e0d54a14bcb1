"""static/js/scheduler.js in the real page, driven by hand: a fake predict whose answers
the test releases one at a time, and a clock the test moves (scheduler_rig.js).

Each test asserts the exact sequence of what was sent, aborted, answered and reported, so
a scheduler that lets a stale answer through, sends twice at once or forgets the
follow-up fails here."""
from __future__ import annotations

import pytest

from pen import HERE

pytestmark = pytest.mark.browser

RIG = (HERE / "scheduler_rig.js").read_text()


class Rig:
    """Python handle on `window.rig`: each call is one step, run to completion."""

    def __init__(self, page, **options):
        self.page = page
        page.evaluate(RIG, {"throttleMs": 100, "manual": True, **options})

    def _call(self, name, *args):
        return self.page.evaluate(f"(args) => rig.{name}(...args)", list(args))

    def soon(self, drawing: str):
        """The pen moved; the drawing is now `drawing`."""
        self._call("soon", drawing)

    def now(self, job: str):
        self._call("now", job)

    def cancel(self):
        self._call("cancel")

    def answer(self, job: str, result: str):
        self._call("answer", job, result)

    def fail(self, job: str, message: str):
        self._call("fail", job, message)

    def tick(self, ms: float):
        self._call("tick", ms)

    def __getitem__(self, name):
        return self.page.evaluate(f"rig.{name}")

    def seq(self) -> int:
        return self.page.evaluate("rig.scheduler.seq")

    def aborted(self) -> list[bool]:
        return self.page.evaluate("rig.calls.map(c => c.signal.aborted)")

    def timers(self) -> list[float]:
        """When the scheduled timers are due, on the hand-moved clock."""
        return self.page.evaluate("rig.clock.timers.map(t => t.at)")

    def time(self) -> float:
        return self.page.evaluate("rig.clock.t")


@pytest.fixture
def rig(page) -> Rig:
    return Rig(page)


def test_newest_answer_wins_and_a_late_older_answer_is_dropped(page):
    rig = Rig(page, deaf=True)         # the transport ignores aborts: numbering alone must hold
    rig.now("a")
    rig.now("b")
    rig.answer("b", "B")
    rig.answer("a", "A")               # arrives late
    assert rig["log"] == ["send a", "abort a", "send b", "answer B for b #2"]
    assert rig["settled"] == ["b #2", "a #1"]
    assert rig.seq() == 2


def test_a_superseded_request_is_aborted_and_its_abort_is_not_an_error(rig):
    rig.now("a")
    rig.now("b")
    assert rig.aborted() == [True, False]
    rig.answer("b", "B")
    assert rig["log"] == ["send a", "abort a", "send b", "answer B for b #2"]
    assert rig["settled"] == ["a #1", "b #2"]


def test_cancel_aborts_and_makes_everything_on_its_way_stale(page):
    rig = Rig(page, deaf=True)
    rig.now("a")
    rig.cancel()
    assert rig.aborted() == [True]
    assert rig.seq() == 2
    rig.answer("a", "A")
    assert rig["log"] == ["send a", "abort a"]


def test_only_one_request_is_ever_in_flight(rig):
    rig.soon("d1")
    for drawing in ["d2", "d3", "d4"]:     # the pen keeps moving while d1 is out
        rig.tick(150)
        rig.soon(drawing)
    assert rig["log"] == ["send d1"]
    rig.now("end")                          # the stroke ends: replaces d1, not beside it
    rig.answer("end", "E")
    assert rig["log"] == ["send d1", "abort d1", "send end", "answer E for end #2"]
    assert rig["maxOpen"] == 1


def test_during_a_stroke_at_most_one_request_per_interval_carrying_the_newest_drawing(rig):
    rig.soon("d1")                          # t=0: nothing sent yet, so at once
    rig.answer("d1", "D1")
    rig.tick(10)
    rig.soon("d2")                          # t=10: too soon, scheduled for t=100
    rig.tick(40)
    rig.soon("d3")                          # t=50: already scheduled, no second timer
    assert rig.timers() == [100]
    rig.tick(49)                            # t=99
    assert rig["log"] == ["send d1", "answer D1 for d1 #1"]
    rig.tick(1)                             # t=100
    assert rig["log"] == ["send d1", "answer D1 for d1 #1", "send d3"]
    rig.answer("d3", "D3")
    rig.soon("d4")                          # t=100, just sent: next at t=200
    rig.tick(99)
    assert rig["log"][-1] == "answer D3 for d3 #2"
    rig.tick(1)
    assert rig["log"][-1] == "send d4"
    assert rig.time() == 200


def test_the_end_of_a_stroke_is_not_throttled_and_drops_the_scheduled_request(rig):
    rig.soon("d1")
    rig.answer("d1", "D1")
    rig.tick(10)
    rig.soon("d2")                          # scheduled for t=100
    rig.now("end")                          # t=10
    rig.answer("end", "E")
    rig.tick(500)
    assert rig["log"] == ["send d1", "answer D1 for d1 #1", "send end", "answer E for end #2"]
    assert rig.timers() == []


def test_a_drawing_that_grew_during_a_request_is_sent_once_it_settles(rig):
    rig.soon("d1")
    rig.tick(150)
    rig.soon("d2")
    rig.soon("d3")                          # both while d1 is in flight
    rig.tick(300)
    assert rig["log"] == ["send d1"]
    rig.answer("d1", "D1")                  # t=450: long past the interval, so at once
    assert rig["log"] == ["send d1", "answer D1 for d1 #1", "send d3"]
    rig.answer("d3", "D3")
    rig.tick(500)
    assert rig["log"][-1] == "answer D3 for d3 #2"  # one follow-up, not one per move


def test_the_follow_up_still_waits_out_the_interval(rig):
    rig.soon("d1")                          # t=0
    rig.tick(50)
    rig.soon("d2")                          # in flight: pending
    rig.tick(10)
    rig.answer("d1", "D1")                  # t=60: the follow-up is due at t=100
    assert rig["log"] == ["send d1", "answer D1 for d1 #1"]
    rig.tick(39)
    assert rig["log"][-1] == "answer D1 for d1 #1"
    rig.tick(1)
    assert rig["log"][-1] == "send d2"


def test_a_failed_request_also_sends_the_follow_up(rig):
    rig.soon("d1")
    rig.tick(150)
    rig.soon("d2")
    rig.fail("d1", "boom")
    assert rig["log"] == ["send d1", "error boom for d1 #1", "send d2"]


def test_cancel_drops_the_follow_up(rig):
    rig.soon("d1")
    rig.tick(150)
    rig.soon("d2")
    rig.cancel()
    rig.tick(500)
    assert rig["log"] == ["send d1", "abort d1"]


def test_errors_of_superseded_requests_are_ignored(page):
    rig = Rig(page, deaf=True)
    rig.now("a")
    rig.now("b")
    rig.fail("a", "stale failure")
    rig.fail("b", "fresh failure")
    assert rig["log"] == ["send a", "abort a", "send b", "error fresh failure for b #2"]
    assert rig["settled"] == ["a #1", "b #2"]


def test_with_real_timers_requests_keep_the_interval(page):
    """The same rule on the browser's own clock: the pen moves every 5 ms or more, for at
    least 400 ms and 20 moves, and answers come back at once. Only lower bounds on time are
    asserted (timers never fire early); a slow machine only means fewer requests."""
    rig = Rig(page, throttleMs=40, manual=False, instant=True)
    page.evaluate("""async () => {
        const start = performance.now();
        for (let i = 0; i < 20 || performance.now() - start < 400; i++) {
            rig.soon(`d${i}`);
            await new Promise(resolve => setTimeout(resolve, 5));
        }
        await new Promise(resolve => setTimeout(resolve, 100));
    }""")
    sent = rig["sentAt"]
    gaps = [b - a for a, b in zip(sent, sent[1:])]
    assert len(sent) >= 2, sent
    assert all(g >= 39 for g in gaps), gaps
    assert rig["maxOpen"] == 1
