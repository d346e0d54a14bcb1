"""Property-based API testing: schemathesis generates requests from our own /openapi.json
(positive: what the document allows; negative: what it forbids) and checks every answer
against the same document.

Checks: not_a_server_error (never a 5xx), status_code_conformance, content_type_conformance,
response_schema_conformance. The app runs in-process through its WSGI interface (the
same Flask app gunicorn serves; the server itself is exercised by test_hostile/test_faults).

Up to SCHEMATHESIS_MAX_EXAMPLES generated requests per operation and generation mode
(default 250: about a minute and a half on 2 cores, most of it spent generating the
requests, which are large). For more, e.g. before a release:

    SCHEMATHESIS_MAX_EXAMPLES=20000 .venv/bin/pytest tests/test_schemathesis.py -q

Operations with few distinct inputs (a GET with no parameters) stop once hypothesis has
tried everything there is to try; the test prints how many requests each operation got.
"""
from __future__ import annotations

import os
import time
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from app import create_app

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "250"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]

app = create_app({"TESTING": False})
schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                                max_examples=MAX_EXAMPLES, deterministic=True, database="none")
CALLS: Counter = Counter()
SECONDS: Counter = Counter()
# Operations that take parameters or a body; the others have only a handful of requests to try.
WITH_INPUT = {f"{method.upper()} {path}" for path, item in app.test_client().get("/openapi.json").json["paths"].items()
              for method, op in item.items() if op.get("parameters") or op.get("requestBody")}


@pytest.fixture(scope="module", autouse=True)
def report_calls():
    yield
    if CALLS:
        width = max(len(k) for k in CALLS)
        lines = "\n".join(f"  {k:<{width}}  {v:6d} requests  {SECONDS[k]:6.1f} s in the app"
                           for k, v in sorted(CALLS.items()))
        print(f"\nschemathesis requests per operation (max_examples={MAX_EXAMPLES}):\n{lines}")
        short = {k: CALLS[k] for k in WITH_INPUT & set(CALLS) if CALLS[k] < MAX_EXAMPLES}
        assert not short, f"fewer generated requests than max_examples: {short}"


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document(case):
    name = f"{case.operation.method.upper()} {case.operation.path}"
    CALLS[name] += 1
    started = time.perf_counter()
    response = case.call()
    SECONDS[name] += time.perf_counter() - started
    case.validate_response(response, checks=CHECKS)
