"""Error responses.

Under ``/api/`` every error is ``application/problem+json`` (RFC 9457): ``type``,
``title``, ``status``, ``detail``. Under ``/v2/`` errors follow the Open Inference
Protocol: ``{"error": "..."}``. Nothing ever carries a traceback.
"""
from __future__ import annotations

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException

from model.explain import MAX_LEARNING_RATE, MAX_STEPS
from model.preprocess import MAX_SIDE, PreprocessError
from server.json_provider import dumps_bytes

#: Problem codes: HTTP status and title. ``type`` is ``/docs#problem-<code>``, where
#: /docs explains each one.
PROBLEMS: dict[str, tuple[int, str, str]] = {
    "malformed-json": (400, "Malformed JSON", "The body is not valid UTF-8 JSON (NaN and Infinity are not JSON)."),
    "invalid-request": (400, "Invalid request", "The JSON is not an object with exactly one of image, strokes or pixels (or a batch of them)."),
    "bad-base64": (400, "Bad base64", "The image is not a data:image/png;base64 URL with strict base64."),
    "corrupt-image": (400, "Corrupt image", "The PNG is truncated or damaged and cannot be decoded."),
    "invalid-query": (400, "Invalid query parameter", "A query parameter is out of range or not a number."),
    "not-found": (404, "Not found", "No such route."),
    "unknown-checkpoint": (404, "No such snapshot", "GET /api/training/<id> takes the id of one of the snapshots listed by GET /api/training, written plainly (3, not 03, +3 or 3.0), and with ?model= only the sha256 of the served weights."),
    "method-not-allowed": (405, "Method not allowed", "The route exists, but not for this HTTP method."),
    "not-acceptable": (406, "Not acceptable", "The response cannot be given in a media type the client accepts."),
    "payload-too-large": (413, "Payload too large", "The request body is over the MAX_CONTENT_LENGTH limit."),
    "image-too-large": (413, "Image too large", f"The PNG declares more than {MAX_SIDE}×{MAX_SIDE} pixels (checked before decoding)."),
    "batch-too-large": (413, "Batch too large", "More inputs in one request than MAX_BATCH."),
    "unsupported-media-type": (415, "Unsupported media type", "The body must be application/json."),
    "not-png": (415, "Not a PNG image", "The image is another format (JPEG, GIF, WebP, SVG, ...); send a PNG."),
    "bad-strokes": (422, "Unusable strokes", "Strokes must be lists of [x, y] points with finite coordinates, within the documented limits."),
    "bad-pixels": (422, "Unusable pixels", "Pixels must be 784 finite numbers in [0, 1] (or 28 rows of 28)."),
    "empty-drawing": (422, "Nothing to recognize", "The drawing is empty, or the ink is a speck too small to be a digit."),
    "invalid-checkpoint": (422, "Invalid checkpoint", "\"checkpoint\" must be the id of a snapshot listed by GET /api/training: a whole number from 0 to the last id. Leave it out for the served network."),
    "invalid-option": (422, "Invalid option", f"An option of /api/explain is out of range or of the wrong type: target must be a whole number 0–9, steps a whole number 0–{MAX_STEPS}, learning_rate a number above 0 and at most {MAX_LEARNING_RATE:g}."),
    "unprocessable": (422, "Unprocessable input", "The input is well-formed but cannot be used."),
    "not-ready": (503, "Model not ready", "The weights are missing or failed their checks; see /v2/health/ready for the reason."),
    "training-unavailable": (503, "Training snapshots unavailable", "The snapshots of the training run are missing or do not belong to the served weights; predictions without \"checkpoint\" still work."),
    "examples-unavailable": (503, "Examples unavailable", "The committed sample of MNIST test digits could not be loaded."),
    "internal": (500, "Internal error", "A bug on our side; it has been logged."),
}

_HTTP_CODES = {400: "invalid-request", 404: "not-found", 405: "method-not-allowed",
               406: "not-acceptable", 413: "payload-too-large", 415: "unsupported-media-type"}


class Problem(Exception):
    """Raise anywhere in a route to answer with a problem document."""

    def __init__(self, code: str, detail: str, status: int | None = None):
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.status = status or PROBLEMS[code][0]


def from_preprocess(exc: PreprocessError, where: str = "") -> Problem:
    code = exc.code if exc.code in PROBLEMS else "unprocessable"
    return Problem(code, f"{where}{exc}")


def problem_response(code: str, detail: str, status: int | None = None,
                     headers: dict[str, str] | None = None) -> Response:
    status = status or PROBLEMS[code][0]
    body = {"type": f"/docs#problem-{code}", "title": PROBLEMS[code][1],
            "status": status, "detail": detail}
    response = Response(dumps_bytes(body), status=status, mimetype="application/problem+json")
    response.headers.update(headers or {})
    return response


def oip_error(message: str, status: int) -> Response:
    return Response(dumps_bytes({"error": message}), status=status, mimetype="application/json")


def _http_detail(exc: HTTPException) -> str:
    if exc.code == 404:
        return f"There is no {request.path}; see /docs for the routes."
    if exc.code == 405:
        allowed = ", ".join(sorted(exc.valid_methods or []))  # type: ignore[attr-defined]
        return f"{request.method} is not allowed on {request.path}; use {allowed}."
    if exc.code == 413:
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        return f"The request body is larger than the limit of {limit} bytes."
    return exc.description or exc.name


def register(app: Flask) -> None:
    @app.errorhandler(Problem)
    def handle_problem(exc: Problem):
        if request.path.startswith("/v2"):
            return oip_error(exc.detail, exc.status)
        return problem_response(exc.code, exc.detail, exc.status)

    @app.errorhandler(HTTPException)
    def handle_http(exc: HTTPException):
        detail = _http_detail(exc)
        headers = {}
        if exc.code == 405:
            headers["Allow"] = ", ".join(sorted(exc.valid_methods or []))  # type: ignore[attr-defined]
        if request.path.startswith("/v2"):
            response = oip_error(detail, exc.code or 500)
            response.headers.update(headers)
            return response
        if request.path.startswith("/api") or request.path == "/openapi.json":
            code = _HTTP_CODES.get(exc.code or 500, "invalid-request")
            return problem_response(code, detail, exc.code, headers)
        return exc

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        # A bug, never bad input: log it with its traceback, answer without one.
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        detail = "The server failed on this request; it has been logged."
        if request.path.startswith("/v2"):
            return oip_error(detail, 500)
        return problem_response("internal", detail)
