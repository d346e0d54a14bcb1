"""The OpenAPI document is valid and describes every route the app has."""
import re

from openapi_spec_validator import validate


def test_openapi_is_valid_3_1(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_every_route_is_described(app, client):
    spec = client.get("/openapi.json").get_json()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        assert path in spec["paths"], f"{path} is not in openapi.json"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in spec["paths"][path], f"{method} {path} is not described"


def test_every_problem_type_is_documented(client):
    spec = client.get("/openapi.json").get_json()
    from server.errors import PROBLEMS
    documented = spec["components"]["schemas"]["Problem"]["properties"]["type"]["enum"]
    assert documented == [f"/docs#problem-{code}" for code in PROBLEMS]
