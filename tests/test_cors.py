"""CORS (server/cors.py), in-process: who gets which headers, and who gets none.

In Chromium, with a page on another origin: tests/browser/test_cross_origin_page.py.
"""
from __future__ import annotations

import numpy as np
import pytest

from app import create_app, settings_from_env
from server.cors import parse_origins

LISTED = "https://course.example.org"
ALSO_LISTED = "http://localhost:3000"
UNLISTED = "https://elsewhere.example.com"
MODEL = "mnist-784-16-16-10"
INFER = f"/v2/models/{MODEL}/infer"


def pixels() -> list[float]:
    ink = np.zeros((28, 28))
    ink[5:23, 12:16] = 1.0
    return ink.ravel().tolist()


@pytest.fixture
def cors_client():
    app = create_app({"TESTING": True, "CORS_ORIGINS": f" {LISTED}, {ALSO_LISTED} "})
    return app.test_client()


def cors_headers(response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


def vary(response) -> set[str]:
    return {v.strip().lower() for v in response.headers.get("Vary", "").split(",") if v.strip()}


def preflight(client, path: str, origin: str, method: str = "POST", headers: str = "content-type"):
    return client.options(path, headers={"Origin": origin, "Access-Control-Request-Method": method,
                                         "Access-Control-Request-Headers": headers})


# --- the table -------------------------------------------------------------------------------

@pytest.mark.parametrize("origin", [LISTED, ALSO_LISTED])
def test_a_listed_origin_is_echoed(cors_client, origin):
    response = cors_client.post("/api/predict", json={"pixels": pixels()}, headers={"Origin": origin})
    assert response.status_code == 200
    assert cors_headers(response) == {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Expose-Headers": "ETag, Inference-Header-Content-Length",
    }
    assert "origin" in vary(response)


@pytest.mark.parametrize("origin", [UNLISTED, "null", LISTED + ".evil.example", "http://course.example.org",
                                    LISTED.upper() + "X"])
def test_any_other_origin_gets_no_cors_header(cors_client, origin):
    response = cors_client.post("/api/predict", json={"pixels": pixels()}, headers={"Origin": origin})
    assert response.status_code == 200
    assert cors_headers(response) == {}
    assert "origin" in vary(response)  # the answer differs by Origin: caches must keep them apart


def test_no_origin_gets_no_cors_header(cors_client):
    response = cors_client.post("/api/predict", json={"pixels": pixels()})
    assert response.status_code == 200 and cors_headers(response) == {}
    assert "origin" in vary(response)


def test_a_preflight_from_a_listed_origin_is_answered(cors_client):
    response = preflight(cors_client, "/api/predict", LISTED)
    assert response.status_code == 204 and response.data == b""
    assert cors_headers(response) == {
        "Access-Control-Allow-Origin": LISTED,
        "Access-Control-Allow-Methods": "GET, HEAD, POST",
        "Access-Control-Allow-Headers": "Content-Type, Inference-Header-Content-Length, If-None-Match",
        "Access-Control-Max-Age": "600",
    }
    assert "origin" in vary(response)


def test_a_preflight_for_oip_binary_tensors_is_answered(cors_client):
    response = preflight(cors_client, INFER, ALSO_LISTED, headers="content-type,inference-header-content-length")
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == ALSO_LISTED
    assert "Inference-Header-Content-Length" in response.headers["Access-Control-Allow-Headers"]


def test_a_preflight_from_any_other_origin_gets_no_cors_header(cors_client):
    response = preflight(cors_client, "/api/predict", UNLISTED)
    assert cors_headers(response) == {}
    assert response.status_code != 204  # not answered as a preflight: Flask's own OPTIONS answer


@pytest.mark.parametrize("path", ["/", "/docs", "/openapi.json", "/metrics", "/static/js/main.js"])
def test_the_pages_never_get_cors_headers(cors_client, path):
    response = cors_client.get(path, headers={"Origin": LISTED})
    assert response.status_code == 200
    assert cors_headers(response) == {} and "origin" not in vary(response)
    asked = preflight(cors_client, path, LISTED, method="GET")
    assert cors_headers(asked) == {} and asked.status_code != 204


def test_a_problem_answer_carries_the_header_so_the_page_can_read_it(cors_client):
    for response in (cors_client.post("/api/predict", json={"pixels": [0.5]}, headers={"Origin": LISTED}),
                     cors_client.get("/api/nowhere", headers={"Origin": LISTED}),
                     cors_client.get("/api/predict", headers={"Origin": LISTED})):
        assert 400 <= response.status_code < 500
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.headers["Access-Control-Allow-Origin"] == LISTED
    oip = cors_client.post(INFER, json={"inputs": []}, headers={"Origin": LISTED})
    assert oip.status_code == 400 and oip.headers["Access-Control-Allow-Origin"] == LISTED


def test_model_etag_is_exposed_and_revalidation_carries_the_header(cors_client):
    first = cors_client.get("/api/model", headers={"Origin": LISTED})
    assert first.status_code == 200 and "ETag" in first.headers["Access-Control-Expose-Headers"]
    again = cors_client.get("/api/model", headers={"Origin": LISTED, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.headers["Access-Control-Allow-Origin"] == LISTED


def test_never_credentials_nor_a_wildcard(cors_client):
    for response in (preflight(cors_client, "/api/predict", LISTED),
                     cors_client.get("/v2", headers={"Origin": LISTED})):
        assert response.headers["Access-Control-Allow-Origin"] == LISTED
        assert "Access-Control-Allow-Credentials" not in response.headers


# --- off by default ------------------------------------------------------------------------------

def test_off_by_default(client):
    for response in (client.post("/api/predict", json={"pixels": pixels()}, headers={"Origin": LISTED}),
                     preflight(client, "/api/predict", LISTED),
                     client.get("/v2/health/ready", headers={"Origin": LISTED})):
        assert cors_headers(response) == {} and "origin" not in vary(response)
    assert client.application.config["CORS_ORIGINS"] == ""


def test_the_setting_comes_from_the_environment():
    assert settings_from_env({"CORS_ORIGINS": f"{LISTED},{ALSO_LISTED}"})["CORS_ORIGINS"] == f"{LISTED},{ALSO_LISTED}"


# --- the setting ---------------------------------------------------------------------------------

def test_origins_are_read_as_browsers_write_them():
    assert parse_origins("") == frozenset()
    assert parse_origins(" , ") == frozenset()
    assert parse_origins("HTTPS://Course.Example.ORG:443, http://localhost:3000,http://127.0.0.1:80") == {
        "https://course.example.org", "http://localhost:3000", "http://127.0.0.1"}
    assert parse_origins(["http://[::1]:8080"]) == {"http://[::1]:8080"}


@pytest.mark.parametrize("bad", ["*", "null", "course.example.org", "https://course.example.org/",
                                 "https://course.example.org/app", "ftp://course.example.org",
                                 "https://user@course.example.org", "https://course.example.org:99999x"])
def test_anything_but_an_origin_is_refused_with_the_reason(bad):
    with pytest.raises(ValueError, match="CORS_ORIGINS: .* is not an origin"):
        parse_origins(f"{LISTED},{bad}")
    with pytest.raises(ValueError, match="CORS_ORIGINS"):
        create_app({"TESTING": True, "CORS_ORIGINS": bad})
