"""Building blocks of the OpenAPI document, shared by server/openapi.py (every route) and
server/openapi_explain.py (``/api/explain``)."""
from __future__ import annotations

from typing import Any


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def numbers(n: int, low: float | None = None, high: float | None = None) -> dict[str, Any]:
    """Exactly ``n`` numbers, each in [low, high] when given."""
    item: dict[str, Any] = {"type": "number"}
    if low is not None:
        item["minimum"] = low
    if high is not None:
        item["maximum"] = high
    return {"type": "array", "items": item, "minItems": n, "maxItems": n}


def problem(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/problem+json": {"schema": ref("Problem")}}}


def oip_error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": ref("OipError")}}}


def json_content(schema: dict[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}, **extra}


# The 7 of /docs's curl examples, drawn with the pen on the page's 280×280 canvas: the request
# examples below are real requests the served network answers (tests/test_openapi.py sends them).
EXAMPLE_DRAWING = {"strokes": [[[60, 40], [200, 40], [110, 250]]], "width": 280, "height": 280}


def json_request(schema: dict[str, Any], examples: dict[str, tuple[str, Any]]) -> dict[str, Any]:
    """A required JSON request body with named examples, ``{name: (summary, value)}``."""
    return {"required": True, "content": {"application/json": {
        "schema": schema,
        "examples": {name: {"summary": summary, "value": value} for name, (summary, value) in examples.items()}}}}
