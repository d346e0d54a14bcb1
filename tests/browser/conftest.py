"""Fixtures for the browser tests: the real app on a free port, Debian's Chromium, pages
that record console errors and CSP violations, and helpers that draw like a person.

The app is ``create_app()`` from app.py with the shipped weights, served by gunicorn
with the repo's gunicorn.conf.py in a subprocess — no mock server. Every page fails its
test at teardown if it logged a console error, threw, or violated the CSP, unless the test
said that error was expected (``page_session.allow(...)``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from pen import CHROMIUM, CHROMIUM_ARGS, DESKTOP, HERE, PHONE_CONTEXT, on_pad, settle, touch_draw
from tests.live_server import Gunicorn


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """Base URL of the real app (``create_app()`` from app.py, shipped weights) under the
    production server, gunicorn with the repo's gunicorn.conf.py, in its own process so
    the browser's requests never queue behind the test process."""
    log_path = tmp_path_factory.mktemp("server") / "gunicorn.log"
    with Gunicorn(env={"WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "4"}, log_path=log_path) as server:
        server.wait_answering("/api/model")
        yield server.url


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class PageSession:
    """A page plus what it complained about."""

    page: Page
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        """A console error matching `pattern` is expected in this test."""
        self.allowed.append(re.compile(pattern))

    def csp_violations(self) -> list[dict]:
        return self.page.evaluate("window.__cspViolations || []")

    def problems(self) -> list[str]:
        errors = [e for e in self.console_errors if not any(p.search(e) for p in self.allowed)]
        violations = [f"CSP: {v}" for v in self.csp_violations()] if not self.page.is_closed() else []
        return errors + [f"page error: {e}" for e in self.page_errors] + violations


def open_page(browser: Browser, base_url: str, **context_options) -> PageSession:
    options = {"viewport": DESKTOP, **context_options}
    context = browser.new_context(**options)
    context.add_init_script(path=str(HERE / "csp_listener.js"))
    page = context.new_page()
    page.set_default_timeout(10_000)
    session = PageSession(page)
    page.on("console", lambda m: m.type == "error" and session.console_errors.append(m.text))
    page.on("pageerror", lambda e: session.page_errors.append(str(e)))
    page.goto(base_url + "/")
    try:
        page.wait_for_selector("body[data-model=ready]", state="attached")
    except Exception:
        state = page.evaluate("""() => ({dataset: {...document.body.dataset}, alert: document.querySelector('#alert')?.textContent,
            resources: performance.getEntriesByType('resource').map(e => e.name.split('/').pop() + ' ' + Math.round(e.duration))})""")
        raise AssertionError(f"the page did not get ready: {state}; errors {session.problems()}")
    return session


@pytest.fixture
def open_session(browser, live_server):
    """Factory: open_session(viewport=..., has_touch=...) → a loaded PageSession."""
    sessions = []

    def factory(**context_options) -> PageSession:
        s = open_page(browser, live_server, **context_options)
        sessions.append(s)
        return s

    yield factory
    problems = []
    for s in sessions:
        problems += s.problems()
        s.page.context.close()
    assert not problems, "the page logged errors or violated the CSP:\n" + "\n".join(problems)


@pytest.fixture
def session(open_session) -> PageSession:
    """A desktop page (1280×800), loaded, model drawn."""
    return open_session()


@pytest.fixture
def page(session) -> Page:
    return session.page


@pytest.fixture
def phone_seven(open_session) -> PageSession:
    """A phone page (360 px, touch, 2× screen) on which a finger has drawn a 7, answered."""
    s = open_session(**PHONE_CONTEXT)
    touch_draw(s.page, on_pad(s.page, 7))
    settle(s.page)
    return s
