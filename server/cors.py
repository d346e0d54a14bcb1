"""CORS for the API, off by default: ``CORS_ORIGINS`` lists the origins (exact, comma-separated,
e.g. ``https://course.example.org,http://localhost:3000``) whose pages may call ``/api/*``
and ``/v2/*`` from a browser.

- A request from a listed ``Origin`` gets ``Access-Control-Allow-Origin`` echoing it (never
  ``*``) and ``Access-Control-Expose-Headers`` naming what a client reads beyond the basic
  headers (``ETag``, ``Inference-Header-Content-Length``). Error answers too: a page can
  read the problem document that says what to fix.
- A preflight from a listed origin (``OPTIONS`` with ``Access-Control-Request-Method``) is
  answered here, 204, with the methods and request headers the API takes (``Content-Type``
  for JSON, ``Inference-Header-Content-Length`` for OIP's binary tensors, ``If-None-Match``
  for ``/api/model``) and how long the browser may keep that answer.
- No ``Access-Control-Allow-Credentials``: the API uses no cookies or authentication.
- Any other origin gets no ``Access-Control-*`` header at all, and the browser keeps the
  answer from the calling page. The pages (``/``, ``/docs``, ...) never get any.
- With the setting on, every ``/api`` and ``/v2`` answer says ``Vary: Origin``: the same URL
  is answered differently for different origins, and caches must keep those apart.

``Cross-Origin-Resource-Policy: same-origin`` (server/security.py) stays on every answer. The
Fetch standard checks that header only for ``no-cors`` requests (an ``<img>``, a
``<script>`` without ``crossorigin``); ``fetch()`` from another origin is a CORS request, which
the headers above govern. tests/browser/test_cross_origin_page.py shows Chromium letting a listed
origin's ``fetch()`` through with CORP ``same-origin`` on the answer.
"""
from __future__ import annotations

import re
from typing import Iterable

from flask import Flask, Response, request

ALLOW_METHODS = "GET, HEAD, POST"
ALLOW_HEADERS = "Content-Type, Inference-Header-Content-Length, If-None-Match"
EXPOSE_HEADERS = "ETag, Inference-Header-Content-Length"
#: Seconds a browser may reuse a preflight answer (Chromium keeps at most 7200); a change
#: of CORS_ORIGINS reaches browsers within this.
MAX_AGE = "600"

_ORIGIN = re.compile(r"(https?)://([a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])(?::(\d{1,5}))?")
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def parse_origins(setting: str | Iterable[str]) -> frozenset[str]:
    """The origins in ``setting``, as browsers write them in ``Origin`` (lower case, no
    default port). Anything that is not ``scheme://host[:port]`` is refused with the reason."""
    items = setting.split(",") if isinstance(setting, str) else list(setting)
    origins = set()
    for item in items:
        text = item.strip()
        if not text:
            continue
        match = _ORIGIN.fullmatch(text.lower())
        if match is None:
            raise ValueError(f"CORS_ORIGINS: {text!r} is not an origin; write scheme://host[:port] "
                             "with http or https and no path, not even a trailing slash "
                             "(e.g. https://course.example.org)")
        scheme, host, port = match.groups()
        origins.add(f"{scheme}://{host}" + (f":{port}" if port and port != _DEFAULT_PORTS[scheme] else ""))
    return frozenset(origins)


def _api(path: str) -> bool:
    return path.startswith("/api/") or path == "/v2" or path.startswith("/v2/")


def _preflight() -> bool:
    return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers


def register(app: Flask) -> None:
    origins = parse_origins(app.config["CORS_ORIGINS"])
    if not origins:
        return  # off: no hook at all

    @app.before_request
    def answer_preflight():
        if _preflight() and _api(request.path) and request.headers.get("Origin") in origins:
            return Response(status=204)  # the headers are added below
        return None

    @app.after_request
    def add_cors_headers(response: Response) -> Response:
        if not _api(request.path):
            return response
        response.vary.add("Origin")
        origin = request.headers.get("Origin")
        if origin not in origins:
            return response
        response.headers["Access-Control-Allow-Origin"] = origin
        if _preflight():
            response.headers["Access-Control-Allow-Methods"] = ALLOW_METHODS
            response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
            response.headers["Access-Control-Max-Age"] = MAX_AGE
        else:
            response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
        return response
