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


def test_every_request_example_is_valid_and_answered(client):
    """The document's request examples are requests the served network answers, not just shapes."""
    from jsonschema import Draft202012Validator

    spec = client.get("/openapi.json").get_json()
    sent = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            for name, example in content.get("examples", {}).items():
                # The body's schema with the document's components beside it, so its $refs resolve.
                Draft202012Validator({**content["schema"], "components": spec["components"]}).validate(example["value"])
                response = client.open(path, method=method.upper(), json=example["value"])
                assert response.status_code == 200, (path, name, response.get_json())
                answers = response.get_json().get("predictions", [response.get_json()])
                sent.append((f"{method.upper()} {path} {name}", [a["digit"] for a in answers]))
    # The summaries say "a 7" and "a 1": so does the network.
    assert dict(sent) == {"POST /api/predict strokes": [7], "POST /api/predict batch": [7, 1],
                          "POST /api/explain steps": [7]}, sent
