"""Every response's JSON, written one way: orjson as Flask's JSON provider.

Why orjson and not the standard library: an answer carries ~840 numbers, and writing them
with ``json`` took about a seventh of a stroke prediction's server time (0.13 of 0.9 ms in
the container), part of what lost the 64-drawer capacity goal (docs/operations.md). orjson
writes the same values (UTF-8, keys in the order the code builds them, compact; small numbers
as ``0.000054`` rather than ``5.4e-05``) in a tenth of that time.
Request bodies are still read by the standard library's strict parser (server/bodies.py).
"""
from __future__ import annotations

import json
from typing import Any

import orjson
from flask import Response
from flask.json.provider import JSONProvider


def dumps_bytes(obj: Any) -> bytes:
    """orjson's JSON; what it cannot write (integers beyond 64 bits, which only a test
    client's request bodies hold) as the standard library writes it, in the same form."""
    try:
        return orjson.dumps(obj)
    except TypeError:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class OrjsonProvider(JSONProvider):
    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return dumps_bytes(obj).decode("utf-8")

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        return self._app.response_class(dumps_bytes(self._prepare_response_obj(args, kwargs)),
                                        mimetype="application/json")
