"""Request bodies, read through werkzeug and parsed strictly; shared by /api and /v2.

werkzeug enforces ``MAX_CONTENT_LENGTH`` (413 before reading when Content-Length says
more; chunked bodies are cut at the limit). What cannot be read or is not JSON raises
:class:`BodyError`, which each blueprint turns into its own kind of error answer.
"""
from __future__ import annotations

import json
from typing import Any

from flask import request
from werkzeug.exceptions import HTTPException


class BodyError(ValueError):
    """The body could not be read, or is not strict JSON; ``str(exc)`` says why."""


def read_body() -> bytes:
    """The raw body, never more than MAX_CONTENT_LENGTH (413 beyond, chunked bodies too)."""
    try:
        raw = request.get_data(cache=False)
        limit = request.max_content_length
        if request.content_length is None and limit is not None and len(raw) >= limit:
            # A chunked body stops silently at the limit; reading on raises the 413.
            request.stream.read(1)
    except HTTPException:
        raise
    except Exception:  # from the server's reader: broken chunked framing, a stalled or reset client
        raise BodyError("The request body could not be read: its chunked encoding is broken, "
                        "or it stopped arriving.") from None
    return raw


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON; send finite numbers")


def parse_json(raw: bytes) -> Any:
    """Strict JSON (RFC 8259: UTF-8, or UTF-16/32 as json detects it), no NaN or Infinity."""
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except RecursionError:
        raise BodyError("The JSON is nested too deeply.") from None
    except UnicodeDecodeError:
        raise BodyError("The body is not UTF-8 encoded JSON.") from None
    except ValueError as exc:
        raise BodyError(f"The body is not valid JSON: {exc}.") from None
